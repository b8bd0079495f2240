"""The Excel workbook of the report: every table, ready to hand on.

The workbook holds a summary sheet, a recommendations sheet, a contents sheet
(every sheet's full title and note), then one sheet per table of the report, in
the report's language. Each table is written from its cells
(:class:`satisfaction.report.context.Cell`):

* a number is written as a number, with the Excel number format the page shows
  it in (its decimals, thousands separator, percent; a p-value written
  ``< 0.001`` on the page gets ``[<0.001]"< 0.001";0.000``);
* an interval is written as two numeric columns, lower and upper (from the
  cell's ``raw = (lower, upper)``, or read back from its ``[a, b]`` text when the
  context gave no raw pair);
* anything else is written as the page's text: labels, verdicts, quadrants and
  warnings in the report's language, never their internal codes.

The page's excerpt of a table is left out when the full table is there too
(``X`` when ``X_all`` exists). Every sheet has a bold, frozen header row, an
autofilter and column widths fitted to the content (an East Asian wide character
counts as two). No cell is a formula (:func:`as_text_cells`).

openpyxl writes the file: it is the library pandas itself uses for ``.xlsx``.
"""

from __future__ import annotations

import math
import re
import unicodedata
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from satisfaction.io import formula_like, write_with
from satisfaction.report.cells import Cell, Table
from satisfaction.report.messages import Messages

#: Excel refuses these characters in sheet names (and names longer than 31).
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_NUMBER = r"[-−]?[\d,]*\.?\d+"
_INTERVAL = re.compile(rf"^\[\s*({_NUMBER})\s*(%?)\s*,\s*({_NUMBER})\s*(%?)\s*\]$")
_FIRST_NUMBER = re.compile(rf"({_NUMBER})\s*(%?)")
#: A p-value as the page writes it (``< 0.001``, ``= 0.023``).
_P_TEXT = re.compile(r"^[<=]\s*\d")
P_FORMAT = '[<0.001]"< 0.001";0.000'
MIN_WIDTH, MAX_WIDTH = 6, 60
HEADER_FILL = PatternFill("solid", fgColor="E8EEF5")


def as_text_cells(sheet: Any) -> int:
    """Store every formula-like cell of an openpyxl worksheet as text.

    A text cell that begins with ``= + - @``, a tab or a carriage return
    (:func:`satisfaction.io.formula_like`) would be a live formula: openpyxl
    stores ``"=HYPERLINK(...)"`` as one. Such cells are set back to text
    (``data_type = "s"``) with Excel's quote prefix, so Excel shows them as text
    and keeps them text when edited (the OWASP rule for spreadsheets). Numbers
    are never touched. Returns the number of cells changed.
    """
    changed = 0
    for row in sheet.iter_rows():
        for cell in row:
            if cell.data_type == "f" or formula_like(cell.value):
                cell.data_type = "s"
                cell.quotePrefix = True
                changed += 1
    return changed


# -- values and formats ----------------------------------------------------------


def _number(text: str) -> float:
    return float(text.replace(",", "").replace("−", "-"))


def _decimals(text: str) -> int:
    return len(text.split(".", 1)[1]) if "." in text else 0


def _is_number(value: Any) -> bool:
    return (isinstance(value, int | float) and not isinstance(value, bool)
            and math.isfinite(float(value)))


def number_format(text: str, value: float) -> str:
    """The Excel number format that shows ``value`` as the page's ``text`` does.

    ``"12.3%"`` for 0.123 gives ``0.0%``; ``"1,234.50"`` gives ``#,##0.00``;
    ``"< 0.001"`` or ``"= 0.023"`` gives :data:`P_FORMAT`; text without a number
    gives ``General``.
    """
    text = text.strip()
    if _P_TEXT.match(text):
        return P_FORMAT
    match = _FIRST_NUMBER.search(text)
    if match is None:
        return "General"
    shown, percent = match.group(1), match.group(2)
    digits = _decimals(shown)
    body = ("#,##0" if "," in shown else "0") + ("." + "0" * digits if digits else "")
    if percent and math.isclose(100 * value, _number(shown), abs_tol=10 ** -digits):
        return body + "%"
    return body


def interval(cell: Cell) -> tuple[tuple[float | None, float | None], str] | None:
    """``((lower, upper), format)`` of an interval cell, ``None`` when it is not one."""
    raw = cell.raw
    match = _INTERVAL.match(cell.text.strip())
    if isinstance(raw, tuple) and len(raw) == 2:
        bounds = tuple(float(v) if _is_number(v) else None for v in raw)
        shown = match.group(1) + match.group(2) if match else ""
        fmt = number_format(shown, bounds[0]) if shown and bounds[0] is not None else "General"
        return (bounds[0], bounds[1]), fmt
    if match is None:
        return None
    lower, upper = _number(match.group(1)), _number(match.group(3))
    if match.group(2) == "%":
        lower, upper = lower / 100, upper / 100
    return (lower, upper), number_format(match.group(1) + match.group(2), lower)


