"""Hostile and broken transaction input (issue 15): every case a clean refusal naming
the option or the file and row, or a named exclusion that is counted; never a traceback.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest

from satisfaction.cli import main
from satisfaction.errors import InputError, UsageError
from satisfaction.value.clv import check_discount_rate, per_unit_discount
from satisfaction.value.customers import customer_table
from satisfaction.value.pipeline import value_analysis
from satisfaction.value.transactions import (
    MAX_AMOUNT,
    REASONS,
    TransactionColumns,
    check_date_format,
    csv_encoding,
    literal_path,
    load_transactions,
    parse_date,
)

TODAY = "2025-01-01"
HEADER = "customer_id,date,amount\n"
#: Three customers with repeat purchases: enough for every CLV model.
GOOD = ("a,2024-01-01,10\na,2024-02-01,12\na,2024-03-01,11\n"
        "b,2024-01-05,30\nb,2024-02-20,25\nc,2024-01-10,5\nc,2024-03-15,7\n"
        "d,2024-02-01,8\n")


def write(path: Path, body: str, header: str = HEADER) -> Path:
    path.write_text(header + body, encoding="utf-8")
    return path


def counts_add_up(log) -> bool:
    return log.loaded == log.kept + sum(log.excluded.values())


# --------------------------------------------------------------------------- 1. amounts
def test_huge_amount_is_excluded_with_its_row_and_sums_stay_exact(tmp_path):
    path = write(tmp_path / "t.csv", GOOD + "a,2024-03-02,1e32\nb,2024-03-02,-1e300\n"
                 "c,2024-03-02,999999999999999\nc,2024-03-03,999999999999999\n")
    tx = load_transactions(path, today=TODAY)
    log = tx.log
    assert log.excluded["amount_too_large"] == 2 and counts_add_up(log)
    p = log.problems.set_index("row")
    assert p.loc[10, "rule"] == "amount_too_large" and p.loc[10, "value"] == "1e32"
    assert p.loc[10, "column"] == "amount" and p.loc[11, "value"] == "-1e300"
    # just under the bound: kept, and summed exactly (DECIMAL(38, 6), no overflow)
    table = customer_table(tx, period_end="2024-12-31").data
    assert table.loc["c", "revenue"] == 5 + 7 + 2 * 999_999_999_999_999


def test_huge_cost_is_a_margin_too_large_on_the_cost_column(tmp_path):
    path = write(tmp_path / "t.csv", "a,2024-01-01,10,4\na,2024-02-01,12,1e20\n",
                 header="customer_id,date,amount,cost\n")
    tx = load_transactions(path, TransactionColumns(cost="cost"), today=TODAY)
    p = tx.log.problems.iloc[0]
    assert (p["row"], p["rule"], p["column"], p["value"]) == (3, "margin_too_large", "cost",
                                                              "1e20")
    assert tx.log.kept == 1


def test_huge_amount_in_typed_parquet(tmp_path):
    path = tmp_path / "t.parquet"
    pd.DataFrame({"customer_id": ["a", "a", "b"],
                  "date": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-01-03"]),
                  "amount": [10.0, 1e32, MAX_AMOUNT]}).to_parquet(path)
    tx = load_transactions(path, today=TODAY)
    assert tx.log.excluded["amount_too_large"] == 2 and tx.log.kept == 1
    assert tx.log.problems["row"].tolist() == [3, 4]


def test_rfm_command_with_huge_amount_exits_0(tmp_path, capsys):
    path = write(tmp_path / "t.csv", GOOD + "a,2024-03-02,1e32\n")
    assert main(["rfm", str(path), "--today", TODAY]) == 0
    out = capsys.readouterr().out
    assert "amount too large" in out and "row 10" in out and "'1e32'" in out


# --------------------------------------------------------------------------- 2. options
@pytest.mark.parametrize("args, option, words", [
    (["rfm", "--date-format", "%Q"], "--date-format", "%Q"),
    (["rfm", "--date-format", "%d/%m"], "--date-format", "no year"),
    (["rfm", "--date-format", "%Y%"], "--date-format", "Trailing"),
    (["clv", "--discount", "-5"], "--discount", "0.10 for 10 %"),
    (["clv", "--discount", "10"], "--discount", "1,000 % a year"),
    (["clv", "--discount", "nan"], "--discount", "0.10 for 10 %"),
    (["rfm", "--period-end", "2024/13/31"], "--period-end", "2024-03-31"),
    (["clv", "--today", "tomorrow"], "--today", "2024-03-31"),
    (["rfm", "--returns", "keep"], "--returns", "net or exclude"),
])
def test_bad_option_is_refused_before_the_data_are_read(args, option, words, tmp_path, capsys):
    # the file does not exist: the option is checked first, so it is the option
    # that is named, not the missing file
    missing = tmp_path / "no-such-file.csv"
    code = main([args[0], str(missing), *args[1:]])
    err = capsys.readouterr().err
    assert code == 2
    assert option in err and words in err
    assert "no-such-file" not in err and "Traceback" not in err and "column" not in err


def test_python_api_checks_discount_and_date_format():
    with pytest.raises(UsageError, match="discount_rate must be 0 or more"):
        check_discount_rate(-5)
    with pytest.raises(UsageError, match="1,000 % a year"):
        per_unit_discount(10, 7.0)
    assert per_unit_discount(0.10, 365.25) == pytest.approx(0.10, abs=1e-12)
    assert check_discount_rate(1) == 1.0 and check_discount_rate(0) == 0.0
    with pytest.raises(UsageError, match="date_format is not a strptime format"):
        load_transactions(pd.DataFrame({"customer_id": ["a"], "date": ["1"], "amount": [1]}),
                          date_format="%Q")
    check_date_format("%d/%m/%Y")
    check_date_format("%y%m%d")


def test_value_analysis_checks_its_arguments_before_the_work():
    frame = pd.DataFrame({"customer_id": ["a", "a"], "date": ["2024-01-01", "2024-02-01"],
                          "amount": [1.0, 2.0]})
    tx = load_transactions(frame, today=TODAY)
    with pytest.raises(UsageError, match="discount_rate"):
        value_analysis(tx, discount_rate=-5)
    with pytest.raises(UsageError, match="horizon"):
        value_analysis(tx, horizon=0)
    with pytest.raises(UsageError, match="models"):
        value_analysis(tx, models=("bgnbd", "lifetimes"))


@pytest.mark.parametrize("text", ["2024-03-31", "2024/03/31", "20240331", " 2024-03-31 ",
                                  "2024-03-31 12:00:00", "2024-03-31T08:15:00"])
def test_dates_given_as_options_take_the_transaction_layouts(text):
    assert parse_date(text, "--period-end") == dt.date(2024, 3, 31)


def test_period_end_with_slashes_is_used_and_printed(tmp_path, capsys):
    path = write(tmp_path / "t.csv", GOOD)
    js = tmp_path / "r.json"
    assert main(["rfm", str(path), "--period-end", "2024/02/29", "--today", "2025/01/01",
                 "--json", str(js)]) == 0
    out = capsys.readouterr().out
    assert "period end: 2024-02-29 (--period-end); holdout to 2024-03-15" in out
    assert json.loads(js.read_text())["settings"]["period_end"] == "2024-02-29"
    assert main(["rfm", str(path), "--today", TODAY]) == 0
    assert "period end: 2024-03-15 (the last transaction date)" in capsys.readouterr().out


def test_period_end_before_the_first_transaction_names_the_file(tmp_path):
    path = write(tmp_path / "t.csv", GOOD)
    tx = load_transactions(path, today=TODAY)
    with pytest.raises(UsageError) as info:
        customer_table(tx, period_end="2023/12/31")
    assert str(info.value) == (f"{path}: the period end 2023-12-31 is before the first "
                               "transaction (2024-01-01)")


# --------------------------------------------------------------------------- 3. dates
def test_placeholder_dates_are_excluded_and_counted(tmp_path):
    path = write(tmp_path / "t.csv", GOOD + "e,0001-01-01,4\ne,1899-12-31,4\ne,1900-01-01,4\n")
    tx = load_transactions(path, today=TODAY)
    log = tx.log
    assert log.excluded["early_date"] == 2 and counts_add_up(log)
    assert log.problems["row"].tolist() == [10, 11]
    assert set(log.problems["rule"]) == {"early_date"}
    assert log.problems["value"].tolist() == ["0001-01-01", "1899-12-31"]
    table = customer_table(tx, period_end="2024-12-31").data
    # e's only kept purchase is 1900-01-01: 45,289 days, not 739,250
    assert table.loc["e", "recency_days"] == (dt.date(2024, 12, 31) - dt.date(1900, 1, 1)).days
    # the bound is a parameter
    tx2 = load_transactions(path, today=TODAY, earliest="1950-01-01")
    assert tx2.log.excluded["early_date"] == 3


def test_early_dates_in_a_typed_frame_and_reason_order():
    frame = pd.DataFrame({"customer_id": ["a", "a", "a"],
                          "date": [dt.date(1, 1, 1), dt.date(2024, 1, 1), dt.date(1850, 6, 1)],
                          "amount": ["1e40", "3", "2"]})
    tx = load_transactions(frame, today=TODAY)
    # a row with an early date and a huge amount is counted once, under the date
    assert tx.log.excluded["early_date"] == 2 and tx.log.excluded["amount_too_large"] == 0
    assert REASONS.index("early_date") < REASONS.index("future_date")
    assert REASONS.index("unparseable_amount") < REASONS.index("amount_too_large")


def test_rfm_json_and_screen_count_early_dates(tmp_path, capsys):
    path = write(tmp_path / "t.csv", GOOD + "e,0001-01-01,4\n")
    js = tmp_path / "r.json"
    assert main(["rfm", str(path), "--today", TODAY, "--json", str(js)]) == 0
    out = capsys.readouterr().out
    assert "excluded: early date" in out and "before 1900-01-01" in out
    d = json.loads(js.read_text())
    assert d["excluded"]["early_date"] == 1
    assert any(w["params"]["reason"] == "early_date" for w in d["warnings"]
               if w["code"] == "transactions_excluded")


# --------------------------------------------------------------------------- 4. paths
@pytest.mark.parametrize("name, decoy", [("tx[ab].csv", "txa.csv"), ("tx*.csv", "txz.csv"),
                                         ("tx?.csv", "txq.csv"), ("t[[]x.csv", "t[x.csv")])
def test_paths_are_read_literally(tmp_path, name, decoy):
    write(tmp_path / decoy, "decoy,2024-01-01,1\n")
    path = write(tmp_path / name, "real,2024-01-01,1\n")
    tx = load_transactions(path, today=TODAY)
    assert tx.to_frame()["customer_id"].tolist() == ["real"]


def test_parquet_path_with_brackets(tmp_path):
    frame = pd.DataFrame({"customer_id": ["x"], "date": ["2024-01-01"], "amount": ["1"]})
    frame.to_parquet(tmp_path / "p[12].parquet")
    frame.assign(customer_id="decoy").to_parquet(tmp_path / "p1.parquet")
    tx = load_transactions(tmp_path / "p[12].parquet", today=TODAY)
    assert tx.to_frame()["customer_id"].tolist() == ["x"]


def test_literal_path():
    assert literal_path("/d/a[b]*?.csv") == "/d/a[[]b][*][?].csv"
    assert literal_path("C:\\x\\y.csv") == "C:\\x\\y.csv"


# --------------------------------------------------------------------------- 5. tiny clv
def test_clv_on_a_tiny_file_names_it_and_says_what_can_run(tmp_path, capsys):
    path = write(tmp_path / "tiny.csv", "a,2024-01-01,10\na,2024-02-01,5\nb,2024-01-05,3\n")
    assert main(["clv", str(path), "--today", TODAY]) == 2
    err = capsys.readouterr().err
    # three customers: the purchase models fail their gates too, and the hint says so
    assert str(path) in err and "fail their checks" in err and "Traceback" not in err
    assert "1 with a positive mean repeat spend, it needs 3" in err
    assert main(["clv", str(path), "--today", TODAY, "--models", "bgnbd"]) == 0


def test_clv_python_error_carries_file_and_hint(tmp_path):
    path = write(tmp_path / "tiny.csv", "a,2024-01-01,10\na,2024-02-01,5\n")
    tx = load_transactions(path, today=TODAY)
    with pytest.raises(InputError) as info:
        value_analysis(tx, models=("pareto_nbd", "gamma_gamma"))
    assert info.value.file == str(path) and "satisfaction rfm" in info.value.hint


# --------------------------------------------------------------------------- 6. problem list
def test_every_problem_in_json_and_and_n_more_on_screen(tmp_path, capsys):
    bad = "".join(f"z{i},not-a-date,1\n" for i in range(8)) + ",2024-01-01,3\n"
    path = write(tmp_path / "t.csv", GOOD + bad)
    js = tmp_path / "r.json"
    assert main(["rfm", str(path), "--today", TODAY, "--json", str(js)]) == 0
    out = capsys.readouterr().out
    assert "... and 4 more excluded rows (all listed in --json)" in out
    assert out.count("expected a date such as 2024-03-31") == 5
    d = json.loads(js.read_text())
    assert d["problems_complete"] is True and d["transactions_source"] == str(path)
    assert [p["row"] for p in d["problems"]] == list(range(10, 19))
    assert d["problems"][-1] == {"row": 18, "customer": None, "column": "customer_id",
                                 "value": None, "rule": "missing_id",
                                 "message": "the customer id is empty"}
    assert len(d["problems"]) == sum(d["excluded"].values()) == 9


def test_more_than_a_thousand_problems_all_listed(tmp_path):
    bad = "".join(f"z{i},2024-01-01,abc\n" for i in range(1500))
    path = write(tmp_path / "t.csv", GOOD + bad)
    from satisfaction.api import rfm
    result = rfm(path, today=TODAY)
    d = result.to_dict()
    assert len(d["problems"]) == 1500 and d["problems_complete"] is True
    # the library default still caps the log (and says it is incomplete)
    tx = load_transactions(path, today=TODAY)
    assert len(tx.log.problems) == 1000
    assert value_analysis(tx, models=()).to_dict()["problems_complete"] is False


def test_markup_in_a_cell_is_printed_as_text(tmp_path, capsys):
    path = write(tmp_path / "t.csv", GOOD + "[bold]x,2024-01-01,[/bold]\n")
    assert main(["rfm", str(path), "--today", TODAY]) == 0
    assert "(value: '[/bold]')" in capsys.readouterr().out


# --------------------------------------------------------------------------- 7. UTF-16
@pytest.mark.parametrize("encoding, expected", [("utf-16", "utf-16"),
                                                ("utf-16-le", "utf-16-le"),
                                                ("utf-16-be", "utf-16-be"),
                                                ("utf-8-sig", "utf-8")])
def test_utf16_files_are_read(tmp_path, encoding, expected):
    text = HEADER + "客户1,2024-01-01,¥1,234.50\n客户1,2024/02/03,7\n"
    text = text.replace("¥1,234.50", '"¥1,234.50"')
    path = tmp_path / "t.csv"
    path.write_bytes(text.encode(encoding))
    assert csv_encoding(path.read_bytes()[:4096]) == expected
    tx = load_transactions(path, today=TODAY)
    frame = tx.to_frame()
    assert frame["customer_id"].tolist() == ["客户1", "客户1"]
    assert frame["amount"].tolist() == [1234.5, 7.0] and tx.log.kept == 2


def test_gbk_is_still_gb18030():
    assert csv_encoding("客户,日期\n".encode("gbk")) == "gb18030"
    assert csv_encoding(b"a,b\n1,2\n") == "utf-8"


# --------------------------------------------------------------------------- delimiter
def test_delimiter_is_read_from_the_header_not_sniffed_from_the_cells(tmp_path):
    # every data row holds more commas than semicolons: DuckDB's own sniffer splits
    # on the comma (header 'customer_id;date;amount', column1, ...)
    body = "".join(f"a,{i},x;2024-01-0{i + 1};1,{i}\n" for i in range(5))
    path = write(tmp_path / "semi.csv", body, header="customer_id;date;amount\n")
    tx = load_transactions(path, today=TODAY)
    frame = tx.to_frame()
    assert frame["customer_id"].tolist() == [f"a,{i},x" for i in range(5)]
    assert frame["amount"].tolist() == [1.0 + i / 10 for i in range(5)]   # decimal comma
    assert tx.log.kept == 5


# --------------------------------------------------------------------------- file rows
@pytest.mark.parametrize("body, rows", [
    ("a,x,1\n\nb,y,2\n", [2, 4]),                      # a blank line
    ("\n\na,x,1\nb,y,2\n", [4, 5]),                    # blank lines before the first row
    ('a,x,1\n"c\nd",2024-01-01,3\n\n\nb,y,2\n', [2, 7]),  # a quoted line break
    ("a,x,1\r\n\r\nb,y,2\r\n\r\n", [2, 4]),           # CRLF, blank lines at the end
    ("a,x,1\nb,y,2\n\n\n", [2, 3]),
])
def test_problem_rows_are_file_lines(tmp_path, body, rows):
    path = tmp_path / "t.csv"
    path.write_bytes((HEADER + body).encode())
    tx = load_transactions(path, today=TODAY)
    assert tx.log.problems["row"].tolist() == rows
    assert counts_add_up(tx.log)


def test_quoted_line_break_in_a_cell_is_read(tmp_path):
    # DuckDB's parallel scanner refuses it (with null_padding): the loader retries serially
    path = tmp_path / "t.csv"
    path.write_bytes((HEADER + 'a,2024-01-01,1\n"multi\nline",2024-01-02,2\n').encode())
    tx = load_transactions(path, today=TODAY)
    assert tx.to_frame()["customer_id"].tolist() == ["a", "multi\nline"]


def test_utf16_problem_rows_count_blank_lines(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes((HEADER + "a,x,1\n\nb,2024-01-01,2\n\nc,y,3\n").encode("utf-16"))
    assert load_transactions(path, today=TODAY).log.problems["row"].tolist() == [2, 6]


def test_empty_transactions_file_is_named_as_empty(tmp_path):
    """A 0-byte file: one message saying it is empty (not a missing 'customer_id' among
    the columns 'column0' that a reader invents), exit 2 through the command."""
    from satisfaction.errors import InputError
    from satisfaction.value.transactions import load_transactions

    path = tmp_path / "tx.csv"
    path.write_bytes(b"")
    with pytest.raises(InputError, match="the file is empty"):
        load_transactions(path)
