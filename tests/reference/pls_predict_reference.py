"""A second, deliberately naive Q² (blindfolding) and PLSpredict, written from the papers.

Independent of ``satisfaction.pls_predict`` and ``satisfaction.pls``: every
estimate comes from the loop implementation ``naive_pls`` of
``pls_reference.py``; omission, mean replacement, standardization, predictions
and error sums are written cell by cell in plain loops; the linear-model
benchmark is one least-squares fit (with an intercept) per indicator.

Rules (module docstring of ``satisfaction/pls_predict.py``; Tenenhaus et al.
2005, §3.3; Hair et al. 2017, ch. 6; Shmueli et al. 2016, 2019):

- blindfolding: the block's data points numbered down the columns, point ``t``
  omitted in round ``t mod D``, omitted points replaced by the mean of the kept
  ones, the model re-estimated, ``x̂ = m + s · λ · Σ β_i Y_i`` from the
  predecessors' scores; ``Q² = 1 − SSE/SSO`` with ``SSO`` about ``m``;
- PLSpredict: per repetition one ``default_rng(seed).permutation`` cut by
  ``numpy.array_split`` into folds; training means and standard deviations
  (divisor ``n − 1``) standardize the held-out rows; EA predicts every
  endogenous score from the predicted scores of its predecessors, DA from the
  held-out rows' own scores; the LM regresses each endogenous indicator on the
  indicators of the exogenous constructs (EA) or of the direct antecedents (DA);
  the prediction of a respondent is its mean over the repetitions.

Run ``python tests/reference/pls_predict_reference.py`` to rewrite
``pls_predict_reference.json`` (the ECSI model on the 1-10 mobi data).
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.reference.pls_reference import (
    ECSI_BLOCKS,
    ECSI_PATHS,
    mobi_1_10,
    naive_pls,
)

HERE = Path(__file__).parent


def _mean(v: list[float]) -> float:
    return sum(v) / len(v)


def _sd(v: list[float]) -> float:
    m = _mean(v)
    return math.sqrt(sum((a - m) ** 2 for a in v) / (len(v) - 1))


def _fit(data: pd.DataFrame, blocks: dict, paths: list) -> dict:
    return naive_pls(data, blocks, dict.fromkeys(blocks, "A"), paths, "path", tol=1e-12)


def _scores(data: pd.DataFrame, blocks: dict, fit: dict, mean: dict, sd: dict) -> dict:
    """Scores of every row of ``data`` from the fit's weights and the given mean/sd."""
    out = {}
    for c, items in blocks.items():
        out[c] = [sum(fit["weights"][f"{c}|{x}"] * (row[x] - mean[x]) / sd[x] for x in items)
                  for _, row in data.iterrows()]
    return out


def naive_blindfolding(data: pd.DataFrame, blocks: dict, paths: list, d: int) -> dict:
    n = len(data)
    out = {}
    for j, items in blocks.items():
        preds = [a for a, b in paths if b == j]
        if not preds:
            continue
        sse = sso = 0.0
        for rnd in range(d):
            blind = data.copy()
            omitted = []
            for k, x in enumerate(items):
                for r in range(n):
                    if (k * n + r) % d == rnd and not math.isnan(data[x].iloc[r]):
                        omitted.append((r, x))
            cols = [x for c in blocks for x in blocks[c]]
            gone = set(omitted)
            for x in cols:  # mean replacement of the omitted and of the empty cells
                kept = [blind[x].iloc[r] for r in range(n)
                        if (r, x) not in gone and not math.isnan(blind[x].iloc[r])]
                fill = _mean(kept)
                for r in range(n):
                    if (r, x) in gone or math.isnan(blind[x].iloc[r]):
                        blind.iloc[r, blind.columns.get_loc(x)] = fill
            fit = _fit(blind, blocks, paths)
            mean = {x: _mean(list(blind[x])) for x in cols}
            sd = {x: _sd(list(blind[x])) for x in cols}
            scores = _scores(blind, blocks, fit, mean, sd)
            for r, x in omitted:
                y_hat = sum(fit["paths"][f"{i}->{j}"] * scores[i][r] for i in preds)
                x_hat = mean[x] + sd[x] * fit["loadings"][f"{j}|{x}"] * y_hat
                sse += (data[x].iloc[r] - x_hat) ** 2
                sso += (data[x].iloc[r] - mean[x]) ** 2
        out[j] = 1 - sse / sso
    return out


