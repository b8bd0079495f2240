"""Indices (0-100) and importance-performance analysis."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from satisfaction.drivers import construct_scores, indices, ipa, outer_weights, quadrant
from satisfaction.errors import InputError
from satisfaction.questionnaire import load_questionnaire

ROOT = Path(__file__).resolve().parent.parent
REF = json.loads((ROOT / "tests/reference/compare_bank.json").read_text())


@pytest.fixture(scope="module")
def bank():
    q = load_questionnaire(ROOT / "questionnaires/ecsi_bank.yaml")
    d = pd.read_csv("/work/shared/data/bank_satisfaction.csv", index_col="respondent")
    return q, d


@pytest.fixture(scope="module")
def cram():
    return load_questionnaire(ROOT / "questionnaires/cram.yaml")


def test_indices_match_r_t_interval(bank):
    q, d = bank
    res = indices(q, d)
    for construct, ref in REF["indices"].items():
        row = res.constructs[res.constructs["construct"] == construct].iloc[0]
        for key in ("index", "se", "ci.lower", "ci.upper"):
            assert row[key] == pytest.approx(ref[key], abs=1e-6)
        assert row["n"] == 250
    item = res.items[res.items["item"] == "imag5"].iloc[0]
    for key in ("index", "ci.lower", "ci.upper"):
        assert item[key] == pytest.approx(REF["item_imag5"][key], abs=1e-6)
    # ECSI has two pre-sale constructs: the stage index is their equal-weight mean
    pre = res.stages[res.stages["stage"] == "pre_sale"].iloc[0]
    manual = (res.scores["Image"] + res.scores["Expectation"]).mean() / 2
    assert pre["index"] == pytest.approx(manual) and pre["constructs"] == "Image,Expectation"


def test_outer_weights_normalise_loadings_and_weight_scores(bank):
    q, d = bank
    lam = {("Value", "val1"): 0.9, ("Value", "val2"): 0.6, ("Value", "val3"): 0.3,
           ("Value", "val4"): -0.2}
    w = outer_weights(q, lam)
    value = w[w["construct"] == "Value"].set_index("indicator")["weight"]
    assert value.to_dict() == pytest.approx({"val1": 0.5, "val2": 1 / 3, "val3": 1 / 6,
                                             "val4": 0.0})
    # constructs without loadings fall back to equal weights, with a note
    img = w[w["construct"] == "Image"]
    assert img["weight"].tolist() == pytest.approx([0.2] * 5)
    assert img["note"].iloc[0] == "equal weights (no positive loading)"
    scores = construct_scores(q, d, w)
    by_hand = (0.5 * d["val1"] + d["val2"] / 3 + d["val3"] / 6) * 10
    assert np.allclose(scores["Value"], by_hand)


def test_missing_items_renormalise_weights(bank):
    q, d = bank
    d = d.copy().astype({"imag1": float})
    d.loc["R001", ["imag1", "imag2"]] = np.nan
    s = construct_scores(q, d)
    row = d.loc["R001", ["imag3", "imag4", "imag5"]]
    assert s.loc["R001", "Image"] == pytest.approx(row.mean() * 10)
    d.loc["R002", [f"imag{i}" for i in range(1, 6)]] = np.nan
    assert np.isnan(construct_scores(q, d).loc["R002", "Image"])


def test_higher_order_score_is_weighted_mean_of_children(cram):
    rng = np.random.default_rng(3)
    items = [i.id for i in cram.items]
    d = pd.DataFrame(rng.integers(1, 8, size=(40, len(items))).astype(float), columns=items)
    params = pd.DataFrame(
        [{"lhs": "InSale", "op": "=~", "rhs": k, "std.all": v}
         for k, v in {"Quality": 0.6, "Price": 0.6, "Convenience": 0.9, "Staff": 0.6,
                      "Environment": 0.3}.items()])
    s = construct_scores(cram, d, params)
    conv = (d[["conv1", "conv2", "conv3", "conv4"]].mean(axis=1) - 1) / 6 * 100
    assert np.allclose(s["Convenience"], conv)
    expected = (0.6 * s["Quality"] + 0.6 * s["Price"] + 0.9 * s["Convenience"]
                + 0.6 * s["Staff"] + 0.3 * s["Environment"]) / 3.0
    assert np.allclose(s["InSale"], expected)
    res = indices(cram, d, params)
    assert res.stages["stage"].tolist() == ["pre_sale", "in_sale", "post_sale"]
    assert res.stages.set_index("stage").loc["in_sale", "index"] == pytest.approx(
        s["InSale"].mean())


def test_missing_item_column_is_an_input_error(bank):
    q, d = bank
    with pytest.raises(InputError, match="qual3"):
        indices(q, d.drop(columns="qual3"))


@pytest.mark.parametrize(
    ("imp", "perf", "expected"),
    [(0.5, 40, "concentrate_here"), (0.5, 60, "keep_up"), (0.1, 40, "low_priority"),
     (0.1, 60, "possible_overkill"), (0.3, 50, "keep_up")],
)
def test_quadrant_split_at_means(imp, perf, expected):
    assert quadrant(imp, perf, 0.3, 50) == expected


def _cram_tables(cram):
    """A hand-built CRAM solution: Convenience loads highest on the strongest stage."""
    stage_loadings = {
        "PreSale": {"Info": 0.7, "Brand": 0.65, "WoM": 0.7},
        "InSale": {"Quality": 0.75, "Price": 0.7, "Convenience": 0.88, "Staff": 0.72,
                   "Environment": 0.68},
        "PostSale": {"Service": 0.75, "Extension": 0.65, "Promise": 0.72},
    }
    rows = [{"lhs": s, "op": "=~", "rhs": k, "std.all": v}
            for s, kids in stage_loadings.items() for k, v in kids.items()]
    rows += [{"lhs": c.id, "op": "=~", "rhs": i.id, "std.all": 0.8} for c in cram.first_order
             for i in c.items]
    rows += [{"lhs": "Sat", "op": "~", "rhs": s, "std.all": b}
             for s, b in {"PreSale": 0.2, "InSale": 0.5, "PostSale": 0.2}.items()]
    params = pd.DataFrame(rows)
    effects = pd.DataFrame(
        [{"from": s, "to": "Sat", "total": b, "std.total": b}
         for s, b in {"PreSale": 0.2, "InSale": 0.5, "PostSale": 0.2}.items()]
        + [{"from": s, "to": "Loy", "total": 0.7 * b, "std.total": 0.7 * b}
           for s, b in {"PreSale": 0.2, "InSale": 0.5, "PostSale": 0.2}.items()]
        + [{"from": "Sat", "to": "Loy", "total": 0.7, "std.total": 0.7}])
    return params, effects


def test_ipa_on_a_hand_built_cram_solution(cram):
    rng = np.random.default_rng(5)
    items = [i.id for i in cram.items]
    d = pd.DataFrame(rng.integers(4, 8, size=(60, len(items))).astype(float), columns=items)
    d[["conv1", "conv2", "conv3", "conv4"]] = rng.integers(1, 4, size=(60, 4))
    params, effects = _cram_tables(cram)
    idx = indices(cram, d, params)
    res = ipa(cram, idx, effects, params, target="Sat")
    table = res.constructs.set_index("construct")
    assert len(table) == 11
    # importance = loading on the stage × the stage's total effect
    assert table.loc["Convenience", "importance"] == pytest.approx(0.88 * 0.5)
    assert table.loc["Info", "importance"] == pytest.approx(0.7 * 0.2)
    assert table.loc["Convenience", "quadrant"] == "concentrate_here"
    assert table.loc["Convenience", "performance"] == pytest.approx(idx.index_of("Convenience"))
    assert table.loc["Quality", "quadrant"] == "keep_up"
    assert table.loc["Info", "quadrant"] in ("low_priority", "possible_overkill")
    items_t = res.items.set_index("item")
    assert items_t.loc["conv1", "importance"] == pytest.approx(0.8 * 0.88 * 0.5)
    assert res.stages["stage"].tolist()[0] == "in_sale" and res.top_stage == "in_sale"
    assert res.stages.set_index("stage").loc["in_sale", "importance"] == pytest.approx(0.5)
    loy = ipa(cram, idx, effects, params, target="Loy")
    assert "Sat" in set(loy.constructs["construct"])
    assert loy.constructs.set_index("construct").loc["Convenience", "importance"] == \
        pytest.approx(0.88 * 0.35)
    json.dumps(res.to_dict(), allow_nan=False)
    with pytest.raises(InputError):
        ipa(cram, idx, effects, params, target="Nope")
