"""The model chapter and the methods lines when PLS path modelling is the estimator.

:func:`pls_model_section` replaces the CB-SEM chapter of
:meth:`satisfaction.report.context._Builder.model` when ``analysis.pls`` is set
(:mod:`satisfaction.pls_pipeline`): which estimator and why, the path diagram
and the paths with their percentile bootstrap intervals, R² and adjusted R²,
the standardized direct, indirect and total effects with intervals; and, for
the measurement chapter, the reliability (α, ρA, ρC, AVE) and HTMT (with
intervals) of the PLS composites.
It returns the keys the template's model chapter reads (``diagram``,
``verdict``, ``paths``, ``r2``, ``effects``, ...) plus ``estimator_note``,
``diagram_note``, ``extra`` (more tables) and ``assessment`` (the reliability and
HTMT tables, which :func:`pls_measurement` moves to the measurement chapter: the
measurement evidence of the model that was used). :func:`pls_methods` adds the
estimator to the methods appendix, and :func:`pls_drivers_note` says what the
importance-performance map measures under PLS. Texts: catalog section ``pls``.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from satisfaction.report import charts
from satisfaction.report.cells import Cell, _missing, fmt, num, plain


def _reason(b: Any) -> str:
    """Why PLS: the questionnaire's choice, a formative construct, or the fallback
    naming every gate the CB-SEM solution failed (each in the report language)."""
    choice = b.a.options.get("estimator") or {}
    reason = choice.get("reason", "questionnaire")
    if reason != "fallback":
        return b.t(f"pls.reason_{reason}")
    sem = b.a.sem
    gates = [d.text(b.lang, b.name) for d in getattr(sem, "warnings", [])
             if d.severity == "invalidates"]
    return b.t("pls.reason_fallback", gates=b.t("meta.list_sep").join(gates) or "–")


def _interval(lo: Any, hi: Any) -> Cell:
    if _missing(lo) or _missing(hi):
        return Cell("", None)
    return Cell(f"[{fmt(lo)}, {fmt(hi)}]", (plain(lo), plain(hi)))


def _excludes_zero(lo: Any, hi: Any) -> bool:
    return not (_missing(lo) or _missing(hi)) and (float(lo) > 0 or float(hi) < 0)


def _boot(result: Any) -> pd.DataFrame:
    cols = ["kind", "from", "to", "se", "ci.lower", "ci.upper"]
    boot = result.bootstrap
    if boot is None:
        return pd.DataFrame(columns=cols).set_index(["kind", "from", "to"])
    return boot[cols].set_index(["kind", "from", "to"])


def _lookup(boot: pd.DataFrame, kind: str, a: str, b: str) -> tuple[Any, Any, Any]:
    if (kind, a, b) not in boot.index:
        return None, None, None
    r = boot.loc[(kind, a, b)]
    return r["se"], r["ci.lower"], r["ci.upper"]


def _diagram(b: Any, result: Any, boot: pd.DataFrame) -> str | None:
    """The path diagram: constructs in columns by their longest chain of predecessors."""
    paths = result.paths
    order = [c for c in result.model.constructs
             if c in set(paths["from"]) | set(paths["to"])]
    if not order:
        return None
    preds: dict[str, set[str]] = {c: set() for c in order}
    for r in paths.to_dict("records"):
        preds[r["to"]].add(r["from"])
    depth: dict[str, int] = {}

    def column(v: str, seen: tuple[str, ...] = ()) -> int:
        if v not in depth:
            depth[v] = 0 if not preds[v] or v in seen else \
                1 + max(column(p, (*seen, v)) for p in preds[v])
        return depth[v]

    r2 = result.r2["r2"]
    nodes = [{"id": c, "label": b.name(c), "column": column(c),
              "r2": f"R² = {fmt(r2[c], 2)}" if c in r2.index else ""} for c in order]
    nodes.sort(key=lambda n: n["column"])
    edges = []
    for r in paths.to_dict("records"):
        _, lo, hi = _lookup(boot, "path", r["from"], r["to"])
        sig = _excludes_zero(lo, hi)
        edges.append({"from": r["from"], "to": r["to"],
                      "label": fmt(r["est"], 2) + ("*" if sig else ""), "significant": sig})
    return charts.path_diagram(nodes, edges)


def pls_model_section(b: Any) -> dict[str, Any]:
    """The model chapter from ``analysis.pls`` (see the module docstring)."""
    fit = b.a.pls
    result = fit.result
    boot = _boot(result)
    info = result.bootstrap_info or {}
    draws = info.get("succeeded")
    paths = b.table("pls_paths", b.t("pls.paths"),
                    [b.t("columns.path"), b.t("columns.estimate"), b.t("columns.ci"),
                     b.t("columns.se")], [False, True, True, True],
                    note=b.t("pls.intervals_note", draws=fmt(draws), seed=info.get("seed"))
                    if draws else b.t("pls.no_bootstrap"))
    for r in result.paths.to_dict("records"):
        se, lo, hi = _lookup(boot, "path", r["from"], r["to"])
        paths.add(f"{b.name(r['from'])} → {b.name(r['to'])}",
                  num(r["est"], flag=not _missing(lo) and not _excludes_zero(lo, hi)),
                  _interval(lo, hi), num(se))
    r2 = b.table("pls_r2", b.t("model.r2"),
                 [b.t("columns.construct"), b.t("columns.r2"), b.t("pls.r2_adj")],
                 [False, True, True])
    for c, row in result.r2.iterrows():
        r2.add(b.name(c), num(row["r2"]), num(row["r2.adj"]))
    effects = b.table("pls_effects", b.t("model.effects"),
                      [b.t("columns.from"), b.t("columns.to"), b.t("columns.direct"),
                       b.t("columns.ci"), b.t("columns.indirect"), b.t("columns.ci"),
                       b.t("columns.total"), b.t("columns.ci")],
                      [False, False, *[True] * 6], note=b.t("pls.effects_note"))
    for r in fit.effects.to_dict("records"):
        cells: list[Cell | str] = [b.name(r["from"]), b.name(r["to"])]
        for m in ("direct", "indirect", "total"):
            value = r.get(m)
            # no path, or no indirect route: absent, not 0 [0, 0]
            if _missing(value) or (m != "total" and float(value) == 0.0):
                cells += [Cell("–", None), Cell("", None)]
            else:
                cells += [num(value), _interval(r.get(f"{m}.ci.lower"), r.get(f"{m}.ci.upper"))]
        effects.add(*cells)
    rel = b.table("pls_reliability", b.t("pls.reliability"),
                  [b.t("columns.construct"), "α", "ρA", "ρC", "AVE"],
                  [False, True, True, True, True], note=b.t("pls.reliability_note"))
    for c, row in fit.constructs.iterrows():
        rel.add(b.name(c), *(num(row[k], flag=row[k] < cut) for k, cut in
                             (("alpha", 0.7), ("rhoA", 0.7), ("cr", 0.7), ("ave", 0.5))))
    htmt = b.table("pls_htmt", b.t("pls.htmt"),
                   [b.t("columns.construct"), b.t("columns.construct"), "HTMT",
                    b.t("columns.ci")], [False, False, True, True], note=b.t("pls.htmt_note"))
    for r in fit.htmt_pairs.to_dict("records"):
        htmt.add(b.name(r["construct1"]), b.name(r["construct2"]),
                 num(r["htmt"], flag=r["htmt"] > 0.85),
                 _interval(r.get("ci.lower"), r.get("ci.upper")))
    status = fit.status
    verdict = {"ok": "good", "caution": "poor", "invalid": "inadmissible"}[status]
    return {"estimator_note": b.t("pls.estimator", reason=_reason(b)),
            "diagram": _diagram(b, result, boot), "diagram_note": b.t("pls.diagram_note"),
            "fit": None, "verdict": verdict,
            "verdict_text": b.t(f"pls.verdict_{status}", iterations=fmt(result.iterations),
                                n=fmt(int(result.n))),
            "verdict_short": b.t(f"pls.short_{status}"),
            "paths": paths, "r2": r2 if r2.rows else None, "effects": effects,
            "n_note": b.t("model.n_note", n=fmt(int(result.n))) + (
                " " + b.t("pls.mean_note") if fit.missing == "mean" else ""),
            "status": status,
            "invalid_note": b.t("model.invalid_note") if status == "invalid" else None,
            "extra": [], "assessment": {"reliability": rel, "htmt": htmt}}


def pls_measurement(b: Any, measurement: dict[str, Any] | None,
                    model: dict[str, Any] | None) -> dict[str, Any] | None:
    """Under PLS, the measurement chapter shows the measurement of the model used.

    The PLS composites' reliability (α, ρA, ρC, AVE) and HTMT with bootstrap
    intervals (:func:`pls_model_section`'s ``assessment``) become the chapter's
    evidence, under ``measurement["pls"]``. The CFA's reliability table (ω,
    composite reliability and AVE from the covariance-based CFA loadings) and the
    HTMT matrix without intervals leave the page: they describe a measurement model
    that was not used (a note says so); both stay in the Excel workbook, the CFA's
    under a title that says it is the CFA's. Without PLS, ``measurement["pls"]``
    is ``None`` and nothing changes.
    """
    if measurement is not None:
        measurement.setdefault("pls", None)
    if b.a.pls is None or model is None or not model.get("assessment"):
        return measurement
    assessment = model.pop("assessment")
    out = measurement if measurement is not None else dict.fromkeys(
        ("items", "reliability", "htmt", "efa"))
    cfa = out.get("reliability")
    if cfa is not None:  # in the workbook only, named as the CFA's
        cfa.pdf = False
        cfa.title = b.t("pls.cfa_reliability")
    if out.get("htmt") is not None:
        out["htmt"].pdf = False
    out["reliability"] = out["htmt"] = None
    out["pls"] = {**assessment,
                  "note": b.t("pls.measurement_note" if cfa is not None
                              else "pls.measurement_note_plain")}
    return out


def pls_drivers_note(b: Any, drivers: dict[str, Any] | None) -> None:
    """Under PLS the map's importance is the IPMA's (unstandardized total effect on the
    0-100 metric) and the index is the ACSI index: the chapter's note says so."""
    if drivers is None or b.a.pls is None or not drivers.get("ipa"):
        return
    drivers["ipa_note"] = b.t("pls.ipma_note", target=b.name(b.a.pls.target))


