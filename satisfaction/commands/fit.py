"""The ``fit`` command: a CFA or SEM from a questionnaire or a lavaan-syntax model."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from satisfaction import api
from satisfaction.commands import check_at_least, check_choice, make_console
from satisfaction.errors import UsageError
from satisfaction.io import spreadsheet_safe, write_json, write_with

if TYPE_CHECKING:  # pandas loads when a command runs, not when the command line is built
    import pandas as pd

    from satisfaction.pls_assessment import PLSAssessment

console = make_console()


def _isna(value: object) -> bool:
    """None, NaN or pandas' NA (without importing pandas)."""
    if value is None:
        return True
    try:
        return bool(value != value)
    except TypeError:  # pd.NA
        return True

_SHOWN_FIT = ["ntotal", "chisq", "df", "pvalue", "cfi", "tli", "rmsea", "rmsea.ci.lower",
              "rmsea.ci.upper", "srmr", "aic", "bic",
              # --estimator mlr|mlm (shown when present)
              "chisq.scaled", "pvalue.scaled", "chisq.scaling.factor", "cfi.robust",
              "tli.robust", "rmsea.robust", "rmsea.ci.lower.robust", "rmsea.ci.upper.robust"]
#: ``--ordered ... --estimator wlsmv``: the standard and the scaled-and-shifted measures
_SHOWN_WLSMV = ["ntotal", "chisq", "df", "pvalue", "chisq.scaled", "pvalue.scaled",
                "chisq.scaling.factor", "chisq.shift.parameters", "cfi", "tli", "cfi.scaled",
                "tli.scaled", "rmsea", "rmsea.scaled", "rmsea.ci.lower.scaled",
                "rmsea.ci.upper.scaled", "cfi.robust", "tli.robust", "rmsea.robust", "srmr"]


def _fmt(value: float | None, digits: int = 3) -> str:
    if _isna(value):
        return "NA"
    return f"{value:.{digits}f}"


def _ci(lower: float | None, upper: float | None) -> str:
    if _isna(lower) or _isna(upper):
        return ""
    return f"[{_fmt(lower)}, {_fmt(upper)}]"


def print_summary(result) -> None:
    """Readable terminal summary: fit, structural paths, R², effects, warnings."""
    fm = result.fit_measures
    robust = "chisq.scaling.factor" in fm
    wlsmv = "chisq.shift.parameters" in fm
    title = "Model fit (ML, robust: scaled chi-square and robust indices)" if robust \
        else "Model fit (ML)"
    if wlsmv:
        title = "Model fit (ordered items, WLSMV/WLSM/ULSMV: robust SEs, scaled chi-square)"
    table = Table(title=title, show_header=True)
    table.add_column("measure")
    table.add_column("value", justify="right")
    for k in _SHOWN_WLSMV if wlsmv else _SHOWN_FIT:
        if k in fm:
            table.add_row(k, _fmt(fm[k], 0 if k in ("ntotal", "df") else 3))
    console.print(table)
    params = result.parameters
    paths = params[params["op"].isin(["~", "=~"])]
    t = Table(title="Paths and loadings", show_header=True)
    for c in ["lhs", "op", "rhs", "est", "se", "pvalue", "std.all", "std.all 95% CI"]:
        t.add_column(c, justify="right" if c not in ("lhs", "op", "rhs") else "left")
    if "group" in params.columns:
        t.add_column("group")
    for row in paths.to_dict("records"):
        cells = [row["lhs"], row["op"], row["rhs"], _fmt(row["est"]), _fmt(row["se"]),
                 _fmt(row["pvalue"]), _fmt(row["std.all"]),
                 _ci(row.get("std.ci.lower"), row.get("std.ci.upper"))]
        if "group" in params.columns:
            cells.append(str(row["group"]))
        t.add_row(*cells)
    console.print(t)
    if result.r2:
        console.print("R²: " + ", ".join(f"{k} {_fmt(v)}" for k, v in result.r2.items()))
    if len(result.effects):
        method = str(result.effects["ci.method"].iloc[0]) if "ci.method" in \
            result.effects.columns else ""
        e = Table(title="Standardized effects between constructs"
                  + (f" (95% CI: {method})" if method else ""), show_header=True)
        for c in ["from", "to", "direct", "indirect", "total"]:
            e.add_column(c)
        for row in result.effects.to_dict("records"):
            cells = [row["from"], row["to"]]
            for m in ("std.direct", "std.indirect", "std.total"):
                value = row[m]
                ci = _ci(row.get(f"{m}.ci.lower"), row.get(f"{m}.ci.upper"))
                cells.append("—" if _isna(value) else f"{_fmt(value)} {ci}")
            e.add_row(*cells)
        console.print(e)
    if result.groups is not None:
        d = result.groups.chisq_diff
        scaled = " (Satorra-Bentler scaled)" if "chisq.scaled" in d else ""
        console.print(f"Equal structural paths across {result.groups.column} "
                      f"({', '.join(result.groups.labels)}){scaled}: "
                      f"Δχ² = {_fmt(d.get('chisq.scaled', d['chisq']))}, "
                      f"Δdf = {_fmt(d['df'], 0)}, p = {_fmt(d.get('pvalue.scaled', d['pvalue']))}")
    labels = {"invalidates": "[red]invalidates:[/red]", "caution": "[yellow]caution:[/yellow]",
              "info": "note:"}
    for w in result.warnings:
        console.print(f"{labels[w.severity]} {escape(str(w))}")
    if result.status == "invalid":
        console.print("[red]This solution is not admissible: do not read its estimates as "
                      "findings (see the diagnostics above).[/red]")


