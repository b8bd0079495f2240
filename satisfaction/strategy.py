"""Strategy recommendations: rules as data, evaluated against the findings.

A rule file (YAML) lists rules. A rule names a *condition* by type, with
parameters (no code is evaluated), a title, an action and a rationale in
English and Chinese, and a ``weight``. The engine evaluates every rule against
a :class:`Findings` structure assembled from the analysis results; each match
is a hit with the numbers behind it. Hits are gated (below), merged (below)
and ranked by priority (ties broken by rule id, then subject), so the output is
deterministic.

Rule texts
----------
A text is ``{en: ..., zh: ..., domains: {<domain>: {en: ..., zh: ...}}}`` (a
plain string is English). The texts at the top are neutral to the industry;
when the questionnaire declares ``domain:`` (one of
:data:`satisfaction.questionnaire.DOMAINS`, e.g. ``retail_bank``, ``telecom``)
and the text has a variant for it, the variant is used. Unknown domains are a
schema error naming the file and line. A rule may also carry
``domains: [retail, manufacturing]``: it fires only for questionnaires that
declare one of them.

Placeholders ``{name}``, ``{name:.1f}`` or ``{name:.0%}`` are filled from the
hit's evidence (nothing is evaluated). Names come from the questionnaire and
the catalogs in the text's language, never from the rule file:
``{construct_name}`` (also ``{construct}``) is the construct's name,
``{target_name}``, ``{a_name}``/``{b_name}`` (HTMT pairs), ``{by_name}``,
``{lowest_name}``/``{highest_name}`` (group categories), ``{segment_name}``,
``{pair_name}`` (``A–B``), ``{stage_name}``, ``{sat_name}``/``{loy_name}``, ``{test_name}``,
``{effect_name}`` and ``{measure_name}``; ``{<key>_id}`` gives the id. Rules
keyed to CRAM construct ids (``constructs: [Quality]``) fire only for those
constructs and word them with the questionnaire's own name; the generic
quadrant rules cover every other construct.

Condition types and their priority formulas
-------------------------------------------
``w`` is the rule's weight. ``r = importance / mean.importance`` is a driver's
importance relative to the mean importance of the drivers its quadrant was
called against (1 = an average driver; the importance itself when that mean is
missing or not positive). It is the same whatever the importance measures
(a share of R² from Shapley/relative weights, or a standardized total effect),
so the priorities of the two kinds are comparable. Performance and indices are
on 0-100.

``quadrant``
    an IPA row lies in ``quadrant`` (never on ``undetermined``, a difference
    inside its interval): w · r · (100 − performance).
``index_below``
    a construct's index < ``threshold``: w · r · (threshold − index), r = 1
    when the construct is not in the IPA.
``group_gap``
    adjusted p < ``alpha`` and |effect size| ≥ ``min_effect``:
    w · (largest − smallest group mean).
``weak_reliability``
    ``measure`` (alpha, omega, cr, ave) < ``threshold``: w · 100 · (threshold − value).
``weak_discriminant``
    HTMT > ``threshold``: w · 100 · (HTMT − threshold).
``segment`` / ``lifecycle``
    an RFM segment in ``segments`` (a lifecycle stage in ``stages``) holds at
    least ``min_count`` customers: w · 100 · its share of the customers' value.
``churn_risk``
    valuable customers (value ≥ its ``value_quantile``) with P(alive) <
    ``max_p_alive``: w · 100 · their share of the customers' value.
``sat_not_loyalty``
    index(Sat) − index(Loy) ≥ ``min_gap``, or the standardized effect of
    satisfaction on loyalty < ``max_effect``:
    w · max(index gap, 100 · (max_effect − effect)).

Validity gates
--------------
:class:`Findings` records the gate of every result it was built from
(``gates``: ``sem ipa indices reliability cfa compare rfm lifecycle clv`` →
``ok`` | ``caution`` | ``invalid``, from
:func:`satisfaction.diagnostics.status` of the result's ``warnings``, or its
``status``; ``cfa`` is the part of the reliability result scoped to its CFA,
which CR, AVE and omega rest on, and alpha and HTMT do not). Each hit knows
the results it used (a quadrant: the IPA, the indices and, when the importance
is a structural effect, the SEM). A hit that used an ``invalid`` result ranks
no action: it becomes part of a :class:`Limitation` (``strategy_withheld``:
"Recommendations withheld: the structural model is not valid, so no action is
ranked for …", with the result's invalidating diagnostics as causes); an
invalid result that withheld nothing is still listed (``strategy_not_used``).
Every recommendation holds ``gates`` (result → status of every result it
used); ``caution`` is true, and ``caution_text`` says why, when one of them
carries a caution other than the kind of finding the rule reports (measurement
cut-offs do not caution the measurement rules) and that concerns the hit's
constructs (or no construct).

Merging
-------
Hits with the same action text (same scheme, for segments) or of the same
rule on the same construct become one recommendation listing every subject
(``subjects``) and every hit's evidence (``matches``). Its priority is the sum
over its subjects of each subject's largest priority; names in its texts are
listed ("Image and Expectations"), counts and value shares of segments are
summed, other numbers are the highest-priority hit's.

Evidence
--------
Every recommendation holds its evidence as data (``evidence``, the flat values
of its main hit; ``matches``) and as a sentence in both languages
(``sentence``) rendered from the catalogs (``evidence.sentences``): the
importance with its interval, the performance with its interval and the gap to
the drivers' mean; the index and its gap to the threshold; group means, test
and effect size; the reliability measure; segment size and value share; the
satisfaction and loyalty indices and the effect between them.

The shipped rule files live in ``satisfaction/rules/``: ``cram_stages.yaml``
(one rule per CRAM factor: pre-sale information, brand and word of mouth;
in-sale quality, price, convenience, staff and environment; post-sale service,
value extension and promise keeping), ``value_segments.yaml`` (retain valuable
customers at risk, develop new ones, win back lapsed high-value ones) and
``general.yaml`` (measurement quality, group gaps, satisfaction that does not
become loyalty, generic IPA quadrants). A user's own file is passed as
``extra_rules``; a user rule with the id of a shipped rule replaces it.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from satisfaction.errors import SchemaError, UsageError
from satisfaction.io import to_jsonable
from satisfaction.questionnaire import DOMAINS, read_yaml
from satisfaction.resources import RULES

RULES_DIR = RULES
CONDITION_TYPES: tuple[str, ...] = (
    "quadrant", "index_below", "group_gap", "weak_reliability", "weak_discriminant",
    "segment", "lifecycle", "churn_risk", "sat_not_loyalty",
)
#: The results whose gates :class:`Findings` records.
RESULTS: tuple[str, ...] = ("sem", "ipa", "indices", "reliability", "cfa", "compare", "rfm",
                            "lifecycle", "clv")
GATES: tuple[str, ...] = ("ok", "caution", "invalid")
LANGS: tuple[str, ...] = ("en", "zh")
#: Importance methods that give a share of R² (else: a structural effect).
_SHARE_METHODS = ("share", "shapley", "lmg", "relative_weight", "johnson", "r2")
#: Measurement cut-offs: the very findings of the measurement rules (no caution for them).
_MEASUREMENT = {"alpha_low", "cr_low", "ave_low", "loading_low", "htmt_high", "fornell_larcker",
                "fornell_larcker_one", "fornell_larcker_both"}
_OWN_CODES = {"weak_reliability": _MEASUREMENT, "weak_discriminant": _MEASUREMENT}


# -- gates -------------------------------------------------------------------


def _diagnostics(result: Any) -> list[Any]:
    """The result's warnings that are Diagnostics (plain strings carry no severity)."""
    from satisfaction.diagnostics import Diagnostic

    return [w for w in (getattr(result, "warnings", None) or []) if isinstance(w, Diagnostic)]


