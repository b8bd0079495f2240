"""Indices (0-100) and importance-performance analysis."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from satisfaction.drivers import (
    construct_scores,
    indices,
    ipa,
    mean_interval,
    outer_weights,
    quadrant,
    quadrant_with_intervals,
)
from satisfaction.errors import InputError
from satisfaction.importance import driver_importance
from satisfaction.questionnaire import load_questionnaire
from satisfaction.simulate import demo_population, simulate_responses

from .conftest import SHARED

ROOT = Path(__file__).resolve().parent.parent
REF = json.loads((ROOT / "tests/reference/compare_bank.json").read_text())
REF_IMPORTANCE = json.loads((ROOT / "tests/reference/importance_reference.json").read_text())


@pytest.fixture(scope="module")
def bank():
    q = load_questionnaire(ROOT / "satisfaction/questionnaires/ecsi_bank.yaml")
    d = pd.read_csv(SHARED / "bank_satisfaction.csv", index_col="respondent")
    return q, d


@pytest.fixture(scope="module")
def cram():
    return load_questionnaire(ROOT / "satisfaction/questionnaires/cram.yaml")


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
    """A hand-built CRAM solution (loadings and stage effects) for the item importance and
    the stages' total effects."""
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
    params = pd.DataFrame(rows)
    stage_effects = {"PreSale": 0.2, "InSale": 0.5, "PostSale": 0.2}
    effects = pd.DataFrame(
        [{"from": s, "to": "Sat", "total": b, "std.total": b} for s, b in stage_effects.items()]
        + [{"from": s, "to": "Loy", "total": 0.7 * b, "std.total": 0.7 * b}
           for s, b in stage_effects.items()]
        + [{"from": "Sat", "to": "Loy", "total": 0.7, "std.total": 0.7,
            "std.total.ci.lower": 0.62, "std.total.ci.upper": 0.77}])
    return params, effects


@pytest.fixture(scope="module")
def cram_demo(cram):
    """The demo population (Convenience important but weak), reverse items recoded."""
    raw = simulate_responses(cram, n=800, seed=7, population=demo_population(),
                             contaminate=False)
    d = raw.set_index(cram.respondent_id)
    for item in cram.items:
        d[item.id] = pd.to_numeric(d[item.id]).astype(float)
        if item.reverse:
            scale = cram.item_scale(item)
            d[item.id] = scale.min + scale.max - d[item.id]
    return d


def test_ipa_importance_is_the_shapley_share_of_the_dimensions(cram, cram_demo):
    params, effects = _cram_tables(cram)
    idx = indices(cram, cram_demo, params)
    res = ipa(cram, idx, effects, params, target="Sat", bootstrap=400, seed=3)
    dims = [c.id for c in cram.first_order if c.parent in ("PreSale", "InSale", "PostSale")]
    table = res.constructs.set_index("construct")
    assert list(table.index) == dims
    assert set(table["importance.method"]) == {"shapley"}
    assert res.importance_column == "shapley.share"
    ref = driver_importance(idx.scores["Sat"], idx.scores[dims], bootstrap=400, seed=3)
    ref_t = ref.table.set_index("driver")
    for col, src in (("importance", "shapley.share"),
                     ("importance.ci.lower", "shapley.share.ci.lower"),
                     ("importance.ci.upper", "shapley.share.ci.upper"),
                     ("relative_weight.share", "relative_weight.share"), ("beta", "beta")):
        np.testing.assert_allclose(table[col], ref_t.loc[dims, src])
    assert table["importance"].sum() == pytest.approx(1.0)
    assert table["mean.importance"].tolist() == pytest.approx([1 / 11] * 11)
    assert res.decomposition.r2 == pytest.approx(ref.r2)
    # the demo's story: Convenience matters most and performs worst
    assert table["importance"].idxmax() == "Convenience"
    assert table.loc["Convenience", "quadrant"] == "concentrate_here"
    assert table.loc["Convenience", "parent"] == "InSale"
    assert table.loc["Convenience", "performance"] == pytest.approx(idx.index_of("Convenience"))
    # every interval holds its estimate
    for lo, est, hi in (("importance.ci.lower", "importance", "importance.ci.upper"),
                        ("performance.ci.lower", "performance", "performance.ci.upper"),
                        ("performance.diff.ci.lower", "performance.diff",
                         "performance.diff.ci.upper")):
        assert ((table[lo] <= table[est]) & (table[est] <= table[hi])).all()
    # items: loading × construct importance, interval scaled by the same loading
    conv1 = res.items.set_index("item").loc["conv1"]
    assert conv1["importance"] == pytest.approx(0.8 * table.loc["Convenience", "importance"])
    assert conv1["importance.ci.lower"] == pytest.approx(
        0.8 * table.loc["Convenience", "importance.ci.lower"])
    # stages: the summed shares of their dimensions, ranked; the paths shown beside
    st = res.stages.set_index("stage")
    assert st.loc["in_sale", "importance"] == pytest.approx(
        table.loc[["Quality", "Price", "Convenience", "Staff", "Environment"],
                  "importance"].sum())
    assert st["importance"].sum() == pytest.approx(1.0)
    assert st.loc["in_sale", "total_effect"] == pytest.approx(0.5)
    assert (st["ci.lower"] <= st["importance"]).all() and (st["importance"] <= st["ci.upper"]).all()
    assert res.top_stage == "in_sale" and list(res.stages["rank"]) == [1, 2, 3]
    out = res.to_dict()
    json.dumps(out, allow_nan=False)
    assert out["status"] == res.status == "ok"
    assert {w["code"] for w in out["warnings"]} <= {"ipa_undetermined"}
    again = ipa(cram, idx, effects, params, target="Sat", bootstrap=400, seed=3)
    assert json.dumps(again.to_dict()) == json.dumps(out)  # same seed, same JSON


