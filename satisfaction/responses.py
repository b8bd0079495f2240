"""Loading, validating and cleaning survey responses.

One policy for every file:

* **Structural problems stop the run** with an :class:`~satisfaction.errors.InputError`
  naming the file (and row/column/value where there is one): an unreadable
  file, a missing item column, no respondent-id column, duplicate respondent ids.
* **Cell-level problems set that one answer to missing.** An item answer that
  is not a number (``not_a_number``: "n.a.", text) or lies outside its scale
  (``out_of_range``, or not a whole number on an integer scale) becomes an
  empty answer: the problem is listed (``excluded`` false) and counted in
  ``QualityLog.cells_set_missing``, and the respondent stays. With
  ``screening.invalid_cells: exclude`` in the questionnaire such a cell
  excludes the respondent instead (the strict rule).
* **Respondent-level problems exclude that respondent** under a named reason,
  and every problem is listed with its row number (as in the file), respondent
  id, column, value, rule and the rule's parameters. The reasons, in order of
  precedence (a respondent with several problems is counted once, under the
  first):

  ``missing_id``         the respondent-id cell is empty
  ``not_a_number``       (only with ``invalid_cells: exclude``) an item answer
                         that is not a number
  ``out_of_range``       (only with ``invalid_cells: exclude``) an item answer
                         outside its scale
  ``all_items_empty``    no item answered (after invalid answers were set
                         to missing)
  ``too_much_missing``   more than ``screening.max_missing`` of the items empty
  ``failed_attention_check``  an attention-check item not answered as expected
  ``straight_lining``    the same answer to every item of the questionnaire
                         (raw answers, before reverse-coding; only checked
                         when at least ``screening.min_items_straightlining``
                         items are answered)

* Reverse-worded items are recoded as ``min + max − x`` after validation.

The data-quality log counts loaded = analysed + Σ excluded, the cells set to
missing by reason, and the share of missing answers per item among the
analysed respondents. Each problem's sentence is rendered from the message
catalogs (``problems.<rule>``) by :func:`problem_text`.

Example
-------
>>> from satisfaction.questionnaire import load_questionnaire
>>> from satisfaction.responses import load_responses
>>> q = load_questionnaire("ecsi_bank")
>>> r = load_responses(q, "../shared/data/bank_satisfaction.csv")
>>> r.log.loaded, r.log.analysed
(250, 250)
"""

from __future__ import annotations

import codecs
import csv
import io
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from satisfaction.diagnostics import Diagnostic, shown_value
from satisfaction.errors import InputError, UsageError
from satisfaction.io import to_jsonable
from satisfaction.questionnaire import Item, Questionnaire, Scale

#: Exclusion reasons, in order of precedence.
REASONS: tuple[str, ...] = (
    "missing_id",
    "not_a_number",
    "out_of_range",
    "all_items_empty",
    "too_much_missing",
    "failed_attention_check",
    "straight_lining",
)

#: Cell texts read as "no answer".
MISSING_TEXTS: frozenset[str] = frozenset(
    {"", "na", "n/a", "nan", "null", "none", ".", "-", "#n/a", "missing"}
)

#: Problems recorded without excluding the respondent.
NOTES: tuple[str, ...] = ("unknown_group_code", "group_out_of_range", "group_not_a_number")

#: Cell-level rules: under ``screening.invalid_cells: missing`` the cell is set to
#: missing and the respondent kept.
CELL_RULES: tuple[str, ...] = ("not_a_number", "out_of_range")

#: Columns of :attr:`QualityLog.problems`.
PROBLEM_COLUMNS: list[str] = ["row", "respondent", "column", "value", "rule", "message",
                              "excluded", "params"]

_ENCODINGS: tuple[str, ...] = ("utf-8-sig", "gb18030")
_DELIMITERS = ",;\t|"


@dataclass
class QualityLog:
    """The data-quality log of one responses file.

    Attributes
    ----------
    source : str
        The file (or ``"<DataFrame>"``).
    loaded : int
        Respondents (data rows) read.
    excluded : dict[str, int]
        Respondents excluded, by reason (every reason of :data:`REASONS`).
    analysed : int
        Respondents kept; ``loaded == analysed + sum(excluded.values())``.
    problems : pandas.DataFrame
        One row per problem: row, respondent, column, value, rule, message
        (English), excluded (whether it excluded the respondent), params (the
        rule's parameters, from which :func:`problem_text` words the message
        in either language).
    excluded_respondents : pandas.DataFrame
        One row per excluded respondent: row, respondent, rule.
    warnings : list[Diagnostic]
        Findings that did not exclude anyone (a group column not in the file,
        an item with one answer only, answers set to missing).
    encoding, delimiter : str or None
        What the reader detected, for CSV files.
    cells_set_missing : dict[str, int]
        Item answers set to missing instead of excluding the respondent, by
        rule (``not_a_number``, ``out_of_range``), over all loaded respondents;
        all zero under ``screening.invalid_cells: exclude``.
    item_missing : pandas.DataFrame
        Indexed by item id (every analysed item and observed variable), over
        the analysed respondents: ``missing`` (empty answers, those set to
        missing included), ``set_missing`` (of them, answers set to missing
        by a cell rule), ``marker`` (of them, answers written as a missing-value
        marker such as ``n/a``; the rest were empty cells) and ``share``
        (``missing`` / analysed).
    invalid_cells : str
        The policy applied: ``missing`` or ``exclude``.
    missing_markers : dict[str, int]
        Item answers written as a missing-value marker (``n/a``, ``NA``, ``-``, …,
        :data:`MISSING_TEXTS`) and read as missing, by the marker as written, over all
        loaded respondents; ``item_missing["marker"]`` counts them per item among the
        analysed.
    """

    source: str
    loaded: int
    excluded: dict[str, int]
    analysed: int
    problems: pd.DataFrame
    excluded_respondents: pd.DataFrame
    warnings: list[Diagnostic] = field(default_factory=list)
    encoding: str | None = None
    delimiter: str | None = None
    cells_set_missing: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(CELL_RULES, 0))
    item_missing: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["missing", "set_missing", "marker",
                                                      "share"]))
    invalid_cells: str = "missing"
    missing_markers: dict[str, int] = field(default_factory=dict)

    @property
    def missing_share(self) -> dict[str, float]:
        """Share of missing answers per item among the analysed respondents."""
        return {str(k): float(v) for k, v in self.item_missing["share"].items()}

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        """The ``validate --json`` contract.

        ``{"source", "loaded", "excluded", "analysed", "problems", "warnings",
        "invalid_cells", "cells_set_missing", "missing_share"}``; each problem
        is ``{"row", "respondent", "column", "value", "rule", "message",
        "excluded", "params"}``, each warning a diagnostic record.
        """
        problems = [
            {
                "row": None if pd.isna(p.row) else int(p.row),
                "respondent": None if p.respondent is None else str(p.respondent),
                "column": to_jsonable(p.column),
                "value": to_jsonable(p.value),
                "rule": p.rule,
                "message": p.message if lang == "en" else problem_text(p, lang),
                "excluded": bool(p.excluded),
                "params": {k: to_jsonable(v) for k, v in (p.params or {}).items()},
            }
            for p in self.problems.itertuples(index=False)
        ]
        return {
            "source": self.source,
            "loaded": self.loaded,
            "excluded": dict(self.excluded),
            "analysed": self.analysed,
            "problems": problems,
            "warnings": [d.to_dict(lang) for d in self.warnings],
            "invalid_cells": self.invalid_cells,
            "cells_set_missing": dict(self.cells_set_missing),
            "missing_markers": dict(self.missing_markers),
            "missing_share": self.missing_share,
        }


