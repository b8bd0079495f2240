"""Group comparisons against R (tests/reference/r_stats_reference.R → compare_bank.json)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from satisfaction.compare import adjust_pvalues, compare
from satisfaction.errors import InputError, UsageError
from satisfaction.questionnaire import load_questionnaire

from .conftest import SHARED

ROOT = Path(__file__).resolve().parent.parent
DATA = SHARED / "bank_satisfaction.csv"
REF = json.loads((ROOT / "tests/reference/compare_bank.json").read_text())
TOL = 1e-6


@pytest.fixture(scope="module")
def bank():
    q = load_questionnaire(ROOT / "satisfaction/questionnaires/ecsi_bank.yaml")
    d = pd.read_csv(DATA, index_col="respondent")
    # the derived grouping variables of the R script
    d["band"] = (np.arange(len(d)) % 3).astype(str)
    d["high_sat"] = np.where(d["sat1"] >= 8, "yes", "no")
    return q, d


@pytest.fixture(scope="module")
def by_gender(bank):
    q, d = bank
    return compare(q, d, by="gender")


def _row(tests, construct, test):
    row = tests[(tests["construct"] == construct) & (tests["test"] == test)]
    assert len(row) == 1
    return row.iloc[0]


@pytest.mark.parametrize("construct", list(REF["gender"]))
def test_gender_matches_r(by_gender, construct):
    ref = REF["gender"][construct]
    t = _row(by_gender.tests, construct, "welch_t")
    assert t["statistic"] == pytest.approx(ref["welch_t"]["statistic"], abs=TOL)
    assert t["df"] == pytest.approx(ref["welch_t"]["df"], abs=TOL)
    assert t["pvalue"] == pytest.approx(ref["welch_t"]["pvalue"], abs=TOL)
    assert t["effect.size"] == pytest.approx(ref["welch_t"]["hedges_g"], abs=TOL)
    assert t["pvalue.adjusted"] == pytest.approx(REF["gender_holm"]["welch_t"][construct], abs=TOL)
    for code in ("male", "female"):
        assert t["groups"][code]["n"] == ref["groups"][code]["n"]
        assert t["groups"][code]["mean"] == pytest.approx(ref["groups"][code]["mean"], abs=TOL)
        assert t["groups"][code]["sd"] == pytest.approx(ref["groups"][code]["sd"], abs=TOL)
        shapiro = t["assumptions"]["normality"]["groups"][code]
        assert shapiro["W"] == pytest.approx(ref["shapiro"][code]["W"], abs=1e-5)
        assert shapiro["pvalue"] == pytest.approx(ref["shapiro"][code]["pvalue"], abs=1e-5)
    ev = t["assumptions"]["equal_variance"]
    assert ev["statistic"] == pytest.approx(ref["levene"]["statistic"], abs=TOL)
    assert ev["pvalue"] == pytest.approx(ref["levene"]["pvalue"], abs=TOL)
    u = _row(by_gender.tests, construct, "mann_whitney")
    assert u["statistic"] == pytest.approx(ref["mann_whitney"]["statistic"], abs=TOL)
    assert u["pvalue"] == pytest.approx(ref["mann_whitney"]["pvalue"], abs=TOL)
    assert u["effect.size"] == pytest.approx(ref["mann_whitney"]["rank_biserial"], abs=TOL)
    assert u["pvalue.adjusted"] == pytest.approx(
        REF["gender_holm"]["mann_whitney"][construct], abs=TOL)


def test_fdr_option_matches_r_bh(bank):
    q, d = bank
    res = compare(q, d, by="gender", adjust="fdr")
    for construct, p in REF["gender_fdr"]["welch_t"].items():
        assert _row(res.tests, construct, "welch_t")["pvalue.adjusted"] == pytest.approx(p, abs=TOL)


def test_adjust_pvalues_holm_by_hand():
    # p.adjust(c(0.01, 0.04, 0.03), "holm") = 0.03 0.06 0.06
    assert adjust_pvalues([0.01, 0.04, 0.03], "holm") == pytest.approx([0.03, 0.06, 0.06])
    out = adjust_pvalues([0.01, np.nan], "holm")
    assert out[0] == pytest.approx(0.01) and np.isnan(out[1])
    with pytest.raises(UsageError):
        adjust_pvalues([0.1], "tukey")


@pytest.fixture(scope="module")
def by_band(bank):
    q, d = bank
    return compare(q, d, by="band")


@pytest.mark.parametrize("construct", list(REF["band"]))
def test_three_groups_match_r(by_band, construct):
    ref = REF["band"][construct]
    w = _row(by_band.tests, construct, "welch_anova")
    assert w["statistic"] == pytest.approx(ref["welch_anova"]["statistic"], abs=TOL)
    assert w["df"] == pytest.approx(ref["welch_anova"]["df"], abs=TOL)
    assert w["df2"] == pytest.approx(ref["welch_anova"]["df2"], abs=TOL)
    assert w["pvalue"] == pytest.approx(ref["welch_anova"]["pvalue"], abs=TOL)
    assert w["effect.size"] == pytest.approx(ref["welch_anova"]["omega_squared"], abs=TOL)
    k = _row(by_band.tests, construct, "kruskal_wallis")
    assert k["statistic"] == pytest.approx(ref["kruskal_wallis"]["statistic"], abs=TOL)
    assert k["df"] == pytest.approx(ref["kruskal_wallis"]["df"], abs=TOL)
    assert k["pvalue"] == pytest.approx(ref["kruskal_wallis"]["pvalue"], abs=TOL)
    assert k["effect.size"] == pytest.approx(ref["kruskal_wallis"]["eta_squared_h"], abs=TOL)
    ph = by_band.posthoc[by_band.posthoc["construct"] == construct]
    assert len(ph) == len(ref["games_howell"]) == 3
    for pair in ref["games_howell"]:
        row = ph[(ph["A"] == pair["A"]) & (ph["B"] == pair["B"])].iloc[0]
        assert row["diff"] == pytest.approx(pair["diff"], abs=TOL)
        assert row["statistic"] == pytest.approx(pair["statistic"], abs=TOL)
        assert row["df"] == pytest.approx(pair["df"], abs=TOL)
        assert row["pvalue"] == pytest.approx(pair["pvalue"], abs=1e-4)


def test_chi_square_matches_r(bank):
    q, d = bank
    res = compare(q, d, by=["gender", "band", "high_sat"])
    chi = res.tests[res.tests["test"] == "chi2"]
    # each unordered pair of the comparison variables once, named by the earlier one
    assert list(zip(chi["by"], chi["construct"], strict=True)) == [
        ("gender", "band"), ("gender", "high_sat"), ("band", "high_sat")]
    for other, key in (("band", "gender_band"), ("high_sat", "gender_high_sat")):
        row = chi[(chi["by"] == "gender") & (chi["construct"] == other)].iloc[0]
        ref = REF["chisq"][key]
        assert row["statistic"] == pytest.approx(ref["statistic"], abs=TOL)
        assert row["df"] == pytest.approx(ref["df"], abs=TOL)
        assert row["pvalue"] == pytest.approx(ref["pvalue"], abs=TOL)
        assert row["effect.size"] == pytest.approx(ref["cramers_v"], abs=TOL)


def test_correlations_match_r(by_gender):
    cor = by_gender.correlations
    assert len(cor) == len(REF["correlations"])
    for ref in REF["correlations"]:
        row = cor[(cor["x"] == ref["x"]) & (cor["y"] == ref["y"])].iloc[0]
        assert row["r"] == pytest.approx(ref["r"], abs=TOL)
        assert row["pvalue"] == pytest.approx(ref["pvalue"], rel=1e-5, abs=1e-300)
        assert row["pvalue.adjusted"] == pytest.approx(ref["pvalue.adjusted"], rel=1e-5)


def test_json_contract_and_determinism(bank, by_gender):
    q, d = bank
    out = by_gender.to_dict()
    first = out["tests"][0]
    for key in ("construct", "by", "test", "statistic", "df", "pvalue", "pvalue.adjusted",
                "effect", "effect.size", "groups"):
        assert key in first
    assert set(first["groups"]["male"]) >= {"n", "mean", "sd"}
    text = json.dumps(out, sort_keys=True, allow_nan=False)
    again = json.dumps(compare(q, d, by="gender").to_dict(), sort_keys=True, allow_nan=False)
    assert text == again


def test_missing_group_values_are_counted(bank):
    q, d = bank
    d = d.copy()
    d.loc[d.index[:7], "gender"] = np.nan
    d.loc[d.index[7], "gender"] = "other"  # a group of one
    res = compare(q, d, by="gender")
    reasons = dict(zip(res.excluded["reason"], res.excluded["n"], strict=True))
    assert reasons == {"missing group value": 7, "group with fewer than 2 respondents": 1}
    assert _row(res.tests, "Image", "welch_t")["n"] == 250 - 8


def test_unknown_group_is_an_input_error(bank):
    q, d = bank
    with pytest.raises(InputError, match="nosuch"):
        compare(q, d, by="nosuch")
    with pytest.raises(UsageError):
        compare(q, d, by="gender", adjust="nope")


def test_constant_index_is_reported_not_silently_skipped(bank):
    q, d = bank
    d = d.copy()
    for item in ("imag1", "imag2", "imag3", "imag4", "imag5"):
        d[item] = 7
    res = compare(q, d, by="gender")
    assert "Image" not in set(res.tests["construct"])
    notes = [w for w in res.warnings if w.code == "compare_constant_index"]
    assert len(notes) == 1
    w = notes[0]
    assert (w.severity, w.params["construct"], w.params["by"]) == ("info", "Image", "gender")
    assert w.constructs == ("construct",)
    assert str(w) == (f"Image by gender: the index is {w.params['value']:.3f} for every "
                      "compared respondent; not tested")
    assert res.status == "ok"
    assert res.to_dict()["warnings"][0]["code"] == "compare_constant_index"


def test_chi_square_with_small_expected_counts_is_a_caution(bank):
    q, d = bank
    d = d.copy()
    d["rare"] = np.where(np.arange(len(d)) < 3, "a", "b")
    res = compare(q, d, by=["gender", "rare"])
    notes = [w for w in res.warnings if w.code == "chi2_expected_low"]
    assert len(notes) == 1 and notes[0].severity == "caution"
    # expected counts by hand: row total x column total / n, over the 2 x 2 table
    table = pd.crosstab(d["gender"], d["rare"])
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / table.to_numpy().sum()
    assert notes[0].params["min"] == pytest.approx(expected.min(), abs=1e-12)
    assert notes[0].params["share"] == pytest.approx((expected < 5).mean(), abs=1e-12)
    assert (notes[0].params["a"], notes[0].params["b"]) == ("rare", "gender")
    assert res.status == "caution" and res.to_dict()["status"] == "caution"
    # the well-filled tables of the R comparison raise nothing
    assert compare(q, bank[1], by=["gender", "band", "high_sat"]).warnings == []


CORR = json.loads((ROOT / "tests/reference/r_correlation_reference.json").read_text())


@pytest.mark.parametrize("index", ["index_a", "index_b"])
def test_index_association_matches_r_cor_test(index):
    from satisfaction.compare import index_association

    d = pd.read_csv(ROOT / "tests/reference/age_index.csv")
    ref = CORR[index]
    p = index_association(d[index], d["age"], "pearson")
    assert p["n"] == ref["n"]
    assert p["estimate"] == pytest.approx(ref["pearson"]["estimate"], abs=1e-9)
    assert [p["ci.lower"], p["ci.upper"]] == pytest.approx(ref["pearson"]["ci"], abs=1e-9)
    assert p["statistic"] == pytest.approx(ref["pearson"]["statistic"], abs=1e-8)
    assert p["df"] == ref["pearson"]["df"]
    assert p["pvalue"] == pytest.approx(ref["pearson"]["pvalue"], rel=1e-6)
    s = index_association(d[index], d["age"], "spearman")
    assert s["estimate"] == pytest.approx(ref["spearman"]["estimate"], abs=1e-9)
    assert [s["ci.lower"], s["ci.upper"]] == pytest.approx(ref["spearman"]["ci"], abs=1e-9)
    assert s["pvalue"] == pytest.approx(ref["spearman"]["pvalue"], rel=1e-6)
    assert s["ci.lower"] < s["estimate"] < s["ci.upper"]


def _with_group(q, group: dict):
    import yaml

    from satisfaction.questionnaire import Questionnaire

    spec = yaml.safe_load(Path(q.source).read_text(encoding="utf-8"))
    spec["groups"] = [*spec.get("groups", []), group]
    return Questionnaire.from_dict(spec)


def test_numeric_group_is_correlated_not_split_into_groups(bank):
    """A numeric group without bands (54 distinct ages) gives a correlation per index
    in seconds, no Welch ANOVA and no chi-square; with bands it is compared as groups."""
    import time

    from satisfaction.compare import index_association
    from satisfaction.drivers import construct_scores

    q, d = bank
    d = d.copy()
    d["age"] = 18 + (np.arange(len(d)) * 7) % 54
    q_age = _with_group(q, {"id": "age", "type": "numeric"})
    start = time.perf_counter()
    res = compare(q_age, d, by=["age", "gender"])
    assert time.perf_counter() - start < 5
    assert "age" not in set(res.tests["by"])
    assoc = res.associations
    scores = construct_scores(q_age, d)
    assert set(assoc["construct"]) == set(scores.columns)
    row = assoc[(assoc["construct"] == "Satisfaction") & (assoc["method"] == "pearson")].iloc[0]
    direct = index_association(scores["Satisfaction"], d["age"], "pearson")
    assert row["estimate"] == pytest.approx(direct["estimate"], abs=1e-12)
    assert row["pvalue.adjusted"] >= row["pvalue"]
    assert res.to_dict()["associations"][0]["by"] == "age"
    banded = _with_group(q, {"id": "age", "type": "numeric", "bands": [18, 40, 60, 72]})
    by_band = compare(banded, d, by="age")
    assert set(by_band.tests["test"]) >= {"welch_anova"} and by_band.associations.empty


def test_too_many_categories_are_not_compared(bank):
    q, d = bank
    d = d.copy()
    d["shop"] = [f"s{i % 30}" for i in range(len(d))]
    res = compare(q, d, by="shop")
    assert res.tests.empty or "shop" not in set(res.tests["by"])
    codes = [w.code for w in res.warnings]
    assert "compare_too_many_groups" in codes
    assert "more than 20 groups" in set(res.excluded["reason"])


def test_group_drivers_count_values_outside_the_bands_as_compare_does(bank):
    """The driver chapter's groups (group_drivers.questionnaire_outside) count the values
    outside a numeric variable's bands under the group comparison's reason and number."""
    from satisfaction.group_drivers import questionnaire_outside

    q, d = bank
    d = d.copy()
    d["age"] = 18 + (np.arange(len(d)) * 7) % 54   # 18..71
    banded = _with_group(q, {"id": "age", "type": "numeric", "bands": [20, 40, 60]})
    cmp = compare(banded, d, by="age")
    row = cmp.excluded[cmp.excluded["reason"].str.startswith("outside the bands")].iloc[0]
    reason, mask = questionnaire_outside(banded, d)["age"]
    assert reason == row["reason"] == "outside the bands (below 20 or above 60)"
    assert int(mask.sum()) == int(row["n"]) == int(((d["age"] < 20) | (d["age"] > 60)).sum())
