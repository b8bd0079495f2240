"""Robust ML (MLR, MLM) with groups, fixed.x covariates and nested-model tests,
against lavaan 0.6.14.

Reference numbers: tests/reference/lavaan_robust_groups.json, written by
tests/reference/lavaan_robust_groups.R (HolzingerSwineford1939; psych's bfi in
tests/reference/bfi_raw.csv).
"""

from __future__ import annotations

import functools
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from semopy.examples import holzinger39

from satisfaction import robust
from satisfaction.cli import main
from satisfaction.invariance import ROBUST_STEP_COLUMNS, invariance
from satisfaction.model import SEMResult, fit

REFERENCE = Path(__file__).parent / "reference"
REF = json.loads((REFERENCE / "lavaan_robust_groups.json").read_text())
#: measures compared with lavaan to 1e-4 (absolute)
CHECKED = ["chisq", "chisq.scaled", "pvalue.scaled", "chisq.scaling.factor",
           "baseline.chisq.scaled", "baseline.chisq.scaling.factor", "cfi.scaled", "tli.scaled",
           "cfi.robust", "tli.robust", "rmsea.scaled", "rmsea.ci.lower.scaled",
           "rmsea.ci.upper.scaled", "rmsea.robust", "rmsea.ci.lower.robust",
           "rmsea.ci.upper.robust", "npar", "df"]
EQUAL = {"configural": (), "metric": ("loadings",), "scalar": ("loadings", "intercepts"),
         "strict": ("loadings", "intercepts", "residuals")}
#: case -> (group column or None, group_equal)
CASES = {
    **{f"hs_{step}_{e}": ("school", eq) for step, eq in EQUAL.items() for e in ("mlr", "mlm")},
    "hs_exo_mlr": (None, ()), "hs_exo_mlm": (None, ()),
    "hs_intercept_mlr": (None, ()), "hs_intercept_mlm": (None, ()),
    "hs_exo_groups_mlr": ("school", ()), "hs_exo_groups_mlm": ("school", ()),
    "hs_paths_equal_mlr": ("school", ("regressions",)),
    "hs_paths_equal_mlm": ("school", ("regressions",)),
}


def _hs() -> pd.DataFrame:
    return holzinger39.get_data()


def _fit(case: str, data: pd.DataFrame | None = None) -> SEMResult:
    group, equal = CASES.get(case, ("school", ()))
    estimator = case.rsplit("_", 1)[1]
    return fit(REF["fits"][case]["model"], _hs() if data is None else data,
               estimator=estimator, group=group, group_equal=equal)


@functools.cache
def _fitted(case: str) -> SEMResult:
    """One fit per case, shared by the tests (each test fits only what it needs)."""
    return _fit(case)


def _lavaan_rows(case: str) -> dict[tuple, dict]:
    ref = REF["fits"][case]
    labels = ref["group_labels"]
    return {(r["lhs"], r["op"], r["rhs"], labels[r["group"] - 1] if labels else None): r
            for r in ref["parameters"]}


def _compare_fit(ours: SEMResult, case: str, tol: float = 1e-4) -> None:
    ref = REF["fits"][case]["fit"]
    for name in CHECKED:
        assert ours.fit_measures[name] == pytest.approx(ref[name], abs=tol), (case, name)


def _compare_se(ours: SEMResult, case: str, tol: float = 1e-4) -> int:
    ref = _lavaan_rows(case)
    seen = 0
    for row in ours.parameters.to_dict("records"):
        key = (row["lhs"], row["op"], row["rhs"], row.get("group"))
        r = ref.get(key)
        if r is None or r["se"] in (None, 0):
            continue
        seen += 1
        assert row["est"] == pytest.approx(r["est"], abs=tol), key
        assert row["se"] == pytest.approx(r["se"], abs=tol), key
        assert row["pvalue"] == pytest.approx(r["pvalue"], abs=tol), key
        assert row["ci.lower"] == pytest.approx(r["ci.lower"], abs=tol), key
    return seen


