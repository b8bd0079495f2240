"""Property-based fuzzing of the questionnaire and response loaders (issue 15, point 9).

Whatever arrives, a loader returns a result or raises one of our error types
(:class:`InputError` and its subclasses :class:`SchemaError`, :class:`UsageError`),
never another exception; and the responses' counts add up (loaded = analysed + Σ
excluded, loaded = the records written), every row number is the line the record
starts on in the file (blank lines counted), and no message shows a missing value
as ``nan``.

The suite is deterministic (``derandomize=True``) and sized to run in about 20 s
per loader. For a long run set ``SATISFACTION_FUZZ_EXAMPLES``, e.g.::

    SATISFACTION_FUZZ_EXAMPLES=2000 .venv/bin/python -m pytest -q -p no:cacheprovider \\
        tests/test_fuzz_loaders.py
"""

from __future__ import annotations

import copy
import csv
import io
import math
import os
import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from satisfaction.errors import InputError
from satisfaction.questionnaire import Questionnaire, SchemaWarning, load_questionnaire
from satisfaction.responses import load_responses

EXAMPLES = int(os.environ.get("SATISFACTION_FUZZ_EXAMPLES", "0"))


def fuzz_settings(default: int) -> settings:
    """``default`` examples (or ``$SATISFACTION_FUZZ_EXAMPLES``), deterministic, no deadline."""
    return settings(max_examples=EXAMPLES or default, deadline=None, derandomize=True,
                    database=None, suppress_health_check=[HealthCheck.too_slow,
                                                          HealthCheck.filter_too_much,
                                                          HealthCheck.data_too_large])


@pytest.fixture(autouse=True)
def _quiet_schema_warnings():  # type: ignore[no-untyped-def]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SchemaWarning)
        yield


# -- the questionnaire loader -----------------------------------------------------

VALID = """\
id: fuzz
title: {en: Fuzz, zh: 模糊}
respondent_id: rid
scales:
  s5: &five {min: 1, max: 5, labels: {en: [a, b, c, d, e]}}
  s7:
    <<: *five
    max: 7
    labels: {en: [a, b, c, d, e, f, g]}
constructs:
  - id: A
    name: A
    stage: pre_sale
    items:
      - {id: a1, text: x, scale: s5}
      - {id: a2, text: x, scale: s5, reverse: true}
      - {id: a3, text: x, scale: s7, column: Q3}
  - id: B
    name: {en: B, zh: 乙}
    items:
      - {id: b1, text: x, scale: s5}
      - {id: b2, text: x, scale: s5}
      - {id: b3, text: x, scale: s5}
  - id: H
    name: H
    description: higher
checks:
  - {id: attn, text: "answer 4", scale: s5, expect: 4}
observed:
  - {id: comp, text: complaints, scale: s5}
groups:
  - {id: gender, type: categorical, codes: {1: m, 2: f}}
  - {id: age, type: numeric, min: 16, max: 99, bands: [30, 50]}
paths:
  - B ~ a*A + comp
screening: {max_missing: 0.5, min_respondents: 3, invalid_cells: missing}
fit_criteria: {cfi: 0.9}
domain: retail
"""
VALID = VALID.replace("  - id: A\n    name: A\n", "  - id: A\n    name: A\n    parent: H\n")
VALID = VALID.replace("  - id: B\n    name: {en: B, zh: 乙}\n",
                      "  - id: B\n    name: {en: B, zh: 乙}\n    parent: H\n")


def test_valid_fixture_loads(tmp_path: Path) -> None:
    path = tmp_path / "q.yaml"
    path.write_text(VALID, encoding="utf-8")
    q = load_questionnaire(path)
    assert [c.id for c in q.constructs] == ["A", "B", "H"]
    assert q.scales["s7"].max == 7 and q.scales["s7"].min == 1


KEYS = ["id", "title", "scales", "constructs", "items", "min", "max", "labels", "name",
        "text", "scale", "reverse", "column", "paths", "groups", "checks", "expect",
        "screening", "parent", "stage", "codes", "domain", "type", "bands", "integer", "en",
        "zh", "fit_criteria", "observed", "respondent_id", "max_missing", "<<", "? x", "a1"]
