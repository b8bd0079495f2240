"""Loose ends of issue 17 found by a review (weights, bands, messy exports, labels).

References: R's survey::trimWeights(strict = TRUE) (tests/reference/survey_weights.R,
the achieved gender shares after trimming), and for the rest hand counts of small
frames written here.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from satisfaction.cli import main
from satisfaction.weights import TRIM_MARGIN_TOLERANCE
from tests.test_weights import MARGINS, REF, _write, raked

# -- 1. trimming that undoes the raking is a caution ------------------------------------------


def test_trimming_that_misses_a_margin_is_a_caution_naming_it():
    _, _, result = raked(trim=[0.8, 1.2])
    missed = [w for w in result.warnings if w.code == "weights_trim_margin_missed"]
    # R's trimWeights leaves gender at 0.5577 / 0.4423 against 0.5 / 0.5
    female, male = REF["trim"]["achieved_gender"]
    by_code = {(w.params["variable"], w.params["code"]): w for w in missed}
    assert by_code[("gender", "female")].params["achieved_share"] == pytest.approx(female,
                                                                                   abs=1e-6)
    assert by_code[("gender", "male")].params["achieved_share"] == pytest.approx(male, abs=1e-6)
    assert all(w.severity == "caution" for w in missed)
    # exactly the margins more than one point off, no others
    off = {(r.variable, r.code) for r in result.margins.itertuples()
           if abs(r.achieved - r.target) > TRIM_MARGIN_TOLERANCE}
    assert set(by_code) == off
    text = by_code[("gender", "female")].text("en")
    assert "gender = female" in text and f"{100 * female:.1f}%" in text and "50.0%" in text
    assert "[0.8, 1.2]" in text and "1 percentage point" in text
    zh = by_code[("gender", "female")].text("zh")
    assert "gender = female" in zh and f"{100 * female:.1f}%" in zh and "百分点" in zh


def test_loose_trimming_or_no_trimming_meets_the_margins_without_caution():
    for weighting in ({}, {"trim": [0.05, 20]}):
        _, _, result = raked(**weighting)
        assert not [w for w in result.warnings if w.code == "weights_trim_margin_missed"]


def test_weight_command_shows_and_writes_the_caution(tmp_path, capsys):
    q, d = _write(tmp_path, weighting={"margins": MARGINS, "trim": [0.8, 1.2]})
    js = tmp_path / "w.json"
    assert main(["weight", q, d, "--json", str(js)]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "caution: after trimming the weights to [0.8, 1.2] the share of gender = female" in out
    codes = [w["code"] for w in json.loads(js.read_text())["warnings"]]
    assert "weights_trim_margin_missed" in codes


# -- 2. bands: [a, b) with the last [a, b]; values outside the bands counted as such ----------

def test_band_codes_close_the_last_band_at_its_top_edge():
    from satisfaction.compare import band_codes, band_labels, outside_bands

    bands = [18, 30, 45, 60, 75]
    assert band_labels(bands) == ["[18, 30)", "[30, 45)", "[45, 60)", "[60, 75]"]
    ages = [17, 18, 29.9, 30, 59, 60, 74.5, 75, 75.5, None]
    codes = band_codes(ages, bands).tolist()
    assert pd.isna(codes[0]) and pd.isna(codes[8]) and pd.isna(codes[9])
    assert codes[1:8] == ["[18, 30)", "[18, 30)", "[30, 45)", "[45, 60)", "[60, 75]",
                          "[60, 75]", "[60, 75]"]
    assert outside_bands(ages, bands).tolist() == [True] + [False] * 7 + [True, False]


def _banded(ages):
    from satisfaction.responses import load_responses
    from tests.test_weights import bank_frame, questionnaire

    q = questionnaire(groups=[{"id": "age", "type": "numeric", "min": 0, "max": 120,
                               "bands": [18, 30, 45, 60, 75]}])
    frame = bank_frame()
    frame["age"] = ages[: len(frame)]
    return q, load_responses(q, frame)


def test_compare_counts_values_outside_the_bands_under_their_own_reason():
    from satisfaction.compare import compare

    # 250 respondents: 40 each at 17 and 80 (outside), 10 at exactly 75, 10 'forty'
    # (not a number), 10 empty, the rest spread over the bands
    ages = ([17] * 40 + [80] * 40 + [75] * 10 + ["forty"] * 10 + [None] * 10
            + [20, 35, 50, 65] * 35)
    q, responses = _banded(ages)
    rules = responses.log.problems.set_index("rule")
    assert (responses.log.problems["rule"] == "group_not_a_number").sum() == 10
    assert "group_out_of_range" not in set(rules.index)
    result = compare(q, responses.data, by="age")
    excluded = {r["reason"]: r["n"] for r in result.excluded.to_dict("records")
                if r["by"] == "age"}
    assert excluded == {"outside the bands (below 18 or above 75)": 80,
                        "missing group value": 20}
    groups = result.tests.iloc[0]["groups"]
    assert list(groups) == ["[18, 30)", "[30, 45)", "[45, 60)", "[60, 75]"]
    assert groups["[60, 75]"]["n"] == 35 + 10  # 75 itself is in the last band
    assert sum(g["n"] for g in groups.values()) + 80 + 20 == 250


def test_not_a_number_group_value_has_its_own_text_in_both_languages():
    from satisfaction.responses import problem_text

    p = {"rule": "group_not_a_number", "params": {}}
    assert problem_text(p, "en") == "not a number; set to empty"
    assert problem_text(p, "zh") == "不是数字；已置为空"


@pytest.mark.parametrize("bands", [[18], [30, 18], [18, 18, 30]])
def test_bands_must_be_increasing_edges(bands):
    from satisfaction.errors import SchemaError
    from tests.test_weights import questionnaire

    with pytest.raises(SchemaError, match="at least two increasing edges"):
        questionnaire(groups=[{"id": "age", "type": "numeric", "bands": bands}])


# -- 5. the weighted CB-SEM's sentence only when the CB-SEM is the structural model -----------

def test_sem_weighted_sentence_only_without_pls():
    from types import SimpleNamespace

    from satisfaction.report.methods_context import methods_section

    w = SimpleNamespace(trim=None, method="rake", design_effect=1.2, effective_n=200.0,
                        weights=pd.Series([1.0, 2.0]), excluded={})
    seen = {}
    for name, pls in (("sem", None),
                      ("pls", SimpleNamespace(result=SimpleNamespace(weighted=True))),
                      ("pls_unweighted", SimpleNamespace(result=SimpleNamespace(
                          weighted=False)))):
        a = SimpleNamespace(options={"sem_weighted": True}, compare=None, value=None,
                            weighted=SimpleNamespace(weights=w), pls=pls,
                            responses=SimpleNamespace(log=SimpleNamespace(loaded=2,
                                                                          analysed=2)))
        b = SimpleNamespace(a=a, q=SimpleNamespace(groups=[]), t=lambda key, **_: key,
                            label=lambda *_: "")
        (computation,) = [block for block in methods_section(b)
                          if block["title"] == "methods.computation"]
        seen[name] = computation["lines"]
    assert "methods.sem_weighted" in seen["sem"]
    assert "methods.sem_weighted" not in seen["pls"]
    assert "methods.sem_weighted" not in seen["pls_unweighted"]
    assert "methods.weighting_pls" in seen["pls"]


# -- 4. labels in cells: the message names them, code + label, markers counted ----------------

def _labelled(tmp_path):
    import textwrap

    from satisfaction.questionnaire import load_questionnaire
    from tests.test_responses import SMALL

    text = textwrap.dedent(SMALL).replace(
        "  s5: {min: 1, max: 5}\n",
        "  s5:\n    min: 1\n    max: 5\n    labels:\n"
        "      en: [Very Inaccurate, Inaccurate, Neutral, Accurate, Very Accurate]\n"
        "      zh: [非常不符合, 不符合, 一般, 符合, 非常符合]\n")
    path = tmp_path / "labels.yaml"
    path.write_text(text, encoding="utf-8")
    return load_questionnaire(path)


def test_code_and_label_cells_read_when_they_agree(tmp_path):
    from satisfaction.responses import load_responses, problem_text
    from tests.test_responses import GOOD, frame

    q = _labelled(tmp_path)
    rows = [list(r) for r in GOOD]
    rows[0][1] = "5 - Very Accurate"     # a1 = 5
    rows[1][4] = "1. very inaccurate"    # b1 = 1
    rows[2][5] = "符合 (4)"               # b2 = 4
    rows[3][6] = "2 - Very Accurate"     # disagree: not read
    rows[0][5] = "Mostly"                # neither a number nor a label
    res = load_responses(q, frame(rows))
    assert res.data["a1"].iloc[0] == 5 and res.data["b1"].iloc[1] == 1
    assert res.data["b2"].iloc[2] == 4 and pd.isna(res.data["b3"].iloc[3])
    problems = res.log.problems.set_index("column")
    disagree = problems.loc["b3"]
    assert disagree["rule"] == "not_a_number"
    assert disagree["message"] == ("the code 2 and the label 'Very Accurate' (which is 5) "
                                   "disagree")
    assert problem_text(disagree, "en") == disagree["message"]
    assert "不一致" in problem_text(disagree, "zh")
    # a plain non-number on a labelled scale names the labels too (en and zh)
    plain = problems.loc["b2"]
    assert plain["message"] == ("expected a whole number from 1 to 5, one of the scale's "
                                "labels ('Very Inaccurate' to 'Very Accurate') or an empty "
                                "cell")
    assert problem_text(plain, "en") == plain["message"]
    assert problem_text(plain, "zh") == ("应为 1 至 5 的整数、量表的标签（“Very Inaccurate”至"
                                         "“Very Accurate”）或空白")
    # the info names a label actually read, not a fixed example
    note = next(w for w in res.log.warnings if w.code == "scale_labels_read")
    assert note.params == {"n": 3, "example": "5 - Very Accurate"}
    assert "(e.g. '5 - Very Accurate')" in note.text("en")
    assert "5 - Very Accurate" in note.text("zh")


def test_a_scale_without_labels_keeps_the_plain_message():
    import textwrap

    from satisfaction.questionnaire import Questionnaire
    from satisfaction.responses import load_responses
    from tests.test_responses import GOOD, SMALL, frame, yaml_load

    q = Questionnaire.from_dict(yaml_load(textwrap.dedent(SMALL)))
    rows = [list(r) for r in GOOD]
    rows[0][1] = "5 - Very Accurate"
    res = load_responses(q, frame(rows))
    assert res.log.problems["message"].tolist() == [
        "expected a whole number from 1 to 5 or an empty cell"]


def test_missing_value_markers_are_counted(tmp_path):
    from satisfaction.responses import load_responses
    from tests.test_responses import GOOD, frame

    q = _labelled(tmp_path)
    rows = [list(r) for r in GOOD]
    rows[0][1] = "n/a"
    rows[1][1] = " N/A "
    rows[2][4] = "-"
    rows[3][5] = None           # an empty cell: missing, not a marker
    res = load_responses(q, frame(rows))
    log = res.log
    assert log.missing_markers == {"n/a": 1, "N/A": 1, "-": 1}
    assert log.to_dict()["missing_markers"] == {"n/a": 1, "N/A": 1, "-": 1}
    assert log.item_missing.loc["a1", "marker"] == 2 and log.item_missing.loc["b1",
                                                                            "marker"] == 1
    assert log.item_missing.loc["b2", "marker"] == 0 and log.item_missing.loc["b2",
                                                                             "missing"] == 1
    # the counts add up: every missing answer is a marker, a cell set missing or empty
    total = int(res.data[[i.id for i in q.items]].isna().sum().sum())
    assert total == 4 == sum(log.missing_markers.values()) + 1
    note = next(w for w in log.warnings if w.code == "missing_markers_read")
    assert note.params["n"] == 3 and note.severity == "info"
    assert "missing-value marker" in note.text("en") and "缺失值标记" in note.text("zh")


# -- 3. messy exports: where the header is, options named as options, CSV title lines ---------

def _two_title_workbook(path, *, first_sheet_without_id: bool = False):
    import openpyxl

    from tests.test_responses import GOOD, HEADER

    wb = openpyxl.Workbook()
    ws = wb.active
    if first_sheet_without_id:
        ws.title = "Notes"
        ws.append(["exported by the panel provider"])
        ws.append(["wave", 2])
        ws = wb.create_sheet("Data")
        ws.append(HEADER)
    else:
        ws.title = "Two"
        ws.append(["Survey export", "wave 2"])   # two title rows with two cells each:
        ws.append(["Panel", "November"])         # not a single-cell title
        ws.append([])
        ws.append(HEADER)                        # row 4
    for row in GOOD:
        ws.append(row)
    wb.save(path)


def test_missing_id_column_points_to_the_header_row(tmp_path, capsys):
    from satisfaction.errors import InputError
    from satisfaction.responses import load_responses
    from tests.test_responses import SMALL

    q, path = _small(tmp_path), tmp_path / "two.xlsx"
    _two_title_workbook(path)
    with pytest.raises(InputError) as info:
        load_responses(q, path)
    assert info.value.hint == "the header seems to be row 4: use --header-row 4"
    assert load_responses(q, path, header_row=4).log.analysed == 4
    qpath = tmp_path / "small.yaml"
    qpath.write_text(__import__("textwrap").dedent(SMALL), encoding="utf-8")
    assert main(["validate", str(qpath), str(path), "--sheet", "Two"]) == 2
    assert "use --header-row 4" in capsys.readouterr().err


def test_missing_id_column_points_to_the_sheet_holding_it(tmp_path):
    from satisfaction.errors import InputError
    from satisfaction.responses import load_responses

    q, path = _small(tmp_path), tmp_path / "notes.xlsx"
    _two_title_workbook(path, first_sheet_without_id=True)
    with pytest.raises(InputError) as info:
        load_responses(q, path)
    assert info.value.hint == "sheet 'Data' has the column 'rid' (row 1): use --sheet 'Data'"
    assert load_responses(q, path, sheet="Data").log.analysed == 4
    with pytest.raises(InputError) as info:  # a sheet was chosen: no other sheet proposed
        load_responses(q, path, sheet="Notes")
    assert "--sheet" not in (info.value.hint or "")


def test_excel_option_errors_say_option(tmp_path):
    from satisfaction.errors import UsageError
    from satisfaction.responses import load_responses

    q, path = _small(tmp_path), tmp_path / "two.xlsx"
    _two_title_workbook(path)
    with pytest.raises(UsageError) as info:
        load_responses(q, path, sheet="Nope")
    assert "option '--sheet'" in str(info.value) and "column" not in str(info.value)
    with pytest.raises(UsageError) as info:
        load_responses(q, path, header_row=3)
    assert "option '--header-row'" in str(info.value) and "column" not in str(info.value)


def _small(tmp_path):
    import textwrap

    from satisfaction.questionnaire import load_questionnaire
    from tests.test_responses import SMALL

    path = tmp_path / "small_q.yaml"
    path.write_text(textwrap.dedent(SMALL), encoding="utf-8")
    return load_questionnaire(path)


@pytest.mark.parametrize("title", ["Customer survey export 2026-11",
                                   '"Customer survey export",,,,,,,,,,'])
def test_csv_title_line_is_detected_and_noted(tmp_path, title):
    from satisfaction.responses import load_responses
    from tests.test_responses import GOOD, csv_text

    q, path = _small(tmp_path), tmp_path / "title.csv"
    path.write_text(title + "\n" + csv_text(GOOD), encoding="utf-8")
    res = load_responses(q, path)
    assert res.log.analysed == 4 and res.data["a1"].tolist() == [1, 2, 5, 3]
    note = next(w for w in res.log.warnings if w.code == "csv_title_row_skipped")
    assert note.params == {"row": 1, "header_row": 2}
    assert "line 1" in note.text("en") and "第 1 行" in note.text("zh")
    assert list(res.rows) == [3, 4, 5, 6]  # file lines of the data rows


def test_csv_header_row_option_and_hint(tmp_path):
    from satisfaction.errors import InputError, UsageError
    from satisfaction.responses import load_responses
    from tests.test_responses import GOOD, csv_text

    q, path = _small(tmp_path), tmp_path / "two_titles.csv"
    path.write_text("Customer survey,wave 2\nPanel,November\n" + csv_text(GOOD),
                    encoding="utf-8")
    with pytest.raises(InputError) as info:   # two two-cell lines: not a title
        load_responses(q, path)
    assert "11 cells where the header (line 1) has 2" in str(info.value)
    assert info.value.hint == "if line 3 holds the column names, use --header-row 3"
    # the same title lines as a spreadsheet saves them (padded with empty cells): the
    # header is taken from line 1 and has no 'rid'; the hint finds it on line 3
    padded = tmp_path / "padded.csv"
    padded.write_text("Customer survey,wave 2" + "," * 9 + "\nPanel,November" + "," * 9
                      + "\n" + csv_text(GOOD), encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_responses(q, padded)
    assert "no respondent-id column 'rid'" in str(info.value)
    assert info.value.hint == "the header seems to be line 3: use --header-row 3"
    res = load_responses(q, path, header_row=3)
    assert res.log.analysed == 4 and list(res.rows) == [4, 5, 6, 7]
    with pytest.raises(UsageError, match="option '--header-row'"):
        load_responses(q, path, header_row=40)
