"""The Excel workbook a client can hand on (satisfaction/report/workbook.py).

Read back with openpyxl from the bank survey's report in English and Chinese
(20 bootstrap draws, so paths, effects and importance have intervals):

* every interval column is filled wherever its estimate is, lower ≤ upper, and
  its numbers are the analysis' own (full precision, not the page's rounding);
* the Chinese workbook has Chinese sheet names and no internal code
  (``concentrate_here``, ``invalidates``, ``weak``) or English sentence;
* numbers are numbers with the page's format (decimals, percent), never a
  16-digit General float; every sheet has a frozen bold header, an autofilter
  and fitted widths;
* a summary sheet (the headline indices with their intervals) and a
  recommendations sheet (as the report ranks them) come first.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from openpyxl import load_workbook

from satisfaction.pipeline import run
from satisfaction.report.context import Cell, build_context
from satisfaction.report.messages import load_messages
from satisfaction.report.render import write_report
from satisfaction.report.workbook import (
    P_FORMAT,
    interval,
    number_format,
    recommendations_table,
    sheet_names,
    summary_table,
    workbook_tables,
)

from .conftest import QUESTIONNAIRES

#: Internal codes that must never reach a reader of the workbook.
CODES = re.compile(r"^[a-z]+(_[a-z0-9]+)+$|^(invalidates|caution|info|weak|ok|"
                   r"first_order|higher_order)$")
ENGLISH = re.compile(r"\b(the|and|of|is|are|not|with|from|below|above|respondents?)\b")


@pytest.fixture(scope="module")
def books(bank_csv: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    folder = tmp_path_factory.mktemp("excel")
    analysis = run(QUESTIONNAIRES / "ecsi_bank.yaml", bank_csv, bootstrap=20, seed=3)
    out: dict = {"analysis": analysis}
    for lang in ("en", "zh"):
        files = write_report(analysis, None, lang=lang, excel=folder / f"bank_{lang}.xlsx")
        out[lang] = load_workbook(files.excel)
        context = build_context(analysis, lang)
        out[f"{lang}_context"] = context
        m = context["t"]
        front = [summary_table(analysis, context, m), recommendations_table(context, m)]
        named, _ = sheet_names(front, workbook_tables(context["tables"]), m)
        out[f"{lang}_sheets"] = {t.key: name for t, name in named}
    return out


def _model_keys(analysis) -> tuple[str, str]:
    """The tables of the structural model: CB-SEM's, or PLS's when the pipeline
    fell back to PLS (the bank's CB-SEM solution is inadmissible)."""
    return ("pls_paths", "pls_effects") if analysis.pls is not None else ("paths", "effects")


def _rows(sheet) -> list[list]:
    return [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]


def _interval_pairs(sheet, lang: str) -> list[tuple[int, int]]:
    m = load_messages(lang)
    lower, upper = m.text("workbook.lower"), m.text("workbook.upper")
    head = [c.value or "" for c in sheet[1]]
    return [(j, j + 1) for j in range(len(head) - 1)
            if head[j].endswith(" " + lower) and head[j + 1].endswith(" " + upper)
            and head[j][: -len(lower)] == head[j + 1][: -len(upper)]]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_interval_is_filled_where_its_estimate_is(books: dict, lang: str) -> None:
    book = books[lang]
    seen = set()
    for sheet in book.worksheets:
        for lo, hi in _interval_pairs(sheet, lang):
            seen.add(sheet.title)
            for row in _rows(sheet):
                estimate, a, b = row[lo - 1], row[lo], row[hi]
                assert (a is None) == (b is None), (sheet.title, row)
                if isinstance(estimate, int | float) and sheet.title != \
                        load_messages(lang).text("workbook.summary"):
                    assert isinstance(a, int | float) and isinstance(b, int | float), \
                        (sheet.title, row)
                if a is not None:
                    assert a <= b, (sheet.title, row)
    sheets = books[f"{lang}_sheets"]
    for key in (*_model_keys(books["analysis"]), "indices", "stage_indices", "ipa"):
        assert sheets[key] in seen, key


def test_intervals_are_the_analysis_numbers(books: dict) -> None:
    analysis, book = books["analysis"], books["en"]
    sheets = books["en_sheets"]
    if analysis.pls is not None:
        effects = analysis.pls.effects.reset_index(drop=True)
        rows = _rows(book[sheets["pls_effects"]])
        assert len(rows) == len(effects)
        for row, (_, r) in zip(rows, effects.iterrows(), strict=True):
            assert row[8:11] == pytest.approx([r["total"], r["total.ci.lower"],
                                               r["total.ci.upper"]], abs=1e-12)
    else:
        params = analysis.sem.parameters
        reg = params[params["op"] == "~"].reset_index(drop=True)
        rows = _rows(book[sheets["paths"]])
        assert len(rows) == len(reg)
        for row, (_, r) in zip(rows, reg.iterrows(), strict=True):
            assert row[3:6] == pytest.approx([r["std.all"], r["std.ci.lower"],
                                              r["std.ci.upper"]], abs=1e-12)
    cons = analysis.indices.constructs.reset_index(drop=True)
    for row, (_, r) in zip(_rows(book[sheets["indices"]]), cons.iterrows(), strict=True):
        assert row[2:5] == pytest.approx([r["index"], r["ci.lower"], r["ci.upper"]], abs=1e-12)
    ipa = analysis.ipa.constructs.sort_values("importance", ascending=False)
    got = {row[0]: row[2:5] for row in _rows(book[sheets["ipa"]])}
    for _, r in ipa.iterrows():
        name = analysis.questionnaire.construct(r["construct"]).name.en
        assert got[name] == pytest.approx([r["importance"], r["importance.ci.lower"],
                                           r["importance.ci.upper"]], abs=1e-12)
    summary = {row[0]: row for row in _rows(book[load_messages("en").text("workbook.summary")])}
    sat = cons[cons["construct"] == analysis.satisfaction].iloc[0]
    label = load_messages("en").text("workbook.index", name="Satisfaction")
    assert summary[label][1:4] == pytest.approx([sat["index"], sat["ci.lower"], sat["ci.upper"]])


def test_chinese_workbook_is_chinese(books: dict) -> None:
    book, analysis = books["zh"], books["analysis"]
    m = load_messages("zh")
    names = set(books["zh_sheets"].values()) | {m.text("workbook.contents")}
    assert not [n for n in names if re.search(r"[A-Za-z]{4,}", n) and "HTMT" not in n
                and "RFM" not in n and "IPA" not in n and "NPS" not in n], names
    for sheet in book.worksheets:
        assert sheet.title in names, sheet.title
    english = {w.message for w in analysis.warnings}
    codes, sentences = [], []
    for sheet in book.worksheets:
        if sheet.title == m.workbook.sheets.software:  # package names and versions
            continue
        for row in sheet.iter_rows():
            for c in row:
                if not isinstance(c.value, str):
                    continue
                if CODES.match(c.value):
                    codes.append((sheet.title, c.coordinate, c.value))
                if c.value in english or ENGLISH.search(c.value):
                    sentences.append((sheet.title, c.coordinate, c.value))
    assert not codes
    assert not sentences
    quadrants = {row[-1] for row in _rows(book[books["zh_sheets"]["ipa"]])}
    assert quadrants <= set(m.quadrants.values())


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_numbers_are_formatted_and_sheets_are_usable(books: dict, lang: str) -> None:
    software = load_messages(lang).workbook.sheets.software  # versions are text there
    for sheet in books[lang].worksheets:
        assert sheet.freeze_panes == "A2", sheet.title
        assert sheet["A1"].font.b, sheet.title
        assert sheet.auto_filter.ref == f"A1:{sheet.cell(1, sheet.max_column).column_letter}" \
                                        f"{sheet.max_row}", sheet.title
        for col in range(1, sheet.max_column + 1):
            width = sheet.column_dimensions[sheet.cell(1, col).column_letter].width
            assert 6 <= width <= 60, (sheet.title, col, width)
        for row in sheet.iter_rows(min_row=2):
            for c in row:
                if isinstance(c.value, float) and not float(c.value).is_integer():
                    assert c.number_format != "General", (sheet.title, c.coordinate)
                assert sheet.title == software or not (
                    isinstance(c.value, str) and re.fullmatch(r"-?\d+\.\d+", c.value)), \
                    (sheet.title, c.coordinate, c.value)
    sheets = books[f"{lang}_sheets"]
    profile = books[lang][sheets["profile"]]
    shares = [row[3] for row in profile.iter_rows(min_row=2)]
    assert all(c.number_format == "0.0%" for c in shares)
    assert sum(c.value for c in shares) == pytest.approx(1.0)
    if books["analysis"].pls is None:
        paths = books[lang][sheets["paths"]]
        assert {row[-1].number_format for row in paths.iter_rows(min_row=2)} <= {P_FORMAT,
                                                                                 "0.000"}


def test_summary_and_recommendations_sheets_come_first(books: dict) -> None:
    for lang in ("en", "zh"):
        m, book = load_messages(lang), books[lang]
        assert book.sheetnames[:3] == [m.text("workbook.summary"),
                                       m.text("workbook.recommendations"),
                                       m.text("workbook.contents")]
        cards = books[f"{lang}_context"]["recommendations"]
        rows = _rows(book[m.text("workbook.recommendations")])
        assert [r[0] for r in rows] == [c["rank"] for c in cards] == list(
            range(1, len(cards) + 1))
        assert [r[1] for r in rows] == [c["title"] for c in cards]
        assert [r[5] for r in rows] == pytest.approx([c["priority_value"] for c in cards])
        contents = _rows(book[m.text("workbook.contents")])
        assert [r[0] for r in contents] == [n for n in book.sheetnames
                                            if n != m.text("workbook.contents")]
    # the page's excerpt of the group tests is not repeated beside the full table
    titles = [r[1] for r in _rows(books["en"][load_messages("en").text("workbook.contents")])]
    assert len(titles) == len(set(titles))


def test_number_formats_follow_the_page() -> None:
    assert number_format("12.3%", 0.1234) == "0.0%"
    assert number_format("1,234.50", 1234.5) == "#,##0.00"
    assert number_format("0.512***", 0.5121) == "0.000"
    assert number_format("< 0.001", 1e-9) == P_FORMAT
    assert number_format("64.5", 64.48) == "0.0"
    assert number_format("300", 300) == "0"
    assert interval(Cell("[0.12, 0.34]", None)) == ((0.12, 0.34), "0.00")
    assert interval(Cell("[12.5%, 20.0%]", None)) == ((0.125, 0.2), "0.0%")
    assert interval(Cell("[-0.085, 0.274]", (-0.0851, 0.2744))) == ((-0.0851, 0.2744), "0.000")
    assert interval(Cell("0.5", 0.5)) is None
