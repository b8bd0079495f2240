"""Satisfaction indices on 0-100 and importance-performance analysis (IPA).

Indices
-------
Every item score is rescaled to 0-100 with its scale's bounds,

.. math:: y_{ij} = 100 \\, (x_{ij} - \\min_j) / (\\max_j - \\min_j),

and a construct's score is the weighted mean of its indicators,
:math:`s_{ic} = \\sum_j w_j y_{ij} / \\sum_{j \\in obs(i)} w_j` (a respondent's
missing items drop out and the weights of the answered ones are renormalised).
A higher-order construct (a CRAM purchase stage) is scored from its children's
scores the same way. The *outer weights* are the standardized loadings
normalised to sum to one within the construct, :math:`w_j = \\lambda_j /
\\sum_k \\lambda_k`, as the ACSI does with its (PLS) weights (Fornell, Johnson,
Anderson, Cha & Bryant 1996, J. Marketing 60(4), 7-18). Without loadings the
weights are equal.

The index of a construct is the mean score over respondents with the 95%
t-interval :math:`\\bar s \\pm t_{0.975, n-1} \\, sd / \\sqrt n`, tested against
R's ``t.test(x)$conf.int``. A purchase stage's index is the index of the
stage's top-level construct (the higher-order construct in CRAM), or the equally
weighted mean of the top-level constructs of that stage when there are several
(ECSI: image and expectations are both pre-sale).

Importance-performance
----------------------
The drivers of a target are the first-order constructs under every construct
with a structural path to it (a higher-order antecedent, a CRAM purchase stage,
is replaced by its first-order dimensions). The importance of a first-order
dimension is its **Shapley share of R²** (LMG: Lindeman, Merenda & Gold 1980;
Grömping 2006) in the regression of the target's score on the scores of all
the driver dimensions, with a percentile bootstrap interval
(:mod:`satisfaction.importance`); Johnson's (2000) relative weight is shown
beside it. A construct that itself has a structural path to the target keeps
its standardized total effect, with the interval of the same measure, unless
the structural model is marked invalid (then it gets the Shapley share too).
The column ``importance.method`` says which. Items get importance = their
standardized loading × their construct's importance. Performance is the 0-100
index with its t-interval. Quadrants are split at the means of importance
(within each ``importance.method``) and of performance (Martilla & James 1977,
J. Marketing 41(1), 77-79), and a quadrant is called only when both of the
point's intervals lie clear of their mean lines; otherwise it is
``undetermined``:

* ``concentrate_here``  importance above the mean, performance below
* ``keep_up``           importance above, performance above
* ``low_priority``      importance below, performance below
* ``possible_overkill`` importance below, performance above

A purchase stage's importance is the sum of its dimensions' Shapley shares,
with the percentile interval of that sum over the same bootstrap draws; its
performance is the stage index.

With respondent weights every row of the map is weighted: performance (construct,
stage and item rows) is the weighted mean of the respondents' 0-100 scores with the
design-based SE of R survey's ``svymean`` and a normal interval
(:func:`satisfaction.weights.weighted_performance`), the Shapley shares come from the
weighted correlations, the paired intervals are weighted means, and an item's loading
is the weighted fit's (lavaan's ``sampling.weights``, or weighted PLS). Tested against
``tests/reference/ipa_weights_survey.R`` (``svymean``, ``lm(weights =)``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from satisfaction.diagnostics import Diagnostic, status
from satisfaction.errors import InputError
from satisfaction.importance import MAX_SHAPLEY, ImportanceResult, driver_importance
from satisfaction.io import records
from satisfaction.questionnaire import Questionnaire

PURCHASE_STAGES: tuple[str, ...] = ("pre_sale", "in_sale", "post_sale")
QUADRANTS: tuple[str, ...] = ("concentrate_here", "keep_up", "low_priority", "possible_overkill")


def _num(value: Any) -> float | None:
    """A plain float for JSON, ``None`` for NaN/None."""
    if value is None:
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return None if not np.isfinite(out) else out


# -- outer weights -------------------------------------------------------------


def _indicators(questionnaire: Questionnaire, construct_id: str) -> list[str]:
    c = questionnaire.construct(construct_id)
    if c.items:
        return [item.id for item in c.items]
    return [child.id for child in questionnaire.children(construct_id)]


def loadings_from_parameters(parameters: pd.DataFrame) -> dict[tuple[str, str], float]:
    """Standardized loadings ``{(construct, indicator): std.all}`` from a lavaan-style table."""
    rows = parameters[parameters["op"] == "=~"]
    column = "std.all" if "std.all" in rows.columns else "est"
    return {(str(r.lhs), str(r.rhs)): float(r[column]) for _, r in rows.iterrows()}


def outer_weights(
    questionnaire: Questionnaire,
    loadings: pd.DataFrame | Mapping[Any, float] | None = None,
) -> pd.DataFrame:
    """Outer weights of every construct's indicators.

    .. math:: w_j = \\lambda_j / \\sum_{k \\in c} \\lambda_k

    Parameters
    ----------
    questionnaire : Questionnaire
    loadings : DataFrame or mapping, optional
        A parameter table (lavaan columns ``lhs op rhs std.all``; ``=~`` rows are
        used), or a mapping keyed by ``(construct, indicator)`` or by indicator.
        ``None`` gives equal weights. A non-positive or missing loading gets
        weight 0 (a reverse-coded item should load positively); if no
        indicator of a construct has a positive loading the weights fall back
        to equal and a warning is recorded.

    Returns
    -------
    DataFrame
        Columns ``construct indicator loading weight note``.
    """
    if isinstance(loadings, pd.DataFrame):
        table: Mapping[Any, float] | None = loadings_from_parameters(loadings)
    else:
        table = loadings
    rows = []
    for c in questionnaire.constructs:
        names = _indicators(questionnaire, c.id)
        if not names:
            continue
        lam = [np.nan] * len(names) if table is None else [_lookup(table, c.id, n) for n in names]
        raw = np.array([x if (x is not None and np.isfinite(x) and x > 0) else 0.0 for x in lam])
        note = ""
        if table is None:
            raw = np.ones(len(names))
            note = "equal weights (no loadings given)"
        elif raw.sum() <= 0:
            raw = np.ones(len(names))
            note = "equal weights (no positive loading)"
        weights = raw / raw.sum()
        for name, value, weight in zip(names, lam, weights, strict=True):
            rows.append(
                {
                    "construct": c.id,
                    "indicator": name,
                    "loading": np.nan if value is None else value,
                    "weight": float(weight),
                    "note": note,
                }
            )
    return pd.DataFrame(rows, columns=["construct", "indicator", "loading", "weight", "note"])


def _lookup(table: Mapping[Any, float], construct: str, indicator: str) -> float | None:
    if (construct, indicator) in table:
        return float(table[(construct, indicator)])
    if indicator in table:
        return float(table[indicator])
    return None


# -- scores ------------------------------------------------------------------


def item_scores(questionnaire: Questionnaire, data: pd.DataFrame) -> pd.DataFrame:
    """Items rescaled to 0-100: ``100 (x - min) / (max - min)`` with the item's scale bounds."""
    out = {}
    for item in questionnaire.items:
        if item.id not in data.columns:
            raise InputError(
                "item column missing from the responses", column=item.id, value=None
            )
        scale = questionnaire.item_scale(item)
        x = pd.to_numeric(data[item.id], errors="coerce").astype(float)
        out[item.id] = 100.0 * (x - scale.min) / (scale.max - scale.min)
    return pd.DataFrame(out, index=data.index)


