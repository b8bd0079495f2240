"""Factor scores of a fitted SEM: regression (Thurstone) and Bartlett, as lavaan's ``lavPredict()``.

Example
-------
>>> from semopy.examples import holzinger39
>>> from satisfaction.model import fit
>>> from satisfaction.scores import factor_scores
>>> data = holzinger39.get_data()
>>> res = fit("visual =~ x1 + x2 + x3\\ntextual =~ x4 + x5 + x6\\nspeed =~ x7 + x8 + x9", data)
>>> fs = factor_scores(res, data)
>>> [round(float(v), 4) for v in fs.iloc[0]]
[-0.8177, -0.1375, 0.0615]
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from satisfaction.errors import InputError, UsageError
from satisfaction.modindices import fitted_model
from satisfaction.sem_ml import RAM

METHODS = ("regression", "bartlett")


def _weights(ram: RAM, theta: np.ndarray, method: str) -> np.ndarray:
    """The p × k matrix ``W`` with scores ``(x − μ) W`` for one group.

    regression: ``W = Σ⁻¹ Cov(x, η)``, i.e. ``η̂ = Cov(η, x) Σ⁻¹ (x − μ)``, which is
    ``Ψ Λ' Σ⁻¹ (x − μ)`` for a measurement model with ``Ψ`` the model-implied latent
    covariance matrix (structural paths included).
    bartlett: ``W = Θ⁻¹ Λ (Λ' Θ⁻¹ Λ)⁻¹`` with ``Λ`` the loadings and ``Θ`` the
    residual covariance matrix of the observed variables.
    """
    mom = ram.implied(theta)
    p = ram.p
    C, A, S = mom["C"], mom["A"], mom["S"]
    sigma = C[:p, :p]
    if method == "regression":
        return np.linalg.solve(sigma, C[:p, p:])
    lam = A[:p, p:]
    if np.any(A[:p, :p] != 0) or np.any(A[p:, :p] != 0) or np.any(~lam.any(axis=0)):
        raise UsageError("Bartlett scores need every latent variable measured by observed "
                         "indicators and no observed variable regressed on another (no "
                         "higher-order factors, no observed predictors); use "
                         "method='regression'")
    theta_inv = np.linalg.inv(S[:p, :p])
    tl = theta_inv @ lam
    return tl @ np.linalg.inv(lam.T @ tl)


def _scores_by_pattern(ram: RAM, theta: np.ndarray, x: np.ndarray, mu: np.ndarray,
                       eta: np.ndarray, method: str) -> np.ndarray:
    """Scores of incomplete rows: each from the items it answered (lavaan's
    ``lavPredict()`` after ``missing = "ml"``).

    For the observed variables ``o`` of a row, :func:`_weights` is applied to the
    model restricted to them: regression ``η̂ = α + Cov(η, x_o) Σ_oo⁻¹ (x_o − μ_o)``,
    Bartlett ``η̂ = α + (Λ_o' Θ_oo⁻¹ Λ_o)⁻¹ Λ_o' Θ_oo⁻¹ (x_o − μ_o)``.
    """
    mom = ram.implied(theta)
    p = ram.p
    C, A = mom["C"], mom["A"]
    if method == "bartlett":
        _weights(ram, theta, method)  # the same refusal as for complete data
    out = np.full((len(x), len(eta)), np.nan)
    seen = ~np.isnan(x)
    keys, inverse = np.unique(seen, axis=0, return_inverse=True)
    for k, key in enumerate(keys):
        rows = np.flatnonzero(inverse.ravel() == k)
        o = np.flatnonzero(key)
        if not len(o):
            continue
        if method == "regression":
            W = np.linalg.solve(C[np.ix_(o, o)], C[o, p:])
        else:
            # lavaan's form, (Λ_o'Σ_oo⁻¹Λ_o)⁺ Λ_o'Σ_oo⁻¹ with a pseudo-inverse: equal to
            # the Θ form when every factor has an answered indicator; a factor with
            # none gets a zero weight column and no score (NaN), as in lavaan
            lam = A[o, p:]
            sl = np.linalg.solve(C[np.ix_(o, o)], lam)
            W = sl @ np.linalg.pinv(lam.T @ sl).T
            W[:, ~W.any(axis=0)] = np.nan
        out[rows] = eta + (x[np.ix_(rows, o)] - mu[o]) @ W
    return out


def factor_scores(result: Any, data: pd.DataFrame, method: str = "regression") -> pd.DataFrame:
    """Factor scores of every respondent with complete answers, as lavaan's ``lavPredict()``.

    With ``μ`` the model-implied means of the observed variables (the sample means
    of the fitted, complete respondents when the model has no mean structure;
    then the latent means ``α`` are 0), ``Σ`` the model-implied covariance of the
    observed variables and ``Ψ`` that of the latent variables, each score is
    ``α`` plus:

    - ``regression`` (Thurstone 1935): ``η̂ = Ψ Λ' Σ⁻¹ (x − μ)``, computed as
      ``Cov(η, x) Σ⁻¹ (x − μ)`` so that structural paths and residual covariances
      are included (lavaan's default);
    - ``bartlett`` (Bartlett 1937): ``η̂ = (Λ' Θ⁻¹ Λ)⁻¹ Λ' Θ⁻¹ (x − μ)``, the
      generalized least-squares estimate of ``η`` given the loadings ``Λ`` and the
      residual covariances ``Θ`` (unbiased, conditional on ``η``).

    A respondent with a missing answer on any observed variable of the model is
    not scored, as lavaan scores only the cases a listwise fit used; such
    respondents are absent from the result (count them as ``len(data) − len(result)``).

    Parameters
    ----------
    result : SEMResult
        A complete-data ML fit from :func:`satisfaction.model.fit` (single or
        multi-group; not ``missing="fiml"``).
    data : pandas.DataFrame
        The responses the model was fitted to (same rows: ``μ`` is their mean).
    method : {"regression", "bartlett"}

    Returns
    -------
    pandas.DataFrame
        One row per scored respondent (index: the index of ``data``), one column
        per latent variable in model order.

    Raises
    ------
    UsageError
        An unknown method, a FIML fit, or Bartlett scores of a model without
        loadings for every latent variable.

    References
    ----------
    Thurstone, L. L. (1935). *The Vectors of Mind*. University of Chicago Press.
    Bartlett, M. S. (1937). The statistical conception of mental factors. *British
    Journal of Psychology*, 28, 97-104.
    Tested against lavaan 0.6 ``lavPredict(method = "regression" | "Bartlett")`` on
    HolzingerSwineford1939 (complete and listwise) and PoliticalDemocracy
    (tests/reference/lavaan_modindices.R).
    """
    from satisfaction.model import _numeric_frame

    method = method.lower()
    if method not in METHODS:
        raise UsageError(f"method must be 'regression' or 'bartlett', not {method!r}")
    fitted = fitted_model(result)
    first = fitted.blocks[0].ram
    observed = first.variables[: first.p]
    latent = first.variables[first.p:]
    frame = _numeric_frame(data, observed)
    keep = frame.notna().all(axis=1)
    if fitted.fiml is not None:  # every respondent the FIML fit used
        keep = frame.notna().any(axis=1)
        exo = list(fitted.structure.exogenous_observed)
        if exo:
            keep &= frame[exo].notna().all(axis=1)
    if fitted.labels is None:
        groups = [(None, keep)]
    else:
        column = result.groups.column
        if column not in data.columns:
            raise InputError("the group column of the fit is not a column of the data",
                             column=column)
        gcol = data[column].astype(object).map(lambda v: v if pd.isna(v) else str(v))
        groups = [(label, keep & (gcol == label)) for label in fitted.labels]
    values = np.full((len(frame), len(latent)), np.nan)
    scored = np.zeros(len(frame), dtype=bool)
    for g, (_, rows) in enumerate(groups):
        where = np.flatnonzero(rows.to_numpy())
        if not len(where):
            continue
        x = frame.to_numpy()[where]
        ram = fitted.blocks[g].ram
        mu, eta = x.mean(axis=0), np.zeros(len(latent))
        if getattr(ram, "has_means", False):  # a mean structure: lavaan's EY and EETA
            A, _ = ram.matrices(fitted.theta)
            implied = np.linalg.solve(np.eye(len(A)) - A, ram.means(fitted.theta))
            mu, eta = implied[: ram.p], implied[ram.p:]
        if fitted.fiml is not None:
            values[where] = _scores_by_pattern(ram, fitted.theta, x, mu, eta, method)
        else:
            values[where] = eta + (x - mu) @ _weights(ram, fitted.theta, method)
        scored[where] = True
    return pd.DataFrame(values[scored], index=frame.index[scored], columns=latent)

__all__ = ["METHODS", "factor_scores"]
