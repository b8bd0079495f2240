"""``fit --estimator pls --group COL``: PLS per group, MICOM and path differences, printed.

Called by the ``fit`` command (:mod:`satisfaction.commands.fit`); the analysis is
:func:`satisfaction.api.pls_groups` (:func:`satisfaction.pls_groups.pls_groups`).
"""

from __future__ import annotations

import pandas as pd
from rich.markup import escape
from rich.table import Table

from satisfaction.commands import make_console

console = make_console()

def _fmt(value: float | None, digits: int = 3) -> str:
    if value is None or pd.isna(value):
        return "NA"
    return f"{value:.{digits}f}"


def _p(value: float, runs: int) -> str:
    """A permutation p-value; 0 is shown as below one permutation's share."""
    if value == 0 and runs:
        return f"< {1 / runs:.3f}"
    return _fmt(value)


def _yes(flag: bool) -> str:
    return "yes" if flag else "[red]no[/red]"


def print_pls_groups(result) -> None:
    """Per-group paths, MICOM per pair and construct, and the path differences."""
    kind = "Consistent PLS (PLSc)" if result.settings.get("consistent") else "PLS"
    if result.settings.get("weighted"):
        kind = f"Weighted {kind} (respondent weights)"
    sizes = ", ".join(f"{escape(g)} n = {result.fits[g].n}" for g in result.labels)
    t = Table(title=f"{kind} path coefficients by {escape(result.column)} ({sizes})")
    t.add_column("path")
    for g in result.labels:
        t.add_column(escape(g), justify="right")
    for row in result.group_paths().to_dict("records"):
        t.add_row(escape(f"{row['from']} -> {row['to']}"), *[_fmt(row[g]) for g in result.labels])
    console.print(t)
    s = result.settings
    if result.pairwise:
        console.print(f"{len(result.labels)} groups: compared pairwise ({len(result.pairs)} "
                      "pairs), with no adjustment for multiple testing.")
    for pair in result.pairs:
        title = f"{escape(pair.a)} (n = {pair.n_a}) vs {escape(pair.b)} (n = {pair.n_b})"
        runs = pair.permutations - pair.permutations_failed
        m = Table(title=f"MICOM, {title}: {runs} permutations (seed {s['seed']})")
        for c in ("construct", "configural", "c", f"{s['alpha']:.0%} quantile", "compositional",
                  "Δmean [interval]", "equal", "Δlog var [interval]", "equal", "invariance"):
            m.add_column(escape(c), justify="left" if c in ("construct", "invariance")
                         else "right")
        for r in pair.micom.to_dict("records"):
            m.add_row(escape(r["construct"]), _yes(r["configural"]), _fmt(r["c"], 4),
                      _fmt(r["c.quantile"], 4), _yes(r["compositional"]),
                      f"{_fmt(r['mean.diff'])} [{_fmt(r['mean.lower'])}, "
                      f"{_fmt(r['mean.upper'])}]", _yes(r["mean.equal"]),
                      f"{_fmt(r['logvar.diff'])} [{_fmt(r['logvar.lower'])}, "
                      f"{_fmt(r['logvar.upper'])}]", _yes(r["var.equal"]), r["invariance"])
        console.print(m)
        d = Table(title=f"Path differences, {title}: permutation test and PLS-MGA "
                        f"({s['draws']} bootstrap draws per group)")
        for c in ("path", pair.a, pair.b, "difference", "p (permutation)",
                  f"Pr({pair.a} ≤ {pair.b})", "p (PLS-MGA)", "comparable"):
            d.add_column(escape(c), justify="left" if c == "path" else "right")
        for r in pair.paths.to_dict("records"):
            d.add_row(escape(f"{r['from']} -> {r['to']}"), _fmt(r["est.a"]), _fmt(r["est.b"]),
                      _fmt(r["diff"]), _p(r["p.permutation"], runs), _fmt(r["pr.a.le.b"]),
                      _fmt(r["p.mga"]), _yes(r["comparable"]))
        console.print(d)
    console.print("MICOM verdicts: full = the data may be pooled; partial = compare the "
                  "groups' paths, do not pool; no = do not compare paths involving the construct "
                  "('comparable' above); undetermined = no permutation succeeded. "
                  "p (PLS-MGA) is two-tailed.")
    excluded = {k: v for k, v in result.excluded.items() if v}
    if excluded:
        console.print("Respondents left out: " + ", ".join(
            f"{v} ({k.replace('_', ' ')})" for k, v in excluded.items()))
    labels = {"invalidates": "[red]invalidates:[/red]", "caution": "[yellow]caution:[/yellow]",
              "info": "note:"}
    for w in result.warnings:
        console.print(f"{labels[w.severity]} {escape(str(w))}")
