"""The ``report`` command: the whole analysis of one survey, rendered as a PDF report."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from satisfaction import api
from satisfaction.commands import HeaderRow, Sheet

console = Console(highlight=False)


@contextmanager
def stage_progress(show: bool) -> Iterator[Callable[[str], None] | None]:
    """A rich progress bar over the pipeline's stages (only when asked or on a terminal)."""
    if not show:
        yield None
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from satisfaction.pipeline import STAGES

    with Progress(TextColumn("{task.description:<12}"), BarColumn(), TimeElapsedColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("start", total=len(STAGES) + 1)
        done: list[str] = []

        def step(stage: str) -> None:
            if done:
                bar.advance(task)
            done.append(stage)
            bar.update(task, description=stage)

        yield step
        bar.update(task, description="report", completed=len(STAGES))


def satisfaction_index_line(analysis: Any) -> tuple[str, str] | None:
    """The satisfaction index as the report's index table and headline card show it
    (:func:`satisfaction.api.satisfaction_index`): ``(label, "68.4 [66.2, 70.6]")``;
    with respondent weights the weighted index, and the line says so, with the
    weighting method and the effective n. ``None`` when the run has no index of the
    satisfaction construct."""
    row = api.satisfaction_index(analysis)
    if row is None:
        return None
    cid = row["construct"]
    text = f"{row['index']:.1f} [{row['ci.lower']:.1f}, {row['ci.upper']:.1f}]"
    if row["weighted"] is not None:
        w = row["weighted"]
        text += f", weighted ({w['method']}; effective n {w['effective_n']:.1f} of {w['n']})"
    try:
        name = analysis.questionnaire.construct(cid).name.en
    except (AttributeError, KeyError):
        name = cid
    return f"{name} index", text


def print_summary(analysis: Any, files: Any) -> None:
    """A short readable summary of the run."""
    log = analysis.responses.log
    table = Table(title="Report", show_header=False)
    table.add_column("")
    table.add_column("")
    table.add_row("respondents", f"{log.loaded} loaded, {log.analysed} analysed")
    sem = analysis.sem
    if sem is not None:
        fm = sem.fit_measures
        table.add_row("CB-SEM fit" if getattr(analysis, "pls", None) is not None
                      else "model fit", f"CFI {fm.get('cfi', float('nan')):.3f}, "
                                   f"RMSEA {fm.get('rmsea', float('nan')):.3f}, "
                                   f"SRMR {fm.get('srmr', float('nan')):.3f}")
    choice = analysis.options.get("estimator") or {}
    if getattr(analysis, "pls", None) is not None:
        why = {"fallback": "the CB-SEM solution is inadmissible",
               "formative": "a construct is formative"}.get(choice.get("reason"),
                                                            "the questionnaire's choice")
        table.add_row("estimator", f"PLS ({why}), {analysis.pls.status}")
    headline = satisfaction_index_line(analysis)
    if headline is not None:
        table.add_row(*headline)
    if analysis.recommendations is not None:
        table.add_row("recommendations", str(len(analysis.recommendations)))
    table.add_row("warnings", str(len(analysis.warnings)))
    for key, path in files.to_dict().items():
        if path:
            table.add_row(key, escape(path))
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add ``report`` to the application."""

    @app.command("report")
    def report_command(
        questionnaire: Annotated[Path, typer.Argument(help="Questionnaire YAML file.")],
        responses: Annotated[Path, typer.Argument(help="Responses: CSV, XLSX, SAV or Parquet.")],
        transactions: Annotated[Path | None, typer.Option(
            help="Transactions file (customer, date, amount) for the customer-value part.")
        ] = None,
        lang: Annotated[str, typer.Option(help="Report language: en or zh.")] = "en",
        out: Annotated[Path | None, typer.Option(help="PDF to write.")] = None,
        html: Annotated[Path | None, typer.Option(help="Also write the report as HTML.")] = None,
        excel: Annotated[Path | None, typer.Option(help="Also write every table (XLSX).")] = None,
        json: Annotated[Path | None, typer.Option("--json", help="Write all results as JSON.")
                        ] = None,
        bootstrap: Annotated[int, typer.Option(help="Bootstrap draws for effects.")] = 1000,
        seed: Annotated[int, typer.Option(help="Random seed of the bootstrap.")] = 20261125,
        previous: Annotated[Path | None, typer.Option(
            help="The --json results of an earlier wave: show each index's change.")
        ] = None,
        progress: Annotated[bool | None, typer.Option(
            "--progress/--no-progress", help="Show a progress bar (default: on a terminal).")
        ] = None,
        sheet: Sheet = None, header_row: HeaderRow = None,
    ) -> None:
        """Analyse a survey end to end and write the PDF report."""
        show = sys.stderr.isatty() if progress is None else progress
        with stage_progress(show) as step:
            analysis, files = api.report(questionnaire, responses, transactions=transactions,
                                         lang=lang, out=out, html=html, excel=excel,
                                         json=json, bootstrap=bootstrap, seed=seed,
                                         progress=step, sheet=sheet, previous=previous,
                                         header_row=header_row)
        print_summary(analysis, files)