def _problem_key(rule: str, params: dict[str, Any]) -> str:
    """The catalog key of a problem: ``problems.<rule>`` (``_unbounded`` when a group
    range has no bounds)."""
    if rule == "group_out_of_range" and params.get("min") is None:
        return "problems.group_out_of_range_unbounded"
    if rule == "not_a_number" and "label_code" in params:
        return "problems.not_a_number_code_label"
    if rule == "not_a_number" and "first_label" in params:
        return "problems.not_a_number_labels"
    return f"problems.{rule}"


def problem_text(problem: Any, lang: str = "en") -> str:
    """The sentence of one data-quality problem in ``lang``, from the message catalogs.

    Parameters
    ----------
    problem : row of ``QualityLog.problems`` (a named tuple from ``itertuples``,
        a ``pandas.Series``) or a record of ``QualityLog.to_dict()["problems"]``
        Needs ``rule`` and ``params`` (and ``message``, shown as written when the
        catalog has no entry for the rule).
    lang : {"en", "zh"}

    Returns
    -------
    str
        ``problems.<rule>`` filled with the parameters (numbers with three
        decimals unless whole; ``kind`` worded by ``problems.words``). The
        English text is the sentence the log itself holds in ``message``.

    Examples
    --------
    >>> problem_text({"rule": "out_of_range",
    ...               "params": {"kind": "integer", "min": 1, "max": 5}}, "zh")
    '应为 1 至 5 的整数'
    """
    from satisfaction.report.messages import load_messages

    get = problem.get if isinstance(problem, dict | pd.Series) else (
        lambda key, default=None: getattr(problem, key, default))
    rule = str(get("rule"))
    params = dict(get("params") or {})
    m = load_messages(lang)
    key = _problem_key(rule, params)
    if not m.has(key):
        message = get("message")
        return "" if message is None else str(message)
    values = {k: shown_value(v) for k, v in params.items()}
    if "kind" in values and m.has(f"problems.words.{params['kind']}"):
        values["kind"] = m.text(f"problems.words.{params['kind']}")
    return m.text(key, **values)


@dataclass
class Responses:
    """Clean responses and their data-quality log.

    Attributes
    ----------
    data : pandas.DataFrame
        Analysed respondents, indexed by respondent id (index name = the
        questionnaire's ``respondent_id``). Columns: every construct item and
        observed variable by its id (float, reverse-worded items recoded, empty
        answers NaN), then each group variable by its id, then the customer id
        column when the questionnaire names one and the file has it.
    log : QualityLog
        Loaded, excluded by reason, analysed, and every problem.
    rows : pandas.Series
        File row number of every analysed respondent (same index as ``data``).
    questionnaire : Questionnaire
    value_labels : dict[str, dict]
        Value labels read from an SPSS file, by column id.
    texts : pandas.DataFrame
        Answers to the open-ended questions (``open_ended:``), one column per
        question id, same index as ``data``: the text as written (stripped; markup
        is kept as plain characters and never interpreted), ``None`` when empty.
    """

    data: pd.DataFrame
    log: QualityLog
    rows: pd.Series
    questionnaire: Questionnaire
    value_labels: dict[str, dict[Any, str]] = field(default_factory=dict)
    texts: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def items(self) -> pd.DataFrame:
        """The item columns only (construct items, in questionnaire order)."""
        return self.data[[i.id for i in self.questionnaire.items]]

    @property
    def usable(self) -> bool:
        """Whether enough respondents remain to analyse."""
        return self.log.analysed >= self.questionnaire.screening.min_respondents

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        """The ``validate --json`` contract: the screening log (:meth:`QualityLog.to_dict`,
        every exclusion counted under its reason) and whether enough respondents
        remain (``usable``). The answers themselves are not in it."""
        return {**self.log.to_dict(lang), "usable": self.usable}


# -- reading -----------------------------------------------------------------


