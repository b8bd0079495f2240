"""The survey ⋈ customers link: do satisfaction and loyalty show up in behaviour?

Respondents are joined to customers by the questionnaire's customer id. Every
respondent and customer is accounted for:

``respondents``                     rows of the score table
``respondents_missing_customer_id`` no customer id given
``respondents_unmatched``           a customer id not in the customer table
``respondents_repeat_customer``     a second (third, …) response of one customer;
                                    only the first response (table order) is linked
``matched``                         respondents linked to a customer
``customers``                       customers in the customer table
``customers_without_response``      customers no respondent is linked to

so that respondents = missing + unmatched + repeat + matched and customers =
matched + without response.

Then, for the linked respondents:

* construct indices by RFM segment, ABC class and lifecycle stage (n, mean, sd per
  group), with Welch's ANOVA and Kruskal-Wallis (Welch's t and Mann-Whitney for
  two groups), computed by pingouin (tested against R's ``oneway.test`` and
  ``kruskal.test``) and Holm-adjusted within each family (means, ranks) by
  :func:`satisfaction.compare.adjust_pvalues`;
* the **bivariate relation** of each construct with each behaviour outcome
  (:func:`correlation`: Pearson's r with its Fisher-z 95 % interval, Spearman's ρ;
  tested against R's ``cor.test``);
* the chain **satisfaction → loyalty → behaviour as a mediation**
  (:func:`mediation`: the a path, b, the direct effect c′, the indirect effect a·b
  and the total effect c = c′ + a·b, with percentile bootstrap intervals; point
  estimates tested against R's ``lm``).

With respondent weights (a weighted survey, ``link_survey(weights=)``) every one of
these has its weighted form, the linked respondents being the design
``svydesign(ids = ~1, weights = ~w)`` (R's survey; tested against
``tests/reference/link_weights.R``): the segment means are weighted means with
their design-based SEs (``svyby(~y, ~segment, svymean)``) and the test across
segments the design-based one (``svyttest``, ``regTermTest`` Wald F:
:func:`satisfaction.weights.weighted_group_test`; the rank tests, which have no
weighted form here, are left out); the relations are the weighted correlations
(:func:`satisfaction.compare.weighted_association`); the mediation's paths are
weighted least squares (``lm(weights = w)``) and its bootstrap resamples respondents
with their weights.

Why not one regression of behaviour on satisfaction and loyalty together: the two
indices correlate at about 0.7, so the coefficient of satisfaction in that model is
only its *direct* effect with loyalty held constant. Read alone it says
"behaviour does not change with satisfaction" beside a segment chart where the
most valuable customers are clearly the most satisfied. The bivariate relation
answers "do more satisfied customers buy more?"; the mediation answers "how much
of that runs through loyalty?".

Scale of the outcomes
---------------------
Money amounts (``clv``, ``monetary``, ``revenue``, ``historical_value``,
``expected_spend``) are right-skewed, a few customers worth many times the rest;
they are analysed on the log scale ``ln(1 + y)`` (:data:`LOG_OUTCOMES`), so an
effect of 0.01 per index point is about 1 % more value per point. Counts (repeat
purchases) are analysed as they are. The ``scale`` column of every table says
which (``"log1p"`` or ``"raw"``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
import pingouin as pg
from scipy import stats

from satisfaction.diagnostics import Diagnostic, records
from satisfaction.errors import InputError
from satisfaction.io import records as table_records

#: Outcomes analysed on the log scale ln(1 + y) (skewed money amounts).
LOG_OUTCOMES = frozenset({"clv", "monetary", "revenue", "historical_value",
                          "expected_spend"})
#: The effects of a mediation, in the order of the table.
EFFECTS = ("a", "b", "direct", "indirect", "total", "proportion")
#: Bootstrap draws per independent random stream (fixed, so that the draws do not
#: depend on memory or the machine); each block of draws has its own child seed.
DRAWS_PER_BLOCK = 50
#: Fewest linked respondents for which the relations with behaviour are estimated.
MIN_LINKED = 10

Scale = Literal["raw", "log1p"]


def outcome_scale(outcome: str) -> Scale:
    """``"log1p"`` for the money outcomes of :data:`LOG_OUTCOMES`, else ``"raw"``."""
    return "log1p" if outcome in LOG_OUTCOMES else "raw"


def on_scale(values: Any, scale: Scale) -> np.ndarray:
    """``values`` as analysed: ``ln(1 + y)`` for ``"log1p"`` (NaN below 0), else as given."""
    y = np.asarray(values, dtype=float)
    if scale == "raw":
        return y
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(y >= 0, np.log1p(np.where(y >= 0, y, 0.0)), np.nan)


@dataclass
class SurveyLink:
    """The linked table, the counts, the group comparisons, the relations with behaviour.

    Attributes
    ----------
    data : pandas.DataFrame
        One row per linked respondent (index respondent id): the construct
        indices, customer_id and the customer's segment columns and outcomes.
    counts : dict[str, int]
        See the module docstring; they add up.
    groups : pandas.DataFrame
        by, group, construct, n, mean, sd.
    tests : pandas.DataFrame
        by, construct, test, statistic, df, df2, pvalue, family, p_adjusted.
    relations : pandas.DataFrame
        Bivariate relation of each construct with each outcome: construct,
        outcome, scale, n, r, ci_lower, ci_upper, pvalue, spearman,
        spearman_pvalue (see :func:`correlation`).
    mediation : pandas.DataFrame
        exposure, mediator, outcome, scale, effect (``a``, ``b``, ``direct``,
        ``indirect``, ``total``, ``proportion``), estimate, se (bootstrap sd),
        ci_lower, ci_upper, n, draws (see :func:`mediation`). Empty without a
        mediator.
    warnings : list of Diagnostic
        Columns not in the customer table, respondents without an outcome,
        too few linked respondents, degenerate bootstrap resamples.
    """

    data: pd.DataFrame
    counts: dict[str, int]
    groups: pd.DataFrame
    tests: pd.DataFrame
    relations: pd.DataFrame
    mediation: pd.DataFrame
    warnings: list[Diagnostic] = field(default_factory=list)

    @property
    def notes(self) -> list[str]:
        """The warnings as English sentences (for callers that still read text)."""
        return [str(d) for d in self.warnings]

    def to_dict(self) -> dict[str, Any]:
        return {"counts": dict(self.counts), "groups": table_records(self.groups),
                "tests": table_records(self.tests), "relations": table_records(self.relations),
                "mediation": table_records(self.mediation), "warnings": records(self.warnings)}


def _group_tests(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Welch/rank tests of y across g (≥ 2 groups with ≥ 2 observations each)."""
    levels = [k for k, n in frame["g"].value_counts().items() if n >= 2]
    frame = frame[frame["g"].isin(levels)]
    if len(levels) < 2:
        return []
    if len(levels) == 2:
        a, b = sorted(levels)
        x = frame.loc[frame["g"] == a, "y"].to_numpy(float)
        y = frame.loc[frame["g"] == b, "y"].to_numpy(float)
        tt = pg.ttest(x, y, correction=True)
        mw = pg.mwu(x, y, alternative="two-sided")
        return [
            {"test": "welch_t", "statistic": float(tt["T"].iloc[0]),
             "df": float(tt["dof"].iloc[0]), "df2": None,
             "pvalue": float(tt.filter(regex="^p.val").iloc[0, 0]), "family": "means"},
            {"test": "mann_whitney", "statistic": float(mw.filter(regex="^U").iloc[0, 0]),
             "df": None, "df2": None,
             "pvalue": float(mw.filter(regex="^p.val").iloc[0, 0]), "family": "ranks"},
        ]
    wa = pg.welch_anova(data=frame, dv="y", between="g")
    kw = pg.kruskal(data=frame, dv="y", between="g")
    return [
        {"test": "welch_anova", "statistic": float(wa["F"].iloc[0]),
         "df": float(wa["ddof1"].iloc[0]), "df2": float(wa["ddof2"].iloc[0]),
         "pvalue": float(wa.filter(regex="^p.unc").iloc[0, 0]), "family": "means"},
        {"test": "kruskal_wallis", "statistic": float(kw["H"].iloc[0]),
         "df": float(kw["ddof1"].iloc[0]), "df2": None,
         "pvalue": float(kw.filter(regex="^p.unc").iloc[0, 0]), "family": "ranks"},
    ]


