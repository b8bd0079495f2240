"""End to end on the demo population: the important-but-weak in-sale factor comes first.

The simulator's population (satisfaction.simulate.demo_population) gives Convenience
the highest loading on InSale, InSale the strongest path to Sat, and Convenience the
lowest mean; the fitted model, the IPA and the rules must recover that.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from satisfaction.drivers import indices, ipa
from satisfaction.model import fit
from satisfaction.questionnaire import load_questionnaire
from satisfaction.responses import load_responses
from satisfaction.simulate import demo_population, simulate_responses
from satisfaction.strategy import Findings, recommend

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def demo():
    q = load_questionnaire(ROOT / "questionnaires/cram.yaml")
    raw = simulate_responses(q, n=600, seed=20261125, population=demo_population())
    data = load_responses(q, raw).data
    sem = fit(q, data)
    idx = indices(q, data, loadings=sem.parameters)
    res = ipa(q, idx, sem.effects, sem.parameters, target="Sat")
    return q, sem, idx, res


def test_convenience_is_concentrate_here_on_the_demo(demo):
    _, sem, idx, res = demo
    table = res.constructs.set_index("construct")
    assert table.loc["Convenience", "quadrant"] == "concentrate_here"
    assert table["importance"].idxmax() == "Convenience"
    assert table["performance"].idxmin() == "Convenience"
    assert res.top_stage == "in_sale"
    # importance = std. loading on InSale × InSale's std. total effect on Sat
    p = sem.parameters
    lam = p[(p.lhs == "InSale") & (p.op == "=~") & (p.rhs == "Convenience")]["std.all"].iloc[0]
    e = sem.effects
    total = e[(e["from"] == "InSale") & (e["to"] == "Sat")]["std.total"].iloc[0]
    assert table.loc["Convenience", "importance"] == pytest.approx(lam * total)
    assert table.loc["Convenience", "performance"] == pytest.approx(idx.index_of("Convenience"))


def test_convenience_is_the_top_recommendation_with_its_evidence(demo):
    _, sem, idx, res = demo
    recs = recommend(Findings.from_results(ipa=res, indices=idx, effects=sem.effects))
    top = recs[0]
    assert top.rule == "cram.in_sale.convenience" and top.rank == 1
    assert top.evidence["quadrant"] == "concentrate_here"
    row = res.constructs.set_index("construct").loc["Convenience"]
    assert top.evidence["importance"] == pytest.approx(row["importance"])
    assert top.evidence["performance"] == pytest.approx(row["performance"])
    assert top.priority == pytest.approx(row["importance"] * (100 - row["performance"]))
    again = recommend(Findings.from_results(ipa=res, indices=idx, effects=sem.effects))
    assert json.dumps(recs.to_dict()) == json.dumps(again.to_dict())
