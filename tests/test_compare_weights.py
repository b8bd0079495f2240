"""``satisfaction compare`` on a questionnaire that declares respondent weights: the
design-based tests (R's survey: svyttest, regTermTest; tests/reference/survey_weights.R)
beside the unweighted ones, and a caution saying which is which."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from satisfaction.cli import main
from tests.test_weights import MARGINS, REF, bank_frame, definition

TOL = 1e-6


def test_compare_gives_the_weighted_tests_and_says_so(tmp_path: Path, capsys) -> None:
    q, d, out = tmp_path / "q.yaml", tmp_path / "d.csv", tmp_path / "out.json"
    q.write_text(yaml.safe_dump(definition(weighting={"method": "rake", "margins": MARGINS}),
                                allow_unicode=True), encoding="utf-8")
    bank_frame().to_csv(d, index=False)
    assert main(["compare", str(q), str(d), "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Weighted tests (design-based" in printed
    assert "describe the unweighted sample" in printed
    data = json.loads(out.read_text(encoding="utf-8"))
    assert [w["code"] for w in data["warnings"] if w["code"] == "compare_weighted"] == [
        "compare_weighted"]
    rows = {(r["construct"], r["by"]): r for r in data["weighted"]}
    two = rows[("Satisfaction", "gender")]
    assert two["test"] == "svyttest"
    assert two["statistic"] == pytest.approx(REF["svyttest"]["statistic"], abs=TOL)
    assert two["pvalue"] == pytest.approx(REF["svyttest"]["p"], abs=TOL)
    three = rows[("Satisfaction", "segment")]
    assert three["statistic"] == pytest.approx(REF["wald"]["F"], abs=TOL)
    assert (three["df"], three["df2"]) == (REF["wald"]["df"], REF["wald"]["ddf"])
    assert three["pvalue"] == pytest.approx(REF["wald"]["p"], abs=TOL)
    # --by keeps the weighted tests of that group only
    assert main(["compare", str(q), str(d), "--by", "gender", "--json", str(out)]) == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    assert {r["by"] for r in data["weighted"]} == {"gender"}


def test_compare_without_weights_is_unchanged(tmp_path: Path) -> None:
    q, d, out = tmp_path / "q.yaml", tmp_path / "d.csv", tmp_path / "out.json"
    q.write_text(yaml.safe_dump(definition(), allow_unicode=True), encoding="utf-8")
    bank_frame().to_csv(d, index=False)
    assert main(["compare", str(q), str(d), "--json", str(out)]) == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    assert "weighted" not in data
    assert "compare_weighted" not in [w["code"] for w in data["warnings"]]
