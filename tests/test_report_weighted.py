"""The report of a weighted survey shows the weighted figures (issue 17).

Reference: R's survey package (tests/reference/survey_weights.R, JSON beside it):
the bank survey raked to gender 0.5/0.5 and segment A 0.3 / B 0.3 / C 0.4, then
``svymean`` (item means, the top-2-box share I(x >= 9)) with ``svyciprop(method =
"logit")``, ``svymean`` of an index and ``svyby`` of it by gender. The report's
item table, index tables, group means and methods appendix are checked against it
(1e-4) or against the weighted formulas evaluated here, in both languages.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import yaml

from satisfaction.questionnaire import Questionnaire
from satisfaction.resources import QUESTIONNAIRES
from satisfaction.responses import load_responses
from satisfaction.topbox import box_scores
from satisfaction.weights import compute_weights

from .conftest import SHARED

REFERENCE = Path(__file__).parent / "reference"
SURVEY = json.loads((REFERENCE / "survey_weights.json").read_text())
BANK = SHARED / "bank_satisfaction.csv"
Z975 = 1.959963984540054


def _questionnaire() -> Questionnaire:
    spec = yaml.safe_load((QUESTIONNAIRES / "ecsi_bank.yaml").read_text(encoding="utf-8"))
    spec["groups"] = [*spec.get("groups", []),
                      {"id": "segment", "type": "categorical",
                       "codes": {"A": "A", "B": "B", "C": "C"}},
                      {"id": "age", "type": "numeric", "name": {"en": "Age", "zh": "年龄"}}]
    spec["weighting"] = {"method": "rake", "margins": {
        "gender": {"female": 0.5, "male": 0.5}, "segment": {"A": 0.3, "B": 0.3, "C": 0.4}}}
    return Questionnaire.from_dict(spec)


def _frame() -> pd.DataFrame:
    frame = pd.read_csv(BANK, dtype={"respondent": str})
    number = frame["respondent"].str[1:].astype(int)
    frame["segment"] = np.where(number <= 100, "A", np.where(number <= 175, "B", "C"))
    frame["age"] = 20 + (np.arange(len(frame)) * 7) % 50  # a numeric group variable
    return frame


@pytest.fixture(scope="module")
def bank():
    q = _questionnaire()
    data = load_responses(q, _frame()).data
    weights = compute_weights(q, data)
    np.testing.assert_allclose(weights.weights.to_numpy(), SURVEY["rake"]["weights"],
                               atol=1e-6, rtol=0)
    return q, data, weights


def test_weighted_box_scores_match_svymean_and_svyciprop(bank):
    q, data, weights = bank
    result = box_scores(q, data, weights=weights.weights)
    assert result.weighted
    for ref in SURVEY["items"]:
        row = result.items.loc[ref["item"]]
        assert row["mean"] == pytest.approx(ref["mean"], abs=1e-4)
        assert row["mean.se"] == pytest.approx(ref["se"], abs=1e-4)
        assert row["top"] == pytest.approx(ref["top"], abs=1e-4)
        assert row["top.se"] == pytest.approx(ref["top_se"], abs=1e-4)
        assert [row["top.ci.lower"], row["top.ci.upper"]] == pytest.approx(ref["top_ci"],
                                                                           abs=1e-4)
        # the distribution is weighted: its top two points add up to the top-box share
        dist = result.distribution.loc[ref["item"]]
        assert dist[[9.0, 10.0]].sum() == pytest.approx(row["top"], abs=1e-12)
        assert dist.sum() == pytest.approx(1.0, abs=1e-12)
    # unweighted, the same call gives the plain shares (Wilson intervals)
    plain = box_scores(q, data)
    assert not plain.weighted
    assert plain.items.loc["sat1", "top"] == pytest.approx(
        float((data["sat1"] >= 9).mean()), abs=1e-12)
    assert plain.items.loc["sat1", "top"] != pytest.approx(SURVEY["items"][0]["top"], abs=1e-3)


def test_weighted_indices_and_group_means_match_svymean_and_svyby(bank):
    """An index as the R script defines it (mean of sat1-sat4 / 10 x 100) through the
    report's weighted index table and weighted group means."""
    from satisfaction.report.weighted_context import weighted_group_means, weighted_indices

    q, data, weights = bank
    score = data[["sat1", "sat2", "sat3", "sat4"]].mean(axis=1) / 10 * 100
    scores = pd.DataFrame({"Satisfaction": score})
    unweighted = pd.DataFrame([{"construct": "Satisfaction", "stage": "outcome",
                                "index": score.mean(), "se": 0.0, "ci.lower": 0.0,
                                "ci.upper": 0.0, "n": len(score)}])
    indices = SimpleNamespace(constructs=unweighted, stages=pd.DataFrame(),
                              items=pd.DataFrame(), scores=scores, level=0.95)
    view = weighted_indices(indices, q, data, weights.weights)
    ref = SURVEY["indices"][0]
    row = view.constructs.iloc[0]
    assert row["index"] == pytest.approx(ref["mean"], abs=1e-4)
    assert row["se"] == pytest.approx(ref["se"], abs=1e-4)
    assert row["deff"] == pytest.approx(ref["deff"], abs=1e-4)
    assert [row["ci.lower"], row["ci.upper"]] == pytest.approx(
        [ref["mean"] - Z975 * ref["se"], ref["mean"] + Z975 * ref["se"]], abs=1e-4)
    assert indices.constructs.iloc[0]["index"] == pytest.approx(score.mean())  # not changed
    tests = pd.DataFrame([{"construct": "Satisfaction", "by": "gender", "family": "means",
                           "test": "welch_t", "groups": {
                               "female": {"mean": 0.0, "sd": 1.0, "n": 1},
                               "male": {"mean": 0.0, "sd": 1.0, "n": 1}}}])
    cmp = SimpleNamespace(tests=tests)
    out = weighted_group_means(cmp, q, data, scores, weights.weights).tests.iloc[0]["groups"]
    by = SURVEY["by_gender"]
    for k, code in enumerate(["female", "male"]):
        assert out[code]["weighted"] is True
        assert out[code]["mean"] == pytest.approx(by["mean"][k], abs=1e-4)
        assert out[code]["se"] == pytest.approx(by["se"][k], abs=1e-4)
        assert out[code]["ci.upper"] - out[code]["mean"] == pytest.approx(
            Z975 * by["se"][k], abs=1e-4)
    assert tests.iloc[0]["groups"]["female"]["mean"] == 0.0  # the input is not changed


