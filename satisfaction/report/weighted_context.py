"""The report of a weighted survey: its indices and group means are the weighted ones.

When the questionnaire declares respondent weights (``weighting`` or ``weight``) the
pipeline computes the weighted figures beside the unweighted ones
(:func:`satisfaction.weights.weighted_analysis`, in the JSON's ``weighting``). The
report shows the weighted ones: :func:`weighted_view` hands the report builder a
copy of the analysis whose index tables (constructs, purchase stages, item
performance) carry the weighted mean of each respondent index with its linearised
SE and normal interval, and whose group comparisons carry each group's weighted
mean with its design-based interval — R's ``svymean`` and ``svyby`` on
``svydesign(ids = ~1, weights = ~w)``, computed by
:func:`satisfaction.weights.weighted_mean` (tested against
``tests/reference/survey_weights.R``). The unweighted tests stay in the chapter's
table; the design-based tests (:func:`weighted_tests`), adjusted over the family of
the tests of means as the unweighted ones are (:func:`weighted_marks`), decide the
chapter's findings and the chart's marks. :func:`weighted_tests_table` shows them in
the appendix and
:func:`weighting_lines` is the methods appendix's paragraph on the weights. The
analysis object itself is not changed, so the JSON keeps both versions.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from satisfaction.report.cells import fmt
from satisfaction.weights import weighted_group_test, weighted_mean

#: The index columns replaced by their weighted counterparts.
INDEX_COLUMNS = ("index", "se", "ci.lower", "ci.upper")


def _weighted_rows(frame: pd.DataFrame, key: str, values: dict[str, pd.Series],
                   weights: pd.Series, level: float) -> pd.DataFrame:
    """``frame`` with ``index se ci.lower ci.upper`` (and ``n``, ``n_eff``, ``deff``)
    of each row replaced by the weighted mean of ``values[row[key]]``; rows without
    respondent values keep theirs."""
    out = frame.copy()
    if not len(out):
        return out
    out["n_eff"] = np.nan
    out["deff"] = np.nan
    for i, name in zip(out.index, out[key], strict=True):
        series = values.get(name)
        if series is None:
            continue
        w = weights.reindex(series.index).to_numpy(dtype=float)
        m = weighted_mean(series.to_numpy(dtype=float), w, level)
        out.loc[i, list(INDEX_COLUMNS)] = [m["mean"], m["se"], m["ci.lower"], m["ci.upper"]]
        out.loc[i, ["n", "n_eff", "deff"]] = [m["n"], m["n_eff"], m["deff"]]
    return out


def weighted_indices(indices: Any, questionnaire: Any, data: pd.DataFrame,
                     weights: pd.Series, constructs: bool = True) -> Any:
    """A copy of an :class:`~satisfaction.drivers.IndexResult` with weighted indices.

    Constructs and stages from the respondent scores (``scores``, stage columns
    ``stage:<id>``), items from their 0-100 item scores
    (:func:`satisfaction.drivers.item_scores`); each row's ``index`` is
    ``Σ w_i y_i / Σ w_i`` over the weighted respondents with a value, ``se`` the
    ``svymean`` SE and the interval normal (``confint``); ``n_eff`` and ``deff`` are
    added. Only respondents with a weight count. ``constructs=False`` keeps the
    construct rows as they are (a weighted PLS fit has weighted them already, with
    the weighted bootstrap's interval when there is one).
    """
    from satisfaction.drivers import item_scores

    out = copy.copy(indices)
    scores = indices.scores.loc[indices.scores.index.intersection(weights.index)]
    level = getattr(indices, "level", 0.95)
    if constructs:
        out.constructs = _weighted_rows(indices.constructs, "construct",
                                        {c: scores[c] for c in scores.columns}, weights,
                                        level)
    if len(indices.stages):
        out.stages = _weighted_rows(indices.stages, "stage",
                                    {c.split(":", 1)[1]: scores[c] for c in scores.columns
                                     if str(c).startswith("stage:")}, weights, level)
    if len(indices.items):
        frame = data.loc[data.index.intersection(weights.index)]
        items = item_scores(questionnaire, frame)
        out.items = _weighted_rows(indices.items, "item",
                                   {c: items[c] for c in items.columns}, weights, level)
    return out


def weighted_group_means(cmp: Any, questionnaire: Any, data: pd.DataFrame,
                         scores: pd.DataFrame, weights: pd.Series, level: float = 0.95
                         ) -> Any:
    """A copy of a :class:`~satisfaction.compare.CompareResult` whose tests of means
    carry each group's weighted mean (``mean``, ``se``, ``ci.lower``, ``ci.upper``,
    ``n_eff``; ``svyby(~y, ~g, design, svymean)``: domain estimates of the whole
    design, :func:`satisfaction.weights.weighted_group_test`, normal interval) in place
    of the unweighted ``mean`` and ``sd`` in ``groups``. Test statistics are unchanged."""
    out = copy.copy(cmp)
    tests = cmp.tests.copy()
    if not len(tests) or "groups" not in tests.columns:
        return out
    frame = data.loc[data.index.intersection(weights.index)]
    w = weights.reindex(frame.index)
    z = float(stats.norm.ppf(0.5 + level / 2))
    new_groups = []
    for _, r in tests.iterrows():
        groups = r["groups"]
        if r.get("family") != "means" or not isinstance(groups, dict) or \
                r["construct"] not in scores.columns or r["by"] not in frame.columns:
            new_groups.append(groups)
            continue
        y = scores[r["construct"]].reindex(frame.index)
        try:  # domain means and SEs of the whole design, as svyby
            per = weighted_group_test(y, frame[r["by"]], w.to_numpy(dtype=float))["groups"]
        except ValueError:  # fewer than two groups with weighted respondents
            new_groups.append(groups)
            continue
        means = {str(g["group"]): g for g in per}
        weighted = {}
        for key, info in groups.items():
            m = means.get(str(key))
            if not isinstance(info, dict) or m is None:
                weighted[key] = info
                continue
            half = z * m["se"]
            weighted[key] = {**info, "mean": m["mean"], "se": m["se"], "sd": None,
                             "ci.lower": m["mean"] - half, "ci.upper": m["mean"] + half,
                             "n_eff": m["n_eff"], "weighted": True}
        new_groups.append(weighted)
    tests["groups"] = new_groups
    out.tests = tests
    return out


def weighted_tests(weighted: Any) -> pd.DataFrame:
    """The design-based tests of every index across every categorical group
    (``analysis.weighted.group_tests``: ``svyttest``, ``regTermTest`` Wald F)."""
    tests = getattr(weighted, "group_tests", None)
    return tests if tests is not None else pd.DataFrame()


def weighted_tests_table(b: Any) -> Any:
    """The design-based tests of every index across every categorical group as a
    report table (``construct by test statistic df p p_adj n``; ``svyttest`` for two
    groups, the Wald F of ``regTermTest`` for more; ``p_adj`` adjusted over the
    family of the chapter's tests of means, :func:`weighted_marks`, blank for the
    others), or None without weights. ``b`` is the report builder."""
    from satisfaction.report.cells import Cell, _missing, fmt_p_cell, num, plain

    weighted = getattr(b.a, "weighted", None)
    tests = weighted_tests(weighted)
    if not len(tests):
        return None
    table = b.table("group_tests_weighted", b.t("groups.weighted_tests"),
                    [b.t("columns.construct"), b.t("columns.by"), b.t("columns.test"),
                     b.t("columns.statistic"), b.t("columns.df"), b.t("columns.pvalue"),
                     b.t("columns.padj"), b.t("columns.n")],
                    [False, False, False, True, True, True, True, True],
                    note=b.t("groups.weighted_tests_note"))
    for _, r in tests.iterrows():
        try:
            g = b.q.group(r["by"])
            by = g.name.get(b.lang) if g.name else g.id
        except KeyError:
            by = str(r["by"])
        df = fmt(r["df"], 0) if _missing(r.get("df2")) else \
            f"{fmt(r['df'], 0)}, {fmt(r['df2'], 0)}"
        padj = r.get("pvalue.adjusted", np.nan)
        construct = str(r["construct"])  # a stage's index is "stage:<id>"
        name = b.stage(construct.split(":", 1)[1]) if construct.startswith("stage:") \
            else b.name(construct)
        table.add(name, by, b.label("tests", r["test"]),
                  num(r["statistic"]), Cell(df, plain(r["df"])),
                  Cell(fmt_p_cell(r["pvalue"]), plain(r["pvalue"])),
                  Cell(fmt_p_cell(padj), plain(padj), not _missing(padj) and padj < 0.05),
                  (fmt(int(r["n"])), int(r["n"])))
    return table


#: The columns a test of means gets from its design-based counterpart.
MARK_COLUMNS = ("weighted.test", "weighted.statistic", "weighted.pvalue",
                "weighted.pvalue.adjusted")


def weighted_marks(cmp: Any, weighted: Any) -> tuple[Any, pd.DataFrame]:
    """The design-based tests behind a weighted report's findings and chart marks.

    Each unweighted test of means (``family == "means"``: an index across a group
    variable) is paired with the design-based test of the same index and group
    (:func:`weighted_tests`: ``svyttest`` or the Wald F of ``regTermTest``); their
    p-values are adjusted over that family with the comparison's own method
    (``cmp.adjust``, Holm by default; :func:`satisfaction.compare.adjust_pvalues`,
    R's ``p.adjust``), as the unweighted ones are. Returns a copy of ``cmp`` whose
    tests carry :data:`MARK_COLUMNS` (NaN for rows without a design-based test) and
    the design-based tests with ``pvalue.adjusted`` (NaN outside the family).
    """
    from satisfaction.compare import adjust_pvalues

    tests = weighted_tests(weighted).copy()
    out = copy.copy(cmp)
    frame = cmp.tests.copy()
    for col in MARK_COLUMNS:
        frame[col] = np.nan if col != "weighted.test" else None
    if len(tests):
        tests["pvalue.adjusted"] = np.nan
    if not len(frame) or not len(tests) or "family" not in frame.columns:
        out.tests = frame
        return out, tests
    means = frame["family"] == "means"
    wanted = set(zip(frame.loc[means, "construct"].astype(str),
                     frame.loc[means, "by"].astype(str), strict=True))
    key = list(zip(tests["construct"].astype(str), tests["by"].astype(str), strict=True))
    member = np.array([k in wanted for k in key], dtype=bool)
    if member.any():
        tests.loc[member, "pvalue.adjusted"] = adjust_pvalues(
            tests.loc[member, "pvalue"].to_numpy(dtype=float), getattr(cmp, "adjust", "holm"))
    lookup = {k: r for k, r, m in zip(key, tests.to_dict("records"), member, strict=True)
              if m}
    for i in frame.index[means]:
        r = lookup.get((str(frame.at[i, "construct"]), str(frame.at[i, "by"])))
        if r is not None:
            frame.loc[i, list(MARK_COLUMNS)] = [r["test"], r["statistic"], r["pvalue"],
                                                r["pvalue.adjusted"]]
    out.tests = frame
    return out, tests


def weighted_view(analysis: Any) -> Any:
    """The analysis as the report of a weighted survey shows it: a shallow copy with
    weighted ``indices`` (:func:`weighted_indices`), weighted group means in
    ``compare`` (:func:`weighted_group_means`) whose tests of means carry their
    design-based test with the family's adjusted p-value (:func:`weighted_marks`: the
    chapter's findings and chart marks use it), and ``weighted.group_tests`` with
    those adjusted p-values; the analysis itself when it has no weights."""
    weighted = getattr(analysis, "weighted", None)
    if weighted is None:
        return analysis
    w = weighted.weights.weights
    view = copy.copy(analysis)
    data = analysis.responses.data
    if analysis.indices is not None:
        pls = getattr(analysis, "pls", None)  # weighted PLS weighted its construct rows
        done = bool(getattr(getattr(pls, "result", None), "weighted", False))
        view.indices = weighted_indices(analysis.indices, analysis.questionnaire, data, w,
                                        constructs=not done)
        if analysis.compare is not None:
            view.compare = weighted_group_means(analysis.compare, analysis.questionnaire,
                                                data, analysis.indices.scores, w)
            view.compare, tests = weighted_marks(view.compare, weighted)
            view.weighted = copy.copy(weighted)
            view.weighted.group_tests = tests
    return view


def weighting_lines(b: Any) -> list[str]:
    """The methods appendix on the weights: method, trimming, Kish design effect,
    effective n, respondents without a weight and what is and is not weighted, which
    depends on the structural model used (``methods.weighting`` for the CB-SEM,
    ``methods.weighting_pls`` for weighted PLS); empty without weights."""
    weighted = getattr(b.a, "weighted", None)
    if weighted is None:
        return []
    w = weighted.weights
    trim = "" if w.trim is None else b.t("methods.weighting_trim", low=fmt(w.trim[0], 2),
                                         high=fmt(w.trim[1], 2), n=fmt(int(w.trimmed)))
    pls = getattr(getattr(b.a, "pls", None), "result", None)  # weighted PLS used
    key = "methods.weighting_pls" if getattr(pls, "weighted", False) else "methods.weighting"
    return [b.t(key, method=b.label("weighting.methods", w.method),
                trim=trim, design_effect=fmt(w.design_effect, 2),
                effective_n=fmt(w.effective_n, 1), n=fmt(len(w.weights)),
                excluded=fmt(int(sum(w.excluded.values()))))]


__all__ = ["MARK_COLUMNS", "weighted_group_means", "weighted_indices", "weighted_marks",
           "weighted_tests", "weighted_tests_table", "weighted_view", "weighting_lines"]
