"""Item-level results of the report: answer distributions, box scores and NPS.

The numbers come from :func:`satisfaction.topbox.box_scores` (tested against
R); this module selects and formats them: a stacked bar of every item's answer
distribution, the items with the smallest top-2-box share as a table (all items
in the workbook) and the Net Promoter Score of the items tagged ``nps: true``.
When the questionnaire declares respondent weights (``analysis.weighted``) every
figure is the weighted one with its design-based interval (``box_scores(weights=)``,
as R's ``survey``), and the notes say so.
"""

from __future__ import annotations

from typing import Any

from satisfaction.report import charts
from satisfaction.report.cells import Cell, fmt, fmt_pct, plain
from satisfaction.topbox import box_scores

#: Items shown in the table of weakest items (all of them are in the workbook).
WEAKEST = 8
#: Characters of an item's wording kept in a chart label.
LABEL_CHARS = 44


def _short(text: str, n: int = LABEL_CHARS) -> str:
    return text if len(text) <= n else text[:n - 1].rstrip() + "…"


def items_section(b: Any) -> dict[str, Any] | None:
    """``chart``, ``weakest`` (table), ``nps`` (table), ``note`` and, for the
    summary, ``weakest_item`` and ``nps_sentence``."""
    data = getattr(b.a.responses, "data", None)
    if data is None or not b.q.items:
        return None
    weighted = getattr(b.a, "weighted", None)
    result = box_scores(b.q, data,
                        weights=None if weighted is None else weighted.weights.weights)
    items = result.items
    if not len(items):
        return None
    texts = {i.id: i.text.get(b.lang) for i in b.q.items}
    order = items.sort_values(["top", "mean_share"], kind="stable")
    weakest_ids = list(order.index[:min(5, len(order))])
    # the answer distribution of every item, in questionnaire order
    scales = {b.q.item_scale(i).model_dump_json() for i in b.q.items}
    first = b.q.item_scale(b.q.items[0])
    labels = first.labels.get(b.lang) if len(scales) == 1 and first.labels else None
    cols = list(result.distribution.columns)
    categories = labels if labels and len(labels) == len(cols) else [fmt(c, 0) for c in cols]
    dist = result.distribution
    chart = charts.stacked_shares(
        [f"{k}  {_short(texts.get(k, k))}" for k in dist.index],
        [list(map(float, dist.loc[k])) for k in dist.index], categories,
        highlight=[k in weakest_ids for k in dist.index])
    columns = [b.t("columns.item"), b.t("columns.text"), b.t("columns.construct"),
               b.t("items.top"), b.t("columns.ci"), b.t("items.bottom"), b.t("columns.n")]
    numeric = [False, False, False, True, True, True, True]
    note = b.t("items.weakest_note", boxes=result.boxes)
    if result.weighted:  # which weights, and that the intervals are design-based
        w = weighted.weights
        note = b.t("items.weakest_note_weighted", boxes=result.boxes,
                   method=b.label("weighting.methods", w.method),
                   design_effect=fmt(w.design_effect, 2), effective_n=fmt(w.effective_n, 1))
    table = b.table("items_weakest", b.t("items.weakest"), columns, numeric, note=note)
    # the workbook's table of every item; weighted, it also holds the weighted mean and
    # the design-based SEs (svymean) of the mean and of the top-box share
    extra = [b.t("columns.mean"), f"{b.t('columns.mean')} {b.t('columns.se')}",
             f"{b.t('items.top')} {b.t('columns.se')}"] if result.weighted else []
    full = b.table("items_box", b.t("items.all"), columns + extra,
                   numeric + [True] * len(extra))
    full.pdf = False
    for k, r in items.iterrows():
        cells = (str(k), texts.get(k, k), b.name(r["construct"]),
                 (fmt_pct(r["top"]), plain(r["top"])),
                 Cell(f"[{fmt_pct(r['top.ci.lower'])}, {fmt_pct(r['top.ci.upper'])}]",
                      f"{plain(r['top.ci.lower'])}, {plain(r['top.ci.upper'])}"),
                 (fmt_pct(r["bottom"]), plain(r["bottom"])), (fmt(int(r["n"])), int(r["n"])))
        if result.weighted:
            cells += ((fmt(r["mean"], 2), plain(r["mean"])),
                      (fmt(r["mean.se"]), plain(r["mean.se"])),
                      (fmt(r["top.se"]), plain(r["top.se"])))
        full.add(*cells)
    for k, r in order.head(WEAKEST).iterrows():
        table.add(Cell(str(k), str(k), k in weakest_ids), texts.get(k, k), b.name(r["construct"]),
                  Cell(fmt_pct(r["top"]), plain(r["top"]), k in weakest_ids),
                  Cell(f"[{fmt_pct(r['top.ci.lower'])}, {fmt_pct(r['top.ci.upper'])}]",
                       None),
                  (fmt_pct(r["bottom"]), plain(r["bottom"])), (fmt(int(r["n"])), int(r["n"])))
    w = order.iloc[0]
    out: dict[str, Any] = {
        "chart": chart, "weakest": table,
        "note": b.t("items.chart_note", boxes=result.boxes) + (
            " " + b.t("items.weighted_shares") if result.weighted else ""),
        "weakest_item": None, "nps": None, "nps_sentence": None,
        "weakest_summary": {"item": str(order.index[0]), "text": texts.get(order.index[0]),
                            "top": float(w["top"]), "bottom": float(w["bottom"])}}
    out["weakest"] = table
    out["weakest_item"] = out.pop("weakest_summary")
    if len(result.nps):
        nt = b.table("nps", b.t("items.nps"),
                     [b.t("columns.item"), b.t("columns.text"), b.t("items.nps_score"),
                      b.t("columns.ci"), b.t("items.promoters"), b.t("items.passives"),
                      b.t("items.detractors"), b.t("columns.n")],
                     [False, False, True, True, True, True, True, True],
                     note=b.t("items.nps_note") + (
                         " " + b.t("items.weighted_shares") if result.weighted else ""))
        for k, r in result.nps.iterrows():
            nt.add(str(k), texts.get(k, k), (fmt(r["nps"], 1), plain(r["nps"])),
                   Cell(f"[{fmt(r['ci.lower'], 1)}, {fmt(r['ci.upper'], 1)}]", None),
                   (fmt_pct(r["promoters"]), plain(r["promoters"])),
                   (fmt_pct(r["passives"]), plain(r["passives"])),
                   (fmt_pct(r["detractors"]), plain(r["detractors"])),
                   (fmt(int(r["n"])), int(r["n"])))
        out["nps"] = nt
        k, r = next(iter(result.nps.iterrows()))
        out["nps_sentence"] = b.t("summary.finding_nps", text=texts.get(k, k),
                                  nps=fmt(r["nps"], 1), lower=fmt(r["ci.lower"], 1),
                                  upper=fmt(r["ci.upper"], 1),
                                  promoters=fmt_pct(r["promoters"], 0),
                                  detractors=fmt_pct(r["detractors"], 0))
    return out
