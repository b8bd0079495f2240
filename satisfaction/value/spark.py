"""The customer-value pipeline on Apache Spark.

When the transaction history outgrows one machine, the value analysis runs where
the data lives, on an existing Spark cluster, in three steps:

1. **Customer table in the engine.** The one query of
   :mod:`satisfaction.value.customers` (kept once, in DuckDB's dialect) is
   transpiled by sqlglot and run by Spark SQL: one row per customer.
2. **Model fitting on the driver.** The CLV likelihoods depend on a customer only
   through (x, t_x, T) (BG/NBD, Pareto/NBD) and (x, z̄) (Gamma-Gamma), so Spark
   returns the distinct tuples with their counts — a few thousand rows whatever
   the number of customers for the first — and the fitting code of
   :mod:`satisfaction.value.clv` runs on them with ``weights``.
3. **Scoring in the engine.** The population figures the scores need (the RFM
   quintile cut points, the means, the median inter-purchase time, the ABC
   cumulative shares) are computed by Spark; then every partition is scored by
   :func:`score_customers` through ``mapInPandas``, which calls the same numpy
   functions as the DuckDB pipeline (P(alive), expected and discounted purchases,
   expected spend, lifecycle stages). The result stays a Spark DataFrame and can
   be written as Parquet files or saved as a table.

Quintile scores without a global rank. :func:`satisfaction.value.rfm.quantile_scores`
gives ``1 + floor(5 (rank_min − 1) / n)`` where ``rank_min − 1 = #{values worse than
v}``. Since ``floor(5m/n) ≥ k ⟺ m ≥ ⌈kn/5⌉`` and ``#{w < v} ≥ c ⟺ v > w₍c₎`` (the c-th
smallest value), the score is ``1 + #{k = 1..4 : v > w₍⌈kn/5⌉₎}``: four exact order
statistics per measure, found by one distributed sort, give every customer's score
in its own partition.

PySpark is an optional extra: ``pip install "satisfaction[spark]"`` (it needs a Java
runtime, e.g. Debian's ``default-jre-headless``).
"""

from __future__ import annotations

import datetime as dt
import math
import os
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from satisfaction.errors import InputError, UsageError
from satisfaction.value.clv import (
    BGNBDFit,
    GammaGammaFit,
    ParetoNBDFit,
    fit_bgnbd,
    fit_gamma_gamma,
    fit_pareto_nbd,
    per_unit_discount,
)
from satisfaction.value.customers import TIME_UNITS, customer_table_sql
from satisfaction.value.lifecycle import STAGES, lifecycle_stages
from satisfaction.value.rfm import DEFAULT_SEGMENTS, VALUE_GROUPS
from satisfaction.value.transactions import (
    _DATE_FORMATS,
    _DECIMAL_COMMA,
    _NUMBER,
    _THOUSANDS,
    CURRENCY_PATTERN,
    EARLIEST_DATE,
    MAX_AMOUNT,
    MISSING_TEXTS,
    REASONS,
    SPACE_SEPARATORS,
    TransactionColumns,
    TransactionLog,
    _as_date,
    csv_encoding,
    problem_frame,
)

INSTALL_HINT = ('the Spark engine needs PySpark and a Java runtime: pip install '
                '"satisfaction[spark]" (and e.g. apt-get install default-jre-headless)')

#: Columns of the scored per-customer table, in order.
SCORED_COLUMNS: tuple[str, ...] = (
    "customer_id", "recency", "frequency", "monetary", "r_score", "f_score", "m_score",
    "rfm_segment", "value_group", "abc_class", "lifecycle_stage", "historical_value",
    "p_alive", "expected_purchases", "expected_spend", "clv",
)


def require_pyspark() -> Any:
    """Import pyspark, or raise a UsageError that says how to install it."""
    try:
        import pyspark  # noqa: F401
        import sqlglot  # noqa: F401
        from pyspark.sql import SparkSession
    except ImportError:
        raise UsageError(INSTALL_HINT) from None
    return SparkSession


def spark_session(master: str = "local[*]", app_name: str = "satisfaction",
                  config: dict[str, str] | None = None) -> Any:
    """A Spark session (created, or the active one), quiet and without the web UI.

    ``master`` is ``local[N]`` for one machine or a cluster URL
    (``spark://host:7077``, ``yarn``, ``k8s://…``).
    """
    session = require_pyspark()
    builder = session.builder.master(master).appName(app_name)
    settings = {"spark.ui.enabled": "false", "spark.ui.showConsoleProgress": "false",
                "spark.sql.session.timeZone": "UTC"}
    if master.startswith("local"):
        # executors run the scoring functions: in local mode, in this very interpreter
        settings["spark.pyspark.python"] = sys.executable
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    settings.update(config or {})
    for key, value in settings.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


# ---------------------------------------------------------------------------
# transactions: the validation rules of satisfaction.value.transactions, in Spark SQL
# ---------------------------------------------------------------------------
# One source of truth, two renderers. The rules are data kept once in
# satisfaction.value.transactions (MISSING_TEXTS, CURRENCY_PATTERN, the thousands,
# decimal-comma and number patterns, _DATE_FORMATS, REASONS and their order); the
# DuckDB loader renders them as DuckDB SQL, and the functions below render the same
# data as Spark SQL. Transpiling the DuckDB expressions with sqlglot (as is done for
# the customer-table query) does not work here: sqlglot passes regexp_full_match,
# isfinite and try_strptime(text, [formats]) through unchanged, and Spark has none of
# them. What differs between the engines is handled where it is rendered:
#
# * Regular expressions: DuckDB uses RE2, Spark Java regex. Our patterns use only
#   the common subset; two meanings differ and are rewritten by _java_regex: ``\s``
#   (Java adds the vertical tab) and ``$`` (Java also matches before a final line
#   break; ``\z`` does not). ``RLIKE`` finds, so full matches are anchored ``^(?:…)\z``.
# * Dates: DuckDB's strptime reads every numeric field greedily with 1 to its width
#   digits (``2024-3-1`` is a date, ``%Y`` reads 1-4 digits), a blank in the format
#   matches one or more blanks, and trailing blanks are ignored. Java date patterns do
#   not read that way, so each strptime format becomes a regular expression with
#   possessive quantifiers (greedy, never giving digits back, as strptime); its fields
#   are padded into ``yyyy-MM-dd HH:mm:ss``, which ``try_to_date`` checks (Feb 30, hour
#   24 and second 60 are not dates). Year 0 is not a date on Spark (DuckDB reads
#   ``0000-01-01`` as 1 BC); years have at most four digits on both.
# * ANSI mode (on by default in Spark 4): the expressions use only try_cast,
#   try_to_date and regular expressions, which never raise, so the result is the
#   same with spark.sql.ansi.enabled true or false (tested both ways).

