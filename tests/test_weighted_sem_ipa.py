"""The weighted importance-performance analysis under the CB-SEM (issue 17, point 1).

With respondent weights and an admissible CB-SEM the map's construct performance is
the weighted index (R survey's ``svymean``: ``Σ w y / Σ w``, second implementation
here), its Shapley shares and paired intervals weighted
(:func:`satisfaction.importance.driver_importance` ``weights=``, tested against R in
``tests/test_ipa_weights.py``); with integer weights the IPA equals the IPA of the
data with every respondent repeated ``w`` times (frequency weights).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from satisfaction.drivers import indices, ipa
from satisfaction.importance import driver_importance
from satisfaction.questionnaire import Questionnaire
from satisfaction.resources import QUESTIONNAIRES
from satisfaction.simulate import demo_population, simulate_responses
from satisfaction.weights import NOT_WEIGHTED, weighted_performance


def _questionnaire() -> Questionnaire:
    """The demo CRAM questionnaire raked to 30 % men, 70 % women (one group keeps the
    comparison stage short)."""
    spec = yaml.safe_load((QUESTIONNAIRES / "cram.yaml").read_text(encoding="utf-8"))
    spec["groups"] = [g for g in spec["groups"] if g["id"] == "gender"]
    spec["weighting"] = {"method": "rake", "margins": {"gender": {1: 0.3, 2: 0.7}}}
    return Questionnaire.from_dict(spec)


@pytest.fixture(scope="module")
def analysis():
    """The whole weighted analysis of simulated complete CRAM answers (about 15 s)."""
    from satisfaction.pipeline import run

    q = _questionnaire()
    frame = simulate_responses(q, n=300, seed=5, population=demo_population())
    items = [i.id for c in q.constructs for i in c.items]
    frame = frame.dropna(subset=[*items, "gender"])  # complete: the CB-SEM is admissible
    return q, run(q, frame, bootstrap=0, seed=3, parallel=False)


def test_sem_ipa_performance_and_shares_are_weighted(analysis) -> None:
    _q, a = analysis
    assert a.options["estimator"]["used"] == "sem" and a.pls is None
    assert a.sem.status != "invalid"
    w = a.weighted.weights.weights
    scores = a.indices.scores
    table = a.ipa.constructs.set_index("construct")
    assert len(table) >= 5
    for construct, row in table.iterrows():
        y = scores[construct].reindex(w.index)
        keep = y.notna()
        expected = float((y[keep] * w[keep]).sum() / w[keep].sum())
        assert row["performance"] == pytest.approx(expected, abs=1e-9)
    # the raking changes the performance: it is not the unweighted index
    plain = a.indices.constructs.set_index("construct")["index"]
    assert np.abs(table["performance"] - plain.reindex(table.index)).max() > 1e-3
    # the Shapley shares are the weighted decomposition of the target's score
    dims = list(a.ipa.decomposition.drivers)
    ref = driver_importance(scores[a.ipa.target], scores[dims], bootstrap=0, weights=w)
    np.testing.assert_allclose(
        table.loc[dims, "shapley.share"].to_numpy(dtype=float),
        ref.table.set_index("driver").loc[dims, "shapley.share"].to_numpy(), atol=1e-12)
    # the weighted paired differences: weighted mean of d_ij = s_ij - mean_k s_ik
    block = scores[dims].reindex(w.index).dropna()
    diff = block.sub(block.mean(axis=1), axis=0)
    wb = w.reindex(block.index)
    np.testing.assert_allclose(
        table.loc[dims, "performance.diff"].to_numpy(dtype=float),
        (diff.mul(wb, axis=0).sum() / wb.sum()).to_numpy(), atol=1e-9)
    assert a.to_dict()["weighting"]["not_weighted"] == list(NOT_WEIGHTED)
    assert not any("Shapley" in part for part in NOT_WEIGHTED)


def test_sem_ipa_integer_weights_equal_repeated_rows(analysis) -> None:
    q, a = analysis
    data = a.responses.data.loc[a.indices.scores.index]
    count = pd.Series(1 + np.arange(len(data)) % 3, index=data.index)
    idx = indices(q, data, loadings=a.sem.parameters)
    args = (a.sem.effects, a.sem.parameters)
    weighted = ipa(q, weighted_performance(idx, count.astype(float)), *args,
                   target=a.ipa.target, bootstrap=0, weights=count.astype(float))
    repeated = data.loc[np.repeat(data.index.to_numpy(), count.to_numpy())]
    repeated.index = pd.Index([f"r{i}" for i in range(len(repeated))], name=data.index.name)
    plain = ipa(q, indices(q, repeated, loadings=a.sem.parameters), *args,
                target=a.ipa.target, bootstrap=0)
    cols = ["performance", "importance", "shapley.share", "relative_weight.share",
            "performance.diff"]
    left = weighted.constructs.set_index("construct")[cols]
    right = plain.constructs.set_index("construct").loc[left.index, cols]
    np.testing.assert_allclose(left.to_numpy(dtype=float), right.to_numpy(dtype=float),
                               atol=1e-8, rtol=0)
    # and the weights matter here: the unweighted IPA of the data differs
    once = ipa(q, idx, *args, target=a.ipa.target, bootstrap=0).constructs.set_index(
        "construct").loc[left.index, cols]
    assert np.abs(left.to_numpy(dtype=float) - once.to_numpy(dtype=float)).max() > 1e-4
