"""Respondent weights in Q² by blindfolding and PLSpredict (satisfaction.pls_predict,
issue 17).

References:

(a) constant weights reproduce the unweighted Q² and PLSpredict (same folds, 1e-10);
(b) R (``reference/pls_predict_weights.R`` and its JSON): on a fixed training/test
    split of the bank survey with its raking weights, the LM benchmark's predictions
    are R's ``lm(weights = w)`` predictions (1e-8, both techniques), the naive
    benchmark R's ``weighted.mean`` of the training rows, and the weighted RMSE, MAE
    and Q²_predict of those predictions R's (1e-8);
(c) the PLS predictions of the same split = a second implementation here: the
    weighted :func:`satisfaction.pls.pls` fit of the training rows, the test rows
    standardized with ``numpy.average`` weighted moments, scores propagated through
    the paths (1e-8);
(d) weighted blindfolding = a loop of weighted :func:`satisfaction.pls.pls` fits of
    the mean-replaced data with weighted sums of the deleted points (1e-8).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from satisfaction.pls import pls
from satisfaction.pls_predict import (
    _predict_fold,
    blindfolding,
    plspredict,
    prediction_metrics,
)

from .conftest import SHARED

REF = Path(__file__).parent / "reference"
BANK = SHARED / "bank_satisfaction.csv"
MODEL = """
IMAG =~ imag1 + imag2 + imag3
SAT =~ sat1 + sat2 + sat3
LOY =~ loy1 + loy2 + loy3
VAL <~ val1 + val2 + val3
SAT ~ IMAG + VAL
LOY ~ SAT + IMAG
"""
ENDO = ["sat1", "sat2", "sat3", "loy1", "loy2", "loy3"]


@pytest.fixture(scope="module")
def bank() -> pd.DataFrame:
    return pd.read_csv(BANK)


@pytest.fixture(scope="module")
def raking(bank) -> np.ndarray:
    ref = json.loads((REF / "survey_weights.json").read_text())
    assert ref["rake"]["respondent"] == bank["respondent"].tolist()
    return np.asarray(ref["rake"]["weights"], dtype=float)


@pytest.fixture(scope="module")
def ref() -> dict:
    return json.loads((REF / "pls_predict_weights.json").read_text())


def test_constant_weights_reproduce_unweighted(bank) -> None:
    plain = pls(MODEL, bank)
    const = pls(MODEL, bank, weights=np.full(len(bank), 0.7))
    a, b = plspredict(const, bank, folds=5, repeats=2, seed=3), \
        plspredict(plain, bank, folds=5, repeats=2, seed=3)
    assert a.weighted and not b.weighted
    assert "predict_weighted" in {d.code for d in a.warnings}
    cols = ["q2_predict", "rmse", "mae", "lm_q2_predict", "lm_rmse", "lm_mae"]
    np.testing.assert_allclose(a.items[cols], b.items[cols], atol=1e-10)
    np.testing.assert_allclose(a.predictions, b.predictions, atol=1e-10)
    q_a, q_b = blindfolding(const, bank, 7), blindfolding(plain, bank, 7)
    assert q_a.weighted and "blindfolding_weighted" in {d.code for d in q_a.warnings}
    np.testing.assert_allclose(q_a.q2["q2"], q_b.q2["q2"], atol=1e-10)


def _split(ref: dict) -> tuple[np.ndarray, np.ndarray]:
    test = np.asarray(ref["test"], dtype=int)
    return np.setdiff1d(np.arange(250), test), test


@pytest.mark.parametrize("technique", ["EA", "DA"])
def test_lm_benchmark_and_metrics_match_r(bank, raking, ref, technique) -> None:
    fit = pls(MODEL, bank, weights=raking)
    x = bank[list(fit.model.indicators)].to_numpy(dtype=float)
    train, test = _split(ref)
    _, lm_hat, naive = _predict_fold(fit, x, train, test, technique, fit._w)
    y = bank[ENDO].to_numpy(dtype=float)[test]
    endo = [list(fit.model.indicators).index(i) for i in ENDO]
    assert [list(fit.model.indicators)[i] for i in endo] == ENDO  # the fold's column order
    for k, item in enumerate(ENDO):
        r = ref[technique][item]
        np.testing.assert_allclose(lm_hat[:, k], r["prediction"], atol=1e-8)
        np.testing.assert_allclose(naive[:, k], r["train_mean"], atol=1e-10)
        got = prediction_metrics(y[:, k], lm_hat[:, k], naive[:, k], raking[test])
        for key in ("rmse", "mae", "q2_predict"):
            assert got[key] == pytest.approx(r[key], abs=1e-8)
    # the weights matter here: the unweighted benchmark differs
    _, lm_plain, _ = _predict_fold(pls(MODEL, bank), x, train, test, technique)
    assert np.abs(lm_plain - lm_hat).max() > 1e-3


def test_pls_predictions_of_a_split_match_weighted_fit(bank, raking, ref) -> None:
    fit = pls(MODEL, bank, weights=raking)
    cols = list(fit.model.indicators)
    x = bank[cols].to_numpy(dtype=float)
    train, test = _split(ref)
    pls_hat, _, _ = _predict_fold(fit, x, train, test, "EA", fit._w)
    # second implementation: the public weighted fit of the training rows
    part = pls(MODEL, bank.iloc[train], weights=raking[train])
    xt, wt = x[train], raking[train]
    mean = np.average(xt, axis=0, weights=wt)
    sd = np.sqrt(np.average((xt - mean) ** 2, axis=0, weights=wt) * len(xt) / (len(xt) - 1))
    z = (x[test] - mean) / sd
    wtab = part.weights.set_index(["construct", "indicator"])["est"]
    score = {c: z[:, [cols.index(i) for i in part.model.blocks[c]]]
             @ wtab.loc[c].loc[list(part.model.blocks[c])].to_numpy() for c in ("IMAG", "VAL")}
    beta = part.paths.set_index(["from", "to"])["est"]
    score["SAT"] = beta[("IMAG", "SAT")] * score["IMAG"] + beta[("VAL", "SAT")] * score["VAL"]
    score["LOY"] = beta[("SAT", "LOY")] * score["SAT"] + beta[("IMAG", "LOY")] * score["IMAG"]
    lam = part.loadings.set_index("indicator")["est"]
    want = np.column_stack([mean[cols.index(i)] + sd[cols.index(i)] * lam[i]
                            * score[i[:3].upper()] for i in ENDO])
    np.testing.assert_allclose(pls_hat, want, atol=1e-8)


def test_weighted_blindfolding_matches_a_loop(bank, raking) -> None:
    fit = pls(MODEL, bank, weights=raking)
    got = blindfolding(fit, bank, 7)
    cols = list(fit.model.indicators)
    x_all = bank[cols].to_numpy(dtype=float)
    n, w = len(bank), raking
    for j in ("SAT", "LOY"):
        block = [cols.index(i) for i in fit.model.blocks[j]]
        preds = fit.model.predecessors(j)
        number = np.arange(n)[:, None] + n * np.arange(len(block))[None, :]
        sse = sso = 0.0
        for d in range(7):
            omit = number % 7 == d
            blind = x_all.copy()
            sub = blind[:, block]
            for k in range(len(block)):  # deleted answers: the weighted mean of the kept
                kept = ~omit[:, k]
                sub[omit[:, k], k] = np.average(sub[kept, k], weights=w[kept])
            blind[:, block] = sub
            frame = pd.DataFrame(blind, columns=cols)
            f = pls(MODEL, frame, weights=w)
            mean = np.average(blind, axis=0, weights=w)
            sd = np.sqrt(np.average((blind - mean) ** 2, axis=0, weights=w) * n / (n - 1))
            beta = f.paths.set_index(["from", "to"])["est"]
            y_hat = sum(beta[(p, j)] * f.scores[p].to_numpy() for p in preds)
            lam = f.loadings.set_index("indicator")["est"]
            for k, b in enumerate(block):
                x_hat = mean[b] + sd[b] * lam[cols[b]] * y_hat
                o = omit[:, k]
                sse += float(np.sum(w[o] * (x_all[o, b] - x_hat[o]) ** 2))
                sso += float(np.sum(w[o] * (x_all[o, b] - mean[b]) ** 2))
        assert got.q2.loc[j, "q2"] == pytest.approx(1 - sse / sso, abs=1e-8)
        assert got.q2.loc[j, "sse"] == pytest.approx(sse, rel=1e-8)
    plain = blindfolding(pls(MODEL, bank), bank, 7)
    assert np.abs(plain.q2["q2"] - got.q2["q2"]).max() > 1e-4


def test_cli_fit_pls_predict_with_weights(tmp_path, bank, raking, capsys) -> None:
    """`fit --estimator pls --weights COL --predict` runs (no longer refused): the JSON's
    numbers are those of the Python calls on the weighted fit."""
    from satisfaction.cli import main

    model = tmp_path / "m.lav"
    model.write_text(MODEL)
    csv = tmp_path / "w.csv"
    bank.assign(w=raking).to_csv(csv, index=False)
    out = tmp_path / "fit.json"
    assert main(["fit", str(model), str(csv), "--estimator", "pls", "--weights", "w",
                 "--predict", "--folds", "5", "--repeats", "2", "--seed", "8",
                 "--json", str(out)]) == 0
    got = json.loads(out.read_text())
    fit = pls(MODEL, bank, weights=raking)
    want = plspredict(fit, bank, folds=5, repeats=2, seed=8)
    assert got["predict_settings"]["weighted"] is True
    np.testing.assert_allclose([r["q2_predict"] for r in got["predict"]],
                               want.items["q2_predict"], atol=1e-12)
    q2 = blindfolding(fit, bank, 7)
    for c, v in got["q2"].items():
        assert v == pytest.approx(q2.q2.loc[c, "q2"], abs=1e-12)
    text = " ".join(capsys.readouterr().out.split())  # the console wraps long lines
    assert "weighted by the respondent weights" in text and "PLSpredict used" in text


def test_constant_weights_with_mean_replacement(bank) -> None:
    """With missing answers replaced by means, the weighted replacement (weighted means
    of the training rows, of the kept points) reduces to the plain one."""
    holes = bank.copy()
    rng = np.random.default_rng(1)
    for c in ("sat1", "loy2", "imag3"):
        holes.loc[rng.choice(len(holes), 10, replace=False), c] = np.nan
    plain = pls(MODEL, holes, missing="mean")
    const = pls(MODEL, holes, missing="mean", weights=np.full(len(holes), 4.0))
    a, b = plspredict(const, holes, folds=5, repeats=1, seed=2), \
        plspredict(plain, holes, folds=5, repeats=1, seed=2)
    cols = ["n", "q2_predict", "rmse", "mae", "lm_q2_predict", "lm_rmse", "lm_mae"]
    np.testing.assert_allclose(a.items[cols], b.items[cols], atol=1e-10)
    np.testing.assert_allclose(blindfolding(const, holes, 7).q2["q2"],
                               blindfolding(plain, holes, 7).q2["q2"], atol=1e-10)
    # with unequal weights an empty cell takes the weighted mean of the answered ones
    from satisfaction.pls_predict import _filled

    x = holes[["sat1", "loy2"]].to_numpy(dtype=float)
    w = np.random.default_rng(3).uniform(0.2, 3, len(x))
    filled = _filled(x, w)
    for k in range(2):
        seen = np.isfinite(x[:, k])
        np.testing.assert_allclose(filled[~seen, k], np.average(x[seen, k], weights=w[seen]),
                                   atol=1e-12)
        np.testing.assert_array_equal(filled[seen, k], x[seen, k])
