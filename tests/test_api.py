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


def test_compare_with_weights_is_the_commands_json(tmp_path: Path) -> None:
    import yaml

    from tests.test_weights import MARGINS, REF, bank_frame, definition

    q, d, out = tmp_path / "q.yaml", tmp_path / "d.csv", tmp_path / "out.json"
    q.write_text(yaml.safe_dump(definition(weighting={"method": "rake", "margins": MARGINS}),
                                allow_unicode=True), encoding="utf-8")
    bank_frame().to_csv(d, index=False)
    assert main(["compare", str(q), str(d), "--json", str(out)]) == 0
    result = api.compare(q, d)
    assert _same(json.loads(json.dumps(result.to_dict())), json.loads(out.read_text()))
    # the weighted tests are R survey's (tests/reference/survey_weights.R)
    two = result.weighted.set_index(["construct", "by"]).loc[("Satisfaction", "gender")]
    assert two["statistic"] == pytest.approx(REF["svyttest"]["statistic"], abs=1e-6)
    assert "compare_weighted" in [w.code for w in result.warnings]


def test_fit_with_modindices_is_the_commands_json(tmp_path: Path) -> None:
    out = tmp_path / "fit.json"
    assert main(["fit", "ecsi_bank", str(BANK), "--modindices", "--json", str(out)]) == 0
    result = api.fit("ecsi_bank", BANK, modindices=True)
    assert result.data_quality is not None  # the screening log, in the JSON too
    assert _same(json.loads(json.dumps(result.to_dict())), json.loads(out.read_text()))
    assert len(result.modindices) and "modindices" in json.loads(out.read_text())


def test_pls_is_the_commands_json(tmp_path: Path) -> None:
    out = tmp_path / "pls.json"
    assert main(["fit", "ecsi_bank", str(BANK), "--estimator", "pls", "--ipma",
                 "Satisfaction", "--json", str(out)]) == 0
    found = api.pls("ecsi_bank", BANK, ipma_target="Satisfaction")
    assert _same(json.loads(json.dumps(found.to_dict())), json.loads(out.read_text()))
    assert found.ipma.index["Satisfaction"] == pytest.approx(
        json.loads(out.read_text())["index"]["Satisfaction"], abs=1e-12)


#: What a command may take from the analysis modules besides :mod:`satisfaction.api`:
#: constants (upper case), classes for type hints, and option checks.
ALLOWED_FROM = {
    "satisfaction.value.checks": {"check_date_format", "check_discount_rate", "parse_date",
                                  "check_engine"},
}
#: Modules a command may import freely: the API, the command-line helpers, errors,
#: output writing, and the report's own helpers.
FREE = ("satisfaction.api", "satisfaction.commands", "satisfaction.errors", "satisfaction.io")


def test_commands_are_a_thin_layer_over_the_api() -> None:
    """No command imports an analysis function: every statistic, every loading and
    screening of data goes through satisfaction.api."""
    import ast

    import satisfaction.commands as package

    offending = []
    for path in sorted(Path(package.__file__).parent.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom) or node.module is None:
                continue
            if node.module == "satisfaction":
                # a module imported whole: only for its constants (reliability cut-offs)
                offending += [f"{path.name}: from satisfaction import {a.name}"
                              for a in node.names if a.name not in ("api", "reliability")]
            elif node.module.startswith("satisfaction") and not node.module.startswith(FREE):
                for alias in node.names:
                    name = alias.name
                    if name.isupper() or name[0].isupper() or \
                            name in ALLOWED_FROM.get(node.module, ()):
                        continue
                    offending.append(f"{path.name}: from {node.module} import {name}")
    assert offending == []


def test_validate_is_the_commands_json(tmp_path: Path) -> None:
    """api.validate's Responses has the one to_dict of every result: the command's
    --json (the screening log, counted by reason, and whether it is usable)."""
    out = tmp_path / "validate.json"
    assert main(["validate", "ecsi_bank", str(BANK), "--json", str(out)]) == 0
    result = api.validate("ecsi_bank", BANK)
    mine = json.loads(json.dumps(result.to_dict()))
    assert _same(mine, json.loads(out.read_text()))
    assert mine["usable"] is True and mine["loaded"] == result.log.loaded
    assert sum(mine["excluded"].values()) + mine["analysed"] == mine["loaded"]


def test_data_file_check_admits_a_transactions_folder(tmp_path: Path) -> None:
    """Responses must be a file; transactions may be a folder of Parquet files (the
    report's --transactions), so the early check admits a folder there."""
    from satisfaction.errors import InputError
    from satisfaction.io import check_data_file

    with pytest.raises(InputError, match="found a folder"):
        check_data_file(tmp_path)
    check_data_file(tmp_path, folder=True)
    with pytest.raises(InputError, match="file not found"):
        check_data_file(tmp_path / "none", folder=True)
    check_data_file("Image =~ imag1 + imag2\nLoyalty ~ Image\n")  # syntax, not a path
