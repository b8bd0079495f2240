"""Predictive assessment of a PLS path model: Q² by blindfolding and PLSpredict.

Both re-estimate the model (:func:`satisfaction.pls.pls`, same scheme and
stopping rule) on part of the data and predict the rest. They judge the
composite model: a consistent (PLSc) fit is predicted from its PLS weights,
loadings and paths (SmartPLS runs both procedures on the PLS algorithm; the
diagnostic ``predict_composite`` says so).

Q² by blindfolding (Stone 1974; Geisser 1974; Tenenhaus, Esposito Vinzi,
Chatelin & Lauro 2005, CSDA 48, §3.3; Hair, Hult, Ringle & Sarstedt 2017, *A
Primer on PLS-SEM*, 2nd ed., ch. 6; SmartPLS 3's "construct cross-validated
redundancy")
---------------------------------------------------------------------------
For each endogenous construct ``j`` with a reflective (Mode A) or single-item
block, separately: number the data points of its block down the columns (the
``n`` respondents' answers to its first indicator, then to its second, …), point
``t`` (from 0) belonging to round ``t mod D`` (omission distance ``D``, default 7).
In round ``d`` the points of round ``d`` are deleted, replaced by the mean of
their indicator over the points kept (mean replacement) and the model is
re-estimated. With that round's estimates (standardized scores ``Y``, paths
``β``, loadings ``λ``) and that round's mean ``m_k`` and standard deviation
``s_k`` of each (mean-replaced) indicator, a deleted point ``x_rk`` is predicted
from the predecessors of ``j`` (cross-validated redundancy):

    ``x̂_rk = m_k + s_k · λ_kj · Σ_i β_ij Y_ri``.

Over all rounds, ``SSE = Σ (x − x̂)²`` and ``SSO = Σ (x − m_k)²`` over the deleted
points, and ``Q² = 1 − SSE/SSO``. Cells already missing in the data are
mean-replaced in every round and never predicted. The numbering is that of
semPLS's ``qSquared(dlines = FALSE)``; it is why ``n/D`` should not be a whole
number (Hair et al. 2017): otherwise each round deletes whole respondents, and a
caution (``omission_divides_n``) says so.

PLSpredict (Shmueli, Ray, Velasquez Estrada & Chatla 2016, J Business Research
69, 4552-4564; Shmueli, Sarstedt, Hair et al. 2019, European J Marketing 53,
2322-2347)
----------------------------------------------------------------------------
``K``-fold cross-validation (default 10 folds), repeated ``R`` times (default
10). In each repetition the respondents are shuffled
(``numpy.random.default_rng(seed).permutation``, one permutation per
repetition from the same generator) and cut into ``K`` consecutive folds of
sizes differing by at most one (``numpy.array_split``). For each fold the
model is estimated on the other folds (the training set); the held-out
respondents' indicators are standardized with the training means and standard
deviations (divisor ``n − 1``), their exogenous scores are ``X W`` with the
training weights, and the endogenous scores are predicted through the training
paths: with ``technique="EA"`` (earliest antecedents, Shmueli et al. 2016, as
SmartPLS) each endogenous score from the *predicted* scores of its
predecessors, in causal order; with ``"DA"`` (direct antecedents, seminr's
default) from the held-out respondents' own scores of its predecessors. Each
indicator ``k`` of an endogenous construct ``j`` is predicted as
``mean_k + sd_k · λ_kj · Ŷ_j`` (training mean, standard deviation, loading).

The linear-model (LM) benchmark regresses, on the training set by ordinary
least squares with an intercept, each endogenous indicator on the indicators of
the exogenous constructs (``EA``) or of the construct's direct antecedents
(``DA``) in their original units, and predicts the held-out respondents. The
naive benchmark of ``Q²_predict`` is the training mean.

Each respondent is predicted once per repetition; the reported prediction is
the mean over the repetitions (as seminr's ``predict_pls(reps = R)``). For each
endogenous indicator, over the respondents with an observed value:
``RMSE = sqrt(mean (y − ŷ)²)``, ``MAE = mean |y − ŷ|``,
``Q²_predict = 1 − Σ (y − ŷ)² / Σ (y − ȳ_train)²``, and the same for the LM.

Missing answers are treated as the fit treated them (``missing`` of
:func:`~satisfaction.pls.pls`): with mean replacement, a training set takes its
own means and a held-out respondent's empty cell the training mean.

Both are tested against a deliberately naive second implementation
(``tests/reference/pls_predict_reference.py``) and, for the LM benchmark with
one respondent per fold, against the leave-one-out identity
``e₍ᵢ₎ = eᵢ / (1 − hᵢᵢ)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from warnings import catch_warnings, simplefilter

import numpy as np
import pandas as pd

from satisfaction.diagnostics import Diagnostic
from satisfaction.errors import InputError
from satisfaction.pls import PLSModel, PLSResult, pls

TECHNIQUES: tuple[str, ...] = ("EA", "DA")


@dataclass
class BlindfoldingResult:
    """Q² by blindfolding.

    Attributes
    ----------
    q2 : DataFrame
        One row per endogenous reflective or single-item construct: ``sse``,
        ``sso``, ``q2``.
    omission : int
        The omission distance ``D``.
    warnings : list of Diagnostic
    """

    q2: pd.DataFrame
    omission: int
    warnings: list[Diagnostic] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for ``--json``: ``{construct: q2}`` and the omission distance."""
        return {"omission": self.omission,
                "constructs": {c: float(v) for c, v in self.q2["q2"].items()}}


