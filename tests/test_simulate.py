"""The demo simulator: deterministic, follows its population, exercises the screens."""

from __future__ import annotations

import pandas as pd

from satisfaction.questionnaire import load_questionnaire
from satisfaction.responses import load_responses
from satisfaction.simulate import simulate_demo, simulate_responses, simulate_transactions
from tests.conftest import QUESTIONNAIRES


def test_same_seed_same_data() -> None:
    q = load_questionnaire(QUESTIONNAIRES / "acsi.yaml")
    a = simulate_responses(q, n=200, seed=3)
    b = simulate_responses(q, n=200, seed=3)
    c = simulate_responses(q, n=200, seed=4)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c)


def test_demo_population_and_screens() -> None:
    demo = simulate_demo(n_respondents=800, n_customers=2000, seed=11)
    r = load_responses(demo.questionnaire, demo.responses)
    log = r.log
    assert log.loaded == 800
    assert log.loaded == log.analysed + sum(log.excluded.values())
    for reason in ("straight_lining", "all_items_empty", "failed_attention_check"):
        assert log.excluded[reason] > 0, reason
    # an invalid answer is set to missing; the respondent stays
    for rule in ("out_of_range", "not_a_number"):
        assert log.cells_set_missing[rule] > 0, rule
        assert log.excluded.get(rule, 0) == 0, rule
    q = demo.questionnaire
    means = {c.id: r.data[[i.id for i in c.items]].mean().mean() for c in q.first_order}
    # Convenience is the weakest factor; reverse-worded items are recoded back.
    assert min(means, key=means.get) == "Convenience"
    corr = r.data[["conv1", "conv2"]].corr().iloc[0, 1]
    assert corr > 0.3


def test_transactions_follow_loyalty() -> None:
    loyalty = pd.Series([-1.5] * 2000 + [1.5] * 2000,
                        index=[f"C{i:05d}" for i in range(4000)])
    tx = simulate_transactions(loyalty, seed=5)
    assert list(tx.columns) == ["customer", "date", "amount"]
    counts = tx.groupby("customer").size().reindex(loyalty.index, fill_value=0)
    assert counts.iloc[2000:].mean() > 1.3 * counts.iloc[:2000].mean()
    assert tx["date"].min() >= pd.Timestamp("2024-01-01")
    assert tx["date"].max() <= pd.Timestamp("2025-12-31")
    assert (tx["amount"] > 0).all()
    again = simulate_transactions(loyalty, seed=5)
    pd.testing.assert_frame_equal(tx, again)


def test_extra_customers() -> None:
    loyalty = pd.Series([0.0, 0.0], index=["C000001", "C000002"])
    tx = simulate_transactions(loyalty, n_customers=500, seed=1)
    assert tx["customer"].nunique() == 500
