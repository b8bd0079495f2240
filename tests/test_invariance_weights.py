"""Measurement invariance with respondent weights against lavaan 0.6.14 (issue 17).

Reference: tests/reference/lavaan_invariance_weights.R (writes
lavaan_invariance_weights.json): the bank survey raked to gender 0.5/0.5 and segment
A 0.3 / B 0.3 / C 0.4 (survey::rake), the ECSI measurement model by gender, each step
``cfa(..., group = "gender", group.equal = ..., sampling.weights = "w")`` (MLR), the
steps compared by ``lavTestLRT`` (Satorra-Bentler 2001); complete data, FIML with
answers removed, and Satisfaction alone (the report's construct invariance).
Tolerances: fit indices, p-values, estimates 1e-4; χ² (plain and scaled) and the
scaled χ² differences 1e-3 (lavaan's own optimiser stops within about 1e-7 of the
optimum, which the scaled χ² carries at the fourth decimal).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from satisfaction.errors import InputError, UsageError
from satisfaction.invariance import construct_invariance, invariance
from satisfaction.questionnaire import Questionnaire, load_questionnaire
from satisfaction.resources import QUESTIONNAIRES
from satisfaction.responses import load_responses
from satisfaction.weights import compute_weights

from .conftest import SHARED

REFERENCE = Path(__file__).parent / "reference"
REF = json.loads((REFERENCE / "lavaan_invariance_weights.json").read_text())
BANK = SHARED / "bank_satisfaction.csv"
ECSI = """
Image =~ imag1 + imag2 + imag3 + imag4 + imag5
Expectation =~ expe1 + expe2 + expe3 + expe4 + expe5
Quality =~ qual1 + qual2 + qual3 + qual4 + qual5
Value =~ val1 + val2 + val3 + val4
Satisfaction =~ sat1 + sat2 + sat3 + sat4
Loyalty =~ loy1 + loy2 + loy3 + loy4
"""
SAT_LOY = "Satisfaction =~ sat1 + sat2 + sat3 + sat4\nLoyalty =~ loy1 + loy2 + loy3 + loy4"
QSL = "Quality =~ qual1 + qual2 + qual3 + qual4 + qual5\n" + SAT_LOY
MEASURES = ["npar", "df", "pvalue", "pvalue.scaled", "chisq.scaling.factor", "cfi", "tli",
            "rmsea", "srmr", "cfi.robust", "tli.robust", "rmsea.robust"]


def _definition() -> dict:
    spec = yaml.safe_load((QUESTIONNAIRES / "ecsi_bank.yaml").read_text(encoding="utf-8"))
    spec["groups"] = [*spec.get("groups", []),
                      {"id": "segment", "type": "categorical",
                       "codes": {"A": "A", "B": "B", "C": "C"}}]
    spec["weighting"] = {"method": "rake", "margins": {
        "gender": {"female": 0.5, "male": 0.5}, "segment": {"A": 0.3, "B": 0.3, "C": 0.4}}}
    return spec


def _frame() -> pd.DataFrame:
    frame = pd.read_csv(BANK, dtype={"respondent": str})
    number = frame["respondent"].str[1:].astype(int)
    frame["segment"] = np.where(number <= 100, "A", np.where(number <= 175, "B", "C"))
    return frame


@pytest.fixture(scope="module")
def bank():
    q = Questionnaire.from_dict(_definition())
    data = load_responses(q, _frame()).data
    weights = compute_weights(q, data).weights
    np.testing.assert_allclose(weights.to_numpy(), REF["weights"], atol=1e-6, rtol=0)
    assert list(weights.index) == REF["respondent"]
    return q, data, weights


def _holes(data: pd.DataFrame) -> pd.DataFrame:
    """The answers removed in the reference (as tests/reference/lavaan_fiml_weights.R)."""
    out = data.copy()
    number = pd.Series(out.index, index=out.index).str[1:].astype(int)
    out.loc[number % 7 == 0, "sat2"] = np.nan
    out.loc[number % 11 == 0, "qual3"] = np.nan
    out.loc[number % 13 == 0, "loy1"] = np.nan
    return out


ROBUST_INDICES = ("cfi.robust", "tli.robust", "rmsea.robust")


def _check(res, ref: dict, robust_tol: float = 1e-4) -> None:
    """Every step's fit and the lavTestLRT rows against lavaan (the robust indices to
    ``robust_tol``)."""
    assert ref["estimator"] == "ML" and ref["test"] == "yuan.bentler.mplus"  # i.e. MLR
    assert "satorra.bentler.2001" in ref["lrt_method"]
    assert res.estimator == "mlr" and res.labels == ref["group_labels"]
    steps = res.steps.set_index("model")
    assert list(steps.index) == [s["model"] for s in ref["steps"]]
    for step in ref["steps"]:
        ours = steps.loc[step["model"]]
        for k in MEASURES:
            tol = robust_tol if k in ROBUST_INDICES else 1e-4
            assert ours[k] == pytest.approx(step[k], abs=tol), (step["model"], k)
        for k in ("chisq", "chisq.scaled"):
            assert ours[k] == pytest.approx(step[k], abs=1e-3), (step["model"], k)
    for lrt in ref["lrt"][1:]:  # each step against the one before
        ours = steps.loc[lrt["model"]]
        assert ours["delta.chisq.scaled"] == pytest.approx(lrt["chisq_diff"], abs=1e-3)
        assert ours["delta.df"] == lrt["df_diff"]
        assert ours["delta.pvalue.scaled"] == pytest.approx(lrt["pvalue"], abs=1e-4)
        before = steps.index[list(steps.index).index(lrt["model"]) - 1]
        for k in ("cfi.robust", "rmsea.robust"):
            assert ours[f"delta.{k}"] == pytest.approx(
                ours[k] - steps.loc[before, k], abs=1e-12)
        decided = (ours["delta.cfi.robust"] >= -0.01 and ours["delta.rmsea.robust"] <= 0.015)
        assert ours["decision"] == ("held" if decided else "not held")


def _check_means(res, ref: dict) -> None:
    means = res.latent_means
    assert len(means) == len(ref["latent_means"])
    for r in ref["latent_means"]:
        ours = means[(means["construct"] == r["construct"])
                     & (means["group"] == res.labels[r["group"] - 1])].iloc[0]
        assert ours["est"] == pytest.approx(r["est"], abs=1e-4)
        assert ours["se"] == pytest.approx(r["se"], abs=1e-4)


def test_weighted_steps_match_lavaan_complete_data(bank):
    _, data, weights = bank
    res = invariance(ECSI, data, "gender", weights=weights, suggest=0)
    _check(res, REF["complete"])
    _check_means(res, REF["complete"])
    # the decisions are taken on the robust indices
    assert res.decision_indices == ["cfi.robust", "rmsea.robust"]
    assert res.to_dict()["difference_test"] == "satorra.bentler.2001"
    assert all(any(w.code == "sem_weighted" for w in f.warnings) for f in res.fits.values())


def test_weighted_steps_match_lavaan_fiml(bank):
    _, data, weights = bank
    res = invariance(QSL, _holes(data), "gender", weights=weights, suggest=0,
                     missing="fiml")
    # the weighted FIML fit's robust CFI/TLI/RMSEA agree with lavaan to 1e-3 (as in
    # tests/test_sem_weights.py; 4e-4 here), everything else to 1e-4
    _check(res, REF["fiml"], robust_tol=1e-3)
    _check_means(res, REF["fiml"])


def test_weighted_construct_invariance_matches_lavaan(bank):
    """The report's construct invariance, weighted: Satisfaction alone by gender."""
    q, data, weights = bank
    ref = {s["model"]: s for s in REF["construct"]["steps"]}
    table, _ = construct_invariance(q, data, "gender", weights=weights)
    row = table.set_index("construct").loc["Satisfaction"]
    assert row["delta.cfi.metric"] == pytest.approx(
        ref["metric"]["cfi.robust"] - ref["configural"]["cfi.robust"], abs=1e-4)
    assert row["delta.cfi.scalar"] == pytest.approx(
        ref["scalar"]["cfi.robust"] - ref["metric"]["cfi.robust"], abs=1e-4)
    assert row["delta.rmsea.scalar"] == pytest.approx(
        ref["scalar"]["rmsea.robust"] - ref["metric"]["rmsea.robust"], abs=1e-4)
    # decided on the robust ΔCFI alone (the one-factor models have few df)
    metric = ref["metric"]["cfi.robust"] - ref["configural"]["cfi.robust"] >= -0.01
    scalar = ref["scalar"]["cfi.robust"] - ref["metric"]["cfi.robust"] >= -0.01
    expected = "configural" if not metric else ("metric" if not scalar else "scalar")
    assert row["level"] == expected
    # the same steps by invariance() (a second path through the code)
    res = invariance("Satisfaction =~ sat1 + sat2 + sat3 + sat4", data, "gender",
                     weights=weights, suggest=0)
    _check(res, {**REF["construct"], "steps": REF["construct"]["steps"] + [
        {"model": "strict", **res.steps.set_index("model").loc["strict"].to_dict()}],
        "lrt": REF["construct"]["lrt"]})