def read_table(source: str | Path | pd.DataFrame, *, sheet: str | int | None = None,
               header_row: int | None = None) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Read a responses file into a DataFrame of raw cells.

    CSV files are read as text (every cell a string) so that problems can be
    reported with the value as written; the encoding (UTF-8, UTF-8 with BOM,
    UTF-16/32 with a byte-order mark or UTF-16 without one, GBK/GB18030) and
    the delimiter (``, ; tab |``) are detected. Blank lines (and lines of
    empty cells only, as Excel writes an empty row) are skipped but counted:
    every row keeps the line number it has in the file. XLSX (first
    sheet; blank rows skipped, rows numbered as in Excel), SPSS ``.sav``
    (value labels kept in the returned info) and Parquet files are read with
    their own types. An Excel formula without a saved result and the covered
    cells of a merged range are read as empty and noted (``notes``).

    Parameters
    ----------
    source : path or DataFrame
    sheet : str or int, optional
        Excel only: the sheet to read, by name or by number (1 = the first);
        default the first sheet.
    header_row : int, optional
        Excel only: the row (as Excel numbers it) holding the column names; the
        rows above it are skipped. By default the first non-empty row, unless it
        is a title (one filled cell above a wider row), which is skipped and noted.

    Returns
    -------
    (DataFrame, dict)
        The raw table and information about how it was read: ``source``,
        ``header_rows`` (1 when the first data row is row 2 of the file),
        ``rows`` (file row of every data row, when known), ``header_row``,
        ``encoding``, ``delimiter``, ``value_labels``, ``notes`` (diagnostics
        about how cells were read).
    """
    if isinstance(source, pd.DataFrame):
        return source.copy(), {"source": "<DataFrame>", "header_rows": 0}
    path = Path(source)
    name = str(source)
    if not path.exists():
        raise InputError("file not found", file=name)
    if path.is_dir():
        raise InputError("expected a file, found a folder", file=name)
    suffix = path.suffix.lower()
    excel = suffix in (".xlsx", ".xlsm")
    if sheet is not None and not excel:
        raise UsageError("--sheet applies to Excel workbooks (.xlsx) only", file=name,
                         column="--sheet", value=sheet)
    if header_row is not None and suffix in (".sav", ".parquet", ".pq"):
        raise UsageError("--header-row applies to Excel workbooks and CSV files only",
                         file=name, column="--header-row", value=header_row)
    if header_row is not None and header_row < 1:
        raise UsageError("must be a row number from 1", column="--header-row",
                         value=header_row)
    info: dict[str, Any] = {"source": name, "header_rows": 1, "value_labels": {},
                            "sheet": sheet, "header_row_option": header_row}
    try:
        if excel:
            frame, rows, found, notes = _read_excel(path, sheet, header_row)
            info.update(rows=rows, header_row=found, notes=notes)
        elif suffix == ".sav":
            import pyreadstat

            frame, meta = pyreadstat.read_sav(str(path))
            info["value_labels"] = dict(meta.variable_value_labels)
            info["header_rows"] = 0
        elif suffix in (".parquet", ".pq"):
            frame = pd.read_parquet(path)
            info["header_rows"] = 0
        else:
            frame, encoding, delimiter, rows, found, notes = _read_csv(path, header_row)
            info.update(encoding=encoding, delimiter=delimiter, rows=rows,
                        header_row=found, notes=notes)
    except InputError:
        raise
    except Exception as exc:  # every reader's own failure becomes one clear message
        kind = {".xlsx": "an Excel workbook", ".xlsm": "an Excel workbook",
                ".sav": "an SPSS .sav file", ".parquet": "a Parquet file",
                ".pq": "a Parquet file"}.get(suffix, "a CSV file")
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"cannot read the file as {kind}: {first}", file=name) from None
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame, info


#: Byte-order marks and their codecs (UTF-32 first: its little-endian mark starts
#: with UTF-16's).
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
)


def _utf16_without_bom(sample: bytes) -> str | None:
    """``utf-16-le`` / ``utf-16-be`` when every other byte of mostly-ASCII text is NUL."""
    if len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) >= 0.9 * len(odd) and even.count(0) <= 0.1 * len(even):
        return "utf-16-le"
    if even.count(0) >= 0.9 * len(even) and odd.count(0) <= 0.1 * len(odd):
        return "utf-16-be"
    return None


def _decode(raw: bytes, name: str) -> tuple[str, str]:
    """The text of a CSV file and the encoding it was read in."""
    for bom, codec in _BOMS:
        if raw.startswith(bom):
            try:
                return raw.decode(codec), codec
            except UnicodeDecodeError as exc:
                raise InputError(f"the file starts with a {codec.upper()} byte-order mark but "
                                 f"is not valid {codec.upper()} (byte {exc.start}); save it "
                                 "as UTF-8", file=name) from None
    if b"\x00" in raw[:4096]:
        codec = _utf16_without_bom(raw[:4096])
        if codec is not None:
            try:
                return raw.decode(codec), codec
            except UnicodeDecodeError:
                raise InputError("the file looks like UTF-16 text without a byte-order mark "
                                 "but does not decode as UTF-16; save it as UTF-8 (in Excel: "
                                 "'CSV UTF-8')", file=name) from None
        raise InputError("this is not a text file (it holds NUL bytes); expected a CSV "
                         "(UTF-8, UTF-16 or GBK), XLSX, SAV or Parquet file", file=name,
                         row=raw[:raw.index(b"\x00")].count(b"\n") + 1)
    for encoding in _ENCODINGS:
        try:
            return raw.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    import charset_normalizer

    best = charset_normalizer.from_bytes(raw).best()
    if best is None:
        raise InputError("cannot tell the text encoding; save the file as UTF-8", file=name)
    return str(best), best.encoding


def _read_csv(path: Path, header_at: int | None = None
              ) -> tuple[pd.DataFrame, str, str, list[int], int, list[Diagnostic]]:
    """Cells as text, the encoding, the delimiter, the file line of every data row,
    the line of the header and notes (a title line skipped above the header).

    ``header_at`` (``--header-row``): the line holding the column names; by default
    the first filled line, and a title line above it — a single filled cell above a
    line with more — is skipped and noted, as for Excel."""
    raw = path.read_bytes()
    name = str(path)
    if not raw.strip():
        raise InputError("the file is empty", file=name)
    text, encoding = _decode(raw, name)
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise InputError("this is not a text file (it holds NUL characters); expected a CSV, "
                         "XLSX, SAV or Parquet file", file=name, row=line)
    if not text.strip():
        raise InputError("the file is empty", file=name)
    delimiter = _sniff_delimiter(text)
    header, records, lines, header_row, title = _csv_records(text, delimiter, name,
                                                             header_at)
    frame = pd.DataFrame(records, columns=_header_names(header), dtype=object)
    notes = [] if title is None else [Diagnostic("csv_title_row_skipped", "info",
                                                 {"row": title, "header_row": header_row})]
    return frame, encoding, delimiter, lines, header_row, notes


def _filled(cells: Any) -> int:
    """How many cells of a row hold something."""
    return sum(1 for v in cells if v is not None and not (isinstance(v, str) and not v.strip()))


def _csv_records(text: str, delimiter: str, name: str, header_at: int | None = None,
                 ) -> tuple[list[str], list[list[str]], list[int], int, int | None]:
    """Parse CSV text: the header, the data records, the file line each record starts
    on, the header's line and the line of a title skipped above it (or None). Blank
    lines are skipped (and counted); a short record is padded with empty cells; a long
    one is an error unless its extra cells are empty. ``header_at``: the header's line
    (records above it are skipped)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter,
                        skipinitialspace=True)
    header: list[str] | None = None
    header_row = 1
    title: int | None = None
    records: list[list[str]] = []
    lines: list[int] = []
    end = 0
    try:
        for record in reader:
            start, end = end + 1, reader.line_num
            if not any(cell.strip() for cell in record):
                continue  # a blank line, or one of empty cells only (Excel writes ",,,")
            if header_at is not None and start < header_at:
                continue
            if header is None:
                if header_at is not None and start != header_at:
                    raise UsageError(f"line {header_at} is empty; the first filled line "
                                     f"below it is {start}", file=name,
                                     column="--header-row", value=header_at)
                header, header_row = record, start
                continue
            if (header_at is None and title is None and not records
                    and _filled(header) == 1 and _filled(record) > 1):
                title, header, header_row = header_row, record, start  # a title line
                continue
            width = len(header)
            if len(record) > width:
                if any(cell.strip() for cell in record[width:]):
                    # among the first lines the header may lie lower (a title block)
                    early = header_at is None and len(records) < HEADER_SEARCH_ROWS
                    raise InputError(f"{len(record)} cells where the header (line "
                                     f"{header_row}) has {width}; is a delimiter inside an "
                                     "unquoted cell?", file=name, row=start,
                                     hint=(f"if line {start} holds the column names, use "
                                           f"--header-row {start}") if early else None)
                record = record[:width]
            elif len(record) < width:
                record = record + [""] * (width - len(record))
            records.append(record)
            lines.append(start)
    except csv.Error as exc:
        raise InputError(f"cannot read the file as a CSV file: {exc}", file=name,
                         row=reader.line_num) from None
    if header is None:
        if header_at is not None:
            raise UsageError(f"the file has no filled line at or below line {header_at}",
                             file=name, column="--header-row", value=header_at)
        raise InputError("the file is empty", file=name)
    return header, records, lines, header_row, title


