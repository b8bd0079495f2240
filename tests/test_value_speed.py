"""The fast paths of the value pipeline give the same numbers as the general ones.

Each shortcut taken for the 10-million-row benchmark (issue 16, point 5) is checked
against the path it replaces, on the CDNOW sample and on small hostile tables: the
customer-table query without its holdout part, with the narrower exact decimal,
without its ORDER BY (sorted in pandas instead), and the loader's counts.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from satisfaction.value.customers import (
    NARROW_DECIMAL_BELOW,
    customer_table,
    customer_table_sql,
)
from satisfaction.value.transactions import TransactionColumns, load_transactions

CDNOW = Path(__file__).parent / "data" / "cdnow_sample.csv"
TODAY = "2025-01-01"


@pytest.fixture(scope="module")
def cdnow():
    return load_transactions(CDNOW, today=TODAY, duplicates="keep")


def _query(tx, *args, **options) -> pd.DataFrame:
    frame = tx.con.execute(customer_table_sql(*args, **options)).df()
    return frame.sort_values("customer_id", kind="stable", ignore_index=True)


@pytest.mark.parametrize("has_returns", [True, False])
def test_narrow_decimal_and_unordered_query_give_the_same_table(cdnow, has_returns):
    args = (dt.date(1997, 9, 30), dt.date(1998, 6, 30), 7.0)
    general = cdnow.con.execute(customer_table_sql(*args, has_margin=False,
                                                   has_returns=has_returns)).df()
    assert general["customer_id"].is_monotonic_increasing  # ORDER BY 1
    for narrow in (False, True):
        fast = _query(cdnow, *args, has_margin=False, has_returns=has_returns,
                      narrow_decimal=narrow, ordered=False)
        pd.testing.assert_frame_equal(general, fast)
    assert "ORDER BY" not in customer_table_sql(*args, ordered=False)
    assert "DECIMAL(18, 6)" in customer_table_sql(*args, narrow_decimal=True)
    assert "DECIMAL(18, 6)" not in customer_table_sql(*args)


def test_query_without_holdout_equals_the_one_with_an_empty_holdout(cdnow):
    """With the holdout end at the period end the holdout part is left out; the table
    equals the general query's with a holdout period that holds no transaction (the
    day after the last one)."""
    last = cdnow.date_range[1]
    without = customer_table_sql(last, last, 7.0)
    assert "holdout AS" not in without and "FULL OUTER JOIN" not in without
    empty = customer_table_sql(last, last + dt.timedelta(days=1), 7.0)
    assert "FULL OUTER JOIN" in empty
    a = cdnow.con.execute(without).df()
    b = cdnow.con.execute(empty).df()
    pd.testing.assert_frame_equal(a, b)
    assert (a["holdout_frequency"] == 0).all() and (a["holdout_revenue"] == 0).all()
    # an earlier period end keeps its holdout part (1,882 repeat occasions, as in
    # test_value_clv's holdout check)
    mid = dt.date(1997, 9, 30)
    held = cdnow.con.execute(customer_table_sql(mid, last, 7.0)).df()
    assert held["holdout_frequency"].sum() == 1882


def test_customer_table_is_in_customer_id_order_as_the_query_orders():
    """Integer ids by value (2 before 10), text ids by code point, as DuckDB's
    ORDER BY; the table equals the ordered query's, row for row."""
    frame = pd.DataFrame({"customer_id": [10, 2, 33, 2, 10, 7],
                          "date": ["2024-01-03", "2024-01-01", "2024-01-02", "2024-02-01",
                                   "2024-01-03", "2024-03-01"],
                          "amount": [5.0, 1.25, 7.5, 2.0, 3.0, 4.0]})
    for ids in (frame["customer_id"], frame["customer_id"].map({10: "b", 2: "B", 33: "é",
                                                                7: "a"})):
        tx = load_transactions(frame.assign(customer_id=ids), today=TODAY)
        table = customer_table(tx, period_end="2024-02-15")
        ordered = tx.con.execute(customer_table_sql(
            dt.date(2024, 2, 15), dt.date(2024, 3, 1), 7.0, has_margin=False)).df()
        ordered = ordered[ordered["transactions"] > 0]  # 7 buys after the period end
        assert table.first_seen_later == 1
        assert list(table.data.index) == [str(v) for v in ordered["customer_id"]]
        assert table.data["revenue"].tolist() == ordered["revenue"].tolist()


