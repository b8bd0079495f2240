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


# -- the safe YAML loader (issue 15, point 2) -----------------------------------


def alias_bomb(levels: int = 9, width: int = 9) -> str:
    """A "billion laughs" document: ``width ** levels`` values from a few hundred bytes."""
    lines = ["a0: &a0 [" + ", ".join(["x"] * width) + "]"]
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def test_alias_bomb_is_refused_at_once(tmp_path: Path) -> None:
    import time

    text = BASE + alias_bomb()
    assert len(text.encode()) < 1000
    start = time.perf_counter()
    with pytest.raises(SchemaError) as info:
        load_questionnaire(write(tmp_path, text))
    assert time.perf_counter() - start < 2.0
    message = str(info.value)
    # a1..a3 add 90 + 819 + 7,380 values; the first alias of a4 adds 7,381 more
    assert info.value.line == BASE.count("\n") + 5, message
    assert "expand to more than 10,000 values" in message and "q.yaml" in message


def test_alias_bomb_exits_2_on_the_command_line(tmp_path: Path, capsys) -> None:
    from satisfaction.cli import main

    path = write(tmp_path, BASE + alias_bomb())
    data = tmp_path / "r.csv"
    data.write_text("respondent,a1\nr1,1\n", encoding="utf-8")
    assert main(["validate", str(path), str(data)]) == 2
    err = capsys.readouterr().err
    assert "q.yaml" in err and "line 24" in err and "Traceback" not in err


def test_aliases_within_budget_are_read(tmp_path: Path) -> None:
    text = BASE.replace("  s5: {min: 1, max: 5}", "  s5: &five {min: 1, max: 5}\n  s5b: *five")
    q = load_questionnaire(write(tmp_path, text))
    assert q.scales["s5b"] == q.scales["s5"]


def test_too_many_aliases(tmp_path: Path) -> None:
    text = BASE + "x: &x 1\ny: [" + ", ".join(["*x"] * 101) + "]\n"
    expect_error(tmp_path, text, 21, "", "more than 100 aliases")


def test_alias_loop_and_deep_nesting(tmp_path: Path) -> None:
    expect_error(tmp_path, BASE + "x: &x [1, *x]\n", 20, "", "refers to the value that contains")
    expect_error(tmp_path, BASE + "x: " + "[" * 60 + "]" * 60 + "\n", 20, "",
                 "nested more than 50 levels")


def test_duplicate_key_names_both_lines(tmp_path: Path) -> None:
    text = BASE.replace("  s5: {min: 1, max: 5}", "  s5: {min: 1, max: 5}\n  s5: {min: 0, max: 9}")
    expect_error(tmp_path, text, 5, "key 's5'", "appears twice in the same mapping (line 4 and "
                 "line 5)")
    # inside a flow mapping, and at the top level
    expect_error(tmp_path, BASE.replace("{min: 1, max: 5}", "{min: 1, max: 5, min: 2}"), 4,
                 "'min'", "appears twice")
    expect_error(tmp_path, BASE + "id: u\n", 20, "'id'", "(line 1 and line 20)")


def test_merge_key_may_override(tmp_path: Path) -> None:
    text = BASE.replace("  s5: {min: 1, max: 5}",
                        "  s5: &five {min: 1, max: 5}\n  s7:\n    <<: *five\n    max: 7")
    q = load_questionnaire(write(tmp_path, text))
    assert (q.scales["s7"].min, q.scales["s7"].max) == (1, 7)


@pytest.mark.parametrize(("scale", "key", "value"), [
    ("{min: .nan, max: 5}", "scales.s5.min", "nan"),
    ("{min: 1, max: .inf}", "scales.s5.max", "inf"),
    ("{min: -.Inf, max: 5}", "scales.s5.min", "-inf"),
    ("{min: 1, max: .NaN}", "scales.s5.max", "nan"),
])
def test_scale_bounds_must_be_finite(tmp_path: Path, scale: str, key: str, value: str) -> None:
    text = BASE.replace("{min: 1, max: 5}", scale)
    expect_error(tmp_path, text, 4, key, "finite number")
    with pytest.raises(SchemaError) as info:
        load_questionnaire(write(tmp_path, text))
    assert str(info.value.value) == value


def test_other_numbers_must_be_finite(tmp_path: Path) -> None:
    text = BASE + "checks:\n  - {id: attn, text: x, scale: s5, expect: .nan}\n"
    expect_error(tmp_path, text, 21, "checks.0.expect", "finite number")
    text = BASE + "groups:\n  - {id: age, type: numeric, min: 0, max: .inf}\n"
    expect_error(tmp_path, text, 21, "groups.0.max", "finite number")


@pytest.mark.parametrize(("text", "line", "words"), [
    ("d: 2024-13-45\n", 1, "cannot read '2024-13-45'"),
    ("a: \x00\n", 1, "unacceptable character"),
    ("a: !!python/object/apply:os.system [ls]\n", 1, "could not determine a constructor"),
    ("a: 1\n---\nb: 2\n", 2, "expected a single document"),
    ("a: &x 1\nb: &x 2\n", 2, "found duplicate anchor"),
    ("? [1]\n: 2\n", 1, "unhashable key"),
])
def test_broken_yaml_is_a_schema_error(tmp_path: Path, text: str, line: int,
                                       words: str) -> None:
    expect_error(tmp_path, text, line, "", words)


def test_rule_files_use_the_same_loader(tmp_path: Path) -> None:
    from satisfaction.strategy import load_rules

    path = tmp_path / "rules.yaml"
    path.write_text("version: 1\nrules: []\nversion: 2\n", encoding="utf-8")
    with pytest.raises(SchemaError, match=r"line 3.*appears twice.*line 1 and line 3"):
        load_rules(path)
    path.write_text("rules: []\n" + alias_bomb(), encoding="utf-8")
    with pytest.raises(SchemaError, match=r"rules.yaml, line 6: the aliases"):
        load_rules(path)
    path.write_bytes("rules: []\n# \xe9\n".encode("latin-1"))
    with pytest.raises(SchemaError, match="not UTF-8"):
        load_rules(path)
