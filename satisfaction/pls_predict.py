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

Respondent weights
------------------
A weighted fit (``pls(..., weights=)``, WPLS of Becker & Ismail 2016, European
Management Journal 34(6), 606-617) is assessed with its weights ``w`` (those of
the analysed respondents): every re-estimation is weighted PLS on its rows with
their weights (weighted means, standard deviations and correlations; a mean
replacement takes weighted means), and every sum over respondents above is
weighted. Blindfolding: ``SSE = Σ w_r (x_rk − x̂_rk)²`` and
``SSO = Σ w_r (x_rk − m_k)²`` over the deleted points, ``m_k`` the round's
weighted mean. PLSpredict (the folds are cut as without weights): the
held-out respondents are standardized with the training set's weighted means
and standard deviations; the LM benchmark is weighted least squares
(``min Σ w (y − a − x'b)²`` on the training set, R's ``lm(weights = w)``); the
naive benchmark is the weighted training mean ``ȳ_train = Σ w y / Σ w``; and
``RMSE = sqrt(Σ w (y − ŷ)² / Σ w)``, ``MAE = Σ w |y − ŷ| / Σ w``,
``Q²_predict = 1 − Σ w (y − ŷ)² / Σ w (y − ȳ_train)²`` (the weighted means of the
squared and absolute errors, as survey-weighted estimates of the population's).
Constant weights give the unweighted results; the LM benchmark and the metrics of
a fixed split are tested against R's ``lm(weights =)`` and ``weighted.mean``
(``tests/reference/pls_predict_weights.R``), the weighted blindfolding against a
loop of weighted :func:`~satisfaction.pls.pls` fits
(``tests/test_pls_predict_weights.py``).

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
    weighted : bool
        The fit's respondent weights were used (weighted refits and sums).
    """

    q2: pd.DataFrame
    omission: int
    warnings: list[Diagnostic] = field(default_factory=list)
    weighted: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Plain data for ``--json``: ``{construct: q2}``, the omission distance and
        whether the weights were used."""
        return {"omission": self.omission, "weighted": self.weighted,
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
    weighted : bool
        The fit's respondent weights were used (weighted fits, WLS benchmark,
        weighted metrics).
    """

    items: pd.DataFrame
    predictions: pd.DataFrame
    lm_predictions: pd.DataFrame
    folds: int
    repeats: int
    seed: int | None
    technique: str
    warnings: list[Diagnostic] = field(default_factory=list)
    weighted: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Plain data for ``--json``: the settings and one row per indicator."""
        return {"folds": self.folds, "repeats": self.repeats, "seed": self.seed,
                "technique": self.technique, "weighted": self.weighted,
                "items": self.items.to_dict("records")}


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


def _refit(result: PLSResult, x: np.ndarray, w: np.ndarray | None = None) -> _Fit | None:
    """Re-estimate ``result``'s model (scheme, stopping rule) on the complete rows ``x``.

    The algorithm of :func:`satisfaction.pls.pls` on the rows' correlation matrix
    (its ``_iterate`` and ``_estimates``), without building the result tables;
    with respondent weights ``w`` of the rows, weighted PLS as :func:`~satisfaction.pls.pls`
    does it (weights rescaled to sum to ``n``, weighted means, standard deviations
    and correlations). ``None`` when an indicator is constant (weighted variance 0),
    every weight is 0 or the iteration does not converge."""
    m, settings = result.model, result._settings
    n = len(x)
    if w is None:
        mean, sd = x.mean(axis=0), x.std(axis=0, ddof=1)
    else:
        if not w.sum() > 0:
            return None
        w = w * n / w.sum()
        mean = w @ x / n
        sd = np.sqrt(w @ (x - mean) ** 2 / (n - 1))
    # a column constant over the rows of positive weight has a weighted sd of rounding size
    floor = 0.0 if w is None else 1e-12 * np.maximum(1.0, np.abs(mean))
    if not (np.isfinite(sd).all() and (sd > floor).all()):
        return None
    z = (x - mean) / sd
    S = ((z.T if w is None else z.T * w) @ z / (n - 1))[None]
    M, mode_b, D = _structure(m)
    core = _iterate(S, M, mode_b, D, result.scheme, settings["tol"], settings["max_iter"], None)
    if not core.converged[0]:
        return None
    est = _estimates(S, core.W, D)
    W = core.W[0]
    return _Fit(mean, sd, W, (est.cross[0] * M).sum(axis=1), est.B[0], z @ W)


def _weighted_nanmean(x: np.ndarray, w: np.ndarray | None) -> np.ndarray:
    """Column means over the answered cells, ``Σ w x / Σ w`` with respondent weights."""
    if w is None:
        return np.nanmean(x, axis=0)
    seen = np.isfinite(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (np.where(seen, x, 0.0) * w[:, None]).sum(axis=0) / (seen * w[:, None]).sum(
            axis=0)


def _filled(x: np.ndarray, w: np.ndarray | None = None) -> np.ndarray:
    """Each empty cell given its column's (weighted) mean over the answered cells."""
    if not np.isnan(x).any():
        return x
    return np.where(np.isnan(x), _weighted_nanmean(x, w), x)


def _refuse_higher_order(result: PLSResult) -> None:
    """Refuse a fit with a higher-order construct (seminr refuses it too)."""
    if getattr(result, "higher_order", None) or getattr(result.model, "higher_order", None):
        raise InputError("Q² and PLSpredict are not defined for higher-order constructs "
                         "(no published procedure)")


def _composite_note(result: PLSResult) -> list[Diagnostic]:
    return [Diagnostic("predict_composite", "info", {})] if result.consistent else []


def _fit_weights(result: PLSResult) -> np.ndarray | None:
    """The respondent weights of a weighted fit's analysed rows (None: unweighted)."""
    w = getattr(result, "_w", None)
    return None if w is None else np.asarray(w, dtype=float)


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
        A weighted fit is assessed with its weights (weighted refits, ``SSE`` and
        ``SSO`` as weighted sums; module docstring, "Respondent weights"; info
        ``blindfolding_weighted``).
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
    w = _fit_weights(result)
    if w is not None:
        warnings.append(Diagnostic("blindfolding_weighted", "info", {}))
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
            fit = _refit(result, _filled(blind, w), w)
            if fit is None:
                ok = False
                break
            y_hat = fit.scores @ fit.B[:, jj]  # Σ_i β_ij Y_i over the predecessors i
            mean, sd = fit.mean[block], fit.sd[block]
            x_hat = mean + sd * fit.loading[block] * y_hat[:, None]
            if w is None:
                sse += float(((x - x_hat)[omit] ** 2).sum())
                sso += float(((x - mean)[omit] ** 2).sum())
            else:  # each deleted point counts with its respondent's weight
                sse += float((w[:, None] * (x - x_hat) ** 2)[omit].sum())
                sso += float((w[:, None] * (x - mean) ** 2)[omit].sum())
        if not ok:
            warnings.append(Diagnostic("blindfolding_failed", "caution",
                                       {"construct": j, "round": d + 1}, constructs=(j,)))
            rows.append({"construct": j, "sse": np.nan, "sso": np.nan, "q2": np.nan})
            continue
        rows.append({"construct": j, "sse": sse, "sso": sso,
                     "q2": 1 - sse / sso if sso > 0 else np.nan})
    q2 = pd.DataFrame(rows, columns=["construct", "sse", "sso", "q2"]).set_index("construct")
    return BlindfoldingResult(q2, omission, warnings, weighted=w is not None)


# -- PLSpredict ----------------------------------------------------------------------

def _ols_predict(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray,
                 w_train: np.ndarray | None = None) -> np.ndarray:
    """Least-squares predictions with an intercept (``numpy.linalg.lstsq``); with
    weights ``w_train`` weighted least squares, ``min Σ w (y − a − x'b)²`` (the rows
    and the response multiplied by ``sqrt(w)``, as R's ``lm(weights = w)``)."""
    a = np.column_stack([np.ones(len(x_train)), x_train])
    if w_train is not None:
        root = np.sqrt(w_train)
        a, y_train = a * root[:, None], y_train * (root if y_train.ndim == 1
                                                   else root[:, None])
    coef = np.linalg.lstsq(a, y_train, rcond=None)[0]
    return np.column_stack([np.ones(len(x_test)), x_test]) @ coef


def prediction_metrics(y: np.ndarray, y_hat: np.ndarray, naive: np.ndarray,
                       w: np.ndarray | None = None) -> dict[str, float]:
    """``rmse``, ``mae`` and ``q2_predict`` of predictions ``y_hat`` of ``y`` against the
    naive (training-mean) predictions ``naive``; with respondent weights ``w``
    ``RMSE = sqrt(Σ w e² / Σ w)``, ``MAE = Σ w |e| / Σ w`` and
    ``Q² = 1 − Σ w e² / Σ w (y − naive)²`` (``e = y − ŷ``); without, equal weights.
    Tested against R's ``weighted.mean`` (``tests/reference/pls_predict_weights.R``)."""
    e, e0 = y - y_hat, y - naive
    if w is None:
        return {"q2_predict": 1 - float((e**2).sum()) / float((e0**2).sum()),
                "rmse": float(np.sqrt((e**2).mean())), "mae": float(np.abs(e).mean())}
    return {"q2_predict": 1 - float(w @ e**2) / float(w @ e0**2),
            "rmse": float(np.sqrt(w @ e**2 / w.sum())), "mae": float(w @ np.abs(e) / w.sum())}


def _predict_fold(result: PLSResult, x: np.ndarray, train: np.ndarray, test: np.ndarray,
                  technique: str, w: np.ndarray | None = None
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """PLS, LM and training-mean predictions of the endogenous indicators of ``test``
    (``x``: the analysed respondents' indicators, NaN where empty; ``w``: their
    respondent weights, for weighted training fits, WLS and weighted means)."""
    m = result.model
    cons = list(m.constructs)
    start = np.cumsum([0] + [len(m.blocks[c]) for c in cons])
    cols = {c: np.arange(start[k], start[k + 1]) for k, c in enumerate(cons)}
    w_tr = None if w is None else w[train]
    tr = _filled(x[train], w_tr)  # complete unless the fit replaced means
    fit = _refit(result, tr, w_tr)
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
        lm_parts.append(_ols_predict(tr[:, xs], tr[:, cols[c]], te[:, xs], w_tr))
    naive = np.broadcast_to(_weighted_nanmean(x[train][:, endo], w_tr), pls_hat.shape)
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
        converge are skipped and counted (``predict_fold_failed``). A weighted
        fit is assessed with its weights: weighted training fits, the LM
        benchmark by weighted least squares, weighted RMSE, MAE and Q²_predict
        against the weighted training mean (module docstring, "Respondent
        weights"; info ``predict_weighted``); the folds are cut as without weights.
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
    w = _fit_weights(result)
    rng = np.random.default_rng(seed)
    failed = 0
    for r in range(repeats):
        order = rng.permutation(n)
        for test in np.array_split(order, folds):
            train = np.setdiff1d(order, test)
            got = _predict_fold(result, x, train, test, technique, w)
            if got is None:
                failed += 1
                continue
            pls_hat[r, test], lm_hat[r, test], naive[r, test] = got
    warnings = _composite_note(result)
    if w is not None:
        warnings.append(Diagnostic("predict_weighted", "info", {}))
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
        wk = None if w is None else w[seen]
        got = prediction_metrics(y[seen, k], pls_mean[seen, k], naive_mean[seen, k], wk)
        lm = prediction_metrics(y[seen, k], lm_mean[seen, k], naive_mean[seen, k], wk)
        rows.append({"construct": c, "indicator": x, "n": int(seen.sum()), **got,
                     **{f"lm_{key}": v for key, v in lm.items()}})
    items = pd.DataFrame(rows, columns=["construct", "indicator", "n", "q2_predict", "rmse",
                                        "mae", "lm_q2_predict", "lm_rmse", "lm_mae"])
    index = raw.index
    return PredictResult(items, pd.DataFrame(pls_mean, index=index, columns=endo_items),
                         pd.DataFrame(lm_mean, index=index, columns=endo_items),
                         folds, repeats, seed, technique, warnings, weighted=w is not None)
