"""Partial least squares path modelling (PLS-PM, "PLS-SEM").

The estimator of Wold (1982) in the form of Lohmöller (1989, *Latent Variable
Path Modeling with Partial Least Squares*) as reviewed by Tenenhaus, Esposito
Vinzi, Chatelin & Lauro (2005, *PLS path modeling*, Computational Statistics &
Data Analysis 48, 159-205), with the conventions of SmartPLS and R's seminr.

Model
-----
Written in lavaan syntax: ``F =~ x1 + x2`` a reflective block (outer Mode A),
``F <~ x1 + x2`` a formative block (Mode B), ``F ~ G + H`` structural paths.
A variable used in a ``~`` line that no block defines is a single-item
construct measured by itself. ``~~`` lines, modifiers and labels are ignored
(PLS estimates no covariances). A block made of other constructs
(``Stage =~ Dim1 + Dim2``, or ``<~`` for a formative one) is a second-order
construct, estimated by :mod:`satisfaction.pls_hoc` (repeated indicators or
the embedded / disjoint two-stage approach).

Algorithm
---------
Let ``X`` (``n × p``) hold the indicators standardized with the ``n − 1``
convention (mean 0, ``var = 1`` with divisor ``n − 1``, as seminr and
SmartPLS), ``S = X'X/(n − 1)`` their correlation matrix, ``W`` the ``p × L``
outer-weight matrix (column ``j`` non-zero only on block ``j``) and ``D`` the
``L × L`` inner adjacency (``D[i, j] = 1`` for a path ``i → j``). Everything
below needs only ``S``: the construct scores are ``Y = X W``, their
correlations ``C = W' S W`` and the indicator-score covariances ``S W``.

0. Start with unit weights, ``W = M`` (the block indicator matrix), scaled so
   every score has variance one: ``w_j ← w_j / sqrt(w_j' S_jj w_j)``.
1. Inner weights ``E`` (``L × L``) from ``C`` for constructs adjacent in the
   inner model (``D + D'`` non-zero), 0 elsewhere:

   - *centroid*: ``e_ij = sign(c_ij)``;
   - *factorial*: ``e_ij = c_ij``;
   - *path* (default): for a predecessor ``i`` of ``j`` (``i → j``), ``e_ij``
     is the coefficient of ``Y_i`` in the multiple regression of ``Y_j`` on all
     its predecessors, ``C_PP^{-1} C_Pj``; for a successor ``k`` (``j → k``),
     ``e_kj = c_kj``.

   The inner proxy of ``j`` is ``Z_j = Σ_i e_ij Y_i`` (``Z = Y E``).
2. Outer weights from the proxies, with ``G = S W E = X'Z/(n − 1)``:

   - Mode A (reflective): ``w_j = G_jj``, the covariances of the block's
     indicators with ``Z_j`` (simple regressions of the indicators on ``Z_j``);
   - Mode B (formative): ``w_j = S_jj^{-1} G_jj``, the multiple regression of
     ``Z_j`` on the block.

   Each ``w_j`` is then rescaled to ``var(X_j w_j) = 1``.
3. Stop when ``Σ |w_new − w_old| < tol`` over all weights (``tol = 1e-7``), or
   after ``max_iter = 300`` iterations (then the result carries an
   ``invalidates`` diagnostic ``not_converged``).
4. Sign: the weights of a block are defined up to sign. After convergence a
   block whose loadings sum to a negative number is reflected (``w_j ← −w_j``)
   so that its score runs in the direction of its indicators. Unit starting
   weights make this rare; it is what keeps bootstrap draws oriented like the
   full sample (each draw is oriented by the same rule on its own data).
5. Final estimates: scores ``Y = X W``; loadings ``λ_kj = cor(x_k, Y_j)`` (the
   cross-loadings for every pair ``k, j``); path coefficients by OLS of each
   endogenous score on its predecessors, ``β_j = C_PP^{-1} C_Pj``;
   ``R²_j = β_j' C_Pj`` and adjusted ``R̄² = 1 − (1 − R²)(n − 1)/(n − k − 1)``
   with ``k`` predictors; total effects ``T = (I − B)^{-1} − I`` with
   ``B[i, j] = β_ij``, indirect effects ``T − B``.

Respondent weights (weighted PLS)
---------------------------------
``pls(..., weights=)`` (``fit --estimator pls --weights COL``) is WPLS (Becker &
Ismail 2016, Accounting for sampling weights in PLS path modeling, European
Management Journal 34(6), 606-617; SmartPLS's weighted PLS). Since everything
above needs only ``S``, the weights enter where ``S`` is formed: with the weights
of the analysed respondents rescaled to sum to ``n``, the indicators are
standardized with the weighted means ``x̄_w = Σ w x / n`` and standard deviations
``sqrt(Σ w (x − x̄_w)² / (n − 1))`` (R survey's ``svymean``/``svyvar``), and
``S = X' diag(w) X / (n − 1)``. The scores then have weighted mean 0 and
variance 1; the IPMA and the 0-100 index use weighted means and standard
deviations; the bootstrap resamples respondents, each carrying its weight (a
respondent drawn ``c`` times counts ``c · w`` in the draw's correlations), and
the BCa jackknife leaves out one weighted respondent. With integer weights every
estimate equals that of the data with each respondent repeated ``w`` times
(frequency weights; the adjusted R² keeps the ``n`` respondents); constant
weights give the unweighted fit (``tests/test_pls_weights.py``). The group
analysis (MICOM, permutation test, PLS-MGA: :mod:`satisfaction.pls_groups`) and
Q²/PLSpredict (:mod:`satisfaction.pls_predict`) of a weighted fit are weighted the
same way.

Consistent PLS
--------------
``pls(..., consistent=True)`` (``fit --estimator plsc``) keeps the weights and
scores above and corrects what PLS attenuates for the reflective blocks
(Dijkstra & Henseler 2015): ``ρA`` per block, construct correlations divided by
``sqrt(ρA_i ρA_j)``, consistent loadings ``sqrt(ρA_j) w_j / (w_j'w_j)``, and
paths, R² and effects by OLS on the corrected correlations (formulas in
:func:`pls`). The bootstrap applies the same correction in every draw.
Checked against seminr's PLSc fixtures (mobi, factorial scheme) to 1e-6.

The weights are those of seminr and SmartPLS; plspm standardizes with ``n``
and its weights are ours × ``sqrt(n/(n − 1))`` (paths, loadings and R² agree).

Bootstrap
---------
:func:`bootstrap_pls` resamples respondents with replacement, re-runs the
algorithm on each draw's correlation matrix (all draws at once: the iteration
above is written for a stack of ``S`` matrices) starting from the full-sample
weights, and reports percentile intervals (``numpy.quantile``, linear
interpolation) of weights, loadings, paths, total and indirect effects, and
with ``ci="bca"`` BCa intervals beside them (Efron 1987; the acceleration from
the ``n`` leave-one-out refits, :mod:`satisfaction.bca`). Specific indirect
effects (each chain ``X → M → … → Y``) and their intervals are in
:mod:`satisfaction.pls_mediation`; Q² and PLSpredict in
:mod:`satisfaction.pls_predict`.
Sign changes: no sign correction against the full-sample estimates is applied
(SmartPLS's and seminr's default "no sign changes"); each draw is oriented by
the rule of step 4, so a draw in which a block's indicators correlate
negatively with its score on balance is reflected. Draws that do not converge
are left out and counted (diagnostic ``bootstrap_failed``, ``invalidates``
above 10 %). Draws use ``numpy.random.default_rng(seed)``: the same seed
gives the same intervals.

Example
-------
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(1)
>>> f = rng.normal(size=(200, 1))
>>> d = pd.DataFrame(f + rng.normal(size=(200, 4)), columns=["a1", "a2", "b1", "b2"])
>>> r = pls("A =~ a1 + a2\\nB =~ b1 + b2\\nB ~ A", d)
>>> r.converged, round(float(r.scores.std(ddof=1)["A"]), 6)
(True, 1.0)
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from satisfaction.diagnostics import Diagnostic
from satisfaction.errors import InputError

Scheme = Literal["path", "factorial", "centroid"]
SCHEMES: tuple[str, ...] = ("path", "factorial", "centroid")


# -- the model -------------------------------------------------------------------

@dataclass(frozen=True)
class PLSModel:
    """A PLS path model: blocks with their outer mode, and the inner paths.

    Attributes
    ----------
    constructs : tuple of str
        Construct names in order of first appearance.
    blocks : dict
        Construct → its indicators.
    modes : dict
        Construct → ``"A"`` (reflective, ``=~``) or ``"B"`` (formative, ``<~``).
    paths : tuple of (str, str)
        ``(from, to)`` pairs of the inner model.
    """

    constructs: tuple[str, ...]
    blocks: dict[str, tuple[str, ...]]
    modes: dict[str, str]
    paths: tuple[tuple[str, str], ...]
    #: higher-order construct → its dimensions (first-order constructs; ``blocks``
    #: holds the same names); estimated by :mod:`satisfaction.pls_hoc`
    higher_order: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def indicators(self) -> tuple[str, ...]:
        """Indicators in block order."""
        return tuple(x for c in self.constructs for x in self.blocks[c])

    def predecessors(self, construct: str) -> list[str]:
        """Constructs with a path into ``construct``, in construct order."""
        into = {a for a, b in self.paths if b == construct}
        return [c for c in self.constructs if c in into]

    @property
    def endogenous(self) -> list[str]:
        """Constructs with at least one predecessor."""
        return [c for c in self.constructs if self.predecessors(c)]

    def adjacency(self) -> np.ndarray:
        """``D`` with ``D[i, j] = 1`` for a path ``i → j``."""
        pos = {c: k for k, c in enumerate(self.constructs)}
        d = np.zeros((len(self.constructs),) * 2)
        for a, b in self.paths:
            d[pos[a], pos[b]] = 1.0
        return d


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """Model lines without comments, ``;``-split, ``+``-continuations joined."""
    out: list[tuple[int, str]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        for piece in raw.split(";"):
            for mark in ("#", "!"):
                if mark in piece:
                    piece = piece[: piece.index(mark)]
            piece = piece.strip()
            if not piece:
                continue
            if out and out[-1][1].endswith("+"):
                out[-1] = (out[-1][0], out[-1][1] + " " + piece)
            else:
                out.append((number, piece))
    return out


def _term_name(term: str) -> str:
    """The variable of a right-hand term, modifiers (``a*x``) dropped."""
    return term.split("*")[-1].strip()


def parse_pls_model(text: str, source: str | None = None) -> PLSModel:
    """Read a PLS path model from lavaan syntax (``=~``, ``<~``, ``~``).

    ``<~`` lines are read here; the rest goes through
    :func:`satisfaction.sem_ml.parse_syntax`. Raises :class:`InputError` with
    the line for what cannot be a PLS model.
    """
    from satisfaction.sem_ml import SyntaxProblem, parse_syntax

    blocks: dict[str, list[str]] = {}
    modes: dict[str, str] = {}
    order: list[str] = []
    where = source or "<model>"
    rest: list[str] = []
    formative_lines: list[tuple[int, str]] = []
    for number, line in _logical_lines(text):
        if "<~" in line:
            formative_lines.append((number, line))
            rest.append("")
        else:
            rest.append(line)
    try:
        rows = parse_syntax("\n".join(rest))
    except SyntaxProblem as exc:
        raise InputError(f"{exc} in {exc.text!r}", file=where) from None
    paths: list[tuple[str, str]] = []
    for number, line in formative_lines:
        lhs, rhs = (t.strip() for t in line.split("<~", 1))
        items = [_term_name(t) for t in rhs.split("+") if t.strip()]
        if not lhs.replace(".", "_").isidentifier() or not items:
            raise InputError("expected 'Construct <~ x1 + x2' (a formative block)", file=where,
                             line=number, value=line)
        if lhs in blocks:
            raise InputError(f"the construct {lhs!r} is defined twice", file=where, line=number)
        blocks[lhs], modes[lhs] = items, "B"
        order.append(lhs)
    for r in rows:
        if r.op == "=~":
            if r.lhs in modes and modes[r.lhs] == "B":
                raise InputError(f"the construct {r.lhs!r} is both formative and reflective",
                                 file=where, line=r.line or None)
            if r.lhs not in blocks:
                blocks[r.lhs], modes[r.lhs] = [], "A"
                order.append(r.lhs)
            blocks[r.lhs].append(r.rhs)
        elif r.op == "~":
            paths.append((r.rhs, r.lhs))
        elif r.op in (":=", "=="):
            raise InputError(f"'{r.lhs} {r.op} {r.rhs}': defined parameters and constraints "
                             "are not part of a PLS model", file=where, line=r.line or None)
    for a, b in paths:  # observed variables in the inner model: single-item constructs
        for name in (a, b):
            if name not in blocks:
                blocks[name], modes[name] = [name], "A"
                order.append(name)
    if not paths:
        raise InputError("a PLS path model needs structural paths ('F ~ G')", file=where)
    higher = _higher_order_blocks(order, blocks, where)
    for a, b in paths:
        for h, d in ((a, b), (b, a)):
            if d in higher.get(h, ()):
                raise InputError(f"a structural path between the higher-order construct {h!r} "
                                 f"and its own dimension {d!r}", file=where)
    seen: dict[str, str] = {}
    for c in order:
        if c in higher:
            continue
        for x in blocks[c]:
            if x in seen and seen[x] != c:
                raise InputError(f"the indicator {x!r} belongs to both {seen[x]!r} and {c!r}",
                                 file=where)
            seen[x] = c
    linked = {a for p in paths for a in p}
    linked |= {c for h, dims in higher.items() if h in linked for c in dims}
    alone = [c for c in order if c not in linked]
    if alone:
        raise InputError(f"constructs without a structural path: {', '.join(alone)} (PLS needs "
                         "every construct in the inner model)", file=where)
    return PLSModel(tuple(order), {c: tuple(blocks[c]) for c in order}, dict(modes),
                    tuple(dict.fromkeys(paths)), higher)


def _higher_order_blocks(order: list[str], blocks: dict[str, list[str]], where: str
                         ) -> dict[str, tuple[str, ...]]:
    """The blocks made of other constructs (second-order constructs), checked:
    only constructs (no items beside them), first-order dimensions with items,
    each dimension under one higher-order construct."""
    higher: dict[str, tuple[str, ...]] = {}
    parent: dict[str, str] = {}
    for c in order:
        inner = [x for x in blocks[c] if x in blocks and x != c]
        if not inner:
            continue
        if len(inner) != len(blocks[c]):
            items = [x for x in blocks[c] if x not in inner]
            raise InputError(f"{c!r} is measured by constructs ({', '.join(inner)}) and by "
                             f"indicators ({', '.join(items)}); a higher-order construct is "
                             "measured by constructs only", file=where)
        for x in inner:
            if x in parent:
                raise InputError(f"the construct {x!r} is a dimension of both {parent[x]!r} "
                                 f"and {c!r}", file=where)
            parent[x] = c
        higher[c] = tuple(inner)
    for c, dims in higher.items():
        nested = [x for x in dims if x in higher]
        if nested:
            raise InputError(f"{c!r} is measured by the higher-order construct "
                             f"{nested[0]!r}: only second-order constructs are supported",
                             file=where)
    return higher


def pls_model(spec: Any) -> PLSModel:
    """A :class:`PLSModel` from model text, a path to a syntax file, a
    :class:`~satisfaction.questionnaire.Questionnaire` or a :class:`PLSModel`."""
    if isinstance(spec, PLSModel):
        return spec
    if hasattr(spec, "to_lavaan"):
        from satisfaction.pls_hoc import questionnaire_syntax

        return parse_pls_model(questionnaire_syntax(spec), getattr(spec, "source", None))
    if isinstance(spec, Path):
        return parse_pls_model(spec.read_text(encoding="utf-8"), str(spec))
    return parse_pls_model(str(spec))


# -- the algorithm on (stacks of) correlation matrices ------------------------------

@dataclass
class _Core:
    """Arrays of the algorithm with a leading draw axis ``b``."""

    W: np.ndarray          # b × p × L outer weights
    iterations: np.ndarray  # b
    converged: np.ndarray   # b


def _normalise(W: np.ndarray, S: np.ndarray) -> np.ndarray:
    var = ((S @ W) * W).sum(axis=1)  # w_j' S w_j (matrix products: einsum of three is slow)
    return W / np.sqrt(var)[:, None, :]


def _inner(C: np.ndarray, D: np.ndarray, scheme: str) -> np.ndarray:
    """Inner weights ``E`` (``b × L × L``, column ``j`` builds ``Z_j``)."""
    adj = (D + D.T) > 0
    if scheme == "centroid":
        return np.where(adj, np.sign(C), 0.0)
    if scheme == "factorial":
        return np.where(adj, C, 0.0)
    E = np.where(D.T > 0, C, 0.0)  # successors k of j: e_kj = c_kj
    for j in range(D.shape[0]):
        P = np.flatnonzero(D[:, j])
        if P.size:
            E[:, P, j] = np.linalg.solve(C[:, P][:, :, P], C[:, P, j][..., None])[..., 0]
    return E


def _iterate(S: np.ndarray, M: np.ndarray, mode_b: list[np.ndarray], D: np.ndarray,
             scheme: str, tol: float, max_iter: int, W0: np.ndarray | None) -> _Core:
    b = S.shape[0]

    def scaled(W: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``W`` rescaled to unit-variance scores, and ``S W`` (rescaled alike: one
        product per iteration serves the scaling and the next inner step)."""
        SW = S @ W
        size = np.sqrt((SW * W).sum(axis=1))[:, None, :]
        return W / size, SW / size

    W, SW = scaled(np.broadcast_to(M if W0 is None else W0, (b, *M.shape)) * 1.0)
    iterations = np.zeros(b, dtype=int)
    converged = np.zeros(b, dtype=bool)
    for it in range(1, max_iter + 1):
        C = np.swapaxes(W, 1, 2) @ SW
        E = _inner(C, D, scheme)
        G = SW @ E
        new = G * M
        for j, idx in mode_b:
            new[:, idx, j] = np.linalg.solve(S[:, idx][:, :, idx], G[:, idx, j][..., None])[..., 0]
        new, SW_new = scaled(new)
        crit = np.abs(new - W).sum(axis=(1, 2))
        active = ~converged
        W = np.where(active[:, None, None], new, W)
        SW = np.where(active[:, None, None], SW_new, SW)
        iterations[active] = it
        converged |= active & (crit < tol)
        if converged.all():
            break
    # step 4: orient each block by the sum of its loadings
    loadings = SW * M
    flip = np.where(loadings.sum(axis=1) < 0, -1.0, 1.0)
    return _Core(W * flip[:, None, :], iterations, converged)