def cell_value(cell: Cell) -> tuple[Any, str]:
    """``(value, number format)`` of one cell: a number as a number, else the page's text."""
    if _is_number(cell.raw):
        return cell.raw, number_format(cell.text, float(cell.raw))
    text = cell.text.strip()
    if text in ("", "–"):
        return None, "General"
    return text, "General"


def display_width(value: Any, fmt: str = "General") -> int:
    """Characters a value takes on screen (East Asian wide characters count two)."""
    if value is None:
        return 0
    if _is_number(value):
        digits = fmt.split(".")[1] if "." in fmt else ""
        return len(f"{float(value):,.0f}") + len(digits.rstrip('%"')) + 2
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in str(value))


# -- sheets ----------------------------------------------------------------------------


def sheet_name(title: str, used: set[str]) -> str:
    """A valid, unused sheet name from ``title`` (31 characters, no ``[]:*?/\\``)."""
    base = _SHEET_FORBIDDEN.sub(" ", title).strip().strip("'") or "Sheet"
    base = base[:31]
    name, k = base, 2
    while name.lower() in {u.lower() for u in used}:
        suffix = f" ({k})"
        name = base[:31 - len(suffix)] + suffix
        k += 1
    used.add(name)
    return name


def _columns(table: Table, messages: Messages) -> list[tuple[int, str, bool]]:
    """``(source column, header, is interval)``; an interval column becomes two."""
    out = []
    lower, upper = messages.text("workbook.lower"), messages.text("workbook.upper")
    for j, header in enumerate(table.columns):
        cells = [row[j] for row in table.rows if j < len(row)]
        is_interval = any(interval(c) is not None for c in cells) and all(
            interval(c) is not None or c.text.strip() in ("", "–") for c in cells)
        label = header or " "
        if is_interval:
            out += [(j, f"{label} {lower}", True), (j, f"{label} {upper}", True)]
        else:
            out.append((j, label, False))
    return out


def write_sheet(book: Workbook, name: str, headers: list[str],
                rows: list[list[tuple[Any, str]]]) -> Any:
    """One sheet: bold frozen header, autofilter, fitted widths, formats per cell."""
    sheet = book.create_sheet(name)
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(vertical="top", wrap_text=True)
    widths = [display_width(h) for h in headers]
    for r, row in enumerate(rows, start=2):
        for c, (value, fmt) in enumerate(row, start=1):
            target = sheet.cell(row=r, column=c, value=value)
            if fmt != "General":
                target.number_format = fmt
            width = display_width(value, fmt)
            if width > MAX_WIDTH:
                target.alignment = Alignment(wrap_text=True, vertical="top")
            widths[c - 1] = max(widths[c - 1], width)
    for c, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(c)].width = min(max(width + 2, MIN_WIDTH),
                                                                   MAX_WIDTH)
    sheet.freeze_panes = "A2"
    if rows:
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{len(rows) + 1}"
    as_text_cells(sheet)
    return sheet


def table_rows(table: Table, messages: Messages) -> tuple[list[str],
                                                          list[list[tuple[Any, str]]]]:
    """Headers and ``(value, format)`` rows of one table (intervals split in two)."""
    columns = _columns(table, messages)
    rows = []
    for row in table.rows:
        out: list[tuple[Any, str]] = []
        seen_interval: dict[int, int] = {}
        for j, _header, is_interval in columns:
            cell = row[j] if j < len(row) else Cell("", None)
            if is_interval:
                side = seen_interval.get(j, 0)
                seen_interval[j] = side + 1
                found = interval(cell)
                out.append((None, "General") if found is None
                           else (found[0][side], found[1]))
            else:
                out.append(cell_value(cell))
        rows.append(out)
    _fill_formats(rows)
    return [h for _, h, _ in columns], rows


def _fill_formats(rows: list[list[tuple[Any, str]]]) -> None:
    """A number whose page text shows no number (a loading below 0.30 left blank on
    the page) takes the format most used in its column (else three decimals)."""
    for c in range(len(rows[0]) if rows else 0):
        used = [f for v, f in (r[c] for r in rows) if f != "General"]
        default = max(set(used), key=used.count) if used else "0.000"
        for r in rows:
            value, fmt = r[c]
            if fmt == "General" and _is_number(value) and not float(value).is_integer():
                r[c] = (value, default)


def workbook_tables(tables: list[Table]) -> list[Table]:
    """The tables of the workbook: every table with rows, the page's excerpt of a
    table left out when its full version (key ``X_all``) is there too."""
    keys = {t.key for t in tables if t.rows}
    return [t for t in tables if t.rows and f"{t.key}_all" not in keys]