def test_constant_weights_give_the_unweighted_steps(bank):
    """All weights equal: the weighted steps are the unweighted fits (estimates, χ²,
    CFI, RMSEA, SRMR to 1e-6) and, robust columns included, the unweighted MLR steps.
    Against the unweighted ML run only the fit and estimates agree: the weighted run
    is MLR (scaled differences, robust indices decide), the ML run is not."""
    _, data, _ = bank
    constant = pd.Series(2.5, index=data.index)
    weighted = invariance(SAT_LOY, data, "gender", weights=constant, suggest=0)
    plain = invariance(SAT_LOY, data, "gender", suggest=0)
    mlr = invariance(SAT_LOY, data, "gender", suggest=0, estimator="mlr")
    shared = ["npar", "chisq", "df", "pvalue", "cfi", "tli", "rmsea", "srmr", "delta.chisq",
              "delta.df", "delta.pvalue", "delta.cfi", "delta.rmsea"]
    pd.testing.assert_frame_equal(weighted.steps[shared], plain.steps[shared], rtol=0,
                                  atol=1e-6)
    robust = [c for c in mlr.steps.columns if c != "decision"]
    pd.testing.assert_frame_equal(weighted.steps[robust], mlr.steps[robust], rtol=0,
                                  atol=1e-6)
    assert list(weighted.steps["decision"]) == list(mlr.steps["decision"])
    for step in ("configural", "metric", "scalar", "strict"):
        np.testing.assert_allclose(weighted.fits[step].parameters["est"].to_numpy(),
                                   plain.fits[step].parameters["est"].to_numpy(),
                                   atol=1e-6, rtol=0)
    assert plain.estimator == "ml" and weighted.estimator == "mlr"


