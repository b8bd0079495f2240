"""Validation on Spark: transactions checked as the DuckDB loader checks them.

:func:`spark_transactions` is the first step of the Spark engine
(:mod:`satisfaction.value.spark`). A narrow job (no shuffle) classifies every row
under the exclusion reasons of :mod:`satisfaction.value.transactions` that read one
row (the same rules, rendered in Spark SQL by :mod:`satisfaction.value.spark_sql`)
and counts them, with the first and last dates of the rows that pass. For local
Parquet files whose footers prove what it would find
(:mod:`satisfaction.value.spark_parquet`) it does not run: the counts are then
observed by the next job, which runs again in the rare case they contradict the
footers.

The rows that pass are registered as a temporary view (:class:`SparkTransactions`).
The duplicate check needs each customer's rows together: it runs in the shuffle of
the job that reads the view (normally
:func:`satisfaction.value.spark.spark_customer_table`), and what only that shuffle
can count is observed on the way (``DataFrame.observe``, :func:`_observed`), which
completes the transaction log; the excluded rows are listed with the row numbers of
the DuckDB loader (:func:`_numbered`).

See Also
--------
satisfaction.value.transactions : the DuckDB loader, the reference for every rule.
satisfaction.value.spark : the Spark engine, which re-exports the public names here.
"""

from __future__ import annotations

import csv
import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from satisfaction.errors import InputError, UsageError
from satisfaction.value.checks import check_not_empty
from satisfaction.value.spark_parquet import _parquet_facts, _read_parquet
from satisfaction.value.spark_sql import (
    EXACT_AS_DOUBLE,
    TINY_NEGATIVE,
    _exact_in_millionths,
    _lit,
    spark_amount_sql,
    spark_blank_sql,
    spark_date_sql,
    spark_trim_sql,
    strptime_regex,
)
from satisfaction.value.transactions import (
    EARLIEST_DATE,
    MAX_AMOUNT,
    REASONS,
    TransactionColumns,
    TransactionLog,
    csv_encoding,
    loader_options,
    problem_frame,
)


@dataclass
class SparkTransactions:
    """Validated transactions held by Spark as the temporary view ``view``.

    Attributes
    ----------
    spark : SparkSession
    view : str
        Temporary view with columns customer_id, date (date), amount, margin (double):
        the kept rows. Reading it runs the shuffle of the analysis (the duplicate
        check); :func:`~satisfaction.value.spark.spark_customer_table`'s read also completes
        :attr:`log`.
    source : str
        The file, table or ``"<Spark DataFrame>"``.
    has_margin : bool
    date_range : (date, date)
        First and last date of the kept rows. When the Parquet footers stood in for
        the first pass (``checks`` set), those of all rows until the kept rows have
        been read (:meth:`complete` corrects it).
    micros : bool
        The customer table may sum the amounts and margins as 64-bit integers of
        millionths (:func:`~satisfaction.value.spark_sql._micros_sql`): every sum
        stays below 2⁵³ millionths. With ``checks``, provisional until the kept rows
        have been read (a negative amount of no millionths makes it False).
    passing : int or None
        Rows that pass every rule but the duplicate check (the kept rows and their
        duplicates): none are kept exactly when none pass. None until the kept rows
        have been read when the footers stood in for the first pass.
    has_returns : bool
        Some rows that pass may be negative amounts netted against purchases.
    observation : str
        Name of the metrics the shuffle observes (duplicates, kept rows, their
        negative amounts; the excluded rows when all are listed).
    finish : callable
        Makes the log from those metrics (see :func:`spark_transactions`).
    checks : str or None
        Name of the metrics observed on the way to the shuffle when the footers stood
        in for the first pass (:func:`_rule_metrics`), else None.
    """

    spark: Any
    view: str
    source: str
    has_margin: bool
    date_range: tuple[dt.date | None, dt.date | None]
    micros: bool
    passing: int | None
    has_returns: bool
    observation: str
    finish: Callable[[Any, Any], TransactionLog] = field(repr=False)
    checks: str | None = None
    _log: TransactionLog | None = field(default=None, repr=False)

    @property
    def log(self) -> TransactionLog:
        """Rows loaded, kept and excluded by reason, and the first ``max_problems``
        excluded rows (see :func:`spark_transactions` for what their ``row`` is).

        Complete once the kept rows have been read (by
        :func:`~satisfaction.value.spark.spark_customer_table`); asked for before, it reads them
        itself: a pass over the data."""
        return self.complete(None)

    def complete(self, frame: Any | None) -> TransactionLog:
        """The log, made once: from the metrics observed while ``frame`` (a query
        that read :attr:`view`) ran or, without them, while the kept rows are counted;
        without the shuffle when no row passes the row rules. With ``checks``, the
        kept rows' dates, the rows that pass and the millionths test are taken from
        the metrics too."""
        if self._log is None:
            if self.passing == 0:
                self._log = self.finish(None, None)
            else:
                observed, checked = self._observed(frame)
                if checked is not None:
                    self.passing = int(_metric(checked, "passing"))
                    self.date_range = (_metric(checked, "first"), _metric(checked, "last"))
                    self.micros = self.micros and not _metric(checked, "tiny")
                self._log = self.finish(observed if self.passing else None, checked)
        return self._log

    def _observed(self, frame: Any | None) -> tuple[Any, Any | None]:
        found = None if frame is None else _observed(frame, self.observation)
        if found is None:
            frame = self.spark.sql(f"SELECT count(*) FROM {self.view}")
            frame.collect()
            found = _observed(frame, self.observation)
        checked = None if self.checks is None else _observed(frame, self.checks)
        if found is None or (self.checks is not None and checked is None):
            raise UsageError(f"Spark did not report the metrics of the checks "
                             f"({self.observation}); this engine needs a classic Spark "
                             "session (not Spark Connect)", file=self.source)
        return found, checked