def print_modindices(mi: pd.DataFrame, top: int = 10) -> None:
    """The ``top`` modification indices (largest first) as a table."""
    t = Table(title=f"Modification indices (top {min(top, len(mi))} of {len(mi)})",
              show_header=True)
    cols = [c for c in ("lhs", "op", "rhs", "group", "mi", "epc", "sepc.all") if c in mi.columns]
    for c in cols:
        t.add_column(c, justify="right" if c in ("mi", "epc", "sepc.all") else "left")
    for row in mi.head(top).to_dict("records"):
        t.add_row(*[_fmt(row[c]) if c in ("mi", "epc", "sepc.all") else str(row[c])
                    for c in cols])
    console.print(t)


def write_scores(path: Path, scores: pd.DataFrame, method: str) -> None:
    """The factor-score table (:func:`satisfaction.api.fit`'s ``result.scores``) to
    ``path`` (CSV, written atomically)."""
    frame = spreadsheet_safe(scores)  # a respondent id "=..." stays text in a spreadsheet
    write_with(path, lambda p: frame.to_csv(p, index=False))
    console.print(escape(f"Factor scores ({method}) of {len(frame)} respondents written to "
                         f"{path}"))


def _listed(text: str | None) -> tuple[str, ...]:
    """A comma-separated option as a tuple of stripped entries."""
    return tuple(t.strip() for t in (text or "").split(",") if t.strip())


def print_invariance(result) -> None:
    """The invariance steps, the decision and the parameters to free."""
    t = Table(title=f"Measurement invariance across {escape(result.group)} "
                    f"({', '.join(escape(g) for g in result.labels)})", show_header=True)
    # with MLR/MLM: the scaled χ², the Satorra-Bentler (2001) difference and the robust
    # indices that decide the steps
    s = "" if result.estimator == "ml" else ".scaled"
    i = "" if result.estimator == "ml" else ".robust"
    for c in ["model", f"chisq{s}", "df", f"cfi{i}", f"rmsea{i}", "srmr", f"Δchisq{s}", "Δdf",
              "p", f"ΔCFI{i}", f"ΔRMSEA{i}", "decision"]:
        t.add_column(c, justify="left" if c in ("model", "decision") else "right")
    for r in result.steps.to_dict("records"):
        t.add_row(r["model"], _fmt(r[f"chisq{s}"]), _fmt(r["df"], 0), _fmt(r[f"cfi{i}"]),
                  _fmt(r[f"rmsea{i}"]), _fmt(r["srmr"]), _fmt(r[f"delta.chisq{s}"]),
                  _fmt(r["delta.df"], 0), _fmt(r[f"delta.pvalue{s}"]), _fmt(r[f"delta.cfi{i}"]),
                  _fmt(r[f"delta.rmsea{i}"]), r["decision"])
    console.print(t)
    console.print(f"Invariance holds up to: [bold]{result.level}[/bold] (ΔCFI{i} ≥ −0.01 and "
                  f"ΔRMSEA{i} ≤ 0.015). Latent and score means "
                  + ("may be compared." if result.means_comparable else
                     "should [bold]not[/bold] be compared."))
    if len(result.suggestions):
        s = Table(title="Parameters to free for partial invariance (χ² drop when freed)")
        for c in ["step", "parameter", "χ² drop", "df", "p"]:
            s.add_column(c)
        for r in result.suggestions.to_dict("records"):
            s.add_row(r["step"], escape(r["parameter"]), _fmt(r["chisq.drop"]),
                      _fmt(r["df"], 0), _fmt(r["pvalue"]))
        console.print(s)
    for w in result.warnings:
        console.print(f"{w.severity}: {escape(str(w))}")


