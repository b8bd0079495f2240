"""Spark validates transactions exactly as DuckDB does.

The reference is the DuckDB loader (tests/test_value_transactions.py and the
hypothesis oracle of tests/test_value_properties.py): on a messy file holding every
exclusion reason and every accepted spelling of empty cells, amounts and dates,
Spark must give the same counts, notes, problem rows and kept transactions, for a
CSV, a Parquet file and a Spark DataFrame, with ANSI mode on and off; and each rule
(dates in every format, amounts, empty cells, ids) must read a corpus of awkward
cells as DuckDB does. The session has the settings of tests/test_spark.py; in one
test process the JVM (~40 s to start) is shared by both modules.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pandas as pd
import pytest

from satisfaction.errors import InputError, UsageError
from satisfaction.value import spark as sv
from satisfaction.value import spark_parquet, spark_session, spark_validation
from satisfaction.value.customers import customer_table
from satisfaction.value.transactions import (
    _DATE_FORMATS,
    TransactionColumns,
    _blank_sql,
    _date_sql,
    amount_sql,
    load_transactions,
)
from tests.test_spark import spark_frame, test_session

TODAY = "2025-01-01"
COLS = TransactionColumns(margin="margin")

# the engine collects through Arrow and the tests build DataFrames from plain rows:
# PySpark's pandas-3 warning must not appear (see tests/test_spark.py)
pytestmark = pytest.mark.filterwarnings("error:PySpark does not yet fully support pandas")

# every reason, every accepted spelling; the comments say what each row is
MESSY = '''customer_id,date,amount,margin,channel
c1,2024-01-05,"¥1,234.50",10,web
c1,2024-01-05,"¥1,234.50",10,web
,2024-02-01,10,1,web
NA,2024-02-01,10,1,web
 n/a ,2024-02-01,11,1,web
null,2024-02-01,12,1,web
-,2024-02-01,13,1,web
#N/A,2024-02-01,14,1,web
None,2024-02-01,15,1,web
c2,not a date,10,1,shop
c2,01/03/2024,10,1,shop
c2,2024-02-30,10,1,shop
c2,2024-13-01,10,1,shop
c2,24-03-01 10,10,1,shop
c2,2024-03-01 10:00:60,10,1,shop
c3,2024-03-01,abc,1,shop
c3,2024-03-01,"1.234,5",1,shop
c3,2024-03-01,"1,2345",1,shop
c3,2024-03-01,Infinity,1,shop
c3,2024-03-01,1e400,1,shop
c3,2024-03-01,12 34,1,shop
c4,2030-01-01,10,1,shop
c4,2025-01-02 00:00:00,10,1,shop
c5,2024-03-01,,1,shop
c5,2024-03-01,NA,1,shop
c5,2024-03-01,nan,1,shop
c5,2024-03-01,-,1,shop
c6,,5,1,shop
c6,NULL,5,1,shop
c6,n/a,5,1,shop
c7,20240302,-20,-2,shop
c7,2024/03/01,"$1,000",5,shop
c7,2024/03/01,"$ 12.00",5,shop
c8,2024-03-04, 12.50 ,1,web
c8,2024-03-05,"12,5",1,web
c8,2024-03-06,"12,50",NA,web
c8,2024-03-07,CNY 30,3,web
c8,2024-03-08,30USD,3,web
c8,2024-03-09,€5,x,web
c9,2024-03-01 10:00:00,£7.5,1,web
c9,2024-03-02T10:00:00,₹100,1,web
c9,2024/03/03 10:00:00,￥88,1,web
c9,2024-03-04 10:00,"1'234.5",1,web
c9,2024-3-5,+3,1,web
c9,2024/3/6,.5,1,web
c9,2024-03-07  10:00:00,1e3,1,web
c9,2024-03-08 9:5:3,"1,234",1,web
c9, 2024-03-09 ,RMB 7,1,web
10,2024-03-10,EUR 9,1,web
10,2024-03-10,EUR 9,1,web
NA,2024-03-10,EUR 9,1,web
'''


@pytest.fixture(scope="module")
def spark():
    session = test_session()
    yield session
    session.stop()


def _both(source, spark, frame=None, **options):
    """Load ``source`` with DuckDB and ``frame`` (default: ``source``) with Spark."""
    duck = load_transactions(source, COLS, today=TODAY, **options)
    stx = sv.spark_transactions(spark, source if frame is None else frame, COLS, today=TODAY,
                                **options)
    return duck, stx


def _same_log(duck, stx) -> None:
    assert stx.log.loaded == duck.log.loaded
    assert stx.log.excluded == duck.log.excluded
    assert stx.log.kept == duck.log.kept
    assert stx.log.notes == duck.log.notes
    d, s = duck.log.to_dict()["problems"], stx.log.to_dict()["problems"]
    assert s == d


def _same_kept(duck, stx) -> None:
    # integer ids stay integers on both engines; compared as the text they are written as
    d = duck.to_frame()[["customer_id", "date", "amount", "margin"]].astype(
        {"customer_id": str})
    s = stx.spark.table(stx.view).toArrow().to_pandas().astype({"customer_id": str})
    key = ["customer_id", "date", "amount"]
    d = d.sort_values(key, kind="stable").reset_index(drop=True)
    s = s.sort_values(key, kind="stable").reset_index(drop=True)
    assert list(s["customer_id"]) == list(d["customer_id"])
    assert list(pd.to_datetime(s["date"])) == list(pd.to_datetime(d["date"]))
    np.testing.assert_array_equal(s["amount"].to_numpy(float), d["amount"].to_numpy(float))
    np.testing.assert_array_equal(s["margin"].to_numpy(float), d["margin"].to_numpy(float))


@pytest.fixture(scope="module")
def messy_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("messy") / "tx.csv"
    path.write_text(MESSY, encoding="utf-8")
    return path


@pytest.mark.parametrize("options", [{}, {"returns": "exclude", "duplicates": "keep"},
                                     {"max_problems": None}])
def test_messy_csv_same_log_problems_and_values(spark, messy_csv, options):
    """The same log, problem list (row numbers included), kept rows and customer
    table as DuckDB's; with max_problems=None the excluded rows are those the
    duplicate check observed (see spark_transactions)."""
    duck, stx = _both(messy_csv, spark, **options)
    other = options.get("returns") == "exclude"   # and duplicates kept
    # the file holds every reason (the DuckDB loader is the reference, tested on its own)
    reasons = {k for k, v in duck.log.excluded.items() if v}
    expected = {"missing_id", "missing_date", "unparseable_date", "future_date",
                "missing_amount", "unparseable_amount", "unparseable_margin"}
    expected |= {"negative_amount"} if other else {"duplicate"}
    assert reasons == expected
    _same_log(duck, stx)
    rows = list(stx.log.problems["row"])
    # the header is row 1: the copy of the first row is row 3, the empty id row 4
    assert rows == sorted(rows) and rows[0] == (4 if other else 3)
    assert stx.log.to_dict()["problems"][0]["rule"] == (
        "missing_id" if other else "duplicate")
    _same_kept(duck, stx)
    # the same per-customer values
    d = customer_table(duck, period_end="2024-03-10").data.sort_index()
    s = sv.spark_customer_table(stx, period_end="2024-03-10").data
    pd.testing.assert_frame_equal(s, d)
    assert np.isfinite(s["revenue"]).all() and len(s) == 6


def test_ansi_off_and_many_splits_same_result(spark, messy_csv):
    duck = load_transactions(messy_csv, COLS, today=TODAY)
    # ANSI off, and the file read in ~300-byte splits: Spark orders splits by size, so
    # the problem rows must come from the split offsets, not the partition order
    spark.conf.set("spark.sql.ansi.enabled", "false")
    spark.conf.set("spark.sql.files.maxPartitionBytes", "300")
    try:
        assert spark.read.csv(str(messy_csv), header=True).rdd.getNumPartitions() > 4
        stx = sv.spark_transactions(spark, str(messy_csv), COLS, today=TODAY)
    finally:
        spark.conf.unset("spark.sql.ansi.enabled")
        spark.conf.unset("spark.sql.files.maxPartitionBytes")
    _same_log(duck, stx)
    assert len(stx.log.problems) > 30
    _same_kept(duck, stx)


def test_semicolon_csv_parquet_and_dataframe(spark, tmp_path, messy_csv):
    frame = pd.read_csv(messy_csv, dtype=str, keep_default_na=False)
    # a semicolon-separated file, as written where the decimal mark is a comma
    semi = tmp_path / "semi.csv"
    frame.to_csv(semi, sep=";", index=False)
    duck, stx = _both(semi, spark)
    _same_log(duck, stx)
    _same_kept(duck, stx)
    # Parquet: rows are the file's row + 2, as for DuckDB
    pq = tmp_path / "tx.parquet"
    frame.replace({"": None}).to_parquet(pq, index=False)
    duck, stx = _both(pq, spark)
    _same_log(duck, stx)
    _same_kept(duck, stx)
    # a DataFrame: rows are positions from 0, as for a pandas DataFrame in DuckDB
    duck, stx = _both(frame, spark, frame=spark_frame(spark, frame))
    _same_log(duck, stx)
    assert stx.log.problems["row"].iloc[0] == 1
    _same_kept(duck, stx)


def test_typed_columns_and_max_problems(spark, tmp_path):
    frame = pd.DataFrame({
        "customer_id": pd.array([1, 2, None, 4, 5, 5], dtype="Int64"),
        "date": pd.array([20240301, 20240230, 20240302, None, 19970101, 19970101],
                         dtype="Int64"),
        "amount": [1.5, 2.0, 3.0, 4.0, float("nan"), float("inf")],
        "margin": [0.5, None, 1.0, 1.0, 1.0, 1.0]})
    pq = tmp_path / "typed.parquet"
    frame.to_parquet(pq, index=False)
    duck = load_transactions(pq, COLS, today=TODAY, max_problems=2)
    stx = sv.spark_transactions(spark, str(pq), COLS, today=TODAY, max_problems=2)
    _same_log(duck, stx)
    assert len(stx.log.problems) == 2
    _same_kept(duck, stx)
    dates = frame.assign(date=pd.to_datetime(["2024-03-01", "2024-02-28", "2024-03-02",
                                              None, "1997-01-01", "1997-01-01"]))
    pq2 = tmp_path / "dates.parquet"
    dates.to_parquet(pq2, index=False)
    duck = load_transactions(pq2, COLS, today=TODAY)
    stx = sv.spark_transactions(spark, str(pq2), COLS, today=TODAY)
    _same_log(duck, stx)
    _same_kept(duck, stx)


def test_on_error_raise_and_bad_date_format(spark, messy_csv):
    with pytest.raises(InputError) as d:
        load_transactions(messy_csv, COLS, today=TODAY, on_error="raise")
    with pytest.raises(InputError) as s:
        sv.spark_transactions(spark, str(messy_csv), COLS, today=TODAY, on_error="raise")
    assert (s.value.row, s.value.column, str(s.value)) == (
        d.value.row, d.value.column, str(d.value).replace(str(messy_csv), str(messy_csv)))
    with pytest.raises(UsageError, match="%j"):
        sv.spark_transactions(spark, str(messy_csv), COLS, date_format="%Y-%j")


# -------------------------------------------- the rules, cell by cell, on both engines
DATES = [
    "2024-03-01", "2024/03/01", "20240301", "2024-03-01 10:00:00", "2024-03-01T10:00:00",
    "2024/03/01 10:00:00", "2024-03-01 10:00", "2024-3-1", "2024/3/1", "2024-02-30",
    "2024-02-29", "2023-02-29", "2024-13-01", " 2024-03-01 ", "24-03-01", "4-3-1",
    "02024-03-01", "10000-01-01", "2024031", "20241", "202431", "240301", "2024-03-1",
    "2024-003-01", "2024-+3-01", "2024- 3-01", "-2024-03-01", "+2024-03-01", "2024-03-01x",
    "2024-03-01Z", "2024-03-01 10", "2024-03-01T10:00", "2024-03-01 9:5:3",
    "2024-03-01  10:00:00", "2024-03-0110:00:00", "2024-03-01\t10:00:00",
    "2024-03-01 10:00:00\t", "2024-03-01\n", "2024-03-01 24:00:00", "2024-03-01 10:00:60",
    "2024-03-01 10:00:00.5", "2024.03.01", "1/3/2024", "01/03/2024", "1.3.2024",
    "01.03.2024 10:30", "1 mar 2024", "01 MAR 2024", "1 March 2024", "1 march 2024",
    "1 Mar. 2024", "24-03-01", "68-03-01", "69-03-01", "2024年3月1日", "abc", "",
    "2024-03-01\u3000", "\u00a02024-03-01", "\u00a001/03/2024\u2003", "01.03.2024",
    "1.3.2024 9:05", "2024-03-01 10:00:00.123456",
    "2024年03月01日", "2024年2月30日",
]
FORMATS = [None, "%d/%m/%Y", "%d.%m.%Y", "%d.%m.%Y %H:%M", "%d %b %Y", "%d %B %Y",
           "%y-%m-%d", "%Y年%m月%d日", "%Y-%m-%d %H:%M:%S.%f"]
AMOUNTS = [
    "1234.50", "¥1,234.50", "$ 12.00", "$1,000", "1.234,5", "12,5", "12,50", "12,505",
    "1,2345", "CNY 30", "30 CNY", "30CNY", "cny 30", "USD12", "12 EUR", "€5", "£7.5", "₹100",
    "￥88", "₩1000", "1'234.5", "1’234.5", "-20", "+3", ".5", "5.", "1e3", "1E-2", "1e400",
    "-1e400", "1,234", "-1,234.5", "+1,234", "12 34", "abc", "inf", "Infinity", "NaN",
    "0x10", "1_000", "--1", "1-", "(12)", "12\n", "USD", "$", "", " ", "\t12\t", "12\u00a0",
    "RMB 7", "JPY1,000", "1,000.", "1,00,000", "EUR12EUR", "12USD\n", "\u3000¥5\u3000",
    "\u200b5", "5\x0b",
]
IDS = ["", " ", "NA", "na", " n/a ", "NULL", "None", "-", "#N/A", "nan", "NaN", "NA\u00a0",
       "\u3000-\u3000", "\tNA", "c1", " c1 ", "c1\u00a0", "--", "N/A/", "\u200bc1", "\u2003"]


def test_dates_read_alike(spark):
    con = duckdb.connect()
    con.execute("CREATE TABLE t (d VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?)", [[d] for d in DATES])
    frame = spark.createDataFrame([(d,) for d in DATES], "d string")
    for fmt in FORMATS:
        duck = dict(con.execute(f"SELECT d, {_date_sql('d', 'VARCHAR', fmt)} FROM t").fetchall())
        rows = frame.selectExpr("d", f"{sv.spark_date_sql('d', 'text', fmt)} AS v").collect()
        got = {r["d"]: r["v"] for r in rows}
        differ = {d: (duck[d], got[d]) for d in DATES if duck[d] != got[d]}
        assert not differ, (fmt, differ)
        assert sum(v is not None for v in got.values()) >= 2, fmt  # each format reads some
    assert _DATE_FORMATS[0] == "%Y-%m-%d"


def test_amounts_read_alike(spark):
    con = duckdb.connect()
    con.execute("CREATE TABLE t (a VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?)", [[a] for a in AMOUNTS])
    duck = dict(con.execute(f"SELECT a, {amount_sql('a', True)} FROM t").fetchall())
    stages, final = sv.spark_amount_sql("a", True)
    frame = spark.createDataFrame([(a,) for a in AMOUNTS], "a string")
    frame = frame.selectExpr("a", f"{stages[0]} AS s1")
    frame = frame.selectExpr("a", stages[1].replace("{prev}", "s1") + " AS s2")
    rows = frame.selectExpr("a", final.replace("{prev}", "s2") + " AS v").collect()
    got = {r["a"]: r["v"] for r in rows}
    differ = {a: (duck[a], got[a]) for a in AMOUNTS if duck[a] != got[a]}
    assert not differ, differ
    assert got["¥1,234.50"] == 1234.5 and got["12,5"] == 12.5 and got["1.234,5"] is None


def test_empty_cells_and_ids_read_alike(spark):
    con = duckdb.connect()
    con.execute("CREATE TABLE t (x VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?)", [[x] for x in IDS])
    duck = {r[0]: (r[1], r[2]) for r in con.execute(
        f"SELECT x, {_blank_sql('x')}, NULLIF(trim(x), '') FROM t").fetchall()}
    rows = spark.createDataFrame([(x,) for x in IDS], "x string").selectExpr(
        "x", f"{sv.spark_blank_sql('x', True)} AS blank",
        f"nullif({sv.spark_trim_sql('x')}, '') AS id").collect()
    got = {r["x"]: (r["blank"], r["id"]) for r in rows}
    differ = {x: (duck[x], got[x]) for x in IDS if duck[x] != got[x]}
    assert not differ, differ
    assert got["NA\u00a0"] == (True, "NA") and got["c1\u00a0"] == (False, "c1")


def test_what_is_not_parquet_is_an_input_error(spark, tmp_path):
    """A folder of CSV files, an empty folder, a text file named .parquet, alone or
    beside a Parquet file: one message naming the file, not a failed Spark job."""
    folder = tmp_path / "csvs"
    folder.mkdir()
    (folder / "a.csv").write_text("customer_id,date,amount\n1,2024-01-01,3\n")
    (folder / "_SUCCESS").write_text("")
    with pytest.raises(InputError, match=r"reads a folder of Parquet files; this one also "
                       r"holds a\.csv, not Parquet: give one CSV file") as err:
        sv.spark_transactions(spark, str(folder), COLS)
    assert err.value.file == str(folder)
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="the folder holds no data files"):
        sv.spark_transactions(spark, str(tmp_path / "empty"), COLS)
    fake = tmp_path / "fake.parquet"
    fake.write_text("customer_id,date,amount\n")
    with pytest.raises(InputError, match="not a Parquet file") as err:
        sv.spark_transactions(spark, str(fake), COLS)
    assert err.value.file == str(fake)
    # a folder of one Parquet file (Impala's .parq) and a text file named .parquet
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    _dated(40).to_parquet(mixed / "part-0.parq", index=False)
    assert sv.spark_transactions(spark, str(mixed), COLS, today=TODAY).log.loaded == 42
    (mixed / "part-1.parquet").write_text("1,2024-01-01,3\n")
    with pytest.raises(InputError, match=r"also holds part-1\.parquet, not Parquet"):
        sv.spark_transactions(spark, str(mixed), COLS)
    assert spark.range(2).count() == 2  # the session goes on


def test_empty_file_is_named_as_empty_on_both_engines(spark, tmp_path):
    """A 0-byte file: the same one message from both loaders."""
    path = tmp_path / "tx.csv"
    path.write_bytes(b"")
    with pytest.raises(InputError) as duck:
        load_transactions(path, COLS, today=TODAY)
    with pytest.raises(InputError) as on_spark:
        sv.spark_transactions(spark, str(path), COLS, today=TODAY)
    assert "the file is empty" in duck.value.message
    assert on_spark.value.message == duck.value.message


@pytest.mark.parametrize("typed", [True, False])
def test_parquet_without_rows_says_so_on_both_engines(spark, tmp_path, typed):
    """A Parquet file with columns and no row (DATE or text dates: footers with no
    dates prove nothing, so the first pass finds no row): the same message from both
    loaders."""
    frame = _dated().iloc[:0]
    path = tmp_path / "none.parquet"
    (frame if typed else frame.astype({"date": str})).to_parquet(path, index=False)
    with pytest.raises(InputError) as duck:
        load_transactions(path, COLS, today=TODAY)
    with pytest.raises(InputError) as on_spark:
        sv.spark_transactions(spark, str(path), COLS, today=TODAY)
    assert on_spark.value.message == duck.value.message == "no transactions in the file"


# ------------------------------------ the log from the shuffle's observed counts
@pytest.mark.parametrize("max_problems", [1000, None])
def test_log_completed_by_the_customer_table_is_duckdbs(spark, messy_csv, max_problems):
    """Built first, the customer table's query completes the log from the counts its
    shuffle observed (no count query of its own): the same log and problem rows as
    DuckDB's, and the same table."""
    duck = load_transactions(messy_csv, COLS, today=TODAY, max_problems=max_problems)
    stx = sv.spark_transactions(spark, str(messy_csv), COLS, today=TODAY,
                                max_problems=max_problems)
    assert stx._log is None  # not before the shuffle
    table = sv.spark_customer_table(stx)
    assert stx._log is not None  # made from the query's observed metrics
    _same_log(duck, stx)
    pd.testing.assert_frame_equal(table.data, customer_table(duck).data.sort_index())