def test_loader_knows_the_widest_amount_and_margin():
    frame = pd.DataFrame({"customer_id": ["a", "a", "b", "c"],
                          "date": ["2024-01-01", "2024-01-05", "2024-01-02", "bad"],
                          "amount": [10.5, -250.25, 3.0, 9e13],
                          "margin": [1.0, -2.0, 400.0, 5.0]})
    tx = load_transactions(frame, TransactionColumns(margin="margin"), today=TODAY)
    assert tx.log.excluded["unparseable_date"] == 1  # the 9e13 row is not kept
    assert tx.known_max_abs == 400.0
    assert tx.log.notes == {"returns_netted": 1, "duplicates_kept": 0}


def test_amounts_too_wide_for_the_narrow_decimal_are_summed_exactly():
    """Above NARROW_DECIMAL_BELOW the query keeps DECIMAL(38, 6): revenue is the
    exact sum (compared with Python's Decimal) also for amounts near 10^14, to the
    last bit DuckDB's cast of a 128-bit decimal to a double keeps (1e-15)."""
    amounts = [99_999_999_999_999.25, 0.5, 123_456_789_012.125, 0.125]
    frame = pd.DataFrame({"customer_id": ["x", "x", "y", "y"],
                          "date": ["2024-01-01", "2024-01-01", "2024-01-02", "2024-01-09"],
                          "amount": amounts})
    tx = load_transactions(frame, today=TODAY)
    assert tx.known_max_abs == amounts[0] >= NARROW_DECIMAL_BELOW
    table = customer_table(tx).data
    exact = {"x": Decimal("99999999999999.25") + Decimal("0.5"),
             "y": Decimal("123456789012.125") + Decimal("0.125")}
    for who, total in exact.items():
        assert table.loc[who, "revenue"] == pytest.approx(float(total), rel=1e-15, abs=0)
    assert table.loc["y", "monetary_value"] == 0.125
    assert table.loc["x", "occasions"] == 1 and table.loc["x", "transactions"] == 2


def test_loader_counts_with_every_reason_and_duplicates_kept(tmp_path):
    """The counts, notes and problem rows read from the excluded-row table: loaded =
    kept + excluded, duplicates kept counted among the kept rows only, problem rows
    in file order and capped by max_problems."""
    text = ("customer_id,date,amount\n"
            "a,2024-01-01,5\n"
            "a,2024-01-01,5\n"       # duplicate of row 2, kept with duplicates='keep'
            ",2024-01-02,5\n"        # missing_id (row 4)
            "b,soon,5\n"             # unparseable_date (row 5)
            "b,soon,5\n"             # the same again: unparseable_date, not duplicate
            "c,2024-01-03,-4\n"      # a return, netted
            "d,2024-01-04,x\n")      # unparseable_amount (row 8)
    path = tmp_path / "tx.csv"
    path.write_text(text, encoding="utf-8")
    keep = load_transactions(path, today=TODAY, duplicates="keep")
    assert keep.log.loaded == 7 and keep.log.kept == 3
    assert keep.log.notes == {"returns_netted": 1, "duplicates_kept": 1}
    assert keep.log.problems["row"].tolist() == [4, 5, 6, 8]
    assert keep.log.problems["rule"].tolist() == ["missing_id", "unparseable_date",
                                                  "unparseable_date", "unparseable_amount"]
    drop = load_transactions(path, today=TODAY, max_problems=2)
    assert drop.log.excluded["duplicate"] == 1 and drop.log.kept == 2
    assert drop.log.notes == {"returns_netted": 1, "duplicates_kept": 0}
    assert drop.log.problems["row"].tolist() == [3, 4]
    assert drop.log.loaded == drop.log.kept + sum(drop.log.excluded.values())
