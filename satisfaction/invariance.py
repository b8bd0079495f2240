"""Measurement invariance across groups: configural, metric, scalar, strict.

Comparing satisfaction between groups (men and women, regions, segments)
assumes the questionnaire measures the same thing in each. The usual sequence
(Vandenberg & Lance 2000; Putnick & Bornstein 2016) fits the same model in all
groups with more and more parameters held equal, as lavaan's ``group.equal``:

========== ====================================== ===================================
step       equal across groups                    what it licenses
========== ====================================== ===================================
configural nothing (same pattern of loadings)      the same constructs in every group
metric     loadings                                comparing relations (paths, r)
scalar     loadings, intercepts                    comparing latent (and score) means
strict     loadings, intercepts, residual variances comparing observed scores as such
========== ====================================== ===================================

Each step is compared with the one before by the χ² difference test and by the
change in fit: a step holds when CFI falls by no more than 0.01 and RMSEA rises
by no more than 0.015 (Cheung & Rensvold 2002; Chen 2007), the χ² test being
over-sensitive in large samples. With a robust estimator (``estimator="mlr"`` or
``"mlm"``, lavaan's MLR/MLM) the steps also carry the Satorra-Bentler (2001)
scaled χ² difference (lavaan's ``lavTestLRT(method = "satorra.bentler.2001")``)
and the decisions use the robust CFI and RMSEA (``cfi.robust``, ``rmsea.robust``;
Brosseau-Liard & Savalei 2014), which the naive indices of the scaled χ² misstate.
With respondent weights (``weights=``) every step is lavaan's
``cfa(..., group =, group.equal =, sampling.weights =)``: ML on the weighted moments
with MLR standard errors and the Yuan-Bentler (Mplus) test
(:mod:`satisfaction.sem_weights`), so the steps are compared as under MLR: the
Satorra-Bentler (2001) scaled difference (what ``lavTestLRT`` computes for these
fits, its method ``"satorra.bentler.2001"``) and the change in the robust CFI and
RMSEA, the indices lavaan's robust output reports for a scaled test (the naive
indices of the scaled χ², ``cfi.scaled``, mix the scaling into the baseline
comparison and are not consistent for the population index; Brosseau-Liard, Savalei
& Li 2012; Brosseau-Liard & Savalei 2014).
When a step does not hold, each of its newly constrained parameters is freed in
turn (lavaan's ``group.partial``) and the drop in χ² is reported (a
likelihood-ratio test with one degree of freedom), largest first: the
parameters to free for partial invariance (Byrne, Shavelson & Muthén 1989).

Tested against lavaan 0.6 (``cfa(..., group.equal = ...)``, ``lavTestScore``)
on HolzingerSwineford1939 by school and the bank data by gender
(tests/reference/lavaan_invariance.R); the robust steps against lavaan's MLR/MLM
fits and ``lavTestLRT`` (tests/reference/lavaan_robust_groups.R); the weighted
steps against lavaan 0.6.14's ``cfa(sampling.weights =)`` and ``lavTestLRT`` on the
raked bank survey by gender, complete and FIML, and one construct alone
(tests/reference/lavaan_invariance_weights.R).

Example
-------
>>> from semopy.examples import holzinger39
>>> from satisfaction.invariance import invariance
>>> res = invariance("visual =~ x1 + x2 + x3\\ntextual =~ x4 + x5 + x6\\n"
...                  "speed =~ x7 + x8 + x9", holzinger39.get_data(), group="school")
>>> [round(x, 3) for x in res.steps["chisq"]]
[115.851, 124.044, 164.103, 181.511]
>>> res.level
'metric'
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from scipy import stats

from satisfaction import robust
from satisfaction.diagnostics import Diagnostic
from satisfaction.diagnostics import status as gate_status
from satisfaction.errors import InputError, UsageError
from satisfaction.io import to_jsonable
from satisfaction.model import SEMResult, equal_class, fit
from satisfaction.questionnaire import Questionnaire

#: The steps and the parameter classes each holds equal (lavaan's names).
STEPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("configural", ()),
    ("metric", ("loadings",)),
    ("scalar", ("loadings", "intercepts")),
    ("strict", ("loadings", "intercepts", "residuals")),
)
#: A step holds when CFI falls by at most this much (Cheung & Rensvold 2002) ...
MAX_CFI_DROP = 0.01
#: ... and RMSEA rises by at most this much (Chen 2007).
MAX_RMSEA_RISE = 0.015
STEP_COLUMNS = ["model", "npar", "chisq", "df", "pvalue", "cfi", "tli", "rmsea", "srmr",
                "delta.chisq", "delta.df", "delta.pvalue", "delta.cfi", "delta.rmsea",
                "decision"]
#: What a step adds with a robust estimator (lavaan's names; ``delta.*.scaled`` is the
#: Satorra-Bentler 2001 scaled difference, ``delta.*.robust`` the change in robust fit).
ROBUST_STEP_COLUMNS = ["chisq.scaled", "chisq.scaling.factor", "pvalue.scaled", "cfi.robust",
                       "tli.robust", "rmsea.robust", "delta.chisq.scaled",
                       "delta.scaling.factor", "delta.pvalue.scaled", "delta.cfi.robust",
                       "delta.rmsea.robust"]


@dataclass
class InvarianceResult:
    """The invariance sequence of one model across the groups of one column.

    Attributes
    ----------
    group : str
    labels : list of str
        The groups, in order of first appearance (as lavaan).
    steps : DataFrame
        One row per step: ``model npar chisq df pvalue cfi tli rmsea srmr`` and,
        from the metric step on, the comparison with the step before:
        ``delta.chisq delta.df delta.pvalue delta.cfi delta.rmsea`` and
        ``decision`` (``held`` / ``not held``; the configural step is
        ``baseline``).
    suggestions : DataFrame
        For each step that does not hold: ``step parameter chisq.drop df pvalue``,
        the χ² gained by freeing each newly constrained parameter, largest first.
    level : str
        The last step of the unbroken run of steps that hold (``configural`` when
        metric invariance already fails; ``none`` when the configural model
        itself is not admissible).
    latent_means : DataFrame
        ``construct group est se`` of the scalar model (0 in the first group).
    warnings : list of Diagnostic
    fits : dict of str to SEMResult
        The fitted model of each step.
    estimator : str
        ``ml``, ``mlr`` or ``mlm``. With ``mlr``/``mlm`` ``steps`` has the
        :data:`ROBUST_STEP_COLUMNS` too and the decisions are taken on
        ``delta.cfi.robust`` and ``delta.rmsea.robust``.
    """

    group: str
    labels: list[str]
    steps: pd.DataFrame
    suggestions: pd.DataFrame
    level: str
    latent_means: pd.DataFrame
    warnings: list[Diagnostic] = field(default_factory=list)
    fits: dict[str, SEMResult] = field(default_factory=dict, repr=False)
    estimator: str = "ml"

    @property
    def decision_indices(self) -> list[str]:
        """The fit indices whose change decides a step."""
        return ["cfi", "rmsea"] if self.estimator == "ml" else ["cfi.robust", "rmsea.robust"]

    @property
    def means_comparable(self) -> bool:
        """Whether latent (and construct-score) means may be compared: scalar invariance."""
        return self.level in ("scalar", "strict")

    @property
    def status(self) -> str:
        """The gate: ``invalid`` when a step's model is not admissible."""
        return gate_status(self.warnings)

    def to_dict(self) -> dict[str, Any]:
        """``{"group", "labels", "estimator", "decision_indices", "difference_test",
        "steps": [...], "suggestions": [...], "level", "means_comparable",
        "latent_means", "status", "warnings"}``; ``difference_test`` names the test of
        ``delta.chisq.scaled`` (``satorra.bentler.2001``), or is ``null`` under ML."""
        return to_jsonable({
            "group": self.group, "labels": self.labels, "estimator": self.estimator,
            "decision_indices": self.decision_indices,
            "difference_test": None if self.estimator == "ml" else "satorra.bentler.2001",
            "steps": self.steps.to_dict("records"),
            "suggestions": self.suggestions.to_dict("records"),
            "level": self.level, "means_comparable": self.means_comparable,
            "latent_means": self.latent_means.to_dict("records"),
            "status": self.status, "warnings": [w.to_dict() for w in self.warnings]})


