"""Second-order constructs in PLS (satisfaction.pls_hoc) against a second implementation.

Reference: the deliberately naive PLS of ``reference/pls_reference.py`` (loops and
least squares on the data), given the models of each approach written out here by
hand from the questionnaire, as the method papers define them:

- repeated indicators (Lohmöller 1989; Becker, Klein & Wetzels 2012, Long Range
  Planning 45): the higher-order construct (HOC) measured by all items of its
  dimensions, inner paths HOC → dimension (reflective) or dimension → HOC
  (formative, Mode B);
- embedded two-stage (Ringle, Sarstedt & Straub 2012; Sarstedt, Hair, Cheah,
  Becker & Ringle 2019, Australasian Marketing Journal 27): stage 1 the
  repeated-indicators model, stage 2 the HOC measured by the stage-1 dimension
  scores;
- disjoint two-stage (Agarwal & Karahanna 2000; Sarstedt et al. 2019): stage 1
  without the HOC, its paths drawn from each dimension, stage 2 as above.

Stage 2 of the reference runs on scores computed from the naive stage-1 weights.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from satisfaction.errors import InputError, SchemaError
from satisfaction.pls import bootstrap_pls, ipma, parse_pls_model, pls
from satisfaction.questionnaire import load_questionnaire
from satisfaction.responses import load_responses
from satisfaction.simulate import simulate_responses
from tests.reference.pls_reference import naive_pls, naive_plsc

from .conftest import SHARED

TOL = 1e-10
HOC = {"PreSale": ["Info", "Brand", "WoM"],
       "InSale": ["Quality", "Price", "Convenience", "Staff", "Environment"],
       "PostSale": ["Service", "Extension", "Promise"]}


@pytest.fixture(scope="module")
def cram():
    q = load_questionnaire("cram")
    raw = simulate_responses(q, n=300, seed=7, contaminate=False)
    return q, load_responses(q, raw).data


def _items(q) -> dict[str, list[str]]:
    return {c.id: [i.id for i in c.items] for c in q.first_order}


def _naive_scores(data: pd.DataFrame, blocks: dict[str, list[str]], ref: dict) -> pd.DataFrame:
    """Scores from the naive weights: standardized items (n − 1) × weights, unit variance."""
    out = {}
    for c, items in blocks.items():
        y = sum(ref["weights"][f"{c}|{x}"] * (data[x] - data[x].mean()) / data[x].std(ddof=1)
                for x in items)
        out[c] = y / y.std(ddof=1)
    return pd.DataFrame(out)


def _check(result_rows: dict, ref: dict, kind: str, atol: float = 1e-8) -> None:
    assert ref[kind], kind
    for k, v in ref[kind].items():
        assert result_rows[k] == pytest.approx(v, abs=atol), (kind, k)


def _as_ref(result) -> dict:
    return {"paths": {f"{r['from']}->{r['to']}": r["est"] for r in result.paths.to_dict("records")},
            "weights": {f"{c}|{x}": w for c, x, w in zip(result.weights["construct"],
                                                         result.weights["indicator"],
                                                         result.weights["est"], strict=True)},
            "loadings": {f"{c}|{x}": w for c, x, w in zip(result.loadings["construct"],
                                                          result.loadings["indicator"],
                                                          result.loadings["est"], strict=True)},
            "r2": dict(result.r2["r2"]),
            "total": {f"{a}->{b}": t for a, b, t in zip(result.effects["from"],
                                                        result.effects["to"],
                                                        result.effects["total"], strict=True)}}


def _row(params: pd.DataFrame, lhs: str, op: str, rhs: str) -> pd.Series:
    hit = params[(params["lhs"] == lhs) & (params["op"] == op) & (params["rhs"] == rhs)]
    assert len(hit) == 1, (lhs, op, rhs)
    return hit.iloc[0]


def _repeated_blocks(q, formative: tuple[str, ...] = ()):
    items = _items(q)
    blocks = dict(items)
    paths = []
    for h, dims in HOC.items():
        blocks[h] = [x for d in dims for x in items[d]]
        paths += [(d, h) if h in formative else (h, d) for d in dims]
    paths += [("PreSale", "Sat"), ("InSale", "Sat"), ("PostSale", "Sat"), ("Sat", "Loy")]
    modes = {c: "B" if c in formative else "A" for c in blocks}
    return blocks, modes, paths


def test_repeated_indicators_equal_naive_pls_on_the_repeated_model(cram) -> None:
    q, data = cram
    r = pls(q, data, tol=TOL)
    assert r.higher_order["approach"] == "repeated" and r.converged
    blocks, modes, paths = _repeated_blocks(q)
    ref = naive_pls(data, blocks, modes, paths, tol=TOL)
    got = _as_ref(r)
    for kind in ("paths", "weights", "loadings", "r2", "total"):
        _check(got[kind], ref, kind)
    params = r.parameters()
    # the HOC's loadings on its dimensions are the inner paths HOC -> dimension
    for h, dims in HOC.items():
        for d in dims:
            assert _row(params, h, "=~", d)["est"] == pytest.approx(ref["paths"][f"{h}->{d}"],
                                                                   abs=1e-8)
        assert not ((params["lhs"] == h) & params["rhs"].isin(blocks[h])).any()
    assert _row(params, "Sat", "~", "InSale")["est"] == pytest.approx(
        ref["paths"]["InSale->Sat"], abs=1e-8)
    assert _row(params, "Info", "=~", "info1")["est"] == pytest.approx(
        ref["loadings"]["Info|info1"], abs=1e-8)


def test_repeated_indicators_formative_hoc_mode_b(cram) -> None:
    """Reflective-formative HOC (type II): Mode B on the repeated items, dimension → HOC
    (Becker et al. 2012's recommended set-up), from lavaan syntax."""
    q, data = cram
    items = _items(q)
    text = "\n".join([f"{c} =~ " + " + ".join(x) for c, x in items.items()]
                     + ["PreSale <~ Info + Brand + WoM",
                        "InSale =~ Quality + Price + Convenience + Staff + Environment",
                        "PostSale =~ Service + Extension + Promise",
                        "Sat ~ PreSale + InSale + PostSale", "Loy ~ Sat"])
    r = pls(text, data, tol=TOL)
    blocks, modes, paths = _repeated_blocks(q, formative=("PreSale",))
    ref = naive_pls(data, blocks, modes, paths, tol=TOL)
    got = _as_ref(r)
    for kind in ("paths", "weights", "r2"):
        _check(got[kind], ref, kind)
    params = r.parameters()
    for d in HOC["PreSale"]:
        assert _row(params, "PreSale", "<~", d)["est"] == pytest.approx(
            ref["paths"][f"{d}->PreSale"], abs=1e-8)
    assert _row(params, "InSale", "=~", "Staff")["est"] == pytest.approx(
        ref["paths"]["InSale->Staff"], abs=1e-8)


@pytest.mark.parametrize("approach", ["embedded", "disjoint"])
def test_two_stage_is_stage_two_pls_on_stage_one_scores(cram, approach) -> None:
    q, data = cram
    r = pls(q, data, tol=TOL, higher_order=approach)
    assert r.higher_order["approach"] == approach and r.stage1 is not None
    items = _items(q)
    if approach == "embedded":
        blocks1, modes1, paths1 = _repeated_blocks(q)
    else:  # no HOC; Sat predicted by all eleven dimensions
        blocks1 = dict(items)
        modes1 = {c: "A" for c in blocks1}
        paths1 = [(d, "Sat") for dims in HOC.values() for d in dims] + [("Sat", "Loy")]
    ref1 = naive_pls(data, blocks1, modes1, paths1, tol=TOL)
    _check(_as_ref(r.stage1)["paths"], ref1, "paths")
    scores = _naive_scores(data, blocks1, ref1)
    data2 = data.copy()
    dims = [d for ds in HOC.values() for d in ds]
    for d in dims:
        data2[d] = scores[d]
    blocks2 = {**HOC, "Sat": items["Sat"], "Loy": items["Loy"]}
    paths2 = [("PreSale", "Sat"), ("InSale", "Sat"), ("PostSale", "Sat"), ("Sat", "Loy")]
    ref2 = naive_pls(data2, blocks2, {c: "A" for c in blocks2}, paths2, tol=TOL)
    got = _as_ref(r)
    for kind in ("paths", "weights", "loadings", "r2", "total"):
        _check(got[kind], ref2, kind, atol=1e-7)
    params = r.parameters()
    assert _row(params, "PostSale", "=~", "Promise")["est"] == pytest.approx(
        ref2["loadings"]["PostSale|Promise"], abs=1e-7)
    # the dimensions' items come from stage 1
    assert _row(params, "Price", "=~", "price2")["est"] == pytest.approx(
        ref1["loadings"]["Price|price2"], abs=1e-7)
    assert set(params["op"]) == {"~", "=~"}


def test_two_stage_consistent_pls_is_naive_plsc_on_stage_one_scores(cram) -> None:
    """PLSc of reflective HOCs: stage 2 is PLSc on the dimension scores (their
    one-factor model in the HOC is what stage 2's rhoA corrects)."""
    q, data = cram
    r = pls(q, data, tol=TOL, higher_order="disjoint", consistent=True)
    items = _items(q)
    blocks1 = dict(items)
    paths1 = [(d, "Sat") for dims in HOC.values() for d in dims] + [("Sat", "Loy")]
    base1 = naive_pls(data, blocks1, {c: "A" for c in blocks1}, paths1, tol=TOL)
    data2 = data.copy()
    scores = _naive_scores(data, blocks1, base1)
    for dims in HOC.values():
        for d in dims:
            data2[d] = scores[d]
    blocks2 = {**HOC, "Sat": items["Sat"], "Loy": items["Loy"]}
    paths2 = [("PreSale", "Sat"), ("InSale", "Sat"), ("PostSale", "Sat"), ("Sat", "Loy")]
    ref = naive_plsc(data2, blocks2, {c: "A" for c in blocks2}, paths2, tol=TOL)
    got = _as_ref(r)
    for kind in ("paths", "r2"):
        _check(got[kind], ref, kind, atol=1e-7)
    assert r.consistent and r.stage1.consistent


def test_embedded_stage_one_is_the_repeated_estimate(cram) -> None:
    q, data = cram
    rep = pls(q, data)
    emb = pls(q, data, higher_order="embedded")
    pd.testing.assert_frame_equal(emb.stage1.paths, rep.paths)


def test_model_errors() -> None:
    for bad, what in (
        ("A =~ a1 + a2\nB =~ b1 + b2\nH =~ A + B + x1\nY =~ y1\nY ~ H", "constructs only"),
        ("A =~ a1 + a2\nB =~ b1 + b2\nH =~ A + B\nG =~ H + A\nY =~ y1\nY ~ G",
         "dimension of both"),
        ("A =~ a1 + a2\nB =~ b1 + b2\nC =~ c1\nH =~ A + B\nG =~ H + C\nY =~ y1\nY ~ G",
         "only second-order"),
        ("A =~ a1 + a2\nB =~ b1 + b2\nH =~ A + B\nH ~ A", "own dimension"),
    ):
        with pytest.raises(InputError, match=what):
            parse_pls_model(bad)


def test_approach_errors(cram) -> None:
    q, data = cram
    with pytest.raises(InputError, match="repeated, embedded, disjoint"):
        pls(q, data, higher_order="two-stage")
    with pytest.raises(InputError, match="not defined for the repeated"):
        pls(q, data, consistent=True)
    items = _items(q)
    text = "\n".join([f"{c} =~ " + " + ".join(x) for c, x in items.items()]
                     + [f"{h} =~ " + " + ".join(d) for h, d in HOC.items()]
                     + ["Sat ~ PreSale + InSale + PostSale + Staff", "Loy ~ Sat"])
    assert pls(text, data).converged  # repeated indicators: a dimension may have a path
    with pytest.raises(InputError, match="'Staff' has a structural path of its own"):
        pls(text, data, higher_order="disjoint")


def test_two_stage_ipma_uses_stage_one_performance(cram) -> None:
    """Performance of a HOC in stage 2 = Σ of its normalized unstandardized weights × the
    dimensions' 0-100 performance of stage 1 (Ringle & Sarstedt 2016's formula applied
    to the dimension scores); importance of a dimension-level chain is the stage-2 one."""
    q, data = cram
    r = pls(q, data, higher_order="disjoint")
    scale = {i.id: (1.0, 7.0) for i in q.items}
    got = ipma(r, data, "Loy", scale)
    first = ipma(r.stage1, data, "Loy", scale)
    w = r.weights.set_index("indicator")["est"]
    for h, dims in HOC.items():
        sd = np.array([first.scores[d].std(ddof=1) for d in dims])
        raw = w[dims].to_numpy() / sd
        wt = raw / raw.sum()
        perf = float(wt @ np.array([first.index[d] for d in dims]))
        row = got.constructs.set_index("construct").loc[h]
        assert row["performance"] == pytest.approx(perf, abs=1e-9)
        assert got.index[h] == pytest.approx(perf, abs=1e-9)
    rep = pls(q, data)
    got_rep = ipma(rep, data, "Loy", (1, 7))
    assert 0 < got_rep.index["InSale"] < 100


def test_bootstrap_two_stage_and_repeated(cram) -> None:
    from satisfaction.pls_hoc import bootstrap_stages

    q, data = cram
    r = bootstrap_stages(pls(q, data, higher_order="embedded"), 40, seed=5)
    params = r.parameters()
    assert params["se"].notna().all()
    assert (params["ci.lower"] <= params["est"] + 1e-12).all()
    again = bootstrap_stages(pls(q, data, higher_order="embedded"), 40, seed=5).parameters()
    np.testing.assert_array_equal(params["se"], again["se"])
    rep = bootstrap_pls(pls(q, data), 40, seed=5)
    p2 = rep.parameters()
    assert p2["se"].notna().all() and set(p2["op"]) == {"~", "=~"}


def test_bootstrap_repeated_draw_is_naive_refit(cram) -> None:
    """A bootstrap draw of the repeated-indicators model = the naive PLS on the resampled
    rows (rows regenerated as the module draws them), which also checks the
    count-based correlation matrices with repeated columns."""
    q, data = cram
    r = bootstrap_pls(pls(q, data, tol=1e-12), draws=3, seed=2)
    rows = np.random.default_rng(2).integers(0, len(data), size=(250, len(data)))[:3]
    keys = list(zip(r.bootstrap["kind"], r.bootstrap["from"], r.bootstrap["to"], strict=True))
    blocks, modes, paths = _repeated_blocks(q)
    ref = naive_pls(data.iloc[rows[2]].reset_index(drop=True), blocks, modes, paths,
                    tol=1e-12)
    got = dict(zip(keys, r.bootstrap_draws[2], strict=True))
    for k, v in ref["paths"].items():
        a, c = k.split("->")
        assert got[("path", a, c)] == pytest.approx(v, abs=1e-8)


# -- questionnaire keys ---------------------------------------------------------------

def _variant(tmp_path, old: str, new: str, name: str = "q.yaml"):
    from satisfaction.resources import QUESTIONNAIRES

    text = (QUESTIONNAIRES / "cram.yaml").read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / name
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_questionnaire_mode_and_estimator(tmp_path, cram) -> None:
    _, data = cram
    path = _variant(tmp_path, "    stage: pre_sale\n  - id: InSale",
                    "    stage: pre_sale\n    mode: formative\n  - id: InSale", "formative.yaml")
    q = load_questionnaire(path)
    assert q.construct("PreSale").mode == "formative" and q.estimator is None
    r = pls(q, data)
    assert r.model.modes["PreSale"] == "B"
    assert "<~" in set(r.parameters()["op"])
    with pytest.raises(SchemaError, match=r"line \d+, key 'constructs.3.mode'.*'reflective' "
                                          r"or 'formative'.*formativ"):
        load_questionnaire(_variant(tmp_path, "    stage: pre_sale\n    parent: PreSale",
                                    "    stage: pre_sale\n    mode: formativ\n    parent: "
                                    "PreSale"))
    with pytest.raises(SchemaError, match=r"key 'estimator'.*'pls' or 'sem'.*cbsem"):
        load_questionnaire(_variant(tmp_path, "customer_id: customer\n",
                                    "customer_id: customer\nestimator: cbsem\n"))
    assert load_questionnaire(_variant(tmp_path, "customer_id: customer\n",
                                       "customer_id: customer\nestimator: pls\n")
                              ).estimator == "pls"
    text = path.read_text(encoding="utf-8").replace("customer_id: customer\n",
                                                    "customer_id: customer\nestimator: sem\n")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SchemaError, match=r"'PreSale' is formative.*estimator: pls"):
        load_questionnaire(path)


