"""Diagnostics as data: every warning is a code, a severity and its parameters.

An analysis module that finds something a reader must know (a Heywood case, a
bootstrap that lost draws, a low alpha) records a :class:`Diagnostic` where it
finds it. The text is not written there: it is rendered from the message
catalogs (``templates/messages/{en,zh}.yaml``, section ``warnings``) in the
reader's language, so the report, the rule engine and the JSON read the code
and the severity, never an English sentence.

Severities
----------
``info``
    Worth knowing; the result stands (e.g. respondents excluded by listwise deletion).
``caution``
    The result stands but a cut-off is missed or part of it is weak (alpha below
    0.70, a poor RMSEA, an item that loads on no factor). Shown beside the result.
``invalidates``
    The result must not be read as a finding: not identified, not converged,
    inadmissible (negative variances, a non-positive-definite latent covariance
    matrix, ``|std.all| > 1``), or a bootstrap that lost more than 10 % of its
    draws. Downstream stages do not rank, score or recommend from such a result
    without saying so in the same place.

Example
-------
>>> from satisfaction.diagnostics import Diagnostic, status
>>> d = Diagnostic("negative_variance", "invalidates", {"a": "x1", "b": "x1", "value": -0.02})
>>> str(d)
'negative variance: x1 ~~ x1 = -0.020'
>>> d.text("zh")
'方差为负：x1 ~~ x1 = -0.020'
>>> status([d])
'invalid'
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np

from satisfaction.io import to_jsonable

Severity = Literal["info", "caution", "invalidates"]
SEVERITIES: tuple[str, ...] = ("info", "caution", "invalidates")
#: Gate status of a result from the worst severity among its diagnostics.
STATUS_OF: dict[str, str] = {"info": "ok", "caution": "caution", "invalidates": "invalid"}


#: Parameters shown with other than three decimals: the effective sample size with one,
#: as the report shows it ("224.4", not "224.400").
DECIMALS: dict[str, int] = {"effective_n": 1}


def shown_value(value: Any, digits: int = 3) -> Any:
    """A parameter as it appears in a sentence: floats with ``digits`` (3) decimals."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value)).lower()
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if not math.isfinite(v):
            return "NA"
        if v == int(v) and abs(v) >= 1000:
            return f"{int(v):,}"
        return f"{v:.{digits}f}"
    if isinstance(value, (list, tuple)):
        return ", ".join(str(shown_value(v, digits)) for v in value)
    return value


@dataclass(frozen=True)
class Diagnostic:
    """One finding about a result: a catalog code, a severity and its parameters.

    Attributes
    ----------
    code : str
        Key of the text in the catalogs' ``warnings`` section.
    severity : {"info", "caution", "invalidates"}
    params : mapping
        Values filled into the text (numbers are shown with three decimals).
    constructs : tuple of str
        Names of the parameters that hold construct ids: the report shows the
        construct's name in their place.
    labels : mapping
        Parameter → catalog section whose entry words the parameter's value
        (e.g. a transaction exclusion reason).
    categories : mapping
        Parameter → the parameter holding the id of a group variable: the
        parameter's value is one of that variable's categories (its code), and the
        report shows the category's label in its language (``category`` of
        :meth:`text`).
    scope : tuple or None
        ``(code, params)`` of the context the finding arose in (the CFA of the
        measurement stage, one group of a multi-group fit); rendered as
        ``warnings.scopes.<code>`` around the text.
    """

    code: str
    severity: Severity
    params: Mapping[str, Any] = field(default_factory=dict)
    constructs: tuple[str, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    scope: tuple[str, Mapping[str, Any]] | None = None
    categories: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}, not {self.severity!r}")

    def within(self, scope: str, **params: Any) -> Diagnostic:
        """The same finding, marked as arising inside ``scope`` (a ``warnings.scopes`` key)."""
        return replace(self, scope=(scope, params))

    def text(self, lang: str = "en", name: Callable[[str], str] = str,
             category: Callable[[str, Any], str] | None = None) -> str:
        """The sentence in ``lang``; ``name`` maps a construct id to its shown name,
        ``category`` a group variable's id and one of its codes to the code's label
        (without it the code is shown)."""
        from satisfaction.report.messages import load_messages

        m = load_messages(lang)
        values = {k: shown_value(v, DECIMALS.get(k, 3)) for k, v in self.params.items()}
        if category is not None:
            for key, variable in self.categories.items():
                if self.params.get(key) is not None and variable in self.params:
                    values[key] = category(str(self.params[variable]), self.params[key])
        for key in self.constructs:
            if key in values and values[key] is not None:
                values[key] = name(str(self.params[key]))
        for key, section in self.labels.items():
            full = f"{section}.{str(self.params.get(key)).replace(' ', '_')}"
            if key in values and m.has(full):
                values[key] = m.text(full)
        out = m.text(f"warnings.{self.code}", **values)
        if self.scope is not None:
            code, params = self.scope
            out = m.text(f"warnings.scopes.{code}", message=out,
                         **{k: shown_value(v) for k, v in params.items()})
        return out

    def __str__(self) -> str:
        return self.text("en")

    @property
    def status(self) -> str:
        """``ok``, ``caution`` or ``invalid``: the gate this finding alone sets."""
        return STATUS_OF[self.severity]

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        """``{"code", "severity", "message", "params"}`` (plus ``scope``) for the JSON."""
        out: dict[str, Any] = {"code": self.code, "severity": self.severity,
                               "message": self.text(lang),
                               "params": {k: to_jsonable(v) for k, v in self.params.items()}}
        if self.scope is not None:
            out["scope"] = {"code": self.scope[0],
                            **{k: to_jsonable(v) for k, v in self.scope[1].items()}}
        return out


def status(diagnostics: Iterable[Diagnostic]) -> str:
    """The gate status of a result: ``invalid`` if any diagnostic invalidates it,
    ``caution`` if any is a caution, else ``ok``."""
    worst = 0
    for d in diagnostics:
        worst = max(worst, SEVERITIES.index(d.severity))
    return STATUS_OF[SEVERITIES[worst]]


def invalidating(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """The diagnostics that invalidate their result."""
    return [d for d in diagnostics if d.severity == "invalidates"]


def records(diagnostics: Iterable[Diagnostic], lang: str = "en") -> list[dict[str, Any]]:
    """The ``warnings`` of a ``--json`` output: one record per diagnostic."""
    return [d.to_dict(lang) for d in diagnostics]


__all__ = ["SEVERITIES", "Diagnostic", "Severity", "invalidating", "records", "shown_value",
           "status"]
