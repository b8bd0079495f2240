"""The ``compare`` command: group comparisons of the construct indices."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from satisfaction import api
from satisfaction.commands import HeaderRow, Sheet, check_choice, make_console
from satisfaction.io import check_data_file, write_json

if TYPE_CHECKING:  # pingouin and SciPy load when the command runs
    from satisfaction.compare import CompareResult

console = make_console()


def _fmt(value: object, digits: int = 3) -> str:
    if value is None or value != value:  # NaN
        return ""
    if isinstance(value, float):
        if digits == -1:  # a p-value
            return "<0.001" if value < 0.001 else f"{value:.3f}"
        return f"{value:.{digits}f}"
    return str(value)


def print_tests(result: CompareResult) -> None:
    """Print the tests (and the exclusions) as rich tables; no table when no group was
    compared by a test (numeric groups only, or a capped categorical one)."""
    table = Table(title=f"Group comparisons (p adjusted: {result.adjust})")
    for name in ("construct", "by", "test", "statistic", "df", "p", "p adj.", "effect", "size"):
        table.add_column(name, justify="left" if name in ("construct", "by", "test", "effect")
                         else "right")
    for _, r in result.tests.iterrows():
        df = _fmt(r["df"], 1)
        if r["df2"] == r["df2"] and r["df2"] is not None:
            df = f"{r['df']:.0f}, {r['df2']:.1f}"
        padj = r["pvalue.adjusted"]
        table.add_row(escape(str(r["construct"])), escape(str(r["by"])), str(r["test"]),
                      f"{r['statistic']:.3f}", df,
                      _fmt(r["pvalue"], -1), _fmt(padj, -1), str(r["effect"]),
                      f"{r['effect.size']:.3f}", style="bold" if padj < 0.05 else None)
    if len(result.tests):
        console.print(table)
    for r in result.excluded.itertuples(index=False):
        console.print(escape(f"  excluded ({r.by}): {r.reason}: {r.n}"))
    if len(result.posthoc):
        console.print(f"  {len(result.posthoc)} Games-Howell pairs (see --json)")
    for w in result.warnings:
        console.print(f"  [yellow]{w.severity}:[/yellow] {escape(str(w))}")


def print_associations(result: CompareResult) -> None:
    """Print the correlations of the indices with numeric group variables."""
    if result.associations.empty:
        return
    weighted = bool(result.associations["weighted"].fillna(False).any())
    kind = "weighted (design-based) " if weighted else ""
    table = Table(title=f"Numeric groups: {kind}correlation with each index (p adjusted: "
                        f"{result.adjust})")
    for name in ("construct", "by", "method", "n", "r", "95% CI", "p", "p adj."):
        table.add_column(name, justify="left" if name in ("construct", "by", "method")
                         else "right")
    for _, r in result.associations.iterrows():
        ci = "" if r["ci.lower"] is None or r["ci.lower"] != r["ci.lower"] else \
            f"[{r['ci.lower']:.3f}, {r['ci.upper']:.3f}]"
        table.add_row(escape(str(r["construct"])), escape(str(r["by"])), str(r["method"]),
                      str(r["n"]), _fmt(r["estimate"]), ci, _fmt(r["pvalue"], -1),
                      _fmt(r["pvalue.adjusted"], -1))
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add ``compare`` to the application."""

    @app.command("compare")
    def compare_command(
        questionnaire: Annotated[Path, typer.Argument(help="Questionnaire YAML file.")],
        responses: Annotated[Path, typer.Argument(help="Responses: CSV, XLSX, SAV or Parquet.")],
        by: Annotated[list[str] | None, typer.Option(
            "--by", help="Group variable (repeatable); default: every group of the "
                         "questionnaire.")] = None,
        adjust: Annotated[str, typer.Option(
            help="p-value adjustment within each family: holm, fdr, bonferroni, none.")]
        = "holm",
        json_path: Annotated[Path | None, typer.Option("--json", help="Write JSON here.")]
        = None, sheet: Sheet = None, header_row: HeaderRow = None,
    ) -> None:
        """Compare every construct index across groups (Welch, rank tests, chi-square);
        numeric groups without bands by their correlation with each index."""
        check_data_file(responses)  # before the statistics' imports (a second)
        from satisfaction.compare import ADJUST_METHODS

        check_choice("--adjust", adjust, tuple(ADJUST_METHODS))
        q = api.as_questionnaire(questionnaire)
        loaded = api.validate(q, responses, sheet=sheet, header_row=header_row)
        result = api.compare(q, loaded, by=by or None, adjust=adjust, sheet=sheet,
                             header_row=header_row)
        console.print(f"{loaded.log.analysed} respondents analysed "
                      f"({loaded.log.loaded} loaded)")
        print_tests(result)
        print_associations(result)
        if result.weighted is not None and len(result.weighted):
            print_weighted(result.weighted)
        if json_path is not None:
            write_json(json_path, result.to_dict())


def print_weighted(tests: Any) -> None:
    """The weighted (design-based) tests, one row per index and group."""
    table = Table(title="Weighted tests (design-based, respondent weights)")
    for column in ("construct", "by", "test", "statistic", "df", "df2", "p", "n"):
        table.add_column(column)
    for r in tests.itertuples(index=False):
        table.add_row(str(r.construct), str(r.by), str(r.test), _fmt(r.statistic),
                      _fmt(r.df, 2), _fmt(r.df2, 2), _fmt(r.pvalue, -1), _fmt(r.n, 1))
    console.print(table)