SCALARS = ["1", "0", "-1", "5", "1e309", "-.inf", ".inf", ".nan", ".NaN", "~", "null",
           "true", "no", "2024-13-45", "2024-01-01", "0x1F", "0o17", "1_000", "'q'", '"\\u0000"',
           '"\\x85"', "!!binary xx", "!!binary '%%'", "!!python/object:os.system ls",
           "!!float x", "!!int 1.5", "!!str", "!!set {a}", "!!omap [a: 1]", "*a", "*b",
           "&a x", "&b [1, *a]", "&a {x: *a}", "[", "]", "{", "}", "[1, 2]", "{a: 1}",
           "{a: 1, a: 2}", "|", ">-", "'", '"', "%YAML 1.1", "---", "...", "\t", "# c",
           "a: b: c", "B ~ A", "A =~ a1", "pre_sale", "s5", "retail", "\u00e9", "中",
           "\ufeff", "\x85", "\u2028", "[[[[[[", "- - - -"]

line = st.tuples(
    st.sampled_from(["", "  ", "    ", "      ", "- ", "  - ", "    - ", "\t"]),
    st.one_of(st.sampled_from(KEYS), st.text(max_size=6)),
    st.sampled_from([": ", ":", " ", ": &a ", ": *a ", ": !!map ", ":\n  - "]),
    st.one_of(st.sampled_from(SCALARS), st.text(max_size=8)),
).map("".join)


def check_questionnaire(path: Path) -> None:
    """A Questionnaire or a SchemaError/InputError naming the file; nothing else."""
    try:
        q = load_questionnaire(path)
    except InputError as exc:
        text = str(exc)
        assert text and "Traceback" not in text
        assert exc.file == str(path), text
        return
    assert isinstance(q, Questionnaire)
    for scale in q.scales.values():
        assert math.isfinite(scale.min) and math.isfinite(scale.max) and scale.min < scale.max
    q.to_lavaan()
    q.to_dict()


@fuzz_settings(600)
@given(st.lists(line, max_size=25))
def test_random_yaml_text(tmp_path_factory, lines: list[str]) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path_factory.mktemp("q") / "q.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8", errors="surrogatepass")
    check_questionnaire(path)


@fuzz_settings(500)
@given(st.lists(st.tuples(st.sampled_from(["delete", "duplicate", "insert", "char",
                                           "indent"]),
                          st.integers(0, 10_000), line), max_size=6))
def test_mutated_questionnaire(tmp_path_factory, edits: list[tuple[str, int, str]],  # type: ignore[no-untyped-def]
                               ) -> None:
    lines = VALID.splitlines()
    for op, where, new in edits:
        i = where % max(len(lines), 1)
        if op == "delete" and lines:
            del lines[i]
        elif op == "duplicate" and lines:
            lines.insert(i, lines[i])
        elif op == "insert":
            lines.insert(i, new)
        elif op == "indent" and lines:
            lines[i] = "  " + lines[i]
        elif op == "char" and lines and lines[i]:
            j = where % len(lines[i])
            lines[i] = lines[i][:j] + (new[:1] or "#") + lines[i][j + 1:]
    path = tmp_path_factory.mktemp("q") / "q.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8", errors="surrogatepass")
    check_questionnaire(path)


values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20),
              st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=8),
              st.sampled_from(["s5", "A", "B", "a1", "H", "pre_sale", "B ~ A", "numeric"])),
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=5)),
                                            inner, max_size=4)),
    max_leaves=12)


def _replace(tree: Any, draw: Any) -> Any:
    """Walk a random path into ``tree`` and replace what is there with a random value."""
    if isinstance(tree, dict) and tree and draw(st.booleans()):
        key = draw(st.sampled_from(sorted(tree, key=str)))
        if draw(st.integers(0, 5)) == 0:
            del tree[key]
            return tree
        tree[key] = _replace(tree[key], draw)
        return tree
    if isinstance(tree, list) and tree and draw(st.booleans()):
        i = draw(st.integers(0, len(tree) - 1))
        tree[i] = _replace(tree[i], draw)
        return tree
    return draw(values)


BASE_DICT = yaml.safe_load(VALID)