def test_constant_weights_construct_invariance(bank):
    """Constant weights in the compare stage's construct invariance: the unweighted
    MLR steps' robust ΔCFI (the unweighted fast path uses the plain ΔCFI)."""
    q, data, _ = bank
    table, _ = construct_invariance(q, data, "gender",
                                    weights=pd.Series(1.0, index=data.index))
    plain, _ = construct_invariance(q, data, "gender")
    for construct in ("Satisfaction", "Value"):
        items = [i.id for c in q.first_order if c.id == construct for i in c.items]
        mlr = invariance(f"{construct} =~ " + " + ".join(items), data, "gender",
                         suggest=0, estimator="mlr").steps.set_index("model")
        row = table.set_index("construct").loc[construct]
        assert row["delta.cfi.metric"] == pytest.approx(
            mlr.loc["metric", "delta.cfi.robust"], abs=1e-6)
        assert row["delta.cfi.scalar"] == pytest.approx(
            mlr.loc["scalar", "delta.cfi.robust"], abs=1e-6)
    assert list(table["construct"]) == list(plain["construct"])


def test_weights_are_checked_once_and_named(bank):
    q, data, _ = bank
    with pytest.raises(UsageError) as err:
        construct_invariance(q, data, "gender", weights="nope")
    assert err.value.column == "--weights"
    bad = pd.Series(1.0, index=data.index)
    bad.iloc[3] = -1
    with pytest.raises(InputError):
        construct_invariance(q, data, "gender", weights=bad)
    with pytest.raises(UsageError) as err:
        invariance(SAT_LOY, data, "gender", weights=bad.abs(), estimator="mlm")
    assert err.value.column == "--estimator"


def _small_questionnaire(tmp_path: Path) -> Path:
    """Satisfaction and Loyalty of ecsi_bank with the raking above, as a file."""
    spec = _definition()
    spec["constructs"] = [c for c in spec["constructs"] if c["id"] in ("Satisfaction", "Loyalty")]
    spec["paths"] = ["Loyalty ~ Satisfaction"]
    path = tmp_path / "bank.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    return path


