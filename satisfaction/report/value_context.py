"""The customer-value section of the report context.

Selects and formats the value stage's results (RFM segments, ABC classes and
the Pareto curve, lifecycle stages, CLV, the purchase model's holdout check) and
the survey link (satisfaction by segment, satisfaction → value). Nothing is
estimated here: the Pareto curve is the ABC result's own cumulative shares, the
CLV histogram only bins the per-customer CLV for drawing, and the holdout chart
draws the validation's own means by calibration frequency.
"""

from __future__ import annotations

from statistics import NormalDist
from typing import Any

import numpy as np

from satisfaction.report import charts
from satisfaction.report.cells import (
    Cell,
    as_sentence,
    fmt,
    fmt_p,
    fmt_pct,
    mean_interval,
    num,
    plain,
)
from satisfaction.value.core import MODEL_NAMES

#: RFM segments drawn in blue (valuable, active) and orange (valuable, at risk).
_GOOD = frozenset({"champions", "loyal", "promising", "new"})
_AT_RISK = frozenset({"cannot_lose", "at_risk", "need_attention"})
#: Points of the Pareto curve drawn (the curve is subsampled evenly by rank).
PARETO_POINTS = 400
#: CLV histogram: bins, and the upper quantile beyond which values share the last bin.
CLV_BINS, CLV_TOP_QUANTILE = 40, 0.99


