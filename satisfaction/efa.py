"""Exploratory factor analysis: sampling adequacy, number of factors, extraction, rotation.

Extraction and rotation are factor-analyzer's (``FactorAnalyzer``, ``Rotator``);
KMO and Bartlett's test too. Horn's parallel analysis is ours, because
neither factor-analyzer nor pingouin offers it; it follows ``psych::fa.parallel``.
Everything is tested against psych (``tests/reference/psych_semtools_reference.R``):

================================ ==============================================
statistic                        reference
================================ ==============================================
KMO overall and per item         ``psych::KMO``
Bartlett's test of sphericity    ``psych::cortest.bartlett``
eigenvalues (scree)              ``psych::fa.parallel``: ``pc.values``, and
                                 ``fa.values`` with ``SMC = TRUE``
parallel analysis                ``psych::fa.parallel(SMC = TRUE, quant = .95)``
loadings, communalities, phi     ``psych::fa(fm = "minres" | "ml",
                                 rotate = "oblimin" | "promax" | "varimax")``
================================ ==============================================

References
----------
Kaiser, H. F. (1974). An index of factorial simplicity. Psychometrika, 39, 31-36.
Bartlett, M. S. (1951). The effect of standardization on a chi-square
    approximation in factor analysis. Biometrika, 38, 337-344.
Horn, J. L. (1965). A rationale and test for the number of factors in factor
    analysis. Psychometrika, 30, 179-185.
Tabachnick, B. G., & Fidell, L. S. (2013). Using Multivariate Statistics (6th ed.):
    loadings of 0.32 and above are interpreted; an item loading that high on two
    factors is a cross-loading.

Respondent weights
------------------
``efa(weights=)`` analyses the weighted correlation matrix, as ``psych::fa(weight=)``
does (psych's ``cor.wt``: weighted means and cross-products): the same extraction
and rotation on it, KMO from it (the KMO is a function of the correlations only).
Bartlett's test and the parallel analysis also need a sample size; psych's
``fa(weight=)`` keeps ``n.obs`` = the rows of the data for its statistics, but a
weighted correlation matrix carries the information of fewer respondents, so we use
the Kish effective sample size ``n_eff = (Σw)²/Σw²`` (Kish 1965) for both: a test or
a random-data benchmark at ``n`` would overstate the evidence whenever the weights
are unequal (with equal weights ``n_eff = n``; the simulation takes it rounded). Tested against
``psych::fa(weight = w)``, ``psych::KMO`` and ``psych::cortest.bartlett(n = n_eff)``
on the weighted correlations (tests/reference/lavaan_cfa_weights.R).

Gate
----
The result's ``warnings`` are :class:`~satisfaction.diagnostics.Diagnostic`
records and ``status`` is their gate. An extraction that did not converge
(factor-analyzer's "Failed to converge", caught here rather than silenced) and a
Heywood case (a communality of 1 or more) invalidate the solution; low sampling
adequacy, an undetected common variance (Bartlett) and an item loading on no
factor are cautions; a cross-loading is information.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from satisfaction.diagnostics import Diagnostic, records, status
from satisfaction.errors import InputError, UsageError
from satisfaction.io import to_jsonable

Method = Literal["minres", "ml"]
Rotation = Literal["oblimin", "promax", "varimax", "none"]
METHODS: tuple[str, ...] = ("minres", "ml")
ROTATIONS: tuple[str, ...] = ("oblimin", "promax", "varimax", "none")
OBLIQUE: tuple[str, ...] = ("oblimin", "promax")

#: An item loading at least this much (in absolute value) on a factor "loads" on it.
LOADING_THRESHOLD = 0.32
#: An item whose largest loading is below this has no clear factor.
PRIMARY_THRESHOLD = 0.40
#: A communality at least this high is a Heywood case (1 within rounding).
HEYWOOD_COMMUNALITY = 0.995
#: Start of factor-analyzer's warning when its optimiser stops without converging.
NOT_CONVERGED = "Failed to converge"
#: Two items correlating at least this much (in absolute value) are copies of each other.
COLLINEAR_R = 1.0 - 1e-8


def require_analysable(data: pd.DataFrame, purpose: str,
                       blocks: Mapping[str, Sequence[str]] | None = None) -> None:
    """Refuse item answers a factor model cannot use, naming the items.

    Checked on the respondents who answered every item (the ones a listwise
    factor analysis or CFA uses):

    * no such respondent at all (the screens excluded everyone, e.g. every
      respondent straight-lined; or nobody answered every item);
    * an item with the same answer from every respondent (zero variance);
      when every item of a construct is constant, the construct is named;
    * two items that correlate perfectly (:math:`|r| \\ge 1 - 10^{-8}`, e.g. one
      column copied into another, or every respondent giving the same answer to
      both: straight-lining within a construct);
    * any other exact linear dependence (the smallest eigenvalue of the
      correlation matrix below :math:`10^{-10}` times the largest), including
      fewer complete respondents than items.

    Parameters
    ----------
    data : pandas.DataFrame
        One numeric column per item.
    purpose : str
        The analysis, as the message names it ("factor analysis").
    blocks : mapping of construct id to item ids, optional
        Lets the message name a construct whose items are all constant or all
        answered alike.

    Raises
    ------
    InputError
        Naming the column(s) and what to do (exit code 2 on the command line).
    """
    x = data.astype(float).dropna()
    n, p = x.shape
    if p == 0:
        return
    if n == 0:
        if len(data) == 0:
            raise InputError(f"{purpose} has no respondents to analyse: the data-quality "
                             "screens excluded every respondent ('satisfaction validate' "
                             "lists why)")
        raise InputError(f"{purpose} needs respondents who answered every item; none of "
                         f"the {len(data)} respondents did")
    sd = x.std(ddof=1) if n > 1 else pd.Series(0.0, index=x.columns)
    constant = [str(c) for c in x.columns if not sd[c] > 0]
    if constant and n > 1:
        what = "an item" if len(constant) == 1 else "items"
        raise InputError(f"{purpose} cannot use {what} with the same answer from every "
                         f"respondent ({_name_items(constant, blocks)}); the answers look "
                         "straight-lined or the column holds one value: drop the item from "
                         "the questionnaire or check the data",
                         column=constant[0], value=float(x[constant[0]].iloc[0]))
    if n <= p:
        raise InputError(f"{purpose} needs more respondents who answered every item than "
                         f"items; got {n} for {p} items")
    corr = np.corrcoef(x.to_numpy(), rowvar=False)
    for i in range(p):
        for j in range(i + 1, p):
            if abs(corr[i, j]) >= COLLINEAR_R:
                a, b = str(x.columns[i]), str(x.columns[j])
                raise InputError(f"items {a!r} and {b!r} are perfectly correlated "
                                 f"(r = {corr[i, j]:.3f}): {purpose} cannot separate them; "
                                 + _why_identical(x, a, blocks), column=b)
    eig, vec = np.linalg.eigh(corr)
    if eig[0] < 1e-10 * eig[-1]:
        names = dependent_names(vec[:, 0], [str(c) for c in x.columns])
        raise InputError(f"the items {', '.join(map(repr, names))} are linearly dependent "
                         f"(one is an exact combination of the others): {purpose} needs "
                         "items none of which is a sum or difference of others",
                         column=names[-1])


def dependent_names(null_vector: np.ndarray, names: Sequence[str]) -> list[str]:
    """The variables taking part in an exact linear dependence: those with a
    non-negligible weight in the eigenvector of the (near-)zero eigenvalue."""
    weight = np.abs(null_vector)
    return [n for n, w in zip(names, weight, strict=True) if w > 0.05 * weight.max()]


def _name_items(items: Sequence[str], blocks: Mapping[str, Sequence[str]] | None) -> str:
    """``'a1', 'a2'`` -- or ``all items of 'A': 'a1', 'a2', 'a3'`` for a whole construct."""
    left = list(items)
    parts: list[str] = []
    for cid, names in (blocks or {}).items():
        if len(names) > 1 and all(str(i) in left for i in names):
            parts.append(f"all items of {cid!r}: " + ", ".join(repr(str(i)) for i in names))
            left = [i for i in left if i not in {str(k) for k in names}]
    shown = [repr(i) for i in left[:5]] + ([f"and {len(left) - 5} more"] if len(left) > 5
                                           else [])
    return "; ".join([*parts, *([", ".join(shown)] if shown else [])])


def _why_identical(x: pd.DataFrame, item: str,
                   blocks: Mapping[str, Sequence[str]] | None) -> str:
    """The likely cause of a perfect correlation, naming every item answered alike."""
    same = [str(c) for c in x.columns if (x[c] == x[item]).all()]
    if len(same) < 2:
        return "is one a copy of the other? Drop one of them"
    return (f"every respondent gave the same answer to {_name_items(same, blocks)} "
            "(straight-lining, or one column copied into another): drop the copies or "
            "exclude the straight-lined respondents")


def smc(corr: np.ndarray) -> np.ndarray:
    """Squared multiple correlations: 1 - 1 / diag(R^-1) (pseudo-inverse when singular)."""
    try:
        inv = np.linalg.inv(corr)
    except np.linalg.LinAlgError:
        inv = np.linalg.pinv(corr)
    return 1.0 - 1.0 / np.diag(inv)


def eigenvalues(corr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues of the correlation matrix and of the reduced matrix (SMCs on the diagonal).

    Both in decreasing order; the first are the scree of principal components,
    the second that of common factors (``psych::fa.parallel(SMC = TRUE)``).
    """
    pc = np.sort(np.linalg.eigvalsh(corr))[::-1]
    reduced = corr.copy()
    np.fill_diagonal(reduced, smc(corr))
    fa = np.sort(np.linalg.eigvalsh(reduced))[::-1]
    return pc, fa


