"""The CLV models' validity gates: each is fed a case that must trip it.

* Gamma-Gamma with q ≤ 1 (spend that varies across customers over orders of
  magnitude): ``gamma_gamma_q_le_1`` (invalidates) although the optimizer converged;
  expected spend and CLV are NaN for the customers whose conditional mean does not
  exist, never negative, and counted (``clv_spend_undefined``).
* BG/NBD and Pareto/NBD on identical, perfectly regular customers: the likelihood
  is maximised at the edge of the parameter space (``clv_boundary``).
* Pareto/NBD on eight customers, one of whom came back once: the likelihood rises
  along a ridge towards the homogeneous model (gamma shapes without bound),
  ``clv_boundary``; ``clv_not_converged`` keeps its wording.
* No NumPy RuntimeWarning leaks from the Pareto/NBD on such data.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import optimize

from satisfaction.diagnostics import Diagnostic
from satisfaction.value import clv
from satisfaction.value.pipeline import value_analysis
from satisfaction.value.transactions import load_transactions


def _heavy_spend(n: int = 400, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Repeat purchases 1..7 and mean spends log-normal with sd 2.5 on the log scale."""
    rng = np.random.default_rng(seed)
    return rng.integers(1, 8, n).astype(float), np.exp(rng.normal(3.0, 2.5, n))


def _codes(fit) -> dict[str, Diagnostic]:
    return {d.code: d for d in fit.warnings}


def test_gamma_gamma_q_le_1_is_invalid_although_converged():
    x, z = _heavy_spend()
    fit = clv.fit_gamma_gamma(x, z)
    assert fit.converged and fit.q < 1.0
    d = _codes(fit)["gamma_gamma_q_le_1"]
    assert d.severity == "invalidates" and d.params["q"] == fit.q
    assert fit.status == "invalid"
    assert "q = " in str(d) and "not above 1" in str(d)
    # q < 1 is the maximum of the likelihood, not an optimizer artefact: the best fit
    # with q held at 1 is worse
    def neg(theta: np.ndarray) -> float:
        return -clv.gamma_gamma_loglik(np.array([np.exp(theta[0]), 1.0, np.exp(theta[1])]),
                                       x, z)

    best_q1 = optimize.minimize(neg, np.log([fit.p, fit.v]), method="Nelder-Mead",
                                options={"xatol": 1e-10, "fatol": 1e-10, "maxiter": 4000})
    assert -best_q1.fun < fit.loglik - 1.0
    # no negative or infinite spend: NaN where p x + q − 1 ≤ 0 (one-time buyers)
    spend = fit.expected_spend(np.array([0.0, 1.0, 6.0]), np.array([0.0, 20.0, 20.0]))
    assert np.isnan(spend[0]) and np.isnan(fit.population_mean)
    assert spend[2] == pytest.approx(fit.p * (fit.v + 6 * 20.0) / (6 * fit.p + fit.q - 1))
    assert np.isnan(spend[1]) == (fit.p + fit.q - 1.0 <= 0)
    out = json.loads(json.dumps(fit.to_dict(), allow_nan=False))
    assert out["status"] == "invalid"
    assert out["warnings"][0]["code"] == "gamma_gamma_q_le_1"


def test_gamma_gamma_on_cdnow_like_data_passes_its_gates():
    rng = np.random.default_rng(2)
    nu = rng.gamma(4.0, 1.0 / 15.0, 600)  # q = 4: spend means p/ν of a few tens
    x = rng.integers(1, 6, 600).astype(float)
    z = rng.gamma(6.0 * x, 1.0 / (nu * x))
    fit = clv.fit_gamma_gamma(x, z)
    assert fit.q > 1 and fit.warnings == [] and fit.status == "ok"
    assert (fit.expected_spend(np.r_[0.0, x], np.r_[0.0, z]) > 0).all()


