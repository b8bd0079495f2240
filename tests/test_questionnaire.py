"""Questionnaire schema: shipped files load; every schema error names file, line, key."""

from __future__ import annotations

import textwrap
import warnings
from pathlib import Path

import pytest

from satisfaction.errors import SchemaError
from satisfaction.questionnaire import SchemaWarning, load_questionnaire
from tests.conftest import QUESTIONNAIRES

BASE = """\
id: t
title: {en: Test, zh: 测试}
scales:
  s5: {min: 1, max: 5}
constructs:
  - id: A
    name: A
    items:
      - {id: a1, text: x, scale: s5}
      - {id: a2, text: x, scale: s5}
      - {id: a3, text: x, scale: s5}
  - id: B
    name: B
    items:
      - {id: b1, text: x, scale: s5}
      - {id: b2, text: x, scale: s5}
      - {id: b3, text: x, scale: s5}
paths:
  - B ~ A
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "q.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_base_is_valid(tmp_path: Path) -> None:
    q = load_questionnaire(write(tmp_path, BASE))
    assert [c.id for c in q.constructs] == ["A", "B"]
    assert q.to_lavaan() == ("# measurement\nA =~ a1 + a2 + a3\nB =~ b1 + b2 + b3\n"
                             "# structural\nB ~ A\n")


@pytest.mark.parametrize("name", ["cram", "acsi", "ecsi_bank", "ecsi_mobile"])
def test_shipped_questionnaires_load(name: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SchemaWarning)
        q = load_questionnaire(QUESTIONNAIRES / f"{name}.yaml")
    assert q.id == name
    for item in [*q.items, *q.observed]:
        assert item.text.en and item.text.zh, f"{item.id} needs English and Chinese text"
    for c in q.constructs:
        assert c.name.en and c.name.zh


def test_cram_structure() -> None:
    q = load_questionnaire(QUESTIONNAIRES / "cram.yaml")
    stages = {c.id: [k.id for k in q.children(c.id)] for c in q.higher_order}
    assert stages == {
        "PreSale": ["Info", "Brand", "WoM"],
        "InSale": ["Quality", "Price", "Convenience", "Staff", "Environment"],
        "PostSale": ["Service", "Extension", "Promise"],
    }
    assert all(3 <= len(c.items) <= 4 for c in q.first_order)
    assert any(i.reverse for i in q.items)
    assert {g.id for g in q.groups} == {"gender", "age_band", "region", "channel"}
    assert q.customer_id == "customer"
    syntax = q.to_lavaan()
    assert "InSale =~ Quality + Price + Convenience + Staff + Environment" in syntax
    assert "Sat ~ PreSale + InSale + PostSale" in syntax
    assert "Loy =~ loy1 + loy2 + loy3 + loy4" in syntax


def test_ecsi_mobile_observed_complaints() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SchemaWarning)
        q = load_questionnaire(QUESTIONNAIRES / "ecsi_mobile.yaml")
    assert [o.id for o in q.observed] == ["comp"]
    assert "Loyalty ~ Image + Satisfaction + comp" in q.to_lavaan()


def expect_error(tmp_path: Path, text: str, line: int, key: str, words: str) -> None:
    with pytest.raises(SchemaError) as info:
        load_questionnaire(write(tmp_path, text))
    err = info.value
    message = str(err)
    assert str(tmp_path / "q.yaml") in message
    assert err.line == line, message
    assert f"line {line}" in message
    assert key in message, message
    assert words in message, message


def test_unknown_key(tmp_path: Path) -> None:
    text = BASE.replace("      - {id: a2, text: x, scale: s5}",
                        "      - {id: a2, text: x, scale: s5, colum: Q2}")
    expect_error(tmp_path, text, 10, "constructs.0.items.1.colum", "unknown key 'colum'")


def test_unknown_top_level_key(tmp_path: Path) -> None:
    expect_error(tmp_path, BASE + "colour: red\n", 20, "colour", "unknown key")


def test_missing_required_key(tmp_path: Path) -> None:
    text = BASE.replace("title: {en: Test, zh: 测试}\n", "")
    expect_error(tmp_path, text, 1, "(top level)", "missing required key 'title'")


def test_duplicate_construct_id(tmp_path: Path) -> None:
    text = BASE.replace("  - id: B\n    name: B", "  - id: A\n    name: B")
    expect_error(tmp_path, text, 12, "constructs.1.id", "duplicate construct id 'A'")


def test_item_in_two_constructs(tmp_path: Path) -> None:
    text = BASE.replace("{id: b2, text: x", "{id: a2, text: x")
    expect_error(tmp_path, text, 16, "constructs.1.items.1.id",
                 "item 'a2' is in two constructs: 'A' and 'B'")


def test_duplicate_item_in_one_construct(tmp_path: Path) -> None:
    text = BASE.replace("{id: a3, text: x", "{id: a1, text: x")
    expect_error(tmp_path, text, 11, "constructs.0.items.2.id", "duplicate item id 'a1'")


def test_path_names_undefined_construct(tmp_path: Path) -> None:
    text = BASE.replace("  - B ~ A", "  - B ~ A + C")
    expect_error(tmp_path, text, 19, "paths.0", "undefined construct 'C'")


def test_path_not_a_regression(tmp_path: Path) -> None:
    text = BASE.replace("  - B ~ A", "  - B =~ A")
    expect_error(tmp_path, text, 19, "paths.0", "expected one regression")


def test_parent_undefined(tmp_path: Path) -> None:
    text = BASE.replace("  - id: A\n    name: A\n", "  - id: A\n    name: A\n    parent: Top\n")
    expect_error(tmp_path, text, 8, "constructs.0.parent", "undefined parent 'Top'")


def test_scale_min_not_below_max(tmp_path: Path) -> None:
    text = BASE.replace("s5: {min: 1, max: 5}", "s5: {min: 5, max: 5}")
    expect_error(tmp_path, text, 4, "scales.s5", "min 5 >= max 5")


def test_scale_labels_count(tmp_path: Path) -> None:
    text = BASE.replace("s5: {min: 1, max: 5}", "s5: {min: 1, max: 5, labels: {en: [a, b]}}")
    expect_error(tmp_path, text, 4, "scales.s5.labels.en", "5 points but 2 en labels")


def test_undefined_scale(tmp_path: Path) -> None:
    text = BASE.replace("{id: b3, text: x, scale: s5}", "{id: b3, text: x, scale: s7}")
    expect_error(tmp_path, text, 17, "constructs.1.items.2.scale", "undefined scale 's7'")


def test_construct_with_one_item_is_an_error(tmp_path: Path) -> None:
    text = BASE.replace("      - {id: b2, text: x, scale: s5}\n      - {id: b3, text: x, scale: s5}\n",
                        "")
    expect_error(tmp_path, text, 12, "constructs.1", "has 1 items; at least two")


def test_construct_with_two_items_warns(tmp_path: Path) -> None:
    text = BASE.replace("      - {id: b3, text: x, scale: s5}\n", "")
    with pytest.warns(SchemaWarning, match=r"q\.yaml, line 12: construct 'B' has only 2 items"):
        load_questionnaire(write(tmp_path, text))


def test_higher_order_without_children_is_an_error(tmp_path: Path) -> None:
    text = BASE.replace("paths:", "  - id: Top\n    name: Top\npaths:")
    expect_error(tmp_path, text, 18, "constructs.2", "has 0 child constructs")


def test_higher_order_renders(tmp_path: Path) -> None:
    text = BASE.replace("  - id: A\n    name: A\n", "  - id: A\n    name: A\n    parent: Top\n")
    text = text.replace("  - id: B\n    name: B\n", "  - id: B\n    name: B\n    parent: Top\n")
    text = text.replace("paths:\n  - B ~ A\n", "  - id: Top\n    name: Top\n  - id: C\n    name: C\n"
                        "    items:\n      - {id: c1, text: x, scale: s5}\n"
                        "      - {id: c2, text: x, scale: s5}\n      - {id: c3, text: x, scale: s5}\n"
                        "paths:\n  - C ~ Top\n")
    with pytest.warns(SchemaWarning, match="'Top' has only 2 child constructs"):
        q = load_questionnaire(write(tmp_path, text))
    assert "# higher-order\nTop =~ A + B\n" in q.to_lavaan()
    assert [i.id for i in q.items_of("Top")] == ["a1", "a2", "a3", "b1", "b2", "b3"]


def test_parent_loop(tmp_path: Path) -> None:
    text = BASE.replace("  - id: A\n    name: A\n    items:", "  - id: A\n    name: A\n"
                        "    parent: H1\n    items:")
    text = text.replace("paths:", "  - id: H1\n    name: H\n    parent: H2\n"
                        "  - id: H2\n    name: H\n    parent: H1\npaths:")
    with pytest.raises(SchemaError, match="parent chain loops"), warnings.catch_warnings():
        warnings.simplefilter("ignore", SchemaWarning)
        load_questionnaire(write(tmp_path, text))


def test_bad_stage_value(tmp_path: Path) -> None:
    text = BASE.replace("  - id: A\n    name: A\n", "  - id: A\n    name: A\n    stage: during\n")
    expect_error(tmp_path, text, 8, "constructs.0.stage", "Input should be")


def test_attention_check_needs_expect(tmp_path: Path) -> None:
    text = BASE + "checks:\n  - {id: attn, text: x, scale: s5}\n"
    expect_error(tmp_path, text, 21, "checks.0", "needs 'expect'")


def test_not_yaml(tmp_path: Path) -> None:
    expect_error(tmp_path, "id: [unclosed\n", 2, "", "not valid YAML")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SchemaError, match="not found"):
        load_questionnaire(tmp_path / "nope.yaml")


def test_group_labels(tmp_path: Path) -> None:
    q = load_questionnaire(QUESTIONNAIRES / "cram.yaml")
    gender = q.group("gender")
    assert gender.label(2, "zh") == "女"
    assert gender.label("1", "en") == "male"
    assert gender.label(9) == "9"


def test_summaries_piped_to_a_file_keep_every_digit(monkeypatch):
    """Off a terminal the command summaries are 160 columns wide (rich's 80 would
    cut numbers in tables), unless $COLUMNS says otherwise."""
    from satisfaction.commands import PIPE_WIDTH, make_console

    monkeypatch.delenv("COLUMNS", raising=False)
    assert make_console().width == PIPE_WIDTH
    monkeypatch.setenv("COLUMNS", "100")
    assert make_console().width == 100


def test_domain_is_read_and_checked(tmp_path: Path) -> None:
    assert load_questionnaire(write(tmp_path, BASE)).domain is None
    q = load_questionnaire(write(tmp_path, BASE + "domain: retail_bank\n"))
    assert q.domain == "retail_bank" and q.to_dict()["domain"] == "retail_bank"
    expect_error(tmp_path, BASE + "domain: banking\n", 20, "domain", "unknown domain 'banking'")
    assert load_questionnaire(QUESTIONNAIRES / "ecsi_bank.yaml").domain == "retail_bank"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SchemaWarning)
        assert load_questionnaire(QUESTIONNAIRES / "ecsi_mobile.yaml").domain == "telecom"


def test_screening_invalid_cells(tmp_path: Path) -> None:
    assert load_questionnaire(write(tmp_path, BASE)).screening.invalid_cells == "missing"
    strict = load_questionnaire(write(tmp_path, BASE + "screening: {invalid_cells: exclude}\n"))
    assert strict.screening.invalid_cells == "exclude"
    expect_error(tmp_path, BASE + "screening: {invalid_cells: drop}\n", 20,
                 "screening.invalid_cells", "'missing' or 'exclude'")
