"""The ``validate`` command (the screening is :func:`satisfaction.api.validate`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from satisfaction import api
from satisfaction.commands import HeaderRow, Sheet, make_console
from satisfaction.io import write_json

console = make_console()


def print_log(responses: Responses) -> None:  # noqa: F821
    """Print the data-quality log as a table."""
    from satisfaction.responses import CELL_RULES

    log = responses.log
    table = Table(title="Data quality", caption=escape(str(log.source)), show_header=True)
    table.add_column("")
    table.add_column("respondents", justify="right")
    table.add_row("loaded", str(log.loaded))
    for reason, count in log.excluded.items():
        if count:
            table.add_row(f"  excluded: {reason.replace('_', ' ')}", str(count))
    table.add_row("analysed", str(log.analysed), style="bold")
    console.print(table)
    set_missing = {k: v for k, v in log.cells_set_missing.items() if v}
    if set_missing:
        console.print("  answers set to missing (respondent kept): " + ", ".join(
            f"{reason.replace('_', ' ')} {count}" for reason, count in set_missing.items()))
    shares = log.item_missing["share"] if len(log.item_missing) else None
    if shares is not None and shares.max() > 0:
        top = shares.sort_values(ascending=False, kind="stable").head(3)
        console.print("  most missing: " + ", ".join(f"{escape(str(item))} {share:.1%}"
                                                     for item, share in top.items()))
    if len(log.problems):
        kinds = log.problems.groupby(["rule", "column"], dropna=False, sort=False).size()
        kinds = kinds.sort_values(ascending=False, kind="stable")
        console.print("  problems by kind: " + "; ".join(
            escape(f"{rule.replace('_', ' ')}"
                   + (f" in {column!r}" if isinstance(column, str) else "") + f": {count}")
            for (rule, column), count in kinds.items()))
    shown = log.problems.head(10)
    for p in shown.itertuples(index=False):
        column = p.column if isinstance(p.column, str) else None
        where = f"row {p.row}" + (f", column {column!r}" if column else "")
        value = "" if p.value is None or p.value != p.value else f" (value: {p.value!r})"
        kept = "" if p.excluded else " (set to missing)" if p.rule in CELL_RULES else ""
        console.print(escape(f"  {where}: {p.rule}: {p.message}{value}{kept}"))
    if len(log.problems) > len(shown):
        console.print(f"  ... and {len(log.problems) - len(shown)} more problems "
                      "(see --json for all)")
    for warning in log.warnings:
        console.print(f"  [yellow]{warning.severity}:[/yellow] {escape(str(warning))}")


def register(app: typer.Typer) -> None:
    """Add ``validate`` to the application."""

    @app.command("validate")
    def validate_command(
        questionnaire: Annotated[Path, typer.Argument(help="Questionnaire YAML file.")],
        responses: Annotated[Path, typer.Argument(help="Responses: CSV, XLSX, SAV or Parquet.")],
        json_path: Annotated[Path | None, typer.Option("--json", help="Write the log as JSON.")]
        = None, sheet: Sheet = None, header_row: HeaderRow = None,
    ) -> None:
        """Validate responses against a questionnaire (exit 1 if not usable)."""
        result = api.validate(questionnaire, responses, sheet=sheet, header_row=header_row)
        print_log(result)
        if json_path is not None:
            write_json(json_path, result.to_dict())
        if not result.usable:
            need = result.questionnaire.screening.min_respondents
            console.print(f"[red]not usable:[/red] {result.log.analysed} respondents remain; "
                          f"at least {need} are needed")
            raise typer.Exit(1)