def _row(name: str, result: SEMResult, estimator: str = "ml") -> dict[str, Any]:
    f = result.fit_measures
    keys = ["npar", "chisq", "df", "pvalue", "cfi", "tli", "rmsea", "srmr"]
    if estimator != "ml":
        keys += ["chisq.scaled", "chisq.scaling.factor", "pvalue.scaled", "cfi.robust",
                 "tli.robust", "rmsea.robust"]
    return {"model": name, **{k: f[k] for k in keys}}


def _compare(row: dict[str, Any], before: dict[str, Any], use_rmsea: bool = True,
             estimator: str = "ml") -> dict[str, Any]:
    """The change from ``before`` to ``row``: the χ² difference, ΔCFI, ΔRMSEA and the
    decision; with a robust estimator also the Satorra-Bentler (2001) scaled
    difference and the change in the robust indices, which then decide."""
    d_chisq = row["chisq"] - before["chisq"]
    d_df = row["df"] - before["df"]
    out = {"delta.chisq": d_chisq, "delta.df": d_df,
           "delta.pvalue": float(stats.chi2.sf(d_chisq, d_df)) if d_df > 0 else math.nan,
           "delta.cfi": row["cfi"] - before["cfi"],
           "delta.rmsea": row["rmsea"] - before["rmsea"]}
    cfi, rmsea = "delta.cfi", "delta.rmsea"
    if estimator != "ml":
        scaled = robust.scaled_difference(
            before["chisq"], before["df"], before["chisq.scaling.factor"], row["chisq"],
            row["df"], row["chisq.scaling.factor"]) if d_df > 0 else \
            robust.ScaledDifference(math.nan, d_df, math.nan, math.nan)
        out.update({"delta.chisq.scaled": scaled.chisq_diff,
                    "delta.scaling.factor": scaled.scaling_factor,
                    "delta.pvalue.scaled": scaled.pvalue,
                    "delta.cfi.robust": row["cfi.robust"] - before["cfi.robust"],
                    "delta.rmsea.robust": row["rmsea.robust"] - before["rmsea.robust"]})
        cfi, rmsea = "delta.cfi.robust", "delta.rmsea.robust"
    held = out[cfi] >= -MAX_CFI_DROP - 1e-12 and (
        not use_rmsea or out[rmsea] <= MAX_RMSEA_RISE + 1e-12)
    out["decision"] = "held" if held else "not held"
    return out


