"""Loading and validating transactions.

Transactions come from a CSV, Parquet or Excel file or from a pandas DataFrame.
They are loaded into an embedded DuckDB database (nothing to start, runs out of
core) and checked there with one SQL query, so ten million rows cost seconds.

The policy is the one of survey responses (:mod:`satisfaction.responses`):

* **Structural problems stop the run** with an :class:`~satisfaction.errors.InputError`
  naming the file: an unreadable file, a missing required column, no rows.
* **Row-level problems exclude that transaction** under a named reason. A row with
  several problems is counted once, under the first of, in order:

  ``missing_id``          the customer-id cell is empty
  ``missing_date``        the date cell is empty
  ``unparseable_date``    the date is not a date (ISO ``YYYY-MM-DD``, ``YYYY/MM/DD``,
                          ``YYYYMMDD``, optionally with a time, or ``date_format``)
  ``early_date``          the date is before ``earliest`` (default 1900-01-01): a
                          placeholder such as ``0001-01-01`` or a two-digit year read
                          wrongly, not a purchase (it would make a recency of
                          centuries)
  ``future_date``         the date is after ``today``
  ``missing_amount``      the amount cell is empty
  ``unparseable_amount``  the amount is not a number; currency signs and thousands
                          separators are read (``"¥1,234.50"`` is 1234.5, ``"abc"``
                          is not a number)
  ``amount_too_large``    ``|amount| ≥ 10¹⁵`` (:data:`MAX_AMOUNT`): no single purchase
                          is that large in any currency (it is an id or a code in the
                          amount column), and the customer table sums amounts exactly
                          as ``DECIMAL(38, 6)``, which such values could overflow
  ``unparseable_margin``  a margin (or cost) is given but is not a number
  ``margin_too_large``    ``|margin| ≥ 10¹⁵`` (the margin, or amount − cost)
  ``negative_amount``     a return (amount < 0) when ``returns="exclude"``
  ``duplicate``           an exact copy of an earlier row (every column equal);
                          the first copy is kept

  With ``returns="net"`` (the default) returns are kept and netted against the
  customer's purchases; they are counted under ``returns_netted`` in
  :attr:`TransactionLog.notes` without being excluded.

The log counts ``loaded == kept + Σ excluded`` and lists up to ``max_problems``
problems with the row number as the user sees it in the file (the first data
row of a CSV or Excel sheet is row 2; for a DataFrame, the position from 0).
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import duckdb
import numpy as np
import pandas as pd

from satisfaction.errors import InputError, UsageError
from satisfaction.value.checks import (
    DATE_FORMATS,
    TransactionColumns,
    check_date_format,
    check_not_empty,
    parse_date,
)

#: Exclusion reasons, in order of precedence.
REASONS: tuple[str, ...] = (
    "missing_id",
    "missing_date",
    "unparseable_date",
    "early_date",
    "future_date",
    "missing_amount",
    "unparseable_amount",
    "amount_too_large",
    "unparseable_margin",
    "margin_too_large",
    "negative_amount",
    "duplicate",
)

_COLUMN_OF_REASON = {
    "missing_id": "customer",
    "missing_date": "date",
    "unparseable_date": "date",
    "early_date": "date",
    "future_date": "date",
    "missing_amount": "amount",
    "unparseable_amount": "amount",
    "amount_too_large": "amount",
    "unparseable_margin": "margin",
    "margin_too_large": "margin",
    "negative_amount": "amount",
    "duplicate": None,
}

_MESSAGES = {
    "missing_id": "the customer id is empty",
    "missing_date": "the date is empty",
    "unparseable_date": "expected a date such as 2024-03-31",
    "early_date": "the date is before 1900-01-01 (a placeholder, not a purchase date)",
    "future_date": "the date is in the future",
    "missing_amount": "the amount is empty",
    "unparseable_amount": "expected an amount such as 1234.50 or ¥1,234.50",
    "amount_too_large": "the amount is 10^15 or more in absolute value (not a purchase)",
    "unparseable_margin": "expected a number",
    "margin_too_large": "the margin is 10^15 or more in absolute value (not a purchase)",
    "negative_amount": "a return (negative amount), excluded by returns='exclude'",
    "duplicate": "an exact duplicate of an earlier row",
}

#: Texts read as an empty cell.
MISSING_TEXTS: tuple[str, ...] = ("", "na", "n/a", "nan", "null", "none", "-", "#n/a")

#: Currency signs and codes stripped from amounts.
CURRENCY_PATTERN = r"[\s$€£¥￥₩₹'’]|^(USD|EUR|GBP|CNY|RMB|JPY)|(USD|EUR|GBP|CNY|RMB|JPY)$"
#: The pattern for Python's ``re``: RE2's (DuckDB's) ``\s`` is the ASCII class
#: [\t\n\f\r ], Python's also matches \v, \x85 and other Unicode spaces.
_CURRENCY_PATTERN_PY = CURRENCY_PATTERN.replace(r"\s", "\t\n\f\r ")
#: The Unicode space separators (category Zs): what DuckDB's ``trim`` strips.
SPACE_SEPARATORS = ("\u0020\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
                    "\u2007\u2008\u2009\u200a\u202f\u205f\u3000")
_THOUSANDS = r"[+-]?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]*)?"
_DECIMAL_COMMA = r"[+-]?[0-9]+,[0-9]{1,2}"
#: What an amount must look like, once currency and separators are read, to be a number.
_NUMBER = r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?"
#: The date layouts read without ``date_format`` (kept under this name for the Spark loader).
_DATE_FORMATS: tuple[str, ...] = DATE_FORMATS
#: Dates before it are excluded as ``early_date`` (unless ``earliest`` says otherwise).
EARLIEST_DATE = dt.date(1900, 1, 1)
#: Amounts and margins at or above it in absolute value are excluded
#: (``amount_too_large``, ``margin_too_large``). A double still resolves 1/8 of a unit
#: there, and the exact ``DECIMAL(38, 6)`` sums of the customer table (up to 10³²)
#: cannot overflow before 10¹⁷ such rows.
MAX_AMOUNT = 1e15
#: Integer column types whose values fit in a 64-bit signed integer.
INTEGER_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT",
                 "UINTEGER")
#: Characters DuckDB's file readers take as a glob pattern.
_GLOB_CHARACTERS = "*?["


@dataclass
class TransactionLog:
    """What happened to every transaction row.

    Attributes
    ----------
    source : str
        The file, or ``"<DataFrame>"``.
    loaded : int
        Rows read.
    excluded : dict[str, int]
        Rows excluded, by reason (every reason of :data:`REASONS`, in order).
    kept : int
        Rows kept; ``loaded == kept + sum(excluded.values())``.
    notes : dict[str, int]
        Rows kept but worth knowing about: ``returns_netted``, ``duplicates_kept``.
    problems : pandas.DataFrame
        Up to ``max_problems`` excluded rows: row, customer, column, value, rule,
        message (ordered by row).
    """

    source: str
    loaded: int
    excluded: dict[str, int]
    kept: int
    notes: dict[str, int]
    problems: pd.DataFrame

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        problems = [
            {
                "row": int(p.row),
                "customer": None if p.customer is None else str(p.customer),
                "column": p.column,
                "value": None if p.value is None else str(p.value),
                "rule": p.rule,
                "message": p.message,
            }
            for p in self.problems.itertuples(index=False)
        ]
        return {
            "source": self.source,
            "loaded": self.loaded,
            "excluded": dict(self.excluded),
            "kept": self.kept,
            "notes": dict(self.notes),
            "problems": problems,
        }


@dataclass
class Transactions:
    """Validated transactions, held in DuckDB.

    Attributes
    ----------
    con : duckdb.DuckDBPyConnection
        The connection holding table ``transactions`` with columns
        ``customer_id`` (VARCHAR), ``date`` (DATE), ``amount`` (DOUBLE),
        ``margin`` (DOUBLE, NULL when not given), ``channel``, ``product`` (VARCHAR).
    log : TransactionLog
    has_margin : bool
        Whether a margin (or cost) column was given.
    """

    con: duckdb.DuckDBPyConnection
    log: TransactionLog
    has_margin: bool = False
    columns: TransactionColumns = field(default_factory=TransactionColumns)
    #: (first, last) date of the kept transactions, when the loader knows it already
    known_date_range: tuple[dt.date | None, dt.date | None] | None = None
    #: the largest |amount| or |margin| of the kept transactions, when known (the
    #: customer table then reads them as a narrower exact decimal, see
    #: :data:`~satisfaction.value.customers.NARROW_DECIMAL_BELOW`)
    known_max_abs: float | None = None
    #: (smallest, largest) customer id of the kept transactions when the ids are
    #: integers (:data:`INTEGER_TYPES`; the customer table then counts purchase days
    #: by sorting, see :mod:`satisfaction.value.occasions`), else None
    known_id_range: tuple[int, int] | None = None

    def to_frame(self) -> pd.DataFrame:
        """The kept transactions as a pandas DataFrame (for small data)."""
        frame = self.con.execute("SELECT * FROM transactions ORDER BY _row").df()
        return frame.drop(columns="_row")

    @property
    def date_range(self) -> tuple[dt.date | None, dt.date | None]:
        """First and last transaction date."""
        if self.known_date_range is not None:
            return self.known_date_range
        lo, hi = self.con.execute("SELECT min(date), max(date) FROM transactions").fetchone()
        return lo, hi


def parse_amount(value: Any) -> float | None:
    """Read one amount cell the way the SQL loader does; ``None`` when not a number.

    Spaces, currency signs (``$ € £ ¥ ￥ ₩ ₹``) and codes (``USD``, ``CNY``, …) are
    dropped; ``1,234.50`` has a thousands separator; ``12,5`` has a decimal comma.
    This Python twin of :func:`amount_sql` documents the rule and is tested
    against it.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
        return number if math.isfinite(number) else None
    text = str(value).strip(SPACE_SEPARATORS)    # as DuckDB's trim
    if text.lower() in MISSING_TEXTS:
        return None
    text = re.sub(_CURRENCY_PATTERN_PY, "", text)
    if re.fullmatch(_THOUSANDS, text):
        text = text.replace(",", "")
    elif re.fullmatch(_DECIMAL_COMMA, text):
        text = text.replace(",", ".")
    if not re.fullmatch(_NUMBER, text):
        return None
    number = float(text)
    return number if math.isfinite(number) else None


