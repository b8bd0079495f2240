"""Bootstrap standard errors and intervals of :func:`satisfaction.model.fit`.

lavaan's own bootstrap draws with R's RNG, so its numbers cannot be ours. The
reference instead fixes the resamples: tests/reference/lavaan_bootstrap_indices.py
writes the draws that ``fit(..., bootstrap=B, seed=SEED)`` makes, and
tests/reference/lavaan_bootstrap.R refits lavaan 0.6 on exactly those rows and
lets ``parameterEstimates(boot.ci.type = "perc" | "bca.simple")`` and lavaan's
bootstrap standard errors work on them (BCa: the jackknife acceleration from
lavaan's leave-one-out refits). Tolerance 1e-3.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from semopy.examples import holzinger39, political_democracy

from satisfaction.model import fit, resample_indices
from tests.conftest import REFERENCE

TOL = 1e-3
CASES = {"single": ([75], 100, 20240613), "groups": ([156, 145], 60, 7)}
KEY = ["lhs", "op", "rhs"]
METHOD = {"perc": "bootstrap percentile", "bca.simple": "bootstrap bca.simple",
          "bca": "bootstrap BCa"}


def reference(case: str) -> dict:
    return json.loads((REFERENCE / f"lavaan_bootstrap_{case}.json").read_text())


def data(case: str) -> tuple[pd.DataFrame, str | None]:
    if case == "single":
        return political_democracy.get_data(), None
    return holzinger39.get_data(), "school"


@pytest.fixture(scope="module")
def fits() -> dict:
    out = {}
    for case, (_, draws, seed) in CASES.items():
        frame, group = data(case)
        cis = ("perc", "bca.simple", "bca") if case == "single" else ("perc", "bca.simple")
        out[case] = {ci: fit(reference(case)["model"], frame, group=group, bootstrap=draws,
                             seed=seed, ci=ci, n_jobs=2) for ci in cis}
    return out


def _merged(ours: pd.DataFrame, theirs: list[dict], case: str) -> pd.DataFrame:
    ref = pd.DataFrame(theirs)
    ref["rhs"] = ref["rhs"].fillna("")
    key = KEY
    if case == "groups":
        labels = reference(case)["group_labels"]
        ref["group"] = [labels[int(g) - 1] if int(g) > 0 else None for g in ref["group"]]
        key = [*KEY, "group"]
    else:
        ref = ref.drop(columns="group")
    ref = ref.rename(columns={c: f"ref.{c}" for c in ref.columns if c not in key})
    merged = ours.merge(ref, on=key, how="inner")
    assert len(merged) >= len(ours) - (ours["op"] == ":=").sum() * (case == "groups")
    return merged


def _max_diff(a: pd.Series, b: pd.Series) -> float:
    a, b = a.astype(float).to_numpy(), b.astype(float).to_numpy()
    both = np.isfinite(a) & np.isfinite(b)
    assert (both == np.isfinite(b)).all(), "an interval lavaan gives is missing"
    return float(np.max(np.abs(a[both] - b[both])))


def test_resamples_are_the_ones_lavaan_refitted() -> None:
    for case, (sizes, draws, seed) in CASES.items():
        committed = np.loadtxt(REFERENCE / f"lavaan_bootstrap_{case}_indices.csv",
                               delimiter=",", dtype=int)
        np.testing.assert_array_equal(resample_indices(sizes, draws, seed), committed)


@pytest.mark.parametrize("case", list(CASES))
def test_bootstrap_se_and_intervals_equal_lavaan_on_the_same_resamples(fits: dict,
                                                                       case: str) -> None:
    ref = reference(case)
    for ci, res in fits[case].items():
        assert res.bootstrap["succeeded"] == ref["draws"]
        free = res.parameters[(res.parameters["se"] > 0) | (res.parameters["op"] == ":=")]
        m = _merged(free, ref["parameters"], case)
        assert len(m) == len(free)
        assert _max_diff(m["est"], m["ref.est"]) < 1e-4  # lavaan stops at ~1e-5
        assert _max_diff(m["se"], m["ref.se"]) < TOL
        side = {"perc": "perc", "bca.simple": "bca.simple", "bca": "bca"}[ci]
        assert _max_diff(m["ci.lower"], m[f"ref.{side}.lower"]) < TOL, ci
        assert _max_diff(m["ci.upper"], m[f"ref.{side}.upper"]) < TOL, ci
        assert set(m["ci.method"]) == {METHOD[ci]}
        std = _merged(res.parameters[res.parameters["op"] != ":="], ref["standardized"], case)
        std = std[std["se"] > 0]
        assert _max_diff(std["std.all"], std["ref.est.std"]) < 1e-4
        assert _max_diff(std["std.ci.lower"], std[f"ref.{side}.lower"]) < TOL, ci
        assert _max_diff(std["std.ci.upper"], std[f"ref.{side}.upper"]) < TOL, ci
