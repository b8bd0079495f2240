"""Respondent weights and design-based statistics against R's survey package.

Reference: tests/reference/survey_weights.R (survey 4.1) on the shared bank data,
gender and a derived segment (R001-R100 A, R101-R175 B, R176-R250 C), targets
gender 0.5/0.5 and segment 0.3/0.3/0.4.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

from satisfaction.cli import main
from satisfaction.drivers import indices
from satisfaction.errors import InputError, SchemaError
from satisfaction.questionnaire import Questionnaire
from satisfaction.resources import QUESTIONNAIRES
from satisfaction.responses import load_responses
from satisfaction.weights import (
    compute_weights,
    effective_n,
    kish_design_effect,
    read_weight_column,
    trim_weights,
    weighted_group_test,
    weighted_group_tests,
    weighted_indices,
    weighted_items,
    weighted_mean,
    weighted_share,
)

from .conftest import SHARED

ROOT = Path(__file__).resolve().parent.parent
REF = json.loads((ROOT / "tests/reference/survey_weights.json").read_text())
DATA = SHARED / "bank_satisfaction.csv"
TOL = 1e-6  # the standard asks 1e-4; we agree to 1e-6 or better

MARGINS = {"gender": {"female": 0.5, "male": 0.5}, "segment": {"A": 0.3, "B": 0.3, "C": 0.4}}


def bank_frame() -> pd.DataFrame:
    frame = pd.read_csv(DATA, dtype={"respondent": str})
    number = frame["respondent"].str[1:].astype(int)
    frame["segment"] = np.where(number <= 100, "A", np.where(number <= 175, "B", "C"))
    return frame


def definition(**extra: Any) -> dict[str, Any]:
    data = yaml.safe_load((QUESTIONNAIRES / "ecsi_bank.yaml").read_text(encoding="utf-8"))
    data["groups"] = [*data.get("groups", []),
                      {"id": "segment", "type": "categorical",
                       "codes": {"A": "A", "B": "B", "C": "C"}}]
    data.update(extra)
    return data


def questionnaire(**extra: Any) -> Questionnaire:
    return Questionnaire.from_dict(definition(**extra))


def raked(**weighting: Any):
    q = questionnaire(weighting={"method": "rake", "margins": MARGINS, **weighting})
    data = load_responses(q, bank_frame()).data
    return q, data, compute_weights(q, data)


@pytest.fixture(scope="module")
def rake_result():
    return raked()


def test_raking_weights_match_survey_rake(rake_result):
    _, _, result = rake_result
    ref = pd.Series(REF["rake"]["weights"], index=REF["rake"]["respondent"])
    assert result.converged
    assert list(result.weights.index) == list(ref.index)
    np.testing.assert_allclose(result.weights.to_numpy(), ref.to_numpy(), atol=TOL, rtol=0)
    assert result.weights.mean() == pytest.approx(1.0, abs=1e-12)
    assert result.design_effect == pytest.approx(REF["rake"]["kish_deff"], abs=TOL)
    assert result.effective_n == pytest.approx(REF["rake"]["effective_n"], abs=1e-4)
    achieved = result.margins.set_index(["variable", "code"])["achieved"]
    assert achieved["gender"].tolist() == pytest.approx(REF["rake"]["achieved_gender"], abs=TOL)
    assert achieved["segment"].tolist() == pytest.approx(REF["rake"]["achieved_segment"],
                                                         abs=TOL)
    assert result.iterations > 1
    assert result.warnings[0].code == "weights_applied"


def test_kish_formulas_by_hand():
    w = np.array([0.5, 1.0, 1.5, 1.0])
    assert kish_design_effect(w) == pytest.approx(4 * 4.5 / 16)
    assert effective_n(w) == pytest.approx(16 / 4.5)


def test_trimming_matches_survey_trimweights_strict():
    _, _, result = raked(trim=[0.8, 1.2])
    np.testing.assert_allclose(result.weights.to_numpy(), REF["trim"]["weights"], atol=TOL,
                               rtol=0)
    assert result.weights.min() >= 0.8 - 1e-12 and result.weights.max() <= 1.2 + 1e-12
    assert result.design_effect == pytest.approx(REF["trim"]["kish_deff"], abs=TOL)
    gender = result.margins[result.margins.variable == "gender"]
    # trimming moves the margins away from the targets; achieved reports where they are
    assert gender["achieved"].tolist() == pytest.approx(REF["trim"]["achieved_gender"], abs=TOL)
    assert gender["target"].tolist() == [0.5, 0.5]
    assert result.trimmed > 0


def test_trim_keeps_the_total_and_redistributes_additively():
    w, n_out = trim_weights(np.array([0.2, 1.0, 1.0, 1.8]), 0.5, 1.5)
    # 0.2 -> 0.5 (+0.3), 1.8 -> 1.5 (-0.3): nothing to redistribute
    np.testing.assert_allclose(w, [0.5, 1.0, 1.0, 1.5])
    assert n_out == 2
    w, _ = trim_weights(np.array([0.6, 0.6, 0.6, 2.2]), 0.5, 1.5)
    assert w.sum() == pytest.approx(4.0)
    np.testing.assert_allclose(w, [0.8333333333, 0.8333333333, 0.8333333333, 1.5])


def test_poststratification_matches_survey_poststratify():
    q = questionnaire(weighting={"method": "poststratify",
                                 "margins": {"gender": {"female": 0.5, "male": 0.5}}})
    data = load_responses(q, bank_frame()).data
    result = compute_weights(q, data)
    np.testing.assert_allclose(result.weights.to_numpy(), REF["poststratify"]["weights"],
                               atol=TOL, rtol=0)
    assert result.design_effect == pytest.approx(REF["poststratify"]["kish_deff"], abs=TOL)
    assert result.iterations == 1 and result.converged


def test_weighted_item_means_and_top_box_match_svymean(rake_result):
    q, data, result = rake_result
    table = weighted_items(q, data, result.weights)
    for ref in REF["items"]:
        row = table.loc[ref["item"]]
        assert row["mean"] == pytest.approx(ref["mean"], abs=TOL)
        assert row["se"] == pytest.approx(ref["se"], abs=TOL)
        assert row["deff"] == pytest.approx(ref["deff"], abs=TOL)
        assert [row["ci.lower"], row["ci.upper"]] == pytest.approx(ref["ci"], abs=TOL)
        assert row["top"] == pytest.approx(ref["top"], abs=TOL)
        assert row["top.se"] == pytest.approx(ref["top_se"], abs=TOL)
        assert [row["top.ci.lower"], row["top.ci.upper"]] == pytest.approx(ref["top_ci"],
                                                                           abs=TOL)
    assert table.loc["sat1", "n"] == 250


def test_weighted_mean_by_hand_and_missing_answers():
    m = weighted_mean([1.0, 2.0, np.nan, 4.0], [1.0, 2.0, 5.0, 1.0])
    # the third respondent did not answer: sum w = 4, mean (1 + 4 + 4)/4; as in
    # svymean(na.rm = TRUE) the answered are a domain of the 4-respondent design, so the
    # factor is 4/3 (the design's n/(n-1)), the unanswered contributing zero
    assert m["n"] == 3 and m["mean"] == pytest.approx(2.25)
    z = np.array([1.0, 2.0, 1.0, 0.0]) * (np.array([1.0, 2.0, 4.0, 2.25]) - 2.25) / 4
    assert m["se"] == pytest.approx(np.sqrt(4 / 3 * np.sum(z * z)), rel=1e-12)
    # a respondent without a weight is outside the design: 3 respondents, factor 3/2
    out = weighted_mean([1.0, 2.0, 7.0, 4.0], [1.0, 2.0, np.nan, 1.0])
    assert out["n"] == 3 and out["mean"] == pytest.approx(2.25)
    assert out["se"] == pytest.approx(np.sqrt(1.5 * np.sum(z * z)), rel=1e-12)
    s = weighted_share([0, 0, 0], [1, 1, 1])
    assert s["share"] == 0 and np.isnan(s["ci.lower"])


def test_weighted_indices_match_svymean_of_the_index(rake_result):
    q, data, result = rake_result
    scores = indices(q, data).scores  # equal outer weights: the items' mean on 0-100
    table = weighted_indices(scores, result.weights).set_index("construct")
    for ref, construct in zip(REF["indices"], ("Satisfaction", "Loyalty"), strict=True):
        assert table.loc[construct, "index"] == pytest.approx(ref["mean"], abs=TOL)
        assert table.loc[construct, "se"] == pytest.approx(ref["se"], abs=TOL)
        assert table.loc[construct, "deff"] == pytest.approx(ref["deff"], abs=TOL)


def test_group_tests_match_svyttest_and_regtermtest(rake_result):
    q, data, result = rake_result
    scores = indices(q, data).scores
    w = result.weights.to_numpy()
    two = weighted_group_test(scores["Satisfaction"], data["gender"], w)
    assert two["test"] == "svyttest"
    assert two["statistic"] == pytest.approx(REF["svyttest"]["statistic"], abs=TOL)
    assert two["df"] == REF["svyttest"]["df"]
    assert two["pvalue"] == pytest.approx(REF["svyttest"]["p"], abs=TOL)
    assert two["difference"] == pytest.approx(REF["svyttest"]["difference"], abs=TOL)
    assert [g["mean"] for g in two["groups"]] == pytest.approx(REF["by_gender"]["mean"],
                                                               abs=TOL)
    assert [g["se"] for g in two["groups"]] == pytest.approx(REF["by_gender"]["se"], abs=TOL)
    three = weighted_group_test(scores["Satisfaction"], data["segment"], w)
    assert three["test"] == "wald_f"
    assert three["statistic"] == pytest.approx(REF["wald"]["F"], abs=TOL)
    assert (three["df"], three["df2"]) == (REF["wald"]["df"], REF["wald"]["ddf"])
    assert three["pvalue"] == pytest.approx(REF["wald"]["p"], abs=TOL)
    table = weighted_group_tests(q, data, scores, result.weights)
    row = table[(table.construct == "Satisfaction") & (table.by == "gender")].iloc[0]
    assert row["statistic"] == pytest.approx(REF["svyttest"]["statistic"], abs=TOL)


UNANSWERED = REF["missing_answers"]  # sat1 and the index unanswered by 4 respondents
EXACT = 1e-8  # the same formulas as R: agreement to rounding (svyciprop's glm: ~1e-11)


@pytest.fixture(scope="module")
def unanswered(rake_result):
    """The raked bank survey with sat1 blanked for R003, R050, R120 and R201 (the
    weights are those of the complete survey, as in the R script)."""
    q, data, result = rake_result
    blank = data.copy()
    blank.loc[UNANSWERED["respondent"], "sat1"] = np.nan
    score = data[["sat1", "sat2", "sat3", "sat4"]].mean(axis=1) / 10 * 100
    score[UNANSWERED["respondent"]] = np.nan
    return q, blank, result.weights, pd.DataFrame({"Satisfaction": score})


def test_missing_answers_are_a_domain_of_the_design_as_svymean_na_rm(unanswered):
    q, data, w, _ = unanswered
    ref = UNANSWERED["sat1"]
    x = data["sat1"].reindex(w.index).to_numpy(dtype=float)
    m = weighted_mean(x, w.to_numpy())
    assert m["n"] == ref["n"] == 246
    for key, value in (("mean", ref["mean"]), ("se", ref["se"]), ("deff", ref["deff"])):
        assert m[key] == pytest.approx(value, abs=EXACT), key
    assert [m["ci.lower"], m["ci.upper"]] == pytest.approx(ref["ci"], abs=EXACT)
    # the old convention (the answered respondents' own n/(n-1)) is measurably off
    n = ref["n"]
    assert abs(m["se"] * np.sqrt(n / (n - 1) * 249 / 250) - ref["se"]) > 1e-6
    top = np.where(np.isnan(x), np.nan, (x >= 9).astype(float))
    s = weighted_share(top, w.to_numpy())
    assert s["share"] == pytest.approx(ref["top"], abs=EXACT)
    assert s["se"] == pytest.approx(ref["top_se"], abs=EXACT)
    assert [s["ci.lower"], s["ci.upper"]] == pytest.approx(ref["top_ci"], abs=EXACT)
    row = weighted_items(q, data, w).loc["sat1"]
    assert row["n"] == 246
    assert [row["mean"], row["se"], row["deff"], row["top"], row["top.se"],
            row["top.ci.lower"], row["top.ci.upper"]] == pytest.approx(
        [ref["mean"], ref["se"], ref["deff"], ref["top"], ref["top_se"], *ref["top_ci"]],
        abs=EXACT)


def test_missing_index_and_group_domains_match_svyby_svyttest_regtermtest(unanswered):
    _, data, w, scores = unanswered
    table = weighted_indices(scores, w).set_index("construct").loc["Satisfaction"]
    ref = UNANSWERED["sat_index"]
    assert [table["index"], table["se"], table["deff"]] == pytest.approx(
        [ref["mean"], ref["se"], ref["deff"]], abs=EXACT)
    two = weighted_group_test(scores["Satisfaction"].reindex(w.index), data.loc[w.index,
                              "gender"], w.to_numpy())
    ref = UNANSWERED["svyttest"]
    assert two["df"] == ref["df"] == 244  # the answered respondents' degrees of freedom
    assert [two["statistic"], two["pvalue"], two["difference"]] == pytest.approx(
        [ref["statistic"], ref["p"], ref["difference"]], abs=EXACT)
    assert [g["mean"] for g in two["groups"]] == pytest.approx(
        UNANSWERED["by_gender"]["mean"], abs=EXACT)
    assert [g["se"] for g in two["groups"]] == pytest.approx(
        UNANSWERED["by_gender"]["se"], abs=EXACT)
    three = weighted_group_test(scores["Satisfaction"].reindex(w.index), data.loc[w.index,
                                "segment"], w.to_numpy())
    ref = UNANSWERED["wald"]
    assert (three["df"], three["df2"]) == (ref["df"], ref["ddf"])
    assert [three["statistic"], three["pvalue"]] == pytest.approx([ref["F"], ref["p"]],
                                                                  abs=EXACT)
    by_item = weighted_group_test(data.loc[w.index, "sat1"], data.loc[w.index, "segment"],
                                  w.to_numpy())["groups"]
    assert [g["mean"] for g in by_item] == pytest.approx(
        UNANSWERED["sat1_by_segment"]["mean"], abs=EXACT)
    assert [g["se"] for g in by_item] == pytest.approx(
        UNANSWERED["sat1_by_segment"]["se"], abs=EXACT)


def test_respondents_without_a_margin_variable_are_counted_and_left_out():
    q = questionnaire(weighting={"method": "rake", "margins": MARGINS})
    frame = bank_frame()
    frame.loc[:4, "gender"] = ""
    data = load_responses(q, frame).data
    result = compute_weights(q, data)
    assert result.excluded == {"weighting_variable_missing": 5}
    assert result.excluded_respondents == ["R001", "R002", "R003", "R004", "R005"]
    assert result.n == 245
    ref = REF["rake_missing"]
    assert list(result.weights.index) == ref["respondent"]
    np.testing.assert_allclose(result.weights.to_numpy(), ref["weights"], atol=TOL, rtol=0)
    assert result.design_effect == pytest.approx(ref["kish_deff"], abs=TOL)
    assert "weights_variable_missing" in {w.code for w in result.warnings}


def test_a_weight_column_is_rescaled_to_mean_one(tmp_path):
    frame = bank_frame()
    frame["w"] = np.array(REF["rake"]["weights"]) * 3
    frame.loc[7, "w"] = np.nan
    path = tmp_path / "weighted.csv"
    frame.to_csv(path, index=False)
    q = questionnaire(weight="w")
    loaded = load_responses(q, path)
    column = read_weight_column(q, path, loaded.data, loaded.rows)
    result = compute_weights(q, loaded.data, column=column)
    assert result.excluded == {"weight_missing": 1} and result.n == 249
    assert result.weights.mean() == pytest.approx(1.0)
    # with every weight present the design statistics equal svymean's on the raked weights
    frame.loc[7, "w"] = REF["rake"]["weights"][7] * 3
    frame.to_csv(path, index=False)
    column = read_weight_column(q, path, loaded.data, loaded.rows)
    result = compute_weights(q, loaded.data, column=column)
    m = weighted_mean(loaded.data.loc[result.weights.index, "sat1"], result.weights)
    assert m["mean"] == pytest.approx(REF["column"]["mean"], abs=TOL)
    assert m["se"] == pytest.approx(REF["column"]["se"], abs=TOL)


def test_a_bad_weight_cell_names_file_row_column_value(tmp_path):
    frame = bank_frame()
    frame["w"] = 1.0
    frame["w"] = frame["w"].astype(object)
    frame.loc[3, "w"] = "-2"
    path = tmp_path / "bad.csv"
    frame.to_csv(path, index=False)
    q = questionnaire(weight="w")
    loaded = load_responses(q, path)
    with pytest.raises(InputError) as info:
        read_weight_column(q, path, loaded.data, loaded.rows)
    text = str(info.value)
    assert "bad.csv" in text and "row 5" in text and "'w'" in text and "-2" in text


@pytest.mark.parametrize(("weighting", "says"), [
    ({"margins": {"region": {"a": 0.5, "b": 0.5}}}, "'region' is not a group"),
    ({"margins": {"gender": {"female": 0.7, "male": 0.5}}}, "sum to 1.2; expected 1"),
    ({"margins": {"gender": {"female": 1.0}}}, "at least two categories"),
    ({"margins": {"gender": {"female": 0.5, "other": 0.5}}}, "'other' of margin 'gender'"),
    ({"method": "poststratify", "margins": MARGINS}, "post-stratification takes one"),
    ({"margins": MARGINS, "trim": [1.2, 3]}, "0 <= low < 1 < high"),
    ({"margins": MARGINS, "method": "calibrate"}, "method"),
    ({"margins": {}}, "at least one margin"),
])
def test_bad_weighting_is_refused_naming_the_key(weighting, says):
    with pytest.raises(SchemaError) as info:
        questionnaire(weighting=weighting)
    assert says in str(info.value)
    assert "weighting" in str(info.value)


def test_weight_and_weighting_together_are_refused():
    with pytest.raises(SchemaError, match="either 'weight'"):
        questionnaire(weight="w", weighting={"margins": MARGINS})
    with pytest.raises(SchemaError, match="not an item"):
        questionnaire(weight="sat1")


def test_categories_without_target_or_without_respondents_are_refused():
    q = questionnaire(weighting={"margins": {"segment": {"A": 0.5, "B": 0.5}}})
    data = load_responses(q, bank_frame()).data
    with pytest.raises(InputError, match="75 respondents have 'segment' = 'C'"):
        compute_weights(q, data)
    frame = bank_frame()
    frame["segment"] = frame["segment"].replace("C", "B")
    q = questionnaire(weighting={"margins": MARGINS})
    with pytest.raises(InputError, match="no respondent has 'segment' = 'C'"):
        compute_weights(q, load_responses(q, frame).data)


def test_raking_that_cannot_converge_says_so():
    q = questionnaire(weighting={"margins": MARGINS, "max_iterations": 1})
    result = compute_weights(q, load_responses(q, bank_frame()).data)
    assert not result.converged and result.iterations == 1
    assert "weights_not_converged" in {w.code for w in result.warnings}
    assert any(w.severity == "invalidates" for w in result.warnings)


def _write(tmp_path: Path, **extra: Any) -> tuple[str, str]:
    qpath = tmp_path / "q.yaml"
    qpath.write_text(yaml.safe_dump(definition(**extra), allow_unicode=True), encoding="utf-8")
    dpath = tmp_path / "data.csv"
    bank_frame().to_csv(dpath, index=False)
    return str(qpath), str(dpath)


def test_weight_command_writes_csv_and_json(tmp_path, capsys):
    q, d = _write(tmp_path, weighting={"margins": MARGINS})
    out, js = tmp_path / "w.csv", tmp_path / "w.json"
    assert main(["weight", q, d, "--out", str(out), "--json", str(js)]) == 0
    assert "design effect" in capsys.readouterr().out
    weights = pd.read_csv(out, dtype={"respondent": str})
    assert list(weights.columns) == ["respondent", "weight"]
    np.testing.assert_allclose(weights["weight"], REF["rake"]["weights"], atol=1e-8, rtol=0)
    data = json.loads(js.read_text())
    assert data["design_effect"] == pytest.approx(REF["rake"]["kish_deff"], abs=TOL)
    assert data["effective_n"] == pytest.approx(REF["rake"]["effective_n"], abs=1e-4)
    assert data["converged"] is True and data["iterations"] > 1
    assert {
        k: v for k, v in data["margins"][1].items() if k != "achieved"} == {"variable": "gender", "code": "male", "target": 0.5}


def test_weight_command_without_weights_is_exit_2(tmp_path, capsys):
    q, d = _write(tmp_path)
    assert main(["weight", q, d]) == 2
    err = capsys.readouterr().err
    assert "declares no weights" in err and "Traceback" not in err


def test_the_pipeline_uses_declared_weights_and_says_so(tmp_path):
    from satisfaction.pipeline import run

    q, d = _write(tmp_path, weighting={"margins": MARGINS})
    analysis = run(q, d, bootstrap=0, seed=3, parallel=False)
    codes = {w.code: w for w in analysis.warnings}
    applied = codes["weights_applied"].diagnostic
    assert applied.severity == "info"
    assert applied.params["deff"] == pytest.approx(REF["rake"]["kish_deff"], abs=1e-3)
    unweighted = analysis.weighted.not_weighted  # the caution, or what is weighted (info)
    code = ("weights_not_applied" if unweighted else "weights_scope") + (
        "_pls" if analysis.pls is not None else "")
    assert codes[code].severity == ("caution" if unweighted else "info")  # per estimator
    weighted = analysis.to_dict()["weighting"]
    assert weighted["design_effect"] == pytest.approx(REF["rake"]["kish_deff"], abs=TOL)
    sat1 = next(r for r in weighted["items"] if r["item"] == "sat1")
    assert sat1["mean"] == pytest.approx(REF["items"][0]["mean"], abs=TOL)
    assert sat1["se"] == pytest.approx(REF["items"][0]["se"], abs=TOL)
    # the indices weight items by the model's loadings here, so compare with our own
    # weighted mean of the pipeline's index scores
    scores = analysis.indices.scores
    sat = next(r for r in weighted["indices"] if r["construct"] == "Satisfaction")
    expected = weighted_mean(scores["Satisfaction"], analysis.weighted.weights.weights)
    assert sat["index"] == pytest.approx(expected["mean"], abs=1e-12)
    test = next(r for r in weighted["group_tests"]
                if r["construct"] == "Satisfaction" and r["by"] == "gender")
    assert test["test"] == "svyttest" and test["df"] == 248


def test_weight_command_with_a_weight_column(tmp_path, capsys):
    q, d = _write(tmp_path, weight="w")
    frame = bank_frame()
    frame["w"] = np.array(REF["rake"]["weights"]) * 7
    frame.loc[0, "w"] = None
    frame.to_csv(d, index=False)
    out, js = tmp_path / "w.csv", tmp_path / "w.json"
    assert main(["weight", q, d, "--out", str(out), "--json", str(js)]) == 0
    assert "no weight (weight missing): 1" in capsys.readouterr().out
    data = json.loads(js.read_text())
    assert data["method"] == "column" and data["n"] == 249
    assert data["excluded"] == {"weight_missing": 1} and data["margins"] == []
    weights = pd.read_csv(out)
    assert weights["weight"].mean() == pytest.approx(1.0)
    frame["w"] = frame["w"].astype(object)
    frame.loc[3, "w"] = "heavy"
    frame.to_csv(d, index=False)
    assert main(["weight", q, d]) == 2
    err = capsys.readouterr().err
    assert "row 5" in err and "'w'" in err and "heavy" in err and "Traceback" not in err


def test_a_margin_variable_absent_from_the_file_is_exit_2(tmp_path, capsys):
    q, d = _write(tmp_path, weighting={"margins": MARGINS})
    bank_frame().drop(columns="segment").to_csv(d, index=False)
    assert main(["weight", q, d]) == 2
    err = capsys.readouterr().err
    assert "weighting variable 'segment' is not in the responses" in err


def test_the_catalog_entries_of_weights_py_sit_under_its_anchor():
    """Every warning code weights.py raises has its catalog entry under the
    ``# -- weights.py`` anchor of the ``warnings:`` section, in en and in zh."""
    import re

    from satisfaction.resources import TEMPLATES

    source = (ROOT / "satisfaction/weights.py").read_text(encoding="utf-8")
    codes = set(re.findall(r'Diagnostic\(\s*"([a-z0-9_]+)"', source))
    assert {"weights_variable_missing", "weights_value_missing", "weights_applied"} <= codes
    for lang in ("en", "zh"):
        anchor, section, found = None, None, {}
        text = (TEMPLATES / "messages" / f"{lang}.yaml").read_text(encoding="utf-8")
        for line in text.splitlines():
            if line and not line.startswith(" "):
                section = line.split(":")[0]
                continue
            if section != "warnings":
                continue
            if line.startswith("  # -- "):
                anchor = line[len("  # -- "):].strip()
            elif (m := re.match(r"  ([a-z0-9_]+):", line)) and m.group(1) in codes:
                found[m.group(1)] = anchor
        assert found == dict.fromkeys(codes, "weights.py"), lang