@dataclass
class _Estimates:
    W: np.ndarray       # b × p × L
    cross: np.ndarray   # b × p × L  (S W)
    C: np.ndarray       # b × L × L construct correlations (disattenuated under PLSc)
    B: np.ndarray       # b × L × L path coefficients, B[i, j] = i → j
    r2: np.ndarray      # b × L (nan for exogenous)
    total: np.ndarray   # b × L × L
    lam: np.ndarray     # b × p × L loadings on the own block (consistent under PLSc)
    rho: np.ndarray     # b × L reliabilities used (rhoA; 1 when not corrected)


def _rho_a(S: np.ndarray, W: np.ndarray, reflective: list[tuple[int, np.ndarray]]
           ) -> np.ndarray:
    """``ρA`` of each block in ``reflective`` (``b × L``; 1 for the other blocks).

    ``ρA = (w'w)² · w'(S_jj − diag S_jj)w / ((w'w)² − Σ w_k⁴)``, the same as
    ``(w'w)² · w'(S − diag S)w / w'(ww' − diag ww')w`` (Dijkstra & Henseler
    2015, eq. 13)."""
    b, L = S.shape[0], W.shape[2]
    rho = np.ones((b, L))
    for j, idx in reflective:
        w = W[:, idx, j]
        R = S[:, idx][:, :, idx]
        ww = np.einsum("bk,bk->b", w, w)
        off = np.einsum("bk,bkl,bl->b", w, R, w) - np.einsum("bk,bkk,bk->b", w, R, w)
        rho[:, j] = ww**2 * off / (ww**2 - (w**4).sum(axis=1))
    return rho


