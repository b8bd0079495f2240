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
from satisfaction.pls import PLSModel, PLSResult, _estimates, _iterate, _structure

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


@dataclass
class _Fit:
    """PLS estimates on a set of rows, as arrays in indicator/construct order."""

    mean: np.ndarray      # p: indicator means of the rows
    sd: np.ndarray        # p: their standard deviations (divisor n − 1)
    W: np.ndarray         # p × L outer weights (of standardized indicators)
    loading: np.ndarray   # p: loading of each indicator on its own construct
    B: np.ndarray         # L × L paths, B[i, j] = i → j
    scores: np.ndarray    # n × L standardized scores of the rows


def _refit(result: PLSResult, x: np.ndarray) -> _Fit | None:
    """Re-estimate ``result``'s model (scheme, stopping rule) on the complete rows ``x``.

    The algorithm of :func:`satisfaction.pls.pls` on the rows' correlation matrix
    (its ``_iterate`` and ``_estimates``), without building the result tables;
    ``None`` when an indicator is constant or the iteration does not converge."""
    m, settings = result.model, result._settings
    mean, sd = x.mean(axis=0), x.std(axis=0, ddof=1)
    if not (np.isfinite(sd).all() and (sd > 0).all()):
        return None
    z = (x - mean) / sd
    S = (z.T @ z / (len(x) - 1))[None]
    M, mode_b, D = _structure(m)
    core = _iterate(S, M, mode_b, D, result.scheme, settings["tol"], settings["max_iter"], None)
    if not core.converged[0]:
        return None
    est = _estimates(S, core.W, D)
    W = core.W[0]
    return _Fit(mean, sd, W, (est.cross[0] * M).sum(axis=1), est.B[0], z @ W)


def _filled(x: np.ndarray) -> np.ndarray:
    """Each empty cell given its column's mean over the answered cells."""
    mean = np.nanmean(x, axis=0)
    return np.where(np.isnan(x), mean, x)


def _refuse_higher_order(result: PLSResult) -> None:
    """Refuse a fit with a higher-order construct (seminr refuses it too)."""
    if getattr(result, "higher_order", None) or getattr(result.model, "higher_order", None):
        raise InputError("Q² and PLSpredict are not defined for higher-order constructs "
                         "(no published procedure)")


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
    _refuse_higher_order(result)
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
    x_all = raw.to_numpy(dtype=float)
    cons = list(m.constructs)
    start = np.cumsum([0] + [len(m.blocks[c]) for c in cons])
    for j in m.endogenous:
        if m.modes[j] != "A" and len(m.blocks[j]) > 1:
            continue
        jj = cons.index(j)
        block = np.arange(start[jj], start[jj + 1])
        x = x_all[:, block]
        observed = np.isfinite(x)
        number = np.arange(n)[:, None] + n * np.arange(block.size)[None, :]
        sse = sso = 0.0
        ok = True
        for d in range(omission):
            omit = (number % omission == d) & observed
            if not omit.any():
                continue
            blind = x_all.copy()
            blind[:, block] = np.where(omit, np.nan, x)
            fit = _refit(result, _filled(blind))
            if fit is None:
                ok = False
                break
            y_hat = fit.scores @ fit.B[:, jj]  # Σ_i β_ij Y_i over the predecessors i
            mean, sd = fit.mean[block], fit.sd[block]
            x_hat = mean + sd * fit.loading[block] * y_hat[:, None]
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


def _predict_fold(result: PLSResult, x: np.ndarray, train: np.ndarray, test: np.ndarray,
                  technique: str) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """PLS, LM and training-mean predictions of the endogenous indicators of ``test``
    (``x``: the analysed respondents' indicators, NaN where empty)."""
    m = result.model
    cons = list(m.constructs)
    start = np.cumsum([0] + [len(m.blocks[c]) for c in cons])
    cols = {c: np.arange(start[k], start[k + 1]) for k, c in enumerate(cons)}
    tr = _filled(x[train])  # complete unless the fit replaced means
    fit = _refit(result, tr)
    if fit is None:
        return None
    te = np.where(np.isnan(x[test]), fit.mean, x[test])
    scores = (te - fit.mean) / fit.sd @ fit.W
    predicted = scores.copy()
    for c in _causal_order(m):
        k = cons.index(c)
        if m.predecessors(c):
            source = predicted if technique == "EA" else scores
            predicted[:, k] = source @ fit.B[:, k]
    endo = np.concatenate([cols[c] for c in m.endogenous])
    owner = np.concatenate([[cons.index(c)] * len(m.blocks[c]) for c in m.endogenous])
    pls_hat = fit.mean[endo] + fit.sd[endo] * fit.loading[endo] * predicted[:, owner]
    exogenous = [c for c in cons if not m.predecessors(c)]
    lm_parts = []
    for c in m.endogenous:
        sources = exogenous if technique == "EA" else m.predecessors(c)
        xs = np.concatenate([cols[s] for s in sources])
        lm_parts.append(_ols_predict(tr[:, xs], tr[:, cols[c]], te[:, xs]))
    naive = np.broadcast_to(np.nanmean(x[train][:, endo], axis=0), pls_hat.shape)
    return pls_hat, np.column_stack(lm_parts), naive


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
    _refuse_higher_order(result)
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
    x = raw.to_numpy(dtype=float)
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
            got = _predict_fold(result, x, train, test, technique)
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
