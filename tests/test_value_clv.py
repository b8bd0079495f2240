"""CLV models on the CDNOW sample against the published estimates and lifetimes.

Published values: Fader, Hardie & Lee (2005a), "Counting your customers the easy
way", Marketing Science 24(2) (BG/NBD: r = 0.243, α = 4.414, a = 0.793,
b = 2.426, LL = −9582.4) and Fader, Hardie & Lee (2005b), "RFM and CLV",
JMR 42(4) (Pareto/NBD: r = 0.553, α = 10.58, s = 0.606, β = 11.67, LL = −9595.0;
Gamma-Gamma: p = 6.25, q = 3.74, γ = 15.44). lifetimes 0.11.3 (test-only
dependency) is the second reference for the per-customer quantities.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, special

from satisfaction.value import clv
from satisfaction.value.customers import customer_table
from satisfaction.value.transactions import load_transactions

DATA = Path(__file__).parent / "data" / "cdnow_sample.csv"


@pytest.fixture(scope="module")
def table():
    tx = load_transactions(DATA, duplicates="keep")
    return customer_table(tx, period_end="1997-09-30", time_unit="week",
                          holdout_end="1998-06-30")


@pytest.fixture(scope="module")
def fits(table):
    d = table.data
    return (clv.fit_bgnbd(d.frequency, d.t_x, d["T"]),
            clv.fit_pareto_nbd(d.frequency, d.t_x, d["T"]),
            clv.fit_gamma_gamma(d.frequency, d.monetary_value))


def test_cdnow_sample_size(table):
    d = table.data
    assert len(d) == 2357
    raw = pd.read_csv(DATA, parse_dates=["date"])
    assert int(d["transactions"].sum()) == int((raw["date"] <= "1997-09-30").sum())
    # every transaction is in the calibration or the holdout period
    tx = load_transactions(DATA, duplicates="keep")
    assert tx.log.loaded == 6919 and tx.log.kept == 6919
    assert tx.log.notes["duplicates_kept"] == 21


def test_customer_table_matches_lifetimes_summary(table):
    from lifetimes.datasets import load_cdnow_summary_data_with_monetary_value

    ref = load_cdnow_summary_data_with_monetary_value()
    ref.index = ref.index.astype(str)
    d = table.data.loc[ref.index]
    assert (d["frequency"].to_numpy() == ref["frequency"].to_numpy()).all()
    np.testing.assert_allclose(d["t_x"], ref["recency"], atol=0.005)
    np.testing.assert_allclose(d["T"], ref["T"], atol=0.005)
    rep = ref["frequency"] > 0
    np.testing.assert_allclose(d["monetary_value"][rep], ref["monetary_value"][rep], atol=0.005)


@pytest.mark.parametrize("name,published", [
    ("r", 0.243), ("alpha", 4.414), ("a", 0.793), ("b", 2.426)])
def test_bgnbd_published(fits, name, published):
    assert getattr(fits[0], name) == pytest.approx(published, rel=0.005)


@pytest.mark.parametrize("name,published", [
    ("r", 0.553), ("alpha", 10.58), ("s", 0.606), ("beta", 11.67)])
def test_pareto_nbd_published(fits, name, published):
    assert getattr(fits[1], name) == pytest.approx(published, rel=0.005)


@pytest.mark.parametrize("name,published", [("p", 6.25), ("q", 3.74), ("v", 15.44)])
def test_gamma_gamma_published(fits, name, published):
    assert getattr(fits[2], name) == pytest.approx(published, rel=0.005)


def test_published_log_likelihoods(fits):
    assert fits[0].loglik == pytest.approx(-9582.4, abs=0.05)
    assert fits[1].loglik == pytest.approx(-9595.0, abs=0.05)
    assert fits[0].converged and fits[1].converged and fits[2].converged
    assert fits[0].n_unique < fits[0].n_customers


def _lifetimes():
    warnings.filterwarnings("ignore")
    import lifetimes

    return lifetimes


def test_fits_match_lifetimes(table, fits):
    lt = _lifetimes()
    d = table.data
    bgf = lt.BetaGeoFitter().fit(d.frequency, d.t_x, d["T"])
    for k in ("r", "alpha", "a", "b"):
        assert getattr(fits[0], k) == pytest.approx(bgf.params_[k], rel=2e-3)
    rep = d[d.frequency > 0]
    ggf = lt.GammaGammaFitter().fit(rep.frequency, rep.monetary_value)
    for k in ("p", "q", "v"):
        assert getattr(fits[2], k) == pytest.approx(ggf.params_[k], rel=2e-3)
    # ours is at least as good a maximum as lifetimes'
    theirs = clv.bgnbd_loglik(bgf.params_[["r", "alpha", "a", "b"]].to_numpy(),
                              d.frequency.to_numpy(float), d.t_x.to_numpy(), d["T"].to_numpy())
    assert fits[0].loglik >= theirs - 1e-6


def test_bgnbd_predictions_match_lifetimes(table, fits):
    lt = _lifetimes()
    d = table.data
    bg = fits[0]
    bgf = lt.BetaGeoFitter()
    bgf.params_ = pd.Series({"r": bg.r, "alpha": bg.alpha, "a": bg.a, "b": bg.b})
    x, tx, big_t = d.frequency, d.t_x, d["T"]
    np.testing.assert_allclose(bg.p_alive(x, tx, big_t),
                               bgf.conditional_probability_alive(x, tx, big_t), rtol=1e-9)
    np.testing.assert_allclose(
        bg.expected_purchases(39.0, x, tx, big_t),
        bgf.conditional_expected_number_of_purchases_up_to_time(39.0, x, tx, big_t), rtol=1e-8)
    # discounted purchases = Σ_k ΔE[Y(k)] / (1+d)^k with lifetimes' E[Y]
    d_unit = 0.002
    expect = np.zeros(len(d))
    prev = np.zeros(len(d))
    for k in range(1, 13):
        cur = bgf.conditional_expected_number_of_purchases_up_to_time(float(k), x, tx, big_t)
        expect += (np.asarray(cur) - prev) / (1 + d_unit) ** k
        prev = np.asarray(cur)
    np.testing.assert_allclose(bg.discounted_purchases(12, d_unit, x, tx, big_t), expect,
                               rtol=1e-8)


def test_pareto_nbd_predictions_match_lifetimes(table, fits):
    lt = _lifetimes()
    d = table.data
    pn = fits[1]
    pnf = lt.ParetoNBDFitter()
    pnf.params_ = pd.Series({"r": pn.r, "alpha": pn.alpha, "s": pn.s, "beta": pn.beta})
    x, tx, big_t = d.frequency, d.t_x, d["T"]
    np.testing.assert_allclose(pn.p_alive(x, tx, big_t),
                               pnf.conditional_probability_alive(x, tx, big_t), rtol=1e-7)
    np.testing.assert_allclose(
        pn.expected_purchases(39.0, x, tx, big_t),
        pnf.conditional_expected_number_of_purchases_up_to_time(39.0, x, tx, big_t), rtol=1e-7)
    # and its log-likelihood per customer
    ours = clv.pareto_nbd_loglik(pn.params(), x.to_numpy(float), tx.to_numpy(),
                                 big_t.to_numpy())
    theirs = -pnf._negative_log_likelihood(
        pn.params(), x.to_numpy(float), tx.to_numpy(), big_t.to_numpy(), np.ones(len(d)), 0.0)
    assert ours == pytest.approx(theirs, rel=1e-9)


def test_gamma_gamma_spend_matches_lifetimes(table, fits):
    lt = _lifetimes()
    d = table.data
    gg = fits[2]
    ggf = lt.GammaGammaFitter()
    ggf.params_ = pd.Series({"p": gg.p, "q": gg.q, "v": gg.v})
    rep = d[d.frequency > 0]
    np.testing.assert_allclose(
        gg.expected_spend(rep.frequency, rep.monetary_value),
        ggf.conditional_expected_average_profit(rep.frequency, rep.monetary_value), rtol=1e-10)
    # customers without repeat purchases get the population mean pγ/(q−1)
    assert gg.expected_spend([0], [np.nan])[0] == pytest.approx(gg.population_mean)


def test_analytic_gradients(table):
    d = table.data
    x, tx, big_t = d.frequency.to_numpy(float), d.t_x.to_numpy(), d["T"].to_numpy()
    p0 = np.array([0.3, 4.0, 0.8, 2.5])
    err = optimize.check_grad(lambda p: clv.bgnbd_loglik(p, x, tx, big_t),
                              lambda p: clv.bgnbd_loglik(p, x, tx, big_t, grad=True)[1], p0)
    assert err < 1e-3 * np.linalg.norm(clv.bgnbd_loglik(p0, x, tx, big_t, grad=True)[1])
    rep = d[d.frequency > 0]
    xr, z = rep.frequency.to_numpy(float), rep.monetary_value.to_numpy()
    g0 = np.array([6.0, 3.5, 15.0])
    err = optimize.check_grad(lambda p: clv.gamma_gamma_loglik(p, xr, z),
                              lambda p: clv.gamma_gamma_loglik(p, xr, z, grad=True)[1], g0)
    assert err < 1e-3 * np.linalg.norm(clv.gamma_gamma_loglik(g0, xr, z, grad=True)[1])


def test_weighted_likelihood_equals_per_customer_sum(table):
    d = table.data
    x, tx, big_t = d.frequency.to_numpy(float), d.t_x.to_numpy(), d["T"].to_numpy()
    (ux, utx, ut), w, inv = clv.compress(x, tx, big_t)
    p = np.array([0.25, 4.4, 0.8, 2.4])
    assert clv.bgnbd_loglik(p, ux, utx, ut, w) == pytest.approx(
        clv.bgnbd_loglik(p, x, tx, big_t), rel=1e-12)
    assert (ux[inv] == x).all() and (ut[inv] == big_t).all()


def test_holdout_check(table, fits):
    d = table.data
    h = clv.holdout_check(fits[0], d, 39.0)
    # 1,882 repeat purchase occasions in the 39-week holdout (1997-10-01 .. 1998-06-30)
    assert h.actual_total == 1882
    assert h.predicted_total == pytest.approx(
        fits[0].expected_purchases(39.0, d.frequency, d.t_x, d["T"]).sum())
    assert int(h.by_frequency["customers"].sum()) == 2357
    # the model tracks the holdout: totals within 15 %, means rise with calibration frequency
    assert abs(h.predicted_total / h.actual_total - 1) < 0.15
    assert h.by_frequency["predicted"].is_monotonic_increasing
    assert h.correlation > 0.5


def test_retention_formula_is_the_discounted_series():
    m, r, d = 100.0, 0.8, 0.1
    series = sum(m * r**t / (1 + d) ** t for t in range(1, 2000))
    assert clv.retention_clv(m, r, d) == pytest.approx(series, rel=1e-12)
    assert clv.retention_clv(m, 0.0, d) == 0.0
    with pytest.raises(Exception, match="retention"):
        clv.retention_clv(m, 1.5, d)


def test_decomposition_adds_up():
    idx = pd.Index(["a", "b"])
    dec = clv.decompose_value(pd.Series([10.0, 0.0], idx), pd.Series([30.0, 5.0], idx),
                              pd.Series([4.0, 1.0], idx), referral_rate=pd.Series([0.5, 0], idx),
                              referral_value=20.0)
    t = dec.data
    assert t.loc["a"].tolist() == [10.0, 4.0, 26.0, 10.0, 50.0]
    assert (t[["historical", "current", "potential", "referral"]].sum(axis=1) == t["total"]).all()


def test_bad_rfm_input_is_an_input_error():
    from satisfaction.errors import InputError

    with pytest.raises(InputError, match="t_x"):
        clv.fit_bgnbd([1, 0], [5.0, 1.0], [4.0, 3.0])
    with pytest.raises(InputError, match="too few"):
        clv.fit_gamma_gamma([0, 0], [np.nan, np.nan])


def test_predict_in_one_pass_equals_the_separate_methods(table, fits):
    d = table.data
    bg = fits[0]
    x, tx, big_t = d.frequency, d.t_x, d["T"]
    p = bg.predict(26, 0.003, x, tx, big_t)
    np.testing.assert_allclose(p["p_alive"], bg.p_alive(x, tx, big_t), rtol=1e-12)
    np.testing.assert_allclose(p["expected_purchases"],
                               bg.expected_purchases(26.0, x, tx, big_t), rtol=1e-12)
    np.testing.assert_allclose(p["discounted_purchases"],
                               bg.discounted_purchases(26, 0.003, x, tx, big_t), rtol=1e-12)
    np.testing.assert_allclose(p["discounted_next"],
                               bg.discounted_purchases(1, 0.003, x, tx, big_t), rtol=1e-12)


def test_pipeline_value_decomposition_and_margin(tmp_path):
    from satisfaction.value.pipeline import value_analysis
    from satisfaction.value.transactions import TransactionColumns

    frame = pd.read_csv(DATA, dtype={"customer_id": str})
    frame["cost"] = (frame["amount"] * 0.4).round(2)
    tx = load_transactions(frame, TransactionColumns(cost="cost"), duplicates="keep")
    res = value_analysis(tx, period_end="1997-09-30", time_unit="week", horizon=10,
                         models=("bgnbd", "gamma_gamma"), referral_value=50.0,
                         referral_rate=0.1)
    c = res.customers
    assert c["clv"].notna().all()
    cal = frame[frame["date"] <= "1997-09-30"]
    margin = (cal["amount"] - cal["cost"]).groupby(cal["customer_id"]).sum()
    np.testing.assert_allclose(c["value_historical"], margin.loc[c.index], rtol=1e-9)
    np.testing.assert_allclose(c["value_total"],
                               c["value_historical"] + c["clv"] + 5.0, rtol=1e-12)
    assert (c["value_current"] <= c["clv"] + 1e-12).all()
    # margin-adjusted: spend per purchase times the customer's margin ratio
    revenue = cal.groupby("customer_id")["amount"].sum()
    # customers without revenue (CDNOW has $0 purchases) take the overall ratio
    ratio = (margin / revenue).where(revenue > 0, margin.sum() / revenue.sum())
    raw = res.gamma_gamma.expected_spend(res.table.data["frequency"],
                                         res.table.data["monetary_value"])
    np.testing.assert_allclose(c["expected_spend"], raw * ratio.loc[c.index], rtol=1e-9)


@pytest.mark.parametrize("with_nan", [False, True])
def test_compress_matches_a_groupby(with_nan):
    """Distinct rows, counts and the row→distinct map equal pandas' group-by (the
    NaN case takes the row-wise fallback)."""
    rng = np.random.default_rng(3)
    x = rng.integers(0, 6, 5000).astype(float)
    t = np.round(rng.uniform(0, 3, 5000), 1)
    if with_nan:
        t[::97] = np.nan
    w = rng.uniform(0.5, 2.0, 5000)
    (ux, ut), counts, inverse = clv.compress(x, t, weights=w)
    frame = pd.DataFrame({"x": x, "t": t, "w": w})
    expected = frame.groupby(["x", "t"], dropna=False, sort=True)["w"].sum()
    assert len(ux) == len(expected)
    np.testing.assert_array_equal(ux, expected.index.get_level_values("x"))
    np.testing.assert_array_equal(ut, expected.index.get_level_values("t"))
    np.testing.assert_allclose(counts, expected.to_numpy(), rtol=1e-12)
    np.testing.assert_array_equal(ux[inverse], x)
    np.testing.assert_array_equal(ut[inverse], t)


def test_bgnbd_loglik_is_the_per_customer_formula(table):
    """The grouped sums of ``_bgnbd_loglik`` (terms by distinct x and T, the mixture term
    for x > 0 only) add up to FHL 2005a's eq. 6 written out per customer."""
    d = table.data
    x, tx, big_t = d.frequency.to_numpy(float), d.t_x.to_numpy(), d["T"].to_numpy()
    for r, alpha, a, b in ([0.25, 4.4, 0.8, 2.4], [1.3, 0.7, 3.0, 20.0]):
        odds = np.where(x > 0, a / np.where(x > 0, b + x - 1.0, 1.0)
                        * ((alpha + big_t) / (alpha + tx)) ** (r + x), 0.0)
        per_customer = (special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
                        + special.betaln(a, b + x) - special.betaln(a, b)
                        - (r + x) * np.log(alpha + big_t) + np.log1p(odds))
        assert clv.bgnbd_loglik(np.array([r, alpha, a, b]), x, tx, big_t) == pytest.approx(
            per_customer.sum(), rel=1e-12)