def _header_names(header: list[str]) -> list[str]:
    """Column names: stripped; an empty name is ``Unnamed: i`` (as pandas names it)."""
    return [cell.strip() or f"Unnamed: {i}" for i, cell in enumerate(header)]


def _cell_names(cells: list[str], limit: int = 10) -> list[str]:
    return cells[:limit] + ([f"... ({len(cells) - limit} more)"] if len(cells) > limit else [])


def _worksheet_index(workbook: Any, sheet: str | int | None, path: Path) -> int:
    """The position of the requested sheet (by name, or by number from 1)."""
    names = list(workbook.sheetnames)
    if sheet is None:
        return 0
    text = str(sheet).strip()
    if text in names:
        return names.index(text)
    if text.isdigit() and 1 <= int(text) <= len(names):
        return int(text) - 1
    raise UsageError(f"no such sheet; the workbook has {', '.join(repr(n) for n in names)}",
                     file=str(path), column="--sheet", value=sheet)


def _is_title(cells: tuple[Any, ...], following: tuple[Any, ...] | None) -> bool:
    """A title row: one filled cell above a row with more filled cells."""
    def filled(row: tuple[Any, ...]) -> int:
        return sum(1 for v in row if v is not None and not (isinstance(v, str) and not v.strip()))
    return following is not None and filled(cells) == 1 and filled(following) > 1


def _read_excel(path: Path, sheet_name: str | int | None = None,
                header_at: int | None = None
                ) -> tuple[pd.DataFrame, list[int], int, list[Diagnostic]]:
    """A sheet of a workbook (the first by default): cells with their own types,
    the Excel row of every data row, the header's row, and notes on cells read as
    empty or rows skipped above the header.

    A formula cell holds its last saved result; a workbook written by a program
    (not saved by Excel) may hold none, and the cell reads as empty. A merged
    range keeps its value in the top-left cell only; the others read as empty.
    Both are listed in a diagnostic, not filled in.
    """
    import openpyxl

    values = openpyxl.load_workbook(path, data_only=True)
    index = _worksheet_index(values, sheet_name, path)
    sheet = values.worksheets[index]
    formulas = openpyxl.load_workbook(path, data_only=False, read_only=True)
    no_value: list[str] = []
    try:
        for row in formulas.worksheets[index].iter_rows():
            for cell in row:
                if getattr(cell, "data_type", None) == "f" and sheet.cell(
                        row=cell.row, column=cell.column).value is None:
                    no_value.append(cell.coordinate)
    finally:
        formulas.close()
    merged = [str(r) for r in sheet.merged_cells.ranges if r.size["rows"] * r.size["columns"] > 1]
    header: list[Any] | None = None
    header_row = 1
    records: list[list[Any]] = []
    rows: list[int] = []
    filled_rows = [(r, cells) for r, cells in enumerate(sheet.iter_rows(values_only=True), start=1)
                   if not all(v is None or (isinstance(v, str) and not v.strip())
                              for v in cells)]
    title: int | None = None
    if header_at is None and len(filled_rows) > 1 and _is_title(filled_rows[0][1],
                                                                 filled_rows[1][1]):
        title = filled_rows[0][0]
        filled_rows = filled_rows[1:]
    for excel_row, cells in filled_rows:
        if header_at is not None and excel_row < header_at:
            continue
        if header is None:
            header, header_row = list(cells), excel_row
            continue
        records.append(list(cells))
        rows.append(excel_row)
    values.close()
    if header is None:
        where = "the first sheet" if sheet_name is None else f"sheet {sheet_name!r}"
        below = "" if header_at is None else f" at or below row {header_at}"
        raise InputError(f"{where} of the workbook is empty{below}", file=str(path))
    width = max([len(header), *(len(r) for r in records)])
    header = header + [None] * (width - len(header))
    records = [r + [None] * (width - len(r)) for r in records]
    names = [f"Unnamed: {i}" if v is None or not str(v).strip() else str(v).strip()
             for i, v in enumerate(header)]
    frame = pd.DataFrame(records, columns=names, dtype=object)
    notes: list[Diagnostic] = []
    if title is not None:
        notes.append(Diagnostic("excel_title_row_skipped", "info",
                                {"row": title, "header_row": header_row}))
    if header_at is not None and header_row != header_at:
        raise UsageError(f"row {header_at} is empty; the first filled row below it is "
                         f"{header_row}", file=str(path), column="--header-row", value=header_at)
    if no_value:
        notes.append(Diagnostic("excel_formula_no_value", "caution",
                                {"n": len(no_value), "cells": _cell_names(no_value)}))
    if merged:
        notes.append(Diagnostic("excel_merged_cells", "caution",
                                {"n": len(merged), "ranges": _cell_names(merged)}))
    return frame, rows, header_row, notes


