"""The ``demo`` command: the whole pipeline on built-in, simulated data."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from satisfaction.io import write_with

console = Console(highlight=False)

REPORTS = Path(__file__).resolve().parents[2] / "reports"


def demo(out: Path | None = None, seed: int = 20261125, n_respondents: int = 2000,
         n_customers: int = 100_000) -> dict[str, Path]:
    """Simulate the demo data and write it under ``out`` (default: reports/demo).

    Returns the paths written: ``questionnaire``, ``responses`` (CSV) and
    ``transactions`` (CSV).
    """
    from satisfaction.simulate import simulate_demo

    folder = Path(out) if out is not None else REPORTS / "demo"
    data = simulate_demo(n_respondents=n_respondents, n_customers=n_customers, seed=seed)
    responses = folder / "demo_responses.csv"
    transactions = folder / "demo_transactions.csv"
    write_with(responses, lambda p: data.responses.to_csv(p, index=False))
    write_with(transactions, lambda p: data.transactions.to_csv(p, index=False,
                                                                date_format="%Y-%m-%d"))
    return {"questionnaire": data.questionnaire_path, "responses": responses,
            "transactions": transactions}


def register(app: typer.Typer) -> None:
    """Add ``demo`` to the application."""

    @app.command("demo")
    def demo_command(
        lang: Annotated[str, typer.Option(help="Report language: en or zh.")] = "en",
        out: Annotated[Path | None, typer.Option(help="Output folder.")] = None,
        seed: Annotated[int, typer.Option(help="Seed of the simulated data.")] = 20261125,
    ) -> None:
        """Run the pipeline on built-in demo data (CRAM survey + transactions)."""
        from satisfaction.commands.basic import print_log, validate

        paths = demo(out, seed=seed)
        console.print(f"demo data: {paths['responses']}, {paths['transactions']}")
        result = validate(paths["questionnaire"], paths["responses"])
        print_log(result)
