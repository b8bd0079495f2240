"""Purchase occasions counted by sorting: the DuckDB engine's customer table when the
customer ids are integers and no amount is negative (issue 16, point 5).

The general customer-table query (:data:`~satisfaction.value.customers.CUSTOMER_TABLE_SQL`)
first groups the transactions by customer and day: ten million groups for ten
million transactions, most of its time. Without returns every customer-day with a
transaction is a purchase occasion, and that grouping is needed for three things only:
the number of distinct days (``occasions``), their sum (for ``trend_position``) and the
net amount of the first day (for ``monetary_value``) when that day holds several
transactions. So here

1. each (customer, day) is packed into one 64-bit integer, the customer id minus the
   smallest id in the high bits and the day in the low bits, and NumPy sorts the
   integers (a tenth of a second for ten million; the distinct days of a customer are
   then adjacent, in order);
2. everything else is one plain per-customer ``GROUP BY`` in DuckDB (run meanwhile, in
   a second connection): transactions, first and last date, and the exact decimal sums
   of the query (revenue, margin, and revenue minus the amount of one transaction of
   the first day, ``arg_min``);
3. for the customers whose first day holds several transactions, revenue minus that
   day's whole net amount comes from their rows alone (a join on a list of them).

Integer ids by value is the order the query's rows are sorted in, so the two halves
line up; the columns are computed with the query's arithmetic (exact decimal sums cast
to double, the same divisions), and the table equals the general query's to the last
bit (tests/test_value_speed.py). Why we write this ourselves: DuckDB has no aggregate
for "distinct values with their sum" cheaper than the grouping it replaces
(``count(DISTINCT ...)`` costs as much), and no library we use counts runs of a sorted
key per group.
"""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd

from satisfaction.value.transactions import Transactions

#: Bits of the packed (customer, day) key: both parts must fit in a non-negative int64.
KEY_BITS = 62

#: The per-customer aggregation without the day grouping. ``$end`` is the period end,
#: ``$decimal`` the exact decimal type of the sums, ``$margin`` the margin sum (left
#: out without a margin column). The dates come from the sorted keys (a DATE column
#: costs more to hand to pandas than the whole aggregation).
_PER_CUSTOMER_SQL = """
SELECT customer_id,
    count(*) AS transactions,
    CAST(sum(CAST(amount AS $decimal)) AS DOUBLE) AS revenue,$margin
    -- revenue minus one transaction of the first day: the repeat amount when that day
    -- holds one transaction (the others are recomputed from their rows)
    CAST(sum(CAST(amount AS $decimal)) - arg_min(CAST(amount AS $decimal), date) AS DOUBLE)
        AS repeat_amount
FROM transactions
WHERE date <= $end
GROUP BY customer_id
"""

#: Revenue minus the whole first day, for the customers listed in ``_first_days``.
_FIRST_DAY_SQL = """
SELECT t.customer_id,
    CAST(sum(CAST(t.amount AS $decimal))
         - sum(CAST(t.amount AS $decimal)) FILTER (WHERE t.date = f.first_purchase)
         AS DOUBLE) AS repeat_amount
FROM transactions t JOIN _first_days f ON t.customer_id = f.customer_id
WHERE t.date <= $end
GROUP BY t.customer_id
"""