def print_pls(fit: PLSAssessment, ci: str = "perc") -> None:
    """A PLS fit and its assessment (:func:`satisfaction.api.pls`): paths (with
    bootstrap SEs and intervals), R², diagnostics, specific indirect effects, Q² and
    PLSpredict, the 0-100 index and the importance-performance map."""
    from satisfaction.commands.pls_output import print_ipma

    result = fit.result
    bootstrap = fit.draws > 0
    params = result.parameters()
    t = Table(title=f"{'Consistent PLS (PLSc)' if result.consistent else 'PLS'} path model "
                    f"({result.scheme} weighting, n = {result.n}, "
                    f"{result.iterations} iterations)", show_header=True)
    cols = ["lhs", "op", "rhs", "est"] + (["se", "95% CI"] if bootstrap else [])
    for c in cols:
        t.add_column(c, justify="left" if c in ("lhs", "op", "rhs") else "right")
    for row in params.to_dict("records"):
        cells = [escape(str(row["lhs"])), row["op"], escape(str(row["rhs"])), _fmt(row["est"])]
        if bootstrap:
            cells += [_fmt(row["se"]), _ci(row["ci.lower"], row["ci.upper"])]
        t.add_row(*cells)
    console.print(t)
    console.print("R² (adjusted): " + ", ".join(
        f"{escape(str(c))} {_fmt(r['r2'])} ({_fmt(r['r2.adj'])})"
        for c, r in result.r2.iterrows()))
    labels = {"invalidates": "[red]invalidates:[/red]", "caution": "[yellow]caution:[/yellow]",
              "info": "note:"}
    for w in result.warnings:
        console.print(f"{labels[w.severity]} {escape(str(w))}")
    indirect = fit.indirect
    if bootstrap and len(indirect):
        t = Table(title=f"Specific indirect effects (95% CI: "
                        f"{'BCa' if ci == 'bca' else 'percentile'})", show_header=True)
        for c in ("path", "est", "se", "95% CI"):
            t.add_column(c, justify="left" if c == "path" else "right")
        for row in indirect.to_dict("records"):
            t.add_row(escape(row["path"]), _fmt(row["est"]), _fmt(row["se"]),
                      _ci(row["ci.lower"], row["ci.upper"]))
        console.print(t)
    if fit.q2 is not None and fit.prediction is not None:
        q2, pred = fit.q2, fit.prediction
        console.print(f"Q² (blindfolding, D = {q2.omission}): " + ", ".join(
            f"{escape(str(c))} {_fmt(v)}" for c, v in q2.q2["q2"].items()))
        t = Table(title=f"PLSpredict ({pred.folds}-fold, {pred.repeats} repetitions, earliest "
                        "antecedents) against the linear model (LM)"
                        + ("; weighted by the respondent weights" if pred.weighted else ""),
                  show_header=True)
        for c in ("indicator", "Q²_predict", "RMSE", "MAE", "LM RMSE", "LM MAE"):
            t.add_column(c, justify="left" if c == "indicator" else "right")
        for row in pred.items.to_dict("records"):
            t.add_row(escape(str(row["indicator"])), _fmt(row["q2_predict"]), _fmt(row["rmse"]),
                      _fmt(row["mae"]), _fmt(row["lm_rmse"]), _fmt(row["lm_mae"]))
        console.print(t)
        for w in fit.notes:
            console.print(f"{labels[w.severity]} {escape(str(w))}")
    if fit.ipma is not None:
        console.print("Index (0-100): " + ", ".join(
            f"{escape(str(c))} {v:.1f}" for c, v in fit.ipma.index.items()))
        if fit.target is not None:
            print_ipma(fit.ipma)
        for w in fit.ipma.warnings:
            console.print(f"{w.severity}: {escape(str(w))}")