def _estimates(S: np.ndarray, W: np.ndarray, D: np.ndarray,
               reflective: list[tuple[int, np.ndarray]] | None = None) -> _Estimates:
    """Final estimates; with ``reflective`` (PLSc) the construct correlations are
    disattenuated by ``ρA`` and the own-block loadings made consistent."""
    cross = S @ W
    C = np.swapaxes(W, 1, 2) @ cross
    b, L = C.shape[0], C.shape[1]
    lam = cross.copy()  # read at own-block positions only
    rho = np.ones((b, L))
    if reflective:
        rho = _rho_a(S, W, reflective)
        with np.errstate(invalid="ignore", divide="ignore"):
            q = np.sqrt(np.where(rho > 0, rho, np.nan))
            C = C / (q[:, :, None] * q[:, None, :])
            idx_l = np.arange(L)
            C[:, idx_l, idx_l] = 1.0
            for j, idx in reflective:
                w = W[:, idx, j]
                lam[:, idx, j] = w * (q[:, j] / np.einsum("bk,bk->b", w, w))[:, None]
    B = np.zeros((b, L, L))
    r2 = np.full((b, L), np.nan)
    for j in range(L):
        P = np.flatnonzero(D[:, j])
        if P.size:
            A = C[:, P][:, :, P]
            rhs = C[:, P, j]
            bad = ~np.isfinite(A).all(axis=(1, 2)) | ~np.isfinite(rhs).all(axis=1)
            if bad.any():
                A = np.where(bad[:, None, None], np.eye(P.size), A)
            beta = np.linalg.solve(A, rhs[..., None])[..., 0]
            beta[bad] = np.nan
            B[:, P, j] = beta
            r2[:, j] = np.einsum("bk,bk->b", beta, rhs)
    eye = np.eye(L)
    with np.errstate(invalid="ignore"):
        bb = np.nan_to_num(np.swapaxes(B, 1, 2))
        total = np.linalg.inv(eye - bb)  # (I − B')^{-1}: row = to, col = from
    total = np.swapaxes(total, 1, 2) - eye
    total[~np.isfinite(B).all(axis=(1, 2))] = np.nan
    return _Estimates(W, cross, C, B, r2, total, lam, rho)


def _structure(model: PLSModel) -> tuple[np.ndarray, list[tuple[int, np.ndarray]], np.ndarray]:
    ind = model.indicators
    M = np.zeros((len(ind), len(model.constructs)))
    mode_b = []
    k = 0
    for j, c in enumerate(model.constructs):
        idx = np.arange(k, k + len(model.blocks[c]))
        M[idx, j] = 1.0
        if model.modes[c] == "B" and idx.size > 1:
            mode_b.append((j, idx))
        k += idx.size
    return M, mode_b, model.adjacency()


def _reflective(model: PLSModel) -> list[tuple[int, np.ndarray]]:
    """``(j, indicator positions)`` of the reflective (``=~``) blocks with 2+ items:
    the blocks PLSc corrects (single items and Mode B blocks keep ``ρ = 1``)."""
    out, k = [], 0
    for j, c in enumerate(model.constructs):
        size = len(model.blocks[c])
        if model.modes[c] == "A" and size > 1:
            out.append((j, np.arange(k, k + size)))
        k += size
    return out


# -- the result -------------------------------------------------------------------

@dataclass
class PLSResult:
    """A PLS path model estimate.

    Attributes
    ----------
    model : PLSModel
    n : int
        Respondents analysed.
    scheme : str
        Inner weighting scheme.
    consistent : bool
        Consistent PLS (PLSc): ``loadings``, ``paths``, ``r2``, ``effects`` and
        ``construct_correlations`` are the corrected ones; ``weights``,
        ``scores`` and ``cross_loadings`` stay those of PLS (composites).
    rho : Series
        Reliability each construct was corrected with (``ρA``; 1 for single
        items and Mode B blocks, and for every construct without PLSc).
    weights, loadings : DataFrame
        One row per indicator: ``construct``, ``indicator``, ``mode``, ``est``.
    cross_loadings : DataFrame
        Indicators × constructs: ``cor(x_k, Y_j)``.
    paths : DataFrame
        ``from``, ``to``, ``est`` (standardized path coefficient).
    r2 : DataFrame
        Endogenous constructs: ``r2``, ``r2.adj``.
    effects : DataFrame
        ``from``, ``to``, ``direct``, ``indirect``, ``total`` for every pair
        with a total effect.
    construct_correlations : DataFrame
    scores : DataFrame
        Construct scores (mean 0, variance 1 with divisor ``n − 1``), indexed as
        the analysed rows of the data.
    iterations : int
    converged : bool
    warnings : list of Diagnostic
    bootstrap : DataFrame or None
        Set by :func:`bootstrap_pls`.
    higher_order : dict or None
        For a model with second-order constructs: ``approach``
        (repeated/embedded/disjoint) and ``constructs`` (construct → dimensions);
        ``model`` is then the model estimated (repeated indicators, or stage 2).
    stage1 : PLSResult or None
        The first stage of a two-stage estimate (its scores are the stage-2 data).
    """

    model: PLSModel
    n: int
    scheme: str
    weights: pd.DataFrame
    loadings: pd.DataFrame
    cross_loadings: pd.DataFrame
    paths: pd.DataFrame
    r2: pd.DataFrame
    effects: pd.DataFrame
    construct_correlations: pd.DataFrame
    scores: pd.DataFrame
    iterations: int
    converged: bool
    warnings: list[Diagnostic] = field(default_factory=list)
    #: consistent PLS (PLSc): paths, R², loadings and construct correlations corrected
    consistent: bool = False
    #: reliability used for the correction (rhoA; 1 for uncorrected constructs)
    rho: pd.Series | None = None
    bootstrap: pd.DataFrame | None = None
    bootstrap_info: dict[str, Any] = field(default_factory=dict)
    #: the kept draws (rows) of every statistic of ``bootstrap`` (columns, same order)
    bootstrap_draws: np.ndarray | None = field(default=None, repr=False)
    #: with ``ci="bca"``: the leave-one-out estimates (rows) of the same statistics
    bootstrap_jackknife: np.ndarray | None = field(default=None, repr=False)
    higher_order: dict[str, Any] | None = None
    stage1: PLSResult | None = field(default=None, repr=False)
    _S: np.ndarray | None = field(default=None, repr=False)
    _X: np.ndarray | None = field(default=None, repr=False)
    _settings: dict[str, Any] = field(default_factory=dict, repr=False)
    #: respondent weights of the analysed rows, rescaled to sum to ``n`` (None: unweighted)
    _w: np.ndarray | None = field(default=None, repr=False)

    @property
    def weighted(self) -> bool:
        """Whether the fit used respondent weights (weighted PLS)."""
        return self._w is not None

    @property
    def status(self) -> str:
        """``ok``, ``caution`` or ``invalid`` from the diagnostics."""
        from satisfaction.diagnostics import status

        return status(self.warnings)

    def parameters(self) -> pd.DataFrame:
        """lavaan-style rows: ``~`` paths, ``=~`` loadings, ``<~`` weights of
        formative blocks (with bootstrap ``se``/``ci.lower``/``ci.upper`` when run)."""
        rows = [{"lhs": r["to"], "op": "~", "rhs": r["from"], "est": r["est"]}
                for r in self.paths.to_dict("records")]
        rows += [{"lhs": r["construct"], "op": "=~", "rhs": r["indicator"], "est": r["est"]}
                 for r in self.loadings.to_dict("records")]
        rows += [{"lhs": r["construct"], "op": "<~", "rhs": r["indicator"], "est": r["est"]}
                 for r in self.weights.to_dict("records") if r["mode"] == "B"]
        out = pd.DataFrame(rows, columns=["lhs", "op", "rhs", "est"])
        if self.bootstrap is not None:
            kind = {"~": "path", "=~": "loading", "<~": "weight"}
            b = self.bootstrap.set_index(["kind", "from", "to"])
            keys = [(kind[o], r if o == "~" else lhs, lhs if o == "~" else r)
                    for lhs, o, r in zip(out["lhs"], out["op"], out["rhs"], strict=True)]
            got = b.reindex(keys)
            for c in ("se", "ci.lower", "ci.upper"):
                out[c] = got[c].to_numpy()
        if self.higher_order:
            from satisfaction.pls_hoc import hoc_parameters

            out = hoc_parameters(self, out)
        return out

    def to_dict(self) -> dict[str, Any]:
        """Plain data for ``--json``."""
        out: dict[str, Any] = {
            "estimator": "plsc" if self.consistent else "pls", "scheme": self.scheme,
            "n": self.n, "weighted": self.weighted,
            "iterations": self.iterations, "converged": self.converged,
            "status": self.status,
            "parameters": self.parameters().to_dict("records"),
            "weights": self.weights.to_dict("records"),
            "loadings": self.loadings.to_dict("records"),
            "cross_loadings": self.cross_loadings.reset_index(names="indicator")
            .to_dict("records"),
            "paths": self.paths.to_dict("records"),
            "r2": {c: float(v) for c, v in self.r2["r2"].items()},
            "r2_adj": {c: float(v) for c, v in self.r2["r2.adj"].items()},
            "effects": self.effects.to_dict("records"),
            "rho": {c: float(v) for c, v in self.rho.items()} if self.rho is not None else {},
            "warnings": [d.to_dict() for d in self.warnings],
        }
        if self.higher_order:
            out["higher_order"] = {"approach": self.higher_order["approach"],
                                   "constructs": {h: list(d) for h, d in
                                                  self.higher_order["constructs"].items()}}
        if self.stage1 is not None:  # two-stage: the first stage's weights, loadings, paths
            out["stage1"] = self.stage1.to_dict()
        if self.bootstrap is not None:
            out["bootstrap"] = {**self.bootstrap_info,
                                "estimates": self.bootstrap.to_dict("records")}
        return out


#: Treatments of missing answers: respondents dropped, or each empty cell given its item's mean.
MISSING: tuple[str, ...] = ("listwise", "mean")


def _weighted_mean(x: np.ndarray, w: np.ndarray | None) -> np.ndarray:
    """Column means, weighted ``Σ w x / Σ w`` when ``w`` is given."""
    return x.mean(axis=0) if w is None else w @ x / w.sum()


