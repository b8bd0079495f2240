"""The fast paths of the value pipeline give the same numbers as the general ones.

Each shortcut taken for the 10-million-row benchmark (issue 16, point 5) is checked
against the path it replaces, on the CDNOW sample and on small hostile tables: the
customer-table query without its holdout part, with the narrower exact decimal,
without its ORDER BY (sorted in pandas instead), the loader's counts, and the
model fits on the distinct rows with their counts against per-customer fits.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import optimize

from satisfaction.value import clv
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
    assert "FILTER (WHERE date >" not in without
    empty = customer_table_sql(last, last + dt.timedelta(days=1), 7.0)
    assert "FILTER (WHERE date >" in empty and "JOIN" not in empty  # one aggregation
    a = cdnow.con.execute(without).df()
    b = cdnow.con.execute(empty).df()
    pd.testing.assert_frame_equal(a, b)
    assert (a["holdout_frequency"] == 0).all() and (a["holdout_revenue"] == 0).all()
    # an earlier period end keeps its holdout part (1,882 repeat occasions, as in
    # test_value_clv's holdout check)
    mid = dt.date(1997, 9, 30)
    held = cdnow.con.execute(customer_table_sql(mid, last, 7.0)).df()
    assert held["holdout_frequency"].sum() == 1882


def test_holdout_table_is_the_definitions_computed_in_pandas():
    """Calibration and holdout columns from the one aggregation (FILTER clauses per
    period) against the definitions computed directly in pandas: purchase occasions
    are customer-days with a purchase (amount >= 0), days of returns only count in
    the revenue; customers first seen after the period end are left out and counted."""
    rng = np.random.default_rng(11)
    n = 3000
    frame = pd.DataFrame({
        "customer_id": rng.integers(1, 300, n),
        "date": [dt.date(2023, 1, 1) + dt.timedelta(days=int(d)) for d in rng.integers(0, 500, n)],
        "amount": np.round(rng.normal(20, 25, n), 2),
        "margin": np.round(rng.normal(4, 2, n), 2)})
    newcomers = pd.DataFrame({"customer_id": [1000, 1001, 1001, 1002],  # after the end
                              "date": [dt.date(2023, 12, 1), dt.date(2024, 1, 5),
                                       dt.date(2024, 2, 5), dt.date(2024, 6, 1)],
                              "amount": [10.0, 12.5, -3.0, 8.0], "margin": [1.0] * 4})
    frame = pd.concat([frame, newcomers], ignore_index=True)
    tx = load_transactions(frame, TransactionColumns(margin="margin"), today="2025-01-01")
    end, hold = dt.date(2023, 10, 31), dt.date(2024, 3, 31)
    table = customer_table(tx, period_end=end, holdout_end=hold, time_unit="day")
    days = frame[frame["date"] <= hold].groupby(["customer_id", "date"]).agg(
        amount=("amount", "sum"), margin=("margin", "sum"), n_tx=("amount", "size"),
        bought=("amount", lambda a: bool((a >= 0).any()))).reset_index()
    cal, later = days[days["date"] <= end], days[days["date"] > end]
    bought = cal[cal["bought"]]
    want = pd.DataFrame({
        "occasions": bought.groupby("customer_id").size(),
        "transactions": cal.groupby("customer_id")["n_tx"].sum(),
        "revenue": cal.groupby("customer_id")["amount"].sum(),
        "margin": cal.groupby("customer_id")["margin"].sum(),
        "first_purchase": bought.groupby("customer_id")["date"].min(),
        "last_purchase": bought.groupby("customer_id")["date"].max(),
        "holdout_frequency": later[later["bought"]].groupby("customer_id").size(),
        "holdout_revenue": later.groupby("customer_id")["amount"].sum(),
    }).loc[lambda d: d["transactions"].notna()]
    want = want.fillna({"occasions": 0, "holdout_frequency": 0, "holdout_revenue": 0.0})
    want.index = want.index.astype(str)
    got = table.data.loc[want.index]
    assert len(table.data) == len(want)
    assert table.first_seen_later == days["customer_id"].nunique() - len(want)
    for column in ("occasions", "transactions", "holdout_frequency"):
        np.testing.assert_array_equal(got[column], want[column].astype("int64"), column)
    for column in ("revenue", "margin", "holdout_revenue"):
        np.testing.assert_allclose(got[column], want[column], atol=1e-9, err_msg=column)
    for column in ("first_purchase", "last_purchase"):  # NaT: returns only
        pd.testing.assert_series_equal(
            got[column], pd.to_datetime(want[column]).astype("datetime64[us]"),
            check_names=False, check_freq=False)
    assert (got["frequency"] == (want["occasions"] - 1).clip(lower=0)).all()
    assert table.first_seen_later == 2  # 1002 bought after the holdout end too
    assert (want["holdout_frequency"] > 0).sum() > 50


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


@pytest.fixture(scope="module")
def cdnow_table(cdnow):
    return customer_table(cdnow, period_end="1997-09-30", time_unit="week",
                          holdout_end="1998-06-30").data


def _lbfgs(objective, start: int) -> np.ndarray:
    return optimize.minimize(objective, np.zeros(start), jac=True, method="L-BFGS-B",
                             options={"maxiter": 2000, "ftol": 1e-14, "gtol": 1e-8}).x


def test_fits_on_distinct_rows_with_counts_equal_per_customer_fits(cdnow_table):
    """The models are fitted on the distinct (x, t_x, T) (and (x, z̄)) with how many
    customers share each, every row's log-likelihood weighted by its count. The same
    maximisation over the 2,357 customers one by one (no collapsing) gives the same
    estimates to 1e-8 and the same log-likelihood to 1e-12."""
    d = cdnow_table
    x, t_x, big_t = (d[c].to_numpy(float) for c in ("frequency", "t_x", "T"))
    n = len(x)
    scale = 10.0 / big_t.max()

    def bgnbd(theta):
        p = np.exp(theta)
        ll, g = clv.bgnbd_loglik(p, x, t_x * scale, big_t * scale, grad=True)
        return -ll / n, -g * p / n

    r, alpha_s, a, b = np.exp(_lbfgs(bgnbd, 4))
    fit = clv.fit_bgnbd(x, t_x, big_t)
    assert fit.n_unique < n
    np.testing.assert_allclose([r, alpha_s / scale, a, b], fit.params(), rtol=1e-8)
    assert clv.bgnbd_loglik(fit.params(), x, t_x, big_t) == pytest.approx(fit.loglik,
                                                                           rel=1e-12)

    z = d["monetary_value"].to_numpy(float)
    keep = (x > 0) & (z > 0)
    xk, zk = x[keep], z[keep]
    z_scale = 1.0 / zk.mean()

    def gamma_gamma(theta):
        p = np.exp(theta)
        ll, g = clv.gamma_gamma_loglik(p, xk, zk * z_scale, grad=True)
        return -ll / len(xk), -g * p / len(xk)

    p, q, v_s = np.exp(_lbfgs(gamma_gamma, 3))
    gg = clv.fit_gamma_gamma(x, z)
    np.testing.assert_allclose([p, q, v_s / z_scale], [gg.p, gg.q, gg.v], rtol=1e-8)

    # Pareto/NBD: its per-customer likelihood (the note's hypergeometric form, one
    # customer at a time) has no higher point than the collapsed fit's, and the two
    # agree on its value there
    pn = clv.fit_pareto_nbd(x, t_x, big_t)
    per_customer = clv.pareto_nbd_loglik(pn.params(), x, t_x, big_t)
    assert per_customer == pytest.approx(pn.loglik, rel=1e-12)
    polish = optimize.minimize(lambda th: -clv.pareto_nbd_loglik(np.exp(th), x, t_x, big_t),
                               np.log(pn.params()), method="Nelder-Mead",
                               options={"xatol": 1e-10, "fatol": 1e-10, "maxiter": 4000})
    assert -polish.fun <= per_customer + 1e-8
    np.testing.assert_allclose(np.exp(polish.x), pn.params(), rtol=1e-6)


def test_analysis_fits_in_threads_equal_each_fit_alone(cdnow):
    """The value analysis fits Pareto/NBD and Gamma-Gamma in threads beside BG/NBD
    (and the segmentations), under one BLAS thread: every estimate, log-likelihood
    and gate equals that of the model fitted alone, to the last bit, and so do the
    per-customer columns computed from them."""
    from satisfaction.value.core import analyse_customers, value_options

    table = customer_table(cdnow, period_end="1997-09-30", time_unit="week",
                           holdout_end="1998-06-30")
    result = analyse_customers(table, cdnow.log.to_dict(), value_options())
    d = table.purchasers
    x, t_x, big_t = (d[c].to_numpy(float) for c in ("frequency", "t_x", "T"))
    alone = {"bgnbd": clv.fit_bgnbd(x, t_x, big_t),
             "pareto_nbd": clv.fit_pareto_nbd(x, t_x, big_t),
             "gamma_gamma": clv.fit_gamma_gamma(x, d["monetary_value"].to_numpy(float))}
    for name, fit in alone.items():
        assert getattr(result, name).to_dict() == fit.to_dict(), name
    spend = alone["gamma_gamma"].expected_spend(x, d["monetary_value"].to_numpy(float))
    np.testing.assert_array_equal(result.customers["expected_spend"].to_numpy(), spend)
    # the fits run alone again, while another fit runs in a thread: the same numbers
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        beside = pool.submit(clv.fit_pareto_nbd, x, t_x, big_t)
        again = clv.fit_bgnbd(x, t_x, big_t)
        assert beside.result().to_dict() == alone["pareto_nbd"].to_dict()
    assert again.to_dict() == alone["bgnbd"].to_dict()


def test_purchasers_leave_out_returns_only_customers():
    """``CustomerTable.purchasers`` (a NumPy mask, or the whole table when every
    customer bought) equals the boolean selection it replaces."""
    frame = pd.DataFrame({"customer_id": ["a", "a", "b", "c", "c"],
                          "date": ["2024-01-01", "2024-01-05", "2024-01-02", "2024-01-03",
                                   "2024-01-04"],
                          "amount": [10.0, 5.0, -3.0, 2.0, 4.0]})
    for rows in (frame, frame[frame["customer_id"] != "b"]):
        table = customer_table(load_transactions(rows, today=TODAY))
        data = table.data
        expected = data[data["occasions"] > 0]
        pd.testing.assert_frame_equal(table.purchasers, expected)
    assert list(customer_table(load_transactions(frame, today=TODAY)).purchasers.index) \
        == ["a", "c"]


def _general_table(tx, period_end, time_unit="week"):
    """The customer table by the general query (the day grouping), for comparison."""
    from satisfaction.value.customers import TIME_UNITS, table_from_query

    end = dt.date.fromisoformat(period_end) if isinstance(period_end, str) else period_end
    sql = customer_table_sql(end, end, TIME_UNITS[time_unit], has_margin=tx.has_margin)
    return table_from_query(tx.con.execute(sql).df(), period_end=end, holdout_end=end,
                            time_unit=time_unit, has_margin=tx.has_margin)


@pytest.fixture(scope="module")
def cdnow_integer_ids(tmp_path_factory):
    """The CDNOW sample as Parquet with integer ids and dates (the typed file the
    sorted-occasions path applies to), a margin column and the amounts as they are."""
    frame = pd.read_csv(CDNOW)
    frame["customer_id"] = frame["customer_id"].astype("int64")
    frame["date"] = pd.to_datetime(frame["date"]).dt.date
    frame["margin"] = (frame["amount"] * 0.3).round(2)
    path = tmp_path_factory.mktemp("cdnow") / "cdnow.parquet"
    frame.to_parquet(path)
    return path


@pytest.mark.parametrize("period_end", [None, "1997-09-30", "1998-12-31"])
@pytest.mark.parametrize("time_unit", ["week", "day", "month"])
def test_sorted_occasions_equal_the_general_query(cdnow_integer_ids, period_end, time_unit):
    """Integer ids without returns: the customer table counts purchase days by sorting
    packed (customer, day) keys (satisfaction.value.occasions); every column equals the
    general query's to the last bit, with and without a margin, at the last date, at
    an earlier period end (no holdout asked for) and at a later one. CDNOW has days
    with several purchases, also customers' first days (the join that recomputes the
    first day's amount is used)."""
    from satisfaction.value.occasions import occasion_table

    for columns in (TransactionColumns(), TransactionColumns(margin="margin")):
        tx = load_transactions(cdnow_integer_ids, columns, today=TODAY, duplicates="keep")
        ids = pd.read_parquet(cdnow_integer_ids)["customer_id"]
        assert tx.known_id_range == (ids.min(), ids.max())
        end = (dt.date.fromisoformat(period_end) if period_end else tx.date_range[1])
        fast = customer_table(tx, period_end=end, time_unit=time_unit, holdout_end=end)
        general = _general_table(tx, end, time_unit)
        pd.testing.assert_frame_equal(fast.data, general.data, check_exact=True)
        assert fast.first_seen_later == general.first_seen_later == 0
        # the path was taken (not the query it falls back to), and first days holding
        # several purchases had to be recomputed
        assert occasion_table(tx, end, 7.0, "DECIMAL(38, 6)") is not None
        rows = pd.read_parquet(cdnow_integer_ids)
        rows = rows[rows["date"] <= end]
        first = rows.groupby("customer_id")["date"].transform("min")
        on_first = rows[rows["date"] == first].groupby("customer_id").size()
        assert (on_first > 1).sum() > 10