def test_report_figures_with_missing_answers_are_domains_as_in_r(bank):
    """sat1 and the index unanswered by 4 respondents: the report's weighted item row,
    index row and group means are R's svymean / svyciprop / svyby with na.rm = TRUE
    (the unanswered stay in the design; survey_weights.json, missing_answers)."""
    from satisfaction.report.weighted_context import weighted_group_means, weighted_indices

    q, data, weights = bank
    ref = SURVEY["missing_answers"]
    blank = data.copy()
    blank.loc[ref["respondent"], "sat1"] = np.nan
    row = box_scores(q, blank, weights=weights.weights).items.loc["sat1"]
    assert (row["n"], row["missing"]) == (246, 4)
    assert [row["mean"], row["mean.se"], row["top"], row["top.se"], row["top.ci.lower"],
            row["top.ci.upper"]] == pytest.approx(
        [ref["sat1"]["mean"], ref["sat1"]["se"], ref["sat1"]["top"], ref["sat1"]["top_se"],
         *ref["sat1"]["top_ci"]], abs=1e-8)
    score = data[["sat1", "sat2", "sat3", "sat4"]].mean(axis=1) / 10 * 100
    score[ref["respondent"]] = np.nan
    scores = pd.DataFrame({"Satisfaction": score})
    unweighted = pd.DataFrame([{"construct": "Satisfaction", "stage": "outcome",
                                "index": score.mean(), "se": 0.0, "ci.lower": 0.0,
                                "ci.upper": 0.0, "n": int(score.notna().sum())}])
    indices = SimpleNamespace(constructs=unweighted, stages=pd.DataFrame(),
                              items=pd.DataFrame(), scores=scores, level=0.95)
    got = weighted_indices(indices, q, blank, weights.weights).constructs.iloc[0]
    assert [got["index"], got["se"], got["deff"]] == pytest.approx(
        [ref["sat_index"]["mean"], ref["sat_index"]["se"], ref["sat_index"]["deff"]],
        abs=1e-8)
    tests = pd.DataFrame([{"construct": "Satisfaction", "by": "gender", "family": "means",
                           "test": "welch_t", "groups": {
                               "female": {"mean": 0.0, "sd": 1.0, "n": 1},
                               "male": {"mean": 0.0, "sd": 1.0, "n": 1}}}])
    out = weighted_group_means(SimpleNamespace(tests=tests), q, blank, scores,
                               weights.weights).tests.iloc[0]["groups"]
    assert [out["female"]["mean"], out["male"]["mean"]] == pytest.approx(
        ref["by_gender"]["mean"], abs=1e-8)
    assert [out["female"]["se"], out["male"]["se"]] == pytest.approx(
        ref["by_gender"]["se"], abs=1e-8)


