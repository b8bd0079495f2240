"""Measurement end to end: reliability() through satisfaction.model.fit, and the commands."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from satisfaction import measurement
from satisfaction.cli import main
from satisfaction.errors import InputError
from satisfaction.questionnaire import load_questionnaire
from satisfaction.responses import load_responses

ROOT = Path(__file__).resolve().parents[1]
REF = json.loads((ROOT / "tests" / "reference" / "measurement_bank.json").read_text())
BANK = ROOT.parent / "shared" / "data" / "bank_satisfaction.csv"
QUEST = ROOT / "satisfaction" / "questionnaires" / "ecsi_bank.yaml"
TOL = 1e-3


@pytest.fixture(scope="module")
def bank_result():
    q = load_questionnaire(QUEST)
    return measurement.reliability(q, load_responses(q, BANK).data)


def test_reliability_through_model_fit_matches_r(bank_result):
    c = bank_result.constructs
    for cid, r in REF["reliability"].items():
        assert c.loc[cid, "alpha"] == pytest.approx(REF["alpha"][cid]["alpha"], abs=TOL)
        assert c.loc[cid, "omega"] == pytest.approx(r["omega"], abs=TOL)
        assert c.loc[cid, "cr"] == pytest.approx(r["cr"], abs=TOL)
        assert c.loc[cid, "ave"] == pytest.approx(r["ave"], abs=TOL)
    load = bank_result.loadings.set_index("item")["std.all"]
    for row in REF["cfa_std_loadings"]:
        assert load[row["rhs"]] == pytest.approx(row["est.std"], abs=TOL)
    theirs = pd.DataFrame(REF["latent_cor"]["values"], index=REF["latent_cor"]["rows"],
                          columns=REF["latent_cor"]["cols"])
    ours = bank_result.latent_correlations.loc[theirs.index, theirs.columns]
    np.testing.assert_allclose(ours.to_numpy(), theirs.to_numpy(), atol=TOL)
    assert bank_result.item_statistics.shape == (27, 11)


def test_reliability_command_json(tmp_path, capsys):
    out = tmp_path / "rel.json"
    code = main(["reliability", str(QUEST), str(BANK), "--json", str(out)])
    assert code == 0
    shown = " ".join(capsys.readouterr().out.split())
    assert "caution: discriminant validity: HTMT of Expectation and Quality is 0.982 (above " \
           "0.900)" in shown
    d = json.loads(out.read_text())
    assert set(d) >= {"constructs", "htmt", "fornell_larcker", "warnings", "items", "loadings"}
    img = d["constructs"]["Image"]
    assert set(img) == {"items", "n", "alpha", "alpha.ci.lower", "alpha.ci.upper", "omega",
                        "cr", "ave"}
    assert img["n"] == 250 and isinstance(img["n"], int)
    assert img["alpha"] == pytest.approx(REF["alpha"]["Image"]["alpha"], abs=TOL)
    assert len(d["htmt"]) == 15
    pair = next(p for p in d["htmt"] if {p["construct1"], p["construct2"]}
                == {"Expectation", "Quality"})
    assert pair["htmt"] == pytest.approx(0.9819, abs=TOL)
    assert any("Expectation and Quality" in w["message"] for w in d["warnings"])
    assert all(set(w) >= {"code", "severity", "message", "params"} for w in d["warnings"])
    assert d["status"] in ("ok", "caution", "invalid")
    assert d["responses"]["analysed"] == 250
    # deterministic: the same input gives byte-identical JSON
    again = tmp_path / "again.json"
    assert main(["reliability", str(QUEST), str(BANK), "--json", str(again)]) == 0
    assert out.read_bytes() == again.read_bytes()


def test_efa_command_json(tmp_path, capsys):
    out = tmp_path / "efa.json"
    code = main(["efa", str(QUEST), str(BANK), "--factors", "3", "--json", str(out)])
    assert code == 0
    shown = " ".join(capsys.readouterr().out.split())
    assert "KMO 0.921" in shown
    d = json.loads(out.read_text())
    assert d["n_factors"] == 3 and d["method"] == "minres" and d["rotation"] == "oblimin"
    assert d["kmo"] == pytest.approx(REF["kmo"]["overall"], abs=TOL)
    assert d["n_factors_rules"] == {"parallel_components": 2, "parallel_factors": 9,
                                    "kaiser": 5}
    assert [e["construct"] for e in d["loadings"][:2]] == ["Image", "Image"]
    assert set(d["loadings"][0]) == {"item", "F1", "F2", "F3", "construct"}
    again = tmp_path / "again.json"
    assert main(["efa", str(QUEST), str(BANK), "--factors", "3", "--json", str(again)]) == 0
    assert out.read_bytes() == again.read_bytes()


@pytest.mark.parametrize("args", [
    ["efa", str(QUEST), str(BANK), "--factors", "40"],
    ["efa", str(QUEST), str(BANK), "--rotation", "quartimax"],
    ["efa", str(QUEST), str(BANK), "--method", "pca"],
    ["reliability", str(QUEST), "no-such-file.csv"],
])
def test_bad_input_exits_2_without_output(args, tmp_path, capsys):
    out = tmp_path / "out.json"
    assert main([*args, "--json", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_missing_item_column_is_an_input_error():
    frame = pd.read_csv(BANK).drop(columns=["loy4"])
    q = load_questionnaire(QUEST)
    with pytest.raises(InputError, match="loy4"):
        measurement.item_statistics(q, frame)
    with pytest.raises(InputError, match="loy4"):
        measurement.reliability(q, frame)


def test_reliability_with_missing_answers_matches_r():
    """Alpha on pairwise covariances (psych); the CFA by FIML (lavaan's missing = "ml"):
    no respondent is dropped for a missing answer."""
    ref = json.loads((ROOT / "tests" / "reference" / "measurement_bank_missing.json")
                     .read_text())
    q = load_questionnaire(QUEST)
    data = load_responses(q, ROOT / "tests" / "reference" / "measurement_bank_missing.csv").data
    result = measurement.reliability(q, data)
    assert not [w for w in result.warnings if w.code == "listwise"]
    assert ref["cfa_n"] == 250
    for cid, r in ref["reliability"].items():
        for col in ("omega", "cr", "ave"):
            assert result.constructs.loc[cid, col] == pytest.approx(r[col], abs=TOL), (cid, col)
    for cid, a in ref["alpha"].items():
        assert result.constructs.loc[cid, "alpha"] == pytest.approx(a["alpha"], abs=TOL)
        assert result.constructs.loc[cid, "n"] == a["complete"]


@pytest.mark.parametrize("command", ["reliability", "efa"])
@pytest.mark.parametrize("change", ["constant", "copy"])
def test_constant_or_copied_item_exits_2(command, change, tmp_path, capsys):
    frame = pd.read_csv(BANK)
    frame["imag2"] = 4 if change == "constant" else frame["imag1"]
    path = tmp_path / "r.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "out.json"
    assert main([command, str(QUEST), str(path), "--json", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: column 'imag2': ") and "Traceback" not in err
    assert not out.exists()
