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
Importance is the standardized total effect of an antecedent on the target
(from the structural model's effects table). A higher-order antecedent is
replaced by its children, each with importance = its standardized loading on
the parent × the parent's importance; items get importance = standardized
loading × their construct's importance (the rule the issue states for items,
applied level by level). Performance is the 0-100 index. Quadrants are split
at the means of importance and of performance over the rows of the table
(Martilla & James 1977, J. Marketing 41(1), 77-79):

* ``concentrate_here``  importance >= mean, performance <  mean
* ``keep_up``           importance >= mean, performance >= mean
* ``low_priority``      importance <  mean, performance <  mean
* ``possible_overkill`` importance <  mean, performance >= mean
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from satisfaction.errors import InputError
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


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of a DataFrame as JSON-ready dicts (numbers as floats, NaN as None)."""
    out = []
    for row in frame.to_dict(orient="records"):
        clean: dict[str, Any] = {}
        for key, value in row.items():
            if isinstance(value, (bool, np.bool_)):
                clean[str(key)] = bool(value)
            elif isinstance(value, (int, np.integer)):
                clean[str(key)] = int(value)
            elif isinstance(value, (int, float, np.integer, np.floating)):
                clean[str(key)] = _num(value)
            elif value is None or (isinstance(value, float) and np.isnan(value)):
                clean[str(key)] = None
            else:
                clean[str(key)] = value
        out.append(clean)
    return out


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
    """

    constructs: pd.DataFrame
    stages: pd.DataFrame
    items: pd.DataFrame
    weights: pd.DataFrame
    scores: pd.DataFrame = field(repr=False)
    level: float = 0.95

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
    >>> res = indices(q, responses.data)              # doctest: +SKIP
    >>> res.constructs[["construct", "index", "ci.lower", "ci.upper"]]  # doctest: +SKIP
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
    )


# -- importance-performance ----------------------------------------------------


def quadrant(importance: float, performance: float, mean_imp: float, mean_perf: float) -> str:
    """IPA quadrant of one point, splitting at the means (ties count as high)."""
    high_imp = importance >= mean_imp
    high_perf = performance >= mean_perf
    if high_imp:
        return "keep_up" if high_perf else "concentrate_here"
    return "possible_overkill" if high_perf else "low_priority"