def _weighted_sd(x: np.ndarray, w: np.ndarray | None) -> np.ndarray:
    """Column standard deviations, ``sqrt(Σ w (x − x̄_w)² / (Σ w − 1))`` with the weights
    rescaled to sum to ``n`` (so the divisor is ``n − 1``); ``ddof = 1`` without weights."""
    if w is None:
        return x.std(axis=0, ddof=1)
    n = x.shape[0]
    u = w * n / w.sum()
    return np.sqrt(u @ (x - _weighted_mean(x, u)) ** 2 / (n - 1))


def _standardize(data: pd.DataFrame, model: PLSModel, missing: str = "listwise",
                 weights: pd.Series | None = None
                 ) -> tuple[np.ndarray, pd.Index, list[Diagnostic], np.ndarray | None]:
    """Indicators standardized (divisor ``n − 1``) after the missing-data treatment.

    With ``weights`` (one float per row of ``data``, NaN for none): respondents
    without a weight are left out first (counted in ``pls_weighted``), the mean
    replacement uses weighted means, the weights of the analysed respondents are
    rescaled to sum to ``n`` and the standardization uses the weighted mean and
    standard deviation (:func:`_weighted_sd`); the rescaled weights are returned
    (None without weights).

    ``listwise``: a respondent with an empty indicator is left out (diagnostic
    ``listwise``). ``mean``: every empty cell takes the mean of its indicator
    over the respondents who answered it (SmartPLS's and seminr's default
    "mean replacement"); the cells and respondents concerned are counted in the
    diagnostic ``mean_replaced``. A column no respondent answered is an error."""
    cols = list(model.indicators)
    absent = [c for c in dict.fromkeys(cols) if c not in data.columns]
    if absent:
        raise InputError(f"the model's indicators {', '.join(absent)} are not columns of the "
                         "data")
    if missing not in MISSING:
        raise InputError(f"missing values are treated by one of {', '.join(MISSING)}",
                         column="--missing", value=missing)
    # an indicator repeated by a higher-order construct is read and counted once
    frame = data[list(dict.fromkeys(cols))].apply(pd.to_numeric, errors="coerce")
    warnings: list[Diagnostic] = []
    no_weight = 0
    wk = None
    if weights is not None:  # aligned with the rows of data (respondent_weights)
        has = np.isfinite(weights.to_numpy(dtype=float))
        no_weight = int((~has).sum())
        frame, wk = frame[has], weights.to_numpy(dtype=float)[has]
    empty = frame.isna()
    if missing == "mean" and empty.any().any():
        unanswered = [c for c in frame.columns if empty[c].all()]
        if unanswered:
            raise InputError(f"the indicators {', '.join(unanswered)} have no answer to take "
                             "a mean from")
        warnings.append(Diagnostic("mean_replaced", "info", {
            "cells": int(empty.to_numpy().sum()),
            "respondents": int(empty.any(axis=1).sum())}))
        if wk is None:
            frame = frame.fillna(frame.mean())
        else:
            answered = frame.notna().to_numpy()
            frame = frame.fillna(pd.Series({c: float(np.average(
                frame[c].to_numpy()[answered[:, k]], weights=wk[answered[:, k]]))
                for k, c in enumerate(frame.columns)}))
    keep = frame.notna().all(axis=1)
    if not keep.all():
        warnings.append(Diagnostic("listwise", "info", {"n": int((~keep).sum())}))
    frame = frame[keep]
    if wk is not None:
        wk = wk[keep.to_numpy()]
    x = frame[cols].to_numpy(dtype=float)
    if x.shape[0] < 3:
        raise InputError(f"PLS needs at least 3 complete respondents, found {x.shape[0]}")
    w = None
    if weights is not None:
        from satisfaction.sem_weights import normalise, weights_diagnostic

        w = normalise(wk, x.shape[0])
        d = weights_diagnostic(w, no_weight)
        warnings.append(Diagnostic("pls_weighted", "info", d.params))
    sd = _weighted_sd(x, w)
    if np.any(sd == 0):
        bad = [c for c, s in zip(cols, sd, strict=True) if s == 0]
        raise InputError(f"the indicators {', '.join(bad)} have the same value for every "
                         "respondent")
    return (x - _weighted_mean(x, w)) / sd, frame.index, warnings, w


def pls(model: Any, data: pd.DataFrame, *, scheme: Scheme = "path", tol: float = 1e-7,
        max_iter: int = 300, consistent: bool = False, missing: str = "listwise",
        higher_order: str = "repeated", weights: Any = None) -> PLSResult:
    """Estimate a PLS path model (see the module docstring for the algorithm).

    Parameters
    ----------
    model : str, Path, Questionnaire or PLSModel
        lavaan syntax with ``=~`` (Mode A), ``<~`` (Mode B) and ``~`` lines.
    data : DataFrame
        One column per indicator (a value that is not a number counts as missing).
    scheme : {"path", "factorial", "centroid"}
        Inner weighting scheme (Lohmöller 1989).
    tol, max_iter
        Stop when the summed absolute change of the outer weights is below
        ``tol``; non-convergence after ``max_iter`` iterations invalidates the result.
    consistent : bool
        Consistent PLS (PLSc, Dijkstra & Henseler 2015) for the reflective
        blocks: with the PLS weights ``w_j`` (unit-variance composites),

        - ``ρA_j = (w_j'w_j)² · w_j'(S_jj − diag S_jj)w_j / w_j'(w_jw_j' − diag w_jw_j')w_j``
          (eq. 13; 1 for single items and Mode B blocks);
        - disattenuated construct correlations ``r*_ij = r_ij / sqrt(ρA_i ρA_j)``
          (unit diagonal);
        - consistent loadings ``λ_j = sqrt(ρA_j) · w_j / (w_j'w_j)``;
        - paths and R² by OLS on ``R*``: ``β_j = R*_PP^{-1} R*_Pj``,
          ``R²_j = β_j' R*_Pj``; total effects from these paths.

        A ``ρA ≤ 0`` (the correction is undefined) or a corrected correlation
        beyond ±1 invalidates the result (``plsc_rho_not_positive``,
        ``plsc_correlation_above_one``).
    missing : {"listwise", "mean"}
        ``listwise`` leaves out a respondent with a missing indicator (counted in
        a ``listwise`` diagnostic); ``mean`` replaces each missing cell by its
        indicator's mean over the respondents who answered (SmartPLS's default;
        cells and respondents counted in a ``mean_replaced`` diagnostic).
    higher_order : {"repeated", "embedded", "disjoint"}
        How second-order constructs are estimated (ignored without them):
        :func:`satisfaction.pls_hoc.fit_higher_order`.
    weights : str, Series, array or None
        Respondent (sampling) weights: a column of ``data``, a Series indexed like
        ``data`` or one number per row (read by
        :func:`satisfaction.sem_weights.respondent_weights`; a respondent without
        a weight is left out and counted). Weighted PLS (WPLS, Becker & Ismail
        2016): the weights of the analysed respondents are rescaled to sum to
        ``n``; the indicators are standardized with the weighted means and
        standard deviations and ``S = X' diag(w) X / (n − 1)`` is their weighted
        correlation matrix. Everything the algorithm computes is a function of
        ``S`` (module docstring), so the weights enter there only; the construct
        scores then have weighted mean 0 and variance 1. With integer weights the
        estimates equal those of the data with every respondent repeated ``w``
        times (frequency weights; the adjusted R² keeps the ``n`` respondents);
        constant weights give the unweighted fit. The info ``pls_weighted``
        reports the Kish design effect and effective sample size.

    Returns
    -------
    PLSResult

    References
    ----------
    Tenenhaus, Esposito Vinzi, Chatelin & Lauro (2005), CSDA 48, 159-205;
    Lohmöller (1989); Hair, Hult, Ringle & Sarstedt (2022), *A Primer on PLS-SEM*;
    Dijkstra & Henseler (2015), Consistent partial least squares path modeling,
    MIS Quarterly 39(2), 297-316.
    """
    if scheme not in SCHEMES:
        raise InputError(f"the inner weighting scheme must be one of {', '.join(SCHEMES)}",
                         value=scheme)
    m = pls_model(model)
    if weights is not None:  # a float per row of data, NaN for none
        from satisfaction.sem_weights import respondent_weights

        weights = respondent_weights(data, weights)
    if m.higher_order:
        from satisfaction.pls_hoc import fit_higher_order

        return fit_higher_order(m, data, approach=higher_order, scheme=scheme, tol=tol,
                                max_iter=max_iter, consistent=consistent, missing=missing,
                                weights=weights)
    X, index, warnings, w = _standardize(data, m, missing, weights)
    n = X.shape[0]
    S = ((X.T if w is None else X.T * w) @ X / (n - 1))[None]
    M, mode_b, D = _structure(m)
    core = _iterate(S, M, mode_b, D, scheme, tol, max_iter, None)
    est = _estimates(S, core.W, D, _reflective(m) if consistent else None)
    converged = bool(core.converged[0])
    if not converged:
        warnings.append(Diagnostic("not_converged", "invalidates", {"n": max_iter}))
    if consistent:
        warnings += _plsc_checks(m, est)
    result = _result(m, n, scheme, X, S[0], est, index, int(core.iterations[0]), converged,
                     warnings, {"tol": tol, "max_iter": max_iter, "consistent": consistent,
                                "missing": missing})
    result.consistent = consistent
    result._w = w
    return result


def _plsc_checks(m: PLSModel, est: _Estimates) -> list[Diagnostic]:
    """PLSc admissibility: every ``ρA`` positive, every corrected correlation in [−1, 1]."""
    out: list[Diagnostic] = []
    cons = list(m.constructs)
    for j, c in enumerate(cons):
        r = float(est.rho[0, j])
        if not (np.isfinite(r) and r > 0):
            out.append(Diagnostic("plsc_rho_not_positive", "invalidates", {"construct": c,
                                  "rho": r}, constructs=(c,)))
    C = est.C[0]
    for i in range(len(cons)):
        for j in range(i + 1, len(cons)):
            if np.isfinite(C[i, j]) and abs(C[i, j]) > 1:
                out.append(Diagnostic("plsc_correlation_above_one", "invalidates",
                                      {"a": cons[i], "b": cons[j], "value": float(C[i, j])},
                                      constructs=(cons[i], cons[j])))
    return out


