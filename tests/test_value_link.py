"""The survey link against R (tests/reference/value_link_reference.R)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from satisfaction.errors import InputError
from satisfaction.value.link import (
    EFFECTS,
    bootstrap_indices,
    link_survey,
    mediation,
    on_scale,
    outcome_scale,
)

HERE = Path(__file__).parent
REF = json.loads((HERE / "reference" / "value_link_reference.json").read_text())


@pytest.fixture(scope="module")
def link():
    scores = pd.read_csv(HERE / "data" / "link_scores.csv", index_col="respondent",
                         dtype={"customer_id": str})
    customers = pd.read_csv(HERE / "data" / "link_customers.csv", index_col="customer_id")
    return link_survey(scores, customers)


def test_counts_match_r_and_add_up(link):
    c = link.counts
    assert c == REF["counts"]
    assert c["respondents"] == (c["respondents_missing_customer_id"]
                                + c["respondents_unmatched"]
                                + c["respondents_repeat_customer"] + c["matched"])
    assert c["customers"] == c["matched"] + c["customers_without_response"]
    assert len(link.data) == c["matched"]


MED = json.loads((HERE / "reference" / "value_mediation_reference.json").read_text())
OUTCOMES = ("repeat_purchases", "clv")


@pytest.mark.parametrize("outcome", OUTCOMES)
@pytest.mark.parametrize("construct", ["satisfaction", "loyalty"])
def test_relations_match_cor_test(link, construct, outcome):
    ref = MED["relations"][f"{construct} {outcome}"]
    rel = link.relations.set_index(["construct", "outcome"]).loc[(construct, outcome)]
    assert rel["scale"] == ("log1p" if outcome == "clv" else "raw")
    assert int(rel["n"]) == ref["n"]
    for ours, theirs in (("r", "r"), ("ci_lower", "lower"), ("ci_upper", "upper"),
                         ("pvalue", "p"), ("spearman", "rho"), ("spearman_pvalue", "p_rho")):
        assert rel[ours] == pytest.approx(ref[theirs], rel=1e-6, abs=1e-12), ours
    assert rel["ci_lower"] < rel["r"] < rel["ci_upper"]


@pytest.mark.parametrize("outcome", OUTCOMES)
def test_mediation_matches_lm(link, outcome):
    ref = MED["mediation"][outcome]
    med = link.mediation[link.mediation["outcome"] == outcome].set_index("effect")
    assert med["exposure"].iloc[0] == "satisfaction" and med["mediator"].iloc[0] == "loyalty"
    assert int(med["n"].iloc[0]) == ref["n"]
    for effect in ("a", "b", "direct", "indirect", "total"):
        assert med.loc[effect, "estimate"] == pytest.approx(ref["estimate"][effect],
                                                            rel=1e-6, abs=1e-12), effect
    # total = direct + indirect exactly (and equals lm(y ~ x), checked above)
    assert med.loc["total", "estimate"] == med.loc["direct", "estimate"] \
        + med.loc["indirect", "estimate"]
    assert med.loc["proportion", "estimate"] == pytest.approx(
        ref["estimate"]["indirect"] / ref["estimate"]["total"], rel=1e-6)


@pytest.mark.parametrize("outcome", OUTCOMES)
def test_mediation_bootstrap_agrees_with_r_within_monte_carlo_error(link, outcome):
    """R's bootstrap uses its own random numbers: ours (2,000 draws) must agree with
    R's (5,000 draws) within Monte Carlo error, a quarter of the bootstrap sd."""
    ref = MED["mediation"][outcome]
    med = link.mediation[link.mediation["outcome"] == outcome].set_index("effect")
    for effect in ("a", "b", "direct", "indirect", "total"):
        sd = ref["se"][effect]
        assert med.loc[effect, "se"] == pytest.approx(sd, rel=0.1), effect
        assert abs(med.loc[effect, "ci_lower"] - ref["lower"][effect]) < 0.25 * sd, effect
        assert abs(med.loc[effect, "ci_upper"] - ref["upper"][effect]) < 0.25 * sd, effect


def test_every_interval_contains_its_estimate(link):
    m = link.mediation
    assert len(m) == 2 * len(EFFECTS)
    assert ((m["ci_lower"] <= m["estimate"]) & (m["estimate"] <= m["ci_upper"])).all()
    r = link.relations
    assert ((r["ci_lower"] <= r["r"]) & (r["r"] <= r["ci_upper"])).all()


def test_mediation_by_hand():
    """Point estimates against the normal equations solved by lstsq, and the bootstrap
    against a loop over the same resamples."""
    rng = np.random.default_rng(3)
    x = rng.normal(70, 10, 60)
    m = 0.7 * x + rng.normal(0, 8, 60)
    y = 0.02 * x + 0.05 * m + rng.normal(0, 1, 60)
    res = mediation(x, m, y, draws=120, seed=11)

    def by_hand(i):
        one = np.ones(len(i))
        a = np.linalg.lstsq(np.column_stack([one, x[i]]), m[i], rcond=None)[0][1]
        _, direct, b = np.linalg.lstsq(np.column_stack([one, x[i], m[i]]), y[i], rcond=None)[0]
        total = np.linalg.lstsq(np.column_stack([one, x[i]]), y[i], rcond=None)[0][1]
        return {"a": a, "b": b, "direct": direct, "indirect": a * b, "total": total}

    want = by_hand(np.arange(60))
    eff = res.effects.set_index("effect")
    for k, v in want.items():
        assert eff.loc[k, "estimate"] == pytest.approx(v, rel=1e-10)
    draws = np.vstack([idx for _, idx in bootstrap_indices(60, 120, 11)])
    assert draws.shape == (120, 60)
    loop = pd.DataFrame([by_hand(i) for i in draws])
    for k in want:
        lo, hi = np.quantile(loop[k], [0.025, 0.975])
        assert eff.loc[k, "ci_lower"] == pytest.approx(lo, rel=1e-9)
        assert eff.loc[k, "ci_upper"] == pytest.approx(hi, rel=1e-9)
        assert eff.loc[k, "se"] == pytest.approx(loop[k].std(ddof=1), rel=1e-9)
    # deterministic, and a different seed gives different draws
    again = mediation(x, m, y, draws=120, seed=11).effects
    pd.testing.assert_frame_equal(again, res.effects)
    other = mediation(x, m, y, draws=120, seed=12).effects
    assert not np.allclose(other["ci_lower"], res.effects["ci_lower"])


