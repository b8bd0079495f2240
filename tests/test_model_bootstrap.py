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


# -- properties --------------------------------------------------------------------

PD_MODEL = json.loads((REFERENCE / "lavaan_political_democracy.json").read_text())["model"]
HS_MODEL = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"


def _contains(frame: pd.DataFrame, est: str, lo: str, hi: str) -> int:
    sub = frame[[est, lo, hi]].astype(float).dropna()
    bad = sub[(sub[lo] > sub[est] + 1e-9) | (sub[hi] < sub[est] - 1e-9)]
    assert bad.empty, bad
    return len(sub)


@pytest.mark.parametrize("ci", ["perc", "bca.simple", "bca"])
def test_same_seed_same_numbers_and_intervals_contain_estimates(ci: str) -> None:
    d = political_democracy.get_data()
    a = fit(PD_MODEL, d, bootstrap=60, seed=3, ci=ci, n_jobs=1)
    b = fit(PD_MODEL, d, bootstrap=60, seed=3, ci=ci, n_jobs=2)
    assert json.dumps(a.to_dict()) == json.dumps(b.to_dict())
    c = fit(PD_MODEL, d, bootstrap=60, seed=4, ci=ci, n_jobs=2)
    assert not np.allclose(c.parameters["se"], a.parameters["se"])
    free = a.parameters[a.parameters["se"] > 0]
    assert (free["ci.method"] == METHOD[ci]).all()
    assert set(a.parameters.loc[a.parameters["se"] == 0, "ci.method"]) == {"fixed"}
    assert a.effects["ci.method"].iloc[0] == METHOD[ci]
    assert _contains(free, "est", "ci.lower", "ci.upper") == len(free)
    assert _contains(free, "std.all", "std.ci.lower", "std.ci.upper") > 0.9 * len(free)
    for m in ("direct", "indirect", "total", "std.total"):
        _contains(a.effects, m, f"{m}.ci.lower", f"{m}.ci.upper")
    assert a.bootstrap == {"draws": 60, "succeeded": 60, "failed": 0, "seed": 3,
                           "interval": f"{METHOD[ci]} 95%", "ci": ci}


def test_bootstrap_se_is_near_the_wald_se_on_a_well_behaved_model() -> None:
    # 500 draws: a bootstrap se has a sampling error of about se / sqrt(2·500) ≈ 3 %;
    # PoliticalDemocracy (N = 75) is mildly non-normal, so the two differ a little more
    d = political_democracy.get_data()
    wald = fit(PD_MODEL, d)
    boot = fit(PD_MODEL, d, bootstrap=500, seed=5, n_jobs=2)
    free = wald.parameters["se"] > 0
    ratio = boot.parameters.loc[free, "se"] / wald.parameters.loc[free, "se"]
    assert 0.9 < ratio.median() < 1.15
    assert ratio.between(0.75, 1.45).all(), ratio
    paths = wald.parameters.loc[free, "op"].isin(["=~", "~"])
    assert ratio[paths].between(0.8, 1.25).all()
    z = boot.parameters.loc[free, "z"]
    np.testing.assert_allclose(z, boot.parameters.loc[free, "est"]
                               / boot.parameters.loc[free, "se"])


def test_group_bootstrap_is_reproducible_and_stratified() -> None:
    h = holzinger39.get_data()
    a = fit(HS_MODEL, h, group="school", bootstrap=30, seed=9, n_jobs=1)
    b = fit(HS_MODEL, h, group="school", bootstrap=30, seed=9, n_jobs=2)
    assert json.dumps(a.to_dict()) == json.dumps(b.to_dict())
    free = a.parameters[a.parameters["se"] > 0]
    assert (free["ci.method"] == "bootstrap percentile").all()
    assert _contains(free, "est", "ci.lower", "ci.upper") == len(free)
    per = a.groups.per_group["Pasteur"].parameters
    mine = a.parameters[a.parameters["group"] == "Pasteur"]
    np.testing.assert_allclose(per["ci.lower"].to_numpy(float),
                               mine["ci.lower"].to_numpy(float))
    # every draw keeps each group's size: rows of a group are drawn from that group
    idx = resample_indices([156, 145], 30, 9)
    assert (idx[:, :156] < 156).all() and (idx[:, 156:] >= 156).all()