def test_sorted_occasions_first_day_with_several_purchases_and_wide_ids(tmp_path):
    """Hand-made rows: a first day holding three purchases (one of them the largest),
    a customer bought once, ids far apart (the key's customer part spans 2^40), an
    amount needing the wide decimal; equal to the general query. Text ids, returns,
    and keys wider than 62 bits take the general query (occasion_table gives None)."""
    from satisfaction.value.occasions import occasion_table

    frame = pd.DataFrame({
        "customer_id": [5, 5, 5, 5, 2**40, 7, 7],
        "date": pd.to_datetime(["2024-01-02", "2024-01-02", "2024-01-02", "2024-03-01",
                                "2024-02-01", "2024-01-05", "2024-02-05"]).date,
        "amount": [1.5, 99.25, 0.125, 10.0, 3.0, 2e11, 0.5]})
    path = tmp_path / "tx.parquet"
    frame.to_parquet(path)
    tx = load_transactions(path, today=TODAY)
    end = tx.date_range[1]
    assert occasion_table(tx, end, 7.0, "DECIMAL(38, 6)") is not None
    fast = customer_table(tx)
    pd.testing.assert_frame_equal(fast.data, _general_table(tx, end).data, check_exact=True)
    assert fast.data.loc["5", "monetary_value"] == 10.0
    assert fast.data.loc["5", "transactions"] == 4 and fast.data.loc["5", "occasions"] == 2
    # ids spanning more than the key holds, text ids, returns: the general query
    wide = frame.assign(customer_id=[5, 5, 5, 5, 2**62, 7, 7])
    wide.to_parquet(path)
    assert occasion_table(load_transactions(path, today=TODAY), end, 7.0,
                          "DECIMAL(38, 6)") is None
    for other in (frame.assign(customer_id=frame["customer_id"].astype(str)),
                  frame.assign(amount=[1.5, -99.25, 0.125, 10.0, 3.0, 2e11, 0.5])):
        other.to_parquet(path)
        tx = load_transactions(path, today=TODAY)
        assert occasion_table(tx, end, 7.0, "DECIMAL(38, 6)") is None
        pd.testing.assert_frame_equal(customer_table(tx).data,
                                      _general_table(tx, end).data, check_exact=True)


