"""Box scores, answer distributions and NPS against R (tests/reference/topbox_reference.R)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from satisfaction.errors import SchemaError
from satisfaction.questionnaire import Questionnaire, load_questionnaire
from satisfaction.topbox import box_scores, net_promoter, wilson_interval

REF = json.loads((Path(__file__).parent / "reference" / "topbox_reference.json")
                 .read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def bank(bank_csv: Path) -> tuple[Questionnaire, pd.DataFrame]:
    q = load_questionnaire("ecsi_bank")
    return q, pd.read_csv(bank_csv, index_col="respondent")


def test_box_scores_equal_r(bank: tuple[Questionnaire, pd.DataFrame]) -> None:
    q, data = bank
    result = box_scores(q, data)
    assert list(result.items.index) == [i.id for i in q.items]
    assert list(result.distribution.columns) == [float(v) for v in range(11)]
    for item, ref in REF["bank"].items():
        row = result.items.loc[item]
        assert row["n"] == ref["n"]
        assert row["top"] == pytest.approx(ref["top"], abs=1e-9)
        assert row["bottom"] == pytest.approx(ref["bottom"], abs=1e-9)
        assert row["top.ci.lower"] == pytest.approx(ref["top_lower"], abs=1e-9)
        assert row["top.ci.upper"] == pytest.approx(ref["top_upper"], abs=1e-9)
        np.testing.assert_allclose(result.distribution.loc[item].to_numpy(),
                                   ref["distribution"], atol=1e-12)


def test_missing_answers_leave_n(bank: tuple[Questionnaire, pd.DataFrame]) -> None:
    q, data = bank
    data = data.copy()
    data.iloc[:5, data.columns.get_loc("imag1")] = np.nan
    row = box_scores(q, data).items.loc["imag1"]
    ref = REF["blanked"]["imag1"]
    assert (row["n"], row["missing"]) == (ref["n"], 5)
    assert row["top"] == pytest.approx(ref["top"], abs=1e-9)
    assert row["top.ci.lower"] == pytest.approx(ref["top_lower"], abs=1e-9)


def test_nps_equals_r(bank: tuple[Questionnaire, pd.DataFrame]) -> None:
    _, data = bank
    ref = REF["nps_loy3"]
    got = net_promoter(data["loy3"])
    assert got["n"] == ref["n"]
    for key, rkey in (("promoters", "promoters"), ("detractors", "detractors"),
                      ("nps", "nps"), ("se", "se"), ("ci.lower", "lower"),
                      ("ci.upper", "upper")):
        assert got[key] == pytest.approx(ref[rkey], abs=1e-9), key
    assert got["promoters"] + got["passives"] + got["detractors"] == pytest.approx(1.0)


def test_tagged_item_gets_its_nps(bank: tuple[Questionnaire, pd.DataFrame]) -> None:
    q, data = bank  # the shipped bank questionnaire tags loy3 (recommend) nps: true
    result = box_scores(q, data)
    assert list(result.nps.index) == ["loy3"]
    assert result.nps.loc["loy3", "nps"] == pytest.approx(REF["nps_loy3"]["nps"], abs=1e-9)
    raw = q.to_dict()
    for c in raw["constructs"]:
        for it in c.get("items", []):
            it.pop("nps", None)
    assert box_scores(Questionnaire.from_dict(raw), data).nps.empty


def test_nps_needs_a_0_to_10_scale() -> None:
    q = load_questionnaire("cram")
    raw = q.to_dict()
    raw["constructs"][3]["items"][0]["nps"] = True
    with pytest.raises(SchemaError, match="0 to 10"):
        Questionnaire.from_dict(raw)


def test_benchmarks_are_checked() -> None:
    raw = load_questionnaire("ecsi_bank").to_dict()
    ok = Questionnaire.from_dict({**raw, "benchmarks": {"Satisfaction": 75}})
    assert ok.benchmarks == {"Satisfaction": 75.0}
    with pytest.raises(SchemaError, match="undefined construct 'Happiness'"):
        Questionnaire.from_dict({**raw, "benchmarks": {"Happiness": 75}})
    with pytest.raises(SchemaError, match="from 0 to 100"):
        Questionnaire.from_dict({**raw, "benchmarks": {"Satisfaction": 120}})


def test_wilson_edges() -> None:
    lo, hi = wilson_interval(0, 10)
    assert lo == pytest.approx(0.0, abs=1e-12) and 0 < hi < 0.35
    assert all(np.isnan(wilson_interval(0, 0)))