def value_section(b: Any) -> dict[str, Any] | None:
    """Customer value: RFM, ABC, lifecycle, CLV, satisfaction by segment, link."""
    if b.a.value is None:
        return None
    vr = b.a.value["result"]
    out: dict[str, Any] = dict.fromkeys(
        ("intro", "rfm", "rfm_chart", "abc", "pareto_chart", "abc_note", "lifecycle",
         "lifecycle_chart", "clv", "clv_chart", "clv_note", "clv_withheld",
         "clv_predictions", "holdout",
         "holdout_chart",
         "holdout_note", "by_segment", "by_segment_chart",
         "matched", "predicts", "predicts_table", "transactions", "link_counts", "actions"))
    table = vr.table.data
    first = table["first_purchase"].min()
    out["customers"] = fmt(len(vr.customers))
    out["intro"] = b.t("value.intro", customers=fmt(len(vr.customers)),
                       transactions=fmt(int(vr.transactions_log["kept"])),
                       start=first.date().isoformat() if first == first else "–",
                       end=vr.settings["period_end"])

    # transactions: loaded = kept + excluded by reason
    log = vr.transactions_log
    tt = b.table("transactions", b.t("value_extra.transactions"),
                 [b.t("value_extra.transactions"), b.t("columns.n")], [False, True])
    tt.add(b.t("value_extra.tx_loaded"), (fmt(int(log["loaded"])), int(log["loaded"])))
    for reason, n in log["excluded"].items():
        tt.add(b.t("value_extra.tx_excluded", reason=b.label("tx_reasons", reason)),
               (fmt(int(n)), int(n)))
    tt.add(Cell(b.t("value_extra.tx_kept"), b.t("value_extra.tx_kept"), True),
           Cell(fmt(int(log["kept"])), int(log["kept"]), True))
    out["transactions"] = tt

    # RFM segments
    # segments in order of the value they hold (not by name, which differs by language)
    seg = vr.rfm.summary("rfm_segment").sort_values("revenue", ascending=False)
    rfm = b.table("rfm_segments", b.t("value.rfm"),
                  [b.t("columns.segment"), b.t("columns.customers"), b.t("columns.share"),
                   b.t("value.recency"), b.t("value.frequency"), b.t("value.monetary"),
                   b.t("columns.revenue")],
                  [False, True, True, True, True, True, True])
    for name, r in seg.iterrows():
        rfm.add(b.label("segments", name), (fmt(int(r["customers"])), int(r["customers"])),
                (fmt_pct(r["share"]), plain(r["share"])), num(r["recency"], 0),
                num(r["frequency"], 1), num(r["monetary"], 0), num(r["revenue"], 0))
    out["rfm"] = rfm
    out["rfm_chart"] = charts.bars([b.label("segments", s) for s in seg.index],
                                   [float(v) for v in seg["customers"]],
                                   b.t("charts.customers"),
                                   color=[charts.BLUE if s in _GOOD else charts.ORANGE
                                          if s in _AT_RISK else charts.GREY for s in seg.index],
                                   sort=False)

    # ABC classes and the Pareto curve
    abc = vr.abc
    at = b.table("abc", b.t("value.abc"),
                 [b.t("value.class"), b.t("columns.customers"), b.t("columns.share"),
                  b.t("columns.revenue"), b.t("columns.revenue_share")],
                 [False, True, True, True, True])
    for cls, r in abc.summary.iterrows():
        at.add(str(cls), (fmt(int(r["customers"])), int(r["customers"])),
               (fmt_pct(r["customer_share"]), plain(r["customer_share"])),
               num(r["revenue"], 0), (fmt_pct(r["revenue_share"]), plain(r["revenue_share"])))
    out["abc"] = at
    curve = abc.data.sort_values("cumulative_share")["cumulative_share"].to_numpy(dtype=float)
    if len(curve):
        pick = np.unique(np.linspace(0, len(curve) - 1, min(PARETO_POINTS, len(curve)))
                         .round().astype(int))
        xs = [0.0, *((pick + 1) / len(curve)).tolist()]
        ys = [0.0, *curve[pick].tolist()]
        a_share = float(abc.summary.loc["A", "customer_share"]) if "A" in abc.summary.index \
            else None
        a_revenue = float(abc.summary.loc["A", "revenue_share"]) if a_share else None
        out["pareto_chart"] = charts.pareto(
            xs, ys, b.t("value.pareto_x"), b.t("value.pareto_y"),
            cuts=[(a_share, b.t("value.pareto_a", customers=fmt_pct(a_share, 0),
                                revenue=fmt_pct(a_revenue, 0)))] if a_share else [],
            equality=b.t("value.pareto_equal"))
    out["abc_note"] = b.t("value.abc_note", top_share="20%",
                          revenue_share=fmt_pct(abc.top20_share), gini=fmt(abc.gini))

    # lifecycle
    counts = vr.lifecycle.counts()
    total = sum(counts.values()) or 1
    lt = b.table("lifecycle", b.t("value.lifecycle"),
                 [b.t("columns.stage_name"), b.t("columns.customers"), b.t("columns.share")],
                 [False, True, True])
    for stage, n in counts.items():
        lt.add(b.label("lifecycle", stage), (fmt(n), n), (fmt_pct(n / total), n / total))
    out["lifecycle"] = lt
    out["lifecycle_chart"] = charts.bars([b.label("lifecycle", s) for s in counts],
                                         [float(v) for v in counts.values()],
                                         b.t("charts.customers"), color=charts.GREEN,
                                         sort=False)

    # CLV
    clv = vr.customers["clv"].dropna()
    if len(clv):
        top = float(clv.quantile(CLV_TOP_QUANTILE))
        counts_, edges = np.histogram(clv.clip(upper=top), bins=CLV_BINS, range=(0.0, top)) \
            if top > 0 else np.histogram(clv, bins=CLV_BINS)
        out["clv_chart"] = charts.histogram(edges.tolist(), counts_.tolist(),
                                            b.t("value.clv_x"), b.t("value.clv_y"))
        model = MODEL_NAMES[vr.settings["purchase_model"]]
        settings = vr.settings
        out["clv_note"] = b.t("value.clv_note", model=model, median=fmt(clv.median(), 2),
                              mean=fmt(clv.mean(), 2), horizon=fmt(settings["horizon"]),
                              unit=b.t(f"value.units.{settings['time_unit']}"),
                              discount=fmt_pct(settings["discount_rate_annual"], 0),
                              basis=b.t("value.basis_margin" if settings.get("margin")
                                        else "value.basis_revenue"))
        beyond = int((clv > top).sum()) if top > 0 else 0
        if beyond:
            # the last bin holds every value above the cut: said beside the chart
            out["clv_note"] = b.t("meta.sentence_sep").join([
                out["clv_note"], b.t("value.clv_cut", n=fmt(beyond), cut=fmt(top, 0),
                                     max=fmt(float(clv.max()), 0))])
        # a CLV model that fails its gates is said so beside the numbers built on it
        gates = _gate_sentences(b, getattr(vr, "warnings", []))
        if gates:
            out["clv_note"] = b.t("meta.sentence_sep").join([out["clv_note"], *gates])
        ct = b.table("clv", b.t("value.clv"), [b.t("columns.measure"), b.t("columns.value")],
                     [False, True])
        ct.add(b.t("value.clv_total"), num(clv.sum(), 0))
        ct.add(b.t("value.clv_mean"), num(clv.mean(), 2))
        ct.add(b.t("value.clv_median"), num(clv.median(), 2))
        _prediction_rows(ct, b, vr.customers)
        out["clv"] = ct
    else:
        # no customer has a CLV: the models it is built on failed their gates (or no
        # spend model was fitted); the heading stays, with why in place of the numbers,
        # and the purchase model's own predictions when it passed its gates
        out["clv_withheld"] = b.t("meta.sentence_sep").join(
            _gate_sentences(b, getattr(vr, "warnings", []))) or None
        if out["clv_withheld"] and vr.customers["p_alive"].notna().any():
            ct = b.table("clv", b.t("value.clv"), [b.t("columns.measure"),
                                                   b.t("columns.value")], [False, True])
            _prediction_rows(ct, b, vr.customers)
            out["clv_predictions"] = ct
    holdout = b.a.value.get("holdout")
    if holdout is not None:
        out.update(_holdout(b, holdout))

    link = b.a.link
    if link is not None:
        out.update(_link(b, link))
    return out


