"""Maximum-likelihood estimation of structural equation models on covariance matrices.

Why our own estimator rather than semopy's: the bootstrap of indirect effects
must refit the model a thousand times in seconds, which needs (i) a fit that
works on sufficient statistics (a resampled covariance matrix), (ii) analytic
gradients and expected information, (iii) warm starts from the full-sample
solution, and (iv) parameters shared across groups for multi-group equality
constraints. semopy's ``Model`` rebuilds its matrices and runs a generic
optimiser from scratch on every fit and its ML objective does not follow
lavaan's conventions (chi-square, AIC), so we write the few hundred lines here.

The model is written in RAM form (McArdle & McDonald, 1984). With ``m``
variables (observed first, then latent), ``A`` holds the directed paths
(``A[i, j]`` is the effect of ``j`` on ``i``; loadings and regressions), ``S``
the (residual) variances and covariances, and ``F`` selects the ``p`` observed
variables:

.. math::  \\Sigma(\\theta) = F (I - A)^{-1} S (I - A)^{-T} F^T

The ML discrepancy (Jöreskog, 1969), with ``S`` the sample covariance divided
by ``N`` as in lavaan's default ``likelihood = "normal"``, is

.. math::  F_{ML} = \\log|\\Sigma| + \\operatorname{tr}(S\\Sigma^{-1}) - \\log|S| - p

It is minimised by Fisher scoring: with ``D_k = \\partial\\Sigma/\\partial\\theta_k``
the gradient is ``g_k = tr(W D_k)``, ``W = \\Sigma^{-1}(\\Sigma - S)\\Sigma^{-1}``, and the
expected Hessian ``H_{kl} = tr(\\Sigma^{-1} D_k \\Sigma^{-1} D_l)``; the step
``-H^{-1} g`` is halved until the discrepancy decreases. Every ``D_k`` of a RAM
model is a sum of rank-two terms ``u v' + v u'`` (``u``, ``v`` columns of
``F(I-A)^{-1}`` and ``F(I-A)^{-1}S(I-A)^{-T}``), so ``g`` and ``H`` are computed
from small matrix products without forming the ``p^2``-row Jacobian. Standard
errors follow lavaan's default (expected information, ``N`` not ``N - 1``):
``Cov(\\hat\\theta) = (N/2 \\cdot H)^{-1}``.

The lavaan-syntax parser covers ``=~``, ``~``, ``~~``, labels (``a*x``), fixed
values (``1*x``), freed markers (``NA*x``) and comments. Defaults follow
lavaan's ``sem()``/``cfa()``: first loading of each latent fixed to 1,
free (residual) variances of every variable, free covariances among exogenous
latent variables and among the residuals of terminal endogenous variables
(``auto.cov.y``), and ``fixed.x`` (variances and covariances of exogenous
observed variables fixed at their sample values, not counted as parameters).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

OPS = ("=~", "~~", "~")
_IDENT = re.compile(r"^[A-Za-z_.][A-Za-z0-9_.]*$")


class SyntaxProblem(ValueError):
    """A line of model syntax that cannot be read; ``line`` is 1-based."""

    def __init__(self, message: str, line: int, text: str) -> None:
        super().__init__(message)
        self.line = line
        self.text = text


@dataclass
class ParRow:
    """One row of the parameter table (lavaan's ``lhs op rhs``).

    ``group_values`` holds a ``c(...)`` modifier: one entry per group, each a
    label (str), a fixed value (float) or ``None`` (``NA``: free, unlabelled).
    Rows with ``op`` ``:=`` (a defined parameter: ``rhs`` is its expression) and
    ``==`` (an equality constraint) are kept apart from the model's rows.
    """

    lhs: str
    op: str
    rhs: str
    free: bool = True
    value: float | None = None  # fixed value, or start value for free rows
    label: str | None = None
    user: bool = True
    exo: bool = False  # variance/covariance of an exogenous observed variable (fixed.x)
    na: bool = False  # written as NA*x: a loading freed from the marker rule
    group_values: tuple[str | float | None, ...] | None = None
    line: int = 0  # line of the model text it was written on (0: added by a default)


def _strip_comment(line: str) -> str:
    for mark in ("#", "!"):
        if mark in line:
            line = line[: line.index(mark)]
    return line.strip()


_NUMBER = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")


def _modifier(text: str, number: int, line: str) -> tuple[str, Any]:
    """One modifier before ``*``: ("na", None), ("value", float), ("label", str) or
    ("group", tuple) for ``c(...)``."""
    text = text.strip()
    if text in ("NA", "na"):
        return "na", None
    if _NUMBER.match(text):
        return "value", float(text)
    if text.startswith("c(") and text.endswith(")"):
        out: list[str | float | None] = []
        for part in text[2:-1].split(","):
            kind, value = _modifier(part, number, line)
            if kind == "group":
                raise SyntaxProblem("c() modifiers cannot be nested", number, line)
            out.append(None if kind == "na" else value)
        if not out:
            raise SyntaxProblem("c() needs one value per group", number, line)
        return "group", tuple(out)
    if _IDENT.match(text):
        return "label", text
    raise SyntaxProblem(f"modifier {text!r} is neither a number, NA, a label nor c(...)",
                        number, line)


_TERM = re.compile(r"\s*(?P<sign>[+-])?\s*(?:(?P<coef>(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)"
                   r"(?:\s*\*\s*(?P<label1>[A-Za-z_.][A-Za-z0-9_.]*))?"
                   r"|(?P<label2>[A-Za-z_.][A-Za-z0-9_.]*))\s*")


def linear_form(text: str) -> dict[str, float]:
    """A linear expression of labels as ``{label: coefficient, "": constant}``.

    Terms are separated by ``+`` and ``-``; each is a number, a label or
    ``number*label`` (``2*a - b + 0.5`` is ``{"a": 2, "b": -1, "": 0.5}``).

    Raises
    ------
    ValueError
        For a term that is none of these (a product of labels, a function).
    """
    out: dict[str, float] = {}
    at, first = 0, True
    while at < len(text):
        m = _TERM.match(text, at)
        if m is None or m.end() == at or (not first and m.group("sign") is None):
            raise ValueError(f"{text[at:].strip()!r} is not a number, a label or "
                             "number*label joined by '+' or '-'")
        factor = -1.0 if m.group("sign") == "-" else 1.0
        label = m.group("label1") or m.group("label2")
        coef = float(m.group("coef")) if m.group("coef") else 1.0
        key = label if label is not None else ""
        out[key] = out.get(key, 0.0) + factor * coef
        at, first = m.end(), False
    if first:
        raise ValueError("an empty side")
    return out


def _merge(rows: list[ParRow]) -> list[ParRow]:
    """One row per ``lhs op rhs``: repeated terms merge their modifiers, as lavaan does
    (``f =~ NA*x1 + a*x1`` is one free loading labelled ``a``)."""
    out: dict[tuple[str, str, str], ParRow] = {}
    for r in rows:
        key = (r.lhs, r.op, r.rhs)
        if r.op == "~~" and (r.rhs, r.op, r.lhs) in out:
            key = (r.rhs, r.op, r.lhs)
        have = out.get(key)
        if have is None:
            out[key] = r
            continue
        for name in ("label", "value", "group_values"):
            a, b = getattr(have, name), getattr(r, name)
            if a is not None and b is not None and a != b:
                raise SyntaxProblem(f"{r.lhs} {r.op} {r.rhs} is given two different "
                                    f"{name.replace('_', ' ')}s ({a!r} and {b!r})",
                                    r.line, f"{r.lhs} {r.op} {r.rhs}")
            if a is None and b is not None:
                setattr(have, name, b)
        have.na = have.na or r.na
        have.free = have.value is None or have.na
    return list(out.values())


def parse_syntax(text: str) -> list[ParRow]:
    """Parse lavaan model syntax into user-specified parameter rows.

    Reads ``=~``, ``~``, ``~~``, ``~ 1`` (an intercept or latent mean) with
    modifiers (``a*x`` label, ``0.5*x`` fixed value, ``NA*x`` free, ``c(a, b)*x``
    one per group; several modifiers of the same term merge), ``name := expression``
    (defined parameters), ``label == label`` / ``label == number`` (equality
    constraints), bounds ``label > number`` / ``label < number`` and inequality
    constraints between parameters whose sides are linear in the labels
    (``a > b``, ``a + b < 1``, ``2*a > b``; see :func:`linear_form`).

    Raises
    ------
    SyntaxProblem
        For what is not supported (thresholds ``|``, ``~*~``, nonlinear inequality
        constraints) or a malformed term; the message says what was expected.
    """
    rows: list[ParRow] = []
    # lavaan allows a formula to continue on the next line after a trailing '+'.
    logical: list[tuple[int, str]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        for piece in raw.split(";"):
            piece = _strip_comment(piece)
            if not piece:
                continue
            if logical and logical[-1][1].endswith("+"):
                logical[-1] = (logical[-1][0], logical[-1][1] + " " + piece)
            else:
                logical.append((number, piece))
    for number, line in logical:
        if ":=" in line:
            name, expr = (t.strip() for t in line.split(":=", 1))
            if not _IDENT.match(name) or not expr:
                raise SyntaxProblem("expected 'name := expression' (a defined parameter)",
                                    number, line)
            rows.append(ParRow(name, ":=", expr, line=number))
            continue
        if "==" in line:
            lhs, rhs = (t.strip() for t in line.split("==", 1))
            if not _IDENT.match(lhs) or not (_IDENT.match(rhs) or _NUMBER.match(rhs)):
                raise SyntaxProblem("an equality constraint is 'label == label' or "
                                    "'label == number'", number, line)
            rows.append(ParRow(lhs, "==", rhs, line=number))
            continue
        bound = next((o for o in ("<", ">") if o in line and "~" not in line), None)
        if bound is not None and "=" not in line:
            lhs, rhs = (t.strip() for t in line.split(bound, 1))
            if _IDENT.match(lhs) and _NUMBER.match(rhs):
                rows.append(ParRow(lhs, bound, rhs, line=number))
                continue
            if _NUMBER.match(lhs) and _IDENT.match(rhs):  # 0 < a is a > 0
                rows.append(ParRow(rhs, "<" if bound == ">" else ">", lhs, line=number))
                continue
            # between parameters: a linear expression on each side ('a > b', 'a + b < 1',
            # '2*a > b - 0.1'), kept as written and read by linear_form
            try:
                linear_form(lhs)
                linear_form(rhs)
            except ValueError as exc:
                raise SyntaxProblem(f"an inequality constraint compares two linear "
                                    f"expressions of labels and numbers ('a > b', "
                                    f"'a + b < 1', '2*a > b'); {exc}", number, line) from None
            rows.append(ParRow(lhs, bound, rhs, line=number))
            continue
        for bad, what in (("|", "thresholds ('|')"), ("~*~", "scaling factors ('~*~')"),
                          ("<", "inequality constraints ('<')"),
                          (">", "inequality constraints ('>')")):
            if bad in line.replace("=~", "").replace("~~", ""):
                raise SyntaxProblem(f"{what} are not supported; expected '=~', '~', '~~', "
                                    "':=' or '=='", number, line)
        op = next((o for o in OPS if o in line), None)
        if op is None:
            raise SyntaxProblem("expected an '=~', '~', '~~', ':=' or '==' relation",
                                number, line)
        lhs_text, rhs_text = line.split(op, 1)
        lhs_names = [t.strip() for t in lhs_text.split("+")]
        for name in lhs_names:
            if not _IDENT.match(name):
                raise SyntaxProblem(f"{name!r} is not a variable name", number, line)
        for term in rhs_text.split("+"):
            term = term.strip()
            free, value, label, na, groups = True, None, None, False, None
            while "*" in term:
                modifier, term = (t.strip() for t in term.split("*", 1))
                kind, got = _modifier(modifier, number, line)
                if kind == "na":
                    na = True
                elif kind == "value":
                    value, free = got, False
                elif kind == "label":
                    label = got
                else:
                    groups = got
            if term == "1":
                if op != "~":
                    raise SyntaxProblem("'1' stands only after '~' (an intercept or mean)",
                                        number, line)
                for lhs in lhs_names:
                    rows.append(ParRow(lhs, "~1", "", free=free or na, value=value,
                                       label=label, na=na, group_values=groups, line=number))
                continue
            if not _IDENT.match(term):
                raise SyntaxProblem(f"{term!r} is not a variable name", number, line)
            for lhs in lhs_names:
                if op == "~" and lhs == term:
                    raise SyntaxProblem(f"{lhs} ~ {term} regresses a variable on itself",
                                        number, line)
                if op == "=~" and lhs == term:
                    raise SyntaxProblem(f"{lhs} =~ {term}: a latent variable cannot be its "
                                        "own indicator", number, line)
                rows.append(ParRow(lhs, op, term, free=free or na, value=value, label=label,
                                   na=na, group_values=groups, line=number))
    return _merge(rows)


@dataclass
class Structure:
    """The full parameter table of a model and its variable sets."""

    rows: list[ParRow]
    observed: list[str]  # observed variables in model order
    latent: list[str]
    exogenous_observed: list[str]
    structural: list[str]  # variables of the structural part (latents + regressed observed)
    defined: list[ParRow] = field(default_factory=list)  # name := expression
    constraints: list[ParRow] = field(default_factory=list)  # label == label | number

    @property
    def variables(self) -> list[str]:
        return [*self.observed, *self.latent]


def build_structure(user_rows: list[ParRow]) -> Structure:
    """Apply lavaan's ``sem()`` defaults to the user's rows (see module docstring).

    The marker rule fixes the first loading of each latent at 1 unless it is
    written ``NA*`` (a label alone does not free it, as in lavaan); in a
    ``c(...)`` modifier an ``NA`` frees it.
    """
    defined = [ParRow(**vars(r)) for r in user_rows if r.op == ":="]
    constraints = [ParRow(**vars(r)) for r in user_rows if r.op in ("==", "<", ">")]
    intercepts = [ParRow(**vars(r)) for r in user_rows if r.op == "~1"]
    rows = [ParRow(**vars(r)) for r in user_rows if r.op in OPS]
    latent: list[str] = []
    seen_latent: set[str] = set()
    for r in rows:
        if r.op == "=~" and r.lhs not in seen_latent:
            latent.append(r.lhs)
            seen_latent.add(r.lhs)
    names: dict[str, None] = {}
    for r in rows:
        names.setdefault(r.lhs)
        names.setdefault(r.rhs)
    observed = [n for n in names if n not in seen_latent]
    indicators = {r.rhs for r in rows if r.op == "=~"}
    lhs_reg = {r.lhs for r in rows if r.op == "~"}
    rhs_reg = {r.rhs for r in rows if r.op == "~"}

    # marker: fix the first loading of each latent at 1 unless the user freed it
    first_of: dict[str, ParRow] = {}
    for r in rows:
        if r.op == "=~":
            first_of.setdefault(r.lhs, r)
    for lv in latent:
        first = first_of[lv]
        freed = first.na or (first.group_values is not None and None in first.group_values)
        if first.value is None and not freed and first.group_values is None:
            first.free, first.value = False, 1.0

    exo_obs = [n for n in observed if n in rhs_reg and n not in lhs_reg and n not in indicators]
    have = {(r.lhs, r.rhs) for r in rows if r.op == "~~"} | \
        {(r.rhs, r.lhs) for r in rows if r.op == "~~"}
    auto: list[ParRow] = []
    for n in [*observed, *latent]:
        if (n, n) not in have and n not in exo_obs:
            auto.append(ParRow(n, "~~", n, user=False))
    lv_x = [lv for lv in latent if lv not in lhs_reg and lv not in indicators]
    for i, a in enumerate(lv_x):
        for b in lv_x[i + 1:]:
            if (a, b) not in have:
                auto.append(ParRow(a, "~~", b, user=False))
    # auto.cov.y: residual covariances among terminal endogenous variables
    terminal = [n for n in names if n in lhs_reg and n not in rhs_reg and n not in indicators]
    for i, a in enumerate(terminal):
        for b in terminal[i + 1:]:
            if (a, b) not in have:
                auto.append(ParRow(a, "~~", b, user=False))
    for i, a in enumerate(exo_obs):
        for b in exo_obs[i:]:
            if (a, b) not in have:
                auto.append(ParRow(a, "~~", b, free=False, user=False, exo=True))
    structural = [n for n in names if n in latent or (n in lhs_reg | rhs_reg)]
    structural = [n for n in structural
                  if n in latent or n not in indicators]
    for r in intercepts:
        if r.lhs not in names:
            raise SyntaxProblem(f"{r.lhs} ~ 1 names a variable the model does not use",
                                r.line, f"{r.lhs} ~ 1")
    return Structure(rows=rows + auto + intercepts, observed=observed, latent=latent,
                     exogenous_observed=exo_obs, structural=structural, defined=defined,
                     constraints=constraints)


@dataclass
class Entry:
    """Where free parameters sit in ``A`` and ``S`` (one entry per matrix cell pair)."""

    kind: np.ndarray  # 0 = A, 1 = S
    i: np.ndarray
    j: np.ndarray
    param: np.ndarray  # index into theta


@dataclass
class RAM:
    """A RAM model of one group: fixed parts of A and S and where theta goes."""

    variables: list[str]
    p: int
    A0: np.ndarray
    S0: np.ndarray
    entries: Entry
    row_cells: list[tuple[int, int, int]] = field(default_factory=list)  # per par row
    #: mean structure (``~1`` rows): fixed means of all m variables, and the
    #: variables whose mean (intercept) is a free parameter, with its index
    v0: np.ndarray | None = None
    mean_var: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    mean_param: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))

    @property
    def has_means(self) -> bool:
        return self.v0 is not None

    def means(self, theta: np.ndarray) -> np.ndarray:
        """Intercepts and latent means ``v`` of all m variables."""
        v = np.zeros(len(self.variables)) if self.v0 is None else self.v0.copy()
        v[self.mean_var] = theta[self.mean_param]
        return v

    def implied_mean(self, theta: np.ndarray) -> np.ndarray:
        """Model-implied means of the observed variables, ``F (I - A)^-1 v``."""
        A, _ = self.matrices(theta)
        B = np.linalg.inv(np.eye(A.shape[0]) - A)
        return (B @ self.means(theta))[: self.p]

    def matrices(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        A = self.A0.copy()
        S = self.S0.copy()
        e = self.entries
        a = e.kind == 0
        A[e.i[a], e.j[a]] = theta[e.param[a]]
        s = ~a
        S[e.i[s], e.j[s]] = theta[e.param[s]]
        S[e.j[s], e.i[s]] = theta[e.param[s]]
        return A, S

    def implied(self, theta: np.ndarray) -> dict[str, np.ndarray]:
        """Model-implied moments: ``Sigma`` (p×p), ``C`` (all m variables), ``B``."""
        A, S = self.matrices(theta)
        m = A.shape[0]
        B = np.linalg.inv(np.eye(m) - A)
        C = B @ S @ B.T
        return {"A": A, "S": S, "B": B, "C": C, "Sigma": C[: self.p, : self.p]}

    def _layout(self, nparam: int) -> tuple:
        """Cached index helpers for :meth:`grad_info` (they depend only on the structure)."""
        key = nparam
        cache = getattr(self, "_cache", None)
        if cache is None or cache[0] != key:
            e = self.entries
            a = e.kind == 0
            half = np.where((~a) & (e.i == e.j), 0.5, 1.0)
            identity = len(e.param) == nparam and bool((e.param == np.arange(nparam)).all())
            M = None
            if not identity:
                M = np.zeros((len(e.param), nparam))
                M[np.arange(len(e.param)), e.param] = 1.0
            cache = (key, np.flatnonzero(a), np.flatnonzero(~a), half, M)
            self._cache = cache
        return cache

    def sigma_factors(self, theta: np.ndarray, nparam: int) -> tuple[np.ndarray, ...]:
        """``A, S, B, G, K, U, V``: the model matrices, ``B = (I−A)⁻¹``, ``G = FB``,
        ``K = GSBᵀ`` and, per free cell, the factors of ``∂Σ = u v' + v u'``
        (``U``, ``V`` columns; halved for a variance)."""
        _, a_idx, s_idx, half, _ = self._layout(nparam)
        A, S = self.matrices(theta)
        m, p = A.shape[0], self.p
        B = np.linalg.inv(np.eye(m) - A)
        G = B[:p]  # F (I-A)^-1
        K = G @ S @ B.T  # F (I-A)^-1 S (I-A)^-T
        e = self.entries
        U = G[:, e.i]
        V = np.empty_like(U)
        V[:, a_idx] = K[:, e.j[a_idx]]
        V[:, s_idx] = G[:, e.j[s_idx]]
        V *= half
        return A, S, B, G, K, U, V

    def grad_info(self, theta: np.ndarray, sample: np.ndarray, nparam: int,
                  with_info: bool = True, mean: np.ndarray | None = None
                  ) -> tuple[float, np.ndarray, np.ndarray | None, dict[str, np.ndarray]]:
        """Discrepancy, gradient and expected Hessian of ``F_ML`` (see module docstring).

        With a mean structure and the sample means ``mean``, ``F`` gains
        ``d'Σ⁻¹d`` with ``d = mean − μ(θ)``: the covariance part is then taken at
        ``S + dd'``, the gradient gains ``−2 J_μ'Σ⁻¹d`` and the expected
        information ``2 J_μ'Σ⁻¹J_μ``, where ``J_μ = ∂μ/∂θ`` has the columns
        ``F(I−A)⁻¹e_i · (I−A)⁻¹v)_j`` for a path ``A_ij`` and ``F(I−A)⁻¹e_i`` for
        the intercept or mean of variable ``i``.
        """
        _, a_idx, _, _, M = self._layout(nparam)
        A, S, B, G, K, U, V = self.sigma_factors(theta, nparam)
        p = self.p
        sigma = K[:, :p]
        mom = {"A": A, "S": S, "B": B, "Sigma": sigma}
        try:
            chol = np.linalg.cholesky(sigma)
        except np.linalg.LinAlgError:
            return np.inf, np.zeros(nparam), None, mom
        logdet = 2.0 * np.log(np.diag(chol)).sum()
        inv = np.linalg.inv(sigma)
        inv = (inv + inv.T) / 2
        d = None
        if mean is not None and self.v0 is not None:
            Bv = B @ self.means(theta)
            d = mean - Bv[:p]
            sample = sample + np.outer(d, d)
        f = logdet + float((sample * inv).sum())
        e = self.entries
        W = inv @ (sigma - sample) @ inv
        g_entries = 2.0 * (U * (W @ V)).sum(axis=0)
        g = g_entries if M is None else g_entries @ M
        H = None
        if with_info:
            iv = inv @ V
            P = U.T @ (inv @ U)
            Q = V.T @ iv
            R = U.T @ iv
            He = 2.0 * (R * R.T + P * Q)
            H = He if M is None else M.T @ He @ M
        if d is not None:
            J = np.zeros((p, nparam))
            # paths: d mu / d A_ij = G[:, i] (B v)_j
            np.add.at(J.T, e.param[a_idx], (G[:, e.i[a_idx]] * Bv[e.j[a_idx]]).T)
            np.add.at(J.T, self.mean_param, G[:, self.mean_var].T)
            invd = inv @ d
            g = g - 2.0 * (J.T @ invd)
            if with_info and H is not None:
                H = H + 2.0 * (J.T @ inv @ J)
        mom["Sigma_inv"] = inv
        return f, g, H, mom


def sigma_gradient(ram: RAM, theta: np.ndarray, W: np.ndarray, nparam: int) -> np.ndarray:
    """``g_k = tr(W ∂Σ/∂θ_k)`` for any symmetric ``W = dF/dΣ`` (rank-two terms as above)."""
    M = ram._layout(nparam)[4]
    *_, U, V = ram.sigma_factors(theta, nparam)
    g = 2.0 * (U * (W @ V)).sum(axis=0)
    return g if M is None else g @ M


def build_ram(structure: Structure, observed_order: list[str],
              param_of_row: list[int], fixed_value_of_row: list[float]) -> RAM:
    """RAM matrices for a structure; ``param_of_row[k]`` is -1 for fixed rows."""
    variables = [*observed_order, *structure.latent]
    pos = {v: k for k, v in enumerate(variables)}
    m = len(variables)
    A0 = np.zeros((m, m))
    S0 = np.zeros((m, m))
    kind, ii, jj, par = [], [], [], []
    cells = []
    v0 = None
    mean_var: list[int] = []
    mean_param: list[int] = []
    for k, r in enumerate(structure.rows):
        if r.op == "~1":
            if v0 is None:
                v0 = np.zeros(m)
            i = pos[r.lhs]
            cells.append((2, i, i))
            if param_of_row[k] < 0:
                v0[i] = fixed_value_of_row[k]
            else:
                mean_var.append(i)
                mean_param.append(param_of_row[k])
            continue
        if r.op == "=~":
            i, j, mat = pos[r.rhs], pos[r.lhs], 0
        elif r.op == "~":
            i, j, mat = pos[r.lhs], pos[r.rhs], 0
        else:
            i, j, mat = pos[r.lhs], pos[r.rhs], 1
        cells.append((mat, i, j))
        if param_of_row[k] < 0:
            if mat == 0:
                A0[i, j] = fixed_value_of_row[k]
            else:
                S0[i, j] = S0[j, i] = fixed_value_of_row[k]
        else:
            kind.append(mat)
            ii.append(i)
            jj.append(j)
            par.append(param_of_row[k])
    entries = Entry(np.array(kind, dtype=int), np.array(ii, dtype=int),
                    np.array(jj, dtype=int), np.array(par, dtype=int))
    return RAM(variables=variables, p=len(observed_order), A0=A0, S0=S0,
               entries=entries, row_cells=cells, v0=v0,
               mean_var=np.array(mean_var, dtype=int), mean_param=np.array(mean_param, dtype=int))


@dataclass
class Block:
    """One group's data summary and its RAM model."""

    ram: RAM
    S: np.ndarray  # sample covariance, divided by N
    n: int
    mean: np.ndarray | None = None  # sample means, used when the RAM has a mean structure
    logdet_s: float = field(init=False)

    def __post_init__(self) -> None:
        self.logdet_s = float(np.linalg.slogdet(self.S)[1])


