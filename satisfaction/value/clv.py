"""Customer lifetime value: probabilistic models and the retention formula.

Models
------
* **BG/NBD** (Fader, Hardie & Lee 2005a, "Counting your customers the easy way",
  *Marketing Science* 24(2)): purchases while alive follow a Poisson process with
  rate λ ~ Gamma(r, α); after each purchase the customer drops out with
  probability p ~ Beta(a, b).
* **Pareto/NBD** (Schmittlein, Morrison & Colombo 1987; likelihood as in Fader &
  Hardie 2005, "A note on deriving the Pareto/NBD model and related expressions"):
  λ ~ Gamma(r, α) as above; lifetime exponential with rate μ ~ Gamma(s, β).
* **Gamma-Gamma** (Fader, Hardie & Lee 2005b, "RFM and CLV: using iso-value curves",
  *JMR* 42(4); Colombo & Jiang 1999) for the mean spend per purchase: z ~ Gamma(p, ν),
  ν ~ Gamma(q, γ); the reported ``v`` is γ.

Why we write the likelihoods ourselves
---------------------------------------
The likelihoods depend on a customer only through (x, t_x, T) (and (x, z̄) for
Gamma-Gamma), so we evaluate them once per *unique* tuple, weighted by how many
customers share it: a million customers cost as little as the few hundred
thousand distinct tuples, and all three models use exact gradients (Pareto/NBD by
a series per distinct pair, see :class:`_PnbdTerms`), so
L-BFGS converges in a few dozen evaluations. The ``lifetimes`` package (0.11,
no longer maintained) evaluates per customer with numerical gradients and can
fail to converge on such data. Our fits are tested against ``lifetimes`` and the
published CDNOW estimates (tests/test_value_clv.py).

All parameters are estimated on the log scale (they are positive); time is
rescaled to a maximum T of 10 during the fit (α, β scale with time) and the
estimates are mapped back, which changes nothing but the conditioning.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, special
from threadpoolctl import threadpool_limits

from satisfaction.diagnostics import Diagnostic, records
from satisfaction.diagnostics import status as gate_status
from satisfaction.errors import InputError
from satisfaction.value.checks import check_discount_rate


# ---------------------------------------------------------------------------
# sufficient statistics
# ---------------------------------------------------------------------------
def compress(*columns: np.ndarray, weights: Any = None,
             ) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """Unique rows of the given columns, their counts, and each input row's index.

    Each column is factorized on its own into the ranks of its sorted distinct
    values; the ranks are combined into one integer key (mixed radix), whose
    sorted distinct values are the distinct rows in lexicographic order. So the
    result does not depend on the input order (an engine that computes the
    sufficient statistics itself gets the same fit). ``weights`` (optional) says
    how many customers each input row stands for.

    Returns
    -------
    unique : list of numpy.ndarray
        One array per input column, one entry per distinct row (sorted).
    weights : numpy.ndarray
        How many input rows (or the sum of their weights) share each distinct row.
    inverse : numpy.ndarray
        For each input row, the index of its distinct row.
    """
    arrays = [np.asarray(c, dtype=float) for c in columns]
    ranks: list[np.ndarray] = []
    values: list[np.ndarray] = []
    span = 1.0
    for a in arrays:
        # NaN is a value of its own (sorted last), not a missing code
        codes, uniques = pd.factorize(a, sort=True, use_na_sentinel=False)
        ranks.append(codes.astype(np.int64))
        values.append(np.asarray(uniques, dtype=float))
        span *= max(len(uniques), 1)
    w = None if weights is None else np.asarray(weights, dtype=float)
    if span >= 2.0**62:  # the mixed-radix key would overflow: combine column by column
        return _compress_stepwise(arrays, ranks, values, w)
    key = np.zeros(len(arrays[0]), dtype=np.int64)
    for r, v in zip(ranks, values, strict=True):
        key = key * np.int64(len(v)) + r
    ukey, inverse = np.unique(key, return_inverse=True)
    unique: list[np.ndarray] = []
    rest = ukey
    for v in reversed(values):
        rest, digit = np.divmod(rest, np.int64(len(v)))
        unique.append(v[digit])
    counts = np.bincount(inverse, weights=w, minlength=len(ukey)).astype(float)
    return unique[::-1], counts, inverse.astype(np.int64)


def _compress_stepwise(arrays: list[np.ndarray], ranks: list[np.ndarray],
                       values: list[np.ndarray], w: np.ndarray | None,
                       ) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """:func:`compress` when one key for all columns would overflow int64: the rank
    of each row among the sorted distinct rows of the first k columns is combined
    with column k+1 and re-ranked."""
    inverse = ranks[0]
    n_distinct = len(values[0])
    for r, v in zip(ranks[1:], values[1:], strict=True):
        inverse, uniques = pd.factorize(inverse * np.int64(len(v)) + r, sort=True)
        n_distinct = len(uniques)
    inverse = inverse.astype(np.int64)
    first = np.full(n_distinct, len(inverse), dtype=np.int64)
    np.minimum.at(first, inverse, np.arange(len(inverse)))
    counts = np.bincount(inverse, weights=w, minlength=n_distinct).astype(float)
    return [a[first] for a in arrays], counts, inverse


def _check_rfm(frequency: Any, t_x: Any, T: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = np.asarray(frequency, dtype=float)
    tx = np.asarray(t_x, dtype=float)
    big_t = np.asarray(T, dtype=float)
    if not (x.shape == tx.shape == big_t.shape):
        raise InputError("frequency, t_x and T must have the same length")
    bad = ~np.isfinite(x) | ~np.isfinite(tx) | ~np.isfinite(big_t)
    bad |= (x < 0) | (tx < 0) | (tx > big_t + 1e-9) | ((x == 0) & (tx != 0))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError("expected 0 ≤ t_x ≤ T, frequency ≥ 0 and t_x = 0 when frequency = 0",
                         row=i, value=(x[i], tx[i], big_t[i]))
    if len(x) == 0:
        raise InputError("no customers to fit")
    return x, tx, big_t


def _sane(theta: np.ndarray) -> bool:
    """Log-parameters of a usable fit: finite and not run off to 0 or infinity (a
    likelihood maximised at the boundary, as with a handful of customers)."""
    return bool(np.all(np.isfinite(theta)) and np.all(np.abs(theta) < np.log(1e6)))


def fit_diagnostics(model: str, success: bool, theta: np.ndarray, loglik: float,
                    names: tuple[str, ...], values: np.ndarray,
                    homogeneous: bool = False) -> list[Diagnostic]:
    """The gates of a CLV model fit, as diagnostics (all ``invalidates``).

    * ``clv_not_converged``: the optimizer stopped without meeting its criteria;
    * ``clv_boundary``: an estimate ran off to 0 or infinity (|ln θ| ≥ ln 10⁶ on the
      fitting scale, see :func:`_sane`): the likelihood is maximised at the edge of
      the parameter space (a handful of customers, or customers too alike); also
      when ``homogeneous`` (the caller found a gamma shape above
      :data:`_HOMOGENEOUS`: the mixing distribution has no spread left, the model
      has run along its ridge towards the homogeneous Poisson/exponential case and
      the shape and scale are not identified apart);
    * ``clv_loglik_not_finite``: the log-likelihood at the estimates is not a number.

    The fits add ``clv_no_repeat_purchases`` (:func:`_no_repeats`) when no customer
    bought more than once.
    """
    out: list[Diagnostic] = []
    if not success:
        out.append(Diagnostic("clv_not_converged", "invalidates", {"model": model}))
    if not _sane(theta) or homogeneous:
        shown = ", ".join(f"{k} = {v:.3g}" for k, v in zip(names, values, strict=True))
        out.append(Diagnostic("clv_boundary", "invalidates", {"model": model, "params": shown}))
    if not np.isfinite(loglik):
        out.append(Diagnostic("clv_loglik_not_finite", "invalidates", {"model": model}))
    return out


def _no_repeats(model: str, x: np.ndarray, w: np.ndarray) -> list[Diagnostic]:
    """``clv_no_repeat_purchases`` (invalidates) when no customer (of positive weight)
    has a repeat purchase. Then every customer's data say only "no repeat by T", one
    curve in T that many (purchase rate, dropout) pairs give alike: the parameters are
    not identified, whatever the optimizer reports (BG/NBD's a and b do not even enter
    the likelihood, FHL 2005a eq. 6 with x = 0)."""
    if np.any((x > 0) & (w > 0)):
        return []
    return [Diagnostic("clv_no_repeat_purchases", "invalidates", {"model": model})]


#: A gamma shape (r, s) above this leaves a coefficient of variation of 1 % in the
#: rates: the fit has degenerated to the homogeneous model (see :func:`fit_diagnostics`).
_HOMOGENEOUS = 1e4


class _Gated:
    """``warnings`` (diagnostics) and the gate ``status`` of a fitted model."""

    warnings: list[Diagnostic]

    @property
    def status(self) -> str:
        """``ok``, ``caution`` or ``invalid`` (see :func:`satisfaction.diagnostics.status`)."""
        return gate_status(self.warnings)

    def _gate_dict(self) -> dict[str, Any]:
        return {"status": self.status, "warnings": records(self.warnings)}


#: Above this many distinct rows no derivative-free rescue is tried after a failed
#: L-BFGS run (it would need thousands of full evaluations): the fit is reported
#: as not converged instead.
_LARGE = 100_000


def _one_blas_thread() -> threadpool_limits:
    """The BLAS limit every fit runs under, from its first sum to its log-likelihood.

    One BLAS thread: the likelihoods' dot products are memory-bound, and OpenBLAS's
    own threads (spinning while they wait) cost two to four times the CPU for
    nothing, more so beside the chunk threads of :func:`_summed` or a busy machine.
    And a threaded dot product sums in another order: with one thread the estimates
    do not depend on the machine's cores nor on other fits running beside (the
    value analysis fits its models in threads and holds the limit around them all:
    the limit is process-wide, and a fit that ends restores what it found).
    """
    return threadpool_limits(1)


def _minimize(fun: Any, x0: np.ndarray, jac: bool, n: int = 0) -> optimize.OptimizeResult:
    res = optimize.minimize(fun, x0, jac=jac, method="L-BFGS-B",
                            options={"maxiter": 2000, "ftol": 1e-14, "gtol": 1e-8})
    if jac and not res.success and np.max(np.abs(res.jac)) < 1e-5:
        # L-BFGS stops on a line search it cannot improve at the optimum: accept a
        # point where the (analytic) gradient vanishes
        res.success = True
    if (not jac or not res.success) and n <= _LARGE:
        # polish (or rescue) with a derivative-free search from the best point
        res2 = optimize.minimize(lambda p: fun(p)[0] if jac else fun(p), res.x,
                                 method="Nelder-Mead",
                                 options={"maxiter": 4000, "xatol": 1e-10, "fatol": 1e-12})
        if res2.fun <= (res.fun if np.ndim(res.fun) == 0 else res.fun[0]):
            res2.success = bool(res2.success)
            return res2
    return res


#: Distinct rows per chunk when a log-likelihood is summed in parallel. Fixed (not
#: derived from the number of cores) so that the floating-point sums, and hence
#: the estimates, are the same on every machine.
_CHUNK = 131_072


def _chunks(n: int) -> list[slice]:
    return [slice(i, min(i + _CHUNK, n)) for i in range(0, n, _CHUNK)] or [slice(0, 0)]


def _over_parts(fun: Any, parts: list[Any]) -> list[Any]:
    """``[fun(part) for part in parts]``, in threads, in chunk order.

    The likelihoods are sums over customers, so the distinct rows can be cut into
    chunks whose log-likelihoods (and gradients) add up. NumPy and SciPy's ufuncs
    release the GIL, so the chunks run on all cores; the callers sum the results in
    chunk order (deterministic).
    """
    if len(parts) == 1:
        return [fun(parts[0])]
    with ThreadPoolExecutor(max_workers=min(len(parts), os.cpu_count() or 1)) as pool:
        return list(pool.map(fun, parts))


def _summed(fun: Any, parts: list[Any], params: np.ndarray) -> tuple[float, np.ndarray]:
    """Σ over parts of ``fun(params, part, grad=True)``: log-likelihood and gradient."""
    results = _over_parts(lambda part: fun(params, part, grad=True), parts)
    return float(sum(r[0] for r in results)), np.sum([r[1] for r in results], axis=0)


def _summed_values(fun: Any, parts: list[Any]) -> float:
    """Σ over parts of ``fun(part)``, a log-likelihood without gradient."""
    return float(sum(_over_parts(fun, parts)))


# ---------------------------------------------------------------------------
# BG/NBD
# ---------------------------------------------------------------------------
class _Triplets:
    """(x, t_x, T) with weights, arranged for :func:`_bgnbd_loglik`.

    Terms of the likelihood that depend on x alone (Γ, B, ψ) or on T or t_x alone
    (logarithms) are computed once per distinct value and gathered: with daily
    data there are at most a few thousand distinct values of each. The terms that
    are linear in the per-customer weights are summed once per distinct x and T
    here (``wx``, ``w_T``, ``wx_T``): only the customers with repeat purchases
    (x > 0) have a per-customer term, the "dropped out after the last purchase"
    branch, so only they are kept row by row (``p_*``).
    """

    def __init__(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray,
                 w: np.ndarray | None) -> None:
        w = np.ones_like(x) if w is None else w
        self.n = float(w.sum())
        self.xv, xi = np.unique(x, return_inverse=True)
        self.tv, ti = np.unique(t_x, return_inverse=True)
        self.Tv, t_i = np.unique(T, return_inverse=True)
        self.wx = np.bincount(xi, weights=w, minlength=len(self.xv))
        self.w_T = np.bincount(t_i, weights=w, minlength=len(self.Tv))
        self.wx_T = np.bincount(t_i, weights=w * x, minlength=len(self.Tv))
        pos = x > 0
        self.p_x, self.p_w = x[pos], w[pos]
        self.p_xi, self.p_ti, self.p_Ti = xi[pos], ti[pos], t_i[pos]
        # 1/(b + x − 1) and ln a − ln(b + x − 1) are used for x > 0 only
        self.xm1v = np.where(self.xv > 0, self.xv - 1.0, 0.0)


def bgnbd_loglik(params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray,
                 weights: np.ndarray | None = None, grad: bool = False) -> Any:
    r"""Weighted BG/NBD log-likelihood (FHL 2005a, eq. 6) and its gradient.

    .. math::
        \ln L = \ln\Gamma(r+x) - \ln\Gamma(r) + r\ln\alpha + \ln B(a, b+x) - \ln B(a,b)
                - (r+x)\ln(\alpha+T) + \ln\Bigl[1 + \delta_{x>0}\,\tfrac{a}{b+x-1}
                  \bigl(\tfrac{\alpha+T}{\alpha+t_x}\bigr)^{r+x}\Bigr]

    Parameters are (r, α, a, b) on their natural scale; the gradient is with
    respect to them.
    """
    data = _Triplets(np.asarray(x, float), np.asarray(t_x, float), np.asarray(T, float),
                     weights)
    return _bgnbd_loglik(params, data, grad)


def _bgnbd_loglik(params: np.ndarray, d: _Triplets, grad: bool = False) -> Any:
    """:func:`_bgnbd_terms` with NumPy's floating-point warnings off (in this thread):
    at the extreme parameters an optimizer tries on degenerate data the terms overflow
    to inf or NaN, which the objective reads as "not here" and the gates report."""
    with np.errstate(all="ignore"):
        return _bgnbd_terms(params, d, grad)


def _bgnbd_terms(params: np.ndarray, d: _Triplets, grad: bool = False) -> Any:
    r"""Σ w ln L (FHL 2005a, eq. 6) and its gradient over the rows of ``d``.

    With D = ln a − ln(b+x−1) + (r+x) ln((α+T)/(α+t_x)) for x > 0 (the log-odds of
    the "dropped out after the last purchase" branch),
    ln L = ln Γ(r+x) − ln Γ(r) + r ln α + ln B(a, b+x) − ln B(a, b) − (r+x) ln(α+T)
    + δ_{x>0} ln(1 + e^D). The first terms are summed by distinct x and T, the last
    per customer with x > 0; σ(D) carries that branch into the gradient.
    """
    r, alpha, a, b = params
    xv = d.xv
    # per distinct x, T and t_x
    base_x = (special.gammaln(r + xv) - special.gammaln(r) + r * np.log(alpha)
              + special.betaln(a, b + xv) - special.betaln(a, b))
    with np.errstate(divide="ignore"):
        lnab_x = np.log(a) - np.log(b + d.xm1v)  # used where x > 0 only
    ln_at_v, ln_atx_v = np.log(alpha + d.Tv), np.log(alpha + d.tv)
    # Σ w (r + x) ln(α+T), summed by distinct T
    alive_t = r * d.w_T + d.wx_T
    # the customers with repeat purchases
    rx = r + d.p_x
    gap = ln_at_v[d.p_Ti] - ln_atx_v[d.p_ti]
    dd = lnab_x[d.p_xi] + rx * gap
    ll = (float(np.dot(d.wx, base_x)) - float(np.dot(alive_t, ln_at_v))
          + float(np.dot(d.p_w, np.logaddexp(0.0, dd))))
    if not grad:
        return ll
    sw = special.expit(dd) * d.p_w  # weight of the "dropped out after the last purchase" branch
    swx = np.bincount(d.p_xi, weights=sw, minlength=len(xv))
    inv_at_v, inv_atx_v = 1.0 / (alpha + d.Tv), 1.0 / (alpha + d.tv)
    inv_gap = inv_at_v[d.p_Ti] - inv_atx_v[d.p_ti]
    g_r = (np.dot(d.wx, special.digamma(r + xv) - special.digamma(r) + np.log(alpha))
           - np.dot(d.w_T, ln_at_v) + np.dot(sw, gap))
    g_alpha = d.n * r / alpha - np.dot(alive_t, inv_at_v) + np.dot(sw * rx, inv_gap)
    g_a = np.dot(d.wx, special.digamma(a + b) - special.digamma(a + b + xv)) + swx.sum() / a
    g_b = (np.dot(d.wx, special.digamma(b + xv) - special.digamma(a + b + xv)
                  - special.digamma(b) + special.digamma(a + b))
           - np.dot(swx, np.where(xv > 0, 1.0 / (b + d.xm1v), 0.0)))
    return ll, np.array([g_r, g_alpha, g_a, g_b])


@dataclass
class BGNBDFit(_Gated):
    """A fitted BG/NBD model.

    Attributes
    ----------
    r, alpha, a, b : float
        Estimates (α in the time unit of the data).
    loglik : float
        Log-likelihood at the estimates (sum over customers).
    n_customers, n_unique : int
        Customers fitted and distinct (x, t_x, T) triplets.
    converged : bool
        The optimizer converged to interior estimates.
    warnings : list of Diagnostic
        The fit's gates (:func:`fit_diagnostics`); ``status`` is ``invalid`` when
        any fails.
    """

    r: float
    alpha: float
    a: float
    b: float
    loglik: float
    n_customers: int
    n_unique: int
    converged: bool
    warnings: list[Diagnostic] = field(default_factory=list)

    def params(self) -> np.ndarray:
        return np.array([self.r, self.alpha, self.a, self.b])

    def to_dict(self) -> dict[str, Any]:
        return {"r": self.r, "alpha": self.alpha, "a": self.a, "b": self.b,
                "loglik": self.loglik, "n_customers": self.n_customers,
                "n_unique": self.n_unique, "converged": self.converged,
                **self._gate_dict()}

    def _denominator(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
        r, alpha, a, b = self.params()
        pos = x > 0
        with np.errstate(divide="ignore", invalid="ignore"):
            d = np.log(a) - np.log(np.where(pos, b + x - 1.0, 1.0)) + (r + x) * (
                np.log(alpha + T) - np.log(alpha + t_x))
        return 1.0 + np.where(pos, np.exp(d), 0.0)

    def p_alive(self, frequency: Any, t_x: Any, T: Any) -> np.ndarray:
        r"""P(alive | x, t_x, T) = 1 / (1 + δ_{x>0} a/(b+x−1) ((α+T)/(α+t_x))^{r+x})
        (FHL 2005a, eq. 11)."""
        x, tx, big_t = (np.asarray(v, dtype=float) for v in (frequency, t_x, T))
        return 1.0 / self._denominator(x, tx, big_t)

    def _bracket(self, x: np.ndarray, T: np.ndarray, t: float) -> np.ndarray:
        r, alpha, a, b = self.params()
        z = t / (alpha + T + t)
        return 1.0 - ((alpha + T) / (alpha + T + t)) ** (r + x) * special.hyp2f1(
            r + x, b + x, a + b + x - 1.0, z)

    def _brackets(self, x: np.ndarray, T: np.ndarray, horizon: int) -> Iterator[np.ndarray]:
        """:meth:`_bracket` for t = 1, 2, …, horizon, in order; computed a few steps
        at a time in threads (the hypergeometric function releases the GIL), so
        that at most ``2 × workers`` arrays are held at once."""
        workers = min(os.cpu_count() or 1, 4)
        steps = list(range(1, horizon + 1))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for i in range(0, len(steps), 2 * workers):
                yield from pool.map(lambda k: self._bracket(x, T, float(k)),
                                    steps[i:i + 2 * workers])

    def expected_purchases(self, t: float, frequency: Any, t_x: Any, T: Any) -> np.ndarray:
        r"""E[Y(t) | x, t_x, T]: expected purchases in the next ``t`` time units
        (FHL 2005a, eq. 10):

        .. math::
            \frac{a+b+x-1}{a-1}\,\frac{1 - \bigl(\frac{\alpha+T}{\alpha+T+t}\bigr)^{r+x}
            {}_2F_1\bigl(r+x, b+x; a+b+x-1; \frac{t}{\alpha+T+t}\bigr)}
            {1 + \delta_{x>0}\frac{a}{b+x-1}\bigl(\frac{\alpha+T}{\alpha+t_x}\bigr)^{r+x}}

        The hypergeometric term depends only on (x, T): it is evaluated once per
        distinct pair.
        """
        x, tx, big_t = (np.asarray(v, dtype=float) for v in (frequency, t_x, T))
        (ux, ut), _, inv = compress(x, big_t)
        bracket = self._bracket(ux, ut, float(t))[inv]
        return self._finite((self.a + self.b + x - 1.0) * bracket
                            / self._denominator(x, tx, big_t))

    def discounted_purchases(self, horizon: int, discount: float, frequency: Any, t_x: Any,
                             T: Any) -> np.ndarray:
        r"""Σ_{k=1..H} (E[Y(k)] − E[Y(k−1)]) / (1+d)^k: expected purchases in each of the
        next ``horizon`` time units, discounted at rate ``discount`` per unit."""
        x, tx, big_t = (np.asarray(v, dtype=float) for v in (frequency, t_x, T))
        (ux, ut), _, inv = compress(x, big_t)
        total = np.zeros(len(ux))
        prev = np.zeros(len(ux))
        for k in range(1, int(horizon) + 1):
            cur = self._bracket(ux, ut, float(k))
            total += (cur - prev) / (1.0 + discount) ** k
            prev = cur
        return self._finite((self.a + self.b + x - 1.0) * total[inv]
                            / self._denominator(x, tx, big_t))

    def predict(self, horizon: int, discount: float, frequency: Any, t_x: Any,
                T: Any) -> dict[str, np.ndarray]:
        """P(alive), E[Y(horizon)], the discounted purchases over the horizon and over
        the next unit, in one pass (one set of hypergeometric terms per distinct (x, T)).

        Same values as :meth:`p_alive`, :meth:`expected_purchases` and
        :meth:`discounted_purchases` (tested), for the pipeline on a million customers.
        """
        x, tx, big_t = (np.asarray(v, dtype=float) for v in (frequency, t_x, T))
        (ux, ut), _, inv = compress(x, big_t)
        total = np.zeros(len(ux))
        prev = np.zeros(len(ux))
        first = prev
        for k, cur in enumerate(self._brackets(ux, ut, int(horizon)), start=1):
            total += (cur - prev) / (1.0 + discount) ** k
            if k == 1:
                first = cur / (1.0 + discount)
            prev = cur
        denominator = self._denominator(x, tx, big_t)
        factor = (self.a + self.b + x - 1.0) / denominator
        return {"p_alive": 1.0 / denominator,
                "expected_purchases": self._finite(factor * prev[inv]),
                "discounted_purchases": self._finite(factor * total[inv]),
                "discounted_next": self._finite(factor * first[inv])}

    def _finite(self, numerator: np.ndarray) -> np.ndarray:
        """``numerator / (a − 1)``, NaN where not finite: at a = 1 (a fit that never
        left its starting point, gated as ``clv_boundary``) the formula is 0/0, and
        no raw NumPy warning is printed for it."""
        with np.errstate(divide="ignore", invalid="ignore"):
            out = numerator / (self.a - 1.0)
        return np.where(np.isfinite(out), out, np.nan)


def fit_bgnbd(frequency: Any, t_x: Any, T: Any, weights: Any = None) -> BGNBDFit:
    """Fit the BG/NBD model by maximum likelihood over the distinct (x, t_x, T).

    Parameters
    ----------
    frequency, t_x, T : array-like
        Repeat purchases, time of the last purchase and length of observation,
        per customer (see :mod:`satisfaction.value.customers`), or per distinct
        triplet with ``weights``.
    weights : array-like, optional
        Customers per row: the fit needs only the sufficient statistics, the
        distinct (x, t_x, T) and their counts (as an engine computes them).

    Returns
    -------
    BGNBDFit

    Notes
    -----
    Tested against the published CDNOW estimates (r = 0.243, α = 4.414,
    a = 0.793, b = 2.426; FHL 2005a) and ``lifetimes.BetaGeoFitter``.
    """
    with _one_blas_thread():
        return _fit_bgnbd(frequency, t_x, T, weights)


def _fit_bgnbd(frequency: Any, t_x: Any, T: Any, weights: Any = None) -> BGNBDFit:
    x, tx, big_t = _check_rfm(frequency, t_x, T)
    (ux, utx, ut), w, _ = compress(x, tx, big_t, weights=weights)
    scale = 10.0 / float(ut.max()) if ut.max() > 0 else 1.0
    stx, st = utx * scale, ut * scale

    parts = [_Triplets(ux[c], stx[c], st[c], w[c]) for c in _chunks(len(ux))]

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        with np.errstate(over="ignore"):
            p = np.exp(theta)
        ll, g = _summed(_bgnbd_loglik, parts, p)
        if not np.isfinite(ll):
            return 1e300, np.zeros(4)
        return -ll / w.sum(), -g * p / w.sum()

    res = _minimize(objective, np.zeros(4), jac=True, n=len(ux))
    r, alpha_s, a, b = np.exp(res.x)
    alpha = alpha_s / scale
    # ln L in the data's time unit: with times and α scaled by c, each customer's
    # likelihood changes by c^−x (the density of x event times), so
    # ln L = ln L_scaled + ln(c) Σ w x
    ll_scaled = _summed(_bgnbd_loglik, parts, np.exp(res.x))[0]
    ll = ll_scaled + np.log(scale) * float(np.dot(w, ux))
    gates = fit_diagnostics("BG/NBD", bool(res.success), res.x, ll, ("r", "alpha", "a", "b"),
                            np.array([r, alpha, a, b])) + _no_repeats("BG/NBD", ux, w)
    return BGNBDFit(r=float(r), alpha=float(alpha), a=float(a), b=float(b), loglik=float(ll),
                    n_customers=int(w.sum()), n_unique=len(ux),
                    converged=bool(res.success) and _sane(res.x), warnings=gates)


# ---------------------------------------------------------------------------
# Pareto/NBD
# ---------------------------------------------------------------------------
def _pnbd_log_a0(r: float, alpha: float, s: float, beta: float, x: np.ndarray,
                 t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    r"""ln A₀ of Fader & Hardie (2005, note), with m = max(α, β):

    A₀ = F(t_x)/(m+t_x)^{r+s+x} − F(T)/(m+T)^{r+s+x}, where
    F(t) = ₂F₁(r+s+x, c; r+s+x+1; |α−β|/(m+t)) and c = s+1 if α ≥ β else r+x.
    """
    rsx = r + s + x
    m = max(alpha, beta)
    c = s + 1.0 if alpha >= beta else r + x
    diff = abs(alpha - beta)
    ln_f1 = np.log(special.hyp2f1(rsx, c, rsx + 1.0, diff / (m + t_x))) - rsx * np.log(m + t_x)
    ln_f2 = np.log(special.hyp2f1(rsx, c, rsx + 1.0, diff / (m + T))) - rsx * np.log(m + T)
    with np.errstate(divide="ignore"):
        return ln_f1 + np.log1p(-np.exp(np.minimum(ln_f2 - ln_f1, 0.0)))


def _pnbd_parts(params: np.ndarray, x: np.ndarray, t_x: np.ndarray,
                T: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r, alpha, s, beta = params
    with np.errstate(all="ignore"):  # overflow of ₂F₁ at extreme parameters: NaN, gated
        head = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha) \
            + s * np.log(beta)
        alive = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
        dead = np.log(s / (r + s + x)) + _pnbd_log_a0(r, alpha, s, beta, x, t_x, T)
    return head, alive, dead


def pareto_nbd_loglik(params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray,
                      weights: np.ndarray | None = None) -> float:
    r"""Weighted Pareto/NBD log-likelihood (Fader & Hardie 2005, note, eq. 19):

    .. math::
        L = \frac{\Gamma(r+x)\alpha^r\beta^s}{\Gamma(r)}\Bigl[
            \frac{1}{(\alpha+T)^{r+x}(\beta+T)^s} + \frac{s}{r+s+x}A_0\Bigr]
    """
    head, alive, dead = _pnbd_parts(params, x, t_x, T)
    w = np.ones_like(x) if weights is None else weights
    with np.errstate(all="ignore"):
        return float(np.dot(w, head + np.logaddexp(alive, dead)))


#: Largest number of series terms per pair (see :func:`_pnbd_series`): enough for
#: z up to 0.9998; pairs whose series has not converged by then get NaN (the fit
#: treats the point as not finite and steps back).
_SERIES_TERMS = 200_000

#: Terms × pairs computed at once by :func:`_pnbd_series` (512 kB per array).
_SERIES_BLOCK = 1 << 16


def _pnbd_series(c: np.ndarray, B: np.ndarray, z: np.ndarray,
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    r"""ln S and its partial derivatives for S(c, B, z) = ₂F₁(c, 1; B; z) = Σ_k u_k.

    u_0 = 1 and u_{k+1} = u_k (c+k) z / (B+k), so u_k = (c)_k/(B)_k zᵏ and, exactly,

    .. math::
        \partial_c S = \sum_k u_k \sum_{j<k} \frac{1}{c+j},\quad
        \partial_B S = -\sum_k u_k \sum_{j<k} \frac{1}{B+j},\quad
        \partial_z S = \sum_{k \ge 1} k\,u_{k-1}\,\frac{c+k-1}{B+k-1}.

    With 0 ≤ z < 1 and c < B (as in :class:`_PnbdTerms`) every term is positive and
    less than z times the one before, so the sums stop when a term (and its
    z-derivative) is below 10⁻¹⁷ (1 − z) of the sum (a bound of the rest). The
    terms are computed one at a time while many pairs run, then in blocks
    (cumulative products and sums along a block; the block grows as pairs converge,
    :data:`_SERIES_BLOCK`), so a pair with z close to 1 costs a few large blocks, not
    a Python loop over its thousands of terms.
    Pairs still running after :data:`_SERIES_TERMS` terms get NaN.

    Returns
    -------
    ln S, ∂ ln S/∂c, ∂ ln S/∂B, ∂ ln S/∂z : numpy.ndarray
    """
    n = len(z)
    total = np.ones(n)
    sum_c, sum_b, sum_z = np.zeros(n), np.zeros(n), np.zeros(n)
    # The running pairs' sums are kept in arrays of their own (contiguous, no indexed
    # updates per term) and written back when finished pairs are dropped. A pair that
    # has finished is frozen until then: its next terms are made exactly zero, so its
    # sums are those it had when it finished (for finite terms; a pair whose 1/c is
    # infinite, c subnormal, gets NaN instead of inf, non-finite either way).
    idx = np.arange(n)
    tot, s_c, s_b, s_z = np.ones(n), np.zeros(n), np.zeros(n), np.zeros(n)
    u, h_c, h_b = np.ones(n), np.zeros(n), np.zeros(n)  # u_k, Σ_{j<k} 1/(c+j), 1/(B+j)
    c_a, b_a, z_a, tail = c, B, z, 1e-17 * (1.0 - z)
    k = 0

    def drop(running: np.ndarray) -> None:
        """Write the finished pairs' sums back and keep only the running ones."""
        nonlocal idx, tot, s_c, s_b, s_z, u, h_c, h_b, c_a, b_a, z_a, tail
        done = ~running
        at = idx[done]
        total[at], sum_c[at], sum_b[at], sum_z[at] = tot[done], s_c[done], s_b[done], s_z[done]
        idx, tot, s_c, s_b, s_z = idx[running], tot[running], s_c[running], s_b[running], \
            s_z[running]
        u, h_c, h_b = u[running], h_c[running], h_b[running]
        c_a, b_a, z_a, tail = c_a[running], b_a[running], z_a[running], tail[running]

    # one term at a time while many pairs run (most stop within a few dozen terms)
    running, n_running = np.ones(n, dtype=bool), n
    while n_running > _SERIES_BLOCK // 64 and k < 256:
        c_k, b_k = c_a + k, b_a + k
        grow = c_k / b_k
        z_next = (k + 1.0) * u * grow  # (k+1) u_{k+1} / z
        h_c, h_b = h_c + 1.0 / c_k, h_b + 1.0 / b_k
        u = u * grow * z_a
        tot += u
        s_c += u * h_c
        s_b -= u * h_b
        s_z += z_next
        k += 1
        running = (u + z_next) > tail * tot
        u *= running  # a finished pair adds exact zeros from here on
        n_running = int(np.count_nonzero(running))
        if 4 * n_running < 3 * len(running):
            drop(running)
            running = running[running]
    drop(running)
    # then blocks of terms for the pairs still running (z close to 1)
    while len(idx) and k < _SERIES_TERMS:
        size = int(np.clip(_SERIES_BLOCK // len(idx), 16, 1 << 16))
        steps = k + np.arange(size, dtype=float)  # k, k+1, ..., producing u_{k+1}, ...
        c_j = c_a[:, None] + steps
        b_j = b_a[:, None] + steps
        grow = c_j / b_j
        terms = u[:, None] * np.cumprod(grow * z_a[:, None], axis=1)
        prev = np.concatenate([u[:, None], terms[:, :-1]], axis=1)
        z_terms = (steps + 1.0) * prev * grow  # (k+1) u_{k+1} / z
        hc = h_c[:, None] + np.cumsum(1.0 / c_j, axis=1)
        hb = h_b[:, None] + np.cumsum(1.0 / b_j, axis=1)
        tot += terms.sum(axis=1)
        s_c += (terms * hc).sum(axis=1)
        s_b -= (terms * hb).sum(axis=1)
        s_z += z_terms.sum(axis=1)
        u, h_c, h_b = terms[:, -1], hc[:, -1], hb[:, -1]
        k += size
        drop((u + z_terms[:, -1]) > tail * tot)
    total[idx] = np.nan  # not converged
    return np.log(total), sum_c / total, sum_b / total, sum_z / total


class _PnbdTerms:
    r"""(x, t_x, T) with weights, and the distinct x, (x, t_x) and (x, T) behind them.

    The "dead" term of the likelihood depends on (x, t_x) and (x, T) only through

    .. math::
        J(x, t) = \int_t^\infty (\alpha+\tau)^{-(r+x)}\,(\beta+\tau)^{-(s+1)}\,d\tau,
        \qquad \frac{s}{r+s+x}A_0 = s\,[J(x, t_x) - J(x, T)]

    (the customer bought x times by rate λ and dropped out at τ ∈ (t_x, T] at rate μ,
    integrated over λ ~ Gamma(r, α), μ ~ Gamma(s, β); Fader & Hardie 2005, note), and
    there are far fewer distinct pairs than customers: J and its derivatives are
    evaluated once per distinct pair and gathered.

    With m the larger and n the smaller of α and β, e_m and e_n the exponents that
    go with them above (r + x for α, s + 1 for β) and z = |α − β|/(m + t) ∈ [0, 1),
    Euler's integral and Euler's transformation give

    .. math::
        J = \frac{(m+t)^{-e_m}\,(n+t)^{-(e_n-1)}}{r+s+x}\;
            {}_2F_1(e_m, 1; r+s+x+1; z),

    the same value as the note's :math:`{}_2F_1(r+s+x, e_n; r+s+x+1; z)` form
    (:meth:`loglik`, tested to 10⁻¹²), but a series whose terms fall at least as fast
    as zᵏ from the first (e_m < r+s+x+1), summed with its exact derivatives with
    respect to e_m, r+s+x+1 and z by :func:`_pnbd_series`. The chain rule gives
    ∂ ln J/∂(r, α, s, β), and the likelihood's gradient follows: for each customer,
    with π the posterior weight of the "dead" branch,
    ∂ ln L = ∂ head + (1 − π) ∂ alive + π [1/s ∂s + (J₁ ∂ln J₁ − J₂ ∂ln J₂)/(J₁ − J₂)].
    Tested against a central-difference gradient (10⁻⁶ relative) and the
    hypergeometric likelihood (tests/test_value_clv.py).
    """

    def __init__(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, w: np.ndarray) -> None:
        self.x, self.w = x, w
        (self.xv,), _, self.xi = compress(x)
        (self.x1, self.t1), _, self.i1 = compress(x, t_x)
        (self.x2, self.T2), _, self.i2 = compress(x, T)
        # both sets of pairs in one series
        self.pair_x = np.concatenate([self.x1, self.x2])
        self.pair_t = np.concatenate([self.t1, self.T2])
        self.same = t_x >= T  # bought at the end: no time to drop out unseen, A₀ = 0
        # sums of the weights that do not change with the parameters: by distinct x (the
        # head term) and by distinct (x, T) (the "alive" term's share before π)
        self.wx = np.bincount(self.xi, weights=w, minlength=len(self.xv))
        self.w2 = np.bincount(self.i2, weights=w, minlength=len(self.x2))
        # the customers who could have dropped out unseen (t_x < T) have the mixture
        # term; the others (A₀ = 0) only the "alive" one
        may_drop = ~self.same
        self.m_i1, self.m_i2, self.m_w = self.i1[may_drop], self.i2[may_drop], w[may_drop]
        self.s_i2, self.s_w = self.i2[self.same], w[self.same]
        self.parts = _chunks(len(self.m_w))

    def loglik(self, params: np.ndarray) -> float:
        """Σ w ln L by the note's hypergeometric form, the same sum as
        :func:`pareto_nbd_loglik` (the reference of :meth:`loglik_grad`)."""
        r, alpha, s, beta = params
        m = max(alpha, beta)
        diff = abs(alpha - beta)

        def ln_f(xv: np.ndarray, t: np.ndarray) -> np.ndarray:
            rsx = r + s + xv
            c = s + 1.0 if alpha >= beta else r + xv
            return np.log(special.hyp2f1(rsx, c, rsx + 1.0, diff / (m + t))) - rsx * np.log(m + t)

        with np.errstate(all="ignore"):
            head = (special.gammaln(r + self.xv) - special.gammaln(r) + r * np.log(alpha)
                    + s * np.log(beta))[self.xi]
            ln_f1 = ln_f(self.x1, self.t1)[self.i1]
            ln_f2 = ln_f(self.x2, self.T2)[self.i2]
            alive = (-(r + self.x2) * np.log(alpha + self.T2)
                     - s * np.log(beta + self.T2))[self.i2]
            # A₀ = 0 when t_x = T: ln A₀ = −inf, L = alive
            ln_a0 = ln_f1 + np.log1p(-np.exp(np.minimum(ln_f2 - ln_f1, 0.0)))
            dead = np.log(s / (r + s + self.x)) + ln_a0
            return float(np.dot(self.w, head + np.logaddexp(alive, dead)))

    def _ln_j(self, params: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """ln J and ∂ ln J/∂(r, α, s, β) (rows) for every distinct pair."""
        r, alpha, s, beta = params
        x, t = self.pair_x, self.pair_t
        b = r + s + x
        ln_at, ln_bt = np.log(alpha + t), np.log(beta + t)
        if alpha >= beta:  # m = α, e_m = r + x, e_n = s + 1
            ln_s, d_c, d_b, d_z = _pnbd_series(r + x, b + 1.0, (alpha - beta) / (alpha + t))
            ln_j = -(r + x) * ln_at - s * ln_bt + ln_s - np.log(b)
            grad = np.vstack([-ln_at + d_c + d_b - 1.0 / b,
                              -(r + x) / (alpha + t) + d_z * (beta + t) / (alpha + t) ** 2,
                              -ln_bt + d_b - 1.0 / b,
                              -s / (beta + t) - d_z / (alpha + t)])
        else:  # m = β, e_m = s + 1, e_n = r + x
            ln_s, d_c, d_b, d_z = _pnbd_series(np.full_like(x, s + 1.0), b + 1.0,
                                               (beta - alpha) / (beta + t))
            ln_j = -(r + x - 1.0) * ln_at - (s + 1.0) * ln_bt + ln_s - np.log(b)
            grad = np.vstack([-ln_at + d_b - 1.0 / b,
                              -(r + x - 1.0) / (alpha + t) - d_z / (beta + t),
                              -ln_bt + d_c + d_b - 1.0 / b,
                              -(s + 1.0) / (beta + t) + d_z * (alpha + t) / (beta + t) ** 2])
        return ln_j, grad

    def _customers(self, params: np.ndarray, ln_j1: np.ndarray, ln_j2: np.ndarray,
                   alive2: np.ndarray, part: slice,
                   ) -> tuple[float, float, np.ndarray, np.ndarray, np.ndarray]:
        """One chunk of the customers with t_x < T: Σ w ln L without the head term,
        Σ w π, and the weights that carry the pairs' derivatives into the gradient
        (Σ w π per (x, T), Σ w π J₁/I per (x, t_x), Σ w π J₂/I per (x, T), with
        I = J₁ − J₂ and J₂/J₁ = e)."""
        s = params[2]
        i1, i2, w = self.m_i1[part], self.m_i2[part], self.m_w[part]
        with np.errstate(all="ignore"):  # in this thread: errstate is per thread
            j1 = ln_j1[i1]
            e = np.exp(np.minimum(ln_j2[i2] - j1, 0.0))  # J₂/J₁ ≤ 1
            ln_s_j1 = np.log(s) + j1
            dead = ln_s_j1 + np.log1p(-e)  # ln(s I)
            mix = np.logaddexp(alive2[i2], dead)
            ll = float(np.dot(w, mix))
            w_pi = w * np.exp(dead - mix)
            q1 = w * np.exp(ln_s_j1 - mix)  # w π J₁/I
            q2 = q1 * e                     # w π J₂/I
        n1, n2 = len(self.x1), len(self.x2)
        return (ll, float(w_pi.sum()),
                np.bincount(i2, weights=w_pi, minlength=n2),
                np.bincount(i1, weights=q1, minlength=n1),
                np.bincount(i2, weights=q2, minlength=n2))

    def loglik_grad(self, params: np.ndarray) -> tuple[float, np.ndarray]:
        """Σ w ln L and its gradient with respect to (r, α, s, β), by the series
        (see the class); NaN where a series has not converged."""
        r, alpha, s, beta = params
        x2, big_t = self.x2, self.T2
        n1 = len(self.x1)
        with np.errstate(all="ignore"):
            ln_j, d_j = self._ln_j(params)
            head_x = (special.gammaln(r + self.xv) - special.gammaln(r) + r * np.log(alpha)
                      + s * np.log(beta))
            alive2 = -(r + x2) * np.log(alpha + big_t) - s * np.log(beta + big_t)
        ln_j1, ln_j2 = ln_j[:n1], ln_j[n1:]
        chunks = _over_parts(lambda part: self._customers(params, ln_j1, ln_j2, alive2, part),
                             self.parts)
        ll = (float(np.dot(self.wx, head_x)) + float(np.dot(self.s_w, alive2[self.s_i2]))
              + float(sum(c[0] for c in chunks)))
        pi_total = float(sum(c[1] for c in chunks))
        w_pi2, q1, q2 = (np.sum([c[k] for c in chunks], axis=0) for k in (2, 3, 4))
        not_dead2 = self.w2 - w_pi2
        n = float(self.w.sum())
        wx = self.wx
        with np.errstate(all="ignore"):
            d_alive = np.vstack([-np.log(alpha + big_t), -(r + x2) / (alpha + big_t),
                                 -np.log(beta + big_t), -s / (beta + big_t)])
            grad = np.array([
                np.dot(wx, special.digamma(r + self.xv)) - n * (special.digamma(r)
                                                               - np.log(alpha)),
                n * r / alpha,
                n * np.log(beta) + pi_total / s,
                n * s / beta,
            ]) + d_alive @ not_dead2 + d_j[:, :n1] @ q1 - d_j[:, n1:] @ q2
        return ll, grad


@dataclass
class ParetoNBDFit(_Gated):
    """A fitted Pareto/NBD model (attributes as :class:`BGNBDFit`, with s, β).

    Its hypergeometric terms overflow for extreme parameters; NumPy's floating-point
    warnings are silenced inside (the gates report what matters: a non-finite
    log-likelihood, estimates at the boundary).
    """

    r: float
    alpha: float
    s: float
    beta: float
    loglik: float
    n_customers: int
    n_unique: int
    converged: bool
    warnings: list[Diagnostic] = field(default_factory=list)

    def params(self) -> np.ndarray:
        return np.array([self.r, self.alpha, self.s, self.beta])

    def to_dict(self) -> dict[str, Any]:
        return {"r": self.r, "alpha": self.alpha, "s": self.s, "beta": self.beta,
                "loglik": self.loglik, "n_customers": self.n_customers,
                "n_unique": self.n_unique, "converged": self.converged,
                **self._gate_dict()}

    def p_alive(self, frequency: Any, t_x: Any, T: Any) -> np.ndarray:
        r"""P(alive | x, t_x, T) = [1 + s/(r+s+x) (α+T)^{r+x} (β+T)^s A₀]⁻¹."""
        x, tx, big_t = (np.asarray(v, dtype=float) for v in (frequency, t_x, T))
        _, alive, dead = _pnbd_parts(self.params(), x, tx, big_t)
        with np.errstate(all="ignore"):
            return np.exp(alive - np.logaddexp(alive, dead))

    def expected_purchases(self, t: float, frequency: Any, t_x: Any, T: Any) -> np.ndarray:
        r"""E[Y(t) | x, t_x, T] = P(alive) (r+x)(β+T) / ((α+T)(s−1))
        [1 − ((β+T)/(β+T+t))^{s−1}] (Schmittlein et al. 1987)."""
        x, tx, big_t = (np.asarray(v, dtype=float) for v in (frequency, t_x, T))
        r, alpha, s, beta = self.params()
        with np.errstate(all="ignore"):
            growth = 1.0 - ((beta + big_t) / (beta + big_t + t)) ** (s - 1.0)
            return self.p_alive(x, tx, big_t) * (r + x) * (beta + big_t) / (
                (alpha + big_t) * (s - 1.0)) * growth


def fit_pareto_nbd(frequency: Any, t_x: Any, T: Any, weights: Any = None) -> ParetoNBDFit:
    """Fit the Pareto/NBD model by maximum likelihood over the distinct (x, t_x, T).

    Notes
    -----
    L-BFGS with the exact gradient of :class:`_PnbdTerms` (a series per distinct
    (x, t_x) and (x, T) pair): a few dozen evaluations, where a numerical gradient
    took hundreds. Tested against the published CDNOW estimates (r = 0.553,
    α = 10.58, s = 0.606, β = 11.67; FHL 2005b) and ``lifetimes.ParetoNBDFitter``.
    """
    with _one_blas_thread():
        return _fit_pareto_nbd(frequency, t_x, T, weights)


def _fit_pareto_nbd(frequency: Any, t_x: Any, T: Any, weights: Any = None) -> ParetoNBDFit:
    x, tx, big_t = _check_rfm(frequency, t_x, T)
    (ux, utx, ut), w, _ = compress(x, tx, big_t, weights=weights)
    scale = 10.0 / float(ut.max()) if ut.max() > 0 else 1.0
    terms = _PnbdTerms(ux, utx * scale, ut * scale, w)
    seen: dict[bytes, float] = {}  # ln L at the points evaluated

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        p = np.exp(theta)
        ll, g = terms.loglik_grad(p)
        seen[theta.tobytes()] = ll
        if not (np.isfinite(ll) and np.all(np.isfinite(g))):
            return 1e300, np.zeros(4)
        return -ll / w.sum(), -g * p / w.sum()

    res = _minimize(objective, np.zeros(4), jac=True, n=len(ux))
    r, alpha_s, s, beta_s = np.exp(res.x)
    params = np.array([r, alpha_s / scale, s, beta_s / scale])
    # ln L in the data's time unit: as for BG/NBD, ln L = ln L_scaled + ln(c) Σ w x
    # (tested against the per-customer formula)
    ll_scaled = seen.get(res.x.tobytes())
    if ll_scaled is None:
        ll_scaled = terms.loglik_grad(np.exp(res.x))[0]
    ll = ll_scaled + np.log(scale) * float(np.dot(w, ux))
    homogeneous = max(r, s) > _HOMOGENEOUS
    gates = fit_diagnostics("Pareto/NBD", bool(res.success), res.x, ll,
                            ("r", "alpha", "s", "beta"), params,
                            homogeneous=homogeneous) + _no_repeats("Pareto/NBD", ux, w)
    return ParetoNBDFit(r=float(r), alpha=float(params[1]), s=float(s), beta=float(params[3]),
                        loglik=float(ll), n_customers=int(w.sum()), n_unique=len(ux),
                        converged=bool(res.success) and _sane(res.x) and not homogeneous,
                        warnings=gates)


# ---------------------------------------------------------------------------
# Gamma-Gamma
# ---------------------------------------------------------------------------
class _Pairs:
    """(x, z̄) with weights; x-only terms are computed per distinct x."""

    def __init__(self, x: np.ndarray, z: np.ndarray, w: np.ndarray | None) -> None:
        self.x, self.z = x, z
        self.w = np.ones_like(x) if w is None else w
        self.xv, self.xi = np.unique(x, return_inverse=True)
        self.wx = np.bincount(self.xi, weights=self.w, minlength=len(self.xv))
        # constant parts: Σ w (ln z̄ ... ) do not depend on the parameters
        self.ln_z = np.log(z)
        self.sum_w_ln_z = float(np.dot(self.w, self.ln_z))
        self.sum_w_x_ln_xz = float(np.dot(self.w * x, self.ln_z + np.log(x)))


def gamma_gamma_loglik(params: np.ndarray, x: np.ndarray, z: np.ndarray,
                       weights: np.ndarray | None = None, grad: bool = False) -> Any:
    r"""Weighted Gamma-Gamma log-likelihood of mean spend z̄ over x purchases
    (FHL 2005b, appendix):

    .. math::
        \ln f = \ln\Gamma(px+q) - \ln\Gamma(px) - \ln\Gamma(q) + q\ln\gamma
                + (px-1)\ln\bar z + px\ln x - (px+q)\ln(\gamma + x\bar z)
    """
    data = _Pairs(np.asarray(x, float), np.asarray(z, float), weights)
    return _gamma_gamma_loglik(params, data, grad)


def _gamma_gamma_loglik(params: np.ndarray, d: _Pairs, grad: bool = False) -> Any:
    # at extreme parameters (a degenerate spend distribution) the terms overflow to
    # inf or NaN: the optimizer's objective reads that as "not here" and the gates
    # report the fit; no NumPy warning reaches the user (errstate is per thread)
    with np.errstate(all="ignore"):
        return _gamma_gamma_terms(params, d, grad)


def _gamma_gamma_terms(params: np.ndarray, d: _Pairs, grad: bool) -> Any:
    p, q, g = params
    xv, wx, w = d.xv, d.wx, d.w
    pxv = p * xv
    ln_gz = np.log(g + d.x * d.z)
    pxq = p * d.x + q
    ll = (float(np.dot(wx, special.gammaln(pxv + q) - special.gammaln(pxv)))
          + w.sum() * (q * np.log(g) - special.gammaln(q))
          + p * d.sum_w_x_ln_xz - d.sum_w_ln_z - float(np.dot(w * pxq, ln_gz)))
    if not grad:
        return ll
    dg = special.digamma(pxv + q)
    g_p = (float(np.dot(wx * xv, dg - special.digamma(pxv))) + d.sum_w_x_ln_xz
           - float(np.dot(w * d.x, ln_gz)))
    g_q = float(np.dot(wx, dg)) + w.sum() * (np.log(g) - special.digamma(q)) \
        - float(np.dot(w, ln_gz))
    g_g = w.sum() * q / g - float(np.dot(w * pxq, 1.0 / (g + d.x * d.z)))
    return ll, np.array([g_p, g_q, g_g])


@dataclass
class GammaGammaFit(_Gated):
    """A fitted Gamma-Gamma spend model: p, q, v (= γ), loglik, customers fitted.

    ``warnings`` holds the fit's gates (:func:`fit_diagnostics`) and
    ``gamma_gamma_q_le_1`` when q ≤ 1: the mean of the spend distribution,
    pγ/(q − 1), is then not finite, and the expected spend of a customer without
    repeat purchases (px + q − 1 ≤ 0 at x = 0) would come out negative or infinite
    even though the optimizer converged.
    """

    p: float
    q: float
    v: float
    loglik: float
    n_customers: int
    n_unique: int
    converged: bool
    warnings: list[Diagnostic] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"p": self.p, "q": self.q, "v": self.v, "loglik": self.loglik,
                "n_customers": self.n_customers, "n_unique": self.n_unique,
                "converged": self.converged, **self._gate_dict()}

    @property
    def population_mean(self) -> float:
        """E[Z] = pγ / (q − 1), the mean spend per purchase of a new customer (NaN
        when q ≤ 1: the mean does not exist)."""
        return self.p * self.v / (self.q - 1.0) if self.q > 1.0 else float("nan")

    def expected_spend(self, frequency: Any, monetary_value: Any) -> np.ndarray:
        r"""E[Z | x, z̄] = p(γ + x z̄) / (px + q − 1) (FHL 2005b, eq. 5): a weighted
        mean of the population mean and the customer's own z̄. Customers without
        repeat purchases get the population mean.

        Never negative: where px + q − 1 ≤ 0 (q ≤ 1, see the class) the
        conditional mean does not exist and the result is NaN."""
        x = np.asarray(frequency, dtype=float)
        z = np.nan_to_num(np.asarray(monetary_value, dtype=float), nan=0.0)
        x = np.where(z > 0, x, 0.0)
        denominator = self.p * x + self.q - 1.0
        with np.errstate(divide="ignore", invalid="ignore"):
            spend = self.p * (self.v + x * z) / denominator
        return np.where((denominator > 0) & np.isfinite(spend) & (spend >= 0), spend, np.nan)


def fit_gamma_gamma(frequency: Any, monetary_value: Any, weights: Any = None) -> GammaGammaFit:
    """Fit the Gamma-Gamma model over customers with repeat purchases and z̄ > 0.

    Notes
    -----
    Tested against the published CDNOW estimates (p = 6.25, q = 3.74, γ = 15.44;
    FHL 2005b) and ``lifetimes.GammaGammaFitter``.
    """
    with _one_blas_thread():
        return _fit_gamma_gamma(frequency, monetary_value, weights)


def _fit_gamma_gamma(frequency: Any, monetary_value: Any, weights: Any = None) -> GammaGammaFit:
    x = np.asarray(frequency, dtype=float)
    z = np.asarray(monetary_value, dtype=float)
    keep = (x > 0) & np.isfinite(z) & (z > 0)
    kept_w = None if weights is None else np.asarray(weights, dtype=float)[keep]
    n_keep = int(keep.sum()) if kept_w is None else int(kept_w.sum())
    if n_keep < 3:
        raise InputError(f"too few customers with repeat purchases to fit the spend model: "
                         f"{n_keep} with a positive mean repeat spend, it needs 3")
    (ux, uz), w, _ = compress(x[keep], z[keep], weights=kept_w)
    scale = 1.0 / float(np.average(uz, weights=w))  # spend rescaled to mean 1 for the fit

    uz_s = uz * scale
    parts = [_Pairs(ux[c], uz_s[c], w[c]) for c in _chunks(len(ux))]

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        with np.errstate(over="ignore"):
            par = np.exp(theta)
        ll, g = _summed(_gamma_gamma_loglik, parts, par)
        if not np.isfinite(ll) or not np.all(np.isfinite(g)):
            return 1e300, np.zeros(3)
        return -ll / w.sum(), -g * par / w.sum()

    res = _minimize(objective, np.zeros(3), jac=True, n=len(ux))
    with np.errstate(over="ignore"):
        p, q, g_s = np.exp(res.x)
    params = np.array([p, q, g_s / scale])
    ll = gamma_gamma_loglik(params, ux, uz, w)
    gates = fit_diagnostics("Gamma-Gamma", bool(res.success), res.x, ll, ("p", "q", "v"), params)
    if q <= 1.0:
        gates.append(Diagnostic("gamma_gamma_q_le_1", "invalidates", {"q": float(q)}))
    return GammaGammaFit(p=float(p), q=float(q), v=float(params[2]), loglik=float(ll),
                         n_customers=n_keep, n_unique=len(ux),
                         converged=bool(res.success) and _sane(res.x), warnings=gates)


# ---------------------------------------------------------------------------
# CLV
# ---------------------------------------------------------------------------
def retention_clv(margin: Any, retention: Any, discount: float) -> np.ndarray:
    r"""Lifetime value of a customer with constant margin and retention:

    .. math:: CLV = \frac{m\,r}{1 + d - r}

    the discounted sum Σ_{t≥1} m rᵗ / (1+d)ᵗ (Gupta & Lehmann 2003), with the
    margin ``m`` per period, retention ``r`` per period and discount rate ``d``.
    """
    m = np.asarray(margin, dtype=float)
    r = np.asarray(retention, dtype=float)
    if np.any((r < 0) | (r > 1)):
        raise InputError("retention must be between 0 and 1", column="retention")
    if discount <= -1:
        raise InputError("discount rate must be above -1", column="discount", value=discount)
    return m * r / (1.0 + discount - r)


def per_unit_discount(annual_rate: float, unit_days: float) -> float:
    """Discount rate per time unit equivalent to an annual rate: (1+d)^(unit/365.25) − 1.

    ``annual_rate`` is checked by :func:`check_discount_rate` (0 ≤ d ≤ 1)."""
    rate = check_discount_rate(annual_rate)
    return (1.0 + rate) ** (unit_days / 365.25) - 1.0


@dataclass
class HoldoutCheck:
    """Predicted vs actual repeat purchases in the holdout period.

    Attributes
    ----------
    length : float
        Holdout length in time units.
    per_customer : pandas.DataFrame
        Columns actual, predicted (index customer id).
    by_frequency : pandas.DataFrame
        Mean actual and predicted by calibration frequency (0, 1, …, 7+), as in
        FHL 2005a, figure 4.
    actual_total, predicted_total, mae, rmse, correlation : float
    """

    length: float
    per_customer: pd.DataFrame
    by_frequency: pd.DataFrame
    actual_total: float
    predicted_total: float
    mae: float
    rmse: float
    correlation: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "length": self.length,
            "customers": len(self.per_customer),
            "actual_total": self.actual_total,
            "predicted_total": self.predicted_total,
            "mae": self.mae, "rmse": self.rmse, "correlation": self.correlation,
            "by_frequency": [
                {"frequency": str(k), "customers": int(row.customers),
                 "actual": float(row.actual), "predicted": float(row.predicted)}
                for k, row in self.by_frequency.iterrows()
            ],
        }


def holdout_check(model: BGNBDFit | ParetoNBDFit, customers: pd.DataFrame,
                  length: float) -> HoldoutCheck:
    """Compare the conditional expectation E[Y(length) | x, t_x, T] with the repeat
    purchases each customer actually made in the holdout period.

    ``customers`` needs columns frequency, t_x, T and holdout_frequency.
    """
    pred = model.expected_purchases(length, customers["frequency"], customers["t_x"],
                                    customers["T"])
    per = pd.DataFrame({"actual": customers["holdout_frequency"].astype(float),
                        "predicted": pred}, index=customers.index)
    group = customers["frequency"].clip(upper=7).map(lambda v: "7+" if v >= 7 else str(int(v)))
    by = per.groupby(group).agg(customers=("actual", "size"), actual=("actual", "mean"),
                                predicted=("predicted", "mean"))
    by = by.reindex([k for k in ["0", "1", "2", "3", "4", "5", "6", "7+"] if k in by.index])
    err = per["predicted"] - per["actual"]
    corr = None
    a, p = per["actual"].to_numpy(), per["predicted"].to_numpy()
    # only where both vary and every prediction is a number (np.corrcoef warns else)
    if len(per) > 2 and np.all(np.isfinite(p)) and np.ptp(a) > 0 and np.ptp(p) > 0:
        corr = float(np.corrcoef(a, p)[0, 1])
    # a prediction that is not a number (a degenerate fit's) makes the totals NaN, not
    # a sum that skips it (pandas' default would print "predicted 0.0")
    return HoldoutCheck(length=float(length), per_customer=per, by_frequency=by,
                        actual_total=float(per["actual"].sum()),
                        predicted_total=float(per["predicted"].sum(skipna=False)),
                        mae=float(err.abs().mean()), rmse=float(np.sqrt((err ** 2).mean())),
                        correlation=corr if corr is None or np.isfinite(corr) else None)


@dataclass
class ValueDecomposition:
    """Customer value as historical + current + potential + referral value.

    Attributes
    ----------
    data : pandas.DataFrame
        Per customer: historical, current, potential, referral, total.
    """

    data: pd.DataFrame
    notes: dict[str, Any] = field(default_factory=dict)

    def totals(self) -> dict[str, float]:
        return {c: float(self.data[c].sum()) for c in self.data.columns}


def decompose_value(historical: pd.Series, discounted_future: pd.Series,
                    next_period: pd.Series, referral_rate: float | pd.Series = 0.0,
                    referral_value: float = 0.0) -> ValueDecomposition:
    r"""Split customer value into four terms.

    * **historical** — margin (or revenue) already earned;
    * **current** — the expected, discounted value of the next time unit if the
      customer keeps behaving as now (``next_period``);
    * **potential** — the rest of the discounted future value over the horizon
      (``discounted_future − current``);
    * **referral** (influence) — ``referral_rate × referral_value``: expected
      referred customers times the value of one (e.g. the rate from the
      recommendation item of the survey), kept as its own term.

    total = historical + current + potential + referral.
    """
    hist = historical.astype(float).fillna(0.0)
    cur = next_period.reindex(hist.index).astype(float).fillna(0.0)
    fut = discounted_future.reindex(hist.index).astype(float).fillna(0.0)
    ref_rate = referral_rate.reindex(hist.index).fillna(0.0) if isinstance(
        referral_rate, pd.Series) else pd.Series(float(referral_rate), index=hist.index)
    data = pd.DataFrame({
        "historical": hist,
        "current": cur,
        "potential": fut - cur,
        "referral": ref_rate.astype(float) * float(referral_value),
    })
    data["total"] = data.sum(axis=1)
    return ValueDecomposition(data=data, notes={"referral_value": float(referral_value)})