def construct_scores(
    questionnaire: Questionnaire,
    data: pd.DataFrame,
    weights: pd.DataFrame | Mapping[Any, float] | None = None,
) -> pd.DataFrame:
    """Per-respondent construct scores on 0-100.

    .. math:: s_{ic} = \\sum_{j \\in obs(i)} w_j y_{ij} / \\sum_{j \\in obs(i)} w_j

    Parameters
    ----------
    questionnaire : Questionnaire
    data : DataFrame
        Responses indexed by respondent, one column per item id (reverse items
        already recoded).
    weights : DataFrame or mapping, optional
        Either the output of :func:`outer_weights` (columns ``construct
        indicator weight``), a lavaan parameter table (``=~`` rows with
        ``std.all``), or a mapping of loadings; ``None`` gives equal weights.

    Returns
    -------
    DataFrame
        Indexed like ``data``, one column per construct (first-order first,
        then higher-order), NaN for a respondent who answered none of the items.
    """
    w = _weights_table(questionnaire, weights)
    items = item_scores(questionnaire, data)
    scores: dict[str, pd.Series] = {}
    pending = [c.id for c in questionnaire.first_order] + [c.id for c in questionnaire.higher_order]
    # Higher-order constructs need their children's scores first: resolve in rounds.
    while pending:
        progressed = False
        for cid in list(pending):
            part = w[w["construct"] == cid]
            names = list(part["indicator"])
            source = {n: items[n] if n in items.columns else scores.get(n) for n in names}
            if any(v is None for v in source.values()):
                continue
            values = pd.DataFrame(source, index=data.index)
            wt = part["weight"].to_numpy(dtype=float)
            answered = values.notna().to_numpy()
            num = np.nansum(values.to_numpy(dtype=float) * wt, axis=1)
            den = (answered * wt).sum(axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                scores[cid] = pd.Series(np.where(den > 0, num / den, np.nan), index=data.index)
            pending.remove(cid)
            progressed = True
        if not progressed:
            raise InputError(f"constructs without indicators: {', '.join(pending)}")
    order = [c.id for c in questionnaire.constructs if c.id in scores]
    return pd.DataFrame({cid: scores[cid] for cid in order}, index=data.index)


def _weights_table(
    questionnaire: Questionnaire, weights: pd.DataFrame | Mapping[Any, float] | None
) -> pd.DataFrame:
    if isinstance(weights, pd.DataFrame) and {"construct", "indicator", "weight"} <= set(
        weights.columns
    ):
        return weights
    return outer_weights(questionnaire, weights)


# -- indices -----------------------------------------------------------------


def mean_interval(x: pd.Series | np.ndarray, level: float = 0.95) -> dict[str, float]:
    """Mean with its t-interval, as R's ``t.test(x, conf.level=level)``.

    .. math:: \\bar x \\pm t_{(1+level)/2,\\, n-1}\\, s/\\sqrt n
    """
    v = np.asarray(pd.Series(x).dropna(), dtype=float)
    n = len(v)
    if n == 0:
        return {"index": np.nan, "se": np.nan, "ci.lower": np.nan, "ci.upper": np.nan, "n": 0}
    mean = float(v.mean())
    if n < 2:
        return {"index": mean, "se": np.nan, "ci.lower": np.nan, "ci.upper": np.nan, "n": n}
    se = float(v.std(ddof=1) / np.sqrt(n))
    half = float(stats.t.ppf((1 + level) / 2, n - 1)) * se
    return {"index": mean, "se": se, "ci.lower": mean - half, "ci.upper": mean + half, "n": n}


def top_level_of_stage(questionnaire: Questionnaire, stage: str) -> list[str]:
    """Constructs of a stage whose parent (if any) belongs to another stage."""
    out = []
    for c in questionnaire.constructs:
        if c.stage != stage:
            continue
        if c.parent is None or questionnaire.stage_of(c.parent) != stage:
            out.append(c.id)
    return out


@dataclass
class IndexResult:
    """Satisfaction indices (0-100).

    Attributes
    ----------
    constructs : DataFrame
        ``construct name stage level index se ci.lower ci.upper n``.
    stages : DataFrame
        ``stage constructs index se ci.lower ci.upper n`` for the purchase stages present.
    items : DataFrame
        ``item construct index se ci.lower ci.upper n`` (item performance).
    weights : DataFrame
        ``construct indicator loading weight note`` (the outer weights used).
    scores : DataFrame
        Per-respondent construct scores (and stage scores, ``stage:<id>``).
    item_scores : DataFrame or None
        Per-respondent item scores on 0-100 (:func:`item_scores`), from which the
        item rows are computed (and weighted, :func:`satisfaction.weights.weighted_performance`).
    """

    constructs: pd.DataFrame
    stages: pd.DataFrame
    items: pd.DataFrame
    weights: pd.DataFrame
    scores: pd.DataFrame = field(repr=False)
    level: float = 0.95
    item_scores: pd.DataFrame | None = field(default=None, repr=False)

    def index_of(self, construct: str) -> float:
        """The index of one construct."""
        row = self.constructs[self.constructs["construct"] == construct]
        if row.empty:
            raise KeyError(construct)
        return float(row["index"].iloc[0])

    def to_dict(self) -> dict[str, Any]:
        """JSON contract: constructs, stages, items and weights as lists of records."""
        return {
            "level": self.level,
            "constructs": records(self.constructs),
            "stages": records(self.stages),
            "items": records(self.items),
            "weights": records(self.weights),
        }


def indices(
    questionnaire: Questionnaire,
    data: pd.DataFrame,
    loadings: pd.DataFrame | Mapping[Any, float] | None = None,
    level: float = 0.95,
) -> IndexResult:
    """Satisfaction indices on 0-100 per construct, per purchase stage and per item.

    Parameters
    ----------
    questionnaire : Questionnaire
    data : DataFrame
        Responses (item ids as columns, reverse items recoded).
    loadings : DataFrame or mapping, optional
        Standardized loadings (a lavaan-style parameter table, or a mapping) that
        become the outer weights; ``None`` gives equal weights.
    level : float
        Confidence level of the t-interval (tested against R's ``t.test``).

    Returns
    -------
    IndexResult

    Examples
    --------
    >>> from satisfaction.simulate import simulate_demo
    >>> from satisfaction.responses import load_responses
    >>> demo = simulate_demo(n_respondents=300, n_customers=50, seed=1)
    >>> q, data = demo.questionnaire, load_responses(demo.questionnaire, demo.responses).data
    >>> res = indices(q, data)
    >>> print(res.constructs[["construct", "index", "ci.lower", "ci.upper"]].head(3).round(1)
    ...       .to_string())
      construct  index  ci.lower  ci.upper
    0   PreSale   64.1      62.4      65.7
    1    InSale   63.2      61.8      64.7
    2  PostSale   58.7      57.1      60.2
    """
    weights = outer_weights(questionnaire, loadings)
    scores = construct_scores(questionnaire, data, weights)
    rows = []
    for c in questionnaire.constructs:
        if c.id not in scores.columns:
            continue
        rows.append(
            {
                "construct": c.id,
                "name": c.name.en,
                "stage": c.stage,
                "level": "first_order" if c.items else "higher_order",
                **mean_interval(scores[c.id], level),
            }
        )
    constructs = pd.DataFrame(rows)
    stage_rows = []
    for stage in PURCHASE_STAGES:
        tops = [t for t in top_level_of_stage(questionnaire, stage) if t in scores.columns]
        if not tops:
            continue
        # equal weights across a stage's top-level constructs (see module docstring)
        stage_score = scores[tops].mean(axis=1, skipna=True)
        scores[f"stage:{stage}"] = stage_score
        stage_rows.append({"stage": stage, "constructs": ",".join(tops),
                           **mean_interval(stage_score, level)})
    stages = pd.DataFrame(
        stage_rows, columns=["stage", "constructs", "index", "se", "ci.lower", "ci.upper", "n"]
    )
    items = item_scores(questionnaire, data)
    of = questionnaire.construct_of_item()
    item_rows = [
        {"item": i, "construct": of[i], **mean_interval(items[i], level)} for i in items.columns
    ]
    return IndexResult(
        constructs=constructs,
        stages=stages,
        items=pd.DataFrame(item_rows),
        weights=weights,
        scores=scores,
        level=level,
        item_scores=items,
    )


# -- importance-performance ----------------------------------------------------

#: How a driver's importance was measured (column ``importance.method``).
METHODS: tuple[str, ...] = ("shapley", "relative_weight", "total_effect")
#: Every quadrant, including the one called when an interval straddles a mean line.
ALL_QUADRANTS: tuple[str, ...] = (*QUADRANTS, "undetermined")
DRIVER_COLUMNS: list[str] = [
    "construct", "stage", "parent", "importance", "importance.ci.lower", "importance.ci.upper",
    "importance.method", "shapley.share", "relative_weight.share", "r", "beta", "sign",
    "performance", "performance.ci.lower", "performance.ci.upper", "performance.diff",
    "performance.diff.ci.lower", "performance.diff.ci.upper"]
ITEM_COLUMNS: list[str] = [
    "item", "construct", "loading", "importance", "importance.ci.lower", "importance.ci.upper",
    "importance.method", "performance", "performance.ci.lower", "performance.ci.upper"]


def quadrant(importance: float, performance: float, mean_imp: float, mean_perf: float) -> str:
    """IPA quadrant of one point, splitting at the means (ties count as high)."""
    high_imp = importance >= mean_imp
    high_perf = performance >= mean_perf
    if high_imp:
        return "keep_up" if high_perf else "concentrate_here"
    return "possible_overkill" if high_perf else "low_priority"


def _side(lower: float, upper: float, mean: float) -> bool | None:
    """``True`` above the mean line, ``False`` below, ``None`` when the interval holds it."""
    if not (np.isfinite(lower) and np.isfinite(upper)):
        return None
    if lower > mean:
        return True
    if upper < mean:
        return False
    return None


def quadrant_with_intervals(imp: tuple[float, float], perf: tuple[float, float],
                            mean_imp: float, mean_perf: float) -> str:
    """IPA quadrant called only when both intervals lie clear of their mean lines.

    ``imp`` and ``perf`` are ``(lower, upper)`` interval bounds. On each axis the
    point is *high* when its interval lies wholly above the mean line and *low*
    when it lies wholly below; if either interval contains its mean line (or is
    missing) the quadrant is ``"undetermined"``.
    """
    hi_imp = _side(imp[0], imp[1], mean_imp)
    hi_perf = _side(perf[0], perf[1], mean_perf)
    if hi_imp is None or hi_perf is None:
        return "undetermined"
    if hi_imp:
        return "keep_up" if hi_perf else "concentrate_here"
    return "possible_overkill" if hi_perf else "low_priority"


def _add_quadrants(frame: pd.DataFrame) -> pd.DataFrame:
    """Quadrants at the means; importance means are taken within each ``importance.method``
    (a share of R² and a standardized effect are not on one scale)."""
    frame = frame.copy()
    if frame.empty:
        for col in ("quadrant", "quadrant.point", "mean.importance", "mean.performance", "gap"):
            frame[col] = []
        return frame
    method = frame["importance.method"] if "importance.method" in frame.columns else \
        pd.Series("total_effect", index=frame.index)
    mi = frame.groupby(method)["importance"].transform("mean").astype(float)
    mp = float(frame["performance"].mean())
    nan = pd.Series(np.nan, index=frame.index)
    lo_i, hi_i = frame.get("importance.ci.lower", nan), frame.get("importance.ci.upper", nan)
    lo_p, hi_p = frame.get("performance.ci.lower", nan), frame.get("performance.ci.upper", nan)
    if "performance.diff.ci.lower" in frame.columns:
        # the interval of the within-respondent difference from the mean, placed on the line
        paired = frame["performance.diff.ci.lower"].notna()
        lo_p = lo_p.where(~paired, mp + frame["performance.diff.ci.lower"])
        hi_p = hi_p.where(~paired, mp + frame["performance.diff.ci.upper"])
    frame["quadrant"] = [
        quadrant_with_intervals((float(a), float(b)), (float(c), float(d)), m, mp)
        for a, b, c, d, m in zip(lo_i, hi_i, lo_p, hi_p, mi, strict=True)]
    frame["quadrant.point"] = [
        quadrant(i, p, m, mp)
        for i, p, m in zip(frame["importance"], frame["performance"], mi, strict=True)]
    frame["mean.importance"] = mi
    frame["mean.performance"] = mp
    frame["gap"] = 100.0 - frame["performance"]
    return frame


def total_effects_on(effects: pd.DataFrame, target: str) -> dict[str, float]:
    """Standardized total effects on ``target`` (``std.total``, else ``total``)."""
    column = "std.total" if "std.total" in effects.columns else "total"
    rows = effects[(effects["to"] == target) & (effects["from"] != target)]
    out = {}
    for _, r in rows.iterrows():
        value = _num(r[column])
        if value is not None and value != 0:
            out[str(r["from"])] = value
    return out


def _effect_intervals(effects: pd.DataFrame, target: str, column: str
                      ) -> dict[str, tuple[float, float]]:
    """Bootstrap interval of each total effect on ``target``, of the same measure as the
    estimate (``std.total.ci.lower`` beside ``std.total``, ``total.ci.lower`` beside
    ``total``): never the unstandardized interval beside a standardized effect."""
    lo, hi = f"{column}.ci.lower", f"{column}.ci.upper"
    if lo not in effects.columns or hi not in effects.columns:
        return {}
    rows = effects[(effects["to"] == target) & (effects["from"] != target)]
    return {str(r["from"]): (float(r[lo]), float(r[hi])) for _, r in rows.iterrows()
            if _num(r[lo]) is not None and _num(r[hi]) is not None}


def antecedents(questionnaire: Questionnaire, target: str) -> list[str]:
    """Constructs with a directed structural path to ``target`` (questionnaire order)."""
    parents: dict[str, set[str]] = {}
    for reg in questionnaire.regressions:
        parents.setdefault(reg.lhs, set()).update(reg.rhs)
    found: set[str] = set()
    todo = [target]
    while todo:
        for p in parents.get(todo.pop(), ()):
            if p not in found and p != target:
                found.add(p)
                todo.append(p)
    return [c.id for c in questionnaire.constructs if c.id in found]


def _first_order_under(questionnaire: Questionnaire, cid: str, parent: str | None
                       ) -> list[tuple[str, str | None]]:
    """``(first-order construct, parent)`` pairs under ``cid`` (``cid`` if it is first-order)."""
    kids = questionnaire.children(cid)
    if not kids:
        return [(cid, parent)]
    return [pair for kid in kids for pair in _first_order_under(questionnaire, kid.id, cid)]


@dataclass
class IPAResult:
    """Importance-performance analysis for one target.

    Attributes
    ----------
    target : str
    constructs : DataFrame
        One row per driver: ``construct stage parent importance importance.ci.lower
        importance.ci.upper importance.method shapley.share relative_weight.share r beta
        sign performance performance.ci.lower performance.ci.upper performance.diff
        performance.diff.ci.lower performance.diff.ci.upper quadrant quadrant.point
        mean.importance mean.performance gap``. ``performance.diff`` is the
        within-respondent difference from the mean of the drivers with its
        t-interval (paired: the same respondents rate every driver). ``importance.method`` is
        ``shapley`` (share of R², the default for first-order dimensions),
        ``relative_weight`` (more than :data:`satisfaction.importance.MAX_SHAPLEY`
        dimensions) or ``total_effect`` (standardized total effect of a construct
        with structural paths from an admissible model). ``quadrant`` is called
        from the intervals (``undetermined`` when one holds its mean line);
        ``quadrant.point`` is the quadrant of the point estimates alone.
    items : DataFrame
        ``item construct loading importance importance.ci.lower importance.ci.upper
        importance.method performance performance.ci.lower performance.ci.upper quadrant
        quadrant.point mean.importance mean.performance gap``.
    stages : DataFrame
        ``stage constructs importance ci.lower ci.upper importance.method total_effect
        performance performance.ci.lower performance.ci.upper rank``: which purchase
        stage drives the target most (rank 1 = largest share of R²); performance is
        the stage index with its interval.
    importance_column : str
        ``shapley.share``, ``relative_weight.share``, ``std.total`` (or ``total``),
        or ``mixed`` when rows use different measures.
    decomposition : ImportanceResult or None
        The relative-importance analysis of the target on the first-order dimensions.
    warnings : list of Diagnostic
    """

    target: str
    constructs: pd.DataFrame
    items: pd.DataFrame
    stages: pd.DataFrame
    importance_column: str = "std.total"
    decomposition: ImportanceResult | None = None
    warnings: list[Diagnostic] = field(default_factory=list)

    @property
    def top_stage(self) -> str | None:
        """The purchase stage with the largest importance."""
        if self.stages.empty:
            return None
        return str(self.stages.sort_values("rank").iloc[0]["stage"])

    @property
    def status(self) -> str:
        """Gate of the IPA (``ok``, ``caution``, ``invalid``) from its diagnostics."""
        return status(self.warnings)

    def to_dict(self) -> dict[str, Any]:
        """JSON contract of the IPA."""
        return {
            "target": self.target,
            "importance": self.importance_column,
            "constructs": records(self.constructs),
            "items": records(self.items),
            "stages": records(self.stages),
            "top_stage": self.top_stage,
            "decomposition": None if self.decomposition is None
            else self.decomposition.to_dict(),
            "warnings": [d.to_dict() for d in self.warnings],
            "status": self.status,
        }


def ipa(
    questionnaire: Questionnaire,
    indices: IndexResult,
    effects: pd.DataFrame | None = None,
    parameters: pd.DataFrame | None = None,
    target: str | None = None,
    *,
    scores: pd.DataFrame | None = None,
    sem_status: str = "ok",
    bootstrap: int = 1000,
    seed: int = 20261125,
    level: float = 0.95,
    weights: pd.Series | None = None,
) -> IPAResult:
    """Importance-performance analysis of the drivers of ``target``.

    The drivers are the first-order constructs under every construct with a
    structural path to ``target`` (a higher-order antecedent, such as a CRAM
    purchase stage, is replaced by its first-order dimensions).

    Importance
        * First-order dimensions: the **Shapley share of R²** (LMG;
          Lindeman, Merenda & Gold 1980; Grömping 2006) of ``target``'s score
          regressed on the scores of all the driver dimensions,
          :math:`\\mathrm{LMG}_j / R^2`, with its percentile bootstrap interval
          (:func:`satisfaction.importance.driver_importance`). The share is
          chosen over Johnson's relative weight (shown beside it as
          ``relative_weight.share``) because it is the exact decomposition; the
          two agree closely. Unlike loading × stage effect it measures the
          dimension itself, and it holds whatever the structural model did.
        * Constructs that themselves have structural paths to ``target`` keep
          their standardized total effect (``importance.method = total_effect``)
          with the bootstrap interval of the same measure from ``effects``
          (``std.total.ci.lower``/``upper``) — unless ``sem_status`` is
          ``"invalid"`` (or no effects are given), when they get the Shapley
          share like the dimensions.
        * Items: loading × their construct's importance, the interval scaled
          by the same loading (the loading is treated as fixed).

    Performance is the 0-100 index with its t-interval (:func:`mean_interval`).

    Quadrants (Martilla & James 1977) split at the mean performance and at the
    mean importance of the rows measured the same way. A quadrant is called
    only when the point is clear of both mean lines: on the importance axis its
    bootstrap interval excludes the mean (the mean of the Shapley shares is fixed
    at :math:`1/p` when all rows are shares), on the performance axis the
    t-interval of its within-respondent difference from the mean of the drivers
    excludes 0 (the same respondents rate every dimension, so the comparison is
    paired). Otherwise the quadrant is ``undetermined``; ``quadrant.point`` keeps
    the quadrant of the point estimates. Items are judged by their own
    intervals against the mean lines.

    Stages: the importance of a purchase stage is the sum of the Shapley
    shares of its dimensions (Shapley values are additive, so the stages'
    parts add up to the dimensions'), with the percentile interval of that sum
    over the same bootstrap draws; ``total_effect`` beside it is the sum of
    the standardized total effects of the stage's top-level constructs when the
    model is admissible. Stages are ranked by the share, so which stage matters
    most never rests on an inadmissible model's paths.

    Parameters
    ----------
    questionnaire : Questionnaire
    indices : IndexResult
        Performance (0-100) per construct and item, from :func:`indices`.
    effects : DataFrame, optional
        The structural model's effects (``from to ... total std.total`` and,
        when bootstrapped, ``std.total.ci.lower std.total.ci.upper``).
    parameters : DataFrame, optional
        The parameter table (``lhs op rhs ... std.all``) for the item loadings;
        without it the loadings recorded in ``indices.weights`` are used.
    target : str, optional
        The outcome construct; by default the construct the questionnaire declares
        with ``role: satisfaction`` (an InputError when it declares none).
    scores : DataFrame, optional
        Per-respondent construct scores (:func:`construct_scores`); default
        ``indices.scores``.
    sem_status : {"ok", "caution", "invalid"}
        Gate of the structural model (``SEMResult.status``); ``"invalid"``
        replaces total effects by Shapley shares.
    bootstrap, seed, level
        Percentile bootstrap of the decomposition (0 draws: no intervals, so
        every quadrant is undetermined).
    weights : Series, optional
        Respondent weights indexed like ``scores`` (a weighted PLS fit's): the
        Shapley shares and relative weights come from the weighted correlations and
        a bootstrap carrying the weights (:func:`satisfaction.importance.driver_importance`),
        and the paired performance differences are weighted means with the
        design-based SE of R survey's ``svymean`` and a normal interval
        (:func:`satisfaction.weights.weighted_mean`). Respondents without a weight
        are left out (the fit counted them). ``indices`` must then hold the
        weighted performance of the construct, stage and item rows
        (:func:`satisfaction.weights.weighted_performance`;
        :func:`satisfaction.pls_pipeline.pls_indices` for a weighted PLS fit), and
        ``parameters`` (or the loadings in ``indices.weights``) the weighted fit's
        loadings, so that the item rows are weighted too.

    Returns
    -------
    IPAResult
    """
    if target is None:
        target = questionnaire.role("satisfaction")
        if target is None:
            raise InputError("the questionnaire declares no construct with role: "
                             "satisfaction; name the IPA's outcome with target=",
                             file=questionnaire.source, column="target")
    try:
        questionnaire.construct(target)
    except KeyError:
        raise InputError(
            "IPA target is not a construct of the questionnaire", column="target", value=target
        ) from None
    scores = indices.scores if scores is None else scores
    if weights is not None:  # the weighted respondents only
        weights = weights.dropna()
        scores = scores.loc[scores.index.intersection(weights.index)]
        weights = weights.reindex(scores.index)
    if target not in scores.columns:
        raise InputError("no scores for the IPA target", column="target", value=target)
    sem_ok = effects is not None and sem_status != "invalid"
    column = "std.total" if effects is not None and "std.total" in effects.columns else "total"
    totals = total_effects_on(effects, target) if effects is not None else {}
    effect_ci = _effect_intervals(effects, target, column) if effects is not None else {}
    ids = {c.id for c in questionnaire.constructs}
    leads = [a for a in antecedents(questionnaire, target) if a in ids]
    leads += [a for a in totals if a in ids and a not in leads]
    warnings: list[Diagnostic] = []

    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    switched = False
    for cid in leads:
        higher = bool(questionnaire.children(cid))
        for dim, parent in _first_order_under(questionnaire, cid, None):
            if dim in seen or dim not in scores.columns:
                continue
            seen.add(dim)
            method = "shapley"
            if not higher and dim in totals:
                if sem_ok:
                    method = "total_effect"
                else:
                    switched = True
            rows.append({"construct": dim, "stage": questionnaire.stage_of(dim),
                         "parent": parent, "importance.method": method})
    if switched:
        warnings.append(Diagnostic("ipa_sem_not_used", "info", {"target": target},
                                   constructs=("target",)))

    dims = [r["construct"] for r in rows]
    decomposition = None
    if dims:
        exact = len(dims) <= MAX_SHAPLEY
        if not exact:
            warnings.append(Diagnostic("ipa_shapley_too_many", "caution",
                                       {"n": len(dims), "limit": MAX_SHAPLEY}))
        decomposition = driver_importance(scores[target], scores[dims], bootstrap=bootstrap,
                                          seed=seed, level=level, shapley=exact,
                                          weights=weights)
        warnings += decomposition.warnings
        share = "shapley.share" if exact else "relative_weight.share"
        table = decomposition.table.set_index("driver")
        for r in rows:
            t = table.loc[r["construct"]]
            r.update({"shapley.share": t["shapley.share"],
                      "relative_weight.share": t["relative_weight.share"],
                      "r": t["r"], "beta": t["beta"], "sign": int(t["sign"])})
            if r["importance.method"] == "total_effect":
                lo, hi = effect_ci.get(r["construct"], (np.nan, np.nan))
                r.update({"importance": totals[r["construct"]], "importance.ci.lower": lo,
                          "importance.ci.upper": hi})
            else:
                r.update({"importance.method": "shapley" if exact else "relative_weight",
                          "importance": t[share], "importance.ci.lower": t[f"{share}.ci.lower"],
                          "importance.ci.upper": t[f"{share}.ci.upper"]})
    perf = indices.constructs.set_index("construct")
    for r in rows:
        known = r["construct"] in perf.index
        for key, src in (("performance", "index"), ("performance.ci.lower", "ci.lower"),
                         ("performance.ci.upper", "ci.upper")):
            r[key] = float(perf.loc[r["construct"], src]) if known else np.nan
    table = pd.DataFrame(rows, columns=DRIVER_COLUMNS).dropna(subset=["performance"])
    table = _performance_differences(table, scores, level, weights)
    constructs = _add_quadrants(table)
    if "sign" in constructs.columns and len(constructs):
        constructs["sign"] = constructs["sign"].astype("Int64")
    no_ci = int((constructs["importance.ci.lower"].isna()).sum()) if len(constructs) else 0
    if no_ci:
        warnings.append(Diagnostic("ipa_no_interval", "info", {"n": no_ci}))
    undetermined = int((constructs["quadrant"] == "undetermined").sum()) if len(constructs) else 0
    if undetermined and undetermined > no_ci:
        warnings.append(Diagnostic("ipa_undetermined", "info",
                                   {"n": undetermined, "total": len(constructs)}))

    items = _add_quadrants(_item_rows(questionnaire, indices, parameters, constructs))
    stages = _stage_rows(questionnaire, indices, decomposition, totals if sem_ok else {})
    methods = set(constructs["importance.method"]) if len(constructs) else set()
    by_method = {"shapley": "shapley.share", "relative_weight": "relative_weight.share",
                 "total_effect": column}
    importance_column = by_method[methods.pop()] if len(methods) == 1 else (
        "mixed" if methods else column)
    return IPAResult(
        target=target,
        constructs=constructs.reset_index(drop=True),
        items=items.reset_index(drop=True),
        stages=stages,
        importance_column=importance_column,
        decomposition=decomposition,
        warnings=warnings,
    )


def _performance_differences(table: pd.DataFrame, scores: pd.DataFrame, level: float,
                             weights: pd.Series | None = None) -> pd.DataFrame:
    """Each driver's within-respondent difference from the mean of the drivers, with its
    t-interval (:func:`mean_interval`), over the respondents who have every driver's score.

    .. math:: d_{ij} = s_{ij} - \\frac{1}{p}\\sum_k s_{ik},\\qquad
              \\bar d_j \\pm t_{(1+level)/2,\\, n-1}\\, sd(d_j)/\\sqrt n

    The same respondents rate every dimension, so this paired interval (not the
    interval of the dimension's own index) says whether its performance differs from
    the average dimension's. With complete data :math:`\\bar d_j` equals the index
    minus the mean of the indices. With respondent ``weights`` :math:`\\bar d_j` is
    the weighted mean :math:`\\sum w_i d_{ij} / \\sum w_i` with ``svymean``'s
    linearised SE and a normal interval (:func:`satisfaction.weights.weighted_mean`,
    tested against R's survey package); the respondents without every score are a
    domain of the design (``svymean(na.rm = TRUE)``).
    """
    table = table.copy()
    names = [c for c in table["construct"] if c in scores.columns]
    if len(names) < 2:
        return table
    block = scores[names].dropna()
    diff = block.sub(block.mean(axis=1), axis=0)
    if weights is None:
        out = {c: mean_interval(diff[c], level) for c in names}
    else:
        from satisfaction.weights import weighted_mean

        # the respondents without every driver's score stay in the design (a domain,
        # as svymean(na.rm = TRUE)); those without a weight are not in it
        design = diff.reindex(scores.index)
        w = weights.reindex(scores.index).to_numpy(dtype=float)
        out = {}
        for c in names:
            m = weighted_mean(design[c].to_numpy(dtype=float), w, level)
            out[c] = {"index": m["mean"], "ci.lower": m["ci.lower"], "ci.upper": m["ci.upper"]}
    table["performance.diff"] = [out[c]["index"] if c in out else np.nan
                                 for c in table["construct"]]
    table["performance.diff.ci.lower"] = [out[c]["ci.lower"] if c in out else np.nan
                                          for c in table["construct"]]
    table["performance.diff.ci.upper"] = [out[c]["ci.upper"] if c in out else np.nan
                                          for c in table["construct"]]
    return table


def _item_rows(questionnaire: Questionnaire, indices: IndexResult,
               parameters: pd.DataFrame | None, constructs: pd.DataFrame) -> pd.DataFrame:
    """Item importance = loading × construct importance (interval scaled alike)."""
    if parameters is not None:
        loadings = loadings_from_parameters(parameters)
    else:
        w = indices.weights.dropna(subset=["loading"])
        loadings = {(str(r.construct), str(r.indicator)): float(r.loading)
                    for r in w.itertuples()}
    item_perf = indices.items.set_index("item")
    out = []
    for _, row in constructs.iterrows():
        for item in questionnaire.construct(row["construct"]).items:
            lam = loadings.get((row["construct"], item.id))
            if lam is None or not np.isfinite(lam):
                continue
            known = item.id in item_perf.index
            out.append({
                "item": item.id, "construct": row["construct"], "loading": lam,
                "importance": lam * row["importance"],
                "importance.ci.lower": lam * row["importance.ci.lower"],
                "importance.ci.upper": lam * row["importance.ci.upper"],
                "importance.method": row["importance.method"],
                "performance": float(item_perf.loc[item.id, "index"]) if known else np.nan,
                "performance.ci.lower": float(item_perf.loc[item.id, "ci.lower"]) if known
                else np.nan,
                "performance.ci.upper": float(item_perf.loc[item.id, "ci.upper"]) if known
                else np.nan,
            })
    return pd.DataFrame(out, columns=ITEM_COLUMNS)


def _stage_rows(questionnaire: Questionnaire, indices: IndexResult,
                decomposition: ImportanceResult | None, totals: Mapping[str, float]
                ) -> pd.DataFrame:
    """Purchase stages ranked by the summed Shapley share of their dimensions; their
    performance (with its interval) is the stage index of ``indices.stages``."""
    cols = ["stage", "constructs", "importance", "ci.lower", "ci.upper", "importance.method",
            "total_effect", "performance", "performance.ci.lower", "performance.ci.upper",
            "rank"]
    if decomposition is None:
        return pd.DataFrame(columns=cols)
    statistic = "shapley.share" if decomposition.table["shapley.share"].notna().all() \
        else "relative_weight.share"
    groups = {stage: [d for d in decomposition.drivers if questionnaire.stage_of(d) == stage]
              for stage in PURCHASE_STAGES}
    groups = {s: members for s, members in groups.items() if members}
    if not groups:
        return pd.DataFrame(columns=cols)
    parts = decomposition.group_shares(groups, statistic)
    stage_perf = indices.stages.set_index("stage")
    rows = []
    for _, g in parts.iterrows():
        tops = [t for t in top_level_of_stage(questionnaire, g["group"]) if t in totals]
        rows.append({
            "stage": g["group"], "constructs": g["drivers"], "importance": g[statistic],
            "ci.lower": g["ci.lower"], "ci.upper": g["ci.upper"],
            "importance.method": statistic.removesuffix(".share"),
            # the effect of raising the whole stage by one standard deviation
            "total_effect": float(sum(totals[t] for t in tops)) if tops else np.nan,
            **{key: float(stage_perf.loc[g["group"], src]) if g["group"] in stage_perf.index
               else np.nan for key, src in (("performance", "index"),
                                            ("performance.ci.lower", "ci.lower"),
                                            ("performance.ci.upper", "ci.upper"))}})
    stages = pd.DataFrame(rows)
    stages["rank"] = stages["importance"].rank(ascending=False, method="first").astype(int)
    return stages.sort_values("rank").reset_index(drop=True)[cols]
