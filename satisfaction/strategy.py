"""Strategy recommendations: rules as data, evaluated against the findings.

A rule file (YAML) lists rules. A rule names a *condition* by type, with
parameters (no code is evaluated), an action with its rationale in English and
Chinese, and a ``weight``. The engine evaluates every rule against a
:class:`Findings` structure assembled from the analysis results; each match
becomes a :class:`Recommendation` that carries the numbers that triggered it.
Recommendations are ranked by priority (ties broken by rule id, then subject),
so the output is deterministic.

Condition types and their priority formulas (``w`` is the rule's weight;
importance is the standardized total effect from the IPA, performance and
indices are on 0-100):

``quadrant``
    an IPA row lies in ``quadrant``: w · importance · (100 − performance).
``index_below``
    a construct's index < ``threshold``: w · importance · (threshold − index),
    importance 1 when the construct is not in the IPA.
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

The shipped rule files live in ``satisfaction/rules/``: ``cram_stages.yaml``
(one rule per CRAM factor, drawn from the CRAM literature: pre-sale
information, brand and word of mouth; in-sale quality and price stability,
the time and effort cost of buying, staff and environment; post-sale service,
value extension, promise keeping and complaint handling), ``value_segments.yaml``
(retain valuable customers at risk, develop new ones, win back lapsed
high-value ones) and ``general.yaml`` (measurement quality, group gaps,
satisfaction that does not become loyalty, generic IPA quadrants). A user's
own file is passed as ``extra_rules``; a user rule with the id of a shipped
rule replaces it.
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
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from satisfaction.errors import SchemaError, UsageError

RULES_DIR = Path(__file__).resolve().parent / "rules"
CONDITION_TYPES: tuple[str, ...] = (
    "quadrant", "index_below", "group_gap", "weak_reliability", "weak_discriminant",
    "segment", "lifecycle", "churn_risk", "sat_not_loyalty",
)


# -- findings ----------------------------------------------------------------


@dataclass
class Findings:
    """What the analysis found, as plain tables the rules are evaluated against.

    Attributes
    ----------
    ipa : DataFrame, optional
        Construct-level IPA: ``construct stage importance performance quadrant``
        (:attr:`satisfaction.drivers.IPAResult.constructs`).
    ipa_items : DataFrame, optional
        Item-level IPA: ``item construct importance performance quadrant``.
    indices : DataFrame, optional
        ``construct stage index`` (:attr:`satisfaction.drivers.IndexResult.constructs`).
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
        (``effect``: standardized total effect of satisfaction on loyalty).
    target : str
        The IPA target.
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
    ) -> Findings:
        """Assemble findings from result objects (IPAResult, IndexResult, CompareResult).

        ``effects`` (the model's effects table) gives the satisfaction → loyalty
        effect; the indices give both constructs' indices.
        """
        index_table = getattr(indices, "constructs", indices)
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
        return cls(
            ipa=getattr(ipa, "constructs", None),
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
        )


    @classmethod
    def from_analysis(cls, analysis: Any) -> Findings:
        """Assemble findings from a :class:`satisfaction.pipeline.Analysis`.

        Reads the IPA, indices, group comparisons and model effects; the
        reliability result (``constructs`` with alpha/omega/cr/ave,
        ``htmt_pairs``); and, when transactions were analysed, the RFM result
        (segment and value-group summaries, value = revenue), the lifecycle
        stages (value = the customers' monetary total) and a CLV result whose
        ``data`` holds ``p_alive`` and ``clv`` per customer.
        """
        sem = getattr(analysis, "sem", None)
        sat = getattr(analysis, "satisfaction", None) or "Sat"
        loy = getattr(analysis, "loyalty", None) or "Loy"
        rel = getattr(analysis, "reliability", None)
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
        return cls.from_results(
            ipa=getattr(analysis, "ipa", None), indices=getattr(analysis, "indices", None),
            compare=getattr(analysis, "compare", None),
            effects=getattr(sem, "effects", None), reliability=reliability, htmt=htmt,
            segments=segments, lifecycle=lifecycle, customers=customers, sat=sat, loy=loy,
        )


# -- rule schema -------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RuleText(_Strict):
    """Reader-facing text; Chinese falls back to English when absent."""

    en: str
    zh: str | None = None

    def get(self, lang: str) -> str:
        return self.zh if lang == "zh" and self.zh else self.en


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
    """One strategy rule."""

    id: str
    stage: str | None = None
    when: Condition
    weight: float = Field(default=1.0, gt=0)
    title: RuleText
    action: RuleText
    rationale: RuleText
    source: str | None = None

    _text = field_validator("title", "action", "rationale", mode="before")(
        lambda v: {"en": v} if isinstance(v, str) else v
    )


