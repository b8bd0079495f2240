"""Weighted correlations of the indices with a numeric group variable (issue 17, point 1):
satisfaction.compare.weighted_association against R's survey (svyglm) and cov.wt
(tests/reference/association_weights.R), and compare()/api.compare with weights."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from satisfaction.compare import index_association, weighted_association, weighted_ranks

ROOT = Path(__file__).resolve().parents[1]
REF = json.loads((ROOT / "tests/reference/association_weights.json").read_text())
DATA = pd.read_csv(ROOT / "tests/reference/association_weights_data.csv")


@pytest.mark.parametrize("row", REF["associations"],
                         ids=lambda r: f"{r['construct']}-{r['method']}")
def test_weighted_association_matches_r_survey(row):
    ours = weighted_association(DATA[row["construct"]], DATA["age"], DATA["w"], row["method"])
    assert ours["n"] == row["n"] == 247  # the three missing ages leave the design
    assert ours["df"] == row["df"]
    for key in ("estimate", "statistic", "pvalue", "ci.lower", "ci.upper", "n_eff"):
        assert ours[key] == pytest.approx(row[key], abs=1e-8), key


def test_constant_weights_give_the_unweighted_coefficients():
    const = REF["constant"]
    assert const["pearson"] == pytest.approx(const["cor_pearson"], abs=1e-12)
    ones = np.full(len(DATA), 3.0)
    for method in ("pearson", "spearman"):
        ours = weighted_association(DATA["satisfaction"], DATA["age"], ones, method)
        plain = index_association(DATA["satisfaction"], DATA["age"], method)
        assert ours["estimate"] == pytest.approx(plain["estimate"], abs=1e-12)
        assert ours["estimate"] == pytest.approx(const[f"cor_{method}"], abs=1e-12)
        # the design-based SE is not cor.test's model-based one: the tests differ
        assert ours["statistic"] != pytest.approx(plain["statistic"], abs=1e-3)


def test_weighted_ranks_are_weighted_mid_ranks():
    x = np.array([3.0, 1.0, 3.0, 2.0])
    w = np.array([1.0, 2.0, 0.5, 1.0])
    # 1 -> 2/2; 2 -> 2 + 1/2; 3 -> 3 + 1.5/2
    assert weighted_ranks(x, w) == pytest.approx([3.75, 1.0, 3.75, 2.5])
    assert weighted_ranks(x, np.ones(4)) == pytest.approx(stats.rankdata(x) - 0.5)


def test_too_few_pairs_give_no_estimate():
    out = weighted_association([1, 2, np.nan], [1, 2, 3], [1, 1, 1])
    assert out["estimate"] is None and out["n"] == 2