def test_chunked_likelihood_sum_equals_one_pass(table, monkeypatch):
    """The threaded chunks add up to the one-pass log-likelihood and gradient."""
    d = table.purchasers
    x, tx, big_t = (d[c].to_numpy(float) for c in ("frequency", "t_x", "T"))
    params = np.array([0.25, 4.4, 0.8, 2.4])
    whole = clv._bgnbd_loglik(params, clv._Triplets(x, tx, big_t, None), grad=True)
    monkeypatch.setattr(clv, "_CHUNK", 500)
    parts = [clv._Triplets(x[c], tx[c], big_t[c], None) for c in clv._chunks(len(x))]
    assert len(parts) > 2
    summed = clv._summed(clv._bgnbd_loglik, parts, params)
    assert summed[0] == pytest.approx(whole[0], rel=1e-12)
    np.testing.assert_allclose(summed[1], whole[1], rtol=1e-10)


def test_compress_stepwise_equals_one_key(monkeypatch):
    """The column-by-column path (for keys that would overflow) gives the same result."""
    rng = np.random.default_rng(4)
    cols = [rng.integers(0, 9, 3000).astype(float), np.round(rng.uniform(0, 2, 3000), 2),
            rng.integers(0, 4, 3000).astype(float)]
    one = clv.compress(*cols)
    arrays = [np.asarray(c, float) for c in cols]
    factors = [pd.factorize(a, sort=True, use_na_sentinel=False) for a in arrays]
    step = clv._compress_stepwise(arrays, [f[0].astype(np.int64) for f in factors],
                                  [np.asarray(f[1], float) for f in factors], None)
    for a, b in zip(one[0], step[0], strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(one[1], step[1])
    np.testing.assert_array_equal(one[2], step[2])


@pytest.mark.parametrize("params", [(0.553, 10.58, 0.606, 11.67), (1.0, 2.0, 3.0, 1.5),
                                    (0.3, 50.0, 0.2, 5.0)])
def test_pareto_nbd_terms_per_distinct_pair_equal_the_per_customer_sum(table, params):
    """The fit's likelihood (hypergeometric terms per distinct (x, t_x) and (x, T))
    equals the per-customer formula, for α above and below β."""
    d = table.purchasers
    x, tx, big_t = (d[c].to_numpy(float) for c in ("frequency", "t_x", "T"))
    (ux, utx, ut), w, _ = clv.compress(x, tx, big_t)
    p = np.array(params)
    assert clv._PnbdTerms(ux, utx, ut, w).loglik(p) == pytest.approx(
        clv.pareto_nbd_loglik(p, x, tx, big_t), rel=1e-12)


def test_bgnbd_reported_loglik_is_the_unscaled_likelihood(table, fits):
    """The fit works in rescaled time; the log-likelihood it reports is the one in
    the data's time unit (the per-customer formula at the estimates)."""
    d = table.data
    x, tx, big_t = (d[c].to_numpy(float) for c in ("frequency", "t_x", "T"))
    bg = fits[0]
    assert bg.loglik == pytest.approx(clv.bgnbd_loglik(bg.params(), x, tx, big_t), rel=1e-10)


def test_pareto_nbd_chunked_sum_equals_one_pass(table, monkeypatch):
    """The Pareto/NBD likelihood summed over threaded chunks equals one pass."""
    d = table.purchasers
    x, tx, big_t = (d[c].to_numpy(float) for c in ("frequency", "t_x", "T"))
    (ux, utx, ut), w, _ = clv.compress(x, tx, big_t)
    p = np.array([0.553, 10.58, 0.606, 11.67])
    whole = clv._PnbdTerms(ux, utx, ut, w).loglik(p)
    monkeypatch.setattr(clv, "_CHUNK", 300)
    parts = [clv._PnbdTerms(ux[c], utx[c], ut[c], w[c]) for c in clv._chunks(len(ux))]
    assert len(parts) > 2
    assert clv._summed_values(lambda part: part.loglik(p), parts) == pytest.approx(whole,
                                                                                   rel=1e-12)


# -- Pareto/NBD: the exact gradient -----------------------------------------------------
#: Parameter sets on both sides of α = β, at it, and far from the CDNOW optimum.
PNBD_POINTS = [(0.553, 10.58, 0.606, 11.67), (1.0, 2.0, 3.0, 1.5), (0.3, 50.0, 0.2, 5.0),
               (2.0, 0.1, 0.5, 30.0), (0.8, 4.0, 1.2, 4.0)]


def _pnbd_terms(table):
    d = table.purchasers
    x, tx, big_t = (d[c].to_numpy(float) for c in ("frequency", "t_x", "T"))
    (ux, utx, ut), w, _ = clv.compress(x, tx, big_t)
    return clv._PnbdTerms(ux, utx, ut, w), (x, tx, big_t)


def _central(f, p: np.ndarray, i: int) -> float:
    """∂f/∂p_i by Richardson-extrapolated central differences (error O(h⁴))."""
    def diff(h: float) -> float:
        up, down = p.copy(), p.copy()
        up[i] += h
        down[i] -= h
        return (f(up) - f(down)) / (2 * h)

    h = 1e-3 * p[i]
    return (4 * diff(h / 2) - diff(h)) / 3


def test_pnbd_series_is_the_hypergeometric_function_with_its_derivatives():
    """Σ (c)_k/(B)_k zᵏ against SciPy's ₂F₁(c, 1; B; z), and its derivatives
    against central differences of SciPy's function."""
    from scipy import special

    c = np.array([0.5, 1.6, 50.0, 1.2, 3.0, 2.6])
    big_b = np.array([2.0, 3.0, 51.8, 1.5, 40.0, 3.9])
    z = np.array([0.3, 0.9, 0.95, 0.0, 0.99, 0.93])
    ln_s, d_c, d_b, d_z = clv._pnbd_series(c, big_b, z)
    np.testing.assert_allclose(ln_s, np.log(special.hyp2f1(c, 1.0, big_b, z)), rtol=1e-13,
                               atol=1e-14)

    def ln_f(args: np.ndarray) -> float:
        return float(np.log(special.hyp2f1(args[0], 1.0, args[1], args[2])))

    for j in range(len(z)):
        p = np.array([c[j], big_b[j], z[j]])
        for i, ours in enumerate((d_c[j], d_b[j], d_z[j])):
            if i == 2 and z[j] == 0:  # ∂/∂z at 0 is c/B (one-sided)
                assert ours == pytest.approx(c[j] / big_b[j], rel=1e-12)
                continue
            step = 1e-4 * (p[i] if i < 2 else min(p[i], 1 - p[i]))
            up, down = p.copy(), p.copy()
            up[i] += step
            down[i] -= step
            assert ours == pytest.approx((ln_f(up) - ln_f(down)) / (2 * step), rel=1e-6)


@pytest.mark.parametrize("params", PNBD_POINTS)
def test_pareto_nbd_series_likelihood_equals_the_hypergeometric_one(table, params):
    """The fit's likelihood (series per pair) equals the note's ₂F₁ form per customer."""
    terms, (x, tx, big_t) = _pnbd_terms(table)
    p = np.array(params)
    ll, _ = terms.loglik_grad(p)
    assert ll == pytest.approx(clv.pareto_nbd_loglik(p, x, tx, big_t), rel=1e-12)


@pytest.mark.parametrize("params", PNBD_POINTS)
def test_pareto_nbd_gradient_equals_finite_differences(table, params):
    """The exact gradient against Richardson-extrapolated central differences of the
    per-customer ₂F₁ likelihood: 10⁻⁶ relative (absolute 10⁻⁶ × |ln L| where a
    component is near 0, at the CDNOW optimum)."""
    terms, (x, tx, big_t) = _pnbd_terms(table)
    p = np.array(params)
    ll, grad = terms.loglik_grad(p)
    for i in range(4):
        fd = _central(lambda q: clv.pareto_nbd_loglik(q, x, tx, big_t), p, i)
        assert grad[i] == pytest.approx(fd, rel=1e-6, abs=1e-9 * abs(ll))


def test_pareto_nbd_gradient_where_beta_dwarfs_alpha():
    """Far from α = β (z up to 0.93, as the 10-million benchmark's estimates give:
    β/α ≈ 14), with customers who bought at the end (t_x = T)."""
    rng = np.random.default_rng(4)
    n = 3000
    big_t = rng.integers(1, 105, n) / 10.0
    x = rng.poisson(rng.gamma(1.3, 1 / 0.4, n) * big_t / 10).astype(float)
    tx = np.where(x > 0, np.round(big_t * rng.beta(3, 1, n), 1), 0.0)
    tx[:50] = np.where(x[:50] > 0, big_t[:50], 0.0)
    (ux, utx, ut), w, _ = clv.compress(x, tx, big_t)
    terms = clv._PnbdTerms(ux, utx, ut, w)
    p = np.array([1.32, 0.378, 1.62, 5.18])
    ll, grad = terms.loglik_grad(p)
    assert ll == pytest.approx(clv.pareto_nbd_loglik(p, x, tx, big_t), rel=1e-12)
    for i in range(4):
        fd = _central(lambda q: clv.pareto_nbd_loglik(q, x, tx, big_t), p, i)
        assert grad[i] == pytest.approx(fd, rel=1e-6, abs=1e-9 * abs(ll))


def test_pareto_nbd_reported_loglik_is_the_unscaled_likelihood(table, fits):
    d = table.data
    x, tx, big_t = (d[c].to_numpy(float) for c in ("frequency", "t_x", "T"))
    pn = fits[1]
    assert pn.loglik == pytest.approx(clv.pareto_nbd_loglik(pn.params(), x, tx, big_t),
                                      rel=1e-10)


def test_pareto_nbd_fit_is_a_maximum(table, fits):
    """At the estimates the exact gradient vanishes, and no point of a small grid
    around them is better (the per-customer likelihood)."""
    d = table.data
    x, tx, big_t = (d[c].to_numpy(float) for c in ("frequency", "t_x", "T"))
    pn = fits[1]
    best = clv.pareto_nbd_loglik(pn.params(), x, tx, big_t)
    for i in range(4):
        for f in (0.99, 1.01):
            q = pn.params().copy()
            q[i] *= f
            assert clv.pareto_nbd_loglik(q, x, tx, big_t) < best


def test_pnbd_series_on_many_pairs_is_the_hypergeometric_function():
    """5,000 random pairs: enough that the series runs term by term (pairs dropped as
    they finish, the others' sums kept apart) before its blocks; ln ₂F₁(c, 1; B; z)
    against SciPy's, and ∂/∂z against the closed form (c/B) ₂F₁(c+1, 2; B+1; z) / ₂F₁."""
    from scipy import special

    rng = np.random.default_rng(3)
    n = 5_000
    c = rng.uniform(0.1, 30.0, n)
    big_b = c + rng.uniform(0.5, 30.0, n)
    z = np.concatenate([rng.uniform(0.0, 0.995, n - 2), [0.0, 0.9999]])
    ln_s, _d_c, _d_b, d_z = clv._pnbd_series(c, big_b, z)
    value = special.hyp2f1(c, 1.0, big_b, z)
    np.testing.assert_allclose(ln_s, np.log(value), rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(d_z, c / big_b * special.hyp2f1(c + 1.0, 2.0, big_b + 1.0, z)
                               / value, rtol=1e-10)
