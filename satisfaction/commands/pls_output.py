"""``fit --estimator pls``: the ``--scale`` option and the importance-performance map.

Called by the ``fit`` command (:mod:`satisfaction.commands.fit`); the analysis and
its JSON are :func:`satisfaction.api.pls` (:mod:`satisfaction.pls_assessment`).
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from rich.markup import escape
from rich.table import Table

from satisfaction.commands import make_console
from satisfaction.errors import UsageError

console = make_console()


def parse_scale(text: str | None) -> tuple[float, float] | None:
    """``--scale MIN,MAX`` as two numbers with ``MIN < MAX`` (None when not given)."""
    if text is None:
        return None
    parts = [p.strip() for p in text.split(",")]
    try:
        lo, hi = (float(p) for p in parts)
    except ValueError:
        raise UsageError("expected MIN,MAX: the smallest and largest possible answer, "
                         "e.g. 1,7", column="--scale", value=text) from None
    if not (lo == lo and hi == hi and abs(lo) != float("inf") and abs(hi) != float("inf")):
        raise UsageError("expected two finite numbers MIN,MAX", column="--scale", value=text)
    if lo >= hi:
        raise UsageError("MIN must be below MAX", column="--scale", value=text)
    return lo, hi


def _ci(lower: float, upper: float) -> str:
    if pd.isna(lower) or pd.isna(upper):
        return ""
    return f"[{lower:.1f}, {upper:.1f}]"


def print_ipma(result: Any) -> None:
    """The IPMA table (with bootstrap intervals when present)."""
    frame = result.constructs
    boot = "importance.ci.lower" in frame.columns
    t = Table(title=f"Importance-performance map for {escape(result.target)} (importance: "
                    "total effect per 1 point of performance; performance: 0-100)"
                    + (" with 95% bootstrap intervals" if boot else ""), show_header=True)
    for c in ("construct", "importance", "performance"):
        t.add_column(c, justify="left" if c == "construct" else "right")
    for r in frame.to_dict("records"):
        imp, perf = f"{r['importance']:.3f}", f"{r['performance']:.1f}"
        if boot:
            imp += f" [{r['importance.ci.lower']:.3f}, {r['importance.ci.upper']:.3f}]"
            perf += " " + _ci(r["performance.ci.lower"], r["performance.ci.upper"])
        t.add_row(escape(str(r["construct"])), imp, perf)
    console.print(t)
