"""Weighted themes of open-ended answers (issue 17, points 1 and 6): weighted shares,
the log-odds on Kish effective mentions and the design-based share difference, against
R's survey package (tests/reference/text_weights_survey.R and its JSON); equal weights
give the unweighted result; answers without a weight are left out and counted."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from satisfaction.text import answer_terms, kish_counts, tertile_groups, themes, weighted_quantile

REFERENCE = Path(__file__).parent / "reference"
NUMBERS = ["share", "share_dissatisfied", "share_satisfied", "difference", "difference_se",
           "effective_dissatisfied", "effective_satisfied", "log_odds", "se", "z"]


def reference_input() -> pd.DataFrame:
    frame = pd.read_csv(REFERENCE / "text_weights_input.csv", keep_default_na=False,
                        dtype={"comment": str}, index_col="respondent")
    frame["comment"] = frame["comment"].replace("", None)
    return frame


def test_the_reference_input_is_the_comments_and_the_tokenizer_of_today() -> None:
    import sys

    sys.path.insert(0, str(REFERENCE))
    from text_weights_input import weight_pattern

    frame = reference_input()
    comments = pd.read_csv(Path(__file__).parent / "data" / "comments_bilingual.csv",
                           keep_default_na=False, dtype={"comment": str},
                           index_col="respondent")
    assert list(frame.index) == list(comments.index)
    assert frame["weight"].to_numpy() == pytest.approx(weight_pattern(90), abs=1e-15)
    assert list(frame["n_terms"]) == [len(answer_terms(t)) if t else 0
                                      for t in comments["comment"]]


def test_weighted_themes_match_r_survey() -> None:
    ref = json.loads((REFERENCE / "text_weights_survey.json").read_text(encoding="utf-8"))
    frame = reference_input()
    result = themes(frame["comment"], frame["index"], weights=frame["weight"])
    c = result.counts
    assert c["weighted"] and c["answers_no_weight"] == 0
    assert c["answers"] == ref["answers"] == 87
    # the split: the weighted tertiles (svyquantile, qrule = "hf7"), not the unweighted
    assert c["cut_low"] == pytest.approx(ref["cut_low"], abs=1e-8)
    assert c["cut_high"] == pytest.approx(ref["cut_high"], abs=1e-8)
    assert c["cut_low"] - ref["unweighted_cuts"][0] > 0.5
    assert (c["answers_dissatisfied"], c["answers_satisfied"]) == (
        ref["groups"]["dissatisfied"], ref["groups"]["satisfied"])
    terms = result.terms.set_index("term")
    for term, numbers in ref["terms"].items():
        for column in NUMBERS:
            assert terms.loc[term, column] == pytest.approx(numbers[column], abs=1e-8), (
                term, column)
    # the theme tables show the weighted shares
    shown = result.themes[result.themes["side"] == "dissatisfied"].set_index("term")
    assert shown.loc["waiting time", "share_dissatisfied"] == pytest.approx(
        ref["terms"]["waiting time"]["share_dissatisfied"], abs=1e-8)
    # the weights matter here: the unweighted shares differ
    plain = themes(frame["comment"], frame["index"]).terms.set_index("term")
    assert abs(plain.loc["waiting time", "share_dissatisfied"]
               - terms.loc["waiting time", "share_dissatisfied"]) > 0.004


def test_equal_weights_give_the_unweighted_themes() -> None:
    frame = reference_input()
    plain = themes(frame["comment"], frame["index"])
    for constant in (1.0, 2.5, 0.3):
        weighted = themes(frame["comment"], frame["index"],
                          weights=pd.Series(constant, index=frame.index))
        for column in [*NUMBERS, "mentions", "mentions_dissatisfied", "mentions_satisfied"]:
            np.testing.assert_allclose(weighted.terms[column].to_numpy(dtype=float),
                                       plain.terms[column].to_numpy(dtype=float),
                                       rtol=0, atol=1e-12, err_msg=column)
        assert list(weighted.terms["term"]) == list(plain.terms["term"])
        pd.testing.assert_frame_equal(weighted.themes, plain.themes, rtol=0, atol=1e-12)
        pd.testing.assert_frame_equal(weighted.examples, plain.examples)


def test_unweighted_difference_se_by_hand() -> None:
    """Without weights the share difference's SE is the linearisation SE with unit
    weights: for p_d = y_d / n_d (n answers in all) Var = n/(n-1) Σ (z_i - z̄)², the
    z_i written out here for 'waiting time'."""
    frame = reference_input()
    plain = themes(frame["comment"], frame["index"])
    result = plain.terms.set_index("term")
    answered = frame[frame["comment"].notna()]
    m = answered["comment"].str.lower().str.contains("waiting time").to_numpy(dtype=float)
    # the tertiles (type 7) of the 90 indices: 50 and 66.67
    low, high = np.quantile(frame["index"], [1 / 3, 2 / 3])
    assert (plain.counts["cut_low"], plain.counts["cut_high"]) == pytest.approx((low, high))
    d = (answered["index"] <= low).to_numpy()
    s = (answered["index"] >= high).to_numpy()
    p_d, p_s = m[d].mean(), m[s].mean()
    z = d * (m - p_d) / d.sum() - s * (m - p_s) / s.sum()
    n = len(m)
    se = np.sqrt(n / (n - 1) * ((z - z.mean()) ** 2).sum())
    assert result.loc["waiting time", "difference"] == pytest.approx(p_d - p_s, abs=1e-12)
    assert result.loc["waiting time", "difference_se"] == pytest.approx(se, abs=1e-12)


def test_answers_without_a_weight_are_counted_and_said() -> None:
    frame = reference_input()
    weights = frame["weight"].copy()
    weights.iloc[[0, 1, 2]] = np.nan  # three answered respondents without a weight
    weights = weights.drop(frame.index[3])  # and one missing from the weights
    result = themes(frame["comment"], frame["index"], weights=weights, item="comment")
    assert result.counts["answers_no_weight"] == 4
    assert result.counts["answers"] == 87 - 4
    [warning] = [w for w in result.warnings if w.code == "text_no_weight"]
    assert warning.severity == "caution" and warning.params == {"item": "comment", "n": 4}


def test_weighted_quantile_is_survey_hf7() -> None:
    ref = json.loads((REFERENCE / "text_weights_survey.json").read_text(encoding="utf-8"))
    frame = reference_input()
    x, w = frame["index"].to_numpy(), frame["weight"].to_numpy()
    for p, value in zip(ref["quantiles"]["p"], ref["quantiles"]["value"], strict=True):
        assert weighted_quantile(x, w, p) == pytest.approx(value, abs=1e-8)
    # equal weights: R's type 7 (numpy's default "linear")
    for p in (0.0, 0.1, 1 / 3, 0.5, 0.9, 1.0):
        assert weighted_quantile(x, np.full(len(x), 3.0), p) == pytest.approx(
            float(np.quantile(x, p)), abs=1e-12)
    groups, low, high = tertile_groups(frame["index"], weights=pd.Series(2.0, frame.index))
    plain, low0, high0 = tertile_groups(frame["index"])
    assert (low, high) == (low0, high0) and groups.equals(plain)


def test_kish_counts() -> None:
    m = np.array([[1, 0], [1, 1], [0, 1]])
    w = np.array([1.0, 2.0, 3.0])
    n_eff = 36 / 14
    assert kish_counts(m, w) == pytest.approx(np.array([3, 5]) * n_eff / 6, abs=1e-15)
    assert kish_counts(m, np.ones(3)) == pytest.approx([2, 2], abs=1e-15)


def test_pipeline_and_report_use_the_weights(tmp_path: Path) -> None:
    """A questionnaire naming a weight column: the themes of the analysis are those of
    themes(weights=) on the analysed respondents, and the report says they are weighted."""
    import sys

    from satisfaction import pipeline
    from satisfaction.questionnaire import load_questionnaire
    from satisfaction.report.context import build_context
    from satisfaction.simulate import simulate_responses

    sys.path.insert(0, str(Path(__file__).parent))
    from test_text import TWO

    path = tmp_path / "q.yaml"
    path.write_text(TWO + "weight: w\n", encoding="utf-8")
    q = load_questionnaire(path)
    frame = simulate_responses(q, n=400, seed=2, contaminate=False)
    frame["w"] = [0.4 + 1.6 * ((37 * k) % 23) / 22 for k in range(1, len(frame) + 1)]
    analysis = pipeline.run(q, frame, bootstrap=0, parallel=False)
    [result] = analysis.texts
    assert result.counts["weighted"] and result.contrast
    data = frame.set_index("respondent")
    kept = analysis.responses.data.index
    direct = themes(data.loc[kept, "comment"], analysis.indices.scores["A"],
                    weights=data.loc[kept, "w"], item="comment")
    pd.testing.assert_frame_equal(result.terms, direct.terms, rtol=1e-12, atol=1e-12)
    pd.testing.assert_frame_equal(result.themes, direct.themes, rtol=1e-12, atol=1e-12)
    plain = themes(data.loc[kept, "comment"], analysis.indices.scores["A"])
    assert not np.allclose(plain.terms["share"], direct.terms["share"])
    for lang, word in (("en", "Weighted with the respondent weights"), ("zh", "按受访者权重加权")):
        [block] = build_context(analysis, lang)["themes"]["questions"]
        assert any(note.startswith(word) for note in block["notes"]), block["notes"]
    # one respondent: "1 respondent", not "1 respondents"
    result.counts.update(respondents=1, answers=1)
    en = build_context(analysis, "en")["themes"]["questions"][0]["intro"]
    zh = build_context(analysis, "zh")["themes"]["questions"][0]["intro"]
    assert en.startswith("1 of 1 respondent answered.") and "respondents" not in en
    assert zh.startswith("1 名受访者中有 1 名作答。")
