"""The weighted survey link (issue 17 point 1): link_survey(weights=) against R's survey
(tests/reference/link_weights.R): segment means with svyby SEs, weighted SDs and
regTermTest across segments, weighted correlations with behaviour, weighted mediation
paths (lm(weights =)); equal weights give the unweighted paths and relations' r."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from satisfaction.value.link import link_survey, mediation

HERE = Path(__file__).parent
REF = json.loads((HERE / "reference" / "link_weights.json").read_text())
TOL = 1e-8


def _inputs():
    scores = pd.read_csv(HERE / "data" / "link_scores.csv", index_col="respondent",
                         dtype={"customer_id": str})
    customers = pd.read_csv(HERE / "data" / "link_customers.csv", index_col="customer_id")
    weights = pd.read_csv(HERE / "reference" / "link_weights.csv",
                          index_col="respondent")["w"]
    return scores, customers, weights


@pytest.fixture(scope="module")
def weighted():
    scores, customers, weights = _inputs()
    return link_survey(scores, customers, draws=200, weights=weights)


@pytest.mark.parametrize("ref", REF["segments"], ids=lambda r: f"{r['by']}-{r['construct']}")
def test_segment_means_and_tests_match_r_survey(weighted, ref):
    g = weighted.groups
    g = g[(g["by"] == ref["by"]) & (g["construct"] == ref["construct"])].set_index("group")
    assert list(g.index) == ref["group"] and g["weighted"].all()
    assert g["mean"].to_numpy() == pytest.approx(ref["mean"], abs=TOL)
    assert g["se"].to_numpy(dtype=float) == pytest.approx(ref["se"], abs=TOL)
    assert g["sd"].to_numpy(dtype=float) == pytest.approx(ref["sd"], abs=TOL)
    t = weighted.tests
    (row,) = t[(t["by"] == ref["by"]) & (t["construct"] == ref["construct"])].to_dict("records")
    assert row["test"] == "wald_f" and row["family"] == "means"  # no unweighted rank test
    assert row["statistic"] == pytest.approx(ref["F"][0][0], abs=TOL)
    assert (row["df"], row["df2"]) == (ref["df"], ref["ddf"])
    assert row["pvalue"] == pytest.approx(ref["p"][0][0], abs=TOL)


@pytest.mark.parametrize("key", list(REF["relations"]))
def test_relations_match_r_survey(weighted, key):
    construct, outcome = key.split()
    ref = REF["relations"][key]
    rel = weighted.relations.set_index(["construct", "outcome"]).loc[(construct, outcome)]
    assert bool(rel["weighted"]) and int(rel["n"]) == ref["n"]
    for ours, theirs in (("r", "r"), ("ci_lower", "lower"), ("ci_upper", "upper"),
                         ("pvalue", "p"), ("spearman", "rho"), ("spearman_pvalue", "p_rho")):
        assert rel[ours] == pytest.approx(ref[theirs], abs=TOL), ours


@pytest.mark.parametrize("outcome", ["repeat_purchases", "clv"])
def test_mediation_paths_are_weighted_least_squares(weighted, outcome):
    ref = REF["mediation"][outcome]
    med = weighted.mediation[weighted.mediation["outcome"] == outcome].set_index("effect")
    for effect in ("a", "b", "direct", "indirect", "total"):
        assert med.loc[effect, "estimate"] == pytest.approx(ref[effect], abs=TOL), effect
    assert ref["total"] == pytest.approx(ref["total_lm"], abs=1e-10)
    assert med.loc["total", "ci_lower"] < med.loc["total", "ci_upper"]


def test_equal_weights_give_the_unweighted_link():
    scores, customers, weights = _inputs()
    plain = link_survey(scores, customers, draws=200)
    equal = link_survey(scores, customers, draws=200, weights=weights * 0 + 2.5)
    assert equal.relations["r"].to_numpy() == pytest.approx(plain.relations["r"], abs=1e-12)
    assert equal.relations["spearman"].to_numpy() == pytest.approx(
        plain.relations["spearman"], abs=1e-12)
    pd.testing.assert_series_equal(equal.groups["mean"], plain.groups["mean"], atol=1e-10)
    pd.testing.assert_series_equal(equal.groups["sd"].astype(float),
                                   plain.groups["sd"].astype(float), atol=1e-10)
    # the same resamples, the same paths: the bootstrap intervals agree too
    pd.testing.assert_frame_equal(equal.mediation, plain.mediation, atol=1e-10)


def test_respondents_without_a_weight_are_counted():
    scores, customers, weights = _inputs()
    linked = link_survey(scores, customers, draws=0).data.index
    gone = weights.drop(linked[:3])
    res = link_survey(scores, customers, draws=0, weights=gone)
    (note,) = [w for w in res.warnings if w.code == "link_no_weight"]
    assert note.params["n"] == 3
    assert int(res.relations["n"].max()) == len(linked) - 3


def test_mediation_weights_one_is_unweighted():
    rng = np.random.default_rng(3)
    x = rng.normal(size=60)
    m = 0.5 * x + rng.normal(size=60)
    y = 0.3 * m + 0.2 * x + rng.normal(size=60)
    a = mediation(x, m, y, draws=100, seed=1).effects
    b = mediation(x, m, y, draws=100, seed=1, weights=np.ones(60)).effects
    pd.testing.assert_frame_equal(a, b, atol=1e-12)


class _NoConstructs:
    observed: tuple = ()
    groups: tuple = ()

    def construct(self, key: str):
        raise KeyError(key)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_report_says_the_link_is_weighted(weighted, lang):
    """The value chapter: matched sentence, titles and notes say weighted; the chart's
    intervals are the design-based mean ± z·SE of the table's weighted means."""
    from statistics import NormalDist
    from types import SimpleNamespace

    from satisfaction.report import value_context
    from satisfaction.report.context import _Builder

    analysis = SimpleNamespace(questionnaire=_NoConstructs(), satisfaction="satisfaction",
                               link=weighted)
    b = _Builder(analysis, lang)
    out = value_context._link(b, weighted)
    word = {"en": "weight", "zh": "加权"}[lang]
    assert out["matched"] == b.t("value.matched_weighted", n=str(weighted.counts["matched"]))
    assert word in out["by_segment"].title and word in out["predicts_table"].title
    assert b.t("value.by_segment_weighted_note") in out["by_segment"].note
    assert b.t("value.predicts_weighted_note") in out["predicts_table"].note
    g = weighted.groups
    seg = g[(g["by"] == "rfm_segment") & (g["construct"] == "satisfaction")]
    bounds = value_context.segment_bounds(seg, True)
    z = NormalDist().inv_cdf(0.975)
    assert [lo for lo, _ in bounds] == pytest.approx(list(seg["mean"] - z * seg["se"]),
                                                     abs=1e-12)
    assert [hi for _, hi in bounds] == pytest.approx(list(seg["mean"] + z * seg["se"]),
                                                     abs=1e-12)
    # svyby's SE: at_risk's is R's
    ref = next(r for r in REF["segments"]
               if r["by"] == "rfm_segment" and r["construct"] == "satisfaction")
    assert seg.set_index("group").loc["at_risk", "se"] == pytest.approx(ref["se"][0], abs=TOL)