def _sniff_delimiter(text: str) -> str:
    sample = "\n".join(text.splitlines()[:50])
    try:
        return csv.Sniffer().sniff(sample, delimiters=_DELIMITERS).delimiter
    except csv.Error:
        header = text.splitlines()[0] if text.splitlines() else ""
        counts = {d: header.count(d) for d in _DELIMITERS}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] > 0 else ","


# -- cell parsing ------------------------------------------------------------


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, str) and value.strip().lower() in MISSING_TEXTS


def parse_number(value: Any) -> float | None:
    """Parse one answer cell; ``None`` when it is not a number.

    Accepts numbers, numeric text with surrounding spaces, and a decimal
    comma (``"5,5"``). Booleans and text are not numbers.
    """
    if isinstance(value, bool | np.bool_):
        return None
    if isinstance(value, int | float | np.integer | np.floating):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, str):
        text = value.strip()
        if text.count(",") == 1 and "." not in text:
            text = text.replace(",", ".")
        try:
            number = float(text)
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def _label_key(value: Any) -> str:
    """A cell compared with scale labels: trimmed, inner spaces collapsed, casefolded."""
    return " ".join(str(value).split()).casefold()


def scale_label_codes(scale: Scale) -> dict[str, float]:
    """The code of each label of a scale, in every language it is given in.

    Exports from survey tools often write the answer's label ("Very Accurate",
    "非常同意") instead of its code; a scale whose ``labels`` list one label per
    point (``min`` … ``max``) reads such a cell as the point's code. Labels are
    matched without regard to case or repeated spaces.
    """
    if not scale.labels:
        return {}
    out: dict[str, float] = {}
    for labels in scale.labels.values():
        for k, label in enumerate(labels):
            out.setdefault(_label_key(label), float(scale.min + k))
    return out


#: A cell holding a scale point's code and its label, as some exports write them:
#: "6 - Very Accurate", "6. Very Accurate", "6: Very Accurate", "6=Very Accurate",
#: and the other way round, "Very Accurate (6)", "Very Accurate - 6".
_CODE_THEN_LABEL = re.compile(r"^\s*([+-]?\d+(?:[.,]\d+)?)\s*[-–—:.=)]?\s*(\S.*?)\s*$")
_LABEL_THEN_CODE = re.compile(r"^\s*(\S.*?)\s*(?:[-–—:=]|\()\s*([+-]?\d+(?:[.,]\d+)?)\s*\)?\s*$")


def code_and_label(cell: Any, label_codes: dict[str, float]
                   ) -> tuple[float, float, str] | None:
    """A cell written as a code and a label of the scale (``"6 - Very Accurate"``):
    ``(code, label's code, label)``, or ``None`` when the cell is not of that form or
    its text part is not one of the scale's labels. The answer is read as the code
    only when both agree (the caller checks)."""
    if not isinstance(cell, str) or not label_codes:
        return None
    for pattern, code_first in ((_CODE_THEN_LABEL, True), (_LABEL_THEN_CODE, False)):
        match = pattern.match(cell)
        if match is None:
            continue
        code_text, label = match.groups() if code_first else match.groups()[::-1]
        code = parse_number(code_text)
        label_code = label_codes.get(_label_key(label))
        if code is not None and label_code is not None:
            return code, label_code, label
    return None


def _scale_expectation(scale: Scale) -> str:
    kind = "a whole number" if scale.integer else "a number"
    return f"{kind} from {scale.min:g} to {scale.max:g}"


def _scale_labels(scale: Scale) -> list[str]:
    """The scale's labels in English, else in the first language it gives."""
    if not scale.labels:
        return []
    return list(scale.labels.get("en") or next(iter(scale.labels.values())))


def _not_a_number(scale: Scale) -> tuple[str, dict[str, Any]]:
    """The message and parameters of ``not_a_number``; a scale with labels names them
    (its first and last), since a label is also a valid answer."""
    labels = _scale_labels(scale)
    if not labels:
        return f"expected {_scale_expectation(scale)} or an empty cell", _scale_params(scale)
    return (f"expected {_scale_expectation(scale)}, one of the scale's labels "
            f"('{labels[0]}' to '{labels[-1]}') or an empty cell",
            {**_scale_params(scale), "first_label": labels[0], "last_label": labels[-1]})


def _num(value: float) -> int | float:
    """A parameter value: whole numbers as ``int`` (shown without decimals)."""
    number = float(value)
    return int(number) if number.is_integer() else number


def _scale_params(scale: Scale) -> dict[str, Any]:
    return {"kind": "integer" if scale.integer else "number", "min": _num(scale.min),
            "max": _num(scale.max)}


# -- validation --------------------------------------------------------------


