"""The weighted importance-performance map's item and purchase-stage rows (issue 17, point 1).

References:

(a) ``reference/ipa_weights_survey.R`` (+ JSON, section ``rows``): the complete bank survey
    with the raking weights of ``reference/survey_weights.json``: every item's and stage's
    performance is ``svymean`` of its 0-100 score with its SE and ``confint``; a stage's
    importance the sum of its dimensions' Shapley shares (from every subset's
    ``lm(weights = w)``); an item's importance lavaan's weighted standardized loading
    (``sampling.weights``, ``reference/lavaan_sampling_weights.json``) × its construct's
    share. Ours equals it to 1e-6.
(b) frequency weights: integer weights give the rows of the data with every respondent
    repeated ``w`` times (1e-8); constant weights give the unweighted rows, SEs included
    (1e-12).
(c) the analysis's two paths: under weighted PLS the items' loadings are the weighted
    fit's and the item performance is R's ``svymean`` again; under the CB-SEM (simulated
    complete CRAM raked on gender, a higher-order stage model) the item loadings are the
    weighted fit's ``std.all`` and the stage and item performance the weighted means
    ``Σ w y / Σ w`` (second implementation here).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from satisfaction.drivers import indices, ipa, item_scores
from satisfaction.questionnaire import load_questionnaire
from satisfaction.weights import weighted_performance

from .conftest import SHARED

REF_DIR = Path(__file__).parent / "reference"
REF = json.loads((REF_DIR / "ipa_weights_survey.json").read_text(encoding="utf-8"))
ROWS = REF["rows"]
BANK = SHARED / "bank_satisfaction.csv"
TARGET = "Satisfaction"


@pytest.fixture(scope="module")
def bank():
    """The bank questionnaire, its complete answers, the raking weights of the R
    reference and lavaan's weighted fit's parameter table."""
    q = load_questionnaire("ecsi_bank")
    data = pd.read_csv(BANK, index_col="respondent")
    survey = json.loads((REF_DIR / "survey_weights.json").read_text(encoding="utf-8"))
    assert list(data.index) == survey["rake"]["respondent"]
    w = pd.Series(survey["rake"]["weights"], index=data.index)
    lavaan = json.loads((REF_DIR / "lavaan_sampling_weights.json").read_text(
        encoding="utf-8"))["bank"]
    parameters = pd.DataFrame(lavaan["parameters"])
    return q, data, w, parameters


def _ipa(q, data, parameters, w=None):
    idx = indices(q, data)
    perf = idx if w is None else weighted_performance(idx, w)
    return perf, ipa(q, perf, None, parameters, target=TARGET, bootstrap=0, weights=w)


def test_item_and_stage_rows_match_r(bank) -> None:
    q, data, w, parameters = bank
    perf, res = _ipa(q, data, parameters, w)
    items = res.items.set_index("item").loc[ROWS["items"]]
    assert list(items["construct"]) == ROWS["item_construct"]
    np.testing.assert_allclose(items["loading"].to_numpy(dtype=float), ROWS["item_loading"],
                               atol=1e-12, rtol=0)
    np.testing.assert_allclose(items["importance"].to_numpy(dtype=float),
                               ROWS["item_importance"], atol=1e-6, rtol=0)
    ref = ROWS["item_performance"]
    for col, key in (("performance", "mean"), ("performance.ci.lower", "lower"),
                     ("performance.ci.upper", "upper")):
        np.testing.assert_allclose(items[col].to_numpy(dtype=float), ref[key], atol=1e-6,
                                   rtol=0)
    np.testing.assert_allclose(perf.items.set_index("item").loc[ROWS["items"], "se"]
                               .to_numpy(dtype=float), ref["se"], atol=1e-6, rtol=0)

    stages = res.stages.set_index("stage").loc[ROWS["stages"]]
    np.testing.assert_allclose(stages["importance"].to_numpy(dtype=float),
                               ROWS["stage_importance"], atol=1e-6, rtol=0)
    ref = ROWS["stage_performance"]
    for col, key in (("performance", "mean"), ("performance.ci.lower", "lower"),
                     ("performance.ci.upper", "upper")):
        np.testing.assert_allclose(stages[col].to_numpy(dtype=float), ref[key], atol=1e-6,
                                   rtol=0)
    np.testing.assert_allclose(perf.stages.set_index("stage").loc[ROWS["stages"], "se"]
                               .to_numpy(dtype=float), ref["se"], atol=1e-6, rtol=0)
    # every performance interval holds its estimate
    for frame in (items, stages):
        assert (frame["performance.ci.lower"] < frame["performance"]).all()
        assert (frame["performance"] < frame["performance.ci.upper"]).all()

    # the weights matter: the unweighted rows differ
    _, plain = _ipa(q, data, parameters)
    p_items = plain.items.set_index("item").loc[ROWS["items"]]
    assert np.abs(p_items["performance"] - items["performance"]).max() > 0.5
    assert np.abs(p_items["importance"] - items["importance"]).max() > 1e-3
    p_stages = plain.stages.set_index("stage").loc[ROWS["stages"]]
    assert np.abs(p_stages["performance"] - stages["performance"]).max() > 0.1


COLS_ITEMS = ["importance", "performance"]
COLS_STAGES = ["importance", "performance"]


def test_integer_weights_equal_repeated_rows(bank) -> None:
    q, data, _, parameters = bank
    count = pd.Series(1 + np.random.default_rng(7).integers(0, 4, size=len(data)),
                      index=data.index)
    _, weighted = _ipa(q, data, parameters, count.astype(float))
    repeated = data.loc[np.repeat(data.index.to_numpy(), count.to_numpy())]
    repeated.index = pd.Index([f"r{i}" for i in range(len(repeated))], name=data.index.name)
    _, plain = _ipa(q, repeated, parameters)
    for key, cols in (("item", COLS_ITEMS), ("stage", COLS_STAGES)):
        left = getattr(weighted, f"{key}s").set_index(key)[cols]
        right = getattr(plain, f"{key}s").set_index(key).loc[left.index, cols]
        np.testing.assert_allclose(left.to_numpy(dtype=float), right.to_numpy(dtype=float),
                                   atol=1e-8, rtol=0)
    # and the counts matter: the data taken once differ
    _, once = _ipa(q, data, parameters)
    assert np.abs(once.items["performance"] - weighted.items["performance"]).max() > 1e-2


def test_constant_weights_equal_unweighted(bank) -> None:
    q, data, _, parameters = bank
    perf, const = _ipa(q, data, parameters, pd.Series(2.5, index=data.index))
    idx, plain = _ipa(q, data, parameters)
    for key, cols in (("item", COLS_ITEMS), ("stage", COLS_STAGES)):
        left = getattr(const, f"{key}s").set_index(key)[cols]
        right = getattr(plain, f"{key}s").set_index(key).loc[left.index, cols]
        np.testing.assert_allclose(left.to_numpy(dtype=float), right.to_numpy(dtype=float),
                                   atol=1e-12, rtol=0)
        # the design-based SE of a constant weight is the t-interval's sd / sqrt(n)
        left = getattr(perf, f"{key}s").set_index(key)[["index", "se"]]
        right = getattr(idx, f"{key}s").set_index(key).loc[left.index, ["index", "se"]]
        np.testing.assert_allclose(left.to_numpy(dtype=float), right.to_numpy(dtype=float),
                                   atol=1e-12, rtol=0)


def test_weighted_pls_rows_use_the_weighted_fit(bank) -> None:
    """Weighted PLS (the pipeline's path for the raked bank): the item rows' loadings are
    the weighted fit's outer loadings, their performance R's svymean, the stage rows'
    performance the weighted mean of the stage scores."""
    from satisfaction.pls_pipeline import fit_pls_stage, pls_indices, pls_ipa

    q, data, w, _ = bank
    stage = fit_pls_stage(q, data, TARGET, bootstrap=0, seed=1, weights=w)
    plain_stage = fit_pls_stage(q, data, TARGET, bootstrap=0, seed=1)
    idx = pls_indices(q, stage, data)
    res = pls_ipa(q, stage, idx, bootstrap=0, seed=1)
    items = res.items.set_index("item").loc[ROWS["items"]]
    lam = stage.result.loadings.drop_duplicates(["construct", "indicator"]).set_index(
        ["construct", "indicator"])["est"]
    expected = [float(lam[(c, i)]) for c, i in zip(ROWS["item_construct"], ROWS["items"],
                                                   strict=True)]
    np.testing.assert_allclose(items["loading"].to_numpy(dtype=float), expected, atol=1e-12)
    plain_lam = plain_stage.result.loadings.drop_duplicates(
        ["construct", "indicator"]).set_index(["construct", "indicator"])["est"]
    assert max(abs(float(plain_lam[k]) - float(lam[k])) for k in lam.index) > 1e-3
    cons = res.constructs.set_index("construct")
    np.testing.assert_allclose(items["importance"].to_numpy(dtype=float),
                               items["loading"].to_numpy(dtype=float)
                               * cons.loc[items["construct"], "importance"].to_numpy(),
                               atol=1e-12)
    ref = ROWS["item_performance"]
    np.testing.assert_allclose(items["performance"].to_numpy(dtype=float), ref["mean"],
                               atol=1e-6)
    np.testing.assert_allclose(items["performance.ci.upper"].to_numpy(dtype=float),
                               ref["upper"], atol=1e-6)
    stages = res.stages.set_index("stage")
    for s, row in stages.iterrows():
        y = idx.scores[f"stage:{s}"]
        assert row["performance"] == pytest.approx(float((y * w).sum() / w.sum()), abs=1e-9)


@pytest.fixture(scope="module")
def cram():
    """The whole weighted analysis of simulated complete CRAM answers under the CB-SEM
    (the fixture of tests/test_weighted_sem_ipa.py; about 15 s)."""
    from satisfaction.pipeline import run
    from satisfaction.simulate import demo_population, simulate_responses
    from tests.test_weighted_sem_ipa import _questionnaire

    q = _questionnaire()
    frame = simulate_responses(q, n=300, seed=5, population=demo_population())
    items = [i.id for c in q.constructs for i in c.items]
    frame = frame.dropna(subset=[*items, "gender"])
    return q, run(q, frame, bootstrap=0, seed=3, parallel=False)


def test_sem_item_and_stage_rows_are_weighted(cram) -> None:
    q, a = cram
    assert a.options["estimator"]["used"] == "sem" and a.pls is None
    w = a.weighted.weights.weights
    items = a.ipa.items.set_index("item")
    assert len(items) >= 10
    # the loadings are the weighted fit's standardized loadings
    par = a.sem.parameters
    loads = par[par["op"] == "=~"].set_index(["lhs", "rhs"])["std.all"]
    np.testing.assert_allclose(
        items["loading"].to_numpy(dtype=float),
        [float(loads[(c, i)]) for i, c in zip(items.index, items["construct"], strict=True)],
        atol=1e-12)
    cons = a.ipa.constructs.set_index("construct")
    np.testing.assert_allclose(items["importance"].to_numpy(dtype=float),
                               items["loading"].to_numpy(dtype=float)
                               * cons.loc[items["construct"], "importance"].to_numpy(),
                               atol=1e-12)
    # performance: the weighted mean of the 0-100 item scores over the respondents who
    # answered (two answers were refused by the responses check)
    scores = item_scores(q, a.responses.data).reindex(w.index)[items.index]
    answered = scores.notna().astype(float)
    expected = (scores.fillna(0).mul(w, axis=0).sum()
                / answered.mul(w, axis=0).sum()).to_numpy()
    assert scores.isna().to_numpy().any()
    np.testing.assert_allclose(items["performance"].to_numpy(dtype=float), expected,
                               atol=1e-9)
    plain = a.indices.items.set_index("item").loc[items.index, "index"]
    assert np.abs(plain.to_numpy() - expected).max() > 1e-2
    stages = a.ipa.stages.set_index("stage")
    assert len(stages) == 3
    for s, row in stages.iterrows():
        y = a.indices.scores[f"stage:{s}"].reindex(w.index)
        assert row["performance"] == pytest.approx(float((y * w).sum() / w.sum()),
                                                   abs=1e-9)
        assert row["performance.ci.lower"] < row["performance"] < row["performance.ci.upper"]


# -- the console summary of `satisfaction report` --------------------------------------


def _summary_analysis(weighted: bool):
    """The raked bank (tests/test_report_weighted.py's questionnaire: gender and segment
    margins) as the console summary reads an analysis; equal outer weights make the
    Satisfaction index the mean of sat1-sat4 on 0-100, R's ``sat_index``."""
    from types import SimpleNamespace

    from satisfaction.responses import load_responses
    from satisfaction.weights import compute_weights, weighted_analysis
    from tests.test_report_weighted import _frame, _questionnaire

    q = _questionnaire()
    data = load_responses(q, _frame()).data
    idx = indices(q, data)
    result = compute_weights(q, data) if weighted else None
    return SimpleNamespace(
        questionnaire=q, indices=idx, pls=None, sem=None, compare=None,
        recommendations=None, warnings=[], options={"satisfaction": "Satisfaction"},
        satisfaction="Satisfaction",
        responses=SimpleNamespace(data=data, log=SimpleNamespace(loaded=len(data),
                                                                 analysed=len(data))),
        weighted=None if result is None else weighted_analysis(q, data, result, idx.scores))


def test_console_summary_prints_the_weighted_index() -> None:
    """With weights the console prints the report's (weighted) index: R survey's svymean
    of sat_index with its normal interval (survey_weights.json), and says it is
    weighted with the effective n; without weights the unweighted index and no such
    words."""
    from types import SimpleNamespace

    from rich.console import Console

    from satisfaction.commands import report as command

    survey = json.loads((REF_DIR / "survey_weights.json").read_text(encoding="utf-8"))
    ref = next(r for r in survey["indices"] if r["index"] == "sat_index")
    z = 1.959963984540054
    label, text = command.satisfaction_index_line(_summary_analysis(weighted=True))
    assert label == "Satisfaction index"
    expected = (f"{ref['mean']:.1f} [{ref['mean'] - z * ref['se']:.1f}, "
                f"{ref['mean'] + z * ref['se']:.1f}], weighted (rake; effective n "
                f"{survey['rake']['effective_n']:.1f} of 250)")
    assert text == expected

    plain = _summary_analysis(weighted=False)
    sat = pd.read_csv(BANK)[["sat1", "sat2", "sat3", "sat4"]].mean(axis=1) * 10
    label, text = command.satisfaction_index_line(plain)
    assert text.startswith(f"{sat.mean():.1f} [") and "weighted" not in text
    assert f"{sat.mean():.1f}" != f"{ref['mean']:.1f}"  # the weights change the figure

    # print_summary puts the line in the table it prints
    saved = command.console
    command.console = Console(record=True, width=200, highlight=False)
    try:
        command.print_summary(_summary_analysis(weighted=True),
                              SimpleNamespace(to_dict=lambda: {}))
        out = command.console.export_text()
    finally:
        command.console = saved
    assert "Satisfaction index" in out and expected in out


# -- what the weights are applied to (point 3) -----------------------------------------


def test_not_weighted_lists_and_scope_note() -> None:
    """Neither list names the IPA's rows or the group tests any more; the note is the
    caution while something stays unweighted and the plain statement (info) when
    nothing does; the statement's texts exist in en and zh with the same placeholders
    and name the item and stage rows and the primary design-based tests."""
    import re

    import yaml

    from satisfaction.resources import TEMPLATES
    from satisfaction.weights import NOT_WEIGHTED, NOT_WEIGHTED_PLS, weighting_scope

    for listed in (NOT_WEIGHTED, NOT_WEIGHTED_PLS):
        assert not any("importance-performance" in p or "group tests" in p for p in listed)
    assert (weighting_scope(["measurement"], pls=False).code,
            weighting_scope(["measurement"], pls=False).severity) == (
        "weights_not_applied", "caution")
    assert weighting_scope(("x",), pls=True).code == "weights_not_applied_pls"
    assert (weighting_scope([], pls=False).code, weighting_scope([], pls=False).severity) \
        == ("weights_scope", "info")
    assert weighting_scope((), pls=True).code == "weights_scope_pls"
    catalogs = {lang: yaml.safe_load((TEMPLATES / "messages" / f"{lang}.yaml").read_text(
        encoding="utf-8"))["warnings"] for lang in ("en", "zh")}
    for key in ("weights_scope", "weights_scope_pls", "weights_not_applied",
                "weights_not_applied_pls"):
        en, zh = catalogs["en"][key], catalogs["zh"][key]
        assert set(re.findall(r"{(\w+)}", en)) == set(re.findall(r"{(\w+)}", zh))
        assert "items and purchase stages" in en and "primary tests" in en
        assert "题项与购买阶段" in zh and "主要检验" in zh
        # nothing of the map and no group test is said to describe the unweighted sample
        assert ("unweighted sample" in en) == key.startswith("weights_not_applied")
        if "unweighted sample" in en:
            tail = en[:en.index("unweighted sample")].rsplit("; ", 1)[1]
            assert "importance-performance" not in tail and "group tests" not in tail
            tail = zh[:zh.index("未加权样本")].rsplit("；", 1)[1]
            assert "重要性" not in tail and "检验" not in tail


def test_sem_json_says_which_group_tests_are_primary(cram) -> None:
    from satisfaction.weights import NOT_WEIGHTED

    _q, a = cram
    out = a.to_dict()
    assert out["weighting"]["group_tests_primary"] is True
    assert out["weighting"]["group_tests"]  # the design-based tests are there
    assert out["compare"]["tests_primary"] is False
    assert out["weighting"]["not_weighted"] == list(NOT_WEIGHTED)
    codes = {w.code: w.severity for w in a.warnings}
    expected = "weights_not_applied" if NOT_WEIGHTED else "weights_scope"
    assert codes[expected] == ("caution" if NOT_WEIGHTED else "info")
    # the item and stage rows of the map are in the JSON, with the stage intervals
    stage = out["ipa"]["stages"][0]
    assert stage["performance.ci.lower"] < stage["performance"] < stage["performance.ci.upper"]
