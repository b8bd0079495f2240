"""The ``reliability`` and ``efa`` commands: measurement quality of a questionnaire."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from satisfaction import api
from satisfaction.commands import HeaderRow, Sheet, check_at_least, check_choice, make_console
from satisfaction.io import check_data_file, write_json

console = make_console()

#: ``--weights`` of ``reliability`` and ``efa`` (as ``fit``'s; issue 17).
Weights = Annotated[str | None, typer.Option(
    "--weights", help="Respondent weights: a column of the responses. The CFA is fitted as "
                      "lavaan's sampling.weights, alpha, HTMT and the item statistics use "
                      "the weighted covariances, the EFA the weighted correlations. A "
                      "questionnaire's weighting/weight is used without it; 'none' "
                      "analyses unweighted.")]


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "NA"
    return f"{value:.{digits}f}"


def _log_summary(log: Any) -> dict[str, Any]:
    return {"loaded": log.loaded, "excluded": dict(log.excluded), "analysed": log.analysed,
            "cells_set_missing": dict(log.cells_set_missing)}


def _print_log(log: Any) -> None:
    excluded = {k: v for k, v in log.excluded.items() if v}
    text = f"{log.analysed} of {log.loaded} respondents analysed"
    if excluded:
        text += " (excluded: " + ", ".join(f"{k.replace('_', ' ')} {v}"
                                           for k, v in excluded.items()) + ")"
    set_missing = sum(log.cells_set_missing.values())
    if set_missing:
        text += f"; {set_missing} invalid answers set to missing"
    console.print(text)


_STYLE = {"info": "cyan", "caution": "yellow", "invalidates": "red"}


def _print_warnings(warnings: list[Any], status: str | None = None) -> None:
    """Each diagnostic as its English sentence, marked by severity; then the gate."""
    for w in warnings:
        severity = getattr(w, "severity", "caution")
        style = _STYLE.get(severity, "yellow")
        console.print(f"[{style}]{severity}:[/{style}] {escape(str(w))}")
    if status == "invalid":
        console.print("[red]status: invalid[/red]: the result must not be read as a finding "
                      "(see the diagnostics marked invalidates)")


def print_reliability(result: Any) -> None:
    """Constructs, HTMT and Fornell-Larcker tables, then the warnings."""
    from satisfaction import reliability as rel

    items = result.item_statistics
    t = Table(title="Items (skewness and kurtosis: G1, G2; r.it: corrected item-total "
                    "correlation)", show_header=True)
    for c in ["item", "construct", "n", "mean", "sd", "skew", "kurt", "missing", "floor",
              "ceiling", "r.it", "alpha if deleted"]:
        t.add_column(c, justify="left" if c in ("item", "construct") else "right")
    for item, r in items.iterrows():
        alpha = result.constructs.loc[r["construct"], "alpha"]
        drop = _fmt(r["alpha_if_deleted"])
        r_it = _fmt(r["item_total"])
        t.add_row(escape(str(item)), escape(str(r["construct"])), str(int(r["n"])),
                  _fmt(r["mean"], 2),
                  _fmt(r["sd"], 2), _fmt(r["skew"], 2), _fmt(r["kurtosis"], 2),
                  f"{r['missing']:.0%}", f"{r['floor']:.0%}", f"{r['ceiling']:.0%}",
                  f"[red]{r_it}[/red]" if r["item_total"] < 0.30 else r_it,
                  f"[red]{drop}[/red]" if r["alpha_if_deleted"] > alpha else drop)
    console.print(t)

    t = Table(title="Reliability and convergent validity", show_header=True)
    for c in ["construct", "items", "n", "alpha", "95% CI", "omega", "CR", "AVE"]:
        t.add_column(c, justify="left" if c == "construct" else "right")
    for cid, r in result.constructs.iterrows():
        def mark(value: float, cut: float) -> str:
            text = _fmt(value)
            return f"[red]{text}[/red]" if value < cut else text
        t.add_row(escape(str(cid)), str(int(r["items"])), str(int(r["n"])),
                  mark(r["alpha"], rel.ALPHA_MIN),
                  f"[{_fmt(r['alpha.ci.lower'])}, {_fmt(r['alpha.ci.upper'])}]",
                  _fmt(r["omega"]), mark(r["cr"], rel.CR_MIN), mark(r["ave"], rel.AVE_MIN))
    console.print(t)
    fl = result.fornell_larcker_matrix
    t = Table(title="Discriminant validity: sqrt(AVE) on the diagonal, latent correlations "
                    "below, HTMT above", show_header=True)
    t.add_column("")
    for c in fl.columns:
        t.add_column(escape(str(c)), justify="right")
    names = list(fl.index)
    for i, a in enumerate(names):
        cells = []
        for j, b in enumerate(names):
            if i == j:
                cells.append(f"[bold]{_fmt(fl.loc[a, b])}[/bold]")
            elif j < i:
                value = fl.loc[a, b]
                bad = abs(value) >= min(fl.loc[a, a], fl.loc[b, b])
                cells.append(f"[red]{_fmt(value)}[/red]" if bad else _fmt(value))
            else:
                value = result.htmt.loc[a, b]
                cells.append(f"[red]{_fmt(value)}[/red]" if value > 0.85 else _fmt(value))
        t.add_row(escape(str(a)), *cells)
    console.print(t)
    _print_warnings(result.warnings, result.status)


def print_efa(result: Any, constructs: dict[str, str]) -> None:
    """Adequacy, number-of-factors rules, loadings with flags, warnings."""
    b = result.bartlett
    console.print(f"KMO {_fmt(result.kmo)}; Bartlett chi2 = {_fmt(b['chisq'], 1)}, "
                  f"df = {b['df']:.0f}, p = {b['p']:.3g}; n = {result.n}")
    rules = result.n_factors_rules
    console.print(f"Number of factors: parallel analysis {rules['parallel_components']} "
                  f"(components), {rules['parallel_factors']} (factors); eigenvalues > 1: "
                  f"{rules['kaiser']}; extracted: {result.n_factors} "
                  f"({result.method}, {result.rotation})")
    scree = result.scree.head(max(result.n_factors + 3, 6))
    console.print("Eigenvalues: " + ", ".join(_fmt(v, 2) for v in scree["eigenvalue"])
                  + "; parallel (95%): " + ", ".join(_fmt(v, 2) for v in scree["parallel"]))
    t = Table(title="Loadings", show_header=True)
    t.add_column("item")
    t.add_column("construct")
    for c in result.loadings.columns:
        t.add_column(escape(str(c)), justify="right")
    t.add_column("h2", justify="right")
    t.add_column("flag")
    for item, row in result.loadings.iterrows():
        f = result.flags.loc[item]
        cells = []
        for factor, value in row.items():
            text = _fmt(value, 2)
            cells.append(f"[bold]{text}[/bold]" if factor == f["primary"] else
                         text if abs(value) >= 0.32 else f"[dim]{text}[/dim]")
        flag = "cross-loading" if f["cross_loading"] else ("weak" if f["weak"] else "")
        t.add_row(escape(str(item)), escape(constructs.get(str(item), "")), *cells,
                  _fmt(result.communalities[item], 2), flag)
    console.print(t)
    _print_warnings(result.warnings, result.status)


def register(app: typer.Typer) -> None:
    """Add ``reliability`` and ``efa`` to the application."""

    @app.command("reliability")
    def reliability_command(
        questionnaire: Annotated[Path, typer.Argument(help="Questionnaire YAML file.")],
        responses: Annotated[Path, typer.Argument(help="Responses: CSV, XLSX, SAV or Parquet.")],
        json_path: Annotated[Path | None, typer.Option("--json", help="Write results as JSON.")]
        = None, sheet: Sheet = None, header_row: HeaderRow = None, weights: Weights = None,
    ) -> None:
        """Reliability and validity: item statistics, alpha, omega, CR, AVE, HTMT."""
        q = api.as_questionnaire(questionnaire)
        loaded = api.validate(q, responses, sheet=sheet, header_row=header_row)
        _print_log(loaded.log)
        result = api.reliability(q, loaded, weights=weights)
        print_reliability(result)
        if json_path is not None:
            write_json(json_path, {**result.to_dict(), "responses": _log_summary(loaded.log)})

    @app.command("efa")
    def efa_command(
        questionnaire: Annotated[Path, typer.Argument(help="Questionnaire YAML file.")],
        responses: Annotated[Path, typer.Argument(help="Responses: CSV, XLSX, SAV or Parquet.")],
        factors: Annotated[int | None, typer.Option(
            "--factors", help="Factors to extract (default: parallel analysis).")] = None,
        method: Annotated[str, typer.Option(help="Extraction: minres or ml.")] = "minres",
        rotation: Annotated[str, typer.Option(
            help="Rotation: oblimin, promax, varimax or none.")] = "oblimin",
        seed: Annotated[int, typer.Option(help="Seed of the parallel analysis.")] = 0,
        json_path: Annotated[Path | None, typer.Option("--json", help="Write results as JSON.")]
        = None, sheet: Sheet = None, header_row: HeaderRow = None, weights: Weights = None,
    ) -> None:
        """Exploratory factor analysis: KMO, Bartlett, parallel analysis, rotated loadings."""
        check_data_file(responses)  # before the statistics' imports (a second)
        from satisfaction.efa import METHODS, ROTATIONS

        check_choice("--method", method, METHODS)
        check_choice("--rotation", rotation, ROTATIONS)
        check_at_least("--factors", factors, 1)
        q = api.as_questionnaire(questionnaire)
        api.check_n_factors(q, factors)  # before the data are read
        loaded = api.validate(q, responses, sheet=sheet, header_row=header_row)
        _print_log(loaded.log)
        result = api.efa(q, loaded, n_factors=factors, method=method, rotation=rotation,
                         seed=seed, weights=weights)
        constructs = q.construct_of_item()
        print_efa(result, constructs)
        if json_path is not None:
            out = result.to_dict()
            for entry in out["loadings"]:
                entry["construct"] = constructs.get(entry["item"])
            write_json(json_path, {**out, "responses": _log_summary(loaded.log)})