def test_weighted_nps_is_the_svymean_of_the_promoter_score(bank):
    """NPS with weights: the weighted mean of 100 (promoter − detractor) with the
    linearised SE of svymean(na.rm = TRUE), N/(N−1) Σ w²(y − ȳ)² / (Σ w)² over the
    answered, N the whole design (the unanswered are a domain's zeros), written out
    here and against R (sat1 of the raked bank unanswered by 4 respondents)."""
    from satisfaction.topbox import net_promoter, weighted_net_promoter

    _, data, weights = bank
    ref = SURVEY["missing_answers"]
    sat1 = data["sat1"].reindex(weights.weights.index).copy()
    sat1[ref["respondent"]] = np.nan
    bank_nps = weighted_net_promoter(sat1, weights.weights.to_numpy())
    assert bank_nps["n"] == 246
    assert bank_nps["nps"] == pytest.approx(ref["nps"]["mean"], abs=1e-8)
    assert bank_nps["se"] == pytest.approx(ref["nps"]["se"], abs=1e-8)

    rng = np.random.default_rng(7)
    answers = rng.integers(0, 11, 300).astype(float)
    answers[::17] = np.nan
    w = rng.uniform(0.4, 2.5, 300)
    res = weighted_net_promoter(answers, w)
    keep = ~np.isnan(answers)
    x, wk = answers[keep], w[keep]
    y = 100 * ((x >= 9).astype(float) - (x <= 6).astype(float))
    mean = float(wk @ y / wk.sum())
    n, design = len(x), len(answers)
    se = float(np.sqrt(design / (design - 1) * np.sum((wk * (y - mean)) ** 2)
                       / wk.sum() ** 2))
    assert res["n"] == n
    assert res["nps"] == pytest.approx(mean, abs=1e-12)
    assert res["se"] == pytest.approx(se, abs=1e-12)
    assert [res["ci.lower"], res["ci.upper"]] == pytest.approx(
        [mean - Z975 * se, mean + Z975 * se], abs=1e-9)
    assert res["promoters"] - res["detractors"] == pytest.approx(mean / 100, abs=1e-12)
    # equal weights: the unweighted NPS, the SE larger by sqrt(N/(N-1)) only (N = 300,
    # the design, answered or not)
    flat = weighted_net_promoter(answers, np.ones(300))
    plain = net_promoter(answers)
    assert flat["nps"] == pytest.approx(plain["nps"], abs=1e-12)
    assert flat["se"] == pytest.approx(plain["se"] * np.sqrt(design / (design - 1)),
                                       rel=1e-12)


@pytest.fixture(scope="module")
def analysis():
    """The whole analysis of the raked bank survey (about 20 s)."""
    from satisfaction.pipeline import run

    return run(_questionnaire(), _frame(), bootstrap=0, seed=3, parallel=False)


