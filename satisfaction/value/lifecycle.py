"""Lifecycle stage of each customer: acquisition, growth, maturity, decline, lapsed.

Each customer is measured against their *own* rhythm. With ``n`` purchase
occasions, first and last at ``first`` and ``last`` and the period ending at
``end`` (all in days):

* own inter-purchase time ``ipt = (last − first) / (n − 1)`` when n ≥ 2; for
  one-time buyers, and as the population's *typical* rhythm, the median ipt of
  the repeat buyers (``typical``);
* ``tenure = end − first``, ``recency = end − last``;
* the frequency trend is the mean position of the repeat occasions within the
  customer's tenure, ``trend = mean((tᵢ − first) / tenure)``: about 0.5 at a
  steady rate, higher when purchases speed up, lower when they slow down.

Rules, first match wins (factors are arguments):

1. **lapsed** — ``recency > lapse_factor × ipt`` (default 3: three missed rhythms);
2. **acquisition** — one occasion only, or ``tenure ≤ acquisition_factor × typical``
   (default 2): still new;
3. **decline** — ``recency > decline_factor × ipt`` (default 1.5: overdue), or at
   least 3 occasions and ``trend < 0.5 − trend_band`` (default band 0.1);
4. **growth** — two occasions (building a habit), or ``trend > 0.5 + trend_band``;
5. **maturity** — everyone else: repeat buyers at a steady rate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from satisfaction.value.labels import labels_from_codes

#: Stages in lifecycle order.
STAGES: tuple[str, ...] = ("acquisition", "growth", "maturity", "decline", "lapsed")


@dataclass
class LifecycleResult:
    """Per-customer stage and the measures behind it.

    Attributes
    ----------
    data : pandas.DataFrame
        Index customer id: tenure_days, recency_days, ipt_days, trend, lifecycle_stage.
    typical_ipt : float
        Median inter-purchase time of the repeat buyers (days).
    """

    data: pd.DataFrame
    typical_ipt: float
    settings: dict[str, float]

    def counts(self) -> dict[str, int]:
        c = self.data["lifecycle_stage"].value_counts()
        return {s: int(c.get(s, 0)) for s in STAGES}

    def to_dict(self) -> dict[str, Any]:
        return {"typical_ipt_days": self.typical_ipt, "settings": dict(self.settings),
                "stages": self.counts()}


def lifecycle_stages(customers: pd.DataFrame, period_end: Any, lapse_factor: float = 3.0,
                     acquisition_factor: float = 2.0, decline_factor: float = 1.5,
                     trend_band: float = 0.1,
                     typical_ipt: float | None = None) -> LifecycleResult:
    """Assign lifecycle stages (rules in the module docstring).

    Parameters
    ----------
    customers : pandas.DataFrame
        The customer table (columns occasions, first_purchase, last_purchase,
        trend_position) of the modelled customers.
    period_end : date
    typical_ipt : float, optional
        The population's typical rhythm when it is known already (an engine that
        scores one partition at a time passes the median of all repeat buyers).
    """
    end = np.datetime64(pd.Timestamp(period_end).date(), "D")
    n = customers["occasions"].to_numpy(dtype=float)
    first = _days(customers["first_purchase"])
    last = _days(customers["last_purchase"])
    tenure = _elapsed(first, end)
    recency = _elapsed(last, end)
    span = _elapsed(first, last)
    repeat = n >= 2
    with np.errstate(divide="ignore", invalid="ignore"):
        own = np.where(repeat, span / np.maximum(n - 1, 1), np.nan)
    if typical_ipt is not None:
        typical = float(typical_ipt)
    else:
        typical = float(np.median(own[repeat])) if repeat.any() else float("nan")
    if not np.isfinite(typical) or typical <= 0:
        typical = 1.0  # nobody came back: a day is the only rhythm we can assume
    ipt = np.where(repeat & (own > 0), own, typical)
    trend = customers["trend_position"].to_numpy(dtype=float)
    stage = np.full(len(n), STAGES.index("maturity"), dtype=np.int64)
    undecided = np.ones(len(n), dtype=bool)

    def assign(mask: np.ndarray, name: str) -> None:
        hit = mask & undecided
        stage[hit] = STAGES.index(name)
        undecided[hit] = False

    with np.errstate(invalid="ignore"):
        assign(recency > lapse_factor * ipt, "lapsed")
        assign((n <= 1) | (tenure <= acquisition_factor * typical), "acquisition")
        assign((recency > decline_factor * ipt) | ((n >= 3) & (trend < 0.5 - trend_band)),
               "decline")
        assign((n == 2) | (trend > 0.5 + trend_band), "growth")
    data = pd.DataFrame({"tenure_days": tenure, "recency_days": recency,
                         "ipt_days": ipt, "trend": trend,
                         "lifecycle_stage": labels_from_codes(stage, STAGES)},
                        index=customers.index)
    settings = {"lapse_factor": lapse_factor, "acquisition_factor": acquisition_factor,
                "decline_factor": decline_factor, "trend_band": trend_band}
    return LifecycleResult(data=data, typical_ipt=typical, settings=settings)


def _days(column: Any) -> np.ndarray:
    """Dates (datetime-like column) as numpy day stamps (NaT kept)."""
    return pd.to_datetime(pd.Series(column)).to_numpy().astype("datetime64[D]")


def _elapsed(start: np.ndarray | np.datetime64, stop: np.ndarray | np.datetime64,
             ) -> np.ndarray:
    """Whole days from ``start`` to ``stop``; NaN where either is missing."""
    delta = np.asarray(stop - start)
    days = delta.astype("timedelta64[D]").astype(np.int64).astype(float)
    return np.where(np.isnat(delta), np.nan, days)
