"""``fit --estimator pls``: item ranges, the IPMA, the index and the assessment JSON.

Called by the ``fit`` command (:mod:`satisfaction.commands.fit`): ``--scale``
is read here, the item ranges come from the questionnaire's scales otherwise,
and :func:`assessment` adds to the ``--json`` output what the issue's JSON
paragraph lists beside the parameters: ``reliability``, ``htmt``, ``ipma`` and
``index``.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from rich.markup import escape
from rich.table import Table

from satisfaction.commands import make_console
from satisfaction.errors import UsageError

console = make_console()

#: Keys every ``parameters`` row of the PLS JSON carries (null without a bootstrap).
PARAMETER_KEYS = ("lhs", "op", "rhs", "est", "se", "ci.lower", "ci.upper")


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


def item_ranges(spec: Any, scale: tuple[float, float] | None
                ) -> tuple[float, float] | dict[str, tuple[float, float]] | None:
    """The answers' ranges for the 0-100 metric: per item from a questionnaire's
    scales, or ``--scale`` for a lavaan-syntax model (None when neither)."""
    if hasattr(spec, "item_scale"):
        if scale is not None:
            raise UsageError("the questionnaire's scales give the item ranges; --scale is for "
                             "lavaan-syntax models", column="--scale")
        return {i.id: (float(spec.item_scale(i).min), float(spec.item_scale(i).max))
                for i in spec.analysed_items}
    return scale


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


def assessment(result: Any, data: pd.DataFrame, out: dict[str, Any],
               ranges: tuple[float, float] | dict[str, tuple[float, float]] | None,
               target: str | None, bootstrap: int, seed: int | None) -> dict[str, Any]:
    """Complete the JSON of a PLS fit (``out``, from ``result.to_dict()``) and print the
    IPMA and the index.

    Adds ``reliability`` ({construct: alpha, rhoA, rhoC, AVE}), ``htmt`` (pairs, with
    bootstrap intervals when ``bootstrap``), and with item ranges ``index``
    ({construct: 0-100}) and, for a ``target``, ``ipma`` ([{construct, importance,
    performance}], with ``se``/``ci`` columns when ``bootstrap``). Every
    ``parameters`` row gets ``se``, ``ci.lower`` and ``ci.upper`` (null without a
    bootstrap)."""
    from satisfaction.pls import bootstrap_ipma, ipma
    from satisfaction.pls_hoc import hoc_htmt, hoc_reliability

    for row in out["parameters"]:
        for key in PARAMETER_KEYS:
            row.setdefault(key, None)
    rel = hoc_reliability(result) if result.higher_order else _reliability(result)
    out["reliability"] = {str(c): {k: float(v) for k, v in r.items()}
                          for c, r in rel.iterrows()}
    options = {"draws": bootstrap, "seed": seed} if bootstrap else {}
    table = hoc_htmt(result, **options) if result.higher_order else _htmt(result, **options)
    out["htmt"] = table.to_dict("records")
    if ranges is None:
        if target is not None:
            raise UsageError("the IPMA needs the answers' range: give --scale MIN,MAX",
                             column="--ipma", value=target)
        return out
    goal = target if target is not None else result.model.constructs[-1]
    if target is not None and bootstrap:
        found = bootstrap_ipma(result, data, goal, ranges, draws=bootstrap, seed=seed)
    else:
        found = ipma(result, data, goal, ranges)
    out["index"] = dict(found.index)
    if found.index_intervals is not None:
        out["index_intervals"] = found.index_intervals.to_dict("records")
    console.print("Index (0-100): " + ", ".join(
        f"{escape(str(c))} {v:.1f}" for c, v in found.index.items()))
    if target is not None:
        out["ipma"] = found.constructs.to_dict("records")
        out["ipma_indicators"] = found.indicators.to_dict("records")
        print_ipma(found)
    for w in found.warnings:
        console.print(f"{w.severity}: {escape(str(w))}")
    out["warnings"] += [w.to_dict() for w in found.warnings]
    return out


def _reliability(result: Any) -> pd.DataFrame:
    from satisfaction.pls import reliability

    return reliability(result)


def _htmt(result: Any, **options: Any) -> pd.DataFrame:
    from satisfaction.pls import htmt

    return htmt(result, **options)