def test_nothing_passes_and_on_error_raise_without_problems(spark, tmp_path):
    """Every row excluded by a row rule: the log needs no shuffle and says what
    DuckDB's says, and the customer table the same error. on_error="raise" with
    max_problems=0 lists nothing and so raises nothing, on both engines."""
    path = tmp_path / "bad.csv"
    path.write_text("customer_id,date,amount,margin\n"
                    + "".join(f"c{i},03/0{i % 9 + 1}/2024,10,\n" for i in range(12)))
    duck = load_transactions(path, COLS, today=TODAY, max_problems=None)
    stx = sv.spark_transactions(spark, str(path), COLS, today=TODAY, max_problems=None)
    assert stx.passing == 0
    _same_log(duck, stx)
    assert stx.log.excluded["unparseable_date"] == 12
    with pytest.raises(InputError) as d:
        customer_table(duck)
    with pytest.raises(InputError) as s:
        sv.spark_customer_table(stx)
    assert s.value.message == d.value.message
    load_transactions(path, COLS, today=TODAY, on_error="raise", max_problems=0)
    quiet = sv.spark_transactions(spark, str(path), COLS, today=TODAY, on_error="raise",
                                  max_problems=0)
    assert quiet.log.kept == 0 and quiet.log.problems.empty


def test_counts_of_two_reads_must_agree(spark, messy_csv):
    """The log is made from two reads of the source; counts that do not agree (a
    source that changed between them) are an error naming the file, not a log that
    does not add up."""
    stx = sv.spark_transactions(spark, str(messy_csv), COLS, today=TODAY)

    class Observed:  # the observed metrics of a second read that kept one row more
        def getLong(self, i: int) -> int:
            return [stx.passing + 1, 0, 0][i]

    with pytest.raises(InputError, match="changed between two reads") as err:
        stx.finish(Observed(), None)
    assert err.value.file == str(messy_csv)
    assert 0 < stx.log.kept <= stx.passing  # the real metrics agree


