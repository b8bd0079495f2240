"""The segments chapter's block on key drivers by group (issue 12, point 3).

The numbers come from :func:`satisfaction.group_drivers.group_driver_importance`
(tested in tests/test_group_drivers.py against R and on simulated data); this
module words them: per group variable one or two sentences (which driver's share
of R² differs between which groups and by how much, or that none differs
significantly; whether the top driver is the same in every group), one chart
panel per variable (:func:`satisfaction.report.charts.group_driver_shares`), the
groups too small to analyse named in a note, and two tables for the workbook.
Texts: catalog section ``group_drivers``.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from satisfaction.report import charts
from satisfaction.report.cells import Cell, fmt, fmt_p, fmt_p_cell, fmt_pct, num, plain

#: Significant drivers worded per group variable (the others are in the chart and table).
SENTENCES_PER_VARIABLE = 2


def _points(x: Any) -> str:
    """A difference of shares in percentage points (one decimal)."""
    return fmt(None if x is None or pd.isna(x) else 100 * float(x), 1)


def _interval(lower: Any, upper: Any, show: Any) -> Cell:
    """An interval cell (two numbers in the workbook); empty when it does not exist."""
    if pd.isna(lower) or pd.isna(upper):
        return Cell("", None)
    return Cell(f"[{show(lower)}, {show(upper)}]", (plain(lower), plain(upper)))


def _whole_sample_order(b: Any, drivers: list[str]) -> list[str]:
    """The drivers in the order of their share in the whole sample (the driver
    chapter's decomposition), largest first."""
    decomposition = getattr(getattr(b.a, "ipa", None), "decomposition", None)
    if decomposition is None:
        return drivers
    measure = "shapley.share" if decomposition.table["shapley.share"].notna().all() \
        else "relative_weight.share"
    share = decomposition.table.set_index("driver")[measure]
    return sorted(drivers, key=lambda d: -float(share.get(d, 0.0)))


def _sentences(b: Any, by: str, tests: pd.DataFrame, importance: pd.DataFrame,
               alpha: float) -> list[str]:
    name = b._group_name(by)
    out = []
    significant = tests[tests["pvalue.adjusted"] < alpha].sort_values(
        "difference", ascending=False)
    for _, r in significant.head(SENTENCES_PER_VARIABLE).iterrows():
        out.append(b.t("group_drivers.differs", by=name, driver=b.name(r["driver"]),
                       high=b.category(by, r["high"]), low=b.category(by, r["low"]),
                       share_high=fmt_pct(r["share.high"]), share_low=fmt_pct(r["share.low"]),
                       difference=_points(r["difference"]),
                       lower=_points(r["difference.ci.lower"]),
                       upper=_points(r["difference.ci.upper"]),
                       p=fmt_p(r["pvalue.adjusted"])))
    if significant.empty and len(tests):
        r = tests.sort_values("difference", ascending=False).iloc[0]
        out.append(b.t("group_drivers.none", by=name, driver=b.name(r["driver"]),
                       high=b.category(by, r["high"]), low=b.category(by, r["low"]),
                       share_high=fmt_pct(r["share.high"]), share_low=fmt_pct(r["share.low"]),
                       p=fmt_p(r["pvalue.adjusted"])))
    top = importance[importance["rank"] == 1].drop_duplicates("group")
    counts = top["driver"].value_counts()
    if len(counts) == 1:
        out.append(b.t("group_drivers.top_same", driver=b.name(counts.index[0])))
    elif counts.iloc[0] >= 2 and counts.iloc[0] > counts.iloc[1]:
        usual = counts.index[0]
        parts = [b.t("group_drivers.top_exception", group=b.category(by, r["group"]),
                     driver=b.name(r["driver"])) for _, r in top.iterrows()
                 if r["driver"] != usual]
        out.append(b.t("group_drivers.top_except", driver=b.name(usual),
                       groups=b._join(parts)))
    else:
        parts = [b.t("group_drivers.top_item", group=b.category(by, r["group"]),
                     driver=b.name(r["driver"])) for _, r in top.iterrows()]
        out.append(b.t("group_drivers.top_differs", groups=b._join(parts)))
    return out


def _panel(b: Any, by: str, order: list[str], importance: pd.DataFrame,
           tests: pd.DataFrame, alpha: float) -> dict[str, Any]:
    groups = list(dict.fromkeys(importance["group"]))
    marked = set(tests.loc[tests["pvalue.adjusted"] < alpha, "driver"])
    table = importance.set_index(["group", "driver"])

    def values(column: str) -> list[list[float | None]]:
        return [[plain(table.loc[(g, d), column]) for d in order] for g in groups]

    return {"title": b._group_name(by), "drivers": [b.name(d) for d in order],
            "groups": [b.category(by, g) for g in groups],
            "shares": values("share"), "lower": values("share.ci.lower"),
            "upper": values("share.ci.upper"), "marked": [d in marked for d in order]}


def group_drivers_section(b: Any) -> dict[str, Any] | None:
    """``intro``, ``sentences`` (per analysed group variable), ``chart`` (SVG),
    ``chart_note`` and ``notes`` (groups too small, variables not analysed); None
    when the step did not run or analysed no variable. Adds the tables of shares
    and of tests to the workbook."""
    res = getattr(b.a, "group_drivers", None)
    if res is None:
        return None
    notes = []
    small = res.excluded[res.excluded["reason"].isin(["group below minimum n",
                                                      "variable not analysed"])]
    if len(small):
        parts = [b.t("group_drivers.small_item", by=b._group_name(r["by"]),
                     group=b.category(r["by"], r["group"]), n=fmt(int(r["n"])))
                 for _, r in small.iterrows()]
        notes.append(b.t("group_drivers.small", min_n=fmt(res.min_n), groups=b._join(parts)))
    if not res.variables:
        return {"intro": None, "sentences": [], "chart": None, "chart_note": None,
                "notes": notes} if notes else None
    order = _whole_sample_order(b, res.drivers)
    sentences, panels = [], []
    for by in res.variables:
        imp = res.importance[res.importance["by"] == by]
        tests = res.tests[res.tests["by"] == by]
        sentences.append(b.t("meta.sentence_sep").join(_sentences(b, by, tests, imp,
                                                                  res.alpha)))
        panels.append(_panel(b, by, order, imp, tests, res.alpha))
    _workbook_tables(b, res)
    permutations = int(res.tests["permutations"].iloc[0]) if len(res.tests) else 0
    return {
        "intro": b.t("group_drivers.intro", min_n=fmt(res.min_n), target=b.name(res.target),
                     drivers=len(res.drivers), permutations=fmt(permutations)),
        "sentences": sentences,
        "chart": charts.group_driver_shares(panels, b.t("group_drivers.axis")),
        "chart_note": b.t("group_drivers.chart_note"), "notes": notes}


def _workbook_tables(b: Any, res: Any) -> None:
    """The shares by group and the tests, in the workbook only (the page has the chart)."""
    shares = b.table("group_drivers", b.t("group_drivers.table"),
                     [b.t("columns.by"), b.t("group_drivers.group"), b.t("columns.n"),
                      b.t("group_drivers.driver"), b.t("group_drivers.axis"), b.t("columns.ci"),
                      b.t("columns.rank")], [False, False, True, False, True, True, True])
    shares.pdf = False
    for _, r in res.importance.iterrows():
        shares.add(b._group_name(r["by"]), b.category(r["by"], r["group"]),
                   Cell(fmt(int(r["n"])), int(r["n"])), b.name(r["driver"]),
                   Cell(fmt_pct(r["share"]), plain(r["share"])),
                   _interval(r["share.ci.lower"], r["share.ci.upper"], fmt_pct),
                   Cell(str(int(r["rank"])), int(r["rank"])))
    tests = b.table("group_driver_tests", b.t("group_drivers.tests_table"),
                    [b.t("columns.by"), b.t("group_drivers.driver"), b.t("group_drivers.high"),
                     b.t("group_drivers.low"), b.t("group_drivers.difference"),
                     b.t("columns.ci"), b.t("columns.pvalue"), b.t("columns.padj")],
                    [False, False, False, False, True, True, True, True])
    tests.pdf = False
    for _, r in res.tests.iterrows():
        tests.add(b._group_name(r["by"]), b.name(r["driver"]),
                  f"{b.category(r['by'], r['high'])} {fmt_pct(r['share.high'])}",
                  f"{b.category(r['by'], r['low'])} {fmt_pct(r['share.low'])}",
                  num(100 * r["difference"], 1),
                  _interval(100 * r["difference.ci.lower"], 100 * r["difference.ci.upper"],
                            lambda x: fmt(x, 1)),
                  Cell(fmt_p_cell(r["pvalue"]), plain(r["pvalue"])),
                  Cell(fmt_p_cell(r["pvalue.adjusted"]), plain(r["pvalue.adjusted"]),
                       r["pvalue.adjusted"] < res.alpha))
