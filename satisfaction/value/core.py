"""The engine-neutral value analysis: options, the analysis period, and everything
computed from the per-customer table.

Both engines (DuckDB: :mod:`satisfaction.value.pipeline`; Spark:
:mod:`satisfaction.value.spark`) are adapters that do two things only: validate the
transactions (a :class:`~satisfaction.value.transactions.TransactionLog` with the
excluded rows counted under their named reasons) and aggregate them into the
per-customer table (:class:`~satisfaction.value.customers.CustomerTable`: frequency,
t_x, T, recency, revenue, mean repeat spend, first and last purchase, holdout
purchases). These are the sufficient statistics of everything that follows: the CLV
likelihoods depend on a customer only through (x, t_x, T) and (x, z̄) (Fader, Hardie &
Lee 2005a, eq. 6; Fader & Hardie 2013, eq. 3), and RFM, ABC and lifecycle read the
same table. :func:`analyse_customers` then runs the same pandas/NumPy code for both
engines, so their results, summaries and warnings are the same by construction
(tests/test_spark.py compares them).
"""

from __future__ import annotations

import datetime as dt
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from satisfaction.diagnostics import Diagnostic, records
from satisfaction.diagnostics import status as gate_status
from satisfaction.errors import InputError, UsageError
from satisfaction.value.abc import ABCResult, abc_classes
from satisfaction.value.clv import (
    BGNBDFit,
    GammaGammaFit,
    HoldoutCheck,
    ParetoNBDFit,
    check_discount_rate,
    decompose_value,
    fit_bgnbd,
    fit_gamma_gamma,
    fit_pareto_nbd,
    holdout_check,
    per_unit_discount,
)
from satisfaction.value.customers import TIME_UNITS, CustomerTable
from satisfaction.value.lifecycle import LifecycleResult, lifecycle_stages
from satisfaction.value.rfm import RFMResult, rfm_segments
from satisfaction.value.transactions import _as_date

#: The CLV models a value analysis can fit.
MODELS: tuple[str, ...] = ("bgnbd", "pareto_nbd", "gamma_gamma")
#: Their names as the literature writes them.
MODEL_NAMES: dict[str, str] = {"bgnbd": "BG/NBD", "pareto_nbd": "Pareto/NBD",
                               "gamma_gamma": "Gamma-Gamma"}
#: The diagnostics that leave every customer's P(alive) or CLV empty (a model that
#: failed its gates, see :func:`_per_customer`).
WITHHELD_VALUES = frozenset({"clv_predictions_withheld", "clv_spend_withheld"})

#: Default CLV horizon (one year) per time unit.
DEFAULT_HORIZON: dict[str, int] = {"day": 365, "week": 52, "month": 12}

#: Columns of the per-customer CSV, in order.
CSV_COLUMNS: tuple[str, ...] = (
    "customer_id", "recency", "frequency", "monetary", "r_score", "f_score", "m_score",
    "rfm_segment", "abc_class", "lifecycle_stage", "p_alive", "expected_purchases", "clv",
)

#: Rows per thread, at least, when the per-customer CSV is formatted in parallel.
CSV_SLICE_ROWS = 200_000


@dataclass(frozen=True)
class ValueOptions:
    """The checked options of a value analysis (see :func:`value_options`)."""

    time_unit: str
    horizon: int
    discount_rate: float
    models: tuple[str, ...]
    abc_thresholds: tuple[float, float]


