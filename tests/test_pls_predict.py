"""PLS prediction, BCa intervals, specific indirect effects and missing data.

References:

- Q² by blindfolding and PLSpredict: the deliberately naive second
  implementation ``reference/pls_predict_reference.py`` (loops over the naive
  PLS of ``pls_reference.py``), through its committed JSON, to 1e-6;
- the LM benchmark with one respondent per fold: the leave-one-out identity
  ``e₍ᵢ₎ = eᵢ / (1 − hᵢᵢ)`` of least squares, and the naive benchmark's
  ``y − ȳ₍ᵢ₎ = (y − ȳ) · n/(n − 1)``;
- BCa: ``scipy.stats.bootstrap(method="BCa")`` given our bootstrap draws
  (``bootstrap_result``, no new resamples), its acceleration from its own
  jackknife over refits by the public :func:`satisfaction.pls.pls`;
- specific indirect effects: products of the estimated paths, and their sum
  over the chains of a pair = the indirect effect (``(I − B)⁻¹ − I − B``);
- mean replacement: the fit of the data filled by hand.
"""

from __future__ import annotations

import json
from itertools import pairwise
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from satisfaction.errors import InputError
from satisfaction.pls import bootstrap_pls, pls, pls_model
from satisfaction.pls_mediation import indirect_chains, specific_indirect
from satisfaction.pls_predict import blindfolding, plspredict
from tests.reference.pls_reference import ecsi_syntax, mobi_1_10

from .conftest import SHARED

REF = Path(__file__).parent / "reference"
DATA = SHARED / "ecsi_mobile.csv"


@pytest.fixture(scope="module")
def mobi() -> pd.DataFrame:
    return mobi_1_10(DATA)


@pytest.fixture(scope="module")
def fit(mobi):
    return pls(ecsi_syntax(), mobi, tol=1e-10)


@pytest.fixture(scope="module")
def naive() -> dict:
    return json.loads((REF / "pls_predict_reference.json").read_text())["cases"]


# -- Q² by blindfolding ----------------------------------------------------------

@pytest.mark.parametrize("d", [7, 9])
def test_blindfolding_matches_naive(mobi, fit, naive, d) -> None:
    got = blindfolding(fit, mobi, d)
    ref = naive[f"blindfolding_d{d}"]
    assert sorted(got.q2.index) == sorted(ref)  # every endogenous construct, Complaints included
    for c, v in ref.items():
        assert got.q2.loc[c, "q2"] == pytest.approx(v, abs=1e-6)
    assert got.warnings == []


def test_blindfolding_checks_and_formative(mobi, fit) -> None:
    with pytest.raises(InputError, match="omission distance"):
        blindfolding(fit, mobi, 1)
    # 250 respondents, D = 5: each round deletes whole respondents
    assert [w.code for w in blindfolding(fit, mobi, 5).warnings] == ["omission_divides_n"]
    formative = pls(ecsi_syntax(formative=("Satisfaction",)), mobi)
    assert "Satisfaction" not in blindfolding(formative, mobi).q2.index


# -- PLSpredict ------------------------------------------------------------------

@pytest.mark.parametrize("technique", ["EA", "DA"])
def test_plspredict_matches_naive(mobi, fit, naive, technique) -> None:
    got = plspredict(fit, mobi, folds=5, repeats=2, seed=7, technique=technique)
    ref = naive[f"plspredict_{technique}_k5_r2_seed7"]
    items = got.items.set_index("indicator")
    assert sorted(items.index) == sorted(ref)
    for x, row in ref.items():
        for k, v in row.items():
            assert items.loc[x, k] == pytest.approx(v, abs=1e-6), (x, k)
    assert (items["n"] == len(mobi)).all()


def test_plspredict_reproducible_and_seeded(mobi, fit) -> None:
    a = plspredict(fit, mobi, folds=4, repeats=1, seed=11)
    b = plspredict(fit, mobi, folds=4, repeats=1, seed=11)
    c = plspredict(fit, mobi, folds=4, repeats=1, seed=12)
    pd.testing.assert_frame_equal(a.items, b.items)
    assert not np.allclose(a.items["rmse"], c.items["rmse"])


