"""The public API (satisfaction.api): one argument order, the command's JSON."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from satisfaction import api
from satisfaction.cli import main
from satisfaction.model import fit as model_fit
from satisfaction.questionnaire import load_questionnaire
from satisfaction.responses import load_responses

from .conftest import SHARED

BANK = SHARED / "bank_satisfaction.csv"


def _same(a: object, b: object) -> bool:
    """Equal JSON values (floats to 1e-12, NaN/None alike)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)
    return a == b


def test_reliability_is_the_commands_json(tmp_path: Path) -> None:
    out = tmp_path / "rel.json"
    assert main(["reliability", "ecsi_bank", str(BANK), "--json", str(out)]) == 0
    cli = json.loads(out.read_text())
    mine = json.loads(json.dumps(api.reliability("ecsi_bank", BANK).to_dict()))
    cli.pop("responses")
    assert _same(mine, cli)


def test_questionnaire_object_path_and_name_agree() -> None:
    q = load_questionnaire("ecsi_bank")
    frame = pd.read_csv(BANK)
    by_name = api.compare("ecsi_bank", BANK, by="gender").tests
    by_object = api.compare(q, frame, by="gender").tests
    pd.testing.assert_frame_equal(by_name, by_object)


def test_fit_takes_questionnaire_or_lavaan_syntax() -> None:
    q = load_questionnaire("ecsi_bank")
    data = load_responses(q, BANK).data
    direct = model_fit(q, data)
    through = api.fit("ecsi_bank", BANK)
    assert through.fit_measures["chisq"] == pytest.approx(direct.fit_measures["chisq"], abs=1e-9)
    syntax = "Image =~ imag1 + imag2 + imag3\nLoyalty =~ loy1 + loy2 + loy3\n" \
             "Loyalty ~ Image\n"
    raw = pd.read_csv(BANK)
    text = api.fit(syntax, raw)
    assert text.fit_measures["chisq"] == pytest.approx(
        model_fit(syntax, raw).fit_measures["chisq"], abs=1e-9)
    from satisfaction.pls import pls

    through_pls = api.fit(syntax, raw, estimator="pls")
    assert through_pls.paths["est"].iloc[0] == pytest.approx(
        pls(syntax, raw).paths["est"].iloc[0], abs=1e-12)
    plsc = api.fit(syntax, raw, estimator="plsc")
    assert plsc.consistent and plsc.paths["est"].iloc[0] == pytest.approx(
        pls(syntax, raw, consistent=True).paths["est"].iloc[0], abs=1e-12)


def test_efa_uses_the_questionnaires_items() -> None:
    res = api.efa("ecsi_bank", BANK, n_factors=3)
    q = load_questionnaire("ecsi_bank")
    assert sorted(res.loadings.index) == sorted(i.id for i in q.items)