class _RuleFile(_Strict):
    version: int = 1
    rules: list[Rule]


def _lines(node: yaml.Node, path: tuple[Any, ...], out: dict[tuple[Any, ...], int]) -> None:
    out.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            out[(*path, key.value)] = key.start_mark.line + 1
            _lines(value, (*path, key.value), out)
    elif isinstance(node, yaml.SequenceNode):
        for i, child in enumerate(node.value):
            _lines(child, (*path, i), out)


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
    try:
        node = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise SchemaError("not valid YAML", file=str(path),
                          line=mark.line + 1 if mark else None) from None
    if not isinstance(data, dict):
        raise SchemaError("expected a mapping with a 'rules' list", file=str(path))
    try:
        parsed = _RuleFile.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        lines: dict[tuple[Any, ...], int] = {}
        if node is not None:
            _lines(node, (), lines)
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
    """One recommended action, with the numbers that triggered it."""

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
    #: the rule's unfilled texts (``title``/``action``/``rationale`` → language → text), so
    #: that a report can fill them again with reader-facing names (see :func:`fill`)
    templates: dict[str, dict[str, str]] = field(default_factory=dict, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "id": self.id,
            "rule": self.rule,
            "condition": self.condition,
            "subject": self.subject,
            "stage": self.stage,
            "priority": _clean(self.priority),
            "title": self.title,
            "action": self.action,
            "rationale": self.rationale,
            "evidence": {k: _clean(v) for k, v in self.evidence.items()},
        }


@dataclass
class RecommendationResult:
    """Ranked recommendations.

    Attributes
    ----------
    recommendations : list of Recommendation
        Rank order (1 = most urgent).
    rules_evaluated : int
    """

    recommendations: list[Recommendation] = field(default_factory=list)
    rules_evaluated: int = 0

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
            "recommendations": [r.to_dict() for r in self.recommendations],
        }


def _clean(value: Any) -> Any:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if not math.isfinite(float(value)) else float(value)
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_.]*)(?::(\.\d+[f%]))?\}")


def fill(text: str, values: Mapping[str, Any]) -> str:
    """Replace ``{name}``, ``{name:.1f}`` or ``{name:.0%}`` with evidence values.

    Only named look-ups and these two formats are understood: nothing in a rule
    file is evaluated. A name without a value becomes ``n/a``.
    """

    def sub(m: re.Match[str]) -> str:
        if m.group(1) not in values:
            return m.group(0)
        value = values[m.group(1)]
        if value is None:
            return "n/a"
        if m.group(2) and isinstance(value, (int, float, np.number)):
            return format(float(value), m.group(2))
        return str(value)

    return _PLACEHOLDER.sub(sub, text)


_fill = fill


def _matches_construct(cond: Condition, construct: str, stage: str | None) -> bool:
    if cond.constructs is not None and construct not in cond.constructs:
        return False
    if construct in cond.exclude:
        return False
    return not (cond.stage is not None and stage != cond.stage)


def _importance(findings: Findings, construct: str) -> float | None:
    if findings.ipa is None or findings.ipa.empty:
        return None
    row = findings.ipa[findings.ipa["construct"] == construct]
    return None if row.empty else float(row["importance"].iloc[0])


