"""Weighted correlations of the indices with a numeric group variable (issue 17, point 1):
satisfaction.compare.weighted_association against R's survey (svyglm) and cov.wt
(tests/reference/association_weights.R), and compare()/api.compare with weights."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from satisfaction.compare import index_association, weighted_association, weighted_ranks

ROOT = Path(__file__).resolve().parents[1]
REF = json.loads((ROOT / "tests/reference/association_weights.json").read_text())
DATA = pd.read_csv(ROOT / "tests/reference/association_weights_data.csv")


@pytest.mark.parametrize("row", REF["associations"],
                         ids=lambda r: f"{r['construct']}-{r['method']}")
def test_weighted_association_matches_r_survey(row):
    ours = weighted_association(DATA[row["construct"]], DATA["age"], DATA["w"], row["method"])
    assert ours["n"] == row["n"] == 247  # the three missing ages leave the design
    assert ours["df"] == row["df"]
    for key in ("estimate", "statistic", "pvalue", "ci.lower", "ci.upper", "n_eff"):
        assert ours[key] == pytest.approx(row[key], abs=1e-8), key


def test_constant_weights_give_the_unweighted_coefficients():
    const = REF["constant"]
    assert const["pearson"] == pytest.approx(const["cor_pearson"], abs=1e-12)
    ones = np.full(len(DATA), 3.0)
    for method in ("pearson", "spearman"):
        ours = weighted_association(DATA["satisfaction"], DATA["age"], ones, method)
        plain = index_association(DATA["satisfaction"], DATA["age"], method)
        assert ours["estimate"] == pytest.approx(plain["estimate"], abs=1e-12)
        assert ours["estimate"] == pytest.approx(const[f"cor_{method}"], abs=1e-12)
        # the design-based SE is not cor.test's model-based one: the tests differ
        assert ours["statistic"] != pytest.approx(plain["statistic"], abs=1e-3)


def test_weighted_ranks_are_weighted_mid_ranks():
    x = np.array([3.0, 1.0, 3.0, 2.0])
    w = np.array([1.0, 2.0, 0.5, 1.0])
    # 1 -> 2/2; 2 -> 2 + 1/2; 3 -> 3 + 1.5/2
    assert weighted_ranks(x, w) == pytest.approx([3.75, 1.0, 3.75, 2.5])
    assert weighted_ranks(x, np.ones(4)) == pytest.approx(stats.rankdata(x) - 0.5)


def test_too_few_pairs_give_no_estimate():
    out = weighted_association([1, 2, np.nan], [1, 2, 3], [1, 1, 1])
    assert out["estimate"] is None and out["n"] == 2


Q_AGE = ROOT / "tests/data/bank_w_age.yaml"
CSV_AGE = ROOT / "tests/data/bank_w_age.csv"


@pytest.fixture(scope="module")
def weighted_compare():
    from satisfaction import api

    return api.compare(Q_AGE, CSV_AGE, by="age")


@pytest.mark.parametrize("row", REF["associations"],
                         ids=lambda r: f"{r['construct']}-{r['method']}")
def test_api_compare_weights_the_numeric_group(weighted_compare, row):
    """api.compare on the raked bank: the age correlations are R's design-based ones."""
    assoc = weighted_compare.associations
    name = row["construct"].capitalize()
    hit = assoc[(assoc["construct"] == name) & (assoc["method"] == row["method"])]
    assert len(hit) == 1 and bool(hit["weighted"].iloc[0])
    got = hit.iloc[0]
    assert got["n"] == row["n"]
    for key in ("estimate", "statistic", "pvalue", "ci.lower", "ci.upper", "n_eff"):
        assert got[key] == pytest.approx(row[key], abs=1e-8), key


def test_numeric_group_alone_gives_no_empty_weighted_tests(weighted_compare):
    codes = [w.code for w in weighted_compare.warnings]
    assert "compare_associations_weighted" in codes
    assert "compare_weighted" not in codes  # there are no index-by-group tests to speak of
    assert weighted_compare.tests.empty and weighted_compare.weighted.empty
    assert all(r["weighted"] for r in weighted_compare.to_dict()["associations"])


