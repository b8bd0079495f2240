"""The SEM with respondent weights against lavaan 0.6.14's ``sampling.weights``.

Reference: tests/reference/lavaan_sampling_weights.R (writes
lavaan_sampling_weights.json): the bank survey with the ECSI model and survey::rake
weights, psych's bfi with a derived weight (one group, a mean structure, a fixed.x
covariate, two groups free, with equal loadings and with equal regressions).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from satisfaction.cli import main
from satisfaction.errors import InputError, UsageError
from satisfaction.model import fit
from satisfaction.questionnaire import Questionnaire
from satisfaction.resources import QUESTIONNAIRES
from satisfaction.responses import load_responses
from satisfaction.sem_weights import fit_weighted, normalise, weighted_moments
from satisfaction.weights import compute_weights

from .conftest import SHARED

REFERENCE = Path(__file__).parent / "reference"
REF = json.loads((REFERENCE / "lavaan_sampling_weights.json").read_text())
BANK = SHARED / "bank_satisfaction.csv"
Z975 = 1.959963984540054
AC = "A =~ A1 + A2 + A3 + A4 + A5\nC =~ C1 + C2 + C3 + C4 + C5\nC ~ A\n"
#: fit measures compared with lavaan
MEASURES = ["npar", "chisq", "df", "pvalue", "chisq.scaled", "pvalue.scaled",
            "chisq.scaling.factor", "baseline.chisq", "baseline.chisq.scaled",
            "baseline.chisq.scaling.factor", "cfi", "tli", "rmsea", "cfi.scaled", "tli.scaled",
            "cfi.robust", "tli.robust", "rmsea.scaled", "rmsea.robust",
            "rmsea.ci.lower.robust", "rmsea.ci.upper.robust", "srmr", "logl", "aic", "bic"]


def bfi() -> pd.DataFrame:
    """bfi with the weight of the R script: (1.5 men, 0.75 women) x (1 + ((row-1) mod 5)/4)."""
    d = pd.read_csv(REFERENCE / "bfi_raw.csv")
    row = np.arange(1, len(d) + 1)
    d["w"] = np.where(d["gender"] == 1, 1.5, 0.75) * (1 + ((row - 1) % 5) / 4)
    return d


CASES = {
    "bfi": dict(model=AC),
    "bfi_means": dict(model=AC + "A1 ~ 1\n"),
    "bfi_fixedx": dict(model=AC + "C ~ O1\n"),
    "bfi_groups": dict(model=AC, group="gender"),
    "bfi_groups_loadings": dict(model=AC, group="gender", group_equal=("loadings",)),
}


@pytest.fixture(scope="module")
def bfi_fits():
    data = bfi()
    return {case: fit_weighted(args["model"], data, "w", group=args.get("group"),
                               group_equal=args.get("group_equal", ()))
            for case, args in CASES.items()}


def _rows(result, ref: dict) -> list[tuple[dict, pd.Series]]:
    """Each lavaan parameter row with ours (same lhs op rhs and group)."""
    ours = result.parameters
    labels = result.groups.labels if result.groups is not None else None
    out = []
    for row in ref["parameters"]:
        if row["op"] == ":=":
            continue
        hit = (ours["lhs"] == row["lhs"]) & (ours["op"] == row["op"]) & (ours["rhs"] == row["rhs"])
        if labels is not None:
            hit &= ours["group"] == labels[int(row["group"]) - 1]
        assert hit.sum() == 1, (row["lhs"], row["op"], row["rhs"], row["group"])
        out.append((row, ours[hit].iloc[0]))
    return out


def _check_measures(ours: dict, ref: dict) -> None:
    for name in MEASURES:
        assert ours[name] == pytest.approx(ref[name], abs=1e-3, rel=1e-5), name


@pytest.mark.parametrize("case", list(CASES))
def test_bfi_matches_lavaan_sampling_weights(bfi_fits, case):
    result, ref = bfi_fits[case], REF[case]
    # lavaan switches to MLR with sampling weights: the reference says so
    assert (ref["se"], ref["test"]) == ("robust.huber.white", "yuan.bentler.mplus")
    assert result.n == ref["fit"]["ntotal"]
    _check_measures(result.fit_measures, ref["fit"])
    rows = _rows(result, ref)
    assert len(rows) == len([r for r in ref["parameters"] if r["op"] != ":="])
    for row, mine in rows:
        assert mine["est"] == pytest.approx(row["est"], abs=1e-4), (row["lhs"], row["rhs"])
        if row["se"] and row["se"] > 0:
            assert mine["se"] == pytest.approx(row["se"], abs=1e-4), (row["lhs"], row["rhs"])
        else:
            assert not mine["se"] > 0
        if row["std.all"] is not None and math.isfinite(row["std.all"]):
            assert mine["std.all"] == pytest.approx(row["std.all"], abs=1e-4)
        if result.groups is None and row["std.se"] and row["std.se"] > 0:
            # the delta-method interval of std.all from the weighted MLR covariance
            half = (mine["std.ci.upper"] - mine["std.ci.lower"]) / 2 / Z975
            assert half == pytest.approx(row["std.se"], abs=1e-5), (row["lhs"], row["rhs"])


def test_equal_regressions_fit_matches_lavaan(bfi_fits):
    """The multi-group test of equal paths refits with the regressions equal across
    groups: its measures are lavaan's group.equal = "regressions" fit, weighted."""
    groups = bfi_fits["bfi_groups"].groups
    _check_measures(groups.equal_fit, REF["bfi_groups_regressions"]["fit"])
    free, equal = REF["bfi_groups"]["fit"], REF["bfi_groups_regressions"]["fit"]
    assert groups.chisq_diff["chisq"] == pytest.approx(equal["chisq"] - free["chisq"],
                                                       abs=1e-3)
    assert groups.chisq_diff["df"] == equal["df"] - free["df"]


