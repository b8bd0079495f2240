"""Structural equation models with respondent (sampling) weights, as lavaan's ``sampling.weights``.

A weighted survey describes its population only when every statistic uses the
weights, the SEM included. lavaan 0.6 (``sem(..., sampling.weights = "w")``) does
it in four steps, and so do we (tested against lavaan 0.6.14 in
tests/test_sem_weights.py, reference tests/reference/lavaan_sampling_weights.R):

1. The weights of the respondents analysed (after listwise deletion) are rescaled
   to sum to the number of respondents ``N`` (lavaan's
   ``sampling.weights.normalization = "total"``; with groups, to the total ``N``).
2. Each group's moments are weighted (``stats::cov.wt(method = "ML")``):

   .. math::  \\bar x_w = \\frac{\\sum_i w_i x_i}{\\sum_i w_i}, \\qquad
              S_w = \\frac{\\sum_i w_i (x_i - \\bar x_w)(x_i - \\bar x_w)'}{\\sum_i w_i}

3. The estimates minimise the ML discrepancy on ``(x̄_w, S_w)``
   (:mod:`satisfaction.sem_ml`); ``chisq = N·F_ML`` and the other normal-theory
   measures follow from those moments.
4. Standard errors and the test are MLR's (lavaan switches ``se`` to
   ``"robust.huber.white"`` and ``test`` to ``"yuan.bentler.mplus"``). A group counts
   with its weight total ``N_g = Σ_{i∈g} w_i`` (lavaan's ``nobs`` of a weighted group:
   ``chisq = Σ_g N_g F_g``, ``f_g = N_g/N``). With ``s_i`` the casewise scores of
   ``(μ, vech Σ)`` (:func:`satisfaction.robust.moment_scores`) and ``Δ_g`` the
   model's Jacobian,

   .. math::  B = \\sum_g f_g Δ_g' B_{0,g} Δ_g, \\quad
              B_{0,g} = \\frac{1}{N_g}\\sum_{i∈g} w_i^2 s_i s_i', \\quad
              \\operatorname{Cov}(\\hat θ) = A^{-1} B A^{-1} / N

   with ``A`` the observed information (half the Hessian of ``Σ f_g F_g``), and the
   Yuan-Bentler (Mplus) scaling ``c = [Σ_g tr(A_{1,g}^{-1}B_{1,g}) − tr(A^{-1}B)]/df``,
   ``A_{1,g}`` the normal-theory h1 information at ``(x̄_w, S_w)`` and ``B_{1,g}`` the
   weighted cross-product of the scores there (lavaan's
   ``lav_mvnorm_information_firstorder(wt = )``: scores multiplied by ``w_i``, the
   cross-product divided by ``Σ w_i``). The independence model is scaled the same
   way, and lavaan's ``*.scaled`` and ``*.robust`` measures follow
   (:func:`satisfaction.robust.scaled_measures`).

Missing answers (``missing="fiml"``, lavaan's ``sampling.weights`` with
``missing = "ml"``; tests/reference/lavaan_fiml_weights.R): the same weights (rescaled
to sum to the ``N`` respondents with an answer) weight the casewise log-likelihood,

.. math::  F(θ) = \\frac1N \\sum_i w_i \\big[\\log|Σ_{o_i}| + (x_{o_i} − μ_{o_i})'
           Σ_{o_i}^{-1}(x_{o_i} − μ_{o_i})\\big],

computed pattern by pattern from weighted pattern moments; ``chisq = N (F(θ̂) − F(h1))``
with the weighted EM as h1, the weighted available-case moments as the independence
model, Huber-White SEs from the observed information and the casewise scores times
``w_i``, the Yuan-Bentler (Mplus) scaling and Savalei's corrected ``*.robust``
measures (:func:`_fiml`).

Written here because semopy 2.3 (the Python SEM library at hand) takes no respondent
weights (its only "weight" is a WLS weight matrix), and lavaan is R.
With all weights equal the fit is exactly the unweighted MLR fit. The functions of
:mod:`satisfaction.robust` are used for the scores, weights and measures; only the
weighted cross-products of complete data are written here (the FIML ones take the
weights themselves: ``robust.FimlData.w``).
Not covered (refused with a message): MLM, the bootstrap and ordinal items.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from satisfaction import robust
from satisfaction.diagnostics import Diagnostic
from satisfaction.errors import InputError, UsageError
from satisfaction.questionnaire import Questionnaire
from satisfaction.sem_ml import RAM, Block
from satisfaction.weights import effective_n, kish_design_effect


def respondent_weights(data: pd.DataFrame, sampling_weights: Any) -> pd.Series:
    """The weight of every row of ``data`` as floats (NaN: no weight).

    Parameters
    ----------
    data : DataFrame
        The responses.
    sampling_weights : str, Series or array
        A column of ``data``; a Series indexed like ``data`` (respondents it does not
        name get no weight); or one number per row.

    Raises
    ------
    UsageError
        The column is absent or an array has the wrong length.
    InputError
        A weight is not a number, negative or infinite (the message names the row
        as in a file with a header line, the column and the value).
    """
    column = "--weights"
    if isinstance(sampling_weights, str):
        if sampling_weights not in data.columns:
            raise UsageError("the weight column is not a column of the responses "
                             f"(columns: {', '.join(map(str, data.columns[:12]))}"
                             f"{'...' if len(data.columns) > 12 else ''})",
                             column="--weights", value=sampling_weights)
        column = sampling_weights
        raw = data[sampling_weights]
    elif isinstance(sampling_weights, pd.Series):
        raw = sampling_weights.reindex(data.index)
    else:
        values = np.asarray(sampling_weights)
        if values.ndim != 1 or len(values) != len(data):
            raise UsageError(f"sampling_weights has {values.size} values for {len(data)} "
                             "respondents; give one weight per row", column=column)
        raw = pd.Series(values, index=data.index)
    from satisfaction.responses import _is_missing, parse_number

    # numbers as the loader reads them (a decimal comma too); empty cells are missing
    missing = raw.map(_is_missing).astype(bool)
    num = pd.to_numeric(raw.map(lambda v: np.nan if _is_missing(v) else parse_number(v)),
                        errors="coerce").astype(float)
    bad = (num.isna() & ~missing) | (num < 0)
    if bad.any():
        k = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError("a weight must be a finite number of 0 or more", row=k + 2,
                         column=column, value=raw.iloc[k])
    return num


def normalise(w: np.ndarray, n: int) -> np.ndarray:
    """Weights rescaled to sum to ``n`` (lavaan's ``sampling.weights.normalization = "total"``)."""
    total = float(np.sum(w))
    if not total > 0:
        raise UsageError("every weight of the respondents analysed is 0; the weighted "
                         "moments do not exist", column="--weights")
    return w * n / total


def weighted_moments(x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(x̄_w, S_w)``: weighted means and covariance with divisor ``Σ w`` (R's
    ``cov.wt(method = "ML")``)."""
    total = float(np.sum(w))
    mean = w @ x / total
    xc = x - mean
    return mean, (xc * w[:, None]).T @ xc / total


def _jacobian(ram: RAM, theta: np.ndarray, nparam: int, meanstructure: bool) -> np.ndarray:
    delta = robust.sigma_jacobian(ram, theta, nparam)
    if not meanstructure:
        return delta
    return np.vstack([robust.mean_jacobian(ram, theta, nparam), delta])


def _baseline(mean: np.ndarray, S: np.ndarray, nx: int, meanstructure: bool
              ) -> tuple[np.ndarray, np.ndarray]:
    """The independence model at the weighted moments: ``Σ_b`` (variances of the
    endogenous variables, the covariates' block fixed at ``S_w``) and ``Δ_b``."""
    p = len(mean)
    ny = p - nx
    sigma = np.diag(np.diag(S))
    sigma[ny:, ny:] = S[ny:, ny:]
    r, c = robust.vech_index(p)
    diag = np.flatnonzero(r == c)[:ny]
    off = p if meanstructure else 0
    delta = np.zeros((off + len(r), ny * (2 if meanstructure else 1)))
    delta[off + diag, np.arange(ny)] = 1.0
    if meanstructure:
        delta[np.arange(ny), ny + np.arange(ny)] = 1.0
    return sigma, delta


def _cross(scores: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``Σ w_i² s_i s_i' / Σ w_i`` (lavaan: scores times ``w_i``, cross-product over ``Σ w``)."""
    ws = scores * w[:, None]
    return ws.T @ ws / float(np.sum(w))


def weighted_mlr(blocks: list[Block], xs: list[np.ndarray], ws: list[np.ndarray],
                 theta: np.ndarray, nparam: int, df: float, df_b: float, nx: int = 0
                 ) -> robust.RobustResult:
    """Huber-White covariance and Yuan-Bentler (Mplus) scaling of a weighted ML fit.

    ``blocks`` hold each group's RAM and weighted moments, ``xs``/``ws`` its rows
    (model order, the ``nx`` fixed.x covariates last) and their normalised weights.
    Formulas in the module docstring; with ``w = 1`` this is
    :func:`satisfaction.robust.fit_complete` with ``estimator="mlr"``.
    """
    meanstructure = all(b.ram.has_means and b.mean is not None for b in blocks)
    total = float(sum(np.sum(w) for w in ws))
    A = robust.groups_information(blocks, theta, nparam)
    B = np.zeros((nparam, nparam))
    trace_h1 = trace_b = 0.0
    for b, x, w in zip(blocks, xs, ws, strict=True):
        p = x.shape[1]
        fg = float(np.sum(w)) / total
        keep = robust.moment_keep(p, nx, meanstructure)
        mean, S = weighted_moments(x, w)
        sigma = b.ram.implied(theta)["Sigma"]
        mu = b.ram.implied_mean(theta) if meanstructure else mean
        delta = _jacobian(b.ram, theta, nparam, meanstructure)[keep]
        sc = robust.moment_scores(x, mu, sigma, meanstructure)[:, keep] @ delta
        B += fg * _cross(sc, w)
        a1 = robust.h1_weight(S, meanstructure)[np.ix_(keep, keep)]
        b1 = _cross(robust.moment_scores(x, mean, S, meanstructure)[:, keep], w)
        h1 = float(np.sum(np.linalg.inv(a1) * b1))
        trace_h1 += h1
        sigma_b, delta_b = _baseline(mean, S, nx, meanstructure)
        delta_b = delta_b[keep]
        w_b = robust.h1_weight(sigma_b, meanstructure)[np.ix_(keep, keep)]
        a_b = delta_b.T @ w_b @ delta_b
        sc_b = robust.moment_scores(x, mean, sigma_b, meanstructure)[:, keep] @ delta_b
        trace_b += h1 - float(np.sum(np.linalg.inv(a_b) * _cross(sc_b, w)))
    A_inv = np.linalg.inv((A + A.T) / 2)
    vcov = A_inv @ B @ A_inv / total
    trace = trace_h1 - float(np.sum(A_inv * B))
    return robust.RobustResult("mlr", vcov, trace, _scaling(trace, df), _scaling(trace_b, df_b))


def _scaling(trace: float, df: float) -> float:
    if df <= 0:
        return math.nan
    c = trace / df
    return c if c > 0 else math.nan


def apply_weighted(result: Any, blocks: list[Block], xs: list[np.ndarray],
                   ws: list[np.ndarray], param_of_rows: list[list[int]], nx: int = 0
                   ) -> np.ndarray | None:
    """MLR of a weighted fit on its ML result, in place (as
    :func:`satisfaction.robust.apply_complete`): robust ``se z pvalue ci.*`` in the
    parameter table, lavaan's ``*.scaled``/``*.robust`` measures in ``fit_measures``;
    returns the robust covariance (None when the information is singular)."""
    fm = result.fit_measures
    if result.vcov is None:
        fm.update({k: math.nan for k in robust.ROBUST_FIT_NAMES})
        return None
    spec = result.spec
    rob = weighted_mlr(blocks, xs, ws, result.theta, spec.nparam, fm["df"],
                       fm["baseline.df"], nx)
    params = result.parameters
    offset = 0
    for rows in param_of_rows:
        params = robust.robust_se_table(params, rows, rob.vcov, offset)
        offset += len(rows)
    result.parameters = params
    fm.update(robust.scaled_measures(fm["chisq"], fm["df"], fm["baseline.chisq"],
                                     fm["baseline.df"], rob.scaling, rob.baseline_scaling,
                                     round(sum(float(np.sum(w)) for w in ws)), len(blocks)))
    return rob.vcov


def weights_diagnostic(w: np.ndarray, excluded: int) -> Diagnostic:
    """The info note of a weighted fit: Kish design effect, effective n, respondents
    left out for want of a weight."""
    return Diagnostic("sem_weighted", "info",
                      {"design_effect": round(kish_design_effect(w), 3),
                       "effective_n": round(effective_n(w), 1), "n": len(w),
                       "no_weight": int(excluded)})


def fiml_unweighted_diagnostic() -> Diagnostic:
    """The caution of a weighted analysis whose SEM had to be fitted unweighted by FIML
    (the weighted FIML fit was refused, e.g. a group whose weights are all 0)."""
    return Diagnostic("sem_weights_not_applied", "caution")


def command_weights(spec: Any, data: pd.DataFrame, responses: Any, column: str | None
                    ) -> Any:
    """The ``sampling_weights`` of ``satisfaction fit``: ``--weights COLUMN``, else the
    questionnaire's ``weighting``/``weight`` (:func:`satisfaction.weights.compute_weights`),
    else None; ``--weights none`` fits unweighted.

    For a lavaan-syntax model the column is read from the table itself; for a
    questionnaire (whose loader keeps only its own columns) by respondent id from the
    responses file (:func:`satisfaction.weights.read_weight_column`).
    """
    import copy

    from satisfaction.weights import compute_weights, read_weight_column

    if column is not None and column.strip().lower() == "none":
        return None
    if not isinstance(spec, Questionnaire):
        return column
    if column is not None:
        named = copy.copy(spec)
        named.weight, named.weighting = column, None
        return read_weight_column(named, responses, data, option="--weights")
    if spec.weighting is None and spec.weight is None:
        return None
    declared = read_weight_column(spec, responses, data) if spec.weight is not None else None
    return compute_weights(spec, data, column=declared).weights


def _refuse(missing: str, bootstrap: int, estimator: str, ordered: Any) -> None:
    if missing not in ("listwise", "fiml"):
        raise UsageError("missing must be 'listwise' or 'fiml'", column="--missing",
                         value=missing)
    if bootstrap:
        raise UsageError("the bootstrap does not take sampling weights (its resamples "
                         "would ignore them); the weighted fit has robust (MLR) standard "
                         "errors instead", column="--bootstrap", value=bootstrap)
    if estimator not in ("ml", "mlr"):
        raise UsageError("with sampling weights the estimator is MLR (lavaan's default for "
                         "sampling.weights); 'ml' or 'mlr' are accepted",
                         column="--estimator", value=estimator)
    if ordered:
        raise UsageError("sampling weights with ordinal items (--ordered) are not "
                         "implemented", column="--ordered")


def fit_weighted(model: str | Path | Questionnaire, data: pd.DataFrame, sampling_weights: Any,
                 *, group: str | None = None, group_equal: tuple[str, ...] = (),
                 group_partial: tuple[str, ...] = (),
                 criteria: dict[str, tuple[str, float]] | None = None,
                 missing: str = "listwise", bootstrap: int = 0, estimator: str = "mlr",
                 ordered: Any = None, se: str = "standard") -> Any:
    """Fit a CFA or SEM with respondent weights, as lavaan's ``sampling.weights``.

    Parameters
    ----------
    model, data, group, group_equal, group_partial, criteria
        As :func:`satisfaction.model.fit`.
    sampling_weights : str, Series or array
        The weights (:func:`respondent_weights`); respondents without a weight are
        left out and counted in ``excluded["missing_weight"]``.
    missing : {"listwise", "fiml"}
        ``fiml``: every respondent with an answer, by the weighted casewise likelihood
        (lavaan's ``missing = "ml"``; :func:`_fiml`).
    bootstrap, estimator, ordered
        No bootstrap, ``ml``/``mlr`` (both give MLR, as lavaan) and no ordinal items;
        anything else raises a ``UsageError``.
    se : {"standard", "none"}
        ``none`` (complete data with a ``group``; :func:`satisfaction.model.fit`'s
        ``se``): the weighted ML fit alone, without MLR (no standard errors, no
        scaled or robust measures) and without the equal-paths fit, for callers that
        need only the estimates and the ML χ² on the weighted moments.

    Returns
    -------
    SEMResult
        With MLR standard errors, lavaan's scaled and robust fit measures and an
        info ``sem_weighted`` (design effect, effective n).

    Notes
    -----
    Formulas in the module docstring. Tested against lavaan 0.6.14 (estimates to
    1e-4, standard errors and χ² to 1e-3) on the bank survey with raking weights
    and on psych's bfi with one and two groups and with a mean structure; with
    ``missing="fiml"`` on bfi with its missing answers (one and two groups) and on
    the bank survey with answers removed (tests/reference/lavaan_fiml_weights.R).
    """
    from satisfaction import model as sem

    _refuse(missing, bootstrap, estimator, ordered)
    weights = respondent_weights(data, sampling_weights)
    syntax, source = sem.model_syntax(model)
    structure = sem._structure(syntax, source)
    observed = [v for v in structure.observed if v not in structure.exogenous_observed] + \
        list(structure.exogenous_observed)
    frame = sem._numeric_frame(data, observed, structure.latent)
    excluded: dict[str, int] = {}
    if group is not None:
        if group not in data.columns:
            raise UsageError("the group column is not a column of the responses",
                             column=group)
        excluded["missing_group"] = int(data[group].isna().sum())
    no_weight = weights.isna()
    if group is not None:
        no_weight &= data[group].notna()
    excluded["missing_weight"] = int(no_weight.sum())
    gcol = data[group] if group is not None else pd.Series(0, index=data.index)
    keep = weights.notna() & gcol.notna()
    frame, weights, gcol = frame[keep], weights[keep], gcol[keep]
    criteria = criteria if criteria is not None else sem.fit_criteria(
        model if isinstance(model, Questionnaire) else None)
    if missing == "fiml":
        result = _fiml(structure, observed, frame, weights, gcol, group, group_equal,
                       group_partial, excluded, source)
        result.syntax = syntax
        result.warnings += sem._fit_diagnostics(result.fit_measures, criteria)
        return result
    complete = frame.notna().all(axis=1)
    excluded["missing_values"] = int((~complete).sum())
    frame, weights, gcol = frame[complete], weights[complete], gcol[complete]
    n = len(frame)
    if n <= len(observed):
        raise UsageError(f"{n} complete respondents with a weight for {len(observed)} "
                         "observed variables; the covariance matrix cannot be estimated",
                         column="--weights")
    w = normalise(weights.to_numpy(), n)
    warnings: list[Diagnostic] = []
    if excluded["missing_values"]:
        share = excluded["missing_values"] / (n + excluded["missing_values"])
        warnings.append(Diagnostic("listwise", "caution" if share > 0.05 else "info",
                                   {"n": excluded["missing_values"], "share": share}))
    warnings.append(weights_diagnostic(w, excluded["missing_weight"]))
    if group is None:
        result = _single(structure, observed, frame.to_numpy(), w, source)
    else:
        result = _groups(structure, observed, frame, gcol, w, group, group_equal,
                         group_partial, syntax, source, robust_se=se != "none")
    result.excluded = excluded
    result.warnings = warnings + result.warnings
    result.syntax = syntax
    result.warnings += sem._fit_diagnostics(result.fit_measures, criteria)
    return result


def _fiml(structure: Any, observed: list[str], frame: pd.DataFrame, weights: pd.Series,
          gcol: pd.Series, group: str | None, group_equal: tuple[str, ...],
          group_partial: tuple[str, ...], excluded: dict[str, int], source: str | None
          ) -> Any:
    """Weighted FIML (lavaan's ``sampling.weights`` with ``missing = "ml"``).

    Respondents without a covariate (fixed.x) or without any answer are left out and
    counted, as in the unweighted FIML; the weights of the others are rescaled to sum
    to their number ``N``. Every missingness pattern's moments are weighted
    (:func:`satisfaction.sem_ml.patterns` with ``w``), so the discrepancy minimised
    is ``−2/N Σ_i w_i log L_i`` (the weighted casewise likelihood), the saturated
    model its weighted EM and the independence model the weighted available-case
    moments; the standard errors are Huber-White with the casewise scores times
    their weights and the test Yuan-Bentler (Mplus), with Savalei's corrected
    ``*.robust`` measures (:func:`satisfaction.robust.fiml_groups_mlr`). A group counts
    with its weight total. Fitted with lavaan's mean structure (free intercepts,
    latent means 0) by :func:`satisfaction.model._fit_fiml_means` or, with groups,
    ``_fit_fiml_groups`` (with the test of equal structural paths).
    """
    from satisfaction import model as sem

    if structure.exogenous_observed:
        no_x = frame[structure.exogenous_observed].isna().any(axis=1)
        excluded["missing_exogenous"] = int(no_x.sum())
        frame, weights, gcol = frame[~no_x], weights[~no_x], gcol[~no_x]
    empty = frame.isna().all(axis=1)
    excluded["all_values_missing"] = int(empty.sum())
    frame, weights, gcol = frame[~empty], weights[~empty], gcol[~empty]
    n = len(frame)
    if n <= len(observed):
        raise UsageError(f"{n} respondents with a weight and an answer for {len(observed)} "
                         "observed variables; the model cannot be estimated",
                         column="--weights")
    w = normalise(weights.to_numpy(), n)
    note = weights_diagnostic(w, excluded["missing_weight"])
    if group is None:
        sem._check_identified(sem._layout(sem._with_means(
            structure, [np.zeros(len(observed))], observed, ()), 1).nparam,
            sem._moments(structure, observed, 1, True), source)
        result = sem._fit_fiml_means(structure, observed, frame, "mlr", weights=w)
    else:
        labels = list(pd.unique(gcol))
        for g in labels:
            if not w[(gcol == g).to_numpy()].sum() > 0:
                raise UsageError("every respondent of this group has weight 0; its weighted "
                                 "moments do not exist", column=group, value=g)
        ngroups = len(labels)
        sem._check_identified(sem._layout(sem._with_means(
            structure, [np.zeros(len(observed))] * ngroups, observed, group_equal),
            ngroups, equal=group_equal, partial=group_partial).nparam,
            sem._moments(structure, observed, ngroups, True), source)
        no_answer = excluded["all_values_missing"]
        result = sem._fit_fiml_groups(structure, observed, frame, gcol, group, excluded, "",
                                      group_equal, group_partial, "mlr", weights=w)
        excluded["all_values_missing"] = no_answer  # (dropped here, before the rescaling)
    result.excluded = excluded
    result.warnings = [note, *result.warnings]
    return result


def _single(structure: Any, observed: list[str], x: np.ndarray, w: np.ndarray,
            source: str | None) -> Any:
    """One group: ML on the weighted moments, then weighted MLR and delta intervals."""
    from satisfaction import model as sem

    mean, S = weighted_moments(x, w)
    sem._require_nonsingular(S, observed, "the structural model")
    meanstructure = any(r.op == "~1" for r in structure.rows)
    if meanstructure:
        structure = sem._with_means(structure, [mean], observed, ())
    spec = sem._layout(structure, 1)
    sem._check_identified(spec.nparam, sem._moments(structure, observed, 1, meanstructure),
                          source)
    rams = sem._rams(spec, observed, [S])
    blocks = [Block(rams[0], S, len(x), mean if meanstructure else None)]
    result = sem._estimate(spec, blocks, meanstructure=meanstructure, means=[None])
    vcov = apply_weighted(result, blocks, [x], [w], spec.param_of_row,
                          len(structure.exogenous_observed))
    result.vcov = vcov
    sem._delta_intervals(result, structure, rams[0], result.theta, vcov, spec)
    return result


def _groups(structure: Any, observed: list[str], frame: pd.DataFrame, gcol: pd.Series,
            w: np.ndarray, group: str, group_equal: tuple[str, ...],
            group_partial: tuple[str, ...], syntax: str, source: str | None,
            robust_se: bool = True) -> Any:
    """Several groups (lavaan's mean structure): the free and the equal-paths fits on
    the weighted moments of each group, both with weighted MLR (``robust_se=False``:
    the free fit alone, ML without standard errors)."""
    from satisfaction import model as sem

    labels = list(pd.unique(gcol))
    if len(labels) < 2:
        raise UsageError("a multi-group fit needs at least two groups", column=group)
    member = [(gcol == g).to_numpy() for g in labels]
    xs = [frame.to_numpy()[m] for m in member]
    ws = [w[m] for m in member]
    for g, x in zip(labels, xs, strict=True):
        if len(x) <= len(observed):
            raise UsageError(f"group has {len(x)} complete respondents with a weight for "
                             f"{len(observed)} observed variables", column=group, value=g)
    for g, wg in zip(labels, ws, strict=True):
        if not wg.sum() > 0:
            raise UsageError("every respondent of this group has weight 0; its weighted "
                             "moments do not exist", column=group, value=g)
    moments = [weighted_moments(x, wg) for x, wg in zip(xs, ws, strict=True)]
    means = [m for m, _ in moments]
    samples = [S for _, S in moments]
    for g, S in zip(labels, samples, strict=True):
        sem._require_nonsingular(S, observed, f"the structural model in group {g}")
    nx = len(structure.exogenous_observed)
    ngroups = len(labels)
    sem._check_identified(sem._layout(structure, ngroups, equal=group_equal).nparam
                          + ngroups * (len(observed) - nx),
                          sem._moments(structure, observed, ngroups, True), source)
    names = [str(g) for g in labels]

    def one(equal: tuple[str, ...]) -> Any:
        full = sem._with_means(structure, means, observed, equal)
        spec = sem._layout(full, ngroups, equal=equal, partial=group_partial)
        # a group counts with its weight total (lavaan's nobs of a weighted group)
        blocks = [Block(r, S, float(wg.sum()), m) for r, S, wg, m in
                  zip(sem._rams(spec, observed, samples), samples, ws, means, strict=True)]
        res = sem._estimate(spec, blocks, meanstructure=True, means=means, labels=names,
                            standard_errors=robust_se)
        res.spec = spec
        if not robust_se:
            return res
        vcov = apply_weighted(res, res.blocks, xs, ws, spec.param_of_row, nx)
        if vcov is not None:
            res.vcov = vcov
            res.per_group = [(robust.robust_se_table(p, spec.param_of_row[g], vcov), *rest)
                             for g, (p, *rest) in enumerate(res.per_group)]
        return res

    free = one(group_equal)
    equal_classes = tuple(dict.fromkeys((*group_equal, "regressions")))
    # a model without regressions (a CFA) has no paths to hold equal: one fit is enough
    has_paths = any(r.op == "~" for r in structure.rows)
    equal = (one(equal_classes) if robust_se and has_paths
             and equal_classes != tuple(group_equal) else free)
    if equal.fit_measures["df"] == free.fit_measures["df"]:
        equal = free
    diff = sem._paths_difference(free.fit_measures, equal.fit_measures, "mlr")
    per_group = {}
    for label, (p, r2, eff, warn, _), x in zip(names, free.per_group, xs, strict=True):
        per_group[label] = sem.SEMResult(fit_measures={}, parameters=p, r2=r2, effects=eff,
                                         warnings=warn, n=len(x), converged=free.converged)
    free.groups = sem.GroupComparison(column=group, labels=names, per_group=per_group,
                                      equal_fit=equal.fit_measures, chisq_diff=diff)
    if not equal.converged:
        free.warnings.append(Diagnostic("equal_paths_not_converged", "caution"))
    if structure.defined:
        sem._defined_group_rows(free, free.spec)
    return free


__all__ = ["apply_weighted", "command_weights", "fiml_unweighted_diagnostic", "fit_weighted",
           "normalise", "respondent_weights", "weighted_mlr",
           "weighted_moments", "weights_diagnostic"]