# -- command line ------------------------------------------------------------------------

def test_cli_fit_cram_pls_json(tmp_path, cram) -> None:
    from satisfaction.cli import main

    q, _ = cram
    raw = simulate_responses(q, n=300, seed=7, contaminate=False)
    csv = tmp_path / "cram.csv"
    raw.to_csv(csv, index=False)
    out = tmp_path / "out.json"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        code = main(["fit", "cram", str(csv), "--estimator", "pls", "--ipma", "Loy",
                     "--bootstrap", "60", "--seed", "4", "--json", str(out)])
    assert code == 0
    got = json.loads(out.read_text())
    for key in ("parameters", "r2", "reliability", "htmt", "ipma", "index"):
        assert key in got, key
    row = next(p for p in got["parameters"]
               if p["lhs"] == "InSale" and p["op"] == "=~" and p["rhs"] == "Staff")
    assert set(row) >= {"lhs", "op", "rhs", "est", "se", "ci.lower", "ci.upper"}
    direct = pls(q, load_responses(q, raw).data)
    assert row["est"] == pytest.approx(float(
        _row(direct.parameters(), "InSale", "=~", "Staff")["est"]), abs=1e-12)
    ip = {r["construct"]: r for r in got["ipma"]}
    assert set(ip) == {"Sat", "PreSale", "InSale", "PostSale"}
    for r in ip.values():
        assert r["importance.ci.lower"] <= r["importance"] <= r["importance.ci.upper"]
        assert r["performance.ci.lower"] <= r["performance"] <= r["performance.ci.upper"]
    assert 0 < got["index"]["Sat"] < 100
    assert got["higher_order"]["approach"] == "repeated"


