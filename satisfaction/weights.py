"""Respondent weights and the weighted (design-based) statistics that use them.

A sample rarely matches its population: too many women, too few young
customers. The questionnaire may declare how to correct it (README,
"Weights"):

* ``weighting: {method: rake, margins: {VAR: {CODE: share, ...}, ...}, trim: [low, high]}``
  — **raking** (iterative proportional fitting, Deming & Stephan 1940): starting
  from weights 1, the weights are multiplied, margin after margin, by
  ``target total / weighted total`` of the respondent's category, and the passes
  are repeated until no cell of the joint table of all margin variables moves
  by more than ``tolerance · n`` between two passes. This is R's
  ``survey::rake`` (one pass = one ``postStratify`` per margin; its criterion
  is the same ``max |old − new|`` over the cells of ``svytable``).
  ``method: poststratify`` (one variable) is the closed form
  ``w_i = n · P_h / n_h`` (``survey::postStratify``).
* ``weight: COLUMN`` — the responses carry a weight per respondent.

The targets are shares; the totals are ``share · n`` so the weights have mean 1
(``Σ w = n``), as ``svydesign(weights=)`` then ``rake`` with population totals
``share · n`` gives. **Trimming** ``[low, high]`` (bounds on the mean-1 scale)
is ``survey::trimWeights(design, lower=low, upper=high, strict=TRUE)``: weights
beyond a bound are set to it and the amount trimmed is shared out equally
(additively) over the untrimmed weights, repeated until every weight lies
within the bounds. The total is kept, so the mean stays 1, but the margins are
then met only approximately (the result reports ``achieved`` beside
``target``); the weights are **not** re-raked after trimming (neither does
``survey``). When an achieved share then misses its target by more than
:data:`TRIM_MARGIN_TOLERANCE` (one percentage point) the caution
``weights_trim_margin_missed`` names the variable, code, target and achieved share.

Summaries: the **Kish design effect** ``deff = n Σw² / (Σw)²`` and the
**effective sample size** ``n_eff = (Σw)² / Σw² = n / deff`` (Kish 1965).

Weighted statistics treat the final weights as fixed probability weights of a
single-stage design without strata or clusters, R's
``svydesign(ids = ~1, weights = ~w)``, and use Taylor linearisation:

* mean ``x̄_w = Σ w_i x_i / Σ w_i`` with
  ``SE² = n/(n−1) Σ w_i² (x_i − x̄_w)² / (Σ w_i)²`` (``svymean``; a share is the
  mean of a 0/1 indicator); ``n`` is the design's respondents: with missing answers
  the answered are a domain of the design, as ``svymean(na.rm = TRUE)`` treats them
  (sums over the answered, ``n/(n−1)`` of the whole design; :func:`weighted_mean`);
  its ``deff`` is ``SE² / (s²_w / n)`` with
  ``s²_w = n/(n−1) Σ w (x − x̄_w)² / Σ w`` (``svymean(deff = "replace")``);
* the interval of a mean is ``x̄_w ± z SE`` (``confint`` of ``svymean``); of a share,
  the logit interval ``expit(logit p ± z SE / (p(1 − p)))``
  (``svyciprop(method = "logit", df = Inf)``);
* two groups: the difference of weighted means over the SE of the sum of the
  groups' linearised variances, on ``n − 2`` degrees of freedom (``svyttest``);
  more groups: the Wald test of the group contrasts, ``F = W/(k − 1)`` on
  ``(k − 1, n − k)`` degrees of freedom (``regTermTest`` of ``svyglm(y ~ g)``).

These SEs ignore that raking estimated the weights (``survey``'s calibrated
variance would be somewhat smaller): they are the conservative, fixed-weight
SEs. Everything here is tested against R's ``survey`` package
(``tests/reference/survey_weights.R``). We write it ourselves: the maintained
Python packages (``samplics``, ``ipfn``) either pin old pandas/NumPy or give the
raking weights without the design-based SEs, and these formulas are a few lines.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from satisfaction.diagnostics import Diagnostic
from satisfaction.errors import InputError
from satisfaction.questionnaire import Questionnaire

#: Reasons a respondent gets no weight (and leaves the weighted analysis).
WEIGHT_REASONS: tuple[str, ...] = ("weighting_variable_missing", "weight_missing")


@dataclass
class WeightResult:
    """Respondent weights (mean 1) and how they were made.

    Attributes
    ----------
    weights : Series
        Indexed by respondent id (the weighted respondents only), mean 1.
    method : str
        ``rake``, ``poststratify`` or ``column``.
    design_effect, effective_n : float
        Kish ``n Σw²/(Σw)²`` and ``(Σw)²/Σw²``.
    iterations : int
        Raking passes made (1 for post-stratification and a weight column).
    converged : bool
    margins : DataFrame
        ``variable code target achieved`` (shares; empty for a weight column).
    excluded : dict
        Respondents left without a weight, by reason (:data:`WEIGHT_REASONS`).
    excluded_respondents : list
        Their ids.
    trimmed : int
        Weights that lay outside the trimming bounds (and were set to them).
    trim : tuple or None
        The bounds.
    warnings : list of Diagnostic
    """

    weights: pd.Series
    method: str
    design_effect: float
    effective_n: float
    iterations: int
    converged: bool
    margins: pd.DataFrame
    excluded: dict[str, int] = field(default_factory=dict)
    excluded_respondents: list[Any] = field(default_factory=list)
    trimmed: int = 0
    trim: tuple[float, float] | None = None
    warnings: list[Diagnostic] = field(default_factory=list)

    @property
    def n(self) -> int:
        """Weighted respondents."""
        return len(self.weights)

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``satisfaction weight --json``."""
        return {"method": self.method, "n": self.n,
                "design_effect": self.design_effect, "effective_n": self.effective_n,
                "iterations": self.iterations, "converged": self.converged,
                "trim": None if self.trim is None else list(self.trim),
                "trimmed": self.trimmed,
                "margins": [{"variable": r.variable, "code": r.code, "target": r.target,
                             "achieved": r.achieved}
                            for r in self.margins.itertuples(index=False)],
                "excluded": dict(self.excluded),
                "warnings": [w.to_dict() for w in self.warnings]}