def _new_constraints(result: SEMResult, added: tuple[str, ...]) -> list[str]:
    """The free parameters of the classes a step newly holds equal, as ``lhs op rhs``."""
    spec = result.spec
    st = spec.structure
    out: list[str] = []
    for k, r in enumerate(st.rows):
        if equal_class(r, st) in added and spec.param_of_row[0][k] >= 0 and \
                r.group_values is None and r.label is None:
            name = f"{r.lhs} {r.op} {r.rhs}".strip()
            if name not in out:
                out.append(name)
    return out


def invariance(model: str | Path | Questionnaire, data: pd.DataFrame, group: str, *,
               group_partial: Sequence[str] = (), suggest: int = 5,
               missing: str = "listwise", estimator: str = "ml",
               weights: Any = None) -> InvarianceResult:
    """Fit the configural, metric, scalar and strict models and compare them.

    Parameters
    ----------
    model : str, Path or Questionnaire
        The measurement model (a questionnaire or lavaan syntax); a structural
        part is fitted too but invariance concerns the measurement part.
    data : DataFrame
        Responses with the ``group`` column (respondents with a missing group or
        answer are left out, as :func:`satisfaction.model.fit` counts them).
    group : str
        The grouping column.
    group_partial : sequence of str
        Parameters left free across groups in every step (``"x3 ~1"``), for a
        partially invariant model.
    suggest : int
        How many parameters to suggest freeing when a step does not hold (0: none).
    missing : {"listwise", "fiml"}
        As :func:`satisfaction.model.fit`: ``fiml`` uses every answer.
    estimator : {"ml", "mlr", "mlm"}
        As :func:`satisfaction.model.fit`. With ``mlr``/``mlm`` each step carries
        ``chisq.scaled chisq.scaling.factor pvalue.scaled cfi.robust tli.robust
        rmsea.robust`` and, from the metric step on, the Satorra-Bentler (2001)
        scaled difference ``delta.chisq.scaled delta.scaling.factor
        delta.pvalue.scaled`` (lavaan's ``lavTestLRT(method =
        "satorra.bentler.2001")``: ``c_d = (df₀c₀ − df₁c₁)/(df₀ − df₁)``,
        ``T_d = (T₀ − T₁)/c_d``) and ``delta.cfi.robust delta.rmsea.robust``, which
        decide the step.
    weights : str, Series or array, optional
        Respondent weights (a column of ``data``, a Series indexed like ``data`` or
        one number per row; :func:`satisfaction.sem_weights.respondent_weights`).
        Every step is then lavaan's ``cfa(..., sampling.weights =)`` with MLR
        (``estimator`` ``"ml"`` or ``"mlr"``; ``"mlm"`` is refused), the steps carry
        the robust columns above and the robust indices decide; respondents without
        a weight are left out and counted in each fit's ``excluded``.

    Returns
    -------
    InvarianceResult

    Notes
    -----
    ΔCFI ≤ 0.01 and ΔRMSEA ≤ 0.015 decide a step (Cheung & Rensvold 2002; Chen
    2007); the χ² difference is reported beside them. Suggestions are
    likelihood-ratio tests of freeing one parameter (one degree of freedom), which
    ranks parameters as lavaan's univariate score tests (``lavTestScore``) do
    to first order; they are ML fits (the estimates and the ML χ² are the same under
    MLR/MLM), so ``chisq.drop`` is the unscaled drop (with weights: of the weighted
    ML χ², the freed models fitted with the same weights).

    With weights each step takes seconds rather than a fraction of one (the MLR
    information and scores of every step); the suggestions refit the model once per
    newly constrained parameter.
    """
    partial = tuple(group_partial)
    if weights is not None:
        # lavaan's sampling.weights switch the estimator to MLR
        if estimator not in ("ml", "mlr"):
            raise UsageError("with respondent weights the estimator is MLR (lavaan's "
                             "sampling.weights); 'ml' or 'mlr' are accepted",
                             column="--estimator", value=estimator)
        estimator = "mlr"
        weighted: dict[str, Any] = {"sampling_weights": weights}
    else:
        weighted = {}
    fits: dict[str, SEMResult] = {}
    rows: list[dict[str, Any]] = []
    warnings: list[Diagnostic] = []
    suggestions: list[dict[str, Any]] = []
    for name, equal in STEPS:
        result = fit(model, data, group=group, group_equal=equal, group_partial=partial,
                     missing=missing, estimator=estimator, **weighted)
        fits[name] = result
        row = _row(name, result, estimator)
        if rows:
            row.update(_compare(row, rows[-1], estimator=estimator))
        else:
            row.update({c: math.nan for c in (*STEP_COLUMNS, *ROBUST_STEP_COLUMNS)
                        if c.startswith("delta.")})
            row["decision"] = "baseline"
        if result.status == "invalid":
            warnings.append(Diagnostic("invariance_step_invalid", "invalidates",
                                       {"step": name}))
        rows.append(row)
        if row["decision"] == "not held" and suggest > 0:
            before = dict(STEPS)[rows[-2]["model"]]
            added = tuple(c for c in equal if c not in before)
            drops = []
            # only the ML χ² of the freed models is used: no standard errors where that
            # is available (weighted: complete data; the weighted ML χ² without MLR)
            quick = {"se": "none"} if weighted and missing == "listwise" else {}
            for parameter in _new_constraints(result, added):
                if parameter in partial:
                    continue
                freed = fit(model, data, group=group, group_equal=equal,
                            group_partial=(*partial, parameter), missing=missing,
                            **weighted, **quick)
                drop = result.fit_measures["chisq"] - freed.fit_measures["chisq"]
                df = result.fit_measures["df"] - freed.fit_measures["df"]
                drops.append({"step": name, "parameter": parameter, "chisq.drop": drop,
                              "df": df, "pvalue": float(stats.chi2.sf(drop, df))
                              if df > 0 else math.nan})
            drops.sort(key=lambda d: -d["chisq.drop"])
            suggestions += drops[:suggest]
    if weighted:  # the design effect and effective n of the weighted fits, once
        warnings[:0] = [w for w in fits["configural"].warnings if w.code == "sem_weighted"]
    steps = pd.DataFrame(rows, columns=STEP_COLUMNS + (ROBUST_STEP_COLUMNS if estimator != "ml"
                                                       else []))
    level = "none" if fits["configural"].status == "invalid" else "configural"
    # an inadmissible configural model licenses no step above it
    for row in rows[1:] if level != "none" else []:
        if row["decision"] != "held":
            break
        level = row["model"]
    scalar = fits["scalar"]
    p = scalar.parameters
    latent = set(scalar.spec.structure.latent)
    means = p[(p["op"] == "~1") & p["lhs"].isin(latent)]
    latent_means = pd.DataFrame({"construct": means["lhs"].to_numpy(),
                                 "group": means["group"].to_numpy(),
                                 "est": means["est"].to_numpy(),
                                 "se": means["se"].to_numpy()})
    if level in ("configural", "metric"):
        warnings.append(Diagnostic("invariance_no_scalar", "caution",
                                   {"group": group, "level": level},
                                   constructs=("group",), labels={"level": "groups.levels"}))
    labels = scalar.groups.labels if scalar.groups is not None else []
    return InvarianceResult(group=group, labels=list(labels), steps=steps,
                            suggestions=pd.DataFrame(suggestions, columns=[
                                "step", "parameter", "chisq.drop", "df", "pvalue"]),
                            level=level, latent_means=latent_means, warnings=warnings,
                            fits=fits, estimator=estimator)


