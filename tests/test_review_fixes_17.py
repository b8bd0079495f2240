"""Loose ends of issue 17 found by a review (weights, bands, messy exports, labels).

References: R's survey::trimWeights(strict = TRUE) (tests/reference/survey_weights.R,
the achieved gender shares after trimming), and for the rest hand counts of small
frames written here.
"""

from __future__ import annotations

import json

import pytest

from satisfaction.cli import main
from satisfaction.weights import TRIM_MARGIN_TOLERANCE
from tests.test_weights import MARGINS, REF, _write, raked

# -- 1. trimming that undoes the raking is a caution ------------------------------------------


def test_trimming_that_misses_a_margin_is_a_caution_naming_it():
    _, _, result = raked(trim=[0.8, 1.2])
    missed = [w for w in result.warnings if w.code == "weights_trim_margin_missed"]
    # R's trimWeights leaves gender at 0.5577 / 0.4423 against 0.5 / 0.5
    female, male = REF["trim"]["achieved_gender"]
    by_code = {(w.params["variable"], w.params["code"]): w for w in missed}
    assert by_code[("gender", "female")].params["achieved_share"] == pytest.approx(female,
                                                                                   abs=1e-6)
    assert by_code[("gender", "male")].params["achieved_share"] == pytest.approx(male, abs=1e-6)
    assert all(w.severity == "caution" for w in missed)
    # exactly the margins more than one point off, no others
    off = {(r.variable, r.code) for r in result.margins.itertuples()
           if abs(r.achieved - r.target) > TRIM_MARGIN_TOLERANCE}
    assert set(by_code) == off
    text = by_code[("gender", "female")].text("en")
    assert "gender = female" in text and f"{100 * female:.1f}%" in text and "50.0%" in text
    assert "[0.8, 1.2]" in text and "1 percentage point" in text
    zh = by_code[("gender", "female")].text("zh")
    assert "gender = female" in zh and f"{100 * female:.1f}%" in zh and "百分点" in zh


def test_loose_trimming_or_no_trimming_meets_the_margins_without_caution():
    for weighting in ({}, {"trim": [0.05, 20]}):
        _, _, result = raked(**weighting)
        assert not [w for w in result.warnings if w.code == "weights_trim_margin_missed"]


def test_weight_command_shows_and_writes_the_caution(tmp_path, capsys):
    q, d = _write(tmp_path, weighting={"margins": MARGINS, "trim": [0.8, 1.2]})
    js = tmp_path / "w.json"
    assert main(["weight", q, d, "--json", str(js)]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "caution: after trimming the weights to [0.8, 1.2] the share of gender = female" in out
    codes = [w["code"] for w in json.loads(js.read_text())["warnings"]]
    assert "weights_trim_margin_missed" in codes