def _weighted_mean(y: pd.Series, w: pd.Series) -> float:
    w = w.reindex(y.index)
    keep = y.notna() & w.notna()
    return float((y[keep] * w[keep]).sum() / w[keep].sum())


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_report_context_shows_the_weighted_figures(analysis, lang):
    from satisfaction.report.context import build_context

    assert analysis.weighted is not None
    w = analysis.weighted.weights.weights
    before = analysis.indices.constructs.copy()
    ctx = build_context(analysis, lang)
    tables = {t.key: t for t in ctx["tables"]}
    # item table: the weighted top-2-box shares (svymean) with svyciprop's interval
    by_item = {r[0].text: r for r in tables["items_box"].rows}
    for ref in SURVEY["items"]:
        row = by_item[ref["item"]]
        assert row[3].raw == pytest.approx(ref["top"], abs=1e-4)
        lo, hi = (float(v) for v in row[4].raw.split(","))
        assert [lo, hi] == pytest.approx(ref["top_ci"], abs=1e-4)
    assert "Kish" in tables["items_weakest"].note
    # the workbook's table also holds the weighted means and the design-based SEs
    for ref in SURVEY["items"]:
        row = by_item[ref["item"]]
        assert [c.raw for c in row[7:10]] == pytest.approx(
            [ref["mean"], ref["se"], ref["top_se"]], abs=1e-4)
    # index table: each construct's weighted mean of the respondent indices
    scores = analysis.indices.scores
    names = {analysis.questionnaire.construct(c).name.get(lang): c for c in scores.columns
             if not str(c).startswith("stage:")}
    rows = [r for r in tables["indices"].rows if r[0].text in names]
    assert len(rows) == len(names)
    for row in rows:
        construct = names[row[0].text]
        weighted = _weighted_mean(scores[construct], w)
        assert row[2].raw == pytest.approx(weighted, abs=1e-9)
        assert row[2].raw != pytest.approx(scores[construct].mean(), abs=1e-3)
    # the JSON's weighted index table holds the same numbers
    json_index = analysis.weighted.indices.set_index("construct")["index"]
    for row in rows:
        assert row[2].raw == pytest.approx(json_index[names[row[0].text]], abs=1e-12)
    # the methods appendix names the weighting, its design effect and effective n
    lines = [line for block in ctx["appendix"]["methods_blocks"] for line in block["lines"]]
    text = next(line for line in lines if "Kish" in line)
    assert f"{SURVEY['rake']['kish_deff']:.2f}" in text
    assert f"{SURVEY['rake']['effective_n']:.1f}" in text
    # the group chapter's means are weighted (note says so)
    assert ctx["groups"]["chart_note"] == ctx["t"].text("groups.chart_note_weighted")
    # the design-based group tests (svyttest, regTermTest: tests/test_compare_weights.py)
    # are listed in the appendix, one row per index and group variable
    tests = analysis.weighted.group_tests
    table = ctx["groups"]["weighted_tests"]
    assert table is tables["group_tests_weighted"] and len(table.rows) == len(tests) > 0
    for row, (_, ref) in zip(table.rows, tests.iterrows(), strict=True):
        if not ref["construct"].startswith("stage:"):
            assert row[0].text == analysis.questionnaire.construct(
                ref["construct"]).name.get(lang)
        else:  # a purchase stage's index, named as the stage
            assert row[0].text == ctx["t"].text(f"stages.{ref['construct'][6:]}")
        assert row[3].raw == pytest.approx(ref["statistic"], abs=1e-12)
        assert row[5].raw == pytest.approx(ref["pvalue"], abs=1e-15)
        assert row[7].raw == ref["n"]
    assert {r[2].text for r in table.rows} == {
        ctx["t"].text(f"tests.{k}") for k in set(tests["test"])}
    # the page renders with them: the weighted notes are on it
    from satisfaction.report.render import render_html

    html = render_html(ctx)
    assert ctx["groups"]["chart_note"][:30] in html and "Kish" in html  # (before any "<")
    # and the numeric group variable's correlations (segments chapter)
    from markupsafe import escape

    (sentence,) = ctx["groups"]["associations"]["sentences"]
    assert str(escape(sentence)) in html
    assert ctx["groups"]["associations"]["table"].title in html
    assert str(escape(table.title)) in html
    # the report does not change the analysis object (its JSON)
    pd.testing.assert_frame_equal(analysis.indices.constructs, before)


def _group_name(q: Questionnaire, gid: str, lang: str) -> str:
    g = q.group(gid)
    return g.name.get(lang) if g.name else g.id


