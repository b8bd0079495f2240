"""A second, deliberately naive PLS-PM, written from the textbook formulas.

Independent of ``satisfaction.pls``: it works on the data (not on correlation
matrices), one construct at a time in plain loops, with every regression done by
least squares on the score vectors (``numpy.linalg.lstsq`` with an intercept),
and total effects by enumerating every directed path of the inner model and
summing the products of its coefficients (not by a matrix inverse).

Formulas (Tenenhaus, Esposito Vinzi, Chatelin & Lauro 2005, CSDA 48, 159-205,
sections 2.2-2.4; Lohmöller 1989):

- indicators ``x`` standardized: ``(x - mean) / sd`` with divisor ``n - 1``;
- outer estimate ``y_j = Σ_k w_jk x_jk`` rescaled to standard deviation 1;
- inner estimate ``z_j = Σ_i e_ji y_i`` over constructs ``i`` adjacent to ``j``,
  with ``e_ji`` = sign(cor) (centroid), cor (factorial), or (path) the
  multiple-regression coefficient of ``y_j`` on its predecessors for a
  predecessor, cor for a successor;
- Mode A: ``w_jk`` = the slope of the simple regression of ``x_jk`` on ``z_j``;
  Mode B: ``w_j`` = the coefficients of the multiple regression of ``z_j`` on
  the block;
- stop when Σ |Δw| < tol; reflect a block whose loadings sum below zero.

``naive_plsc`` adds consistent PLS (Dijkstra & Henseler 2015, MIS Quarterly
39(2), 297-316) on top of the naive weights, again in loops: ``ρA`` from its
double sum over item pairs, the score correlations from the score vectors,
each divided by ``sqrt(ρA_i ρA_j)``, consistent loadings
``sqrt(ρA) w / Σw²``, paths from the normal equations of the corrected
correlations, total effects by path enumeration.

Run ``python tests/reference/pls_reference.py`` to rewrite ``pls_reference.json``
(results for the ECSI mobile-phone model under each inner scheme, and with
Mode B blocks). The data are the ``mobi`` data on their original 1-10 scale,
recovered from ``ecsi_mobile.csv`` as ``round(x * 9 / 100 + 1)``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).parent
DATA = Path("/work/shared/data/ecsi_mobile.csv")


def _sd(v: np.ndarray) -> float:
    m = sum(v) / len(v)
    return math.sqrt(sum((a - m) ** 2 for a in v) / (len(v) - 1))


def _cor(a: np.ndarray, b: np.ndarray) -> float:
    ma, mb = a.mean(), b.mean()
    num = sum((x - ma) * (y - mb) for x, y in zip(a, b, strict=True))
    return float(num / (len(a) - 1) / (_sd(a) * _sd(b)))


def _ols(y: np.ndarray, xs: list[np.ndarray]) -> list[float]:
    """Slopes of the least-squares regression of y on xs (with an intercept)."""
    design = np.column_stack([np.ones(len(y)), *xs])
    coef = np.linalg.lstsq(design, y, rcond=None)[0]
    return [float(c) for c in coef[1:]]


def naive_pls(data: pd.DataFrame, blocks: dict[str, list[str]], modes: dict[str, str],
              paths: list[tuple[str, str]], scheme: str = "path", tol: float = 1e-7,
              max_iter: int = 300) -> dict:
    """PLS-PM in plain loops; returns weights, loadings, paths, r2, total effects."""
    names = list(blocks)
    x = {}
    for c in names:
        for item in blocks[c]:
            v = data[item].to_numpy(dtype=float)
            x[item] = (v - sum(v) / len(v)) / _sd(v)
    w = {c: [1.0] * len(blocks[c]) for c in names}

    def score(c: str, weights: list[float]) -> np.ndarray:
        y = sum(wk * x[item] for wk, item in zip(weights, blocks[c], strict=True))
        return y / _sd(y)

    def scaled(c: str, weights: list[float]) -> list[float]:
        y = sum(wk * x[item] for wk, item in zip(weights, blocks[c], strict=True))
        s = _sd(y)
        return [wk / s for wk in weights]

    w = {c: scaled(c, w[c]) for c in names}
    converged, iterations = False, 0
    for it in range(1, max_iter + 1):
        y = {c: score(c, w[c]) for c in names}
        new = {}
        for j in names:
            preds = [a for a, b in paths if b == j]
            succs = [b for a, b in paths if a == j]
            z = np.zeros(len(y[j]))
            if scheme == "path":
                if preds:
                    coef = _ols(y[j], [y[i] for i in preds])
                    for i, e in zip(preds, coef, strict=True):
                        z = z + e * y[i]
                for k in succs:
                    z = z + _cor(y[j], y[k]) * y[k]
            else:
                for i in preds + succs:
                    r = _cor(y[j], y[i])
                    z = z + (math.copysign(1.0, r) if scheme == "centroid" else r) * y[i]
            if modes[j] == "A" or len(blocks[j]) == 1:
                raw = [_ols(x[item], [z])[0] for item in blocks[j]]
            else:
                raw = _ols(z, [x[item] for item in blocks[j]])
            new[j] = scaled(j, raw)
        change = sum(abs(a - b) for c in names for a, b in zip(new[c], w[c], strict=True))
        w, iterations = new, it
        if change < tol:
            converged = True
            break
    for c in names:
        y_c = score(c, w[c])
        if sum(_cor(x[item], y_c) for item in blocks[c]) < 0:
            w[c] = [-a for a in w[c]]
    y = {c: score(c, w[c]) for c in names}
    out: dict = {"iterations": iterations, "converged": converged, "weights": {},
                 "loadings": {}, "paths": {}, "r2": {}, "total": {}}
    for c in names:
        for item, wk in zip(blocks[c], w[c], strict=True):
            out["weights"][f"{c}|{item}"] = wk
            out["loadings"][f"{c}|{item}"] = _cor(x[item], y[c])
    beta = {}
    for j in names:
        preds = [a for a, b in paths if b == j]
        if not preds:
            continue
        coef = _ols(y[j], [y[i] for i in preds])
        fitted = sum(e * y[i] for i, e in zip(preds, coef, strict=True))
        resid = y[j] - fitted
        out["r2"][j] = 1 - float(sum(resid**2) / sum((y[j] - y[j].mean()) ** 2))
        for i, e in zip(preds, coef, strict=True):
            beta[(i, j)] = e
            out["paths"][f"{i}->{j}"] = e

    def walks(a: str, b: str) -> list[list[str]]:
        if a == b:
            return [[b]]
        return [[a, *rest] for s, t in paths if s == a for rest in walks(t, b)]

    for a in names:
        for b in names:
            if a != b:
                found = walks(a, b)
                if found:
                    out["total"][f"{a}->{b}"] = sum(
                        math.prod(beta[(p[k], p[k + 1])] for k in range(len(p) - 1))
                        for p in found)
    return out


def _walk_totals(names: list[str], paths: list[tuple[str, str]],
                 beta: dict[tuple[str, str], float]) -> dict[str, float]:
    def walks(a: str, b: str) -> list[list[str]]:
        if a == b:
            return [[b]]
        return [[a, *rest] for s, t in paths if s == a for rest in walks(t, b)]

    out = {}
    for a in names:
        for b in names:
            if a != b:
                found = walks(a, b)
                if found:
                    out[f"{a}->{b}"] = sum(
                        math.prod(beta[(p[k], p[k + 1])] for k in range(len(p) - 1))
                        for p in found)
    return out


def naive_plsc(data: pd.DataFrame, blocks: dict[str, list[str]], modes: dict[str, str],
               paths: list[tuple[str, str]], scheme: str = "path", tol: float = 1e-7) -> dict:
    """Consistent PLS from the naive PLS weights; returns rho, paths, r2, loadings, total."""
    base = naive_pls(data, blocks, modes, paths, scheme, tol)
    names = list(blocks)
    x = {}
    for c in names:
        for item in blocks[c]:
            v = data[item].to_numpy(dtype=float)
            x[item] = (v - v.mean()) / _sd(v)
    w = {c: [base["weights"][f"{c}|{i}"] for i in blocks[c]] for c in names}
    y = {c: sum(wk * x[i] for wk, i in zip(w[c], blocks[c], strict=True)) for c in names}
    rho = {}
    for c in names:
        items = blocks[c]
        if modes[c] != "A" or len(items) == 1:
            rho[c] = 1.0
            continue
        num = den = 0.0
        for a in range(len(items)):
            for b in range(len(items)):
                if a != b:
                    num += w[c][a] * w[c][b] * _cor(x[items[a]], x[items[b]])
                    den += (w[c][a] * w[c][b]) ** 2
        rho[c] = sum(v * v for v in w[c]) ** 2 * num / den
    rstar = {(a, b): 1.0 if a == b else _cor(y[a], y[b]) / math.sqrt(rho[a] * rho[b])
             for a in names for b in names}
    out: dict = {"iterations": base["iterations"], "rho": rho, "paths": {}, "r2": {},
                 "loadings": {}, "weights": base["weights"]}
    for c in names:
        ww = sum(v * v for v in w[c])
        for item, wk in zip(blocks[c], w[c], strict=True):
            corrected = modes[c] == "A" and len(blocks[c]) > 1
            out["loadings"][f"{c}|{item}"] = (math.sqrt(rho[c]) * wk / ww if corrected
                                              else base["loadings"][f"{c}|{item}"])
    beta = {}
    for j in names:
        preds = [a for a, b in paths if b == j]
        if not preds:
            continue
        A = np.array([[rstar[(a, b)] for b in preds] for a in preds])
        r = np.array([rstar[(a, j)] for a in preds])
        coef = np.linalg.solve(A, r)
        out["r2"][j] = float(sum(c * v for c, v in zip(coef, r, strict=True)))
        for i, e in zip(preds, coef, strict=True):
            beta[(i, j)] = float(e)
            out["paths"][f"{i}->{j}"] = float(e)
    out["total"] = _walk_totals(names, paths, beta)
    return out


ECSI_BLOCKS = {
    "Image": ["ima1", "ima2", "ima3", "ima4", "ima5"],
    "Expectation": ["exp1", "exp2", "exp3"],
    "Quality": ["qua1", "qua2", "qua3", "qua4", "qua5", "qua6", "qua7"],
    "Value": ["val1", "val2"],
    "Satisfaction": ["sat1", "sat2", "sat3"],
    "Complaints": ["comp"],
    "Loyalty": ["loy1", "loy2", "loy3"],
}
ECSI_PATHS = [("Image", "Expectation"), ("Expectation", "Quality"), ("Expectation", "Value"),
              ("Quality", "Value"), ("Image", "Satisfaction"), ("Expectation", "Satisfaction"),
              ("Quality", "Satisfaction"), ("Value", "Satisfaction"),
              ("Satisfaction", "Complaints"), ("Image", "Loyalty"),
              ("Satisfaction", "Loyalty"), ("Complaints", "Loyalty")]


def ecsi_syntax(formative: tuple[str, ...] = ()) -> str:
    """The ECSI model in lavaan syntax (``<~`` for the constructs in ``formative``)."""
    lines = [f"{c} {'<~' if c in formative else '=~'} " + " + ".join(items)
             for c, items in ECSI_BLOCKS.items()]
    for to in ECSI_BLOCKS:
        preds = [a for a, b in ECSI_PATHS if b == to]
        if preds:
            lines.append(f"{to} ~ " + " + ".join(preds))
    return "\n".join(lines) + "\n"


def mobi_1_10(path: Path = DATA) -> pd.DataFrame:
    """The mobi data on their original 1-10 scale (the CSV holds them as 0-100, rounded)."""
    d = pd.read_csv(path)
    items = [c for c in d.columns if c != "respondent"]
    d[items] = (d[items] * 9 / 100 + 1).round()
    return d


def main() -> None:
    data = mobi_1_10()
    cases = {}
    for scheme in ("path", "factorial", "centroid"):
        cases[f"ecsi_{scheme}"] = {
            "scheme": scheme, "formative": [],
            **naive_pls(data, ECSI_BLOCKS, dict.fromkeys(ECSI_BLOCKS, "A"), ECSI_PATHS,
                        scheme, tol=1e-12)}
    formative = ("Image", "Quality")
    modes = {c: "B" if c in formative else "A" for c in ECSI_BLOCKS}
    cases["ecsi_modeB_path"] = {"scheme": "path", "formative": list(formative),
                                **naive_pls(data, ECSI_BLOCKS, modes, ECSI_PATHS, "path",
                                            tol=1e-12)}
    for scheme in ("path", "factorial"):
        cases[f"ecsi_plsc_{scheme}"] = {
            "scheme": scheme, "formative": [], "consistent": True,
            **naive_plsc(data, ECSI_BLOCKS, dict.fromkeys(ECSI_BLOCKS, "A"), ECSI_PATHS,
                         scheme, tol=1e-12)}
    cases["ecsi_plsc_modeB_path"] = {
        "scheme": "path", "formative": list(formative), "consistent": True,
        **naive_plsc(data, ECSI_BLOCKS, modes, ECSI_PATHS, "path", tol=1e-12)}
    out = {"source": "tests/reference/pls_reference.py (naive PLS-PM, tol 1e-12) on the mobi "
                     "data recovered at 1-10 from /work/shared/data/ecsi_mobile.csv",
           "cases": cases}
    (HERE / "pls_reference.json").write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
