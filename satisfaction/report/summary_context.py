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

from pathlib import Path
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
#: Drivers named in a finding that several drivers lead together, at most.
MAX_LEADERS = 4
#: Sentences on the change since the previous wave among the findings, at most.
MAX_WAVE_FINDINGS = 2
#: Limitations listed on the summary page, at most (all of them are in the appendix).
MAX_LIMITATIONS = 4


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
    # the page shows the first few of those that concern the results shown (those
    # that invalidate come first); all of them stand in the appendix's list of warnings
    shown = _concerning_shown_results(b, limitations)[:MAX_LIMITATIONS]
    more = len(limitations) - len(shown)
    survey = None if recs is None else [r for r in recs if r.get("condition")
                                        in SURVEY_CONDITIONS][:3]
    return {"cards": cards,
            "limitations": shown,
            "limitations_intro": b.t("summary.limitations_intro") if limitations else None,
            "limitations_more": b.t("summary.limitations_more", n=fmt(more)) if more > 0
            else None,
            # the card names the verdict; the sentence only when it is not a good fit
            # (the page must stay one: tests/test_report_layout.py)
            "fit": None if model is None else {"short": model["verdict_short"],
                                               "text": "" if model["verdict"] == "good"
                                               else model["verdict_text"],
                                               "verdict": model["verdict"]},
            "actions": survey,
            "findings": _findings(b, rows, drivers, items),
            "driver_chart": _driver_chart(b),
            "driver_note": _driver_note(b),
            "top_stage": (drivers or {}).get("top_stage"),
            "weights_note": _weights_note(b)}


def _weights_note(b: Any) -> str | None:
    """A weighted survey's summary says so beside the cards: the weighting method and
    the Kish effective sample size (the methods appendix has the whole paragraph)."""
    weighted = getattr(b.a, "weighted", None)
    if weighted is None:
        return None
    w = weighted.weights
    return b.t("summary.weights_note", method=b.label("weighting.methods", w.method),
               effective_n=fmt(w.effective_n, 1), n=fmt(len(w.weights)))


def _concerning_shown_results(b: Any, limitations: list[dict[str, str]]
                              ) -> list[dict[str, str]]:
    """The limitations that concern a result the report shows.

    Under PLS (the questionnaire's choice or the fallback from an inadmissible
    CB-SEM) the covariance-based estimates are not shown: the CFA's diagnostics
    and the CB-SEM's cautions (its fit indices) describe a model that was not used,
    and the cautions of the regression behind the Shapley shares describe an
    importance that is not shown (the IPMA's total effect is). The fallback
    caution comes first (it names the CB-SEM's failed gates as the reason for PLS),
    the CB-SEM's invalidating gates after it. The others are counted in the page's
    "further limitations" line and listed in the appendix.
    """
    if getattr(b.a, "pls", None) is None:
        return limitations
    # the fallback first: it says why PLS is used and which gates the CB-SEM failed
    fallback = [d.text(b.lang, b.name) for d in (w.diagnostic for w in b.a.warnings)
                if d.code == "estimator_pls_fallback"]
    limitations = sorted(limitations, key=lambda lim: lim["text"] not in fallback)
    sem_warnings = list(getattr(b.a.sem, "warnings", None) or [])
    unused = set()
    for w in b.a.warnings:
        d = w.diagnostic
        from_cfa = d.scope is not None and d.scope[0] == "cfa"
        sem_caution = d.severity != "invalidates" and w.stage == "model" \
            and any(d == x for x in sem_warnings)
        # the regression behind the Shapley shares (satisfaction/importance.py): under
        # PLS the importance shown is the IPMA's total effect, not the share
        shapley = w.stage == "drivers" and d.code.startswith("importance_")
        if from_cfa or sem_caution or shapley:
            unused.add(d.text(b.lang, b.name))
    return [lim for lim in limitations if lim["text"] not in unused]


def summary_waves(b: Any, summary: dict[str, Any], previous: dict[str, Any] | None,
                  waves: Any) -> None:
    """The previous wave on the summary page, without a block of its own.

    The headline cards already carry their change (:mod:`.waves_context`); the
    sentences on the significant changes (or the one saying none changed), at most
    :data:`MAX_WAVE_FINDINGS`, join the findings right after the headline index, and
    one note line says where the previous wave comes from and how a change is tested
    (the full table stands in the drivers chapter). Sets ``summary["waves_note"]``.
    """
    summary["waves_note"] = None
    if previous is None or waves is None:
        return
    sentences = list(previous.get("sentences") or [])[:MAX_WAVE_FINDINGS]
    findings = summary["findings"]
    summary["findings"] = (findings[:1] + sentences + findings[1:])[:MAX_FINDINGS]
    summary["waves_note"] = b.t(
        "summary.waves_note", n=fmt(waves.previous_n) if waves.previous_n else "–",
        source=Path(waves.source).name or "–", k=fmt(len(waves.changes)))


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
        leaders = _leaders(c)
        if len(leaders) > 1:  # no winner: the top intervals overlap
            out.append(_tied_finding(b, leaders, ipa.target, share))
        elif getattr(b.a, "pls", None) is not None and not share:  # the IPMA's importance
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
        # a weighted survey: the design-based tests decide (weighted_context.weighted_marks)
        padj = "weighted.pvalue.adjusted" if "weighted.pvalue.adjusted" in t.columns \
            else "pvalue.adjusted"
        sig = key[key[padj] < 0.05]
        if len(sig):
            r = sig.sort_values(padj).iloc[0]
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
        elif len(key) and key[padj].notna().any():
            out.append(b.t("summary.finding_no_group", n=fmt(len(key)),
                           p=fmt_p(key[padj].min())))
    return out[:MAX_FINDINGS]


def _leaders(c: Any) -> Any:
    """The drivers that lead together: the largest importance and every driver of the
    same kind whose interval overlaps its interval.

    ``c`` is sorted by importance, largest first. Two drivers whose 95% intervals
    overlap are not called different (a conservative reading: non-overlap of two
    95% intervals implies a difference at about the 0.6 % level, Schenker &
    Gentleman 2001). Without intervals the first driver leads alone.
    """
    top = c.iloc[0]
    if "importance.method" in c.columns:
        c = c[c["importance.method"] == top["importance.method"]]
    lo, hi = top.get("importance.ci.lower"), top.get("importance.ci.upper")
    if _missing(lo) or _missing(hi):
        return c.iloc[:1]
    rest = c.iloc[1:]
    overlap = ((rest["importance.ci.upper"] >= float(lo))
               & (rest["importance.ci.lower"] <= float(hi)))
    return c[[True, *overlap.tolist()]]


def _tied_finding(b: Any, leaders: Any, target: str, share: bool) -> str:
    """``A (0.584 [0.396, 0.747]), B (…) and C (…) lead the drivers of T together``."""
    def value(v: Any) -> str:
        return fmt_pct(v) if share else fmt(v)

    names = [b.t("summary.driver_leader", construct=b.name(r["construct"]),
                 importance=value(r["importance"]), lower=value(r["importance.ci.lower"]),
                 upper=value(r["importance.ci.upper"]))
             for r in leaders.head(MAX_LEADERS).to_dict("records")]
    more = len(leaders) - len(names)
    if more > 0:
        names.append(b.t("summary.driver_leaders_more", n=fmt(more)))
    listed = b.t("meta.list_sep").join(names[:-1]) + b.t("summary.list_and") + names[-1]
    return b.t("summary.finding_driver_tied", leaders=listed, target=b.name(target))


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