def _holm(p: np.ndarray) -> np.ndarray:
    """Holm's step-down adjustment written out (p.adjust(method = "holm"))."""
    order = np.argsort(p)
    m = len(p)
    out = np.empty(m)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, (m - rank) * p[i])
        out[i] = min(1.0, running)
    return out


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_group_findings_and_marks_come_from_the_design_based_tests(analysis, lang):
    """A weighted report's group findings and panel marks: the design-based tests of
    the indices compared in the chapter (its tests of means), Holm-adjusted over that
    family as the unweighted ones; the appendix's table gives the same adjusted p."""
    from satisfaction.report.cells import fmt_p
    from satisfaction.report.context import build_context

    cmp = analysis.compare
    assert cmp.adjust == "holm"
    means = cmp.tests[cmp.tests["family"] == "means"]
    family = set(zip(means["construct"], means["by"], strict=True))
    tests = analysis.weighted.group_tests
    member = np.array([(c, b) in family for c, b in zip(tests["construct"], tests["by"],
                                                         strict=True)])
    assert member.sum() == len(family) > 2
    holm = _holm(tests.loc[member, "pvalue"].to_numpy(dtype=float))
    adjusted = dict(zip(zip(tests.loc[member, "construct"], tests.loc[member, "by"],
                            strict=True), holm, strict=True))
    ctx = build_context(analysis, lang)
    t = ctx["t"]
    significant = [k for k, p in adjusted.items() if p < 0.05]
    findings = ctx["groups"]["findings"]
    assert len(findings) == len(significant)
    for construct, by in significant:
        name = analysis.questionnaire.construct(construct).name.get(lang)
        by_name = _group_name(analysis.questionnaire, by, lang)
        assert sum(name in f and by_name in f and fmt_p(adjusted[(construct, by)]) in f
                   for f in findings) == 1
    weighted_word = "weighted means" if lang == "en" else "加权均值"
    assert all(weighted_word in f for f in findings)
    # the appendix's table: adjusted p beside each test of the family, blank otherwise
    table = ctx["groups"]["weighted_tests"]
    for row, in_family, (_, ref) in zip(table.rows, member, tests.iterrows(), strict=True):
        if in_family:
            assert row[6].raw == pytest.approx(adjusted[(ref["construct"], ref["by"])],
                                               abs=1e-12)
        else:
            assert row[6].raw is None
    # the chart's panel titles carry the design-based adjusted p and its marks
    from markupsafe import escape

    from satisfaction.report import charts

    assert t.text("groups.chart_note_weighted") == ctx["groups"]["chart_note"]
    svg = str(ctx["groups"]["chart"])
    checked = 0
    for (construct, by), p in adjusted.items():
        if construct not in (analysis.satisfaction, analysis.loyalty):
            continue
        title = t.text("groups.panel",
                       construct=analysis.questionnaire.construct(construct).name.get(lang),
                       by=_group_name(analysis.questionnaire, by, lang), p=fmt_p(p),
                       marks=charts.stars(p) if p < 0.05 else t.text("groups.ns"))
        assert str(escape(title)) in svg
        unweighted = means[(means["construct"] == construct) & (means["by"] == by)]
        assert fmt_p(unweighted["pvalue.adjusted"].iloc[0]) != fmt_p(p)  # not idle
        checked += 1
    assert checked >= 2
    # the summary's sentence on the groups: the smallest design-based adjusted p of
    # satisfaction and loyalty (none is significant here)
    from satisfaction.report.cells import fmt

    key = [p for (c, _), p in adjusted.items() if c in (analysis.satisfaction,
                                                        analysis.loyalty)]
    assert max(key) < 1 and min(key) >= 0.05
    sentence = t.text("summary.finding_no_group", n=fmt(len(key)), p=fmt_p(min(key)))
    assert sentence in ctx["summary"]["findings"]
    plain = means[means["construct"].isin([analysis.satisfaction, analysis.loyalty])]
    assert fmt_p(plain["pvalue.adjusted"].min()) != fmt_p(min(key))


