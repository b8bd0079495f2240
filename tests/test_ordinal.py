"""Ordinal items (polychoric correlations, WLSMV) against lavaan 0.6.14.

Reference: tests/reference/lavaan_ordinal.R writes tests/reference/lavaan_ordinal.json
(psych's bfi items, listwise complete on fifteen items: a three-factor CFA, an SEM
with two regressions and a residual covariance, a two-factor CFA of four-category
items and one of binary items; ``ordered = items``, ``estimator = "WLSMV"``).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats

from satisfaction import ordinal
from satisfaction.model import fit

REF_DIR = Path(__file__).parent / "reference"
REF = json.loads((REF_DIR / "lavaan_ordinal.json").read_text())
ITEMS = REF["items"]
#: every fit measure of a WLSMV fit, each against lavaan's fitMeasures()
CHECKED = [k for k in ordinal.WLSMV_FIT_NAMES if k != "ntotal"]


def _bfi() -> pd.DataFrame:
    raw = pd.read_csv(REF_DIR / "bfi_raw.csv")
    return raw[ITEMS].dropna()


def _data(name: str) -> pd.DataFrame:
    d = _bfi()
    if name == "two":
        d = d[["A1", "A2", "A3", "A4", "A5", "E1", "E2", "E3", "E4", "E5"]].copy()
        for c in d:
            d[c] = np.array([1, 1, 2, 2, 3, 4])[d[c].astype(int) - 1]
    elif name == "bin":
        d = d[["C1", "C2", "C3", "C4", "C5", "E1", "E2", "E3", "E4", "E5"]].copy()
        for c in d:
            d[c] = (d[c] >= 5).astype(int)
    return d


@pytest.fixture(scope="module")
def sample() -> ordinal.SampleStatistics:
    return ordinal.sample_statistics(ordinal.code_items(_bfi(), ITEMS))


@pytest.fixture(scope="module")
def fits() -> dict:
    out = {}
    for name in ("cfa", "sem", "two", "bin"):
        model = REF["fits"][name]["model"]
        out[name] = fit(model, _data(name), ordered="all", estimator="wlsmv")
    return out


# -- the bivariate normal distribution -----------------------------------------------


def _plackett(h: float, k: float, rho: float) -> float:
    """Second implementation: Φ₂(h,k;ρ) = Φ(h)Φ(k) + ∫₀^ρ φ₂(h,k;r) dr (Plackett, 1954)."""
    def dens(r: float) -> float:
        return math.exp(-(h * h - 2 * r * h * k + k * k) / (2 * (1 - r * r))) / (
            2 * math.pi * math.sqrt(1 - r * r))
    return stats.norm.cdf(h) * stats.norm.cdf(k) + integrate.quad(
        dens, 0.0, rho, epsabs=1e-14, epsrel=1e-12)[0]


@pytest.mark.parametrize("h,k,rho", [(0.3, -1.2, 0.45), (-0.7, -0.2, -0.8), (1.5, 2.1, 0.95),
                                     (0.0, 0.8, 0.3), (0.0, 0.0, -0.5), (-2.5, 0.0, 0.7),
                                     (-1.0, 1.0, -0.99), (0.4, -0.4, 0.0)])
def test_bivariate_normal_cdf_matches_plackett_integral(h, k, rho):
    got = float(ordinal.bivariate_normal_cdf(np.array([h]), np.array([k]), rho)[0])
    assert got == pytest.approx(_plackett(h, k, rho), abs=1e-10)


def test_bivariate_normal_cdf_at_infinite_limits():
    got = ordinal.bivariate_normal_cdf(np.array([np.inf, -np.inf, 0.3, np.inf]),
                                       np.array([0.3, 0.3, np.inf, np.inf]), 0.6)
    assert got == pytest.approx([stats.norm.cdf(0.3), 0.0, stats.norm.cdf(0.3), 1.0])


def test_bivariate_normal_pdf_is_the_rho_derivative_of_the_cdf():
    h, k, rho, eps = np.array([0.4, -1.1]), np.array([-0.3, 0.9]), 0.35, 1e-6
    numeric = (ordinal.bivariate_normal_cdf(h, k, rho + eps)
               - ordinal.bivariate_normal_cdf(h, k, rho - eps)) / (2 * eps)
    assert ordinal.bivariate_normal_pdf(h, k, rho) == pytest.approx(numeric, abs=1e-8)


# -- sample statistics -----------------------------------------------------------------


def test_thresholds_match_lavaan(sample):
    assert sample.n == REF["n"]
    ref = np.array(list(REF["thresholds"].values()))
    assert list(REF["thresholds"]) == sample.labels[:len(ref)]
    np.testing.assert_allclose(sample.threshold_vector, ref, atol=1e-10)


def test_polychoric_matrix_matches_lavcor(sample):
    np.testing.assert_allclose(sample.correlation, np.array(REF["polychoric"]), atol=1e-6)


def test_gamma_matches_lavaan_nacov(sample):
    """Γ (lavInspect(fit, "gamma")): its diagonal (the DWLS weights) and a block that
    couples thresholds with correlations (the two-step correction)."""
    assert sample.labels == REF["gamma_names"]
    np.testing.assert_allclose(np.diag(sample.gamma), REF["gamma_diag"], rtol=1e-6)
    np.testing.assert_allclose(1 / np.diag(sample.gamma), REF["wls_v_diag"], rtol=1e-6)
    block = np.array(REF["gamma_block"])
    np.testing.assert_allclose(sample.gamma[:20, :120], block, atol=1e-6)


def test_four_category_sample_statistics_match_lavaan():
    d = _data("two")
    ss = ordinal.sample_statistics(ordinal.code_items(d, list(d.columns)))
    np.testing.assert_allclose(ss.threshold_vector, list(REF["two_thresholds"].values()),
                               atol=1e-10)
    np.testing.assert_allclose(ss.correlation, np.array(REF["two_polychoric"]), atol=1e-6)


def test_items_are_coded_by_their_sorted_observed_values():
    frame = pd.DataFrame({"a": [3.0, 7.0, 3.0, 5.0], "b": [1.0, 1.0, 2.0, 2.0]})
    data = ordinal.code_items(frame, ["a", "b"])
    assert data.codes[:, 0].tolist() == [0, 2, 0, 1]
    assert data.ncat == [3, 2]
    # two of four at or below the first category: τ₁ = Φ⁻¹(0.5) = 0
    assert ordinal.thresholds(data)[1] == pytest.approx([0.0])


# -- WLSMV fits ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["cfa", "sem", "two", "bin"])
def test_fit_measures_match_lavaan(fits, name):
    ref = dict(REF["fits"][name]["fit"])
    # T_ss = a·T + b with 1/a the scaling factor: lavaan's shift parameter b
    ref["chisq.shift.parameters"] = ref["chisq.scaled"] - ref["chisq"] / ref[
        "chisq.scaling.factor"]
    got = fits[name].fit_measures
    assert got["ntotal"] == REF["n"]
    for key in CHECKED:
        tol = 1e-3 if "chisq" in key else 1e-4
        assert got[key] == pytest.approx(ref[key], abs=tol), key


@pytest.mark.parametrize("name", ["cfa", "sem", "two", "bin"])
def test_parameters_match_lavaan(fits, name):
    """Every row of parameterEstimates(standardized = TRUE), in lavaan's order:
    loadings, regressions, thresholds (x | t1), residual variances 1 − R², latent
    (co)variances, scale factors (~*~), intercepts and latent means (~1)."""
    ref = pd.DataFrame(REF["fits"][name]["parameters"])
    got = fits[name].parameters
    assert got[["lhs", "op", "rhs"]].values.tolist() == ref[["lhs", "op", "rhs"]].values.tolist()
    np.testing.assert_allclose(got["est"], ref["est"], atol=1e-4)
    np.testing.assert_allclose(got["se"], ref["se"], atol=1e-4)
    np.testing.assert_allclose(got["std.all"], ref["std.all"], atol=1e-4)
    np.testing.assert_allclose(got["std.lv"], ref["std.lv"], atol=1e-4)
    np.testing.assert_allclose(got["ci.lower"], ref["ci.lower"], atol=1e-4)
    free = ref["se"] > 0
    np.testing.assert_allclose(got.loc[free, "z"], ref.loc[free, "z"], rtol=1e-3)


def test_threshold_rows_are_the_sample_thresholds(fits, sample):
    got = fits["cfa"].parameters
    th = got[got["op"] == "|"]
    assert th["est"].to_numpy() == pytest.approx(sample.threshold_vector, abs=1e-12)
    assert (th["se"] > 0).all()


def test_residual_variances_are_one_minus_r2(fits):
    res = fits["sem"]
    p = res.parameters
    for item in ["A1", "C3", "E5"]:
        resid = float(p[(p.lhs == item) & (p.op == "~~") & (p.rhs == item)]["est"].iloc[0])
        assert resid == pytest.approx(1 - res.r2[item], abs=1e-12)


def test_structure_of_result_is_the_ml_form(fits):
    res = fits["sem"]
    out = res.to_dict()
    assert out["converged"] is True and out["n"] == REF["n"]
    assert {"A1", "t1"} <= {r["lhs"] for r in out["parameters"]} | {
        r["rhs"] for r in out["parameters"]}
    assert out["fit"]["chisq.scaled"] == pytest.approx(
        REF["fits"]["sem"]["fit"]["chisq.scaled"], abs=1e-3)
    assert math.isnan(res.fit_measures["cfi"]) is False


# -- the command line and what is refused ---------------------------------------------

TWO = REF["fits"]["two"]


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("ordinal")
    raw = pd.read_csv(REF_DIR / "bfi_raw.csv")
    data = _data("two")
    data["gender"] = raw.loc[data.index, "gender"]
    (folder / "two.lav").write_text(TWO["model"] + "\n")
    data.to_csv(folder / "two.csv", index=False)
    flat = data.copy()
    flat["A1"] = 2  # one observed category: nothing to estimate a threshold from
    flat.to_csv(folder / "flat.csv", index=False)
    (folder / "resid.lav").write_text(TWO["model"] + "\nA1 ~~ A1\n")
    return {"model": folder / "two.lav", "data": folder / "two.csv",
            "flat": folder / "flat.csv", "resid": folder / "resid.lav", "folder": folder}


def test_cli_fit_ordered_writes_lavaans_numbers(files, capsys):
    from satisfaction.cli import main

    out = files["folder"] / "two.json"
    code = main(["fit", str(files["model"]), str(files["data"]), "--ordered", "all",
                 "--estimator", "wlsmv", "--json", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "WLSMV" in printed and "chisq.scaled" in printed
    got = json.loads(out.read_text())
    assert got["fit"]["chisq.scaled"] == pytest.approx(TWO["fit"]["chisq.scaled"], abs=1e-3)
    assert got["fit"]["cfi.scaled"] == pytest.approx(TWO["fit"]["cfi.scaled"], abs=1e-4)
    rows = {(p["lhs"], p["op"], p["rhs"]): p for p in got["parameters"]}
    ref = {(p["lhs"], p["op"], p["rhs"]): p for p in TWO["parameters"]}
    assert rows.keys() == ref.keys()
    assert rows[("A5", "|", "t3")]["est"] == pytest.approx(ref[("A5", "|", "t3")]["est"],
                                                           abs=1e-6)
    assert rows[("A", "=~", "A3")]["se"] == pytest.approx(ref[("A", "=~", "A3")]["se"],
                                                          abs=1e-4)


def test_ordered_names_and_all_give_the_same_fit(fits):
    names = ["A1", "A2", "A3", "A4", "A5", "E1", "E2", "E3", "E4", "E5"]
    by_name = fit(TWO["model"], _data("two"), ordered=names, estimator="wlsmv")
    assert by_name.fit_measures["chisq"] == pytest.approx(fits["two"].fit_measures["chisq"],
                                                          abs=1e-9)


@pytest.mark.parametrize("extra,needle", [
    (["--ordered", "all"], "--estimator wlsmv"),
    (["--estimator", "wlsmv"], "--ordered"),
    (["--ordered", "A1,A2", "--estimator", "wlsmv"], "must be ordered"),
    (["--ordered", "A1,ZZ9", "--estimator", "wlsmv"], "ZZ9"),
    (["--ordered", "all", "--estimator", "wlsmv", "--group", "gender"], "--group"),
    (["--ordered", "all", "--estimator", "wlsmv", "--missing", "fiml"], "--missing"),
    (["--ordered", "all", "--estimator", "wlsmv", "--bootstrap", "20"], "--bootstrap"),
    (["--ordered", "all", "--estimator", "wlsmv", "--modindices"], "--modindices"),
    (["--ordered", "all", "--estimator", "wlsmv", "--scores", "s.csv"], "--scores"),
])
def test_cli_refuses_what_wlsmv_does_not_support(files, capsys, extra, needle):
    from satisfaction.cli import main

    out = files["folder"] / "refused.json"
    code = main(["fit", str(files["model"]), str(files["data"]), *extra, "--json", str(out)])
    assert code == 2
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err
    assert not out.exists()


def test_cli_refuses_a_single_category_item(files, capsys):
    from satisfaction.cli import main

    code = main(["fit", str(files["model"]), str(files["flat"]), "--ordered", "all",
                 "--estimator", "wlsmv"])
    assert code == 2
    err = capsys.readouterr().err
    assert "'A1'" in err and "single observed category" in err


def test_cli_refuses_a_residual_variance_of_an_ordered_item(files, capsys):
    from satisfaction.cli import main

    code = main(["fit", str(files["resid"]), str(files["data"]), "--ordered", "all",
                 "--estimator", "wlsmv"])
    assert code == 2
    assert "A1 ~~ A1" in capsys.readouterr().err


def test_listwise_deletion_is_counted(files):
    data = pd.read_csv(files["data"])
    data.loc[data.index[:7], "E3"] = np.nan
    res = fit(TWO["model"], data, ordered="all", estimator="wlsmv")
    assert res.excluded == {"missing_values": 7}
    assert res.n == REF["n"] - 7
    assert any(w.code == "listwise" for w in res.warnings)


@pytest.mark.parametrize("name", ["cfa", "sem", "two", "bin"])
def test_std_all_intervals_match_standardized_solution(fits, name):
    """Delta-method intervals of std.all (lavaan's standardizedSolution() from the
    robust covariance): the items' residual variances move with the parameters."""
    ref = pd.DataFrame(REF["fits"][name]["std"])
    got = fits[name].parameters
    merged = ref.merge(got, on=["lhs", "op", "rhs"], suffixes=("_ref", ""))
    assert len(merged) == len(ref)
    structural = merged[~merged["op"].isin(["|", "~*~", "~1"])]
    np.testing.assert_allclose(structural["std.all"], structural["est.std"], atol=1e-4)
    np.testing.assert_allclose(structural["std.ci.lower"], structural["ci.lower_ref"],
                               atol=1e-4)
    np.testing.assert_allclose(structural["std.ci.upper"], structural["ci.upper_ref"],
                               atol=1e-4)