@dataclass
class Solution:
    """Result of :func:`minimise`."""

    theta: np.ndarray
    fmin: float  # sum_g (n_g / N) F_ML,g
    converged: bool
    iterations: int
    information: np.ndarray | None  # expected Hessian of the weighted F
    #: which inequality constraints ``C θ ≥ d`` hold with equality at the solution
    active: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))


def weighted(blocks: list[Block], theta: np.ndarray, nparam: int, with_info: bool = True):
    """Weighted discrepancy ``sum_g n_g/N F_g`` with gradient and expected Hessian."""
    total = sum(b.n for b in blocks)
    f, g = 0.0, np.zeros(nparam)
    H = np.zeros((nparam, nparam)) if with_info else None
    for b in blocks:
        fb, gb, Hb, _ = b.ram.grad_info(theta, b.S, nparam, with_info, b.mean)
        if not np.isfinite(fb):
            return np.inf, g, None
        w = b.n / total
        f += w * (fb - b.logdet_s - b.ram.p)
        g += w * gb
        if with_info:
            if Hb is None:
                return np.inf, g, None
            H += w * Hb
    return f, g, H


def minimise(blocks: list[Block], start: np.ndarray, *, max_iter: int = 500,
             tol: float = 1e-8, lower: np.ndarray | None = None,
             upper: np.ndarray | None = None,
             ineq: tuple[np.ndarray, np.ndarray, Any] | None = None) -> Solution:
    """Fisher scoring with step halving (see module docstring).

    ``lower``/``upper`` bound the parameters (lavaan's ``a > 0``): each trial point
    is projected onto the bounds, and a parameter held at a bound whose gradient
    pushes outward does not count against convergence (projected gradient).
    ``ineq = (C, d, ...)`` adds linear inequality constraints ``C θ ≥ d`` between
    parameters (lavaan's ``a > b``): see :func:`minimise_inequality`.
    """
    if ineq is not None and len(ineq[0]):
        return minimise_inequality(blocks, start, ineq[0], ineq[1], max_iter=max_iter,
                                   tol=tol, lower=lower, upper=upper)
    return _scoring(blocks, start, max_iter=max_iter, tol=tol, lower=lower, upper=upper)