def test_cli_fit_ci(tmp_path) -> None:
    from satisfaction.cli import main

    model = tmp_path / "hs.lav"
    model.write_text(HS_MODEL)
    csv = tmp_path / "hs.csv"
    holzinger39.get_data().to_csv(csv, index=False)
    out = tmp_path / "hs.json"
    assert main(["fit", str(model), str(csv), "--group", "school", "--bootstrap", "20",
                 "--seed", "1", "--ci", "bca.simple", "--jobs", "1", "--json", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert doc["bootstrap"]["ci"] == "bca.simple"
    assert {p["ci.method"] for p in doc["parameters"] if p["se"]} == {"bootstrap bca.simple"}
    assert main(["fit", str(model), str(csv), "--bootstrap", "20", "--ci", "bc"]) == 2


# -- full-information ML (lavaan_fiml_bootstrap.R) ----------------------------------

FIML_CASES = {"single": ([301], 60, 20261201, None), "groups": ([156, 145], 40, 11, "school")}


def fiml_data() -> pd.DataFrame:
    """The rows and deletion rule of lavaan_fiml_bootstrap.R (Pasteur first)."""
    d = holzinger39.get_data()
    d = pd.concat([d[d["school"] == "Pasteur"], d[d["school"] == "Grant-White"]]).copy()
    d.loc[d["id"] % 7 == 0, "x9"] = np.nan
    d.loc[d["id"] % 11 == 0, "x5"] = np.nan
    d.loc[d["id"] % 13 == 0, "x6"] = np.nan
    return d


def test_fiml_resamples_are_the_ones_lavaan_refitted() -> None:
    for case, (sizes, draws, seed, _) in FIML_CASES.items():
        committed = np.loadtxt(REFERENCE / f"lavaan_fiml_bootstrap_{case}_indices.csv",
                               delimiter=",", dtype=int)
        np.testing.assert_array_equal(resample_indices(sizes, draws, seed), committed)


@pytest.mark.parametrize("case, ci", [("single", "perc"), ("single", "bca.simple"),
                                      ("groups", "perc")])
def test_fiml_bootstrap_equals_lavaan_on_the_same_resamples(case: str, ci: str) -> None:
    """Every draw refits the casewise likelihood on the resampled respondents (missing
    answers and all), as lavaan's se = "bootstrap" with missing = "ml": bootstrap
    SEs (divisor B) and percentile / bca.simple intervals of every free parameter,
    intercepts included, to 1e-4."""
    _, draws, seed, group = FIML_CASES[case]
    ref = json.loads((REFERENCE / f"lavaan_fiml_bootstrap_{case}.json").read_text())
    assert ref["lavaan_version"] == "0.6.14" and ref["draws"] == draws
    res = fit(ref["model"], fiml_data(), missing="fiml", bootstrap=draws, seed=seed,
              group=group, ci=ci, n_jobs=2)
    assert res.bootstrap["succeeded"] == draws and res.bootstrap["failed"] == 0
    key = KEY + (["group"] if group else [])
    theirs = pd.DataFrame(ref["parameters"])
    if group is None:
        theirs = theirs.drop(columns="group")
    m = theirs.merge(res.parameters, on=key, suffixes=("_lavaan", ""))
    assert len(m) == len(theirs) == len(res.parameters)
    free = m[m["se_lavaan"] > 0]
    assert len(free) == (23 if group is None else 46) - (2 if group is None else 4) * 2
    assert set(free["ci.method"]) == {METHOD[ci]}
    for ours, lavaan in (("est", "est_lavaan"), ("se", "se_lavaan"),
                         ("ci.lower", f"{ci}.lower"), ("ci.upper", f"{ci}.upper")):
        assert (free[ours] - free[lavaan]).abs().max() < 1e-4, ours