def test_segmentations_on_numbered_rows_equal_those_on_customer_ids(cdnow):
    """The analysis computes RFM, ABC and lifecycle on rows numbered 0, 1, ... and puts
    the customer ids back: the same tables (ids, values, order) and summaries as the
    functions called on the id-indexed table."""
    from satisfaction.value.abc import abc_classes
    from satisfaction.value.core import _segment
    from satisfaction.value.lifecycle import lifecycle_stages
    from satisfaction.value.rfm import rfm_segments

    table = customer_table(cdnow, period_end="1997-09-30")
    d = table.purchasers
    r, a, life = _segment(d, table.period_end, (0.8, 0.95))
    direct = (rfm_segments(d["recency_days"], d["occasions"], d["revenue"]),
              abc_classes(d["revenue"], thresholds=(0.8, 0.95)),
              lifecycle_stages(d, table.period_end))
    for ours, theirs in zip((r, a, life), direct, strict=True):
        pd.testing.assert_frame_equal(ours.data, theirs.data, check_exact=True)
        assert ours.to_dict() == theirs.to_dict()
    assert list(r.data.index[:3]) == list(d.index[:3]) and r.data.index.name == "customer_id"


@pytest.mark.parametrize("far_id", [2**20, 2**55])
def test_sorted_sums_equal_the_general_query(tmp_path, far_id):
    """Without a margin and with amounts summing below 2^53 millionths the whole table
    comes from sorting (satisfaction.value.occasions._sorted_sums: counts and sums over
    the runs of the sorted keys, no GROUP BY); equal to the general query to the last
    bit, with the row number packed beside the key (2^20) or, when the two do not fit
    in 63 bits, an argsort (2^55). Amounts too large for exact double sums take the
    GROUP BY path (None)."""
    from satisfaction.value import occasions

    frame = pd.DataFrame({
        "customer_id": [5, 5, 5, 5, far_id, 7, 7, 7],
        "date": pd.to_datetime(["2024-01-02", "2024-01-02", "2024-01-02", "2024-03-01",
                                "2024-02-01", "2024-01-05", "2024-02-05", "2024-02-05"]).date,
        "amount": [1.5, 99.25, 0.125, 10.0, 3.0, 0.1, 0.2, 1e-7]})
    path = tmp_path / "tx.parquet"
    frame.to_parquet(path)
    tx = load_transactions(path, today=TODAY)
    end = tx.date_range[1]
    lo = tx.known_id_range[0]
    day_bits = max((end - tx.date_range[0]).days, 1).bit_length()
    end_sql = f"DATE '{end.isoformat()}'"
    found = occasions._sorted_sums(tx.con, lo, tx.date_range[0], day_bits, end_sql)
    assert found is not None
    data, days, repeat = found
    assert list(data["transactions"]) == [4, 3, 1] and list(days["occasions"]) == [2, 2, 1]
    # revenue minus the whole first day (three purchases on 2024-01-02)
    assert repeat[0] == 10.0 and repeat[2] == 0.0
    fast = customer_table(tx)
    pd.testing.assert_frame_equal(fast.data, _general_table(tx, end).data, check_exact=True)
    big = frame.assign(amount=[1.5, 99.25, 0.125, 10.0, 3.0, 9e9, 0.2, 0.5])
    big.to_parquet(path)
    tx = load_transactions(path, today=TODAY)
    assert occasions._sorted_sums(tx.con, lo, tx.date_range[0], day_bits, end_sql) is None
    pd.testing.assert_frame_equal(customer_table(tx).data, _general_table(tx, end).data,
                                  check_exact=True)