def _count_above(observed: np.ndarray, threshold: np.ndarray) -> int:
    """Leading observed eigenvalues that exceed the threshold (stop at the first that does not)."""
    below = np.flatnonzero(~(observed > threshold))
    return int(below[0]) if below.size else len(observed)


@dataclass
class ParallelAnalysis:
    """Horn's parallel analysis.

    Attributes
    ----------
    observed_pc, observed_fa : numpy.ndarray
        Eigenvalues of the data (correlation matrix; reduced matrix).
    simulated_pc, simulated_fa : numpy.ndarray
        The ``quantile`` of the same eigenvalues over ``n_iter`` normal data
        sets of the same size.
    n_components, n_factors : int
        Leading observed eigenvalues above the simulated ones.
    """

    observed_pc: np.ndarray
    observed_fa: np.ndarray
    simulated_pc: np.ndarray
    simulated_fa: np.ndarray
    n_components: int
    n_factors: int
    n_iter: int
    quantile: float
    seed: int


def parallel_analysis(n_obs: int, corr: np.ndarray, *, n_iter: int = 100,
                      quantile: float = 0.95, seed: int = 0) -> ParallelAnalysis:
    """Horn's (1965) parallel analysis for components and for common factors.

    ``n_iter`` data sets of ``n_obs`` independent standard normal variables are
    drawn; for each the eigenvalues of the correlation matrix and of the
    reduced correlation matrix (SMCs on the diagonal) are computed. The number
    of components (factors) is the number of leading observed eigenvalues that
    exceed the ``quantile`` of the simulated ones, counted until the first that
    does not, the rule of ``psych::fa.parallel(SMC = TRUE, quant = .95)``.

    The simulation is random: the same ``seed`` gives the same result. Our own
    code because factor-analyzer has no parallel analysis.
    """
    p = corr.shape[0]
    rng = np.random.default_rng(seed)
    sim_pc = np.empty((n_iter, p))
    sim_fa = np.empty((n_iter, p))
    for i in range(n_iter):
        z = rng.standard_normal((n_obs, p))
        sim_pc[i], sim_fa[i] = eigenvalues(np.corrcoef(z, rowvar=False))
    obs_pc, obs_fa = eigenvalues(corr)
    q_pc = np.quantile(sim_pc, quantile, axis=0)  # R's type 7, as quantile() in psych
    q_fa = np.quantile(sim_fa, quantile, axis=0)
    return ParallelAnalysis(obs_pc, obs_fa, q_pc, q_fa, _count_above(obs_pc, q_pc),
                            _count_above(obs_fa, q_fa), n_iter, quantile, seed)


