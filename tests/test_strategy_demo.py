"""End to end on the demo population: the important-but-weak in-sale factor comes first.

The simulator's population (satisfaction.simulate.demo_population) gives Convenience
the highest loading on InSale, InSale the strongest path to Sat, and Convenience the
lowest mean; the relative-importance decomposition of satisfaction on the eleven
dimensions, the IPA and the rules must recover that.
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
from satisfaction.strategy import Findings, recommend, shipped_rules

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def demo():
    q = load_questionnaire(ROOT / "satisfaction/questionnaires/cram.yaml")
    raw = simulate_responses(q, n=600, seed=20261125, population=demo_population())
    data = load_responses(q, raw).data
    sem = fit(q, data)
    idx = indices(q, data, loadings=sem.parameters)
    res = ipa(q, idx, sem.effects, sem.parameters, target="Sat", bootstrap=200, seed=1)
    return q, sem, idx, res


def test_convenience_is_concentrate_here_on_the_demo(demo):
    _, _, idx, res = demo
    table = res.constructs.set_index("construct")
    assert table.loc["Convenience", "quadrant"] == "concentrate_here"
    assert table["importance"].idxmax() == "Convenience"
    assert table["performance"].idxmin() == "Convenience"
    assert res.top_stage == "in_sale"
    # importance = Convenience's Shapley share of the R² of Sat on the dimensions
    shares = res.decomposition.table.set_index("driver")["shapley.share"]
    assert table.loc["Convenience", "importance.method"] == "shapley"
    assert table.loc["Convenience", "importance"] == pytest.approx(shares["Convenience"])
    assert shares.sum() == pytest.approx(1.0)
    assert table.loc["Convenience", "importance.ci.lower"] > table["mean.importance"].iloc[0]
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
    rule = next(r for r in shipped_rules() if r.id == top.rule)
    assert top.priority == pytest.approx(
        rule.weight * row["importance"] / row["mean.importance"] * (100 - row["performance"]))
    again = recommend(Findings.from_results(ipa=res, indices=idx, effects=sem.effects))
    assert json.dumps(recs.to_dict()) == json.dumps(again.to_dict())
