"""Bootstrap confidence intervals from the draws: percentile and BCa.

Given the full-sample estimates ``θ̂`` (one per statistic), the ``B`` bootstrap
draws ``θ*`` and, for BCa, the ``n`` jackknife (leave-one-out) estimates
``θ₍ᵢ₎``, for a two-sided level ``1 − 2α``:

- percentile: the ``α`` and ``1 − α`` quantiles of the draws;
- BCa (Efron 1987, *Better bootstrap confidence intervals*, JASA 82, 171-185;
  Efron & Tibshirani 1993, *An Introduction to the Bootstrap*, §14.3): the
  quantiles of the draws at the adjusted levels

  ``α₁ = Φ(ẑ₀ + (ẑ₀ + z_α) / (1 − â (ẑ₀ + z_α)))``, ``α₂`` the same with ``z_{1−α}``,

  with the bias correction ``ẑ₀ = Φ⁻¹(#{θ* < θ̂} / B)`` (eq. 14.14) and the
  acceleration from the jackknife
  ``â = Σ (θ̄ − θ₍ᵢ₎)³ / (6 [Σ (θ̄ − θ₍ᵢ₎)²]^{3/2})``, ``θ̄`` the mean of the
  ``θ₍ᵢ₎`` (eq. 14.15).

Quantiles are ``numpy.quantile``'s linear interpolation (R's ``quantile`` type
7), the same rule for both intervals, so that BCa with ``ẑ₀ = â = 0`` is the
percentile interval. A statistic that does not vary over the draws (a
single-item weight) gets its estimate at both ends. When every draw lies on
one side of the estimate, ``ẑ₀`` is infinite and the BCa interval is undefined
(NaN).

Written here rather than taken from ``scipy.stats.bootstrap(method="BCa")``:
that function draws its own resamples and refits the statistic once per
jackknife sample in Python, while the PLS draws and jackknife refits are
estimated all at once on stacks of correlation matrices. The tests compare
these intervals with scipy's BCa given the same draws.
"""

from __future__ import annotations

import numpy as np
from scipy import stats


def acceleration(jack: np.ndarray) -> np.ndarray:
    """BCa acceleration of every column of the jackknife estimates ``jack`` (``n × k``).

    ``â = Σ (θ̄ − θ₍ᵢ₎)³ / (6 [Σ (θ̄ − θ₍ᵢ₎)²]^{3/2})`` (Efron & Tibshirani 1993,
    eq. 14.15); 0 for a column without spread. Rows with a non-finite value in a
    column are left out of that column.
    """
    jack = np.asarray(jack, dtype=float)
    out = np.zeros(jack.shape[1])
    for j in range(jack.shape[1]):
        t = jack[:, j]
        t = t[np.isfinite(t)]
        if t.size < 2:
            out[j] = np.nan
            continue
        d = t.mean() - t
        den = 6 * np.sum(d**2) ** 1.5
        out[j] = np.sum(d**3) / den if den > 0 else 0.0
    return out


def percentile_interval(draws: np.ndarray, level: float = 0.95
                        ) -> tuple[np.ndarray, np.ndarray]:
    """The ``(1 − level)/2`` and ``(1 + level)/2`` quantiles of every column of ``draws``."""
    alpha = (1 - level) / 2
    return (np.quantile(draws, alpha, axis=0), np.quantile(draws, 1 - alpha, axis=0))


def bca_interval(draws: np.ndarray, est: np.ndarray, jack: np.ndarray, level: float = 0.95
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """BCa interval of every column of ``draws`` (``B × k``).

    Parameters
    ----------
    draws : array, ``B × k``
        Bootstrap estimates (finite).
    est : array, ``k``
        Full-sample estimates ``θ̂``.
    jack : array, ``n × k``
        Leave-one-out estimates ``θ₍ᵢ₎``.
    level : float
        Two-sided coverage.

    Returns
    -------
    lower, upper, z0, a : arrays of length ``k``
        The interval (module docstring), the bias correction ``ẑ₀`` and the
        acceleration ``â``.
    """
    draws = np.asarray(draws, dtype=float)
    est = np.asarray(est, dtype=float)
    B, k = draws.shape
    a = acceleration(jack)
    z_alpha = stats.norm.ppf([(1 - level) / 2, (1 + level) / 2])
    lower, upper, z0 = np.full(k, np.nan), np.full(k, np.nan), np.full(k, np.nan)
    for j in range(k):
        t = draws[:, j]
        if np.ptp(t) == 0:
            lower[j] = upper[j] = est[j]
            z0[j] = 0.0
            continue
        share = np.count_nonzero(t < est[j]) / B
        if share in (0.0, 1.0) or not np.isfinite(a[j]):
            continue
        z0[j] = stats.norm.ppf(share)
        zz = z0[j] + z_alpha
        levels = stats.norm.cdf(z0[j] + zz / (1 - a[j] * zz))
        lower[j], upper[j] = np.quantile(t, levels)
    return lower, upper, z0, a