def _gate_sentences(b: Any, warnings: list[Any], only_invalidating: bool = True
                    ) -> list[str]:
    """The diagnostics (by default those that invalidate) as sentences of the prose."""
    return [as_sentence(d.text(b.lang, b.name), b.lang) for d in warnings
            if not only_invalidating or d.severity == "invalidates"]


def _prediction_rows(table: Any, b: Any, customers: Any) -> None:
    """The purchase model's mean P(alive) and expected purchases, as rows of ``table``."""
    table.add(b.t("value.p_alive_mean"), num(customers["p_alive"].mean(), 3))
    table.add(b.t("value.expected_purchases"), num(customers["expected_purchases"].mean(), 2))


def _holdout(b: Any, v: Any) -> dict[str, Any]:
    """The purchase model's holdout check (:mod:`satisfaction.value.validation`):
    predicted and actual mean holdout purchases by calibration frequency as a chart
    and a table, and one paragraph with the totals; or why no check was made."""
    model = MODEL_NAMES[v.model]
    check = v.check
    if check is None:
        return {"holdout_note": b.t("meta.sentence_sep").join(
            _gate_sentences(b, v.warnings, only_invalidating=False))}
    end = v.period_end.isoformat()
    if not np.isfinite(check.predicted_total):
        # the calibration fit gives no number for some customers (a degenerate fit):
        # no chart or table of predictions that are not there; why, in words
        return {"holdout_note": b.t("meta.sentence_sep").join(
            [b.t("value.holdout_no_prediction", model=model, end=end),
             *_gate_sentences(b, v.warnings)])}
    by = check.by_frequency
    t = b.table("clv_holdout", b.t("value.holdout"),
                [b.t("value.holdout_frequency", end=end), b.t("columns.customers"),
                 b.t("value.holdout_actual"), b.t("value.holdout_predicted")],
                [False, True, True, True])
    for group, r in by.iterrows():
        t.add(str(group), (fmt(int(r["customers"])), int(r["customers"])),
              num(r["actual"], 2), num(r["predicted"], 2))
    gap = (check.actual_total - check.predicted_total) / check.predicted_total \
        if check.predicted_total > 0 else float("nan")
    sentences = [b.t("value.holdout_note", model=model, end=end,
                     customers=fmt(int(v.customers)), predicted=fmt(check.predicted_total, 0),
                     length=fmt(check.length, 0), unit=b.t(f"value.units.{v.time_unit}"),
                     actual=fmt(check.actual_total, 0),
                     gap=("+" if gap > 0 else "") + fmt_pct(gap), mae=fmt(check.mae, 2))]
    if v.first_seen_later:
        sentences.append(b.t("value.holdout_later", n=fmt(int(v.first_seen_later)), end=end))
    # a calibration fit that fails its gates is said so beside the check built on it
    sentences += _gate_sentences(b, v.warnings)
    chart = charts.holdout([str(g) for g in by.index], [float(a) for a in by["actual"]],
                           [float(p) for p in by["predicted"]],
                           b.t("value.holdout_frequency", end=end), b.t("value.holdout_y"),
                           (b.t("value.holdout_actual_line"),
                            b.t("value.holdout_predicted_line", model=model)))
    return {"holdout": t, "holdout_chart": chart,
            "holdout_note": b.t("meta.sentence_sep").join(sentences)}


