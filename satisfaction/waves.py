"""Change of the satisfaction indices between two waves of the same survey.

Two waves of a tracking survey are independent samples of the customers, so
the change of an index (a mean score on 0-100, :mod:`satisfaction.drivers`) is
the difference of two independent means. Each wave brings its index
:math:`\\bar s_k`, standard error :math:`se_k = sd_k / \\sqrt{n_k}` and size
:math:`n_k`; the change is tested with Welch's (1947) unequal-variance t-test

.. math::

    \\Delta = \\bar s_2 - \\bar s_1, \\qquad
    se_\\Delta = \\sqrt{se_1^2 + se_2^2}, \\qquad t = \\Delta / se_\\Delta,

    \\nu = \\frac{se_\\Delta^4}{se_1^4/(n_1-1) + se_2^4/(n_2-1)}
    \\quad\\text{(Welch-Satterthwaite)},

with the two-sided p-value from :math:`t_\\nu` and the interval
:math:`\\Delta \\pm t_{\\nu, (1+level)/2}\\, se_\\Delta`. This is R's
``t.test(x2, x1)`` (tested against it on the score vectors of two waves); for
the sample sizes of a survey it is the familiar z test of two estimates with
:math:`se = \\sqrt{se_1^2 + se_2^2}`. Comparing two independent estimates this
way, not by whether their own intervals overlap, follows Schenker & Gentleman
(2001, The American Statistician 55(3), 182-186).

Every index of the report is compared at once, so the p-values are adjusted
for the family with Holm's (1979) method (:func:`satisfaction.compare.adjust_pvalues`),
and a change is called significant when its adjusted p-value is below
:math:`1 - level`. The interval beside it is the unadjusted one.

When an index's standard error is a bootstrap one (the ACSI index on PLS
weights, :mod:`satisfaction.pls_pipeline`), the same formulas use it; the
degrees of freedom are then an approximation (with a survey's sample sizes the
test is the z test).

The previous wave is read from the ``--json`` results of its own report: its
indices, their standard errors and sizes (``indices.constructs`` and
``indices.stages``). Each wave weights the items by its own model's loadings,
so a change also holds any change of the weights; the largest difference of the
weights is reported as a diagnostic.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from satisfaction.compare import adjust_pvalues
from satisfaction.diagnostics import Diagnostic
from satisfaction.drivers import records
from satisfaction.errors import UsageError

#: Columns of :attr:`WaveComparison.changes`.
CHANGE_COLUMNS: tuple[str, ...] = (
    "kind", "id", "stage", "previous", "previous.se", "previous.n", "current", "se", "n",
    "change", "change.se", "df", "t", "pvalue", "pvalue.adjusted", "ci.lower", "ci.upper",
    "significant")


def welch_difference(current: float, se: float, n: int, previous: float, previous_se: float,
                     previous_n: int, level: float = 0.95) -> dict[str, float]:
    """Change of one index between two independent waves (Welch's t-test).

    .. math::

        \\Delta = \\bar s_2 - \\bar s_1,\\; se_\\Delta = \\sqrt{se_1^2 + se_2^2},\\;
        \\nu = se_\\Delta^4 / (se_1^4/(n_1-1) + se_2^4/(n_2-1))

    Parameters
    ----------
    current, se, n : float, float, int
        The index of this wave, its standard error and the respondents it rests on.
    previous, previous_se, previous_n : float, float, int
        The same for the previous wave.
    level : float
        Confidence level of the interval of the change.

    Returns
    -------
    dict
        ``change change.se df t pvalue ci.lower ci.upper`` (NaN when a wave has
        no standard error). Equal to R's ``t.test(x2, x1)`` (Welch) on the
        score vectors the indices were computed from.
    """
    nan = {k: math.nan for k in ("change.se", "df", "t", "pvalue", "ci.lower", "ci.upper")}
    values = (current, se, previous, previous_se)
    if any(v is None or not math.isfinite(float(v)) for v in values):
        change = (math.nan if current is None or previous is None
                  else float(current) - float(previous))
        return {"change": change, **nan}
    change = float(current) - float(previous)
    v1, v2 = float(previous_se) ** 2, float(se) ** 2
    change_se = math.sqrt(v1 + v2)
    if change_se == 0 or n < 2 or previous_n < 2:
        return {"change": change, **nan}
    df = (v1 + v2) ** 2 / (v1 ** 2 / (previous_n - 1) + v2 ** 2 / (n - 1))
    t = change / change_se
    p = float(2 * stats.t.sf(abs(t), df))
    half = float(stats.t.ppf((1 + level) / 2, df)) * change_se
    return {"change": change, "change.se": change_se, "df": df, "t": t, "pvalue": p,
            "ci.lower": change - half, "ci.upper": change + half}


@dataclass
class WaveComparison:
    """Each index of this wave beside the previous wave's, with the change tested.

    Attributes
    ----------
    changes : DataFrame
        One row per index present in both waves, constructs then purchase stages:
        ``kind`` (``construct`` or ``stage``), ``id``, ``stage``, ``previous
        previous.se previous.n``, ``current se n``, ``change change.se df t pvalue
        pvalue.adjusted ci.lower ci.upper`` and ``significant`` (Holm-adjusted
        p-value below ``1 - level``).
    level : float
    adjust : str
        The p-value adjustment (``holm``).
    source : str
        The previous wave's results file.
    previous_n : int or None
        Respondents analysed in the previous wave.
    warnings : list of Diagnostic
    """

    changes: pd.DataFrame
    level: float = 0.95
    adjust: str = "holm"
    source: str = ""
    previous_n: int | None = None
    warnings: list[Diagnostic] = field(default_factory=list)

    def change_of(self, kind: str, index_id: str) -> dict[str, Any] | None:
        """The row of one index (``None`` when it is not in both waves)."""
        rows = self.changes[(self.changes["kind"] == kind) & (self.changes["id"] == index_id)]
        return None if rows.empty else rows.iloc[0].to_dict()

    def to_dict(self) -> dict[str, Any]:
        """JSON contract: ``level adjust source previous_n changes warnings``."""
        return {"level": self.level, "adjust": self.adjust, "source": self.source,
                "previous_n": self.previous_n, "changes": records(self.changes),
                "warnings": [w.to_dict() for w in self.warnings]}


def load_previous(path: str | Path, questionnaire_id: str) -> dict[str, Any]:
    """The previous wave's results (the ``--json`` of its report), checked.

    Raises
    ------
    UsageError
        When the file cannot be read as JSON, holds no indices, or belongs to
        another questionnaire (the message names the file and the option).
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError("file not found", file=str(path), column="--previous") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UsageError(f"expected the JSON results of an earlier report ({exc})",
                         file=str(path), column="--previous") from None
    indices = data.get("indices") if isinstance(data, dict) else None
    if not isinstance(indices, dict) or not isinstance(indices.get("constructs"), list):
        raise UsageError("holds no satisfaction indices; expected the file written by "
                         "'satisfaction report --json' for an earlier wave",
                         file=str(path), column="--previous")
    if data.get("questionnaire") != questionnaire_id:
        raise UsageError(f"is a wave of another questionnaire; expected {questionnaire_id!r}",
                         file=str(path), column="--previous", value=data.get("questionnaire"))
    return data


def _frame(rows: Any, key: str) -> pd.DataFrame:
    frame = pd.DataFrame(rows or [])
    if frame.empty or key not in frame.columns:
        return pd.DataFrame(columns=[key, "stage", "index", "se", "n"])
    return frame


def compare_waves(current: Any, previous: dict[str, Any], *, level: float = 0.95,
                  adjust: str = "holm", source: str = "") -> WaveComparison:
    """Each construct and purchase-stage index of ``current`` against the previous wave.

    Parameters
    ----------
    current : IndexResult
        This wave's indices (:func:`satisfaction.drivers.indices`).
    previous : dict
        The previous wave's results (:func:`load_previous`).
    level : float
        Confidence level of the intervals; a change is significant when its
        adjusted p-value is below ``1 - level``.
    adjust : {"holm", "fdr", "bonferroni", "none"}
        Adjustment over all indices compared.
    source : str
        Where the previous results came from (shown in the report).

    Returns
    -------
    WaveComparison
    """
    before = previous["indices"]
    rows: list[dict[str, Any]] = []
    missing: list[str] = []
    for kind, key, now, then in (
            ("construct", "construct", current.constructs, _frame(before.get("constructs"),
                                                                  "construct")),
            ("stage", "stage", current.stages, _frame(before.get("stages"), "stage"))):
        old = {str(r[key]): r for _, r in then.iterrows()}
        for _, r in now.iterrows():
            ident = str(r[key])
            if ident not in old:
                missing.append(ident)
                continue
            o = old[ident]
            n, n_old = int(r["n"]), int(o["n"]) if not pd.isna(o["n"]) else 0
            test = welch_difference(_float(r["index"]), _float(r["se"]), n,
                                    _float(o["index"]), _float(o["se"]), n_old, level)
            rows.append({"kind": kind, "id": ident,
                         "stage": r["stage"] if kind == "construct" else ident,
                         "previous": _float(o["index"]), "previous.se": _float(o["se"]),
                         "previous.n": n_old, "current": _float(r["index"]),
                         "se": _float(r["se"]), "n": n, **test})
    changes = pd.DataFrame(rows, columns=[c for c in CHANGE_COLUMNS
                                          if c not in ("pvalue.adjusted", "significant")])
    changes["pvalue.adjusted"] = (adjust_pvalues(changes["pvalue"].to_numpy(float), adjust)
                                  if len(changes) else [])
    changes["significant"] = changes["pvalue.adjusted"].lt(1 - level)
    changes = changes[list(CHANGE_COLUMNS)]
    warnings: list[Diagnostic] = []
    if missing:
        warnings.append(Diagnostic("wave_not_compared", "info",
                                   {"n": len(missing), "which": missing}))
    shift = _largest_weight_change(current.weights, before.get("weights"))
    if shift is not None:
        warnings.append(Diagnostic("wave_weights_changed", "info",
                                   {"construct": shift[0], "item": shift[1],
                                    "difference": shift[2]}, constructs=("construct",)))
    quality = previous.get("data_quality") or {}
    return WaveComparison(changes=changes, level=level, adjust=adjust, source=source,
                          previous_n=quality.get("analysed"), warnings=warnings)


def _float(value: Any) -> float:
    return math.nan if value is None or pd.isna(value) else float(value)


def _largest_weight_change(now: pd.DataFrame | None, before: Any
                           ) -> tuple[str, str, float] | None:
    """The outer weight that moved most between the waves (``None`` when none moved)."""
    if now is None or not before or not len(now):
        return None
    old = pd.DataFrame(before)
    if not {"construct", "indicator", "weight"} <= set(old.columns):
        return None
    both = now.merge(old, on=["construct", "indicator"], suffixes=("", ".previous"))
    if both.empty:
        return None
    diff = (both["weight"].astype(float) - both["weight.previous"].astype(float)).abs()
    if not np.isfinite(diff).any() or float(diff.max()) < 5e-4:
        return None
    top = both.loc[diff.idxmax()]
    return str(top["construct"]), str(top["indicator"]), float(diff.max())
