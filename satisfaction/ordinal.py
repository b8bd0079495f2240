"""Ordinal items: thresholds, polychoric correlations and WLSMV, as lavaan's ``ordered =``.

Likert answers are categories, not numbers. The ordinal factor model reads
each item ``y`` as a coarsened standard-normal response ``y*``: ``y = k`` when
``τ_{k-1} < y* ≤ τ_k``. The model is fitted, as lavaan 0.6 does with
``ordered = ...`` and ``estimator = "WLSMV"`` (and tested against lavaan 0.6.14
in tests/test_ordinal.py; reference tests/reference/lavaan_ordinal.R), in three
steps.

1. Sample statistics, by the two-step method (Olsson, 1979; Muthén, 1984)
   Thresholds from each item's margin, ``τ_k = Φ⁻¹(P(y ≤ k))``; then each
   polychoric correlation ``ρ_ij`` maximises the bivariate likelihood
   ``Σ_ab n_ab log π_ab(ρ)`` of the item pair's contingency table with the
   thresholds held at their step-one values, where

   .. math:: π_ab = Φ_2(τ_a, τ'_b; ρ) − Φ_2(τ_{a-1}, τ'_b; ρ)
                    − Φ_2(τ_a, τ'_{b-1}; ρ) + Φ_2(τ_{a-1}, τ'_{b-1}; ρ).

   lavaan's conventions for sparse tables are kept (they move the estimate
   when a respondent sits in a cell of tiny probability): ``π_ab`` below √ε
   counts as √ε and its cell leaves the scores; 2×2 tables with an empty cell
   (see :func:`polychoric_pair`).

2. Their asymptotic covariance (lavaan's ``NACOV``, Muthén 1984)
   From the casewise scores: ``s_τ`` of each item's univariate likelihood
   with respect to its thresholds and ``s_ρ`` of each pair's bivariate
   likelihood with respect to ``ρ``. With ``A₁₁`` block-diagonal (per item
   ``Σ s_τ s_τ'``), ``A₂₂ = diag(Σ s_ρ²)``, ``A₂₁`` the cross-products of
   ``s_ρ`` with the bivariate scores of the pair's thresholds, and the
   two-step sandwich

   .. math:: B^{-1} = \\begin{pmatrix} A_{11}^{-1} & 0 \\\\
             -A_{22}^{-1} A_{21} A_{11}^{-1} & A_{22}^{-1} \\end{pmatrix},\\qquad
             Γ = N · B^{-1} (Σ_i s_i s_i') B^{-\\top}.

3. The model, by diagonally weighted least squares (DWLS) on
   ``s = (τ, ρ)`` with ``W = diag(Γ)⁻¹``, delta parameterisation:
   ``Σ* = ΛΨΛ' + Θ`` with unit diagonal (the residual variances of the items
   are not parameters but ``1 − diag(ΛΨΛ')``), thresholds free, intercepts and
   latent means 0, latent variances free with the marker loading fixed at 1
   (lavaan's defaults for ``ordered =``).

   .. math:: F = (s − σ(θ))' W (s − σ(θ)),\\qquad T = (N − 1)·F

   (lavaan 0.6 multiplies the least-squares discrepancy by ``N − 1`` and uses
   ``N − 1`` in the RMSEA). Standard errors: the sandwich
   ``(1/(N−1))(Δ'WΔ)⁻¹ Δ'WΓWΔ (Δ'WΔ)⁻¹`` with
   ``Δ = ∂σ/∂θ'`` (lavaan's ``se = "robust.sem"``). Test: mean-and-variance
   adjusted ("scaled and shifted", Asparouhov & Muthén, 2010; lavaan's
   ``test = "scaled.shifted"``): with ``U = W − WΔ(Δ'WΔ)⁻¹Δ'W``,
   ``a = sqrt(df / tr((UΓ)²))``, ``b = df − a·tr(UΓ)``, ``T_ss = a·T + b``,
   reported as ``chisq.scaled`` with ``chisq.scaling.factor = 1/a`` and
   ``chisq.shift.parameters = b``. The baseline model (every correlation 0,
   thresholds free) gives ``baseline.chisq`` and its own ``T_ss``; the
   ``*.robust`` indices follow Savalei (2021) (:func:`robust_indices`).
   ``std.all``, the effects and ``:=`` parameters get delta-method intervals
   with the items' residual variances moving with θ (:class:`DeltaRAM`).

Bivariate normal distribution function: Owen's (1956) formula through
``scipy.special.owens_t`` (Patefield & Tandy, 2000):
``Φ₂(h, k; ρ) = ½Φ(h) + ½Φ(k) − T(h, a_h) − T(k, a_k) − β`` with
``a_h = (k − ρh)/(h√(1−ρ²))``, ``a_k = (h − ρk)/(k√(1−ρ²))`` and ``β = ½`` when
``h`` and ``k`` have opposite signs. It is accurate to double precision and
vectorised over whole tables and grids of ``ρ``; scipy's
``multivariate_normal.cdf`` gives the same values in two dimensions but goes
through its general n-dimensional integrator point by point (some 35 times
slower on a table), and semopy's polychoric code fails on current SciPy.

References
----------
Olsson, U. (1979). Maximum likelihood estimation of the polychoric correlation
coefficient. *Psychometrika*, 44, 443-460.
Muthén, B. (1984). A general structural equation model with dichotomous, ordered
categorical, and continuous latent variable indicators. *Psychometrika*, 49, 115-132.
Owen, D. B. (1956). Tables for computing bivariate normal probabilities. *Annals of
Mathematical Statistics*, 27, 1075-1090.
Asparouhov, T., & Muthén, B. (2010). Simple second order chi-square correction.
Mplus technical appendix.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from satisfaction import model as sem
from satisfaction.defined import evaluate
from satisfaction.diagnostics import Diagnostic
from satisfaction.errors import InputError, UsageError
from satisfaction.questionnaire import Questionnaire
from satisfaction.robust import normal_weight, sigma_jacobian
from satisfaction.sem_ml import RAM, ParRow, Structure, build_ram

#: A polychoric correlation is estimated within [−RHO_MAX, RHO_MAX] (lavaan's bounds).
RHO_MAX = 0.999
#: Cell probabilities below √ε are set to √ε in the polychoric likelihood and leave
#: the scores (lavaan's convention).
SQRT_EPS = float(np.sqrt(np.finfo(float).eps))
#: Points of the coarse grid on which the polychoric likelihood's maxima are
#: bracketed, and of the finer grid inside an interval that needs it.
POLYCHORIC_GRID = 21
POLYCHORIC_REFINE = 15
#: Estimators for ordered items, lavaan's names: the weights of the fit (DWLS
#: ``diag(Γ)⁻¹`` or ULS ``I``) and the robust test (WLSMV is lavaan's default for
#: ``ordered =``); all with robust (sandwich) standard errors.
ORDINAL_ESTIMATORS = {"wlsmv": ("dwls", "scaled.shifted"),
                      "wlsm": ("dwls", "satorra.bentler"),
                      "ulsmv": ("uls", "scaled.shifted")}


# -- the bivariate normal distribution --------------------------------------------


def bivariate_normal_cdf(h: np.ndarray, k: np.ndarray, rho: float | np.ndarray
                         ) -> np.ndarray:
    """``Φ₂(h, k; ρ) = P(X ≤ h, Y ≤ k)`` of the standard bivariate normal.

    Owen's (1956) formula with ``scipy.special.owens_t`` (see module docstring);
    infinite limits give the univariate margins; ``h``, ``k`` and ``ρ`` broadcast.
    Checked against numerical integration in tests/test_ordinal.py.
    """
    h, k, rho = np.broadcast_arrays(np.asarray(h, dtype=float), np.asarray(k, dtype=float),
                                    np.asarray(rho, dtype=float))
    out = np.zeros(h.shape)
    hinf, kinf = np.isinf(h), np.isinf(k)
    # margins: one limit +inf; zero when either is -inf
    both = ~hinf & ~kinf
    out[hinf & (h > 0) & ~kinf] = special.ndtr(k[hinf & (h > 0) & ~kinf])
    out[kinf & (k > 0) & ~hinf] = special.ndtr(h[kinf & (k > 0) & ~hinf])
    out[hinf & kinf & (h > 0) & (k > 0)] = 1.0
    if both.any():
        hh, kk, rr = h[both], k[both], rho[both]
        s = np.sqrt((1.0 - rr) * (1.0 + rr))
        # a limit exactly 0 is moved off it by a negligible amount: the function is
        # continuous and Owen's ratios then stay finite
        tiny = 1e-300
        hh = np.where(hh == 0, tiny, hh)
        kk = np.where(kk == 0, tiny, kk)
        with np.errstate(over="ignore"):
            ah = (kk - rr * hh) / (hh * s)
            ak = (hh - rr * kk) / (kk * s)
        beta = np.where(hh * kk < 0, 0.5, 0.0)
        val = 0.5 * special.ndtr(hh) + 0.5 * special.ndtr(kk) - special.owens_t(hh, ah) \
            - special.owens_t(kk, ak) - beta
        out[both] = np.clip(val, 0.0, 1.0)
    return out


def bivariate_normal_pdf(h: np.ndarray, k: np.ndarray, rho: float | np.ndarray
                         ) -> np.ndarray:
    """``φ₂(h, k; ρ)``, 0 at an infinite limit (``∂Φ₂/∂ρ = φ₂``); arguments broadcast."""
    h, k, rho = np.broadcast_arrays(np.asarray(h, dtype=float), np.asarray(k, dtype=float),
                                    np.asarray(rho, dtype=float))
    out = np.zeros(h.shape)
    ok = np.isfinite(h) & np.isfinite(k)
    hh, kk, rr = h[ok], k[ok], rho[ok]
    r2 = 1.0 - rr * rr
    out[ok] = np.exp(-(hh * hh - 2 * rr * hh * kk + kk * kk) / (2 * r2)) / (
        2 * np.pi * np.sqrt(r2))
    return out


def _phi(x: np.ndarray) -> np.ndarray:
    """``φ(x)``, 0 at ±inf."""
    x = np.asarray(x, dtype=float)
    fin = np.isfinite(x)
    z = np.where(fin, x, 0.0)
    return np.where(fin, np.exp(-0.5 * z * z) / np.sqrt(2 * np.pi), 0.0)


# -- step 1: thresholds ------------------------------------------------------------


@dataclass
class OrdinalData:
    """Items coded 0..K−1 by the order of their observed values.

    Attributes
    ----------
    codes : numpy.ndarray
        N×p integer categories.
    levels : list[numpy.ndarray]
        The observed values of each item, sorted (category ``k`` is ``levels[j][k]``).
    names : list[str]
        Item names.
    """

    codes: np.ndarray
    levels: list[np.ndarray]
    names: list[str]

    @property
    def n(self) -> int:
        return int(self.codes.shape[0])

    @property
    def ncat(self) -> list[int]:
        return [len(v) for v in self.levels]


def code_items(frame: pd.DataFrame, names: list[str], missing: bool = False
               ) -> OrdinalData:
    """Code each item's observed values 0..K−1 in sorted order (lavaan's ``ordered()``);
    a missing answer is −1 when ``missing`` allows it.

    Raises
    ------
    InputError
        An item with fewer than two observed values (no threshold to estimate),
        or a missing value when ``missing`` is false (the caller drops incomplete
        rows first).
    """
    codes = np.empty((len(frame), len(names)), dtype=int)
    levels = []
    for j, name in enumerate(names):
        col = frame[name].to_numpy(dtype=float)
        absent = np.isnan(col)
        if absent.any() and not missing:
            raise InputError("ordinal items must be complete here (rows with a missing "
                             "value are dropped first)", column=name)
        values, inverse = np.unique(col[~absent], return_inverse=True)
        if len(values) < 2:
            shown = f" ({values[0]:g})" if len(values) else ""
            raise InputError(f"the ordinal item has a single observed category{shown}; it "
                             "carries no information", column=name,
                             value=float(values[0]) if len(values) else None)
        codes[:, j] = -1
        codes[~absent, j] = inverse
        levels.append(values)
    return OrdinalData(codes, levels, list(names))


def thresholds(data: OrdinalData) -> list[np.ndarray]:
    """Per item ``τ_k = Φ⁻¹(P(y ≤ k))``, k = 1..K−1 (lavaan's step-one probit fit).

    The maximum-likelihood thresholds of an item's margin are the normal
    quantiles of its cumulative proportions.
    """
    out = []
    for j, k in enumerate(data.ncat):
        answered = data.codes[:, j][data.codes[:, j] >= 0]  # pairwise: the item's answers
        counts = np.bincount(answered, minlength=k)
        cum = np.cumsum(counts)[:-1] / len(answered)
        out.append(special.ndtri(cum))
    return out


def _limits(tau: np.ndarray) -> np.ndarray:
    """Thresholds with −inf and +inf added at either end."""
    return np.concatenate([[-np.inf], tau, [np.inf]])


# -- step 2: polychoric correlations -------------------------------------------------


def _cell_probabilities(t1: np.ndarray, t2: np.ndarray, rho: float | np.ndarray
                        ) -> tuple[np.ndarray, np.ndarray]:
    """``π_ab`` and ``∂π_ab/∂ρ`` of every cell of a K₁×K₂ table (for an array of
    ``ρ``: one table per value, along the first axis)."""
    l1, l2 = _limits(t1), _limits(t2)
    r = np.asarray(rho, dtype=float)[..., None, None]
    F = bivariate_normal_cdf(l1[:, None], l2[None, :], r)
    f = bivariate_normal_pdf(l1[:, None], l2[None, :], r)
    P = F[..., 1:, 1:] - F[..., :-1, 1:] - F[..., 1:, :-1] + F[..., :-1, :-1]
    dP = f[..., 1:, 1:] - f[..., :-1, 1:] - f[..., 1:, :-1] + f[..., :-1, :-1]
    return P, dP


def _table(a: np.ndarray, b: np.ndarray, k1: int, k2: int) -> np.ndarray:
    return np.bincount(a * k2 + b, minlength=k1 * k2).reshape(k1, k2).astype(float)


def polychoric_pair(table: np.ndarray, t1: np.ndarray, t2: np.ndarray) -> float:
    """The polychoric correlation of one contingency table, thresholds held fixed.

    Maximises ``ℓ(ρ) = Σ n_ab log π_ab(ρ)`` over ``|ρ| ≤ 0.999`` (Olsson's two-step
    estimator, lavaan's ``lavCor``): each root of its score ``Σ n_ab π'_ab/π_ab``
    bracketed on a grid is found by Brent's method and the highest maximum kept
    (lavaan's nlminb climbs from the Pearson correlation instead; both find the
    same maximum where there is one). lavaan's conventions, which change
    the estimate on sparse tables, are kept: a cell probability below √ε counts
    as √ε (and drops out of the score); a 2×2 table with one empty cell has 0.5
    moved onto it keeping the margins (``zero.add = c(0.5, 0)``,
    ``zero.keep.margins = TRUE``), with two empty cells ρ = ±1, with
    ``n₁₁n₂₂ = n₁₂n₂₁`` ρ = 0 and with both thresholds 0 the closed form
    ``ρ = −cos(2π n₁₁/N)``.
    """
    n = table.astype(float).copy()
    if n.shape == (2, 2):
        empty = n == 0
        if empty.sum() == 2:
            return 1.0 if n[0, 0] > 0 else -1.0
        if empty.sum() == 1:
            move = np.array([[0.5, -0.5], [-0.5, 0.5]])
            n += move if (empty[0, 0] or empty[1, 1]) else -move
        if n[0, 0] * n[1, 1] == n[0, 1] * n[1, 0]:
            return 0.0
        if t1[0] == 0 and t2[0] == 0:
            return float(-np.cos(2 * np.pi * n[0, 0] / n.sum()))

    def score(rho: float) -> float:
        P, dP = _cell_probabilities(t1, t2, rho)
        ok = P > SQRT_EPS
        return float((n[ok] * dP[ok] / P[ok]).sum())

    def negloglik(rho: float) -> float:
        P, _ = _cell_probabilities(t1, t2, rho)
        return -float((n * np.log(np.maximum(P, SQRT_EPS))).sum())

    # The floor on π can give the likelihood more than one maximum (a kink where a
    # cell's π crosses √ε), close together: the score on a coarse grid, every
    # interval where it changes sign searched again on a finer grid, every
    # bracketed maximum refined and the highest kept.
    def scan(points: np.ndarray) -> np.ndarray:
        P, dP = _cell_probabilities(t1, t2, points)
        ok = P > SQRT_EPS
        return np.where(ok, n * dP / np.where(ok, P, 1.0), 0.0).sum(axis=(1, 2))

    grid = np.linspace(-RHO_MAX, RHO_MAX, POLYCHORIC_GRID)
    scores = scan(grid)
    finer = [np.linspace(grid[k], grid[k + 1], POLYCHORIC_REFINE + 2)[1:-1]
             for k in range(len(grid) - 1) if (scores[k] > 0) != (scores[k + 1] > 0)]
    if finer:
        extra = np.concatenate(finer)
        more = scan(extra)
        order = np.argsort(np.concatenate([grid, extra]))
        grid = np.concatenate([grid, extra])[order]
        scores = np.concatenate([scores, more])[order]
    candidates = [float(optimize.brentq(score, a, b, xtol=1e-13, rtol=1e-14, maxiter=200))
                  for a, b, sa, sb in zip(grid[:-1], grid[1:], scores[:-1], scores[1:],
                                          strict=True) if sa > 0 and sb <= 0]
    if scores[0] <= 0:
        candidates.append(float(grid[0]))
    if scores[-1] >= 0:
        candidates.append(float(grid[-1]))
    if not candidates:
        res = optimize.minimize_scalar(negloglik, bounds=(-RHO_MAX, RHO_MAX),
                                       method="bounded", options={"xatol": 1e-12})
        return float(res.x)
    return min(candidates, key=negloglik)


@dataclass
class SampleStatistics:
    """Thresholds, polychoric correlations and their asymptotic covariance.

    Attributes
    ----------
    names : list[str]
    thresholds : list[numpy.ndarray]
        Per item, ``τ_1..τ_{K−1}``.
    correlation : numpy.ndarray
        p×p polychoric correlation matrix.
    gamma : numpy.ndarray
        ``Γ`` (lavaan's ``NACOV``, N times the asymptotic covariance) of
        ``s = (τ of item 1, …, τ of item p, ρ_21, ρ_31, …, ρ_p1, ρ_32, …)``
        (thresholds item by item, then the lower triangle column by column, as
        lavaan orders them).
    n : int
    """

    names: list[str]
    thresholds: list[np.ndarray]
    correlation: np.ndarray
    gamma: np.ndarray
    n: int

    @property
    def pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """``(i, j)`` with ``i > j`` of each correlation in ``s``, in lavaan's order."""
        p = len(self.names)
        cols, rows = np.triu_indices(p, 1)  # column-major lower triangle: (j, i), i > j
        return rows, cols

    @property
    def threshold_vector(self) -> np.ndarray:
        return np.concatenate(self.thresholds)

    @property
    def vector(self) -> np.ndarray:
        """``s = (τ, ρ)``."""
        i, j = self.pairs
        return np.concatenate([self.threshold_vector, self.correlation[i, j]])

    @property
    def labels(self) -> list[str]:
        """lavaan's names of the elements of ``s`` (``A1|t1``, ``A1~~A2``)."""
        th = [f"{v}|t{k + 1}" for v, t in zip(self.names, self.thresholds, strict=True)
              for k in range(len(t))]
        i, j = self.pairs
        return th + [f"{self.names[b]}~~{self.names[a]}" for a, b in zip(i, j, strict=True)]


def sample_statistics(data: OrdinalData) -> SampleStatistics:
    """Thresholds, polychoric matrix and ``Γ`` by the two-step method (module docstring).

    Tested against lavaan's ``lavCor(ordered = ...)``, ``lavInspect(fit, "sampstat")``
    and ``lavInspect(fit, "gamma")`` (tests/test_ordinal.py).
    """
    p, n = len(data.names), data.n
    tau = thresholds(data)
    ncat = data.ncat
    nth = [k - 1 for k in ncat]
    th_start = np.concatenate([[0], np.cumsum(nth)[:-1]]).astype(int)
    n_th = int(sum(nth))
    # univariate casewise scores of the thresholds: d log P(y = a) / d τ
    sc_th = np.zeros((n, n_th))
    rows = np.arange(n)
    for j in range(p):
        lim = _limits(tau[j])
        prob = np.diff(special.ndtr(lim))
        a = data.codes[:, j]  # −1 (missing) scores 0
        upper = (a >= 0) & (a < ncat[j] - 1)  # τ_a is the finite upper limit of category a
        lower = a > 0
        sc_th[rows[upper], th_start[j] + a[upper]] = _phi(lim[a[upper] + 1]) / prob[a[upper]]
        sc_th[rows[lower], th_start[j] + a[lower] - 1] = \
            -_phi(lim[a[lower]]) / prob[a[lower]]
    R = np.eye(p)
    # lavaan's order: pairs (i, j), i > j, the lower triangle column by column
    pairs = [(j, i) for j in range(p) for i in range(j + 1, p)]
    npair = len(pairs)
    sc_rho = np.zeros((n, npair))
    A21 = np.zeros((npair, n_th))
    for q, (j, i) in enumerate(pairs):
        a, b = data.codes[:, i], data.codes[:, j]
        both = (a >= 0) & (b >= 0)  # pairwise: the respondents who answered both
        tab = _table(a[both], b[both], ncat[i], ncat[j])
        rho = polychoric_pair(tab, tau[i], tau[j])
        if abs(rho) >= 1:
            raise InputError(f"the items {data.names[j]!r} and {data.names[i]!r} are perfectly "
                             "associated (two empty cells in their 2×2 table): their "
                             "polychoric correlation is ±1 and the model cannot be fitted; "
                             "drop one of them", column=data.names[i])
        R[i, j] = R[j, i] = rho
        P, dP = _cell_probabilities(tau[i], tau[j], rho)
        # a cell of probability below √ε contributes no score (lavaan's convention)
        ok = P > SQRT_EPS
        P = np.where(ok, P, 1.0)
        s_cell = np.where(ok, dP / P, 0.0)
        sc_rho[both, q] = s_cell[a[both], b[both]]
        # bivariate scores of the thresholds of both items (at fixed ρ)
        s = np.sqrt((1 - rho) * (1 + rho))
        li, lj = _limits(tau[i]), _limits(tau[j])
        # ∂Φ₂(x, y)/∂x = φ(x) Φ((y − ρx)/s): for every finite threshold x of item i,
        # across the limits y of item j
        with np.errstate(invalid="ignore"):
            cond_i = special.ndtr((lj[None, :] - rho * tau[i][:, None]) / s)  # (Ki-1)×(Kj+1)
            cond_j = special.ndtr((li[None, :] - rho * tau[j][:, None]) / s)  # (Kj-1)×(Ki+1)
        di = _phi(tau[i])[:, None] * np.diff(cond_i, axis=1)  # ∂π_{a b}/∂τ_a (upper), per b
        dj = _phi(tau[j])[:, None] * np.diff(cond_j, axis=1)  # ∂π_{a b}/∂τ'_b, per a
        # cross-products Σ_n s_ρ · ∂log π/∂τ, summed over cells with their counts
        w = tab * s_cell / P  # n_ab s_ρ,ab / π_ab
        for k in range(nth[i]):
            # τ_k is the upper limit of category k and the lower limit of k+1
            A21[q, th_start[i] + k] = (w[k, :] * di[k, :]).sum() - (w[k + 1, :] * di[k, :]).sum()
        for k in range(nth[j]):
            A21[q, th_start[j] + k] = (w[:, k] * dj[k, :]).sum() - (w[:, k + 1] * dj[k, :]).sum()
    sc = np.hstack([sc_th, sc_rho])
    inner = sc.T @ sc
    A11 = np.zeros((n_th, n_th))
    for j in range(p):
        idx = slice(th_start[j], th_start[j] + nth[j])
        A11[idx, idx] = inner[idx, idx]
    A11_inv = np.linalg.inv(A11)
    a22 = (sc_rho ** 2).sum(axis=0)
    A22_inv = np.diag(1.0 / a22)
    B_inv = np.zeros((n_th + npair, n_th + npair))
    B_inv[:n_th, :n_th] = A11_inv
    B_inv[n_th:, :n_th] = -A22_inv @ A21 @ A11_inv
    B_inv[n_th:, n_th:] = A22_inv
    gamma = n * (B_inv @ inner @ B_inv.T)
    return SampleStatistics(list(data.names), tau, R, gamma, n)


# -- step 3: the model by DWLS -----------------------------------------------------


@dataclass
class DWLSFit:
    """A DWLS fit of the correlation structure (thresholds saturated).

    Attributes
    ----------
    theta : numpy.ndarray
        Free structural parameters (in the layout's order).
    vcov : numpy.ndarray or None
        Sandwich covariance of ``(θ, τ)`` (structural parameters, then thresholds).
    chisq, df : float
        ``T = (N − 1)·F`` (as lavaan) and its degrees of freedom.
    scaled : dict[str, float]
        ``chisq.scaled``, ``chisq.scaling.factor``, ``chisq.shift.parameters``.
    converged : bool
    iterations : int
    """

    theta: np.ndarray
    vcov: np.ndarray | None
    chisq: float
    df: float
    scaled: dict[str, float]
    converged: bool
    iterations: int


def scaled_shifted(T: float, df: float, ugamma: np.ndarray) -> dict[str, float]:
    """Mean-and-variance adjusted statistic (Asparouhov & Muthén, 2010).

    ``a = sqrt(df / tr((UΓ)²))``, ``b = df − a·tr(UΓ)``, ``T_ss = a·T + b``;
    lavaan's ``test = "scaled.shifted"`` reports ``scaling.factor = 1/a`` and
    ``shift.parameter = b``.
    """
    tr1 = float(np.trace(ugamma))
    tr2 = float(np.sum(ugamma * ugamma.T))
    a = float(np.sqrt(df / tr2))
    b = df - a * tr1
    return {"chisq.scaled": a * T + b, "chisq.scaling.factor": 1.0 / a,
            "chisq.shift.parameters": b}


def dwls(stats_: SampleStatistics, sigma: Callable[[np.ndarray], np.ndarray],
         jacobian: Callable[[np.ndarray], np.ndarray], start: np.ndarray,
         estimator: str = "wlsmv") -> DWLSFit:
    """Fit ``ρ(θ)`` to the polychoric correlations by DWLS (module docstring).

    Parameters
    ----------
    stats_ : SampleStatistics
    sigma : callable
        ``θ ↦`` model-implied correlations in ``stats_``'s pair order.
    jacobian : callable
        ``θ ↦ ∂ρ(θ)/∂θ'`` (pairs × parameters).
    start : numpy.ndarray
        Starting values.
    estimator : {"wlsmv", "wlsm", "ulsmv"}
        The weights (DWLS ``diag(Γ)⁻¹`` or ULS ``I``) and the test of
        :data:`ORDINAL_ESTIMATORS`.

    Notes
    -----
    The thresholds are free and every one has its own sample statistic, so with
    a diagonal weight matrix their estimates are the sample thresholds and the
    minimisation only involves the correlations: a Levenberg-Marquardt
    least-squares problem in ``sqrt(w)(r − ρ(θ))``. Standard errors and the
    test take the thresholds into account through the full ``Δ`` and ``Γ``.
    """
    n = stats_.n
    n_th = len(stats_.threshold_vector)
    i, j = stats_.pairs
    r = stats_.correlation[i, j]
    w_all = weights(stats_, estimator)
    w = w_all[n_th:]
    sw = np.sqrt(w)

    def resid(theta: np.ndarray) -> np.ndarray:
        return sw * (r - sigma(theta))

    def jac(theta: np.ndarray) -> np.ndarray:
        return -sw[:, None] * jacobian(theta)

    sol = optimize.least_squares(resid, start, jac=jac, method="lm", xtol=1e-14, ftol=1e-14,
                                 gtol=1e-14, max_nfev=2000)
    theta = sol.x
    e = r - sigma(theta)
    chisq = float((n - 1) * (w * e * e).sum())
    q = len(theta)
    ns = n_th + len(r)
    # Δ of s = (τ, ρ) with respect to (θ, τ)
    delta = np.zeros((ns, q + n_th))
    delta[n_th:, :q] = jacobian(theta)
    delta[:n_th, q:] = np.eye(n_th)
    W = np.diag(w_all)
    G = stats_.gamma
    A = delta.T @ W @ delta
    df = float(ns - (q + n_th))
    vcov = None
    try:
        A_inv = np.linalg.inv(A)
        eig = np.linalg.eigvalsh(A)
        if eig.min() > 1e-10 * eig.max():
            B = delta.T @ W @ G @ W @ delta
            vcov = A_inv @ B @ A_inv / (n - 1)
    except np.linalg.LinAlgError:
        A_inv = None
    scaled: dict[str, float] = {}
    if A_inv is not None and df > 0:
        U = W - W @ delta @ A_inv @ delta.T @ W
        scaled = _scaled_test(chisq, df, U @ G, estimator)
    return DWLSFit(theta, vcov, chisq, df, scaled, bool(sol.success), int(sol.nfev))


def weights(stats_: SampleStatistics, estimator: str = "wlsmv") -> np.ndarray:
    """The diagonal of ``W``: ``1/diag(Γ)`` (DWLS: WLSMV, WLSM) or ones (ULSMV)."""
    if ORDINAL_ESTIMATORS[estimator][0] == "uls":
        return np.ones(len(stats_.gamma))
    return 1.0 / np.diag(stats_.gamma)


def _scaled_test(T: float, df: float, ugamma: np.ndarray, estimator: str) -> dict[str, float]:
    """The estimator's robust test: scaled-and-shifted, or the Satorra-Bentler mean
    scaling ``T/c`` with ``c = tr(UΓ)/df`` (lavaan's ``"satorra.bentler"`` of WLSM)."""
    if ORDINAL_ESTIMATORS[estimator][1] == "scaled.shifted":
        return scaled_shifted(T, df, ugamma)
    trace = float(np.trace(ugamma))
    c = trace / df
    return {"chisq.scaled": T / c, "chisq.scaling.factor": c, "trace.UGamma": trace}


def baseline(stats_: SampleStatistics, estimator: str = "wlsmv"
             ) -> tuple[float, float, dict[str, float]]:
    """The independence model (every correlation 0, thresholds free): ``T_b``, ``df_b``
    and its robust statistic (``U`` is then ``W`` on the correlations)."""
    n_th = len(stats_.threshold_vector)
    i, j = stats_.pairs
    r = stats_.correlation[i, j]
    w = weights(stats_, estimator)[n_th:]
    T = float((stats_.n - 1) * (w * r * r).sum())
    df = float(len(r))
    G = stats_.gamma[n_th:, n_th:]
    return T, df, _scaled_test(T, df, w[:, None] * G, estimator)


# -- the fit behind ``fit(..., ordered=..., estimator="wlsmv")`` --------------------


class DeltaRAM(RAM):
    """A RAM model whose ordered items have the residual variances of the delta
    parameterization, ``θ_kk = 1 − [(I−A)⁻¹S(I−A)⁻ᵀ]_kk`` (the explained part), so
    that every ``y*`` has unit variance at any parameter value.

    The observed variables come first and all are ordered items with no
    observed descendants (:func:`_refuse_unsupported`), so their residual
    variances enter only the diagonal of Σ: the correlations and their
    Jacobian are those of the plain RAM, while std.all, R², the effects and
    their delta-method intervals see the residual variances move with θ as
    lavaan's do.
    """

    @classmethod
    def of(cls, ram: RAM) -> DeltaRAM:
        return cls(**{f.name: getattr(ram, f.name) for f in fields(RAM)})

    def matrices(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        A, S = super().matrices(theta)  # the items' residual variances are 0 here
        B = np.linalg.inv(np.eye(A.shape[0]) - A)
        explained = np.einsum("ij,jk,ik->i", B[: self.p], S, B[: self.p])
        k = np.arange(self.p)
        S[k, k] = 1.0 - explained
        return A, S

#: Fit measures of a WLSMV fit, lavaan's names (there is no likelihood, hence no
#: ``logl``, ``aic``, ``bic``).
WLSMV_FIT_NAMES = ["ntotal", "npar", "chisq", "df", "pvalue", "chisq.scaled", "df.scaled",
                   "pvalue.scaled", "chisq.scaling.factor", "chisq.shift.parameters",
                   "baseline.chisq", "baseline.df", "baseline.chisq.scaled",
                   "baseline.df.scaled", "baseline.chisq.scaling.factor", "cfi", "tli",
                   "cfi.scaled", "tli.scaled", "rmsea", "rmsea.ci.lower", "rmsea.ci.upper",
                   "rmsea.scaled", "rmsea.ci.lower.scaled", "rmsea.ci.upper.scaled",
                   "cfi.robust", "tli.robust", "rmsea.robust", "srmr", "srmr_bentler", "wrmr"]


def ordered_items(ordered: str | list[str] | tuple[str, ...] | None,
                  observed: list[str]) -> list[str]:
    """The ordered items named by ``ordered`` (``"all"``, or names of observed variables).

    Raises
    ------
    UsageError
        A name that is not an observed variable of the model, or a model with
        observed variables left continuous (polyserial correlations are not
        available yet).
    """
    if ordered is None:
        return []
    names = [ordered] if isinstance(ordered, str) else list(ordered)
    names = [n.strip() for item in names for n in str(item).split(",") if n.strip()]
    if names == ["all"]:
        return list(observed)
    unknown = [n for n in names if n not in observed]
    if unknown:
        raise UsageError(f"{unknown[0]!r} is not an observed variable of the model; expected "
                         f"'all' or some of {', '.join(observed)}", column="--ordered",
                         value=unknown[0])
    left = [v for v in observed if v not in names]
    if left:
        raise UsageError("every observed variable of the model must be ordered for WLSMV "
                         f"(continuous items mixed with ordinal ones, here {', '.join(left)}, "
                         "need polyserial correlations, not available yet); use "
                         "--ordered all", column="--ordered")
    return [v for v in observed if v in names]


def _refuse_unsupported(structure: Structure, source: str | None) -> None:
    """Parts of lavaan's syntax the WLSMV fit does not carry (exit 2, not wrong numbers)."""
    where = source or "<model>"
    if structure.exogenous_observed:
        raise UsageError("WLSMV with exogenous observed covariates "
                         f"({', '.join(structure.exogenous_observed)}) needs lavaan's "
                         "conditional.x thresholds, not available yet; model them as "
                         "indicators or use estimator 'ml'", column="--estimator")
    if any(r.op == "~1" for r in structure.rows):
        raise InputError("intercepts ('~ 1') are not free with ordered items (their thresholds "
                         "are); remove the '~ 1' lines", file=where)
    if any(c.op in ("<", ">") for c in structure.constraints):
        raise InputError("bounds ('<', '>') are not available with WLSMV yet", file=where)
    predictors = sorted({r.rhs for r in structure.rows
                         if r.op == "~" and r.rhs in structure.observed})
    if predictors:
        raise InputError("an ordered item as a predictor ('~ " + predictors[0] + "') is not "
                         "available with WLSMV yet (its residual variance would enter the "
                         "other items' correlations)", file=where)
    for r in structure.rows:
        if r.op == "~~" and r.lhs == r.rhs and r.lhs in structure.observed and r.user:
            raise InputError(f"the residual variance '{r.lhs} ~~ {r.rhs}' of an ordered item "
                             "is not a parameter under the delta parameterization (it is 1 "
                             "minus the explained variance); remove the line", file=where,
                             line=r.line or None)
        if r.group_values is not None:
            raise InputError("c() modifiers need a multi-group fit, which WLSMV does not "
                             "support yet", file=where, line=r.line or None)


def _srmr_correlations(R: np.ndarray, implied: np.ndarray) -> float:
    """SRMR of the polychoric matrix: root mean square of the correlation residuals
    over the ``p(p+1)/2`` unique elements (the diagonal residuals are 0)."""
    p = len(R)
    iu = np.triu_indices(p)
    return float(np.sqrt(((R - implied)[iu] ** 2).mean()))


def fit_wlsmv(structure: Structure, syntax: str, source: str | None, frame: pd.DataFrame,
              ordered: list[str], criteria: dict[str, tuple[str, float]] | None = None,
              missing: str = "listwise", estimator: str = "wlsmv") -> sem.SEMResult:
    """Fit ``structure`` to ordered items by WLSMV (module docstring); a ``SEMResult``.

    Parameters
    ----------
    structure : satisfaction.sem_ml.Structure
        The model's parameter table (lavaan's defaults applied).
    syntax, source : str
        Its lavaan syntax and the file it came from (for messages).
    frame : pandas.DataFrame
        Numeric responses, one column per observed variable (NaN = missing).
    ordered : list[str]
        The ordered items (all observed variables).
    criteria : dict, optional
        Fit cut-offs (see :func:`satisfaction.model.fit_criteria`), applied to the
        scaled indices.
    missing : {"listwise", "pairwise"}
        ``listwise`` drops respondents with a missing answer (counted in
        ``excluded["missing_values"]``); ``pairwise`` uses every answer, as lavaan's
        ``missing = "pairwise"`` (thresholds from each item's answers, each
        polychoric correlation and its scores from those who answered both;
        respondents who answered nothing counted in
        ``excluded["all_values_missing"]``).

    Returns
    -------
    satisfaction.model.SEMResult
        ``parameters`` has lavaan's rows for ``ordered =``: the model's rows, the
        thresholds (``x | t1`` ...), the items' residual variances (fixed,
        ``1 − R²``), the scale factors (``x ~*~ x``, fixed at 1), intercepts and
        latent means (``~1``, fixed at 0). ``fit_measures`` holds
        :data:`WLSMV_FIT_NAMES`. Tested against lavaan 0.6.14 (``cfa()``/``sem()``
        with ``ordered = ...``, ``estimator = "WLSMV"``) to 1e-4 (estimates) and 1e-3
        (standard errors, χ²).
    """
    _refuse_unsupported(structure, source)
    observed = list(structure.observed)
    rows = [ParRow(**vars(r)) for r in structure.rows]
    for r in rows:  # delta parameterization: the items' residual variances are derived
        if r.op == "~~" and r.lhs == r.rhs and r.lhs in observed:
            r.free, r.value = False, 0.0
    st = Structure(rows=rows, observed=observed, latent=structure.latent,
                   exogenous_observed=structure.exogenous_observed,
                   structural=structure.structural, defined=structure.defined,
                   constraints=structure.constraints)
    warnings: list[Diagnostic] = []
    if missing == "pairwise":
        # every answer is used: thresholds from each item's answers, each polychoric
        # correlation from the respondents who answered both items (lavaan's
        # missing = "pairwise"); a respondent who answered nothing is left out
        kept = frame[observed].notna().any(axis=1)
        excluded = {"all_values_missing": int((~kept).sum())}
    else:
        kept = frame[observed].notna().all(axis=1)
        excluded = {"missing_values": int((~kept).sum())}
    x = frame.loc[kept, observed]
    n = len(x)
    if n < 2:
        raise InputError(f"{n} respondents to analyse; WLSMV needs many more (the "
                         "polychoric correlations' asymptotic covariance is estimated from "
                         "them)")
    if missing != "pairwise" and excluded["missing_values"]:
        share = excluded["missing_values"] / (n + excluded["missing_values"])
        warnings.append(Diagnostic("listwise", "caution" if share > 0.05 else "info",
                                   {"n": excluded["missing_values"], "share": share}))
    data = code_items(x, observed, missing=missing == "pairwise")
    ss = sample_statistics(data)
    spec = sem._layout(st, 1)
    n_th = len(ss.threshold_vector)
    npar = spec.nparam + n_th
    ndat = n_th + len(observed) * (len(observed) - 1) // 2
    sem._check_identified(spec.nparam, ndat - n_th, source)
    ram = DeltaRAM.of(build_ram(st, observed, spec.param_of_row[0], spec.fixed_of_row[0]))
    i, j = ss.pairs
    tril = {(int(a), int(b)): k for k, (a, b) in enumerate(zip(*np.tril_indices(len(observed)),
                                                                strict=True))}
    sel = np.array([tril[(int(a), int(b))] for a, b in zip(i, j, strict=True)], dtype=int)

    def sigma(theta: np.ndarray) -> np.ndarray:
        return ram.implied(theta)["Sigma"][i, j]

    def jacobian(theta: np.ndarray) -> np.ndarray:
        return sigma_jacobian(ram, theta, spec.nparam)[sel]

    start = sem._start(spec, [ram], [ss.correlation])
    res = dwls(ss, sigma, jacobian, start, estimator)
    if not res.converged:
        warnings.append(Diagnostic("not_converged", "invalidates", {"n": res.iterations}))
    theta = res.theta
    se_all = np.full(npar, np.nan)
    if res.vcov is not None:
        with np.errstate(invalid="ignore"):
            se_all = np.sqrt(np.where(np.diag(res.vcov) > 0, np.diag(res.vcov), np.nan))
    else:
        warnings.append(Diagnostic("se_singular_identified", "invalidates"))
    params, r2, effects, warn, _ = sem._group_tables(st, ram, theta, se_all[:spec.nparam],
                                                   spec.param_of_row[0], n, None)
    warnings += warn
    measures = _measures(res, ss, npar, n, ram.implied(theta)["Sigma"], jacobian(theta),
                         estimator)
    result = sem.SEMResult(fit_measures=measures, parameters=params, r2=r2, effects=effects,
                         warnings=warnings, n=n, converged=res.converged, excluded=excluded,
                         syntax=syntax)
    # delta-method intervals of std.all and the effects, and the ':=' rows, from the
    # structural block of the sandwich covariance (std.all does not involve thresholds)
    vcov = res.vcov[:spec.nparam, :spec.nparam] if res.vcov is not None else None
    sem._delta_intervals(result, st, ram, theta, vcov, spec)
    if st.defined:  # std.lv of a ':=' row: its expression in the labels' std.lv values
        table = result.parameters
        std_lv = {r.label: float(table["std.lv"].iloc[k]) for k, r in enumerate(st.rows)
                  if r.label is not None}
        table.loc[table["op"] == ":=", "std.lv"] = evaluate(
            sem._compiled_defined(st, spec), std_lv)
    result.parameters = _ordinal_rows(result.parameters, st, ss, se_all[spec.nparam:])
    # the cut-offs are read on the scaled indices (those a WLSMV fit is reported by),
    # named as such in the message
    shown = {k.replace(".scaled", ""): v for k, v in measures.items()
             if k in ("cfi.scaled", "tli.scaled", "rmsea.scaled")}
    shown["srmr"] = measures["srmr"]
    for w in sem._fit_diagnostics(shown, criteria if criteria is not None
                                else sem.fit_criteria(None)):
        index = w.params["index"]
        name = index if index == "srmr" else f"{index}.scaled"
        result.warnings.append(replace(w, params={**w.params, "index": name}))
    result.ordinal = ss
    return result


def _ordinal_rows(params: pd.DataFrame, st: Structure, ss: SampleStatistics,
                  se_th: np.ndarray) -> pd.DataFrame:
    """The model's rows with lavaan's extra rows for ordered items, in lavaan's order:
    the user's rows, thresholds, the other defaults, scale factors, intercepts, means."""
    cols = list(params.columns)

    def row(lhs: str, op: str, rhs: str, est: float, se: float) -> dict:
        out = dict.fromkeys(cols, np.nan)
        if se > 0:
            z = est / se
            out.update(se=se, z=z, pvalue=2 * stats.norm.sf(abs(z)),
                       **{"ci.lower": est - sem.Z975 * se, "ci.upper": est + sem.Z975 * se})
        else:
            out.update(se=0.0, **{"ci.lower": est, "ci.upper": est})
        out.update(lhs=lhs, op=op, rhs=rhs, est=est, **{"std.lv": est, "std.all": est})
        return out

    th_rows = []
    q = 0
    for name, tau in zip(ss.names, ss.thresholds, strict=True):
        for k, t in enumerate(tau):
            th_rows.append(row(name, "|", f"t{k + 1}", float(t), float(se_th[q])))
            q += 1
    scale_rows = [row(v, "~*~", v, 1.0, 0.0) for v in st.observed]
    mean_rows = [row(v, "~1", "", 0.0, 0.0) for v in [*st.observed, *st.latent]]
    nuser = sum(1 for r in st.rows if r.user)
    nrows = len(st.rows)  # then the defined (':=') rows, last as in lavaan
    parts = [params.iloc[:nuser], pd.DataFrame(th_rows, columns=cols),
             params.iloc[nuser:nrows], pd.DataFrame(scale_rows, columns=cols),
             pd.DataFrame(mean_rows, columns=cols), params.iloc[nrows:]]
    return pd.concat(parts, ignore_index=True)


def _measures(res: DWLSFit, ss: SampleStatistics, npar: int, n: int, implied: np.ndarray,
              delta: np.ndarray, estimator: str = "wlsmv") -> dict[str, float]:
    """lavaan's fitMeasures() of a WLSMV (WLSM, ULSMV) fit (:data:`WLSMV_FIT_NAMES`).

    With the Satorra-Bentler test (WLSM) lavaan's ``rmsea.scaled`` and its interval
    take the unscaled ``T`` with ``tr(UΓ) = c·df`` degrees of freedom.
    """
    T, df = res.chisq, res.df
    Tb, dfb, base_ss = baseline(ss, estimator)
    # lavaan's least-squares statistics are (N − 1)·F, and its RMSEA then divides by N − 1
    out = sem._indices(T, int(df), Tb, int(dfb), n - 1, 1)
    out["ntotal"] = float(n)
    out["npar"] = float(npar)
    if ORDINAL_ESTIMATORS[estimator][0] == "uls":
        out["pvalue"] = np.nan  # the unweighted statistic is not χ²-distributed (lavaan: NA)
    sc = res.scaled
    if sc:
        Ts, Tbs = sc["chisq.scaled"], base_ss["chisq.scaled"]
        scaled = sem._indices(Ts, int(df), Tbs, int(dfb), n - 1, 1)
        lo, hi = sem._rmsea_ci(Ts, df, n - 1, 1)
        if "trace.UGamma" in sc:  # Satorra-Bentler: T on c·df degrees of freedom
            df2 = sc["trace.UGamma"]
            scaled["rmsea"] = float(np.sqrt(max(T / (n - 1) / df2 - 1 / (n - 1), 0.0)))
            lo, hi = sem._rmsea_ci(T, df2, n - 1, 1)
        out.update({
            "chisq.scaled": Ts, "df.scaled": df, "pvalue.scaled": scaled["pvalue"],
            "chisq.scaling.factor": sc["chisq.scaling.factor"],
            "chisq.shift.parameters": sc.get("chisq.shift.parameters", np.nan),
            "baseline.chisq.scaled": Tbs, "baseline.df.scaled": dfb,
            "baseline.chisq.scaling.factor": base_ss["chisq.scaling.factor"],
            "cfi.scaled": scaled["cfi"], "tli.scaled": scaled["tli"],
            "rmsea.scaled": scaled["rmsea"], "rmsea.ci.lower.scaled": lo,
            "rmsea.ci.upper.scaled": hi})
    out["srmr"] = _srmr_correlations(ss.correlation, implied)
    # lavaan's srmr_bentler counts the thresholds (residual 0) among the elements, and
    # the weighted root mean square residual is sqrt(T / number of sample statistics)
    n_th = len(ss.threshold_vector)
    p = len(ss.names)
    out["srmr_bentler"] = out["srmr"] * np.sqrt(p * (p + 1) / 2 / (p * (p + 1) / 2 + n_th))
    out["wrmr"] = float(np.sqrt(T / (n_th + p * (p - 1) / 2)))
    out.update(robust_indices(ss, implied, delta, df, dfb, weights(ss, estimator)))
    return {k: float(out.get(k, np.nan)) for k in WLSMV_FIT_NAMES}


def robust_indices(ss: SampleStatistics, implied: np.ndarray, delta: np.ndarray, df: float,
                   df_b: float, w_all: np.ndarray | None = None) -> dict[str, float]:
    """``cfi.robust``, ``tli.robust``, ``rmsea.robust`` of a WLSMV fit (Savalei, 2021).

    The ML discrepancy of the polychoric matrix ``R`` at the DWLS estimates
    ("catML"), ``T₃ = N·[log|Σ̂| + tr(RΣ̂⁻¹) − log|R| − p]``, and of the
    independence model, ``T₃ᵦ = −N·log|R|``, with their own scalings
    ``ĉ = tr(U'VUΓ)/df`` and ``ĉᵦ = tr(Γ)/dfᵦ``, where ``Γ`` is the correlations'
    block of the asymptotic covariance, ``V`` the normal-theory ML weight of the
    correlations at ``Σ̂`` (the information with the unit variances known) and
    ``U = I − Δ(Δ'WΔ)⁻¹Δ'W`` with the DWLS weights ``W``. Then

    ``cfi.robust = 1 − max(T₃ − ĉ·df, 0) / max(T₃ − ĉ·df, T₃ᵦ − ĉᵦ·dfᵦ, 0)``,
    ``tli.robust = 1 − (T₃ − ĉ·df)·dfᵦ / ((T₃ᵦ − ĉᵦ·dfᵦ)·df)``,
    ``rmsea.robust = sqrt(max(T₃/((N−1)·df) − ĉ/(N−1), 0))``,

    as lavaan 0.6.14 computes them (``lav_fit_catml_dwls``); NaN when ``R`` is
    not positive definite (lavaan's check: an eigenvalue below √ε).

    Savalei, V. (2021). Improving fit indices in structural equation modeling with
    categorical data. *Multivariate Behavioral Research*, 56, 390-407.
    """
    nan = {"cfi.robust": np.nan, "tli.robust": np.nan, "rmsea.robust": np.nan}
    R = ss.correlation
    p, n = len(R), ss.n
    if df <= 0 or np.linalg.eigvalsh(R).min() < np.sqrt(np.finfo(float).eps):
        return nan
    try:
        inv = np.linalg.inv(implied)
    except np.linalg.LinAlgError:
        return nan
    logdet_s = np.linalg.slogdet(implied)
    if logdet_s[0] <= 0:
        return nan
    logdet_r = np.linalg.slogdet(R)[1]
    T3 = n * (logdet_s[1] + float((R * inv).sum()) - logdet_r - p)
    T3b = n * (-logdet_r)
    n_th = len(ss.threshold_vector)
    i, j = ss.pairs
    rows, cols = np.tril_indices(p)
    where = {(int(a), int(b)): k for k, (a, b) in enumerate(zip(rows, cols, strict=True))}
    sel = np.array([where[(int(a), int(b))] for a, b in zip(i, j, strict=True)], dtype=int)
    V = normal_weight(implied)[np.ix_(sel, sel)]
    G = ss.gamma[n_th:, n_th:]
    w = (1.0 / np.diag(ss.gamma) if w_all is None else w_all)[n_th:]
    A = delta.T @ (w[:, None] * delta)
    U = np.eye(len(w)) - delta @ np.linalg.solve(A, delta.T * w)
    c3 = float(np.trace(U.T @ V @ U @ G)) / df
    cb = float(np.trace(G)) / df_b
    t1 = max(T3 - c3 * df, 0.0)
    t2 = max(T3 - c3 * df, T3b - cb * df_b, 0.0)
    cfi = 1.0 if t1 == 0 and t2 == 0 else 1 - t1 / t2
    tli = 1 - (T3 - c3 * df) * df_b / ((T3b - cb * df_b) * df)
    rmsea = float(np.sqrt(max(T3 / (n - 1) / df - c3 / (n - 1), 0.0)))
    return {"cfi.robust": cfi, "tli.robust": tli, "rmsea.robust": rmsea}




#: Missing-data treatments for ordered items (lavaan's ``missing =``).
ORDINAL_MISSING = ("listwise", "pairwise")


def fit_ordered(model: str | Path | Questionnaire, data: pd.DataFrame, *,
                ordered: str | list[str] | tuple[str, ...] | None, estimator: str = "wlsmv",
                missing: str = "listwise", bootstrap: int = 0, group: str | None = None,
                group_equal: tuple[str, ...] = (), group_partial: tuple[str, ...] = (),
                criteria: dict[str, tuple[str, float]] | None = None) -> sem.SEMResult:
    """``fit(model, data, ordered=..., estimator="wlsmv")``: checks, then :func:`fit_wlsmv`.

    ``missing`` is ``"listwise"`` or ``"pairwise"`` (:func:`fit_wlsmv`). What the
    WLSMV fit does not support is refused with a :class:`UsageError` naming the
    option (exit 2 on the command line), never fitted with wrong numbers: other
    estimators with ordered items, multi-group fits, FIML, bootstrap, continuous
    items mixed with ordered ones.
    """
    if estimator not in ORDINAL_ESTIMATORS:
        raise UsageError(f"ordered items are fitted by WLSMV (lavaan's default for ordered "
                         f"data), WLSM or ULSMV; estimator {estimator!r} is not available "
                         "with them: use --estimator wlsmv", column="--estimator",
                         value=estimator)
    if ordered is None or (not isinstance(ordered, str) and len(ordered) == 0):
        raise UsageError(f"estimator {estimator!r} needs ordered items: name them with "
                         "--ordered ITEM,ITEM or --ordered all", column="--ordered")
    if group is not None or group_equal or group_partial:
        raise UsageError("multi-group fits of ordered items (thresholds per group, "
                         "lavaan's parameterization for groups) are not available yet; "
                         "drop --group or fit the items as continuous", column="--group",
                         value=group)
    if missing not in ORDINAL_MISSING:
        raise UsageError(f"missing={missing!r} is not available for ordered items (lavaan's "
                         "WLSMV uses listwise or pairwise deletion); use --missing listwise "
                         "or pairwise", column="--missing", value=missing)
    if bootstrap:
        raise UsageError("--bootstrap is not available with WLSMV yet; its standard errors "
                         "are the robust (sandwich) ones", column="--bootstrap",
                         value=bootstrap)
    syntax, source = sem.model_syntax(model)
    structure = sem._structure(syntax, source)
    items = ordered_items(ordered, list(structure.observed))
    frame = sem._numeric_frame(data, list(structure.observed), structure.latent)
    return fit_wlsmv(structure, syntax, source, frame, items, criteria, missing, estimator)