# -- the weights -----------------------------------------------------------------------------

def kish_design_effect(weights: Any) -> float:
    """Kish's design effect of unequal weights, ``n Σw² / (Σw)²`` (Kish 1965)."""
    w = np.asarray(weights, dtype=float)
    return float(len(w) * np.sum(w * w) / np.sum(w) ** 2)


def effective_n(weights: Any) -> float:
    """Kish's effective sample size ``(Σw)² / Σw²``."""
    w = np.asarray(weights, dtype=float)
    return float(np.sum(w) ** 2 / np.sum(w * w))


def _totals(codes: pd.DataFrame, w: np.ndarray) -> np.ndarray:
    """Weighted total of every observed cell of the joint table of ``codes``."""
    return pd.Series(w, index=codes.index).groupby(
        [codes[c] for c in codes.columns], sort=True).sum().to_numpy()


def rake(codes: pd.DataFrame, margins: dict[str, dict[str, float]], *,
         base: Any = None, max_iterations: int = 100, tolerance: float = 1e-8,
         ) -> tuple[np.ndarray, int, bool]:
    """Raking (iterative proportional fitting) to marginal shares.

    Each pass multiplies the weights, margin by margin, by
    ``T_h / Σ_{i∈h} w_i`` with ``T_h = share_h · Σ base`` (a ``postStratify`` per
    margin); the passes stop when ``max_cells |old − new| < tolerance · Σ base``
    over the joint table of all margin variables (``survey::rake`` with
    ``control = list(epsilon = tolerance, maxit = max_iterations)``).

    Parameters
    ----------
    codes : DataFrame
        One column per margin variable (codes as text, no missing values).
    margins : dict
        ``{variable: {code: share}}``, shares summing to 1 per variable.
    base : array, optional
        Starting weights (default 1).
    max_iterations : int
    tolerance : float

    Returns
    -------
    (weights, passes, converged)
    """
    w = np.ones(len(codes)) if base is None else np.asarray(base, dtype=float).copy()
    total = float(w.sum())
    epsilon = tolerance * total
    groups = {v: codes[v].to_numpy() for v in margins}
    old = _totals(codes, w)
    for passes in range(1, max_iterations + 1):
        for variable, shares in margins.items():
            cells = groups[variable]
            for code, share in shares.items():
                member = cells == code
                w[member] *= share * total / w[member].sum()
        new = _totals(codes, w)
        if np.max(np.abs(old - new)) < epsilon:
            return w, passes, True
        old = new
    return w, max_iterations, False


def poststratify(codes: pd.Series, shares: dict[str, float], base: Any = None) -> np.ndarray:
    """Post-stratification to one variable: ``w_i = b_i · P_h Σb / Σ_{i∈h} b_i``."""
    cells = codes.to_numpy()
    w = np.ones(len(cells)) if base is None else np.asarray(base, dtype=float).copy()
    total = float(w.sum())
    for code, share in shares.items():
        member = cells == code
        w[member] *= share * total / w[member].sum()
    return w