def test_reference_uses_lavaan_defaults() -> None:
    assert REF["lavaan_version"] == "0.6.14"
    for case, ref in REF["fits"].items():
        assert ref["converged"], case
        e = ref["estimator"]
        assert e == "ML"
        mlr = case.endswith("mlr") or "_mlr_" in case
        assert (ref["se"], ref["test"]) == (("robust.huber.white", "yuan.bentler.mplus") if mlr
                                            else ("robust.sem", "satorra.bentler")), case


@pytest.mark.parametrize("case", list(CASES))
def test_scaled_and_robust_measures_match_lavaan(case: str) -> None:
    _compare_fit(_fitted(case), case)


@pytest.mark.parametrize("case", list(CASES))
def test_robust_standard_errors_match_lavaan(case: str) -> None:
    assert _compare_se(_fitted(case), case) >= 21


def test_robust_is_not_ml() -> None:
    """The robust SEs differ from the ML ones and MLR from MLM (the test can fail)."""
    ml = fit(REF["fits"]["hs_configural_mlr"]["model"], _hs(), group="school")
    mlr, mlm = _fitted("hs_configural_mlr"), _fitted("hs_configural_mlm")
    assert np.allclose(ml.parameters["est"], mlr.parameters["est"])
    free = ml.parameters["se"] > 0
    assert (ml.parameters.loc[free, "se"] - mlr.parameters.loc[free, "se"]).abs().max() > 1e-3
    assert (mlm.parameters.loc[free, "se"] - mlr.parameters.loc[free, "se"]).abs().max() > 1e-3
    assert "chisq.scaled" not in ml.fit_measures
    # the per-group tables and the multi-group table carry the same robust SEs
    per = mlr.groups.per_group["Pasteur"].parameters
    mine = mlr.parameters[mlr.parameters["group"] == "Pasteur"]
    assert np.allclose(per["se"].to_numpy(), mine["se"].to_numpy())


def test_exogenous_covariates_fixed_x() -> None:
    """fixed.x: the covariates' (co)variances are not parameters and have no SE; the
    regressions on them get robust SEs; lavaan's npar."""
    for case in ("hs_exo_mlr", "hs_exo_groups_mlm"):
        p = _fitted(case).parameters
        exo = p[(p["op"] == "~~") & p["lhs"].isin(["ageyr", "sex"])]
        assert len(exo) and (exo["se"] == 0).all()
        reg = p[(p["op"] == "~") & (p["rhs"] == "ageyr")]
        assert (reg["se"] > 0).all()
    assert _fitted("hs_exo_groups_mlr").fit_measures["npar"] == 62


def test_at_lavaans_default_estimates_the_scaling_is_exact() -> None:
    """lavaan's default optimiser stops ~4e-5 short; at its estimates our formulas give
    its scaling factors to 1e-8 (multi-group, mean structure, fixed.x covariates)."""
    case = "hs_exo_groups_mlr_default"
    ref = REF["fits"][case]
    res = fit(ref["model"], _hs(), group="school")
    spec = res.spec
    lav = _lavaan_rows(case)
    theta = res.theta.copy()
    for g, label in enumerate(res.groups.labels):
        for k, row in enumerate(spec.structure.rows):
            q = spec.param_of_row[g][k]
            if q >= 0:
                theta[q] = lav[(row.lhs, row.op, row.rhs, label)]["est"]
    hs = _hs()
    observed = res.blocks[0].ram.variables[:res.blocks[0].ram.p]
    xs = [hs[hs["school"] == label][observed].to_numpy(float) for label in res.groups.labels]
    fm = ref["fit"]
    rob = robust.fit_complete("mlr", res.blocks, xs, theta, spec.nparam, fm["df"],
                              fm["baseline.df"], nx=2)
    assert rob.scaling == pytest.approx(fm["chisq.scaling.factor"], abs=1e-8)
    assert rob.baseline_scaling == pytest.approx(fm["baseline.chisq.scaling.factor"], abs=1e-8)
    se = np.sqrt(np.diag(rob.vcov))
    for g, label in enumerate(res.groups.labels):
        for k, row in enumerate(spec.structure.rows):
            q = spec.param_of_row[g][k]
            if q >= 0:
                assert se[q] == pytest.approx(lav[(row.lhs, row.op, row.rhs, label)]["se"],
                                              abs=1e-7)