def gate(result: Any) -> str | None:
    """Gate status of a result object: ``ok``, ``caution``, ``invalid`` (None: no result).

    Read defensively: a ``status`` attribute (or method) wins; otherwise
    :func:`satisfaction.diagnostics.status` of the result's Diagnostic
    warnings; ``converged is False`` is ``invalid`` in any case.
    """
    from satisfaction.diagnostics import status

    if result is None:
        return None
    st = getattr(result, "status", None)
    if callable(st):
        st = st()
    out = st if isinstance(st, str) and st in GATES else status(_diagnostics(result))
    if getattr(result, "converged", True) is False:
        out = "invalid"
    return out


def _causes(result: Any, severity: str) -> list[Any]:
    return [d for d in _diagnostics(result) if d.severity == severity]


def _is_cfa(d: Any) -> bool:
    return d.code == "cfa" or (d.scope is not None and d.scope[0] == "cfa")


def _split_cfa(result: Any, gates: dict[str, str], causes: dict[str, list[Any]]) -> None:
    """Gate the CFA inside a reliability result on its own (``cfa``).

    Cronbach's alpha and the HTMT ratios are computed from the item
    correlations and stand whatever the CFA does; CR, AVE and omega rest on
    the CFA's loadings, so they also use the ``cfa`` gate.
    """
    from satisfaction.diagnostics import status

    diags = _diagnostics(result)
    if not diags:
        return
    for name, part in (("reliability", [d for d in diags if not _is_cfa(d)]),
                       ("cfa", [d for d in diags if _is_cfa(d)])):
        gates[name] = status(part)
        severity = "invalidates" if gates[name] == "invalid" else "caution"
        causes[name] = [d for d in part if d.severity == severity]
        if gates[name] == "ok":
            causes.pop(name)
    if getattr(result, "converged", True) is False:
        gates["cfa"] = "invalid"


def _worse(a: str | None, b: str | None) -> str | None:
    if a is None or b is None:
        return b if a is None else a
    return a if GATES.index(a) >= GATES.index(b) else b


# -- findings ----------------------------------------------------------------


@dataclass
class Findings:
    """What the analysis found, as plain tables the rules are evaluated against.

    Attributes
    ----------
    ipa : DataFrame, optional
        Construct-level IPA (:attr:`satisfaction.drivers.IPAResult.constructs`):
        ``construct stage importance performance quadrant mean.importance
        mean.performance`` and, when present, ``importance.ci.lower
        importance.ci.upper importance.method performance.ci.lower
        performance.ci.upper``.
    ipa_items : DataFrame, optional
        Item-level IPA: ``item construct importance performance quadrant``.
    indices : DataFrame, optional
        ``construct stage index [ci.lower ci.upper]``
        (:attr:`satisfaction.drivers.IndexResult.constructs`).
    group_tests : DataFrame, optional
        :attr:`satisfaction.compare.CompareResult.tests`.
    reliability : DataFrame, optional
        ``construct`` and any of ``alpha omega cr ave``.
    htmt : DataFrame, optional
        ``a b htmt`` (one row per pair of constructs).
    segments : DataFrame, optional
        RFM segments: ``segment n value [scheme]`` (value: total monetary value or
        CLV; value shares are taken within each ``scheme``).
    lifecycle : DataFrame, optional
        ``stage n value``.
    customers : DataFrame, optional
        For churn risk: ``customer p_alive value``.
    sat_loyalty : dict, optional
        ``{"sat": id, "loy": id, "sat_index", "loy_index", "effect"}``
        (``effect``: standardized total effect of satisfaction on loyalty; may
        carry ``effect.ci.lower``/``effect.ci.upper``, its standardized interval).
    target : str
        The IPA target.
    domain : str, optional
        The questionnaire's industry (rule texts use its variants).
    names : dict
        Construct (and observed variable) id → ``{"en": name, "zh": name}``.
    groups : dict
        Group id → ``{"name": {"en", "zh"}, "codes": {code: {"en", "zh"}}}``.
    gates : dict
        Result name (:data:`RESULTS`) → ``ok`` | ``caution`` | ``invalid``.
    causes : dict
        Result name → the diagnostics that set a gate other than ``ok``.
    """

    ipa: pd.DataFrame | None = None
    ipa_items: pd.DataFrame | None = None
    indices: pd.DataFrame | None = None
    group_tests: pd.DataFrame | None = None
    reliability: pd.DataFrame | None = None
    htmt: pd.DataFrame | None = None
    segments: pd.DataFrame | None = None
    lifecycle: pd.DataFrame | None = None
    customers: pd.DataFrame | None = None
    sat_loyalty: dict[str, Any] | None = None
    target: str = "Sat"
    domain: str | None = None
    names: dict[str, dict[str, str]] = field(default_factory=dict)
    groups: dict[str, dict[str, Any]] = field(default_factory=dict)
    gates: dict[str, str] = field(default_factory=dict)
    causes: dict[str, list[Any]] = field(default_factory=dict)

    @classmethod
    def from_results(
        cls,
        *,
        ipa: Any = None,
        indices: Any = None,
        compare: Any = None,
        effects: pd.DataFrame | None = None,
        reliability: pd.DataFrame | None = None,
        htmt: pd.DataFrame | None = None,
        segments: pd.DataFrame | None = None,
        lifecycle: pd.DataFrame | None = None,
        customers: pd.DataFrame | None = None,
        sat: str = "Sat",
        loy: str = "Loy",
        questionnaire: Any = None,
        results: Mapping[str, Any] | None = None,
    ) -> Findings:
        """Assemble findings from result objects (IPAResult, IndexResult, CompareResult).

        ``effects`` (the model's effects table) gives the satisfaction → loyalty
        effect; the indices give both constructs' indices. ``questionnaire``
        gives the names, the groups and the domain. ``results`` maps result
        names (:data:`RESULTS`) to the result objects whose gates are recorded;
        ``ipa``, ``indices`` and ``compare`` are added to it when they are result
        objects.
        """
        index_table = getattr(indices, "constructs", indices)
        objects = {k: v for k, v in (results or {}).items() if v is not None}
        for name, obj in (("ipa", ipa), ("indices", indices), ("compare", compare)):
            if obj is not None and not isinstance(obj, pd.DataFrame):
                objects.setdefault(name, obj)
        gates = {k: g for k, v in objects.items() if (g := gate(v)) is not None}
        causes = {k: _causes(v, "invalidates" if gates[k] == "invalid" else "caution")
                  for k, v in objects.items() if gates.get(k) in ("invalid", "caution")}
        _split_cfa(objects.get("reliability"), gates, causes)
        link: dict[str, Any] | None = None
        if index_table is not None and {sat, loy} <= set(index_table["construct"]):
            by = index_table.set_index("construct")["index"]
            link = {"sat": sat, "loy": loy, "sat_index": float(by[sat]),
                    "loy_index": float(by[loy]), "effect": None}
            if effects is not None:
                col = "std.total" if "std.total" in effects.columns else "total"
                row = effects[(effects["from"] == sat) & (effects["to"] == loy)]
                if not row.empty:
                    link["effect"] = float(row[col].iloc[0])
                    # only an interval of the same (standardized) effect belongs to it
                    lo, hi = f"{col}.ci.lower", f"{col}.ci.upper"
                    if col == "std.total" and {lo, hi} <= set(effects.columns):
                        link["effect.ci.lower"] = _float(row[lo].iloc[0])
                        link["effect.ci.upper"] = _float(row[hi].iloc[0])
        names, groups, domain = _questionnaire_names(questionnaire)
        return cls(
            ipa=getattr(ipa, "constructs", ipa if isinstance(ipa, pd.DataFrame) else None),
            ipa_items=getattr(ipa, "items", None),
            indices=index_table,
            group_tests=getattr(compare, "tests", compare),
            reliability=reliability,
            htmt=htmt,
            segments=segments,
            lifecycle=lifecycle,
            customers=customers,
            sat_loyalty=link,
            target=getattr(ipa, "target", sat),
            domain=domain,
            names=names,
            groups=groups,
            gates=gates,
            causes=causes,
        )

    @classmethod
    def from_analysis(cls, analysis: Any) -> Findings:
        """Assemble findings from a :class:`satisfaction.pipeline.Analysis`.

        Reads the questionnaire (names, groups, domain), the IPA, indices,
        group comparisons and model effects; the reliability result
        (``constructs`` with alpha/omega/cr/ave, ``htmt_pairs``) — both from
        ``analysis.pls`` when PLS is the estimator (its gate is then the
        ``sem`` and ``reliability`` gate); and, when
        transactions were analysed, the RFM result (segment and value-group
        summaries, value = revenue), the lifecycle stages (value = the
        customers' monetary total) and a CLV result whose ``data`` holds
        ``p_alive`` and ``clv`` per customer. The gate of each of these results
        is recorded.
        """
        # under PLS (analysis.pls) the structural model, reliability and HTMT are PLS's
        pls = getattr(analysis, "pls", None)
        sem = pls if pls is not None else getattr(analysis, "sem", None)
        sat = getattr(analysis, "satisfaction", None) or "Sat"
        loy = getattr(analysis, "loyalty", None) or "Loy"
        rel = pls if pls is not None else getattr(analysis, "reliability", None)
        reliability = htmt = None
        if rel is not None and getattr(rel, "constructs", None) is not None:
            reliability = rel.constructs.rename_axis("construct").reset_index()
            pairs = getattr(rel, "htmt_pairs", None)
            if pairs is not None and not pairs.empty:
                htmt = pairs.rename(columns={"construct1": "a", "construct2": "b"})
        segments = lifecycle = customers = None
        value = getattr(analysis, "value", None) or {}
        rfm = value.get("rfm")
        monetary = None
        if rfm is not None and hasattr(rfm, "summary"):
            parts = []
            for scheme in ("value_group", "rfm_segment"):
                if scheme in rfm.data.columns:
                    summ = rfm.summary(scheme)
                    parts.append(pd.DataFrame({
                        "segment": summ.index.astype(str), "n": summ["customers"].to_numpy(),
                        "value": summ["revenue"].to_numpy(), "scheme": scheme}))
            segments = pd.concat(parts, ignore_index=True) if parts else None
            monetary = rfm.data.get("monetary")
        life = value.get("lifecycle")
        if life is not None and "lifecycle_stage" in getattr(life, "data", pd.DataFrame()):
            stage = life.data["lifecycle_stage"].astype(str)
            worth = (monetary.reindex(stage.index).fillna(0.0) if monetary is not None
                     else pd.Series(1.0, index=stage.index))
            grouped = pd.DataFrame({"stage": stage, "value": worth}).groupby("stage", sort=True)
            lifecycle = grouped.agg(n=("value", "size"), value=("value", "sum")).reset_index()
        clv = value.get("clv")
        data = getattr(clv, "data", None)
        if isinstance(data, pd.DataFrame) and {"p_alive", "clv"} <= set(data.columns):
            customers = pd.DataFrame({"customer": data.index.astype(str),
                                      "p_alive": data["p_alive"].to_numpy(dtype=float),
                                      "value": data["clv"].to_numpy(dtype=float)})
        results = {"sem": sem, "reliability": rel, "rfm": rfm, "lifecycle": life, "clv": clv}
        return cls.from_results(
            ipa=getattr(analysis, "ipa", None), indices=getattr(analysis, "indices", None),
            compare=getattr(analysis, "compare", None),
            effects=getattr(sem, "effects", None), reliability=reliability, htmt=htmt,
            segments=segments, lifecycle=lifecycle, customers=customers, sat=sat, loy=loy,
            questionnaire=getattr(analysis, "questionnaire", None), results=results,
        )