@dataclass
class PredictResult:
    """PLSpredict: out-of-sample prediction errors per endogenous indicator.

    Attributes
    ----------
    items : DataFrame
        One row per indicator of an endogenous construct: ``construct``,
        ``indicator``, ``n`` (respondents with an observed value),
        ``q2_predict``, ``rmse``, ``mae``, ``lm_q2_predict``, ``lm_rmse``, ``lm_mae``.
    predictions, lm_predictions : DataFrame
        The cross-validated predictions (mean over the repetitions), indexed as
        the analysed respondents.
    folds, repeats, seed, technique
        The settings.
    warnings : list of Diagnostic
    """

    items: pd.DataFrame
    predictions: pd.DataFrame
    lm_predictions: pd.DataFrame
    folds: int
    repeats: int
    seed: int | None
    technique: str
    warnings: list[Diagnostic] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for ``--json``: the settings and one row per indicator."""
        return {"folds": self.folds, "repeats": self.repeats, "seed": self.seed,
                "technique": self.technique, "items": self.items.to_dict("records")}


# -- shared pieces ---------------------------------------------------------------

def _raw(result: PLSResult, data: pd.DataFrame) -> pd.DataFrame:
    """The analysed respondents' indicators as numbers (NaN where empty)."""
    cols = list(result.model.indicators)
    return data.loc[result.scores.index, cols].apply(pd.to_numeric, errors="coerce")


def _refit(result: PLSResult, data: pd.DataFrame, missing: str) -> PLSResult:
    s = result._settings
    return pls(result.model, data, scheme=result.scheme, tol=s["tol"], max_iter=s["max_iter"],
               missing=missing)


def _filled(frame: pd.DataFrame) -> pd.DataFrame:
    """Each empty cell given its column's mean over the answered cells."""
    return frame.fillna(frame.mean())


def _composite_note(result: PLSResult) -> list[Diagnostic]:
    return [Diagnostic("predict_composite", "info", {})] if result.consistent else []


def _causal_order(model: PLSModel) -> list[str]:
    """Constructs with every predecessor before them (the inner model is recursive)."""
    done: list[str] = []
    while len(done) < len(model.constructs):
        for c in model.constructs:
            if c not in done and all(p in done for p in model.predecessors(c)):
                done.append(c)
    return done


# -- Q² by blindfolding ------------------------------------------------------------