@fuzz_settings(400)
@given(st.data())
def test_structurally_random_dicts(tmp_path_factory, data: st.DataObject) -> None:  # type: ignore[no-untyped-def]
    tree = copy.deepcopy(BASE_DICT)
    for _ in range(data.draw(st.integers(1, 4))):
        tree = _replace(tree, data.draw)
    try:
        q = Questionnaire.from_dict(tree) if isinstance(tree, dict) else None
    except InputError as exc:
        assert str(exc)
    else:
        if q is not None:
            for scale in q.scales.values():
                assert math.isfinite(scale.min) and math.isfinite(scale.max)
    # the same document through the file loader (NaN and inf written as .nan, .inf)
    path = tmp_path_factory.mktemp("q") / "q.yaml"
    try:
        text = yaml.safe_dump(tree, allow_unicode=True)
    except yaml.YAMLError:  # pragma: no cover - plain data always dumps
        return
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    check_questionnaire(path)


# -- the response loader ----------------------------------------------------------

SPEC = {
    "id": "fuzz", "title": "Fuzz", "respondent_id": "rid",
    "scales": {"s5": {"min": 1, "max": 5}},
    "constructs": [{"id": "A", "name": "A",
                    "items": [{"id": f"a{i}", "text": "x", "scale": "s5"} for i in (1, 2, 3)]}],
    "checks": [{"id": "attn", "text": "4", "scale": "s5", "expect": 4}],
    "groups": [{"id": "g", "type": "categorical", "codes": {1: "one", 2: "two"}},
               {"id": "age", "type": "numeric", "min": 16, "max": 99}],
    "screening": {"min_items_straightlining": 3, "min_respondents": 1},
}
Q = Questionnaire.from_dict(SPEC)
HEADER = ["rid", "a1", "a2", "a3", "attn", "g", "age"]
NAN_WORD = re.compile(r"(?<![A-Za-z])nan(?![A-Za-z])", re.IGNORECASE)

cell = st.one_of(
    st.integers(-3, 9).map(str),
    st.sampled_from(["", "NA", " 3 ", "4,0", "2.5", "abc", "５", "1e400", "nan", "NaN", "-",
                     "inf", '"', "\u00e9", "中文", "3;4", "\t", "=1+1", "1\n2", "  ", "#N/A",
                     "None", "True", "0x3", "١"]),
    st.text(max_size=6).filter(lambda t: "\r" not in t and "\x00" not in t),
)
blank = st.sampled_from(["", "   ", "\t"])


def _shown(value: Any) -> str:
    return "" if value is None else str(value)


def check_responses(path: Path, expected_lines: dict[str, int] | None = None,
                    n_records: int | None = None) -> None:
    """Result or InputError; counts add up; rows are file lines; no 'nan' for a missing value."""
    try:
        r = load_responses(Q, path)
    except InputError as exc:
        text = str(exc)
        assert text and "Traceback" not in text
        assert exc.file == str(path), text
        return
    log = r.log
    assert log.loaded == log.analysed + sum(log.excluded.values())
    assert len(r.data) == log.analysed == len(r.rows)
    assert len(log.excluded_respondents) == sum(log.excluded.values())
    if n_records is not None:
        assert log.loaded == n_records
    items = r.data[["a1", "a2", "a3"]].to_numpy(dtype=float)
    finite = items[~np.isnan(items)]
    assert ((finite >= 1) & (finite <= 5)).all()
    for p in log.problems.itertuples(index=False):
        assert not NAN_WORD.search(p.message), p.message
        assert p.value is None or not (isinstance(p.value, float) and math.isnan(p.value))
        if expected_lines is not None and p.respondent is not None:
            assert p.row == expected_lines[p.respondent], (p, expected_lines)
    for d in log.warnings:
        assert not NAN_WORD.search(str(d)), str(d)
    if expected_lines is not None:
        for rid, row in r.rows.items():
            assert row == expected_lines[rid]
        for e in log.excluded_respondents.itertuples(index=False):
            if e.respondent is not None:
                assert e.row == expected_lines[e.respondent]