def test_unweighted_compare_keeps_cor_test(weighted_compare):
    from satisfaction.compare import compare
    from satisfaction.drivers import construct_scores
    from satisfaction.questionnaire import load_questionnaire
    from satisfaction.responses import load_responses

    q = load_questionnaire(Q_AGE)
    data = load_responses(q, CSV_AGE).data
    plain = compare(q, data, by="age").associations
    assert not plain["weighted"].any()
    row = plain[(plain["construct"] == "Satisfaction") & (plain["method"] == "pearson")]
    direct = index_association(construct_scores(q, data)["Satisfaction"],
                               pd.to_numeric(data["age"]), "pearson")
    assert row["estimate"].iloc[0] == pytest.approx(direct["estimate"], abs=1e-12)


def _cli(*argv: str) -> str:
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "satisfaction.cli", *argv],
                          capture_output=True, text=True, timeout=120,
                          env={**__import__("os").environ, "COLUMNS": "200"})
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_cli_compare_by_numeric_group_prints_the_weighted_correlations(tmp_path):
    out = _cli("compare", str(Q_AGE), str(CSV_AGE), "--by", "age")
    assert "weighted (design-based) correlation with each index" in out
    assert "Group comparisons" not in out and "Weighted tests" not in out
    assert "0 index-by-group" not in out
    # a categorical group with too many codes: the cap's caution, no empty tables
    q = tmp_path / "cat.yaml"
    q.write_text(Q_AGE.read_text().replace("type: numeric", "type: categorical")
                 .replace("    min: 16\n", "").replace("    max: 99\n", ""))
    out = _cli("compare", str(q), str(CSV_AGE), "--by", "age")
    assert "more than the 20 a group comparison takes" in out
    assert "Group comparisons" not in out and "Weighted tests" not in out
    assert "0 index-by-group" not in out


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_report_says_the_correlations_are_weighted(weighted_compare, lang):
    """The segments chapter: sentence, table title and note say weighted, and the
    sentence's r and effective n are the weighted row's."""
    from types import SimpleNamespace

    from satisfaction.questionnaire import load_questionnaire
    from satisfaction.report.cells import fmt
    from satisfaction.report.context import _Builder

    q = load_questionnaire(Q_AGE)
    analysis = SimpleNamespace(questionnaire=q, compare=weighted_compare,
                               satisfaction="Satisfaction", loyalty="Loyalty")
    b = _Builder(analysis, lang)
    assoc = b.groups()["associations"]
    (sentence,) = assoc["sentences"]
    row = weighted_compare.associations
    row = row[(row["construct"] == "Satisfaction") & (row["method"] == "pearson")].iloc[0]
    assert sentence == b.t("groups.association_weighted", construct=b.name("Satisfaction"),
                           by=q.group("age").name.get(lang), r=fmt(row["estimate"], 2),
                           lower=fmt(row["ci.lower"], 2), upper=fmt(row["ci.upper"], 2),
                           rho=assoc_rho(row, weighted_compare, 2, "estimate"),
                           rho_lower=assoc_rho(row, weighted_compare, 2, "ci.lower"),
                           rho_upper=assoc_rho(row, weighted_compare, 2, "ci.upper"),
                           n=fmt(int(row["n"])), n_eff=fmt(row["n_eff"], 1),
                           p=_p(row))
    word = {"en": "weighted", "zh": "加权"}[lang]
    assert word in sentence and word in assoc["table"].title
    assert word in assoc["table"].note


def assoc_rho(row, cmp, digits, key):
    from satisfaction.report.cells import fmt

    a = cmp.associations
    hit = a[(a["construct"] == row["construct"]) & (a["by"] == row["by"])
            & (a["method"] == "spearman")].iloc[0]
    return fmt(hit[key], digits)


def _p(row):
    from satisfaction.report.cells import fmt_p

    return fmt_p(row["pvalue.adjusted"])


def test_scope_note_names_the_numeric_groups_and_the_link():
    """Nothing left out of weights.NOT_WEIGHTED silently: the lists stay empty and the
    info weights_scope(_pls) names the numeric-group correlations and the value link."""
    import yaml

    from satisfaction.resources import TEMPLATES
    from satisfaction.weights import NOT_WEIGHTED, NOT_WEIGHTED_PLS

    assert NOT_WEIGHTED == () and NOT_WEIGHTED_PLS == ()
    for lang, words in (("en", ("numeric group variables", "survey–customer link")),
                        ("zh", ("数值型分组变量", "调查与顾客数据的关联"))):
        warnings = yaml.safe_load((TEMPLATES / "messages" / f"{lang}.yaml").read_text(
            encoding="utf-8"))["warnings"]
        for key in ("weights_scope", "weights_scope_pls"):
            assert all(w in warnings[key] for w in words), (lang, key)