def blindfolding(result: PLSResult, data: pd.DataFrame, omission: int = 7
                 ) -> BlindfoldingResult:
    """Stone-Geisser Q² (cross-validated redundancy) of each endogenous construct.

    Parameters
    ----------
    result : PLSResult
        The fit whose model, scheme and stopping rule are re-estimated.
    data : DataFrame
        The data the fit was estimated on (its analysed rows are used).
    omission : int
        Omission distance ``D`` (2 or more; 5 to 12 is usual, 7 the default).

    Returns
    -------
    BlindfoldingResult
        ``Q² = 1 − SSE/SSO`` per construct (formulas in the module docstring).
        Formative (Mode B) endogenous constructs are not assessed. A round that
        does not converge leaves its construct without Q² (``blindfolding_failed``).
    """
    if not isinstance(omission, int) or omission < 2:
        raise InputError("the omission distance must be a whole number of 2 or more",
                         column="--omission", value=omission)
    m = result.model
    raw = _raw(result, data)
    n = len(raw)
    if omission >= n:
        raise InputError(f"the omission distance must be below the number of respondents ({n})",
                         column="--omission", value=omission)
    warnings = _composite_note(result)
    if n % omission == 0:
        warnings.append(Diagnostic("omission_divides_n", "caution", {"n": n, "d": omission}))
    rows = []
    for j in m.endogenous:
        if m.modes[j] != "A" and len(m.blocks[j]) > 1:
            continue
        block = list(m.blocks[j])
        observed = raw[block].notna().to_numpy()
        number = np.arange(n)[:, None] + n * np.arange(len(block))[None, :]
        preds = m.predecessors(j)
        sse = sso = 0.0
        ok = True
        for d in range(omission):
            omit = (number % omission == d) & observed
            if not omit.any():
                continue
            blind = raw.copy()
            values = blind[block].to_numpy(copy=True)
            values[omit] = np.nan
            blind[block] = values
            fit = _refit(result, blind, "mean")
            if not fit.converged:
                ok = False
                break
            filled = _filled(blind[block])
            mean = filled.mean().to_numpy()
            sd = filled.std(ddof=1).to_numpy()
            beta = fit.paths.set_index(["from", "to"])["est"]
            y_hat = sum(beta[(i, j)] * fit.scores[i].to_numpy() for i in preds)
            lam = fit.loadings.set_index("indicator").loc[block, "est"].to_numpy()
            x_hat = mean + sd * lam * np.asarray(y_hat)[:, None]
            x = raw[block].to_numpy()
            sse += float(((x - x_hat)[omit] ** 2).sum())
            sso += float(((x - mean)[omit] ** 2).sum())
        if not ok:
            warnings.append(Diagnostic("blindfolding_failed", "caution",
                                       {"construct": j, "round": d + 1}, constructs=(j,)))
            rows.append({"construct": j, "sse": np.nan, "sso": np.nan, "q2": np.nan})
            continue
        rows.append({"construct": j, "sse": sse, "sso": sso,
                     "q2": 1 - sse / sso if sso > 0 else np.nan})
    q2 = pd.DataFrame(rows, columns=["construct", "sse", "sso", "q2"]).set_index("construct")
    return BlindfoldingResult(q2, omission, warnings)


# -- PLSpredict ----------------------------------------------------------------------

def _ols_predict(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray) -> np.ndarray:
    """Least-squares predictions with an intercept (``numpy.linalg.lstsq``)."""
    a = np.column_stack([np.ones(len(x_train)), x_train])
    coef = np.linalg.lstsq(a, y_train, rcond=None)[0]
    return np.column_stack([np.ones(len(x_test)), x_test]) @ coef