def minimise_inequality(blocks: list[Block], start: np.ndarray, C: np.ndarray, d: np.ndarray,
                        *, max_iter: int = 500, tol: float = 1e-8,
                        lower: np.ndarray | None = None, upper: np.ndarray | None = None
                        ) -> Solution:
    """Minimise ``F`` subject to ``C θ ≥ d`` (and the bounds), as lavaan's
    ``nlminb.constr`` reaches it, in three steps.

    1. Fisher scoring without the inequalities: if its solution satisfies them,
       none binds and that is the solution.
    2. Otherwise SLSQP (scipy; sequential quadratic programming, which takes linear
       inequality constraints directly) on the same discrepancy and analytic
       gradient, from that solution: it finds which constraints bind. SLSQP alone
       stops at about 1e-8 in ``F``, short of the 1e-4 agreement in the estimates we
       hold ourselves to, so
    3. Fisher scoring on the binding set held as equalities: with ``N`` a basis
       of the null space of the binding rows (held bounds are rows ``e_k``), the
       step is ``−N (N'HN)⁻¹ N'g`` from a point on that set. A binding constraint
       whose multiplier ``λ`` in ``g = C_A'λ`` has the wrong sign (``λ < 0``: ``F``
       decreases into the feasible side) is released and step 3 repeated.

    The standard errors then treat the binding constraints as equalities
    (lavaan's constrained information; see ``_estimate`` in :mod:`satisfaction.model`).
    """
    from scipy import optimize

    q = len(start)
    free_sol = _scoring(blocks, start, max_iter=max_iter, tol=tol, lower=lower, upper=upper)
    slack_tol = 1e-9 * max(1.0, float(np.abs(d).max()) if len(d) else 1.0)
    if free_sol.converged and np.all(C @ free_sol.theta - d >= -slack_tol):
        free_sol.active = np.zeros(len(d), dtype=bool)
        return free_sol
    lo = np.full(q, -np.inf) if lower is None else lower
    hi = np.full(q, np.inf) if upper is None else upper

    def fun(t: np.ndarray) -> tuple[float, np.ndarray]:
        f, g, _ = weighted(blocks, t, q, with_info=False)
        return (1e10, np.zeros(q)) if not np.isfinite(f) else (f, g)

    x0 = free_sol.theta if np.isfinite(free_sol.fmin) else start
    bounds = [(None if not np.isfinite(a) else float(a), None if not np.isfinite(b)
               else float(b)) for a, b in zip(lo, hi, strict=True)]
    opt = optimize.minimize(fun, x0, jac=True, method="SLSQP", bounds=bounds,
                            constraints=[{"type": "ineq", "fun": lambda t: C @ t - d,
                                          "jac": lambda t: C}],
                            options={"maxiter": 1000, "ftol": 1e-14})
    theta = opt.x
    active = C @ theta - d <= 1e-6 * max(1.0, float(np.abs(d).max()))
    for _ in range(len(d) + 1):
        sol = _scoring_on(blocks, theta, C[active], d[active], lo, hi, max_iter, tol)
        g = weighted(blocks, sol.theta, q, with_info=False)[1]
        rows = np.vstack([C[active], *_held_rows(sol.theta, lo, hi, g)])
        lam = np.linalg.lstsq(rows.T, g, rcond=None)[0] if len(rows) else np.zeros(0)
        wrong = np.flatnonzero(lam[: int(active.sum())] < -1e-6)
        if not len(wrong):
            break
        release = np.flatnonzero(active)[wrong]
        active[release] = False
        theta = sol.theta
    feasible = bool(np.all(C @ sol.theta - d >= -1e-8 * max(1.0, float(np.abs(d).max()))))
    sol.converged = sol.converged and feasible
    sol.active = active
    return sol


