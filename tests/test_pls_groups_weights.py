"""Respondent weights in the PLS group analysis (satisfaction.pls_groups, issue 17).

References:

(a) constant weights reproduce the unweighted analysis: group estimates, MICOM and
    the permutation and PLS-MGA p-values with the same seed (1e-10);
(b) frequency weights: with integer weights each group's estimates (weights,
    loadings, paths, R²) equal those of the data with every respondent repeated
    ``w`` times, and so does MICOM's compositional correlation ``c`` (1e-10);
(c) a loop implementation written here: for every permutation both permuted
    groups are fitted by :func:`satisfaction.pls.pls` with the weights of the
    respondents they receive, ``c_u`` is the weighted correlation of the two
    composites over the pooled respondents and the composite means and variances
    are the groups' weighted ones (``numpy.average``); the permutation p-values,
    quantiles and intervals of :func:`compare_pair` equal it to 1e-12.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from satisfaction.pls import bootstrap_pls, pls
from satisfaction.pls_groups import compare_pair, permutation_indices, pls_groups

from .conftest import SHARED

BANK = SHARED / "bank_satisfaction.csv"
REF = Path(__file__).parent / "reference"
MODEL = """IMAG =~ imag1 + imag2 + imag3 + imag4 + imag5
EXPE <~ expe1 + expe2 + expe3
SAT =~ sat1 + sat2 + sat3 + sat4
LOY =~ loy1
EXPE ~ IMAG
SAT ~ IMAG + EXPE
LOY ~ SAT
"""
COLS = ["imag1", "imag2", "imag3", "imag4", "imag5", "expe1", "expe2", "expe3",
        "sat1", "sat2", "sat3", "sat4", "loy1"]
CONSTRUCTS = ["IMAG", "EXPE", "SAT", "LOY"]
BLOCKS = {"IMAG": COLS[:5], "EXPE": COLS[5:8], "SAT": COLS[8:12], "LOY": COLS[12:]}


@pytest.fixture(scope="module")
def bank() -> pd.DataFrame:
    return pd.read_csv(BANK)


@pytest.fixture(scope="module")
def raking(bank) -> np.ndarray:
    """The bank survey's raking weights (R survey::rake, reference/survey_weights.json)."""
    ref = json.loads((REF / "survey_weights.json").read_text())
    assert ref["rake"]["respondent"] == bank["respondent"].tolist()
    return np.asarray(ref["rake"]["weights"], dtype=float)