# ------------------------------- Parquet footers in place of the first pass
def _dated(n: int = 400, seed: int = 3) -> pd.DataFrame:
    """Typed transactions (dates as DATE) with a missing id, a missing amount, a
    return, a margin left empty and two exact copies."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "customer_id": pd.array(rng.integers(1, 40, n), dtype="Int64"),
        "date": [dt.date(2024, 3, 1) + dt.timedelta(days=int(d))
                 for d in rng.integers(0, 40, n)],
        "amount": np.round(rng.lognormal(3, 1, n), 2),
        "margin": np.round(rng.lognormal(1, 1, n), 2)})
    frame.loc[5, "customer_id"] = None
    frame.loc[9, "amount"] = np.nan
    frame.loc[12, "amount"] = -frame.loc[12, "amount"]
    frame.loc[15, "margin"] = np.nan
    return pd.concat([frame, frame.iloc[[20, 21]]], ignore_index=True)


def _footer_run(spark, path, monkeypatch, frame=None, max_problems=None, **options):
    """DuckDB's log and table and Spark's, counting Spark's customer-table queries."""
    calls = []
    query = sv._customer_query

    def counted(*args, **kwargs):
        calls.append(args[1:])
        return query(*args, **kwargs)

    monkeypatch.setattr(sv, "_customer_query", counted)  # defined and called in spark.py
    duck = load_transactions(path if frame is None else frame, COLS, today=TODAY,
                             max_problems=max_problems, **options)
    stx = sv.spark_transactions(spark, str(path), COLS, today=TODAY,
                                max_problems=max_problems, **options)
    before = (stx.checks is not None, stx.passing, stx.date_range)
    table = sv.spark_customer_table(stx)
    pd.testing.assert_frame_equal(table.data, customer_table(duck).data)
    _same_log(duck, stx)
    assert stx.date_range == duck.date_range
    return before, calls, stx