def literal_path(path: str | Path) -> str:
    """A file path as DuckDB's readers take it literally: the glob characters
    ``* ? [`` are each put in a bracket class (``[*]``, ``[?]``, ``[[]``), so a file
    named ``sales[ab].csv`` is read, not ``salesa.csv``."""
    return "".join(f"[{ch}]" if ch in _GLOB_CHARACTERS else ch for ch in str(path))


def _q(name: str) -> str:
    """Quote an identifier for SQL."""
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _blank_sql(expr: str) -> str:
    texts = ", ".join(_lit(t) for t in MISSING_TEXTS)
    return f"({expr} IS NULL OR lower(trim(CAST({expr} AS VARCHAR))) IN ({texts}))"


def amount_sql(expr: str, is_text: bool) -> str:
    """SQL that reads an amount column (NULL when it is not a finite number)."""
    if not is_text:
        return f"(CASE WHEN isfinite(CAST({expr} AS DOUBLE)) THEN CAST({expr} AS DOUBLE) END)"
    s = f"regexp_replace(trim({expr}), {_lit(CURRENCY_PATTERN)}, '', 'g')"
    s = (
        f"(CASE WHEN regexp_full_match({s}, {_lit(_THOUSANDS)}) THEN replace({s}, ',', '') "
        f"WHEN regexp_full_match({s}, {_lit(_DECIMAL_COMMA)}) THEN replace({s}, ',', '.') "
        f"ELSE {s} END)"
    )
    number = (
        f"(CASE WHEN regexp_full_match({s}, {_lit(_NUMBER)})"
        f" THEN TRY_CAST({s} AS DOUBLE) END)"
    )
    return f"(CASE WHEN isfinite({number}) THEN {number} END)"