def _numbers(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.select_dtypes("number")


def test_constant_weights_reproduce_unweighted(bank) -> None:
    plain = pls_groups(MODEL, bank, "gender", permutations=40, draws=40, seed=5)
    const = pls_groups(MODEL, bank, "gender", permutations=40, draws=40, seed=5,
                       weights=np.full(len(bank), 3.5))
    assert const.settings["weighted"] and not plain.settings["weighted"]
    assert const.labels == plain.labels
    for g in plain.labels:
        for table in ("weights", "loadings", "paths"):
            np.testing.assert_allclose(getattr(const.fits[g], table)["est"],
                                       getattr(plain.fits[g], table)["est"], atol=1e-10)
        np.testing.assert_allclose(const.fits[g].bootstrap_draws,
                                   plain.fits[g].bootstrap_draws, atol=1e-10)
    pd.testing.assert_frame_equal(_numbers(const.micom()), _numbers(plain.micom()),
                                  atol=1e-10, rtol=0)
    assert (const.micom()["invariance"] == plain.micom()["invariance"]).all()
    pd.testing.assert_frame_equal(_numbers(const.mga()), _numbers(plain.mga()),
                                  atol=1e-10, rtol=0)
    info = [d for d in const.warnings if d.code == "pls_groups_weighted"]
    assert len(info) == 1 and info[0].params["design_effect"] == 1.0
    assert "pls_groups_weighted" not in {d.code for d in plain.warnings}


def test_integer_weights_equal_repeated_rows(bank) -> None:
    freq = np.random.default_rng(29).integers(1, 5, size=len(bank))
    weighted = pls_groups(MODEL, bank, "gender", permutations=20, draws=20, seed=1,
                          weights=freq)
    repeated = pls_groups(MODEL, bank.loc[bank.index.repeat(freq)].reset_index(drop=True),
                          "gender", permutations=20, draws=20, seed=1)
    for g in repeated.labels:
        a, b = weighted.fits[g], repeated.fits[g]
        assert a.n == int((bank["gender"] == g).sum()) and b.n == int(freq[bank["gender"] == g]
                                                                      .sum())
        for table in ("weights", "loadings", "paths"):
            np.testing.assert_allclose(getattr(a, table)["est"], getattr(b, table)["est"],
                                       atol=1e-10)
        np.testing.assert_allclose(a.r2["r2"], b.r2["r2"], atol=1e-10)
    np.testing.assert_allclose(weighted.micom()["c"], repeated.micom()["c"], atol=1e-10)
    np.testing.assert_allclose(weighted.mga()["diff"], repeated.mga()["diff"], atol=1e-10)


def _weighted_cor(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> float:
    mx, my = np.average(x, weights=w), np.average(y, weights=w)
    return float(np.sum(w * (x - mx) * (y - my))
                 / np.sqrt(np.sum(w * (x - mx) ** 2) * np.sum(w * (y - my) ** 2)))


def _weighted_var(y: np.ndarray, w: np.ndarray) -> float:
    """Σ w (y − ȳ_w)² / Σ w · n/(n − 1) (the weights rescaled to sum to n, divisor n − 1)."""
    return float(np.average((y - np.average(y, weights=w)) ** 2, weights=w)
                 * y.size / (y.size - 1))


def _block_weights(fit) -> dict[str, np.ndarray]:
    table = fit.weights.set_index("indicator")["est"]
    return {c: table.loc[BLOCKS[c]].to_numpy() for c in CONSTRUCTS}


def test_weighted_permutations_match_a_loop(bank, raking) -> None:
    a = bank[bank["gender"] == "male"].reset_index(drop=True)
    b = bank[bank["gender"] == "female"].reset_index(drop=True)
    wa, wb = raking[bank["gender"] == "male"], raking[bank["gender"] == "female"]
    fit_a, fit_b = pls(MODEL, a, weights=wa), pls(MODEL, b, weights=wb)
    bootstrap_pls(fit_a, 30, seed=1)
    bootstrap_pls(fit_b, 30, seed=2)
    n_a, n = len(a), len(a) + len(b)
    perms = permutation_indices(n, 40, 11)
    pair = compare_pair(MODEL, a, b, fit_a, fit_b, perms, w_a=wa, w_b=wb)
    assert pair.permutations_failed == 0

    # the loop: every permuted group refitted by pls() with its respondents' weights
    pooled = pd.concat([a[COLS], b[COLS]], ignore_index=True).astype(float)
    w = np.concatenate([wa, wb])
    x = pooled.to_numpy()
    mean = np.average(x, axis=0, weights=w)
    X = (x - mean) / np.sqrt(np.average((x - mean) ** 2, axis=0, weights=w))
    scores = pls(MODEL, pooled, weights=w).scores[CONSTRUCTS].to_numpy()
    paths = fit_a.paths[["from", "to"]].to_records(index=False).tolist()

    def diffs(rows_a: np.ndarray, rows_b: np.ndarray, ga, gb) -> dict[str, np.ndarray]:
        ba = ga.paths.set_index(["from", "to"])["est"]
        bb = gb.paths.set_index(["from", "to"])["est"]
        ka, kb = _block_weights(ga), _block_weights(gb)
        idx = {c: [COLS.index(i) for i in BLOCKS[c]] for c in CONSTRUCTS}
        ya, yb = scores[rows_a], scores[rows_b]
        return {
            "path": np.array([ba[p] - bb[p] for p in paths]),
            "c": np.array([_weighted_cor(X[:, idx[c]] @ ka[c], X[:, idx[c]] @ kb[c], w)
                           for c in CONSTRUCTS]),
            "mean": np.array([np.average(ya[:, j], weights=w[rows_a])
                              - np.average(yb[:, j], weights=w[rows_b]) for j in range(4)]),
            "logvar": np.array([np.log(_weighted_var(ya[:, j], w[rows_a]))
                                - np.log(_weighted_var(yb[:, j], w[rows_b]))
                                for j in range(4)]),
        }

    observed = diffs(np.arange(n_a), np.arange(n_a, n), fit_a, fit_b)
    loop: dict[str, list[np.ndarray]] = {k: [] for k in observed}
    for perm in perms:
        ra, rb = perm[:n_a], perm[n_a:]
        got = diffs(ra, rb, pls(MODEL, pooled.iloc[ra], weights=w[ra]),
                    pls(MODEL, pooled.iloc[rb], weights=w[rb]))
        for k, v in got.items():
            loop[k].append(v)
    u = {k: np.array(v) for k, v in loop.items()}

    def p_two_sided(obs: np.ndarray, perm: np.ndarray) -> np.ndarray:
        return np.array([np.mean([abs(d) >= abs(o) - 1e-12 for d in perm[:, j]])
                         for j, o in enumerate(obs)])

    np.testing.assert_allclose(pair.paths["diff"], observed["path"], atol=1e-12)
    np.testing.assert_allclose(pair.paths["p.permutation"],
                               p_two_sided(observed["path"], u["path"]), atol=1e-12)
    mic = pair.micom.set_index("construct").loc[CONSTRUCTS]
    multi = [c for c in CONSTRUCTS if len(BLOCKS[c]) > 1]
    j = [CONSTRUCTS.index(c) for c in multi]
    np.testing.assert_allclose(mic.loc[multi, "c"], observed["c"][j], atol=1e-12)
    np.testing.assert_allclose(mic.loc[multi, "c.quantile"],
                               np.quantile(u["c"][:, j], 0.05, axis=0), atol=1e-12)
    np.testing.assert_allclose(mic.loc[multi, "c.p"],
                               (u["c"][:, j] <= observed["c"][j] + 1e-12).mean(axis=0),
                               atol=1e-12)
    for key, col in (("mean", "mean"), ("logvar", "logvar")):
        np.testing.assert_allclose(mic[f"{col}.diff"], observed[key], atol=1e-12)
        np.testing.assert_allclose(mic[f"{col}.p"], p_two_sided(observed[key], u[key]),
                                   atol=1e-12)
        np.testing.assert_allclose(mic[f"{col}.lower"],
                                   np.quantile(u[key], 0.025, axis=0), atol=1e-12)
        np.testing.assert_allclose(mic[f"{col}.upper"],
                                   np.quantile(u[key], 0.975, axis=0), atol=1e-12)
    # the weighted and unweighted analyses differ (the weights do something)
    plain = compare_pair(MODEL, a, b, pls(MODEL, a), pls(MODEL, b), perms)
    assert np.abs(plain.paths["diff"] - pair.paths["diff"]).max() > 1e-3


def test_cli_fit_pls_group_with_weights(tmp_path, bank, raking, capsys) -> None:
    """`fit --estimator pls --weights COL --group COL` runs the weighted analysis (the
    same numbers as the Python call); a respondent without a weight is counted."""
    from satisfaction.cli import main

    model = tmp_path / "m.lav"
    model.write_text(MODEL)
    data = bank.assign(w=raking)
    data.loc[3, "w"] = np.nan
    csv = tmp_path / "w.csv"
    data.to_csv(csv, index=False)
    out = tmp_path / "groups.json"
    assert main(["fit", str(model), str(csv), "--estimator", "pls", "--group", "gender",
                 "--weights", "w", "--permutations", "20", "--bootstrap", "20", "--seed", "4",
                 "--json", str(out)]) == 0
    got = json.loads(out.read_text())
    assert got["settings"]["weighted"] is True and got["excluded"]["no_weight"] == 1
    want = pls_groups(MODEL, pd.read_csv(csv), "gender", permutations=20, draws=20, seed=4,
                      weights="w")
    np.testing.assert_allclose([r["p.permutation"] for r in got["mga"]],
                               want.mga()["p.permutation"], atol=1e-12)
    np.testing.assert_allclose([r["est.a"] for r in got["mga"]], want.mga()["est.a"],
                               atol=1e-12)
    info = next(d for d in got["warnings"] if d["code"] == "pls_groups_weighted")
    assert info["params"]["no_weight"] == 1 and info["params"]["n"] == 249
    text = capsys.readouterr().out
    assert "Weighted PLS" in text and "no weight" in text
    assert main(["fit", str(model), str(csv), "--estimator", "pls", "--group", "gender",
                 "--weights", "nope", "--permutations", "20"]) == 2
    err = capsys.readouterr().err
    assert "--weights" in err and "nope" in err and "Traceback" not in err


def test_questionnaire_weighting_is_used_by_default() -> None:
    """A questionnaire that declares raking weights: api.pls_groups applies them without
    an option (as `fit` does); weights='none' gives the unweighted analysis."""
    from satisfaction import api
    from satisfaction.questionnaire import Questionnaire
    from satisfaction.responses import load_responses
    from satisfaction.weights import compute_weights
    from tests.test_weights import MARGINS, bank_frame, definition

    q = Questionnaire.from_dict(definition(weighting={"method": "rake", "margins": MARGINS}))
    raw = bank_frame()
    data = load_responses(q, raw).data
    options = {"permutations": 20, "bootstrap": 20, "seed": 6}
    got = api.pls_groups(q, raw, group="gender", **options)
    want = pls_groups(q, data, "gender", permutations=20, draws=20, seed=6,
                      weights=compute_weights(q, data).weights)
    plain = api.pls_groups(q, raw, group="gender", weights="none", **options)
    assert got.settings["weighted"] and not plain.settings["weighted"]
    pd.testing.assert_frame_equal(_numbers(got.mga()), _numbers(want.mga()), atol=1e-12,
                                  rtol=0)
    assert np.abs(got.mga()["diff"] - plain.mga()["diff"]).max() > 1e-3
