"""Robust maximum likelihood: MLM (Satorra-Bentler) and MLR (Huber-White, Yuan-Bentler).

Likert items are not multivariate normal: their kurtosis makes the ML
chi-square too large and the ML standard errors too small. The robust
estimators keep the ML estimates and correct both, as lavaan 0.6's
``estimator = "MLM"`` and ``estimator = "MLR"`` do (numbers tested against
lavaan 0.6.14 in tests/test_robust.py and tests/test_robust_groups.py, references
tests/reference/lavaan_robust.R and lavaan_robust_groups.R). Written here because
no Python SEM library gives them as lavaan does: semopy 2.3 has only a one-group
Satorra-Bentler χ² (``calc_chi2_sb``, no mean structure, groups, fixed.x, MLR,
robust SEs or robust CFI/RMSEA).

Notation (one group, complete data, no mean structure, lavaan's defaults)
------------------------------------------------------------------------
``p* = p(p+1)/2`` unique elements ``σ = vech(Σ)``; ``Δ = ∂σ(θ)/∂θ'`` (p*×q);
the normal-theory weight

.. math::  W(Σ) = \\tfrac12 D_p'(Σ^{-1} \\otimes Σ^{-1}) D_p,

so that the expected information (per respondent) is ``Δ'WΔ``; and the
asymptotic covariance of ``vech(S)`` from casewise moments,

.. math::  Γ = \\frac1N \\sum_i (d_i - \\bar d)(d_i - \\bar d)',\\quad
           d_i = \\operatorname{vech}\\big((x_i-\\bar x)(x_i-\\bar x)'\\big)

(divisor ``N``, lavaan's ``NACOV``). With
``U = W − WΔ(Δ'WΔ)⁻¹Δ'W`` the ML statistic ``T = N·F_ML`` is asymptotically a
mixture of χ² whose mean is ``tr(UΓ)``, hence the scaling factor

.. math::  c = \\operatorname{tr}(UΓ) / df, \\qquad T_{scaled} = T / c.

MLM (Satorra & Bentler, 1994)
    ``W`` at the model-implied ``Σ̂`` (lavaan's structured h1 information),
    standard errors from the sandwich ``(1/N) A⁻¹ (Δ'WΓWΔ) A⁻¹`` with the
    expected information ``A = Δ'WΔ`` (lavaan's ``se = "robust.sem"``) and
    ``c = [tr(WΓ) − tr(A⁻¹Δ'WΓWΔ)] / df`` (``test = "satorra.bentler"``).

MLR (Yuan & Bentler, 2000; the Mplus variant, lavaan's ``"yuan.bentler.mplus"``)
    Huber-White standard errors ``(1/N) A⁻¹ B A⁻¹`` with ``A`` the observed
    information (half the Hessian of ``F_ML``) and ``B = Δ' B₁ Δ``, ``B₁`` the
    mean cross-product of the casewise scores of ``vech(Σ)`` at ``(x̄, Σ̂)``:
    ``s_i = vech(Σ̂⁻¹(x_i−x̄)(x_i−x̄)'Σ̂⁻¹ − Σ̂⁻¹)`` with the diagonal halved. The
    trace is ``tr(A₁⁻¹B₁ᵘ) − tr(A⁻¹B)`` where ``A₁ = W(S)`` and ``B₁ᵘ = A₁ΓA₁``
    are the unstructured h1 information matrices, so ``tr(A₁⁻¹B₁ᵘ) = tr(W(S)Γ)``.
    With incomplete data (FIML) the casewise scores and the observed
    information are those of the incomplete-data likelihood (Yuan & Bentler 2000).

Groups, mean structure and covariates (:func:`complete_groups`)
    With groups (and intercepts written in the model) the moments are
    ``(μ_g, vech Σ_g)``, ``W_g = diag(Σ̂_g⁻¹, W(Σ̂_g))``, the casewise scores gain
    ``Σ̂⁻¹(x_i − μ̂)`` and the matrices are weighted by ``f_g = n_g/N`` and summed
    (lavaan's block-diagonal ``U`` and ``Γ``). Exogenous observed covariates
    (``fixed.x = TRUE``) are neither moments nor parameters: their elements leave
    ``Δ``, ``W`` and ``Γ``, and ``Γ`` is that of the endogenous moments around their
    least-squares prediction from the covariates (:func:`gamma_fixed_x`).

Fit indices (lavaan's names)
    ``*.scaled``: the naive indices from ``T/c`` (``rmsea.scaled`` uses
    ``T`` with ``df·c`` degrees of freedom). ``*.robust`` (Brosseau-Liard,
    Savalei & Li, 2012; Brosseau-Liard & Savalei, 2014):
    ``rmsea.robust = sqrt(max(T/(N·df) − c/N, 0))``,
    ``cfi.robust = 1 − max(T − c·df, 0) / max(T − c·df, T_b − c_b·df_b, 0)``,
    ``tli.robust = 1 − (T − c·df)·df_b / ((T_b − c_b·df_b)·df)``, with the baseline
    (independence) model's own ``T_b`` and ``c_b``; the robust RMSEA interval
    inverts the noncentral χ² at ``T/c`` and multiplies ``λ`` by ``c``. With FIML
    the same formulas take Savalei's corrected statistic ``T₃`` and its own
    scaling ``c₃`` (:func:`fiml_corrected`, lavaan's ``lav_fit_fiml_corrected``
    "V3"; Zhang & Savalei, 2023) in place of ``T`` and ``c``.

Scaled difference test
    :func:`scaled_difference`: Satorra & Bentler (2001),
    ``c_d = (df₀c₀ − df₁c₁)/(df₀ − df₁)``, ``T_d = (T₀ − T₁)/c_d``.

References
----------
Satorra, A., & Bentler, P. M. (1994). Corrections to test statistics and standard
errors in covariance structure analysis. In A. von Eye & C. C. Clogg (Eds.),
*Latent variables analysis* (pp. 399-419). Sage.
Yuan, K.-H., & Bentler, P. M. (2000). Three likelihood-based methods for mean and
covariance structure analysis with nonnormal missing data. *Sociological
Methodology*, 30, 165-200.
Satorra, A., & Bentler, P. M. (2001). A scaled difference chi-square test statistic
for moment structure analysis. *Psychometrika*, 66, 507-514.
Brosseau-Liard, P. E., Savalei, V., & Li, L. (2012). An investigation of the
sample performance of two nonnormality corrections for RMSEA. *Multivariate
Behavioral Research*, 47, 904-930.
Brosseau-Liard, P. E., & Savalei, V. (2014). Adjusting incremental fit indices for
nonnormality. *Multivariate Behavioral Research*, 49, 460-470.
Savalei, V. (2018). On the computation of the RMSEA and CFI from the mean-and-variance
corrected test statistic with nonnormal data in SEM. *Multivariate Behavioral
Research*, 53, 419-429.
Zhang, X., & Savalei, V. (2023). New computations for RMSEA and CFI following FIML
and TS estimation with missing data. *Psychological Methods*, 28, 263-283.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from satisfaction.sem_ml import RAM, Block, Pattern, weighted

ESTIMATORS = ("ml", "mlr", "mlm")
#: The fit measures a robust fit adds, in lavaan's ``fitMeasures()`` names and order.
ROBUST_FIT_NAMES = ["chisq.scaled", "df.scaled", "pvalue.scaled", "chisq.scaling.factor",
                    "baseline.chisq.scaled", "baseline.df.scaled", "baseline.pvalue.scaled",
                    "baseline.chisq.scaling.factor", "cfi.scaled", "tli.scaled", "cfi.robust",
                    "tli.robust", "rmsea.scaled", "rmsea.ci.lower.scaled",
                    "rmsea.ci.upper.scaled", "rmsea.robust", "rmsea.ci.lower.robust",
                    "rmsea.ci.upper.robust"]
Z975 = stats.norm.ppf(0.975)


@dataclass
class RobustResult:
    """Robust covariance of the estimates and the scaling of the test statistic.

    Attributes
    ----------
    estimator : str
        ``"mlr"`` or ``"mlm"``.
    vcov : numpy.ndarray
        Robust covariance matrix of the free parameters (divided by ``N``).
    trace : float
        ``tr(UΓ)`` of the model (``c · df``).
    scaling : float
        ``c = tr(UΓ)/df`` (NaN when df = 0).
    baseline_scaling : float
        ``c_b`` of the independence model.
    """

    estimator: str
    vcov: np.ndarray
    trace: float
    scaling: float
    baseline_scaling: float
    extra: dict[str, float] = field(default_factory=dict)


# -- building blocks -----------------------------------------------------------------


def vech_index(p: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column of each unique element of a p×p symmetric matrix (lower triangle)."""
    return np.tril_indices(p)