def test_lm_benchmark_leave_one_out_identity(mobi) -> None:
    """With K = n the LM predictions are the leave-one-out fits: residual e/(1 − h)."""
    d = mobi.iloc[:60]
    model = "Image =~ ima1 + ima2 + ima3\nSatisfaction =~ sat1 + sat2\nSatisfaction ~ Image\n"
    r = pls(model, d)
    got = plspredict(r, d, folds=len(d), repeats=1, seed=0).items.set_index("indicator")
    X = np.column_stack([np.ones(len(d)), d[["ima1", "ima2", "ima3"]].to_numpy()])
    h = np.diag(X @ np.linalg.pinv(X.T @ X) @ X.T)
    n = len(d)
    for item in ("sat1", "sat2"):
        y = d[item].to_numpy()
        e = y - X @ np.linalg.lstsq(X, y, rcond=None)[0]
        loo = e / (1 - h)
        assert got.loc[item, "lm_rmse"] == pytest.approx(np.sqrt(np.mean(loo**2)), abs=1e-9)
        assert got.loc[item, "lm_mae"] == pytest.approx(np.mean(np.abs(loo)), abs=1e-9)
        sso = np.sum(((y - y.mean()) * n / (n - 1)) ** 2)  # y − mean of the others
        assert got.loc[item, "lm_q2_predict"] == pytest.approx(1 - np.sum(loo**2) / sso,
                                                               abs=1e-9)


def test_plspredict_checks(mobi, fit) -> None:
    with pytest.raises(InputError, match="folds"):
        plspredict(fit, mobi, folds=1)
    with pytest.raises(InputError, match="repetitions"):
        plspredict(fit, mobi, repeats=0)
    with pytest.raises(InputError, match="EA"):
        plspredict(fit, mobi, technique="XX")


def test_plsc_is_predicted_as_composites(mobi, fit) -> None:
    plsc = pls(ecsi_syntax(), mobi, tol=1e-10, consistent=True)
    got = plspredict(plsc, mobi, folds=5, repeats=1, seed=3)
    ref = plspredict(fit, mobi, folds=5, repeats=1, seed=3)
    pd.testing.assert_frame_equal(got.items, ref.items)
    assert [w.code for w in got.warnings] == ["predict_composite"]


def test_higher_order_refused(tmp_path, mobi, capsys) -> None:
    """No published PLSpredict or blindfolding for higher-order constructs: refused,
    on the command line with exit 2 and the reason."""
    from satisfaction.cli import main

    syntax = ecsi_syntax().replace("Value ~ Expectation + Quality\n", "") \
        .replace("Satisfaction ~ Image + Expectation + Quality + Value",
                 "Satisfaction ~ Image + Expectation + Perception")
    syntax += "Perception =~ Quality + Value\nPerception ~ Expectation\n"
    syntax = syntax.replace("Quality ~ Expectation\n", "")
    hoc = pls(syntax, mobi)
    for run in (lambda: blindfolding(hoc, mobi), lambda: plspredict(hoc, mobi)):
        with pytest.raises(InputError, match="higher-order"):
            run()
    model, data = tmp_path / "hoc.lav", tmp_path / "mobi.csv"
    model.write_text(syntax)
    mobi.to_csv(data, index=False)
    assert main(["fit", str(model), str(data), "--estimator", "pls", "--predict"]) == 2
    assert "PLS path model" not in capsys.readouterr().out  # refused before any output


# -- BCa --------------------------------------------------------------------------