def write_workbook(tables: list[Table], path: str | Path, messages: Messages, *,
                   front: list[Table] | None = None) -> None:
    """Write the workbook (atomic): ``front`` sheets (summary, recommendations), a
    contents sheet, then every table.

    Parameters
    ----------
    tables : list of Table
        The report's tables (``context["tables"]``).
    path : path
    messages : Messages
        The report language's catalog (sheet names, headers).
    front : list of Table, optional
        Sheets put first, before the contents.
    """
    front = [t for t in (front or []) if t.rows]
    body = workbook_tables(tables)

    named, contents_name = sheet_names(front, body, messages)
    names = {id(t): name for t, name in named}

    def writer(tmp: Path) -> None:
        book = Workbook()
        book.remove(book.active)
        for table in front:
            write_sheet(book, names[id(table)], *table_rows(table, messages))
        contents = [[(names[id(t)], "General"), (t.title, "General"),
                     (t.note or None, "General")] for t in (*front, *body)]
        write_sheet(book, contents_name, [messages.text("workbook.sheet"),
                                          messages.text("workbook.title"),
                                          messages.text("workbook.note")], contents)
        for table in body:
            write_sheet(book, names[id(table)], *table_rows(table, messages))
        book.save(tmp)

    write_with(path, writer)


def sheet_names(front: list[Table], body: list[Table], messages: Messages
                ) -> tuple[list[tuple[Table, str]], str]:
    """Each sheet's name: ``front`` then the contents sheet then ``body``, short
    names from the catalog (``workbook.sheets.<key>``) or else the table's title,
    made valid and unique (:func:`sheet_name`). Returns ``([(table, name)],
    contents name)``."""
    used: set[str] = set()
    named = [(t, sheet_name(_sheet_title(t, messages), used)) for t in front]
    contents = sheet_name(messages.text("workbook.contents"), used)
    named += [(t, sheet_name(_sheet_title(t, messages), used)) for t in body]
    return named, contents


def _sheet_title(table: Table, messages: Messages) -> str:
    key = f"workbook.sheets.{table.key}"
    return messages.text(key) if messages.has(key) else table.title


# -- the front sheets ----------------------------------------------------------------


def _name(analysis: Any, construct: str, lang: str) -> str:
    try:
        return analysis.questionnaire.construct(construct).name.get(lang)
    except KeyError:
        return str(construct)


def summary_table(analysis: Any, context: dict[str, Any], messages: Messages) -> Table:
    """The summary sheet: the report, the respondents, the headline indices with
    their intervals (and change since the previous wave when given), the model's
    fit, the findings and the limitations — the executive summary as a table."""
    from satisfaction.report.cells import fmt, fmt_p, plain

    lang = context["lang"]
    m = messages
    table = Table("summary", m.text("workbook.summary"),
                  [m.text("workbook.item"), m.text("workbook.value"), m.text("columns.ci")],
                  numeric=[False, True, True])
    blank = Cell("", None)
    table.add(m.text("workbook.report"), Cell(context["title"], context["title"]), blank)
    table.add(m.text("workbook.generated"), Cell(context["generated"], None), blank)
    log = analysis.responses.log
    table.add(m.text("workbook.respondents"), Cell(fmt(log.analysed), log.analysed), blank)
    ind = analysis.indices
    if ind is not None:
        rows = {r["construct"]: r for _, r in ind.constructs.iterrows()}
        for cid in (analysis.satisfaction, analysis.loyalty):
            if cid is None or cid not in rows:
                continue
            r = rows[cid]
            table.add(m.text("workbook.index", name=_name(analysis, cid, lang)),
                      Cell(fmt(r["index"], 1), plain(r["index"])),
                      Cell(f"[{fmt(r['ci.lower'], 1)}, {fmt(r['ci.upper'], 1)}]",
                           (plain(r["ci.lower"]), plain(r["ci.upper"]))))
    waves = context.get("waves")
    for change in (waves or {}).get("headline", []):
        table.add(m.text("workbook.change", name=change["name"]),
                  Cell(change["text"], change["value"]),
                  Cell(change["ci"], change["interval"]))
        table.add(m.text("workbook.change_p", name=change["name"]),
                  Cell(fmt_p(change["p"]), change["p"]), blank)
    summary = context.get("summary") or {}
    fit = summary.get("fit")
    if fit:
        table.add(m.text("workbook.fit"), Cell(fit["text"], None), blank)
    for finding in summary.get("findings") or []:
        table.add(m.text("workbook.finding"), Cell(str(finding), None), blank)
    if summary.get("top_stage"):
        table.add(m.text("workbook.finding"), Cell(summary["top_stage"], None), blank)
    for lim in summary.get("limitations") or []:
        table.add(m.text("workbook.limitation"), Cell(f"{lim['stage']}: {lim['text']}", None),
                  blank)
    return table


def recommendations_table(context: dict[str, Any], messages: Messages) -> Table:
    """The recommendations sheet: every recommendation as the report ranks and words it."""
    m = messages
    table = Table("recommendations", m.text("workbook.recommendations"),
                  [m.text(f"workbook.{k}") for k in ("rank", "action_title", "action",
                                                     "rationale", "evidence", "priority",
                                                     "stage", "caution")],
                  numeric=[True, False, False, False, False, True, False, False])
    for card in context.get("recommendations") or []:
        priority = card.get("priority_value")
        table.add(Cell(str(card["rank"]), card["rank"]),
                  *[Cell(str(card.get(k) or ""), None)
                    for k in ("title", "action", "rationale", "evidence")],
                  Cell(str(card.get("priority", "")), priority),
                  *[Cell(str(card.get(k) or ""), None) for k in ("stage", "caution")])
    return table
