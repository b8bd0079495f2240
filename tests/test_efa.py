"""Exploratory factor analysis against psych (tests/reference/measurement_<case>.json)."""

from __future__ import annotations

import itertools
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from satisfaction import efa as efa_mod
from satisfaction.efa import efa
from satisfaction.errors import InputError

ROOT = Path(__file__).resolve().parents[1]
REF = ROOT / "tests" / "reference"
BANK = ROOT.parent / "shared" / "data" / "bank_satisfaction.csv"
TOL = 1e-3


def _ref(case: str) -> dict:
    return json.loads((REF / f"measurement_{case}.json").read_text())


def _items(case: str) -> pd.DataFrame:
    ref = _ref(case)
    items = [i for b in ref["blocks"].values() for i in b]
    if case == "bank":
        return pd.read_csv(BANK)[items].astype(float)
    from semopy.examples import holzinger39

    return holzinger39.get_data()[items].astype(float)


@pytest.fixture(scope="module")
def data() -> dict[str, pd.DataFrame]:
    return {case: _items(case) for case in ("bank", "holzinger")}


def _match_columns(ours: np.ndarray, theirs: np.ndarray) -> tuple[tuple[int, ...], np.ndarray]:
    """The column permutation and signs of ``ours`` closest to ``theirs``."""
    best = None
    for perm in itertools.permutations(range(ours.shape[1])):
        cand = ours[:, perm]
        signs = np.where((cand * theirs).sum(axis=0) < 0, -1.0, 1.0)
        err = np.abs(cand * signs - theirs).max()
        if best is None or err < best[0]:
            best = (err, perm, signs)
    assert best is not None
    return best[1], best[2]


@pytest.mark.parametrize("case", ["bank", "holzinger"])
def test_kmo_bartlett_eigenvalues(case, data):
    ref = _ref(case)
    res = efa(data[case], n_factors=3, n_iter=20)
    assert res.kmo == pytest.approx(ref["kmo"]["overall"], abs=TOL)
    for item, value in ref["kmo"]["items"].items():
        assert res.kmo_items[item] == pytest.approx(value, abs=TOL)
    assert res.bartlett["chisq"] == pytest.approx(ref["bartlett"]["chisq"], abs=TOL)
    assert res.bartlett["df"] == ref["bartlett"]["df"]
    assert res.bartlett["p"] == pytest.approx(ref["bartlett"]["p"], abs=TOL)
    np.testing.assert_allclose(res.scree["eigenvalue"], ref["eigen"]["pc"], atol=TOL)
    np.testing.assert_allclose(res.scree["eigenvalue_reduced"], ref["eigen"]["fa_smc"], atol=TOL)
    # psych's fa.parallel reports the same observed eigenvalues
    np.testing.assert_allclose(res.scree["eigenvalue"], ref["parallel"][0]["pc_values"],
                               atol=TOL)
    np.testing.assert_allclose(res.scree["eigenvalue_reduced"], ref["parallel"][0]["fa_values"],
                               atol=TOL)
    assert res.n_factors_rules["kaiser"] == ref["eigen_gt1"]


@pytest.mark.parametrize("case", ["bank", "holzinger"])
def test_parallel_analysis_agrees_with_psych(case, data):
    """psych gave the same suggestion under ten seeds; ours must agree under ours."""
    ref = _ref(case)
    suggested = {(p["nfact"], p["ncomp"]) for p in ref["parallel"]}
    assert len(suggested) == 1
    nfact, ncomp = suggested.pop()
    for seed in (0, 1, 2):
        res = efa(data[case], n_factors=3, seed=seed)
        assert res.n_factors_rules["parallel_factors"] == nfact
        assert res.n_factors_rules["parallel_components"] == ncomp


def test_parallel_analysis_rule_and_determinism():
    corr = np.array([[1, 0.6, 0.6, 0.1], [0.6, 1, 0.6, 0.1], [0.6, 0.6, 1, 0.1],
                     [0.1, 0.1, 0.1, 1.0]])
    a = efa_mod.parallel_analysis(200, corr, n_iter=50, seed=7)
    b = efa_mod.parallel_analysis(200, corr, n_iter=50, seed=7)
    c = efa_mod.parallel_analysis(200, corr, n_iter=50, seed=8)
    np.testing.assert_array_equal(a.simulated_pc, b.simulated_pc)
    assert not np.array_equal(a.simulated_pc, c.simulated_pc)
    # the rule: count leading observed eigenvalues above the simulated quantile
    above = a.observed_pc > a.simulated_pc
    expected = int(np.argmin(above)) if not above.all() else len(above)
    assert a.n_components == expected == 1
    # simulated eigenvalues of independent data sit near 1 and sum to p
    assert a.simulated_pc[0] > 1 > a.simulated_pc[-1]
    # the count stops at the first failure, even if a later eigenvalue is above
    assert efa_mod._count_above(np.array([3.0, 0.5, 2.0]), np.array([1.0, 1.0, 1.0])) == 1
    assert efa_mod._count_above(np.array([3.0, 2.0]), np.array([1.0, 1.0])) == 2


