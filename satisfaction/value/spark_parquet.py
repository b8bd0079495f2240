"""Parquet for the Spark engine: reading files and folders, and what their footers prove.

:func:`_read_parquet` reads a Parquet file, or a folder of them, as a Spark
DataFrame, with an error naming the file that is not Parquet (by its magic bytes,
:func:`_is_parquet`) rather than a failed Spark job. :func:`_parquet_facts` reads
the footers of local files: when their row-group statistics prove what the first,
narrow job of :func:`satisfaction.value.spark_validation.spark_transactions` would
find (the rows, the first and last date, whether the sums may run as integers of
millionths), that job does not run (:class:`ParquetFacts`); the counts are then
observed by the next job, which runs again in the rare case they contradict the
footers.

See Also
--------
satisfaction.value.spark_validation : the validation, which reads Parquet with this module.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from satisfaction.errors import InputError
from satisfaction.value.spark_sql import EXACT_AS_DOUBLE, _exact_in_millionths
from satisfaction.value.transactions import EARLIEST_DATE, TransactionColumns


@dataclass(frozen=True)
class ParquetFacts:
    """What the footers of the Parquet files of a source prove (:func:`_parquet_facts`).

    Attributes
    ----------
    rows : list of int
        Rows of each file, in the order of the files' ranks.
    first, last : date
        First and last date of all rows (the kept rows' unless every row of that
        day fails another rule).
    negative : bool
        Some amount is below 0.
    """

    rows: list[int]
    first: dt.date
    last: dt.date
    negative: bool


def _local_path(uri: str) -> Path | None:
    """The local file of a Spark file URI (``file:/…`` or ``file:///…``), else None."""
    from urllib.parse import unquote, urlparse

    parsed = urlparse(uri)
    if parsed.scheme not in ("file", "") or parsed.netloc not in ("", "localhost"):
        return None
    return Path(unquote(parsed.path))


def _column_bounds(meta: Any, name: str) -> tuple[Any, Any] | tuple[()] | None:
    """Smallest and largest value of top-level column ``name`` by the row groups'
    statistics in a Parquet footer; ``()`` when it holds no value but nulls; None
    when a row group has no statistics (or the column is not one top-level column)."""
    import math

    index = [i for i in range(meta.num_columns) if meta.schema.column(i).path == name
             and meta.schema.column(i).max_repetition_level == 0
             and meta.schema.column(i).max_definition_level <= 1]
    if len(index) != 1:
        return None
    lo = hi = None
    for g in range(meta.num_row_groups):
        chunk = meta.row_group(g).column(index[0])
        stats = chunk.statistics
        if chunk.num_values == 0:
            continue
        if stats is None:
            return None
        if stats.has_null_count and stats.null_count >= chunk.num_values:
            continue
        if not stats.has_min_max:
            return None
        for value in (stats.min, stats.max):
            if isinstance(value, float) and math.isnan(value):
                return None
        lo = stats.min if lo is None else min(lo, stats.min)
        hi = stats.max if hi is None else max(hi, stats.max)
    return () if lo is None else (lo, hi)


def _parquet_facts(files: list[str], types: dict[str, str], cols: TransactionColumns,
                   today: dt.date, earliest: dt.date = EARLIEST_DATE) -> ParquetFacts | None:
    """What job 1 of :func:`~satisfaction.value.spark_validation.spark_transactions`
    would find, from the Parquet footers.

    Job 1 reads every row to find two things the customer-table query is written
    with: the kept rows' first and last date (the default period ends on the last),
    and whether the sums may run as 64-bit integers of millionths. When every file
    is local, the date a DATE column and the amounts numbers, and each row group
    has minimum and maximum statistics for them, the footers answer instead:

    * **Millionths:** the rows times the largest absolute amount (margin; amount plus
      cost) bound every sum from above, as job 1's sum of absolute amounts does; the
      bound must be below 2⁵³ millionths
      (:func:`~satisfaction.value.spark_sql._exact_in_millionths`). Negative amounts
      that are 0 millionths are counted on the way (``tiny``), and the query runs
      again without millionths if there are any.
    * **Dates:** the first and last date of all rows, within the rules' range
      (from ``earliest``, by default :data:`~satisfaction.value.transactions.EARLIEST_DATE`,
      to ``today``). They
      are the kept rows' unless every row of the first or last day fails another rule;
      the query observes the kept rows' and runs again if the period they give differs.

    ``types`` are the Spark type names of the source's columns. Returns None when
    any of this does not hold (then job 1 runs).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    numbers = EXACT_AS_DOUBLE | {"decimal"}
    money = [c for c in (cols.amount, cols.margin, cols.cost) if c is not None]
    if types.get(cols.date) != "date" or any(types.get(c) not in numbers for c in money):
        return None
    paths = [_local_path(f) for f in files]
    if not paths or any(p is None or not p.is_file() for p in paths):
        return None
    rows: list[int] = []
    first: dt.date | None = None
    last: dt.date | None = None
    largest = dict.fromkeys(money, 0.0)
    negative = False
    for path in paths:
        try:
            meta = pq.read_metadata(path)  # type: ignore[arg-type]
        except (OSError, pa.ArrowException):
            return None
        rows.append(meta.num_rows)
        for column in (cols.date, *money):
            try:
                bounds = _column_bounds(meta, column)
            except (OverflowError, TypeError, ValueError):
                return None  # a date past 9999 (pyarrow), files of mixed types
            if bounds is None:
                return None
            if not bounds:
                continue
            lo, hi = bounds
            if column == cols.date:
                if type(lo) is not dt.date or type(hi) is not dt.date:
                    return None
                first = lo if first is None else min(first, lo)
                last = hi if last is None else max(last, hi)
            else:
                largest[column] = max(largest[column], abs(float(lo)), abs(float(hi)))
                negative = negative or (column == cols.amount and float(lo) < 0)
    if first is None or last is None:
        return None
    if first < earliest or last > today:
        return None
    n = sum(rows)
    margin = (largest[cols.margin] if cols.margin is not None else
              largest[cols.amount] + largest[cols.cost] if cols.cost is not None else 0.0)
    if not _exact_in_millionths(n * max(largest[cols.amount], margin)):
        return None
    return ParquetFacts(rows=rows, first=first, last=last, negative=negative)


def _read_parquet(spark: Any, path: Path, name: str) -> Any:
    """A Parquet file, or a folder of them (Spark's layout: files and folders whose
    names start with ``.`` or ``_`` are not data), as a Spark DataFrame; an
    InputError naming the file when one is not Parquet (a folder of CSV files, a
    text file named ``.parquet``), rather than a failed Spark job. A local file is
    Parquet when it begins and ends with the format's magic bytes ``PAR1``."""
    data = [path]
    if path.is_dir():
        data = sorted(f for f in path.rglob("*") if f.is_file()
                      and not any(p.startswith((".", "_")) for p in f.relative_to(path).parts))
        if not data:
            raise InputError("the folder holds no data files", file=name)
    other = [f for f in data if not _is_parquet(f)]
    if other and path.is_dir():
        raise InputError("the Spark engine reads a folder of Parquet files; this one "
                         "also holds " + ", ".join(f.name for f in other[:3])
                         + (" …" if len(other) > 3 else "") + ", not Parquet: give one "
                         "CSV file at a time, or a folder of Parquet files only", file=name)
    if other:
        raise InputError("not a Parquet file (it does not begin and end with the "
                         "format's magic bytes PAR1)", file=name)
    try:
        return spark.read.parquet(str(path))
    except Exception as err:  # AnalysisException, or a failed job (Py4JJavaError)
        cause = getattr(err, "java_exception", None)
        text = (cause.toString() if cause is not None else str(err)).strip()
        first = text.splitlines()[0] if text else type(err).__name__
        first = re.sub(r"^[\w.$]+(Exception|Error): ", "", first)  # the Java class
        raise InputError(f"cannot read as Parquet: {first[:300]}", file=name) from None


def _is_parquet(path: Path) -> bool:
    """The file begins and ends with ``PAR1`` (an empty or unreadable file: no)."""
    try:
        with path.open("rb") as f:
            head = f.read(4)
            f.seek(-4, os.SEEK_END)
            return head == b"PAR1" and f.read(4) == b"PAR1"
    except OSError:
        return False
