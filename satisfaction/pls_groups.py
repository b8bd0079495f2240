"""PLS group analysis: measurement invariance of composites (MICOM) and path differences.

The same PLS path model (:mod:`satisfaction.pls`) is estimated in every group
of a grouping column, each group's indicators standardized within the group
(divisor ``n_g − 1``). Groups are compared two at a time; with more than two
groups every pair is compared on its own (pooled data = the two groups' rows),
with no adjustment for multiple testing (an ``info`` diagnostic says so).

Permutations
------------
One set of ``P`` permutations per pair serves MICOM step 2, MICOM step 3 and the
permutation test of the paths: permutation ``u`` is ``rng.permutation(n)`` of the
pair's ``n = n_a + n_b`` pooled rows (``numpy.random.default_rng``, seeded), its
first ``n_a`` rows form the permuted group *a*, the rest group *b* (group sizes
kept, Chin & Dibbern 2010). Both permuted groups are re-estimated from unit
starting weights, exactly as :func:`satisfaction.pls.pls` does (all permutations
at once on their correlation matrices). A permutation in which either group's
algorithm does not converge is left out and counted (``pls_permutation_failed``;
``invalidates`` above 10 %).

MICOM (Henseler, Ringle & Sarstedt 2016)
----------------------------------------
Step 1, configural invariance: the same indicators per construct, the same data
treatment and the same algorithm settings in every group — true by construction
here, since one specification is estimated; it fails for a construct when a
group's algorithm does not converge. A group in which an indicator is constant
cannot be estimated with the same indicators and is left out before
(``pls_group_constant_items``).

Step 2, compositional invariance. With ``X`` the pair's pooled indicators,
standardized over the pooled rows, ``S = X'X/(n − 1)`` and ``w_j^(a)``,
``w_j^(b)`` the weights of construct ``j`` estimated in each group,

    ``c_j = cor(X w_j^(a), X w_j^(b)) = w^(a)' S w^(b) / sqrt(w^(a)' S w^(a) · w^(b)' S w^(b))``.

The same ``c_u`` from each permutation's group weights gives the reference
distribution; compositional invariance holds when ``c_j`` is at least the
``alpha`` (5 %) quantile of the ``c_u`` (one-sided: only ``c < 1`` speaks against
it); ``p`` is the share of ``c_u ≤ c_j``. A single-item construct has ``c = 1``
by definition. The weights carry the inner model (path weighting), so a large
difference in a path can lower ``c`` too: in our simulation with equal
measurement and paths .6 vs .3 (n = 100 per group) step 2 rejected in 16 % of
the constructs, against 4.7 % when the paths were equal.

Step 3, equal composite means and variances. The model is estimated on the
pooled data; its scores ``ξ`` (mean 0, variance 1 over the pooled rows) are split
by group: ``Δmean = mean(ξ^(a)) − mean(ξ^(b))`` and
``Δlogvar = log var(ξ^(a)) − log var(ξ^(b))`` (divisor ``n_g − 1``). Each
permutation relabels the same pooled scores. Equality holds when the original
difference lies in the permutation interval ``[q_{alpha/2}, q_{1−alpha/2}]``;
``p`` (two-sided) is the share of permutations with ``|Δ_u| ≥ |Δ|``.

Verdict per construct (the paper's Figure 3): ``"no"`` when step 1 or step 2
fails (the composites differ; their paths should not be compared); ``"partial"``
when steps 1 and 2 hold but means or variances differ (compare the groups'
standardized paths, do not pool the data); ``"full"`` when all hold (the data may
be pooled); ``"undetermined"`` when no permutation succeeded.

Path differences
----------------
``diff = β^(a) − β^(b)`` for every path, from the group estimates.

- Permutation test (Chin & Dibbern 2010): ``p`` is the share of permutations
  with ``|β_u^(a) − β_u^(b)| ≥ |diff|`` (the plain share, as SmartPLS and cSEM
  report it, so ``p = 0`` means below ``1/P``).
- PLS-MGA (Henseler, Ringle & Sinkovics 2009), with the centring of Sarstedt,
  Henseler & Ringle (2011, eqs. 4-6): each group is bootstrapped on its own
  (:func:`satisfaction.pls.bootstrap_pls`, ``B`` draws); each draw is centred
  on the group's estimate, ``θ*_c = θ* − mean(θ*) + θ̂``; then
  ``Pr(θ^(a) ≤ θ^(b)) = (1/(B_a B_b)) Σ_j Σ_i H(θ*_c,i^(b) − θ*_c,j^(a))`` with
  ``H`` the unit step (``H(0) = 1/2``) over every pair of draws (eq. 6). ``Pr``
  is the one-tailed PLS-MGA p-value for the hypothesis ``θ^(a) > θ^(b)`` (small
  when group *a*'s parameter is larger; ``1 − Pr`` for the reverse); the
  two-tailed ``p = 2·min(Pr, 1 − Pr)``. The group estimates are what is
  compared, so ``Pr`` is near 1/2 when they are equal.

Respondent weights
------------------
With ``weights`` (sampling weights, e.g. raking weights) every step above uses
them, following weighted PLS (WPLS; Becker & Ismail 2016, Accounting for
sampling weights in PLS path modeling, European Management Journal 34(6),
606-617; :func:`satisfaction.pls.pls`) and the survey-weighted means and
variances of R's ``survey`` (``svymean``/``svyvar``):

- each group is estimated by weighted PLS with its respondents' weights;
- the PLS-MGA bootstrap resamples respondents within the group, each drawn
  respondent carrying its weight (:func:`satisfaction.pls.bootstrap_pls`);
- the permutations relabel respondents while each keeps its weight (as the key
  drivers by group, :mod:`satisfaction.group_drivers`): a permuted group's
  correlation matrix is the weighted one of the respondents it receives;
- MICOM step 2: ``X`` is standardized with the pair's weighted means and
  standard deviations and ``S = X' diag(u) X / (n − 1)``, ``u`` the pair's
  weights rescaled to sum to ``n``, so ``c`` is the weighted correlation of the
  two composites over the pooled respondents;
- MICOM step 3: the pooled model is the weighted PLS fit of the pair (scores of
  weighted mean 0 and variance 1), and each group's composite mean and variance
  are weighted: ``mean_w = Σ w ξ / Σ w`` and ``var_w = Σ u (ξ − mean_w)² / (n_g − 1)``
  with ``u`` the group's weights rescaled to sum to ``n_g`` (for a permuted
  group, the weights of the respondents it receives).

Weights are taken as given (not rescaled per group before pooling), so a
group's share of the pooled weighted sample is its share of the weight total.
Respondents without a weight are left out and counted (``no_weight``). Constant
weights give the unweighted analysis; integer weights give each group's
estimates of the data with every respondent repeated ``w`` times
(``tests/test_pls_groups_weights.py``, also a loop implementation of the
weighted permutation test and MICOM).

Tested against a naive second implementation (``tests/reference/pls_groups_reference.py``:
data-based loops, the weights from the naive PLS of ``pls_reference.py``,
``c`` from the score vectors, the MGA probability by a double loop) and by
properties (identical groups, a planted difference, the type-I rate).

References
----------
Henseler, Ringle & Sarstedt (2016), Testing measurement invariance of composites
using partial least squares, International Marketing Review 33(3), 405-431.
Chin & Dibbern (2010), in Esposito Vinzi et al. (eds), *Handbook of Partial Least
Squares*, 171-193. Henseler, Ringle & Sinkovics (2009), Advances in International
Marketing 20, 277-319. Sarstedt, Henseler & Ringle (2011), Advances in
International Marketing 22, 195-218. Hair, Hult, Ringle & Sarstedt (2022),
*A Primer on PLS-SEM*, 3rd ed. (ten-times rule for the minimum group size).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd

from satisfaction.diagnostics import Diagnostic
from satisfaction.errors import InputError, UsageError

# The algorithm on stacks of correlation matrices is satisfaction.pls's own; we
# reuse its internals so that a permuted group is estimated exactly as pls() does.
from satisfaction.pls import (
    FAILED_LIMIT,
    PLSModel,
    PLSResult,
    _correlations,
    _estimates,
    _iterate,
    _reflective,
    _structure,
    _weighted_mean,
    _weighted_sd,
    bootstrap_pls,
    pls,
    pls_model,
)

#: Respondents per structural path into (or formative indicator of) a construct
#: that a group needs at least (the "ten-times rule", Hair et al. 2022, ch. 1).
PER_ARROW = 10
#: Permutations estimated together (fixed, so the results do not depend on it).
_CHUNK = 250


# -- building blocks ---------------------------------------------------------------

def permutation_indices(n: int, count: int, seed: int | np.random.Generator | None
                        ) -> np.ndarray:
    """``count`` permutations of ``0..n−1`` (``count × n``): ``rng.permutation(n)``
    in turn from ``numpy.random.default_rng(seed)``."""
    rng = np.random.default_rng(seed)
    return np.array([rng.permutation(n) for _ in range(count)], dtype=int).reshape(count, n)


def composite_correlation(w_a: np.ndarray, w_b: np.ndarray, S: np.ndarray) -> np.ndarray:
    """MICOM's ``c``: ``w_a' S w_b / sqrt(w_a' S w_a · w_b' S w_b)`` for stacks of
    weight vectors (``... × k``) of one block and its pooled correlation matrix ``S``."""
    ab = np.einsum("...k,kl,...l->...", w_a, S, w_b)
    aa = np.einsum("...k,kl,...l->...", w_a, S, w_a)
    bb = np.einsum("...k,kl,...l->...", w_b, S, w_b)
    return ab / np.sqrt(aa * bb)


def mga_probability(draws_a: np.ndarray, draws_b: np.ndarray, est_a: float, est_b: float
                    ) -> float:
    """PLS-MGA ``Pr(θ^(a) ≤ θ^(b))`` from the two groups' bootstrap draws of one
    parameter (Henseler et al. 2009 with the centring of Sarstedt et al. 2011):
    draws centred on their group's estimate, every pair compared, ties count 1/2."""
    a = np.asarray(draws_a, dtype=float)
    b = np.asarray(draws_b, dtype=float)
    if a.size < 2 or b.size < 2:
        return float("nan")
    a = a - a.mean() + est_a
    b = np.sort(b - b.mean() + est_b)
    right = np.searchsorted(b, a, side="right")
    left = np.searchsorted(b, a, side="left")
    above = (b.size - right).sum() + 0.5 * (right - left).sum()
    return float(above / (a.size * b.size))