def test_weighted_findings_without_adjustment(analysis):
    """The same with the comparison's adjustment 'none' (compare(adjust="none") leaves
    the p-values as they are): the findings are the design-based tests with p < 0.05,
    worded with the weighted means and the design-based p, not the unweighted one."""
    import copy

    from satisfaction.report.cells import fmt_p
    from satisfaction.report.context import build_context

    a = copy.copy(analysis)
    a.compare = copy.copy(analysis.compare)
    a.compare.adjust = "none"
    a.compare.tests = analysis.compare.tests.assign(
        **{"pvalue.adjusted": analysis.compare.tests["pvalue"]})
    means = a.compare.tests[a.compare.tests["family"] == "means"]
    family = set(zip(means["construct"], means["by"], strict=True))
    tests = analysis.weighted.group_tests
    expected = {(c, b): p for c, b, p in zip(tests["construct"], tests["by"],
                                             tests["pvalue"], strict=True)
                if (c, b) in family and p < 0.05}
    assert len(expected) >= 2
    findings = build_context(a, "en")["groups"]["findings"]
    assert len(findings) == len(expected)
    for (construct, by), p in expected.items():
        name = a.questionnaire.construct(construct).name.get("en")
        (text,) = [f for f in findings if f.startswith(name)]
        assert fmt_p(p) in text and "weighted means" in text
        plain = means[(means["construct"] == construct) & (means["by"] == by)]
        assert fmt_p(plain["pvalue"].iloc[0]) not in text


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_weighted_pls_report_says_what_is_weighted(analysis, lang):
    """The raked bank analysis falls back to PLS, which is weighted: the caution, the
    JSON's list of unweighted parts, the methods appendix's weighting paragraph and the
    PLS methods line are the weighted-PLS ones."""
    from satisfaction.report.context import build_context
    from satisfaction.weights import NOT_WEIGHTED_PLS

    assert analysis.pls is not None and analysis.pls.result.weighted
    codes = {w.code: w.severity for w in analysis.warnings}
    # the caution while something stays unweighted, else the plain statement (info)
    code = "weights_not_applied_pls" if NOT_WEIGHTED_PLS else "weights_scope_pls"
    assert codes[code] == ("caution" if NOT_WEIGHTED_PLS else "info")
    assert not {"weights_not_applied", "weights_scope"} & set(codes)
    assert analysis.to_dict()["weighting"]["not_weighted"] == list(NOT_WEIGHTED_PLS)
    ctx = build_context(analysis, lang)
    t = ctx["t"]
    lines = [line for block in ctx["appendix"]["methods_blocks"] for line in block["lines"]]
    (weighting,) = [line for line in lines if "Kish" in line]
    marker = "\x00"
    pls_part = t.text("methods.weighting_pls", method=marker, trim="", design_effect="",
                      effective_n="", n="", excluded="").split(marker)[1]
    sem_part = t.text("methods.weighting", method=marker, trim="", design_effect="",
                      effective_n="", n="", excluded="").split(marker)[1]
    tail = pls_part[pls_part.index("Becker"):]
    assert tail in weighting and sem_part[sem_part.index("sampling.weights"):] not in weighting
    prefix = t.text("pls.methods_weighted", reason=marker, draws="0").split(marker)[0]
    assert any(line.startswith(prefix) for line in lines)
    plain = t.text("pls.methods", reason=marker, draws="0").split(marker)[0]
    assert not any(line.startswith(plain) for line in lines)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_methods_appendix_names_the_intervals_of_a_weighted_report(analysis, lang):
    """The weighted report's box scores and NPS have design-based intervals (logit;
    normal from svymean's SE), not Wilson and Wald ones: the methods appendix says so
    (en and zh); the same analysis without weights keeps the Wilson/Wald sentence."""
    import copy

    from satisfaction.report.context import build_context

    ctx = build_context(analysis, lang)
    t = ctx["t"]
    lines = [line for block in ctx["appendix"]["methods_blocks"] for line in block["lines"]]
    assert t.text("methods.boxes_weighted") in lines
    assert t.text("methods.boxes") not in lines
    assert not any("Wilson" in line or "Wald interval" in line or "Wald 区间" in line
                   for line in lines)
    assert "svyciprop" in t.text("methods.boxes_weighted")
    # the group tests behind the findings are the design-based ones (svyttest, Wald F)
    key = f"adjust.{analysis.compare.adjust}"
    adjust = t.text(key) if t.has(key) else analysis.compare.adjust
    assert t.text("methods.tests_weighted", adjust=adjust) in lines
    assert t.text("appendix.tests", adjust=adjust) not in lines
    assert "svyttest" in t.text("methods.tests_weighted", adjust=adjust)
    # weighted PLS (the bank falls back to it) replaces the CB-SEM's index sentence; its
    # construct intervals without a bootstrap are svymean's normal ones, not t-intervals
    assert t.text("methods.indices_weighted") not in lines
    assert analysis.pls.ipma.index_intervals is None
    assert t.text("pls.index_interval_weighted") in lines
    assert t.text("pls.index_interval_t") not in lines
    plain = copy.copy(analysis)
    plain.weighted = None
    ctx = build_context(plain, lang)
    lines = [line for block in ctx["appendix"]["methods_blocks"] for line in block["lines"]]
    assert t.text("methods.boxes") in lines and t.text("methods.boxes_weighted") not in lines
    assert any("Wilson" in line for line in lines)
    assert t.text("appendix.tests", adjust=adjust) in lines
    assert t.text("methods.tests_weighted", adjust=adjust) not in lines


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_stage_title_says_what_the_stage_index_is(analysis, lang):
    """The bank (ECSI) has no second-order factors: each stage's index is the mean of its
    constructs' indices, and the stage table and chart title say so (en, zh); CRAM's
    stages are second-order factors; a mix names both."""
    from satisfaction.drivers import indices
    from satisfaction.questionnaire import load_questionnaire
    from satisfaction.report.context import build_context, stage_title_key
    from satisfaction.simulate import simulate_responses

    assert not analysis.questionnaire.higher_order
    ctx = build_context(analysis, lang)
    t = ctx["t"]
    title = t.text("drivers.stages_mean")
    assert ctx["drivers"]["stage_title"] == title
    assert {tb.key: tb for tb in ctx["tables"]}["stage_indices"].title == title
    assert "二阶" not in title and "second-order" not in title
    cram = load_questionnaire("cram")
    frame = simulate_responses(cram, n=60, seed=1, contaminate=False)
    stages = indices(cram, load_responses(cram, frame).data).stages
    assert len(stages) and stage_title_key(cram, stages) == "drivers.stages"
    mixed = pd.concat([stages.iloc[:1], pd.DataFrame(
        [{"stage": "outcome", "constructs": "Satisfaction,Loyalty"}])])
    assert stage_title_key(cram, mixed) == "drivers.stages_mixed"
    assert "second-order" in t.text("drivers.stages") or "二阶" in t.text("drivers.stages")