def _predict_fold(result: PLSResult, raw: pd.DataFrame, train: np.ndarray, test: np.ndarray,
                  technique: str, missing: str
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """PLS, LM and training-mean predictions of the endogenous indicators of ``test``."""
    m = result.model
    fit = _refit(result, raw.iloc[train], missing)
    if not fit.converged:
        return None
    cols = list(m.indicators)
    tr = raw.iloc[train]
    if missing == "mean":
        tr = _filled(tr)
    mean, sd = tr.mean(), tr.std(ddof=1)
    te = raw.iloc[test].fillna(mean)
    z = ((te - mean) / sd).to_numpy()
    pos = {c: k for k, c in enumerate(cols)}
    scores = {}
    for c in m.constructs:
        w = fit.weights[fit.weights["construct"] == c]
        scores[c] = z[:, [pos[x] for x in w["indicator"]]] @ w["est"].to_numpy()
    beta = fit.paths.set_index(["from", "to"])["est"]
    predicted = dict(scores)
    for c in _causal_order(m):
        preds = m.predecessors(c)
        if preds:
            source = predicted if technique == "EA" else scores
            predicted[c] = sum(beta[(i, c)] * source[i] for i in preds)
    lam = fit.loadings.set_index("indicator")["est"]
    endo_items = [x for c in m.endogenous for x in m.blocks[c]]
    pls_hat = np.column_stack([
        mean[x] + sd[x] * lam[x] * predicted[c] for c in m.endogenous for x in m.blocks[c]])
    exogenous = [c for c in m.constructs if not m.predecessors(c)]
    lm_parts = []
    for c in m.endogenous:
        sources = exogenous if technique == "EA" else m.predecessors(c)
        xs = [x for s in sources for x in m.blocks[s]]
        lm_parts.append(_ols_predict(tr[xs].to_numpy(), tr[list(m.blocks[c])].to_numpy(),
                                     te[xs].to_numpy()))
    lm_hat = np.column_stack(lm_parts)
    naive = np.broadcast_to(raw.iloc[train][endo_items].mean().to_numpy(), pls_hat.shape)
    return pls_hat, lm_hat, naive


def plspredict(result: PLSResult, data: pd.DataFrame, folds: int = 10, repeats: int = 10,
               seed: int | None = None, technique: str = "EA") -> PredictResult:
    """PLSpredict: ``K``-fold cross-validated predictions against the LM benchmark.

    Parameters
    ----------
    result : PLSResult
        The fit whose model, scheme, stopping rule and missing-data treatment
        are re-estimated in each training set.
    data : DataFrame
        The data the fit was estimated on (its analysed rows are used).
    folds : int
        ``K`` (2 to the number of respondents; ``K = n`` is leave-one-out).
    repeats : int
        Repetitions of the cross-validation, each with its own shuffle.
    seed : int, optional
        Seed of ``numpy.random.default_rng``: the same seed, the same folds.
    technique : {"EA", "DA"}
        Earliest (SmartPLS) or direct (seminr) antecedents.

    Returns
    -------
    PredictResult
        Per endogenous indicator ``q2_predict``, ``rmse``, ``mae`` and the LM's
        (formulas in the module docstring). Training sets whose fit does not
        converge are skipped and counted (``predict_fold_failed``).
    """
    m = result.model
    raw = _raw(result, data)
    n = len(raw)
    if not isinstance(folds, int) or not 2 <= folds <= n:
        raise InputError(f"the number of folds must be a whole number from 2 to {n} "
                         "(the respondents)", column="--folds", value=folds)
    if not isinstance(repeats, int) or repeats < 1:
        raise InputError("the number of repetitions must be a whole number of 1 or more",
                         column="--repeats", value=repeats)
    if technique not in TECHNIQUES:
        raise InputError("expected EA (earliest antecedents) or DA (direct antecedents)",
                         column="technique", value=technique)
    missing = result._settings.get("missing", "listwise")
    endo_items = [x for c in m.endogenous for x in m.blocks[c]]
    owner = [c for c in m.endogenous for _ in m.blocks[c]]
    shape = (repeats, n, len(endo_items))
    pls_hat, lm_hat, naive = np.full(shape, np.nan), np.full(shape, np.nan), np.full(shape, np.nan)
    rng = np.random.default_rng(seed)
    failed = 0
    for r in range(repeats):
        order = rng.permutation(n)
        for test in np.array_split(order, folds):
            train = np.setdiff1d(order, test)
            got = _predict_fold(result, raw, train, test, technique, missing)
            if got is None:
                failed += 1
                continue
            pls_hat[r, test], lm_hat[r, test], naive[r, test] = got
    warnings = _composite_note(result)
    if failed:
        warnings.append(Diagnostic("predict_fold_failed", "caution",
                                   {"failed": failed, "fits": folds * repeats}))
    with catch_warnings():
        simplefilter("ignore", RuntimeWarning)  # a respondent whose every fit failed: NaN
        pls_mean, lm_mean, naive_mean = (np.nanmean(a, axis=0) for a in (pls_hat, lm_hat, naive))
    y = raw[endo_items].to_numpy()
    rows = []
    for k, (c, x) in enumerate(zip(owner, endo_items, strict=True)):
        seen = np.isfinite(y[:, k]) & np.isfinite(pls_mean[:, k])
        e, e_lm = (y - pls_mean)[seen, k], (y - lm_mean)[seen, k]
        sso = float(((y - naive_mean)[seen, k] ** 2).sum())
        rows.append({"construct": c, "indicator": x, "n": int(seen.sum()),
                     "q2_predict": 1 - float((e**2).sum()) / sso,
                     "rmse": float(np.sqrt((e**2).mean())), "mae": float(np.abs(e).mean()),
                     "lm_q2_predict": 1 - float((e_lm**2).sum()) / sso,
                     "lm_rmse": float(np.sqrt((e_lm**2).mean())),
                     "lm_mae": float(np.abs(e_lm).mean())})
    items = pd.DataFrame(rows)
    index = raw.index
    return PredictResult(items, pd.DataFrame(pls_mean, index=index, columns=endo_items),
                         pd.DataFrame(lm_mean, index=index, columns=endo_items),
                         folds, repeats, seed, technique, warnings)