def naive_plspredict(data: pd.DataFrame, blocks: dict, paths: list, folds: int,
                     repeats: int, seed: int, technique: str) -> dict:
    n = len(data)
    names = list(blocks)
    endo = [c for c in names if any(b == c for _, b in paths)]
    exo = [c for c in names if c not in endo]
    items = [x for c in endo for x in blocks[c]]
    sums = {key: {x: [0.0] * n for x in items} for key in ("pls", "lm", "naive")}
    rng = np.random.default_rng(seed)
    for _ in range(repeats):
        order = rng.permutation(n)
        for test in np.array_split(order, folds):
            test_set = {int(t) for t in test}
            train = [r for r in range(n) if r not in test_set]
            tr = data.iloc[train].copy()
            cols = [x for c in names for x in blocks[c]]
            for x in cols:  # training means replace the empty cells of both sets
                answered = [v for v in tr[x] if not math.isnan(v)]
                tr[x] = [_mean(answered) if math.isnan(v) else v for v in tr[x]]
            fit = _fit(tr, blocks, paths)
            mean = {x: _mean(list(tr[x])) for x in cols}
            sd = {x: _sd(list(tr[x])) for x in cols}
            te = data.iloc[list(test)].copy()
            for x in cols:
                te[x] = [mean[x] if math.isnan(v) else v for v in te[x]]
            own = _scores(te, blocks, fit, mean, sd)
            pred = {c: list(own[c]) for c in exo}
            remaining = list(endo)
            while remaining:  # causal order
                for c in list(remaining):
                    preds = [a for a, b in paths if b == c]
                    if all(p in pred for p in preds):
                        src = pred if technique == "EA" else own
                        pred[c] = [sum(fit["paths"][f"{p}->{c}"] * src[p][i] for p in preds)
                                   for i in range(len(test))]
                        remaining.remove(c)
            for c in endo:
                preds = [a for a, b in paths if b == c]
                sources = exo if technique == "EA" else preds
                xs = [x for s in sources for x in blocks[s]]
                design = np.column_stack([np.ones(len(tr))] + [tr[x].to_numpy() for x in xs])
                for x in blocks[c]:
                    coef = np.linalg.lstsq(design, tr[x].to_numpy(), rcond=None)[0]
                    for i, r in enumerate(test):
                        sums["pls"][x][r] += (mean[x] + sd[x] * fit["loadings"][f"{c}|{x}"]
                                              * pred[c][i])
                        sums["lm"][x][r] += coef[0] + sum(
                            b * te[v].iloc[i] for b, v in zip(coef[1:], xs, strict=True))
                        sums["naive"][x][r] += mean[x]
    out = {}
    for x in items:
        y = list(data[x])
        seen = [r for r in range(n) if not math.isnan(y[r])]
        hat = {k: [v / repeats for v in sums[k][x]] for k in sums}
        sso = sum((y[r] - hat["naive"][r]) ** 2 for r in seen)
        row = {"n": len(seen)}
        for k, prefix in (("pls", ""), ("lm", "lm_")):
            e = [y[r] - hat[k][r] for r in seen]
            row[prefix + "q2_predict"] = 1 - sum(v * v for v in e) / sso
            row[prefix + "rmse"] = math.sqrt(sum(v * v for v in e) / len(seen))
            row[prefix + "mae"] = sum(abs(v) for v in e) / len(seen)
        out[x] = row
    return out


#: A smaller model for the case with missing answers (mean replacement).
SMALL_BLOCKS = {c: ECSI_BLOCKS[c] for c in ("Image", "Expectation", "Satisfaction", "Loyalty")}
SMALL_PATHS = [("Image", "Expectation"), ("Image", "Satisfaction"),
               ("Expectation", "Satisfaction"), ("Satisfaction", "Loyalty")]


def with_holes(data: pd.DataFrame) -> pd.DataFrame:
    """The data with empty cells planted: every 17th respondent's sat2, every 23rd's
    ima3 and loy1 (from the 5th on), respondent 8's whole Expectation block."""
    d = data.copy().astype({c: float for c in data.columns if c != "respondent"})
    d.loc[d.index[::17], "sat2"] = np.nan
    d.loc[d.index[4::23], ["ima3", "loy1"]] = np.nan
    d.loc[d.index[8], ["exp1", "exp2", "exp3"]] = np.nan
    return d


def main() -> None:
    data = mobi_1_10()
    cases = {"blindfolding_d7": naive_blindfolding(data, ECSI_BLOCKS, ECSI_PATHS, 7),
             "blindfolding_d9": naive_blindfolding(data, ECSI_BLOCKS, ECSI_PATHS, 9)}
    for technique in ("EA", "DA"):
        cases[f"plspredict_{technique}_k5_r2_seed7"] = naive_plspredict(
            data, ECSI_BLOCKS, ECSI_PATHS, 5, 2, 7, technique)
    holes = with_holes(data)
    cases["small_missing_blindfolding_d7"] = naive_blindfolding(holes, SMALL_BLOCKS,
                                                                SMALL_PATHS, 7)
    cases["small_missing_plspredict_EA_k4_r2_seed3"] = naive_plspredict(
        holes, SMALL_BLOCKS, SMALL_PATHS, 4, 2, 3, "EA")
    out = {"source": "tests/reference/pls_predict_reference.py (naive loops over naive_pls, "
                     "tol 1e-12) on the mobi data recovered at 1-10 from "
                     "/work/shared/data/ecsi_mobile.csv",
           "cases": cases}
    (HERE / "pls_predict_reference.json").write_text(
        json.dumps(out, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