def pls_methods(b: Any, blocks: list[dict[str, Any]]) -> None:
    """Insert the estimator and why at the head of the methods' computation block."""
    if b.a.pls is None:
        return
    boot = getattr(b.a.pls.ipma, "index_intervals", None) is not None
    weighted = bool(getattr(b.a.pls.result, "weighted", False))  # weighted PLS
    lines = [b.t("pls.methods_weighted" if weighted else "pls.methods", reason=_reason(b),
                 draws=fmt((b.a.pls.result.bootstrap_info or {}).get("draws", 0))),
             b.t("pls.methods_index"),
             # without a bootstrap a weighted fit's construct rows carry svymean's
             # design-based normal interval (pls_pipeline.pls_indices), not a t-interval
             b.t("pls.index_interval_boot" if boot else "pls.index_interval_weighted"
                 if weighted else "pls.index_interval_t")]
    # the CB-SEM sentence, the loading-weighted index with its t-interval and the
    # Shapley-importance sentence give way to PLS's
    replaced = {b.t("methods.estimator", missing=b.t(k)) for k in
                ("methods.fiml", "methods.listwise")} | {b.t("methods.importance"),
                                                        b.t("appendix.indices"),
                                                        b.t("methods.indices_weighted")}
    for block in blocks:  # the glossary defines the PLS reliabilities the chapter shows
        if block.get("title") == b.t("methods.glossary_title"):
            block["terms"] += [(b.t("pls.rho_a_term"), b.t("pls.rho_a")),
                               (b.t("pls.rho_c_term"), b.t("pls.rho_c"))]
    if b.a.pls.missing == "mean":  # PLS replaced empty cells by item means: that, not
        # the CB-SEM's FIML or listwise deletion, is how the model used handled them
        covariance = {b.t("methods.missing_fiml"), b.t("methods.missing_listwise")}
        kept = [x for x in blocks[0]["lines"] if x not in covariance]
        blocks[0]["lines"][:] = [*kept[:1], b.t("pls.mean_note"), *kept[1:]]
    for block in blocks:
        if block.get("title") == b.t("methods.computation"):
            block["lines"][:] = lines + [x for x in block["lines"] if x not in replaced]
            return
    blocks.insert(0, {"title": b.t("methods.computation"), "lines": lines, "terms": []})


__all__ = ["pls_drivers_note", "pls_measurement", "pls_methods", "pls_model_section"]