def _bank_questionnaire() -> Questionnaire:
    """ecsi_bank with the raking of tests/reference/survey_weights.R (gender 0.5/0.5,
    segment A 0.3 / B 0.3 / C 0.4 by respondent number)."""
    import yaml

    data = yaml.safe_load((QUESTIONNAIRES / "ecsi_bank.yaml").read_text(encoding="utf-8"))
    data["groups"] = [*data.get("groups", []),
                      {"id": "segment", "type": "categorical",
                       "codes": {"A": "A", "B": "B", "C": "C"}}]
    data["weighting"] = {"method": "rake", "margins": {
        "gender": {"female": 0.5, "male": 0.5}, "segment": {"A": 0.3, "B": 0.3, "C": 0.4}}}
    return Questionnaire.from_dict(data)


def _bank_frame() -> pd.DataFrame:
    frame = pd.read_csv(BANK, dtype={"respondent": str})
    number = frame["respondent"].str[1:].astype(int)
    frame["segment"] = np.where(number <= 100, "A", np.where(number <= 175, "B", "C"))
    return frame


@pytest.fixture(scope="module")
def bank_fit():
    q = _bank_questionnaire()
    data = load_responses(q, _bank_frame()).data
    weights = compute_weights(q, data).weights
    return weights, fit(q, data, sampling_weights=weights)


def test_bank_raking_weights_through_fit_match_lavaan(bank_fit):
    """The whole chain: our raking weights (as survey::rake) into model.fit, against
    lavaan fitted with R's raking weights."""
    weights, result = bank_fit
    ref = REF["bank"]
    np.testing.assert_allclose(weights.to_numpy(), ref["weights"], atol=1e-6, rtol=0)
    assert result.n == 250
    _check_measures(result.fit_measures, ref["fit"])
    # two paths into Value are nearly collinear (SE 4.6): lavaan's optimiser stops short
    # there (1.5e-4 on Value ~ Expectation), so estimates are held to 1e-4 times
    # max(1, SE) and our minimum must be at least as low as lavaan's
    assert result.fit_measures["chisq"] <= ref["fit"]["chisq"] + 1e-7
    for row, mine in _rows(result, ref):
        tol = 1e-4 * max(1.0, row["se"] or 0.0)
        assert mine["est"] == pytest.approx(row["est"], abs=tol), (row["lhs"], row["rhs"])
        if row["se"] and row["se"] > 0:
            assert mine["se"] == pytest.approx(row["se"], abs=1e-3, rel=1e-4)
    codes = {w.code: w for w in result.warnings}
    note = codes["sem_weighted"]
    assert note.severity == "info"
    survey = json.loads((REFERENCE / "survey_weights.json").read_text())["rake"]
    assert note.params["design_effect"] == pytest.approx(survey["kish_deff"], abs=5e-4)
    assert note.params["effective_n"] == pytest.approx(survey["effective_n"], abs=0.05)
    assert (note.params["n"], note.params["no_weight"]) == (250, 0)


