"""What the value commands check before any data are read: the options and the
column roles (:class:`TransactionColumns`).

This module imports nothing heavy (no pandas, SciPy or DuckDB at import time), so
that ``satisfaction clv FILE --discount 2`` answers with its usage error at once
(issue 16: a usage error in at most 1 s, ``bench/bench_cli.py``). The loader
(:mod:`~satisfaction.value.transactions`) and the models
(:mod:`~satisfaction.value.clv`) use the same functions.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from pathlib import Path

from satisfaction.errors import InputError, UsageError

#: The date layouts read without a ``date_format`` (in a file and in options).
DATE_FORMATS: tuple[str, ...] = (
    "%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S",
    "%Y/%m/%d %H:%M:%S", "%Y-%m-%d %H:%M",
)
#: strptime directives that give a year: a date format needs one.
YEAR_DIRECTIVE = re.compile(r"%-?[YyGcx]")


def check_not_empty(path: Path, name: str) -> None:
    """An InputError for a 0-byte transactions file (both engines' loaders): a reader
    would invent a column 'column0' and the message would be about a missing column."""
    if path.is_file() and path.stat().st_size == 0:
        raise InputError("the file is empty: expected a header line naming the columns, "
                         "then one transaction per line", file=name)


@dataclass(frozen=True)
class TransactionColumns:
    """Which column of the file holds what (names as in the file).

    ``customer``, ``date`` and ``amount`` are required; ``margin`` (profit per
    transaction) or ``cost`` (margin = amount − cost), ``channel`` and
    ``product`` are optional.
    """

    customer: str = "customer_id"
    date: str = "date"
    amount: str = "amount"
    margin: str | None = None
    cost: str | None = None
    channel: str | None = None
    product: str | None = None

    def used(self) -> dict[str, str]:
        """Role → column name, for the columns that are set."""
        roles = ("customer", "date", "amount", "margin", "cost", "channel", "product")
        return {r: getattr(self, r) for r in roles if getattr(self, r) is not None}


def check_discount_rate(annual_rate: float, what: str = "discount_rate") -> float:
    """The annual discount rate as a float, or a UsageError naming ``what``.

    A rate is a fraction: 0.10 is 10 % a year. Negative rates are refused (a
    negative ``1 + d`` has no real root: the per-unit rate would be complex), and so
    are rates above 1 (100 % a year): ``10`` is much more likely a percentage typed
    as a number than a rate of 1,000 %.
    """
    try:
        rate = float(annual_rate)
    except (TypeError, ValueError):
        raise UsageError(f"{what} must be a number such as 0.10 (10 % a year)",
                         value=annual_rate) from None
    if not math.isfinite(rate) or rate < 0:
        raise UsageError(f"{what} must be 0 or more: expected a rate such as 0.10 for 10 %",
                         value=annual_rate)
    if rate > 1:
        raise UsageError(f"{what} is a rate, at most 1: expected a rate such as 0.10 for 10 % "
                         f"({rate:g} would be {rate * 100:,.0f} % a year)", value=annual_rate)
    return rate


def check_date_format(date_format: str, what: str = "date_format") -> None:
    """Refuse a date format DuckDB's ``strptime`` cannot use, or one without a year.

    Raises
    ------
    UsageError
        Naming ``what`` (the option or argument, e.g. ``--date-format``): an unknown
        directive (``%Q``), a trailing ``%``, or no year directive (``%Y``, ``%y``,
        ``%G``, ``%c``, ``%x``): without a year every date would be in 1900.
    """
    # DuckDB is asked (imported only here): its strptime, not Python's, reads the file
    import duckdb

    con = duckdb.connect()
    try:
        con.execute("SELECT try_strptime('2000-01-01', ?)", [date_format]).fetchall()
    except duckdb.Error as exc:
        first = str(exc).strip().splitlines()[0]
        reason = first.split(": ", 2)[-1] if ": " in first else first
        raise UsageError(f"{what} is not a strptime format ({reason}); write e.g. %d/%m/%Y",
                         value=date_format) from None
    finally:
        con.close()
    if not YEAR_DIRECTIVE.search(date_format):
        raise UsageError(f"{what} has no year (%Y or %y); write e.g. %d/%m/%Y",
                         value=date_format)


def parse_date(value: dt.date | str, what: str) -> dt.date:
    """A date given as an option or argument, in any layout the loader reads in a
    transactions file without ``date_format`` (``2024-03-31``, ``2024/03/31``,
    ``20240331``, optionally with a time); ``what`` names the option in the error."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    for layout in DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, layout).date()
        except ValueError:
            continue
    raise UsageError(f"{what} must be a date such as 2024-03-31 (or 2024/03/31, 20240331)",
                     value=value)



def check_engine(engine: str) -> None:
    """Raise a UsageError unless ``engine`` (``--engine``) is duckdb or spark."""
    if engine not in ("duckdb", "spark"):
        raise UsageError("expected duckdb or spark", column="--engine", value=engine)