def test_defined_parameter_matches_lavaan(fits):
    """``ab := a*b`` (an indirect effect): estimate and delta-method SE as lavaan's."""
    ref = pd.DataFrame(REF["fits"]["sem"]["parameters"])
    got = fits["sem"].parameters
    r = ref[ref["op"] == ":="].iloc[0]
    g = got[got["op"] == ":="].iloc[0]
    assert (g["lhs"], g["rhs"]) == (r["lhs"], r["rhs"])
    assert g["est"] == pytest.approx(r["est"], abs=1e-4)
    assert g["se"] == pytest.approx(r["se"], abs=1e-4)
    assert g["std.all"] == pytest.approx(r["std.all"], abs=1e-4)


@pytest.mark.parametrize("extra,needle", [
    ("A1 ~ A2", "as a predictor"),
    ("A =~ a*A2\nE =~ b*E2\na > 0", "bounds"),
    ("A ~ 1", "intercepts"),
])
def test_unsupported_syntax_is_refused(extra, needle):
    from satisfaction.errors import InputError

    with pytest.raises(InputError, match=needle):
        fit(TWO["model"] + "\n" + extra, _data("two"), ordered="all", estimator="wlsmv")


def test_standardized_indirect_effect_interval_matches_lavaan(fits):
    """The only path from A to E runs through C, so the standardized indirect effect
    A → E is lavaan's standardized ``ab := a*b`` (standardizedSolution())."""
    ref = pd.DataFrame(REF["fits"]["sem"]["std"])
    r = ref[ref["op"] == ":="].iloc[0]
    eff = fits["sem"].effects
    e = eff[(eff["from"] == "A") & (eff["to"] == "E")].iloc[0]
    assert e["std.indirect"] == pytest.approx(r["est.std"], abs=1e-4)
    assert e["std.indirect.ci.lower"] == pytest.approx(r["ci.lower"], abs=1e-4)
    assert e["std.indirect.ci.upper"] == pytest.approx(r["ci.upper"], abs=1e-4)
    assert e["ci.method"] == "delta"


