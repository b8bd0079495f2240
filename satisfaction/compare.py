"""Group comparisons of construct indices, correlations and multiple-testing correction.

For every construct score (0-100, :func:`satisfaction.drivers.construct_scores`)
and every group variable of the questionnaire:

* two groups: Welch's t-test (unequal variances) with Hedges' g, and the
  Mann-Whitney U test with the rank-biserial correlation;
* three or more: Welch's ANOVA with omega², the Kruskal-Wallis H test with
  eta²_H, and Games-Howell post-hoc pairs.

Two categorical group variables are cross-tabulated and tested for independence
with Pearson's chi-square (Yates' continuity correction for 2×2 tables, as R's
``chisq.test`` does by default) and Cramér's V. Construct scores are correlated
pairwise (Pearson by default) with their p-values.

Beside each test the assumption checks are recorded: Shapiro-Wilk normality per
group and the Brown-Forsythe (median-centred Levene) test of equal variances.
What a reader must know is a :class:`~satisfaction.diagnostics.Diagnostic` in
``CompareResult.warnings``: a construct index that does not vary within a
comparison (``compare_constant_index``, info: not tested) and a chi-square test
whose expected counts are too small for its p-value (``chi2_expected_low``,
caution: a smallest expected count below 1 or more than 20 % of them below 5;
Cochran 1954).

p-values are adjusted within families of tests of the same hypothesis type:
``means`` (Welch t and Welch ANOVA), ``ranks`` (Mann-Whitney and Kruskal-Wallis),
``independence`` (chi-square) and ``correlation``. Parametric and rank tests of
the same construct test the same question twice, so they are not pooled in one
family. Holm (1979) is the default; ``"fdr"`` gives Benjamini-Hochberg.
Games-Howell p-values already control the family-wise error over the pairs of
one construct (studentized range) and are reported as computed.

The statistics come from pingouin and scipy and are tested against R's
``t.test``, ``wilcox.test``, ``oneway.test``, ``kruskal.test``, ``chisq.test``,
``cor.test``, ``shapiro.test``, ``car::leveneTest`` and ``p.adjust``
(tests/reference/r_stats_reference.R).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pingouin as pg
from scipy import stats
from scipy.stats.contingency import association

from satisfaction.diagnostics import Diagnostic, status
from satisfaction.diagnostics import records as diagnostic_records
from satisfaction.drivers import _num, construct_scores
from satisfaction.errors import InputError, UsageError
from satisfaction.io import records
from satisfaction.questionnaire import Group, Questionnaire

ADJUST_METHODS: dict[str, str] = {
    "holm": "holm",
    "fdr": "fdr_bh",
    "fdr_bh": "fdr_bh",
    "bonferroni": "bonf",
    "none": "none",
}
FAMILY: dict[str, str] = {
    "welch_t": "means",
    "welch_anova": "means",
    "mann_whitney": "ranks",
    "kruskal_wallis": "ranks",
    "chi2": "independence",
}
TEST_COLUMNS = [
    "construct", "by", "test", "family", "statistic", "df", "df2", "pvalue",
    "pvalue.adjusted", "effect", "effect.size", "n", "groups", "assumptions",
]
POSTHOC_COLUMNS = [
    "construct", "by", "test", "A", "B", "mean.A", "mean.B", "diff", "se",
    "statistic", "df", "pvalue", "hedges_g",
]


def _col(frame: pd.DataFrame, *names: str) -> Any:
    """First value of the first column present (pingouin renamed columns across versions)."""
    for name in names:
        if name in frame.columns:
            return frame[name].iloc[0]
    raise KeyError(names)


def adjust_pvalues(pvalues: list[float] | np.ndarray, method: str = "holm") -> np.ndarray:
    """Adjust p-values for multiple testing (NaN kept out of the family).

    Holm: :math:`p_{(i)}^{adj} = \\max_{j \\le i} \\min(1, (m - j + 1) p_{(j)})`;
    FDR (Benjamini-Hochberg): :math:`\\min_{j \\ge i} \\min(1, m p_{(j)} / j)`.
    Tested against R's ``p.adjust``.
    """
    if method not in ADJUST_METHODS:
        raise UsageError(
            f"unknown p-value adjustment; expected one of {', '.join(ADJUST_METHODS)}",
            column="adjust",
            value=method,
        )
    p = np.asarray(pvalues, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    if not ok.any():
        return out
    if ADJUST_METHODS[method] == "none":
        out[ok] = p[ok]
        return out
    _, adjusted = pg.multicomp(p[ok], method=ADJUST_METHODS[method])
    out[ok] = adjusted
    return out


# -- group handling ----------------------------------------------------------


def _resolve_groups(
    questionnaire: Questionnaire, data: pd.DataFrame, by: str | list[str] | None
) -> list[Group]:
    if by is None:
        return [g for g in questionnaire.groups if g.source in data.columns]
    names = [by] if isinstance(by, str) else list(by)
    out = []
    for name in names:
        try:
            group = questionnaire.group(name)
        except KeyError:
            if name not in data.columns:
                known = ", ".join(g.id for g in questionnaire.groups) or "none"
                raise InputError(
                    f"group variable not found in the questionnaire or the responses "
                    f"(questionnaire groups: {known})",
                    column=name,
                    value=name,
                ) from None
            group = Group(id=name)
        if group.source not in data.columns:
            raise InputError(
                "group variable is not a column of the responses", column=group.source,
                value=name,
            )
        out.append(group)
    return out


def band_labels(bands: list[float]) -> list[str]:
    """The labels of the bands of edges ``e0 < e1 < … < ek``: ``[e0, e1)``, …,
    ``[e(k-1), ek]`` — every band holds its lower edge, the last also its upper one."""
    edges = [f"{float(e):g}" for e in bands]
    return [f"[{a}, {b}{']' if k == len(edges) - 2 else ')'}"
            for k, (a, b) in enumerate(itertools.pairwise(edges))]


def band_codes(values: Any, bands: list[float]) -> pd.Series:
    """The band of each number: ``[a, b)`` for every band but the last, ``[a, b]`` for
    the last (so the top edge belongs to the last band); NaN for a missing value and
    for a value outside ``[e0, ek]`` (:func:`outside_bands` counts those)."""
    x = pd.to_numeric(pd.Series(values), errors="coerce")
    edges = np.asarray(bands, dtype=float)
    position = np.searchsorted(edges, x.to_numpy(dtype=float), side="right") - 1
    position = np.where(x.to_numpy(dtype=float) == edges[-1], len(edges) - 2, position)
    inside = x.notna().to_numpy() & (x >= edges[0]).to_numpy() & (x <= edges[-1]).to_numpy()
    labels = np.array(band_labels(bands), dtype=object)
    codes = np.where(inside, labels[np.clip(position, 0, len(labels) - 1)], None)
    return pd.Series(codes, index=x.index, dtype=object).where(inside)


def outside_reason(bands: list[float]) -> str:
    """The exclusion reason of values outside the bands, naming the edges."""
    return (f"outside the bands (below {float(bands[0]):g} or above "
            f"{float(bands[-1]):g})")


def outside_bands(values: Any, bands: list[float]) -> pd.Series:
    """Whether a (present) number lies below the first or above the last band edge."""
    x = pd.to_numeric(pd.Series(values), errors="coerce")
    return x.notna() & ((x < float(bands[0])) | (x > float(bands[-1])))


def _group_values(group: Group, data: pd.DataFrame) -> pd.Series:
    """Group codes as strings (banded for numeric groups with bands, :func:`band_codes`);
    NaN when missing or outside the bands."""
    raw = data[group.source]
    if group.type == "numeric" and group.bands:
        return band_codes(raw, group.bands)
    values = raw.where(raw.notna())
    return values.map(_code_text).where(values.notna())


def _code_text(value: Any) -> str:
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _order(group: Group, codes: list[str]) -> list[str]:
    """Codes in the questionnaire's order, then any others sorted."""
    declared = [_code_text(k) for k in (group.codes or {})]
    if group.type == "numeric" and group.bands:
        declared = band_labels(group.bands)  # low to high, not as text sorts
    known = [c for c in declared if c in codes]
    rest = sorted(c for c in codes if c not in declared)
    return known + rest