def _lit(text: str) -> str:
    """A Spark SQL string literal (backslash escapes: ``''`` would concatenate)."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


_RE2_SPACE = "\\t\\n\\f\\r "


def _java_regex(pattern: str) -> str:
    """An RE2 pattern (as DuckDB reads it) rewritten so that Java reads it alike."""
    out, in_class, i = [], False, 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            pair = pattern[i:i + 2]
            if pair == "\\s":
                out.append(_RE2_SPACE if in_class else f"[{_RE2_SPACE}]")
            else:
                out.append(pair)
            i += 2
            continue
        if ch == "[" and not in_class:
            in_class = True
        elif ch == "]" and in_class:
            in_class = False
        elif ch == "$" and not in_class:
            ch = "\\z"
        out.append(ch)
        i += 1
    return "".join(out)


def _full_match(expr: str, pattern: str) -> str:
    """``regexp_full_match`` of DuckDB, in Spark SQL."""
    return f"({expr} RLIKE {_lit('^(?:' + _java_regex(pattern) + ')' + chr(92) + 'z')})"


#: The Unicode space separators (category Zs), which DuckDB's trim strips.
_ZS = SPACE_SEPARATORS


def spark_trim_sql(expr: str) -> str:
    """DuckDB's ``trim``: strips Unicode space separators (the space, the no-break
    space, the ideographic space U+3000, …), where Spark's plain ``trim`` strips the
    space only. A character-set trim, no regular expression."""
    return f"trim(BOTH {_lit(_ZS)} FROM CAST({expr} AS STRING))"


def spark_blank_sql(expr: str, is_text: bool) -> str:
    """Spark SQL: the cell is empty (NULL, or a text of MISSING_TEXTS when a text column)."""
    if not is_text:
        return f"({expr} IS NULL)"
    texts = ", ".join(_lit(t) for t in MISSING_TEXTS)
    return f"({expr} IS NULL OR lower({spark_trim_sql(expr)}) IN ({texts}))"


def _finite(expr: str) -> str:
    # NaN sorts above infinity in Spark, so this is false for NaN and ±inf alike
    return f"(CASE WHEN abs({expr}) < double('inf') THEN {expr} END)"


def spark_amount_sql(expr: str, is_text: bool) -> tuple[list[str], str]:
    """Spark SQL reading an amount like :func:`~satisfaction.value.transactions.amount_sql`.

    Returns the intermediate expressions (each to be computed in its own projection,
    each referring to the one before as ``{prev}``) and the final one, so that the
    text is cleaned once per row instead of once per rule.
    """
    if not is_text:
        return [], _finite(f"try_cast({expr} AS DOUBLE)")
    currency = _lit(_java_regex(CURRENCY_PATTERN))
    # Fast path, without regular expressions: a text of digits, signs, points and
    # exponents has nothing to strip or separate, and Java reads such a text as a
    # number exactly when it matches _NUMBER (its decimal grammar, without the type
    # suffixes, hex floats and Infinity that use other letters).
    raw = f"CAST({expr} AS STRING)"

    def plain(text: str) -> str:
        return f"translate({text}, '0123456789.+-eE', '') = ''"

    cleaned = (f"CASE WHEN {plain(raw)} THEN {raw} "
               f"ELSE regexp_replace({spark_trim_sql(expr)}, {currency}, '') END")
    s = "{prev}"
    separators = (f"CASE WHEN {plain(s)} THEN {s} "
                  f"WHEN {_full_match(s, _THOUSANDS)} THEN replace({s}, ',', '') "
                  f"WHEN {_full_match(s, _DECIMAL_COMMA)} THEN replace({s}, ',', '.') "
                  f"ELSE {s} END")
    number = (f"(CASE WHEN {plain(s)} OR {_full_match(s, _NUMBER)} "
              f"THEN try_cast({s} AS DOUBLE) END)")
    return [cleaned, separators], _finite(number)


_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august",
           "september", "october", "november", "december")
#: strptime numeric directives: (field, most digits read)
_NUMERIC_DIRECTIVES = {"Y": ("year", 4), "y": ("year2", 2), "m": ("month", 2),
                       "d": ("day", 2), "H": ("hour", 2), "M": ("minute", 2),
                       "S": ("second", 2), "f": ("fraction", 6)}


def strptime_regex(fmt: str) -> tuple[str, list[str]]:
    """A strptime format (DuckDB's reading) as a Java regular expression.

    Returns the pattern (anchored, to be used with RLIKE and regexp_extract) and the
    field read by each capturing group. Supported: ``%Y %y %m %d %H %M %S %f %b %B
    %%``, blanks and literal text; anything else raises a UsageError.
    """
    parts, fields, i = ["^"], [], 0
    while i < len(fmt):
        ch = fmt[i]
        if ch == "%" and i + 1 < len(fmt):
            d = fmt[i + 1]
            i += 2
            if d in _NUMERIC_DIRECTIVES:
                field_name, width = _NUMERIC_DIRECTIVES[d]
                parts.append(f"([0-9]{{1,{width}}}+)")
                fields.append(field_name)
            elif d == "b":
                parts.append("((?i:" + "|".join(m[:3] for m in _MONTHS) + "))")
                fields.append("month_name")
            elif d == "B":
                parts.append("((?i:" + "|".join(_MONTHS) + "))")
                fields.append("month_name")
            elif d == "%":
                parts.append("%")
            else:
                raise UsageError(f"the Spark engine reads dates written with %Y %y %m %d %H "
                                 f"%M %S %f %b %B, not %{d}", column="date_format", value=fmt)
            continue
        if ch.isspace():
            parts.append(f"[{_RE2_SPACE}]+")
        else:
            parts.append("\\Q" + ch + "\\E" if not ch.isalnum() else ch)
        i += 1
    parts.append(f"[{_RE2_SPACE}]*\\z")
    return "".join(parts), fields


def _strptime_sql(text: str, fmt: str) -> str:
    """Spark SQL: the date ``text`` holds in ``fmt``, NULL when it holds none."""
    pattern, fields = strptime_regex(fmt)

    def group(name: str) -> str | None:
        if name not in fields:
            return None
        return f"regexp_extract({text}, {_lit(pattern)}, {len(fields) - fields[::-1].index(name)})"

    year = group("year")
    if year is None and "year2" in fields:  # as strptime: 69-99 is 19xx, 00-68 is 20xx
        y2 = f"try_cast({group('year2')} AS INT)"
        year = f"CAST(CASE WHEN {y2} < 69 THEN 2000 + {y2} ELSE 1900 + {y2} END AS STRING)"
    month = group("month")
    if month is None and "month_name" in fields:
        name = f"lower(substr({group('month_name')}, 1, 3))"
        month = ("CASE " + " ".join(f"WHEN {name} = {_lit(m[:3])} THEN '{k}'"
                                    for k, m in enumerate(_MONTHS, start=1)) + " END")
    pieces = [(year, "1900", 4), (month, "1", 2), (group("day"), "1", 2),
              (group("hour"), "0", 2), (group("minute"), "0", 2), (group("second"), "0", 2)]
    padded = [f"lpad({p}, {w}, '0')" if p else _lit(default.rjust(w, "0"))
              for p, default, w in pieces]
    iso = (f"concat({padded[0]}, '-', {padded[1]}, '-', {padded[2]}, ' ', {padded[3]}, ':', "
           f"{padded[4]}, ':', {padded[5]})")
    return (f"(CASE WHEN {text} RLIKE {_lit(pattern)} "
            f"THEN try_to_date({iso}, 'yyyy-MM-dd HH:mm:ss') END)")


def spark_date_sql(expr: str, kind: Literal["date", "integer", "text"],
                   date_format: str | None = None) -> str:
    """Spark SQL reading a date like the DuckDB loader: date and timestamp columns are
    cast; integers are read as ``%Y%m%d``; text is tried against ``date_format`` or
    else each of ``_DATE_FORMATS`` in turn (the first that reads it wins)."""
    if kind == "date":
        return f"CAST({expr} AS DATE)"
    if kind == "integer":  # 19970101
        return _strptime_sql(f"CAST({expr} AS STRING)", "%Y%m%d")
    text = spark_trim_sql(expr)
    formats = (date_format,) if date_format else _DATE_FORMATS
    general = "coalesce(" + ", ".join(_strptime_sql(text, f) for f in formats) + ")"
    if date_format is None and formats[0] == "%Y-%m-%d":
        # the common case, ISO dates, by a look at the characters and a direct parse
        iso = (f"length({text}) = 10 AND substr({text}, 5, 1) = '-' AND "
               f"substr({text}, 8, 1) = '-' AND translate({text}, '0123456789', '') = '--' "
               f"AND substr({text}, 1, 4) <> '0000'")
        # Spark's own cast reads exactly this shape, twice as fast as a date pattern
        return f"(CASE WHEN {iso} THEN try_cast({text} AS DATE) ELSE {general} END)"
    return general


@dataclass
class SparkTransactions:
    """Validated transactions held by Spark as the temporary view ``view``.

    Attributes
    ----------
    spark : SparkSession
    view : str
        Temporary view with columns customer_id (string), date (date), amount,
        margin (double).
    log : TransactionLog
        Rows loaded, kept and excluded by reason, and the first ``max_problems``
        excluded rows (see :func:`spark_transactions` for what their ``row`` is).
    has_margin : bool
    date_range : (date, date)
    """

    spark: Any
    view: str
    log: TransactionLog
    has_margin: bool
    date_range: tuple[dt.date | None, dt.date | None]


def _q(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _sniff_csv(path: Path) -> tuple[str, str]:
    """Encoding (UTF-8, else GB18030, as the DuckDB loader) and delimiter (the most
    frequent of ``, ; tab |`` in the header line, else a comma) of a CSV file."""
    raw = path.read_bytes()[:4096]
    codec = csv_encoding(raw)
    if codec.startswith("utf-16"):
        raise InputError("a UTF-16 text file: the Spark engine reads CSV in UTF-8 or GB18030; "
                         "save it as UTF-8, or use --engine duckdb", file=str(path))
    encoding = codec.upper()   # Spark's charset names: UTF-8, GB18030
    header = raw.decode(codec, errors="ignore")
    header = header.lstrip("\ufeff").splitlines()[0] if header.strip() else ""
    counts = {sep: header.count(sep) for sep in (",", ";", "\t", "|")}
    best = max(counts, key=lambda s: counts[s])
    return encoding, best if counts[best] else ","


def _spark_kind(data_type: Any) -> str:
    """How the loader reads a column of this Spark type: text, integer, date or number."""
    name = data_type.typeName()
    if name in ("string", "varchar", "char", "void"):
        return "text"
    if name in ("integer", "long"):
        return "integer"
    if name in ("date", "timestamp", "timestamp_ntz"):
        return "date"
    return "number"


def spark_transactions(
    spark: Any,
    source: Any,
    columns: TransactionColumns | None = None,
    *,
    returns: Literal["net", "exclude"] = "net",
    today: dt.date | str | None = None,
    date_format: str | None = None,
    on_error: Literal["exclude", "raise"] = "exclude",
    duplicates: Literal["exclude", "keep"] = "exclude",
    max_problems: int = 1000,
) -> SparkTransactions:
    """Check transactions held by Spark and register the kept rows as a view.

    Every row is kept or excluded exactly as by
    :func:`satisfaction.value.transactions.load_transactions`: the same exclusion
    reasons in the same order of precedence (:data:`~satisfaction.value.transactions.REASONS`),
    the same empty-cell texts (``NA``, ``n/a``, ``null``, ``-``, …), amounts written with
    currency signs or codes, thousands separators or a decimal comma (``"¥1,234.50"``,
    ``"$ 12.00"``, ``"12,5"``, ``"CNY 30"``), and dates as ``YYYY-MM-DD``, ``YYYY/MM/DD``,
    ``YYYYMMDD``, optionally with a time, or in ``date_format``. The rules are rendered
    in Spark SQL from the same definitions as the DuckDB ones (see the comment above
    :func:`_lit`) and tested to give the same log and the same kept rows.

    Parameters
    ----------
    spark : SparkSession
    source : pyspark.sql.DataFrame, table name, or path
        A Spark DataFrame, the name of a table in the catalog, or a Parquet file or
        folder / CSV file (read by Spark: the data stays in the engine; a CSV is read
        as UTF-8 or else GB18030, its delimiter taken from the header line, with
        ``""`` as the quote escape; quoted line breaks are not supported).
    columns, returns, today, date_format, on_error, duplicates, max_problems
        As :func:`satisfaction.value.transactions.load_transactions`. ``date_format``
        may use ``%Y %y %m %d %H %M %S %f %b %B``.

    Returns
    -------
    SparkTransactions
        Its ``log.problems`` lists the first ``max_problems`` excluded rows in row
        order. ``row`` is the line of the file for a CSV (the first data row is 2), the
        row of its Parquet file + 2 for Parquet (as the DuckDB loader; in a folder of
        Parquet files, the row within its own file, listed file by file), and for a
        Spark DataFrame or catalog table the position from 0 in the DataFrame's
        partition order (for a DataFrame made by ``spark.createDataFrame(pandas_frame)``
        that is the pandas position, as the DuckDB loader gives for a DataFrame).
        The row numbers cost one count per partition, and only when a row is excluded.
    """
    from pyspark.sql import DataFrame
    from pyspark.sql import functions as F

    if returns not in ("net", "exclude"):
        raise UsageError("returns must be 'net' or 'exclude'", value=returns)
    if duplicates not in ("exclude", "keep"):
        raise UsageError("duplicates must be 'exclude' or 'keep'", value=duplicates)
    if on_error not in ("exclude", "raise"):
        raise UsageError("on_error must be 'exclude' or 'raise'", value=on_error)
    cols = columns or TransactionColumns()
    if cols.margin is not None and cols.cost is not None:
        raise UsageError("give a margin column or a cost column, not both")
    today_date = _as_date(today, "today") if today is not None else dt.date.today()
    if date_format is not None:
        strptime_regex(date_format)  # a UsageError now rather than a failed job later
    file_kind = None
    if isinstance(source, DataFrame):
        frame, name = source, "<Spark DataFrame>"
    else:
        name = str(source)
        path = Path(name)
        if path.exists():
            if path.is_dir() or path.suffix.lower() in (".parquet", ".pq"):
                frame, file_kind = spark.read.parquet(str(path)), "parquet"
            elif path.suffix.lower() == ".csv":
                encoding, sep = _sniff_csv(path)
                frame = (spark.read.option("encoding", encoding).option("sep", sep)
                         .option("escape", '"').csv(str(path), header=True, inferSchema=False))
                file_kind = "csv"
            else:
                raise InputError("the Spark engine reads Parquet or CSV; expected one of them",
                                 file=name, value=path.suffix)
        elif spark.catalog.tableExists(name):
            frame = spark.table(name)
        else:
            raise InputError("no such file or table", file=name)
    available = frame.columns
    for role, column in cols.used().items():
        if column not in available:
            raise InputError(f"no {role} column {column!r}; the data has columns: "
                             + ", ".join(repr(c) for c in available[:20]),
                             file=name, column=column)
    kinds = {f.name: _spark_kind(f.dataType) for f in frame.schema.fields}

    # Where each row is: (file, block, position) orders the rows as in the source.
    if file_kind == "parquet":
        located = frame.selectExpr("*", "_metadata.file_path AS c__file", "0L AS c__block",
                                   "_metadata.row_index AS c__pos")
    elif file_kind == "csv":
        located = frame.selectExpr("*", "_metadata.file_path AS c__file",
                                   "_metadata.file_block_start AS c__block",
                                   "monotonically_increasing_id() AS c__pos")
    else:
        located = frame.selectExpr("*", "'' AS c__file", "spark_partition_id() AS c__block",
                                   "monotonically_increasing_id() AS c__pos")
    raw = f"satisfaction_raw_{uuid.uuid4().hex[:12]}"
    located.createOrReplaceTempView(raw)

    def text(role: str) -> bool:
        column = getattr(cols, role)
        return column is not None and kinds[column] == "text"

    def amount_columns(column: str, prefix: str) -> tuple[list[str], list[str], str]:
        """Projections computing an amount in stages; returns (stage 1, stage 2, final)."""
        stages, final = spark_amount_sql(_q(column), kinds[column] == "text")
        if not stages:
            return [], [], final
        first = f"{stages[0]} AS {prefix}1"
        second = stages[1].replace("{prev}", f"{prefix}1") + f" AS {prefix}2"
        return [first], [second], final.replace("{prev}", f"{prefix}2")

    a1, a2, amount = amount_columns(cols.amount, "c__a")
    if cols.margin is not None:
        m1, m2, margin = amount_columns(cols.margin, "c__m")
        margin_raw = cols.margin
    elif cols.cost is not None:
        m1, m2, cost = amount_columns(cols.cost, "c__m")
        margin, margin_raw = f"(c__amount - {cost})", cols.cost
    else:
        m1, m2, margin, margin_raw = [], [], "CAST(NULL AS DOUBLE)", None
    date_kind = kinds[cols.date] if kinds[cols.date] != "number" else "text"
    date = spark_date_sql(_q(cols.date), date_kind, date_format)  # type: ignore[arg-type]
    customer = (f"nullif({spark_trim_sql(_q(cols.customer))}, '')" if text("customer")
                else f"CAST({_q(cols.customer)} AS STRING)")
    all_cols = ", ".join(_q(c) for c in available)
    order = "c__file, c__block, c__pos"
    # the first copy in the source is kept, as by the DuckDB loader
    dup = f"row_number() OVER (PARTITION BY {all_cols} ORDER BY {order}) > 1"
    first = ", ".join([*a1, *m1, f"{date} AS c__date", f"{dup} AS c__dup"])
    stage1 = spark.sql(f"SELECT *, {first} FROM {raw}")
    stage2 = stage1.selectExpr("*", *a2, *m2)
    parsed = stage2.selectExpr("*", f"{amount} AS c__amount").selectExpr(
        "*", f"{margin} AS c__margin", f"{customer} AS c__id")
    # One pass classifies every row; the first failing rule names the reason.
    checks = [
        f"WHEN {spark_blank_sql(_q(cols.customer), text('customer'))} OR c__id IS NULL "
        "THEN 'missing_id'",
        f"WHEN {spark_blank_sql(_q(cols.date), text('date'))} THEN 'missing_date'",
        "WHEN c__date IS NULL THEN 'unparseable_date'",
        f"WHEN c__date < DATE '{EARLIEST_DATE.isoformat()}' THEN 'early_date'",
        f"WHEN c__date > DATE '{today_date.isoformat()}' THEN 'future_date'",
        f"WHEN {spark_blank_sql(_q(cols.amount), text('amount'))} THEN 'missing_amount'",
        "WHEN c__amount IS NULL THEN 'unparseable_amount'",
        f"WHEN abs(c__amount) >= {int(MAX_AMOUNT)} THEN 'amount_too_large'",
    ]
    if margin_raw is not None:
        role = "margin" if cols.margin is not None else "cost"
        checks.append(f"WHEN NOT {spark_blank_sql(_q(margin_raw), text(role))} "
                      "AND c__margin IS NULL THEN 'unparseable_margin'")
        checks.append(f"WHEN abs(c__margin) >= {int(MAX_AMOUNT)} THEN 'margin_too_large'")
    if returns == "exclude":
        checks.append("WHEN c__amount < 0 THEN 'negative_amount'")
    if duplicates == "exclude":
        checks.append("WHEN c__dup THEN 'duplicate'")
    checked = parsed.selectExpr("*", f"CASE {' '.join(checks)} END AS c__rule").cache()
    rows = checked.groupBy("c__rule").agg(
        F.expr("count(*)").alias("n"), F.expr("count_if(c__amount < 0)").alias("neg"),
        F.expr("count_if(c__dup)").alias("dups")).collect()
    counts = {r["c__rule"]: int(r["n"]) for r in rows}
    kept_row = next((r for r in rows if r["c__rule"] is None), None)
    loaded = sum(counts.values())
    if loaded == 0:
        raise InputError("no transactions in the data", file=name)
    problems = _spark_problems(checked, cols, max_problems, base=0 if file_kind is None else 2)
    if on_error == "raise" and len(problems):
        p = problems.iloc[0]
        raise InputError(p["message"], file=name, row=int(p["row"]), column=p["column"],
                         value=p["value"] if p["value"] is not None else "")
    view = f"satisfaction_tx_{uuid.uuid4().hex[:12]}"
    kept_frame = checked.filter("c__rule IS NULL").selectExpr(
        "c__id AS customer_id", "c__date AS date", "c__amount AS amount",
        "c__margin AS margin")
    kept_frame.createOrReplaceTempView(view)
    stats = spark.sql(f"SELECT min(date) AS lo, max(date) AS hi FROM {view}").collect()[0]
    neg = int(kept_row["neg"]) if kept_row is not None else 0
    dups = int(kept_row["dups"]) if kept_row is not None else 0
    log = TransactionLog(
        source=name, loaded=loaded, excluded={r: counts.get(r, 0) for r in REASONS},
        kept=counts.get(None, 0),
        notes={"returns_netted": neg if returns == "net" else 0,
               "duplicates_kept": dups if duplicates == "keep" else 0},
        problems=problems)
    return SparkTransactions(spark=spark, view=view, log=log,
                             has_margin=margin_raw is not None,
                             date_range=(stats["lo"], stats["hi"]))


def _spark_problems(checked: Any, cols: TransactionColumns, limit: int,
                    base: int) -> pd.DataFrame:
    """The first ``limit`` excluded rows in source order, with their row numbers.

    A row's number is ``base`` + the rows of the earlier blocks of its file + its
    position in its block (a block is a split of a CSV file, a Parquet file, or a
    partition of a DataFrame: within one, positions grow in source order). Only the
    listed rows reach the driver, with one row count per block.
    """
    from pyspark.sql import functions as F

    if limit <= 0:
        return problem_frame([], cols)
    wanted = [c for c in dict.fromkeys(cols.used().values())]
    first = (checked.filter("c__rule IS NOT NULL")
             .orderBy("c__file", "c__block", "c__pos").limit(int(limit))
             .select(*[_q(c) for c in wanted], "c__file", "c__block", "c__pos", "c__rule")
             .collect())
    if not first:
        return problem_frame([], cols)
    blocks = checked.groupBy("c__file", "c__block").agg(
        F.expr("count(*)").alias("n"), F.expr("min(c__pos)").alias("start")).collect()
    offset: dict[tuple[str, int], tuple[int, int]] = {}
    before: dict[str, int] = {}
    for b in sorted(blocks, key=lambda r: (r["c__file"], r["c__block"])):
        done = before.get(b["c__file"], 0)
        offset[(b["c__file"], b["c__block"])] = (done, int(b["start"]))
        before[b["c__file"]] = done + int(b["n"])
    records = []
    for r in first:
        done, start = offset[(r["c__file"], r["c__block"])]
        rec = {c: r[c] for c in wanted}
        rec["_row"] = base + done + int(r["c__pos"]) - start
        rec["rule"] = r["c__rule"]
        records.append(rec)
    return problem_frame(records, cols)


# ---------------------------------------------------------------------------
# customer table and sufficient statistics
# ---------------------------------------------------------------------------
@dataclass
class SparkCustomerTable:
    """The customer table as a Spark DataFrame (columns of
    :class:`~satisfaction.value.customers.CustomerTable`, plus customer_id)."""

    frame: Any
    period_end: dt.date
    holdout_end: dt.date
    time_unit: str
    unit_days: float
    has_margin: bool
    counts: dict[str, int]


def spark_customer_table(transactions: SparkTransactions, period_end: dt.date | str | None = None,
                         time_unit: Literal["day", "week", "month"] = "week",
                         holdout_end: dt.date | str | None = None) -> SparkCustomerTable:
    """Run the customer-table query (:func:`~satisfaction.value.customers.customer_table_sql`,
    transpiled to Spark SQL) on the transactions; same arguments and defaults as
    :func:`~satisfaction.value.customers.customer_table`."""
    if time_unit not in TIME_UNITS:
        raise UsageError("time unit must be day, week or month", column="time_unit",
                         value=time_unit)
    lo, hi = transactions.date_range
    end = _as_date(period_end, "period_end") if period_end is not None else hi
    hold = _as_date(holdout_end, "holdout_end") if holdout_end is not None else hi
    if end is None or hold is None:
        raise UsageError("no transactions to aggregate")
    if lo is not None and end < lo:
        raise UsageError(f"period end is before the first transaction ({lo})",
                         column="period_end", value=str(end))
    hold = max(hold, end)
    unit = TIME_UNITS[time_unit]
    spark = transactions.spark
    sql = customer_table_sql(end, hold, unit, dialect="spark", source=transactions.view)
    raw = spark.sql(sql)
    # customers first seen after the period end have no calibration transaction
    kept = raw.filter("transactions > 0")
    kept = kept.cache()
    c = raw.selectExpr(
        "count(*) AS n", "count_if(transactions > 0) AS kept",
        "count_if(transactions > 0 AND occasions = 0) AS returns_only").collect()[0]
    n = int(c["kept"])
    counts = {"customers": n, "modelled": n - int(c["returns_only"]),
              "returns_only": int(c["returns_only"]),
              "first_purchase_after_period_end": int(c["n"]) - n}
    return SparkCustomerTable(frame=kept, period_end=end, holdout_end=hold,
                              time_unit=time_unit, unit_days=unit,
                              has_margin=transactions.has_margin, counts=counts)


def sufficient_statistics(table: SparkCustomerTable) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The CLV models' sufficient statistics, computed by the engine.

    Returns
    -------
    rfm : pandas.DataFrame
        Distinct (frequency, t_x, T) of the purchasers with their count ``n``.
    spend : pandas.DataFrame
        Distinct (frequency, monetary_value) of the repeat buyers with a positive
        mean repeat spend, with their count ``n``.
    """
    f = table.frame.filter("occasions > 0")
    rfm = f.groupBy("frequency", "t_x", "T").count().toPandas()
    spend = f.filter("frequency > 0 AND monetary_value > 0").groupBy(
        "frequency", "monetary_value").count().toPandas()
    return (rfm.rename(columns={"count": "n"}), spend.rename(columns={"count": "n"}))


def _order_statistics(frame: Any, column: str, positions: list[int]) -> dict[int, float]:
    """Exact order statistics (1-based positions in ascending order) by one distributed
    sort; only the requested values reach the driver."""
    wanted = {p - 1 for p in positions}
    ordered = frame.select(column).orderBy(column).rdd.map(lambda row: row[0]).zipWithIndex()
    found = ordered.filter(lambda pair: pair[1] in wanted).collect()
    return {int(i) + 1: float(v) for v, i in found}


def _cumulative_before(frame: Any, column: str, total: float) -> Any:
    """Add ``abc_before``: the revenue share of the customers ranked before each one
    (revenue descending, ties by customer id), as a distributed prefix sum: each
    partition of the sorted table is summed, then offsets by the partitions before."""
    from pyspark.sql import Row

    ordered = frame.select("customer_id", column).orderBy(
        frame[column].desc(), frame["customer_id"].asc())
    rdd = ordered.rdd

    def part_sum(i: int, rows: Iterator[Any]) -> Iterator[tuple[int, float]]:
        x = np.array([r[1] for r in rows], dtype=float)
        yield i, float(np.cumsum(x / total)[-1]) if len(x) and total > 0 else 0.0

    sums = dict(rdd.mapPartitionsWithIndex(part_sum).collect())
    offsets, acc = {}, 0.0
    for i in sorted(sums):
        offsets[i] = acc
        acc += sums[i]

    def prefix(i: int, rows: Iterator[Any]) -> Iterator[Any]:
        rows = list(rows)
        x = np.array([r[1] for r in rows], dtype=float)
        share = x / total if total > 0 else x * 0.0
        before = offsets[i] + np.cumsum(share) - share
        for r, b in zip(rows, before, strict=True):
            yield Row(customer_id=r[0], abc_before=float(b))

    spark = frame.sparkSession
    return spark.createDataFrame(rdd.mapPartitionsWithIndex(prefix),
                                 "customer_id string, abc_before double")


# ---------------------------------------------------------------------------
# scoring
# ---------------------------------------------------------------------------
@dataclass
class ScoringState:
    """Everything a partition needs to score its customers (small, sent to executors).

    Attributes
    ----------
    cuts : dict
        For "recency" (as −recency: larger is better), "frequency" and "monetary",
        the order statistics w₍⌈kn/5⌉₎, k = 1..4 (see the module notes).
    means : dict
        Population means of recency, frequency, monetary (value-group cut points).
    typical_ipt : float
        Median inter-purchase time of the repeat buyers, days.
    """

    period_end: dt.date
    cuts: dict[str, list[float]]
    means: dict[str, float]
    typical_ipt: float
    abc_thresholds: tuple[float, float]
    horizon: int
    discount_per_unit: float
    has_margin: bool
    overall_margin_ratio: float
    bgnbd: BGNBDFit | None = None
    pareto_nbd: ParetoNBDFit | None = None
    gamma_gamma: GammaGammaFit | None = None


def _scores(values: np.ndarray, cuts: list[float]) -> np.ndarray:
    return 1 + sum((values > c).astype(int) for c in cuts)


def score_customers(part: pd.DataFrame, state: ScoringState) -> pd.DataFrame:
    """Score one partition of the customer table (purchasers), given the population
    figures in ``state``: the columns of :data:`SCORED_COLUMNS`.

    Uses the same functions as :func:`satisfaction.value.pipeline.value_analysis`
    (the fitted models' ``p_alive``, ``expected_purchases``, ``discounted_purchases``,
    ``expected_spend``; :func:`~satisfaction.value.lifecycle.lifecycle_stages`) and
    gives the same values (tests/test_spark.py).
    """
    recency = part["recency_days"].to_numpy(dtype=float)
    occasions = part["occasions"].to_numpy(dtype=float)
    revenue = part["revenue"].to_numpy(dtype=float)
    out = pd.DataFrame({"customer_id": part["customer_id"].astype(str).to_numpy(),
                        "recency": recency, "frequency": occasions.astype("int64"),
                        "monetary": revenue})
    out["r_score"] = _scores(-recency, state.cuts["recency"])
    out["f_score"] = _scores(occasions, state.cuts["frequency"])
    out["m_score"] = _scores(revenue, state.cuts["monetary"])
    r_hi = recency < state.means["recency"]
    f_hi = occasions > state.means["frequency"]
    m_hi = revenue > state.means["monetary"]
    groups = np.empty(len(part), dtype=object)
    for key, name in VALUE_GROUPS.items():
        groups[(r_hi == key[0]) & (f_hi == key[1]) & (m_hi == key[2])] = name
    seg = np.full(len(part), "others", dtype=object)
    free = np.ones(len(part), dtype=bool)
    r, f, m = (out[c].to_numpy() for c in ("r_score", "f_score", "m_score"))
    for rule in DEFAULT_SEGMENTS:
        hit = free & (r >= rule.r[0]) & (r <= rule.r[1]) & (f >= rule.f[0]) & (
            f <= rule.f[1]) & (m >= rule.m[0]) & (m <= rule.m[1])
        seg[hit] = rule.name
        free &= ~hit
    out["rfm_segment"] = seg
    out["value_group"] = groups
    a, b = state.abc_thresholds
    x = np.clip(np.nan_to_num(revenue, nan=0.0), 0.0, None)
    before = part["abc_before"].to_numpy(dtype=float)
    out["abc_class"] = np.where((before < a) & (x > 0), "A",
                                np.where((before < b) & (x > 0), "B", "C"))
    life = lifecycle_stages(part.assign(first_purchase=pd.to_datetime(part["first_purchase"]),
                                        last_purchase=pd.to_datetime(part["last_purchase"])),
                            state.period_end, typical_ipt=state.typical_ipt)
    out["lifecycle_stage"] = life.data["lifecycle_stage"].to_numpy()
    margin = part["margin"].to_numpy(dtype=float)
    out["historical_value"] = margin if state.has_margin else revenue
    xf = part["frequency"].to_numpy(dtype=float)
    tx = part["t_x"].to_numpy(dtype=float)
    big_t = part["T"].to_numpy(dtype=float)
    model = state.bgnbd if state.bgnbd is not None else state.pareto_nbd
    nan = np.full(len(part), np.nan)
    out["p_alive"] = nan
    out["expected_purchases"] = nan
    out["expected_spend"] = nan
    out["clv"] = nan
    if model is not None and len(part):
        out["p_alive"] = model.p_alive(xf, tx, big_t)
        out["expected_purchases"] = model.expected_purchases(float(state.horizon), xf, tx, big_t)
        gg = state.gamma_gamma
        if gg is not None:
            spend = gg.expected_spend(xf, part["monetary_value"].to_numpy(dtype=float))
            if state.has_margin:
                ratio = np.where(revenue > 0, margin / np.where(revenue > 0, revenue, 1.0),
                                 state.overall_margin_ratio)
                spend = spend * np.clip(ratio, 0.0, 1.0)
            out["expected_spend"] = spend
            if isinstance(model, BGNBDFit):
                disc = model.discounted_purchases(state.horizon, state.discount_per_unit,
                                                  xf, tx, big_t)
            else:
                disc = model.expected_purchases(float(state.horizon), xf, tx, big_t) / (
                    1.0 + state.discount_per_unit) ** (state.horizon / 2.0)
            out["clv"] = disc * spend
    return out[list(SCORED_COLUMNS)]


_SCORED_SCHEMA = (
    "customer_id string, recency double, frequency long, monetary double, r_score long, "
    "f_score long, m_score long, rfm_segment string, value_group string, abc_class string, "
    "lifecycle_stage string, historical_value double, p_alive double, "
    "expected_purchases double, expected_spend double, clv double"
)


@dataclass
class SparkValueResult:
    """The value analysis run by Spark.

    Attributes
    ----------
    customers : pyspark.sql.DataFrame
        One row per modelled customer, columns :data:`SCORED_COLUMNS`.
    table : SparkCustomerTable
    state : ScoringState
        The fitted models and the population figures the scores used.
    bgnbd, pareto_nbd, gamma_gamma : fitted models or None
    transactions_log : dict
    counts, settings : dict
    """

    customers: Any
    table: SparkCustomerTable
    state: ScoringState
    transactions_log: dict[str, Any]
    counts: dict[str, Any]
    settings: dict[str, Any]
    bgnbd: BGNBDFit | None = None
    pareto_nbd: ParetoNBDFit | None = None
    gamma_gamma: GammaGammaFit | None = None
    notes: list[str] = field(default_factory=list)

    def to_pandas(self) -> pd.DataFrame:
        """Collect the per-customer table to the driver (index customer_id, sorted)."""
        return self.customers.toPandas().set_index("customer_id").sort_index()

    def write_parquet(self, path: str | Path, mode: str = "overwrite") -> None:
        """Write the per-customer table as Parquet files (one per partition)."""
        self.customers.write.mode(mode).parquet(str(path))

    def save_table(self, name: str, mode: str = "overwrite") -> None:
        """Save the per-customer table in the catalog."""
        self.customers.write.mode(mode).saveAsTable(name)

    def summaries(self) -> dict[str, dict[str, int]]:
        """Customers by RFM segment, value group, ABC class and lifecycle stage
        (aggregated by the engine)."""
        out: dict[str, dict[str, int]] = {}
        for column in ("rfm_segment", "value_group", "abc_class", "lifecycle_stage"):
            rows = self.customers.groupBy(column).count().collect()
            out[column] = {str(r[0]): int(r[1]) for r in sorted(rows, key=lambda r: str(r[0]))}
        out["lifecycle_stage"] = {s: out["lifecycle_stage"].get(s, 0) for s in STAGES}
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON contract: the keys of the DuckDB result's models, counts and settings,
        plus the summaries and the CLV total."""
        log = self.transactions_log
        models: dict[str, Any] = {}
        for name, fit in (("bgnbd", self.bgnbd), ("pareto_nbd", self.pareto_nbd),
                          ("gamma_gamma", self.gamma_gamma)):
            if fit is not None:
                models[name] = fit.to_dict()
        # NaN CLV (no finite expected spend, see GammaGammaFit) is left out of the total,
        # as pandas' sum does in the DuckDB engine
        total = self.customers.selectExpr("sum(nanvl(clv, CAST(NULL AS DOUBLE))) AS s",
                                          "count(nanvl(clv, CAST(NULL AS DOUBLE))) AS n"
                                          ).collect()[0]
        return {
            "engine": "spark",
            "customers": self.counts["modelled"],
            "transactions": int(log["kept"]),
            "transactions_loaded": int(log["loaded"]),
            "excluded": dict(log["excluded"]),
            "notes": dict(log["notes"]),
            "customer_counts": dict(self.counts),
            "settings": dict(self.settings),
            "models": models,
            "clv_total": None if not total["n"] else float(total["s"]),
            "rfm_means": dict(self.state.means),
            "summaries": self.summaries(),
        }


def spark_value_analysis(
    spark: Any,
    transactions: SparkTransactions | Any,
    period_end: dt.date | str | None = None,
    time_unit: Literal["day", "week", "month"] = "week",
    horizon: int | None = None,
    discount_rate: float = 0.10,
    models: tuple[str, ...] = ("bgnbd", "pareto_nbd", "gamma_gamma"),
    abc_thresholds: tuple[float, float] = (0.80, 0.95),
    columns: TransactionColumns | None = None,
) -> SparkValueResult:
    """The value pipeline of :func:`satisfaction.value.pipeline.value_analysis` on Spark.

    Parameters
    ----------
    spark : SparkSession
    transactions : SparkTransactions, pyspark DataFrame, table name or path
        Anything but :class:`SparkTransactions` is checked first by
        :func:`spark_transactions` (with ``columns``).
    period_end, time_unit, horizon, discount_rate, models, abc_thresholds
        As :func:`~satisfaction.value.pipeline.value_analysis`.

    Returns
    -------
    SparkValueResult
        Its ``customers`` is a lazy Spark DataFrame: write it with
        :meth:`SparkValueResult.write_parquet` or :meth:`SparkValueResult.save_table`.

    Notes
    -----
    Tested against the DuckDB pipeline on the CDNOW sample and on generated data
    with several partitions: same model parameters (1e-6 relative) and the same
    per-customer values (tests/test_spark.py).
    """
    if not isinstance(transactions, SparkTransactions):
        transactions = spark_transactions(spark, transactions, columns)
    a, b = abc_thresholds
    if not 0 < a < b <= 1:
        raise InputError("ABC thresholds must satisfy 0 < A < B ≤ 1", value=abc_thresholds)
    table = spark_customer_table(transactions, period_end=period_end, time_unit=time_unit)
    if horizon is None:
        horizon = {"day": 365, "week": 52, "month": 12}[time_unit]
    d_unit = per_unit_discount(discount_rate, table.unit_days)
    purchasers = table.frame.filter("occasions > 0")
    n = table.counts["modelled"]
    if n == 0:
        raise InputError("no customer with a purchase in the period", file=transactions.log.source)

    # --- model fitting on the driver, from the engine's sufficient statistics
    rfm_stats, spend_stats = sufficient_statistics(table)
    x, tx, big_t, w = (rfm_stats[c].to_numpy(dtype=float) for c in ("frequency", "t_x", "T", "n"))
    bg = fit_bgnbd(x, tx, big_t, weights=w) if "bgnbd" in models else None
    pn = fit_pareto_nbd(x, tx, big_t, weights=w) if "pareto_nbd" in models else None
    gg = None
    if "gamma_gamma" in models:
        gg = fit_gamma_gamma(spend_stats["frequency"].to_numpy(dtype=float),
                             spend_stats["monetary_value"].to_numpy(dtype=float),
                             weights=spend_stats["n"].to_numpy(dtype=float))

    # --- population figures for the scores, computed by the engine
    positions = [math.ceil(k * n / 5) for k in range(1, 5)]
    keyed = purchasers.selectExpr("-CAST(recency_days AS DOUBLE) AS recency",
                                  "CAST(occasions AS DOUBLE) AS frequency",
                                  "revenue AS monetary",
                                  "CASE WHEN occasions >= 2 THEN CAST(datediff(last_purchase, "
                                  "first_purchase) AS DOUBLE) / CAST(occasions - 1 AS DOUBLE) "
                                  "END AS ipt")
    cuts = {}
    for column in ("recency", "frequency", "monetary"):
        stats = _order_statistics(keyed, column, positions)
        cuts[column] = [stats[p] for p in positions]
    sums = purchasers.selectExpr(
        "avg(CAST(recency_days AS DOUBLE)) AS recency", "avg(CAST(occasions AS DOUBLE)) AS "
        "frequency", "avg(revenue) AS monetary", "count_if(occasions >= 2) AS repeaters",
        "sum(greatest(coalesce(revenue, 0D), 0D)) AS positive_revenue",
        "sum(margin) AS margin", "sum(revenue) AS revenue").collect()[0]
    means = {c: float(sums[c]) for c in ("recency", "frequency", "monetary")}
    repeaters = int(sums["repeaters"])
    typical = float("nan")
    if repeaters:
        half = [(repeaters + 1) // 2, repeaters // 2 + 1]
        med = _order_statistics(keyed.filter("ipt IS NOT NULL"), "ipt", sorted(set(half)))
        typical = float(np.mean([med[p] for p in half]))
    if not np.isfinite(typical) or typical <= 0:
        typical = 1.0  # as lifecycle_stages: nobody came back, a day is the only rhythm
    total = float(sums["positive_revenue"] or 0.0)
    positive = purchasers.selectExpr(
        "customer_id", "greatest(coalesce(revenue, 0D), 0D) AS x")
    before = _cumulative_before(positive, "x", total)
    overall = (float(sums["margin"]) / float(sums["revenue"])
               if table.has_margin and sums["revenue"] else float("nan"))
    state = ScoringState(period_end=table.period_end, cuts=cuts, means=means,
                         typical_ipt=typical, abc_thresholds=(float(a), float(b)),
                         horizon=int(horizon), discount_per_unit=float(d_unit),
                         has_margin=table.has_margin, overall_margin_ratio=overall,
                         bgnbd=bg, pareto_nbd=pn, gamma_gamma=gg)

    # --- scoring in the engine, one partition at a time
    def score(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for part in batches:
            yield score_customers(part.reset_index(drop=True), state)

    scored = purchasers.join(before, on="customer_id").mapInPandas(score, _SCORED_SCHEMA)
    notes = ["clv is margin-adjusted with each customer's margin ratio"] \
        if table.has_margin and gg is not None and (bg or pn) else []
    settings = {"period_end": table.period_end.isoformat(),
                "holdout_end": table.holdout_end.isoformat(), "time_unit": time_unit,
                "horizon": int(horizon), "discount_rate_annual": float(discount_rate),
                "discount_rate_per_unit": float(d_unit), "margin": table.has_margin}
    return SparkValueResult(customers=scored, table=table, state=state,
                            transactions_log=transactions.log.to_dict(),
                            counts=dict(table.counts), settings=settings,
                            bgnbd=bg, pareto_nbd=pn, gamma_gamma=gg, notes=notes)


# ---------------------------------------------------------------------------
# command line
# ---------------------------------------------------------------------------
def check_engine(engine: str) -> None:
    """Raise a UsageError unless ``engine`` is duckdb or spark."""
    if engine not in ("duckdb", "spark"):
        raise UsageError("expected duckdb or spark", column="--engine", value=engine)


def run_command(transactions: str | Path, columns: TransactionColumns, *, models: bool,
                spark_master: str | None, out: Path | None, json_path: Path | None,
                console: Any, period_end: str | None = None, time_unit: str = "week",
                horizon: int | None = None, discount_rate: float = 0.10,
                returns: str = "net", keep_duplicates: bool = False,
                today: str | None = None, date_format: str | None = None,
                model_names: tuple[str, ...] = ("bgnbd", "pareto_nbd", "gamma_gamma"),
                ) -> SparkValueResult:
    """``satisfaction rfm|clv … --engine spark``: run on Spark, print a summary, write
    ``--out`` (a ``.csv`` path: the per-customer CSV of the DuckDB engine, collected to
    the driver; any other path: Parquet files written by the executors) and ``--json``.
    """
    from satisfaction.io import spreadsheet_safe, write_json, write_with
    from satisfaction.value.pipeline import CSV_COLUMNS

    require_pyspark()
    spark = spark_session(spark_master or "local[*]")
    stx = spark_transactions(spark, transactions, columns, returns=returns,  # type: ignore[arg-type]
                             today=today, duplicates="keep" if keep_duplicates else "exclude",
                             date_format=date_format)
    result = spark_value_analysis(
        spark, stx, period_end=period_end, time_unit=time_unit,  # type: ignore[arg-type]
        horizon=horizon, discount_rate=discount_rate,
        models=tuple(model_names) if models else ())
    log = result.transactions_log
    excluded = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in log["excluded"].items() if v)
    console.print(f"engine: spark ({spark.sparkContext.master}); transactions loaded "
                  f"{log['loaded']}, kept {log['kept']}"
                  + (f", excluded: {excluded}" if excluded else ""))
    for p in log["problems"][:5]:  # as the DuckDB engine's summary
        where = f"row {p['row']}" + (f", column {p['column']!r}" if p["column"] else "")
        value = f" (value: {p['value']!r})" if p["value"] is not None else ""
        console.print(f"  {where}: {p['rule'].replace('_', ' ')}{value}", markup=False)
    c = result.counts
    console.print(f"customers: {c['customers']} (modelled {c['modelled']}, returns only "
                  f"{c['returns_only']}, first purchase after the period end "
                  f"{c['first_purchase_after_period_end']})")
    summary = result.to_dict()
    for column, counts in summary["summaries"].items():
        console.print(f"{column.replace('_', ' ')}: "
                      + ", ".join(f"{k} {v}" for k, v in counts.items()))
    for name, params in summary["models"].items():
        keys = [k for k in params if k not in ("loglik", "n_customers", "n_unique", "converged",
                                               "status", "warnings")]
        console.print(f"{name}: " + ", ".join(f"{k} = {params[k]:.4g}" for k in keys)
                      + f"; log-lik {params['loglik']:.1f} ({params['n_unique']} distinct "
                      "tuples from the engine)")
    if summary["clv_total"] is not None:
        console.print(f"CLV over {result.settings['horizon']} {time_unit}s: total "
                      f"{summary['clv_total']:,.2f}")
    if out is not None:
        if str(out).lower().endswith(".csv"):
            frame = spreadsheet_safe(result.to_pandas().reset_index()[list(CSV_COLUMNS)])
            write_with(out, lambda tmp: frame.to_csv(tmp, index=False, float_format="%.6g"))
        else:
            result.write_parquet(out)
    if json_path is not None:
        write_json(json_path, summary)
    return result