CONSTRUCT_COLUMNS = ["construct", "group", "items", "level", "means_comparable",
                     "delta.cfi.metric", "delta.cfi.scalar", "delta.rmsea.scalar"]


def construct_invariance(questionnaire: Questionnaire, data: pd.DataFrame, group: str,
                         weights: Any = None) -> tuple[pd.DataFrame, list[Diagnostic]]:
    """Invariance of each first-order construct's one-factor model across ``group``.

    A group comparison of a construct's scores compares the means of that
    construct alone, so each construct is tested on its own items (configural,
    metric, scalar; :func:`invariance` without suggestions). A construct with
    fewer than three items cannot be tested this way (its one-factor model has
    no degrees of freedom to spare) and is reported as ``untestable``. The steps
    are decided by ΔCFI alone: these models have a handful of degrees of freedom,
    where RMSEA is unstable (Kenny, Kaniskan & McCoach 2015).

    The steps are fitted without standard errors (``fit(..., se="none")``, lavaan's
    ``se = "none"``): the decision uses χ², CFI, RMSEA and admissibility only, and
    admissibility rests on the estimates (convergence, negative variances,
    ``|std.all| > 1``). What the skipped information matrix would add, a check of
    empirical identification, is not needed here: a one-factor model with three or
    more items and its first loading fixed at 1 is identified by its structure
    (Bollen 1989, the three-indicator rule), in every group and every step.

    With respondent ``weights`` (as :func:`invariance`: a column, or a Series indexed
    like ``data``) each step is the weighted fit, lavaan's ``cfa(..., sampling.weights
    =)`` with MLR, which needs the information matrix for its scaled test (no
    ``se="none"`` shortcut: a few seconds per construct and group); the
    ``delta.cfi.*`` and ``delta.rmsea.scalar`` columns then hold the change in the
    robust CFI and RMSEA (``cfi.robust``, ``rmsea.robust``), which decide, as in
    :func:`invariance` with weights. Unweighted, the fast path above is unchanged.

    Returns
    -------
    (DataFrame, list of Diagnostic)
        ``construct group items level means_comparable delta.cfi.metric
        delta.cfi.scalar delta.rmsea.scalar``; a caution for every construct
        whose scalar invariance does not hold (its means should not be compared).
    """
    rows, notes = [], []
    if weights is not None:
        from satisfaction.sem_weights import respondent_weights

        # checked once here: a bad weight is an error, not an "untestable" construct
        weights = respondent_weights(data, weights)
    for c in questionnaire.first_order:
        items = [i.id for i in c.items if i.id in data.columns]
        row: dict[str, Any] = {"construct": c.id, "group": group, "items": len(items),
                               "level": "untestable", "means_comparable": None,
                               "delta.cfi.metric": math.nan, "delta.cfi.scalar": math.nan,
                               "delta.rmsea.scalar": math.nan}
        if len(items) >= 3:
            frame = data[[*items, group]]
            model = f"{c.id} =~ " + " + ".join(items)
            # every answer counts (FIML) when some are missing
            missing = "fiml" if frame[items].isna().to_numpy().any() else "listwise"
            try:
                res = _steps(model, frame, group, missing, weights)
            except (InputError, UsageError):
                res = None  # a group too small for the items: left untestable
            if res is not None:
                steps = res.set_index("model")
                row["level"] = _level(res)
                row["means_comparable"] = row["level"] in ("scalar", "strict")
                i = "" if weights is None else ".robust"  # the indices that decided
                row["delta.cfi.metric"] = steps.loc["metric", f"delta.cfi{i}"]
                row["delta.cfi.scalar"] = steps.loc["scalar", f"delta.cfi{i}"]
                row["delta.rmsea.scalar"] = steps.loc["scalar", f"delta.rmsea{i}"]
                if not row["means_comparable"]:
                    notes.append(Diagnostic("invariance_construct_no_scalar", "caution",
                                            {"construct": c.id, "group": group,
                                             "level": row["level"]},
                                            constructs=("construct", "group"),
                                            labels={"level": "groups.levels"}))
        rows.append(row)
    return pd.DataFrame(rows, columns=CONSTRUCT_COLUMNS), notes