@dataclass
class CompareResult:
    """Group comparisons.

    Attributes
    ----------
    tests : DataFrame
        One row per (construct, group variable, test); columns ``construct by
        test family statistic df df2 pvalue pvalue.adjusted effect effect.size
        n groups assumptions`` (``groups`` maps each group code to ``n mean sd``).
    posthoc : DataFrame
        Games-Howell pairs: ``construct by test A B mean.A mean.B diff se
        statistic df pvalue hedges_g``.
    correlations : DataFrame
        ``x y method r n pvalue pvalue.adjusted``.
    excluded : DataFrame
        ``by reason n``: respondents left out of a comparison and why.
    adjust : str
    warnings : list of Diagnostic
        Comparisons not tested and tests whose p-values are approximate.
    invariance : DataFrame or None
        Measurement invariance of each construct across each group variable
        (:func:`satisfaction.invariance.construct_invariance`): whether the
        construct's means may be compared between the groups.
    associations : DataFrame
        Numeric group variables without ``bands`` (age, tenure): one row per
        (construct, variable, method) with ``construct by method n estimate
        ci.lower ci.upper statistic df pvalue n_eff weighted pvalue.adjusted``
        (Pearson r and Spearman ρ; :func:`index_association`, or with respondent
        weights the design-based :func:`weighted_association`, ``weighted`` True and
        ``n_eff`` Kish's effective n), instead of a test between as many groups as
        there are distinct values.
    weighted : DataFrame or None
        When the questionnaire declares respondent weights: the design-based tests
        of every index across every categorical group
        (:func:`satisfaction.weights.weighted_group_tests`; set by
        :func:`satisfaction.api.compare`), in the JSON as ``weighted``.
    """

    tests: pd.DataFrame
    posthoc: pd.DataFrame
    correlations: pd.DataFrame
    excluded: pd.DataFrame
    adjust: str = "holm"
    warnings: list[Diagnostic] = field(default_factory=list)
    invariance: pd.DataFrame | None = None
    associations: pd.DataFrame = field(default_factory=pd.DataFrame)
    weighted: pd.DataFrame | None = None

    @property
    def status(self) -> str:
        """``ok``, ``caution`` or ``invalid``: the gate set by the warnings."""
        return status(self.warnings)

    def significant(self, alpha: float = 0.05) -> pd.DataFrame:
        """Tests whose adjusted p-value is below ``alpha``."""
        return self.tests[self.tests["pvalue.adjusted"] < alpha]

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        """JSON contract: ``{"adjust", "tests", "posthoc", "correlations", "excluded",
        "status", "warnings"}`` (warnings as diagnostic records), and ``weighted`` when
        there are weighted tests."""
        out = {
            "adjust": self.adjust,
            "tests": records(self.tests),
            "posthoc": records(self.posthoc),
            "correlations": records(self.correlations),
            "excluded": records(self.excluded),
            "status": self.status,
            "warnings": diagnostic_records(self.warnings, lang),
            "invariance": None if self.invariance is None else records(self.invariance),
            "associations": records(self.associations),
        }
        if self.weighted is not None:
            out["weighted"] = records(self.weighted)
        return out