def _float(x: Any) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _questionnaire_names(q: Any) -> tuple[dict[str, dict[str, str]], dict[str, dict[str, Any]],
                                          str | None]:
    """Construct names, groups (names and code labels) and the domain of a questionnaire."""
    if q is None:
        return {}, {}, None
    names = {c.id: {lg: c.name.get(lg) for lg in LANGS} for c in getattr(q, "constructs", [])}
    for o in getattr(q, "observed", []) or []:
        names.setdefault(o.id, {lg: o.text.get(lg) for lg in LANGS})
    groups: dict[str, dict[str, Any]] = {}
    for g in getattr(q, "groups", []) or []:
        groups[g.id] = {
            "name": {lg: (g.name.get(lg) if g.name else g.id) for lg in LANGS},
            "codes": {str(k): {lg: t.get(lg) for lg in LANGS} for k, t in (g.codes or {}).items()},
        }
    return names, groups, getattr(q, "domain", None)


# -- rule schema -------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Words(_Strict):
    en: str
    zh: str | None = None


class RuleText(_Strict):
    """Reader-facing text; Chinese falls back to English when absent.

    ``domains`` holds variants for industries (keys from
    :data:`satisfaction.questionnaire.DOMAINS`).
    """

    en: str
    zh: str | None = None
    domains: dict[str, _Words] = Field(default_factory=dict)

    @field_validator("domains", mode="before")
    @classmethod
    def _known(cls, value: Any) -> Any:
        if isinstance(value, dict):
            for key in value:
                if key not in DOMAINS:
                    raise ValueError(f"unknown domain {key!r}; expected one of "
                                     f"{', '.join(DOMAINS)}")
            return {k: ({"en": v} if isinstance(v, str) else v) for k, v in value.items()}
        return value

    def get(self, lang: str, domain: str | None = None) -> str:
        words: Any = self.domains.get(domain, self) if domain else self
        if lang == "zh" and words.zh:
            return words.zh
        if lang == "zh" and words is not self and self.zh and not words.zh:
            return self.zh  # a domain variant without Chinese: the neutral Chinese text
        return words.en


class Condition(_Strict):
    """A condition over the findings, named by type with its parameters."""

    type: Literal[
        "quadrant", "index_below", "group_gap", "weak_reliability", "weak_discriminant",
        "segment", "lifecycle", "churn_risk", "sat_not_loyalty",
    ]
    quadrant: Literal["concentrate_here", "keep_up", "low_priority", "possible_overkill"] | None \
        = None
    level: Literal["construct", "item"] = "construct"
    constructs: list[str] | None = None
    exclude: list[str] = Field(default_factory=list)
    stage: str | None = None
    threshold: float | None = None
    measure: Literal["alpha", "omega", "cr", "ave"] | None = None
    by: list[str] | None = None
    alpha: float = 0.05
    min_effect: float = 0.0
    segments: list[str] | None = None
    stages: list[str] | None = None
    min_count: int = 1
    max_p_alive: float = 0.5
    value_quantile: float = 0.8
    min_gap: float | None = None
    max_effect: float | None = None

    def model_post_init(self, _: Any) -> None:
        need = {
            "quadrant": ["quadrant"],
            "index_below": ["threshold"],
            "weak_reliability": ["measure", "threshold"],
            "weak_discriminant": ["threshold"],
            "segment": ["segments"],
            "lifecycle": ["stages"],
        }.get(self.type, [])
        missing = [k for k in need if getattr(self, k) is None]
        if missing:
            raise ValueError(f"condition {self.type!r} needs {', '.join(missing)}")
        if self.type == "sat_not_loyalty" and self.min_gap is None and self.max_effect is None:
            raise ValueError("condition 'sat_not_loyalty' needs min_gap or max_effect")


class Rule(_Strict):
    """One strategy rule (``domains``: fire only for these industries)."""

    id: str
    stage: str | None = None
    when: Condition
    weight: float = Field(default=1.0, gt=0)
    domains: list[str] | None = None
    title: RuleText
    action: RuleText
    rationale: RuleText
    source: str | None = None

    _text = field_validator("title", "action", "rationale", mode="before")(
        lambda v: {"en": v} if isinstance(v, str) else v
    )

    @field_validator("domains")
    @classmethod
    def _known(cls, value: list[str] | None) -> list[str] | None:
        for key in value or []:
            if key not in DOMAINS:
                raise ValueError(f"unknown domain {key!r}; expected one of {', '.join(DOMAINS)}")
        return value


