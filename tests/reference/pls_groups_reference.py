"""A second, deliberately naive MICOM and PLS multi-group analysis.

Independent of ``satisfaction.pls_groups`` and ``satisfaction.pls``: every PLS
fit is :func:`tests.reference.pls_reference.naive_pls` (data-based loops, least
squares on score vectors) on the rows of the group, and everything after it is
done on score vectors in plain Python loops:

- MICOM step 2 (Henseler, Ringle & Sarstedt 2016, International Marketing
  Review 33(3), 405-431): the pooled indicators are standardized with the
  ``n − 1`` standard deviation, each group's weights build a score vector on
  the pooled rows, ``c`` is the Pearson correlation of the two score vectors;
  the reference distribution repeats this for the permuted groups; the decision
  compares ``c`` with the ``alpha`` quantile;
- MICOM step 3: naive PLS on the pooled rows, its scores split by (permuted)
  group, the difference of the means and of the log variances;
- quantiles by R's type 7 rule written out (sort, ``h = (N − 1)p``, linear
  interpolation); p-values by counting;
- the permutation test of a path (Chin & Dibbern 2010): the share of
  permutations whose absolute group difference reaches the observed one;
- PLS-MGA (Henseler, Ringle & Sinkovics 2009; centring of Sarstedt, Henseler &
  Ringle 2011): each draw centred on its group's estimate, then a double loop
  over every pair of draws counting ``θ_b > θ_a`` (ties 1/2).

The permutations are given (a list of index lists over the pooled rows, group
*a* first), so that the tests feed both implementations the same ones.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from tests.reference.pls_reference import naive_pls


def _mean(v: list[float]) -> float:
    return sum(v) / len(v)


def _var(v: list[float]) -> float:
    m = _mean(v)
    return sum((a - m) ** 2 for a in v) / (len(v) - 1)


def _cor(a: list[float], b: list[float]) -> float:
    ma, mb = _mean(a), _mean(b)
    num = sum((x - ma) * (y - mb) for x, y in zip(a, b, strict=True))
    return num / math.sqrt(sum((x - ma) ** 2 for x in a) * sum((y - mb) ** 2 for y in b))


def quantile7(values: list[float], p: float) -> float:
    """R's ``quantile(type = 7)``: ``h = (N − 1)p``, linear between order statistics."""
    v = sorted(values)
    h = (len(v) - 1) * p
    lo = math.floor(h)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (h - lo) * (v[hi] - v[lo])


def _scores(data: pd.DataFrame, blocks: dict[str, list[str]], weights: dict[str, float]
            ) -> dict[str, list[float]]:
    """Composite scores on ``data`` standardized (n − 1) over its own rows."""
    x = {}
    for items in blocks.values():
        for item in items:
            col = [float(v) for v in data[item]]
            m, s = _mean(col), math.sqrt(_var(col))
            x[item] = [(v - m) / s for v in col]
    out = {}
    for c, items in blocks.items():
        out[c] = [sum(weights[f"{c}|{item}"] * x[item][r] for item in items)
                  for r in range(len(data))]
    return out


def naive_mga_probability(draws_a: list[float], draws_b: list[float], est_a: float,
                          est_b: float) -> float:
    """``Pr(θ_a ≤ θ_b)`` by a double loop over the centred draws."""
    ca = [v - _mean(draws_a) + est_a for v in draws_a]
    cb = [v - _mean(draws_b) + est_b for v in draws_b]
    count = 0.0
    for va in ca:
        for vb in cb:
            if vb > va:
                count += 1.0
            elif vb == va:
                count += 0.5
    return count / (len(ca) * len(cb))