def test_performance_difference_is_paired(cram, cram_demo):
    params, effects = _cram_tables(cram)
    idx = indices(cram, cram_demo, params)
    res = ipa(cram, idx, effects, params, target="Sat", bootstrap=0)
    table = res.constructs.set_index("construct")
    dims = list(table.index)
    block = idx.scores[dims].dropna()
    diff = block["Quality"] - block.mean(axis=1)
    expected = mean_interval(diff)
    assert table.loc["Quality", "performance.diff"] == pytest.approx(expected["index"])
    assert table.loc["Quality", "performance.diff.ci.lower"] == pytest.approx(
        expected["ci.lower"])
    # complete data: the mean difference is the index minus the mean of the indices
    assert table.loc["Quality", "performance.diff"] == pytest.approx(
        table.loc["Quality", "performance"] - table["performance"].mean())
    # without a bootstrap there is no importance interval: no quadrant is called
    assert set(table["quadrant"]) == {"undetermined"}
    codes = {w.code: w for w in res.warnings}
    assert codes["ipa_no_interval"].params == {"n": 11}
    assert table["quadrant.point"].isin(
        ["concentrate_here", "keep_up", "low_priority", "possible_overkill"]).all()


@pytest.mark.parametrize(
    ("imp", "perf", "expected"),
    [((0.4, 0.6), (30, 45), "concentrate_here"), ((0.4, 0.6), (55, 70), "keep_up"),
     ((0.0, 0.2), (30, 45), "low_priority"), ((0.0, 0.2), (55, 70), "possible_overkill"),
     ((0.2, 0.4), (30, 45), "undetermined"), ((0.4, 0.6), (45, 55), "undetermined"),
     ((np.nan, np.nan), (30, 45), "undetermined")],
)
def test_quadrant_needs_intervals_clear_of_the_means(imp, perf, expected):
    assert quadrant_with_intervals(imp, perf, 0.3, 50) == expected


