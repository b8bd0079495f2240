"""Weighted PLS path modelling (WPLS; Becker & Ismail 2016) in satisfaction.pls.

References:

(a) frequency weights: with integer weights, the weighted fit equals the unweighted
    fit of the data with every respondent repeated ``w`` times (weights, loadings,
    paths, R², effects, reliability, HTMT, the IPMA and its index) to 1e-10;
(b) constant weights reproduce the unweighted fit, bootstrap included;
(c) the weighted means, variances and correlations of the standardization equal R's
    ``survey::svymean``/``svyvar`` and ``cov.wt`` (``reference/pls_weights_survey.R``
    and its JSON, raking weights of ``reference/survey_weights.json``);
(d) the bootstrap carries the weights: a draw equals the weighted fit of the
    resampled respondents with their weights; a BCa leave-one-out refit equals the
    weighted fit without that respondent.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from satisfaction.errors import InputError
from satisfaction.pls import (
    _CHUNK,
    _weighted_mean,
    _weighted_sd,
    bootstrap_ipma,
    bootstrap_pls,
    htmt,
    ipma,
    pls,
    reliability,
)

from .conftest import SHARED

REF = Path(__file__).parent / "reference"
BANK = SHARED / "bank_satisfaction.csv"
MODEL = """
IMAG =~ imag1 + imag2 + imag3
SAT =~ sat1 + sat2 + sat3
LOY =~ loy1 + loy2 + loy3
VAL <~ val1 + val2 + val3
SAT ~ IMAG + VAL
LOY ~ SAT + IMAG
"""
SCALE = (1.0, 10.0)


@pytest.fixture(scope="module")
def bank() -> pd.DataFrame:
    return pd.read_csv(BANK)


@pytest.fixture(scope="module")
def freq(bank) -> np.ndarray:
    return np.random.default_rng(17).integers(1, 5, size=len(bank))


def _repeated(data: pd.DataFrame, w: np.ndarray) -> pd.DataFrame:
    return data.loc[data.index.repeat(w)].reset_index(drop=True)


def _same(a: pd.DataFrame, b: pd.DataFrame, tol: float, cols: list[str]) -> None:
    np.testing.assert_allclose(a[cols].to_numpy(dtype=float), b[cols].to_numpy(dtype=float),
                               atol=tol, rtol=0)


@pytest.mark.parametrize("consistent", [False, True])
def test_frequency_weights_equal_repeated_rows(bank, freq, consistent) -> None:
    weighted = pls(MODEL, bank, weights=freq, consistent=consistent)
    plain = pls(MODEL, _repeated(bank, freq), consistent=consistent)
    assert weighted.weighted and not plain.weighted
    for table in ("weights", "loadings"):
        _same(getattr(weighted, table), getattr(plain, table), 1e-10, ["est"])
    _same(weighted.paths, plain.paths, 1e-10, ["est"])
    _same(weighted.effects, plain.effects, 1e-10, ["direct", "indirect", "total"])
    _same(weighted.r2, plain.r2, 1e-10, ["r2"])
    _same(weighted.construct_correlations, plain.construct_correlations, 1e-10,
          list(weighted.model.constructs))
    _same(weighted.cross_loadings, plain.cross_loadings, 1e-10, list(weighted.model.constructs))
    _same(reliability(weighted), reliability(plain), 1e-10, ["alpha", "rhoA", "rhoC", "AVE"])
    _same(htmt(weighted), htmt(plain), 1e-10, ["htmt"])
    # the adjusted R² keeps the n respondents analysed (weights rescaled to sum to n)
    k = np.array([len(weighted.model.predecessors(c)) for c in weighted.r2.index])
    n = len(bank)
    np.testing.assert_allclose(weighted.r2["r2.adj"],
                               1 - (1 - weighted.r2["r2"]) * (n - 1) / (n - k - 1), atol=1e-12)
    assert weighted.n == n


def test_frequency_weights_ipma_and_index(bank, freq) -> None:
    weighted = pls(MODEL, bank, weights=freq)
    plain_data = _repeated(bank, freq)
    plain = pls(MODEL, plain_data)
    a, b = ipma(weighted, bank, "LOY", SCALE), ipma(plain, plain_data, "LOY", SCALE)
    for c in weighted.model.constructs:
        assert a.index[c] == pytest.approx(b.index[c], abs=1e-10)
    _same(a.constructs, b.constructs, 1e-10, ["importance", "performance"])
    _same(a.indicators, b.indicators, 1e-10, ["weight", "importance", "performance"])
    # the index is the weighted mean of the 0-100 scores, unlike the unweighted one
    unweighted = ipma(pls(MODEL, bank), bank, "LOY", SCALE)
    assert abs(unweighted.index["SAT"] - a.index["SAT"]) > 0.05
    assert a.index["SAT"] == pytest.approx(float(np.average(a.scores["SAT"], weights=freq)),
                                           abs=1e-10)


def test_frequency_weights_with_mean_replacement(bank, freq) -> None:
    holes = bank.copy()
    rng = np.random.default_rng(3)
    for col in ("sat1", "loy2", "imag3"):
        holes.loc[rng.choice(len(holes), 12, replace=False), col] = np.nan
    weighted = pls(MODEL, holes, weights=freq, missing="mean")
    plain_data = _repeated(holes, freq)
    plain = pls(MODEL, plain_data, missing="mean")
    _same(weighted.paths, plain.paths, 1e-10, ["est"])
    _same(weighted.weights, plain.weights, 1e-10, ["est"])
    a, b = ipma(weighted, holes, "LOY", SCALE), ipma(plain, plain_data, "LOY", SCALE)
    _same(a.constructs, b.constructs, 1e-10, ["importance", "performance"])


def test_constant_weights_reproduce_unweighted(bank) -> None:
    plain = pls(MODEL, bank)
    const = pls(MODEL, bank, weights=np.full(len(bank), 2.5))
    _same(const.paths, plain.paths, 1e-12, ["est"])
    _same(const.weights, plain.weights, 1e-12, ["est"])
    _same(const.r2, plain.r2, 1e-12, ["r2", "r2.adj"])
    np.testing.assert_allclose(const.scores, plain.scores, atol=1e-12)
    bootstrap_pls(plain, draws=60, seed=5, ci="bca")
    bootstrap_pls(const, draws=60, seed=5, ci="bca")
    _same(const.bootstrap, plain.bootstrap, 1e-10,
          ["se", "perc.lower", "perc.upper", "bca.lower", "bca.upper"])
    a = bootstrap_ipma(plain, bank, "LOY", SCALE, draws=60, seed=5)
    b = bootstrap_ipma(const, bank, "LOY", SCALE, draws=60, seed=5)
    _same(b.index_intervals, a.index_intervals, 1e-10, ["index", "se", "ci.lower", "ci.upper"])
    _same(htmt(const, draws=40, seed=2), htmt(plain, draws=40, seed=2), 1e-10,
          ["htmt", "se", "ci.lower", "ci.upper"])


def test_weighted_moments_match_survey(bank) -> None:
    ref = json.loads((REF / "pls_weights_survey.json").read_text())
    raked = json.loads((REF / "survey_weights.json").read_text())["rake"]
    assert raked["respondent"] == bank["respondent"].tolist()
    w = np.asarray(raked["weights"])
    x = bank[ref["items"]].to_numpy(dtype=float)
    np.testing.assert_allclose(_weighted_mean(x, w), ref["mean"], atol=1e-10)
    np.testing.assert_allclose(_weighted_sd(x, w) ** 2, ref["var"], atol=1e-10)
    fit = pls("IMAG =~ imag1 + imag2 + imag3\nSAT =~ sat1 + sat2 + sat3\n"
              "LOY =~ loy1 + loy2 + loy3\nSAT ~ IMAG\nLOY ~ SAT", bank, weights=w)
    np.testing.assert_allclose(fit._S, np.asarray(ref["cor"]), atol=1e-10)
    # the scores are standardized in the weighted sense
    np.testing.assert_allclose(_weighted_mean(fit.scores.to_numpy(), w), 0, atol=1e-12)
    np.testing.assert_allclose(_weighted_sd(fit.scores.to_numpy(), w), 1, atol=1e-12)


def test_bootstrap_draw_is_weighted_fit_of_resample(bank, freq) -> None:
    w = freq * 0.37
    fit = pls(MODEL, bank, weights=w, tol=1e-10)
    bootstrap_pls(fit, draws=3, seed=11, ci="bca")
    rows = np.random.default_rng(11).integers(0, len(bank), size=(_CHUNK, len(bank)))[:3]
    keys = fit.bootstrap.set_index(["kind", "from", "to"]).index
    path_cols = [keys.get_loc(("path", r["from"], r["to"])) for r in fit.paths.to_dict("records")]
    for d in range(3):
        sample = bank.iloc[rows[d]].reset_index(drop=True)
        refit = pls(MODEL, sample, weights=w[rows[d]], tol=1e-10)
        np.testing.assert_allclose(fit.bootstrap_draws[d, path_cols], refit.paths["est"],
                                   atol=1e-6)
    # the BCa leave-one-out refit of respondent 7 is the weighted fit without it
    drop = bank.drop(index=7).reset_index(drop=True)
    refit = pls(MODEL, drop, weights=np.delete(w, 7), tol=1e-10)
    np.testing.assert_allclose(fit.bootstrap_jackknife[7, path_cols], refit.paths["est"],
                               atol=1e-6)
    # the IPMA's draws: the weighted IPMA of the refit on the resampled rows
    boot = bootstrap_ipma(fit, bank, "LOY", SCALE, draws=3, seed=11)
    for d in range(3):
        sample = bank.iloc[rows[d]].reset_index(drop=True)
        refit = pls(MODEL, sample, weights=w[rows[d]], tol=1e-10)
        perf = ipma(refit, sample, "LOY", SCALE).index
        np.testing.assert_allclose(boot.bootstrap_draws["performance"][d],
                                   [perf[c] for c in fit.model.constructs], atol=1e-5)


def test_missing_and_bad_weights(bank) -> None:
    data = bank.assign(w=np.linspace(0.5, 1.5, len(bank)).round(3))
    data.loc[[4, 9, 100], "w"] = np.nan
    fit = pls(MODEL, data, weights="w")
    note = next(d for d in fit.warnings if d.code == "pls_weighted")
    assert note.severity == "info"
    assert note.params["no_weight"] == 3 and note.params["n"] == len(bank) - 3
    assert fit.n == len(bank) - 3 and 4 not in fit.scores.index
    ww = data["w"].drop(index=[4, 9, 100]).to_numpy()
    assert note.params["design_effect"] == pytest.approx(
        round(len(ww) * (ww**2).sum() / ww.sum() ** 2, 3))
    data.loc[20, "w"] = -1
    with pytest.raises(InputError, match="weight"):
        pls(MODEL, data, weights="w")


def test_fit_command_weighted_pls(tmp_path, bank, freq, capsys) -> None:
    """`fit --estimator pls --weights COL` is the weighted fit: the same paths, index and
    importance as the command on the file with every row repeated w times."""
    from satisfaction.cli import main

    model = tmp_path / "m.lav"
    model.write_text(MODEL)
    weighted, repeated = tmp_path / "w.csv", tmp_path / "rep.csv"
    bank.assign(w=freq).to_csv(weighted, index=False)
    _repeated(bank, freq).to_csv(repeated, index=False)
    out = {}
    for name, csv, extra in (("w", weighted, ["--weights", "w"]), ("rep", repeated, [])):
        path = tmp_path / f"{name}.json"
        assert main(["fit", str(model), str(csv), "--estimator", "pls", "--ipma", "LOY",
                     "--scale", "1,10", "--json", str(path), *extra]) == 0
        out[name] = json.loads(path.read_text())
    a, b = out["w"], out["rep"]
    assert a["weighted"] is True and b["weighted"] is False
    np.testing.assert_allclose([p["est"] for p in a["paths"]],
                               [p["est"] for p in b["paths"]], atol=1e-10)
    for c, v in b["index"].items():
        assert a["index"][c] == pytest.approx(v, abs=1e-10)
    assert "pls_weighted" in {d["code"] for d in a["warnings"]}
    capsys.readouterr()
    # --group and --predict with weights: tests/test_pls_groups_weights.py and
    # tests/test_pls_predict_weights.py
    assert main(["fit", str(model), str(weighted), "--estimator", "pls", "--weights",
                 "nope"]) == 2
    err = capsys.readouterr().err
    assert "nope" in err and "--weights" in err and "Traceback" not in err
    bad = tmp_path / "bad.csv"
    bank.assign(w=freq).assign(w=lambda f: f["w"].where(f.index != 5, -2)).to_csv(bad,
                                                                                index=False)
    assert main(["fit", str(model), str(bad), "--estimator", "pls", "--weights", "w"]) == 2
    err = capsys.readouterr().err
    assert "row 7" in err and "-2" in err and "Traceback" not in err


def test_pipeline_pls_stage_is_weighted() -> None:
    """The analysis's PLS stage with the bank's raking weights (R survey::rake): the fit
    is the weighted fit, the construct index the weighted index (= ipma.index and the
    weighted ACSI formula from weighted item means), its SE svymean's."""
    from satisfaction.pls_pipeline import fit_pls_stage, index_weights, pls_indices
    from satisfaction.responses import load_responses
    from satisfaction.weights import compute_weights, weighted_mean
    from tests.test_sem_weights import _bank_frame, _bank_questionnaire

    q = _bank_questionnaire()
    data = load_responses(q, _bank_frame()).data
    w = compute_weights(q, data).weights
    stage = fit_pls_stage(q, data, "Satisfaction", bootstrap=0, seed=1, weights=w)
    direct = pls(q, data, weights=w)
    assert stage.result.weighted and stage.to_dict()["weighted"] is True
    _same(stage.result.paths, direct.paths, 1e-12, ["est"])
    assert "pls_weighted" in {d.code for d in stage.warnings}
    out = pls_indices(q, stage, data)
    iw = index_weights(q, stage, data)
    ww = w.reindex(data.index).to_numpy(dtype=float)
    checked = 0
    for row in out.constructs.to_dict("records"):
        c = row["construct"]
        if c not in stage.ipma.index:
            continue
        assert row["index"] == pytest.approx(stage.ipma.index[c], abs=1e-9)
        items = [k for (cc, k) in iw if cc == c]
        lo_hi = {i.id: (q.item_scale(i).min, q.item_scale(i).max) for i in q.analysed_items}
        acsi = sum(iw[(c, k)] * (np.average(data[k], weights=ww) - lo_hi[k][0])
                   / (lo_hi[k][1] - lo_hi[k][0]) * 100 for k in items)
        assert row["index"] == pytest.approx(acsi, abs=1e-9)
        assert row["se"] == pytest.approx(weighted_mean(out.scores[c].to_numpy(), ww)["se"],
                                          abs=1e-12)
        checked += 1
    assert checked == 6
    unweighted = fit_pls_stage(q, data, "Satisfaction", bootstrap=0, seed=1)
    sat = "Satisfaction"
    assert abs(unweighted.ipma.index[sat] - stage.ipma.index[sat]) > 0.05