def test_gamma_fixed_x_building_block() -> None:
    """Without covariates Γ is the plain ADF Γ; with them the covariates' rows vanish and
    the endogenous part is the Γ of the regression residuals' cross-products."""
    rng = np.random.default_rng(11)
    x = rng.normal(size=(500, 4)) ** 3
    assert np.allclose(robust.gamma_fixed_x(x, 0, False), robust.gamma_adf(x))
    g = robust.gamma_fixed_x(x, 2, True)
    keep = robust.moment_keep(4, 2, True)
    assert np.allclose(g[~keep][:, ~keep], 0.0)
    assert np.allclose(g[:2, :2], np.cov((x[:, :2] - _ols_fit(x)).T, bias=True))


def _ols_fit(x: np.ndarray) -> np.ndarray:
    design = np.column_stack([np.ones(len(x)), x[:, 2:]])
    return design @ np.linalg.lstsq(design, x[:, :2], rcond=None)[0]


@pytest.mark.parametrize("estimator", ["mlr", "mlm"])
def test_equal_paths_difference_is_scaled(estimator: str) -> None:
    res = fit(REF["fits"][f"hs_paths_{estimator}"]["model"], _hs(), group="school",
              estimator=estimator)
    _compare_fit(res, f"hs_paths_{estimator}")
    _compare_fit(SEMResult(fit_measures=res.groups.equal_fit, parameters=pd.DataFrame(),
                           r2={}, effects=pd.DataFrame(), warnings=[], n=res.n,
                           converged=True), f"hs_paths_equal_{estimator}")
    d = res.groups.chisq_diff
    ref = REF["difference"][f"hs_paths_{estimator}"]
    assert d["chisq.scaled"] == pytest.approx(ref["chisq_diff"], abs=1e-4)
    assert d["df"] == ref["df_diff"]
    assert d["pvalue.scaled"] == pytest.approx(ref["pvalue"], abs=1e-5)
    assert d["method"] == "satorra.bentler.2001"
    # the unscaled difference differs from the scaled one
    assert abs(d["chisq"] - d["chisq.scaled"]) > 5e-3


@pytest.fixture(scope="module")
def steps() -> dict[str, object]:
    return {e: invariance(REF["fits"]["hs_configural_mlr"]["model"], _hs(), "school",
                          estimator=e, suggest=0) for e in ("mlr", "mlm")}


@pytest.mark.parametrize("estimator", ["mlr", "mlm"])
def test_invariance_steps_scaled_difference_matches_lavaan(steps: dict, estimator: str
                                                           ) -> None:
    res = steps[estimator]
    table = res.steps.set_index("model")
    for step in ("configural", "metric", "scalar", "strict"):
        ref = REF["fits"][f"hs_{step}_{estimator}"]["fit"]
        for name in ("chisq", "chisq.scaled", "chisq.scaling.factor", "cfi.robust",
                     "rmsea.robust", "tli.robust"):
            assert table.loc[step, name] == pytest.approx(ref[name], abs=1e-4), (step, name)
    for step in ("metric", "scalar", "strict"):
        ref = REF["difference"][f"hs_{step}_{estimator}"]
        assert table.loc[step, "delta.chisq.scaled"] == pytest.approx(ref["chisq_diff"],
                                                                      abs=1e-4), step
        assert table.loc[step, "delta.df"] == ref["df_diff"]
        assert table.loc[step, "delta.pvalue.scaled"] == pytest.approx(ref["pvalue"], abs=1e-6)
    assert math.isnan(table.loc["configural", "delta.chisq.scaled"])


