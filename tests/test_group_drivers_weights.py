"""Weighted key drivers by group (issue 17, point 1; satisfaction/group_drivers.py).

References:
* constant weights give the unweighted analysis (shares, bootstrap intervals and
  permutation p-values, 1e-12);
* integer weights give the shares of the data with every respondent repeated ``w``
  times (frequency weights, 1e-10);
* a loop implementation of the weighted permutation test: scores centred and scaled by
  the weighted mean and SD (``n/(n-1)`` corrected) within each group, the labels permuted with each
  respondent keeping its weight, every permuted group's shares from
  :func:`satisfaction.importance.driver_importance` ``weights=`` (itself tested
  against R's ``lm(weights=)`` in ``tests/test_ipa_weights.py``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from satisfaction.errors import InputError
from satisfaction.group_drivers import group_driver_importance, permutation_test
from satisfaction.importance import driver_importance

from .conftest import SHARED

REF = Path(__file__).parent / "reference"
DATA = Path(__file__).parent / "data"
DRIVERS = ["Image", "Expectation", "Quality", "Value"]
SHARES = ["share", "share.ci.lower", "share.ci.upper", "r2", "beta"]


@pytest.fixture(scope="module")
def bank() -> pd.DataFrame:
    scores = pd.read_csv(REF / "importance_bank_scores.csv", index_col="respondent")
    gender = pd.read_csv(DATA / "bank_gender.csv", index_col="respondent")
    return scores.join(gender)


def _run(frame: pd.DataFrame, weights: pd.Series | None = None, **kw):
    return group_driver_importance(frame, "Satisfaction", DRIVERS,
                                   {"gender": frame["gender"]}, weights=weights,
                                   min_n=40, **kw)


def test_constant_weights_give_the_unweighted_analysis(bank: pd.DataFrame) -> None:
    plain = _run(bank, bootstrap=60, permutations=99, seed=5)
    flat = _run(bank, pd.Series(2.5, index=bank.index), bootstrap=60, permutations=99,
                seed=5)
    np.testing.assert_allclose(flat.importance[SHARES].to_numpy(dtype=float),
                               plain.importance[SHARES].to_numpy(dtype=float), atol=1e-12)
    cols = ["difference", "difference.ci.lower", "difference.ci.upper", "pvalue",
            "pvalue.adjusted"]
    np.testing.assert_allclose(flat.tests[cols].to_numpy(dtype=float),
                               plain.tests[cols].to_numpy(dtype=float), atol=1e-12)
    assert len(plain.tests) == len(DRIVERS)


def test_integer_weights_equal_repeated_rows(bank: pd.DataFrame) -> None:
    count = pd.Series(1 + np.arange(len(bank)) % 4, index=bank.index)
    weighted = _run(bank, count.astype(float), bootstrap=0, permutations=19, seed=1)
    repeated = bank.loc[np.repeat(bank.index.to_numpy(), count.to_numpy())].reset_index(
        drop=True)
    plain = _run(repeated, bootstrap=0, permutations=19, seed=1)
    cols = ["share", "r2", "beta"]
    np.testing.assert_allclose(weighted.importance[cols].to_numpy(dtype=float),
                               plain.importance[cols].to_numpy(dtype=float), atol=1e-10)
    np.testing.assert_allclose(weighted.tests["difference"].to_numpy(dtype=float),
                               plain.tests["difference"].to_numpy(dtype=float), atol=1e-10)
    # and the weights matter: the unweighted shares of the data differ
    once = _run(bank, bootstrap=0, permutations=19, seed=1)
    assert np.abs(weighted.importance["share"].to_numpy(dtype=float)
                  - once.importance["share"].to_numpy(dtype=float)).max() > 1e-3


def test_weighted_permutation_test_equals_a_loop(bank: pd.DataFrame) -> None:
    frame = bank.dropna(subset=[*DRIVERS, "Satisfaction", "gender"])
    cols = [*DRIVERS, "Satisfaction"]
    rng = np.random.default_rng(17)
    w = rng.uniform(0.3, 3.0, len(frame))
    codes = pd.Categorical(frame["gender"]).codes
    stat, pvalue = permutation_test(frame[cols].to_numpy(), codes, 40, seed=9, weights=w)

    z = frame[cols].to_numpy(dtype=float).copy()
    for g in np.unique(codes):
        rows = codes == g
        mean = np.average(z[rows], axis=0, weights=w[rows])
        m = rows.sum()
        sd = np.sqrt(np.average((z[rows] - mean) ** 2, axis=0, weights=w[rows]) * m / (m - 1))
        z[rows] = (z[rows] - mean) / sd
    positions = [np.flatnonzero(codes == g) for g in np.unique(codes)]

    def spread(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
        shares = []
        for pos in positions:
            part = pd.DataFrame(values[pos], columns=cols)
            res = driver_importance(part["Satisfaction"], part[DRIVERS], bootstrap=0,
                                    weights=weights[pos])
            shares.append(res.table["shapley.share"].to_numpy())
        return np.max(shares, axis=0) - np.min(shares, axis=0)

    observed = spread(frame[cols].to_numpy(dtype=float), w)
    np.testing.assert_allclose(stat, observed, atol=1e-10)
    rng = np.random.default_rng(9)
    reached = np.zeros(len(DRIVERS))
    for _ in range(40):
        perm = rng.permutation(len(z))
        reached += spread(z[perm], w[perm]) >= observed - 1e-12
    np.testing.assert_allclose(pvalue, (1 + reached) / 41, atol=1e-12)


def test_respondents_without_a_weight_are_counted(bank: pd.DataFrame) -> None:
    w = pd.Series(1.0, index=bank.index)
    w.iloc[:7] = np.nan
    res = _run(bank, w, bootstrap=0, permutations=9, seed=1)
    no_weight = res.excluded[res.excluded["reason"] == "no weight"]
    assert no_weight["n"].tolist() == [int(bank["gender"].iloc[:7].notna().sum())]
    assert res.importance.groupby("group", observed=True)["n"].first().sum() == \
        _run(bank.iloc[7:], bootstrap=0, permutations=9, seed=1).importance.groupby(
            "group", observed=True)["n"].first().sum()
    with pytest.raises(InputError):
        _run(bank, pd.Series(-1.0, index=bank.index), bootstrap=0, permutations=9)


def test_the_pipeline_step_passes_the_weights(bank: pd.DataFrame) -> None:
    """``analysis_group_drivers(weights=)`` (what the pipeline calls with the analysis's
    weights) gives the weighted analysis of the chapter's drivers and scores."""
    from types import SimpleNamespace

    from satisfaction.group_drivers import analysis_group_drivers
    from satisfaction.questionnaire import load_questionnaire

    q = load_questionnaire("ecsi_bank")
    data = pd.read_csv(SHARED / "bank_satisfaction.csv", index_col="respondent")
    w = pd.Series(np.random.default_rng(3).uniform(0.5, 2.0, len(bank)), index=bank.index)
    ipa = SimpleNamespace(target="Satisfaction", decomposition=SimpleNamespace(
        drivers=DRIVERS, level=0.95))
    indices = SimpleNamespace(scores=bank[[*DRIVERS, "Satisfaction"]])
    got = analysis_group_drivers(q, data, indices, ipa, bootstrap=0, permutations=19,
                                 seed=2, weights=w)
    want = group_driver_importance(bank, "Satisfaction", DRIVERS, {"gender": data["gender"]},
                                   bootstrap=0, permutations=19, seed=2, weights=w)
    assert len(got.importance) == 2 * len(DRIVERS)

    def by_group(res) -> np.ndarray:  # the questionnaire orders the groups its own way
        table = res.importance.astype({"group": str}).sort_values(["group", "driver"])
        return table["share"].to_numpy(dtype=float)

    np.testing.assert_allclose(by_group(got), by_group(want), atol=1e-12)
    plain = analysis_group_drivers(q, data, indices, ipa, bootstrap=0, permutations=19,
                                   seed=2)
    assert np.abs(got.importance["share"].to_numpy(dtype=float)
                  - plain.importance["share"].to_numpy(dtype=float)).max() > 1e-4