@pytest.mark.parametrize("max_problems", [None, 1000, 2])
def test_parquet_footers_stand_in_for_the_first_pass(spark, tmp_path, monkeypatch,
                                                     max_problems):
    """Typed Parquet with statistics: no first pass (the log is unknown until the
    customer table's query has run), one query, and DuckDB's log, row numbers and
    table, the sums in millionths; every excluded row listed, or the first few."""
    path = tmp_path / "typed.parquet"
    _dated().to_parquet(path, index=False, row_group_size=100)
    (footers, passing, _), calls, stx = _footer_run(spark, path, monkeypatch,
                                                    max_problems=max_problems)
    assert footers and passing is None and len(calls) == 1
    assert stx.micros and stx.has_returns
    assert stx.log.excluded["duplicate"] == 2 and stx.log.excluded["missing_id"] == 1


@pytest.mark.parametrize("amount_type", ["int64", "int32", "float32", "float64"])
@pytest.mark.parametrize("footers", [True, False])
def test_copies_listed_with_their_own_values_after_a_narrow_shuffle(
        spark, tmp_path, monkeypatch, amount_type, footers):
    """The shuffle carries a source column only when its checked form does not restore
    it: the id, the DATE and a number amount (of each type) are cast back after it.
    Log, copies (rows and customers) and table are DuckDB's, and a column outside the
    roles (a store), carried, still tells rows apart: two rows that differ only there
    are not copies."""
    frame = _dated(200, seed=5).drop(columns="margin")
    frame["amount"] = (frame["amount"].fillna(7) * (1 if "float" in amount_type else 100)
                       ).astype(amount_type)
    frame["store"] = "north"
    frame = pd.concat([frame, frame.iloc[[30]].assign(store="south")], ignore_index=True)
    path = tmp_path / "typed.parquet"
    frame.to_parquet(path, index=False, row_group_size=100 if footers else None)
    if not footers:
        # spark_transactions calls the name spark_validation.py imported from spark_parquet
        monkeypatch.setattr(spark_validation, "_parquet_facts", lambda *args: None)
    cols = TransactionColumns()
    duck = load_transactions(path, cols, today=TODAY, max_problems=None)
    stx = sv.spark_transactions(spark, str(path), cols, today=TODAY, max_problems=None)
    assert (stx.checks is not None) is footers
    table = sv.spark_customer_table(stx)
    pd.testing.assert_frame_equal(table.data, customer_table(duck).data)
    _same_log(duck, stx)
    assert stx.log.excluded["duplicate"] == 2  # the rows of another store are no copies
    copies = stx.log.problems[stx.log.problems["rule"] == "duplicate"]
    assert len(copies) == 2