def test_bootstrap_ipma_draws_are_refits(cram) -> None:
    """Each IPMA bootstrap draw = :func:`ipma` on a PLS refit of the resampled rows
    (rows regenerated as the module draws them); intervals are type-7 percentiles.
    Two-stage: stage 2 refitted on the resampled stage-2 data (the dimensions'
    0-100 stage-1 scores as items), as the bootstrap defines it."""
    from satisfaction.pls import bootstrap_ipma
    from satisfaction.pls_hoc import two_stage_ipma_inputs

    q, data = cram
    for approach in ("repeated", "embedded"):
        r = pls(q, data, tol=1e-12, higher_order=approach)
        got = bootstrap_ipma(r, data, "Loy", (1, 7), draws=30, seed=9)
        rows = np.random.default_rng(9).integers(0, len(data), size=(250, len(data)))[:30]
        cons = list(r.model.constructs)
        model, frame, scale = q, data, (1, 7)
        if approach == "embedded":
            model = r.model  # stage 2, a plain PLS model on the dimension scores
            frame, scale, _ = two_stage_ipma_inputs(r, data, (1, 7))
        for b in (0, 17):
            sample = frame.iloc[rows[b]].reset_index(drop=True)
            ref = ipma(pls(model, sample, tol=1e-12, higher_order=approach), sample, "Loy",
                       scale)
            imp = ref.constructs.set_index("construct")["importance"]
            for c in imp.index:
                assert got.bootstrap_draws["importance"][b, cons.index(c)] == pytest.approx(
                    imp[c], abs=1e-7)
            for c, v in ref.index.items():
                assert got.bootstrap_draws["performance"][b, cons.index(c)] == pytest.approx(
                    v, abs=1e-7)
        perf = got.bootstrap_draws["performance"][:, cons.index("Sat")]
        row = got.constructs.set_index("construct").loc["Sat"]
        assert row["performance.ci.lower"] == pytest.approx(np.quantile(perf, 0.025))
        assert row["performance.se"] == pytest.approx(perf.std(ddof=1))
        assert got.bootstrap_info["failed"] == 0


