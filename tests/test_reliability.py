"""Reliability and validity against psych / semTools / lavaan.

Reference numbers: tests/reference/measurement_<case>.json, written by
tests/reference/psych_semtools_reference.R.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pingouin
import pytest

from satisfaction import reliability as rel
from satisfaction.questionnaire import load_questionnaire
from satisfaction.responses import load_responses

ROOT = Path(__file__).resolve().parents[1]
REF = ROOT / "tests" / "reference"
BANK = ROOT.parent / "shared" / "data" / "bank_satisfaction.csv"
TOL = 1e-3


def _ref(case: str) -> dict:
    return json.loads((REF / f"measurement_{case}.json").read_text())


@pytest.fixture(scope="module")
def bank():
    q = load_questionnaire(ROOT / "satisfaction" / "questionnaires" / "ecsi_bank.yaml")
    return q, load_responses(q, BANK).data


@pytest.fixture(scope="module")
def holzinger() -> pd.DataFrame:
    from semopy.examples import holzinger39

    return holzinger39.get_data()


def semopy_parameters(syntax: str, data: pd.DataFrame) -> pd.DataFrame:
    """A lavaan-style parameter table (lhs op rhs est std.all) fitted by semopy (ML)."""
    import semopy

    model = semopy.Model(syntax)
    model.fit(data)
    ins = model.inspect(std_est=True)
    rows = []
    for r in ins.itertuples(index=False):
        lval, op, rval, est, std = r[0], r[1], r[2], float(r[3]), float(r[4])
        if op == "~":  # semopy writes a loading as item ~ factor
            rows.append({"lhs": rval, "op": "=~", "rhs": lval, "est": est, "std.all": std})
        else:
            rows.append({"lhs": lval, "op": op, "rhs": rval, "est": est, "std.all": std})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def bank_parameters(bank):
    q, data = bank
    return semopy_parameters(rel.measurement_model(q), data)


def test_item_statistics_match_psych(bank):
    q, data = bank
    ref = _ref("bank")
    table = rel.item_statistics(q, data)
    assert list(table.columns) == rel.ITEM_COLUMNS
    assert len(table) == 27
    for d in ref["describe"]:
        row = table.loc[d["item"]]
        assert row["n"] == d["n"]
        for ours, theirs in [("mean", "mean"), ("sd", "sd"), ("skew", "skew"),
                             ("kurtosis", "kurtosis")]:
            assert row[ours] == pytest.approx(d[theirs], abs=TOL), (d["item"], ours)
    for cid, a in ref["alpha"].items():
        for item in a["items"]:
            assert table.loc[item, "construct"] == cid
            assert table.loc[item, "item_total"] == pytest.approx(a["r_drop"][item], abs=TOL)
            assert table.loc[item, "alpha_if_deleted"] == pytest.approx(
                a["alpha_if_dropped"][item], abs=TOL)


def test_item_statistics_shares(bank):
    q, data = bank
    table = rel.item_statistics(q, data)
    x = data["imag4"]
    assert table.loc["imag4", "floor"] == pytest.approx((x == 0).mean())
    assert table.loc["imag4", "ceiling"] == pytest.approx((x == 10).mean())
    assert (table["missing"] == 0).all()
    holed = data.copy()
    holed.iloc[:25, holed.columns.get_loc("imag4")] = np.nan
    t2 = rel.item_statistics(q, holed)
    assert t2.loc["imag4", "missing"] == pytest.approx(0.1)
    assert t2.loc["imag4", "n"] == 225
    assert t2.loc["imag4", "ceiling"] == pytest.approx((x.iloc[25:] == 10).mean())


def test_skew_kurtosis_formula_type2():
    x = pd.Series([1.0, 2, 2, 3, 3, 3, 4, 9, 10, 10])
    n = len(x)
    m = x - x.mean()
    m2, m3, m4 = (m**2).mean(), (m**3).mean(), (m**4).mean()
    g1 = np.sqrt(n * (n - 1)) / (n - 2) * m3 / m2**1.5
    g2 = (n - 1) / ((n - 2) * (n - 3)) * ((n + 1) * (m4 / m2**2 - 3) + 6)
    d = rel.describe_items(x.to_frame("x"), 1, 10)
    assert d.loc["x", "skew"] == pytest.approx(g1)
    assert d.loc["x", "kurtosis"] == pytest.approx(g2)


@pytest.mark.parametrize("case", ["bank", "holzinger"])
def test_alpha_and_feldt(case, bank, holzinger):
    ref = _ref(case)
    data = bank[1] if case == "bank" else holzinger
    for a in ref["alpha"].values():
        out = rel.cronbach_alpha(data[a["items"]])
        assert out["n"] == a["n"]
        assert out["alpha"] == pytest.approx(a["alpha"], abs=TOL)
        assert out["alpha.ci.lower"] == pytest.approx(a["ci_lower"], abs=TOL)
        assert out["alpha.ci.upper"] == pytest.approx(a["ci_upper"], abs=TOL)
        # psych::alpha.ci gives the same interval
        assert out["alpha.ci.lower"] == pytest.approx(a["alpha_ci_psych"][0], abs=TOL)
        assert out["alpha.ci.upper"] == pytest.approx(a["alpha_ci_psych"][2], abs=TOL)
        # and pingouin's interval, which it rounds to three decimals
        _, ci = pingouin.cronbach_alpha(data[a["items"]])
        assert out["alpha.ci.lower"] == pytest.approx(ci[0], abs=5.1e-4)
        assert out["alpha.ci.upper"] == pytest.approx(ci[1], abs=5.1e-4)


def test_composite_reliability_and_ave_formulas():
    lam = [0.8, 0.7, 0.6]
    s = sum(lam) ** 2
    assert rel.composite_reliability(lam) == pytest.approx(s / (s + 3 - 0.64 - 0.49 - 0.36))
    assert rel.average_variance_extracted(lam) == pytest.approx((0.64 + 0.49 + 0.36) / 3)


@pytest.mark.parametrize("case", ["bank", "holzinger"])
def test_omega_cr_ave_match_semtools(case, bank, bank_parameters, holzinger):
    ref = _ref(case)
    if case == "bank":
        data, params = bank[1], bank_parameters
    else:
        data = holzinger
        syntax = "\n".join(f"{b} =~ {' + '.join(i)}" for b, i in ref["blocks"].items())
        params = semopy_parameters(syntax, data)
    load = rel.standardized_loadings(params)
    for cid, r in ref["reliability"].items():
        lam = load.loc[load["construct"] == cid, "std.all"].to_numpy()
        assert rel.composite_reliability(lam) == pytest.approx(r["cr"], abs=TOL)
        assert rel.average_variance_extracted(lam) == pytest.approx(r["ave"], abs=TOL)
        assert rel.omega(params, cid, data[ref["blocks"][cid]]) == pytest.approx(
            r["omega"], abs=TOL)


@pytest.mark.parametrize("case", ["bank", "holzinger"])
def test_htmt_matches_semtools(case, bank, holzinger):
    ref = _ref(case)
    data = bank[1] if case == "bank" else holzinger
    ours = rel.htmt(data, ref["blocks"])
    theirs = pd.DataFrame(ref["htmt"]["values"], index=ref["htmt"]["rows"],
                          columns=ref["htmt"]["cols"])
    np.testing.assert_allclose(ours.loc[theirs.index, theirs.columns].to_numpy(),
                               theirs.to_numpy(), atol=TOL)


@pytest.mark.parametrize("case", ["bank", "holzinger"])
def test_htmt2_matches_semtools(case, bank, holzinger):
    ref = _ref(case)
    data = bank[1] if case == "bank" else holzinger
    ours = rel.htmt(data, ref["blocks"], geometric=True)
    theirs = pd.DataFrame(ref["htmt2"]["values"], index=ref["htmt2"]["rows"],
                          columns=ref["htmt2"]["cols"])
    np.testing.assert_allclose(ours.loc[theirs.index, theirs.columns].to_numpy(),
                               theirs.to_numpy(), atol=TOL)


def test_missing_answers_match_psych_pairwise(bank):
    q = bank[0]
    ref = json.loads((REF / "measurement_bank_missing.json").read_text())
    data = load_responses(q, REF / "measurement_bank_missing.csv").data
    table = rel.item_statistics(q, data)
    for d in ref["describe"]:
        row = table.loc[d["item"]]
        assert row["n"] == d["n"]
        assert row["missing"] == pytest.approx(1 - d["n"] / 250)
        for col in ("mean", "sd", "skew", "kurtosis"):
            assert row[col] == pytest.approx(d[col], abs=TOL), (d["item"], col)
    for a in ref["alpha"].values():
        out = rel.cronbach_alpha(data[a["items"]])
        assert out["alpha"] == pytest.approx(a["alpha"], abs=TOL)
        assert out["n"] == a["complete"]
        for item in a["items"]:
            assert table.loc[item, "item_total"] == pytest.approx(a["r_drop"][item], abs=TOL)
            assert table.loc[item, "alpha_if_deleted"] == pytest.approx(
                a["alpha_if_dropped"][item], abs=TOL)


def test_htmt_pairs_flags():
    m = pd.DataFrame([[1, 0.95, 0.5], [0.95, 1, 0.87], [0.5, 0.87, 1]],
                     index=list("abc"), columns=list("abc"))
    pairs = rel.htmt_pairs(m)
    assert pairs[["construct1", "construct2"]].values.tolist() == [["a", "b"], ["a", "c"],
                                                                    ["b", "c"]]
    assert pairs["above_0.85"].tolist() == [True, False, True]
    assert pairs["above_0.90"].tolist() == [True, False, False]


def test_fornell_larcker_against_lavaan(bank_parameters):
    ref = _ref("bank")
    names = list(ref["blocks"])
    corr = rel.latent_correlations(bank_parameters, names)
    theirs = pd.DataFrame(ref["latent_cor"]["values"], index=ref["latent_cor"]["rows"],
                          columns=ref["latent_cor"]["cols"])
    np.testing.assert_allclose(corr.loc[names, names].to_numpy(),
                               theirs.loc[names, names].to_numpy(), atol=TOL)
    ave = pd.Series({c: ref["reliability"][c]["ave"] for c in names})
    fl = rel.fornell_larcker(ave, corr)
    assert len(fl) == 15
    for row in fl.itertuples(index=False):
        expected = abs(theirs.loc[row.construct1, row.construct2]) < min(
            np.sqrt(ave[row.construct1]), np.sqrt(ave[row.construct2]))
        assert row.satisfied == expected
    # Expectation and Quality are barely distinguishable on this data set
    eq = fl[(fl.construct1 == "Expectation") & (fl.construct2 == "Quality")].iloc[0]
    assert not eq.satisfied


def test_reliability_on_bank_warns_about_expectation_quality(bank, bank_parameters):
    q, data = bank
    ref = _ref("bank")
    result = rel.reliability(q, data, parameters=bank_parameters)
    c = result.constructs
    assert list(c.columns) == rel.CONSTRUCT_COLUMNS
    for cid, a in ref["alpha"].items():
        assert c.loc[cid, "items"] == len(a["items"])
        assert c.loc[cid, "n"] == 250
        assert c.loc[cid, "alpha"] == pytest.approx(a["alpha"], abs=TOL)
        assert c.loc[cid, "alpha.ci.lower"] == pytest.approx(a["ci_lower"], abs=TOL)
        assert c.loc[cid, "omega"] == pytest.approx(ref["reliability"][cid]["omega"], abs=TOL)
        assert c.loc[cid, "cr"] == pytest.approx(ref["reliability"][cid]["cr"], abs=TOL)
        assert c.loc[cid, "ave"] == pytest.approx(ref["reliability"][cid]["ave"], abs=TOL)
    eq = result.htmt_pairs[(result.htmt_pairs.construct1 == "Expectation")
                           & (result.htmt_pairs.construct2 == "Quality")].iloc[0]
    assert eq.htmt == pytest.approx(0.9819, abs=TOL)
    assert eq["above_0.90"]
    htmt_eq = [w for w in result.warnings if w.code == "htmt_high"
               and (w.params["a"], w.params["b"]) == ("Expectation", "Quality")]
    assert len(htmt_eq) == 1 and htmt_eq[0].severity == "caution"
    assert htmt_eq[0].params["threshold"] == 0.90
    assert htmt_eq[0].params["value"] == pytest.approx(0.9819, abs=TOL)
    assert str(htmt_eq[0]) == ("discriminant validity: HTMT of Expectation and Quality is "
                               f"{htmt_eq[0].params['value']:.3f} (above 0.900)")
    fl_eq = [w for w in result.warnings if w.code.startswith("fornell_larcker")
             and (w.params["a"], w.params["b"]) == ("Expectation", "Quality")]
    assert len(fl_eq) == 1 and "Expectation and Quality correlate at 0.98" in str(fl_eq[0])
    # no alpha, CR or AVE is below its cut-off on this data set
    assert not {w.code for w in result.warnings} & {"alpha_low", "cr_low", "ave_low"}
    assert all(w.severity == "caution" for w in result.warnings)  # given parameters: no CFA
    assert result.status == "caution"
    d = result.to_dict()
    assert set(d["constructs"]["Image"]) == {"items", "n", "alpha", "alpha.ci.lower",
                                             "alpha.ci.upper", "omega", "cr", "ave"}
    assert d["constructs"]["Image"]["items"] == [f"imag{i}" for i in range(1, 6)]
    assert {"construct1", "construct2", "htmt"} <= set(d["htmt"][0])
    assert len(d["fornell_larcker"]) == 15
    json.dumps(d, allow_nan=False)


def test_reliability_warns_on_weak_constructs(holzinger):
    from satisfaction.questionnaire import Questionnaire

    ref = _ref("holzinger")
    q = Questionnaire.from_dict({
        "id": "hs", "title": "Holzinger-Swineford", "scales": {"s": {"min": 0, "max": 10,
                                                                     "integer": False}},
        "constructs": [{"id": b, "name": b, "items": [{"id": i, "text": i, "scale": "s"}
                                                       for i in items]}
                       for b, items in ref["blocks"].items()]})
    params = semopy_parameters(rel.measurement_model(q), holzinger)
    result = rel.reliability(q, holzinger, parameters=params)
    w = "\n".join(str(d) for d in result.warnings)
    assert {d.code for d in result.warnings} == {"alpha_low", "cr_low", "ave_low", "loading_low"}
    low = next(d for d in result.warnings if d.code == "alpha_low")
    assert (low.severity, low.constructs, low.params["construct"]) == (
        "caution", ("construct",), "visual")
    assert low.text("zh", name={"visual": "视觉"}.get) == "视觉：Cronbach's α 为 0.626，低于 0.700"
    assert "visual: Cronbach's alpha 0.626 is below 0.70" in w
    assert "speed: average variance extracted 0.430 is below 0.50" in w
    assert "visual: item x2 has a standardized loading of 0.424, below 0.50" in w
    assert "textual: " not in w
    assert "HTMT" not in w


# -- diagnostics ---------------------------------------------------------------


def test_fornell_larcker_diagnostics_are_structured():
    """One construct short of the correlation, or both: each named with its sqrt(AVE)."""
    ave = pd.Series({"A": 0.64, "B": 0.81, "C": 0.49})  # sqrt: 0.8, 0.9, 0.7
    corr = pd.DataFrame([[1, 0.85, 0.2], [0.85, 1, 0.75], [0.2, 0.75, 1]],
                        index=list("ABC"), columns=list("ABC"), dtype=float)
    fl = rel.fornell_larcker(ave, corr)
    out = rel.diagnose(pd.DataFrame(columns=["alpha", "cr", "ave"]),
                       pd.DataFrame(columns=["construct", "item", "std.all"]),
                       pd.DataFrame(columns=["construct1", "construct2", "htmt"]), fl)
    assert [(d.code, d.params["a"], d.params["b"]) for d in out] == [
        ("fornell_larcker_one", "A", "B"), ("fornell_larcker_one", "B", "C")]
    one = out[0]
    assert one.params == {"a": "A", "b": "B", "r": 0.85, "construct": "A",
                          "sqrt_ave": pytest.approx(0.8)}
    assert one.constructs == ("a", "b", "construct")
    assert str(one) == ("discriminant validity (Fornell-Larcker): A and B correlate at 0.850, "
                        "not below the square root of the AVE of A (0.800)")
    assert out[1].params["construct"] == "C"
    both = rel.diagnose(pd.DataFrame(columns=["alpha", "cr", "ave"]),
                        pd.DataFrame(columns=["construct", "item", "std.all"]),
                        pd.DataFrame(columns=["construct1", "construct2", "htmt"]),
                        rel.fornell_larcker(pd.Series({"A": 0.25, "B": 0.36}),
                                            corr.loc[["A", "B"], ["A", "B"]]))
    assert [d.code for d in both] == ["fornell_larcker_both"]
    assert str(both[0]) == ("discriminant validity (Fornell-Larcker): A and B correlate at "
                            "0.850, not below the square root of the AVE of A (0.500) and "
                            "B (0.600)")
    names = {"A": "形象", "B": "期望"}.get
    assert both[0].text("zh", name=names) == (
        "区分效度（Fornell-Larcker 准则）：形象与期望的相关为 0.850，不低于形象（0.500）和"
        "期望（0.600）的 AVE 平方根")


def test_cfa_warnings_are_scoped():
    from satisfaction.diagnostics import Diagnostic

    d = rel.cfa_diagnostic(Diagnostic("psi_not_pd", "invalidates"))
    assert (d.code, d.severity, d.scope) == ("psi_not_pd", "invalidates", ("cfa", {}))
    assert str(d) == ("CFA: the covariance matrix of the latent variables (psi) is not "
                      "positive definite")
    plain = rel.cfa_diagnostic("something the model said")
    assert (plain.code, plain.severity, str(plain)) == ("cfa", "caution",
                                                        "CFA: something the model said")


@pytest.mark.parametrize("change", ["constant", "copy"])
def test_constant_or_copied_item_is_an_input_error(bank, change):
    from satisfaction.errors import InputError

    q, data = bank
    data = data.copy()
    if change == "constant":
        data["imag2"] = 4.0
        words = "same answer from every respondent"
    else:
        data["imag2"] = data["imag1"]
        words = "'imag1' and 'imag2' are perfectly correlated"
    with pytest.raises(InputError, match=words) as err:
        rel.reliability(q, data)
    assert err.value.column == "imag2"


def _bfi_questionnaire(tmp_path: Path, reverse: tuple[str, ...] = ()) -> Path:
    lines = ["id: bfi", "title: bfi", "respondent_id: id", "scales:",
             "  six: {min: 1, max: 6}", "constructs:"]
    for block in "ACENO":
        lines += [f"  - id: {block}", f"    name: {block}", "    items:"]
        for k in range(1, 6):
            item = f"{block}{k}"
            flag = ", reverse: true" if item in reverse else ""
            lines.append(f"      - {{id: {item}, scale: six, text: {item}{flag}}}")
    path = tmp_path / "bfi.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _bfi_responses(tmp_path: Path) -> Path:
    data = pd.read_csv(REF / "bfi_raw.csv").drop(columns="gender")
    data.insert(0, "id", range(1, len(data) + 1))
    path = tmp_path / "bfi.csv"
    data.to_csv(path, index=False)
    return path


def test_reverse_item_hint_matches_psych_check_keys(tmp_path):
    """Every bfi item psych's alpha(check.keys = TRUE) would reverse, and no other,
    is named with its corrected item-total correlation (psych's r.drop)."""
    ref = json.loads((REF / "psych_reverse_items.json").read_text())
    q = load_questionnaire(_bfi_questionnaire(tmp_path))
    data = pd.read_csv(REF / "bfi_raw.csv")  # all 2,800 rows, as psych read them
    stats = rel.item_statistics(q, data)
    hints = rel.reverse_item_hints(q, data, stats)
    assert sorted(d.params["item"] for d in hints) == sorted(
        item for block in ref.values() for item in block["reversed"])
    for d in hints:
        block = ref[d.params["construct"]]
        assert d.params["value"] == pytest.approx(block["r_drop"][d.params["item"]], abs=1e-6)
        assert d.severity == "caution" and "reverse: true" in d.text("en")
    assert next(d for d in hints if d.params["item"] == "A1").params["value"] == \
        pytest.approx(-0.308418, abs=1e-6)


def test_reverse_item_hint_goes_once_the_item_is_declared(tmp_path):
    declared = ("A1", "C4", "C5", "E1", "E2", "O2", "O5")
    q = load_questionnaire(_bfi_questionnaire(tmp_path, reverse=declared))
    data = load_responses(q, _bfi_responses(tmp_path)).data
    assert rel.reverse_item_hints(q, data, rel.item_statistics(q, data)) == []


def test_reliability_reports_the_reverse_item_hint(tmp_path):
    q = load_questionnaire(_bfi_questionnaire(tmp_path))
    res = rel.reliability(q, load_responses(q, _bfi_responses(tmp_path)).data)
    named = {d.params["item"] for d in res.warnings if d.code == "reverse_item_suspected"}
    assert named == {"A1", "C4", "C5", "E1", "E2", "O2", "O5"}