def test_invariance_command_weights(bank, tmp_path, capsys):
    """``satisfaction invariance``: the questionnaire's weighting without the option,
    ``--weights COLUMN`` for a lavaan-syntax model, ``--weights none`` unweighted; the
    effective n of the note with one decimal."""
    from satisfaction import api
    from satisfaction.cli import main

    _, data, weights = bank
    csv = tmp_path / "bank.csv"
    frame = _frame()
    frame["w"] = weights.to_numpy()
    frame.to_csv(csv, index=False)
    qpath = _small_questionnaire(tmp_path)
    out = tmp_path / "inv.json"
    assert main(["invariance", str(qpath), str(csv), "--group", "gender",
                 "--json", str(out)]) == 0
    text = capsys.readouterr().out
    result = json.loads(out.read_text())
    assert result["estimator"] == "mlr" and result["difference_test"] == "satorra.bentler.2001"
    assert "ΔCFI.robust" in text
    # the declared raking = the same weights given as a Series
    expected = api.invariance(load_questionnaire(qpath), csv, group="gender",
                              weights=weights)
    assert [s["chisq.scaled"] for s in result["steps"]] == pytest.approx(
        list(expected.steps["chisq.scaled"]), abs=1e-9)
    note = next(w for w in result["warnings"] if w["code"] == "sem_weighted")
    assert f"effective sample size {note['params']['effective_n']:.1f};" in note["message"]
    assert f"{note['params']['effective_n']:.3f}" not in note["message"]
    # --weights none: the unweighted ML steps
    assert main(["invariance", str(qpath), str(csv), "--group", "gender", "--weights", "none",
                 "--json", str(out)]) == 0
    assert json.loads(out.read_text())["estimator"] == "ml"
    # a lavaan-syntax model takes the column from the table
    model = tmp_path / "model.lav"
    model.write_text(SAT_LOY, encoding="utf-8")
    assert main(["invariance", str(model), str(csv), "--group", "gender", "--weights", "w",
                 "--json", str(out)]) == 0
    by_column = json.loads(out.read_text())
    direct = invariance(SAT_LOY, data, "gender", weights=weights)
    assert [s["chisq.scaled"] for s in by_column["steps"]] == pytest.approx(
        list(direct.steps["chisq.scaled"]), abs=1e-6)
    capsys.readouterr()
    assert main(["invariance", str(model), str(csv), "--group", "gender", "--weights",
                 "nope"]) == 2
    assert "--weights" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["invariance", "fit", "reliability"])
def test_a_missing_weight_column_names_the_option(tmp_path, capsys, command):
    """``--weights nope`` with a questionnaire: the message says the option named the
    column (not the questionnaire's ``weight``); a questionnaire's own ``weight``
    column is still named as the questionnaire's."""
    from satisfaction.cli import main

    csv = tmp_path / "bank.csv"
    _frame().to_csv(csv, index=False)
    qpath = _small_questionnaire(tmp_path)
    args = [command, str(qpath), str(csv), "--weights", "nope"]
    if command == "invariance":
        args += ["--group", "gender"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "no weight column 'nope' (named by the --weights option)" in err
    assert "questionnaire" not in err
    spec = yaml.safe_load(qpath.read_text(encoding="utf-8"))
    del spec["weighting"]
    spec["weight"] = "nope"
    qpath.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    assert main([command, str(qpath), str(csv)]
                + (["--group", "gender"] if command == "invariance" else [])) == 2
    assert "(named by 'weight' in the questionnaire)" in capsys.readouterr().err


def test_effective_n_reads_with_one_decimal_in_both_languages():
    """Notes show floats with three decimals, the effective sample size with one
    (as the report): 224.4, not 224.400."""
    from satisfaction.diagnostics import DECIMALS, Diagnostic, shown_value

    assert DECIMALS["effective_n"] == 1
    note = Diagnostic("sem_weighted", "info", {"design_effect": 1.11408, "effective_n": 224.4,
                                               "n": 250, "no_weight": 0})
    assert "effective sample size 224.4;" in note.text("en")
    assert "有效样本量 224.4；" in note.text("zh")
    assert "1.114" in note.text("en") and "224.400" not in note.text("zh")
    assert shown_value(224.4) == "224.400" and shown_value(224.44, 1) == "224.4"


def test_weighted_fit_without_standard_errors_is_the_same_ml_fit(bank):
    """The suggestions' freed models are fitted weighted with ``se="none"``: the same
    estimates and weighted ML χ² as the full MLR fit (to the last digits), without
    the robust measures; refused where it is not implemented."""
    from satisfaction.model import fit

    _, data, weights = bank
    paths = SAT_LOY + "\nLoyalty ~ Satisfaction"
    full = fit(paths, data, group="gender", group_equal=("loadings",),
               group_partial=("Satisfaction =~ sat2",), sampling_weights=weights)
    quick = fit(paths, data, group="gender", group_equal=("loadings",),
                group_partial=("Satisfaction =~ sat2",), sampling_weights=weights, se="none")
    for k in ("chisq", "df", "npar", "cfi", "rmsea"):
        assert quick.fit_measures[k] == pytest.approx(full.fit_measures[k], abs=1e-9), k
    np.testing.assert_allclose(quick.parameters["est"], full.parameters["est"], atol=1e-9)
    free = full.parameters["se"].to_numpy() > 0
    assert quick.parameters["se"].to_numpy()[free].size and \
        np.isnan(quick.parameters["se"].to_numpy()[free]).all()
    for options in ({}, {"group": "gender", "missing": "fiml"}):
        with pytest.raises(UsageError):
            fit(SAT_LOY, data, sampling_weights=weights, se="none", **options)