def test_bca_matches_scipy_given_the_same_draws(mobi) -> None:
    d = mobi.iloc[:70].reset_index(drop=True)
    model = pls_model("Image =~ ima1 + ima2 + ima3 + ima4\nExpectation =~ exp1 + exp2 + exp3\n"
                      "Satisfaction =~ sat1 + sat2 + sat3\nExpectation ~ Image\n"
                      "Satisfaction ~ Image + Expectation\n")
    r = bootstrap_pls(pls(model, d, tol=1e-10), 400, seed=5, ci="bca")
    b = r.bootstrap
    keys = list(zip(b["kind"], b["from"], b["to"], strict=True))
    wanted = [("path", "Image", "Satisfaction"), ("path", "Expectation", "Satisfaction"),
              ("weight", "Image", "ima2"), ("loading", "Expectation", "exp3"),
              ("indirect", "Image", "Satisfaction"), ("total", "Image", "Satisfaction")]
    cols = [keys.index(k) for k in wanted]

    def statistic(rows: np.ndarray) -> np.ndarray:
        f = pls(model, d.iloc[rows], tol=1e-10)
        p = f.paths.set_index(["from", "to"])["est"]
        e = f.effects.set_index(["from", "to"])
        return np.array([p[("Image", "Satisfaction")], p[("Expectation", "Satisfaction")],
                         f.weights.set_index("indicator").loc["ima2", "est"],
                         f.loadings.set_index("indicator").loc["exp3", "est"],
                         e.loc[("Image", "Satisfaction"), "indirect"],
                         e.loc[("Image", "Satisfaction"), "total"]])

    assert np.allclose(statistic(np.arange(len(d))), b["est"].to_numpy()[cols], atol=1e-9)
    given = stats._resampling.BootstrapResult(
        confidence_interval=None, bootstrap_distribution=r.bootstrap_draws[:, cols].T,
        standard_error=None)
    ref = stats.bootstrap((np.arange(len(d)),), statistic, vectorized=False, n_resamples=0,
                          bootstrap_result=given, method="BCa", confidence_level=0.95)
    assert np.allclose(b["bca.lower"].to_numpy()[cols], ref.confidence_interval.low, atol=1e-6)
    assert np.allclose(b["bca.upper"].to_numpy()[cols], ref.confidence_interval.high,
                       atol=1e-6)
    assert np.allclose(b["ci.lower"], b["bca.lower"], equal_nan=True)
    assert r.bootstrap_info["method"] == "bca"
    # the percentile interval beside it is unchanged, and differs from BCa
    assert np.allclose(b["perc.lower"], np.quantile(r.bootstrap_draws, 0.025, axis=0))
    assert not np.allclose(b["perc.lower"].to_numpy()[cols], b["bca.lower"].to_numpy()[cols])
    # the jackknife rows are leave-one-out refits
    for i in (0, 41):
        kept = np.delete(np.arange(len(d)), i)
        assert np.allclose(r.bootstrap_jackknife[i, cols], statistic(kept), atol=1e-6)


def test_bca_formula_matches_scipy_on_a_skewed_mean() -> None:
    """satisfaction.bca on its own: the mean of a skewed sample, scipy's draws and BCa."""
    from satisfaction.bca import acceleration, bca_interval

    x = np.random.default_rng(8).lognormal(size=40)
    ref = stats.bootstrap((x,), np.mean, n_resamples=3000, method="BCa",
                          random_state=np.random.default_rng(9))
    draws = ref.bootstrap_distribution[:, None]
    jack = np.array([[np.delete(x, i).mean()] for i in range(len(x))])
    lower, upper, z0, a = bca_interval(draws, np.array([x.mean()]), jack)
    assert lower[0] == pytest.approx(ref.confidence_interval.low, abs=1e-9)
    assert upper[0] == pytest.approx(ref.confidence_interval.high, abs=1e-9)
    assert z0[0] == pytest.approx(stats.norm.ppf(np.mean(draws[:, 0] < x.mean())), abs=1e-12)
    # the acceleration of the mean is the sample skewness / (6 sqrt(n)) (Efron &
    # Tibshirani 1993, eq. 14.15 with the jackknife of the mean)
    d = x - x.mean()
    assert a[0] == pytest.approx((d**3).sum() / (6 * ((d**2).sum()) ** 1.5), abs=1e-12)
    assert acceleration(np.ones((5, 1)))[0] == 0.0
    # a constant statistic: its estimate at both ends; every draw below: undefined
    lo, up, _, _ = bca_interval(np.ones((10, 1)), np.array([1.0]), np.ones((5, 1)))
    assert (lo[0], up[0]) == (1.0, 1.0)
    lo, up, _, _ = bca_interval(np.arange(10.0)[:, None], np.array([20.0]),
                                np.arange(5.0)[:, None])
    assert np.isnan(lo[0]) and np.isnan(up[0])


def test_bca_of_consistent_pls_uses_consistent_refits(mobi) -> None:
    """PLSc: every jackknife row is the consistent fit without that respondent."""
    d = mobi.iloc[:80].reset_index(drop=True)
    model = pls_model("Image =~ ima1 + ima2 + ima3\nSatisfaction =~ sat1 + sat2 + sat3\n"
                      "Loyalty =~ loy1 + loy2 + loy3\nSatisfaction ~ Image\n"
                      "Loyalty ~ Satisfaction + Image\n")
    r = bootstrap_pls(pls(model, d, consistent=True, tol=1e-10), 100, seed=1, ci="bca")
    b = r.bootstrap
    for i in (3, 50):
        ref = pls(model, d.drop(index=i), consistent=True, tol=1e-10)
        paths = ref.paths.set_index(["from", "to"])["est"]
        for k, (kind, a, c) in enumerate(zip(b["kind"], b["from"], b["to"], strict=True)):
            if kind == "path":
                assert r.bootstrap_jackknife[i, k] == pytest.approx(paths[(a, c)], abs=1e-6)
            elif kind == "loading":
                lam = ref.loadings.set_index("indicator").loc[c, "est"]
                assert r.bootstrap_jackknife[i, k] == pytest.approx(lam, abs=1e-6)
    assert np.isfinite(b["bca.lower"]).all() and (b["bca.lower"] <= b["bca.upper"]).all()


