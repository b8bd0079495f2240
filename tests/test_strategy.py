"""Strategy engine: every shipped rule fires on findings built to trigger it, and only then;
texts fit the questionnaire (domain, names), duplicates merge, evidence is stated, gates hold."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from satisfaction.diagnostics import Diagnostic
from satisfaction.errors import SchemaError
from satisfaction.questionnaire import DOMAINS, load_questionnaire
from satisfaction.strategy import Findings, Rule, load_rules, recommend, shipped_rules
from tests.conftest import QUESTIONNAIRES

RULES = shipped_rules()
OTHER_QUADRANT = {"concentrate_here": "keep_up", "keep_up": "low_priority",
                  "low_priority": "possible_overkill", "possible_overkill": "concentrate_here"}
POINT = {"concentrate_here": (0.5, 40.0), "keep_up": (0.5, 80.0),
         "low_priority": (0.1, 40.0), "possible_overkill": (0.1, 80.0)}


def _ipa_row(construct: str, quad: str) -> dict:
    imp, perf = POINT[quad]
    return {"construct": construct, "stage": "in_sale", "importance": imp, "performance": perf,
            "quadrant": quad, "mean.importance": 0.3, "mean.performance": 60.0}


def findings_for(rule: Rule, trigger: bool) -> Findings:
    """Findings that meet (or just miss) the rule's condition."""
    c = rule.when
    if c.type == "quadrant":
        construct = c.constructs[0] if c.constructs else "Image"
        quad = c.quadrant if trigger else OTHER_QUADRANT[c.quadrant]
        return Findings(ipa=pd.DataFrame([_ipa_row(construct, quad)]))
    if c.type == "index_below":
        value = c.threshold - 10 if trigger else c.threshold + 10
        return Findings(indices=pd.DataFrame(
            [{"construct": "Image", "stage": "pre_sale", "index": value}]))
    if c.type == "group_gap":
        p = c.alpha / 10 if trigger else min(1.0, c.alpha * 4)
        row = {"construct": "Sat", "by": "gender", "test": "welch_t", "statistic": 3.1,
               "pvalue": p / 2, "pvalue.adjusted": p, "effect": "hedges_g",
               "effect.size": max(c.min_effect, 0.2) + 0.1,
               "groups": {"1": {"n": 100, "mean": 70.0, "sd": 10.0},
                          "2": {"n": 100, "mean": 62.0, "sd": 10.0}}}
        return Findings(group_tests=pd.DataFrame([row]))
    if c.type == "weak_reliability":
        value = c.threshold - 0.1 if trigger else c.threshold + 0.1
        return Findings(reliability=pd.DataFrame([{"construct": "Price", c.measure: value}]))
    if c.type == "weak_discriminant":
        value = c.threshold + 0.05 if trigger else c.threshold - 0.1
        return Findings(htmt=pd.DataFrame([{"a": "Sat", "b": "Loy", "htmt": value}]))
    if c.type in ("segment", "lifecycle"):
        key = "segment" if c.type == "segment" else "stage"
        name = (c.segments or c.stages)[0] if trigger else "none_of_these"
        table = pd.DataFrame([{key: name, "n": 50, "value": 2000.0},
                              {key: "other", "n": 150, "value": 6000.0}])
        return Findings(**{"segments" if c.type == "segment" else "lifecycle": table})
    if c.type == "churn_risk":
        value = [float(v) for v in range(1, 21)]
        top = [v >= pd.Series(value).quantile(c.value_quantile) for v in value]
        p_alive = [(c.max_p_alive / 2 if (t and trigger) else min(1.0, c.max_p_alive + 0.2))
                   for t in top]
        return Findings(customers=pd.DataFrame(
            {"customer": [f"C{i}" for i in range(20)], "p_alive": p_alive, "value": value}))
    if c.type == "sat_not_loyalty":
        if trigger:
            link = {"sat": "Sat", "loy": "Loy", "sat_index": 72.0, "loy_index": 55.0,
                    "effect": 0.2}
        else:
            link = {"sat": "Sat", "loy": "Loy", "sat_index": 70.0, "loy_index": 70.0,
                    "effect": 0.8}
        return Findings(sat_loyalty=link)
    raise AssertionError(f"no builder for {c.type}")