def _date_sql(expr: str, type_name: str, date_format: str | None) -> str:
    t = type_name.upper()
    if t.startswith("DATE") or t.startswith("TIMESTAMP"):
        return f"CAST({expr} AS DATE)"
    if t in ("INTEGER", "BIGINT", "HUGEINT", "UBIGINT", "UINTEGER"):  # 19970101
        return f"CAST(try_strptime(CAST({expr} AS VARCHAR), '%Y%m%d') AS DATE)"
    formats = (date_format,) if date_format else _DATE_FORMATS
    fmts = "[" + ", ".join(_lit(f) for f in formats) + "]"
    return f"CAST(try_strptime(trim(CAST({expr} AS VARCHAR)), {fmts}) AS DATE)"


def _read(con: duckdb.DuckDBPyConnection, source: str | Path | pd.DataFrame,
          sheet: str | int | None) -> str:
    """Create view ``raw_input`` (with ``_row``, the row as the user sees it); return its name."""
    if isinstance(source, pd.DataFrame):
        frame = _plain(source.reset_index(drop=True))
        frame.insert(0, "_row", range(len(frame)))
        con.register("raw_df", frame)
        con.execute("CREATE TABLE raw_input AS SELECT * FROM raw_df")
        con.unregister("raw_df")
        return "<DataFrame>"
    path = Path(source)
    name = str(source)
    if not path.exists():
        raise InputError("file not found", file=name)
    check_not_empty(path, name)
    suffix = path.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            con.execute(
                "CREATE VIEW raw_input AS SELECT file_row_number + 2 AS _row, * EXCLUDE "
                f"(file_row_number) FROM read_parquet({_lit(literal_path(path))}, "
                "file_row_number=true)"
            )
        elif suffix in (".xlsx", ".xlsm", ".xls"):
            frame = _plain(pd.read_excel(path, sheet_name=sheet or 0, dtype=object))
            frame.insert(0, "_row", range(2, len(frame) + 2))
            con.register("raw_df", frame)
            con.execute("CREATE TABLE raw_input AS SELECT * FROM raw_df")
            con.unregister("raw_df")
        else:
            _read_csv(con, path)
    except InputError:
        raise
    except (duckdb.Error, OSError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"cannot read the file: {first}", file=name) from None
    return name


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text-like (object) columns hold only str or None, so DuckDB reads them
    as VARCHAR whatever mix of numbers and text a cell-by-cell source had."""
    frame = frame.copy()
    frame.columns = [str(c) for c in frame.columns]
    for column in frame.columns:
        if frame[column].dtype == object or str(frame[column].dtype) in ("string", "category"):
            frame[column] = frame[column].map(lambda v: None if _missing(v) else str(v))
            frame[column] = frame[column].astype(object)
    return frame


def csv_encoding(head: bytes) -> str:
    """``"utf-8"`` when the first bytes of a CSV file (4 kB) are UTF-8, ``"utf-16"``
    (with a byte-order mark) or ``"utf-16-le"`` / ``"utf-16-be"`` (without: every
    other byte of ASCII text is NUL) for UTF-16 (what Excel's "Unicode text" and
    PowerShell write), else ``"gb18030"`` (what Chinese Excel writes). A multi-byte
    character cut at the end of ``head`` still counts as UTF-8. Shared by the DuckDB
    and Spark loaders."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    if len(head) >= 4 and b"\x00" in head:
        even, odd = head[0::2], head[1::2]
        if odd.count(0) > 0.4 * len(odd) and even.count(0) == 0:
            return "utf-16-le"
        if even.count(0) > 0.4 * len(even) and odd.count(0) == 0:
            return "utf-16-be"
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        return "utf-8" if exc.start > len(head) - 4 else "gb18030"


