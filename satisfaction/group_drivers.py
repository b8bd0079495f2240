"""Key-driver importance within respondent groups, and whether it differs between them.

For every group variable (gender, region, channel ...) whose groups are large
enough, the satisfaction construct's drivers are decomposed within each group
exactly as the report's driver chapter decomposes them for the whole sample
(:func:`satisfaction.importance.driver_importance`): each driver's Shapley share
of :math:`R^2` (LMG; Lindeman, Merenda & Gold 1980; Grömping 2006), or Johnson's
(2000) relative-weight share when there are more than
:data:`~satisfaction.importance.MAX_SHAPLEY` drivers, with a percentile
bootstrap interval over the group's respondents.

Which groups are analysed
-------------------------
A group enters when its complete cases (target and every driver scored) number
at least

.. math:: n_{\\min} = \\max(100,\\; 10\\,p)

for :math:`p` drivers: ten cases per predictor, the usual floor for a
regression (Harrell 2015, *Regression Modeling Strategies*, 2nd ed., sec. 4.4,
asks for 10-20 per parameter), and never fewer than 100 so that a share's
bootstrap interval does not rest on a handful of respondents. Smaller groups
are named in a note each (``group_drivers_small_group``) and counted in
``excluded``; a variable with fewer than two groups that qualify is not
analysed (``group_drivers_not_run``). Nothing is dropped silently: respondents
without a group value, without complete scores, or in a group below
:math:`n_{\\min}` are counted under that reason.

Does a driver's importance differ?
----------------------------------
For driver :math:`j` and the :math:`k` groups of a variable the statistic is the
spread of its share,

.. math:: T_j = \\max_g s_{gj} - \\min_g s_{gj},

(for two groups the absolute difference), and its p-value is a permutation
p-value (Good 2005, *Permutation, Parametric and Bootstrap Tests of
Hypotheses*, 3rd ed., ch. 3; Phipson & Smyth 2010, *Stat. Appl. Genet. Mol.
Biol.* 9(1), art. 39, for the :math:`+1`):

.. math:: p_j = \\frac{1 + \\#\\{b : T^{*}_{jb} \\ge T_j\\}}{1 + B},

where :math:`T^{*}_{jb}` is the statistic after the group labels were permuted
(``B`` random permutations from ``numpy.random.default_rng(seed)``; the group
sizes stay as observed). Before permuting, every score is centred and scaled
within its group: the shares depend only on each group's correlation matrix,
so the observed statistic is unchanged, and groups that differ only in their
means or spreads (one region more satisfied than another) do not make their
correlations look different in the mixed permuted groups. The test is exact
when the groups' standardized scores are exchangeable (equal correlation
structure) and approximate otherwise. The :math:`p` drivers of one variable
are a family: their p-values are Holm-adjusted (Holm 1979, *Scand. J.
Statistics* 6, 65-70). The permutation test is chosen over a bootstrap of the
difference because shares of :math:`R^2` are biased upwards in small samples
by an amount that depends on :math:`n`, so unequal groups would differ under
the null; permuting keeps the group sizes and hence the bias.

The pair of groups with the largest and the smallest share (``high``, ``low``)
also gets the percentile interval of the difference of their shares from the
two groups' independent bootstraps, as a descriptive measure of "by how much"
(the test is the permutation test).

Respondent weights
------------------
With respondent weights (a weighted analysis's raking or column weights) each group's
shares come from its weighted correlations (``cov.wt``, the bootstrap carrying the
weights: :func:`satisfaction.importance.driver_importance` ``weights=``), so integer
weights give the shares of the data with every respondent repeated ``w`` times. The
permutation test permutes the group labels while each respondent keeps its weight:
the scores are centred and scaled by the weighted mean and SD within each group, and
every (permuted) group's correlations are weighted by its members' weights.
Respondents without a weight are left out (``no weight``). Constant weights give the
unweighted analysis.

Tested against R (``lm()`` over all subsets and ``eigen()``, per gender of the
bank data: ``tests/reference/group_drivers_reference.R``), the closed form of
LMG for two drivers, :func:`satisfaction.importance.shapley_r2` on each group's
rows, a loop implementation of the permutation test, and the test's size and
power on simulated data (``tests/test_group_drivers.py``).

References
----------
Grömping, U. (2006). Relative importance for linear regression in R: the package
relaimpo. *Journal of Statistical Software* 17(1), 1-27.

Johnson, J. W. (2000). *Multivariate Behavioral Research* 35(1), 1-19.

Good, P. (2005). *Permutation, Parametric and Bootstrap Tests of Hypotheses*
(3rd ed.). New York: Springer.

Holm, S. (1979). A simple sequentially rejective multiple test procedure.
*Scandinavian Journal of Statistics* 6(2), 65-70.

Phipson, B. & Smyth, G. K. (2010). Permutation p-values should never be zero.
*Statistical Applications in Genetics and Molecular Biology* 9(1), 39.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from satisfaction.compare import (
    MAX_GROUPS,
    _group_values,
    _order,
    adjust_pvalues,
    outside_bands,
    outside_reason,
)
from satisfaction.diagnostics import Diagnostic, status
from satisfaction.errors import InputError
from satisfaction.importance import (
    MAX_SHAPLEY,
    _relative_weights,
    driver_importance,
    lmg_from_subsets,
    subset_r2,
)
from satisfaction.io import records
from satisfaction.questionnaire import Questionnaire

#: Permutations of the test in the pipeline: with Holm over p drivers the smallest
#: p-value, 1 / (B + 1), must reach 0.05 / p (p <= 15: B >= 299); 499 keep the step
#: within seconds on the demo's 13 groups of 11 drivers.
PERMUTATIONS: int = 499
#: Smallest n of a group whatever the number of drivers.
MIN_N_FLOOR: int = 100
#: Complete cases per driver a group needs.
MIN_N_PER_DRIVER: int = 10
#: Cells (permutations x respondents) of the membership matrices held in memory at once.
_CHUNK_CELLS = 4_000_000
#: Tolerance of the comparison T* >= T (ties within rounding count as reached).
_TIE = 1e-12
#: Diagnostics of a group's decomposition that are not passed on (collinearity and
#: failed resamples are, with the group named): the rows left out are counted in
#: ``excluded``, a negative coefficient in one group is the ``sign`` in the table (not
#: a caution per group), and a single driver is cautioned about by the chapter's own
#: decomposition.
_NOT_PASSED_ON = ("importance_dropped", "importance_negative_driver", "importance_one_driver")

IMPORTANCE_COLUMNS = ["by", "group", "n", "r2", "driver", "share", "share.ci.lower",
                      "share.ci.upper", "beta", "sign", "rank"]
TEST_COLUMNS = ["by", "driver", "groups", "high", "low", "share.high", "share.low",
                "difference", "difference.ci.lower", "difference.ci.upper", "pvalue",
                "pvalue.adjusted", "permutations"]
EXCLUDED_COLUMNS = ["by", "group", "reason", "n"]


def minimum_n(drivers: int) -> int:
    """Smallest number of complete cases a group needs: :math:`\\max(100, 10p)`."""
    return max(MIN_N_FLOOR, MIN_N_PER_DRIVER * int(drivers))


@dataclass
class GroupDriversResult:
    """Driver importance within groups and the tests of its differences.

    Attributes
    ----------
    target : str
        The outcome (the satisfaction construct).
    drivers : list of str
    measure : str
        ``shapley.share`` or ``relative_weight.share`` (more than
        :data:`~satisfaction.importance.MAX_SHAPLEY` drivers).
    importance : DataFrame
        One row per (group variable, group, driver): ``by group n r2 driver share
        share.ci.lower share.ci.upper beta sign rank`` (``rank`` 1 = the
        driver with the largest share in that group).
    tests : DataFrame
        One row per (group variable, driver): ``by driver groups high low share.high
        share.low difference difference.ci.lower difference.ci.upper pvalue
        pvalue.adjusted permutations``; ``difference`` is the spread
        :math:`\\max_g s_{gj} - \\min_g s_{gj}` between the groups ``high`` and
        ``low``, ``pvalue`` its permutation p-value, ``pvalue.adjusted`` Holm's
        over the drivers of the variable.
    excluded : DataFrame
        ``by group reason n``: respondents left out and why (``missing group
        value``, ``no weight``, ``incomplete scores``, ``group below minimum n``,
        ``variable not analysed``).
    min_n : int
    level : float
    alpha : float
    seed : int
    warnings : list of Diagnostic
    """

    target: str
    drivers: list[str]
    measure: str
    importance: pd.DataFrame
    tests: pd.DataFrame
    excluded: pd.DataFrame
    min_n: int
    level: float = 0.95
    alpha: float = 0.05
    seed: int = 20261125
    warnings: list[Diagnostic] = field(default_factory=list)

    @property
    def status(self) -> str:
        """``ok``, ``caution`` or ``invalid`` from the diagnostics."""
        return status(self.warnings)

    @property
    def variables(self) -> list[str]:
        """Group variables that were analysed, in order."""
        return list(dict.fromkeys(self.importance["by"])) if len(self.importance) else []

    def significant(self) -> pd.DataFrame:
        """Tests whose Holm-adjusted p-value is below :attr:`alpha`."""
        return self.tests[self.tests["pvalue.adjusted"] < self.alpha]

    def to_dict(self) -> dict[str, Any]:
        """JSON contract: settings, the three tables as records, warnings, status."""
        return {
            "target": self.target, "drivers": list(self.drivers), "measure": self.measure,
            "min_n": int(self.min_n), "level": self.level, "alpha": self.alpha,
            "seed": int(self.seed),
            "importance": records(self.importance), "tests": records(self.tests),
            "excluded": records(self.excluded),
            "warnings": [d.to_dict() for d in self.warnings], "status": self.status,
        }


# -- the shares of a batch of correlation matrices -----------------------------------


def shares_of(corr: np.ndarray, shapley: bool = True) -> np.ndarray:
    """Each driver's share of :math:`R^2` for a batch of correlation matrices.

    Parameters
    ----------
    corr : ndarray, shape (B, p + 1, p + 1)
        Correlation matrices with the outcome last.
    shapley : bool
        Shapley (LMG) shares; otherwise Johnson's relative-weight shares.

    Returns
    -------
    ndarray, shape (B, p)
        :math:`\\mathrm{LMG}_j / R^2` (or :math:`\\varepsilon_j / R^2`), the same
        numbers as :func:`satisfaction.importance.shapley_r2`'s ``shapley.share``.
    """
    p = corr.shape[1] - 1
    if shapley:
        parts = lmg_from_subsets(subset_r2(corr))
    else:
        parts = _relative_weights(corr[:, :p, :p], corr[:, :p, p])
    with np.errstate(invalid="ignore", divide="ignore"):
        return parts / parts.sum(axis=1, keepdims=True)


def _batch_corr(x: np.ndarray) -> np.ndarray:
    """Correlation matrices of a batch of data sets ``x`` (B, n, q)."""
    centred = x - x.mean(axis=1, keepdims=True)
    return _corr(np.matmul(np.swapaxes(centred, 1, 2), centred))


def _corr(cov: np.ndarray) -> np.ndarray:
    sd = np.sqrt(np.einsum("bii->bi", cov))
    with np.errstate(invalid="ignore", divide="ignore"):
        return cov / sd[:, :, None] / sd[:, None, :]


def _member_corr(z: np.ndarray, products: np.ndarray, member: np.ndarray) -> np.ndarray:
    """Correlation matrices of the rows of ``z`` (n, q) flagged in each row of
    ``member`` (B, n) of 0/1: one matrix product for the means and one for the
    second moments (``products`` holds every row's outer product, (n, q * q))."""
    size = member.sum(axis=1)[:, None]
    mean = member @ z / size
    second = (member @ products / size).reshape(len(member), z.shape[1], z.shape[1])
    return _corr(second - mean[:, :, None] * mean[:, None, :])


def _standardize_within(z: np.ndarray, codes: np.ndarray,
                        weights: np.ndarray | None = None) -> np.ndarray:
    """Every column centred and scaled (sd with n - 1) within each group; with
    ``weights`` by the weighted mean :math:`\\bar z_w = \\sum w z / \\sum w` and the
    weighted SD :math:`\\sqrt{\\tfrac{n_g}{n_g - 1} \\sum w (z - \\bar z_w)^2 / \\sum w}`
    (:math:`n_g` respondents; equal weights give the unweighted SD, so constant
    weights give the unweighted test)."""
    out = np.empty_like(z)
    for g in np.unique(codes):
        rows = codes == g
        block = z[rows]
        if weights is None:
            out[rows] = (block - block.mean(axis=0)) / block.std(axis=0, ddof=1)
        else:
            w = weights[rows][:, None]
            centred = block - (w * block).sum(axis=0) / w.sum()
            m = len(block)
            out[rows] = centred / np.sqrt((w * centred ** 2).sum(axis=0) / w.sum()
                                          * m / (m - 1))
    return out


def permutation_test(z: np.ndarray, codes: np.ndarray, permutations: int, seed: int,
                     shapley: bool = True, weights: np.ndarray | None = None
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Permutation p-values of the spread of each driver's share between groups.

    Parameters
    ----------
    z : ndarray, shape (n, p + 1)
        Complete cases, drivers first, outcome last.
    codes : ndarray of int, shape (n,)
        Group of each row (0 .. k-1, every group with more than p + 2 rows).
    permutations : int
        Random permutations of the group labels (``B``).
    seed : int
        Seed of ``numpy.random.default_rng``.
    shapley : bool
        Shapley shares (else relative-weight shares).
    weights : ndarray, shape (n,), optional
        Respondent weights (positive, finite): every group's correlations are the
        weighted ones and a respondent keeps its weight when the labels are permuted.

    Returns
    -------
    statistic : ndarray, shape (p,)
        :math:`T_j = \\max_g s_{gj} - \\min_g s_{gj}` on the observed groups.
    pvalue : ndarray, shape (p,)
        :math:`(1 + \\#\\{T^*_{jb} \\ge T_j\\}) / (1 + B)`.

    Notes
    -----
    The rows are standardized within their group first (see the module's
    docstring). Permutation ``b`` is ``rng.permutation(n)``; the group of size
    :math:`n_g` takes the rows at the positions the group holds in the observed
    data, so the group sizes are kept.
    """
    w = None if weights is None else np.asarray(weights, dtype=float)
    z = _standardize_within(np.asarray(z, dtype=float), codes, w)
    n, q = z.shape
    groups = np.unique(codes)
    positions = [np.flatnonzero(codes == g) for g in groups]
    products = (z[:, :, None] * z[:, None, :]).reshape(n, q * q)
    if w is None:
        observed = np.stack([shares_of(_batch_corr(z[None, pos]), shapley)[0]
                             for pos in positions])
    else:  # each group's weighted correlations: its members' weights in the membership
        observed = np.stack([shares_of(_member_corr(z, products, np.where(
            codes == g, w, 0.0)[None, :]), shapley)[0] for g in groups])
    statistic = observed.max(axis=0) - observed.min(axis=0)
    rng = np.random.default_rng(seed)
    reached = np.zeros(q - 1)
    per = max(1, _CHUNK_CELLS // n)
    done = 0
    while done < permutations:
        size = min(per, permutations - done)
        order = np.stack([rng.permutation(n) for _ in range(size)])
        corr = []
        for pos in positions:
            member = np.zeros((size, n))
            # the rows drawn into the group, each with its own weight (1 unweighted)
            np.put_along_axis(member, order[:, pos],
                              1.0 if w is None else w[order[:, pos]], axis=1)
            corr.append(_member_corr(z, products, member))
        # every group's matrices in one batch: one walk over the subsets
        shares = shares_of(np.concatenate(corr), shapley).reshape(len(positions), size, -1)
        spread = shares.max(axis=0) - shares.min(axis=0)
        reached += (spread >= statistic - _TIE).sum(axis=0)
        done += size
    return statistic, (1.0 + reached) / (1.0 + permutations)


# -- the analysis ------------------------------------------------------------------


def _ordered_codes(labels: pd.Series) -> list[Any]:
    """The groups in their declared order (a categorical's categories), else sorted."""
    present = labels.dropna().unique()
    if isinstance(labels.dtype, pd.CategoricalDtype):
        return [c for c in labels.cat.categories if c in set(present)]
    return sorted(present, key=str)


def _difference_interval(a: np.ndarray, b: np.ndarray, level: float) -> tuple[float, float]:
    """Percentile interval of ``a - b`` over paired bootstrap replicates of two groups."""
    m = min(len(a), len(b))
    if m == 0:
        return np.nan, np.nan
    lo, hi = np.quantile(a[:m] - b[:m], [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi)


def group_driver_importance(
    scores: pd.DataFrame,
    target: str,
    drivers: Sequence[str],
    groups: Mapping[str, pd.Series],
    *,
    min_n: int | None = None,
    bootstrap: int = 1000,
    permutations: int = 999,
    seed: int = 20261125,
    level: float = 0.95,
    alpha: float = 0.05,
    weights: pd.Series | None = None,
    outside: Mapping[str, tuple[str, pd.Series]] | None = None,
) -> GroupDriversResult:
    """Key-driver importance within each group and permutation tests of its differences.

    Within group :math:`g` of a variable, driver :math:`j`'s importance is its
    Shapley share of :math:`R^2`,

    .. math::

        s_{gj} = \\frac{1}{R_g^2} \\sum_{S \\subseteq P \\setminus \\{j\\}}
        \\frac{|S|!\\,(p-|S|-1)!}{p!}\\bigl(R_g^2(S \\cup \\{j\\}) - R_g^2(S)\\bigr),

    from the group's complete cases (:func:`satisfaction.importance.driver_importance`,
    percentile bootstrap interval with ``bootstrap`` draws; relative-weight
    shares beyond :data:`~satisfaction.importance.MAX_SHAPLEY` drivers). Whether
    it differs between the groups is tested with the spread
    :math:`T_j = \\max_g s_{gj} - \\min_g s_{gj}` against its permutation
    distribution, :math:`p_j = (1 + \\#\\{T^*_j \\ge T_j\\})/(1 + B)`,
    Holm-adjusted over the drivers (:func:`permutation_test`).

    Parameters
    ----------
    scores : DataFrame
        Per-respondent scores holding ``target`` and every driver (the construct
        scores the driver chapter uses).
    target : str
    drivers : sequence of str
    groups : mapping of str to Series
        Group variable id → each respondent's group (indexed like ``scores``;
        missing = no group). A categorical Series keeps its categories' order.
    min_n : int, optional
        Complete cases a group needs (default :func:`minimum_n`: max(100, 10 p)).
    bootstrap : int
        Bootstrap draws per group for the intervals (0: none).
    permutations : int
        Permutations of the test (at least 1).
    seed : int
    level : float
        Confidence level of the intervals.
    alpha : float
        Level at which a difference is called (on the Holm-adjusted p-value).
    weights : Series, optional
        Respondent weights indexed like ``scores``: weighted shares, a bootstrap
        carrying the weights and a permutation test in which each respondent keeps
        its weight (see the module's docstring). Respondents without a weight are
        left out, counted as ``no weight``.
    outside : mapping of str to (str, Series), optional
        Group variable id → (reason, whether each respondent's value lies outside its
        bands), from :func:`questionnaire_outside`: those respondents have no group
        and are counted under that reason, not as ``missing group value``.

    Returns
    -------
    GroupDriversResult

    Raises
    ------
    InputError
        The target or a driver is not a column of ``scores``, no driver, or fewer
        than one permutation.

    References
    ----------
    Lindeman, Merenda & Gold (1980); Grömping (2006), *J. Statistical Software*
    17(1); Good (2005), ch. 3; Phipson & Smyth (2010); Holm (1979). Tested against
    R (``tests/reference/group_drivers_reference.R``) and on simulated data
    (``tests/test_group_drivers.py``).
    """
    drivers = [str(d) for d in drivers]
    if not drivers:
        raise InputError("the group driver analysis needs at least one driver")
    for col in [*drivers, target]:
        if col not in scores.columns:
            raise InputError("no scores for this construct", column=col, value=col)
    if permutations < 1:
        raise InputError("the permutation test needs at least one permutation",
                         column="permutations", value=permutations)
    p = len(drivers)
    shapley = p <= MAX_SHAPLEY
    measure = "shapley.share" if shapley else "relative_weight.share"
    need = minimum_n(p) if min_n is None else int(min_n)
    complete = scores[[*drivers, target]].notna().all(axis=1)
    w = None
    if weights is not None:
        w = weights.reindex(scores.index).astype(float)
        if bool((w < 0).any()) or not bool(np.isfinite(w.dropna()).all()):
            raise InputError("respondent weights must be finite and not negative",
                             column="weights")
    importance: list[dict[str, Any]] = []
    tests: list[dict[str, Any]] = []
    excluded: list[dict[str, Any]] = []
    notes: list[Diagnostic] = []
    for v, (by, series) in enumerate(groups.items()):
        labels = series.reindex(scores.index)
        missing = int(labels.isna().sum())
        if outside is not None and by in outside:  # a value, but in no band
            reason, mask = outside[by]
            n_out = int(mask.reindex(scores.index, fill_value=False).astype(bool).sum())
            if n_out:
                excluded.append({"by": by, "group": None, "reason": reason, "n": n_out})
                missing -= n_out
        if missing:
            excluded.append({"by": by, "group": None, "reason": "missing group value",
                             "n": missing})
        if w is not None:  # no weight: out of the weighted analysis, counted
            unweighted = int((labels.notna() & w.isna()).sum())
            if unweighted:
                excluded.append({"by": by, "group": None, "reason": "no weight",
                                 "n": unweighted})
            labels = labels.where(w.notna())
        order = _ordered_codes(labels)
        sizes = {}
        for code in order:
            member = (labels == code).to_numpy()
            incomplete = int((member & ~complete.to_numpy()).sum())
            if incomplete:
                excluded.append({"by": by, "group": code, "reason": "incomplete scores",
                                 "n": incomplete})
            sizes[code] = int((member & complete.to_numpy()).sum())
        small = [c for c in order if sizes[c] < need]
        kept = [c for c in order if sizes[c] >= need]
        for c in small:
            excluded.append({"by": by, "group": c, "reason": "group below minimum n",
                             "n": sizes[c]})
            # one note per group, its code a parameter of its own: the report shows
            # the group's label, as the chapter does (categories=)
            notes.append(Diagnostic("group_drivers_small_group", "info", {
                "by": by, "group": c, "n": sizes[c], "min_n": need},
                constructs=("by",), categories={"group": "by"}))
        if len(kept) < 2:
            for c in kept:
                excluded.append({"by": by, "group": c, "reason": "variable not analysed",
                                 "n": sizes[c]})
            notes.append(Diagnostic("group_drivers_not_run", "info", {
                "by": by, "groups": len(order), "min_n": need}, constructs=("by",)))
            continue
        results = {}
        for k, code in enumerate(kept):
            rows = (labels == code) & complete
            res = driver_importance(scores.loc[rows, target], scores.loc[rows, drivers],
                                    bootstrap=bootstrap, seed=seed + 1000 * v + k,
                                    level=level, shapley=shapley,
                                    weights=None if w is None else w[rows])
            results[code] = res
            for d in res.warnings:  # passed on with the group named (see _NOT_PASSED_ON)
                params = {"by": by, "group": code, **d.params}
                if d.code == "importance_collinear":
                    notes.append(Diagnostic("group_drivers_collinear", d.severity, params,
                                            constructs=("by", "driver"),
                                            categories={"group": "by"}))
                elif d.code == "importance_bootstrap_failed":
                    notes.append(Diagnostic("group_drivers_bootstrap_failed", d.severity,
                                            params, constructs=("by",),
                                            categories={"group": "by"}))
            table = res.table
            rank = table[measure].rank(ascending=False, method="min").astype(int)
            for j, row in table.iterrows():
                importance.append({
                    "by": by, "group": code, "n": res.n, "r2": res.r2,
                    "driver": row["driver"], "share": row[measure],
                    "share.ci.lower": row[f"{measure}.ci.lower"],
                    "share.ci.upper": row[f"{measure}.ci.upper"],
                    "beta": row["beta"], "sign": int(row["sign"]), "rank": int(rank[j])})
        rows = labels.isin(kept) & complete
        codes = pd.Categorical(labels[rows], categories=kept).codes
        z = scores.loc[rows, [*drivers, target]].to_numpy(dtype=float)
        statistic, pvalue = permutation_test(
            z, codes, permutations, seed + 1000 * v, shapley,
            None if w is None else w[rows].to_numpy(dtype=float))
        adjusted = adjust_pvalues(pvalue, "holm")
        share = np.array([[results[c].table[measure].iloc[j] for j in range(p)]
                          for c in kept])
        for j, driver in enumerate(drivers):
            high, low = kept[int(np.argmax(share[:, j]))], kept[int(np.argmin(share[:, j]))]
            draws_high = results[high].draws.get(measure, np.empty((0, p)))
            draws_low = results[low].draws.get(measure, np.empty((0, p)))
            lo, hi = _difference_interval(draws_high[:, j], draws_low[:, j], level)
            tests.append({
                "by": by, "driver": driver, "groups": len(kept), "high": high, "low": low,
                "share.high": float(share[:, j].max()), "share.low": float(share[:, j].min()),
                "difference": float(statistic[j]), "difference.ci.lower": lo,
                "difference.ci.upper": hi, "pvalue": float(pvalue[j]),
                "pvalue.adjusted": float(adjusted[j]), "permutations": int(permutations)})
    return GroupDriversResult(
        target=target, drivers=drivers, measure=measure,
        importance=pd.DataFrame(importance, columns=IMPORTANCE_COLUMNS),
        tests=pd.DataFrame(tests, columns=TEST_COLUMNS),
        excluded=pd.DataFrame(excluded, columns=EXCLUDED_COLUMNS),
        min_n=need, level=level, alpha=alpha, seed=seed, warnings=notes)


def questionnaire_groups(questionnaire: Questionnaire, data: pd.DataFrame
                         ) -> dict[str, pd.Series]:
    """Each group variable compared as groups (categorical, or numeric with ``bands``),
    as an ordered categorical per respondent in the questionnaire's code order; a
    variable with more than :data:`satisfaction.compare.MAX_GROUPS` groups is left out
    as the group comparison leaves it out (its ``compare_too_many_groups`` note)."""
    out = {}
    for group in questionnaire.groups:
        if group.source not in data.columns or (group.type == "numeric" and not group.bands):
            continue
        codes = _group_values(group, data)
        order = _order(group, sorted(codes.dropna().unique()))
        if len(order) > MAX_GROUPS:
            continue
        out[group.id] = pd.Series(pd.Categorical(codes, categories=order), index=codes.index)
    return out


def questionnaire_outside(questionnaire: Questionnaire, data: pd.DataFrame,
                          ) -> dict[str, tuple[str, pd.Series]]:
    """For each numeric group variable with ``bands``: the exclusion reason naming the
    edges and which respondents' values lie outside the bands
    (:func:`satisfaction.compare.outside_bands`), counted apart from missing values as
    the group comparison counts them."""
    return {group.id: (outside_reason(group.bands), outside_bands(data[group.source],
                                                                  group.bands))
            for group in questionnaire.groups
            if group.type == "numeric" and group.bands and group.source in data.columns}


def analysis_group_drivers(questionnaire: Questionnaire, data: pd.DataFrame, indices: Any,
                           ipa: Any, *, bootstrap: int = 1000,
                           permutations: int = PERMUTATIONS,
                           seed: int = 20261125,
                           weights: pd.Series | None = None) -> GroupDriversResult | None:
    """The pipeline's step: the drivers and scores of the report's driver chapter (the
    IPA's decomposition of its target, :func:`satisfaction.drivers.ipa`) within the
    groups of every group variable of the questionnaire (:func:`questionnaire_groups`);
    ``None`` without groups or without a decomposition. With respondent ``weights``
    (the analysis's) the shares and the test are weighted."""
    decomposition = getattr(ipa, "decomposition", None)
    groups = questionnaire_groups(questionnaire, data)
    if decomposition is None or not groups:
        return None
    return group_driver_importance(indices.scores, ipa.target, decomposition.drivers, groups,
                                   bootstrap=bootstrap, permutations=permutations,
                                   seed=seed, level=decomposition.level, weights=weights,
                                   outside=questionnaire_outside(questionnaire, data))


__all__ = ["PERMUTATIONS", "GroupDriversResult", "analysis_group_drivers",
           "group_driver_importance", "minimum_n", "permutation_test", "questionnaire_groups",
           "shares_of"]