def test_ipma_after_mean_replacement(cram) -> None:
    """Under missing="mean" the IPMA sees the items as the fit did: an emptied cell
    holds its item's mean, so the index equals the index of data filled by hand."""
    q, data = cram
    holed = data.copy()
    holed.iloc[::7, 0] = np.nan
    holed.iloc[3::11, 5] = np.nan
    filled = holed.copy()
    items = [i.id for i in q.items]
    filled[items] = filled[items].fillna(filled[items].mean())
    got = ipma(pls(q, holed, missing="mean"), holed, "Loy", (1, 7))
    ref = ipma(pls(q, filled), filled, "Loy", (1, 7))
    for c, v in ref.index.items():
        assert got.index[c] == pytest.approx(v, abs=1e-9)


def test_cli_lavaan_syntax_hoc_scale_and_errors(tmp_path, cram, capsys) -> None:
    """--scale gives the item range of a lavaan-syntax model; the index equals ipma()'s;
    bad options exit 2 naming the option."""
    from satisfaction.cli import main

    q, data = cram
    items = _items(q)
    model = tmp_path / "cram.lav"
    model.write_text("\n".join([f"{c} =~ " + " + ".join(x) for c, x in items.items()]
                               + [f"{h} =~ " + " + ".join(d) for h, d in HOC.items()]
                               + ["Sat ~ PreSale + InSale + PostSale", "Loy ~ Sat"]) + "\n")
    csv = tmp_path / "items.csv"
    data.to_csv(csv, index=False)
    out = tmp_path / "out.json"
    assert main(["fit", str(model), str(csv), "--estimator", "pls", "--hoc", "disjoint",
                 "--scale", "1,7", "--ipma", "Sat", "--json", str(out)]) == 0
    got = json.loads(out.read_text())
    ref = ipma(pls(str(model.read_text()), data, higher_order="disjoint"), data, "Sat", (1, 7))
    assert got["index"]["PreSale"] == pytest.approx(ref.index["PreSale"], abs=1e-9)
    assert {r["construct"] for r in got["ipma"]} == {"PreSale", "InSale", "PostSale"}
    assert got["higher_order"]["approach"] == "disjoint"
    assert {r["construct"] for r in got["stage1"]["weights"]} >= set(HOC["InSale"])
    assert all(r["se"] is None for r in got["parameters"])
    assert "PreSale" in got["reliability"] and "Info" in got["reliability"]
    pairs = {(r["construct1"], r["construct2"]) for r in got["htmt"]}
    assert ("Info", "Brand") in pairs and not any(
        {a, b} <= {"PreSale", *HOC["PreSale"]} and "PreSale" in (a, b) for a, b in pairs)
    flat = tmp_path / "flat.lav"
    flat.write_text("Info =~ info1 + info2 + info3\nSat =~ sat1 + sat2 + sat3\nSat ~ Info\n")
    capsys.readouterr()
    for args, what in (
        (["--estimator", "pls", "--ipma", "Sat"], "--ipma"),                 # no --scale
        (["--estimator", "pls", "--scale", "7,1"], "--scale"),
        (["--estimator", "pls", "--scale", "1;7"], "--scale"),
        (["--estimator", "pls", "--hoc", "twostage"], "--hoc"),
        (["--estimator", "ml", "--ipma", "Sat"], "--ipma"),
        (["--estimator", "pls", "--scale", "1,7", "--ipma", "Nope"], "--ipma"),
        (["--estimator", "pls", "--hoc", "embedded"], "no higher-order construct"),
    ):
        target = flat if "embedded" in args else model
        assert main(["fit", str(target), str(csv), *args]) == 2, args
        err = capsys.readouterr().err
        assert what in err and "Traceback" not in err, (args, err)
    raw = tmp_path / "raw.csv"
    simulate_responses(q, n=120, seed=1, contaminate=False).to_csv(raw, index=False)
    assert main(["fit", "cram", str(raw), "--estimator", "pls", "--scale", "1,7"]) == 2
    assert "questionnaire's scales" in capsys.readouterr().err