def weighted_correlation(x: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted Pearson correlations of complete data (psych's ``cor.wt(x, w)$r``):
    the weighted covariance ``Σ w (x − x̄_w)(x − x̄_w)' / Σ w`` scaled to unit diagonal."""
    from satisfaction.sem_weights import weighted_moments

    _, cov = weighted_moments(np.asarray(x, dtype=float), np.asarray(weights, dtype=float))
    sd = np.sqrt(np.diag(cov))
    return cov / np.outer(sd, sd)


def kmo_from_correlation(corr: np.ndarray, names: Sequence[str]) -> tuple[float, pd.Series]:
    """KMO overall and per item from a correlation matrix (as ``psych::KMO(r)``).

    .. math:: KMO_j = \\frac{\\sum_{i \\ne j} r_{ij}^2}{\\sum_{i \\ne j} r_{ij}^2 +
              \\sum_{i \\ne j} q_{ij}^2}, \\qquad
              q_{ij} = -\\frac{(R^{-1})_{ij}}{\\sqrt{(R^{-1})_{ii} (R^{-1})_{jj}}}

    Ours because factor-analyzer's ``calculate_kmo`` takes only raw data, not a
    (weighted) correlation matrix. Tested against ``psych::KMO``.
    """
    inv = np.linalg.inv(corr)
    d = np.sqrt(np.diag(inv))
    partial = inv / np.outer(d, d)
    r2 = np.asarray(corr, dtype=float) ** 2
    q2 = partial**2
    np.fill_diagonal(r2, 0.0)
    np.fill_diagonal(q2, 0.0)
    per_item = r2.sum(axis=0) / (r2.sum(axis=0) + q2.sum(axis=0))
    overall = r2.sum() / (r2.sum() + q2.sum())
    return float(overall), pd.Series(per_item, index=list(names), name="kmo")


def bartlett_from_correlation(corr: np.ndarray, n: float) -> dict[str, float]:
    """Bartlett's test of sphericity from a correlation matrix and a sample size.

    .. math:: \\chi^2 = -\\left(n - 1 - \\frac{2p + 5}{6}\\right) \\ln|R|, \\quad
              df = p(p-1)/2

    ``psych::cortest.bartlett(R, n)``, against which it is tested.
    """
    p = corr.shape[0]
    _, logdet = np.linalg.slogdet(corr)
    chi2 = -(n - 1 - (2 * p + 5) / 6) * logdet
    df = p * (p - 1) / 2
    return {"chisq": float(chi2), "df": float(df), "p": float(stats.chi2.sf(chi2, df))}


def kmo(data: pd.DataFrame) -> tuple[float, pd.Series]:
    """Kaiser-Meyer-Olkin measure of sampling adequacy, overall and per item.

    .. math:: KMO_j = \\frac{\\sum_{i \\ne j} r_{ij}^2}{\\sum_{i \\ne j} r_{ij}^2 +
              \\sum_{i \\ne j} q_{ij}^2}

    with ``q`` the partial (anti-image) correlations; the overall value sums
    over all pairs (Kaiser 1974). From ``factor_analyzer.calculate_kmo``;
    tested against ``psych::KMO``.
    """
    from factor_analyzer.factor_analyzer import calculate_kmo

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        per_item, overall = calculate_kmo(data)
    return float(overall), pd.Series(per_item, index=data.columns, name="kmo")


def bartlett(data: pd.DataFrame) -> dict[str, float]:
    """Bartlett's test that the correlation matrix is an identity matrix.

    .. math:: \\chi^2 = -\\left(n - 1 - \\frac{2p + 5}{6}\\right) \\ln|R|, \\quad
              df = p(p-1)/2

    Tested against ``psych::cortest.bartlett``.
    """
    from factor_analyzer.factor_analyzer import calculate_bartlett_sphericity

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        chi2, _ = calculate_bartlett_sphericity(data)
    p = data.shape[1]
    df = p * (p - 1) / 2
    return {"chisq": float(chi2), "df": float(df), "p": float(stats.chi2.sf(chi2, df))}


@dataclass
class EFAResult:
    """An exploratory factor analysis.

    Attributes
    ----------
    n : int
        Respondents analysed (complete answers to every item).
    excluded : dict[str, int]
        Respondents left out, by reason (``incomplete_answers``; with weights also
        ``no_weight``).
    kmo : float
    kmo_items : pandas.Series
    bartlett : dict
        ``chisq``, ``df``, ``p``.
    scree : pandas.DataFrame
        One row per eigenvalue: ``number``, ``eigenvalue`` (correlation matrix),
        ``eigenvalue_reduced`` (SMCs on the diagonal), ``parallel`` and
        ``parallel_reduced`` (the simulated quantiles).
    n_factors_rules : dict[str, int]
        ``parallel_components``, ``parallel_factors``, ``kaiser`` (eigenvalues > 1).
    n_factors : int
        Factors extracted.
    method, rotation : str
    loadings : pandas.DataFrame
        Items by factors (``F1``...), pattern loadings after rotation; factors
        ordered by the variance they account for, signs so that column sums are
        positive.
    phi : pandas.DataFrame or None
        Factor correlations (oblique rotations).
    communalities : pandas.Series
        :math:`h^2 = \\mathrm{diag}(\\Lambda\\Phi\\Lambda')`.
    flags : pandas.DataFrame
        Per item: ``primary``, ``loading``, ``secondary``, ``secondary_loading``,
        ``cross_loading`` (two loadings of at least 0.32), ``weak`` (largest
        loading below 0.40).
    warnings : list of Diagnostic
        See the module's *Gate*; ``status`` is their gate (``ok``, ``caution``,
        ``invalid``).
    weighted : bool
        Whether the respondent weights were used (module docstring).
    effective_n : float or None
        The Kish effective sample size of a weighted analysis (used by Bartlett's
        test and the parallel analysis).
    """

    n: int
    excluded: dict[str, int]
    kmo: float
    kmo_items: pd.Series
    bartlett: dict[str, float]
    scree: pd.DataFrame
    n_factors_rules: dict[str, int]
    n_factors: int
    method: str
    rotation: str
    loadings: pd.DataFrame
    phi: pd.DataFrame | None
    communalities: pd.Series
    flags: pd.DataFrame
    seed: int
    warnings: list[Diagnostic] = field(default_factory=list)
    weighted: bool = False
    effective_n: float | None = None

    @property
    def status(self) -> str:
        """``ok``, ``caution`` or ``invalid``: the gate set by the warnings."""
        return status(self.warnings)

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        """The JSON contract of ``satisfaction efa`` (``warnings`` as diagnostic records)."""
        return to_jsonable({
            "status": self.status,
            "n": self.n,
            "weighted": self.weighted,
            "effective_n": self.effective_n,
            "excluded": dict(self.excluded),
            "kmo": self.kmo,
            "kmo_items": self.kmo_items.to_dict(),
            "bartlett": dict(self.bartlett),
            "scree": self.scree.to_dict(orient="records"),
            "n_factors_rules": dict(self.n_factors_rules),
            "n_factors": self.n_factors,
            "method": self.method,
            "rotation": self.rotation,
            "seed": self.seed,
            "loadings": [{"item": i, **row} for i, row in
                         self.loadings.to_dict(orient="index").items()],
            "phi": None if self.phi is None else self.phi.to_dict(orient="index"),
            "communalities": self.communalities.to_dict(),
            "flags": [{"item": i, **row} for i, row in
                      self.flags.to_dict(orient="index").items()],
            "warnings": records(self.warnings, lang),
        })


def _clean(data: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """The respondents with a number for every item, and how many were left out."""
    numeric = data.apply(pd.to_numeric, errors="coerce").astype(float)
    for col in numeric.columns:
        bad = numeric[col].isna() & data[col].notna()
        if bad.any():
            row = numeric.index[bad.to_numpy()][0]
            raise InputError("expected a number for factor analysis", row=None, column=str(col),
                             value=data.loc[row, col])
    complete = numeric.dropna()
    return complete, len(numeric) - len(complete)


def _flags(loadings: pd.DataFrame, threshold: float, primary: float) -> pd.DataFrame:
    rows = {}
    for item, row in loadings.iterrows():
        order = row.abs().sort_values(ascending=False)
        first = order.index[0]
        second = order.index[1] if len(order) > 1 else None
        rows[item] = {
            "primary": first, "loading": float(row[first]),
            "secondary": second,
            "secondary_loading": float(row[second]) if second is not None else None,
            "cross_loading": bool(second is not None and abs(row[second]) >= threshold),
            "weak": bool(abs(row[first]) < primary),
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def extract_factors(data: pd.DataFrame, n_factors: int, method: Method = "minres", *,
                    diagnostics: list[Diagnostic] | None = None,
                    corr: np.ndarray | None = None) -> np.ndarray:
    """Unrotated loadings by minimum residual or maximum likelihood (factor-analyzer).

    ``data`` must be complete (see :func:`efa`, which leaves incomplete
    respondents out); starting communalities are the SMCs, as in ``psych::fa``.

    factor-analyzer reports an optimiser that stopped without converging only as
    a Python warning ("Failed to converge: ..."). That warning is caught and,
    when ``diagnostics`` is given, recorded there as ``efa_not_converged``
    (severity ``invalidates``); the library's other warnings (scikit-learn
    deprecations) stay silenced.

    With ``corr`` (a correlation matrix, e.g. the weighted one) the factors are
    extracted from it instead of from the correlations of ``data``
    (factor-analyzer's ``is_corr_matrix``).
    """
    from factor_analyzer import FactorAnalyzer

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fa = FactorAnalyzer(n_factors=n_factors, rotation=None, method=method, use_smc=True,
                            is_corr_matrix=corr is not None)
        fa.fit(data if corr is None else pd.DataFrame(corr, index=data.columns,
                                                      columns=data.columns))
    failed = [str(w.message) for w in caught if str(w.message).startswith(NOT_CONVERGED)]
    if failed and diagnostics is not None:
        detail = failed[0][len(NOT_CONVERGED):].lstrip(": ").strip()
        diagnostics.append(Diagnostic("efa_not_converged", "invalidates",
                                      {"method": method, "n_factors": int(n_factors),
                                       "detail": detail}))
    return np.asarray(fa.loadings_, dtype=float)


def rotate_loadings(unrotated: np.ndarray,
                    rotation: Rotation = "oblimin") -> tuple[np.ndarray, np.ndarray | None]:
    """Rotate loadings; order factors by variance accounted for; make column sums positive.

    Returns the pattern loadings and, for an oblique rotation, the factor
    correlations :math:`\\Phi` (permuted and sign-flipped with the loadings, so
    that :math:`\\mathrm{diag}(\\Lambda\\Phi\\Lambda')` is still the communality).
    The variance a factor accounts for is :math:`\\mathrm{diag}(\\Phi\\Lambda'\\Lambda)`,
    the order ``psych::fa`` reports.
    """
    from factor_analyzer import Rotator

    loadings, phi = unrotated, None
    if rotation != "none" and unrotated.shape[1] > 1:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rot = Rotator(method=rotation)
            loadings = rot.fit_transform(unrotated)
        phi = np.asarray(rot.phi_) if rotation in OBLIQUE else None
    ss = (loadings**2).sum(axis=0) if phi is None else np.diag(phi @ loadings.T @ loadings)
    order = np.argsort(-ss, kind="stable")
    loadings = loadings[:, order]
    signs = np.sign(loadings.sum(axis=0))
    signs[signs == 0] = 1
    loadings = loadings * signs
    if phi is not None:
        phi = phi[np.ix_(order, order)] * np.outer(signs, signs)
    return loadings, phi


def diagnose(*, communalities: pd.Series, kmo: float, kmo_items: pd.Series,
             sphericity_p: float, flags: pd.DataFrame,
             primary_threshold: float = PRIMARY_THRESHOLD) -> list[Diagnostic]:
    """The gate's findings about a solution (see the module's *Gate*).

    ``efa_heywood`` (invalidates) for communalities of at least
    :data:`HEYWOOD_COMMUNALITY`; ``efa_kmo_low`` (caution) for an overall KMO
    below 0.60 and ``efa_item_kmo_low`` (caution) for an item's below 0.50
    (Kaiser 1974); ``efa_sphericity`` (caution) when Bartlett's test does not
    reject an identity correlation matrix at 0.05; ``efa_cross_loading`` (info)
    and ``efa_no_factor`` (caution) from ``flags``.
    """
    out: list[Diagnostic] = []
    heywood = [str(c) for c, h in communalities.items() if h >= HEYWOOD_COMMUNALITY]
    if heywood:
        out.append(Diagnostic("efa_heywood", "invalidates", {"items": heywood}))
    if kmo < 0.6:
        out.append(Diagnostic("efa_kmo_low", "caution", {"kmo": kmo}))
    for item, value in kmo_items.items():
        if value < 0.5:
            out.append(Diagnostic("efa_item_kmo_low", "caution",
                                  {"item": str(item), "kmo": float(value)}))
    if sphericity_p >= 0.05:
        out.append(Diagnostic("efa_sphericity", "caution", {"p": float(sphericity_p)}))
    for item, f in flags.iterrows():
        if f["cross_loading"]:
            out.append(Diagnostic("efa_cross_loading", "info", {
                "item": str(item), "loading": float(f["loading"]), "primary": f["primary"],
                "secondary_loading": float(f["secondary_loading"]),
                "secondary": f["secondary"]}))
        if f["weak"]:
            out.append(Diagnostic("efa_no_factor", "caution", {
                "item": str(item), "loading": float(f["loading"]),
                "threshold": float(primary_threshold)}))
    return out


def efa(data: pd.DataFrame, n_factors: int | None = None, method: Method = "minres",
        rotation: Rotation = "oblimin", seed: int = 0, *, n_iter: int = 100,
        loading_threshold: float = LOADING_THRESHOLD,
        primary_threshold: float = PRIMARY_THRESHOLD,
        blocks: Mapping[str, Sequence[str]] | None = None, weights: Any = None) -> EFAResult:
    """Exploratory factor analysis of item answers.

    Parameters
    ----------
    data : pandas.DataFrame
        One numeric column per item. Respondents with any empty answer are left
        out (counted in ``excluded``), never imputed.
    n_factors : int, optional
        Factors to extract; by default the number suggested by parallel
        analysis of components (Horn 1965), at least 1.
    method : {"minres", "ml"}
        Extraction: minimum residual (unweighted least squares) or maximum likelihood.
    rotation : {"oblimin", "promax", "varimax", "none"}
    seed : int
        Seed of the parallel-analysis simulation.
    n_iter : int
        Simulated data sets in the parallel analysis.
    blocks : mapping of construct id to item ids, optional
        The questionnaire's constructs, so that a refusal can name a construct
        whose items are all constant or answered alike (straight-lined).
    weights : Series or array, optional
        Respondent weights, a Series indexed like ``data`` or one number per row
        (:func:`satisfaction.sem_weights.respondent_weights`); respondents without a
        weight are left out (``excluded["no_weight"]``). The weighted correlation
        matrix is analysed (module docstring, *Respondent weights*) and the info
        ``efa_weighted`` gives the design effect and effective sample size.

    Returns
    -------
    EFAResult

    Raises
    ------
    InputError
        Fewer than 3 items, no respondent who answered every item, or items a
        factor model cannot use (:func:`require_analysable`: constant,
        straight-lined or copied items, linear dependence).

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.read_csv("../shared/data/bank_satisfaction.csv").iloc[:, 1:28]
    >>> res = efa(d, n_factors=3)
    >>> round(res.kmo, 3), res.n_factors_rules["kaiser"]
    (0.921, 5)
    """
    if method not in METHODS:
        raise UsageError(f"unknown extraction method {method!r}; expected one of "
                         f"{', '.join(METHODS)}", column="method", value=method)
    if rotation not in ROTATIONS:
        raise UsageError(f"unknown rotation {rotation!r}; expected one of "
                         f"{', '.join(ROTATIONS)}", column="rotation", value=rotation)
    given = None
    excluded: dict[str, int] = {}
    if weights is not None:
        from satisfaction.sem_weights import respondent_weights

        given = respondent_weights(data, weights)
        excluded["no_weight"] = int(given.isna().sum())
        data, given = data[given.notna()], given[given.notna()]
    x, dropped = _clean(data)
    excluded = {"incomplete_answers": int(dropped), **excluded}
    n, p = x.shape
    if p < 3:
        raise InputError(f"factor analysis needs at least 3 items; got {p}")
    if n == 0 and len(data):
        raise InputError(f"factor analysis needs respondents who answered every item; none "
                         f"of the {len(data)} respondents did")
    require_analysable(x, "factor analysis", blocks)
    if n <= p:
        raise InputError(f"factor analysis needs more complete respondents than items; "
                         f"got {n} respondents for {p} items")

    notes: list[Diagnostic] = []
    n_eff = None
    if given is None:
        corr = np.corrcoef(x.to_numpy(), rowvar=False)
        overall, per_item = kmo(x)
        sphericity = bartlett(x)
        pa = parallel_analysis(n, corr, n_iter=n_iter, seed=seed)
    else:
        from satisfaction.sem_weights import normalise
        from satisfaction.weights import effective_n, kish_design_effect

        w = normalise(given.loc[x.index].to_numpy(dtype=float), n)
        corr = weighted_correlation(x.to_numpy(), w)
        n_eff = effective_n(w)
        overall, per_item = kmo_from_correlation(corr, list(x.columns))
        sphericity = bartlett_from_correlation(corr, n_eff)
        pa = parallel_analysis(max(round(n_eff), p + 1), corr, n_iter=n_iter, seed=seed)
        notes.append(Diagnostic("efa_weighted", "info", {
            "n": n, "design_effect": round(kish_design_effect(w), 3),
            "effective_n": round(n_eff, 1), "no_weight": excluded["no_weight"]}))
    rules = {"parallel_components": pa.n_components, "parallel_factors": pa.n_factors,
             "kaiser": int((pa.observed_pc > 1).sum())}
    scree = pd.DataFrame({"number": np.arange(1, p + 1), "eigenvalue": pa.observed_pc,
                          "eigenvalue_reduced": pa.observed_fa, "parallel": pa.simulated_pc,
                          "parallel_reduced": pa.simulated_fa})

    k = int(n_factors) if n_factors is not None else max(1, pa.n_components)
    if not 1 <= k < p:
        raise UsageError(f"the number of factors must be between 1 and {p - 1} for {p} items",
                         column="--factors", value=n_factors)

    unrotated = extract_factors(x, k, method, diagnostics=notes,
                                corr=None if given is None else corr)
    communalities = (unrotated**2).sum(axis=1)  # invariant under rotation
    loadings, phi = rotate_loadings(unrotated, rotation)
    names = [f"F{i + 1}" for i in range(k)]
    phi_frame = None if phi is None else pd.DataFrame(phi, index=names, columns=names)
    load_frame = pd.DataFrame(loadings, index=x.columns, columns=names)
    flags = _flags(load_frame, loading_threshold, primary_threshold)
    notes += diagnose(communalities=pd.Series(communalities, index=x.columns), kmo=overall,
                      kmo_items=per_item, sphericity_p=sphericity["p"], flags=flags,
                      primary_threshold=primary_threshold)
    return EFAResult(
        n=n, excluded=excluded, kmo=overall, kmo_items=per_item,
        bartlett=sphericity, scree=scree, n_factors_rules=rules, n_factors=k, method=method,
        rotation=rotation, loadings=load_frame, phi=phi_frame,
        communalities=pd.Series(communalities, index=x.columns, name="h2"), flags=flags,
        seed=seed, warnings=notes, weighted=given is not None, effective_n=n_eff)