def test_equal_weights_reproduce_the_unweighted_mlr_fit():
    data = bfi()
    plain = fit(AC, data, estimator="mlr")
    for value in (1.0, 3.7):  # any constant: rescaled to sum to N
        weighted = fit(AC, data, sampling_weights=np.full(len(data), value))
        for name, v in plain.fit_measures.items():
            assert weighted.fit_measures[name] == pytest.approx(v, rel=1e-9, abs=1e-10), name
        cols = ["est", "se", "z", "ci.lower", "ci.upper", "std.all"]
        np.testing.assert_allclose(weighted.parameters[cols].to_numpy(dtype=float),
                                   plain.parameters[cols].to_numpy(dtype=float),
                                   rtol=1e-8, atol=1e-10)
        eff = ["direct", "total", "direct.ci.lower", "direct.ci.upper"]
        np.testing.assert_allclose(weighted.effects[eff].to_numpy(dtype=float),
                                   plain.effects[eff].to_numpy(dtype=float), rtol=1e-8,
                                   atol=1e-10)


def test_equal_weights_reproduce_the_unweighted_groups_fit():
    data = bfi()
    plain = fit(AC, data, group="gender", estimator="mlr")
    weighted = fit(AC, data, group="gender", sampling_weights=pd.Series(2.0, data.index))
    for name, v in plain.fit_measures.items():
        assert weighted.fit_measures[name] == pytest.approx(v, rel=1e-9, abs=1e-10), name
    np.testing.assert_allclose(weighted.parameters[["est", "se"]].to_numpy(dtype=float),
                               plain.parameters[["est", "se"]].to_numpy(dtype=float),
                               rtol=1e-8, atol=1e-10)
    assert weighted.groups.chisq_diff["chisq.scaled"] == pytest.approx(
        plain.groups.chisq_diff["chisq.scaled"], rel=1e-9)


def test_weighted_moments_by_hand():
    x = np.array([[1.0, 2.0], [3.0, 1.0], [2.0, 5.0]])
    w = normalise(np.array([1.0, 2.0, 1.0]), 3)
    assert w.sum() == pytest.approx(3.0)
    mean, S = weighted_moments(x, w)
    np.testing.assert_allclose(mean, [(1 + 6 + 2) / 4, (2 + 2 + 5) / 4])
    xc = x - mean
    by_hand = sum(wi * np.outer(r, r) for wi, r in zip([1, 2, 1], xc, strict=True)) / 4
    np.testing.assert_allclose(S, by_hand)


def test_respondents_without_a_weight_are_counted():
    data = bfi()
    data.loc[data.index[:7], "w"] = np.nan
    result = fit_weighted(AC, data, "w")
    assert result.excluded["missing_weight"] == 7
    complete = data[["A1", "A2", "A3", "A4", "A5", "C1", "C2", "C3", "C4", "C5"]].notna().all(axis=1)
    assert result.n == int((complete & data["w"].notna()).sum())
    assert result.excluded["missing_values"] == int((~complete & data["w"].notna()).sum())


@pytest.mark.parametrize("weights, text", [
    ("nope", "not a column"),
    ("bad", "finite number of 0 or more"),
    ("neg", "finite number of 0 or more"),
    ("zero", "every weight"),
])
def test_bad_weights_are_refused_with_a_message(weights, text):
    data = bfi()
    data["bad"] = data["w"].astype(object)
    data.loc[data.index[4], "bad"] = "heavy"
    data["neg"] = data["w"]
    data.loc[data.index[9], "neg"] = -1.0
    data["zero"] = 0.0
    with pytest.raises(InputError, match=text) as err:
        fit(AC, data, sampling_weights=weights)
    if weights in ("bad", "neg"):
        row = 6 if weights == "bad" else 11
        assert err.value.row == row and err.value.column == weights


@pytest.mark.parametrize("options", [dict(missing="pairwise"), dict(bootstrap=50),
                                     dict(estimator="mlm"),
                                     dict(missing="fiml", bootstrap=20)])
def test_what_is_not_implemented_is_refused(options):
    with pytest.raises(UsageError):
        fit(AC, bfi(), sampling_weights="w", **options)