def normal_weight(sigma: np.ndarray) -> np.ndarray:
    """``W = ½ D'(Σ⁻¹ ⊗ Σ⁻¹)D``: ``W_{ij,kl} = ¼ m_ij m_kl (σ^{ik}σ^{jl} + σ^{il}σ^{jk})``.

    ``m`` is 1 on the diagonal and 2 off it; ``W`` is the inverse of the
    normal-theory covariance of ``vech(S)`` and ``Δ'WΔ`` the expected information.
    """
    P = np.linalg.inv(sigma)
    P = (P + P.T) / 2
    r, c = vech_index(len(sigma))
    m = np.where(r == c, 1.0, 2.0)
    W = P[np.ix_(r, r)] * P[np.ix_(c, c)] + P[np.ix_(r, c)] * P[np.ix_(c, r)]
    return 0.25 * np.outer(m, m) * W


def gamma_adf(x: np.ndarray) -> np.ndarray:
    """``Γ``: covariance (divisor N) of ``d_i = vech((x_i − x̄)(x_i − x̄)')`` (lavaan's NACOV)."""
    r, c = vech_index(x.shape[1])
    xc = x - x.mean(axis=0)
    d = xc[:, r] * xc[:, c]
    d = d - d.mean(axis=0)
    return d.T @ d / len(x)


def sigma_jacobian(ram: RAM, theta: np.ndarray, nparam: int) -> np.ndarray:
    """``Δ = ∂vech(Σ)/∂θ'`` of a RAM model, analytically.

    Every free cell contributes ``∂Σ = u v' + v u'`` with ``u``, ``v`` the
    columns of ``F(I−A)⁻¹`` and ``F(I−A)⁻¹S(I−A)⁻ᵀ`` of
    :meth:`~satisfaction.sem_ml.RAM.grad_info` (halved for a variance).
    """
    M = ram._layout(nparam)[4]
    *_, U, V = ram.sigma_factors(theta, nparam)
    r, c = vech_index(ram.p)
    delta = U[r] * V[c] + V[r] * U[c]
    return delta if M is None else delta @ M


def mean_jacobian(ram: RAM, theta: np.ndarray, nparam: int) -> np.ndarray:
    """``J_μ = ∂μ(θ)/∂θ'`` (p×q) of a RAM model with a mean structure, ``μ = F(I−A)⁻¹v``.

    A path ``A_ij`` contributes ``F(I−A)⁻¹e_i · ((I−A)⁻¹v)_j``, the intercept or
    mean of variable ``i`` contributes ``F(I−A)⁻¹e_i`` (as in
    :meth:`~satisfaction.sem_ml.RAM.grad_info`).
    """
    A, _ = ram.matrices(theta)
    p = ram.p
    B = np.linalg.inv(np.eye(A.shape[0]) - A)
    G = B[:p]
    J = np.zeros((p, nparam))
    if not ram.has_means:
        return J
    Bv = B @ ram.means(theta)
    e = ram.entries
    a = e.kind == 0
    np.add.at(J.T, e.param[a], (G[:, e.i[a]] * Bv[e.j[a]]).T)
    np.add.at(J.T, ram.mean_param, G[:, ram.mean_var].T)
    return J


def numeric_hessian(grad: Callable[[np.ndarray], np.ndarray], x: np.ndarray) -> np.ndarray:
    """Symmetrised central differences of an analytic gradient (step 1e-5·max(1, |x|))."""
    k = len(x)
    H = np.zeros((k, k))
    for j in range(k):
        h = 1e-5 * max(1.0, abs(x[j]))
        up, down = x.copy(), x.copy()
        up[j] += h
        down[j] -= h
        H[:, j] = (grad(up) - grad(down)) / (2 * h)
    return (H + H.T) / 2


