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
    role: satisfaction
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
    assert (log.item_missing["marker"] == 0).all()  # no 'n/a' markers here
    m = log.item_missing[["missing", "set_missing", "share"]]
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


# -- hostile and broken input (issue 15, points 2-4) ----------------------------


def test_blank_lines_keep_file_line_numbers(small: Questionnaire, tmp_path: Path) -> None:
    """A bad cell on line 8 of the file is reported as row 8, not as the 6th record + 1."""
    rows = [list(r) for r in GOOD]
    rows[3][4] = "9"  # b1 of r4
    lines = csv_text(rows).splitlines()
    # header, r1, blank, r2, whitespace-only, r3, a line of empty cells (Excel), r4
    text = "\n".join([lines[0], lines[1], "", lines[2], "   ", lines[3],
                      "," * (len(HEADER) - 1), lines[4]]) + "\n"
    path = tmp_path / "r.csv"
    path.write_text(text, encoding="utf-8")
    r = load_responses(small, path)
    assert r.log.loaded == 4
    assert r.rows.to_dict() == {"r1": 2, "r2": 4, "r3": 6, "r4": 8}
    p = r.log.to_dict()["problems"]
    assert [(x["row"], x["respondent"], x["column"], x["value"]) for x in p] == [
        (8, "r4", "b1", "9")]
    assert text.splitlines()[8 - 1].startswith("r4,")


def test_multiline_cell_rows_start_where_the_record_starts(small: Questionnaire,
                                                          tmp_path: Path) -> None:
    rows = [list(r) for r in GOOD]
    rows[1][10] = '"c2\nsecond line"'
    rows[2][1] = "x"
    path = tmp_path / "r.csv"
    path.write_text(csv_text(rows), encoding="utf-8")
    r = load_responses(small, path)
    assert r.rows.to_dict() == {"r1": 2, "r2": 3, "r3": 5, "r4": 6}
    assert r.log.problems.iloc[0]["row"] == 5


