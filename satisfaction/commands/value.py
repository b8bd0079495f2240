"""The ``rfm`` and ``clv`` commands (customer value from transactions)."""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from satisfaction.api import clv, rfm  # the analyses (the commands print and write)
from satisfaction.commands import make_console
from satisfaction.errors import UsageError
from satisfaction.io import write_json

if TYPE_CHECKING:  # the value modules (pandas, SciPy, DuckDB) load when a command runs
    from satisfaction.value.pipeline import ValueResult
    from satisfaction.value.transactions import TransactionColumns

console = make_console()

#: Keys of a model's ``to_dict()`` that are not its parameters.
NOT_PARAMETERS = ("loglik", "n_customers", "n_unique", "converged", "status", "warnings")
#: Excluded rows listed on screen (all of them are in the ``--json``).
SHOWN_PROBLEMS = 5


def check_options(*, date_format: str | None = None, period_end: str | None = None,
                  today: str | None = None, returns: str = "net",
                  discount: float | None = None) -> tuple[str | None, str | None]:
    """Check the options of ``rfm`` and ``clv`` before any data are read; each error
    names its option. Returns the period end and today as ISO dates (they may be
    written in any layout the transaction dates may: 2024-03-31, 2024/03/31, 20240331)."""
    # the light checks (no pandas, SciPy or DuckDB): a usage error answers at once
    from satisfaction.value.checks import check_date_format, check_discount_rate, parse_date

    if returns not in ("net", "exclude"):
        raise UsageError("--returns must be net or exclude", value=returns)
    if date_format is not None:
        check_date_format(date_format, "--date-format")
    if discount is not None:
        check_discount_rate(discount, "--discount")
    end = parse_date(period_end, "--period-end").isoformat() if period_end is not None else None
    now = parse_date(today, "--today").isoformat() if today is not None else None
    return end, now


def _print(result: ValueResult, models: bool, period_end_given: bool = False) -> None:
    log = result.transactions_log
    t = Table(title="Transactions", caption=escape(str(log["source"])))
    t.add_column("")
    t.add_column("rows", justify="right")
    t.add_row("loaded", str(log["loaded"]))
    for reason, count in log["excluded"].items():
        if count:
            t.add_row(f"  excluded: {reason.replace('_', ' ')}", str(count))
    t.add_row("kept", str(log["kept"]), style="bold")
    for note, count in log["notes"].items():
        if count:
            t.add_row(f"  note: {note.replace('_', ' ')}", str(count))
    console.print(t)
    for p in log["problems"][:SHOWN_PROBLEMS]:
        where = f"row {p['row']}" + (f", column {p['column']!r}" if p["column"] else "")
        value = f" (value: {p['value']!r})" if p["value"] is not None else ""
        console.print(escape(f"  {where}: {p['message']}{value}"))
    more = sum(log["excluded"].values()) - min(len(log["problems"]), SHOWN_PROBLEMS)
    if more > 0:
        console.print(f"  ... and {more:,} more excluded rows (all listed in --json)")
    st = result.settings
    given = "--period-end" if period_end_given else "the last transaction date"
    line = f"period end: {st['period_end']} ({given})"
    if st.get("holdout_end") and st["holdout_end"] > st["period_end"]:
        line += f"; holdout to {st['holdout_end']}"
    console.print(line)
    c = result.counts
    console.print(f"customers: {c['customers']} (modelled {c['modelled']}, returns only "
                  f"{c['returns_only']}, first purchase after the period end "
                  f"{c['first_purchase_after_period_end']})")
    seg = result.rfm.summary("rfm_segment")
    s = Table(title="RFM segments")
    for col in ("segment", "customers", "share", "revenue"):
        s.add_column(col, justify="left" if col == "segment" else "right")
    for name, row in seg.sort_values("revenue", ascending=False).iterrows():
        s.add_row(str(name), str(int(row.customers)), f"{row.share:.1%}", f"{row.revenue:,.2f}")
    console.print(s)
    a = result.abc
    console.print("ABC: " + ", ".join(
        f"{k} {int(r.customers)} customers / {r.revenue_share:.1%} of revenue"
        for k, r in a.summary.iterrows()) + f"; top 20% share {a.top20_share:.1%}, "
        f"Gini {a.gini:.3f}")
    console.print("Lifecycle: " + ", ".join(f"{k} {v}" for k, v in
                                            result.lifecycle.counts().items()))
    if not models:
        return
    m = Table(title="CLV models")
    m.add_column("model")
    m.add_column("parameters")
    m.add_column("log-lik", justify="right")
    m.add_column("status")
    for name, fit in (("BG/NBD", result.bgnbd), ("Pareto/NBD", result.pareto_nbd),
                      ("Gamma-Gamma", result.gamma_gamma)):
        if fit is None:
            continue
        d = fit.to_dict()
        keys = [k for k in d if k not in NOT_PARAMETERS]
        # the log-likelihood of a fit that failed its gates is no result (a degenerate
        # spend distribution's runs to 1e86): the status says why, --json holds it
        loglik = "—" if d["status"] == "invalid" else f"{d['loglik']:.1f}"
        m.add_row(name, ", ".join(f"{k} = {d[k]:.4g}" for k in keys), loglik,
                  d["status"], style=None if d["status"] == "ok" else "yellow")
    console.print(m)
    if result.bgnbd is not None and result.settings.get("purchase_model") == "pareto_nbd":
        console.print("per-customer predictions from Pareto/NBD (BG/NBD failed its checks)")
    if result.holdout is not None:
        h = result.holdout
        def shown(value: float, digits: int) -> str:  # a degenerate fit's NaN as "—"
            return f"{value:.{digits}f}" if math.isfinite(value) else "—"

        console.print(f"Holdout ({h.length:.1f} {result.table.time_unit}s): actual repeat "
                      f"purchases {h.actual_total:.0f}, predicted {shown(h.predicted_total, 1)}, "
                      f"MAE per customer {shown(h.mae, 3)}")
        # predicted against actual by calibration frequency (FHL 2005a, figure 4): where
        # the purchase model is off, and for whom
        ht = Table(title="Holdout check by calibration repeat purchases")
        for col in ("repeat purchases", "customers", "actual", "predicted"):
            ht.add_column(col, justify="right")
        for k, row in h.by_frequency.iterrows():
            ht.add_row(str(k), str(int(row.customers)), shown(row.actual, 3),
                       shown(row.predicted, 3))
        console.print(ht)
    for d in result.warnings:
        if d.code != "transactions_excluded":  # in the transactions table above
            console.print(f"  [yellow]{d.severity}:[/yellow] {escape(str(d))}")
    clv_values = result.customers.get("clv")
    if clv_values is None or (len(clv_values) and not clv_values.notna().any()):
        from satisfaction.value.core import WITHHELD_VALUES

        withheld = {d.code for d in result.warnings} & WITHHELD_VALUES
        why = ("left empty: a model it is built on failed its checks (above)" if withheld
               else "not computed (it needs the spend model gamma_gamma, see --models)")
        console.print(f"CLV over {result.settings['horizon']} {result.table.time_unit}s: {why}")
        return
    total = clv_values.sum()
    console.print(f"CLV over {result.settings['horizon']} {result.table.time_unit}s: "
                  f"total {total:,.2f}, mean {total / max(len(result.customers), 1):,.2f}")