def _steps(model: str, data: pd.DataFrame, group: str, missing: str = "listwise",
           weights: Any = None) -> pd.DataFrame:
    """Configural, metric and scalar fits of one model, compared (no suggestions);
    with ``weights`` the weighted MLR fits, compared as :func:`invariance` does."""
    rows: list[dict[str, Any]] = []
    estimator = "ml" if weights is None else "mlr"
    for name, equal in STEPS[:3]:
        if weights is None:
            # no standard errors: the decision does not use them (construct_invariance)
            result = fit(model, data, group=group, group_equal=equal, missing=missing,
                         se="none")
        else:
            result = fit(model, data, group=group, group_equal=equal, missing=missing,
                         sampling_weights=weights, estimator="mlr")
        if result.status == "invalid":
            raise InputError(f"the {name} model is not admissible")
        row = _row(name, result, estimator)
        row.update(_compare(row, rows[-1], use_rmsea=False, estimator=estimator) if rows
                   else {"decision": "baseline"})
        rows.append(row)
    return pd.DataFrame(rows)


def _level(steps: pd.DataFrame) -> str:
    level = "configural"
    for row in steps.to_dict("records")[1:]:
        if row["decision"] != "held":
            break
        level = row["model"]
    return level


__all__ = ["CONSTRUCT_COLUMNS", "MAX_CFI_DROP", "MAX_RMSEA_RISE", "ROBUST_STEP_COLUMNS", "STEPS",
           "InvarianceResult",
           "construct_invariance", "invariance"]
