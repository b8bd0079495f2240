"""Factor scores against lavaan 0.6 lavPredict() (tests/reference/lavaan_modindices.R)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from semopy.examples import holzinger39, political_democracy

from satisfaction.errors import UsageError
from satisfaction.model import fit
from satisfaction.scores import factor_scores
from tests.conftest import REFERENCE

REF = json.loads((REFERENCE / "lavaan_modindices.json").read_text())
TOL = 1e-4


def _holzinger_missing() -> pd.DataFrame:
    """The deletion rule of lavaan_modindices.R (as lavaan_reference.R, case 5)."""
    data = holzinger39.get_data().copy()
    data.loc[data["id"] % 7 == 0, "x1"] = np.nan
    data.loc[data["id"] % 11 == 0, "x5"] = np.nan
    data.loc[data["id"] % 13 == 0, "x9"] = np.nan
    return data


DATA = {"holzinger": holzinger39.get_data, "holzinger_listwise": _holzinger_missing,
        "political_democracy": political_democracy.get_data}


@pytest.mark.parametrize("case", list(DATA))
@pytest.mark.parametrize("method", ["regression", "bartlett"])
def test_factor_scores_match_lavpredict(case: str, method: str) -> None:
    ref = REF[case]
    data = DATA[case]()
    scores = factor_scores(fit(ref["model"], data), data, method=method)
    want = ref["scores"][method]
    assert len(scores) == want["n"]
    first = pd.DataFrame(want["first10"])
    assert list(scores.columns) == list(first.columns)
    assert np.abs(scores.iloc[:10].to_numpy() - first.to_numpy()).max() < TOL
    for col in scores.columns:
        assert scores[col].mean() == pytest.approx(want["mean"][col], abs=TOL)
        assert scores[col].std() == pytest.approx(want["sd"][col], abs=TOL)


def test_listwise_scores_only_complete_cases() -> None:
    """As lavaan after a listwise fit: the 85 respondents with a missing item are not scored."""
    data = _holzinger_missing()
    scores = factor_scores(fit(REF["holzinger"]["model"], data), data)
    want = REF["holzinger_listwise"]["scores"]["regression"]
    positions = np.flatnonzero(data.index.isin(scores.index)) + 1  # R's 1-based case.idx
    assert positions.tolist() == want["case_idx"]
    assert len(data) - len(scores) == 85
    assert scores.index.equals(data.index[data[["x1", "x5", "x9"]].notna().all(axis=1)])


def test_multigroup_scores_match_lavpredict() -> None:
    ref = REF["holzinger_school"]
    data = holzinger39.get_data()
    scores = factor_scores(fit(ref["model"], data, group="school"), data)
    assert len(scores) == len(data)
    for label, want in ref["scores"].items():
        mine = scores[(data.loc[scores.index, "school"] == label).to_numpy()]
        assert len(mine) == want["n"]
        first = pd.DataFrame(want["first10"])
        assert np.abs(mine.iloc[:10].to_numpy() - first[mine.columns].to_numpy()).max() < TOL


@pytest.mark.parametrize("method", ["regression", "bartlett"])
def test_scalar_invariance_scores_use_the_latent_means(method: str) -> None:
    """With equal intercepts the second school's latent means are free: lavaan's
    scores are centred on them (EETA + weights · (x − EY))."""
    ref = REF["holzinger_scalar"]
    data = holzinger39.get_data()
    res = fit(ref["model"], data, group="school", group_equal=ref["group_equal"])
    scores = factor_scores(res, data, method=method)
    for label, want in ref["scores"][method].items():
        mine = scores[(data.loc[scores.index, "school"] == label).to_numpy()]
        assert len(mine) == want["n"]
        first = pd.DataFrame(want["first10"])
        assert np.abs(mine.iloc[:10].to_numpy() - first[mine.columns].to_numpy()).max() < TOL
        for col in mine.columns:
            assert mine[col].mean() == pytest.approx(want["mean"][col], abs=TOL)


def test_regression_scores_are_the_conditional_mean() -> None:
    """A hand check of the formula: Ψ Λ' Σ⁻¹ (x − x̄) from the parameter table."""
    data = holzinger39.get_data()
    res = fit(REF["holzinger"]["model"], data)
    p = res.parameters
    items = [f"x{i}" for i in range(1, 10)]
    lvs = ["visual", "textual", "speed"]
    lam = np.zeros((9, 3))
    for r in p[p["op"] == "=~"].itertuples():
        lam[items.index(r.rhs), lvs.index(r.lhs)] = r.est
    cov = p[p["op"] == "~~"]
    psi = np.zeros((3, 3))
    theta = np.zeros((9, 9))
    for r in cov.itertuples():
        if r.lhs in lvs:
            psi[lvs.index(r.lhs), lvs.index(r.rhs)] = psi[lvs.index(r.rhs), lvs.index(r.lhs)] \
                = r.est
        else:
            theta[items.index(r.lhs), items.index(r.rhs)] = r.est
    sigma = lam @ psi @ lam.T + theta
    x = data[items].to_numpy()
    hand = (x - x.mean(axis=0)) @ np.linalg.solve(sigma, lam @ psi)
    assert np.allclose(factor_scores(res, data).to_numpy(), hand, atol=1e-10)
    bart = (x - x.mean(axis=0)) @ np.linalg.solve(theta, lam) @ np.linalg.inv(
        lam.T @ np.linalg.solve(theta, lam))
    assert np.allclose(factor_scores(res, data, "Bartlett").to_numpy(), bart, atol=1e-10)