@pytest.mark.parametrize("footers", [True, False])
def test_earliest_date_as_duckdb(spark, tmp_path, monkeypatch, footers):
    """``earliest`` moves the early-date rule on both engines alike; with footers whose
    first date is before it, the footers prove nothing and the first pass runs."""
    path = tmp_path / "typed.parquet"
    _dated().to_parquet(path, index=False)
    if not footers:  # the name spark_transactions calls (see above)
        monkeypatch.setattr(spark_validation, "_parquet_facts", lambda *args: None)
    duck = load_transactions(path, COLS, today=TODAY, earliest="2024-03-10",
                             max_problems=None)
    stx = sv.spark_transactions(spark, str(path), COLS, today=TODAY, earliest="2024/03/10",
                                max_problems=None)
    assert stx.checks is None  # the footers' first date is an early one
    table = sv.spark_customer_table(stx)
    pd.testing.assert_frame_equal(table.data, customer_table(duck).data)
    _same_log(duck, stx)
    assert stx.log.excluded["early_date"] > 0
    late = sv.spark_transactions(spark, str(path), COLS, today=TODAY, earliest="2000-01-01")
    assert (late.checks is not None) is footers


def test_footer_dates_not_the_kept_rows_run_the_query_again(spark, tmp_path, monkeypatch):
    """Every row of the last day fails another rule: the footers' last date is not
    the kept rows' and the period it gives is wrong, so the query runs again with the
    observed one; the result is DuckDB's."""
    frame = _dated()
    last = max(frame["date"])
    frame.loc[frame["date"] == last, "amount"] = np.nan
    path = tmp_path / "last.parquet"
    frame.to_parquet(path, index=False)
    (footers, _, guessed), calls, stx = _footer_run(spark, path, monkeypatch)
    assert footers and guessed[1] == last and stx.date_range[1] < last
    assert len(calls) == 2 and calls[0][0] == last and calls[1][0] == stx.date_range[1]


