"""The Spark engine of the value analysis: an adapter that validates and aggregates.

When the transactions live in a data lake or a Spark catalog, Spark does the work
that grows with the number of transactions, in as few jobs as it can:

1. **Validation** (:func:`~satisfaction.value.spark_validation.spark_transactions`):
   a narrow job (no shuffle) classifies every row under the exclusion reasons that
   read one row and counts them (not even that for local Parquet files whose footers
   prove the counts); the rows that pass are registered as a view.
2. **The per-customer table** (:func:`spark_customer_table`): one job runs the one
   shuffle of the analysis (by customer, sorted for the duplicate check, which needs
   the rows of a customer together) and the one query of
   :mod:`satisfaction.value.customers` (kept once in DuckDB's dialect and transpiled
   by sqlglot) on its sorted rows; the rows of the table (one per customer: a million
   customers collect as a few tens of MB) reach the driver through Arrow. What only
   the shuffle can count (the duplicates, the kept rows and their returns) and, when
   every excluded row is asked for, the excluded copies are observed on the way
   (``DataFrame.observe``), so the transaction log is complete without a pass of its
   own. The data are read (and parsed) twice (once for footer-proved Parquet),
   shuffled once, and never cached, with a holdout period or without (its
   occasions are aggregated with the calibration period's, in one GROUP BY); a
   third, narrow read lists the rows the other rules exclude, when all are asked for
   and there are any. More passes are made with a limited problem list and
   exclusions, and when the log is asked for before the customer table.

Everything after the customer table — the CLV fits, P(alive), CLV, RFM, ABC,
lifecycle, the holdout check, the warnings — is
:func:`satisfaction.value.core.analyse_customers`, the same code as for DuckDB:
the per-customer table holds the sufficient statistics of all of it.

The engine's parts are modules of their own, and this module re-exports their public
names (``spark_session``, ``require_pyspark``, ``spark_transactions``,
``SparkTransactions``, ``spark_*_sql``, ``strptime_regex``, …), so that ``from
satisfaction.value import spark as sv; sv.spark_session(…)`` works.

PySpark is an optional extra: ``pip install "satisfaction[spark]"`` (it needs a Java
runtime, e.g. Debian's ``default-jre-headless``).

See Also
--------
satisfaction.value.spark_session : starting Spark and its driver's JVM.
satisfaction.value.spark_validation : the validation (job 1) and the view of kept rows.
satisfaction.value.spark_sql : the validation rules and exact amounts in Spark SQL.
satisfaction.value.spark_parquet : reading Parquet, and what its footers prove.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from satisfaction.errors import UsageError
from satisfaction.value.core import (
    MODELS,
    ValueResult,
    analyse_customers,
    resolve_period,
    value_options,
)
from satisfaction.value.customers import (
    TIME_UNITS,
    CustomerTable,
    _nothing_kept,
    customer_table_sql,
    table_from_query,
)
from satisfaction.value.spark_parquet import ParquetFacts
from satisfaction.value.spark_session import (
    INSTALL_HINT,
    LOCAL_JAVA_OPTIONS,
    require_pyspark,
    spark_session,
)
from satisfaction.value.spark_sql import (
    EXACT_AS_DOUBLE,
    TINY_NEGATIVE,
    _decimal_sql,
    _micros_sql,
    spark_amount_sql,
    spark_blank_sql,
    spark_date_sql,
    spark_trim_sql,
    strptime_regex,
)
from satisfaction.value.spark_validation import SparkTransactions, spark_transactions
from satisfaction.value.transactions import TransactionColumns

#: The public names, with those of the engine's parts (re-exported).
__all__ = [
    "EXACT_AS_DOUBLE", "INSTALL_HINT", "LOCAL_JAVA_OPTIONS", "SMALL_INPUT_BYTES",
    "TINY_NEGATIVE", "ParquetFacts", "SparkTransactions", "require_pyspark", "run",
    "spark_amount_sql", "spark_blank_sql", "spark_customer_table", "spark_date_sql",
    "spark_session", "spark_transactions", "spark_trim_sql", "spark_value_analysis",
    "strptime_regex",
]


# ---------------------------------------------------------------------------
# the per-customer table: one aggregation in the engine, collected through Arrow
# ---------------------------------------------------------------------------
def spark_customer_table(transactions: SparkTransactions, period_end: dt.date | str | None = None,
                         time_unit: Literal["day", "week", "month"] = "week",
                         holdout_end: dt.date | str | None = None) -> CustomerTable:
    """The per-customer table of Spark-held transactions, on the driver.

    Runs the customer-table query (:func:`~satisfaction.value.customers.customer_table_sql`,
    kept once in DuckDB's dialect and transpiled to Spark SQL by sqlglot) over the
    kept rows, which runs the shuffle by customer and the duplicate check, and collects
    its rows through Arrow (``toArrow``: no pandas conversion inside PySpark). The
    counts that shuffle observes complete ``transactions.log``. The result is the
    :class:`~satisfaction.value.customers.CustomerTable`
    that :func:`~satisfaction.value.customers.customer_table` gives on DuckDB, with
    the same columns, types and order (tests/test_spark.py compares them cell by cell).
    Same arguments and defaults as that function. The rows arrive partitioned by
    customer and sorted (see
    :func:`~satisfaction.value.spark_validation.spark_transactions`), so the query runs as sort
    aggregates without another shuffle, with a holdout period or without (one GROUP
    BY for both periods); with ``transactions.micros`` its sums are exact
    64-bit integers of millionths (``customer_table_sql(micros=True)``). When the
    Parquet footers stood in for the first pass (``transactions.checks``), the query
    is written with their dates; if the kept rows' dates, observed on the way, give
    another period (or an amount is 0 millionths), it runs once more with those.
    """
    if time_unit not in TIME_UNITS:
        raise UsageError("time unit must be day, week or month", column="time_unit",
                         value=time_unit)
    if transactions.passing == 0:
        raise _nothing_kept(transactions.log)
    first, last = transactions.date_range
    if transactions.passing is None:  # the footers' first date may be an excluded row's:
        first = None                  # the period is checked against the kept rows' below
    end, hold = resolve_period((first, last), period_end, holdout_end,
                               source=transactions.source)
    unit = TIME_UNITS[time_unit]
    micros = transactions.micros
    data, query = _customer_query(transactions, end, hold, unit, micros)
    transactions.complete(query)  # the log, from what the query observed on the way
    if transactions.passing == 0:  # known only now when the footers stood in for job 1
        raise _nothing_kept(transactions.log)
    period = resolve_period(transactions.date_range, period_end, holdout_end,
                            source=transactions.source)
    if period != (end, hold) or transactions.micros != micros:
        # the footers' dates are not the kept rows' and give another period (or a
        # negative amount is 0 millionths): the query once more, with what was observed
        end, hold = period
        data, _ = _customer_query(transactions, end, hold, unit, transactions.micros)
    return table_from_query(data, period_end=end, holdout_end=hold, time_unit=time_unit,
                            has_margin=transactions.has_margin)


def _customer_query(transactions: SparkTransactions, end: dt.date, hold: dt.date,
                    unit: float, micros: bool) -> tuple[pd.DataFrame, Any]:
    """Run the customer-table query over the kept rows: its rows (unsorted) and the
    query, whose observed metrics complete the log."""
    source = transactions.view
    if micros:  # exact integer sums (see customer_table_sql)
        source = (f"(SELECT customer_id, date, {_micros_sql('amount')} AS amount, "
                  f"{_micros_sql('margin')} AS margin FROM {source})")
    else:  # exact decimal sums of the amounts as DuckDB reads them
        source = (f"(SELECT customer_id, date, amount, margin, "
                  f"{_decimal_sql('amount')} AS amount_decimal, "
                  f"{_decimal_sql('margin')} AS margin_decimal FROM {source})")
    sql = customer_table_sql(end, hold, unit, dialect="spark", source=source,
                             has_margin=transactions.has_margin,
                             has_returns=transactions.has_returns, micros=micros,
                             decimal_columns=not micros)
    # the rows are sorted on the driver (as DuckDB's ORDER BY 1: by the id's own type,
    # text by code point) rather than by a distributed sort, which costs a job
    unsorted = re.sub(r"\s+ORDER BY 1( NULLS (FIRST|LAST))?\s*$", "", sql)
    query = transactions.spark.sql(unsorted)
    return query.toArrow().to_pandas(), query


def spark_value_analysis(
    spark: Any,
    transactions: SparkTransactions | Any,
    period_end: dt.date | str | None = None,
    time_unit: Literal["day", "week", "month"] = "week",
    horizon: int | None = None,
    discount_rate: float = 0.10,
    models: tuple[str, ...] = MODELS,
    abc_thresholds: tuple[float, float] = (0.80, 0.95),
    columns: TransactionColumns | None = None,
    referral_rate: float | pd.Series = 0.0,
    referral_value: float = 0.0,
) -> ValueResult:
    """The value analysis with Spark as the engine.

    Spark validates the transactions
    (:func:`~satisfaction.value.spark_validation.spark_transactions`) and aggregates them
    to the per-customer table (:func:`spark_customer_table`); everything after that
    is :func:`satisfaction.value.core.analyse_customers`, the code the DuckDB engine
    runs, so the result is a :class:`~satisfaction.value.core.ValueResult` with the
    same summary and warnings.

    Parameters
    ----------
    spark : SparkSession
    transactions : SparkTransactions, pyspark DataFrame, table name or path
        Anything but :class:`~satisfaction.value.spark_validation.SparkTransactions`
        is checked first by
        :func:`~satisfaction.value.spark_validation.spark_transactions` (with ``columns``).
    period_end, time_unit, horizon, discount_rate, models, abc_thresholds
        As :func:`~satisfaction.value.pipeline.value_analysis`.
    referral_rate, referral_value
        As :func:`~satisfaction.value.pipeline.value_analysis`.

    Returns
    -------
    ValueResult
        With ``engine == "spark"``.

    Notes
    -----
    Tested against the DuckDB engine on the CDNOW sample and on generated data spread
    over several partitions: the same transaction log, customer table, model
    parameters and per-customer values (tests/test_spark.py).
    """
    options = value_options(time_unit, horizon, discount_rate, models, abc_thresholds)
    if not isinstance(transactions, SparkTransactions):
        transactions = spark_transactions(spark, transactions, columns)
    table = spark_customer_table(transactions, period_end=period_end,
                                 time_unit=time_unit)  # type: ignore[arg-type]
    return analyse_customers(table, transactions.log.to_dict(), options,
                             referral_rate=referral_rate, referral_value=referral_value,
                             engine="spark")


# ---------------------------------------------------------------------------
# command line
# ---------------------------------------------------------------------------
#: Below this many bytes of local input, the command starts Spark's JVM for a short run.
SMALL_INPUT_BYTES = 8 * 2**20


def _local_bytes(source: str | Path) -> float:
    """Size of a local file or folder of files; infinite for anything else (a table)."""
    path = Path(source)
    if path.is_file():
        return float(path.stat().st_size)
    if path.is_dir():
        return float(sum(f.stat().st_size for f in path.rglob("*") if f.is_file()))
    return float("inf")


def run(transactions: str | Path, columns: TransactionColumns, *, spark_master: str | None,
        period_end: str | None = None, time_unit: str = "week", horizon: int | None = None,
        discount_rate: float = 0.10, returns: str = "net", keep_duplicates: bool = False,
        today: str | None = None, date_format: str | None = None,
        models: tuple[str, ...] = MODELS) -> ValueResult:
    """The analysis of a file or table on Spark, every excluded row listed, as
    :func:`satisfaction.api.clv` and :func:`satisfaction.api.rfm` run it with
    ``engine="spark"`` (and so ``satisfaction rfm|clv … --engine spark``).

    Starts (or reuses) a session on ``spark_master`` (default ``local[*]``); the
    options are those of the API functions. Returns the
    :class:`~satisfaction.value.core.ValueResult` of the DuckDB engine (``engine ==
    "spark"``)."""
    options = value_options(time_unit, horizon, discount_rate, models)
    require_pyspark()
    master = spark_master or "local[*]"
    config = {}
    if master.startswith("local") and _local_bytes(transactions) < SMALL_INPUT_BYTES:
        # A short run on a fresh JVM: compile quickly rather than well (the JIT's first
        # tier only). Measured on the CDNOW sample: 25-32 s against 37-40 s.
        config["spark.driver.extraJavaOptions"] = "-XX:TieredStopAtLevel=1"
    spark = spark_session(master, config=config)
    stx = spark_transactions(spark, transactions, columns, returns=returns,  # type: ignore[arg-type]
                             today=today, duplicates="keep" if keep_duplicates else "exclude",
                             date_format=date_format, max_problems=None)
    result = spark_value_analysis(spark, stx, period_end=period_end,
                                  time_unit=options.time_unit,  # type: ignore[arg-type]
                                  horizon=options.horizon,
                                  discount_rate=options.discount_rate, models=options.models)
    return result
