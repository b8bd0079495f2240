"""The ``demo`` command: the whole pipeline on built-in, simulated data, ending in a PDF."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from satisfaction.errors import UsageError
from satisfaction.io import check_output, write_with

console = Console(highlight=False)

REPORTS = Path("reports")
"""The default output folder: ``reports/`` under the working directory."""


def demo(out: Path | None = None, seed: int = 20261125, n_respondents: int = 2000,
         n_customers: int = 100_000, *, lang: str = "en", bootstrap: int = 1000,
         html: bool = False, excel: bool = False, json: bool = True,
         progress: bool = False, n_jobs: int | None = None) -> dict[str, Any]:
    """Simulate the demo data, run every analysis stage and write the report.

    Writes under ``out`` (default ``reports/``): the simulated data
    (``demo/demo_responses.csv``, ``demo/demo_transactions.csv``), the PDF
    ``demo_<lang>.pdf`` and, by option, the same report as HTML, every table as
    an Excel workbook and all results as JSON.

    Returns
    -------
    dict
        ``questionnaire``, ``responses``, ``transactions`` (paths), ``analysis``,
        ``files`` (:class:`~satisfaction.report.render.ReportFiles`) and
        ``seconds`` (by step: ``simulate``, ``analysis``, ``report``).
    """
    from satisfaction.pipeline import run
    from satisfaction.report.render import write_report
    from satisfaction.simulate import simulate_demo

    if lang not in ("en", "zh"):
        raise UsageError("expected 'en' or 'zh'", column="--lang", value=lang)
    if bootstrap < 0:
        raise UsageError("--bootstrap must be 0 or more", column="--bootstrap", value=bootstrap)
    folder = Path(out) if out is not None else REPORTS
    check_output(folder, option="--out", folder=True)
    seconds: dict[str, float] = {}
    start = time.perf_counter()
    data = simulate_demo(n_respondents=n_respondents, n_customers=n_customers, seed=seed)
    responses = folder / "demo" / "demo_responses.csv"
    transactions = folder / "demo" / "demo_transactions.csv"
    write_with(responses, lambda p: data.responses.to_csv(p, index=False))
    write_with(transactions, lambda p: data.transactions.to_csv(p, index=False,
                                                                date_format="%Y-%m-%d"))
    seconds["simulate"] = time.perf_counter() - start
    from satisfaction.commands.report import stage_progress

    start = time.perf_counter()
    with stage_progress(progress) as step:
        analysis = run(data.questionnaire, responses, transactions, bootstrap=bootstrap,
                       seed=seed, n_jobs=n_jobs, progress=step)
    seconds["analysis"] = time.perf_counter() - start
    start = time.perf_counter()
    stem = folder / f"demo_{lang}"
    files = write_report(analysis, stem.with_suffix(".pdf"), lang=lang,
                         html=stem.with_suffix(".html") if html else None,
                         excel=stem.with_suffix(".xlsx") if excel else None,
                         json=folder / "demo_results.json" if json else None)
    seconds["report"] = time.perf_counter() - start
    return {"questionnaire": data.questionnaire_path, "responses": responses,
            "transactions": transactions, "analysis": analysis, "files": files,
            "seconds": seconds}


def register(app: typer.Typer) -> None:
    """Add ``demo`` to the application."""

    @app.command("demo")
    def demo_command(
        lang: Annotated[str, typer.Option(help="Report language: en or zh.")] = "en",
        out: Annotated[Path | None, typer.Option(help="Output folder (default reports/).")
                       ] = None,
        seed: Annotated[int, typer.Option(help="Seed of the simulated data and bootstrap.")
                        ] = 20261125,
        bootstrap: Annotated[int, typer.Option(help="Bootstrap draws for effects.")] = 1000,
        html: Annotated[bool, typer.Option("--html", help="Also write the report as HTML.")
                        ] = False,
        excel: Annotated[bool, typer.Option("--excel", help="Also write every table (XLSX).")
                         ] = False,
        progress: Annotated[bool | None, typer.Option(
            "--progress/--no-progress", help="Show a progress bar (default: on a terminal).")
        ] = None,
    ) -> None:
        """Run the whole pipeline on built-in demo data and write the PDF report."""
        from satisfaction.commands.report import print_summary

        show = sys.stderr.isatty() if progress is None else progress
        result = demo(out, seed=seed, lang=lang, bootstrap=bootstrap, html=html, excel=excel,
                      progress=show)
        print_summary(result["analysis"], result["files"])
        took = ", ".join(f"{k} {v:.1f} s" for k, v in result["seconds"].items())
        console.print(escape(f"demo data: {result['responses']}, {result['transactions']}"))
        console.print(f"time: {took}")