def occasion_table(transactions: Transactions, period_end: dt.date, unit_days: float,
                   decimal: str) -> pd.DataFrame | None:
    """The rows of the general customer-table query without a holdout period, by
    sorting packed (customer, day) keys (see the module notes).

    Parameters
    ----------
    transactions : Transactions
        Loaded by :func:`~satisfaction.value.transactions.load_transactions`; only kept
        rows dated up to ``period_end`` count.
    period_end : datetime.date
    unit_days : float
        Days per time unit of ``t_x`` and ``T``.
    decimal : str
        The exact decimal type the query sums amounts and margins in.

    Returns
    -------
    pandas.DataFrame or None
        The columns of :func:`~satisfaction.value.customers.customer_table_sql` (no
        holdout), one row per customer, in customer-id order; ``None`` when this path
        does not apply (ids not integers, a negative amount, or keys wider than
        :data:`KEY_BITS`): the caller runs the general query.
    """
    ids = transactions.known_id_range
    first_day = transactions.date_range[0]
    if ids is None or first_day is None or transactions.log.notes.get("returns_netted", 1):
        return None
    lo, hi = ids
    day_bits = max((period_end - first_day).days, 1).bit_length()
    if (hi - lo).bit_length() + day_bits > KEY_BITS:
        return None
    end = f"DATE '{period_end.isoformat()}'"
    margin = (f"\n    CAST(sum(CAST(margin AS {decimal})) AS DOUBLE) AS margin,"
              if transactions.has_margin else "")
    per_customer = (_PER_CUSTOMER_SQL.replace("$decimal", decimal).replace("$end", end)
                    .replace("$margin", margin))
    con = transactions.con
    if decimal == "DECIMAL(18, 6)" and not transactions.has_margin:
        found = _sorted_sums(con, lo, first_day, day_bits, end)
        if found is not None:
            data, days, repeat = found
            dates = np.datetime64(first_day, "D")
            data["first_purchase"] = dates + days["first"]
            data["last_purchase"] = dates + days["last"]
            return _query_columns(data, days, repeat, first_day, period_end, unit_days)
    # the per-customer GROUP BY runs in DuckDB (its own threads, the GIL released) on a
    # second connection to the same database while NumPy sorts the keys here
    with ThreadPoolExecutor(max_workers=1) as pool:
        grouped = pool.submit(lambda: con.cursor().execute(per_customer).fetchnumpy())
        keys = np.asarray(con.execute(
            f"SELECT ((CAST(customer_id AS BIGINT) - {lo}) << {day_bits}) "
            f"| date_diff('day', DATE '{first_day.isoformat()}', date) AS k "
            f"FROM transactions WHERE date <= {end}").fetchnumpy()["k"], dtype=np.int64)
        days = _distinct_days(keys, day_bits)
        found = grouped.result()
    # in customer-id order, as the keys; NumPy arrays (a DuckDB NULL is masked)
    order = np.argsort(np.asarray(found["customer_id"]), kind="stable")
    data = {name: np.ma.filled(values, np.nan)[order] for name, values in found.items()}
    ids_found = np.asarray(data["customer_id"])
    if not np.array_equal(ids_found.astype(np.int64) - lo, days["customer"]):
        raise RuntimeError("internal: the sorted keys and the per-customer rows differ")
    dates = np.datetime64(first_day, "D")
    data["first_purchase"] = dates + days["first"]
    data["last_purchase"] = dates + days["last"]
    repeat = np.array(data["repeat_amount"], dtype=float)
    several = np.flatnonzero(days["first_day_rows"] > 1)
    if len(several):
        # the first day holds several transactions: revenue minus that day's net amount
        firsts = pd.DataFrame({"customer_id": days["customer"][several] + lo,
                               "first_purchase": data["first_purchase"][several]})
        con.register("_first_days", firsts)
        try:
            fixed = con.execute(_FIRST_DAY_SQL.replace("$decimal", decimal)
                                .replace("$end", end)).df()
        finally:
            con.unregister("_first_days")
        at = np.searchsorted(ids_found, fixed["customer_id"].to_numpy())
        repeat[at] = fixed["repeat_amount"].to_numpy(dtype=float)
    return _query_columns(data, days, repeat, first_day, period_end, unit_days)


#: Exact integer sums below this many millionths are exact as doubles too.
_EXACT_MICROS = 2.0**53


def _sorted_sums(con: Any, lo: int, first_day: dt.date, day_bits: int, end: str,
                 ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], np.ndarray] | None:
    """The whole customer table by sorting, without the per-customer ``GROUP BY``: each
    transaction's packed (customer, day) key and its amount as an integer of millionths
    (the query's ``CAST(amount AS DECIMAL(18, 6))``, exact; amounts stored as doubles)
    are read, the rows sorted by
    key, and the counts and sums taken over the runs of equal customers and days.

    Only when no amount is negative (the caller's condition) and all amounts together
    stay below 2⁵³ millionths: then every sum is exact as a 64-bit integer and as a
    double, and the double divided by 10⁶ is the query's ``CAST(sum AS DOUBLE)`` (the
    same rounding as the Spark adapter's sums of millionths). ``None`` otherwise.

    Returns the per-customer columns (customer_id, transactions, revenue), the
    :func:`_distinct_days` columns and the repeat amount (revenue minus the whole
    first day), all in customer-id order.
    """
    if con.execute("DESCRIBE SELECT amount FROM transactions").fetchall()[0][1] != "DOUBLE":
        return None
    # DuckDB casts a double to DECIMAL(18, 6) as round(x · 10⁶), half away from zero,
    # which is its round() of doubles (tested on ties; a plain cast to BIGINT rounds
    # them to even): a tenth of the cost of reading the decimal's digits
    found = con.sql(  # a relation: its rows stream into the arrays (see _find_duplicates)
        f"SELECT ((CAST(customer_id AS BIGINT) - {lo}) << {day_bits}) "
        f"| date_diff('day', DATE '{first_day.isoformat()}', date) AS k, "
        f"CAST(round(amount * 1000000) AS BIGINT) AS m "
        f"FROM transactions WHERE date <= {end}").fetchnumpy()
    keys = np.asarray(found["k"], dtype=np.int64)
    micros = np.asarray(found["m"], dtype=np.int64)
    n = len(keys)
    if n == 0 or float(micros.sum(dtype=np.float64)) * 1.001 >= _EXACT_MICROS:
        return None
    # sorted by key, the row number riding in the low bits (a plain sort of 64-bit
    # integers is several times faster than an argsort); an argsort if it does not fit
    row_bits = max(n - 1, 1).bit_length()
    if int(keys.max()).bit_length() + row_bits <= 63:
        packed = (keys << row_bits) | np.arange(n, dtype=np.int64)
        packed.sort()
        rows = packed & ((1 << row_bits) - 1)
        keys = np.right_shift(packed, row_bits, out=packed)
    else:
        rows = np.argsort(keys)
        keys = keys[rows]
    micros = micros[rows]
    days, day_start = _runs(keys, day_bits)
    customer_rows = day_start[days["first_index"]]
    revenue = np.add.reduceat(micros, customer_rows)
    first_day = np.add.reduceat(micros, day_start)[days["first_index"]]
    data = {"customer_id": days["customer"] + lo,
            "transactions": np.diff(np.append(customer_rows, n)),
            "revenue": revenue / 1e6}
    return data, days, (revenue - first_day) / 1e6