def _held_rows(theta: np.ndarray, lo: np.ndarray, hi: np.ndarray, g: np.ndarray
               ) -> list[np.ndarray]:
    """Rows ``±e_k`` of the parameters held at a bound (their gradient pushes outward)."""
    out = []
    for k in np.flatnonzero(((theta <= lo) & (g > 0)) | ((theta >= hi) & (g < 0))):
        row = np.zeros(len(theta))
        row[k] = 1.0 if theta[k] <= lo[k] else -1.0
        out.append(row)
    return out


def _scoring_on(blocks: list[Block], theta: np.ndarray, Ca: np.ndarray, da: np.ndarray,
                lo: np.ndarray, hi: np.ndarray, max_iter: int, tol: float) -> Solution:
    """Fisher scoring with ``Ca θ = da`` held (and parameters at a bound held there)."""
    from scipy.linalg import null_space

    q = len(theta)
    theta = theta.astype(float).copy()
    if len(Ca):  # onto the binding set: the least change that satisfies it
        theta += np.linalg.lstsq(Ca, da - Ca @ theta, rcond=None)[0]
    theta = np.clip(theta, lo, hi)
    f, g, H = weighted(blocks, theta, q)
    if not np.isfinite(f):
        return Solution(theta, np.inf, False, 0, None)
    converged, it = False, 0
    for it in range(1, max_iter + 1):  # noqa: B007 (reported after the loop)
        rows = [*Ca, *_held_rows(theta, lo, hi, g)]
        N = null_space(np.vstack(rows)) if rows else np.eye(q)
        gn = N.T @ g
        if N.shape[1] == 0 or float(np.max(np.abs(N @ gn))) < tol:
            converged = True  # nothing left to move, or the projected gradient vanishes
            break
        step = -N @ np.linalg.lstsq(N.T @ H @ N, gn, rcond=None)[0]
        size = 1.0
        for _ in range(30):
            trial = np.clip(theta + size * step, lo, hi)
            f_new, g_new, H_new = weighted(blocks, trial, q)
            if np.isfinite(f_new) and f_new <= f + 1e-4 * float(g @ (trial - theta)):
                break
            size /= 2.0
        else:
            converged = float(np.max(np.abs(N @ gn))) < 1e-5
            break
        stalled = f - f_new <= 1e-15 * max(1.0, abs(f))
        theta, f, g, H = trial, f_new, g_new, H_new
        if stalled and float(np.max(np.abs(N @ (N.T @ g)))) < 1e-6:
            converged = True
            break
    return Solution(theta, f, converged, it, H)


