"""Item-level results: answer distributions, top-2-box and bottom-2-box shares, NPS.

For an item answered by ``n`` respondents on an integer scale ``min..max``
(reverse-worded items already recoded, so the top is always the favourable end):

* **top-k-box** share ``p_top = #{answer ≥ max − k + 1} / n`` and **bottom-k-box**
  share ``p_bottom = #{answer ≤ min + k − 1} / n`` (k = 2 by default);
* the 95 % **Wilson score interval** of ``p_top`` (Wilson 1927),

  .. math:: \\frac{\\hat p + z^2/2n \\pm z\\sqrt{\\hat p(1-\\hat p)/n + z^2/4n^2}}{1 + z^2/n},

  which is R's ``prop.test(x, n, correct = FALSE)$conf.int``;
* the **answer distribution**: the share of each scale point.

The **Net Promoter Score** of an item tagged ``nps: true`` (a 0-10
likelihood-to-recommend question; Reichheld 2003) is
``NPS = 100 · (p_promoters − p_detractors)``, promoters answering 9-10 and
detractors 0-6, with the 95 % Wald interval of a difference of two shares of
one multinomial sample,

.. math:: \\mathrm{SE} = 100 \\sqrt{\\frac{p_P + p_D - (p_P - p_D)^2}{n}}.

Nothing here is fitted; missing answers are left out of ``n`` item by item
(the count left out is the ``missing`` column). Tested against R
(``tests/reference/topbox_reference.R``). We write these few lines ourselves:
no maintained Python package computes box scores per questionnaire item with
their intervals.

With respondent weights (the questionnaire's ``weighting`` or ``weight``) every
share, mean and NPS is the weighted one, as R's ``survey`` with
``svydesign(ids = ~1, weights = ~w)``: shares ``Σ w_i 1[·] / Σ w_i`` over the
respondents who answered, their linearised SE (``svymean``) and the logit interval of
``svyciprop(method = "logit")`` in place of Wilson's; NPS the weighted mean of
``100 (1[promoter] − 1[detractor])`` with its ``svymean`` SE and a normal interval
(:func:`satisfaction.weights.weighted_mean`, :func:`~satisfaction.weights.weighted_share`,
tested against ``tests/reference/survey_weights.R``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from satisfaction.questionnaire import Questionnaire

#: Promoters answer 9-10 and detractors 0-6 on the 0-10 recommendation scale.
NPS_PROMOTER_MIN, NPS_DETRACTOR_MAX = 9, 6


def wilson_interval(successes: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a share (R's ``prop.test(correct = FALSE)``)."""
    if n <= 0:
        return float("nan"), float("nan")
    z = float(stats.norm.ppf(0.5 + level / 2))
    p = successes / n
    centre = p + z * z / (2 * n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    denom = 1 + z * z / n
    return (centre - half) / denom, (centre + half) / denom


def net_promoter(answers: Any, level: float = 0.95) -> dict[str, float]:
    """NPS of 0-10 answers (missing answers left out) with its Wald interval.

    Returns ``n promoters passives detractors nps se ci.lower ci.upper`` (shares
    as fractions, NPS and its interval on -100..100).
    """
    x = pd.to_numeric(pd.Series(answers), errors="coerce").dropna().to_numpy(dtype=float)
    n = len(x)
    if n == 0:
        return {"n": 0, **dict.fromkeys(("promoters", "passives", "detractors", "nps", "se",
                                          "ci.lower", "ci.upper"), float("nan"))}
    pp = float(np.mean(x >= NPS_PROMOTER_MIN))
    pd_ = float(np.mean(x <= NPS_DETRACTOR_MAX))
    nps = 100 * (pp - pd_)
    se = 100 * math.sqrt(max(pp + pd_ - (pp - pd_) ** 2, 0.0) / n)
    z = float(stats.norm.ppf(0.5 + level / 2))
    return {"n": n, "promoters": pp, "passives": 1 - pp - pd_, "detractors": pd_,
            "nps": nps, "se": se, "ci.lower": nps - z * se, "ci.upper": nps + z * se}


@dataclass
class BoxResult:
    """Box scores of every construct item.

    Attributes
    ----------
    items : DataFrame
        Indexed by item id: ``construct n missing top top.ci.lower top.ci.upper
        bottom mean_share`` (shares as fractions), in questionnaire order.
    distribution : DataFrame
        Indexed by item id, one column per scale point (its share of the item's
        answers; the columns are the points of the widest scale, absent points 0).
    nps : DataFrame
        Indexed by item id, the items tagged ``nps: true``: ``n promoters
        passives detractors nps se ci.lower ci.upper``.
    boxes : int
        k of top-k / bottom-k.
    weighted : bool
        True when the respondent weights were applied (``items`` then also has
        ``top.se``, ``mean``, ``mean.se`` and ``n_eff``; the intervals are design-based).
    """

    items: pd.DataFrame
    distribution: pd.DataFrame
    nps: pd.DataFrame
    boxes: int = 2
    weighted: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The ``--json`` of the box scores: each table's rows with their item id."""
        from satisfaction.io import records as rows

        def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
            return [{"item": str(k), **r} for k, r in zip(frame.index, rows(frame), strict=True)]

        return {"boxes": self.boxes, "weighted": self.weighted,
                "items": records(self.items),
                "distribution": records(self.distribution), "nps": records(self.nps)}


def box_scores(questionnaire: Questionnaire, data: pd.DataFrame, boxes: int = 2,
               level: float = 0.95, weights: pd.Series | None = None) -> BoxResult:
    """Top-k-box and bottom-k-box shares, answer distributions and NPS per item.

    Parameters
    ----------
    questionnaire : Questionnaire
    data : DataFrame
        ``Responses.data`` (one column per item id, reverse-worded items recoded).
    boxes : int
        k (2: the two most and the two least favourable answers).
    level : float
        Confidence level of the intervals.
    weights : Series, optional
        Respondent weights indexed by respondent id
        (:attr:`satisfaction.weights.WeightResult.weights`): only the weighted
        respondents count and every figure is weighted (module docstring).

    Returns
    -------
    BoxResult
    """
    if weights is not None:
        return _weighted_box_scores(questionnaire, data, boxes, level, weights)
    owner = questionnaire.construct_of_item()
    rows, dist = [], {}
    points: set[float] = set()
    for item in questionnaire.items:
        if item.id not in data.columns:
            continue
        scale = questionnaire.item_scale(item)
        x = pd.to_numeric(data[item.id], errors="coerce")
        answered = x.dropna().to_numpy(dtype=float)
        n = len(answered)
        top = int(np.sum(answered >= scale.max - boxes + 1))
        bottom = int(np.sum(answered <= scale.min + boxes - 1))
        lo, hi = wilson_interval(top, n, level)
        rows.append({"item": item.id, "construct": owner.get(item.id, ""), "n": n,
                     "missing": int(x.isna().sum()),
                     "top": top / n if n else float("nan"), "top.ci.lower": lo,
                     "top.ci.upper": hi,
                     "bottom": bottom / n if n else float("nan"),
                     "mean_share": (float(answered.mean()) - scale.min)
                     / (scale.max - scale.min) if n else float("nan")})
        values, counts = np.unique(answered, return_counts=True)
        dist[item.id] = {float(v): c / n for v, c in zip(values, counts, strict=True)}
        if scale.integer:
            points.update(float(v) for v in np.arange(scale.min, scale.max + 1))
    items = pd.DataFrame(rows).set_index("item") if rows else pd.DataFrame(
        columns=["construct", "n", "missing", "top", "top.ci.lower", "top.ci.upper",
                 "bottom", "mean_share"])
    cols = sorted(points | {v for d in dist.values() for v in d})
    distribution = pd.DataFrame([[dist[i].get(c, 0.0) for c in cols] for i in dist],
                                index=pd.Index(list(dist), name="item"), columns=cols)
    nps_rows = {item.id: net_promoter(data[item.id], level)
                for item in [*questionnaire.items, *questionnaire.observed]
                if getattr(item, "nps", False) and item.id in data.columns}
    nps = pd.DataFrame.from_dict(nps_rows, orient="index")
    nps.index.name = "item"
    return BoxResult(items=items, distribution=distribution, nps=nps, boxes=boxes)


def weighted_net_promoter(answers: Any, weights: Any, level: float = 0.95
                          ) -> dict[str, float]:
    """NPS of 0-10 answers with respondent weights: the weighted mean of
    ``100 (1[answer ≥ 9] − 1[answer ≤ 6])`` with its ``svymean`` SE and normal interval;
    the three shares weighted. Same keys as :func:`net_promoter`. ``answers`` and
    ``weights`` hold every respondent of the design; the unanswered stay in it as a
    domain (``svymean(na.rm = TRUE)``, :func:`satisfaction.weights.weighted_mean`)."""
    from satisfaction.weights import weighted_mean

    x = pd.to_numeric(pd.Series(answers), errors="coerce").to_numpy(dtype=float)
    w = np.asarray(weights, dtype=float)
    score = 100 * ((x >= NPS_PROMOTER_MIN).astype(float)
                   - (x <= NPS_DETRACTOR_MAX).astype(float))
    score[np.isnan(x)] = np.nan  # unanswered: in the design, not in the domain
    keep = ~np.isnan(x) & ~np.isnan(w)
    x, w_answered = x[keep], w[keep]
    if len(x) == 0 or not w_answered.sum() > 0:
        return {"n": len(x), **dict.fromkeys(("promoters", "passives", "detractors", "nps",
                                               "se", "ci.lower", "ci.upper"), float("nan"))}
    promoter, detractor = (x >= NPS_PROMOTER_MIN).astype(float), \
        (x <= NPS_DETRACTOR_MAX).astype(float)
    m = weighted_mean(score, w, level)
    w = w_answered
    pp, pd_ = float(w @ promoter / w.sum()), float(w @ detractor / w.sum())
    return {"n": len(x), "promoters": pp, "passives": 1 - pp - pd_, "detractors": pd_,
            "nps": m["mean"], "se": m["se"], "ci.lower": m["ci.lower"],
            "ci.upper": m["ci.upper"]}


def _weighted_box_scores(questionnaire: Questionnaire, data: pd.DataFrame, boxes: int,
                         level: float, weights: pd.Series) -> BoxResult:
    """:func:`box_scores` with respondent weights (design-based, module docstring)."""
    from satisfaction.weights import weighted_mean, weighted_share

    frame = data.loc[data.index.intersection(weights.index)]
    w = weights.reindex(frame.index).to_numpy(dtype=float)
    owner = questionnaire.construct_of_item()
    rows, dist = [], {}
    points: set[float] = set()
    for item in questionnaire.items:
        if item.id not in frame.columns:
            continue
        scale = questionnaire.item_scale(item)
        x = pd.to_numeric(frame[item.id], errors="coerce").to_numpy(dtype=float)
        answered = ~np.isnan(x)
        top = np.where(answered, x >= scale.max - boxes + 1, np.nan).astype(float)
        bottom = np.where(answered, x <= scale.min + boxes - 1, np.nan).astype(float)
        t = weighted_share(top, w, level)
        m = weighted_mean(x, w, level)
        span = scale.max - scale.min
        rows.append({"item": item.id, "construct": owner.get(item.id, ""),
                     "n": int(answered.sum()), "missing": int((~answered).sum()),
                     "top": t["share"], "top.ci.lower": t["ci.lower"],
                     "top.ci.upper": t["ci.upper"],
                     "bottom": weighted_share(bottom, w, level)["share"],
                     "mean_share": (m["mean"] - scale.min) / span,
                     "top.se": t["se"], "mean": m["mean"], "mean.se": m["se"],
                     "n_eff": m["n_eff"]})
        wa, xa = w[answered], x[answered]
        dist[item.id] = {float(v): float(wa[xa == v].sum() / wa.sum()) for v in np.unique(xa)}
        if scale.integer:
            points.update(float(v) for v in np.arange(scale.min, scale.max + 1))
    items = pd.DataFrame(rows).set_index("item") if rows else pd.DataFrame(
        columns=["construct", "n", "missing", "top", "top.ci.lower", "top.ci.upper",
                 "bottom", "mean_share", "top.se", "mean", "mean.se", "n_eff"])
    cols = sorted(points | {v for d in dist.values() for v in d})
    distribution = pd.DataFrame([[dist[i].get(c, 0.0) for c in cols] for i in dist],
                                index=pd.Index(list(dist), name="item"), columns=cols)
    nps_rows = {item.id: weighted_net_promoter(frame[item.id], w, level)
                for item in [*questionnaire.items, *questionnaire.observed]
                if getattr(item, "nps", False) and item.id in frame.columns}
    nps = pd.DataFrame.from_dict(nps_rows, orient="index")
    nps.index.name = "item"
    return BoxResult(items=items, distribution=distribution, nps=nps, boxes=boxes,
                     weighted=True)