def _pipeline_case() -> pd.DataFrame:
    """Transactions whose repeat buyers' mean spends give q < 1, plus one-time buyers."""
    x, z = _heavy_spend(300, seed=3)
    rows = []
    start = dt.date(2024, 1, 1)
    for i, (k, spend) in enumerate(zip(x.astype(int), z, strict=True)):
        for j in range(k + 1):
            rows.append((f"R{i}", start + dt.timedelta(days=3 * i % 200 + 20 * j), spend))
    for i in range(80):
        rows.append((f"O{i}", start + dt.timedelta(days=5 * i % 300), 25.0))
    return pd.DataFrame(rows, columns=["customer_id", "date", "amount"])


def _heavy_spend_cdnow() -> pd.DataFrame:
    """The CDNOW sample's purchases (BG/NBD fits them well) with each customer's spend
    level drawn from a heavy tail: Gamma-Gamma's q comes out below 1."""
    frame = pd.read_csv(Path(__file__).parent / "data" / "cdnow_sample.csv")
    rng = np.random.default_rng(0)
    ids = frame["customer_id"].unique()
    level = dict(zip(ids, np.exp(np.clip(rng.standard_cauchy(len(ids)), -4.0, 20.0)),
                     strict=True))
    frame["amount"] = frame["customer_id"].map(level) * rng.uniform(0.5, 1.5, len(frame))
    return frame


def test_cli_shows_no_loglik_or_clv_from_an_invalid_fit(tmp_path, capsys):
    """The command's model table prints no log-likelihood for a fit that failed its
    gates (a degenerate fit's runs to 1e15 and beyond; --json keeps it beside the
    status), and the CLV line says why it is empty."""
    from satisfaction.cli import main

    path = tmp_path / "heavy.csv"
    _heavy_spend_cdnow().to_csv(path, index=False)
    assert main(["clv", str(path), "--today", "1998-07-01", "--models",
                 "bgnbd,gamma_gamma", "--json", str(tmp_path / "r.json")]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if "Gamma-Gamma" in line and "q =" in line)
    assert "—" in row and "invalid" in row
    bg = next(line for line in out.splitlines() if "BG/NBD" in line and "r =" in line)
    assert re.search(r"│ +-\d+\.\d │ ok ", bg)  # a valid fit's log-likelihood is shown
    assert "CLV over 52 weeks: left empty: a model it is built on failed its checks" in out
    result = json.loads((tmp_path / "r.json").read_text())
    assert result["models"]["gamma_gamma"]["status"] == "invalid"
    assert np.isfinite(result["models"]["gamma_gamma"]["loglik"])


def test_pipeline_leaves_clv_of_an_invalid_spend_model_empty():
    """q < 1: the spend model fails its gates, so no customer gets an expected spend or
    a CLV from it (numbers from a degenerate fit would read as results); P(alive) and
    expected purchases come from the valid BG/NBD."""
    tx = load_transactions(_heavy_spend_cdnow(), today="1998-07-01")
    res = value_analysis(tx, models=("bgnbd", "gamma_gamma"))
    assert res.gamma_gamma is not None and res.gamma_gamma.q < 1
    assert res.bgnbd is not None and res.bgnbd.status == "ok"
    codes = {d.code: d for d in res.warnings}
    assert codes["gamma_gamma_q_le_1"].severity == "invalidates"
    withheld = codes["clv_spend_withheld"]
    assert withheld.severity == "invalidates"
    assert str(withheld) == ("the Gamma-Gamma spend model failed its checks: "
                             "expected spend and CLV are left empty for every customer")
    assert "消费模型未通过检验" in withheld.text("zh")
    cust = res.customers
    assert cust["clv"].isna().all() and cust["expected_spend"].isna().all()
    assert cust["p_alive"].notna().all() and cust["expected_purchases"].notna().all()
    assert res.settings["purchase_model"] == "bgnbd"
    assert res.status == "invalid"
    out = json.loads(json.dumps(res.to_dict(), allow_nan=False))
    assert out["status"] == "invalid"
    assert {w["code"] for w in out["warnings"]} >= {"gamma_gamma_q_le_1", "clv_spend_withheld"}
    assert out["models"]["gamma_gamma"]["status"] == "invalid"