def value_options(time_unit: str = "week", horizon: int | None = None,
                  discount_rate: float = 0.10, models: tuple[str, ...] = MODELS,
                  abc_thresholds: tuple[float, float] = (0.80, 0.95)) -> ValueOptions:
    """Check the options of a value analysis before any work on the data.

    Each bad option raises a :class:`~satisfaction.errors.UsageError` naming it and its
    value. ``horizon`` defaults to one year in ``time_unit`` (365, 52 or 12).
    """
    if time_unit not in TIME_UNITS:
        raise UsageError("time unit must be day, week or month", column="time_unit",
                         value=time_unit)
    check_discount_rate(discount_rate)
    if horizon is not None and (isinstance(horizon, bool) or int(horizon) != horizon
                                or horizon < 1):
        raise UsageError("horizon must be a whole number of time units, at least 1",
                         value=horizon)
    unknown = [m for m in models if m not in MODELS]
    if unknown:
        raise UsageError("models takes bgnbd, pareto_nbd and/or gamma_gamma",
                         value=", ".join(map(str, unknown)))
    a, b = abc_thresholds
    if not 0 < a < b <= 1:
        raise UsageError("ABC thresholds must satisfy 0 < A < B ≤ 1", column="abc_thresholds",
                         value=abc_thresholds)
    return ValueOptions(time_unit=time_unit,
                        horizon=int(horizon) if horizon is not None
                        else DEFAULT_HORIZON[time_unit],
                        discount_rate=float(discount_rate), models=tuple(models),
                        abc_thresholds=(float(a), float(b)))


def resolve_period(date_range: tuple[dt.date | None, dt.date | None],
                   period_end: dt.date | str | None = None,
                   holdout_end: dt.date | str | None = None,
                   source: str | None = None) -> tuple[dt.date, dt.date]:
    """The calibration end and the holdout end of the analysis.

    ``period_end`` defaults to the last transaction date, ``holdout_end`` likewise;
    the holdout end is never before the period end. A period end before the first
    transaction is a UsageError naming the file.
    """
    lo, hi = date_range
    end = _as_date(period_end, "period_end") if period_end is not None else hi
    hold = _as_date(holdout_end, "holdout_end") if holdout_end is not None else hi
    if end is None or hold is None:
        raise UsageError("no transactions to aggregate", file=source)
    if lo is not None and end < lo:
        raise UsageError(f"the period end {end} is before the first transaction ({lo})",
                         file=source)
    return end, max(hold, end)