def trim_weights(weights: Any, low: float, high: float, max_rounds: int = 1000,
                 ) -> tuple[np.ndarray, int]:
    """``survey::trimWeights(lower = low, upper = high, strict = TRUE)``.

    Weights outside ``[low, high]`` are set to the bound; the amount trimmed,
    ``Σ (trimmed − original)``, is subtracted equally from the weights that were
    inside; repeated until all lie within the bounds (the total is kept).

    Returns
    -------
    (weights, trimmed)
        The trimmed weights and how many lay outside the bounds before trimming.
    """
    w = np.asarray(weights, dtype=float).copy()
    trimmed = int(np.sum((w < low) | (w > high)))
    for _ in range(max_rounds):
        outside = (w < low) | (w > high)
        if not outside.any():
            break
        clipped = np.clip(w, low, high)
        change = float(np.sum(clipped - w))
        clipped[~outside] -= change / np.sum(~outside)
        w = clipped
    return w, trimmed


def _margin_codes(questionnaire: Questionnaire, data: pd.DataFrame,
                  margins: dict[str, dict[str, float]]) -> pd.DataFrame:
    """The margin variables as text codes (missing as None); refuse absent columns."""
    out = {}
    for variable in margins:
        if variable not in data.columns:
            group = questionnaire.group(variable)
            raise InputError(f"the weighting variable {variable!r} is not in the responses "
                             f"(expected a column {group.source!r})", column=group.source)
        out[variable] = [None if v is None or v != v else str(v) for v in data[variable]]
    return pd.DataFrame(out, index=data.index, dtype=object)


def compute_weights(questionnaire: Questionnaire, data: pd.DataFrame,
                    column: pd.Series | None = None) -> WeightResult:
    """The respondent weights the questionnaire declares.

    Parameters
    ----------
    questionnaire : Questionnaire
        With ``weighting`` (raking or post-stratification) or ``weight`` (a column).
    data : DataFrame
        ``Responses.data`` (margin variables are groups, by their id).
    column : Series, optional
        For ``weight: COLUMN``: the weights, indexed by respondent id (numbers or
        missing), from :func:`read_weight_column`.

    Returns
    -------
    WeightResult

    Raises
    ------
    InputError
        A margin variable not in the data, a category in the data without a
        target, a target category without respondents.
    """
    spec = questionnaire.weighting
    if spec is None:
        if column is None:
            raise InputError("the questionnaire declares no 'weighting' or 'weight'")
        return _column_weights(questionnaire, column.reindex(data.index))
    margins = {v: {str(k): float(s) for k, s in shares.items()}
               for v, shares in spec.margins.items()}
    margins = {v: {k: s / sum(shares.values()) for k, s in shares.items()}
               for v, shares in margins.items()}
    codes = _margin_codes(questionnaire, data, margins)
    missing = codes.isna().any(axis=1)
    codes = codes[~missing]
    for variable, shares in margins.items():
        counts = codes[variable].value_counts()
        extra = [c for c in counts.index if c not in shares]
        if extra:
            raise InputError(
                f"{int(counts[extra].sum())} respondents have {variable!r} = {extra[0]!r}, "
                f"which has no target share in 'weighting.margins.{variable}' (targets: "
                f"{', '.join(shares)}); give it a share", column=variable, value=extra[0])
        empty = [c for c in shares if c not in counts.index]
        if empty:
            raise InputError(
                f"no respondent has {variable!r} = {empty[0]!r}, which has a target share; "
                "raking cannot give weight to an empty category (merge it with another)",
                column=variable, value=empty[0])
    if spec.method == "poststratify":
        (variable, shares), = margins.items()
        w, passes, converged = poststratify(codes[variable], shares), 1, True
    else:
        w, passes, converged = rake(codes, margins, max_iterations=spec.max_iterations,
                                    tolerance=spec.tolerance)
    trimmed = 0
    trim = None
    if spec.trim is not None:
        trim = (float(spec.trim[0]), float(spec.trim[1]))
        w, trimmed = trim_weights(w / w.mean(), *trim)
    w = w / w.mean()
    rows = []
    for variable, shares in margins.items():
        for code, share in shares.items():
            achieved = float(w[codes[variable].to_numpy() == code].sum() / w.sum())
            rows.append({"variable": variable, "code": code, "target": share,
                         "achieved": achieved})
    weights = pd.Series(w, index=codes.index, name="weight")
    excluded = {"weighting_variable_missing": int(missing.sum())}
    result = WeightResult(
        weights=weights, method=spec.method, design_effect=kish_design_effect(w),
        effective_n=effective_n(w), iterations=passes, converged=converged,
        margins=pd.DataFrame(rows, columns=["variable", "code", "target", "achieved"]),
        excluded=excluded, excluded_respondents=list(data.index[missing.to_numpy()]),
        trimmed=trimmed, trim=trim)
    _diagnose(result)
    return result