def test_footer_negative_amount_of_no_millionths_sums_as_decimals(spark, tmp_path,
                                                                 monkeypatch):
    """A return of -0.0000001 is 0 millionths, which the integer sums would read as a
    purchase: seen on the way, the query runs again as exact decimals."""
    frame = _dated()
    frame.loc[30, "amount"] = -1e-7
    path = tmp_path / "tiny.parquet"
    frame.to_parquet(path, index=False)
    (footers, _, _), calls, stx = _footer_run(spark, path, monkeypatch)
    assert footers and len(calls) == 2 and calls[0][-1] and not calls[1][-1]
    assert not stx.micros


def test_footers_that_prove_nothing_leave_the_first_pass(spark, tmp_path, monkeypatch):
    """A future date, no statistics, dates as timestamps or an amount too large for
    the bound: the first pass runs (and the results are DuckDB's)."""
    frame = _dated()
    cases = {"future": frame.assign(date=frame["date"].where(frame.index != 7,
                                                             dt.date(2030, 1, 1))),
             "stamps": frame.assign(date=pd.to_datetime(frame["date"])),
             "large": frame.assign(amount=frame["amount"].where(frame.index != 7, 1e11))}
    for name, data in cases.items():
        path = tmp_path / f"{name}.parquet"
        data.to_parquet(path, index=False)
        (footers, passing, _), calls, _ = _footer_run(spark, path, monkeypatch)
        assert not footers and passing is not None and len(calls) == 1, name
    path = tmp_path / "bare.parquet"
    frame.to_parquet(path, index=False, write_statistics=False)
    (footers, _, _), _, _ = _footer_run(spark, path, monkeypatch)
    assert not footers


