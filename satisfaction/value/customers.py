"""The customer table: one row per customer, from one SQL query.

Everything downstream (RFM, ABC, lifecycle, the CLV models) reads this table,
so the heavy work on the transactions is a single ``GROUP BY`` that DuckDB runs
out of core and that a distributed engine can run as well (the query uses only
standard aggregates with ``FILTER`` and one ``arg_min``; see
:data:`CUSTOMER_TABLE_SQL`).

Definitions (Fader, Hardie & Lee 2005, "Counting your customers the easy way"):

* A **purchase occasion** is a customer-day with at least one purchase (a
  transaction with amount ≥ 0; several on one day are one occasion, valued at the
  day's net amount; a day of returns only is not an occasion).
* ``frequency`` (x) is the number of *repeat* occasions up to ``period_end``:
  occasions − 1.
* ``t_x`` is the time from the first to the last occasion and ``T`` the time from
  the first occasion to ``period_end``, both in ``time_unit`` (day = 1 day,
  week = 7 days, month = 365.25/12 days).
* ``recency_days`` is the RFM recency: days from the last occasion to ``period_end``.
* ``monetary_value`` is the mean net amount of the repeat occasions (the
  Gamma-Gamma input ``z̄``); ``revenue`` the total net amount (returns included).
* ``holdout_frequency`` counts occasions in ``(period_end, holdout_end]``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd

from satisfaction.errors import InputError, UsageError
from satisfaction.value.transactions import TransactionLog, Transactions, _as_date

#: Length of one time unit in days.
TIME_UNITS: dict[str, float] = {"day": 1.0, "week": 7.0, "month": 365.25 / 12.0}

#: The per-customer aggregation: the one query a distributed engine must run.
#: Parameters: ``$period_end``, ``$holdout_end`` (DATE) and ``$unit`` (days per unit);
#: ``$margin_sum``, ``$margin_total``, ``$bought`` are the margin sums and the
#: purchase-occasion test; ``$decimal`` the exact decimal type of the sums (``BIGINT``
#: for amounts given in millionths, and ``$micros`` then divides the sums' doubles by
#: 10⁶); ``$amount_decimal`` an amount in that type (its cast, or a column of the
#: source that holds it); ``$in_calibration`` and ``$bought_in_calibration`` the
#: FILTER clauses that keep the calibration period's customer-days (all of them, or the purchase
#: occasions), ``$calibration_where`` the WHERE clause that does so without a holdout
#: period, ``$holdout_columns``, ``$holdout_frequency`` and ``$holdout_revenue`` the
#: holdout part; ``$order_by`` the order of the rows (see :func:`customer_table_sql`).
#: With a holdout period the calibration and holdout aggregates are one GROUP BY over
#: every customer-day (FILTER clauses pick each one's days), so an engine reads the
#: customer-days once: a second aggregation joined to the first made Spark run the
#: whole validation and shuffle twice.
CUSTOMER_TABLE_SQL = """
WITH occasions AS (
    SELECT customer_id, date,
           -- exact decimal sums: the result does not depend on how threads split rows
           sum($amount_decimal) AS amount,
           $margin_sum AS margin,
           count(*) AS n_tx,
           $bought AS bought
    FROM transactions
    WHERE date <= $holdout_end
    GROUP BY customer_id, date
),
calibration AS (
    SELECT customer_id,
        count(*)$bought_in_calibration AS occasions,
        sum(n_tx)$in_calibration AS transactions,
        min(date)$bought_in_calibration AS first_purchase,
        max(date)$bought_in_calibration AS last_purchase,
        sum(amount)$in_calibration AS revenue,
        $margin_total AS margin,
        sum(amount)$bought_in_calibration AS purchase_amount,
        arg_min(amount, date)$bought_in_calibration AS first_amount,
        sum(date_diff('day', DATE '1970-01-01', date))$bought_in_calibration
            AS sum_day$holdout_columns
    FROM occasions$calibration_where
    GROUP BY customer_id
)
SELECT customer_id,
    first_purchase, last_purchase, coalesce(occasions, 0) AS occasions,
    coalesce(transactions, 0) AS transactions,
    occasions - 1 AS frequency,
    date_diff('day', first_purchase, last_purchase) / $unit AS t_x,
    date_diff('day', first_purchase, $period_end) / $unit AS "T",
    date_diff('day', last_purchase, $period_end) AS recency_days,
    CAST(revenue AS DOUBLE)$micros AS revenue, CAST(margin AS DOUBLE)$micros AS margin,
    CASE WHEN occasions > 1 THEN CAST(purchase_amount - first_amount AS DOUBLE)$micros
        / (occasions - 1) END AS monetary_value,
    -- mean position of the repeat occasions within the customer's own tenure
    -- (0.5 for a steady rate; above: accelerating, below: slowing down)
    CASE WHEN occasions > 1 AND $period_end > first_purchase THEN
        ((sum_day - date_diff('day', DATE '1970-01-01', first_purchase)) / (occasions - 1)
         - date_diff('day', DATE '1970-01-01', first_purchase))
        / date_diff('day', first_purchase, $period_end) END
        AS trend_position,
    $holdout_frequency AS holdout_frequency,
    CAST($holdout_revenue AS DOUBLE)$micros AS holdout_revenue