def csv_delimiter(head: str) -> str:
    """The delimiter of a CSV file from its first non-blank line (the header): the
    most frequent of ``, ; tab |``, else a comma. Read from the header alone, not
    sniffed from the data, so hostile cells (a row of semicolons, quotes, tabs)
    cannot make the file be split another way (as the Spark loader does)."""
    lines = [line for line in head.lstrip("\ufeff").splitlines() if line.strip()]
    header = lines[0] if lines else ""
    counts = {sep: header.count(sep) for sep in (",", ";", "\t", "|")}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] else ","


def _read_csv(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    with open(path, "rb") as handle:
        head = handle.read(4096)
    encoding = csv_encoding(head)
    delimiter = csv_delimiter(head.decode(encoding, errors="ignore"))
    if encoding == "utf-8":
        # Every column as text: we parse dates and amounts ourselves, so that a
        # bad cell excludes one row instead of failing the file.
        def create(parallel: bool) -> None:
            con.execute(
                f"CREATE TABLE raw_input AS SELECT row_number() OVER () + 1 AS _row, * FROM "
                f"read_csv({_lit(literal_path(path))}, all_varchar=true, header=true, "
                f"delim={_lit(delimiter)}, quote='\"', escape='\"', "
                f"strict_mode=false, null_padding=true, parallel={str(parallel).lower()})"
            )

        try:
            create(parallel=True)
        except duckdb.Error as exc:
            # a quoted cell holding a line break (a product name, an address): the
            # parallel scanner refuses it with null_padding; the serial one reads it
            if "parallel" not in str(exc).lower():
                raise
            create(parallel=False)
    else:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding,
                            sep=delimiter, engine="python")
        frame.insert(0, "_row", range(2, len(frame) + 2))
        con.register("raw_df", frame)
        con.execute("CREATE TABLE raw_input AS SELECT * FROM raw_df")
        con.unregister("raw_df")
    _file_rows(con, path, delimiter, "utf-8-sig" if encoding == "utf-8" else encoding)