def _regular_buyers() -> pd.DataFrame:
    """Every customer buys every 7 days at the same spend: the purchase models run to
    the boundary (no heterogeneity to estimate) and so does Gamma-Gamma."""
    start = dt.date(2024, 1, 1)
    rows = [(f"C{i}", start + dt.timedelta(days=i % 5 + 7 * k), 20.0 + i % 3)
            for i in range(60) for k in range(10)]
    return pd.DataFrame(rows, columns=["customer_id", "date", "amount"])


def test_invalid_purchase_model_leaves_predictions_empty_and_says_so():
    """When the purchase model the values would come from fails its gates, P(alive),
    expected purchases and CLV are left empty for every customer; nothing leaks as a
    NumPy warning."""
    tx = load_transactions(_regular_buyers(), today="2025-06-01")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = value_analysis(tx, models=("bgnbd", "gamma_gamma"))
    assert res.bgnbd is not None and res.bgnbd.status == "invalid"
    codes = {d.code: d for d in res.warnings}
    withheld = codes["clv_predictions_withheld"]
    assert withheld.severity == "invalidates" and withheld.params == {"model": "BG/NBD"}
    assert str(withheld).startswith("BG/NBD failed its checks: P(alive)")
    cust = res.customers
    for column in ("p_alive", "expected_purchases", "clv", "expected_spend"):
        assert cust[column].isna().all(), column


def test_valid_pareto_nbd_stands_in_for_an_invalid_bgnbd(monkeypatch):
    """BG/NBD invalid, Pareto/NBD valid: the per-customer predictions are Pareto/NBD's
    (settings["purchase_model"] says so), as with Pareto/NBD fitted alone."""
    from satisfaction.value import core

    frame = pd.read_csv(Path(__file__).parent / "data" / "cdnow_sample.csv")
    tx = load_transactions(frame, today="1998-07-01")
    real = core.fit_bgnbd

    def failed(*args, **kwargs):
        fit = real(*args, **kwargs)
        fit.warnings.append(Diagnostic("clv_boundary", "invalidates",
                                       {"model": "BG/NBD", "params": "(test)"}))
        return fit

    monkeypatch.setattr(core, "fit_bgnbd", failed)
    res = value_analysis(tx, models=("bgnbd", "pareto_nbd", "gamma_gamma"))
    alone = value_analysis(tx, models=("pareto_nbd", "gamma_gamma"))
    assert res.bgnbd.status == "invalid" and res.pareto_nbd.status == "ok"
    assert res.settings["purchase_model"] == alone.settings["purchase_model"] == "pareto_nbd"
    for column in ("p_alive", "expected_purchases", "clv"):
        pd.testing.assert_series_equal(res.customers[column], alone.customers[column])
    assert res.customers["clv"].notna().all()
    assert "clv_predictions_withheld" not in {d.code for d in res.warnings}


def test_degenerate_spend_fits_are_silent():
    """Every spend the same, or a heavy tail: Gamma-Gamma's terms overflow at the
    extreme parameters the optimizer tries; no NumPy warning reaches the user, and the
    fit is reported invalid."""
    rng = np.random.default_rng(5)
    x = rng.integers(1, 8, 400).astype(float)
    cases = {"constant": np.full(400, 25.0),
             "heavy": np.exp(rng.standard_cauchy(400)).clip(1e-3, 1e12)}
    for name, z in cases.items():
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            fit = clv.fit_gamma_gamma(x, z)
        assert fit.status == "invalid", name