def minimum_group_size(model: PLSModel) -> int:
    """Ten-times rule: ``10 ×`` the largest number of arrows into a construct
    (structural paths, or indicators of a formative block)."""
    arrows = [len(model.predecessors(c)) for c in model.constructs]
    arrows += [len(model.blocks[c]) for c in model.constructs if model.modes[c] == "B"]
    return PER_ARROW * max([1, *arrows])


# -- results --------------------------------------------------------------------------

@dataclass
class GroupPair:
    """The comparison of two groups.

    Attributes
    ----------
    a, b : str
        Group labels (differences are ``a − b``).
    n_a, n_b : int
    micom : DataFrame
        One row per construct: ``configural``; ``c``, ``c.quantile`` (the
        ``alpha`` quantile of the permutation ``c_u``), ``c.p``, ``compositional``;
        ``mean.diff``, ``mean.lower``, ``mean.upper``, ``mean.p``, ``mean.equal``;
        ``logvar.diff``, ``logvar.lower``, ``logvar.upper``, ``logvar.p``,
        ``var.equal``; ``invariance`` (``full``, ``partial``, ``no``, or
        ``undetermined`` when no permutation succeeded).
    paths : DataFrame
        One row per path: ``from``, ``to``, ``est.a``, ``est.b``, ``diff``,
        ``p.permutation``, ``pr.a.le.b`` (PLS-MGA one-tailed), ``p.mga``
        (two-tailed) and ``comparable`` (both constructs at least partially invariant).
    permutations, permutations_failed : int
    pooled_converged : bool
    """

    a: str
    b: str
    n_a: int
    n_b: int
    micom: pd.DataFrame
    paths: pd.DataFrame
    permutations: int
    permutations_failed: int
    #: the pooled estimation behind MICOM step 3 converged
    pooled_converged: bool = True