def test_bank_total_effects_kept_when_admissible_and_replaced_when_not(bank):
    q, d = bank
    idx = indices(q, d)  # equal weights: the scores of tests/reference/importance_bank_scores.csv
    drivers = ["Image", "Expectation", "Quality", "Value"]
    effects = pd.DataFrame({
        "from": drivers, "to": "Satisfaction", "total": [0.2, 0.1, 0.3, 0.4],
        "std.total": [0.25, 0.05, 0.35, 0.45],
        "std.total.ci.lower": [0.1, -0.05, 0.2, 0.3], "std.total.ci.upper": [0.4, 0.15, 0.5, 0.6],
        "total.ci.lower": [9, 9, 9, 9], "total.ci.upper": [9, 9, 9, 9]})
    ok = ipa(q, idx, effects, None, target="Satisfaction", sem_status="ok", bootstrap=200, seed=1)
    t = ok.constructs.set_index("construct")
    assert set(t["importance.method"]) == {"total_effect"}
    assert t.loc["Value", "importance"] == 0.45
    # the interval of the standardized effect, never the unstandardized one
    assert (t.loc["Value", "importance.ci.lower"], t.loc["Value", "importance.ci.upper"]) == \
        (0.3, 0.6)
    assert t.loc["Value", "mean.importance"] == pytest.approx(0.275)
    assert ok.importance_column == "std.total"
    assert not [w for w in ok.warnings if w.code == "ipa_sem_not_used"]
    # the stage table still comes from the decomposition; the paths beside it
    st = ok.stages.set_index("stage")
    assert st.loc["in_sale", "total_effect"] == pytest.approx(0.80)
    ref = next(c for c in REF_IMPORTANCE["cases"] if c["name"] == "bank_satisfaction")
    lmg = dict(zip(ref["drivers"], np.array(ref["lmg"]) / ref["r2"], strict=True))
    assert st.loc["in_sale", "importance"] == pytest.approx(lmg["Quality"] + lmg["Value"],
                                                            abs=1e-4)

    bad = ipa(q, idx, effects, None, target="Satisfaction", sem_status="invalid",
              bootstrap=200, seed=1)
    t = bad.constructs.set_index("construct")
    assert set(t["importance.method"]) == {"shapley"}
    for name in drivers:  # the Shapley share of R² in R's hand computation
        assert t.loc[name, "importance"] == pytest.approx(lmg[name], abs=1e-4)
    assert bad.decomposition.n == 250 and bad.decomposition.dropped == 0
    d_sem = next(w for w in bad.warnings if w.code == "ipa_sem_not_used")
    assert d_sem.severity == "info" and d_sem.params == {"target": "Satisfaction"}
    assert bad.stages.set_index("stage")["total_effect"].isna().all()
    # no structural model at all: the same decomposition
    none = ipa(q, idx, None, None, target="Satisfaction", bootstrap=200, seed=1)
    pd.testing.assert_frame_equal(none.constructs, bad.constructs)
    # without a target: the construct declared with role: satisfaction
    assert q.role("satisfaction") == "Satisfaction"
    default = ipa(q, idx, None, None, bootstrap=200, seed=1)
    pd.testing.assert_frame_equal(default.constructs, none.constructs)
    # a questionnaire without that role needs the target named
    import yaml

    from satisfaction.questionnaire import Questionnaire

    spec = yaml.safe_load(Path(q.source).read_text(encoding="utf-8"))
    for c in spec["constructs"]:
        c.pop("role", None)
    roleless = Questionnaire.from_dict(spec)
    with pytest.raises(InputError, match="no construct with role: satisfaction"):
        ipa(roleless, idx, None, None, bootstrap=0)


def test_ipa_for_loyalty_mixes_methods_and_splits_means_per_method(cram, cram_demo):
    params, effects = _cram_tables(cram)
    idx = indices(cram, cram_demo, params)
    loy = ipa(cram, idx, effects, params, target="Loy", bootstrap=200, seed=2)
    t = loy.constructs.set_index("construct")
    assert t.loc["Sat", "importance.method"] == "total_effect"
    assert t.loc["Sat", "importance"] == pytest.approx(0.7)
    assert t.loc["Sat", "mean.importance"] == pytest.approx(0.7)
    assert (t.loc["Sat", "importance.ci.lower"], t.loc["Sat", "importance.ci.upper"]) == \
        (0.62, 0.77)
    shap = t[t["importance.method"] == "shapley"]
    assert len(shap) == 11
    assert shap["mean.importance"].iloc[0] == pytest.approx(shap["importance"].mean())
    assert loy.importance_column == "mixed"
    with pytest.raises(InputError):
        ipa(cram, idx, effects, params, target="Nope")
