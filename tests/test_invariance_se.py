"""``fit(..., se="none")``: the estimates and fit measures of the default fit, no
standard errors (lavaan's ``se = "none"``), as the invariance steps of
:func:`satisfaction.invariance.construct_invariance` use it (issue 12: speed).

The reference is our own default fit, itself tested against lavaan
(tests/test_model*.py, tests/test_invariance.py): skipping the information matrix
must leave every estimate and fit measure as it was (1e-10) and every standard
error, z, p and Wald interval NaN.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from semopy.examples import holzinger39

from satisfaction.errors import UsageError
from satisfaction.model import fit
from tests.test_model_fiml_groups import _hs_missing

ONE_FACTOR = "textual =~ x4 + x5 + x6"
THREE_FACTORS = ("visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\n"
                 "speed =~ x7 + x8 + x9")
NAN_COLUMNS = ["se", "z", "pvalue", "ci.lower", "ci.upper"]


def _same_fit(a, b) -> None:
    """``b`` (se="none") has ``a``'s estimates and fit measures and no SEs."""
    assert np.allclose(a.theta, b.theta, rtol=0, atol=1e-10)
    pa, pb = a.parameters, b.parameters
    assert list(pa["lhs"] + pa["op"] + pa["rhs"]) == list(pb["lhs"] + pb["op"] + pb["rhs"])
    assert np.allclose(pa["est"], pb["est"], rtol=0, atol=1e-10, equal_nan=True)
    assert np.allclose(pa["std.all"], pb["std.all"], rtol=0, atol=1e-10, equal_nan=True)
    assert set(a.fit_measures) == set(b.fit_measures)
    for k, v in a.fit_measures.items():
        w = b.fit_measures[k]
        assert (math.isnan(v) and math.isnan(w)) or abs(v - w) <= 1e-10 * max(1, abs(v)), k
    # the default fit has standard errors for its free parameters (0 for the fixed
    # ones, as lavaan); se="none" none for the free ones, 0 for the fixed ones still
    free = pa["se"].gt(0)
    assert free.sum() >= 3
    assert pb.loc[~free, "se"].equals(pa.loc[~free, "se"])
    for column in NAN_COLUMNS:
        assert pb.loc[free, column].isna().all(), column
    assert b.vcov is None
    assert b.status == a.status
    assert [w.code for w in b.warnings] == [w.code for w in a.warnings]


@pytest.mark.parametrize("equal", [(), ("loadings",), ("loadings", "intercepts")])
def test_multigroup_fiml_without_se_has_the_same_estimates(equal) -> None:
    data = _hs_missing()
    a = fit(ONE_FACTOR, data, group="school", missing="fiml", group_equal=equal)
    b = fit(ONE_FACTOR, data, group="school", missing="fiml", group_equal=equal, se="none")
    _same_fit(a, b)
    assert b.information is None


@pytest.mark.parametrize("equal", [(), ("loadings", "intercepts")])
def test_multigroup_complete_without_se_has_the_same_estimates(equal) -> None:
    data = holzinger39.get_data()
    a = fit(THREE_FACTORS, data, group="school", group_equal=equal)
    b = fit(THREE_FACTORS, data, group="school", group_equal=equal, se="none")
    _same_fit(a, b)


def test_single_group_complete_without_se_has_the_same_estimates() -> None:
    data = holzinger39.get_data()
    _same_fit(fit(THREE_FACTORS, data), fit(THREE_FACTORS, data, se="none"))


def test_without_structural_paths_the_equal_paths_model_is_the_model() -> None:
    """A CFA has no path to hold equal: the test of equal paths is 0 on 0 df, as
    before the equal-paths model was no longer refitted."""
    res = fit(THREE_FACTORS, holzinger39.get_data(), group="school")
    diff = res.groups.chisq_diff
    assert diff["chisq"] == 0 and diff["df"] == 0 and math.isnan(diff["pvalue"])
    assert res.groups.equal_fit == res.fit_measures


def test_with_structural_paths_the_equal_paths_model_is_fitted() -> None:
    res = fit(THREE_FACTORS + "\nspeed ~ visual + textual", holzinger39.get_data(),
              group="school")
    assert res.groups.chisq_diff["df"] == 2
    assert res.groups.chisq_diff["chisq"] > 0


@pytest.mark.parametrize("options, message", [
    ({"se": "robust"}, "se must be 'standard' or 'none'"),
    ({"se": "none", "bootstrap": 10}, "se='none' needs estimator 'ml'"),
    ({"se": "none", "estimator": "mlr"}, "se='none' needs estimator 'ml'"),
    ({"se": "none", "missing": "fiml"}, "not for a single-group FIML fit"),
])
def test_se_option_is_checked(options, message) -> None:
    with pytest.raises(UsageError, match=message):
        fit(ONE_FACTOR, _hs_missing(), **options)


def test_construct_invariance_without_se_matches_the_fits_with_se() -> None:
    """The construct table's Δ CFI and level are those of fits with standard errors."""
    from satisfaction.invariance import _level, _steps

    rows = []
    data = _hs_missing()
    for name, equal in (("configural", ()), ("metric", ("loadings",)),
                        ("scalar", ("loadings", "intercepts"))):
        f = fit(ONE_FACTOR, data, group="school", group_equal=equal, missing="fiml")
        rows.append({"model": name, "cfi": f.fit_measures["cfi"],
                     "chisq": f.fit_measures["chisq"]})
    steps = _steps(ONE_FACTOR, data[["x4", "x5", "x6", "school"]], "school", "fiml")
    want = pd.DataFrame(rows)
    assert np.allclose(steps["chisq"], want["chisq"], rtol=0, atol=1e-10)
    assert np.allclose(steps["cfi"], want["cfi"], rtol=0, atol=1e-10)
    assert _level(steps) in ("configural", "metric", "scalar")


def test_em_moments_are_remembered_per_data_set() -> None:
    """The invariance steps reuse one data set's EM moments: the same numbers as a
    fresh EM, as copies, and a changed value or weight is a new data set."""
    from satisfaction.model import _saturated_moments
    from satisfaction.sem_ml import patterns, saturated_em

    x = _hs_missing()[["x4", "x5", "x6", "x9"]].to_numpy()
    pats = patterns(x)
    mu, sigma = saturated_em(pats, x.shape[1])
    mu1, sigma1 = _saturated_moments(x, None, pats)
    assert np.array_equal(mu1, mu) and np.array_equal(sigma1, sigma)
    mu1[0] = 99.0  # a caller's change does not reach the remembered moments
    mu2, _ = _saturated_moments(x, None, pats)
    assert np.array_equal(mu2, mu)
    y = x.copy()
    y[0, 0] += 1.0
    assert not np.array_equal(_saturated_moments(y, None, patterns(y))[0], mu)
    w = np.linspace(0.5, 1.5, len(x))
    w *= len(x) / w.sum()
    weighted = saturated_em(patterns(x, w), x.shape[1])[0]
    assert np.array_equal(_saturated_moments(x, w, patterns(x, w))[0], weighted)
    assert not np.allclose(weighted, mu, rtol=0, atol=1e-6)