def _scoring(blocks: list[Block], start: np.ndarray, *, max_iter: int = 500,
             tol: float = 1e-8, lower: np.ndarray | None = None,
             upper: np.ndarray | None = None) -> Solution:
    """Fisher scoring with step halving within bounds (:func:`minimise`)."""
    bounded = lower is not None or upper is not None
    lo = np.full(len(start), -np.inf) if lower is None else lower
    hi = np.full(len(start), np.inf) if upper is None else upper
    theta = np.clip(start.astype(float), lo, hi) if bounded else start.astype(float).copy()
    q = len(theta)

    def projected(g: np.ndarray, theta: np.ndarray) -> np.ndarray:
        if not bounded:
            return g
        held = ((theta <= lo) & (g > 0)) | ((theta >= hi) & (g < 0))
        return np.where(held, 0.0, g)

    f, g, H = weighted(blocks, theta, q)
    if not np.isfinite(f):
        return Solution(theta, np.inf, False, 0, None)
    converged = False
    it = 0
    for it in range(1, max_iter + 1):  # noqa: B007 (reported after the loop)
        # a parameter held at its bound (its gradient pushes outward) stays there and
        # the step of the others solves their own block of the information
        free = ~(((theta <= lo) & (g > 0)) | ((theta >= hi) & (g < 0))) if bounded \
            else np.ones(q, dtype=bool)
        step = np.zeros(q)
        Hf = H[np.ix_(free, free)]
        try:
            step[free] = -np.linalg.solve(Hf + 1e-10 * np.eye(len(Hf)), g[free])
        except np.linalg.LinAlgError:
            step[free] = -np.linalg.lstsq(Hf, g[free], rcond=None)[0]
        size = 1.0
        for _ in range(30):
            trial = theta + size * step
            if bounded:
                trial = np.clip(trial, lo, hi)
            f_new, g_new, H_new = weighted(blocks, trial, q)
            if np.isfinite(f_new) and f_new <= f + 1e-4 * float(g @ (trial - theta)):
                break
            size /= 2.0
        else:
            # no step decreases F: converged only if we already sit at a stationary
            # point up to the precision of the arithmetic
            converged = bool(np.max(np.abs(projected(g, theta))) < 1e-5)
            break
        stalled = f - f_new <= 1e-15 * max(1.0, abs(f))
        theta, f, g, H = trial, f_new, g_new, H_new
        gmax = float(np.max(np.abs(projected(g, theta))))
        # converged: the gradient is below tol, or F no longer changes in the last
        # digits while the gradient is at the level of rounding (large means or
        # scales leave it near 1e-8 however many steps are taken)
        if gmax < tol or (stalled and gmax < 1e-6):
            converged = True
            break
    return Solution(theta, f, converged, it, H)