def naive_compare(data_a: pd.DataFrame, data_b: pd.DataFrame, blocks: dict[str, list[str]],
                  modes: dict[str, str], paths: list[tuple[str, str]],
                  perms: list[list[int]], alpha: float = 0.05, tol: float = 1e-10) -> dict:
    """MICOM (steps 2-3, verdicts) and the permutation p-values of the paths."""
    pooled = pd.concat([data_a, data_b], ignore_index=True)
    n_a = len(data_a)
    fit_a = naive_pls(data_a, blocks, modes, paths, tol=tol)
    fit_b = naive_pls(data_b, blocks, modes, paths, tol=tol)
    fit_p = naive_pls(pooled, blocks, modes, paths, tol=tol)
    sa = _scores(pooled, blocks, fit_a["weights"])
    sb = _scores(pooled, blocks, fit_b["weights"])
    y = _scores(pooled, blocks, fit_p["weights"])
    names = list(blocks)
    c_obs = {c: _cor(sa[c], sb[c]) for c in names}

    def split(values: list[float], rows: list[int]) -> tuple[list[float], list[float]]:
        return [values[r] for r in rows[:n_a]], [values[r] for r in rows[n_a:]]

    identity = list(range(len(pooled)))
    mean_obs, logvar_obs = {}, {}
    for c in names:
        a, b = split(y[c], identity)
        mean_obs[c] = _mean(a) - _mean(b)
        logvar_obs[c] = math.log(_var(a)) - math.log(_var(b))
    c_u: dict[str, list[float]] = {c: [] for c in names}
    mean_u: dict[str, list[float]] = {c: [] for c in names}
    logvar_u: dict[str, list[float]] = {c: [] for c in names}
    diff_u: dict[str, list[float]] = {k: [] for k in fit_a["paths"]}
    for rows in perms:
        ga = pooled.iloc[rows[:n_a]].reset_index(drop=True)
        gb = pooled.iloc[rows[n_a:]].reset_index(drop=True)
        fa = naive_pls(ga, blocks, modes, paths, tol=tol)
        fb = naive_pls(gb, blocks, modes, paths, tol=tol)
        ua = _scores(pooled, blocks, fa["weights"])
        ub = _scores(pooled, blocks, fb["weights"])
        for c in names:
            c_u[c].append(_cor(ua[c], ub[c]))
            a, b = split(y[c], rows)
            mean_u[c].append(_mean(a) - _mean(b))
            logvar_u[c].append(math.log(_var(a)) - math.log(_var(b)))
        for k in diff_u:
            diff_u[k].append(fa["paths"][k] - fb["paths"][k])
    micom = {}
    for c in names:
        q = quantile7(c_u[c], alpha)
        c_p = sum(1 for v in c_u[c] if v <= c_obs[c]) / len(perms)
        if len(blocks[c]) == 1:  # a single item: c = 1 by definition (here 1 up to rounding)
            q, c_p = 1.0, 1.0
        lo, hi = quantile7(mean_u[c], alpha / 2), quantile7(mean_u[c], 1 - alpha / 2)
        vlo, vhi = quantile7(logvar_u[c], alpha / 2), quantile7(logvar_u[c], 1 - alpha / 2)
        compositional = c_obs[c] >= q or len(blocks[c]) == 1
        mean_equal = lo <= mean_obs[c] <= hi
        var_equal = vlo <= logvar_obs[c] <= vhi
        verdict = "no" if not compositional else (
            "full" if mean_equal and var_equal else "partial")
        micom[c] = {
            "c": c_obs[c], "c.quantile": q,
            "c.p": c_p,
            "compositional": compositional,
            "mean.diff": mean_obs[c], "mean.lower": lo, "mean.upper": hi,
            "mean.p": sum(1 for v in mean_u[c] if abs(v) >= abs(mean_obs[c])) / len(perms),
            "logvar.diff": logvar_obs[c], "logvar.lower": vlo, "logvar.upper": vhi,
            "logvar.p": sum(1 for v in logvar_u[c] if abs(v) >= abs(logvar_obs[c]))
            / len(perms),
            "invariance": verdict}
    tests = {}
    for k in fit_a["paths"]:
        d = fit_a["paths"][k] - fit_b["paths"][k]
        tests[k] = {"est.a": fit_a["paths"][k], "est.b": fit_b["paths"][k], "diff": d,
                    "p.permutation": sum(1 for v in diff_u[k] if abs(v) >= abs(d))
                    / len(perms)}
    return {"micom": micom, "paths": tests, "c_u": c_u}


def as_lists(perms: np.ndarray) -> list[list[int]]:
    """Permutation rows as plain lists."""
    return [[int(v) for v in row] for row in perms]