# -- sparse tables: the ECSI bank data (11 categories, 250 respondents) ------------------


@pytest.fixture(scope="module")
def bank(bank_csv):
    return fit(REF["fits"]["bank"]["model"], pd.read_csv(bank_csv), ordered="all",
               estimator="wlsmv")


def test_bank_polychorics_follow_lavaans_sparse_table_conventions(bank):
    """With cells of probability below √ε (counted as √ε, as lavaan does) the
    likelihood of imag1 × imag2 has two maxima; lavaan's (0.746, the higher one)
    is found, not the other (0.707)."""
    ss = bank.ordinal
    assert ss.names == REF["bank_items"]
    np.testing.assert_allclose(ss.correlation, np.array(REF["bank_polychoric"]), atol=1e-6)


def test_bank_fit_matches_lavaan_and_is_flagged_improper(bank):
    ref = dict(REF["fits"]["bank"]["fit"])
    ref["chisq.shift.parameters"] = ref["chisq.scaled"] - ref["chisq"] / ref[
        "chisq.scaling.factor"]
    for key in CHECKED:
        tol = 1e-3 if "chisq" in key else 1e-4
        assert bank.fit_measures[key] == pytest.approx(ref[key], abs=tol), key
    params = pd.DataFrame(REF["fits"]["bank"]["parameters"])
    got = bank.parameters
    assert got[["lhs", "op", "rhs"]].values.tolist() == \
        params[["lhs", "op", "rhs"]].values.tolist()
    np.testing.assert_allclose(got["est"], params["est"], atol=1e-4)
    np.testing.assert_allclose(got["se"], params["se"], atol=1e-3)
    # lavaan warns that a latent variance is negative; so do we, and the gate closes
    assert any(w.code == "negative_variance" for w in bank.warnings)
    assert bank.status == "invalid"