def _column_weights(questionnaire: Questionnaire, column: pd.Series) -> WeightResult:
    values = pd.to_numeric(column, errors="coerce")
    missing = values.isna()
    w = values[~missing].to_numpy(dtype=float)
    if len(w) == 0:
        raise InputError(f"the weight column {questionnaire.weight!r} is empty for every "
                         "analysed respondent", column=questionnaire.weight)
    w = w / w.mean()
    result = WeightResult(
        weights=pd.Series(w, index=values.index[~missing.to_numpy()], name="weight"),
        method="column", design_effect=kish_design_effect(w), effective_n=effective_n(w),
        iterations=1, converged=True,
        margins=pd.DataFrame(columns=["variable", "code", "target", "achieved"]),
        excluded={"weight_missing": int(missing.sum())},
        excluded_respondents=list(values.index[missing.to_numpy()]))
    _diagnose(result)
    return result


#: How far (absolute, as a share) an achieved margin may miss its target after trimming
#: before a caution says so: one percentage point. Raking itself meets the margins to
#: ``tolerance`` (far below this); a trimmed margin that misses by more than a point is
#: a correction the reader asked for and did not get, and a point is the precision
#: population shares are usually published with.
TRIM_MARGIN_TOLERANCE = 0.01


def _diagnose(result: WeightResult) -> None:
    result.warnings.append(Diagnostic(
        "weights_applied", "info",
        {"method": result.method, "n": result.n, "deff": round(result.design_effect, 3),
         "n_eff": round(result.effective_n, 1)}))
    if not result.converged:
        result.warnings.append(Diagnostic("weights_not_converged", "invalidates",
                                          {"iterations": result.iterations}))
    if result.excluded.get("weighting_variable_missing"):
        result.warnings.append(Diagnostic(
            "weights_variable_missing", "caution",
            {"n": result.excluded["weighting_variable_missing"]}))
    if result.excluded.get("weight_missing"):
        result.warnings.append(Diagnostic("weights_value_missing", "caution",
                                          {"n": result.excluded["weight_missing"]}))
    if result.trim is not None:
        for r in result.margins.itertuples(index=False):
            if abs(r.achieved - r.target) > TRIM_MARGIN_TOLERANCE:
                result.warnings.append(Diagnostic(
                    "weights_trim_margin_missed", "caution",
                    {"variable": r.variable, "code": r.code,  # shown in percent
                     "target": f"{100 * r.target:.1f}", "achieved": f"{100 * r.achieved:.1f}",
                     "target_share": float(r.target), "achieved_share": float(r.achieved),
                     "low": f"{result.trim[0]:g}", "high": f"{result.trim[1]:g}",
                     "tolerance": f"{100 * TRIM_MARGIN_TOLERANCE:g}"}))


def read_weight_column(questionnaire: Questionnaire, source: Any, data: pd.DataFrame,
                       rows: pd.Series | None = None, *, option: str | None = None,
                       **read_options: Any) -> pd.Series:
    """The ``weight: COLUMN`` of the responses file, by respondent id.

    Empty cells are missing (the respondent is left unweighted, counted as
    ``weight_missing``). A cell that is not a positive finite number is refused,
    naming the file, its row, the column and the value.

    Parameters
    ----------
    questionnaire : Questionnaire
    source : path or DataFrame
        The responses file (as given to :func:`~satisfaction.responses.load_responses`).
    data : DataFrame
        ``Responses.data`` (its index: the analysed respondent ids).
    rows : Series, optional
        ``Responses.rows``: file row of each respondent, for the messages.
    option : str, optional
        The command-line option that named the column (``"--weights"``), named in
        the message when the column is absent; else the questionnaire's ``weight``.
    **read_options
        ``sheet``, ``header_row`` as for the loader.
    """
    from satisfaction.responses import _id_text, _is_missing, parse_number, read_table

    name = questionnaire.weight
    frame, info = read_table(source, **read_options)
    file = str(info.get("source", source if isinstance(source, str | Path) else "<DataFrame>"))
    if name not in frame.columns:
        named_by = f"the {option} option" if option else "'weight' in the questionnaire"
        raise InputError(f"no weight column {name!r} (named by {named_by})",
                         file=file, column=name)
    ids = [_id_text(v) for v in frame[questionnaire.respondent_id]]
    by_id = dict(zip(ids, frame[name], strict=True))
    out = {}
    for rid in data.index:
        cell = by_id.get(str(rid))
        if cell is None or _is_missing(cell):
            out[rid] = np.nan
            continue
        number = parse_number(cell)
        if number is None or not math.isfinite(number) or number <= 0:
            row = None if rows is None else int(rows.get(rid))
            raise InputError("expected a positive number as the respondent's weight",
                             file=file, row=row, column=name, value=cell)
        out[rid] = number
    return pd.Series(out, name="weight", dtype=float)


# -- weighted statistics (svydesign(ids = ~1, weights = ~w)) --------------------------------