# -- full-information ML for incomplete data ----------------------------------------


@dataclass
class Pattern:
    """Respondents sharing one pattern of observed variables."""

    observed: np.ndarray  # indices of the observed variables
    n: float  # respondents (their weight total with sampling weights)
    mean: np.ndarray
    cov: np.ndarray  # divided by n
    missing: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    #: index grids of the observed and missing blocks (np.ix_), built once
    grids: tuple = field(default=(), repr=False)

    def __post_init__(self) -> None:
        o, m = self.observed, self.missing
        self.grids = (np.ix_(o, o), np.ix_(m, m), np.ix_(o, m))


def patterns(x: np.ndarray, w: np.ndarray | None = None) -> list[Pattern]:
    """Group rows of ``x`` (NaN = missing) by missingness pattern.

    With respondent weights ``w`` (lavaan's ``sampling.weights``) a pattern's ``n``
    is its weight total ``Σ w_i`` and its moments are weighted (divisor ``Σ w_i``),
    so :func:`fiml_objective` and :func:`saturated_em` give the weighted casewise
    likelihood ``Σ_i w_i log L_i`` and its weighted EM.
    """
    mask = ~np.isnan(x)
    keys, inverse = np.unique(mask, axis=0, return_inverse=True)
    out = []
    for k, key in enumerate(keys):
        if not key.any():
            continue
        member = inverse.ravel() == k
        rows = x[member][:, key]
        if w is None:
            total, mean = len(rows), rows.mean(axis=0)
            c = rows - mean
            cov = c.T @ c / total
        else:
            wk = np.asarray(w, dtype=float)[member]
            total = float(wk.sum())
            if not total > 0:  # respondents of weight 0 add nothing to the likelihood
                continue
            mean = wk @ rows / total
            c = rows - mean
            cov = (c * wk[:, None]).T @ c / total
        out.append(Pattern(np.flatnonzero(key), total, mean, cov, np.flatnonzero(~key)))
    return out