@dataclass
class ValueResult:
    """Everything the value analysis produced.

    Attributes
    ----------
    customers : pandas.DataFrame
        One row per modelled customer with the :data:`CSV_COLUMNS` (index
        customer_id) plus value_group, historical_value and expected_spend.
    table : CustomerTable
    rfm : RFMResult
    abc : ABCResult
    lifecycle : LifecycleResult
    bgnbd, pareto_nbd, gamma_gamma : fitted models or None
    holdout : HoldoutCheck or None
    counts : dict
        transactions (loaded, kept, excluded by reason, notes) and customers
        (in table, modelled, returns only, first seen after the period end).
    settings : dict
    warnings : list of Diagnostic
        Transactions excluded (by reason), the CLV models' gates (not converged,
        degenerate, Gamma-Gamma q ≤ 1), customers whose CLV is left empty, the
        margin adjustment. ``status`` is the worst of them.
    engine : str
        ``duckdb`` or ``spark``: which engine validated and aggregated the transactions
        (everything after the customer table is the same code).
    """

    customers: pd.DataFrame
    table: CustomerTable
    rfm: RFMResult
    abc: ABCResult
    lifecycle: LifecycleResult
    transactions_log: dict[str, Any]
    counts: dict[str, Any]
    settings: dict[str, Any]
    bgnbd: BGNBDFit | None = None
    pareto_nbd: ParetoNBDFit | None = None
    gamma_gamma: GammaGammaFit | None = None
    holdout: HoldoutCheck | None = None
    warnings: list[Diagnostic] = field(default_factory=list)
    engine: str = "duckdb"

    @property
    def status(self) -> str:
        """``ok``, ``caution`` or ``invalid``: the gate of the whole value analysis."""
        return gate_status(self.warnings)

    @property
    def notes(self) -> list[str]:
        """The warnings as English sentences, for callers that still read text;
        ``transactions_excluded`` is left out (such callers word it from the
        transaction log)."""
        return [str(d) for d in self.warnings if d.code != "transactions_excluded"]

    def csv_frame(self) -> pd.DataFrame:
        """The per-customer CSV table (columns :data:`CSV_COLUMNS`)."""
        out = self.customers.reset_index()
        return out[list(CSV_COLUMNS)]

    def write_csv(self, path: str | Path) -> None:
        """Write the per-customer CSV atomically.

        Arrow's CSV writer (pandas' takes seconds per million rows) formats the
        rows in slices, each slice in its own thread into memory; the slices are
        then written in order, the header with the first. The file is the same as
        one ``write_csv`` of the whole table (tested).
        """
        import pyarrow as pa
        import pyarrow.csv as pacsv

        from satisfaction.io import spreadsheet_safe, write_with

        # a customer id such as "=HYPERLINK(...)" is written as '=HYPERLINK(...): text in
        # a spreadsheet, not a formula (OWASP); numbers are untouched
        table = pa.Table.from_pandas(spreadsheet_safe(self.csv_frame()), preserve_index=False)
        n = table.num_rows
        k = max(1, min(os.cpu_count() or 1, 4, n // CSV_SLICE_ROWS))
        bounds = [i * n // k for i in range(k + 1)]

        def formatted(i: int) -> pa.Buffer:
            sink = pa.BufferOutputStream()
            pacsv.write_csv(table.slice(bounds[i], bounds[i + 1] - bounds[i]), sink,
                            write_options=pacsv.WriteOptions(include_header=i == 0))
            return sink.getvalue()

        def write(tmp: Path) -> None:
            with ThreadPoolExecutor(max_workers=k) as pool, open(tmp, "wb") as out:
                for chunk in pool.map(formatted, range(k)):
                    out.write(memoryview(chunk))

        write_with(path, write)

    def write_parquet(self, path: str | Path) -> None:
        """Write the whole per-customer table (every column, index customer_id) as one
        Parquet file, atomically."""
        import pyarrow as pa
        import pyarrow.parquet as papq

        from satisfaction.io import write_with

        table = pa.Table.from_pandas(self.customers.reset_index(), preserve_index=False)
        write_with(path, lambda tmp: papq.write_table(table, tmp))

    def to_dict(self) -> dict[str, Any]:
        """The ``clv --json`` / ``rfm --json`` contract."""
        log = self.transactions_log
        models: dict[str, Any] = {}
        if self.bgnbd is not None:
            models["bgnbd"] = self.bgnbd.to_dict()
        if self.pareto_nbd is not None:
            models["pareto_nbd"] = self.pareto_nbd.to_dict()
        if self.gamma_gamma is not None:
            models["gamma_gamma"] = self.gamma_gamma.to_dict()
        clv = self.customers["clv"]
        return {
            "engine": self.engine,
            "customers": len(self.customers),
            "transactions": int(log["kept"]),
            "transactions_loaded": int(log["loaded"]),
            "excluded": dict(log["excluded"]),
            "notes": dict(log["notes"]),
            # every excluded row (file row, customer, column, value, rule, message), as
            # `validate` lists every problem; complete unless the loader was given a
            # max_problems below the number excluded
            "transactions_source": str(log["source"]),
            "problems": list(log["problems"]),
            "problems_complete": len(log["problems"]) == sum(log["excluded"].values()),
            "status": self.status,
            "warnings": records(self.warnings),
            "customer_counts": dict(self.counts),
            "settings": dict(self.settings),
            "models": models,
            "holdout": None if self.holdout is None else self.holdout.to_dict(),
            "clv_total": None if clv.isna().all() else float(clv.sum()),
            "value_decomposition": {
                c: float(self.customers[f"value_{c}"].sum())
                for c in ("historical", "current", "potential", "referral", "total")
                if f"value_{c}" in self.customers.columns} or None,
            "rfm": self.rfm.to_dict(),
            "abc": self.abc.to_dict(),
            "lifecycle": self.lifecycle.to_dict(),
        }


def _segment(data: pd.DataFrame, period_end: dt.date, abc_thresholds: tuple[float, float],
             ) -> tuple[RFMResult, ABCResult, LifecycleResult]:
    """RFM scores and segments, ABC classes and lifecycle stages of the modelled customers.

    They are computed on the rows numbered 0, 1, ... and each result's table then gets
    the customer ids back (the same rows, in order): pandas answers a failed attribute
    lookup on a Series (as NumPy's functions make) by looking the name up in its index,
    and for a million text ids each such lookup hashed them all again (a second of CPU).
    """
    plain = data.reset_index(drop=True)
    r = rfm_segments(plain["recency_days"], plain["occasions"], plain["revenue"])
    a = abc_classes(plain["revenue"], thresholds=abc_thresholds)
    life = lifecycle_stages(plain, period_end)
    for result in (r, a, life):
        result.data.index = data.index
    return r, a, life


def analyse_customers(
    table: CustomerTable,
    log: dict[str, Any],
    options: ValueOptions,
    referral_rate: float | pd.Series = 0.0,
    referral_value: float = 0.0,
    engine: str = "duckdb",
) -> ValueResult:
    """The value analysis of a per-customer table, whichever engine built it.

    Parameters
    ----------
    table : CustomerTable
        From :func:`~satisfaction.value.customers.customer_table` (DuckDB) or
        :func:`~satisfaction.value.spark.spark_customer_table` (Spark).
    log : dict
        The transaction log's ``to_dict()`` (rows loaded, kept, excluded by reason).
    options : ValueOptions
        From :func:`value_options`.
    referral_rate, referral_value : float or Series, float
        Expected referrals per customer and the value of one, for the referral term
        of the value decomposition (see :func:`~satisfaction.value.clv.decompose_value`).
    engine : str
        Recorded in the result.

    Returns
    -------
    ValueResult

    Notes
    -----
    RFM quintile scores (Hughes 1994), ABC classes (Pareto cumulative revenue shares),
    lifecycle stages, BG/NBD (Fader, Hardie & Lee 2005a), Pareto/NBD (Schmittlein,
    Morrison & Colombo 1987) and Gamma-Gamma (Fader, Hardie & Lee 2005b) fitted by the
    functions of :mod:`satisfaction.value.clv`, each tested there against its reference
    (the published CDNOW estimates, lifetimes, R). CLV = discounted expected purchases ×
    expected spend (× the customer's margin ratio when a margin is given).
    """
    data = table.purchasers
    d_unit = per_unit_discount(options.discount_rate, table.unit_days)
    counts = table.counts()
    models = options.models
    horizon = options.horizon
    source = log.get("source")

    # The segmentations (RFM, ABC, lifecycle) and the model fits share no data: the
    # segmentations, the Pareto/NBD fit and, once BG/NBD is fitted here, the
    # Gamma-Gamma fit each run in a thread of their own (all spend their time in NumPy
    # and SciPy, which release the GIL; Pareto/NBD's series per pair is serial, so the
    # other fits use the second core meanwhile). One BLAS thread for all of them (the
    # limit is process-wide): each fit's sums are those of a fit run alone, so the
    # estimates do not depend on what runs beside it (tests/test_value_speed.py).
    with threadpool_limits(1), ThreadPoolExecutor(max_workers=3) as pool:
        segmentations = pool.submit(_segment, data, table.period_end, options.abc_thresholds)
        # plain arrays: np.asarray on a Series indexed by a million customer ids
        # probes the index (an attribute lookup) at every call
        x, tx, big_t = (data[c].to_numpy(dtype=float) for c in ("frequency", "t_x", "T"))
        z = data["monetary_value"].to_numpy(dtype=float)
        pareto = (pool.submit(fit_pareto_nbd, x, tx, big_t) if "pareto_nbd" in models
                  else None)
        try:
            bg = fit_bgnbd(x, tx, big_t) if "bgnbd" in models else None
        except InputError as exc:
            raise InputError(exc.message, file=source, value=exc.value,
                             hint=exc.hint) from None
        spend = pool.submit(fit_gamma_gamma, x, z) if "gamma_gamma" in models else None
        gg, spend_error = None, None
        try:
            gg = spend.result() if spend is not None else None
        except InputError as exc:
            spend_error = exc  # raised after the purchase models' own errors, as before
        r, a, life = segmentations.result()
        # The per-customer predictions come from BG/NBD when it is fitted and passes
        # its gates (Pareto/NBD's without it, or when only Pareto/NBD passes): then
        # they are made while Pareto/NBD is still being fitted, which takes the longest.
        per_customer = None
        if spend_error is None and ((bg is not None and bg.status != "invalid")
                                    or pareto is None):
            per_customer = _per_customer(table, options, d_unit, (r, a, life), bg, gg,
                                         (x, tx, big_t, z), referral_rate, referral_value)
        try:
            pn = pareto.result() if pareto is not None else None
        except InputError as exc:
            raise InputError(exc.message, file=source, value=exc.value,
                             hint=exc.hint) from None
        if spend_error is not None:
            # with a purchase model asked for, the hint is to fit it alone; with the
            # spend model alone, its own hint stands
            # (the one that passes its gates: an invalid one's values would be withheld)
            valid = [m for m, fit in (("bgnbd", bg), ("pareto_nbd", pn))
                     if fit is not None and fit.status != "invalid"]
            if bg is None and pn is None:
                hint = spend_error.hint
            elif valid:
                alone = valid[0]
                hint = (f"fit the purchase model alone with --models {alone} "
                        f"(models=({alone!r},) in Python): P(alive) and expected purchases "
                        "per customer, without CLV (it needs the spend model)")
            else:
                hint = ("the purchase models fail their checks on these data too; "
                        "satisfaction rfm gives the RFM, ABC and lifecycle segments, "
                        "which need no model")
            raise InputError(spend_error.message, file=source, value=spend_error.value,
                             hint=hint) from None
        if per_customer is None:
            model = pn if bg is None or (pn.status != "invalid") else bg
            per_customer = _per_customer(table, options, d_unit, (r, a, life), model, gg,
                                         (x, tx, big_t, z), referral_rate, referral_value)
    out, extra, hold, used = per_customer
    notes = excluded_diagnostics(log)
    for fit in (bg, pn, gg):
        if fit is not None:
            notes += fit.warnings
    notes += extra
    settings = {"period_end": table.period_end.isoformat(),
                "holdout_end": table.holdout_end.isoformat(), "time_unit": table.time_unit,
                "horizon": int(horizon), "discount_rate_annual": float(options.discount_rate),
                "discount_rate_per_unit": float(d_unit), "margin": table.has_margin,
                "purchase_model": used}
    return ValueResult(customers=out, table=table, rfm=r, abc=a, lifecycle=life,
                       transactions_log=log, counts=counts, settings=settings, bgnbd=bg,
                       pareto_nbd=pn, gamma_gamma=gg, holdout=hold, warnings=notes,
                       engine=engine)


def _per_customer(table: CustomerTable, options: ValueOptions, d_unit: float,
                  segments: tuple[RFMResult, ABCResult, LifecycleResult],
                  model: BGNBDFit | ParetoNBDFit | None, gg: GammaGammaFit | None,
                  arrays: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
                  referral_rate: float | pd.Series, referral_value: float,
                  ) -> tuple[pd.DataFrame, list[Diagnostic], HoldoutCheck | None, str | None]:
    """The per-customer table of :func:`analyse_customers` (segments, P(alive), expected
    purchases, CLV and the value decomposition from ``model`` and ``gg``), the
    diagnostics it adds (margin used, customers whose spend is undefined, values
    withheld), the holdout check and the purchase model's name (``bgnbd``,
    ``pareto_nbd`` or None). ``arrays`` are the purchasers' x, t_x, T and mean repeat
    spend, as the fits were given them.

    A model that fails its gates (status ``invalid``: not converged, at the boundary
    of the parameter space, no repeat purchases, q ≤ 1) yields no per-customer values:
    P(alive), expected purchases and CLV are left empty when the purchase model is
    invalid (diagnostic ``clv_predictions_withheld``), expected spend and CLV when the
    spend model is (``clv_spend_withheld``): numbers from a degenerate fit would read
    as results. Expected spend needs no purchase model: it is given whenever the spend
    model is valid. Customers a valid fit gives no finite prediction are counted
    (``clv_predictions_undefined``). The holdout check of an invalid purchase model is
    still made: it shows how the model fails."""
    data = table.purchasers
    horizon = options.horizon
    r, a, life = segments
    x, tx, big_t, z = arrays
    out = r.data[["recency", "frequency", "monetary", "r_score", "f_score", "m_score",
                  "rfm_segment", "value_group"]].copy()
    # all three tables are in the customer table's order: assign positionally
    out["abc_class"] = a.data["abc_class"].array
    out["lifecycle_stage"] = life.data["lifecycle_stage"].array
    hist = data["margin"] if table.has_margin else data["revenue"]
    out["historical_value"] = hist.to_numpy()
    notes: list[Diagnostic] = []
    out["p_alive"] = np.nan
    out["expected_purchases"] = np.nan
    out["clv"] = np.nan
    out["expected_spend"] = np.nan
    hold = None
    pred: dict[str, np.ndarray] = {}
    used = None if model is None else "bgnbd" if isinstance(model, BGNBDFit) else "pareto_nbd"
    if model is not None and table.holdout_end > table.period_end:
        length = (table.holdout_end - table.period_end).days / table.unit_days
        hold = holdout_check(model, data, length)
    if model is not None and model.status == "invalid":
        notes.append(Diagnostic("clv_predictions_withheld", "invalidates",
                                {"model": MODEL_NAMES[used]}))
        model = None
    if gg is not None and gg.status == "invalid":
        notes.append(Diagnostic("clv_spend_withheld", "invalidates"))
        gg = None
    if model is not None:
        if isinstance(model, BGNBDFit):
            pred = model.predict(horizon, d_unit, x, tx, big_t)
        else:  # Pareto/NBD: discount at the horizon midpoint (no closed-form per step)
            expected = model.expected_purchases(float(horizon), x, tx, big_t)
            pred = {"p_alive": model.p_alive(x, tx, big_t), "expected_purchases": expected,
                    "discounted_purchases": expected / (1.0 + d_unit) ** (horizon / 2.0)}
        # a fit that passed its gates can still give no number for some customers (the
        # hypergeometric function at extreme estimates): all their predictions are left
        # empty and they are counted, not left silent
        bad = ~(np.isfinite(pred["p_alive"]) & np.isfinite(pred["expected_purchases"])
                & np.isfinite(pred["discounted_purchases"]))
        if bad.any():
            notes.append(Diagnostic("clv_predictions_undefined", "invalidates",
                                    {"n": int(bad.sum()), "model": MODEL_NAMES[used]}))
            pred = {k: np.where(bad, np.nan, v) for k, v in pred.items()}
        out["p_alive"] = pred["p_alive"]
        out["expected_purchases"] = pred["expected_purchases"]
    if gg is not None:  # expected spend needs no purchase model; CLV needs both
        spend = gg.expected_spend(x, z)
        if table.has_margin:
            # margin-adjusted: each customer's own margin ratio, the overall one
            # when their revenue is not positive
            overall = float(data["margin"].sum() / data["revenue"].sum())
            ratio = np.where(data["revenue"] > 0, data["margin"] / data["revenue"], overall)
            spend = spend * np.clip(ratio, 0.0, 1.0)
            notes.append(Diagnostic("clv_margin", "info"))
        undefined = int(np.isnan(spend).sum())
        if undefined:
            notes.append(Diagnostic("clv_spend_undefined", "invalidates", {"n": undefined}))
        out["expected_spend"] = spend
        if model is not None:
            out["clv"] = pred["discounted_purchases"] * spend
        if model is not None and "discounted_next" in pred:
            dec = decompose_value(hist, pd.Series(out["clv"].to_numpy(), index=out.index),
                                  pd.Series(pred["discounted_next"] * spend, index=out.index),
                                  referral_rate=referral_rate, referral_value=referral_value)
            for column in ("historical", "current", "potential", "referral", "total"):
                out[f"value_{column}"] = dec.data[column].to_numpy()
    for column in ("frequency", "r_score", "f_score", "m_score"):
        out[column] = out[column].astype("int64")
    out.index.name = "customer_id"
    return out, notes, hold, used


def excluded_diagnostics(log: dict[str, Any]) -> list[Diagnostic]:
    """One ``transactions_excluded`` diagnostic (info) per exclusion reason that
    removed rows, from a transaction log's ``to_dict()``; the reason is worded by
    the catalogs' ``tx_reasons``."""
    return [Diagnostic("transactions_excluded", "info", {"n": int(n), "reason": reason},
                       labels={"reason": "tx_reasons"})
            for reason, n in log.get("excluded", {}).items() if n]