def test_two_empty_cells_in_a_binary_table_is_refused():
    frame = pd.DataFrame({"a": [0, 0, 1, 1] * 10, "b": [0, 0, 1, 1] * 10,
                          "c": [0, 1, 0, 1] * 10})
    from satisfaction.errors import InputError

    with pytest.raises(InputError, match="perfectly associated"):
        ordinal.sample_statistics(ordinal.code_items(frame, ["a", "b", "c"]))


def test_binary_table_conventions_match_lavcor():
    """lavaan's 2×2 rules: independence gives 0; both thresholds 0 gives the closed
    form −cos(2π n₁₁/N); one empty cell has 0.5 moved onto it keeping the margins
    (lavCor on the same tables)."""
    zero = np.array([0.0])
    assert ordinal.polychoric_pair(np.array([[10.0, 20.0], [5.0, 10.0]]),
                                   np.array([0.3]), np.array([-0.2])) == 0.0
    got = ordinal.polychoric_pair(np.array([[30.0, 20.0], [20.0, 30.0]]), zero, zero)
    assert got == pytest.approx(REF["binary_cases"]["balanced"], abs=1e-9)
    tab = np.array([[0.0, 12.0], [9.0, 19.0]])
    t1 = np.array([stats.norm.ppf(12 / 40)])
    t2 = np.array([stats.norm.ppf(9 / 40)])
    assert ordinal.polychoric_pair(tab, t1, t2) == pytest.approx(
        REF["binary_cases"]["empty_cell"], abs=1e-6)


