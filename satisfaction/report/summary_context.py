"""The executive summary of the report: headline, findings, key drivers, actions.

One page a client reads first. It selects, never estimates: the headline is the
satisfaction index and its interval (from :mod:`satisfaction.drivers`), compared
with the questionnaire's ``benchmarks`` when it declares one; each finding is
one sentence carrying its number, taken from the results the chapters show
(indices, the importance-performance analysis, the item box scores, the NPS,
the group tests); the key-driver chart is the IPA's importance with its
interval; the actions are the top recommendations whose evidence comes from
the survey (actions on the customer database go to the customer-value chapter).
"""

from __future__ import annotations

from typing import Any

from satisfaction.report import charts
from satisfaction.report.cells import _missing, fmt, fmt_p, fmt_pct

#: Rule conditions whose evidence is the survey (the others use the customer database).
SURVEY_CONDITIONS = frozenset({"quadrant", "index_below", "group_gap", "weak_reliability",
                               "weak_discriminant", "sat_not_loyalty"})
#: Colours of the quadrants in the key-driver chart (the IPA map uses the same).
QUADRANT_COLOURS = {"concentrate_here": charts.RED, "keep_up": charts.BLUE,
                    "possible_overkill": charts.SKY, "low_priority": charts.GREY,
                    "undetermined": "#C9D3DD"}
#: Findings on the summary page, at most.
MAX_FINDINGS = 5
#: Limitations listed on the summary page, at most (all of them are in the appendix).
MAX_LIMITATIONS = 5


def summary_section(b: Any, model: dict[str, Any] | None, drivers: dict[str, Any] | None,
                    recs: list[dict[str, Any]] | None,
                    items: dict[str, Any] | None) -> dict[str, Any]:
    """The summary's context: ``headline`` (cards), ``findings``, ``driver_chart``,
    ``actions`` (survey recommendations, at most three), ``fit`` and ``limitations``."""
    cards = []
    ind = b.a.indices
    rows = {}
    if ind is not None:
        rows = {r["construct"]: r for _, r in ind.constructs.iterrows()}
    for cid in (b.a.satisfaction, b.a.loyalty):
        if cid is None or cid not in rows:
            continue
        r = rows[cid]
        card = {"name": b.name(cid), "value": fmt(r["index"], 1),
                "ci": f"[{fmt(r['ci.lower'], 1)}, {fmt(r['ci.upper'], 1)}]",
                "benchmark": None, "previous": None}
        target = (getattr(b.q, "benchmarks", None) or {}).get(cid)
        if target is not None:
            card["benchmark"] = _against(b, r, float(target))
        cards.append(card)
    limitations = b.limitations()
    # the page shows the first few (those that invalidate come first); all of them
    # stand in the appendix's list of warnings
    shown = limitations[:MAX_LIMITATIONS]
    more = len(limitations) - len(shown)
    survey = None if recs is None else [r for r in recs if r.get("condition")
                                        in SURVEY_CONDITIONS][:3]
    return {"cards": cards,
            "limitations": shown,
            "limitations_intro": b.t("summary.limitations_intro") if limitations else None,
            "limitations_more": b.t("summary.limitations_more", n=fmt(more)) if more > 0
            else None,
            "fit": None if model is None else {"short": model["verdict_short"],
                                               "text": model["verdict_text"],
                                               "verdict": model["verdict"]},
            "actions": survey,
            "findings": _findings(b, rows, drivers, items),
            "driver_chart": _driver_chart(b),
            "driver_note": _driver_note(b),
            "top_stage": (drivers or {}).get("top_stage")}


def _against(b: Any, r: Any, target: float) -> dict[str, str]:
    """The index against its benchmark: the difference, and whether the interval
    lies above, below or around the benchmark."""
    diff = float(r["index"]) - target
    if float(r["ci.lower"]) > target:
        key = "summary.benchmark_above"
    elif float(r["ci.upper"]) < target:
        key = "summary.benchmark_below"
    else:
        key = "summary.benchmark_level"
    return {"text": b.t(key, benchmark=fmt(target, 1), diff=fmt(abs(diff), 1)),
            "side": key.rsplit("_", 1)[1]}