def _file_rows(con: duckdb.DuckDBPyConnection, path: Path, delimiter: str,
               encoding: str) -> None:
    """Renumber ``raw_input._row`` as the file's line numbers when they differ from
    the record count: the readers skip blank lines, and a quoted cell may span lines,
    so the n-th record is not always on line n + 1. A file with one line per record
    (the usual case) costs one count of its line breaks; otherwise its records are
    read once more by Python's csv module to find the line each starts on. If the two
    readers do not see the same records (broken quoting), the record numbers stay."""
    records = int(con.execute("SELECT count(*) FROM raw_input").fetchall()[0][0])
    lines, last = 0, b""
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            lines += chunk.count(b"\n")
            last = chunk
    body = last.rstrip(b"\r\n")
    if body and len(body) < len(last):  # blank lines at the end shift no row
        lines -= last[len(body):].count(b"\n") - 1
    elif last[-1:] not in (b"\n", b""):
        lines += 1
    if lines == records + 1:
        return
    starts: list[int] = []
    try:
        with open(path, encoding=encoding, errors="replace", newline="") as handle:
            reader = csv.reader(handle, delimiter=delimiter, quotechar='"', doublequote=True)
            end, header = 0, False
            for record in reader:
                start, end = end + 1, reader.line_num
                if not record:  # a blank line: skipped by the readers
                    continue
                if header:
                    starts.append(start)
                header = True
    except (csv.Error, UnicodeError):
        return
    if len(starts) != records or starts == list(range(2, records + 2)):
        return
    con.register("file_rows", pd.DataFrame({"n": range(2, records + 2), "line": starts}))
    con.execute("UPDATE raw_input SET _row = f.line FROM file_rows f WHERE raw_input._row = f.n")
    con.unregister("file_rows")



def loader_options(columns: TransactionColumns | None, returns: str, duplicates: str,
                   on_error: str, today: dt.date | str | None, earliest: dt.date | str,
                   ) -> tuple[TransactionColumns, dt.date, dt.date]:
    """The options both loaders (DuckDB's :func:`load_transactions`, Spark's
    :func:`~satisfaction.value.spark_validation.spark_transactions`) take, checked
    once: a UsageError naming the option, before any data are read. Returns the
    columns, today's date (the system's when not given) and the earliest date."""
    if returns not in ("net", "exclude"):
        raise UsageError("returns must be 'net' or 'exclude'", value=returns)
    if duplicates not in ("exclude", "keep"):
        raise UsageError("duplicates must be 'exclude' or 'keep'", value=duplicates)
    if on_error not in ("exclude", "raise"):
        raise UsageError("on_error must be 'exclude' or 'raise'", value=on_error)
    cols = columns or TransactionColumns()
    if cols.margin is not None and cols.cost is not None:
        raise UsageError("give a margin column or a cost column, not both")
    today_date = parse_date(today, "today") if today is not None else dt.date.today()
    return cols, today_date, parse_date(earliest, "earliest")