def test_five_factor_bfi_matches_lavaan():
    """All 25 bfi items, five factors, reverse-worded markers (A1): the issue's
    hard case for start values; 300 polychoric correlations."""
    ref = REF["fits"]["five"]
    items = [f"{c}{i}" for c in "ACENO" for i in range(1, 6)]
    raw = pd.read_csv(REF_DIR / "bfi_raw.csv")
    res = fit(ref["model"], raw[items], ordered="all", estimator="wlsmv")
    assert res.converged
    for key in ("npar", "chisq", "df", "chisq.scaled", "cfi.scaled", "tli.scaled",
                "rmsea.scaled", "cfi.robust", "rmsea.robust", "srmr"):
        assert res.fit_measures[key] == pytest.approx(ref["fit"][key], abs=1e-3), key
    params = pd.DataFrame(ref["parameters"])
    np.testing.assert_allclose(res.parameters["est"], params["est"], atol=1e-4)
    np.testing.assert_allclose(res.parameters["se"], params["se"], atol=1e-4)
    assert res.n == int(raw[items].notna().all(axis=1).sum())
    assert res.excluded == {"missing_values": len(raw) - res.n}


# -- pairwise deletion ------------------------------------------------------------------


def test_pairwise_deletion_matches_lavaan():
    """missing="pairwise": thresholds from each item's answers, each polychoric from
    the respondents who answered both (lavaan's missing = "pairwise")."""
    ref = REF["fits"]["pair"]
    items = ["A1", "A2", "A3", "A4", "A5", "E1", "E2", "E3", "E4", "E5"]
    raw = pd.read_csv(REF_DIR / "bfi_raw.csv")
    res = fit(ref["model"], raw[items], ordered="all", estimator="wlsmv", missing="pairwise")
    assert res.n == REF["pair_n"]
    assert res.excluded == {"all_values_missing": len(raw) - REF["pair_n"]}
    np.testing.assert_allclose(res.ordinal.correlation, np.array(REF["pair_polychoric"]),
                               atol=1e-6)
    expected = dict(ref["fit"])
    expected["chisq.shift.parameters"] = expected["chisq.scaled"] - expected["chisq"] / \
        expected["chisq.scaling.factor"]
    for key in CHECKED:
        tol = 1e-3 if "chisq" in key else 1e-4
        assert res.fit_measures[key] == pytest.approx(expected[key], abs=tol), key
    params = pd.DataFrame(ref["parameters"])
    np.testing.assert_allclose(res.parameters["est"], params["est"], atol=1e-4)
    np.testing.assert_allclose(res.parameters["se"], params["se"], atol=1e-4)