def _result(m: PLSModel, n: int, scheme: str, X: np.ndarray, S: np.ndarray, est: _Estimates,
            index: pd.Index, iterations: int, converged: bool, warnings: list[Diagnostic],
            settings: dict[str, Any]) -> PLSResult:
    cons, ind = list(m.constructs), list(m.indicators)
    owner = [c for c in cons for _ in m.blocks[c]]
    pos = {c: j for j, c in enumerate(cons)}
    W, cross = est.W[0], est.cross[0]
    weights = pd.DataFrame({"construct": owner, "indicator": ind,
                            "mode": [m.modes[c] for c in owner],
                            "est": [W[k, pos[c]] for k, c in enumerate(owner)]})
    loadings = weights.drop(columns="est").assign(
        est=[est.lam[0, k, pos[c]] for k, c in enumerate(owner)])
    cross_loadings = pd.DataFrame(cross, index=pd.Index(ind, name="indicator"), columns=cons)
    paths = pd.DataFrame([{"from": a, "to": b, "est": est.B[0, pos[a], pos[b]]}
                          for b in cons for a in m.predecessors(b)],
                         columns=["from", "to", "est"])
    r2 = pd.DataFrame({"r2": [est.r2[0, pos[c]] for c in m.endogenous]},
                      index=pd.Index(m.endogenous, name="construct"))
    k = np.array([len(m.predecessors(c)) for c in m.endogenous])
    r2["r2.adj"] = 1 - (1 - r2["r2"]) * (n - 1) / (n - k - 1)
    effects = _effects_frame(m, est.B[0], est.total[0])
    scores = pd.DataFrame(X @ W, index=index, columns=cons)
    corr = pd.DataFrame(est.C[0], index=cons, columns=cons)
    return PLSResult(m, n, scheme, weights, loadings, cross_loadings, paths, r2, effects, corr,
                     scores, iterations, converged, warnings,
                     rho=pd.Series(est.rho[0], index=pd.Index(cons, name="construct"),
                                   name="rho"),
                     _S=S, _X=X, _settings=settings)


def _effects_frame(m: PLSModel, B: np.ndarray, total: np.ndarray) -> pd.DataFrame:
    D = m.adjacency()
    reach = D.copy()
    for _ in range(len(m.constructs)):
        reach = np.minimum(reach + reach @ D, 1.0)
    rows = []
    for i, a in enumerate(m.constructs):
        for j, b in enumerate(m.constructs):
            if reach[i, j] > 0:
                rows.append({"from": a, "to": b, "direct": B[i, j],
                             "indirect": total[i, j] - B[i, j], "total": total[i, j]})
    return pd.DataFrame(rows, columns=["from", "to", "direct", "indirect", "total"])


def reliability(result: PLSResult) -> pd.DataFrame:
    """Reliability and convergent validity per construct, as SmartPLS reports them.

    With ``R`` the block's indicator correlations (``k`` indicators), ``λ`` its
    loadings and ``w`` its outer weights (standardized indicators):

    - Cronbach's alpha ``α = k/(k − 1) · (1 − k / 1'R1)`` (standardized items);
    - ``ρC = (Σλ)² / ((Σλ)² + Σ(1 − λ²))`` (Jöreskog's composite reliability);
    - ``AVE = Σλ² / k``;
    - ``ρA = (w'w)² · w'(R − I)w / w'(ww' − diag(ww'))w`` (Dijkstra & Henseler
      2015, MIS Quarterly 39(2), eq. 13; the weights need no rescaling: the
      ratio is scale-free).

    Single-item constructs get 1 for all four. Rows: constructs; columns
    ``alpha``, ``rhoA``, ``rhoC``, ``AVE``.
    """
    S = result._S
    ind = list(result.model.indicators)
    lam = result.loadings["est"].to_numpy()
    w = result.weights["est"].to_numpy()
    rows = []
    for c in result.model.constructs:
        idx = np.array([ind.index(x) for x in result.model.blocks[c]])
        k = idx.size
        if k == 1:
            rows.append({"construct": c, "alpha": 1.0, "rhoA": 1.0, "rhoC": 1.0, "AVE": 1.0})
            continue
        R = S[np.ix_(idx, idx)]
        lk, wk = lam[idx], w[idx]
        alpha = k / (k - 1) * (1 - k / R.sum())
        rhoc = lk.sum() ** 2 / (lk.sum() ** 2 + (1 - lk**2).sum())
        ww = np.outer(wk, wk)
        rhoa = (wk @ wk) ** 2 * (wk @ (R - np.eye(k)) @ wk) / (wk @ (ww - np.diag(np.diag(ww)))
                                                              @ wk)
        rows.append({"construct": c, "alpha": alpha, "rhoA": rhoa, "rhoC": rhoc,
                     "AVE": float((lk**2).mean())})
    return pd.DataFrame(rows).set_index("construct")


#: Share of failed bootstrap draws above which the intervals are invalid.
FAILED_LIMIT = 0.10
#: Draws resampled and iterated together (fixed: the random stream must not depend on it).
_CHUNK = 250


def _correlations(X: np.ndarray, rows: np.ndarray, w: np.ndarray | None = None
                  ) -> np.ndarray:
    """Correlation matrices of the resampled rows ``X[rows[b]]`` (``b × p × p``).

    With respondent weights ``w`` a respondent drawn ``c_bi`` times counts
    ``c_bi w_i`` (the bootstrap carries each respondent's weight): the means and
    cross-products below are taken with ``c_bi w_i`` over ``Σ_i c_bi w_i``.

    From the resampling counts ``c_bi`` (times respondent ``i`` is in draw ``b``):
    the draw's means ``Σ_i c_bi x_i / n`` and cross-products
    ``Σ_i c_bi x_i x_i' / n`` are two matrix products of the count matrix with
    ``X`` and with the products of its column pairs, for all draws at once (no
    ``b × n × p`` copy of the data). Pairs are formed over the distinct columns
    of ``X`` only: a repeated indicator (higher-order constructs) is computed once.
    """
    b, n = rows.shape
    N = X.shape[0]
    counts = np.bincount((rows + N * np.arange(b)[:, None]).ravel(),
                         minlength=b * N).reshape(b, N).astype(float)
    total: Any = n
    if w is not None:
        counts = counts * w
        with np.errstate(divide="ignore"):
            total = counts.sum(axis=1)[:, None]
    U, back = np.unique(X, axis=1, return_inverse=True)
    back = np.ravel(back)
    iu, ju = np.triu_indices(U.shape[1])
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = counts @ U / total
        cov = np.empty((b, U.shape[1], U.shape[1]))
        cov[:, iu, ju] = counts @ (U[:, iu] * U[:, ju]) / total - mean[:, iu] * mean[:, ju]
    cov[:, ju, iu] = cov[:, iu, ju]
    var = np.einsum("bpp->bp", cov)  # X is standardized: a constant column's is ~1e-17
    sd = np.sqrt(np.where(var > 1e-12, var, np.nan))
    with np.errstate(divide="ignore", invalid="ignore"):
        R = cov / (sd[:, :, None] * sd[:, None, :])
    return R[:, back][:, :, back]


def _stack(m: PLSModel, est: _Estimates) -> tuple[list[tuple[str, str, str]], np.ndarray]:
    """Every bootstrapped statistic as ``(kind, from, to)`` keys and a ``b × k`` array.

    Kinds: ``weight`` and ``loading`` (from = construct, to = indicator), ``path``,
    ``total`` and ``indirect`` (from → to constructs)."""
    pos = {c: j for j, c in enumerate(m.constructs)}
    keys: list[tuple[str, str, str]] = []
    cols: list[np.ndarray] = []
    k = 0
    for c in m.constructs:
        for item in m.blocks[c]:
            keys.append(("weight", c, item))
            cols.append(est.W[:, k, pos[c]])
            keys.append(("loading", c, item))
            cols.append(est.lam[:, k, pos[c]])
            k += 1
    for b in m.constructs:
        for a in m.predecessors(b):
            keys.append(("path", a, b))
            cols.append(est.B[:, pos[a], pos[b]])
    eff = _effects_frame(m, est.B[0], est.total[0])
    for a, b in zip(eff["from"], eff["to"], strict=True):
        keys.append(("total", a, b))
        cols.append(est.total[:, pos[a], pos[b]])
        keys.append(("indirect", a, b))
        cols.append(est.total[:, pos[a], pos[b]] - est.B[:, pos[a], pos[b]])
    return keys, np.column_stack(cols)


def _jackknife(result: PLSResult, M: np.ndarray, mode_b: list[np.ndarray], D: np.ndarray,
               W0: np.ndarray, reflective: list[tuple[int, np.ndarray]] | None
               ) -> tuple[np.ndarray, int]:
    """The statistics of :func:`_stack` re-estimated with each respondent left out.

    With ``X`` standardized (column means 0), the scatter matrix without row ``i``
    is ``X'X − x_i x_i' · n/(n − 1)`` (the mean of the other rows is
    ``−x_i/(n − 1)``); with weights ``w`` (``Σ w = n``) it is
    ``X'diag(w)X − x_i x_i' · w_i n/(n − w_i)`` (the weighted mean of the others is
    ``−w_i x_i/(n − w_i)``); normalized to a correlation matrix; blocks of 250 such
    matrices are estimated at once from the full-sample weights. Returns the
    ``n × k`` estimates (a row of NaN for a refit that did not converge) and the
    number of such refits."""
    X, w = result._X, result._w
    n = X.shape[0]
    w = np.ones(n) if w is None else w
    scatter = (X.T * w) @ X
    tol, max_iter = result._settings["tol"], result._settings["max_iter"]
    rows: list[np.ndarray] = []
    failed = 0
    for start in range(0, n, _CHUNK):
        x = X[start:start + _CHUNK]
        wi = w[start:start + _CHUNK]
        with np.errstate(divide="ignore", invalid="ignore"):
            factor = np.where(wi < n, wi * n / (n - wi), np.nan)
        cov = scatter[None] - np.einsum("bp,bq->bpq", x, x) * factor[:, None, None]
        with np.errstate(invalid="ignore"):
            sd = np.sqrt(np.einsum("bpp->bp", cov))
        with np.errstate(divide="ignore", invalid="ignore"):
            S = cov / (sd[:, :, None] * sd[:, None, :])
        good = np.isfinite(S).all(axis=(1, 2))
        S[~good] = np.eye(X.shape[1])
        core = _iterate(S, M, mode_b, D, result.scheme, tol, max_iter, W0)
        _, values = _stack(result.model, _estimates(S, core.W, D, reflective))
        bad = ~(good & core.converged & np.isfinite(values).all(axis=1))
        values[bad] = np.nan
        failed += int(bad.sum())
        rows.append(values)
    return np.vstack(rows), failed