def _link(b: Any, link: Any) -> dict[str, Any]:
    """Satisfaction by RFM segment and how satisfaction relates to value. A weighted
    survey's link (``link_survey(weights=)``: weighted means and SDs, design-based SEs
    and tests) says so in the matched sentence, the titles and the notes, and its
    chart's intervals are the design-based ``mean ± z·SE``."""
    sat = b.a.satisfaction
    weighted = _weighted_link(link)
    out: dict[str, Any] = {"matched": b.t("value.matched_weighted" if weighted
                                          else "value.matched",
                                          n=fmt(int(link.counts["matched"])))}
    lc = b.table("link_counts", b.t("value_extra.link"), [b.t("value_extra.link"),
                                                          b.t("columns.n")], [False, True])
    for key, n in link.counts.items():
        lc.add(b.label("link_counts", key), (fmt(int(n)), int(n)))
    out["link_counts"] = lc
    groups = link.groups
    seg = groups[(groups["by"] == "rfm_segment") & (groups["construct"] == sat)] \
        if len(groups) else groups
    if len(seg):
        value = getattr(b.a, "value", None) or {}
        if value.get("result") is not None:
            # segments in order of the value they hold, as in the RFM table above
            revenue = value["result"].rfm.summary("rfm_segment")["revenue"]
            seg = seg.assign(_value=[float(revenue.get(g, 0.0)) for g in seg["group"]]) \
                .sort_values("_value", ascending=False, kind="stable")
        t = b.table("satisfaction_by_segment",
                    b.t("value.by_segment_weighted" if weighted else "value.by_segment"),
                    [b.t("columns.segment"), b.t("columns.n"), b.t("charts.satisfaction"),
                     b.t("columns.sd")], [False, True, True, True])
        for _, r in seg.iterrows():
            t.add(b.label("segments", r["group"]), (fmt(int(r["n"])), int(r["n"])),
                  num(r["mean"], 1), num(r["sd"], 1))
        tests = link.tests
        welch = tests[(tests["by"] == "rfm_segment") & (tests["construct"] == sat)
                      & (tests["family"] == "means")] if len(tests) else tests
        if len(welch):
            r = welch.iloc[0]
            t.note = b.t("value.segment_test", test=b.label("tests", r["test"]),
                         statistic=fmt(r["statistic"], 2), p=fmt_p(r["p_adjusted"]))
        if weighted:
            t.note = b.t("meta.sentence_sep").join(
                [x for x in (b.t("value.by_segment_weighted_note"), t.note) if x])
        out["by_segment"] = t
        bounds = segment_bounds(seg, weighted)
        out["by_segment_chart"] = charts.bars([b.label("segments", s) for s in seg["group"]],
                                              [float(v) for v in seg["mean"]],
                                              b.t("charts.satisfaction"), fmt="{:.1f}",
                                              color=charts.SKY, sort=False,
                                              lower=[lo for lo, _ in bounds],
                                              upper=[hi for _, hi in bounds])
    out.update(_relations(b, link, seg))
    return out