def test_cli_missing_pairwise_needs_ordered_items(files, capsys):
    from satisfaction.cli import main

    assert main(["fit", str(files["model"]), str(files["data"]), "--missing",
                 "pairwise"]) == 2
    assert "--missing" in capsys.readouterr().err
    assert main(["fit", str(files["model"]), str(files["data"]), "--ordered", "all",
                 "--estimator", "wlsmv", "--missing", "pairwise"]) == 0


def test_equality_constraint_matches_lavaan():
    """``a == b`` on two loadings: one parameter, lavaan's npar, df, χ² and estimates."""
    ref = REF["fits"]["eq"]
    res = fit(ref["model"], _bfi()[["A1", "A2", "A3", "A4", "A5", "E1", "E2", "E3", "E4",
                                    "E5"]], ordered="all", estimator="wlsmv")
    for key in ("npar", "df", "chisq", "chisq.scaled", "cfi.scaled", "rmsea.scaled"):
        assert res.fit_measures[key] == pytest.approx(ref["fit"][key], abs=1e-3), key
    params = pd.DataFrame(ref["parameters"])
    free = params["op"].isin(["=~", "~~", "|"])
    got = res.parameters
    merged = params[free].merge(got, on=["lhs", "op", "rhs"], suffixes=("_ref", ""))
    assert len(merged) == int(free.sum())
    np.testing.assert_allclose(merged["est"], merged["est_ref"], atol=1e-4)
    np.testing.assert_allclose(merged["se"], merged["se_ref"], atol=1e-4)


@pytest.mark.parametrize("estimator", ["ulsmv", "wlsm"])
def test_ulsmv_and_wlsm_match_lavaan(estimator):
    """ULSMV (unweighted estimates, scaled-and-shifted test) and WLSM (DWLS,
    Satorra-Bentler scaled test; its rmsea.scaled on tr(UΓ) degrees of freedom)."""
    ref = REF["fits"][estimator]
    assert (ref["estimator"], ref["test"]) == {"ulsmv": ("ULS", "scaled.shifted"),
                                               "wlsm": ("DWLS", "satorra.bentler")}[estimator]
    items = ["A1", "A2", "A3", "A4", "A5", "E1", "E2", "E3", "E4", "E5"]
    res = fit(ref["model"], _bfi()[items], ordered="all", estimator=estimator)
    for key in CHECKED:
        if key not in ref["fit"]:
            continue  # the shift parameter of the scaled-and-shifted test
        if ref["fit"][key] is None:  # ULS: no p value of the unscaled statistic
            assert math.isnan(res.fit_measures[key]), key
            continue
        tol = 1e-3 if "chisq" in key else 1e-4
        assert res.fit_measures[key] == pytest.approx(ref["fit"][key], abs=tol), key
    params = pd.DataFrame(ref["parameters"])
    np.testing.assert_allclose(res.parameters["est"], params["est"], atol=1e-4)
    np.testing.assert_allclose(res.parameters["se"], params["se"], atol=1e-4)
    np.testing.assert_allclose(res.parameters["std.all"], params["std.all"], atol=1e-4)