#: A categorical group variable with more distinct values than this is not
#: compared (a Welch ANOVA over 54 ages and 1,431 Games-Howell pairs says
#: nothing a correlation would not); declare it ``type: numeric`` (with or
#: without ``bands``).
MAX_GROUPS = 20

ASSOCIATION_COLUMNS = ["construct", "by", "method", "n", "estimate", "ci.lower", "ci.upper",
                       "statistic", "df", "pvalue", "n_eff", "weighted"]


def index_association(y: Any, x: Any, method: str = "pearson", level: float = 0.95
                      ) -> dict[str, Any]:
    """Correlation of an index with a numeric respondent attribute, with its interval.

    Pearson: r, t = r √(n−2)/√(1−r²) on n − 2 df, and the Fisher-z interval
    tanh(atanh r ± z_{1−α/2}/√(n−3)) (R's ``cor.test``). Spearman: ρ, the same t
    approximation for its p-value (R's ``cor.test(method = "spearman",
    exact = FALSE)``) and the Fisher-z interval with Bonett & Wright's (2000)
    standard error √((1 + ρ²/2)/(n − 3)).

    Parameters
    ----------
    y, x : array-like
        Paired values; pairs with a missing value are dropped.
    method : {"pearson", "spearman"}
    level : float
        Confidence level of the interval.

    Returns
    -------
    dict
        ``method n estimate ci.lower ci.upper statistic df pvalue``.
    """
    frame = pd.DataFrame({"y": np.asarray(y, dtype=float),
                          "x": np.asarray(x, dtype=float)}).dropna()
    n = len(frame)
    out: dict[str, Any] = {"method": method, "n": n, "estimate": None, "ci.lower": None,
                           "ci.upper": None, "statistic": None, "df": None, "pvalue": None}
    if n < 4 or frame["y"].std() == 0 or frame["x"].std() == 0:
        return out
    if method == "spearman":
        r = float(stats.spearmanr(frame["y"], frame["x"]).statistic)
        se = np.sqrt((1 + r * r / 2) / (n - 3))
    else:
        r = float(stats.pearsonr(frame["y"], frame["x"]).statistic)
        se = 1 / np.sqrt(n - 3)
    r = float(np.clip(r, -1.0, 1.0))
    z = stats.norm.ppf(0.5 + level / 2)
    t = r * np.sqrt((n - 2) / (1 - r * r)) if abs(r) < 1 else np.copysign(np.inf, r)
    out.update({"estimate": r,
                "ci.lower": float(np.tanh(np.arctanh(r) - z * se)) if abs(r) < 1 else r,
                "ci.upper": float(np.tanh(np.arctanh(r) + z * se)) if abs(r) < 1 else r,
                "statistic": float(t), "df": float(n - 2),
                "pvalue": float(2 * stats.t.sf(abs(t), n - 2))})
    return out