def test_methods_lines_follow_the_weights_under_the_cb_sem():
    """Without PLS the index sentence is the weighted one (normal interval from svymean's
    SE) when the survey is weighted, the t-interval one otherwise; likewise the box
    scores' sentence."""
    from types import SimpleNamespace

    from satisfaction.report.methods_context import methods_section

    w = SimpleNamespace(trim=None, method="rake", design_effect=1.2, effective_n=200.0,
                        weights=pd.Series([1.0, 2.0]), excluded={})
    seen = {}
    for weighted in (None, SimpleNamespace(weights=w)):
        a = SimpleNamespace(options={}, compare=None, value=None, weighted=weighted,
                            pls=None, responses=SimpleNamespace(
                                log=SimpleNamespace(loaded=2, analysed=2)))
        b = SimpleNamespace(a=a, q=SimpleNamespace(groups=[]), t=lambda key, **_: key,
                            label=lambda *_: "")
        (computation,) = [block for block in methods_section(b)
                          if block["title"] == "methods.computation"]
        seen[weighted is not None] = computation["lines"]
    assert {"appendix.indices", "methods.boxes"} <= set(seen[False])
    assert not {"methods.indices_weighted", "methods.boxes_weighted"} & set(seen[False])
    assert {"methods.indices_weighted", "methods.boxes_weighted",
            "methods.weighting"} <= set(seen[True])
    assert not {"appendix.indices", "methods.boxes"} & set(seen[True])


