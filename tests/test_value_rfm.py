"""RFM, ABC and lifecycle against base-R reference numbers (tests/reference/value_reference.R)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from satisfaction.value.abc import abc_classes, gini
from satisfaction.value.customers import customer_table
from satisfaction.value.lifecycle import lifecycle_stages
from satisfaction.value.rfm import SegmentRule, quantile_scores, rfm_segments
from satisfaction.value.transactions import load_transactions

HERE = Path(__file__).parent
REF = json.loads((HERE / "reference" / "value_reference.json").read_text())


@pytest.fixture(scope="module")
def table():
    tx = load_transactions(HERE / "data" / "cdnow_sample.csv", duplicates="keep")
    return customer_table(tx, period_end="1997-09-30", time_unit="week").data


@pytest.fixture(scope="module")
def ref():
    return pd.DataFrame(REF["table"]).set_index("customer_id")


def test_rfm_matches_r(table, ref):
    res = rfm_segments(table["recency_days"], table["occasions"], table["revenue"])
    d = res.data.loc[ref.index]
    np.testing.assert_array_equal(d["recency"], ref["recency"])
    np.testing.assert_array_equal(d["frequency"], ref["frequency"])
    np.testing.assert_allclose(d["monetary"], ref["amount"], rtol=1e-12)
    for s in ("r_score", "f_score", "m_score"):
        np.testing.assert_array_equal(d[s], ref[s])
    assert (d["value_group"] == ref["value_group"]).all()
    for k, v in REF["means"].items():
        assert res.means[k] == pytest.approx(v, rel=1e-12)
    # one-time buyers all tie at the bottom and share F = 1
    assert (d.loc[d["frequency"] == 1, "f_score"] == 1).all()


def test_abc_and_concentration_match_r(table, ref):
    res = abc_classes(table["revenue"])
    assert (res.data.loc[ref.index, "abc_class"] == ref["abc_class"]).all()
    assert res.gini == pytest.approx(REF["gini"], rel=1e-10)
    assert res.top20_share == pytest.approx(REF["top20_share"], rel=1e-10)
    s = res.summary
    assert int(s["customers"].sum()) == len(table)
    assert s.loc["A", "revenue_share"] == pytest.approx(0.80, abs=0.01)
    assert s["revenue_share"].sum() == pytest.approx(1.0)


def test_abc_thresholds_configurable_and_small_example():
    rev = pd.Series([50.0, 30.0, 10.0, 5.0, 5.0, -3.0], index=list("abcdef"))
    res = abc_classes(rev, thresholds=(0.5, 0.9))
    # shares before each customer: 0, .5, .8, .9, .95 -> A, B, B, C, C; negative -> C
    assert res.data["abc_class"].tolist() == ["A", "B", "B", "C", "C", "C"]
    # Gini of (0, 5, 5, 10, 30, 50): Σ(2i−n−1)x = −15 − 5 + 10 + 90 + 250 = 330; nΣx = 600
    assert gini([0, 5, 5, 10, 30, 50]) == pytest.approx(330 / 600)
    assert res.top20_share == pytest.approx(0.8)  # top ⌈1.2⌉ = 2 customers


def test_quantile_scores_ties():
    # the docstring example, by hand: rank_min = 1,1,1,4,5,...,10; 1+floor(5(rank−1)/10)
    assert quantile_scores([1, 1, 1, 2, 3, 4, 5, 6, 7, 8]).tolist() == [1, 1, 1, 2, 3, 3, 4, 4,
                                                                           5, 5]
    assert quantile_scores([3, 2, 1], higher_is_better=False).tolist() == [1, 2, 4]


def test_business_segments_configurable(table):
    rules = [SegmentRule("best", r=(5, 5), f=(5, 5)), SegmentRule("rest")]
    res = rfm_segments(table["recency_days"], table["occasions"], table["revenue"], segments=rules)
    d = res.data
    assert set(d["rfm_segment"]) == {"best", "rest"}
    assert ((d["rfm_segment"] == "best") == ((d["r_score"] == 5) & (d["f_score"] == 5))).all()
    default = rfm_segments(table["recency_days"], table["occasions"], table["revenue"]).data
    champ = default["rfm_segment"] == "champions"
    assert (default.loc[champ, ["r_score", "f_score", "m_score"]] >= 4).all().all()


def _customers(rows):
    frame = pd.DataFrame(rows, columns=["id", "dates"])
    out = []
    for _cid, dates in rows:
        ds = pd.to_datetime(dates)
        first, last, n = ds.min(), ds.max(), len(ds)
        end = pd.Timestamp("2024-12-31")
        trend = (np.mean([(d - first).days for d in ds[1:]]) / (end - first).days
                 if n > 1 else np.nan)
        out.append({"occasions": n, "first_purchase": first, "last_purchase": last,
                    "trend_position": trend})
    return pd.DataFrame(out, index=frame["id"])


def test_lifecycle_rules():
    monthly = [f"2024-{m:02d}-01" for m in range(1, 13)]
    rows = [
        ("steady", monthly),                                   # maturity
        ("lapsed", [f"2024-0{m}-01" for m in range(1, 7)]),    # stopped in June
        ("new", ["2024-12-20"]),                               # acquisition
        ("two", ["2024-09-01", "2024-11-15"]),                 # growth (second purchase)
        ("speeding", ["2024-01-01", "2024-09-01", "2024-10-01", "2024-11-01", "2024-11-20",
                      "2024-12-10", "2024-12-25"]),             # growth (trend)
        ("overdue", ["2024-01-01", "2024-03-01", "2024-05-01", "2024-07-01", "2024-09-01",
                     "2024-10-01"]),                           # decline (3 months > 1.5 ipt)
        ("once_long_ago", ["2024-01-10"]),                     # lapsed
    ]
    res = lifecycle_stages(_customers(rows), "2024-12-31")
    got = res.data["lifecycle_stage"].to_dict()
    assert got == {"steady": "maturity", "lapsed": "lapsed", "new": "acquisition",
                   "two": "growth", "speeding": "growth", "overdue": "decline",
                   "once_long_ago": "lapsed"}
    assert sum(res.counts().values()) == len(rows)


def test_rank_min_counting_and_sorting_paths_equal_pandas():
    """Both ways of ranking (histogram for whole numbers in a narrow range, sort
    otherwise) give R's ties.method = "min" ranks, as pandas computes them."""
    from satisfaction.value.rfm import _rank_min

    rng = np.random.default_rng(7)
    cases = [rng.integers(0, 40, 2000).astype(float),          # counted
             -rng.integers(0, 400, 2000).astype(float),         # counted, negative
             rng.integers(0, 10**9, 2000).astype(float),        # wide range: sorted
             np.round(rng.gamma(2.0, 30.0, 2000), 2)]           # decimals: sorted
    for key in cases:
        expected = pd.Series(key).rank(method="min").to_numpy().astype(np.int64)
        np.testing.assert_array_equal(_rank_min(key), expected)