def weighted_ranks(values: Any, weights: Any) -> np.ndarray:
    """Mid-ranks of the weighted empirical distribution function.

    .. math:: R_i = \\sum_{j:\\,x_j < x_i} w_j + \\tfrac12 \\sum_{j:\\,x_j = x_i} w_j

    (the weighted analogue of the mid-rank; with equal weights an affine function of
    the ordinary mid-ranks, so a correlation of these ranks is Spearman's ρ).
    """
    x = np.asarray(values, dtype=float)
    w = np.asarray(weights, dtype=float)
    codes, inverse = np.unique(x, return_inverse=True)
    at = np.bincount(inverse, weights=w, minlength=len(codes))
    below = np.concatenate([[0.0], np.cumsum(at)[:-1]])
    return (below + at / 2)[inverse]


def weighted_association(y: Any, x: Any, weights: Any, method: str = "pearson",
                         level: float = 0.95) -> dict[str, Any]:
    """Design-based weighted correlation of an index with a numeric attribute.

    Pearson: the weighted correlation
    ``r = Σ w (y − ȳ_w)(x − x̄_w) / √(Σ w (y − ȳ_w)² Σ w (x − x̄_w)²)`` (R's
    ``cov.wt(cor = TRUE)``). Its test and interval come from the design-based
    regression of the weighted-standardized ``y* = (y − ȳ_w)/s_w(y)`` on
    ``x* = (x − x̄_w)/s_w(x)`` (``svyglm(y* ~ x*, svydesign(ids = ~1, weights = ~w))``),
    whose slope is ``r``: its linearised (sandwich) standard error

    .. math:: \\mathrm{SE}^2 = \\frac{n}{n-1}\\,
              \\frac{\\sum w_i^2 x_i^{*2} e_i^2}{(\\sum w_i x_i^{*2})^2},
              \\quad e_i = y^*_i - r\\,x^*_i,

    gives ``t = r / SE`` on ``n − 2`` degrees of freedom (``summary(svyglm)``) and
    the interval ``tanh(atanh r ± z SE/(1 − r²))`` (the delta method on Fisher's z,
    so that it stays within [−1, 1]). The SE treats the standardising means and
    SDs as fixed, as the regression does. Spearman: the same on the weighted
    mid-ranks of ``y`` and ``x`` (:func:`weighted_ranks`).

    Pairs with a missing value (or without a weight) leave the design: the
    complete pairs are the design (``n``), as ``svyglm`` drops them from a
    ``svydesign(ids = ~1, weights = ~w)``. Tested against
    ``tests/reference/association_weights.R`` (R's survey and ``cov.wt``) to 1e-8.
    With constant weights ``r`` (and ρ) equal the unweighted ones; the test and the
    interval do not (a design-based SE against ``cor.test``'s model-based
    ``√((1 − r²)/(n − 2))`` and Fisher's ``1/√(n − 3)``).

    Returns
    -------
    dict
        ``method n estimate ci.lower ci.upper statistic df pvalue`` (``n`` the
        complete pairs) and ``n_eff`` (Kish's effective n of their weights).
    """
    frame = pd.DataFrame({"y": np.asarray(y, dtype=float), "x": np.asarray(x, dtype=float),
                          "w": np.asarray(weights, dtype=float)}).dropna()
    frame = frame[frame["w"] > 0]
    n = len(frame)
    w = frame["w"].to_numpy()
    out: dict[str, Any] = {"method": method, "n": n, "estimate": None, "ci.lower": None,
                           "ci.upper": None, "statistic": None, "df": None, "pvalue": None,
                           "n_eff": float(w.sum() ** 2 / np.sum(w * w)) if n else 0.0}
    if n < 4 or frame["y"].nunique() < 2 or frame["x"].nunique() < 2:
        return out
    yv, xv = frame["y"].to_numpy(), frame["x"].to_numpy()
    if method == "spearman":
        yv, xv = weighted_ranks(yv, w), weighted_ranks(xv, w)

    def standardized(v: np.ndarray) -> np.ndarray:
        centred = v - np.sum(w * v) / w.sum()
        return centred / np.sqrt(np.sum(w * centred ** 2) / w.sum())

    ys, xs = standardized(yv), standardized(xv)
    r = float(np.clip(np.sum(w * ys * xs) / w.sum(), -1.0, 1.0))
    residual = ys - r * xs  # the intercept is 0: both are weighted-centred
    se = float(np.sqrt(n / (n - 1) * np.sum((w * xs * residual) ** 2))
               / np.sum(w * xs * xs))
    z = stats.norm.ppf(0.5 + level / 2)
    t = r / se if se > 0 else np.copysign(np.inf, r)
    half = z * se / (1 - r * r) if abs(r) < 1 else 0.0
    out.update({"estimate": r,
                "ci.lower": float(np.tanh(np.arctanh(r) - half)) if abs(r) < 1 else r,
                "ci.upper": float(np.tanh(np.arctanh(r) + half)) if abs(r) < 1 else r,
                "statistic": float(t), "df": float(n - 2),
                "pvalue": float(2 * stats.t.sf(abs(t), n - 2))})
    return out


