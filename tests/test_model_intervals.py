"""Intervals that belong to their estimates: std.all and effects against lavaan.

Reference: tests/reference/lavaan_standardized.json, written by
tests/reference/lavaan_standardized.R (lavaan's standardizedSolution() and
``:=`` effects, delta-method 95 % intervals).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from semopy.examples import holzinger39, political_democracy

from satisfaction.model import EFFECT_MEASURES, fit
from tests.conftest import REFERENCE

REF = json.loads((REFERENCE / "lavaan_standardized.json").read_text())
TOL = 1e-3


def _syntax(model: str) -> str:
    """The model without labels and := lines (effects are computed for every pair)."""
    lines = [ln for ln in model.splitlines() if ":=" not in ln]
    return "\n".join(ln.replace("a*", "").replace("b*", "").replace("c*", "") for ln in lines)


def _hs_missing() -> pd.DataFrame:
    data = holzinger39.get_data().copy()
    data.loc[data["id"] % 7 == 0, "x1"] = np.nan
    data.loc[data["id"] % 11 == 0, "x5"] = np.nan
    data.loc[data["id"] % 13 == 0, "x9"] = np.nan
    return data


@pytest.fixture(scope="module")
def pd_fit():
    return fit(_syntax(REF["political_democracy"]["model"]), political_democracy.get_data())


@pytest.fixture(scope="module")
def hs_fit():
    return fit(REF["holzinger_swineford_fiml"]["model"], _hs_missing(), missing="fiml")


def _ref(case: str, scale: str) -> pd.DataFrame:
    """lavaan's table with ``ci.lower``/``ci.upper``/``est.std`` as attribute-safe names."""
    return pd.DataFrame(REF[case][scale]).rename(
        columns={"ci.lower": "ci_lower", "ci.upper": "ci_upper", "est.std": "est_std"})


def _check_std(result, case: str) -> int:
    ref = _ref(case, "standardized")
    params = result.parameters.set_index(["lhs", "op", "rhs"])
    checked = 0
    for row in ref.itertuples(index=False):
        key = (row.lhs, row.op, row.rhs)
        if row.op == ":=" or key not in params.index or row.op == "~1":
            continue
        ours = params.loc[key]
        assert abs(ours["std.all"] - row.est_std) < TOL, key
        if row.se and row.se > 0:  # free in the standardized solution
            assert abs(ours["std.ci.lower"] - row.ci_lower) < TOL, key
            assert abs(ours["std.ci.upper"] - row.ci_upper) < TOL, key
            checked += 1
    return checked


def test_std_intervals_match_lavaan_ml(pd_fit) -> None:
    assert _check_std(pd_fit, "political_democracy") >= 25


def test_std_intervals_match_lavaan_fiml(hs_fit) -> None:
    assert _check_std(hs_fit, "holzinger_swineford_fiml") >= 20


@pytest.mark.parametrize("scale", ["unstandardized", "standardized"])
def test_effect_intervals_match_lavaan_defined(pd_fit, scale: str) -> None:
    ref = _ref("political_democracy", scale).set_index("lhs")
    est = "est" if scale == "unstandardized" else "est_std"
    prefix = "" if scale == "unstandardized" else "std."
    row = pd_fit.effects.set_index(["from", "to"]).loc[("ind60", "dem65")]
    for name in ("indirect", "total"):
        r = ref.loc[name]
        assert abs(row[f"{prefix}{name}"] - r[est]) < TOL
        assert abs(row[f"{prefix}{name}.ci.lower"] - r["ci_lower"]) < TOL
        assert abs(row[f"{prefix}{name}.ci.upper"] - r["ci_upper"]) < TOL
    assert row["ci.method"] == "delta"


def test_absent_effects_are_absent(pd_fit) -> None:
    eff = pd_fit.effects.set_index(["from", "to"])
    # ind60 -> dem60 is a direct path only: no indirect effect and no interval of one
    row = eff.loc[("ind60", "dem60")]
    assert np.isnan(row["indirect"]) and np.isnan(row["std.indirect.ci.lower"])
    assert np.isfinite(row["std.direct.ci.lower"])


def _contains(frame: pd.DataFrame, est: str, lo: str, hi: str) -> None:
    sub = frame[[est, lo, hi]].dropna()
    assert len(sub) > 0
    bad = sub[(sub[lo] > sub[est] + 1e-9) | (sub[hi] < sub[est] - 1e-9)]
    assert bad.empty, bad


@pytest.mark.parametrize("bootstrap", [0, 200])
def test_every_interval_contains_its_estimate(bootstrap: int) -> None:
    res = fit(_syntax(REF["political_democracy"]["model"]), political_democracy.get_data(),
              bootstrap=bootstrap, seed=3, n_jobs=1)
    assert res.effects["ci.method"].iloc[0] == ("bootstrap percentile" if bootstrap
                                                else "delta")
    for m in EFFECT_MEASURES:
        _contains(res.effects, m, f"{m}.ci.lower", f"{m}.ci.upper")
    free = res.parameters[res.parameters["se"] > 0]
    _contains(free, "est", "ci.lower", "ci.upper")
    _contains(free, "std.all", "std.ci.lower", "std.ci.upper")


def test_bootstrap_is_reproducible() -> None:
    data = political_democracy.get_data()
    model = _syntax(REF["political_democracy"]["model"])
    a = fit(model, data, bootstrap=50, seed=11, n_jobs=1)
    b = fit(model, data, bootstrap=50, seed=11, n_jobs=2)
    pd.testing.assert_frame_equal(a.effects, b.effects)
