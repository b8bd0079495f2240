"""The factor-analytic measurement with respondent weights, against R.

Reference: tests/reference/lavaan_cfa_weights.R (writes lavaan_cfa_weights.json):
lavaan's ``cfa(..., sampling.weights = "w")`` (complete answers and FIML), semTools'
``compRelSEM`` and ``htmt(sample.cov = cov.wt(x, wt)$cov)``, psych's ``alpha`` on the
weighted covariances, ``survey::svymean``/``svyvar``, ``psych::fa(weight = w)``, ``KMO``
and ``cortest.bartlett(n = n_eff)``, on the raked bank survey (complete and with answers
removed) and on psych's bfi with a derived weight.
Statistics built on the CFA estimates agree to 1e-4 (the optimisers' tolerance), the
closed forms (alpha, item-total r, means, HTMT, KMO, Bartlett) to 1e-8; EFA loadings to
1e-4 up to the order and sign of the factors.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from satisfaction import reliability as rel
from satisfaction.efa import efa, extract_factors, rotate_loadings, weighted_correlation
from satisfaction.errors import InputError
from satisfaction.questionnaire import Questionnaire, load_questionnaire
from satisfaction.responses import load_responses

from .conftest import SHARED

REFERENCE = Path(__file__).parent / "reference"
REF = json.loads((REFERENCE / "lavaan_cfa_weights.json").read_text())
BANK = SHARED / "bank_satisfaction.csv"
CFA_TOL = 1e-4
EXACT = 1e-8


def _bank_frame() -> pd.DataFrame:
    return pd.read_csv(BANK, dtype={"respondent": str})


@pytest.fixture(scope="module")
def bank() -> tuple[Questionnaire, pd.DataFrame, pd.Series]:
    q = load_questionnaire("ecsi_bank")
    data = load_responses(q, _bank_frame()).data
    return q, data, pd.Series(REF["weights"], index=data.index)


def _holed(data: pd.DataFrame) -> pd.DataFrame:
    """The answers the R script removes: sat2 of respondent numbers divisible by 7,
    qual3 by 11, loy1 by 13."""
    out = data.copy()
    number = np.array([int(str(i)[1:]) for i in out.index])
    out.loc[number % 7 == 0, "sat2"] = np.nan
    out.loc[number % 11 == 0, "qual3"] = np.nan
    out.loc[number % 13 == 0, "loy1"] = np.nan
    return out


def _bfi() -> pd.DataFrame:
    """bfi with the R script's weight and reversed items A1, C4, C5, E1, E2."""
    d = pd.read_csv(REFERENCE / "bfi_raw.csv").astype(float)
    row = np.arange(1, len(d) + 1)
    d["w"] = np.where(d["gender"] == 1, 1.5, 0.75) * (1 + ((row - 1) % 5) / 4)
    for item in ("A1", "C4", "C5", "E1", "E2"):
        d[item] = 7 - d[item]
    return d


def _questionnaire(blocks: dict[str, list[str]]) -> Questionnaire:
    return Questionnaire.from_dict({
        "id": "bfi", "title": "bfi", "scales": {"s": {"min": 1, "max": 6}},
        "constructs": [{"id": b, "name": b, "items": [{"id": i, "text": i, "scale": "s"}
                                                       for i in items]}
                       for b, items in blocks.items()]})


@pytest.fixture(scope="module")
def results(bank) -> dict[str, rel.ReliabilityResult]:
    q, data, w = bank
    bfi = _bfi()
    blocks = REF["bfi"]["blocks"]
    return {"bank": rel.reliability(q, data, weights=w),
            "bank_missing": rel.reliability(q, _holed(data), weights=w),
            "bfi": rel.reliability(_questionnaire(blocks), bfi, weights="w")}


def _matrix(frame: pd.DataFrame, ref: dict) -> tuple[np.ndarray, np.ndarray]:
    return frame.loc[ref["rows"], ref["cols"]].to_numpy(), np.array(ref["values"])