def _describe(values: pd.Series, labels: pd.Series, order: list[str], group: Group) -> dict:
    out = {}
    for code in order:
        v = values[labels == code]
        out[code] = {
            "label": group.label(code),
            "n": len(v),
            "mean": _num(v.mean()),
            "sd": _num(v.std(ddof=1)) if len(v) > 1 else None,
        }
    return out


def _assumptions(frame: pd.DataFrame, alpha: float) -> dict[str, Any]:
    normal: dict[str, Any] = {}
    for code, part in frame.groupby("g", sort=False):
        v = part["y"].to_numpy(dtype=float)
        if len(v) < 3 or np.ptp(v) == 0:
            normal[str(code)] = {"W": None, "pvalue": None, "normal": None}
            continue
        w, p = stats.shapiro(v)
        normal[str(code)] = {"W": _num(w), "pvalue": _num(p), "normal": bool(p >= alpha)}
    try:
        lev = pg.homoscedasticity(frame, dv="y", group="g", method="levene", center="median")
        stat, p = float(_col(lev, "W")), float(_col(lev, "pval", "p-val", "p_val"))
    except (ValueError, ZeroDivisionError):
        stat, p = np.nan, np.nan
    return {
        "normality": {"test": "shapiro_wilk", "groups": normal},
        "equal_variance": {
            "test": "brown_forsythe",
            "statistic": _num(stat),
            "pvalue": _num(p),
            "equal": None if not np.isfinite(p) else bool(p >= alpha),
        },
    }


def _omega_squared(frame: pd.DataFrame) -> float:
    """One-way omega²: (SS_b - (k-1) MS_w) / (SS_t + MS_w) (Hays 1963).

    pingouin's one-way ANOVA reports eta² only, so the sums of squares are taken here.
    """
    y = frame["y"].to_numpy(dtype=float)
    grand = y.mean()
    parts = [g["y"].to_numpy(dtype=float) for _, g in frame.groupby("g", sort=False)]
    k, n = len(parts), len(y)
    ss_b = sum(len(p) * (p.mean() - grand) ** 2 for p in parts)
    ss_w = sum(((p - p.mean()) ** 2).sum() for p in parts)
    ms_w = ss_w / (n - k)
    return float((ss_b - (k - 1) * ms_w) / (ss_b + ss_w + ms_w))


def _two_groups(frame: pd.DataFrame, order: list[str]) -> list[dict[str, Any]]:
    x = frame.loc[frame["g"] == order[0], "y"].to_numpy(dtype=float)
    y = frame.loc[frame["g"] == order[1], "y"].to_numpy(dtype=float)
    tt = pg.ttest(x, y, correction=True)
    g = pg.compute_effsize(x, y, eftype="hedges")
    mw = pg.mwu(x, y, alternative="two-sided")
    return [
        {
            "test": "welch_t",
            "statistic": float(_col(tt, "T")),
            "df": float(_col(tt, "dof")),
            "df2": None,
            "pvalue": float(_col(tt, "p_val", "p-val")),
            "effect": "hedges_g",
            "effect.size": float(g),
        },
        {
            # U of the first group, as R's wilcox.test(x, y)$statistic (W);
            # rank-biserial r = 2U/(n1 n2) - 1, positive when the first group ranks higher
            # (pingouin's RBC; Kerby 2014).
            "test": "mann_whitney",
            "statistic": float(_col(mw, "U_val", "U-val")),
            "df": None,
            "df2": None,
            "pvalue": float(_col(mw, "p_val", "p-val")),
            "effect": "rank_biserial",
            "effect.size": float(_col(mw, "RBC")),
        },
    ]