def _q(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _sniff_csv(path: Path) -> tuple[str, str, list[str] | None]:
    """Encoding (UTF-8, else GB18030, as the DuckDB loader), delimiter (the most
    frequent of ``, ; tab |`` in the header line, else a comma) and column names of a
    CSV file. The names are ``None`` when Spark should read them itself (a header
    line longer than the bytes read, or empty or repeated names, which Spark renames)."""
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
    sep = best if counts[best] else ","
    # Spark reads the names itself with a job of its own; given a schema, it does not
    names = next(csv.reader([header], delimiter=sep), None) if header else None
    complete = b"\n" in raw or len(raw) < 4096
    if not complete or not names or "" in names or len(set(names)) < len(names):
        names = None
    return encoding, sep, names


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


def _rule_metrics() -> dict[str, str]:
    """The metrics observed on the way to the shuffle when no job 1 runs (see
    :func:`~satisfaction.value.spark_parquet._parquet_facts`): the rows, the rows
    that pass the row rules, their first and last date, and their negative amounts
    that are 0 millionths. (The rows under
    each rule are counted only when some fail, see :func:`spark_transactions`: every
    metric costs CPU time on every row, 0.15 s per 10 million rows.)"""
    return {"loaded": "count(*)", "passing": "count_if(c__rule IS NULL)",
            "first": "min(CASE WHEN c__rule IS NULL THEN c__date END)",
            "last": "max(CASE WHEN c__rule IS NULL THEN c__date END)",
            "tiny": f"count_if(c__rule IS NULL AND {TINY_NEGATIVE})"}


def _metric(row: Any, name: str) -> Any:
    """Field ``name`` of an observed JVM Row; dates as :class:`datetime.date`."""
    value = row.get(row.fieldIndex(name))
    if value is None or isinstance(value, int):
        return value
    return dt.date.fromisoformat(str(value.toString()))  # java.sql.Date or LocalDate


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
    max_problems: int | None = 1000,
    earliest: dt.date | str = EARLIEST_DATE,
) -> SparkTransactions:
    """Check transactions held by Spark and register the rows to keep as a view.

    Every row is kept or excluded exactly as by
    :func:`satisfaction.value.transactions.load_transactions`: the same exclusion
    reasons in the same order of precedence (:data:`~satisfaction.value.transactions.REASONS`),
    the same empty-cell texts (``NA``, ``n/a``, ``null``, ``-``, …), amounts written with
    currency signs or codes, thousands separators or a decimal comma (``"¥1,234.50"``,
    ``"$ 12.00"``, ``"12,5"``, ``"CNY 30"``), and dates as ``YYYY-MM-DD``, ``YYYY/MM/DD``,
    ``YYYYMMDD``, optionally with a time, or in ``date_format``. The rules are rendered
    in Spark SQL from the same definitions as the DuckDB ones (see
    :mod:`satisfaction.value.spark_sql`) and tested to give the same log and the same
    kept rows.

    Parameters
    ----------
    spark : SparkSession
    source : pyspark.sql.DataFrame, table name, or path
        A Spark DataFrame, the name of a table in the catalog, or a Parquet file or
        folder / CSV file (read by Spark: the data stays in the engine; a CSV is read
        as UTF-8 or else GB18030, its delimiter taken from the header line, with
        ``""`` as the quote escape; quoted line breaks are not supported).
    columns, returns, today, date_format, on_error, duplicates, max_problems, earliest
        As :func:`satisfaction.value.transactions.load_transactions`. ``date_format``
        may use ``%Y %y %m %d %H %M %S %f %b %B``.

    Returns
    -------
    SparkTransactions
        Its ``log.problems`` lists the first ``max_problems`` excluded rows in row
        order (every one when ``max_problems`` is None, as the commands ask). ``row``
        is the line of the file for a CSV (the first data row is 2), the
        row of its Parquet file + 2 for Parquet (as the DuckDB loader; in a folder of
        Parquet files, the row within its own file, listed file by file), and for a
        Spark DataFrame or catalog table the position from 0 in the DataFrame's
        partition order (for a DataFrame made by ``spark.createDataFrame(pandas_frame)``
        that is the pandas position, as the DuckDB loader gives for a DataFrame).
        The row numbers come from the first job's counts by block (or the
        footers' row counts).

        This function runs the first job only (the rules that read one row, the date
        range), and not even that for local Parquet files whose footers prove what it
        would find (:func:`~satisfaction.value.spark_parquet._parquet_facts`): then the
        counts by rule are observed by the customer table's query too. Duplicates can
        only be found after the shuffle by customer, so the log is completed by the job
        that reads the kept rows, normally
        :func:`~satisfaction.value.spark.spark_customer_table`; ``log`` asked
        for before that runs a count of the kept rows (the shuffle) to complete it. With
        ``on_error="raise"`` that happens here. With ``max_problems`` a number, listing
        the excluded rows is a pass of its own (sorted, limited); with None the excluded
        copies are collected by that job, and the rows the other rules exclude by a
        narrow pass (only when there are any).
    """
    from pyspark.sql import DataFrame
    from pyspark.sql import functions as F

    cols, today_date, earliest_date = loader_options(columns, returns, duplicates, on_error,
                                                     today, earliest)
    if date_format is not None:
        strptime_regex(date_format)  # a UsageError now rather than a failed job later
    file_kind = None
    if isinstance(source, DataFrame):
        frame, name = source, "<Spark DataFrame>"
    else:
        name = str(source)
        path = Path(name)
        check_not_empty(path, name)  # the DuckDB loader's message
        if path.exists():
            if path.is_dir() or path.suffix.lower() in (".parquet", ".pq"):
                frame, file_kind = _read_parquet(spark, path, name), "parquet"
            elif path.suffix.lower() == ".csv":
                encoding, sep, names = _sniff_csv(path)
                reader = (spark.read.option("encoding", encoding).option("sep", sep)
                          .option("escape", '"'))
                if names is not None:  # every column as text, as inferSchema=False reads it
                    reader = reader.schema(", ".join(f"{_q(c)} STRING" for c in names))
                frame = reader.csv(str(path), header=True, inferSchema=False)
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
    spark_types = {f.name: f.dataType.typeName() for f in frame.schema.fields}

    # Where each row is: (file, block, position) orders the rows as in the source. The
    # file is its rank among the source's files in path order (0 for one file): a
    # number rather than the path, which costs a string per row in the shuffle and
    # the cache (measured at 10 million rows: 40 s of CPU of the cache's 90).
    file_rank, files = "0", frame.inputFiles() if file_kind is not None else []
    if len(files) > 1:
        files = sorted(r[0] for r in frame.selectExpr("_metadata.file_path").distinct()
                       .collect())
        file_rank = ("element_at(map(" + ", ".join(f"{_lit(f)}, {k}" for k, f in
                                                   enumerate(files)) + "), _metadata.file_path)")
    if file_kind == "parquet":
        located = frame.selectExpr("*", f"{file_rank} AS c__file", "0L AS c__block",
                                   "_metadata.row_index AS c__pos")
    elif file_kind == "csv":
        located = frame.selectExpr("*", f"{file_rank} AS c__file",
                                   "_metadata.file_block_start AS c__block",
                                   "monotonically_increasing_id() AS c__pos")
    else:
        located = frame.selectExpr("*", "0 AS c__file", "spark_partition_id() AS c__block",
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
    # as the DuckDB loader: text ids are trimmed, other ids keep their type (the
    # customer table is then sorted by it, and its ids written as text, alike)
    customer = (f"nullif({spark_trim_sql(_q(cols.customer))}, '')" if text("customer")
                else _q(cols.customer))
    first = ", ".join([*a1, *m1, f"{date} AS c__date"])
    stage1 = spark.sql(f"SELECT *, {first} FROM {raw}")
    stage2 = stage1.selectExpr("*", *a2, *m2)
    parsed = stage2.selectExpr("*", f"{amount} AS c__amount").selectExpr(
        "*", f"{margin} AS c__margin", f"{customer} AS c__id")
    # Every rule but the duplicate check reads one row: one pass classifies the rows
    # under them (the first failing rule names the reason).
    branches = [
        f"WHEN {spark_blank_sql(_q(cols.customer), text('customer'))} OR c__id IS NULL "
        "THEN 'missing_id'",
        f"WHEN {spark_blank_sql(_q(cols.date), text('date'))} THEN 'missing_date'",
        "WHEN c__date IS NULL THEN 'unparseable_date'",
        f"WHEN c__date < DATE '{earliest_date.isoformat()}' THEN 'early_date'",
        f"WHEN c__date > DATE '{today_date.isoformat()}' THEN 'future_date'",
        f"WHEN {spark_blank_sql(_q(cols.amount), text('amount'))} THEN 'missing_amount'",
        "WHEN c__amount IS NULL THEN 'unparseable_amount'",
        f"WHEN abs(c__amount) >= {int(MAX_AMOUNT)} THEN 'amount_too_large'",
    ]
    if margin_raw is not None:
        role = "margin" if cols.margin is not None else "cost"
        branches.append(f"WHEN NOT {spark_blank_sql(_q(margin_raw), text(role))} "
                      "AND c__margin IS NULL THEN 'unparseable_margin'")
        branches.append(f"WHEN abs(c__margin) >= {int(MAX_AMOUNT)} THEN 'margin_too_large'")
    if returns == "exclude":
        branches.append("WHEN c__amount < 0 THEN 'negative_amount'")
    ruled = parsed.selectExpr("*", f"CASE {' '.join(branches)} END AS c__rule")
    facts = (_parquet_facts(files, spark_types, cols, today_date, earliest_date)
             if file_kind == "parquet" else None)
    checks: str | None = None
    counts: dict[str | None, int] | None = None
    shuffled = ruled  # the rows job 2 reads (with the footers, observed on the way)
    if facts is None:
        # Job 1, narrow (only the small partial counts are exchanged): by row rule and
        # block, the counts, the first position of each block (they number the
        # excluded rows, see _numbered), and over the rows that pass the row rules
        # their dates, absolute sums and negative amounts. Copies of one row pass or
        # fail alike, so their first and last date are those of the kept rows; the
        # sums bound the kept rows' (see micros below).
        rows = ruled.groupBy("c__rule", "c__file", "c__block").agg(
            F.expr("count(*)").alias("n"), F.expr("count_if(c__amount < 0)").alias("neg"),
            F.expr("min(c__date)").alias("lo"), F.expr("max(c__date)").alias("hi"),
            F.expr("min(c__pos)").alias("start"),
            F.expr("sum(abs(c__amount))").alias("amass"),
            F.expr("sum(abs(c__margin))").alias("mmass"),
            F.expr(f"count_if({TINY_NEGATIVE})").alias("tiny")).collect()
        counts = {}
        for r in rows:
            counts[r["c__rule"]] = counts.get(r["c__rule"], 0) + int(r["n"])
        loaded = sum(counts.values())
        blocks: dict[tuple[int, int], tuple[int, int]] = {}
        for r in rows:
            n, start = blocks.get((r["c__file"], r["c__block"]), (0, int(r["start"])))
            blocks[(r["c__file"], r["c__block"])] = (n + int(r["n"]),
                                                     min(start, int(r["start"])))
        passing = [r for r in rows if r["c__rule"] is None]
        # Every sum of the customer table is at most the sum of the absolute amounts
        # (or margins); below 2^53 millionths the sums are exact as 64-bit integers and
        # as doubles, and the amounts are read as integers of millionths (_micros_sql)
        mass = max([float(r["amass"] or 0) for r in passing]
                   + [float(r["mmass"] or 0) for r in passing] + [0.0])
        micros = _exact_in_millionths(mass) and not any(r["tiny"] for r in passing)
        date_range = ((min(r["lo"] for r in passing), max(r["hi"] for r in passing))
                      if passing else (None, None))
        has_returns = returns == "net" and any(r["neg"] for r in passing)
        n_passing: int | None = counts.get(None, 0)
    else:
        # No job 1: the Parquet footers stand in for it (see _parquet_facts). The
        # counts by rule, the kept rows' first and last date and any negative amount
        # that would be 0 millionths are observed on the way to the shuffle of job 2,
        # which runs again if the period those dates give differs from the footers'.
        loaded = sum(facts.rows)
        blocks = {(k, 0): (n, 0) for k, n in enumerate(facts.rows)}
        checks = f"satisfaction_rules_{uuid.uuid4().hex[:12]}"
        shuffled = ruled.observe(checks, *[F.expr(e).alias(k)
                                           for k, e in _rule_metrics().items()])
        micros, date_range = True, (facts.first, facts.last)
        has_returns = returns == "net" and facts.negative
        n_passing = None
    if loaded == 0:
        raise InputError("no transactions in the " + ("data" if file_kind is None else "file"),
                         file=name)
    # Job 2 (run by the customer table's query): the one shuffle brings each customer's
    # rows that pass the row rules to one partition (copies of a row pass or fail
    # alike, so only those can be duplicates). The duplicate check is a window over
    # the customer, the day and every column (the id and day first: they are
    # functions of the columns, so the groups are the same, and Spark needs no other
    # shuffle for it), sorted by it; the customer table's aggregations by customer and
    # day then find the rows partitioned and sorted as they need (sort aggregates, see
    # spark_session): no hash table of ten million customer-days. A column that its
    # checked form determines on these rows (a number or DATE read as itself) is left
    # out of the window's keys: the groups are the same, the sort compares less. The
    # first copy in the source is kept, as by the DuckDB loader. What only this pass
    # can count (the duplicates, the kept rows and their negative amounts) and, when
    # every excluded row is asked for, the copies themselves are observed on the way
    # (DataFrame.observe), so the log is complete when the customer table is, without
    # a second pass.
    same = {c for c, kept in ((cols.customer, not text("customer")),
                              (cols.date, spark_types[cols.date] == "date"),
                              (cols.amount, spark_types[cols.amount] in EXACT_AS_DOUBLE))
            if kept}
    keys = ["c__id", "c__date", *(["c__amount"] if cols.amount in same else []),
            *(_q(c) for c in available if c not in same)]
    # The shuffle carries only what the rows after it need: not a source column its
    # checked form restores exactly (cast back to its own type: an id or DATE is that
    # column, and an integer below MAX_AMOUNT < 2^53 or a float is exact as a double),
    # nor a file rank or block that is one number for the whole source (one file;
    # Parquet). At 10 M rows that halves the bytes written, read and sorted.
    fixed = {"c__file": "0"} if len(files) <= 1 else {}
    if file_kind == "parquet":
        fixed["c__block"] = "0L"
    carried = [*(c for c in ("c__file", "c__block") if c not in fixed), "c__pos", "c__id",
               "c__date", "c__amount", "c__margin", *(_q(c) for c in available if c not in same)]
    amount_type = frame.schema[cols.amount].dataType.simpleString()
    restored = {cols.customer: "c__id", cols.date: "c__date",  # the column itself
                cols.amount: f"CAST(c__amount AS {amount_type})"}
    used = list(dict.fromkeys(cols.used().values()))  # each source column once
    wanted = [f"{restored[c]} AS {_q(c)}" if c in same else _q(c) for c in used]
    order = ", ".join(c for c in ("c__file", "c__block", "c__pos") if c not in fixed)
    dup = (f"row_number() OVER (PARTITION BY {', '.join(keys)} "
           f"ORDER BY {order}) > 1 AS c__dup")
    rule = ("CASE WHEN c__dup THEN 'duplicate' END" if duplicates == "exclude"
            else "CAST(NULL AS STRING)")
    checked = shuffled.filter("c__rule IS NULL").selectExpr(*carried).repartition(
        "c__id").selectExpr("*", dup).selectExpr(
        *wanted, *(f"{e} AS {c}" for c, e in fixed.items()), *(
            c for c in ("c__file", "c__block") if c not in fixed),
        "c__pos", "c__id", "c__date", "c__amount", "c__margin", "c__dup",
        f"{rule} AS c__rule")
    metrics = [F.expr("count_if(c__rule IS NULL)").alias("kept"),
               F.expr("count_if(c__rule IS NULL AND c__amount < 0)").alias("neg"),
               F.expr("count_if(c__dup)").alias("dups")]
    listed = [*(_q(c) for c in used), "c__file", "c__block", "c__pos", "c__rule"]
    lists_copies = max_problems is None and duplicates == "exclude"
    if lists_copies:
        # every excluded copy, listed on the way (observed metrics cannot use FILTER);
        # rows excluded by the other rules are listed from the source (see finish)
        metrics.append(F.expr(f"collect_list(CASE WHEN c__rule = 'duplicate' "
                              f"THEN struct({', '.join(listed)}) END)").alias("copies"))
    observation = f"satisfaction_checks_{uuid.uuid4().hex[:12]}"
    checked = checked.observe(observation, *metrics)
    view = f"satisfaction_tx_{uuid.uuid4().hex[:12]}"
    checked.filter("c__rule IS NULL").selectExpr(
        "c__id AS customer_id", "c__date AS date", "c__amount AS amount",
        "c__margin AS margin").createOrReplaceTempView(view)

    def ruled_out_rows() -> list[Any]:
        """Every row a row rule excludes (a narrow pass; a plain collect, as the DuckDB
        loader lists them)."""
        return ruled.filter("c__rule IS NOT NULL").selectExpr(*listed).collect()

    def finish(observed: Any | None, seen: Any | None) -> TransactionLog:
        """The log, from the counts by rule (job 1's, or those ``seen`` on the way to
        the shuffle) and job 2's observed ones (``observed``; None: no row passes the
        row rules, so job 2 has nothing to count)."""
        ruled_out = None
        found = counts
        if found is None:  # the footers stood in for job 1: counts from the metrics
            read, passing = int(_metric(seen, "loaded")), int(_metric(seen, "passing"))
            found = {None: passing}
            if read == loaded and passing < read:
                # some rows fail a rule: counted by rule from their list when every
                # excluded row is asked for, else by a narrow pass of their own
                if max_problems is None:
                    ruled_out = ruled_out_rows()
                    for r in ruled_out:
                        found[r["c__rule"]] = found.get(r["c__rule"], 0) + 1
                else:
                    found.update({r[0]: int(r[1]) for r in ruled.filter(
                        "c__rule IS NOT NULL").groupBy("c__rule").count().collect()})
            if sum(found.values()) != loaded or read != loaded:
                raise InputError(f"the data changed between two reads: the files' footers "
                                 f"count {loaded} rows, {read} were read", file=name)
        kept, neg, dups = ((int(observed.getLong(i)) for i in range(3))
                           if observed is not None else (0, 0, 0))
        # the two reads are apart: they must agree on the rows that pass
        if kept + (dups if duplicates == "exclude" else 0) != found.get(None, 0):
            raise InputError(
                f"the data changed between two reads: {found.get(None, 0)} rows passed "
                f"the checks on the first, {kept} were kept and {dups} were copies on the "
                "second; read a source that does not change while it is analysed",
                file=name)
        excluded = {r: found.get(r, 0) for r in REASONS}
        if duplicates == "exclude":
            excluded["duplicate"] = dups
        base = 0 if file_kind is None else 2
        if kept == loaded:
            problems = problem_frame([], cols)
        elif max_problems is None:
            # Every excluded row: those of the row rules by a narrow pass of their own,
            # the copies from the list the shuffle observed (job 2 need not run again).
            if ruled_out is None:
                ruled_out = ruled_out_rows() if found.get(None, 0) < loaded else []
            copies = (_observed_rows(spark, observed, 3)
                      if observed is not None and dups and lists_copies else [])
            if len(ruled_out) + len(copies) != loaded - kept:
                raise InputError(f"the data changed between two reads: {loaded - kept} "
                                 f"rows excluded, {len(ruled_out) + len(copies)} listed",
                                 file=name)
            problems = _numbered(sorted([*ruled_out, *copies], key=lambda r: (
                r["c__file"], r["c__block"], r["c__pos"])), cols, blocks, base)
        else:
            problems = _spark_problems(ruled, checked, listed, cols, max_problems,
                                       blocks, base)
        return TransactionLog(
            source=name, loaded=loaded, excluded=excluded, kept=kept,
            notes={"returns_netted": neg if returns == "net" else 0,
                   "duplicates_kept": dups if duplicates == "keep" else 0},
            problems=problems)

    stx = SparkTransactions(spark=spark, view=view, source=name,
                            has_margin=margin_raw is not None, date_range=date_range,
                            micros=micros, passing=n_passing, has_returns=has_returns,
                            observation=observation, finish=finish, checks=checks)
    if on_error == "raise" and len(stx.log.problems):
        p = stx.log.problems.iloc[0]
        raise InputError(p["message"], file=name, row=int(p["row"]), column=p["column"],
                         value=p["value"] if p["value"] is not None else "")
    return stx


def _observed(frame: Any, observation: str) -> Any | None:
    """The metrics ``observation`` collected while ``frame``'s last action ran (a JVM
    Row), or None. Read from the query execution: PySpark's ``Observation`` object
    does not see metrics of a query that reaches the observed DataFrame through a
    temporary view, as the customer-table SQL does."""
    found = frame._jdf.queryExecution().observedMetrics().get(observation)
    return found.get() if found.isDefined() else None


def _observed_rows(spark: Any, observed: Any, index: int) -> list[Any]:
    """The rows of a list of structs in the observed metrics (field ``index`` of the
    JVM Row), as PySpark rows. The list becomes a DataFrame on the JVM side and is
    collected as any DataFrame is, so each cell reaches Python as the same type as
    through ``collect``."""
    from pyspark.sql import DataFrame

    schema = observed.schema().fields()[index].dataType().elementType()
    jframe = spark._jsparkSession.createDataFrame(observed.getList(index), schema)
    return DataFrame(jframe, spark).collect()


def _spark_problems(ruled: Any, checked: Any, listed: list[str], cols: TransactionColumns,
                    limit: int | None, blocks: dict[tuple[int, int], tuple[int, int]],
                    base: int) -> pd.DataFrame:
    """The first ``limit`` excluded rows in source order, with their row numbers
    (see :func:`_numbered`): those of the row rules (``ruled``) and the copies the
    duplicate check found (``checked``), each with the columns ``listed``. A pass of
    its own; only the listed rows reach the driver."""
    if limit is not None and limit <= 0:
        return problem_frame([], cols)
    excluded = (ruled.filter("c__rule IS NOT NULL").select(*listed)
                .unionByName(checked.filter("c__rule IS NOT NULL").select(*listed))
                .orderBy("c__file", "c__block", "c__pos"))
    if limit is not None:
        excluded = excluded.limit(int(limit))
    return _numbered(excluded.collect(), cols, blocks, base)


def _numbered(excluded: list[Any], cols: TransactionColumns,
              blocks: dict[tuple[int, int], tuple[int, int]], base: int) -> pd.DataFrame:
    """The problem list of excluded rows (Spark rows in source order), numbered.

    A row's number is ``base`` + the rows of the earlier blocks of its file + its
    position in its block (a block is a split of a CSV file, a Parquet file, or a
    partition of a DataFrame: within one, positions grow in source order).
    ``blocks`` gives each block's (file, block) its rows and its first position.
    """
    if not excluded:
        return problem_frame([], cols)
    wanted = [c for c in dict.fromkeys(cols.used().values())]
    offset: dict[tuple[int, int], tuple[int, int]] = {}
    before: dict[int, int] = {}
    for (file, block), (n, start) in sorted(blocks.items()):
        done = before.get(file, 0)
        offset[(file, block)] = (done, start)
        before[file] = done + n
    records = []
    for r in excluded:
        done, start = offset[(r["c__file"], r["c__block"])]
        rec = {c: r[c] for c in wanted}
        rec["_row"] = base + done + int(r["c__pos"]) - start
        rec["rule"] = r["c__rule"]
        records.append(rec)
    return problem_frame(records, cols)