def register(app: typer.Typer) -> None:
    """Add ``fit`` and ``invariance`` to the application."""

    @app.command("invariance")
    def invariance_command(
        model: Annotated[Path, typer.Argument(
            help="Questionnaire YAML, or a text file in lavaan syntax.")],
        responses: Annotated[Path, typer.Argument(help="Responses: CSV, XLSX, SAV or Parquet.")],
        group: Annotated[str, typer.Option(help="The grouping column.")],
        group_partial: Annotated[str | None, typer.Option(
            help="Parameters left free across groups in every step, comma-separated "
                 "'lhs op rhs' (e.g. 'x3 ~1').")] = None,
        missing: Annotated[str, typer.Option(
            help="Missing values: 'listwise' (drop respondents) or 'fiml' (full-information ML).")]
        = "listwise",
        estimator: Annotated[str, typer.Option(
            help="'ml', or 'mlr' (Huber-White, Yuan-Bentler; also with --missing fiml) or 'mlm' "
                 "(Satorra-Bentler) as lavaan's MLR/MLM: each step gets the scaled χ² and the "
                 "Satorra-Bentler (2001) scaled difference, and robust CFI/RMSEA decide.")]
        = "ml",
        weights: Annotated[str | None, typer.Option(
            "--weights", help="Respondent weights: a column of the responses; every step is "
                              "fitted as lavaan's sampling.weights (MLR: the scaled "
                              "difference and robust CFI/RMSEA decide). A questionnaire's "
                              "weighting/weight is used without it; 'none' fits unweighted.")]
        = None,
        json_path: Annotated[Path | None, typer.Option("--json", help="Write results as JSON.")]
        = None,
    ) -> None:
        """Measurement invariance: configural, metric, scalar and strict models compared."""
        check_choice("--missing", missing, ("listwise", "fiml"))  # before the data
        check_choice("--estimator", estimator.lower(), ("ml", "mlr", "mlm"))
        if estimator.lower() == "mlm" and missing == "fiml":
            raise UsageError("'mlm' needs complete data (as lavaan's MLM); use --estimator mlr "
                             "with --missing fiml", column="--estimator", value=estimator)
        result = api.invariance(model, responses, group=group,
                                group_partial=_listed(group_partial), missing=missing,
                                estimator=estimator.lower(), weights=weights)
        print_invariance(result)
        if json_path is not None:
            write_json(json_path, result.to_dict())

    @app.command("fit")
    def fit_command(
        model: Annotated[Path, typer.Argument(
            help="Questionnaire YAML, or a text file in lavaan syntax.")],
        responses: Annotated[Path, typer.Argument(help="Responses: CSV, XLSX, SAV or Parquet.")],
        bootstrap: Annotated[int, typer.Option(
            help="Bootstrap draws (also with --group, resampled within groups): bootstrap "
                 "SEs and intervals of every parameter, standardized estimate and effect, "
                 "as lavaan's se='bootstrap' (default: Wald/delta-method).")] = 0,
        ci: Annotated[str, typer.Option(
            "--ci", help="With --bootstrap: interval type 'perc' (percentile), 'bca' "
                         "(bias-corrected and accelerated, jackknife acceleration) or "
                         "'bca.simple' (lavaan's, no acceleration; not with "
                         "--estimator pls|plsc).")] = "perc",
        seed: Annotated[int | None, typer.Option(help="Seed of the bootstrap.")] = None,
        group: Annotated[str | None, typer.Option(
            help="Column for a multi-group fit (test of equal structural paths); with "
                 "--estimator pls|plsc: PLS per group, MICOM and the path differences "
                 "(permutation test and PLS-MGA), pairwise for more than two groups.")] = None,
        permutations: Annotated[int | None, typer.Option(
            help="With --estimator pls|plsc and --group: permutations for MICOM and the "
                 "permutation test of path differences (default 1000; --bootstrap sets the "
                 "PLS-MGA draws per group, default 1000).")] = None,
        group_equal: Annotated[str | None, typer.Option(
            help="With --group: parameters equal across groups, comma-separated lavaan "
                 "classes (loadings,intercepts,means,residuals,residual.covariances,"
                 "lv.variances,lv.covariances,regressions).")] = None,
        group_partial: Annotated[str | None, typer.Option(
            help="Parameters exempt from --group-equal, comma-separated 'lhs op rhs' "
                 "(e.g. 'x3 ~1,visual =~ x2').")] = None,
        missing: Annotated[str, typer.Option(
            help="Missing values: 'listwise' (drop respondents) or 'fiml' (full-information ML); "
                 "with --estimator pls|plsc 'listwise' or 'mean' (mean replacement); with "
                 "--ordered 'listwise' or 'pairwise'.")]
        = "listwise",
        estimator: Annotated[str, typer.Option(
            help="'ml'; 'mlr' (robust Huber-White SEs, Yuan-Bentler scaled chi-square; also "
                 "with --missing fiml) or 'mlm' (Satorra-Bentler), as lavaan's MLR/MLM, also "
                 "with --group (the equal-paths Δχ² then Satorra-Bentler scaled); 'pls' "
                 "(PLS path modelling, path weighting; '<~' marks a formative block); 'wlsmv' "
                 "('wlsm', 'ulsmv') "
                 "(ordered items, with --ordered: DWLS, robust SEs, scaled-and-shifted "
                 "chi-square, as lavaan's WLSMV).")]
        = "ml",
        jobs: Annotated[int | None, typer.Option(help="Worker processes (default: all cores).")]
        = None,
        progress: Annotated[bool | None, typer.Option(
            "--progress/--no-progress", help="Progress bar (default: when on a terminal).")]
        = None,
        json_path: Annotated[Path | None, typer.Option("--json", help="Write results as JSON.")]
        = None,
        ipma_target: Annotated[str | None, typer.Option(
            "--ipma", help="With --estimator pls|plsc: importance-performance map for this "
                           "target construct (importance = total effect on the 0-100 "
                           "metric, performance = 0-100 score; with --bootstrap, intervals "
                           "of both).")] = None,
        scale: Annotated[str | None, typer.Option(
            help="With --estimator pls|plsc and a lavaan-syntax model: the answers' range "
                 "MIN,MAX for the 0-100 index and --ipma (a questionnaire's scales give "
                 "it otherwise).")] = None,
        hoc: Annotated[str, typer.Option(
            help="With --estimator pls|plsc: how second-order constructs ('Stage =~ Dim1 + "
                 "Dim2', a questionnaire's parent:) are estimated: 'repeated' (repeated "
                 "indicators), 'embedded' or 'disjoint' (two-stage).")] = "repeated",
        predict: Annotated[bool, typer.Option(
            "--predict", help="With --estimator pls|plsc: Q² by blindfolding (omission "
                              "distance 7) and PLSpredict (k-fold, repeated, seeded by "
                              "--seed) against the linear-model benchmark.")] = False,
        omission: Annotated[int | None, typer.Option(
            help="Omission distance of the blindfolding (with --predict; default 7).")]
        = None,
        folds: Annotated[int | None, typer.Option(
            help="PLSpredict folds (with --predict; default 10).")] = None,
        repeats: Annotated[int | None, typer.Option(
            help="PLSpredict repetitions (with --predict; default 10).")] = None,
        ordered: Annotated[str | None, typer.Option(
            help="Ordered (ordinal) items, comma-separated, or 'all' (every observed "
                 "variable of the model must be ordered): thresholds and polychoric "
                 "correlations, fitted with --estimator wlsmv as lavaan's ordered=.")] = None,
        show_modindices: Annotated[bool, typer.Option(
            "--modindices", help="Modification indices (lavaan's modindices()): print the top "
                                 "10, write all under 'modindices' in --json.")] = False,
        scores: Annotated[Path | None, typer.Option(
            "--scores", help="Write factor scores (lavaan's lavPredict()) to this CSV: the "
                             "respondent id (or data-row number), the group, one column per "
                             "latent variable; respondents with a missing answer are not "
                             "scored (with --missing fiml every respondent is, from the "
                             "items answered).")] = None,
        scores_method: Annotated[str, typer.Option(
            help="Factor-score method for --scores: 'regression' or 'bartlett'.")]
        = "regression",
        weights: Annotated[str | None, typer.Option(
            "--weights", help="Respondent weights: a column of the responses, fitted as "
                              "lavaan's sampling.weights (weighted moments, MLR standard "
                              "errors and scaled test; complete data, no bootstrap), or "
                              "under --estimator pls|plsc by weighted PLS (weighted item "
                              "moments; the bootstrap carries the weights; --group and "
                              "--predict are weighted too). A "
                              "questionnaire's weighting/weight is used without it; "
                              "'none' fits unweighted.")] = None,
    ) -> None:
        """Fit a CFA/SEM by ML (lavaan's defaults), or by PLS path modelling (--estimator pls)."""
        # the options first, each error naming its option, before any data are read
        check_choice("--estimator", estimator.lower(),
                     ("ml", "mlr", "mlm", "pls", "plsc", "wlsmv", "wlsm", "ulsmv"))
        ordinal = estimator.lower() in ("wlsmv", "wlsm", "ulsmv")
        if ordered and not ordinal:
            raise UsageError("ordered items are fitted by WLSMV; add --estimator wlsmv",
                             column="--ordered", value=ordered)
        check_at_least("--jobs", jobs, 1)
        if estimator.lower() not in ("pls", "plsc"):
            for name, value in (("--ipma", ipma_target), ("--scale", scale),
                                ("--hoc", None if hoc == "repeated" else hoc)):
                if value is not None:
                    raise UsageError("applies to --estimator pls|plsc", column=name,
                                     value=value)
        check_choice("--hoc", hoc, ("repeated", "embedded", "disjoint"))
        if permutations is not None and not (estimator.lower() in ("pls", "plsc") and group):
            raise UsageError("applies to --estimator pls|plsc with --group",
                             column="--permutations", value=permutations)
        for option, given in (("--predict", predict), ("--folds", folds is not None),
                              ("--repeats", repeats is not None),
                              ("--omission", omission is not None)):
            if given and (estimator.lower() not in ("pls", "plsc") or group is not None):
                raise UsageError("applies to --estimator pls|plsc without --group",
                                 column=option)
            if given and option != "--predict" and not predict:
                raise UsageError("applies with --predict", column=option)
        if weights is not None and ordinal and weights.strip().lower() != "none":
            raise UsageError("applies to --estimator ml|mlr|pls|plsc",
                             column="--weights", value=weights)
        if estimator.lower() in ("pls", "plsc") and group is not None:
            from satisfaction.commands.pls_groups import print_pls_groups

            groups = api.pls_groups(model, responses, group=group,
                                    consistent=estimator.lower() == "plsc",
                                    permutations=permutations, bootstrap=bootstrap, seed=seed,
                                    missing=missing, group_equal=group_equal,
                                    group_partial=group_partial, weights=weights)
            print_pls_groups(groups)
            if json_path is not None:
                write_json(json_path, groups.to_dict())
            return
        if estimator.lower() in ("pls", "plsc"):
            from satisfaction.commands.pls_output import parse_scale

            check_choice("--ci", ci, ("perc", "bca"))
            check_choice("--missing", missing, ("listwise", "mean"))
            check_at_least("--folds", folds, 2)
            check_at_least("--repeats", repeats, 1)
            check_at_least("--omission", omission, 2)
            if bootstrap < 0:  # before --scale is read, as before any data
                raise UsageError("must be 0 or a positive number of draws",
                                 column="--bootstrap", value=bootstrap)
            assessed = api.pls(model, responses, consistent=estimator.lower() == "plsc",
                               missing=missing, hoc=hoc, bootstrap=bootstrap, seed=seed, ci=ci,
                               predict=predict, folds=folds or 10, repeats=repeats or 10,
                               omission=omission or 7, ipma_target=ipma_target,
                               scale=parse_scale(scale), weights=weights)
            print_pls(assessed, ci)
            if json_path is not None:
                write_json(json_path, assessed.to_dict())
            return
        if bootstrap < 0:
            raise UsageError("must be 0 or a positive number of draws", column="--bootstrap",
                             value=bootstrap)
        if missing not in ("listwise", "fiml") and not (
                missing == "pairwise" and (ordered or ordinal)):
            raise UsageError("expected listwise or fiml (pairwise with --ordered)",
                             column="--missing", value=missing)
        if ci not in ("perc", "bca", "bca.simple"):
            raise UsageError("expected perc, bca or bca.simple", column="--ci", value=ci)
        if (show_modindices or scores is not None) and (ordered or ordinal):
            raise UsageError("not available with ordered items (WLSMV) yet",
                             column="--modindices" if show_modindices else "--scores")
        if scores_method.lower() not in ("regression", "bartlett"):
            raise UsageError("--scores-method must be 'regression' or 'bartlett'",
                             value=scores_method)
        result = api.fit(model, responses, estimator=estimator.lower(), weights=weights,
                         modindices=show_modindices,
                         scores=scores_method.lower() if scores is not None else None,
                         missing=missing, bootstrap=bootstrap, seed=seed, group=group,
                         n_jobs=jobs, ci=ci, ordered=_listed(ordered) or None,
                         group_equal=_listed(group_equal), group_partial=_listed(group_partial),
                         progress=sys.stderr.isatty() if progress is None else progress)
        log = result.data_quality
        if log is not None:
            console.print(f"Respondents: {log.loaded} loaded, {log.analysed} passed the "
                          f"data-quality screens, {result.n} analysed")
        print_summary(result)
        if result.modindices is not None:
            print_modindices(result.modindices)
        if scores is not None:
            write_scores(scores, result.scores, scores_method.lower())
        if json_path is not None:
            write_json(json_path, result.to_dict())
