"""Full-information ML with exogenous covariates (fixed.x) and with intercepts written
in the model, against lavaan's ``missing = "ml"``.

Reference numbers: tests/reference/lavaan_fiml_means.json, written by
tests/reference/lavaan_fiml_means.R (lavaan 0.6.14) on HolzingerSwineford1939 with
values deleted (x1, x5, x9 and the covariate ageyr) by the rule stated there.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from semopy.examples import holzinger39

from satisfaction.model import SEMResult, fit

REF = json.loads((Path(__file__).parent / "reference" / "lavaan_fiml_means.json").read_text())
MEASURES = ["npar", "ntotal", "chisq", "df", "pvalue", "cfi", "tli", "rmsea", "rmsea.ci.lower",
            "rmsea.ci.upper", "srmr", "aic", "bic", "logl", "baseline.chisq", "baseline.df"]
CASES = {"covariates": ("covariates", None), "covariates_groups": ("covariates", "school"),
         "intercepts": ("intercepts", None), "observed_paths": ("observed_paths", None)}


def hs_missing() -> pd.DataFrame:
    d = holzinger39.get_data().copy()
    d.loc[d["id"] % 7 == 0, "x1"] = np.nan
    d.loc[d["id"] % 11 == 0, "x5"] = np.nan
    d.loc[d["id"] % 13 == 0, "x9"] = np.nan
    d.loc[d["id"] % 17 == 0, "ageyr"] = np.nan
    return d


@pytest.fixture(scope="module")
def fits() -> dict[str, SEMResult]:
    data = hs_missing()
    return {case: fit(REF["models"][model], data, missing="fiml", group=group)
            for case, (model, group) in CASES.items()}


def test_reference_is_lavaan_0_6_14() -> None:
    assert REF["lavaan_version"] == "0.6.14"
    assert all(REF["fits"][c]["converged"] for c in CASES)


@pytest.mark.parametrize("case", list(CASES))
def test_fit_measures_match_lavaan(fits: dict[str, SEMResult], case: str) -> None:
    ours, ref = fits[case].fit_measures, REF["fits"][case]["fit"]
    assert fits[case].converged
    for name in MEASURES:
        assert ours[name] == pytest.approx(ref[name], abs=1e-4), name


@pytest.mark.parametrize("case", list(CASES))
def test_estimates_and_se_match_lavaan(fits: dict[str, SEMResult], case: str) -> None:
    params = fits[case].parameters
    keys = ["lhs", "op", "rhs"] + (["group"] if "group" in params.columns else [])
    table = params[params["op"] != ":="].set_index(keys)
    ref = REF["fits"][case]["parameters"]
    assert len(table) == len(ref)
    for row in ref:
        key = (row["lhs"], row["op"], row["rhs"]) + ((row["group_label"],)
                                                   if len(keys) == 4 else ())
        got = table.loc[key]
        assert got["est"] == pytest.approx(row["est"], abs=1e-4), row
        assert got["se"] == pytest.approx(row["se"], abs=1e-4), row


@pytest.mark.parametrize("case", ["covariates", "covariates_groups"])
def test_rows_missing_a_covariate_are_counted_as_lavaan_deletes_them(
        fits: dict[str, SEMResult], case: str) -> None:
    data = hs_missing()
    no_x = int(data[["ageyr", "grade"]].isna().any(axis=1).sum())
    assert no_x == REF["fits"][case]["deleted"] == 18
    assert fits[case].excluded["missing_exogenous"] == no_x
    assert fits[case].n == len(data) - no_x


def test_user_intercepts_fix_the_marker_and_free_the_latent_mean(
        fits: dict[str, SEMResult]) -> None:
    p = fits["intercepts"].parameters.set_index(["lhs", "op", "rhs"])
    assert p.loc[("x1", "~1", ""), "est"] == 0 and p.loc[("x1", "~1", ""), "se"] == 0
    assert p.loc[("visual", "~1", ""), "se"] > 0

