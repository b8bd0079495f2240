"""SEM fit, fit indices, parameters, R², effects and groups against lavaan 0.6.

Reference numbers: tests/reference/lavaan_*.json, written by
tests/reference/lavaan_reference.R (run it with ``Rscript`` from the repository
root). Tolerance: 1e-3, relative for chi-square statistics, absolute elsewhere.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from semopy.examples import holzinger39, political_democracy

from satisfaction.cli import main
from satisfaction.errors import InputError, SchemaError, UsageError
from satisfaction.model import CI_COLUMNS, EFFECT_COLUMNS, PARAMETER_COLUMNS, fit
from satisfaction.questionnaire import load_questionnaire
from satisfaction.responses import load_responses
from satisfaction.simulate import simulate_responses
from tests.conftest import QUESTIONNAIRES, REFERENCE, SHARED

TOL = 1e-3
RELATIVE = {"chisq", "baseline.chisq"}


def reference(case: str) -> dict:
    return json.loads((REFERENCE / f"lavaan_{case}.json").read_text())


def bank() -> pd.DataFrame:
    return pd.read_csv(SHARED / "bank_satisfaction.csv")


DATA = {
    "political_democracy": political_democracy.get_data,
    "holzinger_swineford": holzinger39.get_data,
    "ecsi_bank": bank,
    "observed_predictors": political_democracy.get_data,
}


@pytest.fixture(scope="module")
def fits() -> dict:
    return {case: fit(reference(case)["model"], load()) for case, load in DATA.items()}


def close(ours: float | None, theirs: float | None, relative: bool = False) -> bool:
    if theirs is None:
        return ours is None or not math.isfinite(ours)
    if ours is None:
        return False
    scale = max(abs(theirs), 1.0) if relative else 1.0
    return abs(ours - theirs) <= TOL * scale


def find(params: pd.DataFrame, row: dict, group: str | None = None) -> pd.Series:
    sel = params
    if group is not None:
        sel = sel[sel["group"] == group]
    m = sel[(sel.lhs == row["lhs"]) & (sel.op == row["op"]) & (sel.rhs == row["rhs"])]
    if m.empty and row["op"] == "~~":
        m = sel[(sel.lhs == row["rhs"]) & (sel.op == "~~") & (sel.rhs == row["lhs"])]
    assert len(m) == 1, f"no unique row for {row['lhs']} {row['op']} {row['rhs']}"
    return m.iloc[0]


@pytest.mark.parametrize("case", list(DATA))
def test_fit_measures_match_lavaan(fits: dict, case: str) -> None:
    ref = reference(case)["fit"]
    ours = fits[case].fit_measures
    for name, value in ref.items():
        assert close(ours[name], value, name in RELATIVE), (name, ours[name], value)


@pytest.mark.parametrize("case", list(DATA))
def test_parameters_match_lavaan(fits: dict, case: str) -> None:
    res = fits[case]
    assert list(res.parameters.columns) == PARAMETER_COLUMNS
    ref = reference(case)["parameters"]
    assert len(res.parameters) == len(ref)
    for row in ref:
        ours = find(res.parameters, row)
        for col in ("est", "se", "z", "pvalue", "ci.lower", "ci.upper", "std.all"):
            theirs = row[col]
            if col in ("z", "pvalue") and row["se"] == 0:
                assert not math.isfinite(ours[col])  # fixed parameter: no test
                continue
            assert close(float(ours[col]), theirs), (row["lhs"], row["op"], row["rhs"], col,
                                                     ours[col], theirs)


@pytest.mark.parametrize("case", list(DATA))
def test_r2_matches_lavaan(fits: dict, case: str) -> None:
    ref = reference(case)["r2"]
    assert set(fits[case].r2) == set(ref)
    for name, value in ref.items():
        assert close(fits[case].r2[name], value), name


@pytest.mark.parametrize("case", ["political_democracy", "ecsi_bank"])
def test_effects_match_lavaan_beta(fits: dict, case: str) -> None:
    ref = pd.DataFrame(reference(case)["effects"]).set_index(["from", "to"])
    ours = fits[case].effects
    assert list(ours.columns[:len(EFFECT_COLUMNS)]) == EFFECT_COLUMNS
    ours = ours.set_index(["from", "to"])
    assert set(ours.index) == set(ref.index)
    for col in ("direct", "indirect", "total", "std.direct", "std.indirect", "std.total"):
        # lavaan's matrices hold 0 where we report an absent effect (NaN)
        absent = ours[col].isna()
        assert (ref.loc[ours.index[absent], col].abs() < 1e-12).all(), col
        diff = (ours[col].fillna(0.0) - ref.loc[ours.index, col]).abs().max()
        assert diff <= TOL, (col, diff)


def test_ecsi_bank_improper_paths_are_warnings(fits: dict) -> None:
    res = fits["ecsi_bank"]
    assert res.converged
    improper = [w for w in res.warnings if w.code == "improper_path"]
    assert {(w.params["lhs"], w.params["rhs"]) for w in improper} == {
        ("Value", "Expectation"), ("Value", "Quality")}
    assert all(w.severity == "invalidates" for w in improper)
    assert res.status == "invalid"


def test_multigroup_matches_lavaan() -> None:
    ref = reference("ecsi_bank_gender")
    res = fit(ref["model"], bank(), group="gender")
    g = res.groups
    assert g is not None and g.labels == ref["group_labels"]
    for name, value in ref["fit"].items():
        assert close(res.fit_measures[name], value, name in RELATIVE), name
    for name, value in ref["equal_fit"].items():
        assert close(g.equal_fit[name], value, name in RELATIVE), name
    assert close(g.chisq_diff["chisq"], ref["chisq_diff"]["chisq"], relative=True)
    assert g.chisq_diff["df"] == ref["chisq_diff"]["df"]
    assert close(g.chisq_diff["pvalue"], ref["chisq_diff"]["pvalue"])
    for row in ref["parameters"]:
        label = ref["group_labels"][row["group"] - 1]
        ours = find(res.parameters, row, group=label)
        for col in ("est", "se", "std.all"):
            assert close(float(ours[col]), row[col]), (label, row["lhs"], row["op"],
                                                       row["rhs"], col)
    for label in g.labels:
        for name, value in ref["r2"][label].items():
            assert close(g.per_group[label].r2[name], value), (label, name)
    # the male group's Heywood case is reported, not fatal
    assert any(str(w) == "group male: negative variance: Quality ~~ Quality = "
               f"{w.params['value']:.3f}" and w.severity == "invalidates"
               for w in res.warnings)


def test_questionnaire_model_equals_its_lavaan_syntax() -> None:
    q = load_questionnaire(QUESTIONNAIRES / "ecsi_bank.yaml")
    a = fit(q, bank())
    b = fit(reference("ecsi_bank")["model"], bank())
    assert a.fit_measures == pytest.approx(b.fit_measures, rel=1e-9)


def test_bootstrap_is_deterministic_and_covers_estimates() -> None:
    data = political_democracy.get_data()
    model = reference("political_democracy")["model"]
    one = fit(model, data, bootstrap=40, seed=7, n_jobs=1)
    two = fit(model, data, bootstrap=40, seed=7, n_jobs=2)
    assert json.dumps(one.to_dict()) == json.dumps(two.to_dict())
    eff = one.effects
    assert set(CI_COLUMNS) <= set(eff.columns)
    assert one.bootstrap["succeeded"] == 40
    assert (eff["total.ci.lower"] <= eff["total"]).all()
    assert (eff["total"] <= eff["total.ci.upper"]).all()
    path = eff[(eff["from"] == "ind60") & (eff["to"] == "dem65")].iloc[0]
    assert path["indirect.ci.lower"] < path["indirect"] < path["indirect.ci.upper"]
    other = fit(model, data, bootstrap=40, seed=8, n_jobs=1)
    assert not np.allclose(other.effects["total.ci.lower"], eff["total.ci.lower"])


def test_higher_order_effects_include_stage_constructs() -> None:
    q = load_questionnaire(QUESTIONNAIRES / "cram.yaml")
    data = load_responses(q, simulate_responses(q, n=600, seed=3)).data
    res = fit(q, data)
    pairs = set(zip(res.effects["from"], res.effects["to"], strict=True))
    assert ("PreSale", "Loy") in pairs and ("Sat", "Loy") in pairs
    row = res.effects[(res.effects["from"] == "PreSale") & (res.effects["to"] == "Loy")].iloc[0]
    assert np.isnan(row["direct"])  # no direct path: absent, not zero
    assert row["indirect"] == pytest.approx(row["total"])


def test_input_errors_are_clear() -> None:
    data = political_democracy.get_data()
    with pytest.raises(InputError, match="nor a column of the responses"):
        fit("f =~ x1 + x2 + nothere", data)
    with pytest.raises(InputError, match="labels no parameter"):
        fit("f =~ x1 + x2 + x3\nab := a*b", data)
    with pytest.raises(InputError, match="not supported"):
        fit("f =~ x1 + x2 + x3\nx1 | t1", data)
    bad = data.astype(object)
    bad.iloc[4, 0] = "seven"
    with pytest.raises(InputError) as err:
        fit("f =~ y1 + y2 + y3", bad)
    assert err.value.row == 6 and err.value.column == "y1" and err.value.value == "seven"


def test_cli_fit_writes_json(tmp_path) -> None:
    out = tmp_path / "fit.json"
    code = main(["fit", str(QUESTIONNAIRES / "ecsi_bank.yaml"),
                 str(SHARED / "bank_satisfaction.csv"), "--json", str(out)])
    assert code == 0
    doc = json.loads(out.read_text())
    assert {"fit", "parameters", "r2", "effects", "warnings"} <= set(doc)
    assert close(doc["fit"]["chisq"], reference("ecsi_bank")["fit"]["chisq"], relative=True)
    improper = [w for w in doc["warnings"] if w["code"] == "improper_path"]
    assert improper and all(w["severity"] == "invalidates" and "|std.all| > 1" in w["message"]
                            for w in improper)
    assert doc["status"] == "invalid"


def test_unidentified_model_is_refused(tmp_path) -> None:
    data = political_democracy.get_data()
    with pytest.raises(InputError, match=r"not identified.*df = -1"):
        fit("f =~ y1 + y2", data)
    model = tmp_path / "two.lav"
    model.write_text("f =~ y1 + y2\n")
    csv = tmp_path / "pd.csv"
    data.to_csv(csv, index=False)
    assert main(["fit", str(model), str(csv)]) == 2


def test_gates_trip_on_cases_that_must_trip(monkeypatch) -> None:
    data = political_democracy.get_data()
    # empirically under-identified (df = 5 >= 0): a two-indicator factor uncorrelated
    # with everything else has loadings the data cannot separate from its variance
    res = fit("f =~ y1 + y2\ng =~ y3 + y4 + y5\nf ~~ 0*g", data)
    codes = {w.code: w.severity for w in res.warnings}
    assert codes.get("se_singular_identified") == "invalidates", codes
    assert res.status == "invalid"
    # a poor fit is a caution, not an invalidation
    res = fit("f =~ x1 + x2 + x3 + y1 + y2 + y3", data)
    poor = [w for w in res.warnings if w.code == "fit_poor"]
    assert poor and all(w.severity == "caution" for w in poor)
    assert res.status == "caution"
    # non-convergence: the solver stopped after one iteration
    import satisfaction.model as model_module

    real = model_module.minimise
    monkeypatch.setattr(model_module, "minimise",
                        lambda blocks, start, **kw: real(blocks, start, max_iter=1))
    res = fit("f =~ y1 + y2 + y3 + y4", data)
    assert {w.code: w.severity for w in res.warnings}["not_converged"] == "invalidates"
    assert res.status == "invalid"


def test_unknown_bootstrap_interval_is_refused() -> None:
    # --bootstrap with --group works now (tests/test_model_bootstrap.py)
    with pytest.raises(UsageError, match="ci must be one of"):
        fit(reference("ecsi_bank")["model"], bank(), group="gender", bootstrap=10, ci="bc")


def test_cli_lavaan_file_and_bad_input(tmp_path) -> None:
    model = tmp_path / "pd.lav"
    model.write_text(reference("political_democracy")["model"])
    csv = tmp_path / "pd.csv"
    political_democracy.get_data().to_csv(csv, index=False)
    out = tmp_path / "pd.json"
    assert main(["fit", str(model), str(csv), "--json", str(out)]) == 0
    assert close(json.loads(out.read_text())["fit"]["chisq"],
                 reference("political_democracy")["fit"]["chisq"], relative=True)
    bad = tmp_path / "bad.json"
    assert main(["fit", str(model), str(SHARED / "bank_satisfaction.csv"),
                 "--json", str(bad)]) == 2
    assert not bad.exists()


def test_fiml_matches_lavaan_missing_ml() -> None:
    ref = reference("holzinger_swineford_fiml")
    data = holzinger39.get_data().copy()
    # the cells deleted by tests/reference/lavaan_reference.R
    data.loc[data["id"] % 7 == 0, "x1"] = np.nan
    data.loc[data["id"] % 11 == 0, "x5"] = np.nan
    data.loc[data["id"] % 13 == 0, "x9"] = np.nan
    res = fit(ref["model"], data, missing="fiml")
    assert res.converged and res.n == 301
    for name, value in ref["fit"].items():
        assert close(res.fit_measures[name], value, name in RELATIVE), name
    assert len(res.parameters) == len(ref["parameters"])
    for row in ref["parameters"]:
        ours = find(res.parameters, row)
        for col in ("est", "se", "std.all"):
            assert close(float(ours[col]), row[col]), (row["lhs"], row["op"], row["rhs"], col)
    listwise = fit(ref["model"], data)
    assert listwise.excluded["missing_values"] == 301 - listwise.n > 0


@pytest.mark.parametrize("missing", ["listwise", "fiml"])
def test_constant_or_copied_variables_are_refused(missing: str) -> None:
    data = political_democracy.get_data()
    const = data.assign(y4=3.0)
    with pytest.raises(InputError, match="same value") as err:
        fit("f =~ y1 + y2 + y3 + y4", const, missing=missing)
    assert err.value.column == "y4"
    copied = data.assign(y4=data["y1"] * 2 + 1)
    with pytest.raises(InputError, match="perfectly correlated"):
        fit("f =~ y1 + y2 + y3 + y4", copied, missing=missing)
    summed = data.assign(y4=data["y1"] + data["y2"])
    with pytest.raises(InputError, match="y1, y2, y4 are linearly dependent"):
        fit("f =~ y1 + y2 + y3 + y4", summed, missing=missing)


def test_questionnaire_fit_criteria_set_the_cutoffs(tmp_path) -> None:
    import yaml

    spec = yaml.safe_load((QUESTIONNAIRES / "ecsi_bank.yaml").read_text(encoding="utf-8"))
    default = fit(load_questionnaire(QUESTIONNAIRES / "ecsi_bank.yaml"), bank())
    assert "srmr" not in {w.params["index"] for w in default.warnings if w.code == "fit_poor"}
    spec["fit_criteria"] = {"srmr": 0.05}
    path = tmp_path / "strict.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    strict = fit(load_questionnaire(path), bank())
    poor = {w.params["index"]: w for w in strict.warnings if w.code == "fit_poor"}
    assert poor["srmr"].severity == "caution" and poor["srmr"].params["threshold"] == 0.05
    spec["fit_criteria"] = {"srmr": 2}
    path.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    with pytest.raises(SchemaError):
        load_questionnaire(path)


def test_latent_correlation_above_one_trips_the_psi_gate() -> None:
    # two factors of one underlying trait, n = 60: ML puts their correlation at 1.147
    rng = np.random.default_rng(0)
    f = rng.normal(size=60)
    data = pd.DataFrame({f"x{i}": 0.6 * f + rng.normal(scale=0.8, size=60)
                         for i in range(1, 7)})
    res = fit("a =~ x1 + x2 + x3\nb =~ x4 + x5 + x6", data)
    p = res.parameters
    r = p[(p.lhs == "a") & (p.op == "~~") & (p.rhs == "b")]["std.all"].iloc[0]
    assert r > 1
    severities = {w.code: w.severity for w in res.warnings}
    assert severities["psi_not_pd"] == "invalidates"
    assert severities["cov_lv_not_pd"] == "invalidates"
    assert res.status == "invalid"
