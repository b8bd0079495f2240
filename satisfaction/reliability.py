"""Reliability and validity of the measurement: item statistics, alpha, omega, CR, AVE, HTMT.

The functions here take plain data (a DataFrame of item answers, a lavaan-style
parameter table) and return DataFrames; :func:`reliability` puts them together
for a questionnaire, fitting the confirmatory measurement model with
:func:`satisfaction.model.fit`.

Every statistic is tested against R (``tests/reference/psych_semtools_reference.R``):

========================== ==========================================================
statistic                  reference
========================== ==========================================================
skewness, kurtosis         ``psych::describe(type = 2)`` (G1, G2 as in SPSS and SAS)
corrected item-total r     ``psych::alpha()$item.stats$r.drop``
alpha if item deleted      ``psych::alpha()$alpha.drop$raw_alpha``
Cronbach's alpha           ``psych::alpha()$total$raw_alpha`` (pingouin computes it)
Feldt interval             ``psych::alpha.ci`` and the Feldt formula with ``qf``
omega                      ``semTools::compRelSEM`` (defaults: obs.var = TRUE)
composite reliability      Fornell & Larcker (1981) / Raykov (1997) on lavaan std.all
AVE                        Fornell & Larcker (1981): mean squared std.all loading
HTMT, HTMT2                ``semTools::htmt(htmt2 = FALSE | TRUE)``
========================== ==========================================================

With respondent weights (``reliability(weights=)``; tested against
``tests/reference/lavaan_cfa_weights.R``) every statistic above that has a weighted
form uses them: the CFA is lavaan's ``cfa(..., sampling.weights = "w")``
(:func:`satisfaction.sem_weights.fit_weighted`, weighted ML or weighted FIML), so the
standardized loadings, CR, AVE and latent correlations are the weighted fit's; ω is
``semTools::compRelSEM`` on that fit (its denominator the weighted, or weighted EM,
covariance); α, the corrected item-total correlations and α if item deleted come from
the weighted covariance matrix (``psych::alpha`` on ``cov.wt(x, wt)$cov``, pair by
pair when answers are missing), the Feldt interval from the Kish effective n; HTMT
from the weighted correlations (:func:`satisfaction.pls.htmt`'s computation, shared
with weighted PLS); item means and standard deviations are ``survey::svymean`` and
``svyvar``, floor and ceiling weighted shares. Skewness and kurtosis stay those of
the unweighted answers (a shape screen with no weighted reference form).

References
----------
Cronbach, L. J. (1951). Coefficient alpha and the internal structure of tests.
    Psychometrika, 16, 297-334.
Feldt, L. S. (1965). The approximate sampling distribution of Kuder-Richardson
    reliability coefficient twenty. Psychometrika, 30, 357-370.
Fornell, C., & Larcker, D. F. (1981). Evaluating structural equation models with
    unobservable variables and measurement error. Journal of Marketing Research, 18, 39-50.
Raykov, T. (1997). Estimation of composite reliability for congeneric measures.
    Applied Psychological Measurement, 21, 173-184.
Henseler, J., Ringle, C. M., & Sarstedt, M. (2015). A new criterion for assessing
    discriminant validity in variance-based structural equation modeling. Journal of
    the Academy of Marketing Science, 43, 115-135.
Roemer, E., Schuberth, F., & Henseler, J. (2021). HTMT2 - an improved criterion for
    assessing discriminant validity in structural equation modeling. Industrial
    Management & Data Systems, 121, 2637-2650.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pingouin
from scipy import stats

from satisfaction.diagnostics import Diagnostic, records, status
from satisfaction.efa import require_analysable
from satisfaction.errors import InputError, UsageError
from satisfaction.io import to_jsonable

if TYPE_CHECKING:
    from satisfaction.questionnaire import Questionnaire

#: Conventional cut-offs (Hair et al., Multivariate Data Analysis; Fornell & Larcker 1981;
#: Henseler et al. 2015).
ALPHA_MIN = 0.70
CR_MIN = 0.70
AVE_MIN = 0.50
LOADING_MIN = 0.50
HTMT_THRESHOLDS = (0.85, 0.90)

ITEM_COLUMNS = ["construct", "n", "mean", "sd", "skew", "kurtosis", "missing", "floor",
                "ceiling", "item_total", "alpha_if_deleted"]
CONSTRUCT_COLUMNS = ["items", "n", "alpha", "alpha.ci.lower", "alpha.ci.upper", "omega", "cr",
                     "ave"]


# -- item level ----------------------------------------------------------------


def _alpha_from_cov(cov: np.ndarray) -> float:
    """Cronbach's alpha from an item covariance matrix: k/(k-1) (1 - tr C / 1'C1)."""
    k = cov.shape[0]
    if k < 2:
        return float("nan")
    return float(k / (k - 1) * (1.0 - np.trace(cov) / cov.sum()))


def _cov_wt(a: np.ndarray, b: np.ndarray, w: np.ndarray) -> float:
    """R's ``cov.wt(cbind(a, b), wt = w)$cov[1, 2]`` (``method = "unbiased"``):
    ``Σ u (a − ā_u)(b − b̄_u) / (1 − Σ u²)`` with ``u = w / Σ w``."""
    total = float(w.sum())
    if not total > 0:
        return float("nan")
    u = w / total
    denom = 1.0 - float(u @ u)
    if not denom > 0:
        return float("nan")
    return float((u * (a - u @ a)) @ (b - u @ b) / denom)


def weighted_covariance(items: pd.DataFrame, weights: Any) -> pd.DataFrame:
    """Weighted item covariance matrix, pair by pair over the respondents who answered both.

    Each entry is R's ``cov.wt(x, wt = w)$cov`` (``method = "unbiased"``) on the
    respondents who answered both items:

    .. math:: C_{jl} = \\frac{\\sum_i u_i (x_{ij} - \\bar x_j)(x_{il} - \\bar x_l)}
              {1 - \\sum_i u_i^2}, \\qquad u_i = \\frac{w_i}{\\sum w}

    (sums and means over those respondents). With every weight 1 this is R's
    ``cov(use = "pairwise")``, what ``psych::alpha`` uses; with complete answers it is
    ``cov.wt(x, wt)$cov``. The ratios built on it (α, item-total r) do not depend on
    how the weights are scaled. Tested against R (tests/reference/lavaan_cfa_weights.R).

    Parameters
    ----------
    items : DataFrame
        One numeric column per item (NaN = no answer).
    weights : array-like
        One weight per row, 0 or more.
    """
    x = items.to_numpy(dtype=float)
    w = np.asarray(weights, dtype=float)
    p = x.shape[1]
    out = np.full((p, p), np.nan)
    answered = ~np.isnan(x)
    for j in range(p):
        for k in range(j, p):
            ok = answered[:, j] & answered[:, k]
            out[j, k] = out[k, j] = _cov_wt(x[ok, j], x[ok, k], w[ok])
    return pd.DataFrame(out, index=items.columns, columns=items.columns)


def _covariance(items: pd.DataFrame, weights: Any = None) -> np.ndarray:
    """The pairwise-complete covariance matrix, weighted when ``weights`` are given."""
    if weights is None:
        return items.cov().to_numpy()
    return weighted_covariance(items, weights).to_numpy()


def corrected_item_total(items: pd.DataFrame, weights: Any = None) -> pd.Series:
    """Corrected item-total correlation: each item against the sum of the others.

    .. math:: r_{i,\\text{rest}} = \\frac{\\sum_{j \\ne i} C_{ij}}
              {\\sqrt{C_{ii} \\sum_{j,l \\ne i} C_{jl}}}

    computed from the pairwise-complete covariance matrix ``C``, as
    ``psych::alpha()`` does (its ``r.drop``), so missing answers cost only the
    pairs they touch.

    Parameters
    ----------
    items : pandas.DataFrame
        One column per item of a single construct.
    weights : array-like, optional
        Respondent weights, one per row: ``C`` is then the weighted covariance
        matrix (:func:`weighted_covariance`), as ``psych::alpha`` on ``cov.wt``.

    Returns
    -------
    pandas.Series
        Indexed by item. Tested against ``psych::alpha()$item.stats$r.drop``.
    """
    cov = _covariance(items, weights)
    out = {}
    for i, name in enumerate(items.columns):
        rest = [j for j in range(len(items.columns)) if j != i]
        num = cov[i, rest].sum()
        den = np.sqrt(cov[i, i] * cov[np.ix_(rest, rest)].sum())
        out[name] = float(num / den) if len(rest) and den > 0 else float("nan")
    return pd.Series(out, name="item_total", dtype=float)


def alpha_if_deleted(items: pd.DataFrame, weights: Any = None) -> pd.Series:
    """Cronbach's alpha of the construct without each item in turn.

    Computed from the pairwise-complete covariance matrix (weighted with
    ``weights``: :func:`weighted_covariance`), like
    ``psych::alpha()$alpha.drop$raw_alpha`` (the reference it is tested against).
    """
    cov = _covariance(items, weights)
    out = {}
    for i, name in enumerate(items.columns):
        rest = [j for j in range(len(items.columns)) if j != i]
        out[name] = _alpha_from_cov(cov[np.ix_(rest, rest)])
    return pd.Series(out, name="alpha_if_deleted", dtype=float)


def describe_items(items: pd.DataFrame, low: float | None = None,
                   high: float | None = None, weights: Any = None) -> pd.DataFrame:
    """Distribution of each item: n, mean, sd, skewness, kurtosis, missing, floor, ceiling.

    Skewness and kurtosis are the sample-size adjusted G1 and G2 (type 2 in
    Joanes & Gill 1998; what SPSS, SAS, Excel and pandas report), with excess
    kurtosis (0 for a normal distribution):

    .. math:: G_1 = \\frac{\\sqrt{n(n-1)}}{n-2} \\frac{m_3}{m_2^{3/2}}, \\qquad
              G_2 = \\frac{n-1}{(n-2)(n-3)} \\left[(n+1)\\left(\\frac{m_4}{m_2^2} - 3\\right)
              + 6\\right]

    ``missing`` is the share of empty answers among all respondents; ``floor``
    and ``ceiling`` are the shares of the answers given that sit at the scale's
    lowest and highest point. Tested against ``psych::describe(type = 2)``.

    With respondent ``weights`` (one per row) the mean, standard deviation, floor
    and ceiling are weighted over the respondents who answered: ``x̄_w = Σwx/Σw``,
    ``sd² = n/(n−1) · Σw(x − x̄_w)²/Σw`` (``survey::svymean`` and ``svyvar`` of
    ``svydesign(ids = ~1, weights = ~w)``, against which they are tested) and the
    weighted shares at the end points. ``n`` and ``missing`` count respondents;
    skewness and kurtosis stay those of the unweighted answers.
    """
    rows = []
    total = len(items)
    for name in items.columns:
        answered = items[name].notna().to_numpy()
        x = items[name].dropna()
        n = len(x)
        if weights is None:
            u = np.full(n, 1.0 / n) if n else np.zeros(0)
        else:
            wk = np.asarray(weights, dtype=float)[answered]
            u = wk / wk.sum() if n and wk.sum() > 0 else np.full(n, np.nan)
        values = x.to_numpy(dtype=float)
        mean = float(u @ values) if n else np.nan
        rows.append({
            "item": name,
            "n": n,
            "mean": mean,
            "sd": float(np.sqrt(n / (n - 1) * (u @ (values - mean) ** 2))) if n > 1 else np.nan,
            "skew": float(x.skew()) if n > 2 else np.nan,
            "kurtosis": float(x.kurt()) if n > 3 else np.nan,
            "missing": (total - n) / total if total else np.nan,
            "floor": float(u @ (values == low)) if n and low is not None else np.nan,
            "ceiling": float(u @ (values == high)) if n and high is not None else np.nan,
        })
    return pd.DataFrame(rows).set_index("item")


def _blocks(questionnaire: Questionnaire) -> dict[str, list[str]]:
    return {c.id: [i.id for i in c.items] for c in questionnaire.first_order}


def _require_columns(data: pd.DataFrame, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise InputError(f"the responses have no column for item(s) {', '.join(missing)}",
                         column=missing[0],
                         hint="load the responses with satisfaction.responses.load_responses")


def item_statistics(questionnaire: Questionnaire, data: pd.DataFrame,
                    weights: Any = None) -> pd.DataFrame:
    """Item statistics for every construct item of a questionnaire.

    Parameters
    ----------
    questionnaire : Questionnaire
    data : pandas.DataFrame
        Responses with one (numeric, reverse-coded) column per item id, as in
        ``Responses.data``.
    weights : str, Series or array, optional
        Respondent weights (as :func:`reliability` takes them): respondents without a
        weight are left out; the weighted forms of :func:`describe_items`,
        :func:`corrected_item_total` and :func:`alpha_if_deleted`.

    Returns
    -------
    pandas.DataFrame
        Indexed by item id, columns ``construct n mean sd skew kurtosis missing
        floor ceiling item_total alpha_if_deleted`` (see :func:`describe_items`,
        :func:`corrected_item_total`, :func:`alpha_if_deleted`; the last two are
        computed within the item's construct).

    Examples
    --------
    >>> from satisfaction.questionnaire import load_questionnaire
    >>> from satisfaction.responses import load_responses
    >>> q = load_questionnaire("ecsi_bank")
    >>> r = load_responses(q, "../shared/data/bank_satisfaction.csv")
    >>> round(float(item_statistics(q, r.data).loc["imag1", "item_total"]), 3)
    0.637
    """
    if weights is not None:  # the respondents with a weight (reliability() does the same)
        data, weights, _ = _weighted_rows(data, weights)
    frames = []
    for construct, names in _blocks(questionnaire).items():
        _require_columns(data, names)
        block = data[names].astype(float)
        for name in names:
            scale = questionnaire.item_scale(questionnaire.construct(construct).items[
                names.index(name)])
            d = describe_items(block[[name]], scale.min, scale.max, weights)
            d.insert(0, "construct", construct)
            frames.append(d)
    table = pd.concat(frames)
    rest = pd.concat([
        pd.DataFrame({"item_total": corrected_item_total(data[names].astype(float), weights),
                      "alpha_if_deleted": alpha_if_deleted(data[names].astype(float),
                                                           weights)})
        for names in _blocks(questionnaire).values()])
    table = table.join(rest)
    table.index.name = "item"
    return table[ITEM_COLUMNS]


# -- construct level -----------------------------------------------------------


def feldt_interval(alpha: float, n: float, k: int, level: float = 0.95
                   ) -> tuple[float, float]:
    """Feldt (1965) confidence interval for Cronbach's alpha.

    .. math:: \\left[1 - (1-\\hat\\alpha) F_{1-a/2},\\; 1 - (1-\\hat\\alpha) F_{a/2}\\right],
              \\quad F \\sim F(n-1, (n-1)(k-1)), \\; a = 1 - \\text{level}

    We evaluate it ourselves because ``pingouin.cronbach_alpha`` rounds its
    interval to three decimals. Tested against ``psych::alpha.ci`` and against
    pingouin (to its rounding).
    """
    if n < 2 or k < 2 or not np.isfinite(alpha):
        return float("nan"), float("nan")
    a = 1.0 - level
    df1, df2 = n - 1, (n - 1) * (k - 1)
    lower = 1.0 - (1.0 - alpha) * stats.f.isf(a / 2, df1, df2)
    upper = 1.0 - (1.0 - alpha) * stats.f.isf(1 - a / 2, df1, df2)
    return float(lower), float(upper)


def cronbach_alpha(items: pd.DataFrame, level: float = 0.95, weights: Any = None
                   ) -> dict[str, float]:
    """Cronbach's alpha with its Feldt interval.

    .. math:: \\alpha = \\frac{k}{k-1}\\left(1 - \\frac{\\sum_i C_{ii}}{\\sum_{ij} C_{ij}}\\right)

    Alpha comes from :func:`pingouin.cronbach_alpha` on the pairwise-complete
    covariance matrix (as ``psych::alpha`` computes it); the interval from
    :func:`feldt_interval` with ``n`` = respondents who answered every item.

    With respondent ``weights`` (one per row) ``C`` is the weighted covariance matrix
    (:func:`weighted_covariance`; ``psych::alpha`` on ``cov.wt(x, wt)$cov``) and the
    Feldt interval takes the Kish effective sample size ``(Σw)²/Σw²`` of the
    respondents who answered every item in place of ``n`` (unequal weights carry less
    information than as many equal ones; Kish 1965). Tested against R
    (tests/reference/lavaan_cfa_weights.R).

    Returns
    -------
    dict
        ``n``, ``alpha``, ``alpha.ci.lower``, ``alpha.ci.upper`` (and ``effective_n``
        with weights).
    """
    complete = items.notna().all(axis=1).to_numpy()
    n = int(complete.sum())
    if items.shape[1] < 2 or n < 2:
        return {"n": n, "alpha": np.nan, "alpha.ci.lower": np.nan, "alpha.ci.upper": np.nan}
    if weights is not None:
        from satisfaction.weights import effective_n

        w = np.asarray(weights, dtype=float)
        alpha = _alpha_from_cov(weighted_covariance(items.astype(float), w).to_numpy())
        n_eff = effective_n(w[complete])
        lower, upper = feldt_interval(alpha, n_eff, items.shape[1], level)
        return {"n": n, "alpha": alpha, "alpha.ci.lower": lower, "alpha.ci.upper": upper,
                "effective_n": n_eff}
    alpha, _ = pingouin.cronbach_alpha(items.astype(float), nan_policy="pairwise", ci=level)
    lower, upper = feldt_interval(float(alpha), n, items.shape[1], level)
    return {"n": n, "alpha": float(alpha), "alpha.ci.lower": lower, "alpha.ci.upper": upper}


def composite_reliability(loadings: Sequence[float] | np.ndarray) -> float:
    """Composite (construct) reliability from standardized loadings.

    .. math:: CR = \\frac{(\\sum_i \\lambda_i)^2}{(\\sum_i \\lambda_i)^2 + \\sum_i (1-\\lambda_i^2)}

    (Fornell & Larcker 1981, eq. 10; Raykov 1997), with :math:`\\lambda_i` the
    completely standardized loadings (lavaan's ``std.all``). Tested against the
    same formula evaluated in R on ``lavaan::standardizedSolution``.
    """
    lam = np.asarray(loadings, dtype=float)
    s = lam.sum() ** 2
    return float(s / (s + (1.0 - lam**2).sum()))


def average_variance_extracted(loadings: Sequence[float] | np.ndarray) -> float:
    """Average variance extracted: the mean squared standardized loading.

    .. math:: AVE = \\frac{1}{k}\\sum_i \\lambda_i^2

    (Fornell & Larcker 1981). ``semTools::AVE`` instead weights each item by its
    variance (:math:`\\sum\\lambda_i^2\\psi / \\sum\\sigma_{ii}`); on standardized
    items the two agree.
    """
    lam = np.asarray(loadings, dtype=float)
    return float((lam**2).mean())


def omega(parameters: pd.DataFrame, construct: str, items: pd.DataFrame,
          cov: pd.DataFrame | None = None) -> float:
    """McDonald's omega of a construct from the unstandardized CFA estimates.

    .. math:: \\omega = \\frac{(\\sum_i \\lambda_i)^2 \\psi}{\\mathbf 1' S \\mathbf 1}

    with :math:`\\lambda_i` the loadings, :math:`\\psi` the factor variance and
    the denominator the observed variance of the sum score (``S`` the sample
    covariance of the items, divided by ``n`` as lavaan's ML does, over the
    respondents who answered every item; :func:`reliability` passes the
    respondents the CFA was fitted on), or ``cov`` when given: after a FIML fit,
    the EM estimate of the items' covariance matrix over every respondent
    (lavaan's ``sampstat`` with ``missing = "ml"``). This is the default of
    ``semTools::compRelSEM`` (``tau.eq = FALSE, obs.var = TRUE``; Bentler 2009),
    against which it is tested.
    """
    p = parameters
    load = p[(p["op"] == "=~") & (p["lhs"] == construct)].set_index("rhs")["est"]
    var = p[(p["op"] == "~~") & (p["lhs"] == construct) & (p["rhs"] == construct)]["est"]
    if load.empty or var.empty:
        return float("nan")
    names = [c for c in items.columns if c in load.index]
    if cov is not None:
        s = cov.loc[names, names].to_numpy()
    else:
        n = items[names].dropna().shape[0]
        s = items[names].cov().to_numpy() * (n - 1) / n if n > 1 else np.full((1, 1), np.nan)
    return float(load[names].sum() ** 2 * float(var.iloc[0]) / s.sum())


def em_covariance(items: pd.DataFrame, weights: Any = None) -> pd.DataFrame:
    """The ML (EM) covariance matrix of incomplete items, every respondent counted
    (Little & Rubin; lavaan's unrestricted ``h1`` moments with ``missing = "ml"``);
    with respondent ``weights`` (one per row) the weighted EM of lavaan's
    ``sampling.weights`` (:func:`satisfaction.sem_ml.patterns` with ``w``)."""
    from satisfaction.sem_ml import patterns, saturated_em

    x = items.to_numpy(dtype=float)
    answered = ~np.isnan(x).all(axis=1)
    x = x[answered]
    w = None if weights is None else np.asarray(weights, dtype=float)[answered]
    if w is not None:
        from satisfaction.sem_weights import normalise

        w = normalise(w, len(x))
    _, sigma = saturated_em(patterns(x, w), x.shape[1])
    return pd.DataFrame(sigma, index=items.columns, columns=items.columns)


def standardized_loadings(parameters: pd.DataFrame) -> pd.DataFrame:
    """The ``=~`` rows of a lavaan-style parameter table: construct, item, std.all."""
    p = parameters[parameters["op"] == "=~"]
    return pd.DataFrame({"construct": p["lhs"].to_numpy(), "item": p["rhs"].to_numpy(),
                         "std.all": p["std.all"].astype(float).to_numpy()})


def latent_correlations(parameters: pd.DataFrame, constructs: Sequence[str]) -> pd.DataFrame:
    """Square matrix of latent correlations from the ``~~`` rows' ``std.all``."""
    names = list(constructs)
    m = pd.DataFrame(np.eye(len(names)), index=names, columns=names)
    p = parameters[(parameters["op"] == "~~") & (parameters["lhs"] != parameters["rhs"])]
    for lhs, rhs, value in zip(p["lhs"], p["rhs"], p["std.all"].astype(float), strict=True):
        if lhs in m.index and rhs in m.index:
            m.loc[lhs, rhs] = m.loc[rhs, lhs] = float(value)
    return m


def htmt(data: pd.DataFrame, blocks: Mapping[str, Sequence[str]],
         absolute: bool = True, geometric: bool = False, weights: Any = None
         ) -> pd.DataFrame:
    """Heterotrait-monotrait ratio of correlations for every pair of constructs.

    .. math:: HTMT_{ij} = \\frac{\\bar r_{ij}}{\\sqrt{\\bar r_{ii} \\, \\bar r_{jj}}}

    with :math:`\\bar r_{ij}` the mean correlation between the items of ``i`` and
    those of ``j`` (heterotrait-heteromethod) and :math:`\\bar r_{ii}` the mean
    correlation among the items of ``i`` (monotrait-heteromethod, off-diagonal),
    Henseler, Ringle & Sarstedt (2015), eq. 6. Pearson correlations of the
    complete cases; with ``absolute`` the correlations are taken in absolute
    value, as ``semTools::htmt`` does by default. With ``geometric`` every mean
    is a geometric mean: HTMT2 of Roemer, Schuberth & Henseler (2021), which
    does not assume tau-equivalent items.

    Tested against ``semTools::htmt(htmt2 = FALSE)`` and ``htmt(htmt2 = TRUE)``.

    With respondent ``weights`` (one per row) the correlations are the weighted ones
    of the complete cases and the ratio is computed by weighted PLS's own HTMT
    (:func:`satisfaction.pls.htmt`: the indicators standardized with weighted means
    and standard deviations, ``R = X' diag(w) X / (n − 1)``), one computation for
    both estimators; always in absolute value. Tested against
    ``semTools::htmt(sample.cov = cov.wt(x, wt)$cov)``.

    Returns
    -------
    pandas.DataFrame
        Square, symmetric, with 1 on the diagonal.
    """
    names = list(blocks)
    if weights is not None:
        return _weighted_htmt(data, blocks, geometric, weights, absolute)
    cols = [i for b in names for i in blocks[b]]
    r = data[cols].astype(float).dropna().corr()
    if absolute:
        r = r.abs()

    def mean(values: np.ndarray) -> float:
        if geometric:
            return float(np.exp(np.log(values).mean()))
        return float(values.mean())

    def mono(b: str) -> float:
        sub = r.loc[list(blocks[b]), list(blocks[b])].to_numpy()
        k = sub.shape[0]
        return mean(sub[~np.eye(k, dtype=bool)]) if k > 1 else 1.0

    within = {b: mono(b) for b in names}
    out = pd.DataFrame(np.eye(len(names)), index=names, columns=names)
    for a, b in combinations(names, 2):
        hetero = mean(r.loc[list(blocks[a]), list(blocks[b])].to_numpy().ravel())
        out.loc[a, b] = out.loc[b, a] = hetero / np.sqrt(within[a] * within[b])
    return out


def _weighted_htmt(data: pd.DataFrame, blocks: Mapping[str, Sequence[str]], geometric: bool,
                   weights: Any, absolute: bool) -> pd.DataFrame:
    """HTMT of the weighted correlations, by :mod:`satisfaction.pls`'s weighted HTMT."""
    from satisfaction import pls

    if not absolute:
        raise UsageError("the weighted HTMT takes the correlations in absolute value",
                         column="absolute", value=absolute)
    names = list(blocks)
    model = pls.PLSModel(constructs=tuple(names),
                         blocks={b: tuple(blocks[b]) for b in names},
                         modes=dict.fromkeys(names, "A"), paths=())
    w = pd.Series(np.asarray(weights, dtype=float), index=data.index)
    x, _, _, u = pls._standardize(data, model, "listwise", w)
    corr = (x.T * u) @ x / (x.shape[0] - 1)
    matrix = pls._htmt_stack(corr[None], model, geometric)[0]
    return pd.DataFrame(matrix, index=names, columns=names)


def htmt_pairs(matrix: pd.DataFrame,
               thresholds: tuple[float, float] = HTMT_THRESHOLDS,
               htmt2: pd.DataFrame | None = None) -> pd.DataFrame:
    """Long form of an HTMT matrix: construct1, construct2, htmt, (htmt2), and the flags.

    ``above_0.85`` and ``above_0.90`` (names follow ``thresholds``) mark the
    conservative and the liberal cut-off of Henseler et al. (2015), applied to
    the 2015 HTMT; ``htmt2`` (when given) is shown beside it.
    """
    rows = []
    for a, b in combinations(matrix.index, 2):
        value = float(matrix.loc[a, b])
        row: dict[str, Any] = {"construct1": a, "construct2": b, "htmt": value}
        if htmt2 is not None:
            row["htmt2"] = float(htmt2.loc[a, b])
        for t in thresholds:
            row[f"above_{t:.2f}"] = bool(value > t)
        rows.append(row)
    return pd.DataFrame(rows)


def fornell_larcker(ave: pd.Series, correlations: pd.DataFrame) -> pd.DataFrame:
    """Fornell-Larcker criterion for every pair of constructs.

    Discriminant validity holds for a pair when each construct's square root of
    AVE exceeds the absolute correlation between the two (Fornell & Larcker 1981):

    .. math:: \\sqrt{AVE_i} > |\\phi_{ij}| \\;\\text{and}\\; \\sqrt{AVE_j} > |\\phi_{ij}|

    Returns
    -------
    pandas.DataFrame
        Columns ``construct1 construct2 correlation sqrt_ave1 sqrt_ave2 satisfied``.
    """
    rows = []
    for a, b in combinations(list(ave.index), 2):
        r = float(correlations.loc[a, b])
        s1, s2 = float(np.sqrt(ave[a])), float(np.sqrt(ave[b]))
        rows.append({"construct1": a, "construct2": b, "correlation": r, "sqrt_ave1": s1,
                     "sqrt_ave2": s2, "satisfied": bool(abs(r) < min(s1, s2))})
    return pd.DataFrame(rows, columns=["construct1", "construct2", "correlation", "sqrt_ave1",
                                       "sqrt_ave2", "satisfied"])


# -- the whole measurement model ----------------------------------------------


@dataclass
class ReliabilityResult:
    """Reliability and validity of every first-order construct.

    Attributes
    ----------
    constructs : pandas.DataFrame
        Indexed by construct id: ``items`` (count), ``n``, ``alpha``,
        ``alpha.ci.lower``, ``alpha.ci.upper``, ``omega``, ``cr``, ``ave``.
    item_statistics : pandas.DataFrame
        See :func:`item_statistics`.
    loadings : pandas.DataFrame
        ``construct item std.all`` from the CFA.
    latent_correlations : pandas.DataFrame
        Square matrix of CFA latent correlations.
    htmt : pandas.DataFrame
        Square HTMT matrix (Henseler et al. 2015); ``htmt_pairs`` is its long
        form with flags and the HTMT2 of Roemer et al. (2021) beside it.
    fornell_larcker : pandas.DataFrame
        One row per pair, see :func:`fornell_larcker`.
    warnings : list of Diagnostic
        Every cut-off that is not met (severity ``caution``) and the CFA's own
        diagnostics, scoped ``cfa`` (a CFA that is not converged or inadmissible
        invalidates the CR, AVE, omega and latent correlations built on it).
    weighted : bool
        Whether the statistics use respondent weights (``reliability(weights=)``).
    """

    constructs: pd.DataFrame
    item_statistics: pd.DataFrame
    loadings: pd.DataFrame
    latent_correlations: pd.DataFrame
    htmt: pd.DataFrame
    htmt_pairs: pd.DataFrame
    fornell_larcker: pd.DataFrame
    warnings: list[Diagnostic] = field(default_factory=list)
    items: dict[str, list[str]] = field(default_factory=dict)
    weighted: bool = False

    @property
    def status(self) -> str:
        """``ok``, ``caution`` or ``invalid``: the gate set by the warnings."""
        return status(self.warnings)

    @property
    def fornell_larcker_matrix(self) -> pd.DataFrame:
        """The classic table: sqrt(AVE) on the diagonal, latent correlations below."""
        m = self.latent_correlations.copy()
        for c in m.index:
            m.loc[c, c] = float(np.sqrt(self.constructs.loc[c, "ave"]))
        return m

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        """The JSON contract of ``satisfaction reliability`` (``warnings`` as records)."""
        constructs = {}
        for cid in self.constructs.index:
            entry: dict[str, Any] = {"items": self.items.get(str(cid), [])}
            for col in CONSTRUCT_COLUMNS[1:]:
                entry[col] = self.constructs.at[cid, col]
            constructs[str(cid)] = entry
        return to_jsonable({
            "status": self.status,
            "weighted": self.weighted,
            "constructs": constructs,
            "items": [{"item": i, **r} for i, r in
                      self.item_statistics.to_dict(orient="index").items()],
            "loadings": self.loadings.to_dict(orient="records"),
            "htmt": self.htmt_pairs.to_dict(orient="records"),
            "fornell_larcker": self.fornell_larcker.to_dict(orient="records"),
            "warnings": records(self.warnings, lang),
        })


def measurement_model(questionnaire: Questionnaire) -> str:
    """lavaan syntax of the first-order CFA: every construct with its items, all correlated.

    Higher-order constructs are left out on purpose: the Fornell-Larcker
    criterion and the reliabilities are judged on the correlated first-order
    factors (Fornell & Larcker 1981).
    """
    return "\n".join(questionnaire.measurement_syntax())


def _fit_parameters(questionnaire: Questionnaire, data: pd.DataFrame, weights: Any = None
                    ) -> tuple[pd.DataFrame, list[Diagnostic]]:
    from satisfaction import model

    # every answer counts: full-information ML when any item is missing (lavaan's
    # missing = "ml"), as the structural model is fitted; listwise otherwise
    items = [i.id for i in questionnaire.analysed_items if i.id in data.columns]
    missing = "fiml" if data[items].isna().to_numpy().any() else "listwise"
    if weights is None:
        result = model.fit(measurement_model(questionnaire), data, missing=missing)
    else:  # lavaan's cfa(..., sampling.weights = "w"); its sem_weighted note is ours
        from satisfaction.sem_weights import fit_weighted

        result = fit_weighted(measurement_model(questionnaire), data, weights,
                              missing=missing)
        result.warnings = [w for w in result.warnings
                           if getattr(w, "code", None) != "sem_weighted"]
    return result.parameters, [cfa_diagnostic(w) for w in getattr(result, "warnings", [])]


def cfa_diagnostic(warning: Diagnostic | str) -> Diagnostic:
    """A warning of the CFA fit as a diagnostic scoped ``cfa`` ("CFA: ..." in English).

    A plain string (from a model module that does not yet make diagnostics) is
    kept as the ``cfa`` code's message, with severity ``caution``.
    """
    if isinstance(warning, Diagnostic):
        return warning.within("cfa")
    return Diagnostic("cfa", "caution", {"message": str(warning)})


def diagnose(constructs: pd.DataFrame, loadings: pd.DataFrame, pairs: pd.DataFrame,
             fl: pd.DataFrame, htmt_thresholds: tuple[float, float] = HTMT_THRESHOLDS
             ) -> list[Diagnostic]:
    """Every cut-off a construct, loading or pair misses, as ``caution`` diagnostics.

    ``alpha_low``, ``cr_low`` (below :data:`ALPHA_MIN`, :data:`CR_MIN`),
    ``ave_low`` (below :data:`AVE_MIN`), ``loading_low`` (``|std.all|`` below
    :data:`LOADING_MIN`), ``htmt_high`` (above the lower of ``htmt_thresholds``;
    the threshold named is the higher one when that is exceeded too) and, for a
    pair failing the Fornell-Larcker criterion, ``fornell_larcker_one`` (one
    construct's square root of AVE is not above the correlation) or
    ``fornell_larcker_both``.
    """
    out: list[Diagnostic] = []
    for cid, row in constructs.iterrows():
        for code, col, cut in (("alpha_low", "alpha", ALPHA_MIN), ("cr_low", "cr", CR_MIN),
                               ("ave_low", "ave", AVE_MIN)):
            if row[col] < cut:
                out.append(Diagnostic(code, "caution", {"construct": str(cid),
                                                        "value": float(row[col]),
                                                        "threshold": cut},
                                      constructs=("construct",)))
    for row in loadings.itertuples(index=False):
        value = float(row[2])
        if abs(value) < LOADING_MIN:
            out.append(Diagnostic("loading_low", "caution",
                                  {"construct": row.construct, "item": row.item,
                                   "value": value, "threshold": LOADING_MIN},
                                  constructs=("construct",)))
    low, high = sorted(htmt_thresholds)
    for row in pairs.itertuples(index=False):
        if row.htmt > low:
            out.append(Diagnostic("htmt_high", "caution",
                                  {"a": row.construct1, "b": row.construct2,
                                   "value": float(row.htmt),
                                   "threshold": high if row.htmt > high else low},
                                  constructs=("a", "b")))
    for row in fl.itertuples(index=False):
        if row.satisfied:
            continue
        short = [(c, v) for c, v in ((row.construct1, row.sqrt_ave1),
                                     (row.construct2, row.sqrt_ave2))
                 if abs(row.correlation) >= v]
        params: dict[str, Any] = {"a": row.construct1, "b": row.construct2,
                                  "r": float(row.correlation)}
        if len(short) == 1:
            params.update(construct=short[0][0], sqrt_ave=float(short[0][1]))
            out.append(Diagnostic("fornell_larcker_one", "caution", params,
                                  constructs=("a", "b", "construct")))
        else:
            params.update(sqrt_ave_a=float(row.sqrt_ave1), sqrt_ave_b=float(row.sqrt_ave2))
            out.append(Diagnostic("fornell_larcker_both", "caution", params,
                                  constructs=("a", "b")))
    return out


def reverse_keyed(items: pd.DataFrame, weights: Any = None) -> list[str]:
    """Items that load negatively on the first principal component of their block.

    The first eigenvector of the pairwise-complete correlation matrix, its sign
    chosen so that the loadings sum to a positive number; an item with a negative
    loading runs against the construct, as ``psych::alpha(check.keys = TRUE)``
    decides which items to reverse ("Some items ... were negatively correlated
    with the first principal component and probably should be reversed").
    Tested against psych's keys on the five bfi blocks. With respondent ``weights``
    the correlation matrix is the weighted one (:func:`weighted_covariance`).
    """
    if weights is None:
        corr = items.corr().to_numpy()
    else:
        cov = weighted_covariance(items, weights).to_numpy()
        sd = np.sqrt(np.diag(cov))
        corr = cov / np.outer(sd, sd)
    if items.shape[1] < 2 or not np.isfinite(corr).all():
        return []
    values, vectors = np.linalg.eigh(corr)
    first = vectors[:, np.argmax(values)]
    if first.sum() < 0:
        first = -first
    return [str(c) for c, v in zip(items.columns, first, strict=True) if v < 0]


def reverse_item_hints(questionnaire: Questionnaire, data: pd.DataFrame,
                       stats: pd.DataFrame, weights: Any = None) -> list[Diagnostic]:
    """A ``reverse_item_suspected`` caution for every item that runs against its
    construct (:func:`reverse_keyed`), with its corrected item-total correlation.

    Such an item is most often reverse-worded but lacks ``reverse: true`` in the
    questionnaire: α, ω and the loadings of its construct are wrong until it is
    declared. Items already declared ``reverse`` arrive recoded and are judged
    after recoding.

    Parameters
    ----------
    questionnaire : Questionnaire
    data : DataFrame
        ``Responses.data`` (reverse-coded items already recoded).
    stats : DataFrame
        :func:`item_statistics` (index item id; column ``item_total``).
    weights : array-like, optional
        Respondent weights, one per row (:func:`reverse_keyed`).
    """
    out = []
    for cid, names in _blocks(questionnaire).items():
        for item in reverse_keyed(data[names].astype(float), weights):
            out.append(Diagnostic("reverse_item_suspected", "caution",
                                  {"item": item, "construct": str(cid),
                                   "value": float(stats.loc[item, "item_total"])},
                                  constructs=("construct",)))
    return out


def reliability(questionnaire: Questionnaire, data: pd.DataFrame, *,
                parameters: pd.DataFrame | None = None, level: float = 0.95,
                htmt_thresholds: tuple[float, float] = HTMT_THRESHOLDS,
                weights: Any = None) -> ReliabilityResult:
    """Reliability and validity of a questionnaire's constructs on the responses.

    Parameters
    ----------
    questionnaire : Questionnaire
    data : pandas.DataFrame
        Responses (``Responses.data``): one numeric column per item id.
    parameters : pandas.DataFrame, optional
        A lavaan-style parameter table (``lhs op rhs est std.all``) of the
        first-order CFA (:func:`measurement_model`). When not given, the CFA is
        fitted with :func:`satisfaction.model.fit`.
    level : float
        Confidence level of the Feldt interval for alpha.
    htmt_thresholds : (float, float)
        HTMT cut-offs to flag (Henseler et al. 2015: 0.85 and 0.90).
    weights : str, Series or array, optional
        Respondent weights (a column of ``data``, a Series indexed like ``data`` or
        one number per row; :func:`satisfaction.sem_weights.respondent_weights`).
        Respondents without a weight are left out and counted; the others' weights
        enter every statistic with a weighted form (module docstring): the CFA as
        lavaan's ``sampling.weights``, α and the item statistics from the weighted
        covariances, ω, CR, AVE and the latent correlations from the weighted CFA,
        HTMT from the weighted correlations. The info ``measurement_weighted``
        gives the Kish design effect and effective sample size. With integer
        weights the figures equal those of the data with each respondent repeated
        ``w`` times (complete answers); constant weights give the unweighted ones.

    Returns
    -------
    ReliabilityResult
        Warnings name every construct with alpha or CR below 0.70, AVE below
        0.50, every loading below 0.50, every HTMT above the thresholds and
        every pair failing the Fornell-Larcker criterion (see :func:`diagnose`),
        and the CFA's own diagnostics scoped ``cfa``.

    Raises
    ------
    InputError
        When an item has the same answer from every respondent, two items
        correlate perfectly, or the items are otherwise linearly dependent
        (:func:`satisfaction.efa.require_analysable`): the CFA cannot be fitted.
    """
    blocks = _blocks(questionnaire)
    for names in blocks.values():
        _require_columns(data, names)
    warnings: list[Diagnostic] = []
    w = None
    if weights is not None:
        data, w, note = _weighted_rows(data, weights)
        warnings.append(note)
    require_analysable(data[[i for names in blocks.values() for i in names]],
                       "the confirmatory factor analysis", blocks)
    if parameters is None:
        parameters, fit_warnings = _fit_parameters(questionnaire, data, w)
        warnings.extend(fit_warnings)
    loadings = standardized_loadings(parameters)
    loadings = loadings[loadings["construct"].isin(blocks)].reset_index(drop=True)

    # Without missing answers the observed variance of omega's sum score is the sample
    # covariance; with them the CFA is fitted by FIML and the variance is the EM
    # covariance over every respondent (semTools::compRelSEM on lavaan's sampstat).
    # With weights both are weighted (divisor Σw), as lavaan's sampstat of a
    # sampling.weights fit.
    all_items = data[[i for names in blocks.values() for i in names]].astype(float)
    cfa_rows = all_items.dropna()
    if all_items.isna().to_numpy().any():
        sample_cov = em_covariance(all_items, w)
    elif w is not None:
        from satisfaction.sem_weights import weighted_moments

        _, s_w = weighted_moments(cfa_rows.to_numpy(), w)
        sample_cov = pd.DataFrame(s_w, index=cfa_rows.columns, columns=cfa_rows.columns)
    else:
        sample_cov = None
    rows = {}
    for cid, names in blocks.items():
        block = data[names].astype(float)
        lam = loadings.loc[loadings["construct"] == cid, "std.all"].to_numpy()
        rows[cid] = {"items": len(names), **cronbach_alpha(block, level, w),
                     "omega": omega(parameters, cid, cfa_rows[names], sample_cov),
                     "cr": composite_reliability(lam) if len(lam) else np.nan,
                     "ave": average_variance_extracted(lam) if len(lam) else np.nan}
    constructs = pd.DataFrame.from_dict(rows, orient="index")[CONSTRUCT_COLUMNS]
    constructs.index.name = "construct"

    correlations = latent_correlations(parameters, list(blocks))
    h = htmt(data, blocks, weights=w)
    pairs = htmt_pairs(h, htmt_thresholds,
                       htmt2=htmt(data, blocks, geometric=True, weights=w))
    fl = fornell_larcker(constructs["ave"], correlations)

    warnings += diagnose(constructs, loadings, pairs, fl, htmt_thresholds)
    item_stats = item_statistics(questionnaire, data, w)
    warnings += reverse_item_hints(questionnaire, data, item_stats, w)

    return ReliabilityResult(
        constructs=constructs, item_statistics=item_stats,
        loadings=loadings, latent_correlations=correlations, htmt=h, htmt_pairs=pairs,
        fornell_larcker=fl, warnings=warnings, items=blocks, weighted=w is not None)


def _weighted_rows(data: pd.DataFrame, weights: Any
                   ) -> tuple[pd.DataFrame, np.ndarray, Diagnostic]:
    """The respondents with a weight, their weights (rescaled to sum to their number)
    and the info ``measurement_weighted`` (design effect, effective n, left out)."""
    from satisfaction.sem_weights import normalise, respondent_weights
    from satisfaction.weights import effective_n, kish_design_effect

    given = respondent_weights(data, weights)
    has = given.notna().to_numpy()
    kept = data[has]
    w = normalise(given.to_numpy(dtype=float)[has], len(kept))
    note = Diagnostic("measurement_weighted", "info",
                      {"n": len(kept), "design_effect": round(kish_design_effect(w), 3),
                       "effective_n": round(effective_n(w), 1),
                       "no_weight": int((~has).sum())})
    return kept, w, note