@pytest.mark.parametrize("case", ["bank", "bank_missing", "bfi"])
def test_weighted_alpha_and_item_statistics_match_psych_and_survey(results, case):
    """α, its Feldt interval on the effective n, r.drop and α if deleted (psych::alpha on
    the weighted covariances); item means and SDs (svymean, svyvar)."""
    ref, result = REF[case], results[case]
    assert result.weighted
    for construct, a in ref["alpha"].items():
        row = result.constructs.loc[construct]
        assert row["n"] == a["n"]
        assert row["alpha"] == pytest.approx(a["alpha"], abs=EXACT)
        assert [row["alpha.ci.lower"], row["alpha.ci.upper"]] == pytest.approx(
            [a["ci_lower"], a["ci_upper"]], abs=EXACT)
        for item, value in a["r_drop"].items():
            assert result.item_statistics.loc[item, "item_total"] == pytest.approx(value,
                                                                                  abs=EXACT)
        for item, value in a["alpha_if_dropped"].items():
            assert result.item_statistics.loc[item, "alpha_if_deleted"] == pytest.approx(
                value, abs=EXACT)
    for item in ref["items"]:
        stats = result.item_statistics.loc[item["item"]]
        assert stats["mean"] == pytest.approx(item["mean"], abs=EXACT)
        assert stats["sd"] == pytest.approx(np.sqrt(item["var"]), abs=EXACT)


@pytest.mark.parametrize("case", ["bank", "bank_missing", "bfi"])
def test_weighted_cfa_reliability_and_validity_match_lavaan_and_semtools(results, case):
    """std.all loadings, latent correlations, ω (compRelSEM), CR, AVE of the weighted CFA
    (lavaan sampling.weights, FIML when answers are missing) and the robust fit measures
    its cautions name; HTMT and HTMT2 of the weighted correlations (semTools::htmt on
    cov.wt)."""
    ref, result = REF[case], results[case]
    theirs = pd.DataFrame(ref["loadings"]).set_index(["construct", "item"])["std.all"]
    ours = result.loadings.set_index(["construct", "item"])["std.all"]
    assert len(ours) == len(theirs)
    np.testing.assert_allclose(ours.loc[theirs.index].to_numpy(), theirs.to_numpy(),
                               atol=CFA_TOL, rtol=0)
    np.testing.assert_allclose(*_matrix(result.latent_correlations, ref["latent_cor"]),
                               atol=CFA_TOL, rtol=0)
    for construct, r in ref["reliability"].items():
        row = result.constructs.loc[construct]
        assert [row["omega"], row["cr"], row["ave"]] == pytest.approx(
            [r["omega"], r["cr"], r["ave"]], abs=CFA_TOL)
    np.testing.assert_allclose(*_matrix(result.htmt, ref["htmt"]), atol=EXACT, rtol=0)
    # the CFA is judged by lavaan's robust measures of the weighted (MLR) fit
    judged = {d.params["index"]: d.params["value"] for d in result.warnings
              if d.code == "fit_poor" and d.scope is not None and d.scope[0] == "cfa"}
    assert "cfi.robust" in judged  # below 0.90 in all three cases
    for index in set(judged) & set(ref["fit"]):
        assert judged[index] == pytest.approx(ref["fit"][index], abs=CFA_TOL)
    htmt2 = result.htmt_pairs.set_index(["construct1", "construct2"])["htmt2"]
    names = ref["htmt2"]["rows"]
    values = np.array(ref["htmt2"]["values"])
    for (a, b), value in htmt2.items():
        assert value == pytest.approx(values[names.index(a), names.index(b)], abs=EXACT)


def test_weighted_measurement_note_and_rows_without_weight(bank):
    """The info names the design effect and effective n; a respondent without a weight is
    left out of every statistic and counted; the CFA's own sem_weighted note is not
    repeated."""
    q, data, w = bank
    partial = w.copy()
    partial.iloc[:3] = np.nan
    result = rel.reliability(q, data, weights=partial)
    (note,) = [d for d in result.warnings if d.code == "measurement_weighted"]
    assert note.severity == "info"
    assert note.params["no_weight"] == 3 and note.params["n"] == len(data) - 3
    kept = w.iloc[3:]
    assert note.params["effective_n"] == pytest.approx(kept.sum() ** 2 / (kept**2).sum(),
                                                       abs=0.05)
    assert not any(d.code == "sem_weighted" for d in result.warnings)
    same = rel.reliability(q, data.iloc[3:], weights=kept)
    pd.testing.assert_frame_equal(result.constructs, same.constructs)
    assert "weighted" in result.to_dict() and result.to_dict()["weighted"] is True
    for text in (note.text("en"), note.text("zh")):
        assert str(note.params["effective_n"]) in text
    with pytest.raises(InputError, match="weight"):
        rel.reliability(q, data, weights=-w)


