"""Roles: the satisfaction and loyalty constructs are found by role, never by name."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from satisfaction.cli import main
from satisfaction.errors import SchemaError
from satisfaction.pipeline import key_constructs, run
from satisfaction.questionnaire import load_questionnaire

from .conftest import QUESTIONNAIRES


def _renamed(tmp_path: Path, roles: bool = True) -> Path:
    """The bank questionnaire with ids and names no guess would recognise."""
    text = (QUESTIONNAIRES / "ecsi_bank.yaml").read_text(encoding="utf-8")
    for old, new in (("Satisfaction", "Zufriedenheit"), ("Loyalty", "Treue")):
        text = re.sub(rf"\b{old}\b", new, text)
    text = text.replace("en: Customer satisfaction", "en: Overall judgement")
    if not roles:
        text = re.sub(r"\n    role: \w+", "", text)
    path = tmp_path / "renamed.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_roles_name_the_key_constructs(tmp_path: Path) -> None:
    assert key_constructs(load_questionnaire("cram")) == ("Sat", "Loy")
    q = load_questionnaire(_renamed(tmp_path))
    assert key_constructs(q) == ("Zufriedenheit", "Treue")
    assert q.role("image") == "Image" and q.role("complaints") is None
    assert key_constructs(load_questionnaire(_renamed(tmp_path, roles=False))) == (None, None)


def test_a_role_is_declared_once(tmp_path: Path) -> None:
    text = (QUESTIONNAIRES / "ecsi_bank.yaml").read_text(encoding="utf-8").replace(
        "role: loyalty", "role: satisfaction")
    path = tmp_path / "twice.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SchemaError, match="role 'satisfaction' is declared by two constructs: "
                                          "'Satisfaction' and 'Loyalty'"):
        load_questionnaire(path)


def test_unusual_names_with_roles_run_the_whole_analysis(tmp_path: Path,
                                                        bank_csv: Path) -> None:
    analysis = run(_renamed(tmp_path), bank_csv, bootstrap=0, seed=3, parallel=False)
    assert (analysis.satisfaction, analysis.loyalty) == ("Zufriedenheit", "Treue")
    indices = analysis.indices.constructs.set_index("construct")
    assert "Zufriedenheit" in indices.index
    assert analysis.ipa.target == "Zufriedenheit" and len(analysis.ipa.constructs)


def test_without_a_satisfaction_role_the_report_stops_at_once(
        tmp_path: Path, bank_csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _renamed(tmp_path, roles=False)
    start = time.perf_counter()
    assert main(["report", str(path), str(bank_csv), "--out", str(tmp_path / "r.pdf")]) == 2
    assert time.perf_counter() - start < 10
    err = capsys.readouterr().err
    assert "no construct declares role: satisfaction" in err and "renamed.yaml" in err
    assert not (tmp_path / "r.pdf").exists()
    assert main(["validate", str(path), str(bank_csv)]) == 0
    assert "role: satisfaction" in capsys.readouterr().out
