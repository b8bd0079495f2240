"""Modification indices: score (Lagrange multiplier) tests of every parameter left out.

:func:`modindices` asks, for each parameter a researcher could add to a fitted
model (a cross-loading, a residual covariance, a regression, or a fixed value
set free), how much the chi-square would drop if it were freed, and how large
it would be. It lists the same parameters as lavaan's ``modindices()`` with
its defaults, under lavaan's column names (``lhs op rhs mi epc sepc.lv
sepc.all``), sorted by ``mi``, so the two can be held side by side.

Example
-------
>>> from semopy.examples import holzinger39
>>> from satisfaction.model import fit
>>> from satisfaction.modindices import modindices
>>> res = fit("visual =~ x1 + x2 + x3\\ntextual =~ x4 + x5 + x6\\nspeed =~ x7 + x8 + x9",
...           holzinger39.get_data())
>>> top = modindices(res).iloc[0]
>>> top["lhs"], top["op"], top["rhs"], round(float(top["mi"]), 3)
('visual', '=~', 'x9', 36.411)
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import pandas as pd

from satisfaction.errors import UsageError
from satisfaction.robust import mean_jacobian, sigma_jacobian, vech_index
from satisfaction.sem_ml import (
    RAM,
    Block,
    ParRow,
    Pattern,
    Structure,
    build_ram,
    fiml_objective,
    sigma_gradient,
    weighted,
)

#: Columns of :func:`modindices` (lavaan's names; ``group`` only in a multi-group fit).
MODINDICES_COLUMNS = ["lhs", "op", "rhs", "mi", "epc", "sepc.lv", "sepc.all"]
#: lavaan sets an index to NA (and drops it) when the variance of its score is
#: below ``.Machine$double.eps^(1/3)`` on lavaan's per-case information scale.
_V_TOLERANCE = np.finfo(float).eps ** (1 / 3)


@dataclasses.dataclass
class Fitted:
    """The pieces of an ML fit that the score tests and factor scores need."""

    structure: Structure
    param_of_row: list[list[int]]
    nparam: int
    blocks: list[Block]
    theta: np.ndarray
    labels: list[str] | None
    #: full-information ML: each group's missingness patterns (``blocks`` then hold the
    #: mean-structure RAM and the EM moments); None for a complete-data fit
    fiml: list[list[Pattern]] | None = None


def fitted_model(result: Any) -> Fitted:
    """The fitted layout, data blocks and estimates kept on an ``SEMResult``.

    A full-information ML fit keeps its model with lavaan's mean structure
    (``_rams``) and each group's data (``_fiml``: rows, missingness patterns, EM
    moments); its blocks are then the mean-structure RAMs with the EM moments.

    Raises
    ------
    UsageError
        For a fit that keeps neither.
    """
    spec = result.spec
    blocks = result.blocks
    theta = result.theta
    fiml = result.fiml_data
    labels = list(result.groups.labels) if getattr(result, "groups", None) is not None else None
    if fiml is not None and spec is not None and theta is not None:
        blocks = [Block(ram, d.sigma1, d.n, d.mu1)
                  for ram, d in zip(result.rams, fiml, strict=True)]
        return Fitted(spec.structure, spec.param_of_row, spec.nparam, blocks,
                      np.asarray(theta, dtype=float), labels, [d.pats for d in fiml])
    if spec is None or blocks is None or theta is None:
        raise UsageError("modification indices and factor scores need the fitted model's "
                         "layout and data, which this result does not keep")
    return Fitted(spec.structure, spec.param_of_row, spec.nparam, blocks,
                  np.asarray(theta, dtype=float), labels)


def fiml_weighted(blocks: list[Any], pats: list[list[Pattern]], theta: np.ndarray,
                  nparam: int) -> tuple[float, np.ndarray, np.ndarray | None]:
    """FIML discrepancy, its gradient and its expected Hessian over all groups.

    ``F = Σ_g n_g/N Σ_k n_k/n_g [log|Σ_k| + tr(Σ_k⁻¹(S_k + d_k d_k'))]`` over the
    missingness patterns ``k`` (:func:`~satisfaction.sem_ml.fiml_objective`), on the
    scale of :func:`~satisfaction.sem_ml.weighted` (``−2 logL/N`` + const). The
    expected Hessian takes each pattern's observed variables ``o`` at the
    model-implied moments (lavaan's expected information of ``missing = "ml"``,
    ``h1.information = "structured"``, times 2):

    .. math::  H_{kl} = Σ_k (n_k/N) [tr(Σ_o⁻¹ ∂_kΣ_o Σ_o⁻¹ ∂_lΣ_o) + 2 ∂_kμ_o' Σ_o⁻¹ ∂_lμ_o]

    ``blocks`` are anything with ``ram`` and ``n`` (a :class:`~satisfaction.sem_ml.Block`).
    Tested against lavaan 0.6 ``modindices()`` after ``missing = "ml"``
    (tests/reference/lavaan_fiml_diagnostics.R); also the Fisher scoring of the
    FIML bootstrap draws (:mod:`satisfaction.model`).
    """
    total = sum(b.n for b in blocks)
    f, g = 0.0, np.zeros(nparam)
    H = np.zeros((nparam, nparam))
    for b, group_pats in zip(blocks, pats, strict=True):
        ram = b.ram
        sigma = ram.implied(theta)["Sigma"]
        mu = ram.implied_mean(theta)
        fb, W, gmu = fiml_objective(group_pats, sigma, mu)
        if not np.isfinite(fb):
            return np.inf, g, None
        w = b.n / total
        jm = mean_jacobian(ram, theta, nparam)
        f += w * fb
        g += w * (sigma_gradient(ram, theta, W, nparam) + jm.T @ gmu)
        r, c = vech_index(ram.p)
        js = sigma_jacobian(ram, theta, nparam)
        D = np.zeros((nparam, ram.p, ram.p))  # ∂Σ/∂θ_k, one p×p slice per parameter
        D[:, r, c] = js.T
        D[:, c, r] = js.T
        for pt in group_pats:
            o = pt.observed
            inv = np.linalg.inv(sigma[np.ix_(o, o)])
            Do = D[:, o][:, :, o]
            X = inv @ Do @ inv  # batched over the parameters
            part = X.reshape(nparam, -1) @ Do.reshape(nparam, -1).T \
                + 2.0 * jm[o].T @ inv @ jm[o]
            H += pt.n / total * part
    return f, g, H


# -- the parameters lavaan considers --------------------------------------------


def _regression_names(structure: Structure) -> list[str]:
    names: list[str] = []
    for r in structure.rows:
        if r.op == "~":
            for n in (r.lhs, r.rhs):
                if n not in names:
                    names.append(n)
    return names


def candidate_rows(structure: Structure, observed: list[str]) -> list[ParRow]:
    """Every parameter of lavaan's "full" table (``lav_partable_full``), in its order.

    Loadings of every latent variable on every observed variable that is not an
    exogenous covariate nor part of a regression; variances and covariances among
    those observed variables that are indicators; variances and covariances among
    latent variables; regressions among all variables of the regression
    equations (never of an indicator on a latent variable, never of an exogenous
    covariate on anything: under ``fixed.x`` lavaan tests none of those).
    """
    exo = set(structure.exogenous_observed)
    latent = list(structure.latent)
    eqs = _regression_names(structure)
    indicators = {r.rhs for r in structure.rows if r.op == "=~"}
    nox = [v for v in observed if v not in exo]
    rows: list[ParRow] = []
    for lv in latent:
        rows += [ParRow(lv, "=~", v) for v in nox if v not in eqs]
    ov = [v for v in nox if v in indicators]
    for a, first in enumerate(ov):
        rows += [ParRow(first, "~~", second) for second in ov[a:]]
    for a, first in enumerate(latent):
        rows += [ParRow(first, "~~", second) for second in latent[a:]]
    for y in eqs:
        if y in exo:
            continue
        for x in eqs:
            if x != y and not (y in indicators and y not in latent and x in latent):
                rows.append(ParRow(y, "~", x))
    return rows


def _cell(row: ParRow, pos: dict[str, int]) -> tuple[int, int, int]:
    """Where a row sits: (0, i, j) in ``A``, (1, i, j) in ``S`` (i ≤ j), (2, i, i) a mean."""
    if row.op == "=~":
        return 0, pos[row.rhs], pos[row.lhs]
    if row.op == "~":
        return 0, pos[row.lhs], pos[row.rhs]
    if row.op == "~1":
        return 2, pos[row.lhs], pos[row.lhs]
    i, j = pos[row.lhs], pos[row.rhs]
    return 1, min(i, j), max(i, j)


def _value(ram: RAM, theta: np.ndarray, cell: tuple[int, int, int]) -> float:
    """The value of a cell in the fitted model (fixed or free)."""
    mat, i, j = cell
    if mat == 2:
        return float(ram.means(theta)[i])
    A, S = ram.matrices(theta)
    return float((A if mat == 0 else S)[i, j])


@dataclasses.dataclass
class _Extended:
    """The model with every candidate parameter added (free, at its current value)."""

    blocks: list[Block]
    theta: np.ndarray
    extras: list[tuple[int, ParRow, int]]  # (group, row, index in theta)


def _extend(fitted: Fitted) -> _Extended:
    """Add every candidate row as a free parameter, valued 0 (new) or at its fixed value.

    Fixed rows of the model are freed too (lavaan's ``all.free``), except those
    of exogenous observed covariates (``fixed.x``): their variances, covariances
    and means are not parameters.
    """
    st = fitted.structure
    q = fitted.nparam
    exo = set(st.exogenous_observed)
    extras: list[tuple[int, ParRow, int]] = []
    values: list[float] = []
    blocks: list[Block] = []
    for g, block in enumerate(fitted.blocks):
        ram = block.ram
        observed = ram.variables[: ram.p]
        pos = {v: k for k, v in enumerate(ram.variables)}
        rows = list(st.rows)
        par = list(fitted.param_of_row[g])
        fixed = [0.0] * len(rows)
        taken = set()
        for k, r in enumerate(st.rows):
            cell = _cell(r, pos)
            taken.add(cell)
            if par[k] >= 0:
                continue
            fixed[k] = _value(ram, fitted.theta, cell)
            if not (r.exo or (r.op == "~1" and r.lhs in exo)):
                par[k] = q + len(values)  # a fixed value: lavaan frees it too
                extras.append((g, r, par[k]))
                values.append(fixed[k])
        for r in candidate_rows(st, observed):
            cell = _cell(r, pos)
            if cell in taken:
                continue
            taken.add(cell)
            rows.append(r)
            par.append(q + len(values))
            fixed.append(0.0)
            extras.append((g, r, par[-1]))
            values.append(0.0)
        ext = build_ram(dataclasses.replace(st, rows=rows), observed, par, fixed)
        mean = getattr(block, "mean", None)  # sample means of a mean structure
        blocks.append(Block(ext, block.S, block.n) if mean is None
                      else Block(ext, block.S, block.n, mean))
    theta = np.concatenate([fitted.theta, np.array(values)])
    return _Extended(blocks, theta, extras)


# -- standardization of the expected change --------------------------------------


def _standardize(ram: RAM, theta: np.ndarray, row: ParRow, epc: float, fixed_value: float
                 ) -> tuple[float, float]:
    """(sepc.lv, sepc.all) of one expected change, as lavaan's ``modindices()``.

    The change is standardized with the fitted model's implied variances: a path
    ``j → i`` times ``sd(j)/sd(i)`` (``std.lv``: latent sds only); a covariance
    divided by the residual sds of its two variables (``cov.std``; ``std.lv``:
    of its latent sides only); a variance divided by the implied variance. For a
    fixed variance lavaan standardizes the fixed value itself, signed as the change.
    """
    mom = ram.implied(theta)
    S, C = mom["S"], mom["C"]
    pos = {v: k for k, v in enumerate(ram.variables)}
    mat, i, j = _cell(row, pos)
    latent = [k >= ram.p for k in range(len(ram.variables))]
    with np.errstate(invalid="ignore", divide="ignore"):
        sd = np.sqrt(np.where(np.diag(C) > 0, np.diag(C), np.nan))
        rv = np.sqrt(np.abs(np.diag(S)))
    sign = math.copysign(1.0, epc) if epc != 0 else 0.0
    if mat == 2:  # an intercept or latent mean: divided by the sd (std.lv: latent only)
        return epc / (sd[i] if latent[i] else 1.0), epc / sd[i]
    if mat == 0:
        return (epc * (sd[j] if latent[j] else 1.0) / (sd[i] if latent[i] else 1.0),
                epc * sd[j] / sd[i])
    if i == j:
        value = abs(fixed_value)
        if value < math.sqrt(np.finfo(float).eps):
            return 0.0, 0.0
        return (sign * value / (sd[i] ** 2 if latent[i] else 1.0), sign * value / sd[i] ** 2)
    lv = epc / ((rv[i] if latent[i] else 1.0) * (rv[j] if latent[j] else 1.0))
    return lv, epc / (rv[i] * rv[j])


# -- the score test --------------------------------------------------------------


def modindices(result: Any, *, sort: bool = True, minimum: float = 0.0) -> pd.DataFrame:
    """Modification indices and expected parameter changes of a fitted ML model.

    For every parameter ``f`` that lavaan's ``modindices()`` considers (see
    :func:`candidate_rows`, plus every fixed value of the model but the
    ``fixed.x`` covariances), the model is extended by ``f`` at its current value
    (0 for a parameter that was absent) and the score test of freeing it is
    computed at the fitted estimates ``θ̂`` (Sörbom 1989):

    .. math::

        \\mathrm{MI}_f = \\frac{N\\, g_f^2}{2\\,V_f}, \\qquad
        \\mathrm{EPC}_f = -\\frac{g_f}{V_f}, \\qquad
        V_f = H_{ff} - H_{f\\theta} H_{\\theta\\theta}^{-1} H_{\\theta f}

    with ``g`` the gradient of the ML discrepancy
    ``F = Σ_g (n_g/N)[log|Σ_g| + tr(S_g Σ_g⁻¹) − log|S_g| − p]`` and ``H`` its
    expected Hessian (twice lavaan's per-case expected information), both from
    :func:`satisfaction.sem_ml.weighted`; ``N`` is the total sample size. The
    MI is the expected drop of the chi-square, asymptotically χ²(1). ``V_f`` is
    the variance of the score left after the free parameters have absorbed what
    they can; below ``ε^(1/3)`` on lavaan's scale (``V_f/2``) the parameter is
    not identified once added (it duplicates a free one, e.g. a marker loading)
    and, as in lavaan, it is left out.

    ``sepc.all`` (and ``sepc.lv``) standardize the EPC with the fitted model:
    a loading or regression ``j → i`` times ``sd(j)/sd(i)``; a covariance
    divided by the two residual standard deviations (lavaan's ``cov.std``).

    Parameters
    ----------
    result : SEMResult
        A single- or multi-group ML fit from :func:`satisfaction.model.fit`
        (complete data; not ``missing="fiml"``).
    sort : bool
        Sort by ``mi``, largest first (lavaan's ``sort. = TRUE``).
    minimum : float
        Keep only indices above this value (lavaan's ``minimum.value``).

    Returns
    -------
    pandas.DataFrame
        ``lhs op rhs mi epc sepc.lv sepc.all`` (with ``group`` after ``rhs`` in a
        multi-group fit), one row per parameter.

    Raises
    ------
    UsageError
        For a full-information ML fit, or a fit whose information matrix is singular.

    References
    ----------
    Sörbom, D. (1989). Model modification. *Psychometrika*, 54, 371-384.
    Saris, W. E., Satorra, A., & Sörbom, D. (1987). The detection and correction of
    specification errors in structural equation models. *Sociological Methodology*, 17.
    Tested against lavaan 0.6 ``modindices()`` on HolzingerSwineford1939 (CFA, and by
    school), PoliticalDemocracy (SEM) and a model with exogenous covariates
    (tests/reference/lavaan_modindices.R).
    """
    fitted = fitted_model(result)
    ext = _extend(fitted)
    q, total = fitted.nparam, len(ext.theta)
    if fitted.fiml is None:
        f, g, H = weighted(ext.blocks, ext.theta, total)
    else:
        f, g, H = fiml_weighted(ext.blocks, fitted.fiml, ext.theta, total)
    if H is None or not np.isfinite(f):
        raise UsageError("modification indices cannot be computed: the fitted model's "
                         "implied covariance matrix is not positive definite")
    n = sum(b.n for b in fitted.blocks)
    H = (H + H.T) / 2
    extra = np.arange(q, total)
    H_mm = H[:q, :q]
    H_me = H[:q, extra]
    try:
        absorbed = np.linalg.solve(H_mm, H_me)
    except np.linalg.LinAlgError:
        raise UsageError("modification indices cannot be computed: the information matrix "
                         "of the model is singular (is the model identified?)") from None
    V = np.diag(H)[extra] - (H_me * absorbed).sum(axis=0)
    ge = g[extra]
    records = []
    for (grp, row, index), v, gf in zip(ext.extras, V, ge, strict=True):
        if not v / 2 >= _V_TOLERANCE:
            continue
        mi = n * gf * gf / (2 * v)
        epc = -gf / v
        block = fitted.blocks[grp]
        fixed_value = float(ext.theta[index])
        lv, std = _standardize(block.ram, fitted.theta, row, epc, fixed_value)
        rec: dict[str, Any] = {"lhs": row.lhs, "op": row.op, "rhs": row.rhs}
        if fitted.labels is not None:
            rec["group"] = fitted.labels[grp]
        rec.update({"mi": mi, "epc": epc, "sepc.lv": lv, "sepc.all": std})
        records.append(rec)
    columns = list(MODINDICES_COLUMNS)
    if fitted.labels is not None:
        columns.insert(3, "group")
    out = pd.DataFrame(records, columns=columns)
    if minimum > 0:
        out = out[out["mi"] > minimum]
    if sort:
        out = out.sort_values("mi", ascending=False, kind="stable")
    return out.reset_index(drop=True)


__all__ = ["MODINDICES_COLUMNS", "candidate_rows", "fitted_model", "modindices"]