RELATION_COLUMNS = ["construct", "outcome", "scale", "n", "r", "ci_lower", "ci_upper",
                    "pvalue", "spearman", "spearman_pvalue", "n_eff", "weighted"]


def _weighted_group_tests(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The design-based test of y across g (groups with ≥ 2 respondents; column ``w``
    the weights): :func:`satisfaction.weights.weighted_group_test`."""
    from satisfaction.weights import weighted_group_test

    levels = [k for k, n in frame["g"].value_counts().items() if n >= 2]
    frame = frame[frame["g"].isin(levels)]
    if len(levels) < 2 or len(frame) <= len(levels):
        return []
    r = weighted_group_test(frame["y"], frame["g"], frame["w"])
    return [{"test": r["test"], "statistic": r["statistic"], "df": r["df"], "df2": r["df2"],
             "pvalue": r["pvalue"], "family": "means"}]


def correlation(x: Any, y: Any, level: float = 0.95, weights: Any = None
                ) -> dict[str, Any]:
    r"""Pearson's r with its Fisher-z interval and Spearman's ρ of the complete pairs.

    .. math::
        z = \operatorname{artanh} r,\qquad
        r_{lo,hi} = \tanh\bigl(z \mp z_{1-\alpha/2}/\sqrt{n-3}\bigr),\qquad
        t = r\sqrt{(n-2)/(1-r^2)} \sim t_{n-2}

    (Fisher 1921; R's ``cor.test``). Spearman's ρ is Pearson's r of the mid-ranks,
    its p from the same t approximation (R's ``cor.test(method = "spearman",
    exact = FALSE)``).

    With ``weights`` (one per pair): the design-based weighted Pearson r and
    Spearman ρ (weighted mid-ranks) of
    :func:`satisfaction.compare.weighted_association` (``cov.wt``, ``svyglm``; its
    interval on Fisher's z with the design-based SE), and ``n_eff``.

    Returns
    -------
    dict
        n, r, ci_lower, ci_upper, pvalue, spearman, spearman_pvalue (NaN where
        n < 4 or a variable is constant), n_eff, weighted.
    """
    if weights is not None:
        from satisfaction.compare import weighted_association

        p = weighted_association(y, x, weights, "pearson", level)
        rank = weighted_association(y, x, weights, "spearman", level)

        def num(v: Any) -> float:
            return np.nan if v is None else float(v)

        return {"n": p["n"], "r": num(p["estimate"]), "ci_lower": num(p["ci.lower"]),
                "ci_upper": num(p["ci.upper"]), "pvalue": num(p["pvalue"]),
                "spearman": num(rank["estimate"]), "spearman_pvalue": num(rank["pvalue"]),
                "n_eff": p["n_eff"], "weighted": True}
    a, b = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    ok = np.isfinite(a) & np.isfinite(b)
    a, b = a[ok], b[ok]
    n = len(a)
    out: dict[str, Any] = {"n": n, "r": np.nan, "ci_lower": np.nan, "ci_upper": np.nan,
                           "pvalue": np.nan, "spearman": np.nan, "spearman_pvalue": np.nan,
                           "n_eff": float(n), "weighted": False}
    if n < 4 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return out
    r = float(np.corrcoef(a, b)[0, 1])
    z = np.arctanh(min(max(r, -1.0 + 1e-16), 1.0 - 1e-16))
    half = stats.norm.ppf(0.5 + level / 2.0) / np.sqrt(n - 3)
    rho = float(np.corrcoef(stats.rankdata(a), stats.rankdata(b))[0, 1])
    out.update(r=r, ci_lower=float(np.tanh(z - half)), ci_upper=float(np.tanh(z + half)),
               pvalue=_t_pvalue(r, n), spearman=rho, spearman_pvalue=_t_pvalue(rho, n))
    return out


def _t_pvalue(r: float, n: int) -> float:
    if abs(r) >= 1.0:
        return 0.0
    t = r * np.sqrt((n - 2) / (1.0 - r * r))
    return float(2.0 * stats.t.sf(abs(t), n - 2))


def _paths(sxx: Any, sxm: Any, smm: Any, sxy: Any, smy: Any) -> dict[str, Any]:
    """The mediation's paths from centred cross-products (arrays: one per draw)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        det = sxx * smm - sxm * sxm
        a = sxm / sxx
        direct = (smm * sxy - sxm * smy) / det
        b = (sxx * smy - sxm * sxy) / det
        indirect = a * b
        total = direct + indirect
        proportion = indirect / total
    return {"a": a, "b": b, "direct": direct, "indirect": indirect, "total": total,
            "proportion": proportion}


def bootstrap_indices(n: int, draws: int, seed: int) -> Any:
    """The bootstrap resamples, block by block: ``(first draw, rows × n index array)``.

    Block k (of :data:`DRAWS_PER_BLOCK` draws) comes from its own generator, the
    k-th child of ``SeedSequence(seed)``: the draws depend on ``n``, ``draws`` and
    ``seed`` only.
    """
    blocks = -(-draws // DRAWS_PER_BLOCK)
    for k, child in enumerate(np.random.SeedSequence(seed).spawn(blocks)):
        rows = min(DRAWS_PER_BLOCK, draws - k * DRAWS_PER_BLOCK)
        yield k * DRAWS_PER_BLOCK, np.random.default_rng(child).integers(0, n, size=(rows, n))


@dataclass
class MediationResult:
    """One simple mediation x → m → y.

    Attributes
    ----------
    effects : pandas.DataFrame
        effect (``a``, ``b``, ``direct``, ``indirect``, ``total``,
        ``proportion``), estimate, se (bootstrap sd), ci_lower, ci_upper.
    n : int
        Complete cases used.
    draws : int
        Bootstrap draws requested; ``failed`` of them were degenerate (no spread
        in x, or x and m collinear in the resample) and are left out.
    """

    effects: pd.DataFrame
    n: int
    draws: int
    failed: int

    def estimate(self, effect: str) -> float:
        return float(self.effects.set_index("effect").loc[effect, "estimate"])

    def to_dict(self) -> dict[str, Any]:
        return {"n": self.n, "draws": self.draws, "failed": self.failed,
                "effects": table_records(self.effects)}


def mediation(x: Any, m: Any, y: Any, draws: int = 2000, seed: int = 20240501,
              level: float = 0.95, weights: Any = None) -> MediationResult:
    r"""Simple mediation by ordinary least squares, with percentile bootstrap intervals.

    .. math::
        m = i_1 + a\,x + e_1, \qquad y = i_2 + c'\,x + b\,m + e_2, \qquad
        \text{indirect} = a\,b, \qquad \text{total } c = c' + a\,b

    For OLS the total effect equals the slope of y on x alone (Baron & Kenny 1986;
    Hayes 2018, ch. 3); here it is *defined* as direct + indirect, so the identity
    holds exactly (the test also checks it against ``lm(y ~ x)``). ``proportion`` is
    indirect / total, meaningful only when the total effect is clearly not zero.

    The bootstrap resamples the complete cases ``draws`` times
    (:func:`bootstrap_indices`), computes all paths of every resample at once from
    the centred cross-products, and takes the ``(1 ± level)/2`` percentiles
    (``numpy.quantile``, R's type 7) of each effect (Preacher & Hayes 2008). Same
    inputs and seed, same intervals.

    Parameters
    ----------
    x, m, y : array-like
        Exposure (satisfaction), mediator (loyalty), outcome, one value per case;
        cases with a missing value are left out.
    draws : int
        Bootstrap resamples (0 for none: the intervals are NaN).
    seed : int
    level : float
        Confidence level of the intervals.
    weights : array-like, optional
        Respondent weights (one per case): the paths are then weighted least squares
        (``lm(weights = w)``, the point estimates of ``svyglm``): weighted means and
        cross-products ``Σ w (u − ū_w)(v − v̄_w)`` in the formulas above, and each
        bootstrap resample of cases carries the cases' weights. Equal weights give
        the unweighted result exactly.

    Returns
    -------
    MediationResult
        Its ``effects`` table holds, per effect, the estimate, the bootstrap sd and
        the percentile interval.

    References
    ----------
    Baron, R. M. & Kenny, D. A. (1986). *JPSP* 51(6), 1173-1182.
    Preacher, K. J. & Hayes, A. F. (2008). *Behavior Research Methods* 40(3), 879-891.
    Hayes, A. F. (2018). *Introduction to Mediation, Moderation, and Conditional
    Process Analysis*, 2nd ed., ch. 3-4.
    """
    xa, ma, ya = (np.asarray(v, dtype=float) for v in (x, m, y))
    wa = np.ones(len(xa)) if weights is None else np.asarray(weights, dtype=float)
    ok = np.isfinite(xa) & np.isfinite(ma) & np.isfinite(ya) & np.isfinite(wa)
    wa = wa[ok]

    def centred(v: np.ndarray) -> np.ndarray:
        if not len(v):  # no complete case: nothing to centre (the paths are NaN)
            return v
        return v - (v.mean() if weights is None else np.sum(wa * v) / wa.sum())

    xa, ma, ya = centred(xa[ok]), centred(ma[ok]), centred(ya[ok])
    n = len(xa)
    # NumPy scalars: with no spread (or no complete case) the paths are NaN, not a
    # ZeroDivisionError of Python floats
    point = _paths(*(np.float64(np.dot(wa * u, v)) if weights is not None else
                     np.float64(np.dot(u, v)) for u, v in
                     ((xa, xa), (xa, ma), (ma, ma), (xa, ya), (ma, ya))))
    boot = {k: np.full(draws, np.nan) for k in EFFECTS}
    for first, idx in bootstrap_indices(n, draws, seed) if n else ():
        bx, bm, by = xa[idx], ma[idx], ya[idx]
        if weights is None:
            bx = bx - bx.mean(axis=1, keepdims=True)
            bm = bm - bm.mean(axis=1, keepdims=True)
            by = by - by.mean(axis=1, keepdims=True)
            bw = None
        else:
            bw = wa[idx]
            total = bw.sum(axis=1, keepdims=True)
            bx = bx - (bw * bx).sum(axis=1, keepdims=True) / total
            bm = bm - (bw * bm).sum(axis=1, keepdims=True) / total
            by = by - (bw * by).sum(axis=1, keepdims=True) / total
        part = _paths(*(np.einsum("ij,ij->i", u, v) if weights is None else
                        np.einsum("ij,ij,ij->i", bw, u, v) for u, v in
                        ((bx, bx), (bx, bm), (bm, bm), (bx, by), (bm, by))))
        for k in EFFECTS:
            boot[k][first:first + len(idx)] = part[k]
    good = np.isfinite(boot["total"]) & np.isfinite(boot["indirect"]) \
        & np.isfinite(boot["direct"])
    lo, hi = (1.0 - level) / 2.0, (1.0 + level) / 2.0
    rows = []
    for k in EFFECTS:
        sample = boot[k][good & np.isfinite(boot[k])]
        est = float(point[k])
        if len(sample) >= 2:
            ci = np.quantile(sample, [lo, hi])
            rows.append({"effect": k, "estimate": est, "se": float(sample.std(ddof=1)),
                         "ci_lower": float(ci[0]), "ci_upper": float(ci[1])})
        else:
            rows.append({"effect": k, "estimate": est, "se": np.nan, "ci_lower": np.nan,
                         "ci_upper": np.nan})
    return MediationResult(effects=pd.DataFrame(rows), n=n, draws=int(draws),
                           failed=int(draws - good.sum()))


MEDIATION_COLUMNS = ["exposure", "mediator", "outcome", "scale", "effect", "estimate", "se",
                     "ci_lower", "ci_upper", "n", "draws"]


def link_survey(
    scores: pd.DataFrame,
    customers: pd.DataFrame,
    customer_column: str = "customer_id",
    constructs: list[str] | None = None,
    by: tuple[str, ...] = ("rfm_segment", "abc_class", "lifecycle_stage"),
    outcomes: tuple[str, ...] = ("repeat_purchases", "clv"),
    adjust: str = "holm",
    exposure: str | None = None,
    mediator: str | None = None,
    draws: int = 2000,
    seed: int = 20240501,
    weights: pd.Series | None = None,
) -> SurveyLink:
    """Join respondents to customers and relate attitudes to behaviour.

    Parameters
    ----------
    scores : pandas.DataFrame
        Per-respondent construct indices (0-100), index respondent id, with a
        customer-id column (e.g. from ``satisfaction.drivers.construct_scores``
        plus the responses' customer-id column).
    customers : pandas.DataFrame
        The value pipeline's per-customer table (index customer id), with the
        ``by`` and ``outcomes`` columns.
    customer_column : str
        The customer-id column of ``scores``.
    constructs : list of str, optional
        Construct columns to use (default: every numeric column of ``scores``
        other than the customer id).
    by, outcomes : tuple of str
        Segment columns and behaviour columns of ``customers`` (those absent are
        skipped, with a ``link_column_missing`` diagnostic). Outcomes in
        :data:`LOG_OUTCOMES` are analysed as ln(1 + y).
    adjust : str
        p-value adjustment within each family (see :func:`satisfaction.compare.adjust_pvalues`).
    exposure, mediator : str, optional
        The satisfaction and loyalty constructs of the mediation (default: the
        first and second of ``constructs`` when there are two or more; the
        pipeline passes them in that order). No mediator, no mediation.
    draws, seed : int
        Bootstrap resamples of the mediation and their seed.
    weights : Series, optional
        Respondent weights (index respondent id) of a weighted survey: segment means,
        tests, relations and mediation are then weighted (module docstring); a
        linked respondent without a weight leaves them (``link_no_weight``).

    Returns
    -------
    SurveyLink
        The relations and mediations are per outcome, each on its scale
        (:func:`outcome_scale`); respondents without an outcome are left out of that
        outcome only, and counted (``link_outcome_missing``).
    """
    from satisfaction.compare import adjust_pvalues

    if customer_column not in scores.columns:
        raise InputError(f"the score table has no customer-id column {customer_column!r}",
                         column=customer_column)
    if constructs is None:
        constructs = [c for c in scores.columns if c != customer_column
                      and pd.api.types.is_numeric_dtype(scores[c])]
    if not constructs:
        raise InputError("the score table has no construct columns")
    if exposure is None and len(constructs) >= 2:
        exposure, mediator = constructs[0], constructs[1] if mediator is None else mediator
    warnings: list[Diagnostic] = []
    ids = scores[customer_column]
    missing = ids.isna() | (ids.astype(str).str.strip() == "")
    key = ids.where(~missing).astype(object).map(lambda v: None if v is None or (
        isinstance(v, float) and np.isnan(v)) else str(v).strip())
    cust_ids = pd.Index(customers.index.astype(str))
    known = key.isin(set(cust_ids)) & ~missing
    repeat = known & key.duplicated(keep="first")
    matched = known & ~repeat
    counts = {
        "respondents": len(scores),
        "respondents_missing_customer_id": int(missing.sum()),
        "respondents_unmatched": int((~missing & ~known).sum()),
        "respondents_repeat_customer": int(repeat.sum()),
        "matched": int(matched.sum()),
        "customers": len(customers),
        "customers_without_response": len(customers) - int(matched.sum()),
    }
    cust = customers.copy()
    cust.index = cust_ids
    if "repeat_purchases" in outcomes and "repeat_purchases" not in cust.columns \
            and "frequency" in cust.columns:
        cust["repeat_purchases"] = cust["frequency"] - 1  # RFM frequency counts the first
    linked = scores.loc[matched, constructs].copy()
    linked["customer_id"] = key[matched].to_numpy()
    extra = [c for c in (*by, *outcomes) if c in cust.columns]
    for c in (*by, *outcomes):
        if c not in cust.columns:
            warnings.append(Diagnostic("link_column_missing", "info", {"column": c}))
    linked = linked.join(cust[extra], on="customer_id")
    w = None
    if weights is not None:
        w = weights.reindex(linked.index).astype(float)
        if int(w.isna().sum()):
            warnings.append(Diagnostic("link_no_weight", "info", {"n": int(w.isna().sum())}))

    groups, tests = _segment_tables(linked, [b for b in by if b in cust.columns],
                                    constructs, adjust, adjust_pvalues, w)
    present = [o for o in outcomes if o in cust.columns]
    relations, med = _behaviour(linked, constructs, present, exposure, mediator, draws,
                                seed, warnings, w)
    return SurveyLink(data=linked, counts=counts, groups=groups, tests=tests,
                      relations=relations, mediation=med, warnings=warnings)


def _segment_tables(linked: pd.DataFrame, by: list[str], constructs: list[str],
                    adjust: str, adjust_pvalues: Any, weights: pd.Series | None = None
                    ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Construct means by segment and the tests across segments (Holm per family).

    With ``weights``: per segment the weighted mean, its design-based SE (the design
    the respondents with a segment, an index and a weight: ``svyby(~y, ~g, design,
    svymean)``), the weighted SD ``√(n/(n−1) Σ w (y − ȳ_w)² / Σ w)`` (``svyvar``) and
    Kish's effective n; the design-based test across segments only."""
    from satisfaction.weights import effective_n

    group_rows: list[dict[str, Any]] = []
    test_rows: list[dict[str, Any]] = []
    for b in by:
        for construct in constructs:
            frame = pd.DataFrame({"g": linked[b].astype(str), "y": linked[construct]})
            if weights is not None:
                frame["w"] = weights
            frame = frame.dropna()
            design = len(frame)
            for g, part in frame.groupby("g", sort=True):
                row = {"by": b, "group": g, "construct": construct, "n": len(part),
                       "mean": float(part["y"].mean()),
                       "sd": float(part["y"].std(ddof=1)) if len(part) > 1 else None}
                if weights is not None:
                    wg, yg = part["w"].to_numpy(float), part["y"].to_numpy(float)
                    mean = float(np.sum(wg * yg) / wg.sum())
                    n = len(part)
                    row.update(mean=mean, sd=float(np.sqrt(
                        n / (n - 1) * np.sum(wg * (yg - mean) ** 2) / wg.sum()))
                        if n > 1 else None,
                        se=float(np.sqrt(design / (design - 1) * np.sum(
                            (wg * (yg - mean)) ** 2)) / wg.sum()) if design > 1 else None,
                        n_eff=effective_n(wg), weighted=True)
                group_rows.append(row)
            found = _group_tests(frame) if weights is None else _weighted_group_tests(frame)
            for row in found:
                test_rows.append({"by": b, "construct": construct, **row})
    tests = pd.DataFrame(test_rows, columns=["by", "construct", "test", "statistic", "df",
                                             "df2", "pvalue", "family"])
    tests["p_adjusted"] = np.nan
    for _, idx in tests.groupby("family").groups.items():
        tests.loc[idx, "p_adjusted"] = adjust_pvalues(tests.loc[idx, "pvalue"].to_numpy(),
                                                      adjust)
    groups = pd.DataFrame(group_rows, columns=["by", "group", "construct", "n", "mean", "sd",
                                              *(["se", "n_eff", "weighted"]
                                                if weights is not None else [])])
    return groups, tests


def _behaviour(linked: pd.DataFrame, constructs: list[str], outcomes: list[str],
               exposure: str | None, mediator: str | None, draws: int, seed: int,
               warnings: list[Diagnostic], weights: pd.Series | None = None
               ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The bivariate relations and the mediations of every outcome."""
    rel_rows: list[dict[str, Any]] = []
    med_rows: list[dict[str, Any]] = []
    if len(linked) < MIN_LINKED:
        if outcomes:
            warnings.append(Diagnostic("link_too_few", "caution",
                                       {"n": len(linked), "min": MIN_LINKED}))
        outcomes = []
    for outcome in outcomes:
        scale = outcome_scale(outcome)
        y = on_scale(linked[outcome], scale)
        lost = int((~np.isfinite(y)).sum())
        if lost:
            warnings.append(Diagnostic("link_outcome_missing", "info",
                                       {"n": lost, "outcome": outcome},
                                       labels={"outcome": "value.outcomes"}))
        if len(y) - lost < MIN_LINKED:
            # e.g. a CLV withheld because its model failed its gates: no relation is
            # estimated from what is not there
            warnings.append(Diagnostic("link_outcome_too_few", "caution",
                                       {"n": len(y) - lost, "min": MIN_LINKED,
                                        "outcome": outcome},
                                       labels={"outcome": "value.outcomes"}))
            continue
        for construct in constructs:
            rel_rows.append({"construct": construct, "outcome": outcome, "scale": scale,
                             **correlation(linked[construct], y, weights=weights)})
        if exposure is None or mediator is None:
            continue
        res = mediation(linked[exposure], linked[mediator], y, draws=draws, seed=seed,
                        weights=weights)
        if res.failed > 0:
            warnings.append(Diagnostic("link_bootstrap_degenerate",
                                       "invalidates" if res.failed > 0.1 * draws else "caution",
                                       {"failed": res.failed, "draws": draws,
                                        "outcome": outcome},
                                       labels={"outcome": "value.outcomes"}))
        for row in res.effects.to_dict("records"):
            med_rows.append({"exposure": exposure, "mediator": mediator, "outcome": outcome,
                             "scale": scale, **row, "n": res.n, "draws": draws - res.failed})
    return (pd.DataFrame(rel_rows, columns=RELATION_COLUMNS),
            pd.DataFrame(med_rows, columns=MEDIATION_COLUMNS))