def _z(level: float) -> float:
    return float(stats.norm.ppf(0.5 + level / 2))


def weighted_mean(x: Any, weights: Any, level: float = 0.95) -> dict[str, float]:
    """Weighted mean with its linearised SE, as
    ``svymean(~x, design, deff = "replace", na.rm = TRUE)``.

    ``x`` and ``weights`` hold every respondent of the design (those with a
    weight, ``N`` of them); a missing ``x`` is an unanswered question. As in R's
    survey package, the answered respondents ``A`` are a domain of the whole design
    (Lumley 2010, *Complex Surveys*, sec. 2.3, subpopulations): the unanswered stay in
    the design with a zero contribution, so the factor is the design's ``N/(N−1)``,
    not the answered respondents' ``n/(n−1)``:

    .. math::
        \\bar x_w = \\frac{\\sum_{A} w_i x_i}{\\sum_{A} w_i},\\quad
        \\mathrm{SE}^2 = \\frac{N}{N-1}\\,
        \\frac{\\sum_{A} w_i^2 (x_i-\\bar x_w)^2}{(\\sum_{A} w_i)^2}

    (survey's subset keeps the design's ``fpc$sampsize``). ``deff`` is
    ``SE² / (s²_w / n)`` with the answered respondents' weighted variance
    ``s²_w = n/(n−1) Σ_A w (x − x̄_w)² / Σ_A w`` (``svyvar`` of the subset), as
    survey computes it. Respondents with a missing weight are not in the design.
    Tested against ``tests/reference/survey_weights.R`` (``missing_answers``).

    Returns ``n`` (answered) ``n_eff mean se ci.lower ci.upper deff`` (normal
    interval, ``confint``).
    """
    x = np.asarray(x, dtype=float)
    w = np.asarray(weights, dtype=float)
    design = int(np.sum(~np.isnan(w)))
    keep = ~np.isnan(x) & ~np.isnan(w)
    x, w = x[keep], w[keep]
    n = len(x)
    if n < 2:
        mean = float(np.sum(w * x) / np.sum(w)) if n else float("nan")
        return {"n": n, "n_eff": float(n), "mean": mean, **dict.fromkeys(
            ("se", "ci.lower", "ci.upper", "deff"), float("nan"))}
    total = float(np.sum(w))
    mean = float(np.sum(w * x) / total)
    z = w * (x - mean) / total
    se = math.sqrt(design / (design - 1) * float(np.sum(z * z)))
    s2 = n / (n - 1) * float(np.sum(w * (x - mean) ** 2)) / total
    deff = se * se / (s2 / n) if s2 > 0 else float("nan")
    half = _z(level) * se
    return {"n": n, "n_eff": effective_n(w), "mean": mean, "se": se,
            "ci.lower": mean - half, "ci.upper": mean + half, "deff": deff}


def weighted_share(indicator: Any, weights: Any, level: float = 0.95) -> dict[str, float]:
    """Weighted share of a 0/1 indicator: ``svymean`` SE, ``svyciprop`` logit interval.

    .. math:: \\mathrm{expit}\\big(\\mathrm{logit}\\,p \\pm z\\,\\mathrm{SE}/(p(1-p))\\big)

    Returns ``n share se ci.lower ci.upper`` (no interval when ``p`` is 0 or 1).
    """
    m = weighted_mean(indicator, weights, level)
    p, se = m["mean"], m["se"]
    lo = hi = float("nan")
    if 0 < p < 1 and se == se:
        centre = math.log(p / (1 - p))
        half = _z(level) * se / (p * (1 - p))
        lo, hi = 1 / (1 + math.exp(-(centre - half))), 1 / (1 + math.exp(-(centre + half)))
    return {"n": m["n"], "share": p, "se": se, "ci.lower": lo, "ci.upper": hi}