def _start_weights(result: PLSResult) -> np.ndarray:
    """The fitted outer weights as the indicator × construct matrix the iteration starts from."""
    m = result.model
    pos = {c: j for j, c in enumerate(m.constructs)}
    W0 = np.zeros_like(_structure(m)[0])
    for k, (c, w) in enumerate(zip(result.weights["construct"], result.weights["est"],
                                   strict=True)):
        W0[k, pos[c]] = w
    return W0


def _resampled_fits(result: PLSResult, draws: int, seed: int | None
                    ) -> Iterator[tuple[np.ndarray, np.ndarray, Any, _Estimates]]:
    """The bootstrap refits, :data:`_CHUNK` resamples at a time (one seeded stream).

    Yields, per chunk: the resampled row indices (``b × n``), whether each
    resample's correlation matrix was finite, the iteration's outcome (``W``,
    ``converged``) and the estimates. Shared by :func:`bootstrap_pls` and
    :func:`bootstrap_ipma`, so both draw the same resamples for the same seed.
    """
    m, X = result.model, result._X
    n = X.shape[0]
    M, mode_b, D = _structure(m)
    W0 = _start_weights(result)
    reflective = _reflective(m) if result.consistent else None
    tol, max_iter = result._settings["tol"], result._settings["max_iter"]
    rng = np.random.default_rng(seed)
    done = 0
    while done < draws:
        b = min(_CHUNK, draws - done)
        rows = rng.integers(0, n, size=(_CHUNK, n))[:b]
        S = _correlations(X, rows, result._w)
        good = np.isfinite(S).all(axis=(1, 2))
        S[~good] = np.eye(X.shape[1])
        core = _iterate(S, M, mode_b, D, result.scheme, tol, max_iter, W0)
        yield rows, good, core, _estimates(S, core.W, D, reflective)
        done += b


def bootstrap_pls(result: PLSResult, draws: int = 1000, seed: int | None = None,
                  level: float = 0.95, ci: str = "perc") -> PLSResult:
    """Bootstrap of a PLS fit: weights, loadings, paths, total and indirect effects,
    with percentile and (``ci="bca"``) BCa intervals.

    Respondents are resampled with replacement ``draws`` times
    (``numpy.random.default_rng(seed)``, drawn in fixed blocks of 250 so the same
    seed gives the same draws); each draw's correlation matrix is estimated by the
    algorithm of :func:`pls` with the same scheme and stopping rule, started from
    the full-sample weights, all draws of a block at once. Signs: no correction
    against the full-sample estimates (SmartPLS's "no sign changes"); each draw
    is oriented by the loadings-sum rule of the algorithm (module docstring).
    A consistent fit (``result.consistent``) is corrected in each draw; a draw
    whose ``ρA`` is not positive counts as failed.

    Sets ``result.bootstrap``: one row per statistic with ``kind``, ``from``,
    ``to``, ``est`` (full sample), ``boot.mean``, ``se`` (standard deviation of
    the draws, divisor ``B − 1``), ``perc.lower``/``perc.upper`` (the
    ``(1 ± level)/2`` quantiles, ``numpy.quantile`` linear interpolation, as R's
    ``quantile`` type 7), ``ci.lower``/``ci.upper`` (the interval of ``ci``) and
    ``result.bootstrap_info``. Draws that did not converge or had a constant
    indicator are left out and counted in a ``bootstrap_failed`` diagnostic
    (``invalidates`` above 10 %).

    ``ci="bca"`` adds ``bca.lower``/``bca.upper``, the bias correction ``bca.z0``
    and the acceleration ``bca.a`` (:func:`satisfaction.bca.bca_interval`; Efron
    1987), the acceleration from the ``n`` leave-one-out refits
    (:func:`_jackknife`, kept in ``result.bootstrap_jackknife``); refits that do
    not converge are left out of it and counted (``jackknife_failed``).

    References
    ----------
    Efron & Tibshirani (1993), *An Introduction to the Bootstrap*, ch. 13;
    Hair, Hult, Ringle & Sarstedt (2022), ch. 5.
    """
    if result._X is None:
        raise ValueError("the result holds no data to resample")
    if draws < 2:
        raise InputError("the bootstrap needs at least 2 draws", column="--bootstrap",
                         value=draws)
    if ci not in ("perc", "bca"):
        raise InputError("expected perc or bca", column="--ci", value=ci)
    m, X = result.model, result._X
    n = X.shape[0]
    M, mode_b, D = _structure(m)
    W0 = _start_weights(result)
    reflective = _reflective(m) if result.consistent else None
    full_keys, full = _stack(m, _estimates(result._S[None], W0[None], D, reflective))
    chunks: list[np.ndarray] = []
    ok_all: list[np.ndarray] = []
    for _, good, core, est in _resampled_fits(result, draws, seed):
        _, values = _stack(m, est)
        chunks.append(values)
        ok_all.append(good & core.converged & np.isfinite(values).all(axis=1))
    values = np.vstack(chunks)
    ok = np.concatenate(ok_all)
    kept = values[ok]
    failed = int((~ok).sum())
    frame = pd.DataFrame(full_keys, columns=["kind", "from", "to"])
    frame["est"] = full[0]
    shown = ["boot.mean", "se", "ci.lower", "ci.upper", "perc.lower", "perc.upper"]
    if ci == "bca":
        shown += ["bca.lower", "bca.upper", "bca.z0", "bca.a"]
    for c in shown:
        frame[c] = np.nan
    result.warnings = [w for w in result.warnings
                       if w.code not in ("bootstrap_failed", "jackknife_failed")]
    jack = None
    if ci == "bca":
        from satisfaction.bca import bca_interval

        jack, jack_failed = _jackknife(result, M, mode_b, D, W0, reflective)
        if jack_failed:
            result.warnings.append(Diagnostic("jackknife_failed", "caution",
                                              {"failed": jack_failed, "n": n}))
    if len(kept) >= 2:
        from satisfaction.bca import percentile_interval

        frame["boot.mean"] = kept.mean(axis=0)
        frame["se"] = kept.std(axis=0, ddof=1)
        frame["perc.lower"], frame["perc.upper"] = percentile_interval(kept, level)
        frame["ci.lower"], frame["ci.upper"] = frame["perc.lower"], frame["perc.upper"]
        if jack is not None:
            lo, up, z0, a = bca_interval(kept, full[0], jack, level)
            frame["bca.lower"], frame["bca.upper"], frame["bca.z0"], frame["bca.a"] = \
                lo, up, z0, a
            frame["ci.lower"], frame["ci.upper"] = lo, up
    if failed:
        share = failed / draws
        result.warnings.append(Diagnostic(
            "bootstrap_failed", "invalidates" if share > FAILED_LIMIT else "caution",
            {"failed": failed, "draws": draws, "share": share}))
    result.bootstrap = frame
    result.bootstrap_info = {"draws": draws, "succeeded": int(ok.sum()), "failed": failed,
                             "seed": seed, "level": level,
                             "method": "bca" if ci == "bca" else "percentile"}
    result.bootstrap_draws = kept
    result.bootstrap_jackknife = jack
    return result


# -- assessment as SmartPLS reports it --------------------------------------------------

def _block_positions(m: PLSModel) -> dict[str, np.ndarray]:
    out, k = {}, 0
    for c in m.constructs:
        out[c] = np.arange(k, k + len(m.blocks[c]))
        k += len(m.blocks[c])
    return out


def _htmt_stack(S: np.ndarray, m: PLSModel, geometric: bool) -> np.ndarray:
    """HTMT (or HTMT2) of every construct pair for a stack of correlation matrices."""
    R = np.abs(S)
    pos = _block_positions(m)
    cons = list(m.constructs)
    b, L = S.shape[0], len(cons)

    def mean(x: np.ndarray) -> np.ndarray:  # x: b × k
        with np.errstate(divide="ignore"):
            return np.exp(np.log(x).mean(axis=1)) if geometric else x.mean(axis=1)

    mono = np.ones((b, L))
    for j, c in enumerate(cons):
        idx = pos[c]
        if idx.size > 1:
            sub = R[:, idx][:, :, idx]
            mono[:, j] = mean(sub[:, ~np.eye(idx.size, dtype=bool)])
    out = np.ones((b, L, L))
    for i in range(L):
        for j in range(i + 1, L):
            het = mean(R[:, pos[cons[i]]][:, :, pos[cons[j]]].reshape(b, -1))
            out[:, i, j] = out[:, j, i] = het / np.sqrt(mono[:, i] * mono[:, j])
    return out


