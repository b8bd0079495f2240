"""ABC (Pareto) classes of customers by their share of revenue.

Customers are sorted by revenue, largest first (ties keep the order of the
customer table, which is sorted by customer id, so the result is deterministic).
A customer is in class **A** while the cumulative revenue share *before* them is
below the first threshold (80 % by default: the customer who crosses 80 % is
still A), **B** while it is below the second (95 %), and **C** otherwise. Net
revenue below zero (more returns than purchases) counts as zero for shares and
concentration; those customers are C.

Concentration: the revenue share of the top 20 % of customers (the top
⌈0.2 n⌉) and the Gini coefficient

.. math:: G = \\frac{\\sum_{i=1}^n (2i - n - 1)\\,x_{(i)}}{n \\sum_i x_i}

with x sorted ascending (equal to ``ineq::Gini`` in R; tested against the R
script in tests/reference/value_reference.R).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from satisfaction.errors import InputError
from satisfaction.value.labels import labels_from_codes

#: The classes, best first.
CLASSES: tuple[str, str, str] = ("A", "B", "C")


def gini(values: Any) -> float:
    """Gini coefficient of non-negative values (see module docstring)."""
    x = np.sort(np.clip(np.asarray(values, dtype=float), 0.0, None))
    n = len(x)
    total = x.sum()
    if n == 0 or total <= 0:
        return float("nan")
    i = np.arange(1, n + 1)
    return float(np.dot(2 * i - n - 1, x) / (n * total))


@dataclass
class ABCResult:
    """ABC classes and concentration.

    Attributes
    ----------
    data : pandas.DataFrame
        Index customer id: revenue, share, cumulative_share, abc_class.
    summary : pandas.DataFrame
        By class: customers, customer_share, revenue, revenue_share.
    top20_share, gini : float
    thresholds : tuple of float
    """

    data: pd.DataFrame
    summary: pd.DataFrame
    top20_share: float
    gini: float
    thresholds: tuple[float, float]

    def to_dict(self) -> dict[str, Any]:
        return {
            "thresholds": list(self.thresholds),
            "classes": [{"class": str(k), "customers": int(r.customers),
                         "customer_share": float(r.customer_share),
                         "revenue": float(r.revenue), "revenue_share": float(r.revenue_share)}
                        for k, r in self.summary.iterrows()],
            "top20_share": None if math.isnan(self.top20_share) else self.top20_share,
            "gini": None if math.isnan(self.gini) else self.gini,
        }


def abc_classes(revenue: pd.Series, thresholds: tuple[float, float] = (0.80, 0.95)) -> ABCResult:
    """Classify customers A/B/C by cumulative revenue share (see module docstring).

    Parameters
    ----------
    revenue : pandas.Series
        Revenue per customer (index customer id).
    thresholds : (float, float)
        Cumulative shares closing classes A and B (default 80 % and 95 %, i.e.
        80/15/5).
    """
    a, b = thresholds
    if not 0 < a < b <= 1:
        raise InputError("ABC thresholds must satisfy 0 < A < B ≤ 1", value=thresholds)
    x = np.clip(np.nan_to_num(revenue.to_numpy(dtype=float), nan=0.0), 0.0, None)
    n = len(x)
    # largest first; ties keep the order of the input (the customer table is sorted by id)
    order = np.argsort(-x, kind="stable")
    xs = x[order]
    total = float(xs.sum())
    share_sorted = xs / total if total > 0 else np.zeros(n)
    cum_sorted = np.cumsum(share_sorted)
    before = cum_sorted - share_sorted
    code_sorted = np.where((before < a) & (xs > 0), 0, np.where((before < b) & (xs > 0), 1, 2))
    # back to the input order, positionally (no index lookups on a million ids)
    share = np.empty(n)
    cum = np.empty(n)
    code = np.empty(n, dtype=np.int64)
    share[order], cum[order], code[order] = share_sorted, cum_sorted, code_sorted
    data = pd.DataFrame({"revenue": revenue.to_numpy(dtype=float), "share": share,
                         "cumulative_share": cum,
                         "abc_class": labels_from_codes(code, CLASSES)}, index=revenue.index)
    n = len(data)
    summary = pd.DataFrame({
        "customers": np.bincount(code, minlength=3),
        "revenue": np.bincount(code, weights=np.nan_to_num(data["revenue"].to_numpy()),
                               minlength=3),
        "revenue_share": np.bincount(code, weights=share, minlength=3),
    }, index=pd.Index(list(CLASSES), name="abc_class"))
    summary["customers"] = summary["customers"].astype(int)
    summary.insert(1, "customer_share", summary["customers"] / n if n else 0.0)
    k = math.ceil(0.2 * n)
    top20 = float(share_sorted[:k].sum()) if total > 0 else float("nan")
    return ABCResult(data=data, summary=summary, top20_share=top20,
                     gini=gini(x), thresholds=(float(a), float(b)))