def weighted_group_test(y: Any, groups: Any, weights: Any) -> dict[str, Any]:
    """Design-based test that the weighted means of ``y`` are equal across groups.

    Two groups: ``svyttest(y ~ g)``, ``t = (ȳ_2 − ȳ_1) / SE`` with
    ``SE² = N/(N−1) Σ_g Σ_{i∈g} w_i² (y_i − ȳ_g)² / W_g²`` on ``n − 2`` df. ``k``
    groups: the Wald statistic ``W = d' V⁻¹ d`` of the contrasts ``d_g = ȳ_g − ȳ_1``,
    ``F = W/(k − 1)`` on ``(k − 1, n − k)`` df (``regTermTest(svyglm(y ~ g), ~g)``).
    Respondents with ``y`` or group missing are domains of the design as in
    :func:`weighted_mean`: ``n`` (the sums, the degrees of freedom) counts the
    respondents with both, the variance factor is ``N/(N−1)`` of every respondent with
    a weight (R's subset keeps the design's size); respondents without a weight are
    not in the design.

    Returns
    -------
    dict
        ``test`` (``svyttest`` or ``wald_f``), ``statistic``, ``df``, ``df2``
        (F only), ``pvalue``, ``n``, ``difference`` (two groups: second − first, in
        the sorted order of the codes), and ``groups``: per code ``n n_eff mean se``.
    """
    y = pd.Series(np.asarray(y, dtype=float))
    g = pd.Series(np.asarray(groups, dtype=object))
    w = pd.Series(np.asarray(weights, dtype=float))
    design = int(w.notna().sum())
    keep = y.notna() & g.notna() & w.notna()
    y, g, w = y[keep].to_numpy(), g[keep].astype(str).to_numpy(), w[keep].to_numpy()
    n = len(y)
    levels = sorted(set(g))
    k = len(levels)
    if k < 2 or n <= k:
        raise ValueError("a weighted group test needs two groups and more respondents "
                         "than groups")
    means, variances, per = [], [], []
    for code in levels:
        member = g == code
        wg, yg = w[member], y[member]
        total = float(wg.sum())
        mean = float(np.sum(wg * yg) / total)
        var = design / (design - 1) * float(np.sum((wg * (yg - mean)) ** 2)) / total ** 2
        means.append(mean)
        variances.append(var)
        per.append({"group": code, "n": int(member.sum()), "n_eff": effective_n(wg),
                    "mean": mean, "se": math.sqrt(var)})
    if k == 2:
        diff = means[1] - means[0]
        t = diff / math.sqrt(variances[0] + variances[1])
        df = n - 2
        return {"test": "svyttest", "statistic": t, "df": float(df), "df2": None,
                "pvalue": float(2 * stats.t.sf(abs(t), df)), "n": n, "difference": diff,
                "groups": per}
    d = np.array(means[1:]) - means[0]
    cov = np.full((k - 1, k - 1), variances[0]) + np.diag(variances[1:])
    wald = float(d @ np.linalg.solve(cov, d))
    f = wald / (k - 1)
    return {"test": "wald_f", "statistic": f, "df": float(k - 1), "df2": float(n - k),
            "pvalue": float(stats.f.sf(f, k - 1, n - k)), "n": n, "difference": None,
            "groups": per}


def weighted_items(questionnaire: Questionnaire, data: pd.DataFrame, weights: pd.Series,
                   boxes: int = 2, level: float = 0.95) -> pd.DataFrame:
    """Weighted mean and top-k-box share of every construct item, with design-based SEs.

    Rows: item ids in questionnaire order. Columns: ``construct n n_eff mean se
    ci.lower ci.upper deff top top.se top.ci.lower top.ci.upper`` (see
    :func:`weighted_mean`, :func:`weighted_share`). Only weighted respondents count.
    """
    owner = questionnaire.construct_of_item()
    frame = data.loc[weights.index]
    w = weights.to_numpy(dtype=float)
    rows = []
    for item in questionnaire.items:
        if item.id not in frame.columns:
            continue
        x = pd.to_numeric(frame[item.id], errors="coerce").to_numpy(dtype=float)
        scale = questionnaire.item_scale(item)
        top = np.where(np.isnan(x), np.nan, (x >= scale.max - boxes + 1).astype(float))
        m = weighted_mean(x, w, level)
        s = weighted_share(top, w, level)
        rows.append({"item": item.id, "construct": owner.get(item.id, ""), **m,
                     "top": s["share"], "top.se": s["se"], "top.ci.lower": s["ci.lower"],
                     "top.ci.upper": s["ci.upper"]})
    return pd.DataFrame(rows).set_index("item")


def weighted_indices(scores: pd.DataFrame, weights: pd.Series, level: float = 0.95
                     ) -> pd.DataFrame:
    """Weighted mean of each construct's 0-100 respondent index with its SE and interval.

    ``scores`` is :attr:`satisfaction.drivers.IndexResult.scores` (respondents ×
    constructs); the item weights inside each index are the *outer* weights of
    :func:`~satisfaction.drivers.indices`, unrelated to these respondent weights.
    Rows: ``construct n n_eff index se ci.lower ci.upper deff``.
    """
    frame = scores.loc[scores.index.intersection(weights.index)]
    w = weights.reindex(frame.index).to_numpy(dtype=float)
    rows = []
    for construct in frame.columns:
        m = weighted_mean(frame[construct].to_numpy(dtype=float), w, level)
        rows.append({"construct": construct, "n": m["n"], "n_eff": m["n_eff"],
                     "index": m["mean"], "se": m["se"], "ci.lower": m["ci.lower"],
                     "ci.upper": m["ci.upper"], "deff": m["deff"]})
    return pd.DataFrame(rows)