Customer = Annotated[str, typer.Option("--customer-col", help="Customer-id column.")]
DateCol = Annotated[str, typer.Option("--date-col", help="Date column.")]
Amount = Annotated[str, typer.Option("--amount-col", help="Amount column.")]
Margin = Annotated[str | None, typer.Option("--margin-col", help="Margin column.")]
Cost = Annotated[str | None, typer.Option("--cost-col", help="Cost column.")]
Returns = Annotated[str, typer.Option("--returns", help="Negative amounts: net or exclude.")]
KeepDup = Annotated[bool, typer.Option("--keep-duplicates",
                                       help="Keep exact duplicate rows (still counted).")]
Today = Annotated[str | None, typer.Option(
    "--today", help="Dates after it are excluded as in the future (default: today); "
    "dates before 1900-01-01 are excluded as placeholders.")]
DateFormat = Annotated[str | None, typer.Option(
    "--date-format", help="strptime format of the dates, e.g. %d/%m/%Y (default: ISO "
    "YYYY-MM-DD, YYYY/MM/DD, YYYYMMDD, with or without a time).")]
Out = Annotated[Path | None, typer.Option("--out", help="Per-customer CSV.")]
Json = Annotated[Path | None, typer.Option("--json", help="Write results as JSON.")]
PeriodEnd = Annotated[str | None, typer.Option(
    "--period-end", help="End of calibration: 2024-03-31, 2024/03/31 or 20240331 (default: "
    "the last transaction date; the date used is printed).")]
Engine = Annotated[str, typer.Option("--engine", help="duckdb (embedded) or spark.")]
SparkMaster = Annotated[str | None, typer.Option(
    "--spark-master", help="Spark master URL (default local[*]), e.g. spark://host:7077.")]


def check_engine(engine: str) -> None:
    """Refuse an unknown ``--engine`` (before any data are read)."""
    from satisfaction.value.checks import check_engine as check

    check(engine)


def _print_engine(engine: str, master: str | None) -> None:
    """With ``--engine spark``, a line naming the engine and its master; the summary,
    the warnings and the files are then those of the DuckDB engine."""
    if engine == "spark":
        console.print(escape(f"engine: spark ({master or 'local[*]'})"))