def test_millionths_are_duckdbs_decimal_cast():
    """The sorted path reads a double amount as ``round(x · 10⁶)`` (DuckDB's round(),
    half away from zero): the unscaled value of DuckDB's own ``CAST(x AS DECIMAL(18,
    6))``, ties included, where a plain cast to BIGINT (ties to even) differs."""
    import duckdb

    rng = np.random.default_rng(7)
    amounts = np.concatenate([rng.uniform(0, 1e5, 200_000),
                              (np.arange(200_000) + 0.5) / 1e6,   # exact ties in binary
                              rng.integers(0, 10**11, 50_000) / 1e6 + 5e-7,
                              [0.0000005, 1.0000005, 2.675, 0.49999999999999994e-6]])
    con = duckdb.connect()
    con.register("t", pd.DataFrame({"amount": amounts}))
    got = con.execute(
        "SELECT CAST(CAST(CAST(amount AS DECIMAL(18, 6)) AS DECIMAL(38, 6)) * 1000000 "
        "AS BIGINT) AS exact, CAST(round(amount * 1000000) AS BIGINT) AS rounded, "
        "CAST(amount * 1000000 AS BIGINT) AS plain FROM t").fetchnumpy()
    np.testing.assert_array_equal(got["rounded"], got["exact"])
    assert (got["plain"] != got["exact"]).sum() > 1000