def htmt(result: PLSResult, *, geometric: bool = False, draws: int = 0,
         seed: int | None = None, level: float = 0.95) -> pd.DataFrame:
    """Heterotrait-monotrait ratio of every construct pair, with bootstrap intervals.

    ``HTMT_ij = r̄_ij / sqrt(r̄_ii r̄_jj)``: ``r̄_ij`` the mean absolute correlation
    between the indicators of ``i`` and ``j``, ``r̄_ii`` the mean absolute
    correlation among the indicators of ``i`` (off-diagonal; 1 for a single
    item) (Henseler, Ringle & Sarstedt 2015, eq. 6). With ``geometric`` the means
    are geometric means: HTMT2 (Roemer, Schuberth & Henseler 2021), which does
    not assume tau-equivalent indicators. The same numbers as
    :func:`satisfaction.reliability.htmt` on the same blocks.

    With ``draws > 0`` respondents are resampled (``numpy.random.default_rng(seed)``)
    and ``ci.lower``/``ci.upper`` are the ``(1 ± level)/2`` percentiles of the
    draws (type 7), as SmartPLS's bootstrap of HTMT; the usual reading is that
    the upper bound should stay below 0.85 (or 0.90 for conceptually close
    constructs).

    Returns
    -------
    DataFrame
        One row per pair: ``construct1``, ``construct2``, ``htmt`` (or the
        HTMT2 value under the same column), and with a bootstrap ``se``,
        ``ci.lower``, ``ci.upper``.
    """
    m = result.model
    full = _htmt_stack(result._S[None], m, geometric)[0]
    cons = list(m.constructs)
    pairs = [(i, j) for i in range(len(cons)) for j in range(i + 1, len(cons))]
    out = pd.DataFrame({"construct1": [cons[i] for i, _ in pairs],
                        "construct2": [cons[j] for _, j in pairs],
                        "htmt": [full[i, j] for i, j in pairs]})
    if draws:
        X = result._X
        n = X.shape[0]
        rng = np.random.default_rng(seed)
        vals = []
        done = 0
        while done < draws:
            k = min(_CHUNK, draws - done)
            rows = rng.integers(0, n, size=(_CHUNK, n))[:k]
            h = _htmt_stack(_correlations(X, rows, result._w), m, geometric)
            vals.append(np.stack([h[:, i, j] for i, j in pairs], axis=1))
            done += k
        v = np.vstack(vals)
        v = v[np.isfinite(v).all(axis=1)]
        a = (1 - level) / 2
        out["se"] = v.std(axis=0, ddof=1)
        out["ci.lower"] = np.quantile(v, a, axis=0)
        out["ci.upper"] = np.quantile(v, 1 - a, axis=0)
    return out


def f_squared(result: PLSResult) -> pd.DataFrame:
    """Cohen's f² of every path: ``f² = (R²_incl − R²_excl) / (1 − R²_incl)``.

    ``R²_excl`` is the R² of the endogenous construct regressed on its other
    predictors, from the same construct correlations (disattenuated under
    PLSc), without re-estimating the weights (SmartPLS 4's computation). 0.02,
    0.15 and 0.35 are read as small, medium and large (Cohen 1988; Hair et al.
    2022, ch. 6). Rows: ``from``, ``to``, ``f2``.
    """
    C = result.construct_correlations
    rows = []
    for r in result.paths.to_dict("records"):
        preds = result.model.predecessors(r["to"])
        r2 = float(result.r2.loc[r["to"], "r2"])
        rest = [p for p in preds if p != r["from"]]
        r2_ex = 0.0
        if rest:
            A = C.loc[rest, rest].to_numpy()
            v = C.loc[rest, r["to"]].to_numpy()
            r2_ex = float(v @ np.linalg.solve(A, v))
        rows.append({"from": r["from"], "to": r["to"], "f2": (r2 - r2_ex) / (1 - r2)})
    return pd.DataFrame(rows, columns=["from", "to", "f2"])


def vif(result: PLSResult) -> dict[str, pd.DataFrame]:
    """Variance inflation factors, outer and inner, as SmartPLS reports them.

    ``VIF_k = 1 / (1 − R²_k)`` with ``R²_k`` from regressing one variable on the
    others of its set, i.e. the diagonal of the inverse correlation matrix of
    the set. Outer: the indicators of each block (the collinearity check of
    formative, Mode B, blocks; shown for every block); inner: the predictors of
    each endogenous construct (on the construct correlations, disattenuated
    under PLSc). Above 5 (or 3, Hair et al. 2022) signals collinearity.

    Returns
    -------
    dict
        ``outer``: ``construct``, ``indicator``, ``mode``, ``vif``;
        ``inner``: ``from``, ``to``, ``vif``.
    """
    m, S = result.model, result._S
    pos = _block_positions(m)
    outer = []
    for c in m.constructs:
        idx = pos[c]
        v = np.diag(np.linalg.inv(S[np.ix_(idx, idx)])) if idx.size > 1 else np.ones(1)
        outer += [{"construct": c, "indicator": x, "mode": m.modes[c], "vif": float(f)}
                  for x, f in zip(m.blocks[c], v, strict=True)]
    C = result.construct_correlations
    inner = []
    for to in m.endogenous:
        preds = m.predecessors(to)
        v = (np.diag(np.linalg.inv(C.loc[preds, preds].to_numpy())) if len(preds) > 1
             else np.ones(1))
        inner += [{"from": a, "to": to, "vif": float(f)} for a, f in zip(preds, v, strict=True)]
    return {"outer": pd.DataFrame(outer, columns=["construct", "indicator", "mode", "vif"]),
            "inner": pd.DataFrame(inner, columns=["from", "to", "vif"])}


def fornell_larcker(result: PLSResult) -> pd.DataFrame:
    """Fornell-Larcker table: ``sqrt(AVE)`` on the diagonal, construct correlations
    (disattenuated under PLSc) off it (Fornell & Larcker 1981). Discriminant validity
    holds for a pair when both diagonal entries exceed their correlation."""
    ave = reliability(result)["AVE"]
    out = result.construct_correlations.copy()
    for c in out.index:
        out.loc[c, c] = float(np.sqrt(ave[c]))
    return out


def implied_correlations(result: PLSResult) -> pd.DataFrame:
    """Indicator correlations implied by the measurement model, constructs correlated
    freely (the "saturated model" of SmartPLS and cSEM).

    Within a reflective block (``=~``, common factor): ``λ_k λ_l`` off the
    diagonal (consistent loadings under PLSc, PLS loadings otherwise); within a
    formative block (composite) and for single items: the observed correlations.
    Between blocks ``i`` and ``j``: ``λ_i r_ij λ_j'`` with ``λ`` the block's
    loadings (for a composite ``S_jj w_j``, its indicators' correlations with the
    composite) and ``r_ij`` the construct correlation. Unit diagonal.
    """
    m, S = result.model, result._S
    pos = _block_positions(m)
    lam = result.loadings["est"].to_numpy()
    C = result.construct_correlations.to_numpy()
    cons = list(m.constructs)
    sigma = np.zeros_like(S)
    for i, a in enumerate(cons):
        ia = pos[a]
        for j, b in enumerate(cons):
            ib = pos[b]
            if i == j:
                composite = m.modes[a] == "B" or ia.size == 1
                sigma[np.ix_(ia, ia)] = (S[np.ix_(ia, ia)] if composite
                                         else np.outer(lam[ia], lam[ia]))
            else:
                sigma[np.ix_(ia, ib)] = C[i, j] * np.outer(lam[ia], lam[ib])
    np.fill_diagonal(sigma, 1.0)
    ind = list(m.indicators)
    return pd.DataFrame(sigma, index=ind, columns=ind)


def srmr(result: PLSResult) -> float:
    """Standardized root mean square residual of the PLS model (saturated model).

    ``SRMR = sqrt(Σ_{k≤l} (s_kl − σ̂_kl)² / (p(p+1)/2))`` over the lower triangle
    with the diagonal, ``s`` the observed and ``σ̂`` the
    :func:`implied_correlations` (Henseler et al. 2014, Organizational Research
    Methods 17(2); Hu & Bentler 1998: below 0.08 reads as a good fit).
    """
    S = result._S
    sig = implied_correlations(result).to_numpy()
    low = np.tril_indices(S.shape[0])
    return float(np.sqrt(((S - sig)[low] ** 2).mean()))


# -- importance-performance map and the 0-100 index -------------------------------------