def _same(a: pd.DataFrame | pd.Series, b: pd.DataFrame | pd.Series, tol: float) -> None:
    np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float),
                               atol=tol, rtol=0)


def test_constant_weights_give_the_unweighted_measurement(bank):
    """Weights all 2.5: every figure of the unweighted analysis, the Feldt interval
    included (effective n = n): the closed forms to 1e-10; what rests on the CFA to 1e-8
    with complete answers and 1e-6 by FIML (the same ML problem, solved by the weighted
    fit's own optimiser run, which stops within its tolerance of the unweighted one:
    2e-10 and 2e-7 apart here)."""
    q, data, _ = bank
    holed = _holed(data)
    closed = ["n", "alpha", "alpha.ci.lower", "alpha.ci.upper"]
    for frame, tol in ((data, 1e-8), (holed, 1e-6)):
        plain = rel.reliability(q, frame)
        const = rel.reliability(q, frame, weights=np.full(len(frame), 2.5))
        _same(const.constructs[closed], plain.constructs[closed], 1e-10)
        _same(const.constructs[["omega", "cr", "ave"]],
              plain.constructs[["omega", "cr", "ave"]], tol)
        _same(const.item_statistics.drop(columns="construct"),
              plain.item_statistics.drop(columns="construct"), 1e-10)
        _same(const.loadings["std.all"], plain.loadings["std.all"], tol)
        _same(const.latent_correlations, plain.latent_correlations, tol)
        _same(const.htmt, plain.htmt, 1e-10)
        _same(const.htmt_pairs["htmt2"], plain.htmt_pairs["htmt2"], 1e-10)


def test_integer_weights_equal_repeated_rows(bank):
    """Weights 1, 2, 3 = each respondent repeated that often (complete answers): the
    ratios and the ML moments do not see the difference (1e-8). Not compared, by
    design: the SD (svyvar's n/(n-1) counts respondents, not copies) and the Feldt
    interval (Kish's effective n, not the copies)."""
    q, data, _ = bank
    counts = 1 + np.arange(len(data)) % 3
    weighted = rel.reliability(q, data, weights=counts.astype(float))
    repeated = data.loc[data.index.repeat(counts)]
    repeated.index = [f"{i}-{k}" for k, i in enumerate(repeated.index)]
    plain = rel.reliability(q, repeated)
    _same(weighted.constructs[["alpha", "omega", "cr", "ave"]],
          plain.constructs[["alpha", "omega", "cr", "ave"]], 1e-8)
    cols = ["mean", "floor", "ceiling", "item_total", "alpha_if_deleted"]
    _same(weighted.item_statistics[cols], plain.item_statistics[cols], 1e-8)
    _same(weighted.loadings["std.all"], plain.loadings["std.all"], 1e-8)
    _same(weighted.latent_correlations, plain.latent_correlations, 1e-8)
    _same(weighted.htmt, plain.htmt, 1e-8)


def test_weighted_htmt_is_the_weighted_pls_htmt(bank):
    """One computation: the measurement's weighted HTMT is weighted PLS's."""
    from satisfaction.pls import htmt as pls_htmt
    from satisfaction.pls import pls

    q, data, w = bank
    blocks = rel._blocks(q)
    syntax = "\n".join(f"{b} =~ {' + '.join(items)}" for b, items in blocks.items())
    syntax += "\nLoyalty ~ Satisfaction\nSatisfaction ~ Image + Expectation + Quality + Value"
    theirs = pls_htmt(pls(syntax, data, weights=w))
    ours = rel.htmt(data, blocks, weights=w)
    for row in theirs.itertuples(index=False):
        assert ours.loc[row.construct1, row.construct2] == pytest.approx(row.htmt, abs=1e-12)


# -- EFA -------------------------------------------------------------------------------


def _match_columns(ours: np.ndarray, theirs: np.ndarray) -> tuple[tuple[int, ...], np.ndarray]:
    """The column permutation and signs of ``ours`` closest to ``theirs``."""
    best = None
    for perm in itertools.permutations(range(ours.shape[1])):
        cand = ours[:, perm]
        signs = np.where((cand * theirs).sum(axis=0) < 0, -1.0, 1.0)
        err = np.abs(cand * signs - theirs).max()
        if best is None or err < best[0]:
            best = (err, perm, signs)
    assert best is not None
    return best[1], best[2]