def _add_quadrants(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    if frame.empty:
        frame["quadrant"] = []
        return frame
    mi = float(frame["importance"].mean())
    mp = float(frame["performance"].mean())
    frame["quadrant"] = [
        quadrant(i, p, mi, mp)
        for i, p in zip(frame["importance"], frame["performance"], strict=True)
    ]
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


@dataclass
class IPAResult:
    """Importance-performance analysis for one target.

    Attributes
    ----------
    target : str
    constructs : DataFrame
        ``construct stage parent importance performance gap quadrant mean.importance
        mean.performance``; rows are the driver constructs (higher-order
        antecedents replaced by their children).
    items : DataFrame
        ``item construct loading importance performance gap quadrant ...``.
    stages : DataFrame
        ``stage importance performance rank``: which purchase stage drives the
        target most (rank 1 = largest importance).
    """

    target: str
    constructs: pd.DataFrame
    items: pd.DataFrame
    stages: pd.DataFrame
    importance_column: str = "std.total"

    @property
    def top_stage(self) -> str | None:
        """The purchase stage with the largest importance."""
        if self.stages.empty:
            return None
        return str(self.stages.sort_values("rank").iloc[0]["stage"])

    def to_dict(self) -> dict[str, Any]:
        """JSON contract of the IPA."""
        return {
            "target": self.target,
            "importance": self.importance_column,
            "constructs": records(self.constructs),
            "items": records(self.items),
            "stages": records(self.stages),
            "top_stage": self.top_stage,
        }


def ipa(
    questionnaire: Questionnaire,
    indices: IndexResult,
    effects: pd.DataFrame,
    parameters: pd.DataFrame,
    target: str = "Sat",
) -> IPAResult:
    """Importance-performance analysis of the drivers of ``target``.

    Parameters
    ----------
    questionnaire : Questionnaire
    indices : IndexResult
        Performance (0-100) per construct and item, from :func:`indices`.
    effects : DataFrame
        The structural model's effects (``from to ... total std.total``).
    parameters : DataFrame
        The parameter table (``lhs op rhs ... std.all``) for the loadings.
    target : str
        The outcome construct (``"Sat"`` by default; ``"Loy"`` for loyalty).

    Returns
    -------
    IPAResult

    Notes
    -----
    importance(child) = std.loading(parent =~ child) × importance(parent),
    importance(item) = std.loading(construct =~ item) × importance(construct).
    """
    try:
        questionnaire.construct(target)
    except KeyError:
        raise InputError(
            "IPA target is not a construct of the questionnaire", column="target", value=target
        ) from None
    column = "std.total" if "std.total" in effects.columns else "total"
    totals = total_effects_on(effects, target)
    loadings = loadings_from_parameters(parameters)
    perf = dict(zip(indices.constructs["construct"], indices.constructs["index"], strict=True))
    item_perf = dict(zip(indices.items["item"], indices.items["index"], strict=True))

    drivers: list[dict[str, Any]] = []

    def expand(cid: str, importance: float, parent: str | None) -> None:
        kids = questionnaire.children(cid)
        if kids:
            for kid in kids:
                lam = loadings.get((cid, kid.id))
                if lam is None:
                    continue
                expand(kid.id, lam * importance, cid)
            return
        drivers.append(
            {
                "construct": cid,
                "stage": questionnaire.stage_of(cid),
                "parent": parent,
                "importance": importance,
                "performance": perf.get(cid, np.nan),
            }
        )

    antecedents = [c.id for c in questionnaire.constructs if c.id in totals]
    for cid in antecedents:
        expand(cid, totals[cid], None)
    cols = ["construct", "stage", "parent", "importance", "performance"]
    constructs = _add_quadrants(pd.DataFrame(drivers, columns=cols).dropna(subset=["performance"]))

    item_rows = []
    for _, row in constructs.iterrows():
        for item in questionnaire.construct(row["construct"]).items:
            lam = loadings.get((row["construct"], item.id))
            if lam is None:
                continue
            item_rows.append(
                {
                    "item": item.id,
                    "construct": row["construct"],
                    "loading": lam,
                    "importance": lam * row["importance"],
                    "performance": item_perf.get(item.id, np.nan),
                }
            )
    items = _add_quadrants(
        pd.DataFrame(
            item_rows, columns=["item", "construct", "loading", "importance", "performance"]
        )
    )

    stage_rows = []
    stage_perf = dict(zip(indices.stages["stage"], indices.stages["index"], strict=True))
    for stage in PURCHASE_STAGES:
        tops = [t for t in top_level_of_stage(questionnaire, stage) if t in totals]
        if not tops:
            continue
        # a stage's importance: the sum of its top-level constructs' total effects,
        # i.e. the effect of raising the whole stage by one standard deviation.
        stage_rows.append(
            {
                "stage": stage,
                "constructs": ",".join(tops),
                "importance": float(sum(totals[t] for t in tops)),
                "performance": stage_perf.get(stage, np.nan),
            }
        )
    stages = pd.DataFrame(
        stage_rows, columns=["stage", "constructs", "importance", "performance"]
    )
    if not stages.empty:
        stages["rank"] = (
            stages["importance"].rank(ascending=False, method="first").astype(int)
        )
        stages = stages.sort_values("rank").reset_index(drop=True)
    else:
        stages["rank"] = []
    return IPAResult(
        target=target,
        constructs=constructs.reset_index(drop=True),
        items=items.reset_index(drop=True),
        stages=stages,
        importance_column=column,
    )
