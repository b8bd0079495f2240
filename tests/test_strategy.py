"""Strategy engine: every shipped rule fires on findings built to trigger it, and only then."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from satisfaction.errors import SchemaError
from satisfaction.strategy import Findings, Rule, load_rules, recommend, shipped_rules

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
        for text in (rec.title[lang], rec.action[lang], rec.rationale[lang]):
            assert not re.search(r"\{[A-Za-z_.]+(:[^}]*)?\}", text), text
    json.dumps(rec.to_dict(), allow_nan=False)
    quiet = recommend(findings_for(rule, trigger=False))
    assert rule.id not in {r.rule for r in quiet}


def test_priority_formulas_and_evidence():
    ipa = pd.DataFrame([_ipa_row("Convenience", "concentrate_here"),
                        _ipa_row("Quality", "concentrate_here") | {"importance": 0.3}])
    res = recommend(Findings(ipa=ipa))
    top = res[0]
    assert top.rule == "cram.in_sale.convenience" and top.rank == 1
    assert top.priority == pytest.approx(0.5 * (100 - 40))
    assert top.evidence["importance"] == 0.5 and top.evidence["performance"] == 40
    assert "40" in top.title["en"] and "0.50" in top.rationale["en"]
    assert res[1].priority == pytest.approx(0.3 * 60)
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
    assert by_rule["cram.in_sale.convenience"].priority == pytest.approx(2 * 0.5 * 60)
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

    from satisfaction.value.rfm import rfm

    ids = [f"C{i:02d}" for i in range(40)]
    rng = np.random.default_rng(1)
    scored = rfm(pd.Series(rng.integers(1, 400, 40), index=ids),
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