@fuzz_settings(400)
@given(
    records=st.lists(st.lists(cell, min_size=0, max_size=6), max_size=12),
    blanks=st.lists(st.tuples(st.integers(0, 12), blank), max_size=5),
    sep=st.sampled_from([",", ";", "\t", "|"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16", "utf-16-le",
                              "utf-16-be", "utf-32"]),
    missing_id=st.integers(-1, 12),
)
def test_csv_records_blank_lines_and_encodings(tmp_path_factory, records: list[list[str]],  # type: ignore[no-untyped-def]
                                               blanks: list[tuple[int, str]], sep: str,
                                               encoding: str, missing_id: int) -> None:
    def encode(row: list[str]) -> str:
        out = io.StringIO()
        csv.writer(out, delimiter=sep, lineterminator="\n").writerow(row)
        return out.getvalue()

    chunks = [encode(HEADER)]
    line_no = 2  # the line the next chunk starts on
    expected: dict[str, int] = {}
    n_records = 0
    for k, record in enumerate(records):
        for where, text in blanks:
            if where == k:
                chunks.append(text + "\n")
                line_no += 1
        rid = "" if k == missing_id else f"r{k}"
        chunk = encode([rid, *record])
        chunks.append(chunk)
        if any(c.strip() for c in [rid, *record]):  # a line of empty cells is a blank line
            n_records += 1
            if rid:
                expected[rid] = line_no
        line_no += chunk.count("\n")
    raw = "".join(chunks).encode(encoding, errors="replace")
    path = tmp_path_factory.mktemp("r") / "r.csv"
    path.write_bytes(raw)
    # every record this writer wrote is a respondent (an id-less one too)
    check_responses(path, expected_lines=expected, n_records=n_records)


@fuzz_settings(500)
@given(st.binary(max_size=1500), st.sampled_from([b"", b"\xef\xbb\xbf", b"\xff\xfe",
                                                   b"\xfe\xff", b"\xff\xfe\x00\x00"]))
def test_random_bytes_with_and_without_bom(tmp_path_factory, data: bytes,  # type: ignore[no-untyped-def]
                                           bom: bytes) -> None:
    path = tmp_path_factory.mktemp("r") / "r.csv"
    path.write_bytes(bom + b"rid,a1,a2,a3,attn\n" + data)
    check_responses(path)


@fuzz_settings(120)
@given(
    rows=st.lists(st.lists(st.one_of(st.none(), st.integers(-2, 8), st.floats(allow_nan=True),
                                     # control characters cannot be stored in a workbook
                                     st.text(st.characters(blacklist_categories=("Cc", "Cs")),
                                             max_size=4),
                                     st.sampled_from(["=1+1", "=A1"])),
                           min_size=6, max_size=6), max_size=8),
    merge=st.lists(st.tuples(st.integers(2, 9), st.integers(1, 7), st.integers(0, 2)),
                   max_size=2),
    blank_rows=st.lists(st.integers(2, 10), max_size=2),
)
def test_xlsx_cells_formulas_merges(tmp_path_factory, rows: list[list[Any]],  # type: ignore[no-untyped-def]
                                    merge: list[tuple[int, int, int]],
                                    blank_rows: list[int]) -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEADER)
    expected: dict[str, int] = {}
    excel_row = 1
    for k, row in enumerate(rows):
        while excel_row + 1 in blank_rows:
            excel_row += 1  # leave a blank row
        excel_row += 1
        rid = f"r{k}"
        cells = [rid, *(None if isinstance(v, float) and not math.isfinite(v) else v
                        for v in row)]
        for col, value in enumerate(cells, start=1):
            ws.cell(row=excel_row, column=col, value=value)
        expected[rid] = excel_row
    merged = False
    for r0, c0, extra in merge:
        if r0 <= excel_row and extra and c0 > 1:  # never merge over the id column
            ws.merge_cells(start_row=r0, start_column=c0, end_row=min(r0 + extra, excel_row),
                           end_column=c0)
            merged = merged or min(r0 + extra, excel_row) > r0
    path = tmp_path_factory.mktemp("r") / "r.xlsx"
    wb.save(path)
    check_responses(path, expected_lines=expected, n_records=len(rows))
    try:
        log = load_responses(Q, path).log
    except InputError:
        return
    codes = {d.code for d in log.warnings}
    has_formula = any(c.data_type == "f" for line in ws.iter_rows() for c in line)
    assert ("excel_formula_no_value" in codes) == has_formula
    assert ("excel_merged_cells" in codes) == merged
