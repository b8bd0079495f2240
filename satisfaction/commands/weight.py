"""The ``weight`` command: respondent weights from the questionnaire's margins."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from satisfaction import api
from satisfaction.commands import HeaderRow, Sheet, make_console

if TYPE_CHECKING:  # pandas and SciPy load when the command runs
    from satisfaction.weights import WeightResult

console = make_console()


def print_weights(result: WeightResult) -> None:
    """Print the summary and the margins."""
    console.print(f"{result.method}: {result.n} respondents weighted; design effect "
                  f"{result.design_effect:.3f}, effective n {result.effective_n:.1f}; "
                  f"{result.iterations} pass{'es' if result.iterations != 1 else ''}, "
                  f"{'converged' if result.converged else 'NOT converged'}")
    if result.trim is not None:
        console.print(f"  trimmed to [{result.trim[0]:g}, {result.trim[1]:g}]: "
                      f"{result.trimmed} weights")
    for reason, count in result.excluded.items():
        if count:
            console.print(f"  no weight ({reason.replace('_', ' ')}): {count}")
    if len(result.margins):
        table = Table(title="Margins (shares)")
        for name in ("variable", "code", "target", "achieved"):
            table.add_column(name, justify="left" if name in ("variable", "code") else "right")
        for r in result.margins.itertuples(index=False):
            table.add_row(escape(str(r.variable)), escape(str(r.code)), f"{r.target:.4f}",
                          f"{r.achieved:.4f}")
        console.print(table)
    for w in result.warnings:
        if w.severity != "info":
            console.print(f"  [yellow]{w.severity}:[/yellow] {escape(str(w))}")


def register(app: typer.Typer) -> None:
    """Add ``weight`` to the application."""

    @app.command("weight")
    def weight_command(
        questionnaire: Annotated[Path, typer.Argument(help="Questionnaire YAML file.")],
        responses: Annotated[Path, typer.Argument(help="Responses: CSV, XLSX, SAV or Parquet.")],
        out: Annotated[Path | None, typer.Option(
            "--out", help="Write respondent id and weight (mean 1) as CSV here.")] = None,
        json_path: Annotated[Path | None, typer.Option("--json", help="Write JSON here.")]
        = None, sheet: Sheet = None, header_row: HeaderRow = None,
    ) -> None:
        """Respondent weights (raking, post-stratification or a weight column), design
        effect and effective n."""
        from satisfaction.io import write_json, write_with

        result = api.weight(questionnaire, responses, sheet=sheet, header_row=header_row)
        print_weights(result)
        if out is not None:
            frame = result.weights.rename("weight").reset_index()
            write_with(out, lambda p: frame.to_csv(p, index=False, float_format="%.10g"))
        if json_path is not None:
            write_json(json_path, result.to_dict())