def fiml_objective(pats: list[Pattern], sigma: np.ndarray, mu: np.ndarray
                   ) -> tuple[float, np.ndarray, np.ndarray]:
    """FIML discrepancy ``F = sum_k n_k/N [log|Σ_k| + tr(Σ_k⁻¹ T_k)]``.

    ``T_k = S_k + d_k d_k'`` with ``d_k = x̄_k − μ_k`` for missingness pattern ``k``.

    ``-2 logL / N = F + const``. Returns F, ``dF/dΣ`` (the pattern matrices
    ``Σ_k⁻¹ − Σ_k⁻¹T_kΣ_k⁻¹`` embedded in p×p) and ``dF/dμ``. Arminger & Sobel (1990).
    """
    total = sum(pt.n for pt in pats)
    p = len(mu)
    f = 0.0
    W = np.zeros((p, p))
    gmu = np.zeros(p)
    try:
        chol = np.linalg.cholesky(sigma)
    except np.linalg.LinAlgError:
        return np.inf, W, gmu
    # Every Σ_k is a principal submatrix of Σ: with P = Σ⁻¹ computed once,
    # Σ_oo⁻¹ = P_oo − P_om P_mm⁻¹ P_mo and log|Σ_oo| = log|Σ| + log|P_mm| (Schur
    # complement), so a pattern with few missing variables costs a small solve.
    P = np.linalg.inv(sigma)
    logdet = 2.0 * np.log(np.diag(chol)).sum()
    for pt in pats:
        o = pt.observed
        m = pt.missing
        oo, mm, om = pt.grids
        if len(m) == 0:
            inv, ld = P, logdet
        else:
            pmm = P[mm]
            pom = P[om]
            inv = P[oo] - pom @ np.linalg.solve(pmm, pom.T)
            ld = logdet + np.linalg.slogdet(pmm)[1]
        d = pt.mean - mu[o]
        T = pt.cov + np.outer(d, d)
        w = pt.n / total
        inv_d = inv @ d
        f += w * (ld + float((inv * T).sum()))
        part = w * (inv - inv @ T @ inv)
        if len(m) == 0:
            W += part
        else:
            W[oo] += part
        gmu[o] += -2.0 * w * inv_d
    return f, W, gmu


