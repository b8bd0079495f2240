"""Structural equation models: fit, fit indices, parameters, effects, bootstrap, groups.

:func:`fit` takes a model (a :class:`~satisfaction.questionnaire.Questionnaire`,
a questionnaire YAML file, a lavaan-syntax file, or a lavaan-syntax string) and
the responses, fits it by maximum likelihood (our estimator in
:mod:`satisfaction.sem_ml`, which follows lavaan's defaults) and returns a
:class:`SEMResult` whose tables use lavaan's names, so that every number can be
held beside ``fitMeasures()``, ``parameterEstimates(standardized = TRUE)`` and
``lavInspect(fit, "r2")``. The tests compare them with lavaan 0.6 on
PoliticalDemocracy, HolzingerSwineford1939 and the ECSI bank model
(tests/reference/lavaan_reference.R).

Example
-------
>>> import pandas as pd
>>> from satisfaction.model import fit
>>> from semopy.examples import holzinger39
>>> res = fit("visual =~ x1 + x2 + x3\\ntextual =~ x4 + x5 + x6\\nspeed =~ x7 + x8 + x9",
...           holzinger39.get_data())
>>> print(round(res.fit_measures["chisq"], 3))
85.306
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import itertools
import math
import os
import re
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from warnings import catch_warnings, simplefilter

import numpy as np
import pandas as pd
from scipy import optimize, stats
from threadpoolctl import threadpool_limits

from satisfaction import robust
from satisfaction.defined import DefinitionProblem, compile_defined, evaluate
from satisfaction.diagnostics import Diagnostic
from satisfaction.diagnostics import status as gate_status
from satisfaction.errors import InputError, UsageError
from satisfaction.io import records, to_jsonable
from satisfaction.questionnaire import Questionnaire, load_questionnaire
from satisfaction.sem_ml import (
    RAM,
    Block,
    ParRow,
    Structure,
    SyntaxProblem,
    build_ram,
    build_structure,
    fiml_objective,
    linear_form,
    minimise,
    parse_syntax,
    patterns,
    saturated_em,
    sigma_gradient,
)

PARAMETER_COLUMNS = ["lhs", "op", "rhs", "est", "se", "z", "pvalue", "ci.lower", "ci.upper",
                     "std.lv", "std.all", "std.ci.lower", "std.ci.upper"]
#: Columns of the positional rows the tables are built from (``std.lv`` is added after).
_RECORD_COLUMNS = [c for c in PARAMETER_COLUMNS if c != "std.lv"]
FIT_NAMES = ["ntotal", "npar", "chisq", "df", "pvalue", "cfi", "tli", "rmsea",
             "rmsea.ci.lower", "rmsea.ci.upper", "srmr", "logl", "aic", "bic",
             "baseline.chisq", "baseline.df"]
#: The six effect measures of :func:`_effect_values`, in its order.
EFFECT_MEASURES = ["direct", "indirect", "total", "std.direct", "std.indirect", "std.total"]
EFFECT_COLUMNS = ["from", "to", *EFFECT_MEASURES]
#: Interval of every effect measure, from the same estimator as the measure itself
#: (``<measure>.ci.lower``, ``<measure>.ci.upper``), and how it was computed (``ci.method``).
CI_COLUMNS = [f"{m}.ci.{side}" for m in EFFECT_MEASURES for side in ("lower", "upper")]
#: Default fit cut-offs (Hu & Bentler 1999, "acceptable" column; Marsh, Hau & Wen 2004
#: warn against treating them as golden rules): a fit that misses one is a caution.
FIT_CRITERIA: dict[str, tuple[str, float]] = {
    "cfi": (">=", 0.90), "tli": (">=", 0.90), "rmsea": ("<=", 0.08), "srmr": ("<=", 0.10)}
#: Share of failed bootstrap draws above which the intervals are not trusted.
MAX_BOOTSTRAP_FAILED = 0.10
Z975 = stats.norm.ppf(0.975)
_IDENT_RE = re.compile(r"^[A-Za-z_.][A-Za-z0-9_.]*$")
MISSING_TOKENS = ("", "NA", "N/A", "NaN", "nan", ".", "-")
#: Suffixes of response files: given where a model is expected, the arguments are swapped.
DATA_SUFFIXES = (".csv", ".tsv", ".xlsx", ".xls", ".sav", ".parquet")


# -- results -------------------------------------------------------------------


@dataclass
class GroupComparison:
    """A multi-group fit: per-group results and the test of equal structural paths.

    Attributes
    ----------
    column : str
        The grouping column.
    labels : list[str]
        Group labels in order of first appearance in the data (as lavaan).
    per_group : dict[str, SEMResult]
        Estimates of the configural model (all parameters free in every group).
    equal_fit : dict[str, float]
        Fit measures of the model with the regressions (``~``) equal across groups.
    chisq_diff : dict[str, float]
        ``chisq``, ``df``, ``pvalue`` of the chi-square difference test
        (equal minus free), as lavaan's ``anova()``; with MLR/MLM also
        ``chisq.scaled``, ``scaling.factor``, ``pvalue.scaled`` and ``method``
        (``"satorra.bentler.2001"``, lavaan's ``lavTestLRT(method = ...)``).
    """

    column: str
    labels: list[str]
    per_group: dict[str, SEMResult]
    equal_fit: dict[str, float]
    chisq_diff: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "labels": list(self.labels),
            "per_group": {g: r.to_dict() for g, r in self.per_group.items()},
            "equal_fit": {k: to_jsonable(v) for k, v in self.equal_fit.items()},
            "chisq_diff": {k: to_jsonable(v) for k, v in self.chisq_diff.items()},
        }


@dataclass
class SEMResult:
    """A fitted structural equation model.

    Attributes
    ----------
    fit_measures : dict[str, float]
        lavaan's ``fitMeasures()`` names: ``ntotal npar chisq df pvalue cfi tli rmsea
        rmsea.ci.lower rmsea.ci.upper srmr logl aic bic baseline.chisq baseline.df``.
    parameters : pandas.DataFrame
        lavaan's ``parameterEstimates(standardized = TRUE)`` columns
        ``lhs op rhs est se z pvalue ci.lower ci.upper std.all`` (plus ``group``
        in a multi-group fit). Loadings are ``=~`` rows; latent covariances are
        ``~~`` rows whose ``std.all`` is the latent correlation.
    r2 : dict[str, float]
        R² of every endogenous variable (indicators and dependent constructs).
    effects : pandas.DataFrame
        ``from to direct indirect total std.direct std.indirect std.total`` for every
        ordered pair of structural variables with a path between them (an indirect
        effect along no path of two or more steps is absent: NaN), plus a 95 %
        interval of each measure (``direct.ci.lower`` ... ``std.total.ci.upper``)
        from the same quantity: bootstrap percentiles when bootstrapped, else the
        delta method; ``ci.method`` says which.
    warnings : list[Diagnostic]
        Diagnostics with their severity: non-convergence, a singular information
        matrix, negative variances, ``|std.all| > 1``, a non-positive-definite latent
        covariance matrix (all ``invalidates``), failed bootstrap draws
        (``invalidates`` above 10 %), fit indices that miss their cut-offs and
        listwise deletion (``caution``).
    n : int
        Respondents analysed.
    converged : bool
    groups : GroupComparison or None
    bootstrap : dict
        ``{"draws": B, "succeeded": b, "failed": f, "seed": s, "interval": text,
        "ci": "perc" | "bca" | "bca.simple"}`` when bootstrapped, else empty; the
        parameter table then has bootstrap ``se``/``z``/``pvalue``/``ci.*`` and a
        ``ci.method`` column (``fixed`` for fixed rows).
    excluded : dict[str, int]
        Respondents not analysed, by reason (``missing_values``, ``missing_group``).
    syntax : str
        The model in lavaan syntax as fitted.
    data_quality : QualityLog or None
        The screening log of the responses when a questionnaire defined the model
        (:func:`satisfaction.api.fit`); in the JSON as ``data_quality``.
    modindices : pandas.DataFrame or None
        Modification indices when asked for (:func:`satisfaction.modindices.modindices`);
        in the JSON as ``modindices``.
    scores : pandas.DataFrame or None
        Factor scores of the analysed respondents when asked for
        (:func:`satisfaction.api.fit`); not in the JSON.
    theta, vcov : numpy.ndarray or None
        The free parameters at the solution and their sampling covariance (None when
        the information matrix is singular); robust, weighted and bootstrap standard
        errors, modification indices and factor scores continue from them.
    spec : object or None
        The fitted parameter layout (free parameters, equality constraints, rows).
    blocks, rams : list or None
        Per group: the data blocks of a complete-data fit, or the RAM matrices of a
        FIML fit.
    fiml_data : list or None
        Per group: the missing-data patterns of a FIML fit.
    information : numpy.ndarray or None
        The observed information of a FIML fit.
    per_group : list or None
        Per group: (parameters, R², effects, diagnostics, standardized solution) before
        they are joined into the tables above.
    ordinal : object or None
        The thresholds and polychoric correlations of an ordered-item fit (WLSMV).

    The fields from ``theta`` on are the fitted model's internals; :meth:`to_dict`
    (the JSON) leaves them out.
    """

    fit_measures: dict[str, float]
    parameters: pd.DataFrame
    r2: dict[str, float]
    effects: pd.DataFrame
    warnings: list[Diagnostic]
    n: int
    converged: bool
    groups: GroupComparison | None = None
    bootstrap: dict[str, Any] = field(default_factory=dict)
    excluded: dict[str, int] = field(default_factory=dict)
    syntax: str = ""
    data_quality: Any = field(default=None, repr=False, compare=False)
    modindices: pd.DataFrame | None = field(default=None, repr=False, compare=False)
    scores: pd.DataFrame | None = field(default=None, repr=False, compare=False)
    theta: np.ndarray | None = field(default=None, repr=False, compare=False)
    vcov: np.ndarray | None = field(default=None, repr=False, compare=False)
    spec: Any = field(default=None, repr=False, compare=False)
    blocks: list[Any] | None = field(default=None, repr=False, compare=False)
    rams: list[Any] | None = field(default=None, repr=False, compare=False)
    fiml_data: list[Any] | None = field(default=None, repr=False, compare=False)
    information: np.ndarray | None = field(default=None, repr=False, compare=False)
    per_group: list[tuple[Any, ...]] | None = field(default=None, repr=False, compare=False)
    ordinal: Any = field(default=None, repr=False, compare=False)

    @property
    def status(self) -> str:
        """The gate: ``invalid`` (do not read as a finding), ``caution`` or ``ok``."""
        return gate_status(self.warnings)

    def to_dict(self) -> dict[str, Any]:
        """The ``fit`` JSON contract (plain floats, None for NaN)."""
        out: dict[str, Any] = {
            "fit": {k: to_jsonable(v) for k, v in self.fit_measures.items()},
            "parameters": records(self.parameters),
            "r2": {k: to_jsonable(v) for k, v in self.r2.items()},
            "effects": records(self.effects),
            "warnings": [w.to_dict() for w in self.warnings],
            "status": self.status,
            "n": int(self.n),
            "converged": bool(self.converged),
            "excluded": {k: int(v) for k, v in self.excluded.items()},
        }
        if self.bootstrap:
            out["bootstrap"] = {k: to_jsonable(v) for k, v in self.bootstrap.items()}
        if self.groups is not None:
            out["groups"] = self.groups.to_dict()
        if self.modindices is not None:
            out["modindices"] = records(self.modindices)
        if self.data_quality is not None:
            out["data_quality"] = self.data_quality.to_dict()
        return out


# -- model input -----------------------------------------------------------------


def model_syntax(model: str | Path | Questionnaire) -> tuple[str, str | None]:
    """The lavaan syntax of ``model`` and the file it came from (if any).

    ``model`` is a Questionnaire, a questionnaire YAML path (``.yaml``/``.yml``),
    a path to a lavaan-syntax text file, or lavaan syntax itself.
    """
    if isinstance(model, Questionnaire):
        return model.to_lavaan(), model.source
    text = str(model)
    # model text, not a file name: an operator of the syntax, or several lines
    looks_like_syntax = any(op in text for op in ("~", ":=", "==", "<~")) or "\n" in text
    if isinstance(model, Path) or not looks_like_syntax:
        path = Path(text)
        if path.suffix.lower() in DATA_SUFFIXES:
            raise InputError("this is a data file, not a model: the command takes the model "
                             "first (a questionnaire YAML or lavaan syntax), then the responses",
                             file=str(path))
        if path.suffix.lower() in (".yaml", ".yml"):
            return load_questionnaire(path).to_lavaan(), str(path)
        try:
            exists = path.is_file()
        except OSError:  # e.g. a name too long for the file system
            exists = False
        if not exists:
            raise InputError("model file not found; expected a questionnaire YAML or a "
                             "text file in lavaan syntax", file=str(path)[:200])
        try:
            return path.read_text(encoding="utf-8-sig"), str(path)
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read model file: {exc}", file=str(path)) from None
    return text, None


def _structure(syntax: str, source: str | None) -> Structure:
    try:
        rows = parse_syntax(syntax)
    except SyntaxProblem as exc:
        raise InputError(f"{exc} in {exc.text!r}", file=source or "<model>", line=exc.line,
                         ) from None
    if not rows:
        raise InputError("the model is empty; expected lavaan syntax such as 'F =~ x1 + x2'",
                         file=source or "<model>")
    try:
        structure = build_structure(rows)
    except SyntaxProblem as exc:
        raise InputError(f"{exc} in {exc.text!r}", file=source or "<model>", line=exc.line,
                         ) from None
    _require_scales(structure, source)
    if not structure.observed:
        raise InputError("the model names no observed variable (every name is a latent "
                         "variable); expected indicators such as 'F =~ x1 + x2 + x3'",
                         file=source or "<model>")
    return structure


def _require_scales(structure: Structure, source: str | None) -> None:
    """Every latent variable needs a scale: a fixed, non-zero loading or a fixed variance.

    Without one (a marker freed with ``NA*`` and a free variance) the loadings and
    the variance trade off exactly and the model is not identified.
    """
    for lv in structure.latent:
        fixed_loading = any(r.op == "=~" and r.lhs == lv and not r.free and r.value
                            for r in structure.rows)
        fixed_loading |= any(r.op == "=~" and r.lhs == lv and r.group_values is not None
                             and all(isinstance(v, float) and v for v in r.group_values)
                             for r in structure.rows)
        fixed_variance = any(r.op == "~~" and r.lhs == lv and r.rhs == lv and not r.free
                             for r in structure.rows)
        if not (fixed_loading or fixed_variance):
            raise InputError(f"the latent variable {lv!r} has no scale: its marker loading "
                             f"is freed (NA*) and its variance is free; fix one of them, e.g. "
                             f"'{lv} ~~ 1*{lv}'", file=source or "<model>")


def _numeric_frame(data: pd.DataFrame, columns: list[str],
                   latent: tuple[str, ...] | list[str] = ()) -> pd.DataFrame:
    missing = [c for c in columns if c not in data.columns]
    if missing:
        hint = difflib.get_close_matches(missing[0], [*map(str, data.columns), *latent],
                                         n=1, cutoff=0.6)
        if hint and hint[0] in latent:
            said = f"; did you mean the latent variable {hint[0]!r}?"
        elif hint:
            said = f"; did you mean the column {hint[0]!r}?"
        else:
            shown = ", ".join(map(str, data.columns[:12]))
            said = f" (columns: {shown}{'...' if len(data.columns) > 12 else ''})"
        raise InputError(f"the model's variable is neither a latent variable (defined with "
                         f"'=~') nor a column of the responses{said}", column=missing[0])
    out = {}
    for c in columns:
        col = data[c]
        if col.dtype == object or pd.api.types.is_string_dtype(col):
            col = col.map(lambda v: np.nan if isinstance(v, str) and v.strip() in MISSING_TOKENS
                          else v)
        num = pd.to_numeric(col, errors="coerce")
        bad = num.isna() & col.notna()
        if bad.any():
            where = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputError("expected a number", row=where + 2, column=c,
                             value=col.iloc[where])
        out[c] = num.astype(float)
    return pd.DataFrame(out, index=data.index)


def _require_nonsingular(S: np.ndarray, names: list[str], what: str) -> None:
    """Refuse a singular sample covariance matrix, naming the variables.

    A constant variable, two perfectly correlated ones or any exact linear
    dependence makes ``log|S|`` undefined: ML has no solution, and lavaan stops
    with "sample covariance matrix is not positive-definite".
    """
    sd = np.sqrt(np.clip(np.diag(S), 0.0, None))
    constant = [names[i] for i in range(len(names)) if not sd[i] > 1e-12]
    if constant:
        raise InputError(f"{what}: the variable has the same value for every respondent "
                         "analysed, so a covariance model cannot use it; drop it from the "
                         "model", column=constant[0])
    corr = S / np.outer(sd, sd)
    for i, j in zip(*np.triu_indices(len(names), 1), strict=True):
        if abs(corr[i, j]) >= 1 - 1e-8:
            raise InputError(f"{what}: {names[i]!r} and {names[j]!r} are perfectly correlated "
                             "(one is a copy or a rescaling of the other); keep one of them",
                             column=names[j])
    eig, vec = np.linalg.eigh(corr)
    if eig.min() < 1e-10 * eig.max():
        from satisfaction.efa import dependent_names

        involved = dependent_names(vec[:, int(np.argmin(eig))], names)
        raise InputError(f"{what}: the variables {', '.join(involved)} are linearly "
                         "dependent (their covariance matrix is singular); drop a variable "
                         "that is a sum or difference of others", column=involved[-1])


def _covariance(x: np.ndarray) -> np.ndarray:
    centred = x - x.mean(axis=0)
    return centred.T @ centred / len(x)


# -- estimation ------------------------------------------------------------------


@dataclass
class _Spec:
    """Free-parameter layout of a (possibly multi-group) model.

    ``param_of_row[g][k]`` is the index in theta of row ``k`` in group ``g``
    (-1 when fixed); ``fixed_of_row[g][k]`` the value of a fixed row;
    ``label_param[g]`` maps each label to its index (or ``None`` for a label on
    a fixed row) and ``label_value`` to the fixed value of such a label.
    """

    structure: Structure
    param_of_row: list[list[int]]  # per group, per row
    nparam: int
    fixed_of_row: list[list[float]] = field(default_factory=list)
    label_param: list[dict[str, int]] = field(default_factory=list)
    label_value: dict[str, float] = field(default_factory=dict)
    #: bounds of the parameters (``a > 0``, ``a < 1``); None when there are none
    lower: np.ndarray | None = None
    upper: np.ndarray | None = None
    #: inequality constraints between parameters ``C θ ≥ d`` as ``(C, d, texts)``
    #: (``a > b``, ``a + b < 1``); None when there are none
    ineq: tuple[np.ndarray, np.ndarray, list[str]] | None = None


def _row_modifier(r: ParRow, g: int, ngroups: int) -> tuple[str | None, float | None, bool]:
    """(label, fixed value, free) of row ``r`` in group ``g`` (``c()`` modifiers per group)."""
    if r.group_values is None:
        return r.label, (None if r.free else r.value), r.free
    if len(r.group_values) != ngroups:
        raise InputError(f"'{r.lhs} {r.op} {r.rhs}' has a c() modifier with "
                         f"{len(r.group_values)} values for {ngroups} group(s); give one "
                         "value per group", line=r.line or None)
    mod = r.group_values[g]
    if isinstance(mod, str):
        return mod, None, True
    if mod is None:  # NA
        return r.label, None, True
    return r.label, float(mod), False


def _equal_labels(structure: Structure) -> tuple[dict[str, str], dict[str, float]]:
    """Labels made equal by ``a == b`` (each mapped to one representative) and labels
    fixed by ``a == number``."""
    parent: dict[str, str] = {}

    def find(a: str) -> str:
        while parent.get(a, a) != a:
            a = parent[a]
        return a

    fixed: dict[str, float] = {}
    for c in structure.constraints:
        if c.op != "==":
            continue
        try:
            fixed[c.lhs] = float(c.rhs)
            continue
        except ValueError:
            pass
        a, b = find(c.lhs), find(c.rhs)
        if a != b:
            parent[b] = a
    reps = {label: find(label) for label in {*parent, *parent.values()}}
    for label, value in list(fixed.items()):
        fixed[reps.get(label, label)] = value
    return reps, fixed


#: lavaan's ``group.equal`` classes of parameters.
GROUP_EQUAL = ("loadings", "intercepts", "means", "residuals", "residual.covariances",
               "lv.variances", "lv.covariances", "regressions")


def equal_class(r: ParRow, structure: Structure) -> str:
    """The ``group.equal`` class of a parameter row (lavaan's names)."""
    latent = r.lhs in structure.latent
    if r.op == "=~":
        return "loadings"
    if r.op == "~":
        return "regressions"
    if r.op == "~1":
        return "means" if latent else "intercepts"
    if r.lhs == r.rhs:
        return "lv.variances" if latent else "residuals"
    return "lv.covariances" if latent else "residual.covariances"


def _layout(structure: Structure, ngroups: int, equal: tuple[str, ...] = (),
            partial: tuple[str, ...] = ()) -> _Spec:
    """Index free rows, as lavaan does.

    A label names one parameter in every group (lavaan: the same label is an
    equality constraint across groups) unless ``c()`` gives one per group;
    ``a == b`` makes two labels one parameter, ``a == 0.5`` fixes it; rows of a
    class in ``equal`` (:data:`GROUP_EQUAL`) are one parameter across groups
    (``group.equal``) except those named in ``partial`` as ``"lhs op rhs"``
    (``group.partial``).
    """
    per_group: list[list[int]] = []
    fixed_rows: list[list[float]] = []
    label_param: list[dict[str, int]] = []
    shared: dict[Any, int] = {}
    reps, fixed_labels = _equal_labels(structure)
    used = {r.label for r in structure.rows} | {
        v for r in structure.rows if r.group_values for v in r.group_values
        if isinstance(v, str)}
    for c in structure.constraints:
        for name in (c.lhs, c.rhs):
            if _IDENT_RE.match(name) and name not in used:
                raise InputError(f"the constraint '{c.lhs} {c.op} {c.rhs}' names {name!r}, which "
                                 "labels no parameter", line=c.line or None)
    counter = 0
    for g in range(ngroups):
        idx, values, labels = [], [], {}
        for k, r in enumerate(structure.rows):
            label, value, free = _row_modifier(r, g, ngroups)
            label = reps.get(label, label) if label is not None else None
            if label is not None and label in fixed_labels:
                value, free = fixed_labels[label], False
            if not free or r.exo:
                idx.append(-1)
                values.append(0.0 if value is None else value)
                continue
            if label is not None:
                key: Any = ("label", label)
            elif equal and equal_class(r, structure) in equal and \
                    f"{r.lhs} {r.op} {r.rhs}".strip() not in partial and \
                    r.group_values is None:
                key = ("row", k)
            else:
                key = ("row", k, g)
            if key not in shared:
                shared[key] = counter
                counter += 1
            idx.append(shared[key])
            values.append(0.0)
            if label is not None:
                labels[label] = shared[key]
        per_group.append(idx)
        fixed_rows.append(values)
        label_param.append(labels)
    label_value = dict(fixed_labels)
    for r in structure.rows:
        if r.label is not None and not r.free and r.value is not None:
            label_value.setdefault(reps.get(r.label, r.label), r.value)
    lower = upper = None
    bounds = [c for c in structure.constraints if c.op in ("<", ">")]
    params = {label: q for group in label_param for label, q in group.items()}
    ineq_rows: list[np.ndarray] = []
    ineq_rhs: list[float] = []
    ineq_text: list[str] = []
    if bounds:
        lower, upper = np.full(counter, -np.inf), np.full(counter, np.inf)
        for c in bounds:
            if not (_IDENT_RE.match(c.lhs) and _number(c.rhs) is not None):
                # between parameters: c·θ ≥ d, or a bound when one parameter remains
                row, d = _inequality(c, params, reps, label_value, counter)
                if np.count_nonzero(row) > 1:
                    ineq_rows.append(row)
                    ineq_rhs.append(d)
                    ineq_text.append(f"{c.lhs} {c.op} {c.rhs}")
                    continue
                q = int(np.flatnonzero(row)[0])
                value = d / row[q]
                if row[q] > 0:
                    lower[q] = max(lower[q], value)
                else:
                    upper[q] = min(upper[q], value)
            else:
                q = params.get(reps.get(c.lhs, c.lhs))
                if q is None:
                    raise InputError(f"the bound '{c.lhs} {c.op} {c.rhs}' names {c.lhs!r}, "
                                     "which labels no free parameter", line=c.line or None)
                if c.op == ">":
                    lower[q] = max(lower[q], float(c.rhs))
                else:
                    upper[q] = min(upper[q], float(c.rhs))
            if lower[q] > upper[q]:
                raise InputError(f"the bounds on {c.lhs!r} leave no value between them",
                                 line=c.line or None)
    ineq = None
    if ineq_rows:
        ineq = (np.vstack(ineq_rows), np.array(ineq_rhs), ineq_text)
    return _Spec(structure, per_group, counter, fixed_rows, label_param, label_value,
                 lower, upper, ineq)


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _inequality(c: ParRow, params: dict[str, int], reps: dict[str, str],
                label_value: dict[str, float], nparam: int) -> tuple[np.ndarray, float]:
    """An inequality constraint between parameters as ``c·θ ≥ d``.

    ``lhs > rhs`` is ``lhs − rhs ≥ 0`` (``<`` the other way round), both sides linear
    in the labels (:func:`~satisfaction.sem_ml.linear_form`); a label of a fixed
    parameter counts as its value. lavaan keeps such a constraint strict in name
    but, as here, its solution may sit on the boundary (``nlminb.constr``).
    """
    left, right = linear_form(c.lhs), linear_form(c.rhs)
    if c.op == "<":
        left, right = right, left
    row = np.zeros(nparam)
    const = left.pop("", 0.0) - right.pop("", 0.0)
    for form, sign in ((left, 1.0), (right, -1.0)):
        for label, coef in form.items():
            label = reps.get(label, label)
            if label in params:
                row[params[label]] += sign * coef
            elif label in label_value:
                const += sign * coef * label_value[label]
            else:
                raise InputError(f"the constraint '{c.lhs} {c.op} {c.rhs}' names {label!r}, "
                                 "which labels no parameter", line=c.line or None)
    if not np.any(row):
        raise InputError(f"the constraint '{c.lhs} {c.op} {c.rhs}' leaves no free parameter "
                         "to constrain", line=c.line or None)
    return row, -const


def _start(spec: _Spec, rams: list[RAM], samples: list[np.ndarray],
           simple: bool = False, means: list[np.ndarray | None] | None = None) -> np.ndarray:
    """Starting values.

    Observed residual variances start at half the sample variance and
    regressions and covariances at 0 (lavaan's defaults). Loadings of a factor
    measured by two or more observed indicators start from the first principal
    component of their covariance matrix, scaled so that the marker keeps its
    fixed value, and the factor variance from its eigenvalue (in the spirit of
    lavaan's FABIN start: the signs come from the data, so a reverse-worded
    marker does not start every other loading on the wrong side). With
    ``simple`` every loading starts at 1 and latent variances at 0.05 or the
    mean covariance of their indicators (lavaan's "simple" start).
    """
    theta = np.zeros(spec.nparam)
    st = spec.structure
    loadings_of: dict[str, list[int]] = {}
    for k, r in enumerate(st.rows):
        if r.op == "=~":
            loadings_of.setdefault(r.lhs, []).append(k)
    for g, (ram, S) in enumerate(zip(rams, samples, strict=True)):
        pos = {v: k for k, v in enumerate(ram.variables)}
        fixed = spec.fixed_of_row[g] if spec.fixed_of_row else [0.0] * len(st.rows)
        factor_start: dict[int, float] = {}
        factor_var: dict[str, float] = {}
        for lv, ks in loadings_of.items():
            obs = [k for k in ks if st.rows[k].rhs in st.observed]
            if simple or len(obs) < 2 or len(obs) != len(ks):
                continue
            ii = [pos[st.rows[k].rhs] for k in obs]
            eigval, eigvec = np.linalg.eigh(S[np.ix_(ii, ii)])
            v, e = eigvec[:, -1], float(eigval[-1])
            marker = next((n for n, k in enumerate(obs)
                           if spec.param_of_row[g][k] < 0 and fixed[k] != 0), None)
            if marker is not None and abs(v[marker]) > 1e-8:
                c = fixed[obs[marker]]
                lam = c * v / v[marker]
                factor_var[lv] = e * v[marker] ** 2 / c ** 2
            else:
                v = v if v.sum() >= 0 else -v
                lam = v * math.sqrt(e)
                factor_var[lv] = 1.0
            for n, k in enumerate(obs):
                factor_start[k] = float(lam[n])
        for k, r in enumerate(st.rows):
            q = spec.param_of_row[g][k]
            if q < 0:
                continue
            if r.value is not None:
                theta[q] = r.value
            elif r.op == "~1":  # intercepts at the sample means, latent means at 0
                m = means[g] if means is not None else None
                theta[q] = float(m[pos[r.lhs]]) if m is not None and \
                    r.lhs in st.observed else 0.0
            elif r.op == "=~":
                theta[q] = factor_start.get(k, 1.0)
            elif r.op == "~~" and r.lhs == r.rhs:
                if r.lhs in st.observed:
                    i = pos[r.lhs]
                    theta[q] = 0.5 * S[i, i]
                elif r.lhs in factor_var:
                    theta[q] = max(factor_var[r.lhs], 0.05)
                else:
                    inds = [st.rows[k2].rhs for k2 in loadings_of.get(r.lhs, [])
                            if st.rows[k2].rhs in st.observed]
                    val = 0.05
                    if len(inds) >= 2:
                        ii = [pos[x] for x in inds]
                        block = S[np.ix_(ii, ii)]
                        off = block[~np.eye(len(ii), dtype=bool)].mean()
                        if off > 0.05:
                            val = off
                    theta[q] = val
    return theta


def _set_exo(ram: RAM, structure: Structure, S: np.ndarray) -> None:
    """Fix the exogenous observed (co)variances at their sample values (fixed.x)."""
    pos = {v: k for k, v in enumerate(ram.variables)}
    for r in structure.rows:
        if r.exo:
            i, j = pos[r.lhs], pos[r.rhs]
            ram.S0[i, j] = ram.S0[j, i] = S[i, j]


def _rams(spec: _Spec, observed: list[str], samples: list[np.ndarray]) -> list[RAM]:
    out = []
    for g, S in enumerate(samples):
        ram = build_ram(spec.structure, observed, spec.param_of_row[g], spec.fixed_of_row[g])
        _set_exo(ram, spec.structure, S)
        out.append(ram)
    return out


def _improper(spec: _Spec, theta: np.ndarray) -> bool:
    """A free variance below zero: the solution is improper (a Heywood case)."""
    for g in range(len(spec.param_of_row)):
        for k, r in enumerate(spec.structure.rows):
            q = spec.param_of_row[g][k]
            if q >= 0 and r.op == "~~" and r.lhs == r.rhs and theta[q] < 0:
                return True
    return False


def _fit_blocks(spec: _Spec, blocks: list[Block], start: np.ndarray | None = None):
    """Minimise from the data-based start; when that ends not converged or improper,
    a second run from lavaan's "simple" start, keeping the better solution (the lower
    discrepancy; a proper one when both reach the same minimum)."""
    rams = [b.ram for b in blocks]
    samples = [b.S for b in blocks]
    means = [b.mean for b in blocks]
    first = _start(spec, rams, samples, means=means) if start is None else start
    sol = minimise(blocks, first, lower=spec.lower, upper=spec.upper, ineq=spec.ineq)
    if start is None and (not sol.converged or _improper(spec, sol.theta)):
        sol2 = minimise(blocks, _start(spec, rams, samples, simple=True, means=means),
                        lower=spec.lower, upper=spec.upper, ineq=spec.ineq)
        if sol2.converged and (not sol.converged or sol2.fmin < sol.fmin - 1e-9 or (
                abs(sol2.fmin - sol.fmin) <= 1e-9 and not _improper(spec, sol2.theta))):
            sol = sol2
    return sol


# -- fit measures ----------------------------------------------------------------


def _rmsea_ci(chisq: float, df: float, n: int, groups: int) -> tuple[float, float]:
    """90 % RMSEA interval from the noncentral chi-square, as lavaan computes it."""
    if df <= 0:
        return 0.0, 0.0

    def lower(lam: float) -> float:
        return stats.ncx2.cdf(chisq, df, lam) - 0.95 if lam > 0 else stats.chi2.cdf(
            chisq, df) - 0.95

    def upper(lam: float) -> float:
        return stats.ncx2.cdf(chisq, df, lam) - 0.05 if lam > 0 else stats.chi2.cdf(
            chisq, df) - 0.05

    lam_l = 0.0 if lower(0.0) < 0 else optimize.brentq(lower, 0.0, chisq, xtol=1e-12)
    n_rmsea = max(n, chisq * 4)
    if upper(n_rmsea) > 0:
        lam_u = math.nan
    elif upper(0.0) < 0:
        lam_u = 0.0
    else:
        lam_u = optimize.brentq(upper, 0.0, n_rmsea, xtol=1e-12)
    scale = math.sqrt(groups)
    return (math.sqrt(lam_l / (n * df)) * scale, math.sqrt(lam_u / (n * df)) * scale)


def _srmr(S: np.ndarray, sigma: np.ndarray, meanstructure: bool,
          mean_resid: np.ndarray | None = None, nx: int = 0) -> float:
    """Bentler's SRMR: residuals scaled by the sample standard deviations (lavaan's
    ``srmr``), with the standardized mean residuals of a mean structure."""
    d = 1.0 / np.sqrt(np.diag(S))
    resid = (S - sigma) * np.outer(d, d)
    p = len(S)
    iu = np.triu_indices(p)
    nel = p * (p + 1) / 2 + (p if meanstructure else 0)
    total = float((resid[iu] ** 2).sum())
    if mean_resid is not None:
        total += float((mean_resid ** 2).sum())
    return float(math.sqrt(total / nel))


def _fit_measures(blocks: list[Block], sigmas: list[np.ndarray], npar: int, nx: int,
                  meanstructure: bool, mus: list[np.ndarray | None] | None = None
                  ) -> dict[str, float]:
    """lavaan's fitMeasures() for an ML fit (likelihood "normal": divisor N).

    ``mus`` are the model-implied means of a mean structure (``None`` where the
    means are saturated): their residuals ``d`` add ``d'Σ⁻¹d`` to the discrepancy
    and ``(d / sd)²`` to the SRMR. With fixed.x the exogenous observed variables'
    means, like their covariances, are neither moments nor parameters.
    """
    n = sum(b.n for b in blocks)
    G = len(blocks)
    chisq, chisq_b, logl, ndat, npar_b = 0.0, 0.0, 0.0, 0, 0
    srmr = 0.0
    for g, (b, sigma) in enumerate(zip(blocks, sigmas, strict=True)):
        p = b.ram.p
        _, logdet_s = np.linalg.slogdet(b.S)
        _, logdet = np.linalg.slogdet(sigma)
        mu = mus[g] if mus is not None else None
        dmean = 0.0
        mean_resid = None
        if mu is not None and b.mean is not None:
            d = b.mean - mu
            dmean = float(d @ np.linalg.solve(sigma, d))
            mean_resid = d / np.sqrt(np.diag(b.S))
        f = logdet + np.trace(np.linalg.solve(sigma, b.S)) - logdet_s - p + dmean
        chisq += b.n * f
        # baseline: independent observed variables (exogenous x block saturated)
        base = np.diag(np.diag(b.S))
        xi = list(range(p - nx, p))
        if nx:
            base[np.ix_(xi, xi)] = b.S[np.ix_(xi, xi)]
        _, logdet_b = np.linalg.slogdet(base)
        chisq_b += b.n * (logdet_b + np.trace(np.linalg.solve(base, b.S)) - logdet_s - p)
        logl += -b.n / 2 * (p * math.log(2 * math.pi) + logdet + np.trace(
            np.linalg.solve(sigma, b.S)) + dmean)
        if nx:  # fixed.x: lavaan reports the likelihood conditional on the x variables
            sxx = b.S[np.ix_(xi, xi)]
            logl -= -b.n / 2 * (nx * math.log(2 * math.pi) + np.linalg.slogdet(sxx)[1] + nx)
        ndat += p * (p + 1) // 2 - nx * (nx + 1) // 2 + (p - nx if meanstructure else 0)
        npar_b += (p - nx) + (p - nx if meanstructure else 0)
        srmr += b.n * _srmr(b.S, sigma, meanstructure, mean_resid, nx)
    srmr /= n
    out = _indices(max(chisq, 0.0), ndat - npar, chisq_b, ndat - npar_b, n, G)
    out.update({"npar": float(npar), "srmr": srmr, "logl": logl, "aic": -2 * logl + 2 * npar,
                "bic": -2 * logl + npar * math.log(n)})
    return {k: out[k] for k in FIT_NAMES}


def _indices(chisq: float, df: int, chisq_b: float, df_b: int, n: int, G: int
             ) -> dict[str, float]:
    """chisq-based indices as lavaan's fitMeasures(): p value, CFI, TLI, RMSEA and its CI."""
    pvalue = float(stats.chi2.sf(chisq, df)) if df > 0 else math.nan
    t1 = max(chisq - df, 0.0)
    t2 = max(chisq - df, chisq_b - df_b, 0.0)
    cfi = 1.0 if t1 == 0 and t2 == 0 else 1 - t1 / t2
    if df > 0:
        a = chisq_b / df_b - chisq / df
        c = chisq_b / df_b - 1
        tli = 1.0 if (a < 0 and c < 0) else a / c
        rmsea = math.sqrt(max(chisq / n / df - 1 / n, 0.0)) * math.sqrt(G)
    else:
        tli, rmsea = 1.0, 0.0
    lo, hi = _rmsea_ci(chisq, df, n, G)
    return {
        "ntotal": float(n), "chisq": chisq, "df": float(df),
        "pvalue": pvalue, "cfi": cfi, "tli": tli, "rmsea": rmsea, "rmsea.ci.lower": lo,
        "rmsea.ci.upper": hi, "baseline.chisq": chisq_b, "baseline.df": float(df_b),
    }


# -- tables ----------------------------------------------------------------------


def _std_rows(structure: Structure, ram: RAM, theta: np.ndarray) -> np.ndarray:
    """``std.all`` of every parameter row (lavaan's ``standardizedSolution()``).

    Regressions and loadings: ``b · sd(x) / sd(y)`` with model-implied standard
    deviations; variances: ``ψ_ii / var(i)``; covariances: ``ψ_ij / sqrt(ψ_ii ψ_jj)``
    (a residual covariance divided by the residual standard deviations, lavaan 0.6).
    """
    mom = ram.implied(theta)
    A, S, C = mom["A"], mom["S"], mom["C"]
    with np.errstate(invalid="ignore"):
        sd = np.sqrt(np.where(np.diag(C) > 0, np.diag(C), np.nan))
    out = np.empty(len(structure.rows))
    v = ram.means(theta) if ram.has_means else None
    for k in range(len(structure.rows)):
        mat, i, j = ram.row_cells[k]
        if mat == 0:
            out[k] = A[i, j] * sd[j] / sd[i]
        elif mat == 2:  # an intercept or a latent mean, in standard deviations
            out[k] = v[i] / sd[i]  # type: ignore[index]
        elif i == j:
            out[k] = S[i, i] / C[i, i] if C[i, i] != 0 else math.nan
        else:
            denom = S[i, i] * S[j, j]
            out[k] = S[i, j] / math.sqrt(denom) if denom > 0 else math.nan
    return out


def _std_lv_rows(structure: Structure, ram: RAM, theta: np.ndarray) -> np.ndarray:
    """``std.lv`` of every parameter row: latent variables standardized, observed not.

    lavaan's ``standardizedSolution(type = "std.lv")``: a path ``j → i`` is
    multiplied by ``sd(j)`` when ``j`` is latent and divided by ``sd(i)`` when ``i``
    is latent (model-implied sds); a latent variance is divided by its implied
    variance; a covariance involving a latent variable is divided by the residual
    sd of each latent side (``cov.std``); observed (residual) variances and
    covariances are left as they are.
    """
    mom = ram.implied(theta)
    A, S, C = mom["A"], mom["S"], mom["C"]
    latent = np.arange(len(ram.variables)) >= ram.p
    with np.errstate(invalid="ignore"):
        eta = np.where(latent, np.sqrt(np.where(np.diag(C) > 0, np.diag(C), np.nan)), 1.0)
        rv = np.where(latent, np.sqrt(np.abs(np.diag(S))), 1.0)
    out = np.empty(len(structure.rows))
    v = ram.means(theta) if ram.has_means else None
    with np.errstate(invalid="ignore", divide="ignore"):
        for k in range(len(structure.rows)):
            mat, i, j = ram.row_cells[k]
            if mat == 0:
                out[k] = A[i, j] * eta[j] / eta[i]
            elif mat == 2:  # a latent mean in its sds; an observed intercept as it is
                out[k] = v[i] / eta[i]  # type: ignore[index]
            elif i == j:
                out[k] = S[i, i] / eta[i] ** 2
            else:
                out[k] = S[i, j] / (rv[i] * rv[j])
    return out


def _group_tables(structure: Structure, ram: RAM, theta: np.ndarray, se: np.ndarray,
                  param_of_row: list[int], n: int, sample_means: np.ndarray | None
                  ) -> tuple[pd.DataFrame, dict[str, float], pd.DataFrame, list[Diagnostic],
                             np.ndarray]:
    """Parameter table, R², effects and diagnostics of one group."""
    mom = ram.implied(theta)
    A, S, C = mom["A"], mom["S"], mom["C"]
    with np.errstate(invalid="ignore"):
        sd = np.sqrt(np.where(np.diag(C) > 0, np.diag(C), np.nan))
    pos = {v: k for k, v in enumerate(ram.variables)}
    std_all = _std_rows(structure, ram, theta)
    v = ram.means(theta) if ram.has_means else None
    records = []
    warn: list[Diagnostic] = []
    for k, r in enumerate(structure.rows):
        mat, i, j = ram.row_cells[k]
        q = param_of_row[k]
        est = A[i, j] if mat == 0 else v[i] if mat == 2 else S[i, j]  # type: ignore[index]
        std = std_all[k]
        if q >= 0:
            s = se[q]
            z = est / s if s > 0 else math.nan
            pv = 2 * stats.norm.sf(abs(z)) if math.isfinite(z) else math.nan
            lo, hi = est - Z975 * s, est + Z975 * s
        else:
            s, z, pv, lo, hi = 0.0, math.nan, math.nan, est, est
        records.append([r.lhs, r.op, r.rhs, est, s, z, pv, lo, hi, std, math.nan, math.nan])
        if r.op == "~~" and r.lhs == r.rhs and est < 0:
            warn.append(Diagnostic("negative_variance", "invalidates",
                                   {"a": r.lhs, "b": r.rhs, "value": float(est)},
                                   constructs=("a", "b")))
        if r.op in ("=~", "~") and math.isfinite(std) and abs(std) > 1:
            warn.append(Diagnostic("improper_path", "invalidates",
                                   {"lhs": r.lhs, "op": r.op, "rhs": r.rhs, "value": float(std)},
                                   constructs=("lhs", "rhs")))
    if sample_means is not None and not ram.has_means:
        for v in structure.observed:
            i = pos[v]
            est = sample_means[i]
            s = math.sqrt(C[i, i] / n)
            z = est / s
            records.append([v, "~1", "", est, s, z, 2 * stats.norm.sf(abs(z)),
                            est - Z975 * s, est + Z975 * s, est / sd[i], math.nan, math.nan])
        for v in structure.latent:
            records.append([v, "~1", "", 0.0, 0.0, math.nan, math.nan, 0.0, 0.0, 0.0,
                            0.0, 0.0])
    params = pd.DataFrame(records, columns=_RECORD_COLUMNS)
    std_lv = _std_lv_rows(structure, ram, theta)
    params.insert(params.columns.get_loc("std.all"), "std.lv", np.concatenate(
        [std_lv, params["est"].to_numpy()[len(std_lv):]]))  # intercepts: observed, unscaled

    lv = [pos[v] for v in structure.latent]
    if lv:
        psi = S[np.ix_(lv, lv)]
        if np.linalg.eigvalsh((psi + psi.T) / 2).min() < -1e-10:
            warn.append(Diagnostic("psi_not_pd", "invalidates"))
        cov_lv = C[np.ix_(lv, lv)]
        if np.linalg.eigvalsh((cov_lv + cov_lv.T) / 2).min() < -1e-10:
            warn.append(Diagnostic("cov_lv_not_pd", "invalidates"))
    # R²: every variable with an incoming directed path
    r2: dict[str, float] = {}
    endogenous = [v for v in ram.variables if np.any(A[pos[v]] != 0)]
    order = [*[v for v in structure.observed if v in endogenous],
             *[v for v in structure.latent if v in endogenous]]
    for v in order:
        i = pos[v]
        # lavaan reports NA for an R² above 1 (a negative residual variance)
        r2[v] = 1 - S[i, i] / C[i, i] if C[i, i] > 0 and S[i, i] >= 0 else math.nan
    effects, struct_B = _effects(structure, ram, A, sd)
    return params, r2, effects, warn, struct_B


def _structural_index(structure: Structure, ram: RAM) -> tuple[list[str], np.ndarray]:
    pos = {v: k for k, v in enumerate(ram.variables)}
    names = list(structure.structural)
    return names, np.array([pos[v] for v in names], dtype=int)


def _reach(pattern: np.ndarray) -> np.ndarray:
    """reach[i, j]: a directed path leads from j to i."""
    k = len(pattern)
    reach = pattern.copy()
    for _ in range(k):
        new = reach | ((reach.astype(int) @ pattern.astype(int)) > 0)
        if (new == reach).all():
            break
        reach = new
    return reach


def _effect_matrices(B: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """total = (I - B)^-1 - I and indirect = total - B."""
    total = np.linalg.inv(np.eye(len(B)) - B) - np.eye(len(B))
    return total, total - B


def _path_pattern(structure: Structure, ram: RAM) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Structural paths among the structural variables: (pattern, reach, has_indirect)."""
    _, idx = _structural_index(structure, ram)
    pattern = (ram.A0[np.ix_(idx, idx)] != 0)
    e = ram.entries
    where = {int(v): k for k, v in enumerate(idx)}
    for kind, i, j in zip(e.kind, e.i, e.j, strict=True):
        if kind == 0 and int(i) in where and int(j) in where:
            pattern[where[int(i)], where[int(j)]] = True
    reach = _reach(pattern)
    # an indirect effect exists only along a path of two or more steps
    has_indirect = (reach.astype(int) @ pattern.astype(int)) > 0
    return pattern, reach, has_indirect


def _effect_values(ram: RAM, theta: np.ndarray, idx: np.ndarray, t_idx: np.ndarray,
                   f_idx: np.ndarray, pattern: np.ndarray, has_indirect: np.ndarray
                   ) -> np.ndarray:
    """The six effect measures of every (to, from) pair, stacked measure by measure.

    Unstandardized: ``B`` (direct), ``(I − B)⁻¹ − I`` (total), total − direct
    (indirect); standardized: the same from ``B_s = D⁻¹ B D`` with ``D`` the
    model-implied standard deviations (lavaan's ``std.all`` of a ``:=`` effect).
    A direct effect without a direct path, and an indirect effect along no path
    of two or more steps, are absent (NaN), not zero.
    """
    mom = ram.implied(theta)
    B = mom["A"][np.ix_(idx, idx)]
    c = np.diag(mom["C"])[idx]
    with np.errstate(invalid="ignore", divide="ignore"):
        s = np.sqrt(np.where(c > 0, c, np.nan))
        Bs = B * np.outer(1 / s, s)
    out = []
    for mat in (B, Bs):
        total, indirect = _effect_matrices(np.nan_to_num(mat))
        if mat is Bs and not np.isfinite(s).all():
            total, indirect = total * np.nan, indirect * np.nan
        indirect = np.where(has_indirect, indirect, np.nan)
        direct = np.where(pattern, mat, np.nan)
        out += [direct[t_idx, f_idx], indirect[t_idx, f_idx], total[t_idx, f_idx]]
    return np.concatenate(out)


def _effects(structure: Structure, ram: RAM, A: np.ndarray, sd: np.ndarray
             ) -> tuple[pd.DataFrame, np.ndarray]:
    names, idx = _structural_index(structure, ram)
    B = A[np.ix_(idx, idx)]
    pattern, reach, has_indirect = _path_pattern(structure, ram)
    total, indirect = _effect_matrices(B)
    s = sd[idx]
    Bs = B * np.outer(1 / s, s)
    total_s, indirect_s = _effect_matrices(Bs)
    for m in (indirect, indirect_s):
        m[~has_indirect] = np.nan
    B, Bs = np.where(pattern, B, np.nan), np.where(pattern, Bs, np.nan)
    rows = []
    for t in range(len(names)):
        for f in range(len(names)):
            if reach[t, f] and t != f:
                rows.append([names[f], names[t], B[t, f], indirect[t, f], total[t, f],
                             Bs[t, f], indirect_s[t, f], total_s[t, f]])
    return pd.DataFrame(rows, columns=EFFECT_COLUMNS), reach


class _Derived:
    """Standardized parameters, every effect and the defined parameters as one
    vector function of theta.

    Both the delta method and the bootstrap take their intervals of standardized
    estimates from this one function, so an interval always belongs to the
    estimate printed beside it (std.all with std.all, unstandardized with
    unstandardized). Layout: ``std.all`` of every row, the six effect measures
    of every pair, then each defined parameter (``:=``) unstandardized and
    standardized.
    """

    def __init__(self, structure: Structure, ram: RAM, effects: pd.DataFrame,
                 spec: _Spec | None = None) -> None:
        self.structure, self.ram = structure, ram
        names, self.idx = _structural_index(structure, ram)
        where = {v: k for k, v in enumerate(names)}
        self.t_idx = np.array([where[t] for t in effects["to"]], dtype=int)
        self.f_idx = np.array([where[f] for f in effects["from"]], dtype=int)
        self.pattern, _, self.has_indirect = _path_pattern(structure, ram)
        self.nrows = len(structure.rows)
        self.npairs = len(effects)
        self.defined = _compiled_defined(structure, spec) if spec is not None else []
        self.ndef = len(self.defined)
        self.label_param = spec.label_param[0] if spec is not None and spec.label_param \
            else {}
        self.label_value = spec.label_value if spec is not None else {}
        self.label_row: dict[str, int] = {}
        for k, r in enumerate(structure.rows):
            for label in (r.label, *(v for v in (r.group_values or ())
                                     if isinstance(v, str))):
                if label is not None:
                    self.label_row.setdefault(label, k)

    def labels(self, theta: np.ndarray) -> dict[str, float]:
        """Every label's unstandardized value."""
        out = dict(self.label_value)
        out.update({label: float(theta[q]) for label, q in self.label_param.items()})
        return out

    def __call__(self, theta: np.ndarray) -> np.ndarray:
        std = _std_rows(self.structure, self.ram, theta)
        parts = [std, _effect_values(self.ram, theta, self.idx, self.t_idx, self.f_idx,
                                     self.pattern, self.has_indirect)]
        if self.ndef:
            parts.append(np.array(evaluate(self.defined, self.labels(theta))))
            std_labels = {label: float(std[k]) for label, k in self.label_row.items()}
            parts.append(np.array(evaluate(self.defined, std_labels)))
        return np.concatenate(parts)

    def split(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(std.all of the rows, effects as measures × pairs)."""
        end = self.nrows + 6 * self.npairs
        return (values[..., :self.nrows],
                values[..., self.nrows:end].reshape(*values.shape[:-1], 6, self.npairs))

    def split_defined(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(defined parameters unstandardized, standardized)."""
        end = self.nrows + 6 * self.npairs
        return values[..., end:end + self.ndef], values[..., end + self.ndef:]


def _compiled_defined(structure: Structure, spec: _Spec) -> list:
    """The ``:=`` lines of the model, checked against its labels."""
    if not structure.defined:
        return []
    labels = set(spec.label_value)
    for group in spec.label_param:
        labels |= set(group)
    try:
        return compile_defined([(r.lhs, r.rhs) for r in structure.defined], labels)
    except DefinitionProblem as exc:
        line = next((r.line for r in structure.defined if r.lhs == exc.name), None)
        raise InputError(str(exc), line=line or None) from None


def _defined_rows(params: pd.DataFrame, fun: _Derived, theta: np.ndarray) -> pd.DataFrame:
    """The parameter table with one ``:=`` row per defined parameter (values only)."""
    if not fun.ndef:
        return params
    unstd, std = fun.split_defined(fun(theta))
    rows = pd.DataFrame([[r.lhs, ":=", r.rhs, float(u), math.nan, math.nan, math.nan,
                          math.nan, math.nan, float(z), math.nan, math.nan]
                         for r, u, z in zip(fun.structure.defined, unstd, std, strict=True)],
                        columns=_RECORD_COLUMNS)
    return pd.concat([params, rows], ignore_index=True)


def _delta_se(fun: Callable[[np.ndarray], np.ndarray], theta: np.ndarray,
              vcov: np.ndarray) -> np.ndarray:
    """Delta-method standard errors of ``fun(theta)``: sqrt(diag(J V Jᵀ)).

    ``J`` is the Jacobian by central differences (step 1e-6 · max(1, |θ|)), as
    lavaan's ``standardizedSolution()`` does with ``lav_func_jacobian_complex``
    where the analytic one is not used. Tested against lavaan's ``se`` of
    ``standardizedSolution()`` and of ``:=`` indirect effects.
    """
    base = fun(theta)
    J = np.zeros((len(base), len(theta)))
    for j in range(len(theta)):
        h = 1e-6 * max(1.0, abs(theta[j]))
        up, down = theta.copy(), theta.copy()
        up[j] += h
        down[j] -= h
        J[:, j] = (fun(up) - fun(down)) / (2 * h)
    with np.errstate(invalid="ignore"):
        var = np.einsum("ij,jk,ik->i", J, vcov, J)
        return np.sqrt(np.where(var > 0, var, 0.0))


def _add_intervals(params: pd.DataFrame, effects: pd.DataFrame, fun: _Derived,
                   lower: np.ndarray, upper: np.ndarray, method: str) -> pd.DataFrame:
    """Write std.ci of the parameter rows, the intervals of the defined parameters
    (``ci.*`` and ``std.ci.*`` of the ``:=`` rows) and those of the effects."""
    std_lo, eff_lo = fun.split(lower)
    std_hi, eff_hi = fun.split(upper)
    k = fun.nrows
    params.loc[params.index[:k], "std.ci.lower"] = std_lo
    params.loc[params.index[:k], "std.ci.upper"] = std_hi
    if fun.ndef:
        rows = params.index[params["op"] == ":="]
        (u_lo, s_lo), (u_hi, s_hi) = fun.split_defined(lower), fun.split_defined(upper)
        params.loc[rows, "ci.lower"], params.loc[rows, "ci.upper"] = u_lo, u_hi
        params.loc[rows, "std.ci.lower"], params.loc[rows, "std.ci.upper"] = s_lo, s_hi
    effects = effects.copy()
    for m, measure in enumerate(EFFECT_MEASURES):
        effects[f"{measure}.ci.lower"] = eff_lo[m]
        effects[f"{measure}.ci.upper"] = eff_hi[m]
    effects["ci.method"] = method
    return effects


def _delta_intervals(result: SEMResult, structure: Structure, ram: RAM, theta: np.ndarray,
                     vcov: np.ndarray | None, spec: _Spec | None = None) -> None:
    """Delta-method 95 % intervals of std.all, every effect and every defined
    parameter (whose ``se``, ``z`` and ``pvalue`` come from the same Jacobian)."""
    fun = _Derived(structure, ram, result.effects, spec)
    result.parameters = _defined_rows(result.parameters, fun, theta)
    est = fun(theta)
    if vcov is None:
        lower = upper = np.full_like(est, np.nan)
        se = np.full_like(est, np.nan)
    else:
        se = _delta_se(fun, theta, vcov)
        fixed = se == 0
        lower, upper = est - Z975 * se, est + Z975 * se
        lower[fixed & ~np.isfinite(est)] = np.nan
    if fun.ndef:
        rows = result.parameters.index[result.parameters["op"] == ":="]
        se_def = fun.split_defined(se)[0]
        est_def = fun.split_defined(est)[0]
        with np.errstate(invalid="ignore", divide="ignore"):
            z = est_def / se_def
        result.parameters.loc[rows, "se"] = se_def
        result.parameters.loc[rows, "z"] = z
        result.parameters.loc[rows, "pvalue"] = 2 * stats.norm.sf(np.abs(z))
    result.effects = _add_intervals(result.parameters, result.effects, fun, lower, upper,
                                    "delta")


# -- bootstrap -------------------------------------------------------------------

#: Bootstrap interval types (``ci`` of :func:`fit`, ``--ci`` of ``satisfaction fit``).
BOOTSTRAP_CI = ("perc", "bca", "bca.simple")
#: ``ci.method`` written in the tables for each interval type.
_CI_METHOD = {"perc": "bootstrap percentile", "bca": "bootstrap BCa",
              "bca.simple": "bootstrap bca.simple"}


@dataclass
class _BootModel:
    """What one bootstrap draw refits: the layout, one RAM per group (with its
    data rows) and the derived quantities kept per draw.

    ``fun(theta)`` gives the standardized parameters, effects and defined
    parameters (:class:`_Derived`, or :class:`_GroupDerived` with groups); every
    draw stores ``theta`` followed by ``fun(theta)``.
    """

    spec: _Spec
    rams: list[RAM]
    xs: list[np.ndarray]
    fun: Any
    #: full-information ML: ``xs`` hold incomplete rows and each draw refits the
    #: casewise likelihood (:func:`_fiml_refit`) instead of the covariance matrices
    fiml: bool = False

    @property
    def sizes(self) -> list[int]:
        return [len(x) for x in self.xs]


class _GroupDerived:
    """Derived quantities of a multi-group fit: ``std.all`` of every row in every
    group (group after group, the parameter table's order), then each defined
    parameter (``:=``, unstandardized: labels are one parameter across groups)."""

    def __init__(self, spec: _Spec, rams: list[RAM]) -> None:
        self.structure, self.rams = spec.structure, rams
        self.nrows = len(spec.structure.rows)
        self.defined = _compiled_defined(spec.structure, spec)
        self.ndef = len(self.defined)
        self.label_value = dict(spec.label_value)
        self.label_param: dict[str, int] = {}
        for group in spec.label_param:
            self.label_param.update(group)

    def __call__(self, theta: np.ndarray) -> np.ndarray:
        parts = [_std_rows(self.structure, ram, theta) for ram in self.rams]
        if self.ndef:
            labels = dict(self.label_value)
            labels.update({label: float(theta[q]) for label, q in self.label_param.items()})
            parts.append(np.array(evaluate(self.defined, labels)))
        return np.concatenate(parts)


def _set_exo_means(ram: RAM, structure: Structure, mean: np.ndarray) -> None:
    """Fix the exogenous observed means at the sample means (fixed.x, mean structure)."""
    if ram.v0 is None:
        return
    pos = {v: k for k, v in enumerate(ram.variables)}
    for v in structure.exogenous_observed:
        ram.v0[pos[v]] = mean[pos[v]]


def resample_indices(sizes: list[int], draws: int, seed: int | None) -> np.ndarray:
    """Bootstrap resamples as row indices, ``draws × sum(sizes)``.

    The rows are the groups' rows one group after the other; each group is
    resampled within itself (stratified, as lavaan's bootstrap does with
    groups), with replacement, by ``numpy.random.default_rng(seed)``.
    """
    rng = np.random.default_rng(seed)
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(int)
    return np.hstack([rng.integers(0, n, size=(draws, n)) + off
                      for n, off in zip(sizes, offsets, strict=True)])


def _boot_chunk(args: tuple) -> tuple[np.ndarray, int]:
    """Refit resampled covariance matrices (sufficient statistics) from a warm start."""
    model, weights, theta0 = args
    # one BLAS thread per worker: the matrices are small and the workers share the cores
    with threadpool_limits(1):
        return _boot_draws(model, weights, theta0)


def _boot_draws(model: _BootModel, weights: np.ndarray, theta0: np.ndarray
                ) -> tuple[np.ndarray, int]:
    """``theta`` and ``fun(theta)`` of every draw (NaN when it failed).

    ``weights[d]`` counts how often each row (groups one after another) is in
    draw ``d``: a bootstrap resample, or a jackknife sample (one row left out).
    """
    structure = model.spec.structure
    bounds = np.concatenate([[0], np.cumsum(model.sizes)]).astype(int)
    out = None
    failed = 0
    for d, w_all in enumerate(weights):
        if model.fiml:
            theta, ok = _fiml_refit(model, [w_all[bounds[g]:bounds[g + 1]]
                                            for g in range(len(model.xs))], theta0)
            values = np.concatenate([theta, model.fun(theta)])
            if out is None:
                out = np.full((len(weights), len(values)), np.nan)
            if ok:
                out[d] = values
            else:
                failed += 1
            continue
        blocks = []
        for g, (ram, x) in enumerate(zip(model.rams, model.xs, strict=True)):
            w = w_all[bounds[g]:bounds[g + 1]].astype(float)
            m = w.sum()
            mean = w @ x / m
            S = (x * w[:, None]).T @ x / m - np.outer(mean, mean)
            _set_exo(ram, structure, S)
            _set_exo_means(ram, structure, mean)
            blocks.append(Block(ram, S, int(m), mean if ram.has_means else None))
        # gradient tolerance 1e-6: estimates are then exact to about 1e-6, far below
        # the bootstrap's own sampling error
        sol = minimise(blocks, theta0, max_iter=500, tol=1e-6, lower=model.spec.lower,
                       upper=model.spec.upper, ineq=model.spec.ineq)
        values = np.concatenate([sol.theta, model.fun(sol.theta)])
        if out is None:
            out = np.full((len(weights), len(values)), np.nan)
        if not sol.converged:
            failed += 1
            continue
        out[d] = values
    if out is None:
        out = np.empty((0, 0))
    return out, failed


def _fiml_refit(model: _BootModel, weights: list[np.ndarray], theta0: np.ndarray
                ) -> tuple[np.ndarray, bool]:
    """One FIML refit on a resample (lavaan's ``se = "bootstrap"`` with
    ``missing = "ml"``): each group's rows repeated by their weights, grouped by
    missingness pattern, and the casewise discrepancy of :func:`_fiml_multi`
    minimised by L-BFGS-B from the full-sample estimate. fixed.x covariates
    (complete, the last columns) take the resample's means and covariances."""
    spec, q = model.spec, model.spec.nparam
    structure = spec.structure
    nx = len(structure.exogenous_observed)
    parts = []
    for ram, x, w in zip(model.rams, model.xs, weights, strict=True):
        rows = np.repeat(x, w.astype(int), axis=0)
        if nx:
            exo = rows[:, -nx:]
            S = np.zeros((x.shape[1], x.shape[1]))
            S[-nx:, -nx:] = _covariance(exo)
            mean = np.zeros(x.shape[1])
            mean[-nx:] = exo.mean(axis=0)
            _set_exo(ram, structure, S)
            _set_exo_means(ram, structure, mean)
        parts.append((ram, patterns(rows), len(rows)))
    total = sum(n for _, _, n in parts)

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        f, g = 0.0, np.zeros(q)
        for ram, pats, n in parts:
            sigma = ram.implied(theta)["Sigma"]
            mu = ram.implied_mean(theta)
            fg, W, gmu = fiml_objective(pats, sigma, mu)
            if not np.isfinite(fg):
                return 1e10, np.zeros(q)
            f += n / total * fg
            g += n / total * (sigma_gradient(ram, theta, W, q)
                              + robust.mean_jacobian(ram, theta, q).T @ gmu)
        return f, g

    if spec.lower is None and spec.ineq is None:
        theta, ok = _fiml_scoring(parts, theta0, q)
        if ok:
            return theta, ok
    # gradient tolerance 1e-7: estimates exact to about 1e-6, far below the
    # bootstrap's own sampling error
    opt = optimize.minimize(objective, theta0, jac=True, method="L-BFGS-B",
                            bounds=_lbfgs_bounds(spec, q),
                            options={"maxiter": 2000, "ftol": 1e-15, "gtol": 1e-7})
    ok = bool(opt.success) or float(np.max(np.abs(opt.jac))) < 1e-5
    theta, ok, _ = _fiml_inequality(objective, opt.x, ok, spec)
    return theta, ok


@dataclass
class _FimlPart:
    """One group of a FIML bootstrap draw: its RAM, patterns and size."""

    ram: RAM
    pats: list
    n: int


def _fiml_scoring(parts: list[tuple[RAM, list, int]], theta0: np.ndarray, q: int,
                  max_iter: int = 60, tol: float = 1e-7) -> tuple[np.ndarray, bool]:
    """Fisher scoring on the FIML discrepancy: step ``−H⁻¹g`` with ``H`` the expected
    information of each missingness pattern
    (:func:`~satisfaction.modindices.fiml_weighted`), halved until ``F`` decreases.
    From the full-sample estimate it reaches a draw's optimum in a few steps, where
    L-BFGS-B needs hundreds of gradient evaluations on a large or badly conditioned
    model; when it stalls the caller falls back to L-BFGS-B."""
    from satisfaction.modindices import fiml_weighted

    groups = [_FimlPart(ram, pats, n) for ram, pats, n in parts]
    pats = [g.pats for g in groups]
    theta = theta0.astype(float).copy()
    f, g, H = fiml_weighted(groups, pats, theta, q)
    if H is None:
        return theta, False
    for _ in range(max_iter):
        try:
            step = -np.linalg.solve(H + 1e-10 * np.eye(q), g)
        except np.linalg.LinAlgError:
            return theta, False
        size = 1.0
        for _ in range(30):
            trial = theta + size * step
            f_new, g_new, H_new = fiml_weighted(groups, pats, trial, q)
            if H_new is not None and np.isfinite(f_new) and \
                    f_new <= f + 1e-4 * size * float(g @ step):
                break
            size /= 2.0
        else:
            return theta, float(np.max(np.abs(g))) < 1e-5
        stalled = f - f_new <= 1e-15 * max(1.0, abs(f))
        theta, f, g, H = trial, f_new, g_new, H_new
        gmax = float(np.max(np.abs(g)))
        if gmax < tol or (stalled and gmax < 1e-6):
            return theta, True
    return theta, False


def _boot_run(model: _BootModel, weights: np.ndarray, theta: np.ndarray,
              n_jobs: int | None, progress: bool, what: str) -> tuple[np.ndarray, int]:
    """Run :func:`_boot_draws` over every row of ``weights`` in worker processes."""
    draws = len(weights)
    jobs = n_jobs or os.cpu_count() or 1
    jobs = max(1, min(jobs, draws))
    nchunks = min(draws, jobs * 8)
    bounds = np.linspace(0, draws, nchunks + 1).astype(int)
    chunks = [(model, weights[a:b], theta) for a, b in itertools.pairwise(bounds) if b > a]
    results: list[tuple[np.ndarray, int]] = []
    bar = None
    if progress:
        from rich.progress import Progress

        bar = Progress(transient=True)
        bar.start()
        task = bar.add_task(what, total=draws)
    try:
        if jobs == 1:
            for c in chunks:
                results.append(_boot_chunk(c))
                if bar is not None:
                    bar.advance(task, len(c[1]))
        else:
            with ProcessPoolExecutor(max_workers=jobs) as pool:
                for c, res in zip(chunks, pool.map(_boot_chunk, chunks), strict=True):
                    results.append(res)
                    if bar is not None:
                        bar.advance(task, len(c[1]))
    finally:
        if bar is not None:
            bar.stop()
    return np.vstack([r[0] for r in results]), sum(r[1] for r in results)


def _norm_inter(t: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Bootstrap quantiles at levels ``alpha`` by interpolation on the normal scale.

    With the ``R`` finite values sorted, ``t*_(1) ≤ … ≤ t*_(R)``, level ``α`` sits
    at rank ``r = (R + 1)·α``; for ``k = ⌊r⌋`` between 1 and ``R − 1`` and ``r``
    not whole the quantile is ``t*_(k) + (Φ⁻¹(α) − Φ⁻¹(k/(R+1))) /
    (Φ⁻¹((k+1)/(R+1)) − Φ⁻¹(k/(R+1))) · (t*_(k+1) − t*_(k))``, else the order
    statistic itself (the extreme one at either end). Davison & Hinkley (1997),
    eq. 5.8; the rule of R's ``boot`` package and of lavaan's bootstrap intervals.
    """
    t = np.sort(t[np.isfinite(t)])
    R = len(t)
    out = np.full(len(alpha), np.nan)
    if R == 0:
        return out
    for i, a in enumerate(alpha):
        if not math.isfinite(a):
            continue
        r = (R + 1) * a
        k = math.trunc(r)
        if k <= 0:
            out[i] = t[0]
        elif k >= R:
            out[i] = t[-1]
        elif k == r:
            out[i] = t[k - 1]
        else:
            z0, z1 = stats.norm.ppf(k / (R + 1)), stats.norm.ppf((k + 1) / (R + 1))
            out[i] = t[k - 1] + (stats.norm.ppf(a) - z0) / (z1 - z0) * (t[k] - t[k - 1])
    return out


def _boot_limits(values: np.ndarray, est: np.ndarray, ci: str,
                 accel: np.ndarray | None = None, level: float = 0.95
                 ) -> tuple[np.ndarray, np.ndarray]:
    """95 % bootstrap intervals of every column of ``values`` (draws × quantities).

    ``perc``: the bootstrap quantiles at ``α = 0.025, 0.975`` (:func:`_norm_inter`).
    ``bca.simple`` and ``bca``: the quantiles at the adjusted levels
    ``Φ(w + (w + z_α) / (1 − a (w + z_α)))`` with the bias correction
    ``w = Φ⁻¹(#{t* < t̂} / R)`` (Efron 1987); ``bca.simple`` takes ``a = 0``
    (lavaan's ``boot.ci.type = "bca.simple"``), ``bca`` the acceleration ``accel``.
    A quantity that does not vary over the draws gets its estimate at both ends.
    """
    alpha = np.array([(1 - level) / 2, (1 + level) / 2])
    zalpha = stats.norm.ppf(alpha)
    lower = np.full(values.shape[1], np.nan)
    upper = np.full(values.shape[1], np.nan)
    for j in range(values.shape[1]):
        t = values[:, j]
        t = t[np.isfinite(t)]
        if len(t) == 0 or not math.isfinite(est[j]):
            continue
        if ci == "perc":
            lower[j], upper[j] = _norm_inter(t, alpha)
            continue
        if np.var(t) == 0:
            lower[j] = upper[j] = est[j]
            continue
        with np.errstate(divide="ignore", invalid="ignore"):
            w = stats.norm.ppf(np.mean(t < est[j]))
            a = 0.0 if ci == "bca.simple" or accel is None else accel[j]
            adj = stats.norm.cdf(w + (w + zalpha) / (1 - a * (w + zalpha)))
        lower[j], upper[j] = _norm_inter(t, adj)
    return lower, upper


def _jackknife_accel(model: _BootModel, theta: np.ndarray, n_jobs: int | None,
                     progress: bool) -> tuple[np.ndarray, int]:
    """Acceleration of every quantity from the jackknife (one respondent left out).

    ``a = Σ (θ̄ − θ₍ᵢ₎)³ / (6 [Σ (θ̄ − θ₍ᵢ₎)²]^{3/2})`` over the ``N`` leave-one-out
    refits ``θ₍ᵢ₎`` (with groups: left out of its own group), ``θ̄`` their mean
    (Efron & Tibshirani 1993, eq. 14.15). Returns ``(a, failed refits)``.
    """
    total = sum(model.sizes)
    weights = np.ones((total, total), dtype=np.int32)
    np.fill_diagonal(weights, 0)
    values, failed = _boot_run(model, weights, theta, n_jobs, progress, "jackknife")
    ok = ~np.isnan(values).all(axis=1)
    jack = values[ok]
    with np.errstate(invalid="ignore", divide="ignore"), catch_warnings():
        simplefilter("ignore", RuntimeWarning)  # an absent effect: all NaN
        d = np.nanmean(jack, axis=0) - jack
        num = np.nansum(d ** 3, axis=0)
        den = 6 * np.nansum(d ** 2, axis=0) ** 1.5
        accel = np.where(den > 0, num / den, 0.0)
    return accel, failed


def _bootstrap(result: SEMResult, model: _BootModel, theta: np.ndarray, draws: int,
               seed: int | None, n_jobs: int | None, progress: bool, ci: str = "perc"
               ) -> None:
    """Bootstrap standard errors and 95 % intervals of every parameter (lavaan's
    ``se = "bootstrap"``), of std.all, of every effect and of the defined parameters.

    Each draw resamples the respondents (within each group), refits the model to
    the resampled covariance matrices (and means) from the estimate and keeps
    ``theta`` and the derived quantities; a draw that does not converge is left
    out and counted, and more than :data:`MAX_BOOTSTRAP_FAILED` failed draws
    invalidate the intervals. ``se`` of a free parameter is the standard
    deviation of its draws with divisor ``B`` (lavaan: ``cov(COEF)·(B−1)/B``), of a
    defined parameter with divisor ``B − 1`` (lavaan: ``cov(BOOT.def)``); ``z`` and
    ``pvalue`` use that ``se``. Intervals: see :func:`_boot_limits` (``ci``); ``bca``
    takes its acceleration from :func:`_jackknife_accel`.
    """
    fun = model.fun
    est = np.concatenate([theta, fun(theta)])  # before the draws change the exogenous cells
    weights = np.stack([np.bincount(r, minlength=sum(model.sizes))
                        for r in resample_indices(model.sizes, draws, seed)])
    values, failed = _boot_run(model, weights, theta, n_jobs, progress, "bootstrap")
    ok = ~np.isnan(values).all(axis=1)
    values = values[ok]
    accel = None
    if ci == "bca":
        accel, jack_failed = _jackknife_accel(model, theta, n_jobs, progress)
        if jack_failed:
            result.warnings.append(Diagnostic("bootstrap_failed", "caution",
                                              {"failed": int(jack_failed),
                                               "draws": int(sum(model.sizes)),
                                               "share": jack_failed / sum(model.sizes)}))
    present = np.isfinite(est)
    lower, upper = _boot_limits(values, est, ci, accel)
    # An interval that misses its own estimate says the resampled fits land
    # elsewhere than the fit to the data (a boundary or unstable solution): such
    # an interval would not belong to the estimate beside it, so it is not shown,
    # and a caution names how many there were.
    outside = present & ((lower > est + 1e-12) | (upper < est - 1e-12))
    lower[outside] = upper[outside] = np.nan
    q = len(theta)
    with np.errstate(invalid="ignore"):
        se_theta = np.std(values[:, :q], axis=0) if len(values) else np.full(q, np.nan)
    method = _CI_METHOD[ci]
    names = _write_free(result, model.spec, est[:q], se_theta, lower[:q], upper[:q],
                        outside[:q], method)
    if isinstance(fun, _Derived):
        names += _outside_derived(result, model.spec, fun, outside[q:])
        _defined_se(result, fun.split_defined(values[:, q:])[0],
                    fun.split_defined(est[q:])[0])
        result.effects = _add_intervals(result.parameters, result.effects, fun, lower[q:],
                                        upper[q:], method)
    else:
        _group_intervals(result, fun, values[:, q:], est[q:], lower[q:], upper[q:])
    if outside.any():
        result.warnings.append(Diagnostic("bootstrap_excludes_estimate", "caution",
                                          {"n": int(outside.sum()),
                                           "which": ", ".join(names[:6])}))
    if failed:
        share = failed / draws
        severity = "invalidates" if share > MAX_BOOTSTRAP_FAILED else "caution"
        result.warnings.append(Diagnostic("bootstrap_failed", severity,
                                          {"failed": int(failed), "draws": int(draws),
                                           "share": share}))
    result.bootstrap = {"draws": draws, "succeeded": int(ok.sum()), "failed": int(failed),
                        "seed": seed, "interval": f"{method} 95%", "ci": ci}


def _write_free(result: SEMResult, spec: _Spec, theta: np.ndarray, se: np.ndarray,
                lower: np.ndarray, upper: np.ndarray, outside: np.ndarray, method: str
                ) -> list[str]:
    """Bootstrap ``se``, ``z``, ``pvalue`` and ``ci.*`` of the free parameter rows (every
    group); a ``ci.method`` column says where each row's interval comes from."""
    params = result.parameters
    k = len(spec.structure.rows)
    params["ci.method"] = "fixed"  # a fixed row's interval is its value
    names = []
    for g, rows in enumerate(spec.param_of_row):
        for j, qi in enumerate(rows):
            if qi < 0:
                continue
            i = params.index[g * k + j]
            s = float(se[qi])
            z = theta[qi] / s if s > 0 else math.nan
            params.loc[i, ["se", "z", "pvalue", "ci.lower", "ci.upper", "ci.method"]] = [
                s, z, 2 * stats.norm.sf(abs(z)) if math.isfinite(z) else math.nan,
                lower[qi], upper[qi], method]
            if outside[qi]:
                r = spec.structure.rows[j]
                names.append(f"{r.lhs} {r.op} {r.rhs}")
    defined = params["op"] == ":="
    params.loc[defined, "ci.method"] = method
    return list(dict.fromkeys(names))


def _outside_derived(result: SEMResult, spec: _Spec, fun: _Derived, outside: np.ndarray
                     ) -> list[str]:
    std_out, eff_out = fun.split(outside.astype(float))
    names = [f"std.all {r.lhs} {r.op} {r.rhs}"
             for r, o in zip(spec.structure.rows, std_out, strict=True) if o]
    for m, measure in enumerate(EFFECT_MEASURES):
        names += [f"{measure} {f} -> {t}" for f, t, o in zip(
            result.effects["from"], result.effects["to"], eff_out[m], strict=True) if o]
    return names


def _defined_se(result: SEMResult, draws: np.ndarray, est: np.ndarray) -> None:
    """``se`` (divisor B − 1, lavaan's ``cov(BOOT.def)``), ``z``, ``pvalue`` of ``:=`` rows."""
    if draws.shape[-1] == 0:
        return
    rows = result.parameters.index[result.parameters["op"] == ":="]
    se = np.std(draws, axis=0, ddof=1) if len(draws) > 1 else np.full(len(est), np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = est / se
    result.parameters.loc[rows, "se"] = se
    result.parameters.loc[rows, "z"] = z
    result.parameters.loc[rows, "pvalue"] = 2 * stats.norm.sf(np.abs(z))


def _group_intervals(result: SEMResult, fun: _GroupDerived, draws: np.ndarray,
                     est: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> None:
    """std.ci of every row in every group and the intervals of the ``:=`` rows of a
    multi-group fit; the per-group tables get the same numbers."""
    params = result.parameters
    nstd = fun.nrows * len(fun.rams)
    params.loc[params.index[:nstd], "std.ci.lower"] = lower[:nstd]
    params.loc[params.index[:nstd], "std.ci.upper"] = upper[:nstd]
    if fun.ndef:
        rows = params.index[params["op"] == ":="]
        params.loc[rows, "ci.lower"] = lower[nstd:]
        params.loc[rows, "ci.upper"] = upper[nstd:]
        _defined_se(result, draws[:, nstd:], est[nstd:])
    if result.groups is not None:
        cols = ["se", "z", "pvalue", "ci.lower", "ci.upper", "std.ci.lower", "std.ci.upper"]
        for g, label in enumerate(result.groups.labels):
            block = params.iloc[g * fun.nrows:(g + 1) * fun.nrows]
            table = result.groups.per_group[label].parameters
            table.loc[table.index[:fun.nrows], cols] = block[cols].to_numpy()
            table["ci.method"] = block["ci.method"].to_numpy()


# -- public API ------------------------------------------------------------------


def _moments(structure: Structure, observed: list[str], groups: int, meanstructure: bool
             ) -> int:
    """Sample moments the model is fitted to (lavaan's ``ndat``; fixed.x moments left out)."""
    p, nx = len(observed), len(structure.exogenous_observed)
    return groups * (p * (p + 1) // 2 - nx * (nx + 1) // 2 + (p - nx if meanstructure else 0))


def _check_identified(npar: int, ndat: int, source: str | None) -> None:
    """Refuse a model with more free parameters than sample moments (df < 0), or with
    none at all (nothing to estimate)."""
    if npar == 0:
        raise InputError("the model has no free parameter to estimate (every value is "
                         "fixed); free at least one", file=source or "<model>")
    if npar > ndat:
        raise InputError(
            f"the model is not identified: it has {npar} free parameters but the data give "
            f"only {ndat} sample moments (df = {ndat - npar}); fix parameters or add "
            "indicators", file=source or "<model>")


def fit_criteria(model: str | Path | Questionnaire | None = None
                 ) -> dict[str, tuple[str, float]]:
    """The fit cut-offs of ``model``: the questionnaire's ``fit_criteria``, else
    :data:`FIT_CRITERIA` (index → (direction, threshold))."""
    declared = getattr(model, "fit_criteria", None) if isinstance(model, Questionnaire) else None
    out = dict(FIT_CRITERIA)
    for name, value in (declared or {}).items():
        if value is not None:
            out[name] = (out[name][0], float(value))
    return out


def _fit_diagnostics(measures: dict[str, float], criteria: dict[str, tuple[str, float]]
                     ) -> list[Diagnostic]:
    """A caution for every fit index that misses its cut-off. A robust fit (MLR/MLM) is
    judged by the robust index where there is one (``cfi.robust`` for ``cfi``), the
    naive indices of a non-normal χ² being off (Brosseau-Liard & Savalei 2014)."""
    out = []
    for name, (direction, threshold) in criteria.items():
        value = measures.get(name)
        robust_value = measures.get(f"{name}.robust")
        if robust_value is not None and math.isfinite(robust_value):
            name, value = f"{name}.robust", robust_value
        if value is None or not math.isfinite(value):
            continue
        met = value >= threshold if direction == ">=" else value <= threshold
        if not met:
            out.append(Diagnostic("fit_poor", "caution",
                                  {"index": name, "value": float(value), "op": direction,
                                   "threshold": threshold}))
    return out


def fit(model: str | Path | Questionnaire, data: pd.DataFrame, *, missing: str = "listwise",
        bootstrap: int = 0, seed: int | None = None, group: str | None = None,
        n_jobs: int | None = None, progress: bool = False,
        criteria: dict[str, tuple[str, float]] | None = None,
        estimator: str = "ml", group_equal: tuple[str, ...] | list[str] = (),
        group_partial: tuple[str, ...] | list[str] = (), ci: str = "perc",
        ordered: str | list[str] | None = None, sampling_weights: Any = None,
        se: str = "standard") -> SEMResult:
    """Fit a CFA or SEM by maximum likelihood, with lavaan's defaults.

    Parameters
    ----------
    model : str, Path or Questionnaire
        A questionnaire (measurement + higher-order + structural model), a
        questionnaire YAML file, a lavaan-syntax file, or lavaan syntax.
    data : pandas.DataFrame
        One row per respondent; columns named as the model's observed variables.
    missing : {"listwise", "fiml"}
        ``listwise`` drops respondents with a missing value on any model variable
        (counted in ``excluded["missing_values"]``); ``fiml`` uses every answer
        (lavaan's ``missing = "ml"``), also with ``group`` (per group the casewise
        likelihood with the mean structure and ``group_equal`` constraints), with
        intercepts written in the model, and with exogenous observed covariates
        (fixed.x: respondents missing a covariate are dropped, as lavaan does, and
        counted in ``excluded["missing_exogenous"]``).
    bootstrap : int
        Number of bootstrap draws (also with ``group`` and with ``missing="fiml"``,
        where every draw refits the casewise likelihood on the resample): lavaan's
        ``se = "bootstrap"``. Every free parameter's ``se`` becomes the standard
        deviation of its draws, ``z`` and ``pvalue`` follow from it, and ``ci.lower``/
        ``ci.upper`` of every parameter, std.all, every effect and every ``:=``
        parameter are bootstrap intervals of type ``ci`` (the tables' ``ci.method``
        says which). With ``group`` the respondents are resampled within each group
        (stratified, as lavaan). Without it intervals are Wald (parameters) and
        delta-method (std.all, effects, ``:=``).
    seed : int, optional
        Seed of the bootstrap resampling (same seed, same numbers).
    group : str, optional
        Column defining groups for a multi-group fit.
    ci : {"perc", "bca", "bca.simple"}
        Bootstrap interval type. ``perc``: percentile (lavaan's
        ``parameterEstimates(boot.ci.type = "perc")``). ``bca.simple``: bias-corrected
        percentile without acceleration (lavaan's ``"bca.simple"``). ``bca``: bias-
        corrected and accelerated (Efron 1987) with the acceleration from the
        jackknife (``N`` extra leave-one-out refits); it differs from
        ``bca.simple`` by that acceleration, and from lavaan's ``"bca"`` (0.6-14), which
        estimates the acceleration by regressing the draws on the resampling
        frequencies instead of the jackknife.
    n_jobs : int, optional
        Worker processes for the bootstrap (default: all cores).
    progress : bool
        Show a progress bar during the bootstrap.
    criteria : dict, optional
        Fit cut-offs ``{index: (">=" or "<=", threshold)}``; default
        :func:`fit_criteria` of the model.
    estimator : {"ml", "mlr", "mlm", "wlsmv", "wlsm", "ulsmv"}
        ``wlsmv``, ``wlsm``, ``ulsmv`` (with ``ordered``):
        :func:`satisfaction.ordinal.fit_ordered`.
        ``ml``: normal-theory standard errors and χ². ``mlr``: Huber-White
        (sandwich) standard errors and the Yuan-Bentler scaled χ² (lavaan's
        ``estimator = "MLR"``; also with ``missing="fiml"``); ``mlm``: Satorra-Bentler
        (lavaan's ``"MLM"``, complete data). Both add lavaan's ``chisq.scaled``,
        ``chisq.scaling.factor``, ``cfi.scaled``/``cfi.robust``, ``tli.*``,
        ``rmsea.scaled``/``rmsea.robust`` ... to ``fit_measures`` and take the
        parameter table's and the delta-method intervals' standard errors from the
        robust covariance (:mod:`satisfaction.robust`). Complete data with or without
        ``group`` (and ``group_equal``), with exogenous observed covariates (fixed.x),
        and ``mlr`` with ``missing="fiml"`` with or without ``group``, covariates or
        intercepts written in the model; with FIML the
        ``*.robust`` indices come from Savalei's corrected statistic as in lavaan.
        With ``group`` the test of equal structural paths (``groups.chisq_diff``)
        gains the Satorra-Bentler (2001) scaled difference ``chisq.scaled``,
        ``scaling.factor``, ``pvalue.scaled``.
    group_equal : sequence of str
        With ``group``: classes of parameters held equal across groups, lavaan's
        ``group.equal`` (:data:`GROUP_EQUAL`: ``loadings``, ``intercepts``,
        ``means``, ``residuals``, ``residual.covariances``, ``lv.variances``,
        ``lv.covariances``, ``regressions``). Multi-group fits have lavaan's mean
        structure: free intercepts, latent means 0, or free in all groups but the
        first when intercepts are equal.
    group_partial : sequence of str
        Parameters exempt from ``group_equal``, written ``"lhs op rhs"`` (e.g.
        ``"x3 ~1"``, ``"visual =~ x2"``), lavaan's ``group.partial``.
    ordered : str or list of str, optional
        Ordered (ordinal) items, ``"all"`` or their names (every observed variable
        of the model): fitted with ``estimator="wlsmv"`` from thresholds and
        polychoric correlations as lavaan's ``ordered =`` with ``estimator =
        "WLSMV"`` (:mod:`satisfaction.ordinal`; single group, listwise, no
        bootstrap; other combinations raise a ``UsageError``).
    sampling_weights : str, Series or array, optional
        Respondent weights, a column of ``data`` or one number per row (a Series by
        respondent): fitted as lavaan's ``sampling.weights`` (weighted moments, MLR
        standard errors and scaled test; :func:`satisfaction.sem_weights.fit_weighted`;
        complete data, one or more groups; ``estimator`` ``ml`` or ``mlr``, no bootstrap).
    se : {"standard", "none"}
        ``none`` (lavaan's ``se = "none"``): no standard errors, for callers that use
        only the estimates and the fit measures (the invariance steps of
        :func:`satisfaction.invariance.construct_invariance`). The information matrix
        is not computed (for FIML its numerical observed information, most of a
        small model's fit time), so every ``se``, ``z``, ``pvalue`` and Wald or
        delta-method interval is NaN and ``se_singular_identified`` is not checked:
        admissibility (``status``) then rests on the estimates alone (convergence,
        negative variances, non-positive-definite latent covariances, ``|std.all| >
        1``). A model that is identified by its structure (e.g. one factor with three
        or more items and a fixed first loading) loses nothing by it. Complete data
        (one or more groups) and multi-group FIML; ``estimator="ml"``, no bootstrap,
        no ordered items; with ``sampling_weights`` complete data with a ``group`` only
        (the weighted ML fit without MLR: estimates and the ML χ², no scaled measures;
        the freed models of :func:`satisfaction.invariance.invariance`'s suggestions).

    Returns
    -------
    SEMResult
        Its ``warnings`` are :class:`~satisfaction.diagnostics.Diagnostic` records and
        its ``status`` is ``ok``, ``caution`` or ``invalid`` (not converged, singular
        information, negative variances, a non-positive-definite latent covariance
        matrix, ``|std.all| > 1``, or more than 10 % failed bootstrap draws).

    Raises
    ------
    InputError
        The model is not identified (more free parameters than sample moments).

    Notes
    -----
    Estimator: ML, ``F = log|Σ| + tr(SΣ⁻¹) − log|S| − p`` with ``S`` divided by ``N``;
    ``chisq = N·F``; standard errors from the expected information; ``std.all`` uses
    model-implied variances, residual covariances are divided by the residual
    standard deviations (lavaan 0.6). Intervals of ``std.all`` and of the effects:
    delta method (lavaan's ``standardizedSolution()``) or bootstrap percentiles of
    the same quantities. Tested against lavaan 0.6 fitMeasures(),
    parameterEstimates(), standardizedSolution() and lavInspect(, "r2") to 1e-3.
    """
    if se not in ("standard", "none"):
        raise UsageError(f"se must be 'standard' or 'none', not {se!r}", value=se)
    if se == "none" and (ordered or estimator != "ml" or bootstrap or (
            sampling_weights is not None and (group is None or missing != "listwise"))):
        raise UsageError("se='none' needs estimator 'ml' without bootstrap or ordered "
                         "items (with weights: complete data and a group)", value=se)
    if sampling_weights is not None:  # respondent weights: lavaan's sampling.weights (MLR)
        from satisfaction.sem_weights import fit_weighted

        with threadpool_limits(1):
            return fit_weighted(model, data, sampling_weights, group=group,
                                group_equal=tuple(group_equal),
                                group_partial=tuple(group_partial), criteria=criteria,
                                missing=missing, bootstrap=bootstrap, estimator=estimator,
                                ordered=ordered, se=se)
    if ordered or estimator in ("wlsmv", "wlsm", "ulsmv"):  # ordinal items (polychorics)
        from satisfaction.ordinal import fit_ordered

        with threadpool_limits(1):
            return fit_ordered(
                model, data, ordered=ordered, estimator=estimator, missing=missing,
                bootstrap=bootstrap, group=group, group_equal=tuple(group_equal),
                group_partial=tuple(group_partial), criteria=criteria if criteria is not None
                else fit_criteria(model if isinstance(model, Questionnaire) else None))
    # The matrices are small (tens of variables): a multi-threaded BLAS only adds overhead.
    with threadpool_limits(1):
        return _fit(model, data, missing=missing, bootstrap=bootstrap, seed=seed, group=group,
                    n_jobs=n_jobs, progress=progress, estimator=estimator,
                    group_equal=tuple(group_equal), group_partial=tuple(group_partial),
                    ci=ci, criteria=criteria if criteria is not None else fit_criteria(
                        model if isinstance(model, Questionnaire) else None),
                    standard_errors=se == "standard")


def _fit(model: str | Path | Questionnaire, data: pd.DataFrame, *, missing: str,
         bootstrap: int, seed: int | None, group: str | None, n_jobs: int | None,
         progress: bool, criteria: dict[str, tuple[str, float]],
         estimator: str = "ml", group_equal: tuple[str, ...] = (),
         group_partial: tuple[str, ...] = (), ci: str = "perc",
         standard_errors: bool = True) -> SEMResult:
    _check_estimator(estimator, missing, group)
    if ci not in BOOTSTRAP_CI:
        raise UsageError(f"ci must be one of {', '.join(BOOTSTRAP_CI)}, not {ci!r}", value=ci)
    unknown = [c for c in group_equal if c not in GROUP_EQUAL]
    if unknown:
        raise UsageError(f"--group-equal: unknown class {unknown[0]!r}; expected any of "
                         f"{', '.join(GROUP_EQUAL)}", value=unknown[0])
    if (group_equal or group_partial) and group is None:
        raise UsageError("--group-equal and --group-partial need --group")
    if missing not in ("listwise", "fiml"):
        raise UsageError(f"missing must be 'listwise' or 'fiml', not {missing!r}")
    if bootstrap < 0:
        raise UsageError("bootstrap must be 0 or a positive number of draws", value=bootstrap)
    syntax, source = model_syntax(model)
    structure = _structure(syntax, source)
    observed = [v for v in structure.observed if v not in structure.exogenous_observed] + \
        list(structure.exogenous_observed)
    frame = _numeric_frame(data, observed, structure.latent)
    excluded: dict[str, int] = {}
    labels: list[Any] = []
    if group is not None:
        if group not in data.columns:
            raise InputError("the group column is not a column of the responses",
                             column=group)
        gcol = data[group]
        excluded["missing_group"] = int(gcol.isna().sum())
        keep = gcol.notna()
        frame, gcol = frame[keep], gcol[keep]
    if missing == "fiml" and structure.exogenous_observed:
        # fixed.x: the likelihood is conditional on the covariates, so a respondent
        # without one cannot enter it; lavaan deletes such cases, and so do we, counted
        no_x = frame[structure.exogenous_observed].isna().any(axis=1)
        excluded["missing_exogenous"] = int(no_x.sum())
        frame = frame[~no_x]
        if group is not None:
            gcol = gcol[~no_x]
    if missing == "fiml" and group is not None:
        ngroups = int(gcol.nunique())
        with_means = _with_means(structure, [np.zeros(len(observed))] * ngroups, observed,
                                 group_equal)
        _check_identified(_layout(with_means, ngroups, equal=group_equal,
                                  partial=group_partial).nparam,
                          _moments(structure, observed, ngroups, True), source)
        result = _fit_fiml_groups(structure, observed, frame, gcol, group, excluded, syntax,
                                  group_equal, group_partial, estimator,
                                  standard_errors=standard_errors)
        if bootstrap:
            _bootstrap_fiml(result, bootstrap, seed, n_jobs, progress, ci)
        result.warnings += _fit_diagnostics(result.fit_measures, criteria)
        return result
    # the mean-structure path also when an observed variable predicts another: the
    # saturated-means FIML below would report that variable's mean as its intercept
    if missing == "fiml" and not standard_errors:
        raise UsageError("se='none' is available for complete data and multi-group FIML, "
                         "not for a single-group FIML fit", value="none")
    if missing == "fiml" and (structure.exogenous_observed or
                              any(r.op == "~1" for r in structure.rows) or
                              any(r.op == "~" and r.rhs in structure.observed
                                  for r in structure.rows)):
        _check_identified(_layout(_with_means(structure, [np.zeros(len(observed))],
                                              observed, ()), 1).nparam,
                          _moments(structure, observed, 1, True), source)
        empty = frame.isna().all(axis=1)
        excluded["all_values_missing"] = int(empty.sum())
        result = _fit_fiml_means(structure, observed, frame[~empty], estimator)
        result.excluded = excluded
        result.syntax = syntax
        if bootstrap:
            _bootstrap_fiml(result, bootstrap, seed, n_jobs, progress, ci)
        result.warnings += _fit_diagnostics(result.fit_measures, criteria)
        return result
    if missing == "fiml":
        _check_identified(_layout(structure, 1).nparam + len(observed),
                          _moments(structure, observed, 1, True), source)
        empty = frame.isna().all(axis=1)
        excluded["all_values_missing"] = int(empty.sum())
        result = _fit_fiml(structure, observed, frame[~empty], estimator)
        result.excluded = excluded
        result.syntax = syntax
        if bootstrap:
            _bootstrap_fiml(result, bootstrap, seed, n_jobs, progress, ci)
        result.warnings += _fit_diagnostics(result.fit_measures, criteria)
        return result
    complete = frame.notna().all(axis=1)
    excluded["missing_values"] = int((~complete).sum())
    frame = frame[complete]
    if group is not None:
        gcol = gcol[complete]
        labels = list(pd.unique(gcol))
    n = len(frame)
    if n <= len(observed):
        raise InputError(f"{n} complete respondents for {len(observed)} observed variables; "
                         "the covariance matrix cannot be estimated")
    warnings: list[Diagnostic] = []
    if excluded["missing_values"]:
        share = excluded["missing_values"] / (n + excluded["missing_values"])
        warnings.append(Diagnostic("listwise", "caution" if share > 0.05 else "info",
                                   {"n": excluded["missing_values"], "share": share}))

    if group is None:
        x = frame.to_numpy()
        S = _covariance(x)
        _require_nonsingular(S, observed, "the structural model")
        # intercepts written by the user (``x ~ 1``): lavaan's mean structure, the
        # other intercepts free and the other latent means 0
        meanstructure = any(r.op == "~1" for r in structure.rows)
        if meanstructure:
            structure = _with_means(structure, [x.mean(axis=0)], observed, ())
        spec = _layout(structure, 1)
        _check_identified(spec.nparam, _moments(structure, observed, 1, meanstructure),
                          source)
        rams = _rams(spec, observed, [S])
        blocks = [Block(rams[0], S, n, x.mean(axis=0) if meanstructure else None)]
        result = _estimate(spec, blocks, meanstructure=meanstructure, means=[None],
                           standard_errors=standard_errors)
        result.excluded = excluded
        result.warnings = warnings + result.warnings
        result.syntax = syntax
        theta = result.theta
        vcov = result.vcov
        if estimator != "ml":  # robust SEs and scaled test (fixed.x covariates last in x)
            vcov = robust.apply_complete(result, estimator, blocks, [x], theta, spec.nparam,
                                         spec.param_of_row, len(structure.exogenous_observed))
            result.vcov = vcov
        _delta_intervals(result, structure, rams[0], theta, vcov, spec)
        if bootstrap:
            ram = copy.deepcopy(rams[0])
            boot = _BootModel(spec, [ram], [x], _Derived(structure, ram, result.effects, spec))
            _bootstrap(result, boot, theta, bootstrap, seed, n_jobs, progress, ci)
        result.warnings += _fit_diagnostics(result.fit_measures, criteria)
        return result
    ngroups = len(labels)
    nx = len(structure.exogenous_observed)
    _check_identified(_layout(structure, ngroups, equal=group_equal).nparam
                      + ngroups * (len(observed) - nx),
                      _moments(structure, observed, ngroups, True), source)
    result = _fit_groups(structure, observed, frame, gcol, labels, group, excluded, warnings,
                         syntax, group_equal, group_partial, estimator,
                         standard_errors=standard_errors)
    if bootstrap:
        gspec = result.spec
        rams = copy.deepcopy([b.ram for b in result.blocks])
        xs = [frame[(gcol == g).to_numpy()].to_numpy() for g in labels]
        _bootstrap(result, _BootModel(gspec, rams, xs, _GroupDerived(gspec, rams)),
                   result.theta, bootstrap, seed, n_jobs, progress, ci)
    result.warnings += _fit_diagnostics(result.fit_measures, criteria)
    return result


def _bootstrap_fiml(result: SEMResult, draws: int, seed: int | None, n_jobs: int | None,
                    progress: bool, ci: str) -> None:
    """The bootstrap of a FIML fit (single or multi-group): every draw refits the
    casewise likelihood of the model with lavaan's mean structure (kept on the
    result by :func:`_keep_fiml_model`, :func:`_fit_fiml_means` or
    :func:`_fit_fiml_groups`) on the resampled respondents, missing answers and all,
    as lavaan's ``se = "bootstrap"`` with ``missing = "ml"``; SEs and intervals as
    :func:`_bootstrap`. Tested against lavaan refitted on the same resamples
    (tests/reference/lavaan_fiml_bootstrap.R)."""
    spec = result.spec
    rams = copy.deepcopy(result.rams)
    xs = [d.x for d in result.fiml_data]
    fun = _GroupDerived(spec, rams) if result.groups is not None else \
        _Derived(spec.structure, rams[0], result.effects, spec)
    _bootstrap(result, _BootModel(spec, rams, xs, fun, fiml=True),
               result.theta, draws, seed, n_jobs, progress, ci)


def _check_estimator(estimator: str, missing: str, group: str | None) -> None:
    """Refuse an estimator this fit cannot give (see :func:`fit`)."""
    if estimator not in robust.ESTIMATORS:
        raise UsageError(f"estimator must be 'ml', 'mlr' or 'mlm', not {estimator!r}")
    if estimator == "mlm" and missing == "fiml":
        raise UsageError("estimator 'mlm' needs complete data (as lavaan's MLM); use "
                         "estimator 'mlr' with missing='fiml'")


def _vcov(information: np.ndarray | None, n: int) -> np.ndarray | None:
    """Inverse of the information (times N/2), or ``None`` when it is singular.

    Singular means an eigenvalue below 1e-10 times the largest one (lavaan:
    "the information matrix could not be inverted ... the model may not be
    identified").
    """
    if information is None or not np.isfinite(information).all():
        return None
    info = (information + information.T) / 2 * n / 2
    eig = np.linalg.eigvalsh(info)
    if eig.max() <= 0 or eig.min() < 1e-10 * eig.max():
        return None
    return np.linalg.inv(info)


def _estimate(spec: _Spec, blocks: list[Block], *, meanstructure: bool,
              means: list[np.ndarray | None], start: np.ndarray | None = None,
              labels: list[str] | None = None, standard_errors: bool = True) -> SEMResult:
    sol = _fit_blocks(spec, blocks, start)
    n = sum(b.n for b in blocks)
    # se="none" (fit's ``se``): no covariance of the estimates, so every se is NaN
    information = sol.information if standard_errors else None
    warnings: list[Diagnostic] = []
    if not sol.converged:
        warnings.append(Diagnostic("not_converged", "invalidates", {"n": int(sol.iterations)}))
    se = np.full(spec.nparam, np.nan)
    active = _at_bound(spec, sol.theta)
    binding = sol.active if spec.ineq is not None else np.zeros(0, dtype=bool)
    if binding.any():
        # binding inequalities (and held bounds) count as equalities, as lavaan's
        # constrained information does
        rows = [spec.ineq[0][binding], np.eye(spec.nparam)[active]]  # type: ignore[index]
        vcov = _vcov_constrained(information, n, np.vstack(rows))
        label_of = {q: label for group in spec.label_param for label, q in group.items()}
        for q in np.flatnonzero(active):
            warnings.append(Diagnostic("parameter_at_bound", "caution",
                                       {"label": label_of.get(int(q), str(q)),
                                        "value": float(sol.theta[q])}))
        for text in np.array(spec.ineq[2])[binding]:  # type: ignore[index]
            warnings.append(Diagnostic("constraint_binds", "caution", {"constraint": str(text)}))
    elif active.any():
        # a parameter held at its bound is treated as fixed there (lavaan: no standard
        # error for it; the others' come from the information without it)
        keep = ~active
        info = information
        reduced = _vcov(info[np.ix_(keep, keep)], n) if info is not None else None
        vcov = None
        if reduced is not None:
            vcov = np.zeros((spec.nparam, spec.nparam))
            vcov[np.ix_(keep, keep)] = reduced  # the held parameter varies by 0
        label_of = {q: label for group in spec.label_param for label, q in group.items()}
        for q in np.flatnonzero(active):
            warnings.append(Diagnostic("parameter_at_bound", "caution",
                                       {"label": label_of.get(int(q), str(q)),
                                        "value": float(sol.theta[q])}))
    else:
        vcov = _vcov(information, n)
    if vcov is not None:
        with np.errstate(invalid="ignore"):
            se = np.sqrt(np.where(np.diag(vcov) > 0, np.diag(vcov), np.nan))
        se[active] = np.nan
    elif standard_errors:
        warnings.append(Diagnostic("se_singular_identified", "invalidates"))
    sigmas = [b.ram.implied(sol.theta)["Sigma"] for b in blocks]
    nx = len(spec.structure.exogenous_observed)
    means_modelled = all(b.ram.has_means for b in blocks)
    npar = spec.nparam + (sum(b.ram.p - nx for b in blocks)
                          if meanstructure and not means_modelled else 0)
    mus = [b.ram.implied_mean(sol.theta) if b.ram.has_means else None for b in blocks]
    measures = _fit_measures(blocks, sigmas, npar, nx, meanstructure, mus)
    per: list[tuple] = []
    for g, b in enumerate(blocks):
        per.append(_group_tables(spec.structure, b.ram, sol.theta, se, spec.param_of_row[g],
                                 b.n, means[g]))
    if len(blocks) == 1:
        params, r2, effects, warn, _ = per[0]
        warnings += warn
    else:
        frames = []
        for label, (p, _r2, _e, warn, _) in zip(labels or [], per, strict=True):
            p = p.copy()
            p.insert(3, "group", label)
            frames.append(p)
            warnings += [w.within("group", group=label) for w in warn]
        params = pd.concat(frames, ignore_index=True)
        r2 = {}
        effects = pd.DataFrame(columns=EFFECT_COLUMNS)
    result = SEMResult(fit_measures=measures, parameters=params, r2=r2, effects=effects,
                       warnings=warnings, n=n, converged=sol.converged)
    result.theta = sol.theta
    result.vcov = vcov
    result.per_group = per
    # the fitted layout and data blocks: modification indices and factor scores use them
    result.spec = spec
    result.blocks = blocks
    return result


def _vcov_constrained(information: np.ndarray | None, n: int, rows: np.ndarray
                      ) -> np.ndarray | None:
    """Covariance of estimates held to ``R θ = const`` (binding constraints):
    ``N (N' I N)⁻¹ N'`` with ``N`` a basis of the null space of ``R`` and ``I`` the
    information (times ``N/2``, :func:`_vcov`). It equals the upper-left block of the
    inverse of lavaan's augmented information ``[[I, R'], [R, 0]]``."""
    from scipy.linalg import null_space

    if information is None:
        return None
    basis = null_space(rows)
    reduced = _vcov(basis.T @ information @ basis, n)
    return None if reduced is None else basis @ reduced @ basis.T


def _held_vcov(spec: _Spec, par: np.ndarray, hessian: np.ndarray | None, n: int,
               binding: np.ndarray | None = None
               ) -> tuple[np.ndarray | None, np.ndarray, list[Diagnostic]]:
    """Covariance of a FIML fit from its observed information (``hessian`` of ``F``
    over ``par``, the model's parameters first), a parameter held at its bound
    treated as fixed there (lavaan: no standard error for it, the others' from the
    information without it) and a binding inequality constraint (``binding``, over
    ``spec.ineq``) as an equality (:func:`_vcov_constrained`), with a caution for
    each; ``hessian`` None (no standard errors) gives ``vcov`` None, the cautions
    still. Returns ``(vcov, held, warnings)``."""
    held = np.zeros(len(par), dtype=bool)
    held[:spec.nparam] = _at_bound(spec, par[:spec.nparam])
    binding = np.zeros(0, dtype=bool) if binding is None else binding
    if not held.any() and not binding.any():
        return _vcov(hessian, n), held, []
    label_of = {q: label for group in spec.label_param for label, q in group.items()}
    warnings = [Diagnostic("parameter_at_bound", "caution",
                           {"label": label_of.get(int(q), str(q)), "value": float(par[q])})
                for q in np.flatnonzero(held)]
    rows = [np.eye(len(par))[held]]
    if binding.any():
        C = spec.ineq[0][binding]  # type: ignore[index]
        rows.append(np.hstack([C, np.zeros((len(C), len(par) - spec.nparam))]))
        warnings += [Diagnostic("constraint_binds", "caution", {"constraint": str(text)})
                     for text in np.array(spec.ineq[2])[binding]]  # type: ignore[index]
    return _vcov_constrained(hessian, n, np.vstack(rows)), held, warnings


def _fiml_inequality(objective: Callable[[np.ndarray], tuple[float, np.ndarray]],
                     par: np.ndarray, converged: bool, spec: _Spec
                     ) -> tuple[np.ndarray, bool, np.ndarray]:
    """Impose the inequality constraints ``C θ ≥ d`` of ``spec`` on a FIML solution.

    ``par`` is L-BFGS-B's solution without them (the model's parameters first, then
    any saturated means). If it satisfies them, none binds. Otherwise, as
    :func:`~satisfaction.sem_ml.minimise_inequality` does for complete data: SLSQP
    (scipy) from there finds the binding set, then L-BFGS-B in the null space of
    the binding rows (``par = p₀ + N u``, ``p₀`` on the binding set) reaches the
    optimum to the gradient tolerance; a binding row whose multiplier in
    ``g = C_A'λ`` is negative is released and the step repeated. Returns
    ``(par, converged, binding)``.
    """
    from scipy.linalg import null_space

    if spec.ineq is None:
        return par, converged, np.zeros(0, dtype=bool)
    C0, d, _ = spec.ineq
    C = np.hstack([C0, np.zeros((len(C0), len(par) - spec.nparam))])
    scale = max(1.0, float(np.abs(d).max()))
    if np.all(C @ par - d >= -1e-9 * scale):
        return par, converged, np.zeros(len(d), dtype=bool)
    bounds = _lbfgs_bounds(spec, len(par))
    opt = optimize.minimize(objective, par, jac=True, method="SLSQP", bounds=bounds,
                            constraints=[{"type": "ineq", "fun": lambda t: C @ t - d,
                                          "jac": lambda t: C}],
                            options={"maxiter": 1000, "ftol": 1e-14})
    par = opt.x
    binding = C @ par - d <= 1e-6 * scale
    ok = False
    for _ in range(len(d) + 1):
        Ca, da = C[binding], d[binding]
        base = par + np.linalg.lstsq(Ca, da - Ca @ par, rcond=None)[0]
        N = null_space(Ca)

        def reduced(u: np.ndarray, base=base, N=N) -> tuple[float, np.ndarray]:
            f, g = objective(base + N @ u)
            return f, N.T @ g

        sub = optimize.minimize(reduced, np.zeros(N.shape[1]), jac=True, method="L-BFGS-B",
                                options={"maxiter": 5000, "ftol": 1e-15, "gtol": 1e-9})
        par = base + N @ sub.x
        ok = bool(sub.success) or float(np.max(np.abs(sub.jac))) < 1e-5
        g = objective(par)[1]
        lam = np.linalg.lstsq(Ca.T, g, rcond=None)[0]
        wrong = lam < -1e-6
        if not wrong.any():
            break
        binding[np.flatnonzero(binding)[wrong]] = False
    feasible = bool(np.all(C @ par - d >= -1e-8 * scale))
    return par, ok and feasible, binding


def _at_bound(spec: _Spec, theta: np.ndarray) -> np.ndarray:
    """Which parameters sit on one of their bounds."""
    if spec.lower is None or spec.upper is None:
        return np.zeros(len(theta), dtype=bool)
    tol = 1e-9 * np.maximum(1.0, np.abs(theta))
    return (theta <= spec.lower + tol) | (theta >= spec.upper - tol)


def _lbfgs_bounds(spec: _Spec, n: int) -> list[tuple[float | None, float | None]] | None:
    """The bounds of the model's parameters for L-BFGS-B (extra entries unbounded)."""
    if spec.lower is None or spec.upper is None:
        return None
    out: list[tuple[float | None, float | None]] = [
        (None if not np.isfinite(lo) else float(lo), None if not np.isfinite(hi) else float(hi))
        for lo, hi in zip(spec.lower, spec.upper, strict=True)]
    return out + [(None, None)] * (n - len(out))


def _newton_polish(objective: Callable[[np.ndarray], tuple[float, np.ndarray]],
                   par: np.ndarray, spec: _Spec, steps: int = 8) -> np.ndarray:
    """Newton steps on a FIML discrepancy from L-BFGS-B's solution.

    L-BFGS-B can stop on its relative-reduction rule with a gradient of 1e-3 when
    the information is ill-conditioned (seen with respondent weights: F 8e-6 above
    lavaan's minimum, standard errors 6e-3 off). While the largest gradient exceeds
    1e-8, a step ``−H⁻¹g`` over the parameters not at a bound (``H`` from
    :func:`_observed_information`) is taken if it stays within the bounds and lowers
    ``F``; otherwise the solution is kept as it is. Applied to weighted fits only:
    on unweighted ones it lowers F by ~1e-12 and reorders near-tied modification
    indices that tests/test_modindices.py compares with lavaan's order.
    """
    free = np.ones(len(par), dtype=bool)
    free[:spec.nparam] = ~_at_bound(spec, par[:spec.nparam])
    lower = np.full(len(par), -np.inf)
    upper = np.full(len(par), np.inf)
    if spec.lower is not None and spec.upper is not None:
        lower[:spec.nparam], upper[:spec.nparam] = spec.lower, spec.upper
    f, g = objective(par)
    for _ in range(steps):
        if float(np.max(np.abs(g[free]), initial=0.0)) < 1e-8:
            break
        hess = _observed_information(objective, par)[np.ix_(free, free)]
        try:
            step = np.linalg.solve(hess, g[free])
        except np.linalg.LinAlgError:
            break
        trial = par.copy()
        trial[free] -= step
        if np.any(trial < lower) or np.any(trial > upper):
            break
        f_new, g_new = objective(trial)
        if not f_new <= f:
            break
        par, f, g = trial, f_new, g_new
    return par


def _observed_information(objective: Any, par: np.ndarray) -> np.ndarray:
    """Hessian of a FIML discrepancy by forward differences of its analytic gradient.

    One evaluation per parameter; symmetrised, its error is O(h) ~ 1e-6, far
    below the 1e-3 agreement with lavaan's standard errors that the tests check
    (lavaan's default for FIML is the observed information).
    """
    k = len(par)
    hess = np.zeros((k, k))
    g0 = objective(par)[1]
    for j in range(k):
        h = 1e-6 * max(1.0, abs(par[j]))
        up = par.copy()
        up[j] += h
        hess[:, j] = (objective(up)[1] - g0) / h
    return (hess + hess.T) / 2


def _fit_fiml(structure: Structure, observed: list[str], frame: pd.DataFrame,
              estimator: str = "ml") -> SEMResult:
    """Full-information ML (missing = "ml" in lavaan): casewise likelihood by pattern.

    Intercepts are free (meanstructure); the fit is first run on the EM
    (saturated) covariance matrix for starting values, then the FIML discrepancy
    of :func:`~satisfaction.sem_ml.fiml_objective` is minimised by L-BFGS-B with
    its analytic gradient. Standard errors come from the observed information
    (lavaan's default for FIML), differentiated numerically from the analytic
    gradient. Chi-square is ``2(logL_H1 - logL_H0)`` with the EM saturated model.
    """
    x = frame.to_numpy()
    n, p = x.shape
    pats = patterns(x)
    mu1, sigma1 = saturated_em(pats, p)
    _require_nonsingular(sigma1, observed, "the structural model (FIML)")
    spec = _layout(structure, 1)
    ram = _rams(spec, observed, [sigma1])[0]
    q = spec.nparam
    warm = _fit_blocks(spec, [Block(ram, sigma1, n)])

    def objective(par: np.ndarray) -> tuple[float, np.ndarray]:
        theta, nu = par[:q], par[q:]
        sigma = ram.implied(theta)["Sigma"]
        f, W, gmu = fiml_objective(pats, sigma, nu)
        if not np.isfinite(f):
            return 1e10, np.zeros_like(par)
        return f, np.concatenate([sigma_gradient(ram, theta, W, q), gmu])

    start = np.concatenate([warm.theta, mu1])
    opt = optimize.minimize(objective, start, jac=True, method="L-BFGS-B",
                            bounds=_lbfgs_bounds(spec, len(start)),
                            options={"maxiter": 5000, "ftol": 1e-15, "gtol": 1e-9})
    par = opt.x
    converged = bool(opt.success) or float(np.max(np.abs(opt.jac))) < 1e-5
    par, converged, binding = _fiml_inequality(objective, par, converged, spec)
    theta, nu = par[:q], par[q:]
    k = len(par)
    hess = _observed_information(objective, par)
    se_all = np.full(k, np.nan)
    vcov_all, held, warnings = _held_vcov(spec, par, hess, n, binding)
    if vcov_all is not None:
        se_all = np.sqrt(np.where(np.diag(vcov_all) > 0, np.diag(vcov_all), np.nan))
        se_all[held] = np.nan
    else:
        warnings.append(Diagnostic("se_singular_identified", "invalidates"))
    if not converged:
        warnings.append(Diagnostic("fiml_not_converged", "invalidates"))
    sigma = ram.implied(theta)["Sigma"]
    f0 = fiml_objective(pats, sigma, nu)[0]
    f1 = fiml_objective(pats, sigma1, mu1)[0]
    base_sigma = np.zeros((p, p))
    base_mu = np.zeros(p)
    for j in range(p):  # independence model: each variable on its own available cases
        col = x[:, j][~np.isnan(x[:, j])]
        base_mu[j], base_sigma[j, j] = col.mean(), col.var()
    fb = fiml_objective(pats, base_sigma, base_mu)[0]
    const = sum(pt.n * len(pt.observed) for pt in pats) * math.log(2 * math.pi)
    logl = -n / 2 * f0 - const / 2
    npar = q + p
    ndat = p * (p + 1) // 2 + p
    chisq, chisq_b = max(n * (f0 - f1), 0.0), n * (fb - f1)
    df, df_b = ndat - npar, ndat - 2 * p
    measures = _indices(chisq, df, chisq_b, df_b, n, 1)
    sd = np.sqrt(np.diag(sigma1))
    resid = (sigma1 - sigma) / np.outer(sd, sd)
    srmr = math.sqrt((float((resid[np.triu_indices(p)] ** 2).sum())
                      + float((((mu1 - nu) / sd) ** 2).sum())) / ndat)
    measures.update({"npar": float(npar), "srmr": srmr, "logl": logl,
                     "aic": -2 * logl + 2 * npar, "bic": -2 * logl + npar * math.log(n)})
    params, r2, effects, warn, _ = _group_tables(structure, ram, theta, se_all[:q],
                                                 spec.param_of_row[0], n, nu)
    ints = params.index[params["op"] == "~1"][:p]
    pos = {v: i for i, v in enumerate(observed)}
    for row_index in ints:
        j = pos[params.at[row_index, "lhs"]]
        s_j = se_all[q + j]
        est = nu[j]
        params.loc[row_index, ["se", "z", "pvalue", "ci.lower", "ci.upper"]] = [
            s_j, est / s_j, 2 * stats.norm.sf(abs(est / s_j)), est - Z975 * s_j,
            est + Z975 * s_j]
    warnings += warn
    result = SEMResult(fit_measures={k_: measures[k_] for k_ in FIT_NAMES}, parameters=params,
                       r2=r2, effects=effects, warnings=warnings, n=n, converged=converged)
    if estimator == "mlr" and vcov_all is not None:  # Huber-White SEs, Yuan-Bentler test
        # central differences: the sandwich and the trace need the information to ~1e-9
        # (forward differences move chisq.scaled by ~3e-4)
        info = robust.numeric_hessian(lambda t: objective(t)[1], par) / 2
        vcov_all = robust.apply_fiml(result, x, pats, ram, theta, nu, info, mu1, sigma1,
                                     spec.param_of_row[0], observed, fiml_objective)
    _delta_intervals(result, structure, ram, theta,
                     None if vcov_all is None else vcov_all[:q, :q], spec)
    if chisq == 0 and df > 0 and vcov_all is None:
        warnings.append(Diagnostic("fiml_degenerate", "invalidates"))
    _keep_fiml_model(result, structure, observed, theta, nu, _FimlGroup(x, pats, mu1, sigma1))
    return result


def _keep_fiml_model(result: SEMResult, structure: Structure, observed: list[str],
                     theta: np.ndarray, means: np.ndarray, data: _FimlGroup) -> None:
    """Keep a single-group FIML fit as the same model written with lavaan's mean
    structure (free intercepts ``ν``, latent means 0), for modification indices,
    factor scores and the bootstrap.

    :func:`_fit_fiml` estimates the observed means ``μ`` freely beside ``θ``; with
    latent means 0 the implied means are ``μ = [(I−A)⁻¹]_{oo} ν``, so the intercepts
    are ``ν = [(I−A)⁻¹]_{oo}⁻¹ μ`` (``ν = μ`` in a CFA).
    """
    full = _with_means(structure, [means], observed, ())
    spec = _layout(full, 1)
    ram = _rams(spec, observed, [data.sigma1])[0]
    q = len(theta)
    theta_m = np.zeros(spec.nparam)
    theta_m[:q] = theta
    A, _ = ram.matrices(theta_m)
    p = ram.p
    nu = np.linalg.solve(np.linalg.inv(np.eye(len(A)) - A)[:p, :p], means)
    pos = {v: i for i, v in enumerate(observed)}
    for k, r in enumerate(full.rows):
        qk = spec.param_of_row[0][k]
        if r.op == "~1" and qk >= q:
            theta_m[qk] = nu[pos[r.lhs]]
    result.theta = theta_m
    result.spec = spec
    result.rams = [ram]
    result.fiml_data = [data]


def _fit_fiml_means(structure: Structure, observed: list[str], frame: pd.DataFrame,
                    estimator: str = "ml", weights: np.ndarray | None = None) -> SEMResult:
    """Single-group FIML with lavaan's mean structure: intercepts written in the model
    (``x ~ 1``, ``x ~ 0*1``, ``f ~ 1``) or exogenous observed covariates (fixed.x).

    The model gets the mean structure of :func:`_with_means` (free intercepts, latent
    means 0, the covariates' means and covariances fixed at their sample values) and
    is fitted by the one-group case of :func:`_fiml_multi`: the casewise likelihood
    ``F = Σ_k n_k/N [log|Σ_k| + tr(Σ_k⁻¹(S_k + d_k d_k'))]`` over the missingness
    patterns, observed-information standard errors. Under fixed.x the covariates are
    complete (rows missing one are dropped before, as lavaan does), so their EM
    moments are their sample moments and the likelihood is the conditional one times
    a constant. Tested against lavaan's ``sem(..., missing = "ml")``
    (tests/reference/lavaan_fiml_means.R). ``estimator="mlr"``: as
    :func:`_fiml_multi` (the covariates' elements leave the robust matrices;
    tests/reference/lavaan_robust_groups.R). ``weights``: respondent weights (one per
    row of ``frame``, summing to its number of rows) for lavaan's ``sampling.weights``
    (:mod:`satisfaction.sem_weights`).
    """
    data = [_fiml_group(frame.to_numpy(), observed, "the structural model (FIML)", weights)]
    res = _fiml_multi(structure, observed, data, [""], (), (), estimator)
    spec = res.spec
    params, r2, effects, warn, _ = res.per_group[0]
    warnings = [w for w in res.warnings if w.scope is None] + warn  # no group scope
    result = SEMResult(fit_measures=res.fit_measures, parameters=params, r2=r2,
                       effects=effects, warnings=warnings, n=res.n, converged=res.converged)
    ram = res.rams[0]
    for name in ("theta", "vcov", "spec", "rams", "information"):
        setattr(result, name, getattr(res, name))
    result.fiml_data = data
    _delta_intervals(result, spec.structure, ram, res.theta,
                     res.vcov, spec)
    return result


@dataclass
class _FimlGroup:
    """One group's incomplete data: its rows, missingness patterns and EM moments."""

    x: np.ndarray
    pats: list
    mu1: np.ndarray  # EM (saturated, h1) means
    sigma1: np.ndarray  # EM covariance
    w: np.ndarray | None = None  # respondent weights (sampling.weights), or None
    n: float = 0  # respondents, or their weight total when weighted

    def __post_init__(self) -> None:
        self.n = len(self.x) if self.w is None else float(np.sum(self.w))


#: EM (saturated) moments of the last data sets seen, by a digest of their values and
#: weights: the steps of an invariance test refit the same data (three fits per
#: construct and group, issue 12) and the EM is deterministic, so it is run once.
_EM_MEMO: dict[bytes, tuple[np.ndarray, np.ndarray]] = {}
_EM_MEMO_SIZE = 16


def _saturated_moments(x: np.ndarray, w: np.ndarray | None, pats: list
                       ) -> tuple[np.ndarray, np.ndarray]:
    """:func:`~satisfaction.sem_ml.saturated_em` of ``x`` (copies), remembered for the
    :data:`_EM_MEMO_SIZE` most recent data sets."""
    digest = hashlib.blake2b(digest_size=20)
    digest.update(repr((x.shape, w is None)).encode())
    digest.update(np.ascontiguousarray(x, dtype=float).tobytes())
    if w is not None:
        digest.update(np.ascontiguousarray(w, dtype=float).tobytes())
    key = digest.digest()
    if key not in _EM_MEMO:
        if len(_EM_MEMO) >= _EM_MEMO_SIZE:
            del _EM_MEMO[next(iter(_EM_MEMO))]  # the oldest
        _EM_MEMO[key] = saturated_em(pats, x.shape[1])
    mu1, sigma1 = _EM_MEMO[key]
    return mu1.copy(), sigma1.copy()


def _fiml_group(x: np.ndarray, observed: list[str], what: str,
                w: np.ndarray | None = None) -> _FimlGroup:
    pats = patterns(x, w)
    mu1, sigma1 = _saturated_moments(x, w, pats)
    _require_nonsingular(sigma1, observed, what)
    return _FimlGroup(x, pats, mu1, sigma1, w)


def _independence(x: np.ndarray, nx: int = 0, w: np.ndarray | None = None
                  ) -> tuple[np.ndarray, np.ndarray]:
    """ML of the independence model on incomplete data: every variable's mean and
    variance (divisor n) from its available cases (the likelihood separates);
    weighted by the respondent weights ``w`` when given.

    With ``nx`` exogenous covariates (the last columns, complete under fixed.x)
    their block keeps its sample covariance (lavaan's baseline with fixed.x: the
    covariates saturated, every other variable independent of all).
    """
    mean, var = robust.available_moments(x, w)
    sigma = np.diag(var)
    if nx:
        xs = x[:, -nx:]
        if w is None:
            sigma[-nx:, -nx:] = _covariance(xs)
        else:
            xc = xs - w @ xs / w.sum()
            sigma[-nx:, -nx:] = (xc * w[:, None]).T @ xc / w.sum()
    return mean, sigma


def _fiml_multi(structure: Structure, observed: list[str], data: list[_FimlGroup],
                names: list[str], equal: tuple[str, ...], partial: tuple[str, ...],
                estimator: str = "ml", standard_errors: bool = True) -> SEMResult:
    """One multi-group FIML fit (lavaan's ``missing = "ml"`` with ``group``).

    The structure gets lavaan's multi-group mean structure (:func:`_with_means`:
    free intercepts, latent means 0, or free beyond the first group when intercepts
    are equal) and the ``group_equal`` classes become shared parameters
    (:func:`_layout`). The discrepancy is

    .. math::  F(θ) = \\sum_g \\frac{n_g}{N} F_g(μ_g(θ), Σ_g(θ)),

    ``F_g`` the casewise FIML discrepancy of group ``g`` over its missingness
    patterns (:func:`~satisfaction.sem_ml.fiml_objective`), ``μ_g = F(I−A_g)⁻¹v_g``.
    Its gradient is ``Σ_g n_g/N (tr(W_g ∂Σ_g/∂θ) + J_μg' ∂F_g/∂μ)``. Starting
    values: the complete-data multi-group ML fit to the EM moments of each group.
    Standard errors: observed information (forward differences of the gradient),
    ``Cov = (N/2 · ∂²F)⁻¹``. ``chisq = Σ_g n_g (F_g(θ̂) − F_g(EM))``, the baseline
    the independence model per group, SRMR per group against the EM moments
    (weighted by ``n_g/N``), as lavaan 0.6. ``estimator="mlr"``: Huber-White
    standard errors and lavaan's scaled and robust measures
    (:func:`~satisfaction.robust.fiml_groups_mlr`). ``standard_errors=False`` (fit's
    ``se="none"``): the observed information is not computed, every se is NaN.
    """
    means = [d.mu1 for d in data]
    sigmas1 = [d.sigma1 for d in data]
    full = _with_means(structure, means, observed, equal)
    spec = _layout(full, len(data), equal=equal, partial=partial)
    rams = _rams(spec, observed, sigmas1)
    q = spec.nparam
    total = sum(d.n for d in data)
    p = len(observed)
    warm = _fit_blocks(spec, [Block(r, d.sigma1, d.n, d.mu1) for r, d in
                              zip(rams, data, strict=True)])

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        f, g = 0.0, np.zeros(q)
        for ram, d in zip(rams, data, strict=True):
            sigma = ram.implied(theta)["Sigma"]
            mu = ram.implied_mean(theta)
            fg, W, gmu = fiml_objective(d.pats, sigma, mu)
            if not np.isfinite(fg):
                return 1e10, np.zeros(q)
            w = d.n / total
            f += w * fg
            g += w * (sigma_gradient(ram, theta, W, q)
                      + robust.mean_jacobian(ram, theta, q).T @ gmu)
        return f, g

    opt = optimize.minimize(objective, warm.theta, jac=True, method="L-BFGS-B",
                            bounds=_lbfgs_bounds(spec, len(warm.theta)),
                            options={"maxiter": 5000, "ftol": 1e-15, "gtol": 1e-9})
    theta = opt.x
    converged = bool(opt.success) or float(np.max(np.abs(opt.jac))) < 1e-5
    theta, converged, binding = _fiml_inequality(objective, theta, converged, spec)
    if not binding.any() and any(d.w is not None for d in data):  # weighted fits only
        theta = _newton_polish(objective, theta, spec)
    # the numerical Hessian costs one gradient per parameter: skipped without SEs
    hess = _observed_information(objective, theta) if standard_errors else None
    vcov, held, warnings = _held_vcov(spec, theta, hess, total, binding)
    if not converged:
        warnings.append(Diagnostic("fiml_not_converged", "invalidates"))
    chisq = chisq_b = logl = srmr = 0.0
    nx = len(structure.exogenous_observed)
    for ram, d in zip(rams, data, strict=True):
        sigma = ram.implied(theta)["Sigma"]
        mu = ram.implied_mean(theta)
        f0 = fiml_objective(d.pats, sigma, mu)[0]
        f1 = fiml_objective(d.pats, d.sigma1, d.mu1)[0]
        fb = fiml_objective(d.pats, *_independence(d.x, nx, d.w)[::-1])[0]
        chisq += d.n * (f0 - f1)
        chisq_b += d.n * (fb - f1)
        const = sum(pt.n * len(pt.observed) for pt in d.pats) * math.log(2 * math.pi)
        logl += -d.n / 2 * f0 - const / 2
        if nx:  # fixed.x: lavaan reports the likelihood conditional on the covariates
            sxx = d.sigma1[-nx:, -nx:]
            logl += d.n / 2 * (nx * math.log(2 * math.pi) + np.linalg.slogdet(sxx)[1] + nx)
        sd = np.sqrt(np.diag(d.sigma1))
        srmr += d.n * _srmr(d.sigma1, sigma, True, (d.mu1 - mu) / sd)
    srmr /= total
    G = len(data)
    # fixed.x: the covariates' means and covariances are neither moments nor parameters
    ndat = _moments(structure, observed, G, True)
    measures = _indices(max(chisq, 0.0), ndat - q, chisq_b, ndat - 2 * (p - nx) * G, total, G)
    measures.update({"npar": float(q), "srmr": srmr, "logl": logl,
                     "aic": -2 * logl + 2 * q, "bic": -2 * logl + q * math.log(total)})
    names_out = list(FIT_NAMES)
    if vcov is not None and estimator == "mlr":
        moments = [(ram.implied_mean(theta), ram.implied(theta)["Sigma"]) for ram in rams]
        deltas = [np.vstack([robust.mean_jacobian(ram, theta, q),
                             robust.sigma_jacobian(ram, theta, q)]) for ram in rams]
        # central differences: the sandwich and the trace need the information to ~1e-9
        # (forward differences move chisq.scaled by ~3e-4)
        info = robust.numeric_hessian(lambda t: objective(t)[1], theta) / 2
        vcov, robust_measures = robust.fiml_groups_mlr(
            [robust.FimlData(d.x, d.pats, d.mu1, d.sigma1, d.w) for d in data], deltas,
            moments,
            info, measures, fiml_objective, len(structure.exogenous_observed))
        measures.update(robust_measures)
        names_out += robust.ROBUST_FIT_NAMES
    se = np.full(q, np.nan)
    if vcov is not None:
        se = np.sqrt(np.where(np.diag(vcov) > 0, np.diag(vcov), np.nan))
        se[held] = np.nan
    elif standard_errors:
        warnings.append(Diagnostic("se_singular_identified", "invalidates"))
    per = [_group_tables(full, ram, theta, se, spec.param_of_row[g], d.n, None)
           for g, (ram, d) in enumerate(zip(rams, data, strict=True))]
    frames = []
    for label, (params, _r2, _e, warn, _) in zip(names, per, strict=True):
        params = params.copy()
        params.insert(3, "group", label)
        frames.append(params)
        warnings += [w.within("group", group=label) for w in warn]
    result = SEMResult(fit_measures={k: measures[k] for k in names_out},
                       parameters=pd.concat(frames, ignore_index=True), r2={},
                       effects=pd.DataFrame(columns=EFFECT_COLUMNS), warnings=warnings,
                       n=sum(len(d.x) for d in data), converged=converged)
    result.theta = theta
    result.vcov = vcov
    result.per_group = per
    result.spec = spec
    result.information = None if hess is None else hess / 2
    result.rams = rams
    return result


def _fit_fiml_groups(structure: Structure, observed: list[str], frame: pd.DataFrame,
                     gcol: pd.Series, group: str, excluded: dict[str, int], syntax: str,
                     group_equal: tuple[str, ...] = (), group_partial: tuple[str, ...] = (),
                     estimator: str = "ml", weights: np.ndarray | None = None,
                     standard_errors: bool = True) -> SEMResult:
    """Multi-group FIML (lavaan's ``sem(..., group =, missing = "ml")``): the fit of
    :func:`_fiml_multi` with ``group_equal``, and the test of equal structural paths
    on top of it (as :func:`_fit_groups` for complete data). ``weights``: respondent
    weights, one per row of ``frame`` (:mod:`satisfaction.sem_weights`)."""
    empty = frame.isna().all(axis=1).to_numpy()
    excluded["all_values_missing"] = int(empty.sum())
    frame, gcol = frame[~empty], gcol[~empty]
    weights = None if weights is None else np.asarray(weights, dtype=float)[~empty]
    labels = list(pd.unique(gcol))
    if len(labels) < 2:
        raise InputError("a multi-group fit needs at least two groups", column=group,
                         value=labels[0] if labels else None)
    names = [str(g) for g in labels]
    data = []
    for g in labels:
        member = (gcol == g).to_numpy()
        x = frame[member].to_numpy()
        if len(x) <= len(observed):
            raise InputError(f"group has {len(x)} respondents for {len(observed)} observed "
                             "variables", column=group, value=g)
        data.append(_fiml_group(x, observed, f"the structural model in group {g} (FIML)",
                                None if weights is None else weights[member]))
    free = _fiml_multi(structure, observed, data, names, group_equal, group_partial,
                       estimator, standard_errors)
    spec = free.spec
    if any(r.op == "~" for r in structure.rows) and "regressions" not in group_equal:
        equal = _fiml_multi(structure, observed, data, names,
                            tuple(dict.fromkeys((*group_equal, "regressions"))), group_partial,
                            estimator, standard_errors)
    else:  # no structural path to constrain: the equal-paths model is the same model
        equal = free
    diff = _paths_difference(free.fit_measures, equal.fit_measures, estimator)
    per_group = {}
    for label, (p, r2, eff, warn, _), d in zip(names, free.per_group, data, strict=True):
        per_group[label] = SEMResult(fit_measures={}, parameters=p, r2=r2, effects=eff,
                                     warnings=warn, n=d.n, converged=free.converged)
    free.groups = GroupComparison(column=group, labels=names, per_group=per_group,
                                  equal_fit=equal.fit_measures, chisq_diff=diff)
    free.excluded = excluded
    free.fiml_data = data
    if not equal.converged:
        free.warnings.append(Diagnostic("equal_paths_not_converged", "caution"))
    free.syntax = syntax
    if structure.defined:
        _defined_group_rows(free, spec)
    return free


def _with_means(structure: Structure, means: list[np.ndarray], observed: list[str],
                equal: tuple[str, ...]) -> Structure:
    """The structure with lavaan's mean structure for a multi-group fit.

    Every observed variable gets a free intercept (``~1``) in each group, except
    exogenous observed ones, whose means are fixed at the group's sample means
    (fixed.x: neither parameters nor moments). Latent means are fixed at 0,
    except when intercepts are equal across groups and means are not: then they
    are free in every group but the first (lavaan's identification of scalar
    invariance).
    """
    ngroups = len(means)
    rows = list(structure.rows)
    pos = {v: k for k, v in enumerate(observed)}
    given = {r.lhs for r in rows if r.op == "~1"}  # written by the user: kept as written
    for v in structure.observed:
        if v in given:
            continue
        if v in structure.exogenous_observed:
            rows.append(ParRow(v, "~1", "", free=False, user=False,
                               group_values=tuple(float(m[pos[v]]) for m in means)))
        else:
            rows.append(ParRow(v, "~1", "", user=False))
    free_means = "intercepts" in equal and "means" not in equal
    for lv in structure.latent:
        if lv in given:
            continue
        values = (0.0, *([None] * (ngroups - 1))) if free_means else (0.0,) * ngroups
        rows.append(ParRow(lv, "~1", "", free=False, user=False, group_values=values))
    return Structure(rows=rows, observed=structure.observed, latent=structure.latent,
                     exogenous_observed=structure.exogenous_observed,
                     structural=structure.structural, defined=structure.defined,
                     constraints=structure.constraints)


def _fit_equal(structure: Structure, observed: list[str], samples: list[np.ndarray],
               means: list[np.ndarray], xs: list[np.ndarray], names: list[str],
               equal: tuple[str, ...], partial: tuple[str, ...], standard_errors: bool = True
               ) -> SEMResult:
    """One multi-group fit with the mean structure and ``group.equal`` constraints."""
    full = _with_means(structure, means, observed, equal)
    spec = _layout(full, len(names), equal=equal, partial=partial)
    blocks = [Block(r, S, len(x), m) for r, S, x, m in
              zip(_rams(spec, observed, samples), samples, xs, means, strict=True)]
    result = _estimate(spec, blocks, meanstructure=True, means=means, labels=names,
                       standard_errors=standard_errors)
    result.spec = spec
    return result


def _fit_groups(structure: Structure, observed: list[str], frame: pd.DataFrame,
                gcol: pd.Series, labels: list[Any], group: str, excluded: dict[str, int],
                warnings: list[str], syntax: str, group_equal: tuple[str, ...] = (),
                group_partial: tuple[str, ...] = (), estimator: str = "ml",
                standard_errors: bool = True) -> SEMResult:
    """The multi-group fit (mean structure, as lavaan does with groups; parameters of
    the ``group_equal`` classes equal across groups) and the test of equal structural
    paths on top of it (without a structural path, the same model: not refitted).
    With ``estimator`` ``mlr``/``mlm`` both fits get robust standard errors and
    scaled measures (:func:`_robust_groups`) and the test of equal paths is also given
    scaled (Satorra-Bentler 2001, :func:`_paths_difference`)."""
    if len(labels) < 2:
        raise InputError("a multi-group fit needs at least two groups", column=group,
                         value=labels[0] if labels else None)
    xs = [frame[(gcol == g).to_numpy()].to_numpy() for g in labels]
    for g, x in zip(labels, xs, strict=True):
        if len(x) <= len(observed):
            raise InputError(f"group has {len(x)} complete respondents for "
                             f"{len(observed)} observed variables", column=group, value=g)
    samples = [_covariance(x) for x in xs]
    for g, S in zip(labels, samples, strict=True):
        _require_nonsingular(S, observed, f"the structural model in group {g}")
    means = [x.mean(axis=0) for x in xs]
    names = [str(g) for g in labels]
    free = _fit_equal(structure, observed, samples, means, xs, names, group_equal,
                      group_partial, standard_errors)
    spec = free.spec
    if any(r.op == "~" for r in structure.rows) and "regressions" not in group_equal:
        equal = _fit_equal(structure, observed, samples, means, xs, names,
                           tuple(dict.fromkeys((*group_equal, "regressions"))), group_partial,
                           standard_errors)
    else:  # no structural path to constrain: the equal-paths model is the same model
        equal = free
    if estimator != "ml":
        _robust_groups(free, estimator, xs, len(structure.exogenous_observed))
        if equal.fit_measures["df"] == free.fit_measures["df"]:
            equal = free  # no structural path to constrain: the same model
        else:
            _robust_groups(equal, estimator, xs, len(structure.exogenous_observed))
    diff = _paths_difference(free.fit_measures, equal.fit_measures, estimator)
    per_group = {}
    for label, (p, r2, eff, warn, _), x in zip(names, free.per_group, xs, strict=True):
        per_group[label] = SEMResult(fit_measures={}, parameters=p, r2=r2, effects=eff,
                                     warnings=warn, n=len(x), converged=free.converged)
    free.groups = GroupComparison(column=group, labels=names, per_group=per_group,
                                  equal_fit=equal.fit_measures, chisq_diff=diff)
    free.excluded = excluded
    free.warnings = warnings + free.warnings
    if not equal.converged:
        free.warnings.append(Diagnostic("equal_paths_not_converged", "caution"))
    free.syntax = syntax
    if structure.defined:
        _defined_group_rows(free, spec)
    return free


def _robust_groups(result: SEMResult, estimator: str, xs: list[np.ndarray], nx: int) -> None:
    """MLR/MLM on a complete-data multi-group ML fit, in place: robust standard errors in
    its parameter table and per-group tables, the robust covariance for the ``:=``
    rows, and lavaan's scaled and robust measures (:func:`robust.apply_complete`)."""
    spec = result.spec
    vcov = robust.apply_complete(result, estimator, result.blocks, xs,
                                 result.theta, spec.nparam, spec.param_of_row, nx)
    if vcov is None:  # singular information (flagged by the fit): no sandwich
        return
    result.vcov = vcov
    result.per_group = [(robust.robust_se_table(p, spec.param_of_row[g], vcov), *rest)
                        for g, (p, *rest) in enumerate(result.per_group)]


def _paths_difference(free: dict[str, float], equal: dict[str, float], estimator: str
                      ) -> dict[str, Any]:
    """The χ² difference test of equal structural paths (equal minus free), as lavaan's
    ``anova()``: ``chisq df pvalue``; with MLR/MLM also the Satorra-Bentler (2001)
    scaled difference (lavaan's ``lavTestLRT(method = "satorra.bentler.2001")``) as
    ``chisq.scaled scaling.factor pvalue.scaled`` (:func:`robust.scaled_difference`)."""
    d_chisq = equal["chisq"] - free["chisq"]
    d_df = equal["df"] - free["df"]
    diff: dict[str, Any] = {"chisq": d_chisq, "df": d_df,
                            "pvalue": float(stats.chi2.sf(d_chisq, d_df)) if d_df > 0
                            else math.nan}
    if estimator != "ml":
        scaled = robust.scaled_difference(free["chisq"], free["df"],
                                          free["chisq.scaling.factor"], equal["chisq"],
                                          equal["df"], equal["chisq.scaling.factor"]) \
            if d_df > 0 else robust.ScaledDifference(math.nan, d_df, math.nan, math.nan)
        diff.update({"chisq.scaled": scaled.chisq_diff, "scaling.factor": scaled.scaling_factor,
                     "pvalue.scaled": scaled.pvalue, "method": "satorra.bentler.2001"})
    return diff


def _defined_group_rows(result: SEMResult, spec: _Spec) -> None:
    """``:=`` rows of a multi-group fit: values and delta-method intervals.

    Labels name one parameter across groups (or one per group with ``c()``), so
    a defined parameter is one number; its ``std.all`` is left empty because the
    standardized parameters differ between groups.
    """
    compiled = _compiled_defined(spec.structure, spec)
    theta = result.theta
    vcov = result.vcov
    params: dict[str, int] = {}
    for group in spec.label_param:
        params.update(group)

    def values(t: np.ndarray) -> np.ndarray:
        labels = dict(spec.label_value)
        labels.update({label: float(t[q]) for label, q in params.items()})
        return np.array(evaluate(compiled, labels))

    est = values(theta)
    se = np.full_like(est, np.nan) if vcov is None else _delta_se(values, theta, vcov)
    rows = []
    for r, e, s_ in zip(spec.structure.defined, est, se, strict=True):
        z = e / s_ if s_ > 0 else math.nan
        rows.append({"lhs": r.lhs, "op": ":=", "rhs": r.rhs, "est": e, "se": s_, "z": z,
                     "pvalue": 2 * stats.norm.sf(abs(z)) if math.isfinite(z) else math.nan,
                     "ci.lower": e - Z975 * s_, "ci.upper": e + Z975 * s_})
    result.parameters = pd.concat([result.parameters, pd.DataFrame(rows)], ignore_index=True)


__all__ = ["CI_COLUMNS", "EFFECT_COLUMNS", "FIT_NAMES", "PARAMETER_COLUMNS",
           "GroupComparison", "ParRow", "SEMResult", "fit", "model_syntax"]