def _write_out(result: ValueResult, out: Path) -> None:
    """``--out``: the per-customer CSV; on Spark, a path not ending in .csv gets the
    whole per-customer table as one Parquet file."""
    if result.engine == "spark" and out.suffix.lower() != ".csv":
        result.write_parquet(out)
    else:
        result.write_csv(out)


def register(app: typer.Typer) -> None:
    """Add ``rfm`` and ``clv`` to the application."""

    def columns(customer: str, date: str, amount: str, margin: str | None,
                cost: str | None) -> TransactionColumns:
        from satisfaction.value.checks import TransactionColumns

        if margin and cost:
            raise UsageError("give --margin-col or --cost-col, not both")
        return TransactionColumns(customer=customer, date=date, amount=amount,
                                  margin=margin, cost=cost)

    @app.command("rfm")
    def rfm_command(
        transactions: Annotated[Path, typer.Argument(help="Transactions: CSV, Parquet, XLSX.")],
        out: Out = None, json_path: Json = None, period_end: PeriodEnd = None,
        customer_col: Customer = "customer_id", date_col: DateCol = "date",
        amount_col: Amount = "amount", margin_col: Margin = None, cost_col: Cost = None,
        returns: Returns = "net", keep_duplicates: KeepDup = False, today: Today = None,
        date_format: DateFormat = None,
        engine: Engine = "duckdb", spark_master: SparkMaster = None,
    ) -> None:
        """RFM scores and segments, ABC classes and lifecycle stages per customer."""
        period_end, today = check_options(date_format=date_format, period_end=period_end,
                                          today=today, returns=returns)
        cols = columns(customer_col, date_col, amount_col, margin_col, cost_col)
        check_engine(engine)
        result = rfm(transactions, cols, period_end=period_end, returns=returns,
                     keep_duplicates=keep_duplicates, today=today, date_format=date_format,
                     engine=engine, spark_master=spark_master)
        _print_engine(engine, spark_master)
        _print(result, models=False, period_end_given=period_end is not None)
        if out is not None:
            _write_out(result, out)
        if json_path is not None:
            write_json(json_path, result.to_dict())

    @app.command("clv")
    def clv_command(
        transactions: Annotated[Path, typer.Argument(help="Transactions: CSV, Parquet, XLSX.")],
        period_end: PeriodEnd = None,
        time_unit: Annotated[str, typer.Option("--time-unit", help="day, week or month.")]
        = "week",
        horizon: Annotated[int | None, typer.Option("--horizon",
                                                    help="CLV horizon in time units.")] = None,
        discount: Annotated[float, typer.Option(
            "--discount", help="Annual discount rate as a fraction, 0 to 1 (0.10 is 10 %).")]
        = 0.10,
        out: Out = None, json_path: Json = None,
        customer_col: Customer = "customer_id", date_col: DateCol = "date",
        amount_col: Amount = "amount", margin_col: Margin = None, cost_col: Cost = None,
        returns: Returns = "net", keep_duplicates: KeepDup = False, today: Today = None,
        date_format: DateFormat = None,
        progress: Annotated[bool, typer.Option("--progress", help="Show progress.")] = False,
        engine: Engine = "duckdb", spark_master: SparkMaster = None,
        models: Annotated[str, typer.Option(
            "--models", help="Comma-separated: bgnbd, pareto_nbd, gamma_gamma.")]
        = "bgnbd,pareto_nbd,gamma_gamma",
    ) -> None:
        """Customer lifetime value: BG/NBD, Pareto/NBD, Gamma-Gamma, holdout check."""
        chosen = tuple(m.strip() for m in models.split(",") if m.strip())
        unknown = [m for m in chosen if m not in ("bgnbd", "pareto_nbd", "gamma_gamma")]
        if unknown or not chosen:
            raise UsageError("--models takes bgnbd, pareto_nbd and/or gamma_gamma",
                             value=models)
        if time_unit not in ("day", "week", "month"):
            raise UsageError("--time-unit must be day, week or month", value=time_unit)
        if horizon is not None and horizon < 1:
            raise UsageError("--horizon must be at least 1", value=horizon)
        period_end, today = check_options(date_format=date_format, period_end=period_end,
                                          today=today, returns=returns, discount=discount)
        cols = columns(customer_col, date_col, amount_col, margin_col, cost_col)
        check_engine(engine)
        show = progress or sys.stdout.isatty()
        with console.status("fitting customer-value models...", spinner="dots") if show \
                else _nothing():
            result = clv(transactions, cols, period_end=period_end, time_unit=time_unit,
                         horizon=horizon, discount_rate=discount, returns=returns,
                         keep_duplicates=keep_duplicates, today=today, models=chosen,
                         date_format=date_format, engine=engine, spark_master=spark_master)
        _print_engine(engine, spark_master)
        _print(result, models=True, period_end_given=period_end is not None)
        if out is not None:
            _write_out(result, out)
        if json_path is not None:
            write_json(json_path, result.to_dict())


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None
