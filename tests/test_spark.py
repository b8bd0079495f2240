"""The value analysis on Spark (local[2]) against the DuckDB engine.

The reference is the DuckDB engine, itself tested against the published CDNOW
estimates, lifetimes and R (tests/test_value_*.py). Spark is an adapter that
validates the transactions and builds the per-customer table; the rest is the same
code (satisfaction.value.core). So the tests ask for the *same* results, not close
ones: the same transaction log, the same customer table (every column, type and row
order), the same model parameters, the same per-customer values and CLV, the same
warnings, and the same printed summary, on the CDNOW sample, on generated data spread
over several partitions, and on data that trips the CLV gates. PySpark is installed
by the CI set-up (the ``spark`` extra): these tests must run, never skip.

PySpark 4.3 warns (FutureWarning) that it does not support pandas >= 3 wherever it
converts pandas data; the engine collects through Arrow and the tests build Spark
DataFrames from plain rows, so no such warning may appear (``filterwarnings``).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from satisfaction.cli import main
from satisfaction.diagnostics import records
from satisfaction.io import to_jsonable
from satisfaction.value import spark as sv
from satisfaction.value import spark_sql
from satisfaction.value.customers import customer_table
from satisfaction.value.pipeline import value_analysis
from satisfaction.value.transactions import TransactionColumns, load_transactions

DATA = Path(__file__).parent / "data" / "cdnow_sample.csv"
TODAY = "2025-01-01"

pytestmark = pytest.mark.filterwarnings("error:PySpark does not yet fully support pandas")


def test_session():
    """The Spark session of the tests (one JVM per test process: a module's fixture
    stops its session, the next module's starts a new one in the same JVM)."""
    import pyspark  # noqa: F401  (fails loudly when the spark extra is missing)

    return sv.spark_session("local[2]", config={
        "spark.sql.shuffle.partitions": "4", "spark.driver.memory": "1g",
        "spark.default.parallelism": "4",
        # keep the small test data spread over several partitions
        "spark.sql.adaptive.coalescePartitions.enabled": "false"})


test_session.__test__ = False  # a helper, not a test


def spark_frame(spark, frame: pd.DataFrame, schema: str | None = None):
    """A Spark DataFrame of a pandas frame's rows, every column text unless ``schema``
    says otherwise, built from plain rows (PySpark's pandas conversion warns under
    pandas 3)."""
    schema = schema or ", ".join(f"`{c}` string" for c in frame.columns)
    rows = [tuple(None if v is None or (isinstance(v, float) and np.isnan(v)) else v
                  for v in row) for row in frame.astype(object).itertuples(index=False)]
    return spark.createDataFrame(rows, schema)


spark_frame.__test__ = False


@pytest.fixture(scope="module")
def spark():
    session = test_session()
    yield session
    session.stop()


def same_results(duck, sp, same_source: bool = True) -> None:
    """Spark's ValueResult is DuckDB's: table, customers, models, warnings, JSON.

    With ``same_source=False`` (Spark read a repartitioned copy of DuckDB's pandas
    frame) the excluded rows' positions and the source's name differ; their rules
    and customers do not."""
    assert (duck.engine, sp.engine) == ("duckdb", "spark")
    pd.testing.assert_frame_equal(sp.table.data, duck.table.data)
    pd.testing.assert_frame_equal(sp.customers, duck.customers)
    for name in ("bgnbd", "pareto_nbd", "gamma_gamma"):
        d, s = getattr(duck, name), getattr(sp, name)
        assert (d is None) == (s is None), name
        if d is not None:
            assert s.to_dict() == d.to_dict(), name
    assert records(sp.warnings) == records(duck.warnings)
    d, s = to_jsonable(duck.to_dict()), to_jsonable(sp.to_dict())
    assert s.pop("engine") == "spark" and d.pop("engine") == "duckdb"
    if not same_source:
        for out in (s, d):
            out.pop("transactions_source")
            out["problems"] = sorted((p["rule"], p["customer"]) for p in out["problems"])
    assert s == d


# ---------------------------------------------------------------- CDNOW sample
@pytest.fixture(scope="module")
def cdnow(spark):
    tx = load_transactions(DATA, duplicates="keep", today=TODAY)
    duck = value_analysis(tx, period_end="1997-09-30")
    stx = sv.spark_transactions(spark, str(DATA), duplicates="keep", today=TODAY)
    sp = sv.spark_value_analysis(spark, stx, period_end="1997-09-30")
    return tx, duck, stx, sp


def test_cdnow_transactions_counted_alike(cdnow):
    tx, _, stx, _ = cdnow
    assert stx.log.loaded == tx.log.loaded == 6919
    assert stx.log.kept == tx.log.kept
    assert stx.log.excluded == tx.log.excluded
    assert stx.log.notes == tx.log.notes == {"returns_netted": 0, "duplicates_kept": 21}
    assert stx.date_range == tx.date_range
    assert stx.micros  # the amounts summed as integers of millionths


def test_cdnow_same_table_models_values_and_json(cdnow):
    _, duck, _, sp = cdnow
    same_results(duck, sp)
    assert sp.counts == duck.counts and sp.counts["modelled"] == 2357
    assert sp.table.holdout_end == dt.date(1998, 6, 30) and sp.holdout is not None
    # and the fit is the published one (FHL 2005a): the engines agree on the right fit
    assert sp.bgnbd.r == pytest.approx(0.243, abs=5e-4)
    assert sp.bgnbd.alpha == pytest.approx(4.414, abs=5e-3)
    assert sp.bgnbd.n_customers == 2357
    assert np.isfinite(sp.customers["clv"]).all() and sp.customers["clv"].sum() > 0


# ------------------------------------------------- generated, several partitions
def _generated(seed: int = 7, customers: int = 1500) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    start = dt.date(2022, 1, 1)
    for c in range(customers):
        first = int(rng.integers(0, 500))
        rate = rng.gamma(0.6, 1 / 20)
        life = rng.exponential(300)
        days = [first]
        t = first
        while True:
            t += int(rng.exponential(1 / max(rate, 1e-3))) + 1
            if t > min(first + life, 729):
                break
            days.append(t)
        spend = rng.gamma(4.0, 10.0)
        for d in days:
            amount = round(float(rng.gamma(6.0, spend / 6.0)), 2)
            rows.append((f"c{c:05d}", (start + dt.timedelta(days=d)).isoformat(),
                         f"{amount:.2f}", f"{amount * rng.uniform(0.1, 0.4):.2f}"))
    frame = pd.DataFrame(rows, columns=["customer_id", "date", "amount", "margin"])
    # returns, exact duplicates and bad rows, each counted under its reason
    frame.loc[frame.sample(40, random_state=1).index, "amount"] = "-5.00"
    frame = pd.concat([frame, frame.iloc[:25]], ignore_index=True)
    bad = pd.DataFrame([("", "2022-05-01", "1.00", "0.1"), ("c00001", "not a date", "2", "1"),
                        ("c00002", "2022-05-01", "abc", "1"), ("c00003", "2030-01-01", "3", "1"),
                        ("c00004", "2022-06-01", "4", "x")], columns=frame.columns)
    return pd.concat([frame, bad], ignore_index=True)


@pytest.fixture(scope="module")
def generated(spark):
    frame = _generated()
    cols = TransactionColumns(margin="margin")
    tx = load_transactions(frame, cols, today=TODAY)
    duck = value_analysis(tx, period_end="2023-06-30", time_unit="week")
    sdf = spark_frame(spark, frame).repartition(6)
    assert sdf.rdd.getNumPartitions() == 6
    stx = sv.spark_transactions(spark, sdf, cols, today=TODAY)
    sp = sv.spark_value_analysis(spark, stx, period_end="2023-06-30", time_unit="week")
    return tx, duck, stx, sp


def test_generated_transactions_counted_alike(generated):
    tx, _, stx, _ = generated
    assert stx.log.loaded == tx.log.loaded
    assert stx.log.excluded == tx.log.excluded
    assert stx.log.kept == tx.log.kept
    assert stx.log.notes == tx.log.notes
    for reason in ("missing_id", "unparseable_date", "future_date", "unparseable_amount",
                   "unparseable_margin"):
        assert stx.log.excluded[reason] == 1, reason
    assert stx.log.excluded["duplicate"] == 25
    assert stx.log.loaded == stx.log.kept + sum(stx.log.excluded.values())


def test_generated_same_table_models_values_and_json(generated):
    _, duck, _, sp = generated
    same_results(duck, sp, same_source=False)
    assert sp.table.has_margin and "clv_margin" in {d.code for d in sp.warnings}
    assert {d.code for d in sp.warnings} >= {"transactions_excluded"}


def test_write_parquet_holds_the_customer_table(generated, tmp_path):
    _, duck, _, sp = generated
    sp.write_parquet(tmp_path / "scored.parquet")
    back = pd.read_parquet(tmp_path / "scored.parquet").set_index("customer_id")
    pd.testing.assert_frame_equal(back, duck.customers, check_dtype=False,
                                  check_index_type=False)


def test_integer_customer_ids_sorted_and_written_as_duckdb(spark, tmp_path):
    """Integer ids keep their type on both engines: the table is in numeric order."""
    frame = pd.read_csv(DATA)
    pq = tmp_path / "typed.parquet"
    frame.assign(customer_id=frame["customer_id"].astype("int64") * 7 % 1000,
                 date=pd.to_datetime(frame["date"])).to_parquet(pq, index=False)
    duck = value_analysis(load_transactions(pq, today=TODAY), models=("bgnbd",))
    sp = sv.spark_value_analysis(spark, sv.spark_transactions(spark, str(pq), today=TODAY),
                                 models=("bgnbd",))
    same_results(duck, sp)
    ids = sp.customers.index.astype(int)
    assert list(ids) == sorted(ids) and list(sp.customers.index) != sorted(sp.customers.index)


# ------------------------------------------------------------- command line
def _summary(text: str) -> str:
    """The printed summary without the engine line."""
    return "\n".join(line for line in text.splitlines() if not line.startswith("engine: "))


def test_cli_engine_spark_same_summary_json_and_csv(cdnow, tmp_path, capsys):
    args = ["clv", str(DATA), "--period-end", "1997-09-30", "--keep-duplicates",
            "--today", TODAY]
    assert main([*args, "--json", str(tmp_path / "d.json"), "--out",
                 str(tmp_path / "d.csv")]) == 0
    duck_out = capsys.readouterr().out
    assert main([*args, "--engine", "spark", "--spark-master", "local[2]",
                 "--json", str(tmp_path / "s.json"), "--out", str(tmp_path / "s.csv")]) == 0
    spark_out = capsys.readouterr().out
    assert "engine: spark (local[2])" in spark_out
    assert _summary(spark_out) == _summary(duck_out) and "engine: " not in duck_out
    assert "Pareto/NBD" in duck_out and "Holdout" in duck_out
    d = json.loads((tmp_path / "d.json").read_text())
    s = json.loads((tmp_path / "s.json").read_text())
    assert (d.pop("engine"), s.pop("engine")) == ("duckdb", "spark")
    assert s == d
    assert (tmp_path / "s.csv").read_bytes() == (tmp_path / "d.csv").read_bytes()


def test_cli_spark_prints_the_same_warnings(spark, tmp_path, capsys):
    """Data that trips the CLV gates (Gamma-Gamma q ≤ 1, undefined spend): the same
    warnings and the same summary on both engines (the rfm command too)."""
    from tests.test_value_clv_gates import _pipeline_case

    path = tmp_path / "gates.csv"
    _pipeline_case().to_csv(path, index=False)
    for command in (["clv", "--models", "bgnbd,gamma_gamma"], ["rfm"]):
        args = [command[0], str(path), *command[1:], "--period-end", "2024-12-31",
                "--today", "2025-06-01"]
        assert main([*args, "--json", str(tmp_path / "d.json")]) == 0
        duck_out = capsys.readouterr().out
        assert main([*args, "--engine", "spark", "--spark-master", "local[2]",
                     "--json", str(tmp_path / "s.json"), "--out",
                     str(tmp_path / "s.parquet")]) == 0
        spark_out = capsys.readouterr().out
        assert _summary(spark_out) == _summary(duck_out) and "engine: " not in duck_out
        d = json.loads((tmp_path / "d.json").read_text())
        s = json.loads((tmp_path / "s.json").read_text())
        assert (d.pop("engine"), s.pop("engine")) == ("duckdb", "spark")
        assert s == d
        assert len(pd.read_parquet(tmp_path / "s.parquet")) == d["customers"]
    # the clv run's gates, printed (the last loop ran rfm, which fits no model)
    assert main(["clv", str(path), "--models", "bgnbd,gamma_gamma", "--period-end",
                 "2024-12-31", "--today", "2025-06-01", "--engine", "spark",
                 "--spark-master", "local[2]"]) == 0
    out = re.sub(r"\s+", " ", capsys.readouterr().out)
    assert "invalidates:" in out and "not above 1" in out and "CLV are left empty" in out


def test_amounts_in_millionths_are_duckdbs_decimal_cast(spark):
    """The Spark engine sums amounts as integers of millionths (spark_sql._micros_sql); each
    is DuckDB's CAST(x AS DECIMAL(18, 6)): ties (x·10⁶ = k + ½) away from zero,
    0.49999999999999994 down, negative values, seven decimals and more."""
    import duckdb

    rng = np.random.default_rng(7)
    values = [5e-07, -5e-07, 2.5e-06, -2.5e-06, 1.4999999999999998e-06, 35043.0170625,
              -55661.8547045, -112.3229865, 4.9999999999999996e-07, 0.0, -0.0, 786.1,
              1e9 + 5e-07, *np.round(rng.uniform(-1e5, 1e5, 3000), 7),
              *rng.uniform(-1000, 1000, 3000)]
    m = np.array(values) * 1e6
    assert (np.abs(m - np.trunc(m)) == 0.5).sum() > 100  # many exact ties
    con = duckdb.connect()
    con.register("frame", pd.DataFrame({"i": range(len(values)), "x": values}))
    want = [int(v.replace(".", "")) for (v,) in con.execute(
        "SELECT CAST(CAST(x AS DECIMAL(18, 6)) AS VARCHAR) FROM frame ORDER BY i").fetchall()]
    rows = spark.createDataFrame([(i, float(v)) for i, v in enumerate(values)], "i long, x double")
    got = [r[0] for r in rows.selectExpr("i", f"{spark_sql._micros_sql('x')} AS u").orderBy("i")
           .select("u").collect()]
    assert got == want


def test_decimal_amounts_are_duckdbs_decimal_cast(spark):
    """Where the sums may reach 2⁵³ millionths, the Spark engine reads each amount as
    the DECIMAL(38, 6) of spark_sql._decimal_sql; it is DuckDB's CAST(x AS DECIMAL(38, 6))
    from 10⁻⁷ to 10¹⁵: ties away from zero, seventeen significant digits, and whole
    millionths of 2⁶³ and more (taken in two parts). Spark's own cast differs."""
    import duckdb

    rng = np.random.default_rng(11)
    values = [5e-07, -5e-07, 2.5e-06, 0.49999999999999994, 9223372036854.775,
              -9223372036854.777, 9.5e14, -9.99999999999999e14, 4503599627.370496,
              4503599627.3704965, 1e9 + 5e-07, 0.0,
              *(rng.uniform(-1, 1, 4000) * 10.0 ** rng.integers(-6, 15, 4000)),
              *np.round(rng.uniform(-1e6, 1e6, 1000), 6) + 5e-07]
    con = duckdb.connect()
    con.register("frame", pd.DataFrame({"i": range(len(values)), "x": values}))
    want = [v for (v,) in con.execute(
        "SELECT CAST(x AS DECIMAL(38, 6)) FROM frame ORDER BY i").fetchall()]
    rows = spark.createDataFrame([(i, float(v)) for i, v in enumerate(values)], "i long, x double")
    got = [r[0] for r in rows.selectExpr("i", f"{spark_sql._decimal_sql('x')} AS d", "x")
           .orderBy("i").select("d").collect()]
    assert got == want
    own = [r[0] for r in rows.selectExpr("i", "CAST(x AS DECIMAL(38, 6)) AS d").orderBy("i")
           .select("d").collect()]
    assert own != want  # the reason for spark_sql._decimal_sql


def test_sums_beyond_2_53_millionths_of_many_decimals_are_duckdbs(spark, tmp_path):
    """Amounts of billions with seventeen significant digits, returns and margins, with
    a holdout period: the sums pass 2⁵³ millionths (exact decimals, no integer path)
    and each cell of the customer table is DuckDB's, to the last bit."""
    rng = np.random.default_rng(3)
    n = 2000
    frame = pd.DataFrame({
        "customer_id": rng.integers(0, 150, n),
        "date": pd.to_datetime("2024-01-01") + pd.to_timedelta(rng.integers(0, 360, n), "D"),
        "amount": rng.uniform(1e9, 4e9, n) * np.where(rng.random(n) < 0.1, -0.3, 1.0),
        "margin": rng.uniform(1e8, 9e8, n)})
    cols = TransactionColumns(margin="margin")
    path = tmp_path / "wide.csv"
    frame.to_csv(path, index=False)
    stx = sv.spark_transactions(spark, str(path), cols, today=TODAY)
    assert not stx.micros and stx.has_returns
    for end in (None, "2024-09-30"):
        sp = sv.spark_customer_table(stx, period_end=end)
        duck = customer_table(load_transactions(path, cols, today=TODAY), period_end=end)
        pd.testing.assert_frame_equal(sp.data, duck.data, check_exact=True)


def test_large_amounts_summed_as_decimals_and_files_ranked(spark, tmp_path):
    """Amounts whose sums exceed 2⁵³ millionths are summed as exact decimals (no
    integer path); a folder of two Parquet files, the second ending with copies of
    the first's rows: the same counts and table as DuckDB's reading of the rows in
    order, and the copies listed last, by their row in the second file."""
    frame = pd.read_csv(DATA).head(1500)
    frame = frame.assign(amount=frame["amount"] * 1e8 + 0.25,
                         date=pd.to_datetime(frame["date"]))
    first, second = frame.iloc[:700], pd.concat([frame.iloc[700:], frame.iloc[:3]])
    folder = tmp_path / "parts"
    folder.mkdir()
    first.to_parquet(folder / "a.parquet", index=False)
    second.to_parquet(folder / "b.parquet", index=False)
    stx = sv.spark_transactions(spark, str(folder), today=TODAY, max_problems=None)
    assert not stx.micros
    sp = sv.spark_value_analysis(spark, stx, models=("bgnbd",))
    whole = load_transactions(pd.concat([first, second], ignore_index=True), today=TODAY,
                              max_problems=None)
    duck = value_analysis(whole, models=("bgnbd",))
    pd.testing.assert_frame_equal(sp.table.data, duck.table.data)
    pd.testing.assert_frame_equal(sp.customers, duck.customers)
    assert stx.log.excluded == whole.log.excluded and whole.log.excluded["duplicate"] >= 3
    last = stx.log.problems.tail(3)
    assert list(last["row"]) == [len(second) - 1, len(second), len(second) + 1]
    assert set(last["rule"]) == {"duplicate"}


def test_api_engine_spark_is_the_duckdb_result(cdnow):
    """api.clv and api.rfm with engine="spark" (what the commands call): the result of
    engine="duckdb" — table, customers, models, warnings and JSON, every excluded
    row listed; an unknown engine is a usage error naming the option."""
    from satisfaction import api
    from satisfaction.errors import UsageError

    options = {"period_end": "1997-09-30", "keep_duplicates": True, "today": TODAY}
    same_results(api.clv(DATA, **options),
                 api.clv(DATA, **options, engine="spark", spark_master="local[2]"))
    duck, sp = api.rfm(DATA, **options), api.rfm(DATA, **options, engine="spark",
                                                  spark_master="local[2]")
    assert duck.bgnbd is None and sp.bgnbd is None
    same_results(duck, sp)
    with pytest.raises(UsageError, match="duckdb or spark"):
        api.clv(DATA, engine="polars")


def test_cli_engine_spark_without_pyspark_says_how_to_install(monkeypatch, capsys):
    import sys

    monkeypatch.setitem(sys.modules, "pyspark", None)
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    code = main(["rfm", str(DATA), "--engine", "spark"])
    assert code == 2
    err = capsys.readouterr().err
    assert 'pip install "satisfaction[spark]"' in err


def test_unknown_engine_is_a_usage_error(capsys):
    assert main(["rfm", str(DATA), "--engine", "hadoop"]) == 2
    assert "duckdb or spark" in capsys.readouterr().err


def test_cli_engine_spark_date_format_and_models(cdnow, tmp_path):
    """--date-format and --models reach the Spark engine as they reach DuckDB."""
    frame = pd.read_csv(DATA)
    frame["date"] = pd.to_datetime(frame["date"]).dt.strftime("%d/%m/%Y")
    dmy = tmp_path / "dmy.csv"
    frame.to_csv(dmy, index=False)
    common = ["--period-end", "1997-09-30", "--keep-duplicates", "--today", TODAY,
              "--date-format", "%d/%m/%Y", "--models", "bgnbd,gamma_gamma"]
    assert main(["clv", str(dmy), *common, "--json", str(tmp_path / "d.json")]) == 0
    assert main(["clv", str(dmy), *common, "--engine", "spark", "--spark-master", "local[2]",
                 "--json", str(tmp_path / "s.json")]) == 0
    d = json.loads((tmp_path / "d.json").read_text())
    s = json.loads((tmp_path / "s.json").read_text())
    assert set(s["models"]) == set(d["models"]) == {"bgnbd", "gamma_gamma"}
    assert s["transactions"] == d["transactions"] == 6919 - d["excluded"]["duplicate"]
    assert s["excluded"] == d["excluded"] and s["excluded"]["unparseable_date"] == 0
    assert s["models"] == d["models"]