def test_fit_command_with_weights(tmp_path, capsys):
    data = bfi()
    csv = tmp_path / "bfi.csv"
    data.to_csv(csv, index=False)
    model = tmp_path / "ac.lav"
    model.write_text(AC)
    out = tmp_path / "fit.json"
    assert main(["fit", str(model), str(csv), "--weights", "w", "--json", str(out)]) == 0
    fitted = json.loads(out.read_text())["fit"]
    assert fitted["chisq.scaled"] == pytest.approx(REF["bfi"]["fit"]["chisq.scaled"], abs=1e-3)
    assert fitted["cfi.robust"] == pytest.approx(REF["bfi"]["fit"]["cfi.robust"], abs=1e-4)
    capsys.readouterr()
    assert main(["fit", str(model), str(csv), "--weights", "weight_col"]) == 2
    err = capsys.readouterr().err
    assert "weight_col" in err and "Traceback" not in err


def test_fit_command_with_the_questionnaires_weighting(tmp_path, capsys):
    """A questionnaire that declares weighting is fitted weighted by `fit` as well."""
    q = _bank_questionnaire()
    data = load_responses(q, _bank_frame()).data
    expected = fit(q, data, sampling_weights=compute_weights(q, data).weights)
    import yaml

    qpath = tmp_path / "bank.yaml"
    definition = yaml.safe_load((QUESTIONNAIRES / "ecsi_bank.yaml").read_text(encoding="utf-8"))
    definition["groups"] = [*definition.get("groups", []),
                            {"id": "segment", "type": "categorical",
                             "codes": {"A": "A", "B": "B", "C": "C"}}]
    definition["weighting"] = {"method": "rake", "margins": {
        "gender": {"female": 0.5, "male": 0.5}, "segment": {"A": 0.3, "B": 0.3, "C": 0.4}}}
    qpath.write_text(yaml.safe_dump(definition, allow_unicode=True), encoding="utf-8")
    csv = tmp_path / "bank.csv"
    _bank_frame().to_csv(csv, index=False)
    out = tmp_path / "fit.json"
    assert main(["fit", str(qpath), str(csv), "--json", str(out)]) == 0
    fitted = json.loads(out.read_text())["fit"]
    assert fitted["chisq.scaled"] == pytest.approx(expected.fit_measures["chisq.scaled"],
                                                   rel=1e-9)


def test_pipeline_fits_the_model_weighted_with_complete_data():
    from satisfaction import model as sem
    from satisfaction.pipeline import _fit_model

    q = _bank_questionnaire()
    data = load_responses(q, _bank_frame()).data
    weights = compute_weights(q, data)
    options: dict = {}
    result = _fit_model(sem, q, data, 200, 1, None, options, weights=weights)
    assert options["sem_weighted"] is True and options["sem_intervals"] == "delta"
    assert "bootstrap" not in result.to_dict()  # the bootstrap takes no weights
    assert result.fit_measures["chisq.scaled"] == pytest.approx(
        REF["bank"]["fit"]["chisq.scaled"], abs=1e-3)
    assert [w.severity for w in result.warnings if w.code == "sem_weighted"] == ["info"]


# -- weighted FIML: lavaan's sampling.weights with missing = "ml" ----------------------

FIML = json.loads((REFERENCE / "lavaan_fiml_weights.json").read_text())


def _check_fiml(result, ref: dict, est_tol: float = 1e-4) -> None:
    """Estimates to ``est_tol``, SEs and χ² (and the other measures) to 1e-3."""
    assert (ref["estimator"], ref["se"], ref["test"]) == (
        "ML", "robust.huber.white", "yuan.bentler.mplus")
    assert result.n == ref["fit"]["ntotal"]
    _check_measures(result.fit_measures, ref["fit"])
    rows = _rows(result, ref)
    assert len(rows) == len([r for r in ref["parameters"] if r["op"] != ":="])
    for row, mine in rows:
        assert mine["est"] == pytest.approx(row["est"], abs=est_tol), (row["lhs"], row["rhs"])
        if row["se"] and row["se"] > 0:
            assert mine["se"] == pytest.approx(row["se"], abs=1e-3), (row["lhs"], row["rhs"])
        if row["std.all"] is not None and math.isfinite(row["std.all"]):
            assert mine["std.all"] == pytest.approx(row["std.all"], abs=1e-4)