def _runs(keys: np.ndarray, day_bits: int) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """:func:`_distinct_days` of sorted keys, the index of each customer's first distinct
    day (``first_index``), and the position of each distinct day's first row."""
    n = len(keys)
    new_day = np.empty(n, dtype=bool)
    new_day[0] = True
    np.not_equal(keys[1:], keys[:-1], out=new_day[1:])
    at = np.flatnonzero(new_day)          # first transaction of each distinct day
    distinct = keys[at]
    day = distinct & ((1 << day_bits) - 1)
    customer = np.right_shift(distinct, day_bits, out=distinct)
    new_customer = np.empty(len(customer), dtype=bool)
    new_customer[0] = True
    np.not_equal(customer[1:], customer[:-1], out=new_customer[1:])
    starts = np.flatnonzero(new_customer)
    ends = np.append(starts[1:], len(customer))
    # transactions of the first day: up to the first transaction of the next day
    next_day = np.append(at, n)[starts + 1]
    return {"customer": customer[starts], "occasions": ends - starts,
            "first": day[starts], "last": day[ends - 1],
            "sum_day": np.add.reduceat(day, starts),
            "first_day_rows": next_day - at[starts], "first_index": starts}, at


def _distinct_days(keys: np.ndarray, day_bits: int) -> dict[str, np.ndarray]:
    """Per customer (in id order), from the packed keys of every transaction: the
    customer's offset from the smallest id, its number of distinct days, the first and
    last day and the sum of the distinct days (days counted from the first date), and
    how many transactions its first day holds."""
    keys.sort()
    return _runs(keys, day_bits)[0]


def _query_columns(data: dict[str, np.ndarray], days: dict[str, np.ndarray], repeat: np.ndarray,
                   first_day: dt.date, period_end: dt.date, unit_days: float) -> pd.DataFrame:
    """The general query's columns, with its arithmetic: date differences in days as
    integers, divided as doubles; ``sum_day`` and the first day counted in days since
    1970-01-01 as the query counts them."""
    occasions = days["occasions"]
    epoch = (first_day - dt.date(1970, 1, 1)).days
    end = (period_end - first_day).days
    first, last = days["first"], days["last"]
    repeats = occasions > 1
    with np.errstate(divide="ignore", invalid="ignore"):
        monetary = np.where(repeats, repeat / (occasions - 1).astype(float), np.nan)
        first_epoch = (first + epoch).astype(float)
        sum_day = days["sum_day"] + occasions * epoch
        trend = np.where(repeats & (end > first),
                         ((sum_day - (first + epoch)).astype(float)
                          / (occasions - 1).astype(float) - first_epoch)
                         / (end - first).astype(float), np.nan)
    return pd.DataFrame({
        "customer_id": data["customer_id"],
        "first_purchase": data["first_purchase"], "last_purchase": data["last_purchase"],
        "occasions": occasions, "transactions": data["transactions"],
        "frequency": occasions - 1,
        "t_x": (last - first).astype(float) / unit_days,
        "T": (end - first).astype(float) / unit_days,
        "recency_days": end - last,
        "revenue": data["revenue"],
        "margin": data.get("margin", np.full(len(repeat), np.nan)),
        "monetary_value": monetary, "trend_position": trend,
        "holdout_frequency": np.zeros(len(repeat), dtype=np.int64),
        "holdout_revenue": np.zeros(len(repeat)),
    })