def load_transactions(
    source: str | Path | pd.DataFrame,
    columns: TransactionColumns | None = None,
    *,
    returns: Literal["net", "exclude"] = "net",
    today: dt.date | str | None = None,
    date_format: str | None = None,
    on_error: Literal["exclude", "raise"] = "exclude",
    duplicates: Literal["exclude", "keep"] = "exclude",
    max_problems: int | None = 1000,
    sheet: str | int | None = None,
    threads: int | None = None,
    earliest: dt.date | str = EARLIEST_DATE,
) -> Transactions:
    """Load and validate transactions.

    Parameters
    ----------
    source : path or pandas.DataFrame
        CSV (UTF-8, UTF-16 or GBK; the delimiter is the most frequent of ``, ; tab |``
        in the header line), Parquet, XLSX, or a DataFrame. A path is read literally:
        ``*``, ``?`` and ``[`` in it are not wildcards.
    columns : TransactionColumns, optional
        Column names in the source (default ``customer_id``, ``date``, ``amount``).
    returns : {"net", "exclude"}
        Negative amounts (returns) are netted against purchases (kept, counted
        in ``notes["returns_netted"]``) or excluded (``negative_amount``).
    today : date or string, optional
        Dates after it are ``future_date`` (default: the date of the run; a
        transaction dated tomorrow is excluded, so pass ``today`` when the file comes
        from a time zone ahead of yours).
    earliest : date or string
        Dates before it are ``early_date`` (default 1900-01-01).
    date_format : str, optional
        A strptime format for dates in another layout (e.g. ``"%d/%m/%Y"``); refused
        at once (UsageError) when DuckDB cannot use it or it has no year.
    duplicates : {"exclude", "keep"}
        Exact duplicate rows (every column equal) are excluded after the first
        copy (``duplicate``), or kept and counted in ``notes["duplicates_kept"]``
        (for files without a transaction id where two equal purchases on one day
        are real, as in CDNOW).
    on_error : {"exclude", "raise"}
        ``"raise"`` stops at the first bad row with an InputError naming the
        file, row, column and value.
    max_problems : int or None
        How many problem rows to list in the log (all are counted); ``None``: all.

    Returns
    -------
    Transactions

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"customer_id": ["a", "a", ""], "date": ["2024-01-02"] * 3,
    ...                       "amount": ["¥1,234.50", "abc", "3"]})
    >>> tx = load_transactions(frame, today="2025-01-01")
    >>> tx.log.kept, tx.log.excluded["missing_id"], tx.log.excluded["unparseable_amount"]
    (1, 1, 1)
    """
    cols, today_date, earliest_date = loader_options(columns, returns, duplicates, on_error,
                                                     today, earliest)
    if date_format is not None:
        check_date_format(date_format)
    # DuckDB's own progress bar would print into logs and reports' terminal output;
    # the commands show their own
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    if threads:
        con.execute(f"SET threads TO {int(threads)}")
    name = _read(con, source, sheet)
    try:
        described = con.execute("DESCRIBE raw_input").fetchall()
    except duckdb.Error as exc:
        raise InputError(f"cannot read the file: {exc}", file=name) from None
    types = {row[0]: str(row[1]) for row in described}
    available = [c for c in types if c != "_row"]
    for role, column in cols.used().items():
        if column not in types or column == "_row":
            raise InputError(
                f"no {role} column {column!r}; the file has columns: "
                + ", ".join(repr(c) for c in available[:20]),
                file=name, column=column,
            )

    def text(role: str) -> bool:
        column = getattr(cols, role)
        return column is not None and types[column].upper() in ("VARCHAR", "NULL", "OBJECT")

    c_id, c_date, c_amt = (_q(cols.customer), _q(cols.date), _q(cols.amount))
    amt = amount_sql(c_amt, text("amount"))
    if cols.margin is not None:
        margin = amount_sql(_q(cols.margin), text("margin"))
        margin_raw = _q(cols.margin)
    elif cols.cost is not None:
        margin = f"({amt} - {amount_sql(_q(cols.cost), text('cost'))})"
        margin_raw = _q(cols.cost)
    else:
        margin, margin_raw = "CAST(NULL AS DOUBLE)", None
    date = _date_sql(c_date, types[cols.date], date_format)
    if text("customer"):
        cust = f"NULLIF(trim({c_id}), '')"
        id_blank = _blank_sql(c_id)
    else:  # integer ids stay integers: grouping on them is twice as fast as on text
        cust, id_blank = c_id, f"({c_id} IS NULL)"
    channel = f"CAST({_q(cols.channel)} AS VARCHAR)" if cols.channel else "CAST(NULL AS VARCHAR)"
    product = f"CAST({_q(cols.product)} AS VARCHAR)" if cols.product else "CAST(NULL AS VARCHAR)"
    all_cols = ", ".join(_q(c) for c in available)

    def blank(expr: str, role: str) -> str:
        return _blank_sql(expr) if text(role) else f"({expr} IS NULL)"

    margin_check = (
        "WHEN NOT margin_blank AND margin IS NULL THEN 'unparseable_margin' "
        f"WHEN abs(margin) >= {int(MAX_AMOUNT)} THEN 'margin_too_large'" if margin_raw else ""
    )
    margin_role = "margin" if cols.margin is not None else "cost"
    negative = "WHEN amount < 0 THEN 'negative_amount'" if returns == "exclude" else ""
    today_sql = f"DATE {_lit(today_date.isoformat())}"
    n_dups = _find_duplicates(con, all_cols)
    dup = "_row IN (SELECT _row FROM duplicate_rows)" if n_dups else "false"
    # One query classifies every row; the first failing rule names the reason.
    con.execute(f"""
        CREATE VIEW checked AS
        WITH parsed AS (
            SELECT _row, {cust} AS customer_id, {date} AS date, {amt} AS amount,
                   {margin} AS margin, {channel} AS channel, {product} AS product,
                   {id_blank} AS id_blank,
                   {blank(c_date, "date")} AS date_blank,
                   {blank(c_amt, "amount")} AS amount_blank,
                   {blank(margin_raw, margin_role) if margin_raw else "false"} AS margin_blank,
                   {dup} AS dup
            FROM raw_input
        )
        SELECT _row, customer_id, date, amount, margin, channel, product,
            CASE WHEN id_blank OR customer_id IS NULL THEN 'missing_id'
                 WHEN date_blank THEN 'missing_date'
                 WHEN date IS NULL THEN 'unparseable_date'
                 WHEN date < DATE {_lit(earliest_date.isoformat())} THEN 'early_date'
                 WHEN date > {today_sql} THEN 'future_date'
                 WHEN amount_blank THEN 'missing_amount'
                 WHEN amount IS NULL THEN 'unparseable_amount'
                 WHEN abs(amount) >= {int(MAX_AMOUNT)} THEN 'amount_too_large'
                 {margin_check}
                 {negative}
                 {"WHEN dup THEN 'duplicate'" if duplicates == "exclude" else ""}
            END AS rule, dup
        FROM parsed
    """)
    # One pass of the rules lists the excluded rows (usually few) with their reason;
    # the counts, the problem rows and the kept transactions are read from it. (A table
    # of the database, not a TEMP one: the view of the kept rows reads it, also from a
    # second connection, con.cursor(), that runs a query beside this one.)
    con.execute("CREATE TABLE excluded_rows AS SELECT _row, rule FROM checked "
                "WHERE rule IS NOT NULL")
    counts = dict(con.execute("SELECT rule, count(*) FROM excluded_rows GROUP BY rule")
                  .fetchall())
    excluded = {r: int(counts.get(r, 0)) for r in REASONS}
    n_excluded = sum(excluded.values())
    problems = (_problems(con, cols, max_problems) if n_excluded else
                problem_frame([], cols))
    if on_error == "raise" and len(problems):
        p = problems.iloc[0]
        raise InputError(p["message"], file=name, row=int(p["row"]), column=p["column"],
                         value=p["value"] if p["value"] is not None else "")
    # Typed sources (Parquet, typed DataFrames) stay a view: parsing them is a cast,
    # and the excluded rows are left out by an anti-join (the rules do not run again
    # in every later query). Text sources are parsed once into a table.
    kind = "TABLE" if any(text(r) for r in ("customer", "date", "amount")) else "VIEW"
    if kind == "VIEW":
        keep = "WHERE _row NOT IN (SELECT _row FROM excluded_rows)" if n_excluded else ""
        con.execute(
            f"CREATE VIEW transactions AS SELECT _row, {cust} AS customer_id, {date} AS date, "
            f"{amt} AS amount, {margin} AS margin, {channel} AS channel, {product} AS product "
            f"FROM raw_input {keep}"
        )
    else:
        con.execute(
            "CREATE TABLE transactions AS SELECT _row, customer_id, date, amount, margin, "
            "channel, product FROM checked WHERE rule IS NULL"
        )
    # integer ids (not text): their range, for the customer table's packed keys
    integer_ids = types[cols.customer].upper() in INTEGER_TYPES
    ids = "min(customer_id), max(customer_id)" if integer_ids else "NULL, NULL"
    kept, negative, first, last, widest, id_lo, id_hi = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE amount < 0), min(date), max(date), "
        f"greatest(max(abs(amount)), coalesce(max(abs(margin)), 0)), {ids} FROM transactions"
    ).fetchone()
    kept = int(kept)
    loaded = kept + n_excluded
    if loaded == 0:
        raise InputError("no transactions in the file", file=name)
    dups_kept = 0
    if n_dups and duplicates == "keep":
        dups_kept = int(con.execute(
            "SELECT count(*) FROM duplicate_rows WHERE _row NOT IN "
            "(SELECT _row FROM excluded_rows)").fetchone()[0])
    notes = {"returns_netted": int(negative) if returns == "net" else 0,
             "duplicates_kept": dups_kept}
    log = TransactionLog(source=name, loaded=loaded, excluded=excluded, kept=kept,
                         notes=notes, problems=problems)
    return Transactions(con=con, log=log, has_margin=margin_raw is not None, columns=cols,
                        known_date_range=(first, last),
                        known_max_abs=None if widest is None else float(widest),
                        known_id_range=None if id_lo is None else (int(id_lo), int(id_hi)))