def test_hoc_reliability_from_dimensions(cram) -> None:
    """Repeated indicators: a HOC's alpha, rhoC and AVE from its dimensions as indicators
    (loadings = the naive HOC -> dimension paths, alpha from the naive dimension scores);
    two-stage: stage 2's reliability of the block of dimension scores."""
    from satisfaction.pls_hoc import hoc_reliability

    q, data = cram
    rel = hoc_reliability(pls(q, data, tol=TOL))
    blocks, modes, paths = _repeated_blocks(q)
    ref = naive_pls(data, blocks, modes, paths, tol=TOL)
    scores = _naive_scores(data, blocks, ref)
    for h, dims in HOC.items():
        lam = np.array([ref["paths"][f"{h}->{d}"] for d in dims])
        k = len(dims)
        var_sum = scores[dims].sum(axis=1).var(ddof=1)
        alpha = k / (k - 1) * (1 - k / var_sum)  # unit-variance scores: standardized alpha
        assert rel.loc[h, "alpha"] == pytest.approx(alpha, abs=1e-8)
        assert rel.loc[h, "rhoC"] == pytest.approx(
            lam.sum() ** 2 / (lam.sum() ** 2 + (1 - lam**2).sum()), abs=1e-8)
        assert rel.loc[h, "AVE"] == pytest.approx((lam**2).mean(), abs=1e-8)
        assert np.isnan(rel.loc[h, "rhoA"])
    assert rel.loc["Info", "rhoC"] < 1
    two = hoc_reliability(pls(q, data, higher_order="embedded"))
    assert set(two.index) == {*HOC, *[d for ds in HOC.values() for d in ds], "Sat", "Loy"}
    assert np.isfinite(two.to_numpy()).all()