def test_record_longer_than_the_header_names_its_line(small: Questionnaire,
                                                      tmp_path: Path) -> None:
    lines = csv_text(GOOD).splitlines()
    lines[3] += ",extra"
    path = tmp_path / "r.csv"
    path.write_text("\n".join([lines[0], "", *lines[1:]]) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_responses(small, path)
    assert err.value.row == 5 and "12 cells where the header (line 1) has 11" in str(err.value)
    # empty extra cells (a trailing delimiter) are not an error
    lines = csv_text(GOOD).splitlines()
    path.write_text("\n".join([lines[0], *(x + ",," for x in lines[1:])]) + "\n",
                    encoding="utf-8")
    assert load_responses(small, path).log.loaded == 4


def test_duplicate_header_column_is_named(small: Questionnaire, tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("\n" + csv_text(GOOD).replace(",b3,", ",a1,", 1), encoding="utf-8")
    with pytest.raises(InputError, match="appears twice in the header") as err:
        load_responses(small, path)
    assert (err.value.row, err.value.column) == (2, "a1")


@pytest.mark.parametrize(("codec", "bom"), [
    ("utf-16", None), ("utf-16-le", b"\xff\xfe"), ("utf-16-be", b"\xfe\xff"),
    ("utf-32", None), ("utf-16-le", b""), ("utf-16-be", b""),
])
def test_utf16_and_utf32_are_read(small: Questionnaire, tmp_path: Path, codec: str,
                                  bom: bytes | None) -> None:
    rows = [list(r) for r in GOOD]
    rows[0][8] = 2
    rows[1][4] = "9"
    raw = csv_text(rows).replace("\n", "\r\n").encode(codec)
    path = tmp_path / "r.csv"
    path.write_bytes(raw if bom is None else bom + raw)
    r = load_responses(small, path)
    assert r.log.encoding.startswith(codec[:6])
    assert r.log.loaded == 4 and r.data.loc["r1", "gender"] == "2"
    assert r.log.problems.iloc[0][["row", "column", "value"]].tolist() == [3, "b1", "9"]


def test_nul_bytes_that_are_not_utf16(small: Questionnaire, tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_bytes(b"\xff\xfe" + b"\x00\xd8\x00\xd8")  # a UTF-16 mark, then lone surrogates
    with pytest.raises(InputError, match="UTF-16 byte-order mark but is not valid UTF-16"):
        load_responses(small, path)
    path.write_bytes(csv_text(GOOD).encode() + b"\x00tail\n")
    with pytest.raises(InputError, match="NUL") as err:
        load_responses(small, path)
    assert err.value.row == 6


def test_xlsx_formula_without_value_and_merged_cells_are_noted(
        small: Questionnaire, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import openpyxl

    rows = [list(r) for r in GOOD]
    rows[1][2] = "=1+2"  # a2 of r2: a formula openpyxl saves without a result
    wb = openpyxl.Workbook()
    ws = wb.active
    # a blank row between r1 and r2: the respondents are on Excel rows 2, 4, 5, 6
    for excel_row, row in zip([1, 2, 4, 5, 6], [HEADER, *rows], strict=True):
        for col, value in enumerate(row, start=1):
            ws.cell(row=excel_row, column=col, value=value)
    ws.merge_cells("E5:E6")  # b1 of r3 and r4: r4's b1 reads as empty
    path = tmp_path / "r.xlsx"
    wb.save(path)
    r = load_responses(small, path)
    assert r.rows.to_dict() == {"r1": 2, "r2": 4, "r3": 5, "r4": 6}
    found = {d.code: d for d in r.log.warnings}
    assert found["excel_formula_no_value"].params == {"n": 1, "cells": ["C4"]}
    assert found["excel_merged_cells"].params == {"n": 1, "ranges": ["E5:E6"]}
    assert str(found["excel_formula_no_value"]) == (
        "1 cell holds a formula without a saved result and was read as empty: C4; open the "
        "workbook in Excel and save it to store the results")
    assert "合并单元格" in found["excel_merged_cells"].text("zh")
    assert np.isnan(r.data.loc["r2", "a2"]) and np.isnan(r.data.loc["r4", "b1"])
    assert r.data.loc["r3", "b1"] == 2
    assert main(["validate", small.source, str(path)]) == 0
    out = capsys.readouterr().out
    assert "C4" in out and "E5:E6" in out


def test_xlsx_formula_with_a_saved_value_is_not_noted(small: Questionnaire,
                                                      tmp_path: Path) -> None:
    path = tmp_path / "r.xlsx"
    frame().to_excel(path, index=False)
    assert load_responses(small, path).log.warnings == []


def test_missing_ids_are_empty_not_nan(small: Questionnaire, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    rows = [list(r) for r in GOOD]
    rows[1][0] = ""
    rows[2][7] = ""  # attention check left empty
    path = tmp_path / "r.csv"
    path.write_text(csv_text(rows), encoding="utf-8")
    out = tmp_path / "out.json"
    log = load_responses(small, path).log
    assert log.excluded_respondents["respondent"].tolist() == [None, "r3"]
    # 2 of 4 analysed, below min_respondents 3: exit 1
    assert main(["validate", small.source, str(path), "--json", str(out)]) == 1
    printed = capsys.readouterr().out
    assert not re.search(r"\bnan\b", printed, re.IGNORECASE), printed
    data = json.loads(out.read_text(encoding="utf-8"))
    assert [p["respondent"] for p in data["problems"]] == [None, "r3"]
    assert [p["value"] for p in data["problems"]] == [None, None]


# -- straight-lined data in reliability and efa (issue 15, point 3) -------------

TWO = """\
id: two
title: Two
respondent_id: rid
scales:
  s5: {min: 1, max: 5}
constructs:
  - id: A
    name: A
    items:
      - {id: a1, text: x, scale: s5}
      - {id: a2, text: x, scale: s5}
      - {id: a3, text: x, scale: s5}
  - id: B
    name: B
    items:
      - {id: b1, text: x, scale: s5}
      - {id: b2, text: x, scale: s5}
      - {id: b3, text: x, scale: s5}
screening: {min_respondents: 5}
"""


def _two_factor(n: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    fa, fb = rng.normal(size=n), rng.normal(size=n)

    def item(f: np.ndarray) -> np.ndarray:
        return np.clip(np.round(3 + f + rng.normal(scale=0.7, size=n)), 1, 5).astype(int)

    return pd.DataFrame({"rid": [f"r{i}" for i in range(n)],
                         **{f"a{i}": item(fa) for i in (1, 2, 3)},
                         **{f"b{i}": item(fb) for i in (1, 2, 3)}})


def _straight(kind: str) -> pd.DataFrame:
    d = _two_factor()
    answer = np.random.default_rng(2).integers(1, 6, size=len(d))
    if kind == "construct_constant":  # everyone answers 3 to all of A
        d[["a1", "a2", "a3"]] = 3
    elif kind == "construct_straight":  # each respondent one answer to all of A
        for c in ("a1", "a2", "a3"):
            d[c] = answer
    elif kind == "all_straight":  # everyone straight-lines: the screen excludes all
        for c in ("a1", "a2", "a3", "b1", "b2", "b3"):
            d[c] = answer
    return d


@pytest.mark.parametrize("command", ["reliability", "efa"])
@pytest.mark.parametrize(("kind", "words"), [
    ("construct_constant", "same answer from every respondent"),
    ("construct_straight", "every respondent gave the same answer to"),
    ("all_straight", "the data-quality screens excluded every respondent"),
])
def test_straight_lined_data_is_a_message_not_a_traceback(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str, kind: str,
        words: str) -> None:
    q = tmp_path / "two.yaml"
    q.write_text(TWO, encoding="utf-8")
    data = tmp_path / "r.csv"
    _straight(kind).to_csv(data, index=False)
    assert main([command, str(q), str(data)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and words in err, err
    if kind != "all_straight":
        assert "'a1', 'a2', 'a3'" in err
    if command == "reliability" and kind != "all_straight":
        assert "all items of 'A'" in err  # the construct is named


def test_straight_lined_data_reaches_the_refusal_through_the_api(tmp_path: Path) -> None:
    from satisfaction.efa import efa
    from satisfaction.reliability import reliability

    q = Questionnaire.from_dict(yaml_load(TWO))
    d = _straight("construct_straight").set_index("rid").astype(float)
    with pytest.raises(InputError) as err:
        reliability(q, d)
    assert err.value.column == "a2"
    assert "all items of 'A': 'a1', 'a2', 'a3'" in str(err.value)
    with pytest.raises(InputError, match="none of the 3 respondents did"):
        efa(pd.DataFrame({"x": [1.0, np.nan, 2], "y": [np.nan, 1.0, 2],
                          "z": [1.0, 2, np.nan]}))
    with pytest.raises(InputError, match="screens excluded every respondent"):
        reliability(q, d.iloc[:0])


def yaml_load(text: str) -> dict:
    import yaml

    return yaml.safe_load(text)


def test_scale_labels_in_cells_are_read_as_codes(tmp_path: Path) -> None:
    """Answers written as the scale's labels (either language, any case) become codes."""
    text = textwrap.dedent(SMALL).replace(
        "  s5: {min: 1, max: 5}\n",
        "  s5:\n    min: 1\n    max: 5\n    labels:\n"
        "      en: [Very inaccurate, Inaccurate, Neutral, Accurate, Very Accurate]\n"
        "      zh: [非常不符合, 不符合, 一般, 符合, 非常符合]\n")
    path = tmp_path / "labels.yaml"
    path.write_text(text, encoding="utf-8")
    q = load_questionnaire(path)
    rows = [list(r) for r in GOOD]
    rows[0][1] = "Very Accurate"       # a1 = 5
    rows[1][4] = " very  inaccurate "  # b1 = 1
    rows[2][5] = "符合"                 # b2 = 4
    rows[3][6] = "Mostly"              # not a label: still not a number
    res = load_responses(q, frame(rows))
    assert res.data["a1"].iloc[0] == 5 and res.data["b1"].iloc[1] == 1
    assert res.data["b2"].iloc[2] == 4 and np.isnan(res.data["b3"].iloc[3])
    assert list(res.log.problems["rule"]) == ["not_a_number"]
    note = next(w for w in res.log.warnings if w.code == "scale_labels_read")
    assert note.params["n"] == 3 and "3 answers" in note.text("en")


def test_decimal_comma_in_group_codes(small: Questionnaire) -> None:
    rows = [list(r) for r in GOOD]
    rows[0][8] = "1,0"
    rows[1][8] = "2.0"
    res = load_responses(small, frame(rows))
    assert list(res.data["gender"]) == ["1", "2", "1", "2"]
    assert res.log.problems.empty


def test_validate_summarises_problems_by_kind(small: Questionnaire, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    rows = [list(r) for r in GOOD] + [[f"x{k}", 1, 2, 3, 4, 5, 4, 4, 9, 30, "c"]
                                      for k in range(30)]
    path = tmp_path / "r.csv"
    path.write_text(csv_text(rows), encoding="utf-8")
    qpath = tmp_path / "small.yaml"
    qpath.write_text(textwrap.dedent(SMALL), encoding="utf-8")
    assert main(["validate", str(qpath), str(path)]) in (0, 1)
    out = capsys.readouterr().out
    assert "problems by kind: unknown group code in 'gender': 30" in out
    assert out.count("unknown_group_code") == 10


def _workbook(path: Path, title: str | None = None, blank_rows: int = 0,
              second_sheet: bool = False) -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Notes" if second_sheet else "Data"
    if second_sheet:
        ws.append(["exported by the panel provider"])
        ws = wb.create_sheet("Data")
    if title:
        ws.append([title])
    for _ in range(blank_rows):
        ws.append([])
    ws.append(HEADER)
    for row in GOOD:
        ws.append(row)
    wb.save(path)


def test_excel_title_row_is_detected_and_noted(small: Questionnaire, tmp_path: Path) -> None:
    path = tmp_path / "export.xlsx"
    _workbook(path, title="Customer survey 2026, wave 2", blank_rows=1)
    res = load_responses(small, path)
    assert res.log.analysed == 4
    note = next(w for w in res.log.warnings if w.code == "excel_title_row_skipped")
    assert note.params == {"row": 1, "header_row": 3}
    assert list(res.log.problems["row"]) == [] and res.data["a1"].tolist() == [1, 2, 5, 3]


def test_excel_sheet_and_header_row_options(small: Questionnaire, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "two.xlsx"
    _workbook(path, title="Wave 2", second_sheet=True)
    assert load_responses(small, path, sheet="Data").log.analysed == 4
    assert load_responses(small, path, sheet=2, header_row=2).log.analysed == 4
    with pytest.raises(InputError, match="no such sheet; the workbook has 'Notes', 'Data'"):
        load_responses(small, path, sheet="Daten")
    with pytest.raises(InputError, match=r"row 1 is empty|respondent-id"):
        load_responses(small, path, sheet="Data", header_row=1)
    qpath = tmp_path / "small.yaml"
    qpath.write_text(textwrap.dedent(SMALL), encoding="utf-8")
    assert main(["validate", str(qpath), str(path), "--sheet", "Data"]) == 0
    csv_path = tmp_path / "r.csv"
    csv_path.write_text(csv_text(GOOD), encoding="utf-8")
    capsys.readouterr()
    assert main(["validate", str(qpath), str(csv_path), "--sheet", "1"]) == 2
    assert "--sheet" in capsys.readouterr().err