def sigma_scores(x: np.ndarray, mu: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """Casewise scores of ``vech(Σ)``: ``vech(Σ⁻¹ e_i e_i' Σ⁻¹ − Σ⁻¹)``, diagonal halved."""
    P = np.linalg.inv(sigma)
    P = (P + P.T) / 2
    r, c = vech_index(len(sigma))
    z = (x - mu) @ P
    sc = z[:, r] * z[:, c] - P[r, c]
    sc[:, r == c] /= 2
    return sc


def _inv(a: np.ndarray) -> np.ndarray:
    return np.linalg.inv((a + a.T) / 2)


# -- complete data (one or more groups, fixed.x covariates) ---------------------------


def moment_keep(p: int, nx: int, meanstructure: bool) -> np.ndarray:
    """Which elements of ``(μ, vech Σ)`` are moments of the model under fixed.x.

    The exogenous observed covariates are the last ``nx`` variables; their means
    and (co)variances are fixed at the sample values (lavaan's ``fixed.x = TRUE``)
    and are neither moments nor parameters, so their rows drop out of ``Δ``, ``W``
    and ``Γ`` (lavaan zeroes them: the same traces and sandwiches).
    """
    r, c = vech_index(p)
    exo = np.arange(p) >= p - nx
    cov = ~(exo[r] & exo[c])
    return np.concatenate([~exo, cov]) if meanstructure else cov


def gamma_fixed_x(x: np.ndarray, nx: int, meanstructure: bool) -> np.ndarray:
    """``Γ`` (divisor N) of the sample moments with the covariates fixed (lavaan's NACOV).

    With ``ŷ_i`` the least-squares prediction of the endogenous variables from
    ``(1, x_i)`` (the covariates predict themselves; without covariates ``ŷ_i = ȳ``),
    ``d_i = ((y_i − ŷ_i), vech(ẏ_iẏ_i') − vech(ŷ̇_iŷ̇_i'))`` (dots: centred; the mean
    part only with a mean structure) and ``Γ = (1/N) Σ (d_i − d̄)(d_i − d̄)'``, as
    lavaan's ``lav_samplestats_Gamma(fixed.x = TRUE)``. Without covariates and mean
    structure this is :func:`gamma_adf`.
    """
    n, p = x.shape
    fitted = np.broadcast_to(x.mean(axis=0), x.shape).copy()
    if nx:
        design = np.column_stack([np.ones(n), x[:, p - nx:]])
        coef = np.linalg.lstsq(design, x[:, :p - nx], rcond=None)[0]
        fitted[:, :p - nx] = design @ coef
        fitted[:, p - nx:] = x[:, p - nx:]
    r, c = vech_index(p)
    xc = x - x.mean(axis=0)
    fc = fitted - fitted.mean(axis=0)
    d = xc[:, r] * xc[:, c] - fc[:, r] * fc[:, c]
    if meanstructure:
        d = np.hstack([x - fitted, d])
    d = d - d.mean(axis=0)
    return d.T @ d / n


def h1_weight(sigma: np.ndarray, meanstructure: bool) -> np.ndarray:
    """Normal-theory information of ``(μ, vech Σ)`` per respondent: ``diag(Σ⁻¹, W(Σ))``
    (``W(Σ)`` alone without a mean structure)."""
    W = normal_weight(sigma)
    if not meanstructure:
        return W
    return _bdiag([_inv(sigma), W])


def moment_scores(x: np.ndarray, mu: np.ndarray, sigma: np.ndarray, meanstructure: bool
                  ) -> np.ndarray:
    """Casewise scores of ``(μ, vech Σ)``: ``(Σ⁻¹(x_i − μ), vech(Σ⁻¹e_ie_i'Σ⁻¹ − Σ⁻¹))``,
    diagonal halved (lavaan's ``lav_mvnorm_scores_mu_vech_sigma``)."""
    sc = sigma_scores(x, mu, sigma)
    if not meanstructure:
        return sc
    return np.hstack([(x - mu) @ _inv(sigma), sc])


@dataclass
class CompleteGroup:
    """One group of a complete-data fit for :func:`complete_groups`.

    ``x`` are the group's rows (model order, covariates last), ``delta`` is
    ``∂(μ, vech Σ)/∂θ'`` (``∂vech Σ/∂θ'`` without a mean structure) at the
    estimates, ``mu``/``sigma`` the fitted moments (``mu`` the sample means
    without a mean structure).
    """

    x: np.ndarray
    delta: np.ndarray
    mu: np.ndarray
    sigma: np.ndarray


def _baseline_parts(x: np.ndarray, nx: int, meanstructure: bool
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The independence model of one group: its moments ``(μ_b, Σ_b)`` and ``Δ_b``.

    Free variances of the endogenous variables (and their means with a mean
    structure); the covariates' block is fixed at its sample values (fixed.x).
    """
    n, p = x.shape
    ny = p - nx
    xc = x - x.mean(axis=0)
    S = xc.T @ xc / n
    sigma = np.diag(np.diag(S))
    sigma[ny:, ny:] = S[ny:, ny:]
    r, c = vech_index(p)
    diag = np.flatnonzero(r == c)[:ny]
    off = p if meanstructure else 0
    delta = np.zeros((off + len(r), ny * (2 if meanstructure else 1)))
    delta[off + diag, np.arange(ny)] = 1.0
    if meanstructure:
        delta[np.arange(ny), ny + np.arange(ny)] = 1.0
    return x.mean(axis=0), sigma, delta


def complete_groups(estimator: str, groups: list[CompleteGroup], information: np.ndarray | None,
                    df: float, df_b: float, nx: int = 0, meanstructure: bool = False
                    ) -> RobustResult:
    """Robust covariance and scaling factors of a complete-data ML fit, any number of groups.

    With ``f_g = n_g/N``, per group the moments ``m_g = (μ_g, vech Σ_g)`` (covariates'
    elements left out, :func:`moment_keep`), ``Γ_g`` (:func:`gamma_fixed_x`),
    ``W_g = W(μ̂_g, Σ̂_g)`` (:func:`h1_weight`) and ``Δ_g``:

    MLM
        ``A = Σ f_gΔ_g'W_gΔ_g``, ``M = Σ f_gΔ_g'W_gΓ_gW_gΔ_g``, ``Cov = A⁻¹MA⁻¹/N``,
        ``tr(UΓ) = Σ_g tr(W_gΓ_g) − tr(A⁻¹M)`` (lavaan's
        ``lav_test_satorra_bentler_trace_original``: ``U`` block-diagonal over groups
        with ``f_gW_g``, ``Γ`` with ``Γ_g/f_g``).
    MLR
        ``A`` = ``information`` (the observed information per respondent, half the
        Hessian of ``Σ f_g F_g``), ``B = Σ f_gΔ_g'B₁,gΔ_g`` with ``B₁,g`` the mean
        cross-product of :func:`moment_scores` at the fitted moments, ``Cov = A⁻¹BA⁻¹/N``;
        ``tr(UΓ) = Σ_g tr(A₁,gΓ_g) − tr(A⁻¹B)`` with ``A₁,g = W(x̄_g, S_g)`` the unstructured
        h1 information (lavaan's ``lav_test_yuan_bentler_mplus_trace``).

    The independence model (:func:`_baseline_parts`, per group) is scaled the same
    way; at its estimates the observed information is the expected one.
    """
    if estimator not in ("mlr", "mlm"):
        raise ValueError(f"estimator must be 'mlr' or 'mlm', not {estimator!r}")
    total = sum(len(g.x) for g in groups)
    q = groups[0].delta.shape[1]
    A = np.zeros((q, q))
    meat = np.zeros((q, q))
    trace_h1 = 0.0
    trace_b = 0.0
    for g in groups:
        n, p = g.x.shape
        fg = n / total
        keep = moment_keep(p, nx, meanstructure)
        gamma = gamma_fixed_x(g.x, nx, meanstructure)[np.ix_(keep, keep)]
        delta = g.delta[keep]
        xbar = g.x.mean(axis=0)
        xc = g.x - xbar
        S = xc.T @ xc / n
        mu_b, sigma_b, delta_b = _baseline_parts(g.x, nx, meanstructure)
        delta_b = delta_b[keep]
        W_b = h1_weight(sigma_b, meanstructure)[np.ix_(keep, keep)]
        A_b = delta_b.T @ W_b @ delta_b
        if estimator == "mlm":
            W = h1_weight(g.sigma, meanstructure)[np.ix_(keep, keep)]
            WD = W @ delta
            A += fg * delta.T @ WD
            meat += fg * WD.T @ gamma @ WD
            trace_h1 += float(np.sum(W * gamma))
            WDb = W_b @ delta_b
            trace_b += float(np.sum(W_b * gamma)
                             - np.sum(_inv(A_b) * (WDb.T @ gamma @ WDb)))
        else:
            sc = moment_scores(g.x, g.mu, g.sigma, meanstructure)[:, keep] @ delta
            meat += fg * sc.T @ sc / n
            h1 = float(np.sum(h1_weight(S, meanstructure)[np.ix_(keep, keep)] * gamma))
            trace_h1 += h1
            scb = moment_scores(g.x, mu_b, sigma_b, meanstructure)[:, keep] @ delta_b
            trace_b += h1 - float(np.sum(_inv(A_b) * (scb.T @ scb / n)))
    if estimator == "mlr":
        if information is None:
            raise ValueError("MLR needs the observed information")
        A = information
    A_inv = _inv(A)
    vcov = A_inv @ meat @ A_inv / total
    trace = trace_h1 - float(np.sum(A_inv * meat))
    return RobustResult(estimator, vcov, trace, _scaling(trace, df), _scaling(trace_b, df_b))


def groups_information(blocks: list[Block], theta: np.ndarray, nparam: int) -> np.ndarray:
    """Observed information per respondent of a (multi-group, mean-structure) ML fit:
    half the Hessian of ``Σ_g f_g F_g`` (lavaan's "hessian"), by central differences
    of its analytic gradient (:func:`~satisfaction.sem_ml.weighted`)."""
    def grad(t: np.ndarray) -> np.ndarray:
        return weighted(blocks, t, nparam, with_info=False)[1]
    return numeric_hessian(grad, theta) / 2


def _group_delta(ram: RAM, theta: np.ndarray, nparam: int, meanstructure: bool) -> np.ndarray:
    delta = sigma_jacobian(ram, theta, nparam)
    if not meanstructure:
        return delta
    return np.vstack([mean_jacobian(ram, theta, nparam), delta])


def fit_complete(estimator: str, blocks: list[Block], xs: list[np.ndarray], theta: np.ndarray,
                 nparam: int, df: float, df_b: float, nx: int = 0) -> RobustResult:
    """:func:`complete_groups` of a fitted model: its blocks (RAM and sample moments of
    each group, a mean structure when the RAMs have one) and each group's rows."""
    meanstructure = all(b.ram.has_means and b.mean is not None for b in blocks)
    groups = []
    for b, x in zip(blocks, xs, strict=True):
        sigma = b.ram.implied(theta)["Sigma"]
        mu = b.ram.implied_mean(theta) if meanstructure else x.mean(axis=0)
        groups.append(CompleteGroup(x, _group_delta(b.ram, theta, nparam, meanstructure),
                                    mu, sigma))
    info = groups_information(blocks, theta, nparam) if estimator == "mlr" else None
    return complete_groups(estimator, groups, info, df, df_b, nx, meanstructure)


def complete_data(estimator: str, ram: RAM, theta: np.ndarray, nparam: int, x: np.ndarray,
                  df: float) -> RobustResult:
    """Robust covariance and scaling factors of a single-group complete-data ML fit
    without covariates or mean structure (:func:`complete_groups` with one group).

    Parameters
    ----------
    estimator : {"mlr", "mlm"}
    ram, theta, nparam
        The fitted model (:class:`~satisfaction.sem_ml.RAM`) and its estimates.
    x : numpy.ndarray
        The N×p data in the model's order of observed variables.
    df : float
        Degrees of freedom of the model's χ².
    """
    n, p = x.shape
    xc = x - x.mean(axis=0)
    block = Block(ram, xc.T @ xc / n, n)
    return fit_complete(estimator, [block], [x], theta, nparam, df, p * (p + 1) / 2 - p)


def _scaling(trace: float, df: float) -> float:
    if df <= 0:
        return math.nan
    c = trace / df
    return c if c > 0 else math.nan


# -- incomplete data (FIML) ----------------------------------------------------------


def _pattern_members(x: np.ndarray, pats: list[Pattern]) -> list[np.ndarray]:
    """Which rows of ``x`` (NaN = missing) are in each pattern of ``sem_ml.patterns``."""
    mask = ~np.isnan(x)
    out = []
    for pt in pats:
        key = np.zeros(x.shape[1], dtype=bool)
        key[pt.observed] = True
        out.append((mask == key).all(axis=1))
    return out


def _pattern_rows(x: np.ndarray, pats: list[Pattern]) -> list[np.ndarray]:
    """The rows of ``x`` (NaN = missing) in each pattern of ``sem_ml.patterns``."""
    return [x[m][:, pt.observed] for pt, m in zip(pats, _pattern_members(x, pats), strict=True)]


def available_moments(x: np.ndarray, w: np.ndarray | None = None
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Each variable's mean and variance (divisor ``Σ w``) from its available cases,
    weighted by ``w`` when given: the ML estimates of the independence model with
    incomplete data (its likelihood separates by variable)."""
    if w is None:
        return np.nanmean(x, axis=0), np.nanvar(x, axis=0)
    ok = ~np.isnan(x)
    wk = np.where(ok, np.asarray(w, dtype=float)[:, None], 0.0)
    xz = np.where(ok, x, 0.0)
    total = wk.sum(axis=0)
    mean = (wk * xz).sum(axis=0) / total
    return mean, (wk * np.where(ok, x - mean, 0.0) ** 2).sum(axis=0) / total


def fiml_scores(x: np.ndarray, pats: list[Pattern], mu: np.ndarray, sigma: np.ndarray,
                w: np.ndarray | None = None) -> np.ndarray:
    """Casewise scores of ``(μ, vech Σ)`` of the incomplete-data normal likelihood.

    For a respondent with observed part ``o``: ``Σ_oo⁻¹(x_o − μ_o)`` for the means
    and ``vech(Σ_oo⁻¹ e e' Σ_oo⁻¹ − Σ_oo⁻¹)`` (diagonal halved) for the covariances,
    zero for what the respondent did not answer. With respondent weights ``w`` (in
    the order of ``x``) each row is multiplied by its weight (lavaan's
    ``lav_mvnorm_missing_scores_mu_vech_sigma(wt = )``). Rows come pattern by pattern.
    """
    p = len(mu)
    r, c = vech_index(p)
    where = {(int(a), int(b)): k for k, (a, b) in enumerate(zip(r, c, strict=True))}
    rows = []
    members = _pattern_members(x, pats)
    for pt, member in zip(pats, members, strict=True):
        xo = x[member][:, pt.observed]
        o = pt.observed
        sub = sigma[np.ix_(o, o)]
        P = np.linalg.inv(sub)
        P = (P + P.T) / 2
        z = (xo - mu[o]) @ P
        ro, co = vech_index(len(o))
        sc_sigma = z[:, ro] * z[:, co] - P[ro, co]
        sc_sigma[:, ro == co] /= 2
        out = np.zeros((len(xo), p + len(r)))
        out[:, o] = z
        cols = [p + where[(int(o[a]), int(o[b]))] for a, b in zip(ro, co, strict=True)]
        out[:, cols] = sc_sigma
        if w is not None:
            out *= np.asarray(w, dtype=float)[member][:, None]
        rows.append(out)
    return np.vstack(rows)


def fiml_h1_information(pats: list[Pattern], mu: np.ndarray, sigma: np.ndarray,
                        objective: Callable[[np.ndarray, np.ndarray],
                                            tuple[float, np.ndarray, np.ndarray]]
                        ) -> np.ndarray:
    """Observed information of the saturated model at its EM estimates (per respondent).

    Half the Hessian of the FIML discrepancy in ``(μ, vech Σ)``, by central
    differences of its analytic gradient (``objective`` is
    :func:`~satisfaction.sem_ml.fiml_objective`).
    """
    p = len(mu)
    r, c = vech_index(p)
    off = np.where(r == c, 1.0, 2.0)

    def grad(par: np.ndarray) -> np.ndarray:
        s = np.zeros((p, p))
        s[r, c] = par[p:]
        s[c, r] = par[p:]
        _, W, gmu = objective(pats, s, par[:p])
        return np.concatenate([gmu, W[r, c] * off])

    return numeric_hessian(grad, np.concatenate([mu, sigma[r, c]])) / 2


# -- fit measures and parameter table ------------------------------------------------


def _rmsea_bounds(chisq: float, df: float, n: int, groups: int) -> tuple[float, float]:
    """90 % interval of ``sqrt(λ/(N·df))``: λ from the noncentral χ² (lavaan's rules)."""
    if not (math.isfinite(chisq) and math.isfinite(df)) or df < 1:
        return 0.0, 0.0
    from scipy import optimize

    def at(lam: float, target: float) -> float:
        dist = stats.ncx2(df, lam) if lam > 0 else stats.chi2(df)
        return float(dist.cdf(chisq)) - target

    if at(0.0, 0.95) < 0:
        lo = 0.0
    else:
        lo = math.sqrt(optimize.brentq(at, 0.0, chisq, args=(0.95,), xtol=1e-12) / (n * df))
    n_rmsea = max(n, chisq * 4)
    if at(n_rmsea, 0.05) > 0 or at(0.0, 0.05) < 0:
        hi = 0.0
    else:
        hi = math.sqrt(optimize.brentq(at, 0.0, n_rmsea, args=(0.05,), xtol=1e-12) / (n * df))
    scale = math.sqrt(groups)
    return lo * scale, hi * scale


def _cfi(t: float, df: float, tb: float, dfb: float, c: float = 1.0, cb: float = 1.0) -> float:
    t1 = max(t - c * df, 0.0)
    t2 = max(t - c * df, tb - cb * dfb, 0.0)
    return 1.0 if math.isclose(t1, 0, abs_tol=1.5e-8) and math.isclose(t2, 0, abs_tol=1.5e-8) \
        else 1 - t1 / t2


def _tli(t: float, df: float, tb: float, dfb: float, c: float = 1.0, cb: float = 1.0) -> float:
    t1 = (t - c * df) * dfb
    t2 = (tb - cb * dfb) * df
    return 1 - t1 / t2 if df > 0 and abs(t2) > 0 else 1.0


def scaled_measures(chisq: float, df: float, chisq_b: float, df_b: float, c: float,
                    c_b: float, n: int, groups: int = 1) -> dict[str, float]:
    """lavaan's scaled (``*.scaled``) and robust (``*.robust``) fit measures.

    See the module docstring for the formulas. ``c``/``c_b`` are the scaling
    factors of the model and of the baseline; NaN when unavailable.
    """
    nan = math.nan
    sc = chisq / c if c > 0 else nan
    sc_b = chisq_b / c_b if c_b > 0 else nan
    out = {
        "chisq.scaled": sc, "df.scaled": float(df),
        "pvalue.scaled": float(stats.chi2.sf(sc, df)) if df > 0 and math.isfinite(sc) else nan,
        "chisq.scaling.factor": c,
        "baseline.chisq.scaled": sc_b, "baseline.df.scaled": float(df_b),
        "baseline.pvalue.scaled": float(stats.chi2.sf(sc_b, df_b))
        if math.isfinite(sc_b) else nan,
        "baseline.chisq.scaling.factor": c_b,
    }
    finite = math.isfinite(c) and math.isfinite(c_b)
    out["cfi.scaled"] = _cfi(sc, df, sc_b, df_b) if finite else nan
    out["tli.scaled"] = _tli(sc, df, sc_b, df_b) if finite else nan
    out["cfi.robust"] = _cfi(chisq, df, chisq_b, df_b, c, c_b) if finite else nan
    out["tli.robust"] = _tli(chisq, df, chisq_b, df_b, c, c_b) if finite else nan
    g = math.sqrt(groups)
    if df > 0 and math.isfinite(c):
        out["rmsea.scaled"] = math.sqrt(max(chisq / n / (df * c) - 1 / n, 0.0)) * g
        out["rmsea.ci.lower.scaled"], out["rmsea.ci.upper.scaled"] = _rmsea_bounds(
            chisq, df * c, n, groups)
        out["rmsea.robust"] = math.sqrt(max(chisq / n / df - c / n, 0.0)) * g
        lo, hi = _rmsea_bounds(sc, df, n, groups)
        out["rmsea.ci.lower.robust"], out["rmsea.ci.upper.robust"] = (
            lo * math.sqrt(c), hi * math.sqrt(c))
    else:
        for k in ("rmsea.scaled", "rmsea.ci.lower.scaled", "rmsea.ci.upper.scaled",
                  "rmsea.robust", "rmsea.ci.lower.robust", "rmsea.ci.upper.robust"):
            out[k] = 0.0 if df == 0 else nan
    return {k: out[k] for k in ROBUST_FIT_NAMES}


def robust_se_table(params: pd.DataFrame, param_of_row: list[int], vcov: np.ndarray,
                    offset: int = 0) -> pd.DataFrame:
    """The parameter table with ``se z pvalue ci.lower ci.upper`` from ``vcov``.

    Rows ``offset + k`` hold the model rows ``k``; a free row's standard error is
    ``sqrt(vcov[q, q])`` of its parameter ``q``; fixed rows are left as they are.
    """
    out = params.copy()
    with np.errstate(invalid="ignore"):
        se_all = np.sqrt(np.where(np.diag(vcov) > 0, np.diag(vcov), np.nan))
    # all rows at once (row-by-row .loc assignment took 15 s on a 27-item two-group model)
    free = np.array([k for k, q in enumerate(param_of_row) if q >= 0], dtype=int)
    if len(free) == 0:
        return out
    rows = offset + free
    est = out["est"].to_numpy(dtype=float)[rows]
    s = se_all[np.asarray(param_of_row, dtype=int)[free]]
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(s > 0, est / s, math.nan)
    p = np.where(np.isfinite(z), 2 * stats.norm.sf(np.abs(z)), math.nan)
    for column, values in zip(["se", "z", "pvalue", "ci.lower", "ci.upper"],
                              [s, z, p, est - Z975 * s, est + Z975 * s], strict=True):
        if column not in out.columns:
            out[column] = math.nan
        out[column] = out[column].astype(float)
        out.iloc[rows, out.columns.get_loc(column)] = values
    return out


# -- nested models -------------------------------------------------------------------


@dataclass
class ScaledDifference:
    """Result of :func:`scaled_difference` (lavaan's ``anova``/``lavTestLRT`` row)."""

    chisq_diff: float
    df_diff: float
    scaling_factor: float
    pvalue: float

    def to_dict(self) -> dict[str, float]:
        return {"chisq.diff": self.chisq_diff, "df.diff": self.df_diff,
                "scaling.factor": self.scaling_factor, "pvalue": self.pvalue}


def scaled_difference(chisq1: float, df1: float, c1: float, chisq0: float, df0: float,
                      c0: float) -> ScaledDifference:
    """Satorra-Bentler (2001) scaled χ² difference of nested models.

    Model 0 is the restricted one (more df). ``c_d = (df₀c₀ − df₁c₁)/(df₀ − df₁)``,
    ``T_d = (T₀ − T₁)/c_d`` on ``df₀ − df₁`` degrees of freedom (lavaan's
    ``lavTestLRT(method = "satorra.bentler.2001")``); ``T`` are the unscaled
    statistics. A saturated model 1 (df₁ = 0) has ``c₁ = 1``. A negative ``c_d``
    gives NaN (lavaan warns "scaling factor is negative").

    Examples
    --------
    >>> d = scaled_difference(85.306, 24, 0.979, 153.527, 27, 1.040)
    >>> round(d.scaling_factor, 3)
    1.528
    """
    if df1 == 0:
        c1 = 1.0
    m = df0 - df1
    if m <= 0:
        raise ValueError("model 0 must be nested in model 1 with more degrees of freedom")
    cd = (df0 * c0 - df1 * c1) / m
    if not cd > 0:
        return ScaledDifference(math.nan, m, math.nan, math.nan)
    t = (chisq0 - chisq1) / cd
    return ScaledDifference(t, m, cd, float(stats.chi2.sf(t, m)))


__all__ = ["ESTIMATORS", "ROBUST_FIT_NAMES", "CompleteGroup", "FimlData", "RobustResult",
           "ScaledDifference", "apply_complete", "apply_fiml", "complete_data",
           "complete_groups", "corrected_measures", "fiml_corrected", "fiml_groups_mlr",
           "fit_complete", "gamma_adf", "gamma_fixed_x", "h1_weight", "mean_jacobian",
           "moment_keep", "moment_scores", "normal_weight", "robust_se_table",
           "scaled_difference", "scaled_measures", "sigma_jacobian"]


# -- applying a robust estimator to a fitted model -------------------------------------


def apply_complete(result: object, estimator: str, blocks: list[Block], xs: list[np.ndarray],
                   theta: np.ndarray, nparam: int, param_of_rows: list[list[int]], nx: int = 0
                   ) -> np.ndarray | None:
    """Robust standard errors and fit measures on an ML result, in place; returns the vcov.

    ``result`` is a :class:`~satisfaction.model.SEMResult` of a complete-data fit
    with one or more groups (``blocks`` and each group's rows ``xs``; ``nx``
    fixed.x covariates, last in the model's order): the rows of group ``g`` in its
    parameter table (``len(param_of_rows[g])`` of them, groups one after the
    other) get the robust ``se z pvalue ci.*`` (:func:`fit_complete`) and its
    ``fit_measures`` the :data:`ROBUST_FIT_NAMES`. When the ML information is
    singular (``result.vcov`` is None; the fit already says so) there is no
    sandwich: the measures are NaN (lavaan: "could not invert information matrix
    needed for robust test statistic") and None is returned.
    """
    fm = result.fit_measures  # type: ignore[attr-defined]
    if result.vcov is None:
        fm.update({k: math.nan for k in ROBUST_FIT_NAMES})
        return None
    rob = fit_complete(estimator, blocks, xs, theta, nparam, fm["df"], fm["baseline.df"], nx)
    params = result.parameters  # type: ignore[attr-defined]
    offset = 0
    for rows in param_of_rows:
        params = robust_se_table(params, rows, rob.vcov, offset)
        offset += len(rows)
    result.parameters = params  # type: ignore[attr-defined]
    fm.update(scaled_measures(fm["chisq"], fm["df"], fm["baseline.chisq"], fm["baseline.df"],
                              rob.scaling, rob.baseline_scaling, sum(len(x) for x in xs),
                              len(blocks)))
    return rob.vcov


def _fiml_trace_part(x: np.ndarray, pats: list[Pattern], delta: np.ndarray,
                     information: np.ndarray, mu: np.ndarray, sigma: np.ndarray
                     ) -> tuple[np.ndarray, float]:
    """``(A⁻¹BA⁻¹/N, tr(A⁻¹B))`` of one FIML model (``B`` from :func:`fiml_scores`)."""
    n = len(x)
    sc = fiml_scores(x, pats, mu, sigma) @ delta
    B = sc.T @ sc / n
    A_inv = _inv(information)
    return A_inv @ B @ A_inv / n, float(np.sum(A_inv * B))


def apply_fiml(result: object, x: np.ndarray, pats: list[Pattern], ram: RAM,
               theta: np.ndarray, nu: np.ndarray, information: np.ndarray,
               mu1: np.ndarray, sigma1: np.ndarray, param_of_row: list[int],
               observed: list[str],
               objective: Callable[[list[Pattern], np.ndarray, np.ndarray],
                                   tuple[float, np.ndarray, np.ndarray]]) -> np.ndarray:
    """MLR with FIML on an ML result, in place; returns the robust vcov of ``(θ, ν)``.

    ``information`` is the observed information of ``(θ, ν)`` per respondent (half
    the Hessian of the FIML discrepancy ``objective``). Standard errors of the
    model rows and of the intercepts become Huber-White; ``fit_measures`` get the
    Yuan-Bentler (Mplus) ``*.scaled`` measures, with the independence model
    (free means and variances) scaled the same way. The ``*.robust`` CFI, TLI and
    RMSEA come from Savalei's corrected statistic (:func:`fiml_corrected`).
    """
    p = len(nu)
    q = len(theta)
    r, c = vech_index(p)
    pstar = len(r)
    # Δ of the model in (μ, vech Σ) for (θ, ν): means are the free intercepts ν
    delta = np.zeros((p + pstar, q + p))
    delta[:p, q:] = np.eye(p)
    delta[p:, :q] = sigma_jacobian(ram, theta, q)
    sigma = ram.implied(theta)["Sigma"]
    vcov, tr_h0 = _fiml_trace_part(x, pats, delta, information, nu, sigma)
    # unstructured h1: observed information and scores at the EM estimates
    a1 = fiml_h1_information(pats, mu1, sigma1, objective)
    sc1 = fiml_scores(x, pats, mu1, sigma1)
    tr_h1 = float(np.sum(_inv(a1) * (sc1.T @ sc1 / len(x))))
    fm = result.fit_measures  # type: ignore[attr-defined]
    scaling = _scaling(tr_h1 - tr_h0, fm["df"])
    # independence model: free means and variances, each from its available cases
    base_mu = np.nanmean(x, axis=0)
    base_sigma = np.diag(np.nanvar(x, axis=0))
    delta_b = np.zeros((p + pstar, 2 * p))
    delta_b[:p, :p] = np.eye(p)
    delta_b[p + np.flatnonzero(r == c), p + np.arange(p)] = 1.0
    info_b = delta_b.T @ fiml_h1_information(pats, base_mu, base_sigma, objective) @ delta_b
    _, tr_b = _fiml_trace_part(x, pats, delta_b, info_b, base_mu, base_sigma)
    scaling_b = _scaling(tr_h1 - tr_b, fm["baseline.df"])
    params = robust_se_table(result.parameters, param_of_row, vcov)  # type: ignore[attr-defined]
    pos = {v: j for j, v in enumerate(observed)}
    intercepts = [i for i in params.index
                  if params.at[i, "op"] == "~1" and params.at[i, "lhs"] in pos]
    se_nu = np.sqrt(np.clip(np.diag(vcov)[q:], 0.0, None))
    for i in intercepts:
        j = pos[params.at[i, "lhs"]]
        est, s = float(params.at[i, "est"]), float(se_nu[j])
        z = est / s if s > 0 else math.nan
        params.loc[i, ["se", "z", "pvalue", "ci.lower", "ci.upper"]] = [
            s, z, 2 * stats.norm.sf(abs(z)) if math.isfinite(z) else math.nan,
            est - Z975 * s, est + Z975 * s]
    result.parameters = params  # type: ignore[attr-defined]
    measures = scaled_measures(fm["chisq"], fm["df"], fm["baseline.chisq"], fm["baseline.df"],
                               scaling, scaling_b, len(x))
    corr = fiml_corrected([FimlData(x, pats, mu1, sigma1)], [delta], [(nu, sigma)],
                          [delta_b], [(base_mu, base_sigma)], fm["df"], fm["baseline.df"],
                          objective)
    measures.update(corrected_measures(corr, fm["df"], fm["baseline.df"], len(x)))
    fm.update(measures)
    return vcov


# -- robust CFI/TLI/RMSEA with FIML: Savalei's corrected statistic ------------------


@dataclass
class FimlData:
    """One group's incomplete data for :func:`fiml_corrected`: its rows (NaN = missing),
    missingness patterns and EM (saturated) moments."""

    x: np.ndarray
    pats: list[Pattern]
    mu1: np.ndarray
    sigma1: np.ndarray
    #: respondent weights in the order of ``x`` (lavaan's sampling.weights), or None
    w: np.ndarray | None = None

    @property
    def size(self) -> float:
        """``n_g``: the group's respondents, or their weight total when weighted."""
        return len(self.x) if self.w is None else float(np.sum(self.w))

    def cross(self, scores: np.ndarray) -> np.ndarray:
        """``Σ_i s_i s_i' / n_g`` of casewise scores (already times ``w_i`` when weighted:
        lavaan's ``lav_mvnorm_missing_information_firstorder``)."""
        return scores.T @ scores / self.size


def complete_discrepancy(mean: np.ndarray, cov: np.ndarray, mu: np.ndarray,
                         sigma: np.ndarray) -> float:
    """Complete-data ML discrepancy of the moments ``(mean, cov)`` from ``(μ, Σ)``:
    ``log|Σ| + tr(cov Σ⁻¹) + (mean − μ)'Σ⁻¹(mean − μ) − log|cov| − p``."""
    d = mean - mu
    inv = np.linalg.inv(sigma)
    return float(np.linalg.slogdet(sigma)[1] + np.sum(cov * inv) + d @ inv @ d
                 - np.linalg.slogdet(cov)[1] - len(mu))


def _bdiag(blocks: list[np.ndarray]) -> np.ndarray:
    size = sum(len(b) for b in blocks)
    out = np.zeros((size, size))
    k = 0
    for b in blocks:
        out[k:k + len(b), k:k + len(b)] = b
        k += len(b)
    return out


def fiml_corrected(data: list[FimlData], delta: list[np.ndarray],
                   moments: list[tuple[np.ndarray, np.ndarray]],
                   delta_b: list[np.ndarray], moments_b: list[tuple[np.ndarray, np.ndarray]],
                   df: float, df_b: float,
                   objective: Callable[[list[Pattern], np.ndarray, np.ndarray],
                                       tuple[float, np.ndarray, np.ndarray]], nx: int = 0
                   ) -> dict[str, float]:
    """Savalei's FIML-corrected statistic and its scaling (lavaan's
    ``lav_fit_fiml_corrected``, version "V3", used for ``*.robust`` with MLR).

    With ``nx`` fixed.x covariates (the last variables) their elements of
    ``(μ, vech Σ)`` leave every matrix (:func:`moment_keep`; lavaan zeroes them and
    inverts the rest).

    The model's FIML estimates are held against the EM moments ``(μ̃_g, Σ̃_g)`` as if
    they were complete-data sample moments: ``T₃ = Σ_g n_g F_ML(μ̃_g, Σ̃_g; θ̂)``
    (no refit). With ``f_g = n_g/N``, per group the unstructured h1 observed
    information of the incomplete data ``W_m`` (:func:`fiml_h1_information`), its
    first-order counterpart ``J_m`` (cross-product of :func:`fiml_scores`) and the
    complete-data h1 information at the EM moments ``W_c = diag(Σ̃⁻¹, W(Σ̃))``,
    block-diagonal over groups ``W_m = ⊕ f_g W_m,g``, ``W_c = ⊕ f_g W_c,g``,
    ``Γ = ⊕ W_m,g⁻¹J_m,gW_m,g⁻¹ / f_g``, and ``Δ`` the stacked Jacobians of
    ``(μ_g, vech Σ_g)``:

    .. math::  U = W_m − W_mΔ(Δ'W_mΔ)^{-1}Δ'W_m, \\quad
               c₃ = \\operatorname{tr}(U W_m^{-1} W_c W_m^{-1} U Γ) / df.

    The independence model (means and variances free, fitted by FIML) gives
    ``T₃,b`` and ``c₃,b`` the same way. Then (Savalei, 2018; Zhang & Savalei, 2023)
    ``rmsea.robust = sqrt(G) sqrt(max(T₃/(N·df) − c₃/N, 0))``,
    ``cfi.robust = 1 − max(T₃ − c₃df, 0)/max(T₃ − c₃df, T₃,b − c₃,b df_b, 0)`` and
    ``tli.robust = 1 − (T₃ − c₃df)df_b/((T₃,b − c₃,b df_b)df)``.

    Returns ``{"XX3", "c3", "XX3.null", "c3.null"}``.
    """
    total = sum(d.size for d in data)
    f = [d.size / total for d in data]
    keep = moment_keep(data[0].x.shape[1], nx, True)
    wm, wmi, wc, gam = [], [], [], []
    for d, fg in zip(data, f, strict=True):
        a1 = fiml_h1_information(d.pats, d.mu1, d.sigma1, objective)[np.ix_(keep, keep)]
        j1 = d.cross(fiml_scores(d.x, d.pats, d.mu1, d.sigma1, d.w)[:, keep])
        a1_inv = _inv(a1)
        wm.append(fg * a1)
        wmi.append(a1_inv / fg)
        wc.append(fg * h1_weight(d.sigma1, True)[np.ix_(keep, keep)])
        gam.append(a1_inv @ j1 @ a1_inv / fg)
    Wm, Wmi, Wc, Gamma = _bdiag(wm), _bdiag(wmi), _bdiag(wc), _bdiag(gam)
    middle = Wmi @ Wc @ Wmi

    def trace(dl: list[np.ndarray]) -> float:
        D = np.vstack([d[keep] for d in dl])
        WD = Wm @ D
        U = Wm - WD @ _inv(D.T @ WD) @ WD.T
        return float(np.trace(U @ middle @ U @ Gamma))

    def stat(mom: list[tuple[np.ndarray, np.ndarray]]) -> float:
        return sum(d.size * complete_discrepancy(d.mu1, d.sigma1, mu, sigma)
                   for d, (mu, sigma) in zip(data, mom, strict=True))

    return {"XX3": stat(moments), "c3": _scaling(trace(delta), df),
            "XX3.null": stat(moments_b), "c3.null": _scaling(trace(delta_b), df_b)}


def corrected_measures(corr: dict[str, float], df: float, df_b: float, n: int,
                       groups: int = 1) -> dict[str, float]:
    """``cfi.robust tli.robust rmsea.robust rmsea.ci.*.robust`` from
    :func:`fiml_corrected` (lavaan 0.6.14's formulas; the interval inverts the
    noncentral χ² at ``T₃/c₃`` and multiplies ``λ`` by ``c₃``)."""
    t, c, tb, cb = corr["XX3"], corr["c3"], corr["XX3.null"], corr["c3.null"]
    nan = math.nan
    out = {k: nan for k in ("cfi.robust", "tli.robust", "rmsea.robust",
                            "rmsea.ci.lower.robust", "rmsea.ci.upper.robust")}
    if not all(math.isfinite(v) for v in (t, c)):
        return out
    if math.isfinite(tb) and math.isfinite(cb):
        out["cfi.robust"] = _cfi(t, df, tb, df_b, c, cb)
        out["tli.robust"] = _tli(t, df, tb, df_b, c, cb)
    if df > 0:
        out["rmsea.robust"] = math.sqrt(max(t / n / df - c / n, 0.0)) * math.sqrt(groups)
        lo, hi = _rmsea_bounds(t / c, df, n, groups)
        out["rmsea.ci.lower.robust"], out["rmsea.ci.upper.robust"] = (
            lo * math.sqrt(c), hi * math.sqrt(c))
    return out


def fiml_groups_mlr(data: list[FimlData], delta: list[np.ndarray],
                    moments: list[tuple[np.ndarray, np.ndarray]], information: np.ndarray,
                    fm: dict[str, float],
                    objective: Callable[[list[Pattern], np.ndarray, np.ndarray],
                                        tuple[float, np.ndarray, np.ndarray]], nx: int = 0
                    ) -> tuple[np.ndarray, dict[str, float]]:
    """MLR with multi-group FIML: the robust vcov and lavaan's scaled and robust measures.

    ``delta[g]`` is ``∂(μ_g, vech Σ_g)/∂θ'`` of group ``g``, ``moments[g]`` its fitted
    ``(μ_g, Σ_g)``, ``information`` the observed information of the whole fit per
    respondent (half the Hessian of ``Σ_g n_g/N F_g``) and ``fm`` its ML fit
    measures. With ``f_g = n_g/N``: ``B = Σ_g f_g Δ_g'B₁,gΔ_g`` (:func:`fiml_scores`
    at the fitted moments), ``Cov = A⁻¹BA⁻¹/N``; the Yuan-Bentler (Mplus) trace
    ``Σ_g tr(A₁,g⁻¹B₁,g) − tr(A⁻¹B)`` with the unstructured h1 matrices at each group's
    EM moments; the independence model (free means and variances per group) the
    same way; ``*.robust`` from :func:`fiml_corrected`. With ``nx`` fixed.x
    covariates (the last variables, complete) their elements of ``(μ, vech Σ)``
    leave every matrix (:func:`moment_keep`) and the independence model keeps
    their sample block (lavaan's baseline with fixed.x).

    With respondent weights (``FimlData.w``, lavaan's ``sampling.weights`` with
    ``missing = "ml"``) ``n_g`` is the group's weight total, every casewise score is
    multiplied by its weight (``B₁,g = Σ_i w_i² s_i s_i'/n_g``) and the independence
    model's moments are weighted; tested in tests/test_sem_weights.py against
    tests/reference/lavaan_fiml_weights.R.
    """
    total = sum(d.size for d in data)
    groups = len(data)
    q = information.shape[0]
    p = len(data[0].mu1)
    ny = p - nx
    r, c = vech_index(p)
    keep = moment_keep(p, nx, True)
    B = np.zeros((q, q))
    tr_h1 = 0.0
    info_b = np.zeros((2 * ny * groups, 2 * ny * groups))
    B_b = np.zeros_like(info_b)
    delta_b, moments_b = [], []
    for g, (d, dl, (mu, sigma)) in enumerate(zip(data, delta, moments, strict=True)):
        sc = fiml_scores(d.x, d.pats, mu, sigma, d.w)[:, keep] @ dl[keep]
        B += sc.T @ sc / total
        sc1 = fiml_scores(d.x, d.pats, d.mu1, d.sigma1, d.w)[:, keep]
        a1 = fiml_h1_information(d.pats, d.mu1, d.sigma1, objective)[np.ix_(keep, keep)]
        tr_h1 += float(np.sum(_inv(a1) * d.cross(sc1)))
        base_mu, base_var = available_moments(d.x, d.w)
        base_sigma = np.diag(base_var)
        if nx:
            wx = np.ones(len(d.x)) if d.w is None else d.w
            xc = d.x[:, ny:] - wx @ d.x[:, ny:] / wx.sum()
            base_sigma[ny:, ny:] = (xc * wx[:, None]).T @ xc / wx.sum()
        db = np.zeros((p + len(r), 2 * ny * groups))
        db[:ny, 2 * ny * g: 2 * ny * g + ny] = np.eye(ny)
        db[p + np.flatnonzero(r == c)[:ny], 2 * ny * g + ny + np.arange(ny)] = 1.0
        fg = d.size / total
        h_b = fiml_h1_information(d.pats, base_mu, base_sigma, objective)[np.ix_(keep, keep)]
        info_b += fg * db[keep].T @ h_b @ db[keep]
        scb = fiml_scores(d.x, d.pats, base_mu, base_sigma, d.w)[:, keep] @ db[keep]
        B_b += scb.T @ scb / total
        delta_b.append(db)
        moments_b.append((base_mu, base_sigma))
    A_inv = _inv(information)
    vcov = A_inv @ B @ A_inv / total
    scaling = _scaling(tr_h1 - float(np.sum(A_inv * B)), fm["df"])
    scaling_b = _scaling(tr_h1 - float(np.sum(_inv(info_b) * B_b)), fm["baseline.df"])
    measures = scaled_measures(fm["chisq"], fm["df"], fm["baseline.chisq"], fm["baseline.df"],
                               scaling, scaling_b, total, groups)
    corr = fiml_corrected(data, delta, moments, delta_b, moments_b, fm["df"],
                          fm["baseline.df"], objective, nx)
    measures.update(corrected_measures(corr, fm["df"], fm["baseline.df"], total, groups))
    return vcov, measures
