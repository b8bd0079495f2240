"""Relative importance of correlated drivers: Johnson's relative weights and Shapley (LMG).

Which driver matters most cannot be read from regression coefficients when the
drivers are correlated (a satisfaction survey's dimensions always are): the
coefficients share the common variance arbitrarily, change sign, and do not
add up to anything. The two decompositions here split the model's
:math:`R^2` among the drivers so that the parts are non-negative and sum to
:math:`R^2`.

Both work on the correlation matrix of the complete cases,

.. math::

    R = \\begin{pmatrix} R_{xx} & r_{xy} \\\\ r_{xy}^\\top & 1 \\end{pmatrix},
    \\qquad R^2 = r_{xy}^\\top R_{xx}^{-1} r_{xy},

so they are invariant to linear rescaling of the outcome and of each driver
(a 0-100 index and a 1-7 mean give the same numbers).

Shapley value (LMG)
-------------------
The LMG measure of Lindeman, Merenda & Gold (1980) is the Shapley value of the
game whose worth is :math:`R^2` (Grömping 2006): driver :math:`j`'s increase in
:math:`R^2` when it joins a subset :math:`S` of the other drivers, averaged
over all orders in which the :math:`p` drivers can enter,

.. math::

    \\mathrm{LMG}_j = \\sum_{S \\subseteq P \\setminus \\{j\\}}
        \\frac{|S|!\\,(p-|S|-1)!}{p!}\\,\\bigl(R^2(S \\cup \\{j\\}) - R^2(S)\\bigr),
    \\qquad \\sum_j \\mathrm{LMG}_j = R^2 .

It is computed exactly: :math:`R^2(S)` of all :math:`2^p` subsets comes from
one sweep of the correlation matrix per subset (a depth-first walk over the
subsets, each child sweeping one more pivot of its parent), so every subset's
:math:`R^2` is computed once; the work grows as :math:`2^p`, and more than
:data:`MAX_SHAPLEY` drivers are refused.

Relative weights (Johnson 2000)
-------------------------------
With the eigen-decomposition :math:`R_{xx} = V \\operatorname{diag}(e) V^\\top`,
:math:`\\Lambda = R_{xx}^{1/2} = V \\operatorname{diag}(\\sqrt e) V^\\top` holds the
correlations of the drivers with their closest orthonormal counterparts
:math:`Z`; the outcome's coefficients on :math:`Z` are
:math:`\\beta = \\Lambda^{-1} r_{xy}` and

.. math::

    \\varepsilon_j = \\sum_k \\lambda_{jk}^2\\, \\beta_k^2,
    \\qquad \\sum_j \\varepsilon_j = \\sum_k \\beta_k^2 = R^2 .

Relative weights approximate LMG closely and cost one eigen-decomposition.

Signs
-----
Both measures are non-negative. Each driver also carries its zero-order
correlation ``r`` with the outcome and its standardized coefficient ``beta``
in the full regression, :math:`\\beta = R_{xx}^{-1} r_{xy}`; ``sign`` is the
sign of ``beta``, so a driver that lowers the outcome holding the others
fixed is shown as negative (a negative ``beta`` beside a positive ``r`` is the
mark of suppression by a correlated driver).

Intervals
---------
Percentile bootstrap over respondents (Efron & Tibshirani 1993, ch. 13): ``B``
resamples of the complete cases drawn from ``numpy.random.default_rng(seed)``;
each resample's correlation matrix is formed from resampling counts with one
matrix product, and every statistic is recomputed on all resamples at once.
Quantiles are R's type 7 (``numpy.quantile``'s default).

References
----------
Johnson, J. W. (2000). A heuristic method for estimating the relative weight of
predictor variables in multiple regression. *Multivariate Behavioral Research*
35(1), 1-19.

Lindeman, R. H., Merenda, P. F. & Gold, R. Z. (1980). *Introduction to
Bivariate and Multivariate Analysis*. Glenview, IL: Scott, Foresman, 119 ff.

Grömping, U. (2006). Relative importance for linear regression in R: the
package relaimpo. *Journal of Statistical Software* 17(1), 1-27.

Tested against a hand computation in R over all subsets with ``lm()`` and
Johnson's weights with ``eigen()`` (``tests/reference/importance_reference.R``),
on R's ``swiss`` data (whose LMG values Grömping 2006 prints) and on construct
scores of the bank data.

Example
-------
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(1)
>>> X = pd.DataFrame(rng.normal(size=(200, 3)), columns=["a", "b", "c"])
>>> y = X["a"] + 0.5 * X["b"] + rng.normal(size=200)
>>> res = driver_importance(y, X, bootstrap=200, seed=1)
>>> round(float(res.table["shapley"].sum()), 6) == round(res.r2, 6)
True
>>> res.table["driver"].tolist()
['a', 'b', 'c']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from math import factorial
from typing import Any

import numpy as np
import pandas as pd

from satisfaction.diagnostics import Diagnostic, status
from satisfaction.errors import InputError
from satisfaction.io import to_jsonable

#: Largest number of drivers for the exact Shapley decomposition (2**15 subsets).
MAX_SHAPLEY: int = 15
#: Variance inflation factor above which the drivers are reported as nearly collinear.
VIF_LIMIT: float = 10.0
#: Share of failed bootstrap draws above which the intervals are not trusted.
FAILED_LIMIT: float = 0.10
#: Statistics that get a bootstrap interval, in the order of the table.
STATISTICS: tuple[str, ...] = ("r", "beta", "relative_weight", "relative_weight.share",
                               "shapley", "shapley.share")
#: Cells kept in memory at once by the bootstrap (draws × respondents, draws × subsets).
_CHUNK_CELLS = 4_000_000
#: A correlation matrix whose smallest eigenvalue is below this is singular.
_SINGULAR = 1e-10
#: A resample whose variance (of a standardized column) is below this holds a constant.
_CONSTANT = 1e-8


# -- the decompositions on correlation matrices (batched) ----------------------


def _reduce(a: np.ndarray, k: int) -> np.ndarray:
    """Schur complement of pivot ``k`` in every matrix of the batch ``a`` (B, q, q),
    keeping only the variables after ``k``: the covariance of those variables
    given the pivot (and whatever was swept out of ``a`` before)."""
    rest = a[:, k + 1:, k + 1:]
    d = a[:, k, k]
    with np.errstate(divide="ignore", invalid="ignore"):
        return rest - a[:, k + 1:, k, None] * (a[:, None, k, k + 1:] / d[:, None, None])


def subset_r2(corr: np.ndarray) -> np.ndarray:
    """:math:`R^2` of the last variable on every subset of the others.

    Parameters
    ----------
    corr : ndarray, shape (B, p + 1, p + 1) or (p + 1, p + 1)
        Correlation matrices with the outcome last.

    Returns
    -------
    ndarray, shape (B, 2**p) (or (2**p,))
        Column ``m`` holds :math:`R^2` on the drivers whose bits are set in
        ``m`` (bit ``j`` = driver ``j``); column 0 is 0.

    Notes
    -----
    After the drivers in :math:`S` are swept out, the outcome's diagonal cell is
    :math:`1 - r_{S}^\\top R_{SS}^{-1} r_S = 1 - R^2(S)`. The subsets are walked
    depth first, each child sweeping one pivot more than its parent and keeping
    only the drivers that can still join, so the :math:`2^p - 1` non-empty
    subsets cost one (shrinking) sweep each.
    """
    single = corr.ndim == 2
    a = corr[None] if single else corr
    p = a.shape[1] - 1
    out = np.zeros((a.shape[0], 1 << p))

    def visit(block: np.ndarray, mask: int, first: int) -> None:
        # block holds drivers first..p-1 and the outcome, given the drivers in mask
        for i in range(p - first):
            child = _reduce(block, i)
            m = mask | (1 << (first + i))
            out[:, m] = 1.0 - child[:, -1, -1]
            if child.shape[1] > 1:
                visit(child, m, first + i + 1)

    visit(a, 0, 0)
    return out[0] if single else out


def _shapley_weights(p: int) -> np.ndarray:
    """:math:`|S|!\\,(p-|S|-1)!/p!` for :math:`|S| = 0 .. p-1`."""
    return np.array([factorial(k) * factorial(p - k - 1) / factorial(p) for k in range(p)])


def lmg_from_subsets(r2: np.ndarray) -> np.ndarray:
    """Shapley values (LMG) from the :math:`R^2` of every subset.

    Regrouping the sum by subset,
    :math:`\\mathrm{LMG}_j = \\sum_{T \\ni j} w_{|T|-1} R^2(T) - \\sum_{S \\not\\ni j}
    w_{|S|} R^2(S)` with :math:`w_k = k!\\,(p-k-1)!/p!`, so all drivers of all
    replicates come from one product with a ``(2**p, p)`` matrix of weights.

    Parameters
    ----------
    r2 : ndarray, shape (B, 2**p)
        Output of :func:`subset_r2`.

    Returns
    -------
    ndarray, shape (B, p)
    """
    r2 = np.atleast_2d(r2)
    p = int(np.log2(r2.shape[1]))
    masks = np.arange(1 << p)
    size = np.array([bin(m).count("1") for m in masks])
    w = np.append(_shapley_weights(p), 0.0)  # w[p] = 0: the full set has no driver to add
    member = ((masks[:, None] >> np.arange(p)[None, :]) & 1).astype(bool)
    coef = np.where(member, w[np.maximum(size - 1, 0)][:, None], -w[size][:, None])
    return r2 @ coef


def _relative_weights(rxx: np.ndarray, rxy: np.ndarray) -> np.ndarray:
    """Johnson's raw relative weights for a batch: ``rxx`` (B, p, p), ``rxy`` (B, p)."""
    e, v = np.linalg.eigh(rxx)
    with np.errstate(invalid="ignore", divide="ignore"):
        root = np.sqrt(e)
        lam = (v * root[:, None, :]) @ np.swapaxes(v, 1, 2)
        vt_r = np.einsum("bkj,bk->bj", v, rxy)
        beta = np.einsum("bjk,bk->bj", v, vt_r / root)
    return np.einsum("bjk,bk->bj", lam**2, beta**2)