@dataclass
class IPMAResult:
    """Importance-performance map analysis of a PLS fit for one target construct.

    Attributes
    ----------
    target : str
    constructs : DataFrame
        Constructs with a total effect on the target: ``construct``,
        ``importance`` (unstandardized total effect on the 0-100 metric),
        ``performance`` (0-100).
    indicators : DataFrame
        Their indicators: ``construct``, ``indicator``, ``weight`` (rescaled
        unstandardized outer weight, summing to 1 per block), ``importance``
        (``weight`` × the construct's importance), ``performance`` (mean of the
        indicator rescaled to 0-100).
    index : dict
        Every construct's performance, 0-100 (the satisfaction index of the
        target is ``index[target]``).
    scores : DataFrame
        Construct scores on the 0-100 metric, one row per analysed respondent.
    """

    target: str
    constructs: pd.DataFrame
    indicators: pd.DataFrame
    index: dict[str, float]
    scores: pd.DataFrame
    warnings: list[Diagnostic] = field(default_factory=list)
    #: with :func:`bootstrap_ipma`: every construct's index with ``se``,
    #: ``ci.lower``, ``ci.upper`` (percentile), and the bootstrap's settings
    index_intervals: pd.DataFrame | None = None
    bootstrap_info: dict[str, Any] = field(default_factory=dict)
    #: the kept draws: ``importance`` and ``performance``, draws × constructs (model order)
    bootstrap_draws: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for ``--json``: ``ipma`` rows and the ``index``."""
        out = {"target": self.target, "ipma": self.constructs.to_dict("records"),
               "ipma_indicators": self.indicators.to_dict("records"),
               "index": dict(self.index), "warnings": [d.to_dict() for d in self.warnings]}
        if self.index_intervals is not None:
            out["index_intervals"] = self.index_intervals.to_dict("records")
            out["ipma_bootstrap"] = dict(self.bootstrap_info)
        return out


def _scale_of(scale: Any, items: list[str]) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(scale, dict):
        missing = [x for x in items if x not in scale]
        if missing:
            raise InputError(f"no scale (min, max) for the indicators {', '.join(missing)}",
                             column="--scale")
        lo = np.array([float(scale[x][0]) for x in items])
        hi = np.array([float(scale[x][1]) for x in items])
    else:
        lo_v, hi_v = (float(v) for v in scale)
        lo, hi = np.full(len(items), lo_v), np.full(len(items), hi_v)
    if np.any(hi <= lo):
        raise InputError("a scale's maximum must exceed its minimum", column="--scale",
                         value=str(scale))
    return lo, hi


def _analysed_items(result: PLSResult, data: pd.DataFrame, items: list[str]) -> pd.DataFrame:
    """The items of the analysed respondents as the fit saw them: under
    ``missing="mean"`` an empty cell takes its item's mean (weighted for a weighted
    fit), as in :func:`pls`."""
    x = data.loc[result.scores.index, items].apply(pd.to_numeric, errors="coerce")
    if result._settings.get("missing") == "mean":
        w = result._w
        if w is None:
            x = x.fillna(x.mean())
        else:
            x = x.fillna(pd.Series({c: float(np.average(x[c][x[c].notna()],
                                                        weights=w[x[c].notna().to_numpy()]))
                                    for c in x.columns}))
    return x


def ipma(result: PLSResult, data: pd.DataFrame, target: str,
         scale: tuple[float, float] | dict[str, tuple[float, float]]) -> IPMAResult:
    """Importance-performance map and the 0-100 index (ACSI/ECSI; Ringle & Sarstedt 2016).

    1. Rescale each indicator to 0-100 by its scale: ``x* = (x − min)/(max − min) · 100``
       (``scale`` one ``(min, max)`` for all, or per indicator).
    2. Unstandardize the outer weights on that metric and normalize them per
       block: ``w̃_k = (w_k / sd(x*_k)) / Σ_l (w_l / sd(x*_l))``.
    3. Construct scores ``LV* = Σ_k w̃_k x*_k`` (0-100); performance = their mean,
       ``Σ_k w̃_k (x̄_k − min_k)/(max_k − min_k) · 100`` (the ACSI index formula).
    4. Importance of a construct = its unstandardized total effect on the target,
       the standardized total effect of the fit × ``sd(LV*_target)/sd(LV*_i)``
       (``LV*`` is an affine function of the standardized score, so this is the
       total effect from OLS on the 0-100 scores). Under PLSc the corrected
       total effects are used.
    5. Indicator importance = ``w̃_k`` × the importance of its construct;
       indicator performance = ``x̄*_k``.

    ``data`` is the data the model was fitted on (the analysed rows are taken).
    For a weighted fit (``pls(..., weights=)``) every mean and standard deviation
    above is weighted (:func:`_weighted_mean`, :func:`_weighted_sd`), so the
    index is the weighted mean of the 0-100 scores.

    References
    ----------
    Ringle & Sarstedt (2016), Gain more insight from your PLS-SEM results: the
    importance-performance map analysis, Industrial Management & Data Systems
    116(9), 1865-1886; Fornell et al. (1996), The American Customer
    Satisfaction Index, Journal of Marketing 60(4), 7-18.
    """
    m = result.model
    if target not in m.constructs:
        raise InputError(f"the IPMA target {target!r} is not a construct of the model",
                         column="--ipma", value=target)
    warnings: list[Diagnostic] = []
    if result.stage1 is not None:  # two-stage HOC: dimension scores on 0-100 from stage 1
        from satisfaction.pls_hoc import two_stage_ipma_inputs

        data, scale, warnings = two_stage_ipma_inputs(result, data, scale)
    items = list(m.indicators)
    lo, hi = _scale_of(scale, items)
    x = _analysed_items(result, data, items)
    xs = (x.to_numpy(dtype=float) - lo) / (hi - lo) * 100
    # beyond rounding: a two-stage HOC's dimension scores are weighted means of 0-100 items
    outside = int(((xs < -1e-9) | (xs > 100 + 1e-9)).sum())
    if outside:
        warnings.append(Diagnostic("ipma_outside_scale", "caution", {"n": outside}))
    rw = result._w
    sd = _weighted_sd(xs, rw)
    w = result.weights["est"].to_numpy() / sd
    owner = result.weights["construct"].to_numpy()
    wt = np.empty_like(w)
    lv = {}
    for c in m.constructs:
        k = owner == c
        wt[k] = w[k] / w[k].sum()
        lv[c] = xs[:, k] @ wt[k]
    scores = pd.DataFrame(lv, index=result.scores.index)
    perf = pd.Series(_weighted_mean(scores.to_numpy(), rw), index=scores.columns)
    sd_lv = pd.Series(_weighted_sd(scores.to_numpy(), rw), index=scores.columns)
    eff = result.effects[result.effects["to"] == target]
    cons = pd.DataFrame({"construct": eff["from"].to_numpy(),
                         "importance": [t * sd_lv[target] / sd_lv[c]
                                        for c, t in zip(eff["from"], eff["total"], strict=True)],
                         "performance": [perf[c] for c in eff["from"]]})
    imp = dict(zip(cons["construct"], cons["importance"], strict=True))
    mean_x = _weighted_mean(xs, rw)
    rows = [{"construct": c, "indicator": item, "weight": wt[k],
             "importance": wt[k] * imp[c], "performance": mean_x[k]}
            for k, (c, item) in enumerate(zip(owner, items, strict=True)) if c in imp]
    ind = pd.DataFrame(rows, columns=["construct", "indicator", "weight", "importance",
                                      "performance"])
    return IPMAResult(target, cons, ind, {c: float(v) for c, v in perf.items()}, scores,
                      warnings)


def bootstrap_ipma(result: PLSResult, data: pd.DataFrame, target: str,
                   scale: tuple[float, float] | dict[str, tuple[float, float]],
                   draws: int = 1000, seed: int | None = None, level: float = 0.95
                   ) -> IPMAResult:
    """:func:`ipma` with percentile bootstrap intervals of importance and performance.

    Each draw resamples respondents (the draws of :func:`bootstrap_pls` with the
    same seed), re-estimates the weights and total effects from the full-sample
    weights, and recomputes on the draw's rows, with ``x*`` the 0-100 items,
    ``m_k`` and ``s_k`` their mean and standard deviation in the draw and ``w_k``
    the draw's standardized weights:

    - ``w̃_k = (w_k / s_k) / a_j`` with ``a_j = Σ_{l∈j} w_l / s_l``;
    - performance ``P_j = Σ_k w̃_k m_k``;
    - importance ``I_i = T_it · |a_i| / |a_t|``: the draw's standardized total
      effect times ``sd(LV*_t) / sd(LV*_i)``, since ``LV*_j = Σ w̃_k x*_k`` is the
      unit-variance score divided by ``a_j`` plus a constant, ``sd(LV*_j) = 1/|a_j|``.

    For a weighted fit a respondent drawn ``c`` times counts ``c · w`` in the
    draw's means and standard deviations (and in its correlations).
    Draws that do not converge are left out and counted (``bootstrap_failed``).
    For a two-stage HOC estimate, stage 2 is resampled with the stage-1 scores
    as data. Adds ``importance.se``, ``importance.ci.lower``,
    ``importance.ci.upper`` and the same for ``performance`` to
    ``constructs``, and ``index_intervals`` for every construct. Checked in the
    tests against :func:`ipma` on refits of the resampled rows.
    """
    out = ipma(result, data, target, scale)
    if draws < 2:
        raise InputError("the bootstrap needs at least 2 draws", column="--bootstrap",
                         value=draws)
    if result.stage1 is not None:
        from satisfaction.pls_hoc import two_stage_ipma_inputs

        data, scale, _ = two_stage_ipma_inputs(result, data, scale)
    m, X = result.model, result._X
    items = list(m.indicators)
    lo, hi = _scale_of(scale, items)
    xs = (_analysed_items(result, data, items).to_numpy(dtype=float) - lo) / (hi - lo) * 100
    n = X.shape[0]
    M = _structure(m)[0]
    pos = {c: j for j, c in enumerate(m.constructs)}
    t = pos[target]
    perf_all, imp_all = [], []
    for rows, good, core, est in _resampled_fits(result, draws, seed):
        b = len(rows)
        counts = np.bincount((rows + n * np.arange(b)[:, None]).ravel(),
                             minlength=b * n).reshape(b, n).astype(float)
        if result._w is not None:  # the divisor n − 1 below is a common factor: it cancels
            counts = counts * result._w
        with np.errstate(divide="ignore", invalid="ignore"):
            total = counts.sum(axis=1)[:, None]
            mean = counts @ xs / total
            sd = np.sqrt(np.maximum(counts @ xs**2 / total - mean**2, 0.0) * n / (n - 1))
            raw = (core.W * M).sum(axis=2) / sd            # b × p
            a = raw @ M                                    # b × L
            perf = ((raw * mean) @ M) / a
            imp = est.total[:, :, t] * np.abs(a) / np.abs(a[:, [t]])
        ok = good & core.converged & np.isfinite(perf).all(axis=1) & np.isfinite(imp).all(axis=1)
        perf_all.append(np.where(ok[:, None], perf, np.nan))
        imp_all.append(np.where(ok[:, None], imp, np.nan))
    perf_d, imp_d = np.vstack(perf_all), np.vstack(imp_all)
    kept = np.isfinite(perf_d).all(axis=1)
    perf_d, imp_d = perf_d[kept], imp_d[kept]
    failed = draws - int(kept.sum())
    q = ((1 - level) / 2, (1 + level) / 2)

    def summary(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if len(values) < 2:
            nan = np.full(values.shape[1], np.nan)
            return nan, nan, nan
        lo_q, hi_q = np.quantile(values, q, axis=0)
        return values.std(axis=0, ddof=1), lo_q, hi_q

    idx = [pos[c] for c in out.constructs["construct"]]
    for name, values in (("importance", imp_d[:, idx]), ("performance", perf_d[:, idx])):
        se, lo_q, hi_q = summary(values)
        out.constructs[f"{name}.se"] = se
        out.constructs[f"{name}.ci.lower"] = lo_q
        out.constructs[f"{name}.ci.upper"] = hi_q
    se, lo_q, hi_q = summary(perf_d)
    out.index_intervals = pd.DataFrame({"construct": list(m.constructs),
                                        "index": [out.index[c] for c in m.constructs],
                                        "se": se, "ci.lower": lo_q, "ci.upper": hi_q})
    if failed:
        share = failed / draws
        out.warnings.append(Diagnostic(
            "bootstrap_failed", "invalidates" if share > FAILED_LIMIT else "caution",
            {"failed": failed, "draws": draws, "share": share}))
    out.bootstrap_info = {"draws": draws, "succeeded": int(kept.sum()), "failed": failed,
                          "seed": seed, "level": level, "method": "percentile"}
    out.bootstrap_draws = {"importance": imp_d, "performance": perf_d}
    return out


__all__ = ["FAILED_LIMIT", "SCHEMES", "IPMAResult", "PLSModel", "PLSResult", "bootstrap_ipma",
           "bootstrap_pls",
           "f_squared", "fornell_larcker", "htmt", "implied_correlations", "ipma",
           "parse_pls_model", "pls", "pls_model", "reliability", "srmr", "vif"]