def test_invariance_decides_by_robust_indices(steps: dict) -> None:
    res = steps["mlr"]
    assert res.decision_indices == ["cfi.robust", "rmsea.robust"]
    for row in res.steps.to_dict("records")[1:]:
        held = row["delta.cfi.robust"] >= -0.01 and row["delta.rmsea.robust"] <= 0.015
        assert row["decision"] == ("held" if held else "not held")
    # HS by school: metric holds, scalar does not (ΔCFI.robust = −0.039)
    assert res.level == "metric"
    doc = res.to_dict()
    assert doc["estimator"] == "mlr"
    assert doc["difference_test"] == "satorra.bentler.2001"
    assert set(ROBUST_STEP_COLUMNS) <= set(doc["steps"][1])
    ml = invariance(REF["fits"]["hs_configural_mlr"]["model"], _hs(), "school", suggest=0)
    assert ml.to_dict()["decision_indices"] == ["cfi", "rmsea"]
    assert "delta.chisq.scaled" not in ml.steps.columns


def test_bfi_by_gender_mlr() -> None:
    """psych's bfi, five factors, by gender (listwise): lavaan's scaled χ², robust
    CFI/RMSEA and SEs."""
    raw = pd.read_csv(REFERENCE / "bfi_raw.csv")
    res = fit(REF["fits"]["bfi_gender_mlr"]["model"], raw, group="gender", estimator="mlr")
    _compare_fit(res, "bfi_gender_mlr")
    assert _compare_se(res, "bfi_gender_mlr") >= 150


def test_cli_group_estimator_and_invariance_json(tmp_path: Path) -> None:
    model = tmp_path / "hs.txt"
    model.write_text(REF["fits"]["hs_exo_groups_mlm"]["model"])
    data = tmp_path / "hs.csv"
    _hs().to_csv(data, index=False)
    out = tmp_path / "fit.json"
    assert main(["fit", str(model), str(data), "--group", "school", "--estimator", "mlm",
                 "--json", str(out)]) == 0
    doc = json.loads(out.read_text())
    ref = REF["fits"]["hs_exo_groups_mlm"]["fit"]
    for name in ("chisq.scaled", "chisq.scaling.factor", "cfi.robust", "rmsea.robust"):
        assert doc["fit"][name] == pytest.approx(ref[name], abs=1e-4), name
    model.write_text(REF["fits"]["hs_configural_mlr"]["model"])
    out = tmp_path / "inv.json"
    assert main(["invariance", str(model), str(data), "--group", "school", "--estimator",
                 "mlr", "--json", str(out)]) == 0
    doc = json.loads(out.read_text())
    ref = REF["difference"]["hs_scalar_mlr"]
    scalar = {s["model"]: s for s in doc["steps"]}["scalar"]
    assert scalar["delta.chisq.scaled"] == pytest.approx(ref["chisq_diff"], abs=1e-4)
    assert doc["decision_indices"] == ["cfi.robust", "rmsea.robust"]
    assert main(["invariance", str(model), str(data), "--group", "school", "--estimator",
                 "wls"]) == 2
    assert main(["invariance", str(model), str(data), "--group", "school", "--estimator",
                 "mlm", "--missing", "fiml"]) == 2


def _hs_missing() -> pd.DataFrame:
    d = _hs().copy()
    d.loc[d["id"] % 7 == 0, "x1"] = np.nan
    d.loc[d["id"] % 11 == 0, "x5"] = np.nan
    d.loc[d["id"] % 13 == 0, "x9"] = np.nan
    return d


def test_fiml_equal_paths_difference_is_scaled() -> None:
    """Multi-group FIML with MLR: the equal-paths test is Satorra-Bentler scaled too."""
    res = fit(REF["fits"]["hs_paths_fiml_mlr"]["model"], _hs_missing(), group="school",
              estimator="mlr", missing="fiml")
    for ours, case in ((res.fit_measures, "hs_paths_fiml_mlr"),
                       (res.groups.equal_fit, "hs_paths_equal_fiml_mlr")):
        ref = REF["fits"][case]["fit"]
        for name in ("chisq", "df", "chisq.scaling.factor", "chisq.scaled"):
            assert ours[name] == pytest.approx(ref[name], abs=1e-4), (case, name)
    d = res.groups.chisq_diff
    ref = REF["difference"]["hs_paths_fiml_mlr"]
    assert d["chisq.scaled"] == pytest.approx(ref["chisq_diff"], abs=1e-4)
    assert d["df"] == ref["df_diff"]
    assert d["pvalue.scaled"] == pytest.approx(ref["pvalue"], abs=1e-5)