def _efa_data(case: str) -> tuple[pd.DataFrame, pd.Series, int]:
    ref = REF[case]
    if case == "efa_bank":
        frame = _bank_frame()
        return frame[ref["items"]].astype(float), pd.Series(REF["weights"]), 3
    bfi = _bfi()
    return bfi[ref["items"]], bfi["w"], 5


@pytest.mark.parametrize("case", ["efa_bank", "efa_bfi"])
def test_weighted_efa_matches_psych(case):
    """KMO, Bartlett (n = effective n), eigenvalues of the weighted correlations, and
    psych::fa(weight = w)'s loadings, communalities and factor correlations (minres and
    ML; oblimin, promax, varimax)."""
    ref = REF[case]
    x, w, k = _efa_data(case)
    result = efa(x, n_factors=k, weights=w, n_iter=5)
    assert result.weighted and result.n == ref["n"]
    assert result.effective_n == pytest.approx(ref["effective_n"], rel=1e-10)
    assert result.kmo == pytest.approx(ref["kmo"]["overall"], abs=EXACT)
    for item, value in ref["kmo"]["items"].items():
        assert result.kmo_items[item] == pytest.approx(value, abs=EXACT)
    assert result.bartlett["chisq"] == pytest.approx(ref["bartlett"]["chisq"], rel=1e-10)
    assert result.bartlett["df"] == ref["bartlett"]["df"]
    assert result.bartlett["p"] == pytest.approx(ref["bartlett"]["p"], abs=EXACT)
    _same(result.scree["eigenvalue"], ref["eigen"]["pc"], EXACT)
    _same(result.scree["eigenvalue_reduced"], ref["eigen"]["fa_smc"], EXACT)
    (note,) = [d for d in result.warnings if d.code == "efa_weighted"]
    assert note.params["effective_n"] == round(ref["effective_n"], 1)

    complete = x.dropna()
    corr = weighted_correlation(complete.to_numpy(), w.loc[complete.index].to_numpy())
    _same(corr, ref["correlation"]["values"], 1e-12)
    for method in ("minres", "ml"):
        unrotated = extract_factors(complete, k, method, corr=corr)
        for fa in [f for f in ref["fa"] if f["method"] == method]:
            loadings, phi = rotate_loadings(unrotated, fa["rotation"])
            theirs = np.array(fa["loadings"]["values"])
            perm, signs = _match_columns(loadings, theirs)
            _same(loadings[:, perm] * signs, theirs, CFA_TOL)
            _same((unrotated**2).sum(axis=1), list(fa["communalities"].values()), CFA_TOL)
            if fa["rotation"] != "varimax":  # (psych has no Phi for it)
                _same(phi[np.ix_(perm, perm)] * np.outer(signs, signs), fa["phi"]["values"],
                      CFA_TOL)


def test_weighted_efa_constant_integer_and_missing_weights():
    """Constant weights: the unweighted EFA (KMO, Bartlett, eigenvalues and the parallel
    analysis 1e-10; loadings 1e-6: factor-analyzer's optimiser started from the
    correlation matrix stops 5e-8 from its run on the data). Integer weights: the
    loadings and KMO of repeated rows (Bartlett differs by design: effective n, not the
    copies). A respondent without a weight is left out and counted."""
    x, _, _ = _efa_data("efa_bank")
    plain = efa(x, n_factors=3, n_iter=5)
    const = efa(x, n_factors=3, n_iter=5, weights=np.full(len(x), 0.7))
    _same(const.loadings, plain.loadings, 1e-6)
    assert const.kmo == pytest.approx(plain.kmo, abs=1e-10)
    assert const.bartlett["chisq"] == pytest.approx(plain.bartlett["chisq"], rel=1e-10)
    _same(const.scree[["eigenvalue", "parallel"]], plain.scree[["eigenvalue", "parallel"]],
          1e-10)
    counts = 1 + np.arange(len(x)) % 3
    weighted = efa(x, n_factors=3, n_iter=5, weights=counts.astype(float))
    repeated = efa(x.loc[x.index.repeat(counts)].reset_index(drop=True), n_factors=3,
                   n_iter=5)
    _same(weighted.loadings, repeated.loadings, 1e-6)
    assert weighted.kmo == pytest.approx(repeated.kmo, abs=1e-10)
    partial = pd.Series(counts.astype(float), index=x.index)
    partial.iloc[[0, 5]] = np.nan
    out = efa(x, n_factors=3, n_iter=5, weights=partial)
    assert out.excluded == {"incomplete_answers": 0, "no_weight": 2} and out.n == len(x) - 2
    assert out.to_dict()["weighted"] is True


