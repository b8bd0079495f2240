"""The survey link against R (tests/reference/value_link_reference.R)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from satisfaction.errors import InputError
from satisfaction.value.link import link_survey

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


@pytest.mark.parametrize("outcome", ["repeat_purchases", "clv"])
def test_regressions_match_lm(link, outcome):
    ref = REF["regressions"][outcome]
    got = link.regressions[link.regressions["outcome"] == outcome]
    assert got["term"].tolist() == ["(Intercept)", "satisfaction", "loyalty"]
    for ours, theirs in (("coef", "coef"), ("se", "se"), ("t", "t"), ("pvalue", "p"),
                         ("ci_lower", "lower"), ("ci_upper", "upper")):
        np.testing.assert_allclose(got[ours].to_numpy(), ref[theirs], rtol=1e-6, atol=1e-10)
    assert got["r2"].iloc[0] == pytest.approx(ref["r2"], rel=1e-8)
    assert int(got["n"].iloc[0]) == ref["n"]


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