@pytest.fixture(scope="module")
def unrotated(data) -> dict[tuple[str, str], np.ndarray]:
    """One extraction per data set and method (ML is slow); rotations reuse it."""
    return {(case, method): efa_mod.extract_factors(data[case], 3, method)
            for case in ("bank", "holzinger") for method in ("minres", "ml")}


@pytest.mark.parametrize("case", ["bank", "holzinger"])
@pytest.mark.parametrize("method", ["minres", "ml"])
@pytest.mark.parametrize("rotation", ["oblimin", "promax", "varimax"])
def test_loadings_match_psych_fa(case, method, rotation, unrotated):
    ref = _ref(case)
    (fa,) = [f for f in ref["fa"] if f["method"] == method and f["rotation"] == rotation]
    base = unrotated[(case, method)]
    loadings, phi = efa_mod.rotate_loadings(base, rotation)
    theirs = np.array(fa["loadings"]["values"])
    perm, signs = _match_columns(loadings, theirs)
    np.testing.assert_allclose(loadings[:, perm] * signs, theirs, atol=TOL)
    communalities = (base**2).sum(axis=1)
    np.testing.assert_allclose(communalities, list(fa["unrotated_communalities"].values()),
                               atol=TOL)
    if rotation == "varimax":
        assert phi is None
        np.testing.assert_allclose((loadings**2).sum(axis=1), communalities, atol=1e-10)
    else:
        np.testing.assert_allclose(phi[np.ix_(perm, perm)] * np.outer(signs, signs),
                                   np.array(fa["phi"]["values"]), atol=TOL)
        np.testing.assert_allclose(np.diag(loadings @ phi @ loadings.T), communalities,
                                   atol=1e-8)
    # columns ordered by variance accounted for, column sums positive
    assert (loadings.sum(axis=0) > 0).all()


@pytest.mark.parametrize("method", ["minres", "ml"])
def test_efa_end_to_end_matches_psych(method, data):
    ref = _ref("holzinger")
    (fa,) = [f for f in ref["fa"] if f["method"] == method and f["rotation"] == "oblimin"]
    res = efa(data["holzinger"], n_factors=3, method=method, rotation="oblimin", n_iter=5)
    assert list(res.loadings.index) == fa["loadings"]["rows"]
    assert list(res.loadings.columns) == ["F1", "F2", "F3"]
    theirs = np.array(fa["loadings"]["values"])
    perm, signs = _match_columns(res.loadings.to_numpy(), theirs)
    np.testing.assert_allclose(res.loadings.to_numpy()[:, perm] * signs, theirs, atol=TOL)
    np.testing.assert_allclose(res.communalities, list(fa["unrotated_communalities"].values()),
                               atol=TOL)
    assert res.phi is not None and list(res.phi.index) == ["F1", "F2", "F3"]


def test_flags_and_warnings(data):
    res = efa(data["bank"], n_factors=3, n_iter=5)
    f = res.flags
    assert f.loc["val1", "cross_loading"]
    assert f.loc["imag5", "weak"]
    assert not f.loc["sat1", "cross_loading"] and not f.loc["sat1", "weak"]
    assert f.loc["sat1", "primary"] == res.loadings.loc["sat1"].abs().idxmax()
    cross = [d for d in res.warnings if d.code == "efa_cross_loading"
             and d.params["item"] == "val1"]
    assert len(cross) == 1 and cross[0].severity == "info"
    assert cross[0].params["loading"] == pytest.approx(f.loc["val1", "loading"], abs=1e-12)
    assert str(cross[0]).startswith("item val1 cross-loads: ")
    weak = next(d for d in res.warnings if d.code == "efa_no_factor")
    assert (weak.severity, weak.params["item"]) == ("caution", "imag5")
    assert res.status == "caution"  # no finding here invalidates the solution
    threshold = efa_mod.LOADING_THRESHOLD
    for item, row in res.loadings.iterrows():
        assert f.loc[item, "cross_loading"] == ((row.abs() >= threshold).sum() >= 2)


def test_default_number_of_factors_and_json(data):
    res = efa(data["bank"], seed=3, n_iter=30)
    assert res.n_factors == res.n_factors_rules["parallel_components"] == 2
    d = res.to_dict()
    json.dumps(d, allow_nan=False)
    assert d["n"] == 250 and d["excluded"] == {"incomplete_answers": 0}
    assert len(d["scree"]) == 27 and len(d["loadings"]) == 27
    assert d["status"] == res.status
    assert [w["code"] for w in d["warnings"]] == [w.code for w in res.warnings]
    assert all(set(w) >= {"code", "severity", "message", "params"} for w in d["warnings"])
    again = efa(data["bank"], seed=3, n_iter=30).to_dict()
    assert json.dumps(d) == json.dumps(again)


def test_incomplete_respondents_are_counted_not_imputed(data):
    x = data["holzinger"].copy()
    x.iloc[:10, 0] = np.nan
    x.iloc[5:15, 3] = np.nan
    res = efa(x, n_factors=3, n_iter=5)
    assert res.n == 301 - 15
    assert res.excluded == {"incomplete_answers": 15}
    complete = efa(x.dropna(), n_factors=3, n_iter=5)
    assert res.kmo == pytest.approx(complete.kmo)