@pytest.mark.parametrize("fit", [clv.fit_bgnbd, clv.fit_pareto_nbd])
def test_boundary_estimates_are_degenerate(fit):
    same = np.full(6, 2.0), np.full(6, 10.0), np.full(6, 10.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing leaks
        res = fit(*same)
    d = _codes(res)["clv_boundary"]
    assert d.severity == "invalidates" and not res.converged and res.status == "invalid"
    assert d.params["model"] in ("BG/NBD", "Pareto/NBD")
    assert "boundary of the parameter space" in str(d)


def test_pareto_nbd_not_converged_is_a_diagnostic_and_silent():
    x = np.array([0.0, 0, 0, 1, 0, 0, 0, 0])
    tx = np.array([0.0, 0, 0, 5, 0, 0, 0, 0])
    big_t = np.full(8, 30.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = clv.fit_pareto_nbd(x, tx, big_t)
        res.p_alive(x, tx, big_t)
        res.expected_purchases(10.0, x, tx, big_t)
    d = _codes(res)["clv_boundary"]
    assert d.severity == "invalidates" and res.status == "invalid" and not res.converged
    assert max(res.r, res.s) > clv._HOMOGENEOUS
    assert np.isfinite(res.loglik)
    # the existing catalog wording of a failed optimizer, as the report has always shown it
    d = clv.fit_diagnostics("Pareto/NBD", False, np.zeros(4), -1.0,
                            ("r", "alpha", "s", "beta"), np.ones(4))[0]
    assert d.code == "clv_not_converged"
    assert str(d) == ("Pareto/NBD did not converge to interior estimates (too few or too "
                      "regular customers?): its predictions are not reliable")
    assert "模型未收敛" in d.text("zh")


def test_non_finite_log_likelihood_is_degenerate():
    gates = clv.fit_diagnostics("Gamma-Gamma", True, np.zeros(3), float("-inf"),
                                ("p", "q", "v"), np.ones(3))
    assert [(d.code, d.severity) for d in gates] == [("clv_loglik_not_finite", "invalidates")]
    assert clv.fit_diagnostics("BG/NBD", True, np.zeros(4), -10.0, ("r", "alpha", "a", "b"),
                               np.ones(4)) == []


def test_pipeline_notes_are_diagnostics(tmp_path):
    frame = pd.DataFrame({"customer_id": ["a", "a", "b", "b", "c", None, "c"],
                          "date": ["2024-01-01", "2024-02-01", "2024-01-05", "2024-03-01",
                                   "2024-01-09", "2024-01-10", "2024-04-01"],
                          "amount": [10.0, 12.0, 30.0, 25.0, 8.0, 5.0, 9.0],
                          "margin": [3.0, 4.0, 9.0, 8.0, 2.0, 1.0, 3.0]})
    from satisfaction.value.transactions import TransactionColumns

    tx = load_transactions(frame, TransactionColumns(margin="margin"), today="2024-12-31")
    res = value_analysis(tx, models=("bgnbd", "gamma_gamma"))
    codes = {d.code: d for d in res.warnings}
    excluded = codes["transactions_excluded"]
    assert excluded.severity == "info" and excluded.params == {"n": 1, "reason": "missing_id"}
    assert str(excluded) == "1 transaction excluded: missing customer id"
    assert "transactions excluded" not in " ".join(res.notes)  # worded from the log
    # two customers cannot carry the purchase model: its predictions are withheld; the
    # spend model's expected spend (margin-adjusted) stands when it passes its gates
    assert "clv_predictions_withheld" in codes
    assert ("clv_margin" in codes) == (res.gamma_gamma.status != "invalid")
    assert res.customers["clv"].isna().all()
    # with valid models the margin basis is said
    cdnow = pd.read_csv(Path(__file__).parent / "data" / "cdnow_sample.csv")
    cdnow["margin"] = cdnow["amount"] * 0.3
    res = value_analysis(load_transactions(cdnow, TransactionColumns(margin="margin"),
                                           today="1998-07-01"),
                         models=("bgnbd", "gamma_gamma"))
    codes = {d.code: d for d in res.warnings}
    assert codes["clv_margin"].severity == "info" and res.status != "invalid"
    assert "clv is margin-adjusted with each customer's margin ratio" in res.notes


def test_bgnbd_predictions_at_a_equal_1_are_empty_and_silent():
    """At a = 1 (a fit that never left its starting point) E[Y(t)] is 0/0: the
    predictions are NaN, P(alive) is kept, no NumPy warning is raised; at other a
    the reordered formula equals the textbook one (FHL 2005a, eq. 10)."""
    x, tx, big_t = np.array([0.0, 2.0, 5.0]), np.array([0.0, 10.0, 30.0]), np.full(3, 40.0)
    fit = clv.BGNBDFit(r=0.5, alpha=4.0, a=1.0, b=2.0, loglik=-1.0, n_customers=3,
                       n_unique=3, converged=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pred = fit.predict(4, 0.001, x, tx, big_t)
        assert np.isnan(fit.expected_purchases(4.0, x, tx, big_t)).all()
        assert np.isnan(fit.discounted_purchases(4, 0.001, x, tx, big_t)).all()
    assert np.isnan(pred["expected_purchases"]).all() and np.isfinite(pred["p_alive"]).all()
    ok = clv.BGNBDFit(r=0.5, alpha=4.0, a=0.8, b=2.0, loglik=-1.0, n_customers=3,
                      n_unique=3, converged=True)
    from scipy import special

    z = 4.0 / (4.0 + big_t + 4.0)
    textbook = ((0.8 + 2.0 + x - 1) / (0.8 - 1) * (1 - ((4.0 + big_t) / (8.0 + big_t)) ** (0.5 + x)
                * special.hyp2f1(0.5 + x, 2.0 + x, 0.8 + 2.0 + x - 1, z)) / ok._denominator(x, tx, big_t))
    np.testing.assert_allclose(ok.expected_purchases(4.0, x, tx, big_t), textbook, rtol=1e-12)


def test_purchase_model_error_comes_before_the_spend_models():
    """When Pareto/NBD and Gamma-Gamma both fail (every customer has returns only:
    nobody to fit), the purchase model's own error is raised, as the fits' order says,
    not the spend model's (whose hint, to fit the purchase model alone, would fail
    too); the spend model's error and hint come only when it alone fails."""
    from satisfaction.errors import InputError

    returns_only = pd.DataFrame({"customer_id": ["a", "a", "b"],
                                 "date": ["2024-01-01", "2024-02-01", "2024-01-05"],
                                 "amount": [-10.0, -12.0, -30.0]})
    tx = load_transactions(returns_only, today="2024-12-31")
    for models in (("pareto_nbd", "gamma_gamma"), ("bgnbd", "gamma_gamma"),
                   ("bgnbd", "pareto_nbd", "gamma_gamma")):
        with pytest.raises(InputError) as err:
            value_analysis(tx, models=models)
        assert "no customers to fit" in err.value.message and err.value.hint is None
    # one repeat buyer: the purchase models fit, the spend model cannot
    few = pd.DataFrame({"customer_id": ["a", "a", "b", "c"],
                        "date": ["2024-01-01", "2024-02-01", "2024-01-05", "2024-03-01"],
                        "amount": [10.0, 12.0, 30.0, 8.0]})
    with pytest.raises(InputError) as err:
        value_analysis(load_transactions(few, today="2024-12-31"),
                       models=("pareto_nbd", "gamma_gamma"))
    # three customers: the purchase model fits but fails its gates, so a run of it
    # alone would withhold its values; the hint says so instead of suggesting it
    assert "spend model" in err.value.message
    assert "fail their checks" in err.value.hint and "--models" not in err.value.hint
    # the CDNOW purchases with no repeat spend: the purchase model passes its gates,
    # the spend model has nothing to fit; the hint is to fit the purchase model alone
    cdnow = pd.read_csv(Path(__file__).parent / "data" / "cdnow_sample.csv")
    first = cdnow.groupby("customer_id")["date"].transform("min")
    cdnow["amount"] = cdnow["amount"].where(cdnow["date"] == first, 0.0)
    for models, alone in ((("pareto_nbd", "gamma_gamma"), "pareto_nbd"),
                          (("bgnbd", "gamma_gamma"), "bgnbd")):
        with pytest.raises(InputError) as err:
            value_analysis(load_transactions(cdnow, today="1998-07-01"), models=models)
        assert "spend model" in err.value.message and f"--models {alone}" in err.value.hint
    # the spend model asked for alone: no purchase-only run is suggested
    with pytest.raises(InputError) as err:
        value_analysis(load_transactions(few, today="2024-12-31"), models=("gamma_gamma",))
    assert "spend model" in err.value.message
    assert "--models" not in (err.value.hint or "")


def test_no_repeat_purchases_invalidate_the_purchase_models():
    """With one purchase per customer the data say only "no repeat by T": BG/NBD's a and
    b do not enter the likelihood and Pareto/NBD's rates cannot be told apart, so both
    fits are invalid whatever the optimizer reports; one repeat buyer lifts the gate."""
    x = np.zeros(6)
    t_x = np.zeros(6)
    big_t = np.array([10.0, 20.0, 30.0, 40.0, 50.0, 60.0])
    for fit in (clv.fit_bgnbd(x, t_x, big_t), clv.fit_pareto_nbd(x, t_x, big_t)):
        assert "clv_no_repeat_purchases" in [d.code for d in fit.warnings]
        assert fit.status == "invalid"
    # weights of zero do not count as customers
    assert "clv_no_repeat_purchases" in [
        d.code for d in clv.fit_bgnbd([0, 2], [0, 5.0], [10.0, 20.0], weights=[3, 0]).warnings]
    x[0], t_x[0] = 2.0, 5.0
    for fit in (clv.fit_bgnbd(x, t_x, big_t), clv.fit_pareto_nbd(x, t_x, big_t)):
        assert "clv_no_repeat_purchases" not in [d.code for d in fit.warnings]


def test_expected_spend_stands_without_a_valid_purchase_model():
    """Regular buyers (BG/NBD at its boundary) with varied spends (a valid
    Gamma-Gamma): P(alive), expected purchases and CLV are withheld, the expected
    spend, which needs no purchase model, is given."""
    rng = np.random.default_rng(9)
    frame = _regular_buyers()
    # spends drawn from the Gamma-Gamma model itself (p = 6, q = 4, gamma = 15)
    nu = dict(zip(frame["customer_id"].unique(), rng.gamma(4.0, 1.0 / 15.0, 60), strict=True))
    frame["amount"] = rng.gamma(6.0, 1.0 / frame["customer_id"].map(nu).to_numpy())
    res = value_analysis(load_transactions(frame, today="2025-06-01"),
                         models=("bgnbd", "gamma_gamma"))
    assert res.bgnbd.status == "invalid" and res.gamma_gamma.status == "ok"
    codes = {d.code for d in res.warnings}
    assert "clv_predictions_withheld" in codes and "clv_spend_withheld" not in codes
    cust = res.customers
    assert cust["clv"].isna().all() and cust["p_alive"].isna().all()
    assert cust["expected_spend"].notna().all() and (cust["expected_spend"] > 0).all()


def test_predictions_a_valid_fit_cannot_make_are_counted(monkeypatch):
    """A fit that passes its gates but gives no number for some customers (the
    hypergeometric function at extreme estimates): those customers are counted under
    clv_predictions_undefined, not left empty in silence."""
    real = clv.BGNBDFit.predict

    def holed(self, *args, **kwargs):
        out = real(self, *args, **kwargs)
        for key in ("p_alive", "expected_purchases"):
            out[key] = np.asarray(out[key], dtype=float).copy()
            out[key][:3] = np.nan
        return out

    monkeypatch.setattr(clv.BGNBDFit, "predict", holed)
    frame = pd.read_csv(Path(__file__).parent / "data" / "cdnow_sample.csv")
    res = value_analysis(load_transactions(frame, today="1998-07-01"),
                         models=("bgnbd", "gamma_gamma"))
    d = {w.code: w for w in res.warnings}["clv_predictions_undefined"]
    assert d.severity == "invalidates" and d.params == {"n": 3, "model": "BG/NBD"}
    assert str(d).startswith("3 customers have no finite prediction from BG/NBD")
    assert res.customers["clv"].isna().sum() == 3