def test_bca_option_checked(fit) -> None:
    with pytest.raises(InputError, match="perc or bca"):
        bootstrap_pls(fit, 10, ci="bca.simple")


# -- specific indirect effects ----------------------------------------------------

def test_specific_indirect_effects(mobi) -> None:
    r = pls(ecsi_syntax(), mobi)
    chains = indirect_chains(r.model)
    assert ("Image", "Expectation", "Quality", "Value", "Satisfaction", "Complaints",
            "Loyalty") in chains
    assert all(len(c) >= 3 for c in chains) and len(set(chains)) == len(chains)
    got = specific_indirect(r)
    paths = r.paths.set_index(["from", "to"])["est"]
    row = got[got["path"] == "Quality → Satisfaction → Loyalty"].iloc[0]
    assert row["est"] == pytest.approx(paths[("Quality", "Satisfaction")]
                                       * paths[("Satisfaction", "Loyalty")], abs=1e-12)
    assert row["via"] == "Satisfaction"
    summed = got.groupby(["from", "to"])["est"].sum()
    effects = r.effects.set_index(["from", "to"])["indirect"]
    assert np.allclose(summed, effects.reindex(summed.index), atol=1e-12)
    assert set(effects[effects.abs() > 0].index) == set(summed.index)


def test_specific_indirect_intervals_from_path_draws(mobi) -> None:
    r = bootstrap_pls(pls(ecsi_syntax(), mobi), 200, seed=2)
    got = specific_indirect(r).set_index("path")
    b = r.bootstrap
    col = {(f, t): k for k, (kind, f, t) in enumerate(zip(b["kind"], b["from"], b["to"],
                                                            strict=True)) if kind == "path"}
    draws = (r.bootstrap_draws[:, col[("Value", "Satisfaction")]]
             * r.bootstrap_draws[:, col[("Satisfaction", "Complaints")]])
    row = got.loc["Value → Satisfaction → Complaints"]
    assert row["se"] == pytest.approx(draws.std(ddof=1), abs=1e-12)
    assert row["ci.lower"] == pytest.approx(np.quantile(draws, 0.025), abs=1e-12)
    assert row["ci.upper"] == pytest.approx(np.quantile(draws, 0.975), abs=1e-12)
    # a chain of one mediator between the same constructs sums with the others to the
    # bootstrapped indirect effect in every draw
    total = sum(np.prod([r.bootstrap_draws[:, col[(a, c)]] for a, c in pairwise(ch)], axis=0)
                for ch in indirect_chains(r.model) if ch[0] == "Image" and ch[-1] == "Loyalty")
    k = next(i for i, key in enumerate(zip(b["kind"], b["from"], b["to"], strict=True))
             if key == ("indirect", "Image", "Loyalty"))
    assert np.allclose(total, r.bootstrap_draws[:, k], atol=1e-12)


# -- missing data -------------------------------------------------------------------

def test_mean_replacement_and_listwise(mobi) -> None:
    d = mobi.copy()
    d.loc[[3, 10, 11], "ima2"] = np.nan
    d.loc[10, "sat3"] = np.nan
    d["loy1"] = d["loy1"].astype(object)
    d.loc[20, "loy1"] = "n/a"  # not a number: missing
    got = pls(ecsi_syntax(), d, missing="mean")
    items = [c for c in d.columns if c != "respondent"]
    filled = d[items].apply(pd.to_numeric, errors="coerce")
    filled = filled.fillna(filled.mean())
    ref = pls(ecsi_syntax(), filled)
    assert got.n == len(d)
    assert np.allclose(got.paths["est"], ref.paths["est"], atol=1e-12)
    assert [(w.code, w.params) for w in got.warnings] == [
        ("mean_replaced", {"cells": 5, "respondents": 4})]
    lw = pls(ecsi_syntax(), d, missing="listwise")
    assert lw.n == len(d) - 4
    assert [(w.code, w.params) for w in lw.warnings] == [("listwise", {"n": 4})]
    with pytest.raises(InputError, match="listwise, mean"):
        pls(ecsi_syntax(), d, missing="pairwise")
    d["ima1"] = np.nan
    with pytest.raises(InputError, match="ima1"):
        pls(ecsi_syntax(), d, missing="mean")