@pytest.mark.parametrize("case,group", [("hs_exo_fiml_mlr", None),
                                        ("hs_exo_groups_fiml_mlr", "school")])
def test_fiml_mlr_with_covariates_matches_lavaan(case: str, group: str | None) -> None:
    """MLR with FIML and fixed.x covariates: lavaan's scaled χ², Savalei's robust
    CFI/TLI/RMSEA and the Huber-White SEs (the covariates' elements left out)."""
    res = fit(REF["fits"][case]["model"], _hs_missing(), group=group, estimator="mlr",
              missing="fiml")
    _compare_fit(res, case)
    assert _compare_se(res, case) >= 30


def test_fiml_mlr_with_intercepts_written_in_the_model() -> None:
    """``x1 ~ 1`` written with FIML + MLR (the mean-structure path) is lavaan's
    MLR/FIML fit of the same model (its intercepts are free either way):
    tests/reference/lavaan_robust.json, case hs_fiml_mlr."""
    ref = json.loads((REFERENCE / "lavaan_robust.json").read_text())["fits"]["hs_fiml_mlr"]
    res = fit(ref["model"] + "\nx1 ~ 1", _hs_missing(), estimator="mlr", missing="fiml")
    for name in ("chisq", "chisq.scaled", "chisq.scaling.factor", "cfi.robust", "tli.robust",
                 "rmsea.robust", "baseline.chisq.scaling.factor"):
        assert res.fit_measures[name] == pytest.approx(ref["fit"][name], abs=1e-4), name
    se = {(r["lhs"], r["op"], r["rhs"]): r["se"] for r in ref["parameters"]}
    seen = 0
    for row in res.parameters.to_dict("records"):
        key = (row["lhs"], row["op"], row["rhs"])
        if se.get(key):
            seen += 1
            assert row["se"] == pytest.approx(se[key], abs=1e-4), key
    assert seen == 30


def test_invariance_with_fiml_mlr_matches_lavaan() -> None:
    """invariance --missing fiml --estimator mlr: each step's scaled χ² and robust
    indices (Savalei's) and the Satorra-Bentler (2001) differences as lavaan's."""
    res = invariance(REF["fits"]["hs_configural_fiml_mlr"]["model"], _hs_missing(), "school",
                     missing="fiml", estimator="mlr", suggest=0)
    table = res.steps.set_index("model")
    for step in ("configural", "metric", "scalar"):
        ref = REF["fits"][f"hs_{step}_fiml_mlr"]["fit"]
        for name in ("chisq", "chisq.scaled", "chisq.scaling.factor", "cfi.robust",
                     "rmsea.robust"):
            assert table.loc[step, name] == pytest.approx(ref[name], abs=1e-4), (step, name)
    for step in ("metric", "scalar"):
        ref = REF["difference"][f"hs_{step}_fiml_mlr"]
        assert table.loc[step, "delta.chisq.scaled"] == pytest.approx(ref["chisq_diff"],
                                                                      abs=1e-4), step
        assert table.loc[step, "delta.pvalue.scaled"] == pytest.approx(ref["pvalue"], abs=1e-6)
    assert res.level == "metric"


def test_singular_information_gives_no_sandwich() -> None:
    """When the ML information is singular (the fit flags it) the robust measures are
    NaN and the parameter table is left alone, as lavaan cannot invert it either."""
    res = fit(REF["fits"]["hs_exo_mlr"]["model"], _hs())
    before = res.parameters.copy()
    res.vcov = None
    hs = _hs()
    observed = res.blocks[0].ram.variables[:res.blocks[0].ram.p]
    out = robust.apply_complete(res, "mlr", res.blocks, [hs[observed].to_numpy(float)],
                                res.theta, res.spec.nparam, res.spec.param_of_row, 2)
    assert out is None
    assert all(math.isnan(res.fit_measures[k]) for k in robust.ROBUST_FIT_NAMES)
    pd.testing.assert_frame_equal(res.parameters, before)


