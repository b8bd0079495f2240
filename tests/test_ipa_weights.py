"""The weighted importance-performance analysis (issue 17: a weighted PLS fit's IPA).

References:

(a) ``reference/ipa_weights_survey.R`` (+ JSON): on the bank construct scores with the
    raking weights of ``reference/survey_weights.json``, the weighted Shapley values of
    R² from every subset's ``lm(weights = w)``, Johnson's relative weights and the
    standardized coefficients from ``cov.wt``'s correlations, and the paired performance
    differences' ``svymean``, SE and ``confint`` (R's survey package);
(b) frequency weights: integer weights give the estimates of the data with every
    respondent repeated ``w`` times; constant weights give the unweighted analysis,
    bootstrap intervals included;
(c) the bootstrap carries the weights: a draw equals the weighted analysis of the
    resampled respondents (each drawn ``c`` times counting ``c · w``);
(d) the analysis's PLS stage: a weighted fit's IPA is the weighted one, and with integer
    weights equals the IPA of the fit on the repeated rows.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from satisfaction.drivers import indices, ipa
from satisfaction.errors import InputError
from satisfaction.importance import _counts, _resampled_corr, driver_importance
from satisfaction.questionnaire import load_questionnaire

from .conftest import SHARED

REF_DIR = Path(__file__).parent / "reference"
REF = json.loads((REF_DIR / "ipa_weights_survey.json").read_text(encoding="utf-8"))
XS = REF["drivers"]
Y = REF["outcome"]
COLUMNS = ["r", "beta", "relative_weight", "relative_weight.share", "shapley",
           "shapley.share"]


@pytest.fixture(scope="module")
def bank() -> tuple[pd.DataFrame, pd.Series]:
    """The reference's scores (Value blanked in rows 5, 17, 42) and raking weights."""
    scores = pd.read_csv(REF_DIR / "importance_bank_scores.csv", index_col="respondent")
    survey = json.loads((REF_DIR / "survey_weights.json").read_text(encoding="utf-8"))
    assert list(scores.index) == survey["rake"]["respondent"]
    w = pd.Series(survey["rake"]["weights"], index=scores.index)
    scores.loc[scores.index[[4, 16, 41]], "Value"] = np.nan
    return scores, w


def test_weighted_importance_matches_r(bank) -> None:
    scores, w = bank
    res = driver_importance(scores[Y], scores[XS], bootstrap=0, weights=w)
    assert res.n == REF["n"] == 247 and res.dropped == 3
    assert res.r2 == pytest.approx(REF["r2"], abs=1e-10)
    t = res.table.set_index("driver").loc[XS]
    for col, key in (("shapley", "lmg"), ("shapley.share", "shapley_share"),
                     ("relative_weight", "relative_weight"),
                     ("relative_weight.share", "relative_weight_share"), ("r", "r"),
                     ("beta", "beta")):
        np.testing.assert_allclose(t[col].to_numpy(), REF[key], atol=1e-10, rtol=0)
    plain = driver_importance(scores[Y], scores[XS], bootstrap=0).table
    assert np.abs(plain["shapley.share"].to_numpy() - t["shapley.share"].to_numpy()).max() \
        > 1e-3  # the raking weights change the shares


def test_weighted_ipa_matches_r(bank) -> None:
    """drivers.ipa(weights=) on the bank questionnaire without structural effects: every
    driver's importance is its weighted Shapley share, its paired performance interval
    the svymean interval of its difference from the drivers' mean."""
    scores, w = bank
    q = load_questionnaire("ecsi_bank")
    data = pd.read_csv(SHARED / "bank_satisfaction.csv", index_col="respondent")
    idx = indices(q, data)
    np.testing.assert_allclose(idx.scores[[*XS, Y]].to_numpy(),
                               pd.read_csv(REF_DIR / "importance_bank_scores.csv",
                                           index_col="respondent")[[*XS, Y]].to_numpy(),
                               atol=1e-8)
    res = ipa(q, idx, None, target=Y, scores=scores, bootstrap=0, weights=w)
    t = res.constructs.set_index("construct").loc[XS]
    assert (t["importance.method"] == "shapley").all()
    np.testing.assert_allclose(t["importance"].to_numpy(), REF["shapley_share"], atol=1e-10)
    np.testing.assert_allclose(t["performance.diff"].to_numpy(), REF["diff_mean"], atol=1e-10)
    np.testing.assert_allclose(t["performance.diff.ci.lower"].to_numpy(), REF["diff_lower"],
                               atol=1e-10)
    np.testing.assert_allclose(t["performance.diff.ci.upper"].to_numpy(), REF["diff_upper"],
                               atol=1e-10)
    plain = ipa(q, idx, None, target=Y, scores=scores, bootstrap=0).constructs
    assert np.abs(plain.set_index("construct").loc[XS, "performance.diff"].to_numpy()
                  - REF["diff_mean"]).max() > 0.05


def test_integer_weights_equal_repeated_rows(bank) -> None:
    scores, _ = bank
    freq = pd.Series(np.random.default_rng(3).integers(1, 5, size=len(scores)),
                     index=scores.index)
    weighted = driver_importance(scores[Y], scores[XS], bootstrap=0, weights=freq)
    rep = scores.loc[scores.index.repeat(freq.to_numpy())]
    plain = driver_importance(rep[Y].reset_index(drop=True),
                              rep[XS].reset_index(drop=True), bootstrap=0)
    np.testing.assert_allclose(weighted.table[COLUMNS].to_numpy(),
                               plain.table[COLUMNS].to_numpy(), atol=1e-10, rtol=0)
    assert weighted.r2 == pytest.approx(plain.r2, abs=1e-12)


