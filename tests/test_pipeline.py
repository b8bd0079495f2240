"""The pipeline: stages run in order, every warning is collected with its stage,
nothing is lost (counts add up), the JSON is plain and deterministic."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pandas as pd
import pytest

from satisfaction.errors import InputError
from satisfaction.pipeline import (
    STAGES,
    Analysis,
    _Runner,
    key_constructs,
    run,
    transaction_columns,
)
from satisfaction.questionnaire import load_questionnaire

from .conftest import QUESTIONNAIRES

#: Stages the bank fixture's run reported, in order (kept beside the Analysis, not
#: in it, so that no test's view of the results depends on another having run).
BANK_STAGES: list[str] = []


@pytest.fixture(scope="module")
def bank(bank_csv: Path) -> Analysis:
    BANK_STAGES.clear()
    return run(QUESTIONNAIRES / "ecsi_bank.yaml", bank_csv, bootstrap=0, seed=3,
               progress=BANK_STAGES.append, parallel=False)


def test_key_constructs() -> None:
    assert key_constructs(load_questionnaire(QUESTIONNAIRES / "cram.yaml")) == ("Sat", "Loy")
    assert key_constructs(load_questionnaire(QUESTIONNAIRES / "ecsi_bank.yaml")) == (
        "Satisfaction", "Loyalty")


def test_stages_run_in_order(bank: Analysis) -> None:
    seen = list(BANK_STAGES)
    assert seen == [s for s in STAGES if s in seen]
    assert seen[:5] == ["responses", "measurement", "model", "drivers", "compare"]
    assert "value" not in seen  # no transactions given
    for name in ("reliability", "efa", "sem", "indices", "ipa", "compare", "recommendations"):
        assert getattr(bank, name) is not None, name
    assert bank.value is None and bank.link is None


def test_every_stage_warning_is_collected(bank: Analysis) -> None:
    stages = {w.stage for w in bank.warnings}
    for w in bank.reliability.warnings:
        assert any(x.diagnostic == w and x.stage == "measurement" for x in bank.warnings)
    for w in bank.sem.warnings:
        assert any(x.diagnostic == w and x.stage == "model" for x in bank.warnings)
    assert all(w.severity in ("info", "caution", "invalidates") for w in bank.warnings)
    assert stages <= set(STAGES)
    assert len({(w.stage, w.message) for w in bank.warnings}) == len(bank.warnings)


def test_json_contract_is_plain_and_adds_up(bank: Analysis) -> None:
    out = bank.to_dict()
    text = json.dumps(out, allow_nan=False)
    assert json.dumps(bank.to_dict(), allow_nan=False) == text
    dq = out["data_quality"]
    assert dq["loaded"] == dq["analysed"] + sum(dq["excluded"].values()) == 250
    assert out["sem"]["fit"]["cfi"] == pytest.approx(bank.sem.fit_measures["cfi"])
    assert out["options"]["satisfaction"] == "Satisfaction"
    assert [w["stage"] for w in out["warnings"]] == [w.stage for w in bank.warnings]


def test_missing_stage_module_is_a_warning_not_a_crash() -> None:
    analysis = Analysis(questionnaire=None, responses=None)  # type: ignore[arg-type]
    runner = _Runner(analysis, None)
    assert runner.module("model", "satisfaction.no_such_stage") is None
    assert analysis.warnings[0].stage == "model"
    assert "not installed" in analysis.warnings[0].message


def test_python_warnings_inside_a_stage_are_recorded() -> None:
    analysis = Analysis(questionnaire=None, responses=None)  # type: ignore[arg-type]
    runner = _Runner(analysis, None)
    with runner.stage("compare"):
        warnings.warn("few respondents in group 3", UserWarning, stacklevel=1)
        warnings.warn("old API", DeprecationWarning, stacklevel=1)
    assert [(w.stage, w.message) for w in analysis.warnings] == [
        ("compare", "few respondents in group 3")]
    assert analysis.timings["compare"] >= 0


def test_too_few_respondents_is_an_input_error(bank_csv: Path) -> None:
    small = pd.read_csv(bank_csv).head(10)
    with pytest.raises(InputError, match="respondents"):
        run(QUESTIONNAIRES / "ecsi_bank.yaml", small, bootstrap=0)


def test_transaction_columns(tmp_path: Path) -> None:
    q = load_questionnaire(QUESTIONNAIRES / "cram.yaml")
    frame = pd.DataFrame({"customer": ["a"], "date": ["2024-01-01"], "amount": [1.0]})
    assert transaction_columns(frame, q).customer == "customer"
    path = tmp_path / "t.csv"
    frame.rename(columns={"customer": "customer_id"}).to_csv(path, index=False)
    assert transaction_columns(path, q).customer == "customer_id"
    assert transaction_columns(tmp_path / "missing.csv", q).customer == "customer_id"


def test_parallel_run_gives_the_same_results(bank: Analysis, bank_csv: Path) -> None:
    """Measurement in a second process changes nothing in the results or warnings."""
    other = run(QUESTIONNAIRES / "ecsi_bank.yaml", bank_csv, bootstrap=0, seed=3,
                parallel=True)
    assert json.dumps(other.to_dict()) == json.dumps(bank.to_dict())
    assert "measurement" in other.timings


def test_inadmissible_model_does_not_weight_the_indices(bank: Analysis) -> None:
    from satisfaction.drivers import indices

    # the bank's CB-SEM is inadmissible: the analysis falls back to PLS, whose ACSI
    # weights the indices (tests/test_pipeline_pls.py), not the CB-SEM's loadings
    assert bank.sem.status == "invalid"
    assert bank.options["estimator"]["reason"] == "fallback"
    assert set(bank.indices.weights["note"]) == {"PLS weight on the 0-100 metric (ACSI)"}
    cbsem = indices(bank.questionnaire, bank.responses.data, loadings=bank.sem.parameters)
    assert (bank.indices.constructs["index"] - cbsem.constructs["index"]).abs().max() > 1e-6