def test_inadmissible_configural_model_licenses_no_level(monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    """``level`` is ``none`` when the configural model is not admissible, even when the
    later steps' ΔCFI/ΔRMSEA would hold (they compare improper solutions): the bank
    model by gender has a negative latent variance in its configural fit."""
    import satisfaction.invariance as inv
    from satisfaction.diagnostics import Diagnostic

    real = inv.fit

    def improper_configural(*args: object, **kwargs: object) -> SEMResult:
        res = real(*args, **kwargs)
        if not kwargs.get("group_equal"):
            res.warnings.append(Diagnostic("negative_variance", "invalidates",
                                           {"a": "visual", "b": "visual", "value": -0.1}))
        return res

    monkeypatch.setattr(inv, "fit", improper_configural)
    res = inv.invariance(REF["fits"]["hs_configural_mlm"]["model"], _hs(), "school",
                         estimator="mlm", suggest=0)
    assert res.steps.set_index("model").loc["metric", "decision"] == "held"
    assert res.level == "none"
    assert not res.means_comparable
    assert any(w.code == "invariance_step_invalid" for w in res.warnings)


def test_fit_cutoffs_judge_the_robust_indices() -> None:
    """Under MLR/MLM the fit cautions name and use the robust CFI/TLI/RMSEA."""
    res = _fitted("hs_configural_mlm")
    fm = res.fit_measures
    poor = {w.params["index"]: w.params["value"] for w in res.warnings if w.code == "fit_poor"}
    assert poor["rmsea.robust"] == pytest.approx(fm["rmsea.robust"])
    assert "rmsea" not in poor and "cfi" not in poor
    # ML: the plain indices
    ml = fit(REF["fits"]["hs_configural_mlm"]["model"], _hs(), group="school")
    assert "rmsea" in {w.params["index"] for w in ml.warnings if w.code == "fit_poor"}


def test_defined_parameter_across_groups_has_the_robust_se() -> None:
    """``diff := b1 - b2`` over ``c(b1, b2)*`` labels: its delta-method SE from the
    robust (MLR) covariance, as lavaan's."""
    case = "hs_defined_mlr"
    res = fit(REF["fits"][case]["model"], _hs(), group="school", estimator="mlr")
    _compare_fit(res, case)
    p = res.parameters
    ours = p[p["op"] == ":="].iloc[0]
    ref = next(r for r in REF["fits"][case]["parameters"] if r["op"] == ":=")
    for name in ("est", "se", "pvalue", "ci.lower", "ci.upper"):
        assert ours[name] == pytest.approx(ref[name], abs=1e-4), name
    ml = fit(REF["fits"][case]["model"], _hs(), group="school")
    assert abs(ml.parameters.loc[ml.parameters["op"] == ":=", "se"].iloc[0] - ours["se"]) > 1e-3


@pytest.mark.parametrize("case", ["hs_exo_mlr", "hs_exo_mlm", "hs_exo_fiml_mlr"])
def test_standardized_intervals_with_covariates_are_robust(case: str) -> None:
    """std.all and its delta-method interval (lavaan's standardizedSolution) from the
    robust covariance, with fixed.x covariates (complete data and FIML)."""
    data = _hs_missing() if "fiml" in case else _hs()
    res = _fitted(case) if case in CASES else fit(
        REF["fits"][case]["model"], data, estimator="mlr", missing="fiml")
    std = {(r["lhs"], r["op"], r["rhs"]): r for r in REF["fits"][case]["std"]}
    seen = 0
    for row in res.parameters.to_dict("records"):
        r = std.get((row["lhs"], row["op"], row["rhs"]))
        if r is None or not r["se"] or row["op"] == "~1":
            continue
        seen += 1
        key = (row["lhs"], row["op"], row["rhs"])
        assert row["std.all"] == pytest.approx(r["est.std"], abs=1e-4), key
        assert row["std.ci.lower"] == pytest.approx(r["ci.lower"], abs=1e-4), key
        assert row["std.ci.upper"] == pytest.approx(r["ci.upper"], abs=1e-4), key
    assert seen >= 20
