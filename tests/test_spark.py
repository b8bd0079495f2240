"""The value pipeline on Spark (local[2]) against the DuckDB pipeline.

The reference is the DuckDB engine, itself tested against the published CDNOW
estimates, lifetimes and R (tests/test_value_*.py): Spark must give the same model
parameters (1e-6 relative) and the same per-customer values, on the CDNOW sample
and on a generated data set spread over several partitions. PySpark is installed
by the CI set-up (the ``spark`` extra): these tests must run, never skip.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from satisfaction.cli import main
from satisfaction.io import to_jsonable
from satisfaction.value import spark as sv
from satisfaction.value.customers import customer_table
from satisfaction.value.pipeline import value_analysis
from satisfaction.value.transactions import TransactionColumns, load_transactions

DATA = Path(__file__).parent / "data" / "cdnow_sample.csv"
TODAY = "2025-01-01"
NUMERIC = ("recency", "frequency", "monetary", "r_score", "f_score", "m_score",
           "historical_value", "p_alive", "expected_purchases", "expected_spend", "clv")
LABELS = ("rfm_segment", "value_group", "abc_class", "lifecycle_stage")


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


@pytest.fixture(scope="module")
def spark():
    session = test_session()
    yield session
    session.stop()


def _same_models(duck, sp) -> None:
    for name in ("bgnbd", "pareto_nbd", "gamma_gamma"):
        d, s = getattr(duck, name).to_dict(), getattr(sp, name).to_dict()
        assert d.keys() == s.keys()
        for key, value in d.items():
            if isinstance(value, float):
                assert s[key] == pytest.approx(value, rel=1e-6), (name, key)
            else:
                assert s[key] == value, (name, key)


def _same_customers(duck: pd.DataFrame, sp: pd.DataFrame) -> None:
    duck = duck.sort_index()
    assert list(sp.index) == list(duck.index.astype(str))
    for column in NUMERIC:
        np.testing.assert_allclose(sp[column].to_numpy(dtype=float),
                                   duck[column].to_numpy(dtype=float), rtol=1e-9, atol=1e-12,
                                   err_msg=column)
    for column in LABELS:
        assert (sp[column].to_numpy() == duck[column].to_numpy()).all(), column


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


def test_cdnow_customer_table_same_on_both_engines(cdnow):
    tx, _, _, sp = cdnow
    duck = customer_table(tx, period_end="1997-09-30", holdout_end="1998-06-30")
    table = sp.table.frame.toPandas().set_index("customer_id").sort_index()
    d = duck.data.sort_index()
    assert list(table.index) == list(d.index)
    assert sp.table.counts == duck.counts()
    for column in ("occasions", "transactions", "frequency", "holdout_frequency"):
        assert (table[column].to_numpy() == d[column].to_numpy()).all(), column
    for column in ("first_purchase", "last_purchase"):
        assert (pd.to_datetime(table[column]).to_numpy() == d[column].to_numpy()).all()
    for column in ("t_x", "T", "recency_days", "revenue", "monetary_value", "trend_position",
                   "holdout_revenue"):
        np.testing.assert_array_equal(table[column].to_numpy(dtype=float),
                                      d[column].to_numpy(dtype=float), err_msg=column)


def test_cdnow_same_model_parameters(cdnow):
    _, duck, _, sp = cdnow
    _same_models(duck, sp)
    # and they are the published ones (FHL 2005a): the engines agree on the right fit
    assert sp.bgnbd.r == pytest.approx(0.243, abs=5e-4)
    assert sp.bgnbd.alpha == pytest.approx(4.414, abs=5e-3)
    assert sp.bgnbd.n_customers == 2357


def test_cdnow_same_per_customer_values(cdnow):
    _, duck, _, sp = cdnow
    _same_customers(duck.customers, sp.to_pandas())
    assert sp.state.means == pytest.approx(duck.rfm.means, rel=1e-12)
    assert sp.state.typical_ipt == duck.lifecycle.typical_ipt


def test_cdnow_sufficient_statistics_are_small(cdnow):
    _, _, _, sp = cdnow
    rfm, _ = sv.sufficient_statistics(sp.table)
    assert int(rfm["n"].sum()) == 2357
    assert len(rfm) == sp.bgnbd.n_unique < 2357


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
    sdf = spark.createDataFrame(frame).repartition(6)
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


def test_generated_same_models_and_values(generated):
    _, duck, _, sp = generated
    _same_models(duck, sp)
    assert sp.customers.rdd.getNumPartitions() > 1
    _same_customers(duck.customers, sp.to_pandas())
    assert sp.counts == duck.counts


def test_generated_writes_parquet(generated, tmp_path):
    _, duck, _, sp = generated
    sp.write_parquet(tmp_path / "scored")
    back = pd.read_parquet(tmp_path / "scored").set_index("customer_id").sort_index()
    assert len(list((tmp_path / "scored").glob("*.parquet"))) > 1
    _same_customers(duck.customers, back)


def test_to_dict_matches_duckdb_contract(generated):
    _, duck, _, sp = generated
    d, s = duck.to_dict(), sp.to_dict()
    for key in ("customers", "transactions", "transactions_loaded", "excluded", "notes",
                "customer_counts", "settings"):
        assert s[key] == d[key], key
    assert s["clv_total"] == pytest.approx(d["clv_total"], rel=1e-9)
    json.dumps(s, allow_nan=False)
    assert s["summaries"]["lifecycle_stage"] == duck.lifecycle.counts()


# ------------------------------------------------------------- command line
def test_cli_engine_spark_same_json_as_duckdb(cdnow, tmp_path):
    _, duck, _, _ = cdnow  # what `satisfaction clv` (engine duckdb) computes and writes
    duck.write_csv(tmp_path / "d.csv")
    args = ["clv", str(DATA), "--period-end", "1997-09-30", "--keep-duplicates",
            "--today", TODAY]
    assert main([*args, "--engine", "spark", "--spark-master", "local[2]",
                 "--json", str(tmp_path / "s.json"), "--out", str(tmp_path / "s.csv")]) == 0
    d = to_jsonable(duck.to_dict())
    s = json.loads((tmp_path / "s.json").read_text())
    for key in ("customers", "transactions", "excluded", "customer_counts", "settings"):
        assert s[key] == d[key], key
    assert s["engine"] == "spark"
    for name, params in d["models"].items():
        for key, value in params.items():
            if key in ("status", "warnings"):  # the gates: the same records
                assert s["models"][name][key] == value, (name, key)
                continue
            assert s["models"][name][key] == pytest.approx(value, rel=1e-6), (name, key)
    dc, sc = pd.read_csv(tmp_path / "d.csv"), pd.read_csv(tmp_path / "s.csv")
    pd.testing.assert_frame_equal(sc, dc)


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
    assert s["models"]["bgnbd"]["r"] == pytest.approx(d["models"]["bgnbd"]["r"], rel=1e-6)