def test_weighting_texts_follow_the_estimator(bank):
    """CB-SEM and weighted PLS get their own paragraph, caution and list; the catalogs
    hold both in en and zh with the same placeholders."""
    import re
    from types import SimpleNamespace

    import yaml

    from satisfaction.report.weighted_context import weighting_lines
    from satisfaction.resources import TEMPLATES
    from satisfaction.weights import NOT_WEIGHTED, NOT_WEIGHTED_PLS, weighted_analysis

    w = SimpleNamespace(trim=None, method="rake", design_effect=1.2, effective_n=200.0,
                        weights=pd.Series([1.0, 2.0]), excluded={})
    seen = []
    for pls in (None, SimpleNamespace(result=SimpleNamespace(weighted=False)),
                SimpleNamespace(result=SimpleNamespace(weighted=True))):
        a = SimpleNamespace(weighted=SimpleNamespace(weights=w), pls=pls)
        b = SimpleNamespace(a=a, t=lambda key, **_: key, label=lambda *_: "")
        seen += weighting_lines(b)
    assert seen == ["methods.weighting", "methods.weighting", "methods.weighting_pls"]
    q, data, weights = bank
    for estimator, expected in (("sem", NOT_WEIGHTED), ("pls", NOT_WEIGHTED_PLS)):
        out = weighted_analysis(q, data, weights, estimator=estimator)
        assert out.to_dict()["not_weighted"] == list(expected)
    # the factor-analytic measurement is weighted under either estimator (issue 17;
    # tests/test_measurement_weights.py)
    assert not any("reliability" in p or "factor" in p or p == "measurement"
                   for p in (*NOT_WEIGHTED, *NOT_WEIGHTED_PLS))
    catalogs = {lang: yaml.safe_load((TEMPLATES / "messages" / f"{lang}.yaml").read_text(
        encoding="utf-8")) for lang in ("en", "zh")}
    for section, key in (("methods", "weighting"), ("methods", "weighting_pls"),
                         ("pls", "methods_weighted"), ("pls", "methods"),
                         ("warnings", "weights_not_applied"),
                         ("warnings", "weights_not_applied_pls"),
                         ("groups", "finding_weighted")):
        fields = [set(re.findall(r"{(\w+)}", catalogs[lang][section][key]))
                  for lang in ("en", "zh")]
        assert fields[0] == fields[1], (section, key)
    # both say the map's construct performance and shares are weighted (the CB-SEM's
    # since issue 17: tests/test_weighted_sem_ipa.py), and its item and stage rows
    # (tests/test_ipa_rows_weights.py)
    en = catalogs["en"]
    assert "Shapley shares" in en["methods"]["weighting"].split("Unweighted:")[0]
    assert "Shapley shares" not in en["methods"]["weighting"].split("Unweighted:")[1]
    for key in ("weighting", "weighting_pls"):
        weighted, unweighted = en["methods"][key].split("Unweighted:")
        assert "items and purchase stages" in weighted
        assert "purchase stages" not in unweighted and "group tests" not in unweighted
    assert "Shapley shares" in en["methods"]["weighting_pls"].split("Unweighted:")[0]
    assert "Shapley shares" not in en["methods"]["weighting_pls"].split("Unweighted:")[1]
    for key in ("weighting", "weighting_pls"):  # the measurement is weighted (issue 17)
        weighted, unweighted = en["methods"][key].split("Unweighted:")
        assert "sampling.weights (its loadings, omega" in weighted
        assert "factor analysis" not in unweighted and "EFA" not in unweighted


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_measurement_chapter_of_a_weighted_survey_is_weighted(analysis, lang):
    """The pipeline passes the respondent weights to the measurement: its reliability
    and EFA are those of reliability(weights=) / efa(weights=) (tested against lavaan,
    semTools and psych in tests/test_measurement_weights.py), and the chapter's tables
    show them, with a note that says so."""
    from satisfaction.efa import efa
    from satisfaction.reliability import reliability
    from satisfaction.report.context import build_context

    q, data = analysis.questionnaire, analysis.responses.data
    w = analysis.weighted.weights.weights
    rel = analysis.reliability
    assert rel.weighted and analysis.efa.weighted
    direct = reliability(q, data, weights=w)
    pd.testing.assert_frame_equal(rel.constructs, direct.constructs, rtol=0, atol=1e-12)
    pd.testing.assert_frame_equal(analysis.item_statistics, direct.item_statistics,
                                  rtol=0, atol=1e-12)
    assert analysis.efa.kmo == pytest.approx(
        efa(data[[i.id for i in q.items]], weights=w).kmo, abs=1e-12)
    plain = reliability(q, data)
    assert not np.allclose(rel.constructs["alpha"], plain.constructs["alpha"], atol=1e-4)
    ctx = build_context(analysis, lang)
    measurement = ctx["measurement"]
    note = next(d for d in rel.warnings if d.code == "measurement_weighted")
    text = ctx["t"].text("measurement.weighted_note",
                         effective_n=f"{note.params['effective_n']:.1f}")
    items = measurement["items"]
    assert text in items.note
    assert ctx["t"].text("measurement.efa_weighted_note",
                         effective_n=f"{analysis.efa.effective_n:.1f}") \
        in measurement["efa"]["text"]
    by_item = {r[0].raw: r for r in items.rows}
    for item, row in direct.item_statistics.iterrows():
        assert by_item[item][3].raw == pytest.approx(row["mean"], abs=1e-12)
    # the CFA's reliability table goes to the workbook under PLS; weighted all the same
    tables = {t.key: t for t in ctx["tables"]}
    cfa = tables["reliability"]
    assert text in cfa.note
    alphas = {r[0].raw: r[2].raw for r in cfa.rows}
    for construct, row in direct.constructs.iterrows():
        name = q.construct(construct).name.get(lang)
        assert alphas[name] == pytest.approx(row["alpha"], abs=1e-12)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_summary_says_the_survey_is_weighted(analysis, lang):
    """The one-page summary of a weighted survey says beside its cards that the
    figures are weighted, with the method and R survey's effective n; an unweighted
    analysis's summary has no such note."""
    import copy

    from satisfaction.report.context import build_context

    ctx = build_context(analysis, lang)
    w = analysis.weighted.weights
    assert w.effective_n == pytest.approx(SURVEY["rake"]["effective_n"], abs=1e-4)
    note = ctx["summary"]["weights_note"]
    assert note is not None and f"{w.effective_n:.1f}" in note and "250" in note
    assert note == ctx["t"].text("summary.weights_note",
                                 method=ctx["t"].text(f"weighting.methods.{w.method}"),
                                 effective_n=f"{w.effective_n:.1f}", n="250")
    plain = copy.copy(analysis)
    plain.weighted = None
    assert build_context(plain, lang)["summary"]["weights_note"] is None