FROM calibration
$order_by
"""


def _periods(holdout: bool, has_returns: bool) -> dict[str, str]:
    """The calibration and holdout parts of :data:`CUSTOMER_TABLE_SQL`.

    With a holdout period, the occasions of both periods are aggregated together,
    each aggregate filtered to its period's days; a customer with holdout occasions
    only has no calibration day (``transactions`` NULL, dropped by
    :func:`table_from_query`). Without one (holdout end = period end) no occasion is
    in it: the holdout columns are 0 and the calibration days are kept by a WHERE
    clause."""
    bought = " AND bought" if has_returns else ""
    if not holdout:
        return {"$in_calibration": "",
                "$bought_in_calibration": " FILTER (WHERE bought)" if has_returns else "",
                "$calibration_where": "\n    WHERE date <= $period_end",
                "$holdout_columns": "",
                "$holdout_frequency": "CAST(0 AS BIGINT)", "$holdout_revenue": "0"}
    return {"$in_calibration": " FILTER (WHERE date <= $period_end)",
            "$bought_in_calibration": f" FILTER (WHERE date <= $period_end{bought})",
            "$calibration_where": "",
            "$holdout_columns": (
                f",\n        count(*) FILTER (WHERE date > $period_end{bought})"
                " AS holdout_frequency,"
                "\n        sum(amount) FILTER (WHERE date > $period_end) AS holdout_revenue"),
            "$holdout_frequency": "holdout_frequency",
            "$holdout_revenue": "coalesce(holdout_revenue, 0)"}


#: The widest amount (and margin) for which the sums may read the amounts as
#: ``DECIMAL(18, 6)`` (a 64-bit integer of millionths, at most 10¹² − 10⁻⁶): below it
#: the cast cannot overflow. The sums themselves are exact either way (DuckDB sums
#: decimals in 128 bits); the narrower cast is a sixth cheaper than ``DECIMAL(38, 6)``.
NARROW_DECIMAL_BELOW = 1e11


def customer_table_sql(period_end: dt.date, holdout_end: dt.date, unit_days: float,
                       dialect: str = "duckdb", source: str = "transactions",
                       has_margin: bool = True, has_returns: bool = True,
                       narrow_decimal: bool = False, ordered: bool = True,
                       micros: bool = False, decimal_columns: bool = False) -> str:
    """:data:`CUSTOMER_TABLE_SQL` with its parameters written in, in an engine's SQL dialect.

    Without a margin column (``has_margin=False``) the margin sums are left out
    (NULL): summing a column of NULLs as exact decimals costs a fifth of the query.
    Without negative amounts (``has_returns=False``) every customer-day is a
    purchase occasion, so the ``FILTER (WHERE bought)`` clauses select every row and
    are left out (another fifth). Without a holdout period (``holdout_end`` not after
    ``period_end``) the holdout aggregation and its join are left out: the holdout
    columns are 0. ``narrow_decimal=True`` reads amounts and margins as
    ``DECIMAL(18, 6)`` (only when every one is below :data:`NARROW_DECIMAL_BELOW` in
    absolute value; the sums are the same). ``ordered=False`` leaves out the final
    ``ORDER BY customer_id`` (the caller sorts). Each variant gives the same table
    (tests/test_value_speed.py). ``micros=True`` is for a source whose amounts and
    margins are already exact integers of millionths (``BIGINT``; the Spark engine's,
    where long sums are several times faster than decimal ones): they are summed as
    integers and each sum's double divided by 10⁶, which is DuckDB's conversion of a
    ``DECIMAL(·, 6)`` to ``DOUBLE`` (the integer's double over 10⁶), so the table is
    the same (tests/test_spark.py). ``decimal_columns=True`` is for a source that holds
    each amount and margin as the exact ``DECIMAL(38, 6)`` DuckDB's cast of the double
    gives, in columns ``amount_decimal`` and ``margin_decimal`` beside the doubles
    (the Spark engine's when the sums may reach 2⁵³ millionths: Spark's own cast rounds
    a double's shortest decimal text, DuckDB's the double times 10⁶, which differ in
    the last millionth for amounts with more decimals); the sums read them, the
    purchase test the doubles.

    The query is kept once, in DuckDB's dialect; other engines (``"spark"``) get it
    transpiled by sqlglot, so the same text runs on both (see
    :mod:`satisfaction.value.spark`). ``source`` names the transactions table or view.
    """
    decimal = "BIGINT" if micros else "DECIMAL(18, 6)" if narrow_decimal else "DECIMAL(38, 6)"
    null = "CAST(NULL AS DECIMAL(38, 6))"
    periods = _periods(holdout_end > period_end, has_returns)
    params = {  # in this order: a part may hold a parameter replaced after it
        **periods,
        "$margin_total": f"sum(margin){periods['$in_calibration']}" if has_margin else null,
        "$amount_decimal": "amount_decimal" if decimal_columns else "CAST(amount AS $decimal)",
        "$decimal": decimal,
        "$micros": " / CAST(1000000 AS DOUBLE)" if micros else "",
        "$order_by": "ORDER BY 1" if ordered else "",
        "$period_end": f"DATE '{period_end.isoformat()}'",
        "$holdout_end": f"DATE '{holdout_end.isoformat()}'",
        "$unit": f"CAST({float(unit_days)!r} AS DOUBLE)",
        # without a margin column the margin sums are NULL
        "$margin_sum": ("sum(margin_decimal)" if decimal_columns
                        else f"sum(CAST(margin AS {decimal}))") if has_margin else null,
        # without negative amounts every customer-day is a purchase occasion
        "$bought": "count(*) FILTER (WHERE amount >= 0) > 0" if has_returns else "true",
        "FROM transactions": f"FROM {source}",
    }
    sql = CUSTOMER_TABLE_SQL
    for name, value in params.items():
        sql = sql.replace(name, value)
    if dialect == "duckdb":
        return sql
    import sqlglot

    tree = sqlglot.parse_one(sql, read="duckdb")
    if dialect == "spark":
        tree = tree.transform(_spark_day_difference)
    return tree.sql(dialect=dialect)


def _spark_day_difference(node: Any) -> Any:
    """sqlglot transform: DuckDB's ``date_diff('day', a, b)`` of two dates as Spark's
    ``datediff(b, a)`` (days between two dates, as a BIGINT like DuckDB's).

    sqlglot renders it as ``DATEDIFF(DAY, a, b)``, which Spark runs as
    ``timestampdiff``: both dates cast to timestamps and compared in the session's
    time zone, per row. The two-argument ``datediff`` subtracts the day numbers: the
    same integers (the dates have no time of day), and about a quarter of the
    customer-table query's CPU time less at 10 million rows (measured).
    """
    from sqlglot import exp

    unit = node.args.get("unit") if isinstance(node, exp.DateDiff) else None
    if unit is None or unit.name.upper() != "DAY":
        return node
    days = exp.Anonymous(this="datediff", expressions=[node.this, node.expression])
    return exp.cast(days, "BIGINT")


@dataclass
class CustomerTable:
    """One row per customer with a transaction up to ``period_end``.

    Attributes
    ----------
    data : pandas.DataFrame
        Indexed by ``customer_id``; columns first_purchase, last_purchase,
        occasions, transactions, frequency, t_x, T, recency_days, revenue, margin,
        monetary_value, trend_position, holdout_frequency, holdout_revenue.
        Customers with returns only (no purchase occasion) have ``occasions == 0``
        and NaN for t_x, T, recency_days.
    first_seen_later : int
        Customers whose first transaction is after ``period_end`` (not in ``data``).
    period_end, holdout_end : datetime.date
    time_unit : str
    unit_days : float
    has_margin : bool
    """

    data: pd.DataFrame
    period_end: dt.date
    holdout_end: dt.date
    time_unit: str
    unit_days: float
    has_margin: bool
    first_seen_later: int = 0

    @property
    def purchasers(self) -> pd.DataFrame:
        """Customers with at least one purchase occasion (the modelled ones)."""
        # a NumPy mask: a boolean Series as the key makes pandas look its name up in
        # the text index of customer ids (a hash table of a million strings, 0.6 s);
        # without returns-only customers, a shallow copy (copy-on-write) of the table
        keep = self.data["occasions"].to_numpy() > 0
        return self.data.copy(deep=False) if keep.all() else self.data[keep]

    def counts(self) -> dict[str, Any]:
        """Customers, and those with returns only (not modelled)."""
        n = len(self.data)
        returns_only = int((self.data["occasions"] == 0).sum())
        return {"customers": n, "modelled": n - returns_only, "returns_only": returns_only,
                "first_purchase_after_period_end": self.first_seen_later}


def customer_table(
    transactions: Transactions,
    period_end: dt.date | str | None = None,
    time_unit: Literal["day", "week", "month"] = "week",
    holdout_end: dt.date | str | None = None,
) -> CustomerTable:
    """Aggregate transactions to one row per customer (see the module notes).

    Parameters
    ----------
    transactions : Transactions
    period_end : date, optional
        End of the calibration period, inclusive (default: the last transaction date).
    time_unit : {"day", "week", "month"}
    holdout_end : date, optional
        End of the holdout period (default: the last transaction date). Holdout
        occasions are counted only when it is after ``period_end``.

    Returns
    -------
    CustomerTable

    Notes
    -----
    Tested against ``lifetimes.utils.summary_data_from_transaction_data`` (daily
    frequency, divided by 7) on the CDNOW sample.
    """
    if time_unit not in TIME_UNITS:
        raise UsageError("time unit must be day, week or month", column="time_unit",
                         value=time_unit)
    if transactions.log.kept == 0:
        raise _nothing_kept(transactions.log)
    lo, hi = transactions.date_range
    end = _as_date(period_end, "period_end") if period_end is not None else hi
    hold = _as_date(holdout_end, "holdout_end") if holdout_end is not None else hi
    if end is None or hold is None:
        raise UsageError("no transactions to aggregate")
    if lo is not None and end < lo:
        raise UsageError(f"the period end {end} is before the first transaction ({lo})",
                         file=transactions.log.source)
    hold = max(hold, end)
    unit = TIME_UNITS[time_unit]
    # no kept amount is negative: every customer-day is a purchase occasion
    has_returns = transactions.log.notes.get("returns_netted", 1) > 0
    widest = transactions.known_max_abs
    narrow = widest is not None and widest < NARROW_DECIMAL_BELOW
    data = None
    if hold == end and not has_returns:
        # integer ids without returns: the purchase days counted by sorting (the same
        # rows as the query's, see satisfaction.value.occasions); None when not
        from satisfaction.value.occasions import occasion_table

        data = occasion_table(transactions, end, unit,
                              "DECIMAL(18, 6)" if narrow else "DECIMAL(38, 6)")
    if data is None:
        sql = customer_table_sql(end, hold, unit, has_margin=transactions.has_margin,
                                 has_returns=has_returns, narrow_decimal=narrow,
                                 ordered=False)
        data = transactions.con.execute(sql).df()
    return table_from_query(data, period_end=end, holdout_end=hold, time_unit=time_unit,
                            has_margin=transactions.has_margin)


def table_from_query(data: pd.DataFrame, *, period_end: dt.date, holdout_end: dt.date | None,
                     time_unit: Literal["day", "week", "month"],
                     has_margin: bool) -> CustomerTable:
    """The :class:`CustomerTable` from the rows of :func:`customer_table_sql`, as any
    engine returns them (DuckDB's ``df()``, Spark's ``toArrow().to_pandas()``).

    Customers whose first purchase lies after ``period_end`` (no transaction in the
    calibration period) are counted in ``first_seen_later`` and dropped; the rest are
    sorted by customer id (as DuckDB's ``ORDER BY 1``: numbers by value, text by code
    point), indexed by the id as text, with one type per column.
    """
    later = (data["transactions"].isna() | (data["transactions"] == 0)).to_numpy()
    if later.any():  # filter before the ids become a text index (a take on it is slow)
        data = data[~later]
    # a stable sort of one column, then one take, costs a tenth of sorting in the query
    data = data.sort_values("customer_id", kind="stable", ignore_index=True)
    data["customer_id"] = data["customer_id"].astype(str)
    data = data.set_index("customer_id")
    for column in ("first_purchase", "last_purchase"):
        # Arrow's dates arrive in seconds, DuckDB's timestamps in microseconds
        data[column] = pd.to_datetime(data[column]).astype("datetime64[us]")
    for column in ("occasions", "transactions", "frequency", "holdout_frequency"):
        data[column] = data[column].fillna(0).astype("int64")
    data["frequency"] = data["frequency"].clip(lower=0)
    for column in ("t_x", "T", "recency_days", "revenue", "margin", "monetary_value",
                   "trend_position", "holdout_revenue"):
        data[column] = data[column].astype("float64")
    if not has_margin:
        data["margin"] = float("nan")
    return CustomerTable(data=data, period_end=period_end, holdout_end=holdout_end,
                         time_unit=time_unit, unit_days=TIME_UNITS[time_unit],
                         has_margin=has_margin, first_seen_later=int(later.sum()))


def _nothing_kept(log: TransactionLog) -> InputError:
    """The error when every transaction was excluded: the counts by reason and the
    first excluded row (file, row, column, value, what was expected)."""
    reasons = ", ".join(f"{r.replace('_', ' ')} {n}" for r, n in log.excluded.items() if n)
    message = f"no usable transaction: all {log.loaded} rows were excluded ({reasons})"
    if not len(log.problems):
        return InputError(message, file=log.source)
    p = log.problems.iloc[0]
    hint = ("give the dates' layout with --date-format (date_format= in Python), "
            "e.g. %d/%m/%Y" if p["rule"] == "unparseable_date" else None)
    return InputError(f"{message}; the first: {p['message']}", file=log.source,
                      row=int(p["row"]), column=p["column"],
                      value=p["value"] if p["value"] is not None else "", hint=hint)
