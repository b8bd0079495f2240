"""The value analysis on DuckDB (the default engine): transactions → customer table →
the engine-neutral analysis of :mod:`satisfaction.value.core`.

:func:`value_analysis` is the Python function behind ``satisfaction rfm`` and
``satisfaction clv``; the Spark adapter is :mod:`satisfaction.value.spark`.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

import pandas as pd

from satisfaction.value.core import (
    CSV_COLUMNS,
    CSV_SLICE_ROWS,
    MODELS,
    ValueResult,
    analyse_customers,
    excluded_diagnostics,
    resolve_period,
    value_options,
)
from satisfaction.value.customers import customer_table
from satisfaction.value.transactions import Transactions

__all__ = ["CSV_COLUMNS", "CSV_SLICE_ROWS", "ValueResult", "excluded_diagnostics",
           "value_analysis"]


def value_analysis(
    transactions: Transactions,
    period_end: dt.date | str | None = None,
    time_unit: Literal["day", "week", "month"] = "week",
    horizon: int | None = None,
    discount_rate: float = 0.10,
    models: tuple[str, ...] = MODELS,
    abc_thresholds: tuple[float, float] = (0.80, 0.95),
    referral_rate: float | pd.Series = 0.0,
    referral_value: float = 0.0,
) -> ValueResult:
    """Run the value pipeline on transactions loaded by DuckDB.

    Parameters
    ----------
    transactions : Transactions
    period_end : date, optional
        End of the calibration period (default: last transaction date). Later
        transactions form the holdout period for :func:`holdout_check`.
    time_unit : {"day", "week", "month"}
    horizon : int, optional
        CLV horizon in time units (default one year: 365, 52 or 12).
    discount_rate : float
        Annual discount rate, converted to the time unit.
    models : tuple of str
        Which of "bgnbd", "pareto_nbd", "gamma_gamma" to fit. Expected purchases,
        P(alive) and CLV come from BG/NBD (Pareto/NBD if BG/NBD is not fitted).
    abc_thresholds : (float, float)
        Cumulative revenue shares closing classes A and B.
    referral_rate, referral_value : float or Series, float
        Expected referrals per customer and the value of one, for the referral
        term of the value decomposition (columns ``value_historical``,
        ``value_current``, ``value_potential``, ``value_referral``, ``value_total``;
        see :func:`~satisfaction.value.clv.decompose_value`).

    Returns
    -------
    ValueResult
        See :func:`satisfaction.value.core.analyse_customers` for what is computed
        and the references it is tested against.
    """
    # the arguments first, before any work on the data
    options = value_options(time_unit, horizon, discount_rate, models, abc_thresholds)
    log = transactions.log
    if log.kept:  # nothing kept: customer_table names the reasons and the first row
        period_end, _ = resolve_period(transactions.date_range, period_end,
                                       source=log.source)
    table = customer_table(transactions, period_end=period_end, time_unit=time_unit)
    return analyse_customers(table, log.to_dict(), options, referral_rate=referral_rate,
                             referral_value=referral_value, engine="duckdb")
