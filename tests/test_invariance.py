"""Measurement invariance against lavaan (issue 13, point 4).

Reference: tests/reference/lavaan_invariance.json, written by
tests/reference/lavaan_invariance.R: cfa(..., group.equal = ...) for the
configural, metric, scalar and strict steps, the scalar model's latent means,
a partially invariant model (group.partial) and lavTestScore's top parameter.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from semopy.examples import holzinger39

from satisfaction.cli import main
from satisfaction.errors import UsageError
from satisfaction.invariance import invariance
from satisfaction.model import fit
from tests.conftest import REFERENCE, SHARED

REF = json.loads((REFERENCE / "lavaan_invariance.json").read_text())
TOL = 1e-3


def _data(case: str) -> pd.DataFrame:
    if case == "holzinger":
        return holzinger39.get_data()
    return pd.read_csv(SHARED / "bank_satisfaction.csv")


@pytest.fixture(scope="module", params=["holzinger", "bank"])
def case(request):
    ref = REF[request.param]
    return request.param, ref, invariance(ref["model"], _data(request.param), ref["group"])


def test_four_steps_match_lavaan(case) -> None:
    _, ref, res = case
    steps = res.steps.set_index("model")
    for step in ("configural", "metric", "scalar", "strict"):
        want = ref["fits"][step]
        got = steps.loc[step]
        assert got["df"] == want["df"] and got["npar"] == want["npar"], step
        assert abs(got["chisq"] - want["chisq"]) <= TOL * max(1.0, want["chisq"]), step
        for name in ("cfi", "tli", "rmsea", "srmr"):
            assert abs(got[name] - want[name]) <= TOL, (step, name)


def test_latent_means_of_the_scalar_model_match_lavaan(case) -> None:
    _, ref, res = case
    labels = res.labels
    means = res.latent_means.set_index(["construct", "group"])
    for row in ref["fits"]["scalar_means"]:
        got = means.loc[(row["lhs"], labels[row["group"] - 1])]
        assert abs(got["est"] - row["est"]) <= TOL
        assert abs(got["se"] - row["se"]) <= TOL


def test_decisions_and_suggestions(case) -> None:
    name, ref, res = case
    steps = res.steps.set_index("model")
    for step in ("metric", "scalar", "strict"):
        held = (steps.loc[step, "delta.cfi"] >= -0.01) and (steps.loc[step, "delta.rmsea"] <= 0.015)
        assert (steps.loc[step, "decision"] == "held") == held
    if name == "holzinger":
        assert res.level == "metric" and not res.means_comparable
        assert any(w.code == "invariance_no_scalar" for w in res.warnings)
        top = res.suggestions[res.suggestions["step"] == "scalar"].iloc[0]
        assert top["parameter"] == ref["fits"]["score_top"]["parameter"].strip()


def test_partial_invariance_matches_lavaan() -> None:
    ref = REF["holzinger"]
    want = ref["partial"]
    res = fit(ref["model"], _data("holzinger"), group="school",
              group_equal=("loadings", "intercepts"), group_partial=tuple(want["free"]))
    assert res.fit_measures["df"] == want["df"]
    assert abs(res.fit_measures["chisq"] - want["chisq"]) <= TOL * want["chisq"]


def test_options_are_checked() -> None:
    data = _data("holzinger")
    with pytest.raises(UsageError, match="unknown class"):
        fit(REF["holzinger"]["model"], data, group="school", group_equal=("loading",))
    with pytest.raises(UsageError, match="need --group"):
        fit(REF["holzinger"]["model"], data, group_equal=("loadings",))


def test_invariance_command_writes_json(tmp_path) -> None:
    model = tmp_path / "hs.lav"
    model.write_text(REF["holzinger"]["model"])
    csv = tmp_path / "hs.csv"
    _data("holzinger").to_csv(csv, index=False)
    out = tmp_path / "inv.json"
    assert main(["invariance", str(model), str(csv), "--group", "school",
                 "--json", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert [s["model"] for s in doc["steps"]] == ["configural", "metric", "scalar", "strict"]
    assert [s["df"] for s in doc["steps"]] == [48, 54, 60, 69]
    assert doc["level"] == "metric" and doc["means_comparable"] is False
    assert {"delta.chisq", "delta.df", "delta.pvalue", "delta.cfi", "delta.rmsea",
            "decision"} <= set(doc["steps"][1])


def test_construct_invariance_follows_lavaans_cfi() -> None:
    from satisfaction.invariance import construct_invariance
    from satisfaction.questionnaire import load_questionnaire
    from satisfaction.responses import load_responses
    from tests.conftest import QUESTIONNAIRES

    q = load_questionnaire(QUESTIONNAIRES / "ecsi_bank.yaml")
    data = load_responses(q, SHARED / "bank_satisfaction.csv").data
    table, notes = construct_invariance(q, data, "gender")
    table = table.set_index("construct")
    for ref in REF["bank_constructs"]:
        cfi = ref["cfi"]
        metric = cfi["metric"] - cfi["configural"] >= -0.01
        scalar = metric and cfi["scalar"] - cfi["metric"] >= -0.01
        level = "scalar" if scalar else "metric" if metric else "configural"
        row = table.loc[ref["construct"]]
        assert row["level"] == level, ref["construct"]
        assert abs(row["delta.cfi.metric"] - (cfi["metric"] - cfi["configural"])) <= TOL
        assert abs(row["delta.cfi.scalar"] - (cfi["scalar"] - cfi["metric"])) <= TOL
    assert {n.params["construct"] for n in notes} == set(
        table.index[table["means_comparable"] == False])  # noqa: E712


def test_invariance_with_fiml_matches_lavaans_fiml_fits() -> None:
    from tests.test_model_fiml_groups import _hs_missing

    ref = json.loads((REFERENCE / "lavaan_fiml_groups.json").read_text())
    res = invariance(ref["model"], _hs_missing(), ref["group"], missing="fiml", suggest=0)
    steps = res.steps.set_index("model")
    for step in ("configural", "scalar"):
        want = ref["fits"][step]["fit"]
        assert steps.loc[step, "df"] == want["df"]
        assert abs(steps.loc[step, "chisq"] - want["chisq"]) <= TOL * want["chisq"]