def load_responses(questionnaire: Questionnaire, source: str | Path | pd.DataFrame, *,
                   sheet: str | int | None = None, header_row: int | None = None
                   ) -> Responses:
    """Read, validate and clean survey responses against a questionnaire.

    Parameters
    ----------
    questionnaire : Questionnaire
        The definition the responses answer.
    source : path or DataFrame
        CSV (UTF-8, UTF-8 with BOM, GBK/GB18030; delimiter detected), XLSX,
        SPSS ``.sav``, Parquet, or a DataFrame.
    sheet, header_row
        Excel only: the sheet (name or number from 1) and the header's row
        (see :func:`read_table`).

    Returns
    -------
    Responses
        Clean data and the data-quality log.

    Raises
    ------
    InputError
        For structural problems: unreadable file, missing item or respondent-id
        column, duplicate respondent ids.
    """
    frame, info = read_table(source, sheet=sheet, header_row=header_row)
    return validate_frame(questionnaire, frame, info)


def validate_frame(questionnaire: Questionnaire, frame: pd.DataFrame,
                   info: dict[str, Any] | None = None) -> Responses:
    """Validate a raw table (see :func:`load_responses`)."""
    info = info or {"source": "<DataFrame>", "header_rows": 0}
    q = questionnaire
    name = info["source"]
    offset = 1 + int(info.get("header_rows", 0))  # file row of frame position 0
    frame = frame.reset_index(drop=True)
    # the row each record has in the file (blank lines counted), else by position
    given = info.get("rows")
    file_row = (np.asarray(given, dtype=int) if given is not None and len(given) == len(frame)
                else np.arange(len(frame)) + offset)
    header_row = int(info.get("header_row", 1))
    if frame.columns.duplicated().any():
        dup = frame.columns[frame.columns.duplicated()][0]
        raise InputError("the column appears twice in the header", file=name, row=header_row,
                         column=dup)
    rid = q.respondent_id
    if rid not in frame.columns:
        raise InputError(f"no respondent-id column {rid!r}; expected it named as "
                         "'respondent_id' in the questionnaire", file=name, row=header_row,
                         column=rid,
                         hint=_header_hint(info, rid, header_row) or _columns_hint(frame))
    items = q.analysed_items
    missing_cols = [i.source for i in (*items, *q.checks) if i.source not in frame.columns]
    if missing_cols:
        shown = ", ".join(repr(c) for c in missing_cols[:5])
        more = f" and {len(missing_cols) - 5} more" if len(missing_cols) > 5 else ""
        raise InputError(f"item column(s) missing from the file: {shown}{more}", file=name,
                         row=header_row, column=missing_cols[0], hint=_columns_hint(frame))
    ids = pd.Series([None if _is_missing(v) else _id_text(v) for v in frame[rid]],
                    dtype=object)
    seen: dict[str, int] = {}
    for pos, value in enumerate(ids):
        if value is None:
            continue
        if value in seen:
            raise InputError(f"duplicate respondent id (first seen in row {seen[value]})",
                             file=name, row=int(file_row[pos]), column=rid, value=value)
        seen[value] = int(file_row[pos])
    n = len(frame)
    problems: list[dict[str, Any]] = []
    reasons: list[list[str]] = [[] for _ in range(n)]
    strict = q.screening.invalid_cells == "exclude"

    def problem(pos: int, column: str | None, value: Any, rule: str, message: str,
                params: dict[str, Any] | None = None, excludes: bool = True) -> None:
        problems.append({"row": int(file_row[pos]), "respondent": ids.iloc[pos], "column": column,
                         "value": to_jsonable(value), "rule": rule, "message": message,
                         "excluded": excludes, "params": dict(params or {})})
        if excludes:
            reasons[pos].append(rule)

    for pos in range(n):
        if ids.iloc[pos] is None:
            problem(pos, rid, None, "missing_id", "the respondent id is empty")

    values = np.full((n, len(items)), np.nan)
    set_missing = np.zeros((n, len(items)), dtype=bool)
    marker_cells = np.zeros((n, len(items)), dtype=bool)
    markers: Counter[str] = Counter()
    label_codes = [scale_label_codes(q.item_scale(item)) for item in items]
    labels_read = 0
    label_example: str | None = None
    for j, item in enumerate(items):
        scale = q.item_scale(item)
        column = frame[item.source]
        for pos, cell in enumerate(column):
            if _is_missing(cell):
                # 'n/a', 'NA', '-' written by the respondent or the export: counted;
                # 'nan' is how pandas writes an empty cell as text, so it stays an empty one
                if isinstance(cell, str) and cell.strip() and cell.strip().lower() != "nan":
                    markers[cell.strip()] += 1
                    marker_cells[pos, j] = True
                continue
            number = parse_number(cell)
            if number is None and label_codes[j]:
                number = label_codes[j].get(_label_key(cell))
                if number is None:  # "6 - Very Accurate": the code and its label
                    both = code_and_label(cell, label_codes[j])
                    if both is not None and both[0] != both[1]:
                        code, label_code, label = both
                        problem(pos, item.source, cell, "not_a_number",
                                f"the code {code:g} and the label '{label}' (which is "
                                f"{label_code:g}) disagree",
                                {"code": _num(code), "label": label,
                                 "label_code": _num(label_code)}, excludes=strict)
                        set_missing[pos, j] = True
                        continue
                    number = None if both is None else both[0]
                if number is not None:
                    labels_read += 1
                    label_example = label_example or " ".join(str(cell).split())
            if number is None:
                message, params = _not_a_number(scale)
                problem(pos, item.source, cell, "not_a_number", message, params,
                        excludes=strict)
                set_missing[pos, j] = True
                continue
            if not (scale.min <= number <= scale.max) or (
                    scale.integer and number != round(number)):
                problem(pos, item.source, cell, "out_of_range",
                        f"expected {_scale_expectation(scale)}", _scale_params(scale),
                        excludes=strict)
                set_missing[pos, j] = True
                continue
            values[pos, j] = number
    cells_set_missing = dict.fromkeys(CELL_RULES, 0)
    if not strict:
        for p in problems:
            if p["rule"] in CELL_RULES:
                cells_set_missing[p["rule"]] += 1

    n_construct_items = len(q.items)
    answered = ~np.isnan(values[:, :n_construct_items])
    count = answered.sum(axis=1)
    share_missing = 1.0 - count / max(n_construct_items, 1)
    # under the strict rule a respondent whose answers were all invalid is already
    # excluded for them; otherwise the invalid answers are missing ones
    raw_invalid = set(np.flatnonzero(set_missing.any(axis=1))) if strict else set()
    max_percent = _num(round(q.screening.max_missing * 100))
    for pos in range(n):
        if count[pos] == 0 and pos not in raw_invalid:
            problem(pos, None, None, "all_items_empty", "no item was answered")
        elif share_missing[pos] > q.screening.max_missing:
            empty = int(n_construct_items - count[pos])
            problem(pos, None, f"{share_missing[pos]:.0%}", "too_much_missing",
                    f"{empty} of {n_construct_items} items empty; "
                    f"at most {q.screening.max_missing:.0%} may be",
                    {"empty": empty, "items": n_construct_items, "max": max_percent})
    for check in q.checks:
        column = frame[check.source]
        for pos, cell in enumerate(column):
            number = None if _is_missing(cell) else parse_number(cell)
            if number is None or number != check.expect:
                problem(pos, check.source, None if _is_missing(cell) else cell,
                        "failed_attention_check",
                        f"attention check expects {check.expect:g}",
                        {"expect": _num(check.expect)})
    if q.screening.straightlining:
        for pos in range(n):
            row = values[pos, :n_construct_items]
            row = row[~np.isnan(row)]
            if len(row) >= q.screening.min_items_straightlining and np.all(row == row[0]):
                problem(pos, None, row[0], "straight_lining",
                        f"the same answer ({row[0]:g}) to all {len(row)} answered items",
                        {"answer": _num(row[0]), "n": len(row)})

    warnings: list[Diagnostic] = list(info.get("notes", []))
    group_values: dict[str, pd.Series] = {}
    for group in q.groups:
        if group.source not in frame.columns:
            warnings.append(Diagnostic("group_column_missing", "info",
                                       {"column": group.source, "group": group.id}))
            continue
        series = pd.Series([None if _is_missing(v) else v for v in frame[group.source]],
                           index=frame.index, dtype=object)
        if group.type == "numeric":
            parsed = pd.Series([None if v is None else parse_number(v) for v in series],
                               index=frame.index, dtype=object)
            for pos, (cell, number) in enumerate(zip(series, parsed, strict=True)):
                if cell is None:
                    continue
                if number is None:  # text such as 'forty' is not out of a range
                    problem(pos, group.source, cell, "group_not_a_number",
                            "not a number; set to empty", {}, excludes=False)
                    parsed.iloc[pos] = None
                elif (group.min is not None and number < group.min) or (
                        group.max is not None and number > group.max):
                    bounded = group.min is not None and group.max is not None
                    problem(pos, group.source, cell, "group_out_of_range",
                            f"expected a number from {group.min:g} to {group.max:g}; "
                            "set to empty" if bounded else "expected a number; set to empty",
                            {"min": _num(group.min), "max": _num(group.max)} if bounded
                            else {}, excludes=False)
                    parsed.iloc[pos] = None
            group_values[group.id] = pd.to_numeric(parsed, errors="coerce").astype(float)
        else:
            labels = info.get("value_labels", {}).get(group.source)
            codes = {str(k) for k in group.codes} if group.codes else None
            cleaned = []
            for pos, cell in enumerate(series):
                if cell is None:
                    cleaned.append(None)
                    continue
                key = _code_text(cell)
                if codes is not None and key not in codes and parse_number(cell) is not None:
                    key = _code_text(parse_number(cell))  # "1,0" with a decimal comma
                if codes is not None and key not in codes:
                    problem(pos, group.source, cell, "unknown_group_code",
                            f"expected one of {', '.join(sorted(codes))}; set to empty",
                            {"codes": sorted(codes)}, excludes=False)
                    cleaned.append(None)
                    continue
                cleaned.append(labels.get(cell, key) if labels and codes is None else key)
            group_values[group.id] = pd.Series(cleaned, index=frame.index, dtype=object)

    text_values: dict[str, list[str | None]] = {}
    for open_item in q.open_ended:
        if open_item.source not in frame.columns:
            warnings.append(Diagnostic("text_column_missing", "info",
                                       {"column": open_item.source, "item": open_item.id}))
            continue
        text_values[open_item.id] = [_answer_text(v) for v in frame[open_item.source]]

    first_reason = [next((r for r in REASONS if r in rs), None) for rs in reasons]
    keep = np.array([r is None for r in first_reason], dtype=bool)
    excluded = {reason: int(sum(1 for r in first_reason if r == reason)) for reason in REASONS}

    clean = values.copy()
    for j, item in enumerate(items):
        if item.reverse:
            scale = q.item_scale(item)
            clean[:, j] = scale.min + scale.max - clean[:, j]
    data = pd.DataFrame(clean, columns=[i.id for i in items])
    for gid, series in group_values.items():
        data[gid] = series.to_numpy()
    if q.customer_id:
        if q.customer_id in frame.columns:
            data[q.customer_id] = pd.Series(
                [None if _is_missing(v) else _id_text(v) for v in frame[q.customer_id]],
                dtype=object).to_numpy()
        else:
            warnings.append(Diagnostic("customer_id_missing", "info",
                                       {"column": q.customer_id}))
    data.index = pd.Index(ids.to_numpy(), name=rid)
    rows = pd.Series(file_row, index=data.index, name="row")
    texts = pd.DataFrame(text_values, index=data.index, dtype=object)
    data, rows, texts = data[keep], rows[keep], texts[keep]

    excluded_list = pd.DataFrame(
        [{"row": int(file_row[pos]), "respondent": ids.iloc[pos], "rule": first_reason[pos]}
         for pos in range(n) if first_reason[pos] is not None],
        columns=["row", "respondent", "rule"], dtype=object)
    problem_frame = pd.DataFrame(problems, columns=PROBLEM_COLUMNS, dtype=object)
    if not problem_frame.empty:
        problem_frame = problem_frame.sort_values(["row", "column"], kind="stable",
                                                  na_position="first").reset_index(drop=True)
    for item in items:
        column = data[item.id]
        if len(column.dropna()) > 1 and column.dropna().nunique() == 1:
            warnings.append(Diagnostic("item_constant", "caution", {"item": item.id}))
    if labels_read:
        warnings.append(Diagnostic("scale_labels_read", "info",
                                   {"n": labels_read, "example": label_example}))
    if markers:
        example = markers.most_common(1)[0][0]
        warnings.append(Diagnostic("missing_markers_read", "info",
                                   {"n": sum(markers.values()), "example": example}))
    if sum(cells_set_missing.values()):
        warnings.append(Diagnostic("invalid_cells_missing", "info",
                                   {"n": sum(cells_set_missing.values()), **cells_set_missing}))
    analysed = int(keep.sum())
    missing_counts = data[[i.id for i in items]].isna().sum()
    item_missing = pd.DataFrame(
        {"missing": missing_counts.astype(int),
         "set_missing": pd.Series(set_missing[keep].sum(axis=0).astype(int),
                                  index=missing_counts.index),
         "marker": pd.Series(marker_cells[keep].sum(axis=0).astype(int),
                             index=missing_counts.index),
         "share": missing_counts / analysed if analysed else np.nan},
        index=missing_counts.index)
    item_missing.index.name = "item"
    log = QualityLog(source=name, loaded=n, excluded=excluded, analysed=analysed,
                     problems=problem_frame, excluded_respondents=excluded_list,
                     warnings=warnings, encoding=info.get("encoding"),
                     delimiter=info.get("delimiter"), cells_set_missing=cells_set_missing,
                     item_missing=item_missing, invalid_cells=q.screening.invalid_cells,
                     missing_markers=dict(markers))
    if log.loaded != log.analysed + sum(log.excluded.values()):  # pragma: no cover
        raise RuntimeError("data-quality log does not add up; this is a bug")
    return Responses(data=data, log=log, rows=rows, questionnaire=q,
                     value_labels=info.get("value_labels", {}), texts=texts)


