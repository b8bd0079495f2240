"""PLS group analysis (satisfaction.pls_groups): MICOM, permutation test, PLS-MGA.

References used (no seminr/cSEM here):

- a naive second implementation, ``reference/pls_groups_reference.py`` (every fit
  by the naive PLS of ``pls_reference.py``, ``c`` from score vectors, R type-7
  quantiles written out, p-values by counting, the PLS-MGA probability by a
  double loop), fed the same permutations;
- properties: identical groups give ``c = 1``, zero differences and p = 1; a
  planted path difference is found; under equal populations the permutation
  test, PLS-MGA and MICOM step 2 reject at about their nominal 5 %.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from satisfaction.pls import bootstrap_pls, pls
from satisfaction.pls_groups import (
    compare_pair,
    mga_probability,
    minimum_group_size,
    permutation_indices,
    pls_groups,
)
from tests.reference.pls_groups_reference import (
    as_lists,
    naive_compare,
    naive_mga_probability,
    quantile7,
)

from .conftest import SHARED

BANK = SHARED / "bank_satisfaction.csv"
pytestmark = pytest.mark.skipif(not BANK.exists(), reason="shared bank data not present")

#: A part of the bank ECSI model with a formative block and a single item.
SMALL_BLOCKS = {"IMAG": ["imag1", "imag2", "imag3", "imag4", "imag5"],
                "EXPE": ["expe1", "expe2", "expe3"],
                "SAT": ["sat1", "sat2", "sat3", "sat4"],
                "LOY": ["loy1"]}
SMALL_MODES = {"IMAG": "A", "EXPE": "B", "SAT": "A", "LOY": "A"}
SMALL_PATHS = [("IMAG", "EXPE"), ("IMAG", "SAT"), ("EXPE", "SAT"), ("SAT", "LOY")]
SMALL = """IMAG =~ imag1 + imag2 + imag3 + imag4 + imag5
EXPE <~ expe1 + expe2 + expe3
SAT =~ sat1 + sat2 + sat3 + sat4
LOY =~ loy1
EXPE ~ IMAG
SAT ~ IMAG + EXPE
LOY ~ SAT
"""
FULL = """IMAG =~ imag1 + imag2 + imag3 + imag4 + imag5
EXPE =~ expe1 + expe2 + expe3 + expe4 + expe5
QUAL =~ qual1 + qual2 + qual3 + qual4 + qual5
VAL =~ val1 + val2 + val3 + val4
SAT =~ sat1 + sat2 + sat3 + sat4
LOY =~ loy1 + loy2 + loy3 + loy4
EXPE ~ IMAG
QUAL ~ EXPE
VAL ~ EXPE + QUAL
SAT ~ IMAG + EXPE + QUAL + VAL
LOY ~ IMAG + SAT
"""


@pytest.fixture(scope="module")
def bank() -> pd.DataFrame:
    return pd.read_csv(BANK)


def _by_gender(bank: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    a = bank[bank["gender"] == "male"].reset_index(drop=True)
    b = bank[bank["gender"] == "female"].reset_index(drop=True)
    return a, b


# -- against the naive implementation ------------------------------------------------

def test_micom_and_permutation_test_match_naive(bank) -> None:
    a, b = _by_gender(bank)
    perms = permutation_indices(len(a) + len(b), 20, seed=11)
    fa = pls(SMALL, a, tol=1e-10)
    fb = pls(SMALL, b, tol=1e-10)
    got = compare_pair(SMALL, a, b, fa, fb, perms, a="male", b="female", tol=1e-10)
    ref = naive_compare(a, b, SMALL_BLOCKS, SMALL_MODES, SMALL_PATHS, as_lists(perms),
                        tol=1e-10)
    assert got.permutations_failed == 0
    micom = got.micom.set_index("construct")
    for c, r in ref["micom"].items():
        for key in ("c", "c.quantile", "mean.diff", "mean.lower", "mean.upper", "logvar.diff",
                    "logvar.lower", "logvar.upper"):
            assert micom.loc[c, key] == pytest.approx(r[key], abs=1e-6), (c, key)
        for key in ("c.p", "mean.p", "logvar.p"):
            assert micom.loc[c, key] == pytest.approx(r[key], abs=1e-12), (c, key)
        assert micom.loc[c, "compositional"] == r["compositional"], c
        assert micom.loc[c, "invariance"] == r["invariance"], c
    # the single item has c = 1 by definition; the naive score correlation agrees
    assert micom.loc["LOY", "c"] == 1.0 and ref["micom"]["LOY"]["c"] == pytest.approx(1.0)
    paths = got.paths.set_index(["from", "to"])
    for k, r in ref["paths"].items():
        frm, to = k.split("->")
        for key in ("est.a", "est.b", "diff"):
            assert paths.loc[(frm, to), key] == pytest.approx(r[key], abs=1e-6), (k, key)
        assert paths.loc[(frm, to), "p.permutation"] == r["p.permutation"], k
    # not bootstrapped: no PLS-MGA probability
    assert paths["pr.a.le.b"].isna().all()


def test_mga_probability_matches_double_loop(bank) -> None:
    a, b = _by_gender(bank)
    fa = bootstrap_pls(pls(SMALL, a), 60, seed=1)
    fb = bootstrap_pls(pls(SMALL, b), 70, seed=2)
    keys = list(zip(fa.bootstrap["kind"], fa.bootstrap["from"], fa.bootstrap["to"],
                    strict=True))
    for frm, to in SMALL_PATHS:
        k = keys.index(("path", frm, to))
        da, db = fa.bootstrap_draws[:, k], fb.bootstrap_draws[:, k]
        ea = float(fa.paths.set_index(["from", "to"]).loc[(frm, to), "est"])
        eb = float(fb.paths.set_index(["from", "to"]).loc[(frm, to), "est"])
        assert mga_probability(da, db, ea, eb) == pytest.approx(
            naive_mga_probability(list(da), list(db), ea, eb), abs=1e-12)
    # ties count one half; centring moves each distribution onto its estimate
    assert mga_probability(np.array([0.0, 1.0]), np.array([0.0, 1.0]), 0.5, 0.5) == 0.5
    assert mga_probability(np.array([5.0, 6.0]), np.array([0.0, 1.0]), 0.0, 2.0) == 1.0


def test_quantile7_is_numpy_linear() -> None:
    v = list(np.random.default_rng(3).normal(size=37))
    for p in (0.025, 0.05, 0.5, 0.975):
        assert quantile7(v, p) == pytest.approx(float(np.quantile(v, p)), abs=1e-14)


# -- properties -------------------------------------------------------------------------

def test_identical_groups(bank) -> None:
    """The same respondents twice: c = 1, no differences, every p = 1."""
    cols = [x for items in SMALL_BLOCKS.values() for x in items]
    half = bank[cols].iloc[:120]
    data = pd.concat([half.assign(g="x"), half.assign(g="y")], ignore_index=True)
    r = pls_groups(SMALL, data, "g", permutations=50, draws=50, seed=4)
    micom = r.micom()
    assert np.allclose(micom["c"], 1.0, atol=1e-12)
    assert (micom["mean.diff"] == 0).all() and (micom["logvar.diff"] == 0).all()
    assert (micom["mean.p"] == 1).all() and (micom["logvar.p"] == 1).all()
    assert (micom["invariance"] == "full").all()
    mga = r.mga()
    assert (mga["diff"] == 0).all() and (mga["p.permutation"] == 1).all()
    assert (mga["p.mga"] > 0.5).all()


def _simulate(rng: np.random.Generator, n: int, beta: float) -> pd.DataFrame:
    f1 = rng.normal(size=n)
    f2 = beta * f1 + np.sqrt(1 - beta**2) * rng.normal(size=n)
    cols = {}
    for name, f in (("a", f1), ("b", f2)):
        for k in range(1, 4):
            cols[f"{name}{k}"] = 0.8 * f + 0.6 * rng.normal(size=n)
    return pd.DataFrame(cols)


SIM = "F1 =~ a1 + a2 + a3\nF2 =~ b1 + b2 + b3\nF2 ~ F1\n"


def test_planted_difference_is_found() -> None:
    rng = np.random.default_rng(20)
    data = pd.concat([_simulate(rng, 150, 0.7).assign(g="high"),
                      _simulate(rng, 150, 0.2).assign(g="low")], ignore_index=True)
    r = pls_groups(SIM, data, "g", permutations=200, draws=200, seed=1)
    row = r.mga().iloc[0]
    assert row["diff"] == pytest.approx(0.5, abs=0.15)
    assert row["p.permutation"] < 0.01 and row["p.mga"] < 0.01 and row["pr.a.le.b"] < 0.01
    # the reverse labelling flips the direction: Pr(low <= high) near 1
    s = pd.concat([data[data["g"] == "low"], data[data["g"] == "high"]], ignore_index=True)
    back = pls_groups(SIM, s, "g", permutations=50, draws=200, seed=1).mga().iloc[0]
    assert back["group.a"] == "low" and back["pr.a.le.b"] > 0.99
    assert back["diff"] == pytest.approx(-row["diff"], abs=1e-12)


def test_type_one_error_near_nominal() -> None:
    """Equal populations: the permutation test, PLS-MGA and MICOM steps 2, 3a and 3b
    reject at about their nominal 5 %."""
    rng = np.random.default_rng(7)
    m = SIM
    perm_p, mga_p, comp, means, variances = [], [], [], [], []
    reps = 80
    for rep in range(reps):
        a, b = _simulate(rng, 100, 0.4), _simulate(rng, 100, 0.4)
        fa = bootstrap_pls(pls(m, a), 80, seed=rep)
        fb = bootstrap_pls(pls(m, b), 80, seed=10_000 + rep)
        pair = compare_pair(m, a, b, fa, fb, permutation_indices(200, 80, seed=rep))
        perm_p.append(pair.paths["p.permutation"].iloc[0])
        mga_p.append(pair.paths["p.mga"].iloc[0])
        comp += list(~pair.micom["compositional"])
        means += list(~pair.micom["mean.equal"])
        variances += list(~pair.micom["var.equal"])
    rates = {"permutation": np.mean(np.array(perm_p) < 0.05),
             "PLS-MGA": np.mean(np.array(mga_p) < 0.05), "MICOM step 2": np.mean(comp),
             "MICOM step 3a": np.mean(means), "MICOM step 3b": np.mean(variances)}
    print(rates)
    for name, rate in rates.items():
        assert 0.0 < rate < 0.125, (name, rate)


def test_seed_reproducible_and_group_estimates(bank) -> None:
    r1 = pls_groups(SMALL, bank, "gender", permutations=40, draws=30, seed=9)
    r2 = pls_groups(SMALL, bank, "gender", permutations=40, draws=30, seed=9)
    assert json.dumps(r1.to_dict(), default=str) == json.dumps(r2.to_dict(), default=str)
    male = pls(SMALL, bank[bank["gender"] == "male"])
    assert np.allclose(r1.fits["male"].paths["est"], male.paths["est"], atol=1e-12)
    assert r1.labels == ["male", "female"] and not r1.pairwise
    assert r1.group_paths()["male"].tolist() == pytest.approx(male.paths["est"].tolist())


def test_consistent_paths_in_groups(bank) -> None:
    r = pls_groups(SMALL, bank, "gender", permutations=20, draws=20, seed=1, consistent=True)
    female = pls(SMALL, bank[bank["gender"] == "female"], consistent=True)
    got = r.mga().set_index(["from", "to"])["est.b"]
    want = female.paths.set_index(["from", "to"])["est"]
    assert np.allclose(got.loc[want.index], want, atol=1e-12)


# -- groups left out, more than two groups -----------------------------------------------

def test_small_group_missing_label_and_pairwise(bank) -> None:
    data = bank.copy()
    data["region"] = np.where(np.arange(len(data)) % 2 == 0, "north", "south")
    data.loc[data.index[:80], "region"] = "east"
    data.loc[data.index[80:85], "region"] = "tiny"
    data.loc[data.index[85:88], "region"] = np.nan
    data.loc[data.index[88], "sat1"] = np.nan
    assert minimum_group_size(pls(SMALL, bank).model) == 30  # 3 formative indicators
    r = pls_groups(SMALL, data, "region", permutations=20, draws=20, seed=2)
    assert r.labels == ["east", "south", "north"]
    assert r.excluded == {"missing_group": 3, "missing_indicator": 1, "group_too_small": 5,
                          "constant_items": 0}
    codes = {w.code: w for w in r.warnings}
    assert codes["pls_group_too_small"].params == {"group": "tiny", "column": "region", "n": 5,
                                                   "min": 30}
    assert codes["pls_groups_pairwise"].params == {"k": 3, "pairs": 3}
    assert codes["pls_group_missing"].params["n"] == 3
    assert [(p.a, p.b) for p in r.pairs] == [("east", "south"), ("east", "north"),
                                             ("south", "north")]
    assert sum(r.fits[g].n for g in r.labels) == len(data) - 3 - 1 - 5
    assert set(r.mga()["group.a"]) == {"east", "south"}
    for w in r.warnings:  # every diagnostic renders in both languages
        assert w.text("en") and w.text("zh")


def test_refusals(bank) -> None:
    from satisfaction.errors import UsageError

    with pytest.raises(UsageError, match=r"--group.*not a column"):
        pls_groups(SMALL, bank, "nope")
    with pytest.raises(UsageError, match="--permutations"):
        pls_groups(SMALL, bank, "gender", permutations=5)
    one = bank.assign(gender="male")
    with pytest.raises(UsageError, match="at least two groups"):
        pls_groups(SMALL, one, "gender", permutations=20, draws=20)
    # an id column as the group: every group too small, the message stays short
    with pytest.raises(UsageError, match=r"R010 \(1\) and 240 more groups") as err:
        pls_groups(SMALL, bank, "respondent", permutations=20, draws=20)
    assert len(str(err.value)) < 400


# -- command line ---------------------------------------------------------------------

def test_cli_fit_pls_group(tmp_path, bank, capsys) -> None:
    from satisfaction.cli import main

    model = tmp_path / "bank.lav"
    model.write_text(FULL)
    out = tmp_path / "groups.json"
    code = main(["fit", str(model), str(BANK), "--estimator", "pls", "--group", "gender",
                 "--permutations", "40", "--bootstrap", "30", "--seed", "5", "--json",
                 str(out)])
    assert code == 0
    got = json.loads(out.read_text())
    assert {"groups", "micom", "mga"} <= set(got)
    assert set(got["groups"]) == {"male", "female"}
    assert got["groups"]["male"]["n"] + got["groups"]["female"]["n"] == 250
    assert len(got["micom"]) == 6 and len(got["mga"]) == 10
    assert {r["invariance"] for r in got["micom"]} <= {"full", "partial", "no"}
    male = pls(FULL, bank[bank["gender"] == "male"])
    row = next(r for r in got["mga"] if r["from"] == "SAT" and r["to"] == "LOY")
    want = male.paths.set_index(["from", "to"]).loc[("SAT", "LOY"), "est"]
    assert row["est.a"] == pytest.approx(want, abs=1e-9)
    text = capsys.readouterr().out
    assert "MICOM" in text and "PLS-MGA" in text
    # bad options and columns: exit 2 with the option named
    assert main(["fit", str(model), str(BANK), "--estimator", "pls", "--group", "nope"]) == 2
    assert "--group" in capsys.readouterr().err
    assert main(["fit", str(model), str(BANK), "--estimator", "pls", "--group", "gender",
                 "--permutations", "3"]) == 2
    assert "--permutations" in capsys.readouterr().err
    assert main(["fit", str(model), str(BANK), "--permutations", "50"]) == 2  # not PLS groups
    assert "--permutations" in capsys.readouterr().err
    assert main(["fit", str(model), str(BANK), "--estimator", "pls", "--group", "gender",
                 "--group-equal", "loadings"]) == 2
    assert "--group-equal" in capsys.readouterr().err


def test_constant_item_in_a_group_leaves_it_out(bank) -> None:
    data = bank.copy()
    data["g"] = np.repeat(["p", "q", "r"], [90, 80, 80])
    data.loc[data["g"] == "r", "loy1"] = 5
    r = pls_groups(SMALL, data, "g", permutations=20, draws=20, seed=3)
    assert r.labels == ["p", "q"] and r.excluded["constant_items"] == 80
    d = next(w for w in r.warnings if w.code == "pls_group_constant_items")
    assert d.params == {"group": "r", "items": ["loy1"]} and "loy1" in d.text("en")


def test_every_permutation_failing_is_said(bank) -> None:
    """max_iter = 1: nothing converges; the result says so instead of deciding."""
    r = pls_groups(SMALL, bank, "gender", permutations=20, draws=20, seed=1, max_iter=1)
    codes = {w.code: w for w in r.warnings}
    assert codes["pls_permutation_failed"].severity == "invalidates"
    assert codes["pls_permutation_failed"].params["failed"] == 20
    assert codes["pls_group_not_converged"].severity == "invalidates"
    assert r.status == "invalid"
    assert set(r.micom()["invariance"]) == {"no"}  # configural fails: not converged
    assert r.mga()["p.permutation"].isna().all() and not r.mga()["comparable"].any()


def test_no_permutation_leaves_micom_undetermined(bank) -> None:
    a, b = _by_gender(bank)
    pair = compare_pair(SMALL, a, b, pls(SMALL, a), pls(SMALL, b),
                        np.zeros((0, len(a) + len(b)), dtype=int))
    micom = pair.micom.set_index("construct")
    assert set(micom["invariance"]) == {"undetermined"}
    assert micom.loc["IMAG", ["c.quantile", "mean.lower", "mean.p"]].isna().all()
    assert 0.9 < micom.loc["IMAG", "c"] <= 1.0  # the observed statistics are still given
    assert pair.paths["p.permutation"].isna().all() and not pair.paths["comparable"].any()
