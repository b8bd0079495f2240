"""Loading and validating responses: formats, encodings, every rule, the log."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from satisfaction.cli import main
from satisfaction.errors import InputError
from satisfaction.questionnaire import Questionnaire, load_questionnaire
from satisfaction.responses import CELL_RULES, REASONS, load_responses, problem_text
from tests.conftest import QUESTIONNAIRES

SMALL = """\
id: small
title: {en: Small, zh: 小}
respondent_id: rid
customer_id: cust
scales:
  s5: {min: 1, max: 5}
constructs:
  - id: A
    name: A
    items:
      - {id: a1, text: x, scale: s5}
      - {id: a2, text: x, scale: s5, reverse: true}
      - {id: a3, text: x, scale: s5, column: Q3}
  - id: B
    name: B
    items:
      - {id: b1, text: x, scale: s5}
      - {id: b2, text: x, scale: s5}
      - {id: b3, text: x, scale: s5}
checks:
  - {id: attn, text: "answer 4", scale: s5, expect: 4}
groups:
  - {id: gender, type: categorical, codes: {1: 男, 2: 女}}
  - {id: age, type: numeric, min: 16, max: 99}
screening:
  max_missing: 0.5
  min_respondents: 3
"""

HEADER = ["rid", "a1", "a2", "Q3", "b1", "b2", "b3", "attn", "gender", "age", "cust"]
GOOD = [
    ["r1", 1, 2, 3, 4, 5, 4, 4, 1, 30, "c1"],
    ["r2", 2, 3, 4, 3, 2, 1, 4, 2, 40, "c2"],
    ["r3", 5, 4, 3, 2, 1, 2, 4, 1, 50, "c3"],
    ["r4", 3, 3, 4, 4, 5, 5, 4, 2, 60, "c4"],
]


@pytest.fixture
def small(tmp_path: Path) -> Questionnaire:
    path = tmp_path / "small.yaml"
    path.write_text(textwrap.dedent(SMALL), encoding="utf-8")
    return load_questionnaire(path)


@pytest.fixture
def strict(tmp_path: Path) -> Questionnaire:
    """The same questionnaire with the strict rule: an invalid cell excludes the respondent."""
    path = tmp_path / "strict.yaml"
    path.write_text(textwrap.dedent(SMALL).replace(
        "  max_missing: 0.5\n", "  max_missing: 0.5\n  invalid_cells: exclude\n"),
        encoding="utf-8")
    q = load_questionnaire(path)
    assert q.screening.invalid_cells == "exclude"
    return q


def frame(rows: list[list[object]] | None = None) -> pd.DataFrame:
    return pd.DataFrame(rows if rows is not None else GOOD, columns=HEADER)


def csv_text(rows: list[list[object]], sep: str = ",") -> str:
    lines = [sep.join(HEADER)] + [sep.join("" if v is None else str(v) for v in r) for r in rows]
    return "\n".join(lines) + "\n"


def test_clean_data_and_reverse_coding(small: Questionnaire) -> None:
    r = load_responses(small, frame())
    assert r.log.loaded == 4 and r.log.analysed == 4
    assert list(r.data.index) == ["r1", "r2", "r3", "r4"]
    assert r.data.index.name == "rid"
    # a2 is reverse-worded on 1..5: 1 + 5 - x
    assert r.data["a2"].tolist() == [4.0, 3.0, 2.0, 3.0]
    # Q3 is mapped to a3 by 'column'
    assert r.data["a3"].tolist() == [3.0, 4.0, 3.0, 4.0]
    assert r.data["gender"].tolist() == ["1", "2", "1", "2"]
    assert r.data["cust"].tolist() == ["c1", "c2", "c3", "c4"]
    assert "attn" not in r.data.columns
    assert r.usable


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
@pytest.mark.parametrize("sep", [",", ";", "\t", "|"])
def test_csv_encodings_and_delimiters(small: Questionnaire, tmp_path: Path, encoding: str,
                                      sep: str) -> None:
    rows = [list(r) for r in GOOD]
    rows[0][0] = "受访者1"  # Chinese text in the id column must survive the round trip
    path = tmp_path / "r.csv"
    path.write_bytes(csv_text(rows, sep).encode(encoding))
    r = load_responses(small, path)
    assert r.log.analysed == 4
    assert r.data.index[0] == "受访者1"
    assert r.log.delimiter == sep
    assert r.data.loc["r2", "b3"] == 1.0


def test_gbk_group_labels_as_written_by_chinese_excel(tmp_path: Path) -> None:
    text = SMALL.replace("codes: {1: 男, 2: 女}", "codes: {男: male, 女: female}")
    qpath = tmp_path / "q.yaml"
    qpath.write_text(text, encoding="utf-8")
    q = load_questionnaire(qpath)
    rows = [list(r) for r in GOOD]
    for r, g in zip(rows, ["男", "女", "男", "女"], strict=True):
        r[8] = g
    path = tmp_path / "r.csv"
    path.write_bytes(csv_text(rows).encode("gbk"))
    r = load_responses(q, path)
    assert r.data["gender"].tolist() == ["男", "女", "男", "女"]
    assert q.group("gender").label("女") == "female"


def test_xlsx(small: Questionnaire, tmp_path: Path) -> None:
    path = tmp_path / "r.xlsx"
    frame().to_excel(path, index=False)
    r = load_responses(small, path)
    assert r.log.analysed == 4
    assert r.data.loc["r3", "a1"] == 5.0


def test_xlsx_rule_reports_excel_row(small: Questionnaire, tmp_path: Path) -> None:
    rows = [list(r) for r in GOOD]
    rows[2][4] = 9
    path = tmp_path / "r.xlsx"
    frame(rows).to_excel(path, index=False)
    r = load_responses(small, path)
    p = r.log.problems.iloc[0]
    assert (p.row, p.column, p.rule) == (4, "b1", "out_of_range")


def test_spss_sav_keeps_value_labels(small: Questionnaire, tmp_path: Path) -> None:
    import pyreadstat

    df = frame()
    for col in HEADER[1:10]:
        df[col] = df[col].astype(float)
    path = tmp_path / "r.sav"
    pyreadstat.write_sav(df, str(path), variable_value_labels={"gender": {1.0: "男", 2.0: "女"}})
    r = load_responses(small, path)
    assert r.log.analysed == 4
    assert r.value_labels["gender"] == {1.0: "男", 2.0: "女"}
    assert r.data["gender"].tolist() == ["1", "2", "1", "2"]
    assert r.data.loc["r1", "a2"] == 4.0


def test_parquet(small: Questionnaire, tmp_path: Path) -> None:
    path = tmp_path / "r.parquet"
    frame().to_parquet(path)
    r = load_responses(small, path)
    assert r.log.analysed == 4
    assert r.rows.tolist() == [1, 2, 3, 4]


def test_csv_rows_are_file_rows(small: Questionnaire, tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text(csv_text(GOOD), encoding="utf-8")
    assert load_responses(small, path).rows.tolist() == [2, 3, 4, 5]


def one_problem(small: Questionnaire, rows: list[list[object]], tmp_path: Path) -> dict:
    path = tmp_path / "r.csv"
    path.write_text(csv_text(rows), encoding="utf-8")
    r = load_responses(small, path)
    assert small.screening.invalid_cells == "missing"
    assert r.log.loaded == r.log.analysed + sum(r.log.excluded.values())
    problems = r.log.to_dict()["problems"]
    assert len(problems) == 1, problems
    return {"log": r.log, **problems[0]}


@pytest.mark.parametrize(
    ("row", "col", "value", "rule", "message"),
    [
        (1, 4, "abc", "not_a_number", "expected a whole number from 1 to 5 or an empty cell"),
        (2, 5, "6", "out_of_range", "expected a whole number from 1 to 5"),
        (0, 1, "0", "out_of_range", "expected a whole number from 1 to 5"),
        (3, 6, "2.5", "out_of_range", "expected a whole number from 1 to 5"),
        (2, 7, "3", "failed_attention_check", "attention check expects 4"),
    ],
)
def test_value_rules_name_row_column_value(small: Questionnaire, strict: Questionnaire,
                                           tmp_path: Path, row: int, col: int, value: str,
                                           rule: str, message: str) -> None:
    rows = [list(r) for r in GOOD]
    rows[row][col] = value
    p = one_problem(small, rows, tmp_path)
    assert p["row"] == row + 2
    assert p["respondent"] == GOOD[row][0]
    assert p["column"] == HEADER[col]
    assert p["value"] == value
    assert p["rule"] == rule
    assert p["message"] == message
    assert problem_text(p, "en") == message  # the catalog words it from the parameters
    log = p["log"]
    if rule in CELL_RULES:  # one invalid answer: that answer is missing, the respondent stays
        assert p["excluded"] is False
        assert p["params"] == {"kind": "integer", "min": 1, "max": 5}
        assert log.excluded[rule] == 0 and log.analysed == 4
        assert log.cells_set_missing == {r: int(r == rule) for r in CELL_RULES}
        assert [(d.code, d.severity, d.params["n"]) for d in log.warnings] == [
            ("invalid_cells_missing", "info", 1)]
        strict_log = load_responses(strict, tmp_path / "r.csv").log  # the strict rule
        assert strict_log.excluded[rule] == 1 and strict_log.analysed == 3
        assert strict_log.cells_set_missing == dict.fromkeys(CELL_RULES, 0)
        assert strict_log.problems["excluded"].tolist() == [True]
    else:
        assert p["excluded"] is True and p["params"] == {"expect": 4}
        assert log.excluded[rule] == 1 and log.analysed == 3


def test_missing_id_rule(small: Questionnaire, tmp_path: Path) -> None:
    rows = [list(r) for r in GOOD]
    rows[1][0] = ""
    p = one_problem(small, rows, tmp_path)
    assert (p["row"], p["column"], p["rule"]) == (3, "rid", "missing_id")


def test_all_items_empty(small: Questionnaire, tmp_path: Path) -> None:
    rows = [list(r) for r in GOOD]
    for c in range(1, 7):
        rows[3][c] = None
    p = one_problem(small, rows, tmp_path)
    assert (p["row"], p["respondent"], p["rule"]) == (5, "r4", "all_items_empty")


def test_too_much_missing(small: Questionnaire, tmp_path: Path) -> None:
    rows = [list(r) for r in GOOD]
    for c in (1, 2, 3, 4):
        rows[0][c] = "NA"
    p = one_problem(small, rows, tmp_path)
    assert (p["row"], p["rule"], p["value"]) == (2, "too_much_missing", "67%")
    assert "4 of 6 items empty" in p["message"]


def test_some_missing_is_kept(small: Questionnaire, tmp_path: Path) -> None:
    rows = [list(r) for r in GOOD]
    rows[0][1] = ""
    rows[0][2] = "N/A"
    path = tmp_path / "r.csv"
    path.write_text(csv_text(rows), encoding="utf-8")
    r = load_responses(small, path)
    assert r.log.analysed == 4
    assert np.isnan(r.data.loc["r1", "a1"]) and np.isnan(r.data.loc["r1", "a2"])


def test_straight_lining(small: Questionnaire, tmp_path: Path) -> None:
    rows = [list(r) for r in GOOD]
    rows[1][1:7] = [3, 3, 3, 3, 3, 3]
    p = one_problem(small, rows, tmp_path)
    assert (p["row"], p["rule"]) == (3, "straight_lining")
    assert "the same answer (3) to all 6 answered items" in p["message"]


def test_straight_lining_uses_raw_answers(small: Questionnaire) -> None:
    rows = [list(r) for r in GOOD]
    rows[1][1:7] = [2, 4, 2, 2, 2, 2]  # a2 reversed would be 2, but the raw answers differ
    r = load_responses(small, frame(rows))
    assert r.log.excluded["straight_lining"] == 0


def test_first_reason_counts_once(small: Questionnaire, strict: Questionnaire) -> None:
    rows = [list(r) for r in GOOD]
    rows[0][1] = "x"
    rows[0][7] = 1
    kept = load_responses(small, frame(rows)).log  # the cell is missing; the check excludes
    assert kept.excluded["not_a_number"] == 0 and kept.excluded["failed_attention_check"] == 1
    assert kept.cells_set_missing["not_a_number"] == 1
    assert kept.problems[["rule", "excluded"]].values.tolist() == [
        ["not_a_number", False], ["failed_attention_check", True]]
    r = load_responses(strict, frame(rows))
    assert r.log.excluded["not_a_number"] == 1
    assert r.log.excluded["failed_attention_check"] == 0
    assert len(r.log.problems) == 2
    assert r.log.loaded == r.log.analysed + sum(r.log.excluded.values())
    assert r.log.excluded_respondents.to_dict("records") == [
        {"row": 1, "respondent": "r1", "rule": "not_a_number"}]


def test_unknown_group_code_is_noted_not_excluded(small: Questionnaire) -> None:
    rows = [list(r) for r in GOOD]
    rows[2][8] = 7
    rows[3][9] = 200
    r = load_responses(small, frame(rows))
    assert r.log.analysed == 4
    rules = r.log.problems["rule"].tolist()
    assert rules == ["unknown_group_code", "group_out_of_range"]
    assert pd.isna(r.data.loc["r3", "gender"])
    assert np.isnan(r.data.loc["r4", "age"])


def test_reasons_all_reported(small: Questionnaire) -> None:
    assert set(load_responses(small, frame()).log.excluded) == set(REASONS)


# -- structural errors -------------------------------------------------------


def test_missing_item_column(small: Questionnaire, tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text(csv_text(GOOD).replace("Q3", "q3"), encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_responses(small, path)
    message = str(info.value)
    assert str(path) in message and "row 1" in message and "column 'Q3'" in message
    assert "item column(s) missing" in message


def test_missing_respondent_id_column(small: Questionnaire) -> None:
    with pytest.raises(InputError, match="no respondent-id column 'rid'"):
        load_responses(small, frame().rename(columns={"rid": "id"}))


def test_duplicate_respondent_id(small: Questionnaire, tmp_path: Path) -> None:
    rows = [list(r) for r in GOOD]
    rows[3][0] = "r2"
    path = tmp_path / "r.csv"
    path.write_text(csv_text(rows), encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_responses(small, path)
    err = info.value
    assert (err.row, err.column, err.value) == (5, "rid", "r2")
    assert "first seen in row 3" in str(err)


@pytest.mark.parametrize(("content", "words"), [
    (b"", "empty"),
    (b"\x00\x01\x02binary", "not a text file"),
])
def test_unreadable_files(small: Questionnaire, tmp_path: Path, content: bytes,
                          words: str) -> None:
    path = tmp_path / "r.csv"
    path.write_bytes(content)
    with pytest.raises(InputError, match=words):
        load_responses(small, path)


def test_corrupt_xlsx(small: Questionnaire, tmp_path: Path) -> None:
    path = tmp_path / "r.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(InputError, match="cannot read the file as an Excel workbook"):
        load_responses(small, path)


def test_all_answers_invalid_is_all_items_empty(small: Questionnaire,
                                                strict: Questionnaire) -> None:
    rows = [list(r) for r in GOOD]
    rows[3][1:7] = ["x", 9, "n.a.", 0, "?", 6]
    log = load_responses(small, frame(rows)).log
    assert log.excluded["all_items_empty"] == 1 and log.analysed == 3
    assert log.cells_set_missing == {"not_a_number": 3, "out_of_range": 3}  # "n.a." is text
    assert log.excluded_respondents["rule"].tolist() == ["all_items_empty"]
    strict_log = load_responses(strict, frame(rows)).log
    assert strict_log.excluded["not_a_number"] == 1 and strict_log.excluded["all_items_empty"] == 0


def test_invalid_cells_count_towards_too_much_missing(small: Questionnaire) -> None:
    rows = [list(r) for r in GOOD]
    rows[0][1:5] = ["", 8, "abc", 7]  # 1 empty + 3 set missing = 4 of 6 > 50 %
    log = load_responses(small, frame(rows)).log
    assert log.excluded["too_much_missing"] == 1
    row = log.problems[log.problems["rule"] == "too_much_missing"].iloc[0]
    assert row["params"] == {"empty": 4, "items": 6, "max": 50}
    assert row["message"] == "4 of 6 items empty; at most 50% may be"


def test_missing_share_per_item_over_analysed(small: Questionnaire) -> None:
    rows = [list(r) for r in GOOD]
    rows[0][1] = ""      # empty
    rows[1][1] = "9"     # set missing
    rows[2][4] = "oops"  # set missing
    rows[3][7] = 1       # r4 fails the attention check: not analysed
    rows[3][2] = ""      # so its empty a2 does not count
    log = load_responses(small, frame(rows)).log
    assert log.analysed == 3
    m = log.item_missing
    assert m.loc["a1"].tolist() == [2, 1, 2 / 3]
    assert m.loc["b1"].tolist() == [1, 1, 1 / 3]
    assert m.loc["a2"].tolist() == [0, 0, 0.0]
    assert list(m.index) == ["a1", "a2", "a3", "b1", "b2", "b3"]
    assert log.missing_share["a1"] == pytest.approx(2 / 3, abs=1e-12)


def test_problem_text_from_the_catalog_for_every_rule(small: Questionnaire) -> None:
    rows = [list(r) for r in GOOD] + [["", 1, 2, 3, 4, 5, 4, 4, 1, 30, "c5"]]
    rows[0][1] = "abc"
    rows[0][4] = "6"
    rows[1][1:7] = [3, 3, 3, 3, 3, 3]
    rows[2][1:5] = [None, None, None, None]
    rows[2][7] = 2
    rows[3][1:7] = [None] * 6
    rows[3][8] = 9
    rows[3][9] = 300
    log = load_responses(small, frame(rows)).log
    rules = set(log.problems["rule"])
    assert rules == set(REASONS) - {"not_a_number", "out_of_range"} | set(CELL_RULES) | {
        "unknown_group_code", "group_out_of_range"}
    for p in log.problems.itertuples(index=False):
        assert problem_text(p, "en") == p.message, p.rule  # the English stays word for word
        chinese = problem_text(p, "zh")
        assert re.search(r"[\u4e00-\u9fff]", chinese) and chinese != p.message, chinese
    records = log.to_dict("zh")["problems"]
    assert all(re.search(r"[\u4e00-\u9fff]", r["message"]) for r in records)
    assert problem_text({"rule": "group_out_of_range", "params": {}}, "en") == (
        "expected a number; set to empty")
    assert problem_text({"rule": "no_such_rule", "params": {}, "message": "as written"},
                        "zh") == "as written"
    assert problem_text(log.problems.iloc[0], "zh") == problem_text(
        next(log.problems.itertuples(index=False)), "zh")


def test_log_notes_are_diagnostics(small: Questionnaire) -> None:
    rows = [list(r) for r in GOOD]
    for r in rows:
        r[5] = 2  # b2 the same for everyone
    data = frame(rows).drop(columns=["gender", "cust"])
    log = load_responses(small, data).log
    found = {d.code: d for d in log.warnings}
    assert set(found) == {"group_column_missing", "customer_id_missing", "item_constant"}
    assert found["group_column_missing"].params == {"column": "gender", "group": "gender"}
    assert found["group_column_missing"].severity == "info"
    assert found["customer_id_missing"].params == {"column": "cust"}
    assert (found["item_constant"].severity, found["item_constant"].params) == (
        "caution", {"item": "b2"})
    assert str(found["item_constant"]) == (
        "item 'b2' has the same answer from every analysed respondent; it carries no "
        "information")
    assert [w["code"] for w in log.to_dict()["warnings"]] == [d.code for d in log.warnings]


def test_file_not_found(small: Questionnaire, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="file not found"):
        load_responses(small, tmp_path / "nope.csv")


# -- the validate command ----------------------------------------------------


def test_validate_bank(bank_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    code = main(["validate", str(QUESTIONNAIRES / "ecsi_bank.yaml"), str(bank_csv),
                 "--json", str(out)])
    assert code == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["loaded"] == 250
    assert data["analysed"] + sum(data["excluded"].values()) == data["loaded"]
    assert set(data) >= {"loaded", "excluded", "analysed", "problems"}


def test_validate_unusable_exits_1(strict: Questionnaire, tmp_path: Path) -> None:
    rows = [list(r) for r in GOOD]
    rows[0][1] = rows[1][1] = "bad"
    path = tmp_path / "r.csv"
    path.write_text(csv_text(rows), encoding="utf-8")
    out = tmp_path / "out.json"
    assert main(["validate", strict.source, str(path), "--json", str(out)]) == 1
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["excluded"]["not_a_number"] == 2
    assert data["invalid_cells"] == "exclude"
    assert data["problems"][0] == {"row": 2, "respondent": "r1", "column": "a1",
                                   "value": "bad", "rule": "not_a_number",
                                   "message": "expected a whole number from 1 to 5 or an "
                                              "empty cell", "excluded": True,
                                   "params": {"kind": "integer", "min": 1, "max": 5}}


def test_validate_json_sets_cells_missing(small: Questionnaire, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    rows = [list(r) for r in GOOD]
    rows[0][1] = rows[1][1] = "bad"
    rows[2][4] = "7"
    path = tmp_path / "r.csv"
    path.write_text(csv_text(rows), encoding="utf-8")
    out = tmp_path / "out.json"
    assert main(["validate", small.source, str(path), "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "set to missing" in printed and "not a number 2, out of range 1" in printed
    data = json.loads(out.read_text(encoding="utf-8"))
    assert (data["loaded"], data["analysed"], sum(data["excluded"].values())) == (4, 4, 0)
    assert data["invalid_cells"] == "missing"
    assert data["cells_set_missing"] == {"not_a_number": 2, "out_of_range": 1}
    assert [p["excluded"] for p in data["problems"]] == [False, False, False]
    # a1 empty for 2 of the 4 analysed respondents, b1 for 1, nothing else
    assert data["missing_share"] == {"a1": 0.5, "a2": 0.0, "a3": 0.0, "b1": 0.25,
                                     "b2": 0.0, "b3": 0.0}
    assert data["warnings"] == [{
        "code": "invalid_cells_missing", "severity": "info",
        "message": "3 answers that were not a number or lay outside their scale were set to "
                   "missing (2 not a number, 1 out of range); those respondents were kept",
        "params": {"n": 3, "not_a_number": 2, "out_of_range": 1}}]


def test_validate_input_error_exits_2_without_traceback(
        small: Questionnaire, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "r.csv"
    path.write_text(csv_text(GOOD).replace("rid", "respondent"), encoding="utf-8")
    out = tmp_path / "out.json"
    assert main(["validate", small.source, str(path), "--json", str(out)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.startswith("error: ") and str(path) in err and "'rid'" in err
    assert len(err.strip().splitlines()) <= 2
    assert not out.exists()


def test_validate_usage_error_exits_2() -> None:
    assert main(["validate", "--no-such-option"]) == 2


def test_validate_bad_questionnaire_exits_2(tmp_path: Path, bank_csv: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    q = tmp_path / "q.yaml"
    q.write_text("id: x\ntitle: x\nscales: {}\nconstructs: []\nwhat: 1\n", encoding="utf-8")
    assert main(["validate", str(q), str(bank_csv)]) == 2
    err = capsys.readouterr().err
    assert "line 5" in err and "unknown key 'what'" in err


def test_output_files_get_the_usual_permissions(tmp_path):
    """Atomic writes end with the mode a plain open() gives (0666 less the umask),
    not the owner-only mode of a temporary file."""
    import os

    from satisfaction.io import _umask, write_text

    write_text(tmp_path / "out.json", "{}")
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    assert (tmp_path / "out.json").stat().st_mode & 0o777 == plain.stat().st_mode & 0o777
    mask = os.umask(0o022)
    os.umask(mask)
    assert _umask() == mask