def _many_groups(frame: pd.DataFrame) -> list[dict[str, Any]]:
    wa = pg.welch_anova(data=frame, dv="y", between="g")
    kw = pg.kruskal(data=frame, dv="y", between="g")
    h = float(_col(kw, "H"))
    k = frame["g"].nunique()
    n = len(frame)
    return [
        {
            "test": "welch_anova",
            "statistic": float(_col(wa, "F")),
            "df": float(_col(wa, "ddof1")),
            "df2": float(_col(wa, "ddof2")),
            "pvalue": float(_col(wa, "p_unc", "p-unc")),
            "effect": "omega_squared",
            "effect.size": _omega_squared(frame),
        },
        {
            # eta²_H = (H - k + 1) / (n - k) (Tomczak & Tomczak 2014)
            "test": "kruskal_wallis",
            "statistic": h,
            "df": float(_col(kw, "ddof1")),
            "df2": None,
            "pvalue": float(_col(kw, "p_unc", "p-unc")),
            "effect": "eta_squared_h",
            "effect.size": (h - k + 1) / (n - k),
        },
    ]


def _posthoc(frame: pd.DataFrame, construct: str, by: str) -> list[dict[str, Any]]:
    gh = pg.pairwise_gameshowell(data=frame, dv="y", between="g")
    rows = []
    for _, r in gh.iterrows():
        rows.append(
            {
                "construct": construct,
                "by": by,
                "test": "games_howell",
                "A": str(r["A"]),
                "B": str(r["B"]),
                "mean.A": float(r[next(c for c in ("mean_A", "mean(A)") if c in r.index)]),
                "mean.B": float(r[next(c for c in ("mean_B", "mean(B)") if c in r.index)]),
                "diff": float(r["diff"]),
                "se": float(r["se"]),
                "statistic": float(r["T"]),
                "df": float(r["df"]),
                "pvalue": float(r[next(c for c in ("pval", "p_val", "p-val") if c in r.index)]),
                "hedges_g": float(r["hedges"]),
            }
        )
    return rows


def chi_square(a: pd.Series, b: pd.Series) -> dict[str, Any]:
    """Pearson chi-square test of independence with Cramér's V.

    .. math:: \\chi^2 = \\sum (O - E)^2 / E, \\quad
              V = \\sqrt{\\chi^2_{unc} / (n (\\min(r, c) - 1))}

    Yates' correction is applied to 2×2 tables (as R's ``chisq.test``); V uses
    the uncorrected statistic.
    """
    table = pd.crosstab(a, b)
    chi2, p, dof, expected = stats.chi2_contingency(table.to_numpy(), correction=True)
    v = association(table.to_numpy(), method="cramer", correction=False)
    return {
        "statistic": float(chi2),
        "df": float(dof),
        "pvalue": float(p),
        "effect.size": float(v),
        "table": table,
        "min_expected": float(expected.min()),
        "share_expected_below_5": float((expected < 5).mean()),
    }


def correlations(
    scores: pd.DataFrame, method: str = "pearson", adjust: str = "holm"
) -> pd.DataFrame:
    """Pairwise correlations of the construct scores with p-values (as R's ``cor.test``)."""
    if method not in ("pearson", "spearman"):
        raise UsageError("correlation method must be 'pearson' or 'spearman'", value=method)
    rows = []
    for x, y in itertools.combinations(scores.columns, 2):
        pair = scores[[x, y]].dropna()
        n = len(pair)
        if n < 3 or pair[x].std() == 0 or pair[y].std() == 0:
            r, p = np.nan, np.nan
        elif method == "pearson":
            r, p = stats.pearsonr(pair[x], pair[y])
        else:
            r, p = stats.spearmanr(pair[x], pair[y])
        rows.append({"x": x, "y": y, "method": method, "r": float(r), "n": n, "pvalue": float(p)})
    frame = pd.DataFrame(rows, columns=["x", "y", "method", "r", "n", "pvalue"])
    frame["pvalue.adjusted"] = adjust_pvalues(frame["pvalue"].to_numpy(), adjust)
    return frame


