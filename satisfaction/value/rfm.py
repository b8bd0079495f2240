"""RFM: recency, frequency and monetary value per customer, scores and segments.

* **Recency** — days from the last purchase occasion to the end of the period
  (smaller is better); **frequency** — purchase occasions; **monetary** — net
  revenue in the period (see :mod:`satisfaction.value.customers`).
* **Scores 1-5 by quintiles.** Customers are ranked (best last) and the score is
  ``1 + floor(5 (rank_min − 1) / n)``, where ``rank_min`` is the smallest rank of
  the customer's tie group (R's ``rank(ties.method = "min")``). Ties therefore
  always share a score — the score of the lowest position the tie occupies — so
  classes can be uneven when many customers tie (most customers buy once: they all
  get F = 1). Tested against R (tests/reference/value_reference.R).
* **Eight classic value groups**: each of R, F, M is "high" when the customer is
  better than the mean (recency below the mean; frequency, monetary above it):
  important/general (M high/low) × value (R high, F high), development (R high,
  F low), retention (R low, F high), win-back (R low, F low).
* **Business segments** from (R, F, M) score ranges, first matching rule wins;
  :data:`DEFAULT_SEGMENTS` can be replaced by any list of :class:`SegmentRule`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from satisfaction.errors import InputError
from satisfaction.value.labels import labels_from_codes


def quantile_scores(values: Any, higher_is_better: bool = True, bins: int = 5) -> np.ndarray:
    """Scores 1..bins by quantile rank, ties sharing the score of their lowest position.

    score = 1 + floor(bins · (rank_min − 1) / n), rank_min from ranking so that the
    best value has the highest rank.

    Examples
    --------
    >>> quantile_scores([1, 1, 1, 2, 3, 4, 5, 6, 7, 8]).tolist()
    [1, 1, 1, 2, 3, 3, 4, 4, 5, 5]
    """
    v = np.asarray(values, dtype=float)
    if np.isnan(v).any():
        raise InputError("RFM scores need a value for every customer")
    n = len(v)
    if n == 0:
        return np.zeros(0, dtype=int)
    key = v if higher_is_better else -v
    rank_min = _rank_min(key)
    return (1 + (bins * (rank_min - 1)) // n).astype(np.int64)


def _rank_min(key: np.ndarray) -> np.ndarray:
    """R's ``rank(ties.method = "min")``: 1 + how many values are smaller.

    Whole numbers in a range not much wider than their count (days, purchase
    counts) are counted (a histogram and its cumulative sum: linear time); other
    values are sorted.
    """
    n = len(key)
    lo, hi = float(key.min()), float(key.max())
    if hi - lo <= 4 * n + 1000 and np.array_equal(key, np.floor(key)):
        slot = (key - lo).astype(np.int64)
        counts = np.bincount(slot)
        smaller = np.cumsum(counts) - counts
        return smaller[slot] + 1
    # rank_min: 1 + the position of the first member of the value's tie group in
    # the ascending order
    order = np.argsort(key, kind="stable")
    ordered = key[order]
    starts = np.ones(n, dtype=bool)
    starts[1:] = ordered[1:] != ordered[:-1]
    first_of_group = np.maximum.accumulate(np.where(starts, np.arange(n), 0))
    rank_min = np.empty(n, dtype=np.int64)
    rank_min[order] = first_of_group + 1
    return rank_min


#: The eight classic value groups, keyed by (R high, F high, M high).
VALUE_GROUPS: dict[tuple[bool, bool, bool], str] = {
    (True, True, True): "important_value",
    (True, False, True): "important_development",
    (False, True, True): "important_retention",
    (False, False, True): "important_winback",
    (True, True, False): "general_value",
    (True, False, False): "general_development",
    (False, True, False): "general_retention",
    (False, False, False): "general_winback",
}


@dataclass(frozen=True)
class SegmentRule:
    """A business segment: inclusive score ranges for R, F and M."""

    name: str
    r: tuple[int, int] = (1, 5)
    f: tuple[int, int] = (1, 5)
    m: tuple[int, int] = (1, 5)


#: Default business segments, checked in order (first match wins).
DEFAULT_SEGMENTS: tuple[SegmentRule, ...] = (
    SegmentRule("champions", r=(4, 5), f=(4, 5), m=(4, 5)),
    SegmentRule("loyal", r=(3, 5), f=(4, 5)),
    SegmentRule("new", r=(5, 5), f=(1, 1)),
    SegmentRule("promising", r=(4, 5), f=(1, 3)),
    SegmentRule("cannot_lose", r=(1, 2), f=(4, 5), m=(4, 5)),
    SegmentRule("at_risk", r=(1, 2), f=(3, 5)),
    SegmentRule("need_attention", r=(3, 3), f=(1, 3)),
    SegmentRule("hibernating", r=(2, 2), f=(1, 2)),
    SegmentRule("lost", r=(1, 1), f=(1, 2)),
)


@dataclass
class RFMResult:
    """Per-customer RFM table and segment summaries.

    Attributes
    ----------
    data : pandas.DataFrame
        Index customer id; recency, frequency, monetary, r_score, f_score,
        m_score, rfm_code ("545"), value_group, rfm_segment.
    means : dict
        Mean recency, frequency and monetary (the value-group cut points).
    """

    data: pd.DataFrame
    means: dict[str, float]

    def summary(self, column: str) -> pd.DataFrame:
        """Customers, share, mean R/F/M and revenue by ``value_group`` or ``rfm_segment``."""
        g = self.data.groupby(column, sort=True)
        out = g.agg(customers=("recency", "size"), recency=("recency", "mean"),
                    frequency=("frequency", "mean"), monetary=("monetary", "mean"),
                    revenue=("monetary", "sum"))
        out["share"] = out["customers"] / len(self.data)
        return out

    def to_dict(self) -> dict[str, Any]:
        def table(column: str) -> list[dict[str, Any]]:
            return [{"name": str(k), **{c: (int(v) if c == "customers" else float(v))
                                        for c, v in row.items()}}
                    for k, row in self.summary(column).iterrows()]
        return {"customers": len(self.data), "means": dict(self.means),
                "value_groups": table("value_group"), "segments": table("rfm_segment")}


def rfm_segments(recency: pd.Series, frequency: pd.Series, monetary: pd.Series,
                 bins: int = 5,
                 segments: tuple[SegmentRule, ...] | list[SegmentRule] = DEFAULT_SEGMENTS,
                 default_segment: str = "others") -> RFMResult:
    """Score customers on recency, frequency and monetary value and segment them.

    Parameters
    ----------
    recency : pandas.Series
        Days since the last purchase (index customer id).
    frequency, monetary : pandas.Series
        Purchase occasions and net revenue, same index.
    bins : int
        Number of score classes (5: quintiles).
    segments : list of SegmentRule
        Business segments, first match wins; customers matching none get
        ``default_segment``.
    """
    idx = recency.index
    if not (frequency.index.equals(idx) and monetary.index.equals(idx)):
        frequency, monetary = frequency.reindex(idx), monetary.reindex(idx)
    frame = pd.DataFrame({"recency": recency.to_numpy(dtype=float),
                          "frequency": frequency.to_numpy(dtype=float),
                          "monetary": monetary.to_numpy(dtype=float)}, index=idx)
    frame["r_score"] = quantile_scores(frame["recency"], higher_is_better=False, bins=bins)
    frame["f_score"] = quantile_scores(frame["frequency"], bins=bins)
    frame["m_score"] = quantile_scores(frame["monetary"], bins=bins)
    r, f, m = (frame[c].to_numpy() for c in ("r_score", "f_score", "m_score"))
    # "545": one label per score combination, looked up by code
    codes = [f"{i}{j}{k}" for i in range(1, bins + 1) for j in range(1, bins + 1)
             for k in range(1, bins + 1)]
    frame["rfm_code"] = labels_from_codes(((r - 1) * bins + (f - 1)) * bins + (m - 1), codes)
    means = {c: float(frame[c].mean()) for c in ("recency", "frequency", "monetary")}
    r_hi = (frame["recency"] < means["recency"]).to_numpy()
    f_hi = (frame["frequency"] > means["frequency"]).to_numpy()
    m_hi = (frame["monetary"] > means["monetary"]).to_numpy()
    group_names = list(VALUE_GROUPS.values())
    group_code = np.zeros(len(frame), dtype=np.int64)
    for code, key in enumerate(VALUE_GROUPS):
        group_code[(r_hi == key[0]) & (f_hi == key[1]) & (m_hi == key[2])] = code
    frame["value_group"] = labels_from_codes(group_code, group_names)
    names = [rule.name for rule in segments] + [default_segment]
    seg = np.full(len(frame), len(segments), dtype=np.int64)   # default until a rule matches
    open_ = np.ones(len(frame), dtype=bool)
    for code, rule in enumerate(segments):
        hit = open_ & (r >= rule.r[0]) & (r <= rule.r[1]) & (
            f >= rule.f[0]) & (f <= rule.f[1]) & (m >= rule.m[0]) & (m <= rule.m[1])
        seg[hit] = code
        open_ &= ~hit
    frame["rfm_segment"] = labels_from_codes(seg, names)
    return RFMResult(data=frame, means=means)