def test_disjoint_two_stage_formative_hoc(cram) -> None:
    """A formative HOC in the disjoint approach: stage 2 estimates it in Mode B on the
    dimension scores (naive Mode B regression of the inner proxy on the scores)."""
    q, data = cram
    items = _items(q)
    text = "\n".join([f"{c} =~ " + " + ".join(x) for c, x in items.items()]
                     + ["PreSale <~ Info + Brand + WoM",
                        "InSale =~ Quality + Price + Convenience + Staff + Environment",
                        "PostSale =~ Service + Extension + Promise",
                        "Sat ~ PreSale + InSale + PostSale", "Loy ~ Sat"])
    r = pls(text, data, tol=TOL, higher_order="disjoint")
    blocks1 = dict(items)
    paths1 = [(d, "Sat") for dims in HOC.values() for d in dims] + [("Sat", "Loy")]
    ref1 = naive_pls(data, blocks1, {c: "A" for c in blocks1}, paths1, tol=TOL)
    scores = _naive_scores(data, blocks1, ref1)
    data2 = data.copy()
    for dims in HOC.values():
        for d in dims:
            data2[d] = scores[d]
    blocks2 = {**HOC, "Sat": items["Sat"], "Loy": items["Loy"]}
    modes2 = {c: "B" if c == "PreSale" else "A" for c in blocks2}
    paths2 = [("PreSale", "Sat"), ("InSale", "Sat"), ("PostSale", "Sat"), ("Sat", "Loy")]
    ref2 = naive_pls(data2, blocks2, modes2, paths2, tol=TOL)
    got = _as_ref(r)
    for kind in ("paths", "weights", "r2"):
        _check(got[kind], ref2, kind, atol=1e-7)
    params = r.parameters()
    assert _row(params, "PreSale", "<~", "Brand")["est"] == pytest.approx(
        ref2["weights"]["PreSale|Brand"], abs=1e-7)