# -- the commands --------------------------------------------------------------------


def test_cli_reliability_and_efa_take_weights(tmp_path, capsys):
    """``satisfaction reliability|efa --weights COL`` are the weighted analyses (the
    figures of the R reference); ``--weights none`` is unweighted; an unknown column is
    exit 2 naming the file and the column."""
    from satisfaction.cli import main
    from satisfaction.resources import QUESTIONNAIRES

    frame = _bank_frame()
    frame["w"] = REF["weights"]
    path = tmp_path / "bank.csv"
    frame.to_csv(path, index=False)
    q = str(QUESTIONNAIRES / "ecsi_bank.yaml")
    out = tmp_path / "out.json"
    assert main(["reliability", q, str(path), "--weights", "w", "--json", str(out)]) == 0
    got = json.loads(out.read_text())
    assert got["weighted"] is True
    for construct, a in REF["bank"]["alpha"].items():
        assert got["constructs"][construct]["alpha"] == pytest.approx(a["alpha"], abs=EXACT)
    assert main(["reliability", q, str(path), "--weights", "none", "--json", str(out)]) == 0
    assert json.loads(out.read_text())["weighted"] is False
    capsys.readouterr()
    assert main(["reliability", q, str(path), "--weights", "nope"]) == 2
    err = capsys.readouterr().err
    assert "column 'nope'" in err and "Traceback" not in err
    assert main(["efa", q, str(path), "--weights", "w", "--factors", "3", "--json",
                 str(out)]) == 0
    got = json.loads(out.read_text())
    assert got["weighted"] is True
    qn = load_questionnaire("ecsi_bank")
    data = load_responses(qn, frame).data
    direct = efa(data[[i.id for i in qn.items]], n_factors=3,
                 weights=pd.Series(REF["weights"], index=data.index))
    assert got["kmo"] == pytest.approx(direct.kmo, abs=1e-12)
    assert got["effective_n"] == pytest.approx(direct.effective_n, abs=1e-9)


def test_api_uses_the_questionnaires_weighting(bank):
    """A questionnaire that declares ``weighting`` gets its weights in api.reliability
    and api.efa without an option (the raking of the R reference)."""
    import yaml

    from satisfaction import api
    from satisfaction.resources import QUESTIONNAIRES

    spec = yaml.safe_load((QUESTIONNAIRES / "ecsi_bank.yaml").read_text(encoding="utf-8"))
    spec["groups"] = [*spec.get("groups", []),
                      {"id": "segment", "type": "categorical",
                       "codes": {"A": "A", "B": "B", "C": "C"}}]
    spec["weighting"] = {"method": "rake", "margins": {
        "gender": {"female": 0.5, "male": 0.5}, "segment": {"A": 0.3, "B": 0.3, "C": 0.4}}}
    q = Questionnaire.from_dict(spec)
    frame = _bank_frame()
    number = frame["respondent"].str[1:].astype(int)
    frame["segment"] = np.where(number <= 100, "A", np.where(number <= 175, "B", "C"))
    result = api.reliability(q, frame)
    assert result.weighted
    for construct, a in REF["bank"]["alpha"].items():
        assert result.constructs.loc[construct, "alpha"] == pytest.approx(a["alpha"], abs=1e-6)
    assert not api.reliability(q, frame, weights="none").weighted
    assert api.efa(q, frame, n_factors=3).weighted


def test_weighted_reverse_item_hint():
    """The reverse-item hint reads the weighted correlations: bfi's A1 left unreversed is
    found with the weights, and constant weights give the unweighted eigenvector."""
    bfi = _bfi()
    block = bfi[REF["bfi"]["blocks"]["A"]].copy()
    assert rel.reverse_keyed(block, bfi["w"].to_numpy()) == []
    block["A1"] = 7 - block["A1"]
    assert rel.reverse_keyed(block, bfi["w"].to_numpy()) == ["A1"]
    assert rel.reverse_keyed(block, np.full(len(block), 3.0)) == rel.reverse_keyed(block)
    cov = rel.weighted_covariance(block, np.ones(len(block)))
    _same(cov, block.cov(), 1e-12)