def test_weighted_fiml_matches_lavaan():
    """bfi with its 168 incomplete respondents and the derived weight: lavaan's
    sem(..., sampling.weights = "w", missing = "ml") (MLR)."""
    data = bfi()
    result = fit(AC, data, sampling_weights="w", missing="fiml")
    _check_fiml(result, FIML["bfi"])
    assert result.excluded == {"missing_weight": 0, "all_values_missing": 0}
    assert result.warnings[0].code == "sem_weighted"
    # the h1 log-likelihood is the weighted EM's: logl + chisq/2
    fm = result.fit_measures
    assert fm["logl"] + fm["chisq"] / 2 == pytest.approx(
        FIML["bfi"]["fit"]["unrestricted.logl"], abs=1e-3)
    # and it is not the unweighted FIML fit
    plain = fit(AC, data, missing="fiml", estimator="mlr")
    assert abs(plain.fit_measures["chisq"] - fm["chisq"]) > 1


def test_weighted_fiml_groups_match_lavaan():
    """Two groups (gender) and the test of equal paths (lavaan's group.equal =
    "regressions", weighted FIML) on top."""
    result = fit(AC, bfi(), sampling_weights="w", missing="fiml", group="gender")
    _check_fiml(result, FIML["bfi_groups"])
    _check_measures(result.groups.equal_fit, FIML["bfi_groups_regressions"]["fit"])
    free, equal = FIML["bfi_groups"]["fit"], FIML["bfi_groups_regressions"]["fit"]
    assert result.groups.chisq_diff["chisq"] == pytest.approx(
        equal["chisq"] - free["chisq"], abs=1e-3)


def test_weighted_fiml_counts_what_it_leaves_out():
    """Respondents without any answer, without a weight or (with groups) without a
    group are counted by reason, and the weights of the others sum to their number."""
    data = bfi()
    items = ["A1", "A2", "A3", "A4", "A5", "C1", "C2", "C3", "C4", "C5"]
    data.loc[data.index[:4], items] = np.nan
    data.loc[data.index[10:13], "w"] = np.nan
    data.loc[data.index[20], "gender"] = np.nan
    one = fit_weighted(AC, data, "w", missing="fiml")
    assert one.excluded == {"missing_weight": 3, "all_values_missing": 4}
    assert one.n == len(data) - 7
    assert one.warnings[0].params["n"] == one.n
    two = fit_weighted(AC, data, "w", missing="fiml", group="gender")
    assert two.excluded == {"missing_group": 1, "missing_weight": 3, "all_values_missing": 4}
    assert two.n == len(data) - 8


def test_equal_weights_reproduce_the_unweighted_fiml_mlr_fit():
    """Constant weights (rescaled to 1) give the unweighted FIML fit with MLR, which
    model.fit reaches by another path (free means beside θ, robust.apply_fiml)."""
    data = bfi()
    plain = fit(AC, data, missing="fiml", estimator="mlr")
    weighted = fit(AC, data, missing="fiml", sampling_weights=np.full(len(data), 2.5))
    for name, v in plain.fit_measures.items():
        assert weighted.fit_measures[name] == pytest.approx(v, rel=1e-6, abs=1e-8), name
    cols = ["est", "se", "std.all"]
    np.testing.assert_allclose(weighted.parameters[cols].to_numpy(dtype=float),
                               plain.parameters[cols].to_numpy(dtype=float), atol=1e-5)


def _bank_with_gaps() -> pd.DataFrame:
    """The bank answers with the gaps of lavaan_fiml_weights.R: sat2 of respondents
    whose number is a multiple of 7, qual3 of 11, loy1 of 13."""
    frame = _bank_frame()
    number = frame["respondent"].str[1:].astype(int)
    for item, k in (("sat2", 7), ("qual3", 11), ("loy1", 13)):
        frame.loc[number % k == 0, item] = np.nan
    return frame


@pytest.fixture(scope="module")
def bank_gaps():
    q = _bank_questionnaire()
    data = load_responses(q, _bank_with_gaps()).data
    return q, data, compute_weights(q, data)