def _findings(b: Any, rows: dict[str, Any], drivers: dict[str, Any] | None,
              items: dict[str, Any] | None) -> list[str]:
    """Three to five sentences, each with its number, most important first."""
    out: list[str] = []
    sat, loy = b.a.satisfaction, b.a.loyalty
    if sat in rows:
        r = rows[sat]
        text = b.t("summary.finding_index", construct=b.name(sat), value=fmt(r["index"], 1),
                   lower=fmt(r["ci.lower"], 1), upper=fmt(r["ci.upper"], 1))
        if loy in rows:
            q = rows[loy]
            text += b.t("meta.sentence_sep") + b.t(
                "summary.finding_loyalty", construct=b.name(loy), value=fmt(q["index"], 1),
                lower=fmt(q["ci.lower"], 1), upper=fmt(q["ci.upper"], 1))
        out.append(text)
    ipa = b.a.ipa
    structural = getattr(b.a, "pls", None) or b.a.sem  # PLS when it is the estimator
    if ipa is not None and len(ipa.constructs) and structural is not None \
            and getattr(structural, "status", "ok") != "invalid":
        c = ipa.constructs.sort_values("importance", ascending=False)
        top = c.iloc[0]
        share = "importance.method" in c.columns and top["importance.method"] != "total_effect"
        if getattr(b.a, "pls", None) is not None and not share:  # the IPMA's importance
            out.append(b.t("pls.finding_driver", construct=b.name(top["construct"]),
                           target=b.name(ipa.target), importance=fmt(top["importance"]),
                           lower=fmt(top["importance.ci.lower"]),
                           upper=fmt(top["importance.ci.upper"]),
                           performance=fmt(top["performance"], 1),
                           mean=fmt(top["mean.performance"], 1)))
        else:
            out.append(b.t("summary.finding_driver_share" if share
                           else "summary.finding_driver",
                           construct=b.name(top["construct"]), target=b.name(ipa.target),
                           importance=fmt_pct(top["importance"]) if share
                           else fmt(top["importance"]), performance=fmt(top["performance"], 1),
                           mean=fmt(top["mean.performance"], 1)))
        urgent = c[c["quadrant"] == "concentrate_here"]
        urgent = urgent[urgent["construct"] != top["construct"]]
        if len(urgent):
            u = urgent.iloc[0]
            out.append(b.t("summary.finding_concentrate", construct=b.name(u["construct"]),
                           performance=fmt(u["performance"], 1),
                           mean=fmt(u["mean.performance"], 1)))
    if items and items.get("weakest_item"):
        w = items["weakest_item"]
        out.append(b.t("summary.finding_item", text=w["text"], item=w["item"],
                       top=fmt_pct(w["top"], 0), bottom=fmt_pct(w["bottom"], 0)))
    if items and items.get("nps_sentence"):
        out.append(items["nps_sentence"])
    groups = b.a.compare
    if groups is not None and len(groups.tests):
        t = groups.tests
        key = t[(t["family"] == "means") & t["construct"].isin([sat, loy])]
        sig = key[key["pvalue.adjusted"] < 0.05]
        if len(sig):
            r = sig.sort_values("pvalue.adjusted").iloc[0]
            means = {k: v for k, v in r["groups"].items() if isinstance(v, dict)
                     and not _missing(v.get("mean"))}
            hi = max(means, key=lambda k: means[k]["mean"])
            lo = min(means, key=lambda k: means[k]["mean"])
            out.append(b.t("summary.finding_group", construct=b.name(r["construct"]),
                           by=b._group_name(r["by"]),
                           high=b._category(r["by"], hi, means[hi]),
                           high_mean=fmt(means[hi]["mean"], 1),
                           low=b._category(r["by"], lo, means[lo]),
                           low_mean=fmt(means[lo]["mean"], 1)))
        elif len(key) and key["pvalue.adjusted"].notna().any():
            out.append(b.t("summary.finding_no_group", n=fmt(len(key)),
                           p=fmt_p(key["pvalue.adjusted"].min())))
    return out[:MAX_FINDINGS]


def _driver_chart(b: Any) -> str | None:
    """Importance of every driver of satisfaction, largest first, coloured by quadrant."""
    ipa = b.a.ipa
    if ipa is None or not len(ipa.constructs):
        return None
    c = ipa.constructs
    share = "importance.method" in c.columns and (c["importance.method"] != "total_effect").any()
    if share:
        c = c[c["importance.method"] != "total_effect"]
    quads = [str(q) for q in c["quadrant"]]
    legend = [(QUADRANT_COLOURS[k], b.t(f"quadrants.{k}")) for k in QUADRANT_COLOURS
              if k in quads]

    def col(name: str) -> list[float | None]:
        if name not in c.columns:
            return [None] * len(c)
        return [None if _missing(v) else float(v) for v in c[name]]

    return charts.driver_bars(
        [b.name(x) for x in c["construct"]], [float(v) for v in c["importance"]],
        col("importance.ci.lower"), col("importance.ci.upper"),
        [QUADRANT_COLOURS.get(q, charts.GREY) for q in quads],
        b.t("charts.importance_share" if share else "charts.importance"), legend,
        percent=bool(share))


def _driver_note(b: Any) -> str | None:
    ipa = b.a.ipa
    if ipa is None or not len(ipa.constructs):
        return None
    if getattr(b.a, "pls", None) is not None:  # the IPMA's importance, not R² shares
        return b.t("pls.driver_note", target=b.name(ipa.target))
    return b.t("summary.driver_note", target=b.name(ipa.target))