def test_footers_of_a_folder_number_rows_file_by_file(spark, tmp_path):
    """Two files, the second ending with copies of rows of the first: row numbers
    within each file, as without footers (tests/test_spark.py), the copies listed
    last; the table is DuckDB's of the rows in order."""
    frame = _dated().iloc[:300]
    first, second = frame.iloc[:120], pd.concat([frame.iloc[120:], frame.iloc[:2]])
    folder = tmp_path / "parts"
    folder.mkdir()
    first.to_parquet(folder / "a.parquet", index=False)
    second.to_parquet(folder / "b.parquet", index=False)
    whole = pd.concat([first, second], ignore_index=True)
    duck = load_transactions(whole, COLS, today=TODAY, max_problems=None)
    stx = sv.spark_transactions(spark, str(folder), COLS, today=TODAY, max_problems=None)
    assert stx.checks is not None
    table = sv.spark_customer_table(stx)
    pd.testing.assert_frame_equal(table.data, customer_table(duck).data)
    assert stx.log.excluded == duck.log.excluded
    copies = stx.log.problems[stx.log.problems["rule"] == "duplicate"]
    assert list(copies["row"])[-2:] == [len(second), len(second) + 1]


def test_footer_rows_must_be_the_rows_read(spark, tmp_path):
    """Rows observed that the footers do not count (a file replaced between the two
    reads) are an error naming the file."""
    path = tmp_path / "typed.parquet"
    _dated().to_parquet(path, index=False)
    stx = sv.spark_transactions(spark, str(path), COLS, today=TODAY)

    class Seen:  # the metrics of a read with one row more than the footers count
        def fieldIndex(self, name: str) -> str:
            return name

        def get(self, name: str) -> int:
            return {"loaded": len(_dated()) + 1, "passing": len(_dated()) - 3}[name]

    with pytest.raises(InputError, match="changed between two reads") as err:
        stx.finish(None, Seen())
    assert err.value.file == str(path)