def _answer_text(value: Any) -> str | None:
    """An open-ended answer as text (``None`` when empty); a whole number read as a
    float by a spreadsheet is written without its ``.0``."""
    if _is_missing(value):
        return None
    text = _id_text(value)
    return text or None


def _whole_float(value: Any) -> bool:
    return isinstance(value, float | np.floating) and math.isfinite(value) and float(
        value).is_integer()


def _id_text(value: Any) -> str:
    if _whole_float(value):
        return str(int(value))
    return str(value).strip()


def _code_text(value: Any) -> str:
    if _whole_float(value):
        return str(int(value))
    if isinstance(value, str):
        text = value.strip()
        number = parse_number(text)
        if number is not None and number.is_integer() and "." in text:
            return str(int(number))
        return text
    return str(value)


#: How many filled rows of a sheet (lines of a CSV file) are searched for a column name
#: when the header does not hold it.
HEADER_SEARCH_ROWS = 10


def _rows_holding(rows: Any, column: str, limit: int = HEADER_SEARCH_ROWS) -> int | None:
    """The number of the first of the first ``limit`` filled rows ``(number, cells)``
    that has a cell reading ``column``, else None."""
    seen = 0
    for number, cells in rows:
        if not _filled(cells):
            continue
        if any(v is not None and str(v).strip() == column for v in cells):
            return number
        seen += 1
        if seen >= limit:
            return None
    return None


