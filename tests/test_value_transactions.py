"""Transaction loading and validation: every row is kept or excluded under a reason."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from satisfaction.errors import InputError
from satisfaction.value.customers import customer_table
from satisfaction.value.transactions import (
    REASONS,
    TransactionColumns,
    load_transactions,
    parse_amount,
)

TODAY = "2025-01-01"

MESSY = """customer_id,date,amount,channel
c1,2024-01-05,"¥1,234.50",web
c1,2024-01-05,"¥1,234.50",web
,2024-02-01,10,web
c2,not a date,10,shop
c3,2024-03-01,abc,shop
c4,2030-01-01,10,shop
c5,2024-03-01,,shop
c6,,5,shop
c7,20240302,-20,shop
c7,2024/03/01,"$1,000",shop
c8,2024-03-04, 12.50 ,web
"""


@pytest.fixture()
def messy(tmp_path):
    path = tmp_path / "tx.csv"
    path.write_text(MESSY, encoding="utf-8")
    return path


def test_every_reason_counted_with_row_column_value(messy):
    tx = load_transactions(messy, today=TODAY)
    log = tx.log
    assert log.loaded == 11
    assert log.kept + sum(log.excluded.values()) == log.loaded
    assert list(log.excluded) == list(REASONS)
    expected = {"duplicate": 1, "missing_id": 1, "unparseable_date": 1,
                "unparseable_amount": 1, "future_date": 1, "missing_amount": 1,
                "missing_date": 1}
    assert {k: v for k, v in log.excluded.items() if v} == expected
    assert log.kept == 4
    assert log.notes["returns_netted"] == 1
    p = log.problems.set_index("row")
    # rows as the user sees them: the header is row 1
    assert p.loc[3, "rule"] == "duplicate"
    assert p.loc[4, "rule"] == "missing_id"
    assert (p.loc[5, "rule"], p.loc[5, "column"], p.loc[5, "value"]) == (
        "unparseable_date", "date", "not a date")
    assert (p.loc[6, "rule"], p.loc[6, "value"]) == ("unparseable_amount", "abc")
    assert p.loc[7, "rule"] == "future_date"
    kept = tx.to_frame().set_index("customer_id")
    assert kept.loc["c1", "amount"] == 1234.5
    assert kept.loc["c8", "amount"] == 12.5
    assert sorted(kept.loc["c7", "amount"].tolist()) == [-20.0, 1000.0]
    assert kept.loc["c7", "date"].tolist() == [dt.date(2024, 3, 2), dt.date(2024, 3, 1)] or \
        sorted(kept.loc["c7", "date"].tolist()) == [pd.Timestamp("2024-03-01"),
                                                    pd.Timestamp("2024-03-02")]


def test_returns_excluded_by_option(messy):
    tx = load_transactions(messy, today=TODAY, returns="exclude")
    assert tx.log.excluded["negative_amount"] == 1
    assert tx.log.notes["returns_netted"] == 0
    assert tx.log.kept == 3


def test_returns_are_netted_not_purchases(messy):
    tx = load_transactions(messy, today=TODAY)
    t = customer_table(tx, period_end="2024-12-31").data
    # c7: purchase of 1000 on 03-01 and a return of 20 on 03-02: one occasion, revenue 980
    assert t.loc["c7", "occasions"] == 1
    assert t.loc["c7", "revenue"] == 980.0
    assert t.loc["c7", "last_purchase"] == pd.Timestamp("2024-03-01")


def test_duplicates_kept_are_counted(messy):
    tx = load_transactions(messy, today=TODAY, duplicates="keep")
    assert tx.log.excluded["duplicate"] == 0
    assert tx.log.notes["duplicates_kept"] == 1
    assert tx.log.kept == 5


def test_on_error_raise_names_file_row_column_value(messy):
    with pytest.raises(InputError) as err:
        load_transactions(messy, today=TODAY, on_error="raise", duplicates="keep")
    text = str(err.value)
    assert str(messy) in text and "row 4" in text and "'customer_id'" in text


def test_missing_column_and_missing_file(messy, tmp_path):
    with pytest.raises(InputError, match="no amount column 'spend'"):
        load_transactions(messy, TransactionColumns(amount="spend"))
    with pytest.raises(InputError, match="file not found"):
        load_transactions(tmp_path / "nope.csv")
    empty = tmp_path / "empty.csv"
    empty.write_text("customer_id,date,amount\n", encoding="utf-8")
    with pytest.raises(InputError, match="no transactions"):
        load_transactions(empty)


def test_dataframe_parquet_xlsx_and_configurable_names(tmp_path):
    frame = pd.DataFrame({
        "customer": ["a", "a", "b"],
        "when": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-01-15"]),
        "spend": [10.0, 20.0, 5.0],
        "cost": [4.0, 8.0, 1.0],
    })
    cols = TransactionColumns(customer="customer", date="when", amount="spend", cost="cost")
    results = []
    for source in ("frame", "parquet", "xlsx"):
        if source == "frame":
            src = frame
        else:
            src = tmp_path / f"tx.{source}"
            (frame.to_parquet if source == "parquet" else frame.to_excel)(src, index=False)
        tx = load_transactions(src, cols, today=TODAY)
        assert tx.log.kept == 3 and tx.has_margin
        results.append(customer_table(tx, time_unit="day").data[["revenue", "margin"]])
    for r in results[1:]:
        pd.testing.assert_frame_equal(r, results[0])
    assert results[0].loc["a", "margin"] == 18.0


def test_gbk_csv(tmp_path):
    path = tmp_path / "gbk.csv"
    path.write_bytes("客户,日期,金额\n张三,2024-01-01,￥100\n李四,2024-01-02,200元\n"
                     .encode("gb18030"))
    tx = load_transactions(path, TransactionColumns(customer="客户", date="日期", amount="金额"),
                           today=TODAY)
    assert tx.log.kept == 1 and tx.log.excluded["unparseable_amount"] == 1
    assert tx.log.problems.iloc[0]["value"] == "200元"


@pytest.mark.parametrize("text,value", [
    ("¥1,234.50", 1234.5), ("$1,000", 1000.0), ("1 234,5", 1234.5), ("12,5", 12.5),
    ("-3.2", -3.2), ("EUR 7", 7.0), ("1,234,567.8", 1234567.8), ("abc", None), ("", None),
    ("1,23,4", None), ("inf", None), ("nan", None), ("1.2.3", None), (".5", 0.5),
])
def test_parse_amount(text, value, tmp_path):
    assert parse_amount(text) == value
    # the SQL loader reads it the same way
    frame = pd.DataFrame({"customer_id": ["a"], "date": ["2024-01-01"], "amount": [text]})
    tx = load_transactions(frame, today=TODAY)
    got = tx.to_frame()["amount"].tolist()
    assert got == ([] if value is None else [value])


def test_typed_parquet_with_exclusions_keeps_exactly_the_valid_rows(tmp_path):
    """A typed source with excluded rows (duplicate, future date, missing id, NaN
    amount) keeps the others, as the rules say, in file order."""
    frame = pd.DataFrame({
        "customer_id": pd.array([1, 1, 1, None, 2, 2, 3], dtype="Int64"),
        "date": pd.to_datetime(["2024-01-01", "2024-01-01", "2030-01-01", "2024-01-02",
                                "2024-01-03", "2024-01-04", "2024-01-05"]),
        "amount": [10.0, 10.0, 5.0, 7.0, float("nan"), 3.5, -2.0],
    })
    path = tmp_path / "typed.parquet"
    frame.to_parquet(path, index=False)
    tx = load_transactions(path, today=TODAY)
    assert tx.log.excluded["duplicate"] == 1 and tx.log.excluded["future_date"] == 1
    assert tx.log.excluded["missing_id"] == 1 and tx.log.excluded["missing_amount"] == 1
    assert tx.log.kept == 3 and tx.log.notes["returns_netted"] == 1
    kept = tx.to_frame()
    assert kept["amount"].tolist() == [10.0, 3.5, -2.0]
    assert kept["customer_id"].astype(str).tolist() == ["1", "2", "3"]
    queried = tx.con.execute("SELECT min(date), max(date) FROM transactions").fetchone()
    assert tx.date_range == tuple(queried) == (dt.date(2024, 1, 1), dt.date(2024, 1, 5))


def test_customer_table_fast_path_without_returns_is_the_same_table():
    """Without negative amounts the query leaves out its FILTER (WHERE bought)
    clauses; the table is the same as the general query's."""
    from pathlib import Path

    from satisfaction.value.customers import customer_table_sql

    cdnow = Path(__file__).parent / "data" / "cdnow_sample.csv"
    tx = load_transactions(cdnow, today=TODAY, duplicates="keep")
    assert tx.log.notes["returns_netted"] == 0
    args = (dt.date(1997, 9, 30), dt.date(1998, 6, 30), 7.0)
    general = tx.con.execute(customer_table_sql(*args, has_returns=True)).df()
    fast = tx.con.execute(customer_table_sql(*args, has_returns=False)).df()
    assert "FILTER (WHERE bought)" not in customer_table_sql(*args, has_returns=False)
    pd.testing.assert_frame_equal(general, fast)