def test_footer_first_date_of_an_excluded_row_is_not_the_periods(spark, tmp_path):
    """Every row of the first day fails another rule and the period ends the day
    before: the error names the kept rows' first date, as DuckDB's does, not the
    footers' (an excluded row's)."""
    frame = _dated()
    first = min(frame["date"])
    frame.loc[frame["date"] == first, "amount"] = np.nan
    path = tmp_path / "first.parquet"
    frame.to_parquet(path, index=False)
    duck = load_transactions(path, COLS, today=TODAY)
    stx = sv.spark_transactions(spark, str(path), COLS, today=TODAY)
    assert stx.checks is not None and stx.date_range[0] == first
    with pytest.raises(UsageError) as d:
        customer_table(duck, period_end=first - dt.timedelta(days=1))
    with pytest.raises(UsageError) as s:
        sv.spark_customer_table(stx, period_end=first - dt.timedelta(days=1))
    assert s.value.message == d.value.message and str(duck.date_range[0]) in d.value.message


def test_footer_dates_past_9999_prove_nothing(spark, tmp_path):
    """A DATE beyond year 9999 (which Python cannot hold) in the statistics: the
    footers prove nothing and the first pass runs, rather than a traceback."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    days = [19000, 19001, 3_000_000]  # the last is in the year 10183
    table = pa.table({"customer_id": pa.array([1, 2, 3], pa.int64()),
                      "date": pa.array(days, pa.int32()).cast(pa.date32()),
                      "amount": pa.array([1.0, 2.0, 3.0]), "margin": pa.array([0.5] * 3)})
    path = tmp_path / "far.parquet"
    pq.write_table(table, path)
    types = {f.name: f.dataType.typeName() for f in spark.read.parquet(str(path)).schema}
    assert spark_parquet._parquet_facts([str(path)], types, COLS, dt.date(2025, 1, 1)) is None


def test_local_java_options_leave_a_collector_the_environment_chose(monkeypatch):
    """The JVM refuses two garbage collectors: none is added when JAVA_TOOL_OPTIONS
    (or _JAVA_OPTIONS, JDK_JAVA_OPTIONS) already picks one."""
    for name in ("JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS", "JDK_JAVA_OPTIONS"):
        monkeypatch.delenv(name, raising=False)
    assert spark_session._local_java_options() == spark_session.LOCAL_JAVA_OPTIONS
    assert "-XX:+UseParallelGC" in spark_session.LOCAL_JAVA_OPTIONS
    monkeypatch.setenv("JAVA_TOOL_OPTIONS", "-Xss2m -XX:+UseG1GC")
    assert spark_session._local_java_options() == "-XX:CompileThresholdScaling=4"