def test_constant_weights_reproduce_unweighted(bank) -> None:
    scores, _ = bank
    plain = driver_importance(scores[Y], scores[XS], bootstrap=300, seed=5)
    const = driver_importance(scores[Y], scores[XS], bootstrap=300, seed=5,
                              weights=pd.Series(2.5, index=scores.index))
    cols = [c for c in plain.table.columns if c != "driver"]
    np.testing.assert_allclose(const.table[cols].to_numpy(dtype=float),
                               plain.table[cols].to_numpy(dtype=float), atol=1e-10, rtol=0)
    assert not plain.table["shapley.share.ci.lower"].isna().any()


def test_bootstrap_draw_is_weighted_fit_of_resample(bank) -> None:
    """A draw's statistics equal the weighted analysis of the drawn respondents: the
    correlations of a resample weighted by c·w are those of the rows repeated c·w
    times, and the first draws of driver_importance(weights=) are the statistics of
    the resamples its generator drew."""
    scores, _ = bank
    block = scores[[*XS, Y]].dropna()
    n = len(block)
    freq = np.random.default_rng(8).integers(1, 4, size=n).astype(float)
    z = block.to_numpy(dtype=float)
    z = (z - z.mean(axis=0)) / z.std(axis=0)
    counts = _counts(np.random.default_rng(11), 3, n)
    corr, _ = _resampled_corr(z, counts, freq)
    for b in range(3):
        direct = np.corrcoef(np.repeat(z, (counts[b] * freq).astype(int), axis=0),
                             rowvar=False)
        np.testing.assert_allclose(corr[b], direct, atol=1e-12)
    w = pd.Series(freq, index=block.index)
    res = driver_importance(block[Y], block[XS], bootstrap=4, seed=21, weights=w)
    drawn = _counts(np.random.default_rng(21), 4, n)
    for b in range(4):
        rep = block.loc[block.index.repeat((drawn[b] * freq).astype(int))]
        one = driver_importance(rep[Y].reset_index(drop=True),
                                rep[XS].reset_index(drop=True), bootstrap=0)
        np.testing.assert_allclose(res.draws["shapley.share"][b],
                                   one.table["shapley.share"].to_numpy(), atol=1e-10)


def test_bad_weights_are_refused(bank) -> None:
    scores, w = bank
    bad = w.copy()
    bad.iloc[7] = -1.0
    with pytest.raises(InputError, match="negative") as err:
        driver_importance(scores[Y], scores[XS], bootstrap=0, weights=bad)
    assert err.value.column == "weights" and err.value.value == -1.0
    with pytest.raises(InputError, match="different numbers of rows"):
        driver_importance(scores[Y], scores[XS], bootstrap=0, weights=np.ones(3))
    holes = w.copy()
    holes.iloc[:10] = np.nan  # without a weight: left out and counted
    res = driver_importance(scores[Y], scores[XS], bootstrap=0, weights=holes)
    assert res.dropped == 3 + 10 - int(scores.iloc[:10][XS].isna().any(axis=1).sum())


def test_pipeline_pls_ipa_is_weighted() -> None:
    """The analysis's PLS stage with integer weights: its IPA (Shapley shares, paired
    performance intervals, quadrants) equals the IPA of the unweighted fit of the data
    with every respondent repeated w times, except the performance intervals' SEs
    (design-based there, the repeated rows' own t-interval here): the differences'
    means are equal and their SEs are svymean's."""
    from satisfaction.pls_pipeline import fit_pls_stage, pls_indices, pls_ipa
    from satisfaction.responses import load_responses
    from satisfaction.weights import weighted_mean
    from tests.test_sem_weights import _bank_frame, _bank_questionnaire

    q = _bank_questionnaire()
    data = load_responses(q, _bank_frame()).data
    freq = pd.Series(np.random.default_rng(4).integers(1, 4, size=len(data)),
                     index=data.index)
    sat = "Satisfaction"
    stage = fit_pls_stage(q, data, sat, bootstrap=0, seed=1, weights=freq)
    idx = pls_indices(q, stage, data)
    res = pls_ipa(q, stage, idx, bootstrap=0, seed=1)
    rep = data.loc[data.index.repeat(freq.to_numpy())].reset_index(drop=True)
    stage_rep = fit_pls_stage(q, rep, sat, bootstrap=0, seed=1)
    res_rep = pls_ipa(q, stage_rep, pls_indices(q, stage_rep, rep), bootstrap=0, seed=1)
    a = res.constructs.set_index("construct")
    b = res_rep.constructs.set_index("construct").loc[a.index]
    for col in ("importance", "shapley.share", "relative_weight.share", "performance",
                "performance.diff"):
        np.testing.assert_allclose(a[col].to_numpy(dtype=float),
                                   b[col].to_numpy(dtype=float), atol=1e-8, rtol=0)
    dims = list(a.index)
    block = idx.scores[dims].dropna()
    diff = block.sub(block.mean(axis=1), axis=0)
    for c in dims:
        m = weighted_mean(diff[c].to_numpy(), freq.reindex(diff.index).to_numpy())
        assert a.loc[c, "performance.diff.ci.upper"] == pytest.approx(m["ci.upper"],
                                                                       abs=1e-10)
    plain = pls_ipa(q, fit_pls_stage(q, data, sat, bootstrap=0, seed=1),
                    pls_indices(q, fit_pls_stage(q, data, sat, bootstrap=0, seed=1), data),
                    bootstrap=0, seed=1).constructs.set_index("construct").loc[dims]
    assert np.abs(plain["performance.diff"].to_numpy(dtype=float)
                  - a["performance.diff"].to_numpy(dtype=float)).max() > 1e-3
