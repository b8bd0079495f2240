"""Multi-group full-information ML against lavaan's ``missing = "ml"`` with ``group =``.

Reference numbers: tests/reference/lavaan_fiml_groups.json, written by
tests/reference/lavaan_fiml_groups.R (lavaan 0.6.14) on HolzingerSwineford1939
with values deleted by the rule of lavaan_reference.R case 5, by school.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from semopy.examples import holzinger39

from satisfaction.errors import InputError, UsageError
from satisfaction.model import SEMResult, fit

REF = json.loads((Path(__file__).parent / "reference" / "lavaan_fiml_groups.json").read_text())
MEASURES = ["npar", "ntotal", "chisq", "df", "pvalue", "cfi", "tli", "rmsea", "rmsea.ci.lower",
            "rmsea.ci.upper", "srmr", "aic", "bic", "logl", "baseline.chisq", "baseline.df"]
EQUAL = {"configural": (), "scalar": ("loadings", "intercepts"),
         "partial": ("loadings", "intercepts")}


def _hs_missing() -> pd.DataFrame:
    d = holzinger39.get_data().copy()
    d.loc[d["id"] % 7 == 0, "x1"] = np.nan
    d.loc[d["id"] % 11 == 0, "x5"] = np.nan
    d.loc[d["id"] % 13 == 0, "x9"] = np.nan
    return d


@pytest.fixture(scope="module")
def fits() -> dict[str, SEMResult]:
    data = _hs_missing()
    return {case: fit(REF["model"], data, group=REF["group"], missing="fiml",
                      group_equal=EQUAL[case],
                      group_partial=tuple(REF["fits"][case].get("free", ())))
            for case in EQUAL}


def test_reference_is_lavaan_fiml_by_school() -> None:
    assert REF["lavaan_version"] == "0.6.14"
    assert REF["group_labels"] == ["Pasteur", "Grant-White"]
    assert all(REF["fits"][c]["converged"] for c in EQUAL)


@pytest.mark.parametrize("case", list(EQUAL))
def test_fit_measures_match_lavaan(fits: dict[str, SEMResult], case: str) -> None:
    ours, ref = fits[case].fit_measures, REF["fits"][case]["fit"]
    assert fits[case].converged
    for name in MEASURES:
        assert ours[name] == pytest.approx(ref[name], abs=1e-3), name


@pytest.mark.parametrize("case", list(EQUAL))
def test_estimates_and_observed_information_se_match_lavaan(fits: dict[str, SEMResult],
                                                            case: str) -> None:
    table = fits[case].parameters.set_index(["lhs", "op", "rhs", "group"])
    ref = REF["fits"][case]["parameters"]
    assert len(table) == len(ref)
    for row in ref:
        got = table.loc[(row["lhs"], row["op"], row["rhs"], row["group_label"])]
        assert got["est"] == pytest.approx(row["est"], abs=1e-3), row
        assert got["se"] == pytest.approx(row["se"], abs=1e-3), row


def test_scalar_constraints_are_shared_and_latent_means_free(fits: dict[str, SEMResult]
                                                             ) -> None:
    p = fits["scalar"].parameters
    one, two = (p[p["group"] == g].reset_index(drop=True) for g in REF["group_labels"])
    shared = (one["op"] == "=~") | ((one["op"] == "~1") & one["lhs"].str.startswith("x"))
    assert shared.sum() == 9 + 9
    assert np.allclose(one.loc[shared, "est"], two.loc[shared, "est"])
    means = two[(two["op"] == "~1") & two["lhs"].isin(["visual", "textual", "speed"])]
    assert (means["se"] > 0).all()
    partial = fits["partial"].parameters
    x3 = partial[(partial["lhs"] == "x3") & (partial["op"] == "~1")]["est"].to_numpy()
    assert abs(x3[0] - x3[1]) > 0.1  # released by group_partial


def test_fiml_groups_count_respondents_and_keep_the_contract(fits: dict[str, SEMResult]
                                                             ) -> None:
    res = fits["configural"]
    assert res.n == 301
    assert res.excluded == {"missing_group": 0, "all_values_missing": 0}
    assert res.groups is not None and res.groups.labels == REF["group_labels"]
    assert sum(r.n for r in res.groups.per_group.values()) == 301
    # no structural path: the equal-paths model is the configural model itself
    assert res.groups.chisq_diff["df"] == 0
    out = res.to_dict()
    assert math.isclose(out["fit"]["chisq"], REF["fits"]["configural"]["fit"]["chisq"],
                        abs_tol=1e-3)


ROBUST = ["chisq.scaled", "chisq.scaling.factor", "baseline.chisq.scaled",
          "baseline.chisq.scaling.factor", "cfi.robust", "tli.robust", "rmsea.robust",
          "rmsea.ci.lower.robust", "rmsea.ci.upper.robust"]


def test_fiml_groups_mlr_matches_lavaan() -> None:
    """MLR: Huber-White SEs, Yuan-Bentler (Mplus) scaling, and the robust CFI/TLI/RMSEA
    from Savalei's corrected statistic over both groups (lavaan's "V3")."""
    res = fit(REF["model"], _hs_missing(), group=REF["group"], missing="fiml",
              estimator="mlr")
    ref = REF["fits"]["configural_mlr"]
    for name in [*MEASURES, *ROBUST]:
        assert res.fit_measures[name] == pytest.approx(ref["fit"][name], abs=1e-3), name
    for name in [n for n in ROBUST if "chisq." not in n or "factor" in n]:  # indices: 1e-5
        assert res.fit_measures[name] == pytest.approx(ref["fit"][name], abs=1e-5), name
    table = res.parameters.set_index(["lhs", "op", "rhs", "group"])
    for row in ref["parameters"]:
        got = table.loc[(row["lhs"], row["op"], row["rhs"], row["group_label"])]
        assert got["se"] == pytest.approx(row["se"], abs=1e-4), row
    ml = REF["fits"]["configural"]["parameters"]
    assert max(abs(a["se"] - b["se"]) for a, b in zip(ml, ref["parameters"], strict=True)) > 1e-3


def test_fiml_groups_refuse_mlm() -> None:
    """(--bootstrap with multi-group FIML works: tests/test_model_bootstrap.py.)"""
    data = _hs_missing()
    with pytest.raises(UsageError):
        fit(REF["model"], data, group="school", missing="fiml", estimator="mlm")


def test_fiml_groups_refuse_an_unidentified_model() -> None:
    # per group 3 covariances + 2 means = 5 moments; parameters: 1 loading, 2 residual
    # variances, 1 factor variance, 1 residual covariance, 2 intercepts = 7 (df = -4)
    model = "f =~ x1 + x2\nx1 ~~ x2"
    with pytest.raises(InputError, match="not identified"):
        fit(model, _hs_missing(), group="school", missing="fiml")