def _header_hint(info: dict[str, Any], column: str, header_row: int) -> str | None:
    """Where the missing ``column`` is, when it is in the file but not in the header:
    a later row of the first :data:`HEADER_SEARCH_ROWS` (``--header-row N``) or, for a
    workbook read from its first sheet, another sheet (``--sheet NAME``)."""
    source = info.get("source")
    path = Path(source) if isinstance(source, str) else None
    if path is None or not path.is_file():
        return None
    suffix = path.suffix.lower()
    try:
        if suffix in (".xlsx", ".xlsm"):
            import openpyxl

            book = openpyxl.load_workbook(path, read_only=True, data_only=True)
            try:
                current = _worksheet_index(book, info.get("sheet"), path)
                sheets = [(k, ws.title, _rows_holding(
                    enumerate(ws.iter_rows(values_only=True), start=1), column))
                    for k, ws in enumerate(book.worksheets)]
            finally:
                book.close()
            row = sheets[current][2]
            if row is not None and row != header_row:
                return f"the header seems to be row {row}: use --header-row {row}"
            if info.get("sheet") is None:
                for k, title, row in sheets:
                    if k != current and row is not None:
                        return (f"sheet {title!r} has the column {column!r} (row {row}): use "
                                f"--sheet {title!r}" + (f" --header-row {row}" if row > 1
                                                        else ""))
            return None
        if suffix in (".csv", ".txt", ".tsv", ""):
            text, _ = _decode(path.read_bytes(), str(path))
            reader = csv.reader(io.StringIO(text, newline=""),
                                delimiter=info.get("delimiter") or ",",
                                skipinitialspace=True)
            lines, end = [], 0
            for record in reader:
                lines.append((end + 1, record))
                end = reader.line_num
                if len(lines) > 4 * HEADER_SEARCH_ROWS:
                    break
            row = _rows_holding(lines, column)
            if row is not None and row != header_row:
                return f"the header seems to be line {row}: use --header-row {row}"
    except Exception:  # the hint is a courtesy: the error stands without it
        return None
    return None


def _columns_hint(frame: pd.DataFrame) -> str:
    shown = ", ".join(repr(c) for c in list(frame.columns)[:8])
    more = ", ..." if len(frame.columns) > 8 else ""
    return f"the file has columns {shown}{more}; map items to columns with 'column:'"


def item_frame(items: list[Item], data: pd.DataFrame) -> pd.DataFrame:
    """The columns of ``data`` for these items, in order."""
    return data[[i.id for i in items]]