@pytest.mark.parametrize("approach", ["repeated", "embedded"])
def test_frequency_weights_higher_order(bank, freq, approach) -> None:
    """Second-order constructs: both stages of a two-stage estimate are weighted."""
    model = ("IMAG =~ imag1 + imag2 + imag3\nSAT =~ sat1 + sat2 + sat3\n"
             "QUAL =~ qual1 + qual2 + qual3\nEXPE =~ expe1 + expe2 + expe3\n"
             "Perf =~ QUAL + EXPE\nSAT ~ IMAG + Perf\n")
    weighted = pls(model, bank, weights=freq, higher_order=approach)
    plain = pls(model, _repeated(bank, freq), higher_order=approach)
    _same(weighted.paths, plain.paths, 1e-10, ["est"])
    _same(weighted.weights, plain.weights, 1e-10, ["est"])
    if approach == "embedded":
        _same(weighted.stage1.weights, plain.stage1.weights, 1e-10, ["est"])


def test_fit_command_uses_the_questionnaires_weighting(tmp_path) -> None:
    """`fit --estimator pls` on a questionnaire that declares raking is weighted PLS with
    those weights (R survey::rake's), `--weights none` unweighted."""
    import yaml

    from satisfaction.cli import main
    from satisfaction.questionnaire import Questionnaire
    from satisfaction.responses import load_responses
    from satisfaction.weights import compute_weights
    from tests.test_sem_weights import QUESTIONNAIRES, _bank_frame

    definition = yaml.safe_load((QUESTIONNAIRES / "ecsi_bank.yaml").read_text(encoding="utf-8"))
    definition["groups"] = [*definition.get("groups", []),
                            {"id": "segment", "type": "categorical",
                             "codes": {"A": "A", "B": "B", "C": "C"}}]
    definition["weighting"] = {"method": "rake", "margins": {
        "gender": {"female": 0.5, "male": 0.5}, "segment": {"A": 0.3, "B": 0.3, "C": 0.4}}}
    qpath, csv = tmp_path / "bank.yaml", tmp_path / "bank.csv"
    qpath.write_text(yaml.safe_dump(definition, allow_unicode=True), encoding="utf-8")
    _bank_frame().to_csv(csv, index=False)
    q = Questionnaire.from_dict(definition)
    data = load_responses(q, _bank_frame()).data
    expected = pls(q, data, weights=compute_weights(q, data).weights)
    got = {}
    for name, extra in (("declared", []), ("none", ["--weights", "none"])):
        out = tmp_path / f"{name}.json"
        assert main(["fit", str(qpath), str(csv), "--estimator", "pls", "--json", str(out),
                     *extra]) == 0
        got[name] = json.loads(out.read_text())
    np.testing.assert_allclose([p["est"] for p in got["declared"]["paths"]],
                               expected.paths["est"], atol=1e-12)
    assert got["declared"]["weighted"] and not got["none"]["weighted"]
    np.testing.assert_allclose([p["est"] for p in got["none"]["paths"]],
                               pls(q, data).paths["est"], atol=1e-12)