def test_degenerate_resamples_are_counted():
    x = np.r_[np.zeros(9), 1.0]  # a resample without the single 1 has no spread in x
    res = mediation(x, x + np.arange(10), np.arange(10.0), draws=200, seed=1)
    assert 0 < res.failed < 200
    assert res.draws == 200


def _respondents(rng: np.random.Generator, n: int) -> tuple[list[str], pd.DataFrame]:
    """n customer ids and their respondents' satisfaction and loyalty scores."""
    ids = [f"C{i}" for i in range(n)]
    scores = pd.DataFrame({"cid": ids, "sat": rng.normal(70, 10, n)},
                          index=[f"R{i}" for i in range(n)])
    scores["loy"] = scores["sat"] * 0.6 + rng.normal(0, 5, n)
    return ids, scores


def test_log_scale_and_missing_outcome_diagnostic():
    assert outcome_scale("clv") == "log1p" and outcome_scale("repeat_purchases") == "raw"
    np.testing.assert_allclose(on_scale([0.0, np.e - 1, -1.0], "log1p"), [0.0, 1.0, np.nan])
    rng = np.random.default_rng(5)
    n = 40
    ids, scores = _respondents(rng, n)
    customers = pd.DataFrame({"frequency": rng.integers(1, 5, n),
                              "clv": np.r_[np.nan, np.nan, rng.gamma(2, 50, n - 2)]}, index=ids)
    link = link_survey(scores, customers, customer_column="cid", by=("rfm_segment",),
                       draws=50)
    codes = {d.code: d for d in link.warnings}
    assert codes["link_column_missing"].params == {"column": "rfm_segment"}
    assert codes["link_outcome_missing"].params == {"n": 2, "outcome": "clv"}
    assert codes["link_outcome_missing"].severity == "info"
    assert "Customer lifetime value" in str(codes["link_outcome_missing"])
    assert link.notes == [str(d) for d in link.warnings]
    rel = link.relations.set_index(["construct", "outcome"])
    assert rel.loc[("sat", "clv"), "n"] == n - 2
    out = json.loads(json.dumps(link.to_dict(), allow_nan=False))
    assert {w["code"] for w in out["warnings"]} == {"link_column_missing",
                                                    "link_outcome_missing"}
    few = link_survey(scores.iloc[:5], customers, customer_column="cid", by=())
    assert [d.code for d in few.warnings] == ["link_too_few"]
    assert few.relations.empty and few.mediation.empty


def test_group_tests_match_oneway_and_kruskal(link):
    t = link.tests.set_index(["by", "construct", "test"])
    for key, ref in REF["tests"].items():
        by, construct = key.split(" ")
        w = t.loc[(by, construct, "welch_anova")]
        assert w["statistic"] == pytest.approx(ref["F"], rel=1e-6)
        assert w["df2"] == pytest.approx(ref["df2"], rel=1e-6)
        assert w["pvalue"] == pytest.approx(ref["p"], rel=1e-5)
        k = t.loc[(by, construct, "kruskal_wallis")]
        assert k["statistic"] == pytest.approx(ref["H"], rel=1e-6)
        assert k["pvalue"] == pytest.approx(ref["p_kw"], rel=1e-5)
    # Holm within each family never lowers a p-value
    assert (link.tests["p_adjusted"] >= link.tests["pvalue"] - 1e-15).all()


def test_group_means(link):
    g = link.groups
    d = link.data
    row = g[(g["by"] == "abc_class") & (g["group"] == "A") & (g["construct"] == "loyalty")]
    part = d.loc[d["abc_class"] == "A", "loyalty"]
    assert int(row["n"].iloc[0]) == len(part)
    assert row["mean"].iloc[0] == pytest.approx(part.mean())
    json.dumps(link.to_dict(), allow_nan=False)


def test_missing_customer_column():
    with pytest.raises(InputError, match="customer-id column"):
        link_survey(pd.DataFrame({"sat": [1.0]}), pd.DataFrame(index=["a"]))


def test_an_outcome_without_values_is_not_related_and_says_so():
    """Every CLV empty (its models failed their gates): no relation or mediation of CLV
    is estimated (it raised ZeroDivisionError), a caution says why, and the other
    outcome is related as before."""
    rng = np.random.default_rng(6)
    n = 40
    ids, scores = _respondents(rng, n)
    customers = pd.DataFrame({"repeat_purchases": rng.integers(0, 5, n).astype(float),
                              "clv": np.full(n, np.nan)}, index=ids)
    link = link_survey(scores, customers, customer_column="cid", by=(), exposure="sat",
                       mediator="loy", draws=50)
    codes = {d.code: d for d in link.warnings}
    few = codes["link_outcome_too_few"]
    assert few.severity == "caution" and few.params == {"n": 0, "min": 10, "outcome": "clv"}
    assert "was not estimated" in str(few) and "未估计" in few.text("zh")
    assert set(link.relations["outcome"]) == {"repeat_purchases"}
    assert set(link.mediation["outcome"]) == {"repeat_purchases"}
    json.loads(json.dumps(link.to_dict(), allow_nan=False))