def saturated_em(pats: list[Pattern], p: int, max_iter: int = 10000, tol: float = 1e-12
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Unrestricted ML means and covariance of incomplete normal data by EM (Little & Rubin)."""
    total = sum(pt.n for pt in pats)
    mu = np.zeros(p)
    cnt = np.zeros(p)
    for pt in pats:
        mu[pt.observed] += pt.n * pt.mean
        cnt[pt.observed] += pt.n
    mu = mu / cnt
    sigma = np.eye(p)
    for pt in pats:
        sigma[pt.observed, pt.observed] = np.maximum(np.diag(pt.cov), 1e-6)
    prev = np.inf
    for _ in range(max_iter):
        s1 = np.zeros(p)
        s2 = np.zeros((p, p))
        for pt in pats:
            o = pt.observed
            m = np.setdiff1d(np.arange(p), o)
            # conditional expectation of the missing part given the observed part
            coef = np.linalg.solve(sigma[np.ix_(o, o)], sigma[np.ix_(o, m)]).T if len(m) \
                else np.zeros((0, len(o)))
            xo_mean = pt.mean
            xm_mean = mu[m] + coef @ (xo_mean - mu[o])
            full_mean = np.empty(p)
            full_mean[o], full_mean[m] = xo_mean, xm_mean
            second = np.empty((p, p))
            soo = pt.cov + np.outer(xo_mean, xo_mean)
            second[np.ix_(o, o)] = soo
            smo = coef @ (pt.cov) + np.outer(xm_mean, xo_mean)
            second[np.ix_(m, o)] = smo
            second[np.ix_(o, m)] = smo.T
            resid = sigma[np.ix_(m, m)] - coef @ sigma[np.ix_(o, m)]
            second[np.ix_(m, m)] = resid + coef @ pt.cov @ coef.T + np.outer(xm_mean, xm_mean)
            s1 += pt.n * full_mean
            s2 += pt.n * second
        mu = s1 / total
        sigma = s2 / total - np.outer(mu, mu)
        f, _, _ = fiml_objective(pats, sigma, mu)
        if abs(prev - f) < tol:
            break
        prev = f
    return mu, sigma