def _find_duplicates(con: duckdb.DuckDBPyConnection, all_cols: str) -> int:
    """Create table ``duplicate_rows`` (``_row`` of every copy after the first); return its size.

    Exact duplicates are found by hashing each row, sorting the hashes in numpy and
    comparing, column by column, only the rows whose hash repeats: a GROUP BY over
    every column would build a hash table as large as the file.
    """
    # through a relation (con.sql): its rows stream into the arrays, where a result of
    # execute() is materialised first (a third of the time for ten million)
    hashes = np.asarray(
        con.sql(f"SELECT hash({all_cols}) AS h FROM raw_input").fetchnumpy()["h"])
    # sorted in place: NumPy's SIMD sort of 64-bit integers takes a tenth of a second
    # for ten million, less than copying them into halves to sort in two threads
    hashes.sort()
    repeated = np.unique(hashes[1:][hashes[1:] == hashes[:-1]])
    if len(repeated) == 0:
        return 0
    con.register("repeated_hashes", pd.DataFrame({"h": repeated}))
    con.execute(f"""
        CREATE TABLE duplicate_rows AS
        SELECT _row FROM (
            SELECT _row, row_number() OVER (PARTITION BY {all_cols} ORDER BY _row) AS copy
            FROM raw_input WHERE hash({all_cols}) IN (SELECT h FROM repeated_hashes)
        ) WHERE copy > 1
    """)
    con.unregister("repeated_hashes")
    return int(con.execute("SELECT count(*) FROM duplicate_rows").fetchone()[0])