def compare(
    questionnaire: Questionnaire,
    data: pd.DataFrame,
    by: str | list[str] | None = None,
    adjust: str = "holm",
    *,
    scores: pd.DataFrame | None = None,
    weights: Any = None,
    alpha: float = 0.05,
    method: str = "pearson",
    respondent_weights: pd.Series | None = None,
) -> CompareResult:
    """Compare every construct index across each group variable.

    Parameters
    ----------
    questionnaire : Questionnaire
    data : DataFrame
        Responses (item columns and group columns), indexed by respondent.
    by : str or list of str, optional
        Group variable(s) (questionnaire group id or column); default all the
        questionnaire's groups present in ``data``.
    adjust : {"holm", "fdr", "bonferroni", "none"}
        Multiple-comparison adjustment within each family of tests.
    scores : DataFrame, optional
        Construct scores (0-100) to compare; computed with
        :func:`~satisfaction.drivers.construct_scores` (using ``weights``) if absent.
    alpha : float
        Level for the assumption checks' verdicts.
    method : {"pearson", "spearman"}
        Correlation between indices.
    respondent_weights : Series, optional
        Respondent weights (by respondent id) of a weighted survey: the correlations
        with numeric group variables are then the design-based weighted ones
        (:func:`weighted_association`; ``associations.weighted`` is True) and only
        respondents with a weight take part. ``weights`` are the item weights of the
        indices, unrelated.

    Returns
    -------
    CompareResult

    Examples
    --------
    >>> from satisfaction.simulate import simulate_demo
    >>> from satisfaction.responses import load_responses
    >>> demo = simulate_demo(n_respondents=300, n_customers=50, seed=1)
    >>> q, data = demo.questionnaire, load_responses(demo.questionnaire, demo.responses).data
    >>> res = compare(q, data, by="gender")
    >>> print(res.tests[["construct", "test", "statistic", "pvalue"]].head(3).round(3).to_string())
      construct          test  statistic  pvalue
    0   PreSale       welch_t      1.670   0.096
    1   PreSale  mann_whitney  11942.500   0.118
    2    InSale       welch_t      0.552   0.582
    """
    if adjust not in ADJUST_METHODS:
        adjust_pvalues([], adjust)  # raises the UsageError
    if scores is None:
        scores = construct_scores(questionnaire, data, weights)
    groups = _resolve_groups(questionnaire, data, by)
    rows: list[dict[str, Any]] = []
    posthoc: list[dict[str, Any]] = []
    excluded: list[dict[str, Any]] = []
    notes: list[Diagnostic] = []
    labels: dict[str, pd.Series] = {}
    assoc: list[dict[str, Any]] = []
    numeric = [g for g in groups if g.type == "numeric" and not g.bands]
    for group in numeric:
        x = pd.to_numeric(data[group.source], errors="coerce")
        n_missing = int(x.isna().sum())
        if n_missing:
            excluded.append({"by": group.id, "reason": "missing group value", "n": n_missing})
        for construct in scores.columns:
            for how in ("pearson", "spearman"):
                if respondent_weights is None:
                    found = index_association(scores[construct], x, how)
                else:
                    found = weighted_association(
                        scores[construct].reindex(x.index), x,
                        respondent_weights.reindex(x.index), how)
                assoc.append({"construct": construct, "by": group.id, **found,
                              "weighted": respondent_weights is not None})
    for group in groups:
        if group in numeric:
            continue
        lab = _group_values(group, data)
        labels[group.id] = lab
        n_missing = int(lab.isna().sum())
        if group.type == "numeric" and group.bands:  # a value, but in no band
            outside = int(outside_bands(data[group.source], group.bands).sum())
            if outside:
                excluded.append({"by": group.id, "reason": outside_reason(group.bands),
                                 "n": outside})
                n_missing -= outside
        if n_missing:
            excluded.append({"by": group.id, "reason": "missing group value", "n": n_missing})
        counts = lab.value_counts()
        small = [c for c, n in counts.items() if n < 2]
        if small:
            excluded.append(
                {"by": group.id, "reason": "group with fewer than 2 respondents",
                 "n": int(counts[small].sum())}
            )
        keep = lab.notna() & ~lab.isin(small)
        order = _order(group, sorted(lab[keep].unique()))
        if len(order) > MAX_GROUPS:
            excluded.append({"by": group.id, "reason": f"more than {MAX_GROUPS} groups",
                             "n": int(keep.sum())})
            notes.append(Diagnostic("compare_too_many_groups", "caution",
                                    {"by": group.id, "groups": len(order),
                                     "max": MAX_GROUPS}))
            continue
        if len(order) < 2:
            excluded.append(
                {"by": group.id, "reason": "fewer than 2 groups to compare",
                 "n": int(keep.sum())}
            )
            continue
        for construct in scores.columns:
            y = scores.loc[keep, construct]
            frame = pd.DataFrame({"y": y, "g": lab[keep]}).dropna()
            n_nan = int(y.isna().sum())
            if n_nan:
                excluded.append(
                    {"by": f"{group.id}:{construct}", "reason": "no answer to the construct",
                     "n": n_nan}
                )
            frame["g"] = pd.Categorical(frame["g"], categories=order)
            frame = frame[frame["g"].notna()]
            present = [c for c in order if (frame["g"] == c).sum() >= 2]
            frame = frame[frame["g"].isin(present)]
            frame["g"] = frame["g"].cat.remove_unused_categories()
            if len(present) < 2:
                continue
            if frame["y"].std() == 0:
                notes.append(Diagnostic("compare_constant_index", "info",
                                        {"construct": construct, "by": group.id,
                                         "value": float(frame["y"].iloc[0])},
                                        constructs=("construct",)))
                continue
            base = {
                "construct": construct,
                "by": group.id,
                "n": len(frame),
                "groups": _describe(frame["y"], frame["g"].astype(str), present, group),
                "assumptions": _assumptions(frame.assign(g=frame["g"].astype(str)), alpha),
            }
            tests = _two_groups(frame, present) if len(present) == 2 else _many_groups(frame)
            for t in tests:
                rows.append({**base, **t})
            if len(present) > 2:
                posthoc += _posthoc(frame.assign(g=frame["g"].astype(str)), construct, group.id)
    # chi-square between the comparison variables and the other categorical groups
    # every comparison variable against the later ones and the other categorical groups
    compared = [g for g in groups if g not in numeric]
    pool = compared + [
        g for g in questionnaire.groups
        if g.source in data.columns and (g.type == "categorical" or g.bands)
        and g.id not in {x.id for x in groups}
    ]
    for i, group in enumerate(compared):
        for other in pool[i + 1:]:
            a = labels.get(group.id, _group_values(group, data))
            b = labels.get(other.id, _group_values(other, data))
            both = a.notna() & b.notna()
            if not (2 <= a[both].nunique() <= MAX_GROUPS and 2 <= b[both].nunique() <= MAX_GROUPS):
                continue
            res = chi_square(a[both], b[both])
            if not (res["min_expected"] >= 1 and res["share_expected_below_5"] <= 0.2):
                notes.append(Diagnostic("chi2_expected_low", "caution",
                                        {"a": other.id, "b": group.id,
                                         "share": float(res["share_expected_below_5"]),
                                         "min": float(res["min_expected"])}))
            rows.append(
                {
                    "construct": other.id,
                    "by": group.id,
                    "test": "chi2",
                    "statistic": res["statistic"],
                    "df": res["df"],
                    "df2": None,
                    "pvalue": res["pvalue"],
                    "effect": "cramers_v",
                    "effect.size": res["effect.size"],
                    "n": int(both.sum()),
                    "groups": {
                        str(k): {"label": group.label(k), "n": int(v)}
                        for k, v in a[both].value_counts().sort_index().items()
                    },
                    "assumptions": {
                        "expected_counts": {
                            "min": res["min_expected"],
                            "share_below_5": res["share_expected_below_5"],
                            "ok": bool(res["min_expected"] >= 1
                                       and res["share_expected_below_5"] <= 0.2),
                        }
                    },
                }
            )
    tests = pd.DataFrame(rows)
    for col in TEST_COLUMNS:
        if col not in tests.columns:
            tests[col] = pd.Series(dtype=object)
    if not tests.empty:
        tests["family"] = tests["test"].map(FAMILY)
        tests["pvalue.adjusted"] = np.nan
        for _, idx in tests.groupby("family", sort=True).groups.items():
            tests.loc[idx, "pvalue.adjusted"] = adjust_pvalues(
                tests.loc[idx, "pvalue"].to_numpy(dtype=float), adjust
            )
    tests = tests[TEST_COLUMNS].reset_index(drop=True)
    return CompareResult(
        tests=tests,
        posthoc=pd.DataFrame(posthoc, columns=POSTHOC_COLUMNS),
        correlations=correlations(scores, method=method, adjust=adjust),
        excluded=pd.DataFrame(excluded, columns=["by", "reason", "n"]),
        adjust=adjust,
        warnings=notes,
        associations=_adjusted_associations(assoc, adjust),
    )


def _adjusted_associations(rows: list[dict[str, Any]], adjust: str) -> pd.DataFrame:
    """The association rows with p-values adjusted within each method's family."""
    frame = pd.DataFrame(rows, columns=ASSOCIATION_COLUMNS)
    frame["pvalue.adjusted"] = np.nan
    for _, idx in frame.groupby("method", sort=True).groups.items():
        frame.loc[idx, "pvalue.adjusted"] = adjust_pvalues(
            frame.loc[idx, "pvalue"].to_numpy(dtype=float), adjust)
    return frame
