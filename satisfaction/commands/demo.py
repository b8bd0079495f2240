"""The ``demo`` command: the whole pipeline on built-in, simulated data, ending in a PDF
(:func:`satisfaction.api.demo`)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from satisfaction import api

console = Console(highlight=False)


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
        from satisfaction.commands.report import print_summary, stage_progress

        show = sys.stderr.isatty() if progress is None else progress
        with stage_progress(show) as step:
            result = api.demo(out, seed=seed, lang=lang, bootstrap=bootstrap, html=html,
                              excel=excel, progress=step)
        print_summary(result["analysis"], result["files"])
        took = ", ".join(f"{k} {v:.1f} s" for k, v in result["seconds"].items())
        console.print(escape(f"demo data: {result['responses']}, {result['transactions']}"))
        console.print(f"time: {took}")
