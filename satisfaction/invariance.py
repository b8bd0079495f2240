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
over-sensitive in large samples. When a step does not hold, each of its newly
constrained parameters is freed in turn (lavaan's ``group.partial``) and the
drop in χ² is reported (a likelihood-ratio test with one degree of freedom),
largest first: the parameters to free for partial invariance (Byrne,
Shavelson & Muthén 1989).

Tested against lavaan 0.6 (``cfa(..., group.equal = ...)``, ``lavTestScore``)
on HolzingerSwineford1939 by school and the bank data by gender
(tests/reference/lavaan_invariance.R).

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
    """

    group: str
    labels: list[str]
    steps: pd.DataFrame
    suggestions: pd.DataFrame
    level: str
    latent_means: pd.DataFrame
    warnings: list[Diagnostic] = field(default_factory=list)
    fits: dict[str, SEMResult] = field(default_factory=dict, repr=False)

    @property
    def means_comparable(self) -> bool:
        """Whether latent (and construct-score) means may be compared: scalar invariance."""
        return self.level in ("scalar", "strict")

    @property
    def status(self) -> str:
        """The gate: ``invalid`` when a step's model is not admissible."""
        return gate_status(self.warnings)

    def to_dict(self) -> dict[str, Any]:
        """``{"group", "labels", "steps": [...], "suggestions": [...], "level",
        "means_comparable", "latent_means", "status", "warnings"}``."""
        return to_jsonable({
            "group": self.group, "labels": self.labels,
            "steps": self.steps.to_dict("records"),
            "suggestions": self.suggestions.to_dict("records"),
            "level": self.level, "means_comparable": self.means_comparable,
            "latent_means": self.latent_means.to_dict("records"),
            "status": self.status, "warnings": [w.to_dict() for w in self.warnings]})


def _row(name: str, result: SEMResult) -> dict[str, Any]:
    f = result.fit_measures
    return {"model": name, **{k: f[k] for k in ("npar", "chisq", "df", "pvalue", "cfi", "tli",
                                                "rmsea", "srmr")}}


def _compare(row: dict[str, Any], before: dict[str, Any], use_rmsea: bool = True
             ) -> dict[str, Any]:
    d_chisq = row["chisq"] - before["chisq"]
    d_df = row["df"] - before["df"]
    d_cfi = row["cfi"] - before["cfi"]
    d_rmsea = row["rmsea"] - before["rmsea"]
    held = d_cfi >= -MAX_CFI_DROP - 1e-12 and (
        not use_rmsea or d_rmsea <= MAX_RMSEA_RISE + 1e-12)
    return {"delta.chisq": d_chisq, "delta.df": d_df,
            "delta.pvalue": float(stats.chi2.sf(d_chisq, d_df)) if d_df > 0 else math.nan,
            "delta.cfi": d_cfi, "delta.rmsea": d_rmsea,
            "decision": "held" if held else "not held"}


def _new_constraints(result: SEMResult, added: tuple[str, ...]) -> list[str]:
    """The free parameters of the classes a step newly holds equal, as ``lhs op rhs``."""
    spec = result._spec  # type: ignore[attr-defined]
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
               missing: str = "listwise") -> InvarianceResult:
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

    Returns
    -------
    InvarianceResult

    Notes
    -----
    ΔCFI ≤ 0.01 and ΔRMSEA ≤ 0.015 decide a step (Cheung & Rensvold 2002; Chen
    2007); the χ² difference is reported beside them. Suggestions are
    likelihood-ratio tests of freeing one parameter (one degree of freedom), which
    ranks parameters as lavaan's univariate score tests (``lavTestScore``) do
    to first order.
    """
    partial = tuple(group_partial)
    fits: dict[str, SEMResult] = {}
    rows: list[dict[str, Any]] = []
    warnings: list[Diagnostic] = []
    suggestions: list[dict[str, Any]] = []
    for name, equal in STEPS:
        result = fit(model, data, group=group, group_equal=equal, group_partial=partial,
                     missing=missing)
        fits[name] = result
        row = _row(name, result)
        if rows:
            row.update(_compare(row, rows[-1]))
        else:
            row.update({"delta.chisq": math.nan, "delta.df": math.nan,
                        "delta.pvalue": math.nan, "delta.cfi": math.nan,
                        "delta.rmsea": math.nan, "decision": "baseline"})
        if result.status == "invalid":
            warnings.append(Diagnostic("invariance_step_invalid", "invalidates",
                                       {"step": name}))
        rows.append(row)
        if row["decision"] == "not held" and suggest > 0:
            before = dict(STEPS)[rows[-2]["model"]]
            added = tuple(c for c in equal if c not in before)
            drops = []
            for parameter in _new_constraints(result, added):
                if parameter in partial:
                    continue
                freed = fit(model, data, group=group, group_equal=equal,
                            group_partial=(*partial, parameter), missing=missing)
                drop = result.fit_measures["chisq"] - freed.fit_measures["chisq"]
                df = result.fit_measures["df"] - freed.fit_measures["df"]
                drops.append({"step": name, "parameter": parameter, "chisq.drop": drop,
                              "df": df, "pvalue": float(stats.chi2.sf(drop, df))
                              if df > 0 else math.nan})
            drops.sort(key=lambda d: -d["chisq.drop"])
            suggestions += drops[:suggest]
    steps = pd.DataFrame(rows, columns=STEP_COLUMNS)
    level = "none" if fits["configural"].status == "invalid" else "configural"
    for row in rows[1:]:
        if row["decision"] != "held":
            break
        level = row["model"]
    scalar = fits["scalar"]
    p = scalar.parameters
    latent = set(scalar._spec.structure.latent)  # type: ignore[attr-defined]
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
                            fits=fits)


CONSTRUCT_COLUMNS = ["construct", "group", "items", "level", "means_comparable",
                     "delta.cfi.metric", "delta.cfi.scalar", "delta.rmsea.scalar"]


def construct_invariance(questionnaire: Questionnaire, data: pd.DataFrame, group: str
                         ) -> tuple[pd.DataFrame, list[Diagnostic]]:
    """Invariance of each first-order construct's one-factor model across ``group``.

    A group comparison of a construct's scores compares the means of that
    construct alone, so each construct is tested on its own items (configural,
    metric, scalar; :func:`invariance` without suggestions). A construct with
    fewer than three items cannot be tested this way (its one-factor model has
    no degrees of freedom to spare) and is reported as ``untestable``. The steps
    are decided by ΔCFI alone: these models have a handful of degrees of freedom,
    where RMSEA is unstable (Kenny, Kaniskan & McCoach 2015).

    Returns
    -------
    (DataFrame, list of Diagnostic)
        ``construct group items level means_comparable delta.cfi.metric
        delta.cfi.scalar delta.rmsea.scalar``; a caution for every construct
        whose scalar invariance does not hold (its means should not be compared).
    """
    rows, notes = [], []
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
                res = _steps(model, frame, group, missing)
            except (InputError, UsageError):
                res = None  # a group too small for the items: left untestable
            if res is not None:
                steps = res.set_index("model")
                row["level"] = _level(res)
                row["means_comparable"] = row["level"] in ("scalar", "strict")
                row["delta.cfi.metric"] = steps.loc["metric", "delta.cfi"]
                row["delta.cfi.scalar"] = steps.loc["scalar", "delta.cfi"]
                row["delta.rmsea.scalar"] = steps.loc["scalar", "delta.rmsea"]
                if not row["means_comparable"]:
                    notes.append(Diagnostic("invariance_construct_no_scalar", "caution",
                                            {"construct": c.id, "group": group,
                                             "level": row["level"]},
                                            constructs=("construct", "group"),
                                            labels={"level": "groups.levels"}))
        rows.append(row)
    return pd.DataFrame(rows, columns=CONSTRUCT_COLUMNS), notes


def _steps(model: str, data: pd.DataFrame, group: str, missing: str = "listwise"
           ) -> pd.DataFrame:
    """Configural, metric and scalar fits of one model, compared (no suggestions)."""
    rows: list[dict[str, Any]] = []
    for name, equal in STEPS[:3]:
        result = fit(model, data, group=group, group_equal=equal, missing=missing)
        if result.status == "invalid":
            raise InputError(f"the {name} model is not admissible")
        row = _row(name, result)
        row.update(_compare(row, rows[-1], use_rmsea=False) if rows
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


__all__ = ["CONSTRUCT_COLUMNS", "MAX_CFI_DROP", "MAX_RMSEA_RISE", "STEPS", "InvarianceResult",
           "construct_invariance", "invariance"]
