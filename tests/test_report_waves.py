"""Waves: the change of each index against an earlier wave (satisfaction/waves.py).

Reference: R's Welch ``t.test(x2, x1)`` and ``p.adjust(method = "holm")`` on two
waves made from the ECSI bank data (odd rows; even rows with the satisfaction
items raised by 2 points), tests/reference/waves_welch.R → waves_welch.json.
The report test runs the same two waves through ``satisfaction report
--previous`` and reads the change in the HTML, the JSON and the workbook.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from satisfaction import drivers
from satisfaction.questionnaire import load_questionnaire
from satisfaction.waves import compare_waves, load_previous, welch_difference

from .conftest import REFERENCE

SAT_ITEMS = [f"sat{i}" for i in range(1, 5)]


def _waves(bank_csv: Path, shift: int = 2) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Wave 1 = odd rows, wave 2 = even rows with the satisfaction items raised by ``shift``."""
    data = pd.read_csv(bank_csv)
    first = data.iloc[0::2].reset_index(drop=True)
    second = data.iloc[1::2].reset_index(drop=True).copy()
    second[SAT_ITEMS] = (second[SAT_ITEMS] + shift).clip(upper=10)
    return first, second


def _as_json(value: object) -> dict:
    return json.loads(json.dumps(value, default=float))


def test_change_equals_welch_t_test_in_r(bank_csv: Path) -> None:
    q = load_questionnaire("ecsi_bank")
    first, second = _waves(bank_csv)
    previous = _as_json({"questionnaire": q.id, "indices": drivers.indices(q, first).to_dict()})
    result = compare_waves(drivers.indices(q, second), previous)
    reference = json.loads((REFERENCE / "waves_welch.json").read_text(encoding="utf-8"))
    assert len(result.changes) == len(reference) == 8
    for ref in reference:
        row = result.change_of(ref["kind"], ref["id"])
        assert row is not None, ref["id"]
        for key in ("previous", "current", "change", "change.se", "df", "t", "pvalue",
                    "ci.lower", "ci.upper", "pvalue.adjusted"):
            assert row[key] == pytest.approx(ref[key], rel=1e-6, abs=1e-9), (ref["id"], key)
        assert row["significant"] == (ref["pvalue.adjusted"] < 0.05)
    # the planted change is found, and it is the only one
    assert list(result.changes.loc[result.changes["significant"], "id"]) == ["Satisfaction"]


def test_welch_difference_without_a_standard_error_tests_nothing() -> None:
    out = welch_difference(70.0, float("nan"), 1, 60.0, 1.0, 100)
    assert out["change"] == pytest.approx(10.0)
    assert all(pd.isna(out[k]) for k in ("change.se", "df", "pvalue", "ci.lower"))


def test_previous_file_is_checked(tmp_path: Path) -> None:
    from satisfaction.errors import UsageError

    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(UsageError, match="--previous"):
        load_previous(bad, "ecsi_bank")
    empty = tmp_path / "empty.json"
    empty.write_text('{"questionnaire": "ecsi_bank", "indices": null}', encoding="utf-8")
    with pytest.raises(UsageError, match="holds no satisfaction indices"):
        load_previous(empty, "ecsi_bank")
    other = tmp_path / "other.json"
    other.write_text('{"questionnaire": "cram", "indices": {"constructs": []}}',
                     encoding="utf-8")
    with pytest.raises(UsageError, match="another questionnaire"):
        load_previous(other, "ecsi_bank")
    with pytest.raises(UsageError, match="not found"):
        load_previous(tmp_path / "missing.json", "ecsi_bank")