def _statistics(corr: np.ndarray, shapley: bool) -> dict[str, np.ndarray]:
    """Every statistic of the table for a batch of correlation matrices (outcome last)."""
    p = corr.shape[1] - 1
    rxx = corr[:, :p, :p]
    rxy = corr[:, :p, p]
    try:
        beta = np.linalg.solve(rxx, rxy[..., None])[..., 0]
    except np.linalg.LinAlgError:
        beta = np.stack([_solve_or_nan(m, r) for m, r in zip(rxx, rxy, strict=True)])
    r2 = np.einsum("bj,bj->b", rxy, beta)
    rw = _relative_weights(rxx, rxy)
    out = {"r": rxy, "beta": beta, "relative_weight": rw, "r2": r2}
    with np.errstate(invalid="ignore", divide="ignore"):
        out["relative_weight.share"] = rw / rw.sum(axis=1, keepdims=True)
    if shapley:
        lmg = lmg_from_subsets(subset_r2(corr))
        out["shapley"] = lmg
        with np.errstate(invalid="ignore", divide="ignore"):
            out["shapley.share"] = lmg / lmg.sum(axis=1, keepdims=True)
    return out


def _solve_or_nan(m: np.ndarray, r: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.solve(m, r)
    except np.linalg.LinAlgError:
        return np.full_like(r, np.nan)


def _corr(cov: np.ndarray) -> np.ndarray:
    sd = np.sqrt(np.einsum("bii->bi", cov))
    with np.errstate(invalid="ignore", divide="ignore"):
        return cov / sd[:, :, None] / sd[:, None, :]


# -- input -----------------------------------------------------------------------


def _frame(y: Any, X: Any) -> tuple[pd.DataFrame, str]:
    """Outcome and drivers as one numeric frame (outcome last) and the outcome's name."""
    if isinstance(X, pd.DataFrame):
        xf = X.copy()
    else:
        arr = np.asarray(X, dtype=float)
        if arr.ndim != 2:
            raise InputError("drivers must be a table with one column per driver",
                             value=arr.shape)
        xf = pd.DataFrame(arr, columns=[f"x{j + 1}" for j in range(arr.shape[1])])
    xf.columns = [str(c) for c in xf.columns]
    if xf.columns.duplicated().any():
        raise InputError("driver names must be unique",
                         value=list(xf.columns[xf.columns.duplicated()]))
    name = str(y.name) if isinstance(y, pd.Series) and y.name is not None else "y"
    if name in xf.columns:
        name = f"{name} (outcome)"
    if isinstance(y, pd.Series) and isinstance(X, pd.DataFrame) and not y.index.equals(X.index):
        if not (y.index.is_unique and set(y.index) == set(X.index)):
            raise InputError("outcome and drivers are indexed by different respondents")
        y = y.reindex(X.index)
    yv = y.to_numpy() if isinstance(y, pd.Series) else np.asarray(y)
    if len(yv) != len(xf):
        raise InputError("outcome and drivers have different numbers of rows",
                         value=(len(yv), len(xf)))
    frame = xf.reset_index(drop=True)
    frame[name] = yv
    for col in frame.columns:
        converted = pd.to_numeric(frame[col], errors="coerce")
        bad = converted.isna() & frame[col].notna()
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputError("importance needs numeric scores", column=col,
                             value=frame[col].iloc[row])
        frame[col] = converted.astype(float)
    return frame, name


def _check(frame: pd.DataFrame, drivers: list[str], shapley: bool) -> None:
    p = len(drivers)
    if p == 0:
        raise InputError("importance needs at least one driver")
    if shapley and p > MAX_SHAPLEY:
        raise InputError(
            f"the exact Shapley decomposition takes 2^p subsets: {p} drivers are more than "
            f"{MAX_SHAPLEY}; group the drivers or use relative weights (shapley=False)",
            value=p)
    if len(frame) < p + 2:
        raise InputError(
            f"{len(frame)} complete cases are too few for {p} drivers (at least {p + 2} "
            "are needed)", value=len(frame))
    sd = frame.std(ddof=1)
    for col in frame.columns:
        if not np.isfinite(sd[col]) or sd[col] == 0:
            raise InputError("a driver or outcome with no variation carries no importance",
                             column=col, value=float(frame[col].iloc[0]))


# -- result ------------------------------------------------------------------------


@dataclass
class ImportanceResult:
    """Relative importance of the drivers of one outcome.

    Attributes
    ----------
    outcome : str
    table : DataFrame
        One row per driver: ``driver r beta relative_weight relative_weight.share
        shapley shapley.share sign`` then ``<statistic>.ci.lower`` and
        ``<statistic>.ci.upper`` for every statistic in :data:`STATISTICS`
        (NaN without a bootstrap). ``r`` is the zero-order correlation with the
        outcome, ``beta`` the standardized coefficient in the full regression,
        ``sign`` its sign (+1 / -1). The ``shapley`` columns are NaN when
        the Shapley decomposition was not asked for.
    r2 : float
        :math:`R^2` of the full regression (the sum of each decomposition).
    n : int
        Complete cases analysed.
    dropped : int
        Rows left out because the outcome or a driver was missing.
    level : float
        Confidence level of the intervals.
    bootstrap : dict
        ``{"draws": B, "succeeded": b, "seed": s}`` (empty without a bootstrap).
    warnings : list of Diagnostic
    draws : dict of str to ndarray
        The bootstrap replicates, ``(b, p)`` per statistic (``r2`` is ``(b,)``),
        for intervals of sums of drivers (:meth:`group_shares`).
    """

    outcome: str
    table: pd.DataFrame
    r2: float
    n: int
    dropped: int
    level: float = 0.95
    bootstrap: dict[str, Any] = field(default_factory=dict)
    warnings: list[Diagnostic] = field(default_factory=list)
    draws: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    @property
    def status(self) -> str:
        """``ok``, ``caution`` or ``invalid`` from the diagnostics."""
        return status(self.warnings)

    @property
    def drivers(self) -> list[str]:
        """Driver names in table order."""
        return [str(d) for d in self.table["driver"]]

    def group_shares(self, groups: Mapping[str, Sequence[str]],
                     statistic: str = "shapley.share") -> pd.DataFrame:
        """Sums of a share over groups of drivers, with percentile intervals.

        Shapley values are additive, so the sum over a group of drivers is the
        group's part of :math:`R^2`; the interval is the percentile interval of
        the same sum over the bootstrap replicates.

        Returns
        -------
        DataFrame
            ``group drivers <statistic> ci.lower ci.upper``.
        """
        position = {d: j for j, d in enumerate(self.drivers)}
        est = self.table[statistic].to_numpy(dtype=float)
        rows = []
        for name, members in groups.items():
            cols = [position[m] for m in members if m in position]
            value = float(est[cols].sum()) if cols else np.nan
            lo = hi = np.nan
            if cols and statistic in self.draws and len(self.draws[statistic]):
                sums = self.draws[statistic][:, cols].sum(axis=1)
                lo, hi = _percentile(sums[:, None], self.level)
                lo, hi = float(lo[0]), float(hi[0])
            rows.append({"group": name, "drivers": ",".join(m for m in members
                                                             if m in position),
                         statistic: value, "ci.lower": lo, "ci.upper": hi})
        return pd.DataFrame(rows, columns=["group", "drivers", statistic, "ci.lower",
                                           "ci.upper"])

    def to_dict(self) -> dict[str, Any]:
        """JSON contract: the table as records, R², n, dropped, bootstrap, warnings."""
        return {
            "outcome": self.outcome,
            "r2": to_jsonable(self.r2),
            "n": int(self.n),
            "dropped": int(self.dropped),
            "level": self.level,
            "bootstrap": {k: to_jsonable(v) for k, v in self.bootstrap.items()},
            "drivers": [{str(k): to_jsonable(v) for k, v in row.items()}
                        for row in self.table.to_dict("records")],
            "warnings": [d.to_dict() for d in self.warnings],
            "status": self.status,
        }


def _percentile(values: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    lo, hi = np.quantile(values, [(1 - level) / 2, (1 + level) / 2], axis=0)
    return lo, hi


# -- public functions ----------------------------------------------------------------


def _weights(weights: Any, X: Any, n: int) -> np.ndarray:
    """Respondent weights as an array in the rows of the drivers' frame (a Series is
    aligned on ``X``'s index); missing ones are NaN, negative ones refused."""
    if isinstance(weights, pd.Series) and isinstance(X, pd.DataFrame):
        weights = weights.reindex(X.index)
    w = pd.to_numeric(pd.Series(np.asarray(weights).ravel()), errors="coerce").to_numpy(float)
    if len(w) != n:
        raise InputError("weights and drivers have different numbers of rows",
                         column="weights", value=(len(w), n))
    if (w < 0).any():
        row = int(np.flatnonzero(w < 0)[0])
        raise InputError(f"respondent weights cannot be negative (respondent {row + 1} "
                         "of the drivers' rows)", column="weights", value=float(w[row]))
    return w


def _complete_corr(y: Any, X: Any, shapley: bool, weights: Any = None
                   ) -> tuple[np.ndarray, pd.DataFrame, str, int, np.ndarray | None]:
    """The correlation matrix of the complete cases (outcome last), their frame, the
    outcome's name, the rows left out and the complete cases' weights (None
    unweighted). Weighted: ``cov.wt``'s weighted covariances, whose correlations equal
    those of the data with each respondent repeated ``w`` times (integer ``w``)."""
    frame, name = _frame(y, X)
    total = len(frame)
    w = None
    if weights is not None:
        frame["__weight__"] = _weights(weights, X, total)
        frame = frame.dropna()
        w = frame.pop("__weight__").to_numpy(dtype=float)
    frame = frame.dropna()
    drivers = [c for c in frame.columns if c != name]
    _check(frame, drivers, shapley)
    values = frame.to_numpy(dtype=float)
    if w is None:
        corr = np.corrcoef(values, rowvar=False)
    else:
        if not w.sum() > 0:
            raise InputError("every complete respondent has weight 0", column="weights")
        centred = values - (w @ values) / w.sum()
        corr = _corr(((centred * w[:, None]).T @ centred)[None])[0]
    return corr, frame, name, total - len(frame), w


def relative_weights(y: Any, X: Any) -> pd.DataFrame:
    """Johnson's (2000) relative weights of the drivers ``X`` of ``y``.

    .. math::

        R_{xx} = V \\operatorname{diag}(e) V^\\top,\\quad
        \\Lambda = V \\operatorname{diag}(\\sqrt e) V^\\top,\\quad
        \\beta = \\Lambda^{-1} r_{xy},\\quad
        \\varepsilon_j = \\sum_k \\lambda_{jk}^2 \\beta_k^2,\\quad
        \\sum_j \\varepsilon_j = R^2 .

    Parameters
    ----------
    y : Series or array, shape (n,)
    X : DataFrame or array, shape (n, p)
        Rows with a missing value anywhere are left out (listwise).

    Returns
    -------
    DataFrame
        ``driver relative_weight relative_weight.share`` (the share is
        :math:`\\varepsilon_j / R^2`).

    References
    ----------
    Johnson, J. W. (2000), *Multivariate Behavioral Research* 35(1), 1-19.
    Tested against ``eigen()`` in R (``tests/reference/importance_reference.R``).
    """
    corr, frame, name, _, _ = _complete_corr(y, X, shapley=False)
    stats = _statistics(corr[None], shapley=False)
    return pd.DataFrame({"driver": [c for c in frame.columns if c != name],
                         "relative_weight": stats["relative_weight"][0],
                         "relative_weight.share": stats["relative_weight.share"][0]})


def shapley_r2(y: Any, X: Any) -> pd.DataFrame:
    """Shapley decomposition (LMG) of :math:`R^2` of ``y`` on the drivers ``X``.

    .. math::

        \\mathrm{LMG}_j = \\sum_{S \\subseteq P \\setminus \\{j\\}}
        \\frac{|S|!\\,(p-|S|-1)!}{p!}\\bigl(R^2(S \\cup \\{j\\}) - R^2(S)\\bigr)

    computed exactly over all :math:`2^p` subsets, each subset's :math:`R^2`
    once (see :func:`subset_r2`). At most :data:`MAX_SHAPLEY` drivers.

    Parameters
    ----------
    y : Series or array, shape (n,)
    X : DataFrame or array, shape (n, p)
        Rows with a missing value anywhere are left out (listwise).

    Returns
    -------
    DataFrame
        ``driver shapley shapley.share`` (values sum to :math:`R^2`, shares to 1).

    References
    ----------
    Lindeman, Merenda & Gold (1980); Grömping (2006), *J. Statistical Software*
    17(1) (relaimpo's ``type = "lmg"``). Tested against a hand computation over
    all subsets with ``lm()`` in R and Grömping's swiss example.
    """
    corr, frame, name, _, _ = _complete_corr(y, X, shapley=True)
    stats = _statistics(corr[None], shapley=True)
    return pd.DataFrame({"driver": [c for c in frame.columns if c != name],
                         "shapley": stats["shapley"][0],
                         "shapley.share": stats["shapley.share"][0]})


def _resampled_corr(z: np.ndarray, counts: np.ndarray, w: np.ndarray | None = None
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Correlation matrices of resamples given as counts (B, n) over the rows of ``z``,
    and each resample's variances (``z`` is standardized, so 1 in the full sample).
    With respondent weights ``w`` a respondent drawn ``c`` times counts ``c · w``."""
    n, q = z.shape
    products = (z[:, :, None] * z[:, None, :]).reshape(n, q * q)
    if w is None:
        total: Any = n
    else:
        counts = counts * w[None, :]
        total = counts.sum(axis=1)[:, None]
    mean = counts @ z / total
    second = (counts @ products / total).reshape(-1, q, q)
    cov = second - mean[:, :, None] * mean[:, None, :]
    var = np.einsum("bii->bi", cov)
    cov = np.where((var > _CONSTANT).all(axis=1)[:, None, None], cov, np.nan)
    return _corr(cov), var


def _counts(rng: np.random.Generator, draws: int, n: int) -> np.ndarray:
    idx = rng.integers(0, n, size=(draws, n))
    offset = (np.arange(draws) * n)[:, None]
    return np.bincount((idx + offset).ravel(), minlength=draws * n).reshape(draws, n) \
        .astype(float)


def _bootstrap(z: np.ndarray, draws: int, seed: int, shapley: bool,
               w: np.ndarray | None = None) -> tuple[dict[str, np.ndarray], int]:
    """Replicates of every statistic; draws with a non-finite value are dropped
    (``w``: respondent weights, carried by each drawn respondent)."""
    n, q = z.shape
    p = q - 1
    rng = np.random.default_rng(seed)
    per = max(1, _CHUNK_CELLS // max(n, (1 << p) if shapley else 1))
    parts: list[dict[str, np.ndarray]] = []
    done = 0
    while done < draws:
        size = min(per, draws - done)
        corr, var = _resampled_corr(z, _counts(rng, size, n), w)
        ok = (var > _CONSTANT).all(axis=1) & np.isfinite(corr).all(axis=(1, 2))
        ok[ok] &= np.linalg.eigvalsh(corr[ok][:, :p, :p])[:, 0] > _SINGULAR
        stats = _statistics(corr[ok], shapley) if ok.any() else {}
        if stats:
            good = np.all([np.isfinite(v.reshape(len(v), -1)).all(axis=1)
                           for v in stats.values()], axis=0)
            parts.append({k: v[good] for k, v in stats.items()})
        done += size
    keys = list(_statistics(np.eye(q)[None], shapley))
    out = {k: (np.concatenate([pt[k] for pt in parts]) if parts
               else np.empty((0,) if k == "r2" else (0, p))) for k in keys}
    return out, draws - len(out["r2"])


def driver_importance(
    y: Any,
    X: Any,
    bootstrap: int = 1000,
    seed: int = 20261125,
    level: float = 0.95,
    shapley: bool = True,
    weights: Any = None,
) -> ImportanceResult:
    """Relative importance of correlated drivers, with bootstrap intervals and signs.

    For the complete cases of ``y`` and ``X``: zero-order correlations ``r``,
    standardized coefficients of the full regression ``beta`` =
    :math:`R_{xx}^{-1} r_{xy}` and their ``sign``; Johnson's relative weights
    :math:`\\varepsilon_j = \\sum_k \\lambda_{jk}^2\\beta_k^2` with
    :math:`\\Lambda = R_{xx}^{1/2}`, :math:`\\beta = \\Lambda^{-1} r_{xy}`; the
    Shapley values (LMG) of :math:`R^2`,
    :math:`\\sum_S |S|!(p-|S|-1)!/p!\\,(R^2(S\\cup j) - R^2(S))`; each also as a
    share of :math:`R^2`. Intervals are percentile bootstrap intervals over
    respondents (``bootstrap`` resamples from ``default_rng(seed)``; the same
    seed gives the same intervals).

    Parameters
    ----------
    y : Series or array, shape (n,)
        The outcome (e.g. a satisfaction score).
    X : DataFrame or array, shape (n, p)
        The drivers, one column each (the column names become ``driver``).
    bootstrap : int
        Number of resamples; 0 gives no intervals.
    seed : int
    level : float
        Confidence level of the percentile intervals.
    shapley : bool
        Compute the exact Shapley decomposition (at most :data:`MAX_SHAPLEY`
        drivers); relative weights are always computed.
    weights : Series or array, optional
        Respondent (sampling) weights: every statistic is computed from the
        weighted correlation matrix (``cov.wt``), and in the bootstrap a respondent
        drawn ``c`` times counts ``c · w`` (as weighted PLS's bootstrap). With
        integer weights the estimates equal those of the data with each respondent
        repeated ``w`` times (``tests/test_importance.py``). Respondents without a
        weight are left out with the incomplete ones (``importance_dropped``).

    Returns
    -------
    ImportanceResult

    Raises
    ------
    InputError
        No driver, too many drivers for Shapley, fewer complete cases than
        ``p + 2``, a constant column, drivers that are linearly dependent, or
        non-numeric values.

    Notes
    -----
    Diagnostics: ``importance_dropped`` (info) counts rows left out;
    ``importance_one_driver`` (caution) when there is a single driver;
    ``importance_collinear`` (caution) when a variance inflation factor
    :math:`\\mathrm{diag}(R_{xx}^{-1})` exceeds :data:`VIF_LIMIT`;
    ``importance_negative_driver`` (caution) for a driver whose ``beta`` is
    negative; ``importance_bootstrap_failed`` for resamples whose correlation
    matrix was singular (caution; invalidates above :data:`FAILED_LIMIT`).

    References
    ----------
    Johnson (2000), *Multivariate Behavioral Research* 35(1), 1-19; Lindeman,
    Merenda & Gold (1980); Grömping (2006), *J. Statistical Software* 17(1).

    Examples
    --------
    >>> from satisfaction.simulate import simulate_demo
    >>> from satisfaction.responses import load_responses
    >>> demo = simulate_demo(n_respondents=300, n_customers=50, seed=1)
    >>> q, data = demo.questionnaire, load_responses(demo.questionnaire, demo.responses).data
    >>> from satisfaction.drivers import indices
    >>> s = indices(q, data).scores
    >>> res = driver_importance(s["Sat"], s[["Quality", "Price", "Service"]], bootstrap=200,
    ...                         seed=1)
    >>> print(res.table[["driver", "shapley.share", "shapley.share.ci.lower", "sign"]].round(3)
    ...       .to_string())
        driver  shapley.share  shapley.share.ci.lower  sign
    0  Quality          0.394                   0.205     1
    1    Price          0.332                   0.186     1
    2  Service          0.274                   0.139     1
    """
    if not 0 < level < 1:
        raise InputError("level must be between 0 and 1", value=level)
    if bootstrap < 0:
        raise InputError("the number of bootstrap draws cannot be negative", value=bootstrap)
    corr, frame, name, dropped, w = _complete_corr(y, X, shapley, weights)
    drivers = [c for c in frame.columns if c != name]
    p = len(drivers)
    warnings: list[Diagnostic] = []
    if dropped:
        warnings.append(Diagnostic("importance_dropped", "info",
                                   {"n": dropped, "total": dropped + len(frame),
                                    "outcome": name}, constructs=("outcome",)))
    e = np.linalg.eigvalsh(corr[:p, :p])
    if e[0] <= _SINGULAR:
        raise InputError("the drivers are linearly dependent (one is a combination of "
                         "others): remove one of them", value=", ".join(drivers))
    if p == 1:
        warnings.append(Diagnostic("importance_one_driver", "caution",
                                   {"driver": drivers[0]}, constructs=("driver",)))
    vif = np.diag(np.linalg.inv(corr[:p, :p]))
    if (vif > VIF_LIMIT).any():
        worst = int(np.argmax(vif))
        warnings.append(Diagnostic(
            "importance_collinear", "caution",
            {"driver": drivers[worst], "vif": float(vif[worst]), "limit": VIF_LIMIT},
            constructs=("driver",)))
    est = _statistics(corr[None], shapley)
    table = pd.DataFrame({"driver": drivers})
    for key in STATISTICS:
        table[key] = est[key][0] if key in est else np.nan
    table["sign"] = np.sign(table["beta"]).astype(int)
    for j in np.flatnonzero(table["beta"].to_numpy() < 0):
        warnings.append(Diagnostic(
            "importance_negative_driver", "caution",
            {"driver": drivers[j], "outcome": name, "beta": float(table["beta"].iloc[j]),
             "r": float(table["r"].iloc[j])}, constructs=("driver", "outcome")))
    draws: dict[str, np.ndarray] = {}
    info: dict[str, Any] = {}
    for key in STATISTICS:
        table[f"{key}.ci.lower"] = np.nan
        table[f"{key}.ci.upper"] = np.nan
    if bootstrap > 0:
        raw = frame[[*drivers, name]].to_numpy(dtype=float)
        z = (raw - raw.mean(axis=0)) / raw.std(axis=0)
        draws, failed = _bootstrap(z, bootstrap, seed, shapley, w)
        info = {"draws": int(bootstrap), "succeeded": int(bootstrap - failed), "seed": int(seed)}
        if failed:
            severity = "invalidates" if failed > FAILED_LIMIT * bootstrap else "caution"
            warnings.append(Diagnostic("importance_bootstrap_failed", severity,
                                       {"failed": failed, "draws": bootstrap}))
        if len(draws["r2"]):
            for key in STATISTICS:
                if key in draws:
                    lo, hi = _percentile(draws[key], level)
                    table[f"{key}.ci.lower"] = lo
                    table[f"{key}.ci.upper"] = hi
    return ImportanceResult(outcome=name, table=table, r2=float(est["r2"][0]), n=len(frame),
                            dropped=dropped, level=level, bootstrap=info, warnings=warnings,
                            draws=draws)


__all__ = ["MAX_SHAPLEY", "STATISTICS", "ImportanceResult", "driver_importance",
           "lmg_from_subsets", "relative_weights", "shapley_r2", "subset_r2"]