def _inline(b: Any, text: str) -> str:
    """A name used inside an English sentence: "Repeat purchases" → "repeat purchases"
    (acronyms such as "CLV" or "ACSI" are kept)."""
    if b.lang == "en" and len(text) > 1 and text[0].isupper() and text[1].islower():
        return text[0].lower() + text[1:]
    return text


def _on_scale(b: Any, key: str, outcome: str, scale: str) -> str:
    """An outcome's name on its analysis scale: ``log(1 + CLV)`` (the catalog's
    ``value.outcomes.log_<key>`` when there is one) for the log scale."""
    if scale != "log1p":
        return outcome
    return b.label("value.outcomes", f"log_{key}") if b.m.has(f"value.outcomes.log_{key}") \
        else b.t("value.log_of", outcome=outcome)


def _ci(lower: Any, upper: Any) -> Cell:
    return Cell(f"[{fmt(lower)}, {fmt(upper)}]", (plain(lower), plain(upper)))


def _relations(b: Any, link: Any, seg: Any) -> dict[str, Any]:
    """The bivariate relation of satisfaction with each behaviour, then the mediation
    through loyalty: sentences and one table, all from the link's own numbers (the
    segment means quoted are the rows of the chart beside them)."""
    rel, med = link.relations, link.mediation
    exposure = med["exposure"].iloc[0] if len(med) else b.a.satisfaction
    rel = rel[rel["construct"] == exposure] if len(rel) else rel
    if not len(rel):
        return {}
    x_name = b.name(exposure)
    mediator = med["mediator"].iloc[0] if len(med) else None
    m_name = b.name(mediator) if mediator is not None else ""
    draws = int(med["draws"].max()) if len(med) else 0
    note = b.t("value.predicts_note", exposure=x_name, mediator=m_name or "–",
               draws=fmt(draws))
    weighted = _weighted_link(link)
    if weighted:
        note = b.t("meta.sentence_sep").join([note, b.t("value.predicts_weighted_note")])
    t = b.table("satisfaction_value",
                b.t("value.predicts_weighted" if weighted else "value.predicts"),
                [b.t("value.outcome"), b.t("value.effect"), b.t("columns.estimate"),
                 b.t("columns.ci"), b.t("columns.n")], [False, False, True, True, True],
                note=note)
    names = {"exposure": x_name, "mediator": m_name}
    lines: list[str] = []
    for _, r in rel.iterrows():
        outcome = b.label("value.outcomes", r["outcome"])
        shown = _on_scale(b, r["outcome"], outcome, r["scale"])
        n = (fmt(int(r["n"])), int(r["n"]))
        t.add(shown, b.t("value.effects.r"), num(r["r"]), _ci(r["ci_lower"], r["ci_upper"]), n)
        t.add(shown, b.t("value.effects.spearman"), num(r["spearman"]), Cell("", None), n)
        sentences = [_relation_sentence(b, r, x_name, outcome)]
        if not lines and len(seg) >= 2:
            hi, lo = seg.loc[seg["mean"].idxmax()], seg.loc[seg["mean"].idxmin()]
            sentences.append(b.t("value.segment_range", exposure=_inline(b, x_name),
                                 high=b.label("segments", hi["group"]),
                                 high_mean=fmt(hi["mean"], 1),
                                 low=b.label("segments", lo["group"]),
                                 low_mean=fmt(lo["mean"], 1)))
        part = med[med["outcome"] == r["outcome"]].set_index("effect") if len(med) else med
        if len(part):
            for effect, e in part.iterrows():
                if effect == "proportion" and _clear(part.loc["total"]) == 0:
                    continue  # a share of an effect that may be zero means nothing
                t.add(shown, b.t(f"value.effects.{effect}", **names), num(e["estimate"]),
                      _ci(e["ci_lower"], e["ci_upper"]), (fmt(int(e["n"])), int(e["n"])))
            sentences += _mediation_sentences(
                b, part, x_name, m_name, _on_scale(b, r["outcome"], _inline(b, outcome),
                                                   r["scale"]))
        lines.append(b.t("meta.sentence_sep").join(sentences))
    return {"predicts": lines, "predicts_table": t}


