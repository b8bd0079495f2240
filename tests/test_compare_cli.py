"""The ``satisfaction compare`` command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from satisfaction.cli import main

from .conftest import SHARED

ROOT = Path(__file__).resolve().parent.parent
Q = str(ROOT / "satisfaction/questionnaires/ecsi_bank.yaml")
DATA = str(SHARED / "bank_satisfaction.csv")
REF = json.loads((ROOT / "tests/reference/compare_bank.json").read_text())


def test_compare_by_gender_writes_the_json_contract(tmp_path, capsys):
    out = tmp_path / "cmp.json"
    assert main(["compare", Q, DATA, "--by", "gender", "--json", str(out)]) == 0
    assert "Group comparisons" in capsys.readouterr().out
    data = json.loads(out.read_text())
    assert set(data) >= {"tests", "posthoc"}
    sat = next(t for t in data["tests"]
               if t["construct"] == "Satisfaction" and t["test"] == "welch_t")
    ref = REF["gender"]["Satisfaction"]["welch_t"]
    assert sat["statistic"] == pytest.approx(ref["statistic"], abs=1e-6)
    assert sat["pvalue"] == pytest.approx(ref["pvalue"], abs=1e-6)
    assert sat["pvalue.adjusted"] == pytest.approx(
        REF["gender_holm"]["welch_t"]["Satisfaction"], abs=1e-6)
    assert sat["groups"]["female"]["n"] == 148
    again = tmp_path / "again.json"
    assert main(["compare", Q, DATA, "--by", "gender", "--json", str(again)]) == 0
    assert out.read_bytes() == again.read_bytes()


def test_compare_bad_input_is_one_line_and_exit_2(tmp_path, capsys):
    out = tmp_path / "cmp.json"
    assert main(["compare", Q, DATA, "--by", "nosuch", "--json", str(out)]) == 2
    err = capsys.readouterr().err
    assert "nosuch" in err and "Traceback" not in err
    assert not out.exists()
    assert main(["compare", Q, DATA, "--by", "gender", "--adjust", "tukey"]) == 2