def test_bartlett_refused_for_observed_predictors_and_unknown_method() -> None:
    ref = REF["observed_predictors"]
    data = political_democracy.get_data()
    res = fit(ref["model"], data)
    assert factor_scores(res, data).shape == (75, 1)
    with pytest.raises(UsageError, match="regression"):
        factor_scores(res, data, method="bartlett")
    with pytest.raises(UsageError, match="method"):
        factor_scores(res, data, method="ebm")


# -- after a full-information ML fit ---------------------------------------------

FIML = json.loads((REFERENCE / "lavaan_fiml_diagnostics.json").read_text())


def fiml_data() -> pd.DataFrame:
    """The deletion rule of lavaan_fiml_diagnostics.R (rows numbered from 1 as in R)."""
    data = holzinger39.get_data().copy().reset_index(drop=True)
    data.loc[data["id"] % 7 == 0, "x1"] = np.nan
    data.loc[data["id"] % 11 == 0, "x5"] = np.nan
    data.loc[data["id"] % 13 == 0, "x9"] = np.nan
    data.loc[data["id"] % 17 == 0, "ageyr"] = np.nan
    data.loc[data["id"] % 29 == 0, ["x2", "x3", "x4"]] = np.nan
    return data


@pytest.mark.parametrize("case, model, group, method", [
    ("regression", "cfa3", None, "regression"), ("bartlett", "cfa3", None, "bartlett"),
    ("groups", "cfa3", "school", "regression"), ("covariates", "covariates", None, "regression")])
def test_fiml_scores_match_lavpredict(case: str, model: str, group: str | None,
                                      method: str) -> None:
    """Each respondent scored from the items he answered, as lavPredict() after
    missing = "ml"; a factor none of whose items he answered has no Bartlett score."""
    data = fiml_data()
    scores = factor_scores(fit(FIML["models"][model], data, missing="fiml", group=group),
                           data, method=method)
    want = pd.DataFrame(FIML["scores"][case]).set_index("row")[list(scores.columns)]
    got = scores.set_index(scores.index + 1)
    assert list(got.index) == list(want.index)  # the same respondents (fixed.x: 18 dropped)
    want = want.astype(float).to_numpy()
    assert np.array_equal(np.isnan(got.to_numpy()), np.isnan(want))
    assert np.nanmax(np.abs(got.to_numpy() - want)) < TOL
    if case == "bartlett":
        assert np.isnan(got.to_numpy()).sum() == 1  # the respondent without a visual item
    if case == "covariates":
        assert len(got) == len(data) - 18


def test_fiml_regression_scores_are_the_conditional_mean_given_the_answers() -> None:
    """An incomplete respondent's regression score is E[η | answered items] under the
    fitted model: the same as the complete-data formula on the answered items alone."""
    data = fiml_data()
    res = fit(FIML["models"]["cfa3"], data, missing="fiml")
    scores = factor_scores(res, data)
    ram, theta = res.rams[0], res.theta
    C = ram.implied(theta)["C"]
    mu = ram.implied_mean(theta)
    row = int(np.flatnonzero(data[["x2", "x3", "x4"]].isna().all(axis=1).to_numpy())[0])
    x = data.loc[row, ["x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9"]].to_numpy(float)
    o = np.flatnonzero(~np.isnan(x))
    expected = C[9:, o] @ np.linalg.solve(C[np.ix_(o, o)], x[o] - mu[o])
    assert np.allclose(scores.loc[row].to_numpy(), expected, atol=1e-10)