def test_shipped_rules_load_and_cover_the_issue():
    ids = {r.id for r in RULES}
    assert len(ids) == len(RULES)
    types = {r.when.type for r in RULES}
    assert types == {"quadrant", "index_below", "group_gap", "weak_reliability",
                     "weak_discriminant", "segment", "lifecycle", "churn_risk",
                     "sat_not_loyalty"}
    cram = {r.when.constructs[0] for r in RULES if r.id.startswith("cram.")}
    assert cram == {"Info", "Brand", "WoM", "Quality", "Price", "Convenience", "Staff",
                    "Environment", "Service", "Extension", "Promise"}
    for r in RULES:  # every shipped text exists in both languages
        for text in (r.title, r.action, r.rationale):
            assert text.en and text.zh


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_each_shipped_rule_triggers_and_does_not(rule):
    fired = recommend(findings_for(rule, trigger=True))
    mine = [r for r in fired if r.rule == rule.id]
    assert len(mine) == 1, f"{rule.id} did not fire"
    rec = mine[0]
    assert rec.priority > 0 and rec.evidence
    for lang in ("en", "zh"):  # every placeholder was filled from the evidence
        for text in (rec.title[lang], rec.action[lang], rec.rationale[lang],
                     rec.sentence[lang]):
            assert text and not re.search(r"\{[A-Za-z_.]+(:[^}]*)?\}", text), text
        # a sentence, not a dump of the evidence keys
        assert not [k for k in rec.evidence if f"{k} = " in rec.sentence[lang]], rec.sentence
    json.dumps(rec.to_dict(), allow_nan=False)
    quiet = recommend(findings_for(rule, trigger=False))
    assert rule.id not in {r.rule for r in quiet}


def test_priority_formulas_and_evidence():
    ipa = pd.DataFrame([_ipa_row("Convenience", "concentrate_here"),
                        _ipa_row("Quality", "concentrate_here") | {"importance": 0.3}])
    res = recommend(Findings(ipa=ipa))
    top = res[0]
    assert top.rule == "cram.in_sale.convenience" and top.rank == 1
    # w · (importance / mean importance) · (100 − performance)
    assert top.priority == pytest.approx(0.5 / 0.3 * (100 - 40))
    assert top.evidence["importance"] == 0.5 and top.evidence["performance"] == 40
    assert top.evidence["gap.mean"] == pytest.approx(40 - 60)
    assert "40.0" in top.sentence["en"] and "20.0 points below" in top.sentence["en"]
    assert res[1].priority == pytest.approx(0.3 / 0.3 * 60)
    rel = recommend(Findings(reliability=pd.DataFrame([{"construct": "Price", "alpha": 0.6}])))
    assert rel[0].priority == pytest.approx(0.5 * 100 * (0.7 - 0.6))
    seg = recommend(Findings(segments=pd.DataFrame(
        [{"segment": "at_risk", "n": 10, "value": 250.0, "scheme": "rfm_segment"},
         {"segment": "champions", "n": 10, "value": 750.0, "scheme": "rfm_segment"},
         {"segment": "important_value", "n": 20, "value": 1000.0, "scheme": "value_group"}])))
    by_id = {r.id: r for r in seg}
    assert by_id["value.retain_at_risk:at_risk"].priority == pytest.approx(0.8 * 25)
    assert by_id["value.reward_champions:important_value"].priority == pytest.approx(0.2 * 100)


def test_generic_quadrant_rule_leaves_cram_factors_to_their_own_rules():
    res = recommend(Findings(ipa=pd.DataFrame([_ipa_row("Convenience", "concentrate_here")])))
    assert [r.rule for r in res] == ["cram.in_sale.convenience"]