class _RuleFile(_Strict):
    version: int = 1
    rules: list[Rule]


def load_rules(path: str | Path) -> list[Rule]:
    """Read and validate a rule file.

    Raises
    ------
    SchemaError
        Naming the file, the line and the key of the first problem.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise SchemaError(f"cannot read rule file: {exc.strerror or exc}", file=str(path)) \
            from None
    except UnicodeDecodeError as exc:
        raise SchemaError(f"cannot read rule file: not UTF-8 text ({exc.reason} at byte "
                          f"{exc.start})", file=str(path)) from None
    data, lines = read_yaml(text, str(path))
    if not isinstance(data, dict):
        raise SchemaError("expected a mapping with a 'rules' list", file=str(path))
    try:
        parsed = _RuleFile.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        line = None
        probe = tuple(err["loc"])
        while probe:
            if probe in lines:
                line = lines[probe]
                break
            probe = probe[:-1]
        key = ".".join(str(p) for p in err["loc"]) or "(top level)"
        raise SchemaError(err["msg"], file=str(path), line=line, column=key,
                          value=err.get("input") if not isinstance(err.get("input"), dict)
                          else None) from None
    ids = [r.id for r in parsed.rules]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise SchemaError("rule ids must be unique", file=str(path), column="id", value=dup[0])
    return [r.model_copy(update={"source": str(path)}) for r in parsed.rules]


def shipped_rules() -> list[Rule]:
    """The rules shipped with the package (``satisfaction/rules/*.yaml``), in file order."""
    return list(_shipped())


@functools.cache
def _shipped() -> tuple[Rule, ...]:
    # the shipped files do not change while the program runs: parse them once
    out: list[Rule] = []
    for path in sorted(RULES_DIR.glob("*.yaml")):
        out += load_rules(path)
    return tuple(out)


# -- evaluation --------------------------------------------------------------


@dataclass
class Recommendation:
    """One recommended action, with the evidence and the gates behind it.

    Attributes
    ----------
    id, rule, condition : str
        ``<rule>:<subjects>``, the (main) rule id, its condition type.
    subject : str
        The main subject (highest priority); ``subjects`` lists all of them.
    priority : float
    title, action, rationale : dict
        Language → text, filled with names in that language (domain variant
        when the questionnaire declares one).
    evidence : dict
        The main hit's numbers (segment counts and value shares summed over
        the merged hits).
    sentence : dict
        Language → the evidence as sentences (one per merged hit).
    matches : list of dict
        Every merged hit: ``rule subject priority evidence sentence gates``.
    gates : dict
        Result name → ``ok`` | ``caution`` (status of every result used).
    caution : bool
        A used result carries a caution beyond the rule's own finding;
        ``caution_text`` (language → text) says which.
    """

    id: str
    rule: str
    condition: str
    subject: str
    stage: str | None
    priority: float
    title: dict[str, str]
    action: dict[str, str]
    rationale: dict[str, str]
    evidence: dict[str, Any]
    rank: int = 0
    subjects: list[str] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)
    sentence: dict[str, str] = field(default_factory=dict)
    matches: list[dict[str, Any]] = field(default_factory=list)
    gates: dict[str, str] = field(default_factory=dict)
    caution: bool = False
    caution_text: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "id": self.id,
            "rule": self.rule,
            "rules": list(self.rules),
            "condition": self.condition,
            "subject": self.subject,
            "subjects": list(self.subjects),
            "stage": self.stage,
            "priority": to_jsonable(self.priority),
            "title": self.title,
            "action": self.action,
            "rationale": self.rationale,
            "evidence": {"values": {k: to_jsonable(v) for k, v in self.evidence.items()},
                         "sentence": dict(self.sentence),
                         "matches": to_jsonable(self.matches)},
            "gates": dict(self.gates),
            "caution": bool(self.caution),
            "caution_text": dict(self.caution_text),
        }


@dataclass
class Limitation:
    """Recommendations not made because a result they rest on is not valid.

    Attributes
    ----------
    code : {"strategy_withheld", "strategy_not_used"}
        Catalog key (``warnings.<code>``): hits withheld, or none to withhold.
    result : str
        The invalid result (:data:`RESULTS`).
    rules, subjects : list of str
        The withheld hits' rules and subjects.
    causes : list
        The result's invalidating diagnostics.
    text : dict
        Language → the notice with its causes.
    """

    code: str
    result: str
    rules: list[str]
    subjects: list[str]
    causes: list[Any]
    text: dict[str, str]
    status: str = "invalid"

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "severity": "caution", "result": self.result,
                "status": self.status, "rules": list(self.rules),
                "subjects": list(self.subjects), "message": dict(self.text),
                "causes": [c.to_dict() if hasattr(c, "to_dict") else {"message": str(c)}
                           for c in self.causes]}


@dataclass
class RecommendationResult:
    """Ranked recommendations and what could not be recommended.

    Attributes
    ----------
    recommendations : list of Recommendation
        Rank order (1 = most urgent).
    rules_evaluated : int
    limitations : list of Limitation
        One per invalid result: the actions withheld because of it.
    gates : dict
        Result name → status of every result the findings hold.
    domain : str or None
    """

    recommendations: list[Recommendation] = field(default_factory=list)
    rules_evaluated: int = 0
    limitations: list[Limitation] = field(default_factory=list)
    gates: dict[str, str] = field(default_factory=dict)
    domain: str | None = None

    def __len__(self) -> int:
        return len(self.recommendations)

    def __iter__(self):
        return iter(self.recommendations)

    def __getitem__(self, i: int) -> Recommendation:
        return self.recommendations[i]

    @property
    def table(self) -> pd.DataFrame:
        """``rank id rule condition subject stage priority title`` (English titles)."""
        return pd.DataFrame(
            [{"rank": r.rank, "id": r.id, "rule": r.rule, "condition": r.condition,
              "subject": r.subject, "stage": r.stage, "priority": r.priority,
              "title": r.title["en"]} for r in self.recommendations],
            columns=["rank", "id", "rule", "condition", "subject", "stage", "priority", "title"],
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "rules_evaluated": self.rules_evaluated,
            "domain": self.domain,
            "gates": dict(self.gates),
            "limitations": [lim.to_dict() for lim in self.limitations],
            "recommendations": [r.to_dict() for r in self.recommendations],
        }


_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_.]*)(?::(\.\d+[f%]))?\}")
_CJK = r"[\u3000-\u9fff\uff00-\uffef]"


def fill(text: str, values: Mapping[str, Any]) -> str:
    """Replace ``{name}``, ``{name:.1f}`` or ``{name:.0%}`` with evidence values.

    Only named look-ups and these two formats are understood: nothing in a rule
    file is evaluated. A name without a value is left as it is; a value of None
    becomes ``n/a``; whole numbers without a format get thousands separators.
    """

    def sub(m: re.Match[str]) -> str:
        if m.group(1) not in values:
            return m.group(0)
        value = values[m.group(1)]
        if value is None:
            return "n/a"
        if m.group(2) and isinstance(value, (int, float, np.number)) \
                and not isinstance(value, bool):
            return format(float(value), m.group(2))
        if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
            return f"{int(value):,}"
        return str(value)

    return _PLACEHOLDER.sub(sub, text)


_fill = fill


def _squash_zh(text: str) -> str:
    """No spaces between Chinese characters around a filled name."""
    return re.sub(rf"(?<={_CJK}) +(?={_CJK})", "", text)


# -- names and numbers in sentences --------------------------------------------


@functools.cache
def _catalog(lang: str) -> Any:
    from satisfaction.report.messages import load_messages

    return load_messages(lang)


def _label(section: str, key: Any, lang: str) -> str:
    m = _catalog(lang)
    full = f"{section}.{key}"
    return m.text(full) if m.has(full) else str(key)


def _name(f: Findings, cid: Any, lang: str) -> str:
    return (f.names.get(str(cid)) or {}).get(lang) or str(cid)


def _join(parts: Sequence[str], lang: str) -> str:
    parts = list(dict.fromkeys(parts))
    if lang == "zh":
        return "、".join(parts)
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _n(x: Any, digits: int = 1) -> str:
    v = _float(x)
    if v is None:
        return "n/a"
    text = f"{v:,.{digits}f}"
    return "0" + text[2:] if text.startswith("-0") and float(text.replace(",", "")) == 0 else text


def _pct(x: Any, digits: int = 1) -> str:
    v = _float(x)
    return "n/a" if v is None else f"{100 * v:.{digits}f}%"


def _count(x: Any) -> str:
    v = _float(x)
    return "n/a" if v is None else f"{round(v):,}"


def _p(x: Any) -> str:
    v = _float(x)
    return "n/a" if v is None else ("< 0.001" if v < 0.001 else f"= {v:.3f}")


def _ci(lo: Any, hi: Any, lang: str, show: Any = _n) -> str:
    if _float(lo) is None or _float(hi) is None:
        return ""
    return _catalog(lang).text("evidence.sentences.ci", lower=show(lo), upper=show(hi))


def _is_share(method: Any) -> bool:
    return isinstance(method, str) and any(k in method.lower() for k in _SHARE_METHODS)


def _say(key: str, lang: str, **values: Any) -> str:
    return _catalog(lang).text(f"evidence.sentences.{key}", **values)


def _driver_sentence(f: Findings, ev: Mapping[str, Any], lang: str) -> str:
    """Importance (with interval), performance (with interval) and the gap to the mean."""
    method = ev.get("importance.method")
    if _is_share(method):
        kind = "share" if ev.get("importance.share") else "r2"
        show = _pct if kind == "share" else (lambda x: _n(x, 3))
    elif method is None or "effect" in str(method).lower() or "total" in str(method).lower():
        kind, show = "effect", (lambda x: _n(x, 2))
    else:
        kind, show = "importance", (lambda x: _n(x, 3))
    name = _name(f, ev["construct"], lang)
    importance = _say(kind, lang, construct=name, target=_name(f, ev.get("target"), lang),
                      value=show(ev.get("importance")),
                      ci=_ci(ev.get("importance.ci.lower"), ev.get("importance.ci.upper"), lang,
                             show))
    performance = _say("performance", lang, value=_n(ev.get("performance")),
                       ci=_ci(ev.get("performance.ci.lower"), ev.get("performance.ci.upper"),
                              lang))
    gap = _float(ev.get("gap.mean"))
    if gap is None:
        return _say("driver_no_gap", lang, importance=importance, performance=performance)
    lo, hi = _float(ev.get("gap.mean.ci.lower")), _float(ev.get("gap.mean.ci.upper"))
    if lo is not None and hi is not None and gap < 0:  # shown as a distance below
        lo, hi = -hi, -lo
    position = _say("below_mean" if gap < 0 else "above_mean", lang, gap=_n(abs(gap)),
                    ci=_ci(lo, hi, lang), mean=_n(ev.get("mean.performance")))
    return _say("driver", lang, importance=importance, performance=performance,
                position=position)


def evidence_sentence(f: Findings, condition: str, ev: Mapping[str, Any], lang: str) -> str:
    """The evidence of one hit as a sentence in ``lang`` (from ``evidence.sentences``)."""
    if condition == "quadrant":
        return _driver_sentence(f, ev, lang)
    if condition == "index_below":
        text = _say("index_below", lang, construct=_name(f, ev["construct"], lang),
                    value=_n(ev.get("index")), ci=_ci(ev.get("ci.lower"), ev.get("ci.upper"),
                                                       lang),
                    gap=_n(ev.get("gap")), threshold=_n(ev.get("threshold")))
        if ev.get("importance") is not None and ev.get("performance") is not None:
            text += (" " if lang == "en" else "") + _driver_sentence(f, ev, lang)
        return text
    if condition == "group_gap":
        group = f.groups.get(str(ev.get("by")), {})
        codes = group.get("codes", {})

        def cat(k: Any) -> str:
            return (codes.get(str(k)) or {}).get(lang) or str(k)

        return _say("group_gap", lang, construct=_name(f, ev["construct"], lang),
                    by=(group.get("name") or {}).get(lang) or str(ev.get("by")),
                    lowest=cat(ev.get("lowest")), lowest_mean=_n(ev.get("lowest.mean")),
                    highest=cat(ev.get("highest")), highest_mean=_n(ev.get("highest.mean")),
                    test=_label("tests", ev.get("test"), lang), p=_p(ev.get("pvalue.adjusted")),
                    effect=_label("effects", ev.get("effect"), lang),
                    size=_n(ev.get("effect.size"), 2))
    if condition == "weak_reliability":
        return _say("reliability", lang, measure=_label("columns", ev.get("measure"), lang),
                    construct=_name(f, ev["construct"], lang), value=_n(ev.get("value"), 3),
                    threshold=_n(ev.get("threshold"), 2))
    if condition == "weak_discriminant":
        return _say("htmt", lang, a=_name(f, ev.get("a"), lang), b=_name(f, ev.get("b"), lang),
                    value=_n(ev.get("htmt"), 3), threshold=_n(ev.get("threshold"), 2))
    if condition in ("segment", "lifecycle"):
        key = "segment" if condition == "segment" else "stage"
        section = "segments" if condition == "segment" else "lifecycle"
        label = _label(section, ev.get(key), lang)
        return _say(condition, lang, **{key: label}, n=_count(ev.get("n")),
                    customers=_count(ev.get("customers")), n_share=_pct(ev.get("n.share")),
                    share=_pct(ev.get("value.share")))
    if condition == "churn_risk":
        return _say("churn", lang, n=_count(ev.get("n.at_risk")),
                    cutoff=_n(ev.get("value.cutoff"), 0), max_p=_n(ev.get("max_p_alive"), 2),
                    mean_p=_n(ev.get("mean.p_alive"), 2), share=_pct(ev.get("value.share")))
    if condition == "sat_not_loyalty":
        values = {"sat": _name(f, ev.get("sat"), lang), "loy": _name(f, ev.get("loy"), lang),
                  "sat_index": _n(ev.get("sat_index")), "loy_index": _n(ev.get("loy_index")),
                  "gap": _n(ev.get("gap"))}
        if ev.get("effect") is None:
            return _say("sat_loyalty_gap", lang, **values)
        return _say("sat_loyalty", lang, **values, effect=_n(ev.get("effect"), 2),
                    ci=_ci(ev.get("effect.ci.lower"), ev.get("effect.ci.upper"), lang,
                           lambda x: _n(x, 2)))
    return ""


def _text_values(f: Findings, ev: Mapping[str, Any], subject: str, lang: str
                 ) -> dict[str, Any]:
    """Placeholder values of a rule text: the evidence, plus names in ``lang``."""
    values = {k: to_jsonable(v) for k, v in ev.items()}
    values["subject"] = subject
    for key in ("construct", "target", "a", "b", "sat", "loy"):
        if ev.get(key) is not None:
            values[f"{key}_id"] = ev[key]
            values[f"{key}_name"] = values[key] = _name(f, ev[key], lang)
    if ev.get("a") is not None and ev.get("b") is not None:
        values["pair_name"] = f"{values['a_name']}–{values['b_name']}"
    if ev.get("by") is not None:
        group = f.groups.get(str(ev["by"]), {})
        values["by_id"] = ev["by"]
        values["by_name"] = values["by"] = (group.get("name") or {}).get(lang) or str(ev["by"])
        for key in ("lowest", "highest"):
            code = str(ev.get(key))
            values[f"{key}_name"] = values[key] = \
                ((group.get("codes") or {}).get(code) or {}).get(lang) or code
    for key, section in (("segment", "segments"), ("test", "tests"), ("effect", "effects"),
                         ("measure", "columns")):
        if isinstance(ev.get(key), str):
            values[f"{key}_id"] = ev[key]
            values[f"{key}_name"] = values[key] = _label(section, ev[key], lang)
    if isinstance(ev.get("stage"), str):
        section = "lifecycle" if "value.share" in ev else "stages"
        values["stage_id"] = ev["stage"]
        values["stage_name"] = values["stage"] = _label(section, ev["stage"], lang)
    return values


# -- hits ------------------------------------------------------------------------


@dataclass
class _Hit:
    rule: Rule
    subject: str
    stage: str | None
    priority: float
    evidence: dict[str, Any]
    uses: tuple[str, ...]
    scheme: str = ""


def _matches_construct(cond: Condition, construct: str, stage: str | None) -> bool:
    if cond.constructs is not None and construct not in cond.constructs:
        return False
    if construct in cond.exclude:
        return False
    return not (cond.stage is not None and stage != cond.stage)


def _get(row: pd.Series, key: str) -> Any:
    """A cell of a row that may lack the column (None then)."""
    if key not in row.index:
        return None
    value = row[key]
    if isinstance(value, (float, np.floating)) and not math.isfinite(float(value)):
        return None
    return value


def _relative(importance: Any, mean: Any) -> float:
    """r = importance / mean importance (the importance itself without a positive mean)."""
    imp = _float(importance) or 0.0
    m = _float(mean)
    return imp / m if m is not None and m > 0 else imp


def _is_share_value(r: pd.Series) -> bool:
    """Whether a driver's importance is its share of the explained variance (sums to 1):
    its method says ``share``, or the row's ``<method>.share`` column holds the same value."""
    method = _get(r, "importance.method")
    if not _is_share(method):
        return False
    if "share" in str(method).lower():
        return True
    twin = _float(_get(r, f"{method}.share"))
    imp = _float(r["importance"])
    return twin is not None and imp is not None and abs(twin - imp) <= 1e-12 * max(1.0, abs(imp))


def _ipa_uses(method: Any) -> tuple[str, ...]:
    """Results a driver row rests on: the SEM too unless its importance is an R² share."""
    return ("ipa", "indices") if _is_share(method) else ("ipa", "indices", "sem")


def _index_ci(f: Findings, construct: str) -> tuple[Any, Any]:
    if f.indices is None or not {"ci.lower", "ci.upper"} <= set(f.indices.columns):
        return None, None
    row = f.indices[f.indices["construct"] == construct]
    if row.empty:
        return None, None
    return _float(row["ci.lower"].iloc[0]), _float(row["ci.upper"].iloc[0])


def _driver_evidence(f: Findings, r: pd.Series, table: pd.DataFrame) -> dict[str, Any]:
    construct = str(r["construct"])
    mean_imp = _get(r, "mean.importance")
    mean_perf = _get(r, "mean.performance")
    if mean_imp is None:
        mean_imp = float(table["importance"].mean())
    if mean_perf is None:
        mean_perf = float(table["performance"].mean())
    perf_lo, perf_hi = _get(r, "performance.ci.lower"), _get(r, "performance.ci.upper")
    if (perf_lo is None or perf_hi is None) and "item" not in r.index:
        perf_lo, perf_hi = _index_ci(f, construct)
    return {
        "target": f.target, "construct": construct,
        "importance": _float(r["importance"]),
        "importance.ci.lower": _float(_get(r, "importance.ci.lower")),
        "importance.ci.upper": _float(_get(r, "importance.ci.upper")),
        "importance.method": _get(r, "importance.method"),
        "importance.share": _is_share_value(r),
        "importance.relative": _relative(r["importance"], mean_imp),
        "performance": _float(r["performance"]),
        "performance.ci.lower": _float(perf_lo), "performance.ci.upper": _float(perf_hi),
        "quadrant": _get(r, "quadrant"),
        "mean.importance": _float(mean_imp), "mean.performance": _float(mean_perf),
        "gap.mean": _float(float(r["performance"]) - float(mean_perf)),
        **_gap_interval(r, float(r["performance"]) - float(mean_perf)),
        "gap": 100.0 - float(r["performance"]),
    }


def _gap_interval(r: pd.Series, gap: float) -> dict[str, float | None]:
    """The interval of the gap to the drivers' mean: the IPA's paired interval of the
    within-respondent difference (the one the quadrant was called from), placed
    around the gap shown."""
    diff, lo, hi = (_float(_get(r, k)) for k in (
        "performance.diff", "performance.diff.ci.lower", "performance.diff.ci.upper"))
    if diff is None or lo is None or hi is None:
        return {"gap.mean.ci.lower": None, "gap.mean.ci.upper": None}
    return {"gap.mean.ci.lower": gap + lo - diff, "gap.mean.ci.upper": gap + hi - diff}


def _ipa_row(f: Findings, construct: str) -> pd.Series | None:
    if f.ipa is None or f.ipa.empty:
        return None
    row = f.ipa[f.ipa["construct"] == construct]
    return None if row.empty else row.iloc[0]


def _hits(rule: Rule, f: Findings) -> list[_Hit]:
    """Every match of the rule, with its priority, evidence and the results it used."""
    c = rule.when
    w = rule.weight
    out: list[_Hit] = []
    if rule.domains is not None and f.domain not in rule.domains:
        return out
    if c.type == "quadrant":
        table = f.ipa if c.level == "construct" else f.ipa_items
        if table is None or table.empty or "quadrant" not in table.columns:
            return out
        for _, r in table.iterrows():
            construct = str(r["construct"])
            stage = _get(r, "stage") or _stage_of(f, construct)
            if r["quadrant"] != c.quadrant or not _matches_construct(c, construct, stage):
                continue
            subject = construct if c.level == "construct" else str(r["item"])
            ev = _driver_evidence(f, r, table)
            if c.level == "item":
                ev["item"] = subject
            method = ev["importance.method"]
            priority = w * ev["importance.relative"] * (100.0 - float(r["performance"]))
            out.append(_Hit(rule, subject, stage, priority, ev, _ipa_uses(method)))
    elif c.type == "index_below":
        if f.indices is None:
            return out
        for _, r in f.indices.iterrows():
            construct = str(r["construct"])
            stage = _get(r, "stage")
            if not _matches_construct(c, construct, stage) or not r["index"] < c.threshold:
                continue
            gap = float(c.threshold - r["index"])
            ev: dict[str, Any] = {"construct": construct, "index": float(r["index"]),
                                  "ci.lower": _float(_get(r, "ci.lower")),
                                  "ci.upper": _float(_get(r, "ci.upper")),
                                  "threshold": c.threshold, "gap": gap}
            uses: tuple[str, ...] = ("indices",)
            row = _ipa_row(f, construct)
            rel = 1.0
            if row is not None:
                driver = _driver_evidence(f, row, f.ipa)
                ev.update({k: v for k, v in driver.items() if k not in ev})
                rel = driver["importance.relative"]
                uses = _ipa_uses(driver["importance.method"])
            else:
                ev["importance"] = None
            out.append(_Hit(rule, construct, stage, w * rel * gap, ev, uses))
    elif c.type == "group_gap":
        if f.group_tests is None or f.group_tests.empty:
            return out
        for _, r in f.group_tests.iterrows():
            if r["test"] == "chi2" or not isinstance(r.get("groups"), dict):
                continue
            construct = str(r["construct"])
            if c.by is not None and r["by"] not in c.by:
                continue
            if not _matches_construct(c, construct, _stage_of(f, construct)):
                continue
            p = r["pvalue.adjusted"]
            if not (p < c.alpha and abs(float(r["effect.size"])) >= c.min_effect):
                continue
            means = {k: v["mean"] for k, v in r["groups"].items() if v.get("mean") is not None}
            hi = max(means, key=lambda k: means[k])
            lo = min(means, key=lambda k: means[k])
            gap = float(means[hi] - means[lo])
            # the subject is the construct and the grouping: two tests of the same gap are
            # one finding (merged, counted once)
            out.append(_Hit(rule, f"{construct}|{r['by']}", _stage_of(f, construct),
                            w * gap, {
                                "construct": construct, "by": r["by"], "test": r["test"],
                                "statistic": r["statistic"], "pvalue": r["pvalue"],
                                "pvalue.adjusted": p, "effect": r["effect"],
                                "effect.size": r["effect.size"], "highest": hi,
                                "highest.mean": means[hi], "lowest": lo,
                                "lowest.mean": means[lo], "gap": gap,
                            }, ("compare",), scheme=str(r["by"])))
    elif c.type == "weak_reliability":
        if f.reliability is None or c.measure not in f.reliability.columns:
            return out
        for _, r in f.reliability.iterrows():
            construct = str(r["construct"])
            value = r[c.measure]
            if value is None or not np.isfinite(value) or not value < c.threshold:
                continue
            if not _matches_construct(c, construct, _stage_of(f, construct)):
                continue
            out.append(_Hit(rule, construct, _stage_of(f, construct),
                            w * 100.0 * (c.threshold - value),
                            {"construct": construct, "measure": c.measure, "value": value,
                             "threshold": c.threshold},
                            ("reliability",) if c.measure == "alpha" else ("reliability", "cfa")))
    elif c.type == "weak_discriminant":
        if f.htmt is None:
            return out
        for _, r in f.htmt.iterrows():
            if not r["htmt"] > c.threshold:
                continue
            out.append(_Hit(rule, f"{r['a']}|{r['b']}", None,
                            w * 100.0 * (r["htmt"] - c.threshold),
                            {"a": r["a"], "b": r["b"], "htmt": r["htmt"],
                             "threshold": c.threshold}, ("reliability",)))
    elif c.type in ("segment", "lifecycle"):
        table = f.segments if c.type == "segment" else f.lifecycle
        key = "segment" if c.type == "segment" else "stage"
        wanted = c.segments if c.type == "segment" else c.stages
        if table is None or table.empty:
            return out
        # shares within a segmentation scheme (RFM segments and value groups both partition
        # the same customers, so each is its own whole)
        scheme = table["scheme"] if "scheme" in table.columns else pd.Series("", table.index)
        for _, r in table.iterrows():
            if str(r[key]) not in (wanted or []) or int(r["n"]) < c.min_count:
                continue
            whole = table[scheme == scheme.loc[r.name]]
            total = float(whole["value"].sum())
            share = float(r["value"]) / total if total > 0 else 0.0
            customers = int(whole["n"].sum())
            out.append(_Hit(rule, str(r[key]), None, w * 100.0 * share, {
                key: r[key], "n": int(r["n"]), "value": r["value"], "value.share": share,
                "customers": customers, "n.share": int(r["n"]) / customers if customers else None,
            }, ("rfm",) if c.type == "segment" else ("lifecycle",),
                scheme=str(scheme.loc[r.name])))
    elif c.type == "churn_risk":
        cust = f.customers
        if cust is None or cust.empty:
            return out
        cut = float(cust["value"].quantile(c.value_quantile))
        risky = cust[(cust["value"] >= cut) & (cust["p_alive"] < c.max_p_alive)]
        total = float(cust["value"].sum())
        if len(risky) >= c.min_count:
            share = float(risky["value"].sum()) / total if total > 0 else 0.0
            out.append(_Hit(rule, "valuable_customers", None, w * 100.0 * share, {
                "n.at_risk": len(risky), "value.at_risk": float(risky["value"].sum()),
                "value.share": share, "value.cutoff": cut, "max_p_alive": c.max_p_alive,
                "mean.p_alive": float(risky["p_alive"].mean()),
            }, ("clv",)))
    elif c.type == "sat_not_loyalty":
        link = f.sat_loyalty
        if not link:
            return out
        gap = link["sat_index"] - link["loy_index"]
        effect = link.get("effect")
        if f.gates.get("sem") == "invalid":
            effect = None  # an effect from an invalid model is not evidence
        by_gap = c.min_gap is not None and gap >= c.min_gap
        by_effect = c.max_effect is not None and effect is not None and effect < c.max_effect
        if by_gap or by_effect:
            score = max(gap if by_gap else 0.0,
                        100.0 * (c.max_effect - effect) if by_effect else 0.0)
            out.append(_Hit(rule, f"{link['sat']}->{link['loy']}", "outcome", w * score, {
                "sat": link["sat"], "loy": link["loy"],
                "sat_index": link["sat_index"], "loy_index": link["loy_index"],
                "gap": gap, "effect": effect,
                "effect.ci.lower": link.get("effect.ci.lower") if effect is not None else None,
                "effect.ci.upper": link.get("effect.ci.upper") if effect is not None else None,
                "min_gap": c.min_gap, "max_effect": c.max_effect,
            }, ("indices", "sem") if effect is not None else ("indices",)))
    return out


def _stage_of(f: Findings, construct: str) -> str | None:
    for table in (f.ipa, f.indices):
        if table is not None and "stage" in table.columns:
            row = table[table["construct"] == construct]
            if not row.empty:
                return row["stage"].iloc[0]
    return None


def _rule_set(rules: Sequence[Rule] | None, extra: Iterable[str | Path | Rule | Sequence[Rule]]
              ) -> list[Rule]:
    base = list(shipped_rules() if rules is None else rules)
    added: list[Rule] = []
    for item in extra:
        if isinstance(item, Rule):
            added.append(item)
        elif isinstance(item, (str, Path)):
            added += load_rules(item)
        else:
            added += list(item)
    replaced = {r.id for r in added}
    return [r for r in base if r.id not in replaced] + added


# -- gating, merging, ranking -------------------------------------------------------


def _subject_names(f: Findings, hit: _Hit, lang: str) -> str:
    ev = hit.evidence
    if hit.rule.when.type == "weak_discriminant":
        return f"{_name(f, ev['a'], lang)}–{_name(f, ev['b'], lang)}"
    if "construct" in ev:
        return _name(f, ev["construct"], lang)
    if "segment" in ev:
        return _label("segments", ev["segment"], lang)
    if hit.rule.when.type == "lifecycle":
        return _label("lifecycle", ev.get("stage"), lang)
    if hit.rule.when.type == "sat_not_loyalty":
        return f"{_name(f, ev['sat'], lang)} → {_name(f, ev['loy'], lang)}"
    return hit.subject


def _cause_text(cause: Any, f: Findings, lang: str) -> str:
    if hasattr(cause, "text"):
        try:
            return cause.text(lang, name=lambda cid: _name(f, cid, lang))
        except KeyError:  # a catalog text that names a parameter the diagnostic lacks
            return str(getattr(cause, "code", cause))
    return str(cause)


def _limitations(f: Findings, withheld: list[_Hit]) -> list[Limitation]:
    out = []
    for result in RESULTS:
        if f.gates.get(result) != "invalid":
            continue
        hits = [h for h in withheld if result in h.uses]
        causes = list(f.causes.get(result, []))
        text = {}
        for lang in LANGS:
            what = _label("evidence.results", result, lang)
            if hits:
                subjects = _join([_subject_names(f, h, lang) for h in hits], lang)
                notice = _catalog(lang).text("warnings.strategy_withheld", result=what,
                                             subjects=subjects)
            else:
                notice = _catalog(lang).text("warnings.strategy_not_used", result=what)
            reasons = [_cause_text(c, f, lang) for c in causes[:3]]
            if len(causes) > 3:
                reasons.append("…")
            sep = "；" if lang == "zh" else "; "
            if reasons:
                notice += ("（" + sep.join(reasons) + "）") if lang == "zh" \
                    else " (" + sep.join(reasons) + ")"
            text[lang] = notice + ("。" if lang == "zh" else ".")
        out.append(Limitation(
            code="strategy_withheld" if hits else "strategy_not_used", result=result,
            rules=list(dict.fromkeys(h.rule.id for h in hits)),
            subjects=list(dict.fromkeys(h.subject for h in hits)), causes=causes, text=text))
    return out


def _concerns(d: Any, hit: _Hit) -> bool:
    """Whether a diagnostic bears on a hit: it names none of the constructs, or one of the
    hit's (a low alpha of Image does not caution a recommendation on Price)."""
    named = {str(d.params.get(k)) for k in getattr(d, "constructs", ()) if d.params.get(k)}
    mine = {str(hit.evidence[k]) for k in ("construct", "a", "b", "sat", "loy", "target")
            if hit.evidence.get(k) is not None}
    return not named or bool(named & mine)


def _caution(f: Findings, hits: list[_Hit]) -> dict[str, str]:
    """Language → why a recommendation should be read with care ({} when it need not)."""
    reasons: dict[str, list[Any]] = {}
    for h in hits:
        own = _OWN_CODES.get(h.rule.when.type, set())
        for result in h.uses:
            if f.gates.get(result) != "caution":
                continue
            found = [d for d in f.causes.get(result, [])
                     if getattr(d, "code", None) not in own and _concerns(d, h)]
            if found or not f.causes.get(result):
                reasons.setdefault(result, [])
                reasons[result] += [d for d in found if d not in reasons[result]]
    if not reasons:
        return {}
    out = {}
    for lang in LANGS:
        results = _join([_label("evidence.results", r, lang) for r in reasons], lang)
        texts = [_cause_text(d, f, lang) for ds in reasons.values() for d in ds][:3]
        out[lang] = _catalog(lang).text("evidence.sentences.caution", results=results,
                                        reasons=("；" if lang == "zh" else "; ").join(texts)
                                        or "–")
    return out


def _texts(f: Findings, rule: Rule, hits: list[_Hit]) -> dict[str, dict[str, str]]:
    """Title, action and rationale of merged hits, in both languages."""
    main = hits[0]
    out: dict[str, dict[str, str]] = {"title": {}, "action": {}, "rationale": {}}
    for lang in LANGS:
        per_hit = [_text_values(f, h.evidence, h.subject, lang) for h in hits]
        values = dict(per_hit[0])
        if len(hits) > 1:
            for key in ("construct", "construct_name", "a", "a_name", "b", "b_name",
                        "pair_name", "segment", "segment_name", "subject", "item"):
                if key in values:
                    values[key] = _join([str(v.get(key)) for v in per_hit], lang)
            if main.rule.when.type in ("segment", "lifecycle"):  # one scheme: disjoint groups
                for key in ("n", "value", "value.share", "n.share"):
                    nums = [_float(h.evidence.get(key)) for h in hits]
                    if all(v is not None for v in nums):
                        values[key] = sum(nums) if key != "n" else int(sum(nums))
                stage_key = "stage"
                if main.rule.when.type == "lifecycle" and stage_key in values:
                    values[stage_key] = values["stage_name"] = _join(
                        [str(v.get("stage")) for v in per_hit], lang)
        for part in ("title", "action"):
            text = fill(getattr(rule, part).get(lang, f.domain), values)
            out[part][lang] = _squash_zh(text) if lang == "zh" else text
        rationales = [fill(h.rule.rationale.get(lang, f.domain), v)
                      for h, v in zip(hits, per_hit, strict=True)]
        rationale = ("" if lang == "zh" else " ").join(dict.fromkeys(rationales))
        out["rationale"][lang] = _squash_zh(rationale) if lang == "zh" else rationale
    return out


def _merge_groups(hits: list[_Hit], f: Findings) -> list[list[_Hit]]:
    """Hits with the same action text (and scheme) or the same rule and construct."""
    parent = list(range(len(hits)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    seen: dict[tuple[Any, ...], int] = {}
    for i, h in enumerate(hits):
        action = tuple(_squash_zh(fill(h.rule.action.get(lg, f.domain),
                                       _text_values(f, h.evidence, h.subject, lg)))
                       for lg in LANGS)
        construct = h.evidence.get("construct", h.subject)
        for key in (("action", h.rule.when.type, h.scheme, *action),
                    ("rule", h.rule.id, h.scheme, str(construct))):
            if key in seen:
                parent[find(i)] = find(seen[key])
            else:
                seen[key] = i
    groups: dict[int, list[_Hit]] = {}
    for i, h in enumerate(hits):
        groups.setdefault(find(i), []).append(h)
    return list(groups.values())


def _recommendation(f: Findings, group: list[_Hit]) -> Recommendation:
    group = sorted(group, key=lambda h: (-round(h.priority, 10), h.rule.id, h.subject))
    main = group[0]
    best: dict[str, float] = {}
    for h in group:
        best[h.subject] = max(best.get(h.subject, -math.inf), h.priority)
    subjects = list(best)
    texts = _texts(f, main.rule, group)
    gates: dict[str, str] = {}
    matches = []
    for h in group:
        used = {u: f.gates[u] for u in h.uses if u in f.gates}
        for u, g in used.items():
            gates[u] = _worse(gates.get(u), g) or g
        matches.append({"rule": h.rule.id, "subject": h.subject, "priority": h.priority,
                        "evidence": dict(h.evidence), "gates": used,
                        "sentence": {lg: evidence_sentence(f, h.rule.when.type, h.evidence, lg)
                                     for lg in LANGS}})
    evidence = dict(main.evidence)
    if main.rule.when.type in ("segment", "lifecycle") and len(group) > 1:
        for key in ("n", "value", "value.share", "n.share"):
            nums = [_float(h.evidence.get(key)) for h in group]
            if all(v is not None for v in nums):
                evidence[key] = int(sum(nums)) if key == "n" else sum(nums)
    sentence = {lg: ("" if lg == "zh" else " ").join(
        dict.fromkeys(m["sentence"][lg] for m in matches)) for lg in LANGS}
    caution = _caution(f, group)
    return Recommendation(
        id=f"{main.rule.id}:{'+'.join(subjects)}", rule=main.rule.id,
        condition=main.rule.when.type, subject=main.subject,
        stage=main.rule.stage or main.stage, priority=float(sum(best.values())),
        title=texts["title"], action=texts["action"], rationale=texts["rationale"],
        evidence=evidence, subjects=subjects,
        rules=list(dict.fromkeys(h.rule.id for h in group)), sentence=sentence,
        matches=matches, gates=gates, caution=bool(caution), caution_text=caution)


def recommend(
    findings: Findings,
    rules: Sequence[Rule] | None = None,
    extra_rules: Iterable[str | Path | Rule | Sequence[Rule]] = (),
    lang: str | None = None,
) -> RecommendationResult:
    """Evaluate the rules against the findings, gate, merge and rank the recommendations.

    Parameters
    ----------
    findings : Findings
    rules : list of Rule, optional
        The rule set; default the shipped rules (:func:`shipped_rules`).
    extra_rules : iterable of paths or rules
        The user's own rule files (or rules); a rule with the id of an earlier
        one replaces it.
    lang : {"en", "zh"}, optional
        Not needed for evaluation (every text is kept in both languages); validated only.

    Returns
    -------
    RecommendationResult
        Ranked by priority, descending; ties by rule id, then subject. Hits
        that used an invalid result are not ranked: they are in ``limitations``.
    """
    if lang not in (None, "en", "zh"):
        raise UsageError("language must be 'en' or 'zh'", column="lang", value=lang)
    if findings.domain is not None and findings.domain not in DOMAINS:
        raise UsageError("unknown domain", column="domain", value=findings.domain)
    rule_set = _rule_set(rules, extra_rules)
    ranked: list[_Hit] = []
    withheld: list[_Hit] = []
    for rule in rule_set:
        for hit in _hits(rule, findings):
            if any(findings.gates.get(u) == "invalid" for u in hit.uses):
                withheld.append(hit)
            else:
                ranked.append(hit)
    recs = [_recommendation(findings, g) for g in _merge_groups(ranked, findings)]
    recs.sort(key=lambda r: (-round(r.priority, 10), r.rule, r.subject))
    for i, r in enumerate(recs, start=1):
        r.rank = i
    return RecommendationResult(recommendations=recs, rules_evaluated=len(rule_set),
                                limitations=_limitations(findings, withheld),
                                gates=dict(findings.gates), domain=findings.domain)