def _problems(con: duckdb.DuckDBPyConnection, cols: TransactionColumns,
              limit: int | None) -> pd.DataFrame:
    cap = "" if limit is None else f" LIMIT {int(limit)}"
    rows = con.execute(
        f"SELECT e._row, r.* EXCLUDE (_row), e.rule FROM (SELECT * FROM excluded_rows "
        f"ORDER BY _row{cap}) e JOIN raw_input r USING (_row) ORDER BY e._row"
    ).df(date_as_object=True)  # a DATE cell is shown as its date, not a midnight timestamp
    return problem_frame(rows.to_dict("records"), cols)


def problem_frame(records: list[dict[str, Any]], cols: TransactionColumns) -> pd.DataFrame:
    """The problem list from excluded rows (dicts holding ``_row``, ``rule`` and the raw
    cells by column name): which column each rule names, its value, the message.
    Shared by the DuckDB and the Spark loaders."""
    out = []
    for rec in records:
        rule = rec["rule"]
        role = _COLUMN_OF_REASON[rule]
        if role == "margin" and cols.margin is None:
            role = "cost"
        column = getattr(cols, role) if role else None
        value = rec.get(column) if column else None
        customer = rec.get(cols.customer)
        out.append({
            "row": int(rec["_row"]),
            "customer": None if _missing(customer) else str(customer),
            "column": column,
            "value": None if _missing(value) else str(value),
            "rule": rule,
            "message": _MESSAGES[rule],
        })
    frame = pd.DataFrame(out, columns=["row", "customer", "column", "value", "rule", "message"])
    # text columns as objects holding None for an empty cell: pandas' inferred string
    # dtype would turn None into NaN, printed as 'nan'
    for column in ("customer", "column", "value"):
        frame[column] = pd.Series([None if _missing(v) else v for v in frame[column]],
                                  index=frame.index, dtype=object)
    return frame


def _missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _as_date(value: dt.date | str, what: str) -> dt.date:
    """:func:`parse_date` (kept for the callers that import this name)."""
    return parse_date(value, what)