def test_weighted_fiml_bank_matches_lavaan(bank_gaps):
    """The bank questionnaire with raking weights (as survey::rake) and missing
    answers, through model.fit, against lavaan with R's raking weights."""
    q, data, weights = bank_gaps
    ref = FIML["bank"]
    np.testing.assert_allclose(weights.weights.to_numpy(), ref["weights"], atol=1e-6, rtol=0)
    result = fit(q, data, sampling_weights=weights.weights, missing="fiml")
    # the two nearly collinear paths into Value (SE 4.6, see the complete-data test)
    # are held to 1e-4 times their SE; our minimum at least as low as lavaan's
    assert result.fit_measures["chisq"] <= ref["fit"]["chisq"] + 1e-6
    _check_measures(result.fit_measures, ref["fit"])
    for row, mine in _rows(result, ref):
        tol = 1e-4 * max(1.0, row["se"] or 0.0)
        assert mine["est"] == pytest.approx(row["est"], abs=tol), (row["lhs"], row["rhs"])
        if row["se"] and row["se"] > 0:
            assert mine["se"] == pytest.approx(row["se"], abs=1e-3, rel=1e-4)


def test_pipeline_fits_the_fiml_model_weighted(bank_gaps):
    """With missing answers the pipeline's FIML fit takes the weights too: no caution
    sem_weights_not_applied any more, the weighted note instead."""
    from satisfaction import model as sem
    from satisfaction.pipeline import _fit_model

    q, data, weights = bank_gaps
    options: dict = {}
    result = _fit_model(sem, q, data, 200, 1, None, options, weights=weights)
    assert options["sem_weighted"] is True and options["sem_missing"] == "fiml"
    assert options["sem_intervals"] == "delta"
    codes = {w.code: w.severity for w in result.warnings}
    assert codes["sem_weighted"] == "info" and "sem_weights_not_applied" not in codes
    assert result.fit_measures["chisq.scaled"] == pytest.approx(
        FIML["bank"]["fit"]["chisq.scaled"], abs=1e-3)


@pytest.mark.parametrize("weighted", [True, False])
def test_methods_appendix_says_the_model_is_weighted(weighted):
    from types import SimpleNamespace

    import yaml

    from satisfaction.report.methods_context import methods_section
    from satisfaction.resources import TEMPLATES

    a = SimpleNamespace(options={"sem_weighted": weighted, "sem_missing": "complete"},
                        responses=SimpleNamespace(log=SimpleNamespace(loaded=9, analysed=9)),
                        compare=None, value=None)
    b = SimpleNamespace(a=a, q=SimpleNamespace(groups=[]), t=lambda key, **_: key,
                        label=lambda *_: "")
    lines = methods_section(b)[1]["lines"]
    assert ("methods.sem_weighted" in lines) is weighted
    for lang in ("en", "zh"):
        catalog = yaml.safe_load((TEMPLATES / "messages" / f"{lang}.yaml").read_text("utf-8"))
        assert "sampling.weights" in catalog["methods"]["sem_weighted"]


def test_weights_written_with_a_decimal_comma_are_read():
    data = bfi()
    text = data["w"].map(lambda v: f"{v:.2f}".replace(".", ","))
    text.iloc[2] = " "  # an empty cell: no weight
    data["w_text"] = text
    data["w_num"] = text.str.replace(",", ".").replace(" ", np.nan).astype(float)
    a = fit_weighted(AC, data, "w_text")
    b = fit_weighted(AC, data, "w_num")
    assert a.fit_measures["chisq.scaled"] == pytest.approx(b.fit_measures["chisq.scaled"],
                                                           rel=1e-12)
    assert a.excluded["missing_weight"] == 1


def test_a_group_without_weight_is_refused():
    data = bfi()
    data.loc[data["gender"] == 2, "w"] = 0.0
    with pytest.raises(UsageError, match="weight 0") as err:
        fit_weighted(AC, data, "w", group="gender")
    assert err.value.value == 2


def test_the_report_says_when_pls_gives_the_structural_results_weighted():
    """The bank ECSI model fails the CB-SEM gates (a standardized path beyond 1), so the
    pipeline's structural results come from PLS, now weighted PLS: its info note
    (pls_weighted) stands beside the weighted CB-SEM's, and no caution says the PLS
    results are unweighted (about 20 s: the whole analysis)."""
    from satisfaction.pipeline import run

    analysis = run(_bank_questionnaire(), _bank_frame(), bootstrap=0, seed=3, parallel=False)
    assert analysis.options["sem_weighted"] is True
    codes = {w.code: w.severity for w in analysis.warnings}
    assert codes["sem_weighted"] == "info"
    assert analysis.options["estimator"]["used"] == "pls"
    assert codes["pls_weighted"] == "info" and "pls_weights_not_applied" not in codes
    assert analysis.pls.result.weighted