def test_bad_input(data):
    with pytest.raises(InputError, match="between 1 and 8"):
        efa(data["holzinger"], n_factors=9, n_iter=5)
    with pytest.raises(InputError, match="unknown rotation"):
        efa(data["holzinger"], n_factors=2, rotation="quartimax", n_iter=5)
    x = data["holzinger"].copy()
    x["x1"] = 1.0
    with pytest.raises(InputError, match="same answer") as err:
        efa(x, n_factors=2, n_iter=5)
    assert err.value.column == "x1"
    x = data["holzinger"].copy().astype(object)
    x.iloc[3, 2] = "abc"
    with pytest.raises(InputError, match="expected a number") as err:
        efa(x, n_factors=2, n_iter=5)
    assert err.value.column == "x3" and err.value.value == "abc"


# -- the gate ------------------------------------------------------------------


def test_non_convergence_is_caught_and_invalidates(data, monkeypatch):
    """factor-analyzer's "Failed to converge" (here: the optimiser allowed one iteration)
    becomes efa_not_converged, severity invalidates, instead of being silenced."""
    import factor_analyzer.factor_analyzer as fa_mod
    from scipy.optimize import minimize

    def one_step(*args, **kwargs):
        return minimize(*args, **{**kwargs, "options": {"maxiter": 1}})

    monkeypatch.setattr(fa_mod, "minimize", one_step)
    with warnings.catch_warnings(record=True) as leaked:
        warnings.simplefilter("always")
        res = efa(data["holzinger"], n_factors=3, method="ml", n_iter=5)
    failed = [d for d in res.warnings if d.code == "efa_not_converged"]
    assert len(failed) == 1
    assert failed[0].severity == "invalidates"
    assert failed[0].params["method"] == "ml" and failed[0].params["n_factors"] == 3
    assert res.status == "invalid" and res.to_dict()["status"] == "invalid"
    assert str(failed[0]) == ("the ml factor extraction with 3 factors did not converge; its "
                              "loadings are not trustworthy")
    assert not [w for w in leaked if "converge" in str(w.message)]  # recorded, not leaked


def test_converged_fit_has_no_convergence_diagnostic(data):
    res = efa(data["holzinger"], n_factors=3, method="ml", n_iter=5)
    assert not [d for d in res.warnings if d.code == "efa_not_converged"]


def test_heywood_case_invalidates(data):
    """An item that is a near copy of another (r = 0.99999) drives ML communalities to 1."""
    x = data["holzinger"].copy()
    x["x1"] = x["x2"] + 0.001 * np.random.default_rng(0).standard_normal(len(x))
    res = efa(x, n_factors=3, method="ml", n_iter=5)
    heywood = [d for d in res.warnings if d.code == "efa_heywood"]
    assert len(heywood) == 1 and heywood[0].severity == "invalidates"
    assert set(heywood[0].params["items"]) >= {"x1", "x2"}
    assert all(res.communalities[i] >= efa_mod.HEYWOOD_COMMUNALITY
               for i in heywood[0].params["items"])
    assert res.status == "invalid"


def test_diagnose_codes_and_severities():
    items = pd.Index(["a", "b", "c"])
    flags = pd.DataFrame({"primary": ["F1", "F1", "F2"], "loading": [0.7, 0.35, 0.5],
                          "secondary": ["F2", "F2", "F1"],
                          "secondary_loading": [0.1, 0.2, 0.4],
                          "cross_loading": [False, False, True], "weak": [False, True, False]},
                         index=items)
    out = efa_mod.diagnose(communalities=pd.Series([0.5, 1.02, 0.4], index=items), kmo=0.55,
                           kmo_items=pd.Series([0.7, 0.45, 0.8], index=items),
                           sphericity_p=0.2, flags=flags)
    assert [(d.code, d.severity) for d in out] == [
        ("efa_heywood", "invalidates"), ("efa_kmo_low", "caution"),
        ("efa_item_kmo_low", "caution"), ("efa_sphericity", "caution"),
        ("efa_no_factor", "caution"), ("efa_cross_loading", "info")]
    assert out[0].params == {"items": ["b"]}
    assert str(out[1]) == ("KMO 0.550 is below 0.60: the items share too little variance for "
                           "factor analysis (Kaiser 1974)")
    assert str(out[4]) == "item b loads on no factor (largest loading 0.350 < 0.400)"
    assert "题项 c 存在交叉载荷" in out[5].text("zh")


def test_copied_item_is_an_input_error(data):
    x = data["holzinger"].copy()
    x["x5"] = x["x4"]
    with pytest.raises(InputError, match="'x4' and 'x5' are perfectly correlated") as err:
        efa(x, n_factors=2, n_iter=5)
    assert err.value.column == "x5"
    x = data["holzinger"].copy()
    x["x9"] = x["x7"] + x["x8"]  # linearly dependent, no pair perfectly correlated
    with pytest.raises(InputError, match="linearly dependent"):
        efa(x, n_factors=2, n_iter=5)