def test_two_stage_ipma_no_false_outside_scale_note(cram) -> None:
    """Stage-1 dimension scores at the top of the scale are 100 up to rounding: no
    ipma_outside_scale caution (items are all within 1-7)."""
    q, data = cram
    top = data.copy()
    top.loc[top.index[:40], ["wom1", "wom2", "wom3"]] = 7.0
    top.loc[top.index[40:80], ["info1", "info2", "info3"]] = 7.0
    got = ipma(pls(q, top, higher_order="embedded"), top, "Loy", (1, 7))
    assert not [w for w in got.warnings if w.code == "ipma_outside_scale"]
    outside = top.copy()
    outside.iloc[0, 0] = 9.0
    got = ipma(pls(q, outside, higher_order="embedded"), outside, "Loy", (1, 7))
    assert [w for w in got.warnings if w.code == "ipma_outside_scale"]


def test_disjoint_two_stage_matches_seminr_fixture() -> None:
    """seminr's two_stage_HOC (R seminr's own test fixture on the mobi data,
    reference/pls_seminr_hoc.json): paths, loadings and weights of stage 2, and the
    dimensions' stage-1 weights, to 1e-6. seminr's two-stage is the disjoint approach."""
    from pathlib import Path

    from tests.reference.pls_reference import mobi_1_10

    data_file = SHARED / "ecsi_mobile.csv"
    ref = json.loads((Path(__file__).parent / "reference" / "pls_seminr_hoc.json").read_text())
    mobi = mobi_1_10(data_file)
    r = pls(ref["model"], mobi, higher_order="disjoint", tol=1e-10)
    got = _as_ref(r)
    _check(got["paths"], ref, "paths", atol=1e-6)
    first = _as_ref(r.stage1)
    for kind in ("loadings", "weights"):
        for key, value in ref[kind].items():
            construct = key.split("|")[0]
            table = first if construct in ("Image", "Value") else got
            assert table[kind][key] == pytest.approx(value, abs=1e-6), (kind, key)
    params = r.parameters()
    assert _row(params, "Satisfaction", "=~", "Value")["est"] == pytest.approx(
        ref["loadings"]["Satisfaction|Value"], abs=1e-6)
    assert _row(params, "Image", "=~", "ima4")["est"] == pytest.approx(
        float(r.stage1.loadings.query("indicator == 'ima4'")["est"].iloc[0]), abs=1e-12)