def test_ranking_is_deterministic_with_ties():
    ipa = pd.DataFrame([_ipa_row(c, "concentrate_here") for c in ("Staff", "Price", "Image")])
    a = recommend(Findings(ipa=ipa)).to_dict()
    b = recommend(Findings(ipa=ipa.iloc[::-1].reset_index(drop=True))).to_dict()
    assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
    assert [r["rule"] for r in a["recommendations"]] == [
        "cram.in_sale.price", "cram.in_sale.staff", "ipa.concentrate_here"]
    assert [r["rank"] for r in a["recommendations"]] == [1, 2, 3]


def test_user_rule_file_adds_and_replaces(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text(
        "rules:\n"
        "  - id: cram.in_sale.convenience\n"
        "    when: {type: quadrant, quadrant: concentrate_here, constructs: [Convenience]}\n"
        "    weight: 2\n"
        "    title: Open more tills\n"
        "    action: Open more tills at peak hours\n"
        "    rationale: {en: Queues, zh: 排队}\n"
        "  - id: mine.price_index\n"
        "    when: {type: index_below, threshold: 80, constructs: [Price]}\n"
        "    title: Price below {threshold:.0f}\n"
        "    action: Review prices\n"
        "    rationale: Index {index:.1f}\n", encoding="utf-8")
    f = Findings(ipa=pd.DataFrame([_ipa_row("Convenience", "concentrate_here")]),
                 indices=pd.DataFrame([{"construct": "Price", "stage": "in_sale", "index": 70.0}]))
    res = recommend(f, extra_rules=[path])
    by_rule = {r.rule: r for r in res}
    assert by_rule["cram.in_sale.convenience"].title["en"] == "Open more tills"
    assert by_rule["cram.in_sale.convenience"].title["zh"] == "Open more tills"  # falls back
    assert by_rule["cram.in_sale.convenience"].priority == pytest.approx(2 * 0.5 / 0.3 * 60)
    assert by_rule["mine.price_index"].rationale["en"] == "Index 70.0"
    assert by_rule["mine.price_index"].priority == pytest.approx(10.0)  # importance 1 × gap


def test_bad_rule_file_names_file_line_and_key(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("rules:\n  - id: x\n    when: {type: quadrant}\n    title: t\n"
                    "    action: a\n    rationale: r\n", encoding="utf-8")
    with pytest.raises(SchemaError) as err:
        load_rules(path)
    text = str(err.value)
    assert "bad.yaml" in text and "line 3" in text and "rules.0.when" in text
    path.write_text("rules:\n  - id: x\n    when: {type: eval, code: 'import os'}\n",
                    encoding="utf-8")
    with pytest.raises(SchemaError, match="line 3"):
        load_rules(path)
    path.write_text("rules: [", encoding="utf-8")
    with pytest.raises(SchemaError, match="not valid YAML"):
        load_rules(path)


def test_findings_from_results_links_satisfaction_and_loyalty():
    indices = pd.DataFrame([{"construct": "Sat", "stage": "outcome", "index": 75.0},
                            {"construct": "Loy", "stage": "outcome", "index": 60.0}])
    effects = pd.DataFrame([{"from": "Sat", "to": "Loy", "total": 0.5, "std.total": 0.3}])
    f = Findings.from_results(indices=indices, effects=effects)
    assert f.sat_loyalty == {"sat": "Sat", "loy": "Loy", "sat_index": 75.0,
                             "loy_index": 60.0, "effect": 0.3}
    rec = recommend(f, rules=[r for r in RULES if r.id == "outcome.sat_not_loyalty"])[0]
    assert rec.priority == pytest.approx(max(15.0, 100 * (0.4 - 0.3)))


def test_findings_from_analysis_reads_every_stage():
    from types import SimpleNamespace

    import numpy as np

    from satisfaction.value.rfm import rfm_segments

    ids = [f"C{i:02d}" for i in range(40)]
    rng = np.random.default_rng(1)
    scored = rfm_segments(pd.Series(rng.integers(1, 400, 40), index=ids),
                 pd.Series(rng.integers(1, 12, 40), index=ids),
                 pd.Series(rng.uniform(10, 500, 40), index=ids))
    stages = pd.Series(["decline"] * 10 + ["growth"] * 30, index=ids, name="lifecycle_stage")
    clv = SimpleNamespace(data=pd.DataFrame({"p_alive": np.linspace(0.05, 0.95, 40),
                                             "clv": np.linspace(500, 10, 40)}, index=ids))
    reliability = SimpleNamespace(
        constructs=pd.DataFrame({"alpha": [0.6, 0.9], "cr": [0.8, 0.9], "ave": [0.55, 0.6]},
                                index=pd.Index(["Price", "Sat"])),
        htmt_pairs=pd.DataFrame([{"construct1": "Price", "construct2": "Sat", "htmt": 0.9}]))
    analysis = SimpleNamespace(
        satisfaction="Sat", loyalty="Loy", sem=None, ipa=None, compare=None,
        indices=SimpleNamespace(constructs=pd.DataFrame(
            [{"construct": "Sat", "stage": "outcome", "index": 70.0},
             {"construct": "Loy", "stage": "outcome", "index": 60.0}])),
        reliability=reliability,
        value={"rfm": scored, "lifecycle": SimpleNamespace(data=stages.to_frame()),
               "clv": clv})
    f = Findings.from_analysis(analysis)
    assert set(f.segments["scheme"]) == {"value_group", "rfm_segment"}
    for scheme in ("value_group", "rfm_segment"):  # each scheme covers every customer once
        assert f.segments.loc[f.segments["scheme"] == scheme, "n"].sum() == 40
    life = f.lifecycle.set_index("stage")
    assert life.loc["decline", "n"] == 10
    assert life.loc["decline", "value"] == pytest.approx(scored.data["monetary"].iloc[:10].sum())
    assert len(f.customers) == 40 and f.sat_loyalty["loy_index"] == 60.0
    rules = {r.rule for r in recommend(f)}
    assert {"measure.low_alpha", "measure.htmt", "value.lifecycle_decline",
            "value.churn_risk", "outcome.sat_not_loyalty"} <= rules



# -- texts that fit the questionnaire --------------------------------------------------


def _bank() -> object:
    return load_questionnaire(QUESTIONNAIRES / "ecsi_bank.yaml")


def _bank_ipa(quadrants: dict[str, str], **extra) -> pd.DataFrame:
    rows = []
    for construct, quad in quadrants.items():
        imp, perf = POINT[quad]
        rows.append({"construct": construct, "stage": "in_sale", "parent": None,
                     "importance": imp, "performance": perf, "quadrant": quad,
                     "mean.importance": 0.3, "mean.performance": 60.0,
                     "importance.method": "total_effect", **extra})
    return pd.DataFrame(rows)


def test_bank_domain_gives_no_manufacturing_action_and_names_its_own_construct():
    q = _bank()
    assert q.domain == "retail_bank"
    res = recommend(Findings.from_results(ipa=_bank_ipa({"Quality": "concentrate_here"}),
                                          questionnaire=q, sat="Satisfaction"))
    (rec,) = res.recommendations
    assert rec.rule == "cram.in_sale.quality" and res.domain == "retail_bank"
    assert "branches" in rec.action["en"] and "网点" in rec.action["zh"]
    for lang in ("en", "zh"):
        text = " ".join((rec.title[lang], rec.action[lang], rec.rationale[lang]))
        assert "defect" not in text and "product line" not in text and "产品线" not in text
        assert "stability" not in text and "稳定性" not in text  # no hard-coded CRAM name
    assert rec.title["en"] == "Make quality consistent: Perceived quality"
    assert rec.title["zh"] == "让质量稳定一致：感知质量"
    assert "Satisfaction" in rec.rationale["en"] and "满意度" in rec.rationale["zh"]
    # the neutral text without a domain, the manufacturing one only when declared
    neutral = recommend(Findings(ipa=_bank_ipa({"Quality": "concentrate_here"})))[0]
    assert "defect" not in neutral.action["en"] and "branches" not in neutral.action["en"]
    made = recommend(Findings(ipa=_bank_ipa({"Quality": "concentrate_here"}),
                              domain="manufacturing"))[0]
    assert "defect and return rates by product line" in made.action["en"]


def test_no_shipped_text_outside_manufacturing_speaks_of_defects():
    for rule in RULES:
        for domain in (None, *DOMAINS):
            if domain == "manufacturing":
                continue
            for lang in ("en", "zh"):
                text = rule.action.get(lang, domain) + rule.title.get(lang, domain)
                assert "defect" not in text and "缺陷" not in text, (rule.id, domain)


def test_generic_rules_name_the_construct_from_the_questionnaire():
    q = _bank()
    res = recommend(Findings.from_results(
        ipa=_bank_ipa({"Value": "concentrate_here", "Image": "keep_up"}), questionnaire=q,
        sat="Satisfaction"))
    (rec,) = res.recommendations
    assert rec.rule == "ipa.concentrate_here"
    assert rec.title == {"en": "Concentrate here: Perceived value", "zh": "重点改进：感知价值"}
    assert rec.sentence["zh"].startswith("感知价值对满意度的标准化总效应为 0.50")


def test_unknown_domain_in_a_rule_file_is_a_schema_error(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("rules:\n  - id: x\n    when: {type: index_below, threshold: 50}\n"
                    "    title: t\n    action:\n      en: a\n      domains:\n"
                    "        banking: {en: b}\n    rationale: r\n", encoding="utf-8")
    with pytest.raises(SchemaError, match="unknown domain 'banking'") as err:
        load_rules(path)
    assert "line 7" in str(err.value) and "rules.0.action.domains" in str(err.value)


# -- duplicates merge --------------------------------------------------------------


def test_same_action_merges_into_one_recommendation_listing_every_subject():
    q = _bank()
    f = Findings.from_results(
        ipa=_bank_ipa({"Image": "possible_overkill", "Expectation": "possible_overkill",
                       "Value": "concentrate_here"}), questionnaire=q, sat="Satisfaction")
    res = recommend(f)
    overkill = [r for r in res if r.rule == "ipa.possible_overkill"]
    assert len(overkill) == 1
    rec = overkill[0]
    assert rec.subjects == ["Expectation", "Image"] and len(rec.matches) == 2
    assert rec.title["en"] == "Possible overkill: Expectations and Image"
    assert rec.title["zh"] == "可能投入过度：顾客预期、企业形象"
    single = 0.3 * (0.1 / 0.3) * (100 - 80)
    assert rec.priority == pytest.approx(2 * single)
    assert rec.sentence["en"].count("scores 80.0") == 2
    assert "Expectations" in rec.sentence["en"] and "Image" in rec.sentence["en"]
    htmt = recommend(Findings(htmt=pd.DataFrame([{"a": "A", "b": "B", "htmt": 0.95},
                                                 {"a": "B", "b": "C", "htmt": 0.90}])))
    assert len(htmt) == 1 and htmt[0].subjects == ["A|B", "B|C"]
    assert htmt[0].priority == pytest.approx(0.5 * 100 * (0.10 + 0.05))


def test_same_rule_and_construct_merges_and_counts_the_subject_once():
    base = {"construct": "Sat", "by": "gender", "statistic": 3.1, "pvalue": 0.001,
            "pvalue.adjusted": 0.002, "effect.size": 0.4,
            "groups": {"1": {"n": 100, "mean": 70.0}, "2": {"n": 100, "mean": 62.0}}}
    tests = pd.DataFrame([base | {"test": "welch_t", "effect": "hedges_g"},
                          base | {"test": "mann_whitney", "effect": "rank_biserial"}])
    res = recommend(Findings(group_tests=tests))
    (rec,) = res.recommendations
    assert len(rec.matches) == 2 and rec.rules == ["group.gap"]
    assert rec.priority == pytest.approx(0.5 * 8.0)  # one subject: the larger priority
    assert "Welch t" in rec.sentence["en"] and "Mann-Whitney U" in rec.sentence["en"]
    assert "adjusted p = 0.002" in rec.sentence["en"]


# -- evidence sentences ------------------------------------------------------------------


def test_evidence_sentence_states_importance_performance_and_gap_with_intervals():
    row = {"construct": "Price", "stage": "in_sale", "importance": 0.18,
           "importance.ci.lower": 0.12, "importance.ci.upper": 0.24,
           "importance.method": "shapley.share", "performance": 58.2,
           "performance.ci.lower": 57.1, "performance.ci.upper": 59.3,
           "quadrant": "concentrate_here", "mean.importance": 0.15, "mean.performance": 64.3}
    f = Findings(ipa=pd.DataFrame([row]), target="Sat",
                 names={"Price": {"en": "Price", "zh": "价格"},
                        "Sat": {"en": "satisfaction", "zh": "满意度"}},
                 gates={"sem": "invalid", "ipa": "ok", "indices": "ok"})
    (rec,) = recommend(f).recommendations  # an R² share does not rest on the SEM
    assert rec.sentence["en"] == (
        "Price accounts for 18.0% of the explained variance in satisfaction [12.0%, 24.0%] "
        "and scores 58.2 [57.1, 59.3], 6.1 points below the drivers' mean of 64.3.")
    assert rec.sentence["zh"] == ("价格占满意度已解释方差的 18.0% [12.0%, 24.0%]，"
                                  "得分 58.2 [57.1, 59.3]，比各驱动因素的平均值 64.3 低 6.1 分。")
    assert rec.gates == {"ipa": "ok", "indices": "ok"}
    assert rec.priority == pytest.approx(0.18 / 0.15 * (100 - 58.2))
    # without the interval columns (the IPA before its rebuild) the sentence has none
    # the rebuilt IPA names the method "shapley" and keeps the share beside it
    f.ipa = pd.DataFrame([row | {"importance.method": "shapley", "shapley.share": 0.18}])
    assert recommend(f)[0].sentence["en"].startswith(
        "Price accounts for 18.0% of the explained variance in satisfaction [12.0%, 24.0%]")
    f.ipa = pd.DataFrame([row | {"importance.method": "shapley", "shapley.share": 0.5}])
    assert recommend(f)[0].sentence["en"].startswith(
        "Price contributes 0.180 to the R² of satisfaction [0.120, 0.240]")
    bare = {k: v for k, v in row.items() if ".ci." not in k and k != "importance.method"}
    f2 = Findings(ipa=pd.DataFrame([bare]), indices=pd.DataFrame(
        [{"construct": "Price", "index": 58.2, "ci.lower": 57.0, "ci.upper": 59.4}]))
    text = recommend(f2)[0].sentence["en"]
    assert text == ("Price has a standardized total effect of 0.18 on Sat and scores "
                    "58.2 [57.0, 59.4], 6.1 points below the drivers' mean of 64.3.")


def test_segment_and_sat_loyalty_sentences_hold_their_numbers():
    seg = recommend(Findings(segments=pd.DataFrame(
        [{"segment": "at_risk", "n": 1200, "value": 250.0, "scheme": "rfm_segment"},
         {"segment": "champions", "n": 800, "value": 750.0, "scheme": "rfm_segment"}])))
    rec = next(r for r in seg if r.rule == "value.retain_at_risk")
    assert rec.sentence["en"] == ("At risk: 1,200 of 2,000 customers (60.0%), "
                                  "holding 25.0% of the value.")
    assert rec.sentence["zh"] == "流失风险顾客：2,000 位顾客中的 1,200 位（60.0%），占价值的 25.0%。"
    link = {"sat": "Sat", "loy": "Loy", "sat_index": 72.0, "loy_index": 55.0, "effect": 0.2,
            "effect.ci.lower": 0.1, "effect.ci.upper": 0.3}
    (rec,) = recommend(Findings(sat_loyalty=link)).recommendations
    assert rec.sentence["en"] == ("The Sat index is 72.0 and the Loy index 55.0 (gap 17.0); "
                                  "the standardized effect of Sat on Loy is 0.20 [0.10, 0.30].")
    assert "72.0" in rec.sentence["zh"] and "0.20 [0.10, 0.30]" in rec.sentence["zh"]


# -- validity gates ----------------------------------------------------------------------


class _Result:
    def __init__(self, warnings, **attrs):
        self.warnings = warnings
        self.__dict__.update(attrs)


def test_finding_from_an_invalid_sem_ranks_no_action_and_yields_a_limitation():
    q = _bank()
    bad = Diagnostic("improper_path", "invalidates",
                     {"lhs": "Value", "op": "~", "rhs": "Quality", "value": 2.59},
                     constructs=("lhs", "rhs"))
    sem = _Result([bad], effects=pd.DataFrame(columns=["from", "to", "std.total"]))
    f = Findings.from_results(ipa=_bank_ipa({"Quality": "concentrate_here"}), questionnaire=q,
                              sat="Satisfaction", results={"sem": sem})
    assert f.gates["sem"] == "invalid"
    res = recommend(f)
    assert len(res) == 0
    (lim,) = res.limitations
    assert lim.code == "strategy_withheld" and lim.result == "sem"
    assert lim.rules == ["cram.in_sale.quality"] and lim.subjects == ["Quality"]
    assert lim.text["en"] == (
        "Recommendations withheld: the structural model is not valid, so no action is ranked "
        "for Perceived quality (improper standardized path |std.all| > 1: "
        "Perceived value ~ Perceived quality std.all = 2.590).")
    assert lim.text["zh"].startswith("建议暂缓：结构模型无效") and "感知质量" in lim.text["zh"]
    out = json.loads(json.dumps(res.to_dict(), allow_nan=False))
    assert out["gates"]["sem"] == "invalid" and out["recommendations"] == []
    assert out["limitations"][0]["causes"][0]["code"] == "improper_path"
    # an invalid result from which nothing was drawn is listed too
    quiet = recommend(Findings(gates={"clv": "invalid"}))
    assert [(lim.code, lim.result) for lim in quiet.limitations] == [
        ("strategy_not_used", "clv")]


def test_non_converged_result_and_status_attribute_are_read_defensively():
    from satisfaction.strategy import gate

    assert gate(None) is None
    assert gate(_Result(["a plain string warning"])) == "ok"
    assert gate(_Result([], converged=False)) == "invalid"
    assert gate(_Result([], status="caution")) == "caution"
    assert gate(_Result([Diagnostic("listwise", "info", {"n": 3})])) == "ok"


def test_sat_loyalty_effect_from_an_invalid_sem_is_not_used():
    link = {"sat": "Sat", "loy": "Loy", "sat_index": 70.0, "loy_index": 69.0, "effect": 0.1}
    res = recommend(Findings(sat_loyalty=link, gates={"sem": "invalid", "indices": "ok"}))
    assert len(res) == 0  # the gap alone (1 point) does not trip the rule
    res = recommend(Findings(sat_loyalty=link | {"loy_index": 60.0},
                             gates={"sem": "invalid", "indices": "ok"}))
    (rec,) = res.recommendations
    assert rec.evidence["effect"] is None and rec.gates == {"indices": "ok"}
    assert "effect" not in rec.sentence["en"]


def test_caution_result_flags_the_recommendation():
    warn = Diagnostic("fit_poor", "caution", {"index": "rmsea", "value": 0.09, "op": "<=",
                                              "threshold": 0.08})
    f = Findings(ipa=_bank_ipa({"Value": "concentrate_here"}),
                 gates={"ipa": "ok", "indices": "ok", "sem": "caution"},
                 causes={"sem": [warn]})
    (rec,) = recommend(f).recommendations
    assert rec.gates["sem"] == "caution" and rec.caution
    assert rec.caution_text["en"].startswith("Read with care: the structural model")
    assert rec.to_dict()["caution"] is True


def test_reliability_gate_splits_the_cfa_from_alpha_and_htmt():
    cfa = Diagnostic("psi_not_pd", "invalidates", {}).within("cfa")
    low = Diagnostic("alpha_low", "caution", {"construct": "Price", "value": 0.6,
                                              "threshold": 0.7}, constructs=("construct",))
    rel = _Result([cfa, low])
    table = pd.DataFrame([{"construct": "Price", "alpha": 0.6, "cr": 0.6, "ave": 0.4}])
    f = Findings.from_results(reliability=table, results={"reliability": rel})
    assert f.gates == {"reliability": "caution", "cfa": "invalid"}
    res = recommend(f)
    assert [r.rule for r in res] == ["measure.low_alpha"]
    assert not res[0].caution  # the low alpha is the finding itself
    (lim,) = res.limitations
    assert lim.result == "cfa" and set(lim.rules) == {"measure.low_cr", "measure.low_ave"}


def test_undetermined_quadrant_fires_no_rule():
    ipa = _bank_ipa({"Quality": "concentrate_here", "Value": "concentrate_here"})
    ipa.loc[0, "quadrant"] = "undetermined"
    assert [r.subject for r in recommend(Findings(ipa=ipa))] == ["Value"]


def test_json_round_trip_holds_evidence_gates_and_limitations():
    q = _bank()
    indices = pd.DataFrame([{"construct": "Satisfaction", "stage": "outcome", "index": 75.0},
                            {"construct": "Loyalty", "stage": "outcome", "index": 60.0}])
    f = Findings.from_results(
        ipa=_bank_ipa({"Image": "possible_overkill", "Value": "concentrate_here"}),
        questionnaire=q, sat="Satisfaction", loy="Loyalty", indices=indices,
        results={"ipa": _Result([]), "indices": _Result([])})
    f.gates["clv"] = "invalid"
    res = recommend(f)
    data = res.to_dict()
    text = json.dumps(data, allow_nan=False, ensure_ascii=False, sort_keys=True)
    assert json.loads(text) == data
    assert json.dumps(recommend(f).to_dict(), allow_nan=False, ensure_ascii=False,
                      sort_keys=True) == text  # deterministic
    assert data["domain"] == "retail_bank" and data["limitations"][0]["result"] == "clv"
    for rec in data["recommendations"]:
        assert set(rec["evidence"]) == {"values", "sentence", "matches"}
        assert rec["evidence"]["sentence"]["en"] and rec["evidence"]["sentence"]["zh"]
        assert rec["gates"] and set(rec["gates"].values()) <= {"ok", "caution"}
        assert isinstance(rec["caution"], bool)
    by_rule = {r["rule"]: r for r in data["recommendations"]}
    assert by_rule["outcome.sat_not_loyalty"]["gates"] == {"indices": "ok"}
    assert by_rule["ipa.concentrate_here"]["gates"] == {"ipa": "ok", "indices": "ok"}


def test_rule_restricted_to_domains_fires_only_there(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("rules:\n  - id: shop.queue\n    domains: [retail]\n"
                    "    when: {type: index_below, threshold: 80}\n"
                    "    title: Open more tills for {construct_name}\n    action: Open tills\n"
                    "    rationale: Queues\n", encoding="utf-8")
    indices = pd.DataFrame([{"construct": "Price", "stage": "in_sale", "index": 70.0}])
    mine = load_rules(path)
    assert [r.rule for r in recommend(Findings(indices=indices, domain="retail"), rules=mine)] \
        == ["shop.queue"]
    assert len(recommend(Findings(indices=indices, domain="retail_bank"), rules=mine)) == 0
    assert len(recommend(Findings(indices=indices), rules=mine)) == 0


def test_withheld_customer_values_are_listed_not_silently_skipped():
    """Every CLV withheld (its spend model failed its gates): the rules' customer-value
    evidence is invalid, so it is listed as not used for recommendations, with why."""
    from types import SimpleNamespace

    import numpy as np

    from satisfaction.diagnostics import Diagnostic
    from satisfaction.pipeline import CustomerValues
    from satisfaction.strategy import Findings, recommend

    ids = [f"C{i}" for i in range(50)]
    table = pd.DataFrame({"p_alive": np.full(50, 0.3), "clv": np.full(50, np.nan)},
                         index=pd.Index(ids, name="customer_id"))
    withheld = Diagnostic("clv_spend_withheld", "invalidates")
    analysis = SimpleNamespace(value={"clv": CustomerValues(table, [withheld])})
    findings = Findings.from_analysis(analysis)
    assert findings.gates["clv"] == "invalid"
    limits = recommend(findings).limitations
    assert [(lim.code, lim.result) for lim in limits] == [("strategy_not_used", "clv")]
    assert "spend model failed its checks" in limits[0].text["en"]