def test_missing_answers_match_naive(mobi, naive) -> None:
    """Mean replacement in blindfolding (round means over the kept cells) and in
    PLSpredict (training means, also for the held-out empty cells)."""
    from tests.reference.pls_predict_reference import SMALL_BLOCKS, SMALL_PATHS, with_holes

    holes = with_holes(mobi)
    syntax = "\n".join([f"{c} =~ {' + '.join(i)}" for c, i in SMALL_BLOCKS.items()]
                       + [f"{b} ~ {a}" for a, b in SMALL_PATHS])
    r = pls(syntax, holes, missing="mean", tol=1e-10)
    assert r.n == len(holes)
    q2 = blindfolding(r, holes).q2["q2"]
    for c, v in naive["small_missing_blindfolding_d7"].items():
        assert q2[c] == pytest.approx(v, abs=1e-6), c
    items = plspredict(r, holes, folds=4, repeats=2, seed=3).items.set_index("indicator")
    for x, row in naive["small_missing_plspredict_EA_k4_r2_seed3"].items():
        for k, v in row.items():
            assert items.loc[x, k] == pytest.approx(v, abs=1e-6), (x, k)
    assert items.loc["sat2", "n"] < len(holes)


def test_predict_with_mean_replacement(mobi) -> None:
    """A training set takes its own means; empty held-out cells the training mean."""
    d = mobi.iloc[:120].copy().reset_index(drop=True)
    d.loc[[1, 5, 9], "sat1"] = np.nan
    r = pls(ecsi_syntax(), d, missing="mean")
    got = plspredict(r, d, folds=3, repeats=1, seed=1).items.set_index("indicator")
    assert got.loc["sat1", "n"] == len(d) - 3 and got.loc["sat2", "n"] == len(d)
    assert np.isfinite(got[["q2_predict", "rmse", "lm_rmse"]].to_numpy()).all()


# -- the command line -------------------------------------------------------------

def test_cli_fit_pls_predict_bca_missing(tmp_path, mobi, capsys) -> None:
    from satisfaction.cli import main

    model = tmp_path / "ecsi.lav"
    model.write_text(ecsi_syntax())
    d = mobi.copy()
    d.loc[[2, 7], "val1"] = np.nan
    data = tmp_path / "mobi.csv"
    d.to_csv(data, index=False)
    out = tmp_path / "pls.json"
    code = main(["fit", str(model), str(data), "--estimator", "pls", "--bootstrap", "60",
                 "--ci", "bca", "--missing", "mean", "--predict", "--folds", "3",
                 "--repeats", "2", "--omission", "9", "--seed", "4", "--json", str(out)])
    assert code == 0
    got = json.loads(out.read_text())
    r = pls(ecsi_syntax(), d, missing="mean")
    q2 = blindfolding(r, d, 9)
    pred = plspredict(r, d, folds=3, repeats=2, seed=4).items.set_index("indicator")
    assert got["q2"] == pytest.approx(q2.q2["q2"].to_dict(), abs=1e-9)
    assert got["q2_omission"] == 9
    row = next(p for p in got["predict"] if p["indicator"] == "loy3")
    for k in ("q2_predict", "rmse", "mae", "lm_rmse", "lm_mae"):
        assert row[k] == pytest.approx(pred.loc["loy3", k], abs=1e-9)
    assert got["bootstrap"]["method"] == "bca"
    spec = next(s for s in got["specific_indirect"]
                if s["path"] == "Expectation → Quality → Satisfaction")
    assert spec["ci.lower"] == spec["bca.lower"] and spec["ci.lower"] < spec["est"]
    assert any(w["code"] == "mean_replaced" for w in got["warnings"])
    # options are refused before the data are read, each naming itself
    for args, option in ((["--ci", "bca.simple"], "--ci"), (["--missing", "fiml"], "--missing"),
                         (["--predict", "--folds", "1"], "--folds"),
                         (["--predict", "--repeats", "0"], "--repeats"),
                         (["--predict", "--omission", "1"], "--omission"),
                         (["--folds", "5"], "--folds"), (["--omission", "7"], "--omission")):
        assert main(["fit", str(model), str(tmp_path / "absent.csv"), "--estimator", "pls",
                     *args]) == 2, option
        assert option in capsys.readouterr().err
    assert main(["fit", str(model), str(data), "--predict"]) == 2  # not with ML
    assert "--estimator pls|plsc" in capsys.readouterr().err