def _hits(rule: Rule, f: Findings) -> list[tuple[str, str | None, float, dict[str, Any]]]:
    """(subject, stage, priority, evidence) for each match of the rule."""
    c = rule.when
    w = rule.weight
    out: list[tuple[str, str | None, float, dict[str, Any]]] = []
    if c.type == "quadrant":
        table = f.ipa if c.level == "construct" else f.ipa_items
        if table is None:
            return out
        for _, r in table.iterrows():
            construct = str(r["construct"])
            stage = r.get("stage") if "stage" in r.index else _stage_of(f, construct)
            if r["quadrant"] != c.quadrant or not _matches_construct(c, construct, stage):
                continue
            subject = construct if c.level == "construct" else str(r["item"])
            gap = 100.0 - float(r["performance"])
            out.append((subject, stage, w * float(r["importance"]) * gap, {
                "target": f.target, "construct": construct, "importance": r["importance"],
                "performance": r["performance"], "gap": gap, "quadrant": r["quadrant"],
                "mean.importance": r.get("mean.importance"),
                "mean.performance": r.get("mean.performance"),
            }))
    elif c.type == "index_below":
        if f.indices is None:
            return out
        for _, r in f.indices.iterrows():
            construct = str(r["construct"])
            stage = r.get("stage")
            if not _matches_construct(c, construct, stage) or not r["index"] < c.threshold:
                continue
            imp = _importance(f, construct)
            gap = float(c.threshold - r["index"])
            out.append((construct, stage, w * (1.0 if imp is None else imp) * gap, {
                "construct": construct, "index": r["index"], "threshold": c.threshold,
                "gap": gap, "importance": imp,
            }))
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
            out.append((f"{construct}|{r['by']}|{r['test']}", _stage_of(f, construct), w * gap, {
                "construct": construct, "by": r["by"], "test": r["test"],
                "statistic": r["statistic"], "pvalue": r["pvalue"],
                "pvalue.adjusted": p, "effect": r["effect"], "effect.size": r["effect.size"],
                "highest": hi, "highest.mean": means[hi], "lowest": lo,
                "lowest.mean": means[lo], "gap": gap,
            }))
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
            out.append((construct, _stage_of(f, construct),
                        w * 100.0 * (c.threshold - value),
                        {"construct": construct, "measure": c.measure, "value": value,
                         "threshold": c.threshold}))
    elif c.type == "weak_discriminant":
        if f.htmt is None:
            return out
        for _, r in f.htmt.iterrows():
            if not r["htmt"] > c.threshold:
                continue
            out.append((f"{r['a']}|{r['b']}", None, w * 100.0 * (r["htmt"] - c.threshold),
                        {"a": r["a"], "b": r["b"], "htmt": r["htmt"],
                         "threshold": c.threshold}))
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
            out.append((str(r[key]), None, w * 100.0 * share, {
                key: r[key], "n": int(r["n"]), "value": r["value"], "value.share": share,
                "customers": int(whole["n"].sum()),
            }))
    elif c.type == "churn_risk":
        cust = f.customers
        if cust is None or cust.empty:
            return out
        cut = float(cust["value"].quantile(c.value_quantile))
        risky = cust[(cust["value"] >= cut) & (cust["p_alive"] < c.max_p_alive)]
        total = float(cust["value"].sum())
        if len(risky) >= c.min_count:
            share = float(risky["value"].sum()) / total if total > 0 else 0.0
            out.append(("valuable_customers", None, w * 100.0 * share, {
                "n.at_risk": len(risky), "value.at_risk": float(risky["value"].sum()),
                "value.share": share, "value.cutoff": cut, "max_p_alive": c.max_p_alive,
                "mean.p_alive": float(risky["p_alive"].mean()),
            }))
    elif c.type == "sat_not_loyalty":
        link = f.sat_loyalty
        if not link:
            return out
        gap = link["sat_index"] - link["loy_index"]
        effect = link.get("effect")
        by_gap = c.min_gap is not None and gap >= c.min_gap
        by_effect = c.max_effect is not None and effect is not None and effect < c.max_effect
        if by_gap or by_effect:
            score = max(gap if by_gap else 0.0,
                        100.0 * (c.max_effect - effect) if by_effect else 0.0)
            out.append((f"{link['sat']}->{link['loy']}", "outcome", w * score, {
                "sat_index": link["sat_index"], "loy_index": link["loy_index"],
                "gap": gap, "effect": effect, "min_gap": c.min_gap, "max_effect": c.max_effect,
            }))
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


def recommend(
    findings: Findings,
    rules: Sequence[Rule] | None = None,
    extra_rules: Iterable[str | Path | Rule | Sequence[Rule]] = (),
    lang: str | None = None,
) -> RecommendationResult:
    """Evaluate the rules against the findings and rank the recommendations.

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
        Ranked by priority, descending; ties by rule id, then subject.
    """
    if lang not in (None, "en", "zh"):
        raise UsageError("language must be 'en' or 'zh'", column="lang", value=lang)
    rule_set = _rule_set(rules, extra_rules)
    recs: list[Recommendation] = []
    for rule in rule_set:
        for subject, stage, priority, evidence in _hits(rule, findings):
            values = {k: _clean(v) for k, v in evidence.items()}
            values["subject"] = subject
            recs.append(
                Recommendation(
                    id=f"{rule.id}:{subject}",
                    rule=rule.id,
                    condition=rule.when.type,
                    subject=subject,
                    stage=rule.stage or stage,
                    priority=float(priority),
                    title={lg: _fill(rule.title.get(lg), values) for lg in ("en", "zh")},
                    action={lg: _fill(rule.action.get(lg), values) for lg in ("en", "zh")},
                    rationale={lg: _fill(rule.rationale.get(lg), values) for lg in ("en", "zh")},
                    evidence=evidence,
                    templates={part: {lg: getattr(rule, part).get(lg) for lg in ("en", "zh")}
                               for part in ("title", "action", "rationale")},
                )
            )
    recs.sort(key=lambda r: (-round(r.priority, 10), r.rule, r.subject))
    for i, r in enumerate(recs, start=1):
        r.rank = i
    return RecommendationResult(recommendations=recs, rules_evaluated=len(rule_set))