def weighted_performance(indices: Any, weights: pd.Series, level: float = 0.95) -> Any:
    """A copy of an :class:`~satisfaction.drivers.IndexResult` whose construct, purchase
    stage and item rows hold the weighted index: ``index`` the weighted mean of the
    respondents' 0-100 scores (construct scores, stage scores ``stage:<id>`` of
    ``scores``, item scores of ``item_scores``), ``se`` and the normal interval
    design-based (:func:`weighted_indices`, R's ``svymean``); ``n`` stays the
    respondents.

    .. math:: \\bar y_w = \\sum w_i y_i / \\sum w_i,\\quad
              \\mathrm{SE}^2 = \\frac{n}{n-1}\\sum w_i^2 (y_i-\\bar y_w)^2 / (\\sum w_i)^2

    It is the performance of the weighted importance-performance analysis
    (:func:`satisfaction.drivers.ipa` with ``weights=``) under the CB-SEM and, through
    :func:`satisfaction.pls_pipeline.pls_indices`, under weighted PLS; tested against
    ``tests/reference/ipa_weights_survey.R`` (``tests/test_ipa_rows_weights.py``).
    """
    def weighted(frame: pd.DataFrame, key: str, scores: pd.DataFrame | None,
                 prefix: str = "") -> pd.DataFrame:
        frame = frame.copy()
        if not len(frame):
            return frame
        if scores is None:
            raise ValueError("weighted_performance needs the respondents' scores of the "
                             f"{key} rows (IndexResult from drivers.indices)")
        by = weighted_indices(scores, weights, level).set_index("construct")
        names = prefix + frame[key].astype(str)
        known = names.isin(by.index).to_numpy()
        for col in ("index", "se", "ci.lower", "ci.upper"):
            frame.loc[known, col] = names[known].map(by[col]).to_numpy(dtype=float)
        return frame

    stage_scores = indices.scores[[c for c in indices.scores.columns
                                   if str(c).startswith("stage:")]]
    construct_scores = indices.scores.drop(columns=stage_scores.columns)
    return replace(indices,
                   constructs=weighted(indices.constructs, "construct", construct_scores),
                   stages=weighted(indices.stages, "stage", stage_scores, "stage:"),
                   items=weighted(indices.items, "item", indices.item_scores))


def weighted_group_tests(questionnaire: Questionnaire, data: pd.DataFrame,
                         scores: pd.DataFrame, weights: pd.Series) -> pd.DataFrame:
    """Every construct index across every categorical group, by
    :func:`weighted_group_test`. Rows: ``construct by test statistic df df2 pvalue n``.
    A group with more codes than :data:`satisfaction.compare.MAX_GROUPS` is not tested,
    as :func:`satisfaction.compare.compare` does not test it (``compare_too_many_groups``)."""
    from satisfaction.compare import MAX_GROUPS

    rows = []
    frame = data.loc[weights.index]
    for group in questionnaire.groups:
        if group.type != "categorical" or group.id not in frame.columns:
            continue
        codes = frame[group.id]
        if not 2 <= codes.dropna().nunique() <= MAX_GROUPS:
            continue
        for construct in scores.columns:
            y = scores[construct].reindex(frame.index)
            try:
                r = weighted_group_test(y, codes, weights.to_numpy(dtype=float))
            except ValueError:
                continue
            rows.append({"construct": construct, "by": group.id, **{
                k: r[k] for k in ("test", "statistic", "df", "df2", "pvalue", "n")}})
    return pd.DataFrame(rows, columns=["construct", "by", "test", "statistic", "df", "df2",
                                       "pvalue", "n"])


@dataclass
class WeightedAnalysis:
    """The weighted results of one analysis (what the pipeline reports beside the
    unweighted ones).

    Attributes
    ----------
    weights : WeightResult
    items : DataFrame
        :func:`weighted_items`.
    indices : DataFrame or None
        :func:`weighted_indices` of the construct indices.
    group_tests : DataFrame or None
        :func:`weighted_group_tests`. These design-based tests are the primary tests of
        group differences of a weighted survey: the report's group findings and chart
        marks come from them (adjusted over the family as the unweighted ones,
        :func:`satisfaction.report.weighted_context.weighted_marks`); the comparison's
        own ``tests`` are the unweighted tests, kept for comparison. The JSON says so
        (``group_tests_primary: true`` here, ``compare.tests_primary: false``).
    not_weighted : list of str
        The parts of the analysis that do not use the weights (empty when everything
        with a weighted form uses them).
    """

    weights: WeightResult
    items: pd.DataFrame
    indices: pd.DataFrame | None = None
    group_tests: pd.DataFrame | None = None
    not_weighted: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The ``--json`` of the weighted analysis: the weights, then each table's rows."""
        from satisfaction.io import records as rows

        def records(frame: pd.DataFrame | None, index: bool = False) -> Any:
            if frame is None:
                return None
            return rows(frame.reset_index() if index else frame)

        return {**self.weights.to_dict(), "items": records(self.items, index=True),
                "indices": records(self.indices), "group_tests": records(self.group_tests),
                "group_tests_primary": True, "not_weighted": list(self.not_weighted)}