def segment_bounds(seg: Any, weighted: bool, level: float = 0.95
                   ) -> list[tuple[float | None, float | None]]:
    """The chart's interval of each segment mean: weighted, the design-based normal
    interval ``mean ± z·SE`` (``confint`` of ``svyby``); else the t-interval of
    :func:`~satisfaction.report.cells.mean_interval`."""
    if not weighted:
        return [mean_interval(r["mean"], r["sd"], r["n"], level) for _, r in seg.iterrows()]
    z = NormalDist().inv_cdf(0.5 + level / 2)
    return [(r["mean"] - z * r["se"], r["mean"] + z * r["se"]) for _, r in seg.iterrows()]


def _weighted_link(link: Any) -> bool:
    """Whether the survey link was computed with respondent weights."""
    def flagged(frame: Any) -> bool:
        return "weighted" in frame.columns and bool(frame["weighted"].fillna(False).any())

    return flagged(link.relations) or flagged(link.groups)


def _clear(e: Any) -> int:
    """+1 / −1 when the interval lies above / below zero, 0 when it holds zero."""
    if e["ci_lower"] > 0:
        return 1
    if e["ci_upper"] < 0:
        return -1
    return 0


def _relation_sentence(b: Any, r: Any, x_name: str, outcome: str) -> str:
    sign = _clear(r)
    key = {1: "value.relation_up", -1: "value.relation_down", 0: "value.relation_none"}[sign]
    return b.t(key, exposure=_inline(b, x_name), outcome=_inline(b, outcome), r=fmt(r["r"]),
               lower=fmt(r["ci_lower"]), upper=fmt(r["ci_upper"]), rho=fmt(r["spearman"]),
               n=fmt(int(r["n"])))


def _mediation_sentences(b: Any, part: Any, x_name: str, m_name: str,
                         outcome: str) -> list[str]:
    """Total, then the share through the mediator, then the direct effect: each claim
    only as far as its interval carries it."""
    total, ind, direct = part.loc["total"], part.loc["indirect"], part.loc["direct"]
    m_in = _inline(b, m_name)
    out = [b.t("value.mediation_total", exposure=_inline(b, x_name), outcome=outcome,
               total=fmt(total["estimate"]), lower=fmt(total["ci_lower"]),
               upper=fmt(total["ci_upper"]))]
    values = {"mediator": m_in, "indirect": fmt(ind["estimate"]),
              "lower": fmt(ind["ci_lower"]), "upper": fmt(ind["ci_upper"])}
    share = ind["estimate"] / total["estimate"] if total["estimate"] else float("nan")
    if _clear(ind) == 0:
        out.append(b.t("value.mediation_indirect_unclear", **values))
    elif _clear(total) == _clear(ind) and 0 < share <= 1:
        out.append(b.t("value.mediation_share", share=fmt_pct(share, 0), **values))
    else:
        out.append(b.t("value.mediation_indirect", **values))
    key = "value.mediation_direct_none" if _clear(direct) == 0 else "value.mediation_direct_yes"
    out.append(b.t(key, mediator=m_in, direct=fmt(direct["estimate"]),
                   lower=fmt(direct["ci_lower"]), upper=fmt(direct["ci_upper"])))
    return out
