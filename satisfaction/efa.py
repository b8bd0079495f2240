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
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

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
        Respondents left out, by reason (``incomplete_answers``).
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
    warnings : list of str
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
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract of ``satisfaction efa``."""
        return to_jsonable({
            "n": self.n,
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
            "warnings": list(self.warnings),
        })


def _clean(data: pd.DataFrame) -> tuple[pd.DataFrame, int]:
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


def extract_factors(data: pd.DataFrame, n_factors: int, method: Method = "minres") -> np.ndarray:
    """Unrotated loadings by minimum residual or maximum likelihood (factor-analyzer).

    ``data`` must be complete (see :func:`efa`, which leaves incomplete
    respondents out); starting communalities are the SMCs, as in ``psych::fa``.
    """
    from factor_analyzer import FactorAnalyzer

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scikit-learn deprecations inside factor-analyzer
        fa = FactorAnalyzer(n_factors=n_factors, rotation=None, method=method, use_smc=True)
        fa.fit(data)
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


def efa(data: pd.DataFrame, n_factors: int | None = None, method: Method = "minres",
        rotation: Rotation = "oblimin", seed: int = 0, *, n_iter: int = 100,
        loading_threshold: float = LOADING_THRESHOLD,
        primary_threshold: float = PRIMARY_THRESHOLD) -> EFAResult:
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

    Returns
    -------
    EFAResult

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
    x, dropped = _clean(data)
    n, p = x.shape
    if p < 3:
        raise InputError(f"factor analysis needs at least 3 items; got {p}")
    if n <= p:
        raise InputError(f"factor analysis needs more complete respondents than items; "
                         f"got {n} respondents for {p} items")
    constant = [c for c in x.columns if x[c].std() == 0]
    if constant:
        raise InputError("an item with the same answer from every respondent cannot be "
                         "factor-analysed", column=constant[0], value=float(x[constant[0]].iloc[0]))

    corr = np.corrcoef(x.to_numpy(), rowvar=False)
    overall, per_item = kmo(x)
    sphericity = bartlett(x)
    pa = parallel_analysis(n, corr, n_iter=n_iter, seed=seed)
    rules = {"parallel_components": pa.n_components, "parallel_factors": pa.n_factors,
             "kaiser": int((pa.observed_pc > 1).sum())}
    scree = pd.DataFrame({"number": np.arange(1, p + 1), "eigenvalue": pa.observed_pc,
                          "eigenvalue_reduced": pa.observed_fa, "parallel": pa.simulated_pc,
                          "parallel_reduced": pa.simulated_fa})

    k = int(n_factors) if n_factors is not None else max(1, pa.n_components)
    if not 1 <= k < p:
        raise UsageError(f"the number of factors must be between 1 and {p - 1} for {p} items",
                         column="--factors", value=n_factors)

    notes: list[str] = []
    unrotated = extract_factors(x, k, method)
    communalities = (unrotated**2).sum(axis=1)  # invariant under rotation
    loadings, phi = rotate_loadings(unrotated, rotation)
    names = [f"F{i + 1}" for i in range(k)]
    phi_frame = None if phi is None else pd.DataFrame(phi, index=names, columns=names)
    load_frame = pd.DataFrame(loadings, index=x.columns, columns=names)
    heywood = [c for c, h in zip(x.columns, communalities, strict=True) if h >= 0.995]
    if heywood:
        notes.append("Heywood case: communality of 1 or more for " + ", ".join(heywood)
                     + "; extract fewer factors or use minres")
    if overall < 0.6:
        notes.append(f"KMO {overall:.3f} is below 0.60: the items share too little "
                     "variance for factor analysis (Kaiser 1974)")
    for item, value in per_item.items():
        if value < 0.5:
            notes.append(f"item {item}: KMO {value:.3f} is below 0.50")
    if sphericity["p"] >= 0.05:
        notes.append(f"Bartlett's test does not reject sphericity (p = {sphericity['p']:.3f})")
    flags = _flags(load_frame, loading_threshold, primary_threshold)
    for item, f in flags.iterrows():
        if f["cross_loading"]:
            notes.append(f"item {item} cross-loads: {f['loading']:.2f} on {f['primary']}, "
                         f"{f['secondary_loading']:.2f} on {f['secondary']}")
        if f["weak"]:
            notes.append(f"item {item} loads on no factor (largest loading "
                         f"{f['loading']:.2f} < {primary_threshold:.2f})")
    return EFAResult(
        n=n, excluded={"incomplete_answers": int(dropped)}, kmo=overall, kmo_items=per_item,
        bartlett=sphericity, scree=scree, n_factors_rules=rules, n_factors=k, method=method,
        rotation=rotation, loadings=load_frame, phi=phi_frame,
        communalities=pd.Series(communalities, index=x.columns, name="h2"), flags=flags,
        seed=seed, warnings=notes)