#: What the weights are not applied to when the structural model is the CB-SEM. The
#: CB-SEM is weighted (:mod:`satisfaction.sem_weights`, lavaan's ``sampling.weights``,
#: with complete data and with FIML), and with it the total effects of the
#: importance-performance analysis; the performance of its construct, item and stage rows,
#: its Shapley shares and paired intervals are weighted too (:func:`weighted_performance`,
#: ``drivers.ipa(weights=)``; item importance from the weighted fit's loadings). The key
#: drivers by group are weighted under either estimator
#: (:func:`satisfaction.group_drivers.group_driver_importance` ``weights=``), and the
#: design-based group tests are the primary ones (:class:`WeightedAnalysis`). The
#: measurement is weighted (:func:`satisfaction.reliability.reliability` and
#: :func:`satisfaction.efa.efa` ``weights=``: the CFA as lavaan's ``sampling.weights``,
#: alpha, HTMT and the EFA from the weighted covariances and correlations), and so is
#: the construct invariance across groups of the compare stage
#: (:func:`satisfaction.invariance.construct_invariance` ``weights=``: each step
#: lavaan's ``cfa(sampling.weights =)`` with MLR), the correlations of the indices with
#: numeric group variables (:func:`satisfaction.compare.weighted_association`, ``svyglm``)
#: and the survey ⋈ customers link (:func:`satisfaction.value.link.link_survey`
#: ``weights=``: segment means with ``svyby`` SEs and their design-based test, weighted
#: correlations with customer value, weighted mediation paths; the rank tests across
#: segments, which have no weighted form here, are not computed when weighted). Both
#: under either estimator. What is listed here gets the caution
#: ``weights_not_applied``; with nothing listed the analysis says what is weighted
#: (info ``weights_scope``).
NOT_WEIGHTED: tuple[str, ...] = ()
#: The same under PLS: weighted PLS (:func:`satisfaction.pls.pls` ``weights=``) weights
#: the paths, the PLS reliability and HTMT, the index and the IPMA, and the IPA's
#: Shapley shares and paired performance intervals and the performance of its item and
#: stage rows (``drivers.ipa(weights=)``; caution ``weights_not_applied_pls`` for what is
#: listed here, info ``weights_scope_pls`` when nothing is). The factor-analytic
#: measurement (CFA, EFA, reliability, validity) and the construct invariance across
#: groups are weighted as under the CB-SEM.
NOT_WEIGHTED_PLS: tuple[str, ...] = ()


def weighting_scope(not_weighted: list[str] | tuple[str, ...], pls: bool) -> Diagnostic:
    """The analysis's note on what the respondent weights are applied to: the caution
    ``weights_not_applied`` (``_pls`` under weighted PLS) while something with a weighted
    form stays unweighted (``not_weighted``, :data:`NOT_WEIGHTED` /
    :data:`NOT_WEIGHTED_PLS`), else the plain statement ``weights_scope`` (``_pls``),
    severity info."""
    if not_weighted:
        return (Diagnostic("weights_not_applied_pls", "caution") if pls
                else Diagnostic("weights_not_applied", "caution"))
    return (Diagnostic("weights_scope_pls", "info") if pls
            else Diagnostic("weights_scope", "info"))


def weighted_analysis(questionnaire: Questionnaire, data: pd.DataFrame,
                      weights: WeightResult, scores: pd.DataFrame | None = None,
                      level: float = 0.95, estimator: str = "sem") -> WeightedAnalysis:
    """Weighted item means and top-box shares, index means and group tests.

    Parameters
    ----------
    questionnaire : Questionnaire
    data : DataFrame
        ``Responses.data``.
    weights : WeightResult
    scores : DataFrame, optional
        Respondent construct indices (``IndexResult.scores``).
    level : float
    estimator : {"sem", "pls"}
        The structural model used: what is not weighted differs
        (:data:`NOT_WEIGHTED`, :data:`NOT_WEIGHTED_PLS`).
    """
    items = weighted_items(questionnaire, data, weights.weights, level=level)
    index_table = tests = None
    if scores is not None:
        index_table = weighted_indices(scores, weights.weights, level)
        tests = weighted_group_tests(questionnaire, data, scores, weights.weights)
    return WeightedAnalysis(weights=weights, items=items, indices=index_table,
                            group_tests=tests, not_weighted=list(
                                NOT_WEIGHTED_PLS if estimator == "pls" else NOT_WEIGHTED))