def test_plsc_formative_hoc_refused(cram) -> None:
    """PLSc of a composite of common factors needs van Riel et al. (2017): refused."""
    q, data = cram
    items = _items(q)
    text = "\n".join([f"{c} =~ " + " + ".join(x) for c, x in items.items()]
                     + ["PreSale <~ Info + Brand + WoM",
                        "InSale =~ Quality + Price + Convenience + Staff + Environment",
                        "PostSale =~ Service + Extension + Promise",
                        "Sat ~ PreSale + InSale + PostSale", "Loy ~ Sat"])
    with pytest.raises(InputError, match="van Riel"):
        pls(text, data, consistent=True, higher_order="disjoint")


def test_plsc_two_stage_recovers_second_order_factor_path() -> None:
    """A second-order common-factor population (H -> three dimensions -> three items
    each; Y = 0.5 H + error, three items): two-stage PLSc recovers the path 0.5
    (n = 40,000), PLS attenuates it (the consistency argued in fit_higher_order)."""
    rng = np.random.default_rng(5)
    n = 40_000
    H = rng.normal(size=n)
    cols = {}
    for i, g in enumerate((0.8, 0.7, 0.6)):
        dim = g * H + np.sqrt(1 - g**2) * rng.normal(size=n)
        for k, lam in enumerate((0.8, 0.7, 0.75)):
            cols[f"d{i}_{k}"] = lam * dim + np.sqrt(1 - lam**2) * rng.normal(size=n)
    Y = 0.5 * H + np.sqrt(1 - 0.25) * rng.normal(size=n)
    for k, lam in enumerate((0.85, 0.75, 0.7)):
        cols[f"y{k}"] = lam * Y + np.sqrt(1 - lam**2) * rng.normal(size=n)
    data = pd.DataFrame(cols)
    text = "\n".join([f"D{i} =~ d{i}_0 + d{i}_1 + d{i}_2" for i in range(3)]
                     + ["H =~ D0 + D1 + D2", "Y =~ y0 + y1 + y2", "Y ~ H"])
    for approach in ("embedded", "disjoint"):
        consistent = pls(text, data, higher_order=approach, consistent=True)
        plain = pls(text, data, higher_order=approach)
        assert float(consistent.paths["est"].iloc[0]) == pytest.approx(0.5, abs=0.02)
        assert float(plain.paths["est"].iloc[0]) < 0.42