@dataclass
class PLSGroupsResult:
    """PLS estimates per group, MICOM and path differences for every pair of groups.

    Attributes
    ----------
    column : str
        The grouping column.
    labels : list of str
        The compared groups, in order of first appearance.
    fits : dict
        Label → :class:`~satisfaction.pls.PLSResult` of the group (bootstrapped
        for PLS-MGA: ``bootstrap`` holds the group's percentile intervals).
    pairs : list of GroupPair
    excluded : dict
        Reason → respondents left out (``missing_group``, ``missing_indicator``,
        ``group_too_small``, ``constant_items``; with weights also ``no_weight``).
    warnings : list of Diagnostic
    settings : dict
        ``permutations``, ``draws``, ``seed``, ``alpha``, ``scheme``, ``consistent``,
        ``min_size``, ``weighted`` (respondent weights used).
    """

    column: str
    labels: list[str]
    fits: dict[str, PLSResult]
    pairs: list[GroupPair]
    excluded: dict[str, int]
    warnings: list[Diagnostic] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def status(self) -> str:
        """``ok``, ``caution`` or ``invalid`` from the diagnostics."""
        from satisfaction.diagnostics import status

        return status(self.warnings)

    @property
    def pairwise(self) -> bool:
        """More than two groups, compared two at a time."""
        return len(self.labels) > 2

    def group_paths(self) -> pd.DataFrame:
        """Path coefficients: ``from``, ``to`` and one column per group."""
        first = self.fits[self.labels[0]].paths[["from", "to"]].copy()
        for g in self.labels:
            first[g] = self.fits[g].paths["est"].to_numpy()
        return first

    def micom(self) -> pd.DataFrame:
        """MICOM rows of every pair, with ``group.a`` and ``group.b``."""
        return pd.concat([p.micom.assign(**{"group.a": p.a, "group.b": p.b})
                          [["group.a", "group.b", *p.micom.columns]] for p in self.pairs],
                         ignore_index=True)

    def mga(self) -> pd.DataFrame:
        """Path-difference rows of every pair, with ``group.a`` and ``group.b``."""
        return pd.concat([p.paths.assign(**{"group.a": p.a, "group.b": p.b})
                          [["group.a", "group.b", *p.paths.columns]] for p in self.pairs],
                         ignore_index=True)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for ``--json``: ``groups``, ``micom``, ``mga`` and the settings."""
        groups = {}
        for g in self.labels:
            f = self.fits[g]
            groups[g] = {"n": f.n, "converged": f.converged, "iterations": f.iterations,
                         "paths": f.paths.to_dict("records"),
                         "r2": {c: float(v) for c, v in f.r2["r2"].items()},
                         "weights": f.weights.to_dict("records"),
                         "loadings": f.loadings.to_dict("records")}
        return {
            "estimator": "plsc" if self.settings.get("consistent") else "pls",
            "column": self.column, "labels": list(self.labels),
            "pairwise": self.pairwise, "status": self.status,
            "excluded": dict(self.excluded), "settings": dict(self.settings),
            "groups": groups,
            "micom": self.micom().to_dict("records"),
            "mga": self.mga().to_dict("records"),
            "permutations": [{"group.a": p.a, "group.b": p.b, "requested": p.permutations,
                              "failed": p.permutations_failed} for p in self.pairs],
            "warnings": [d.to_dict() for d in self.warnings],
        }


# -- the analysis ------------------------------------------------------------------------

def _weight_matrix(fit: PLSResult) -> np.ndarray:
    """The ``p × L`` outer-weight matrix of a fit (block positions only)."""
    m = fit.model
    pos = {c: j for j, c in enumerate(m.constructs)}
    W = np.zeros((len(m.indicators), len(m.constructs)))
    for k, (c, w) in enumerate(zip(fit.weights["construct"], fit.weights["est"],
                                   strict=True)):
        W[k, pos[c]] = w
    return W


def _blocks(m: PLSModel) -> list[np.ndarray]:
    out, k = [], 0
    for c in m.constructs:
        out.append(np.arange(k, k + len(m.blocks[c])))
        k += len(m.blocks[c])
    return out


def _rescaled(w: np.ndarray | None) -> np.ndarray | None:
    """Weights rescaled to sum to their number (None stays None)."""
    return None if w is None else w * w.size / w.sum()


def _standardized(frame: pd.DataFrame, u: np.ndarray | None = None) -> np.ndarray:
    """Columns standardized (divisor ``n − 1``); with weights ``u`` (summing to ``n``)
    by the weighted means and standard deviations of :func:`satisfaction.pls.pls`."""
    x = frame.to_numpy(dtype=float)
    if u is None:
        return (x - x.mean(axis=0)) / x.std(axis=0, ddof=1)
    return (x - _weighted_mean(x, u)) / _weighted_sd(x, u)


def _group_moments(Y: np.ndarray, u: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Means and variances (divisor ``n_g − 1``) of score stacks ``Y`` (``... × n_g × L``)
    over their rows; with weights ``u`` (``... × n_g``) the weighted ones,
    ``Σ u ξ / Σ u`` and ``Σ ũ (ξ − mean)² / (n_g − 1)`` with ``ũ = u n_g / Σ u``."""
    if u is None:
        return Y.mean(axis=-2), Y.var(axis=-2, ddof=1)
    n_g = u.shape[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        share = u / u.sum(axis=-1, keepdims=True)
        mean = np.einsum("...i,...il->...l", share, Y)
        var = np.einsum("...i,...il->...l", share, (Y - mean[..., None, :]) ** 2)
    return mean, var * n_g / (n_g - 1)


def _permuted_fits(m: PLSModel, X: np.ndarray, perms: np.ndarray, n_a: int, scheme: str,
                   tol: float, max_iter: int, consistent: bool, u: np.ndarray | None = None
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Both permuted groups of every permutation estimated from unit weights:
    weights (``P × p × L`` each), paths (``P × L × L`` each) and success (``P``).
    With respondent weights ``u`` each respondent keeps its weight in the permuted
    group it lands in (weighted correlations, :func:`satisfaction.pls._correlations`)."""
    M, mode_b, D = _structure(m)
    reflective = _reflective(m) if consistent else None
    out: dict[str, list[np.ndarray]] = {"Wa": [], "Wb": [], "Ba": [], "Bb": [], "ok": []}
    for start in range(0, perms.shape[0], _CHUNK):
        chunk = perms[start:start + _CHUNK]
        ok = np.ones(chunk.shape[0], dtype=bool)
        for side, rows in (("a", chunk[:, :n_a]), ("b", chunk[:, n_a:])):
            S = _correlations(X, rows, u)
            good = np.isfinite(S).all(axis=(1, 2))
            S[~good] = np.eye(X.shape[1])
            core = _iterate(S, M, mode_b, D, scheme, tol, max_iter, None)
            est = _estimates(S, core.W, D, reflective)
            ok &= good & core.converged & np.isfinite(est.B).all(axis=(1, 2))
            out["W" + side].append(core.W)
            out["B" + side].append(est.B)
        out["ok"].append(ok)
    if not out["ok"]:  # no permutation asked for
        p, L = M.shape
        return (np.zeros((0, p, L)), np.zeros((0, p, L)), np.zeros((0, L, L)),
                np.zeros((0, L, L)), np.zeros(0, dtype=bool))
    return (np.concatenate(out["Wa"]), np.concatenate(out["Wb"]),
            np.concatenate(out["Ba"]), np.concatenate(out["Bb"]), np.concatenate(out["ok"]))


def _two_sided(observed: np.ndarray, permuted: np.ndarray) -> np.ndarray:
    """Share of permutations with ``|Δ_u| ≥ |Δ|`` (per column; NaN without any)."""
    if permuted.shape[0] == 0:
        return np.full(observed.shape, np.nan)
    return (np.abs(permuted) >= np.abs(observed)[None, :] - 1e-12).mean(axis=0)


def _quantiles(values: np.ndarray, probs: list[float]) -> list[float]:
    """``numpy.quantile`` (linear, R's type 7); NaN without any value."""
    if values.size == 0:
        return [float("nan")] * len(probs)
    return [float(q) for q in np.quantile(values, probs)]


def _micom(m: PLSModel, X: np.ndarray, n_a: int, fit_a: PLSResult, fit_b: PLSResult,
           pooled: PLSResult, perms: np.ndarray, Wa_u: np.ndarray, Wb_u: np.ndarray,
           alpha: float, u: np.ndarray | None = None) -> pd.DataFrame:
    S = (X.T if u is None else X.T * u) @ X / (X.shape[0] - 1)
    Wa, Wb = _weight_matrix(fit_a), _weight_matrix(fit_b)
    rows = []
    Y = pooled.scores.to_numpy()
    split = (None, None) if u is None else (u[:n_a], u[n_a:])
    (ma, va), (mb, vb) = _group_moments(Y[:n_a], split[0]), _group_moments(Y[n_a:], split[1])
    mean_obs, logvar_obs = ma - mb, np.log(va) - np.log(vb)
    perm_u = (None, None) if u is None else (u[perms[:, :n_a]], u[perms[:, n_a:]])
    (ma, va) = _group_moments(Y[perms[:, :n_a]], perm_u[0])
    (mb, vb) = _group_moments(Y[perms[:, n_a:]], perm_u[1])
    mean_u, logvar_u = ma - mb, np.log(va) - np.log(vb)
    mean_p, logvar_p = _two_sided(mean_obs, mean_u), _two_sided(logvar_obs, logvar_u)
    configural = fit_a.converged and fit_b.converged
    for j, (c, idx) in enumerate(zip(m.constructs, _blocks(m), strict=True)):
        Sj = S[np.ix_(idx, idx)]
        if idx.size == 1:
            c_obs, c_q, c_p = 1.0, 1.0, 1.0
        else:
            c_obs = float(composite_correlation(Wa[idx, j], Wb[idx, j], Sj))
            c_u = composite_correlation(Wa_u[:, idx, j], Wb_u[:, idx, j], Sj)
            c_q = _quantiles(c_u, [alpha])[0]
            c_p = float((c_u <= c_obs + 1e-12).mean()) if c_u.size else float("nan")
        compositional = bool(c_obs >= c_q - 1e-12)
        lo, hi = _quantiles(mean_u[:, j], [alpha / 2, 1 - alpha / 2])
        vlo, vhi = _quantiles(logvar_u[:, j], [alpha / 2, 1 - alpha / 2])
        mean_equal = bool(lo - 1e-12 <= mean_obs[j] <= hi + 1e-12)
        var_equal = bool(vlo - 1e-12 <= logvar_obs[j] <= vhi + 1e-12)
        if not configural:
            verdict = "no"
        elif perms.shape[0] == 0:  # no permutation succeeded: steps 2-3 cannot be decided
            verdict = "undetermined"
        elif not compositional:
            verdict = "no"
        elif mean_equal and var_equal:
            verdict = "full"
        else:
            verdict = "partial"
        rows.append({"construct": c, "configural": configural, "c": c_obs,
                     "c.quantile": c_q, "c.p": c_p, "compositional": compositional,
                     "mean.diff": float(mean_obs[j]), "mean.lower": float(lo),
                     "mean.upper": float(hi), "mean.p": float(mean_p[j]),
                     "mean.equal": mean_equal,
                     "logvar.diff": float(logvar_obs[j]), "logvar.lower": float(vlo),
                     "logvar.upper": float(vhi), "logvar.p": float(logvar_p[j]),
                     "var.equal": var_equal, "invariance": verdict})
    return pd.DataFrame(rows)


def _path_tests(m: PLSModel, fit_a: PLSResult, fit_b: PLSResult, Ba_u: np.ndarray,
                Bb_u: np.ndarray, micom: pd.DataFrame) -> pd.DataFrame:
    pos = {c: j for j, c in enumerate(m.constructs)}
    ok_construct = dict(zip(micom["construct"],
                            micom["invariance"].isin(["full", "partial"]), strict=True))
    draws_a = _path_draws(fit_a)
    draws_b = _path_draws(fit_b)
    rows = []
    for ra, rb in zip(fit_a.paths.to_dict("records"), fit_b.paths.to_dict("records"),
                      strict=True):
        i, j = pos[ra["from"]], pos[ra["to"]]
        diff = ra["est"] - rb["est"]
        d_u = Ba_u[:, i, j] - Bb_u[:, i, j]
        p_perm = float(_two_sided(np.array([diff]), d_u[:, None])[0]) if d_u.size \
            else float("nan")
        key = (ra["from"], ra["to"])
        pr = mga_probability(draws_a.get(key, np.array([])), draws_b.get(key, np.array([])),
                             ra["est"], rb["est"])
        rows.append({"from": ra["from"], "to": ra["to"], "est.a": ra["est"],
                     "est.b": rb["est"], "diff": diff, "p.permutation": p_perm,
                     "pr.a.le.b": pr, "p.mga": min(1.0, 2 * min(pr, 1 - pr)),
                     "comparable": bool(ok_construct[ra["from"]] and ok_construct[ra["to"]])})
    return pd.DataFrame(rows)


def _path_draws(fit: PLSResult) -> dict[tuple[str, str], np.ndarray]:
    """The kept bootstrap draws of each path of a bootstrapped fit."""
    if fit.bootstrap is None or fit.bootstrap_draws is None:
        return {}
    out = {}
    for k, (kind, a, b) in enumerate(zip(fit.bootstrap["kind"], fit.bootstrap["from"],
                                         fit.bootstrap["to"], strict=True)):
        if kind == "path":
            out[(a, b)] = fit.bootstrap_draws[:, k]
    return out


def _prepare(m: PLSModel, data: pd.DataFrame, group: str, min_size: int,
             weights: pd.Series | None = None
             ) -> tuple[dict[str, pd.DataFrame], dict[str, np.ndarray | None], dict[str, int],
                        list[Diagnostic]]:
    """Split the complete rows by group; leave out (and count) what cannot be compared.

    With ``weights`` (a float per row of ``data``, NaN for none) rows without a
    weight are left out (``no_weight``) and each group's weights are returned
    (None without weights); an item is constant in a group when the respondents
    of positive weight give it one answer (its weighted variance is 0)."""
    if group not in data.columns:
        raise UsageError("is not a column of the data", column="--group", value=group)
    cols = list(m.indicators)
    missing = [c for c in cols if c not in data.columns]
    if missing:
        raise InputError(f"the model's indicators {', '.join(missing)} are not columns of the "
                         "data")
    if group in cols:
        raise UsageError("the grouping column is an indicator of the model", column="--group",
                         value=group)
    frame = data[cols].apply(pd.to_numeric, errors="coerce")
    labels = data[group]
    warnings: list[Diagnostic] = []
    excluded = {"missing_group": 0, "missing_indicator": 0, "group_too_small": 0,
                "constant_items": 0}
    no_group = labels.isna() | (labels.astype(str).str.strip() == "")
    if no_group.any():
        excluded["missing_group"] = int(no_group.sum())
        warnings.append(Diagnostic("pls_group_missing", "info",
                                   {"n": excluded["missing_group"], "column": group}))
    incomplete = ~no_group & frame.isna().any(axis=1)
    if incomplete.any():
        excluded["missing_indicator"] = int(incomplete.sum())
        warnings.append(Diagnostic("listwise", "info", {"n": excluded["missing_indicator"]}))
    keep = ~no_group & ~incomplete
    w_all = None
    if weights is not None:
        w_all = weights.to_numpy(dtype=float)
        no_weight = keep.to_numpy() & ~np.isfinite(w_all)
        excluded["no_weight"] = int(no_weight.sum())
        keep = keep & ~no_weight
        w_all = w_all[keep.to_numpy()]
    frame, labels = frame[keep], labels[keep].astype(str).str.strip()
    groups: dict[str, pd.DataFrame] = {}
    group_weights: dict[str, np.ndarray | None] = {}
    for g in pd.unique(labels):
        inside = (labels == g).to_numpy()
        part = frame[inside]
        wg = None if w_all is None else w_all[inside]
        if len(part) < min_size:
            excluded["group_too_small"] += len(part)
            warnings.append(Diagnostic("pls_group_too_small", "caution",
                                       {"group": g, "column": group, "n": len(part),
                                        "min": min_size}))
            continue
        weighed = part if wg is None else part[wg > 0]
        constant = [c for c in cols if weighed[c].nunique() < 2]
        if constant:
            excluded["constant_items"] += len(part)
            warnings.append(Diagnostic("pls_group_constant_items", "caution",
                                       {"group": g, "items": constant}))
            continue
        groups[g] = part
        group_weights[g] = wg
    if len(groups) < 2:
        found = pd.unique(labels)
        sizes = ", ".join(f"{g} ({int((labels == g).sum())})" for g in found[:10])
        if len(found) > 10:
            sizes += f" and {len(found) - 10} more groups"
        raise UsageError(f"the group analysis needs at least two groups of at least "
                         f"{min_size} complete respondents with varying answers; found: "
                         f"{sizes or 'none'}", column="--group", value=group)
    return groups, group_weights, excluded, warnings


def pls_groups(model: Any, data: pd.DataFrame, group: str, *, permutations: int = 1000,
               draws: int = 1000, seed: int | None = None, alpha: float = 0.05,
               scheme: str = "path", consistent: bool = False, tol: float = 1e-7,
               max_iter: int = 300, min_size: int | None = None, weights: Any = None
               ) -> PLSGroupsResult:
    """MICOM and the path differences between the groups of ``group``.

    Parameters
    ----------
    model : str, Path, Questionnaire or PLSModel
        As for :func:`satisfaction.pls.pls`.
    data : DataFrame
        Indicators and the grouping column. Rows without a group or with a
        missing indicator are left out and counted.
    group : str
        The grouping column (values compared as text).
    permutations : int
        Permutations per pair (MICOM steps 2-3 and the permutation test).
    draws : int
        Bootstrap draws per group for PLS-MGA.
    seed : int, optional
        Seeds everything: ``numpy.random.SeedSequence(seed)`` spawns one stream
        per group's bootstrap and one per pair's permutations.
    alpha : float
        Level of the MICOM decisions (5 %: the 5 % quantile of ``c``, the 2.5 %
        and 97.5 % quantiles of the differences).
    scheme, consistent, tol, max_iter
        As for :func:`satisfaction.pls.pls` (``consistent``: PLSc paths in the
        groups, the permutations and the bootstrap; MICOM uses the weights).
    min_size : int, optional
        Smallest group analysed (default :func:`minimum_group_size`, the
        ten-times rule); smaller groups are left out with a diagnostic.
    weights : str, Series, array or None
        Respondent (sampling) weights, read as by :func:`satisfaction.pls.pls` (a
        column of ``data``, a Series indexed like ``data`` or one number per row;
        a respondent without a weight is left out and counted in ``no_weight``).
        Weighted PLS in each group, the bootstrap carrying the weights, the
        permutations keeping each respondent's weight and MICOM on weighted
        composites (module docstring, "Respondent weights"); the info
        ``pls_groups_weighted`` gives the Kish design effect and effective n.

    Returns
    -------
    PLSGroupsResult

    The formulas are in the module docstring; the tests compare them with a naive
    second implementation (``tests/reference/pls_groups_reference.py``).
    """
    if permutations < 20:
        raise UsageError("must be at least 20 permutations", column="--permutations",
                         value=permutations)
    if draws < 20:
        raise UsageError("PLS-MGA needs at least 20 bootstrap draws per group",
                         column="--bootstrap", value=draws)
    if not 0 < alpha < 0.5:
        raise UsageError("must lie between 0 and 0.5", column="alpha", value=alpha)
    m = pls_model(model)
    size = minimum_group_size(m) if min_size is None else int(min_size)
    w_all = None
    if weights is not None:
        from satisfaction.sem_weights import respondent_weights

        w_all = respondent_weights(data, weights)
    groups, group_weights, excluded, warnings = _prepare(m, data, group, size, w_all)
    labels = list(groups)
    n_pairs = len(labels) * (len(labels) - 1) // 2
    streams = np.random.SeedSequence(seed).spawn(len(labels) + n_pairs)
    fits: dict[str, PLSResult] = {}
    for k, g in enumerate(labels):
        fit = pls(m, groups[g], scheme=scheme, tol=tol, max_iter=max_iter,
                  consistent=consistent, weights=group_weights[g])
        if not fit.converged:
            warnings.append(Diagnostic("pls_group_not_converged", "invalidates",
                                       {"group": g, "n": max_iter}))
        boot_seed = int(streams[k].generate_state(1)[0])
        bootstrap_pls(fit, draws, seed=boot_seed)
        failed = fit.bootstrap_info["failed"]
        if failed:
            share = failed / draws
            warnings.append(Diagnostic(
                "pls_mga_bootstrap_failed", "invalidates" if share > FAILED_LIMIT else "caution",
                {"group": g, "failed": failed, "draws": draws}))
        fits[g] = fit
    if w_all is not None:
        from satisfaction.sem_weights import weights_diagnostic

        analysed = np.concatenate([group_weights[g] for g in labels])
        d = weights_diagnostic(analysed * analysed.size / analysed.sum(),
                               excluded["no_weight"])
        warnings.append(Diagnostic("pls_groups_weighted", "info", d.params))
    if len(labels) > 2:
        warnings.append(Diagnostic("pls_groups_pairwise", "info",
                                   {"k": len(labels), "pairs": n_pairs}))
    pairs = []
    for k, (a, b) in enumerate(combinations(labels, 2)):
        n = len(groups[a]) + len(groups[b])
        perms = permutation_indices(n, permutations,
                                    np.random.default_rng(streams[len(labels) + k]))
        pair = compare_pair(m, groups[a], groups[b], fits[a], fits[b], perms, a=a, b=b,
                            alpha=alpha, scheme=scheme, consistent=consistent, tol=tol,
                            max_iter=max_iter, w_a=group_weights[a], w_b=group_weights[b])
        if not pair.pooled_converged:
            warnings.append(Diagnostic("pls_group_not_converged", "invalidates",
                                       {"group": f"{a} + {b}", "n": max_iter}))
        if pair.permutations_failed:
            share = pair.permutations_failed / permutations
            warnings.append(Diagnostic(
                "pls_permutation_failed", "invalidates" if share > FAILED_LIMIT else "caution",
                {"a": a, "b": b, "failed": pair.permutations_failed, "draws": permutations}))
        for r in pair.micom.to_dict("records"):
            if r["invariance"] == "no":
                warnings.append(Diagnostic(
                    "micom_no_invariance", "caution",
                    {"construct": r["construct"], "a": a, "b": b, "c": r["c"],
                     "quantile": r["c.quantile"]}, constructs=(r["construct"],)))
        pairs.append(pair)
    settings = {"permutations": permutations, "draws": draws, "seed": seed, "alpha": alpha,
                "scheme": scheme, "consistent": consistent, "min_size": size,
                "weighted": w_all is not None}
    return PLSGroupsResult(group, labels, fits, pairs, excluded, warnings, settings)


def compare_pair(model: PLSModel, frame_a: pd.DataFrame, frame_b: pd.DataFrame,
                 fit_a: PLSResult, fit_b: PLSResult, perms: np.ndarray, *, a: str = "a",
                 b: str = "b", alpha: float = 0.05, scheme: str = "path",
                 consistent: bool = False, tol: float = 1e-7, max_iter: int = 300,
                 w_a: np.ndarray | None = None, w_b: np.ndarray | None = None) -> GroupPair:
    """MICOM and the path tests of two groups for given permutations.

    ``frame_a``/``frame_b`` hold the groups' complete indicator rows, ``fit_a``/
    ``fit_b`` their PLS fits (bootstrapped for PLS-MGA, else ``pr.a.le.b`` is
    NaN) and ``perms`` (``P × (n_a + n_b)``) permutations of the pooled rows
    (group *a*'s rows first), e.g. from :func:`permutation_indices`. ``w_a``/
    ``w_b``: the groups' respondent weights (both or neither; the fits should be
    weighted with them), kept by each respondent through the permutations.
    Formulas in the module docstring.
    """
    m = pls_model(model)
    cols = list(m.indicators)
    pooled_frame = pd.concat([frame_a[cols], frame_b[cols]]).astype(float)
    if pooled_frame.isna().any().any():
        raise InputError("the groups compared must hold complete indicator rows")
    if (w_a is None) != (w_b is None):
        raise ValueError("give the weights of both groups or of neither")
    w = None if w_a is None else np.concatenate([np.asarray(w_a, dtype=float),
                                                 np.asarray(w_b, dtype=float)])
    u = _rescaled(w)
    X = _standardized(pooled_frame, u)
    n_a = len(frame_a)
    pooled = pls(m, pooled_frame.reset_index(drop=True), scheme=scheme, tol=tol,
                 max_iter=max_iter, weights=w)
    Wa_u, Wb_u, Ba_u, Bb_u, ok = _permuted_fits(m, X, perms, n_a, scheme, tol, max_iter,
                                                consistent, u)
    micom = _micom(m, X, n_a, fit_a, fit_b, pooled, perms[ok], Wa_u[ok], Wb_u[ok], alpha,
                   u)
    paths = _path_tests(m, fit_a, fit_b, Ba_u[ok], Bb_u[ok], micom)
    return GroupPair(a, b, n_a, len(frame_b), micom, paths, perms.shape[0], int((~ok).sum()),
                     pooled.converged)
