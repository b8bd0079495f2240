"""The methods-and-limitations appendix of the report.

How every number of the report was obtained, in the report language: the
missing-data method actually used, how indices, importance, quadrants and
priorities are computed, the group tests, the box scores and NPS, the RFM
segment rules (read from :data:`satisfaction.value.rfm.DEFAULT_SEGMENTS`), the
lifecycle rules with the factors used, the CLV horizon, discount rate, basis and
currency, and a glossary. Texts come from the catalog section ``methods``.
"""

from __future__ import annotations

from typing import Any

from satisfaction.report.cells import fmt, fmt_pct
from satisfaction.report.weighted_context import weighting_lines
from satisfaction.value.core import MODEL_NAMES
from satisfaction.value.rfm import DEFAULT_SEGMENTS


def methods_section(b: Any) -> list[dict[str, Any]]:
    """Blocks ``{"title": str, "lines": [str], "terms": [(term, definition)]}``."""
    a = b.a
    blocks: list[dict[str, Any]] = []
    fiml = a.options.get("sem_missing") == "fiml"
    missing = [b.t("methods.missing_fiml" if fiml else "methods.missing_listwise"),
               b.t("methods.missing_indices")]
    blocks.append({"title": b.t("methods.data"), "lines": [
        b.t("methods.sample", loaded=fmt(a.responses.log.loaded),
            analysed=fmt(a.responses.log.analysed)), *missing], "terms": []})
    cmp = a.compare
    # a weighted survey's report shows weighted indices and box scores with
    # design-based intervals (normal; shares logit), not t, Wilson and Wald intervals
    weighted = getattr(a, "weighted", None) is not None
    blocks.append({"title": b.t("methods.computation"), "lines": [
        b.t("methods.estimator", missing=b.t("methods.fiml" if fiml else "methods.listwise")),
        # the weighted CB-SEM's sentence only when the CB-SEM is the structural model
        # (a weighted PLS report says how PLS is weighted in methods.weighting_pls)
        *([b.t("methods.sem_weighted")]
          if a.options.get("sem_weighted") and getattr(a, "pls", None) is None else []),
        *weighting_lines(b),
        b.t("methods.indices_weighted" if weighted else "appendix.indices"),
        b.t("methods.importance"), b.t("methods.quadrants"),
        b.t("methods.priority"),
        b.t("methods.tests_weighted" if weighted else "appendix.tests",
            adjust=b.label("adjust", cmp.adjust if cmp is not None else "holm")),
        b.t("methods.boxes_weighted" if weighted else "methods.boxes"),
        b.t("appendix.options", bootstrap=fmt(a.options.get("bootstrap")),
            seed=a.options.get("seed"))], "terms": []})
    if a.value is not None:
        vr = a.value["result"]
        rules = []
        for rule in DEFAULT_SEGMENTS:
            ranges = b.t("meta.list_sep").join(
                f"{k.upper()} {lo}–{hi}" if lo != hi else f"{k.upper()} {lo}"
                for k, (lo, hi) in (("r", rule.r), ("f", rule.f), ("m", rule.m))
                if (lo, hi) != (1, 5))
            rules.append((b.label("segments", rule.name), ranges))
        rules.append((b.label("segments", "others"), b.t("methods.rfm_others")))
        blocks.append({"title": b.t("methods.rfm_title"), "lines": [b.t("methods.rfm")],
                       "terms": rules})
        life = getattr(vr.lifecycle, "settings", {}) or {}
        blocks.append({"title": b.t("methods.lifecycle_title"),
                       "lines": [b.t("methods.lifecycle_intro",
                                     typical=fmt(getattr(vr.lifecycle, "typical_ipt", None),
                                                 0))],
                       "terms": [(b.label("lifecycle", s), b.t(
                           f"methods.lifecycle_{s}",
                           lapse=fmt(life.get("lapse_factor", 3.0), 1),
                           acquisition=fmt(life.get("acquisition_factor", 2.0), 1),
                           decline=fmt(life.get("decline_factor", 1.5), 1),
                           band=fmt(life.get("trend_band", 0.1), 1)))
                           for s in ("lapsed", "acquisition", "decline", "growth", "maturity")]})
        st = vr.settings
        models = b.t("meta.list_sep").join(MODEL_NAMES.get(m, m)
                                           for m in a.options.get("clv_models") or [])
        blocks.append({"title": b.t("methods.clv_title"), "lines": [b.t(
            "methods.clv", horizon=fmt(st["horizon"]), unit=b.t(f"value.units.{st['time_unit']}"),
            discount=fmt_pct(st["discount_rate_annual"], 0),
            basis=b.t("value.basis_margin" if st.get("margin") else "value.basis_revenue"),
            models=models or "–", end=st["period_end"])], "terms": []})
    else:
        blocks.append({"title": b.t("sections.value"), "lines": [b.t("value.not_given")],
                       "terms": []})
    if cmp is None and not b.q.groups:
        blocks[1]["lines"].append(b.t("groups.not_run"))
    glossary = [(b.t(f"methods.glossary.{k}.term"), b.t(f"methods.glossary.{k}.text"))
                for k in ("alpha", "omega", "cr", "ave", "htmt", "citc", "fiml", "r2",
                          "shapley", "top2", "nps", "rfm", "clv", "p_alive", "gini")]
    blocks.append({"title": b.t("methods.glossary_title"), "lines": [], "terms": glossary})
    return blocks
