"""Key-driver importance within groups (satisfaction/group_drivers.py).

References:
* R: LMG by ``lm()`` over all subsets and Johnson's weights by ``eigen()`` within each
  gender of the bank data (tests/reference/group_drivers_reference.R / .json);
* the closed form of LMG for two drivers;
* :func:`satisfaction.importance.shapley_r2` / ``driver_importance`` on each group's rows;
* a loop implementation of the permutation test (same permutations, one group and one
  permutation at a time through ``shapley_r2``);
* size and power of the test on simulated data (many seeded replicates, not one draw).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from satisfaction.compare import adjust_pvalues
from satisfaction.errors import InputError
from satisfaction.group_drivers import (
    group_driver_importance,
    minimum_n,
    permutation_test,
    shares_of,
)
from satisfaction.importance import driver_importance, shapley_r2

REF = Path(__file__).parent / "reference"
DATA = Path(__file__).parent / "data"
DRIVERS = ["Image", "Expectation", "Quality", "Value"]


@pytest.fixture(scope="module")
def bank() -> pd.DataFrame:
    scores = pd.read_csv(REF / "importance_bank_scores.csv", index_col="respondent")
    gender = pd.read_csv(DATA / "bank_gender.csv", index_col="respondent")
    return scores.join(gender)


def test_minimum_n_rule() -> None:
    assert minimum_n(4) == 100
    assert minimum_n(11) == 110
    assert minimum_n(15) == 150


def test_within_group_shares_equal_r_by_subsets(bank: pd.DataFrame) -> None:
    ref = json.loads((REF / "group_drivers_reference.json").read_text())["groups"]
    res = group_driver_importance(bank, "Satisfaction", DRIVERS, {"gender": bank["gender"]},
                                  bootstrap=200, permutations=199, seed=3)
    assert res.measure == "shapley.share"
    assert set(res.importance["group"]) == {"female", "male"}
    for group, expected in ref.items():
        rows = res.importance[res.importance["group"] == group].set_index("driver")
        assert int(rows["n"].iloc[0]) == expected["n"]
        assert rows["r2"].iloc[0] == pytest.approx(expected["r2"], abs=1e-9)
        got = rows.loc[expected["drivers"], "share"].to_numpy()
        np.testing.assert_allclose(got, expected["shapley_share"], atol=1e-9)
        # the relative-weight shares of the same group's correlation matrix
        d = bank.loc[bank["gender"] == group, [*DRIVERS, "Satisfaction"]]
        corr = np.corrcoef(d.to_numpy(dtype=float), rowvar=False)[None]
        np.testing.assert_allclose(shares_of(corr, shapley=False)[0],
                                   expected["relative_weight_share"], atol=1e-9)
        # the interval holds the estimate
        assert (rows["share.ci.lower"] <= rows["share"]).all()
        assert (rows["share"] <= rows["share.ci.upper"]).all()
    # male's Value share (0.491) is the largest in the table: rank 1
    male = res.importance[res.importance["group"] == "male"].set_index("driver")
    assert male.loc["Value", "rank"] == 1
    test = res.tests.set_index("driver").loc["Value"]
    assert (test["high"], test["low"]) == ("male", "female")
    assert test["difference"] == pytest.approx(0.49119 - 0.35762, abs=1e-5)
    assert 0 < test["pvalue"] <= 1 and test["pvalue.adjusted"] >= test["pvalue"]


def _simulate(rng: np.random.Generator, n: int, beta: list[float], rho: float = 0.4,
              shift: float = 0.0, scale: float = 1.0) -> pd.DataFrame:
    p = len(beta)
    cov = np.full((p, p), rho) + (1 - rho) * np.eye(p)
    x = rng.multivariate_normal(np.zeros(p), cov, size=n)
    y = x @ np.asarray(beta) + rng.normal(size=n)
    frame = pd.DataFrame(np.column_stack([x, y]) * scale + shift,
                         columns=[*(f"d{j + 1}" for j in range(p)), "y"])
    return frame


def _groups(frames: dict[str, pd.DataFrame]) -> tuple[pd.DataFrame, pd.Series]:
    data = pd.concat(frames.values(), ignore_index=True)
    labels = pd.Series(np.repeat(list(frames), [len(f) for f in frames.values()]),
                       index=data.index)
    return data, labels


def test_two_drivers_closed_form_and_importance_functions() -> None:
    rng = np.random.default_rng(11)
    data, labels = _groups({"a": _simulate(rng, 150, [0.8, 0.3]),
                            "b": _simulate(rng, 130, [0.2, 0.9], rho=0.2)})
    res = group_driver_importance(data, "y", ["d1", "d2"], {"g": labels}, bootstrap=300,
                                  permutations=99, seed=5)
    for k, group in enumerate(["a", "b"]):
        d = data[labels == group]
        r = np.corrcoef(d.to_numpy(dtype=float), rowvar=False)
        r1, r2, r12 = r[0, 2], r[1, 2], r[0, 1]
        big = (r1**2 + r2**2 - 2 * r1 * r2 * r12) / (1 - r12**2)
        lmg1 = 0.5 * (r1**2 + (big - r2**2))  # LMG of two drivers in closed form
        rows = res.importance[res.importance["group"] == group].set_index("driver")
        assert rows.loc["d1", "share"] == pytest.approx(lmg1 / big, abs=1e-10)
        assert rows.loc["d2", "share"] == pytest.approx(1 - lmg1 / big, abs=1e-10)
        ref = shapley_r2(d["y"], d[["d1", "d2"]]).set_index("driver")
        np.testing.assert_allclose(rows["share"], ref.loc[rows.index, "shapley.share"],
                                   atol=1e-12)
        # the intervals are driver_importance's on the group's rows, with the group's seed
        boot = driver_importance(d["y"], d[["d1", "d2"]], bootstrap=300, seed=5 + k)
        np.testing.assert_allclose(rows["share.ci.lower"],
                                   boot.table["shapley.share.ci.lower"], atol=1e-12)
        np.testing.assert_allclose(rows["share.ci.upper"],
                                   boot.table["shapley.share.ci.upper"], atol=1e-12)
        # the difference interval of the tested pair comes from the same draws
    t = res.tests.set_index("driver").loc["d1"]
    da = driver_importance(data.loc[labels == "a", "y"], data.loc[labels == "a", ["d1", "d2"]],
                           bootstrap=300, seed=5).draws["shapley.share"][:, 0]
    db = driver_importance(data.loc[labels == "b", "y"], data.loc[labels == "b", ["d1", "d2"]],
                           bootstrap=300, seed=6).draws["shapley.share"][:, 0]
    m = min(len(da), len(db))
    lo, hi = np.quantile(da[:m] - db[:m], [0.025, 0.975])
    assert (t["high"], t["low"]) == ("a", "b")
    assert (t["difference.ci.lower"], t["difference.ci.upper"]) == pytest.approx((lo, hi))


def test_permutation_p_values_equal_a_loop_over_permutations() -> None:
    rng = np.random.default_rng(2)
    data, labels = _groups({"a": _simulate(rng, 60, [0.6, 0.4, 0.1], shift=3, scale=2),
                            "b": _simulate(rng, 45, [0.3, 0.3, 0.5]),
                            "c": _simulate(rng, 50, [0.5, 0.1, 0.4], shift=-1)})
    cols = ["d1", "d2", "d3", "y"]
    codes = pd.Categorical(labels, categories=["a", "b", "c"]).codes
    stat, pvalue = permutation_test(data[cols].to_numpy(), codes, 60, seed=9)

    # second implementation: standardize within group, permute, shapley_r2 group by group
    z = data[cols].copy()
    for g in ("a", "b", "c"):
        block = z[labels == g]
        z[labels == g] = (block - block.mean()) / block.std()
    positions = [np.flatnonzero(codes == k) for k in range(3)]

    def spread(frame: pd.DataFrame) -> np.ndarray:
        shares = [shapley_r2(frame.iloc[pos]["y"], frame.iloc[pos][cols[:3]])["shapley.share"]
                  .to_numpy() for pos in positions]
        return np.max(shares, axis=0) - np.min(shares, axis=0)

    observed = spread(data[cols])
    np.testing.assert_allclose(stat, observed, atol=1e-10)
    rng = np.random.default_rng(9)
    reached = np.zeros(3)
    for _ in range(60):
        perm = rng.permutation(len(z))
        reached += spread(z.iloc[perm].reset_index(drop=True)) >= observed - 1e-12
    np.testing.assert_allclose(pvalue, (1 + reached) / 61, atol=1e-12)


def test_size_when_importance_is_equal() -> None:
    """Groups with the same drivers' structure but different means and spreads: the
    share of p-values below 0.05 stays near its nominal value over 300 replicates."""
    rng = np.random.default_rng(20261201)
    pvalues, family = [], []
    codes = np.repeat([0, 1, 2], [120, 160, 100])
    for rep in range(300):
        data, _ = _groups({
            "a": _simulate(rng, 120, [0.5, 0.3, 0.2]),
            "b": _simulate(rng, 160, [0.5, 0.3, 0.2], shift=10, scale=3),
            "c": _simulate(rng, 100, [0.5, 0.3, 0.2], shift=-5, scale=0.5)})
        _, p = permutation_test(data.to_numpy(), codes, 49, seed=rep)
        pvalues += list(p)
        family.append(bool((adjust_pvalues(p, "holm") < 0.05).any()))
    # with 49 permutations P(p < 0.05) = P(p <= 2/50) = 0.04 exactly under the null
    rate = float(np.mean(np.asarray(pvalues) < 0.05))
    assert 0.02 <= rate <= 0.07, rate
    assert float(np.mean(family)) <= 0.07
    # p-values of a valid test are close to uniform on {1/50, ..., 1}: mean near 0.51
    assert 0.46 <= float(np.mean(pvalues)) <= 0.56


def test_power_when_one_driver_matters_more_in_one_group() -> None:
    rng = np.random.default_rng(7)
    called, others = [], []
    for rep in range(40):
        data, labels = _groups({"a": _simulate(rng, 150, [0.9, 0.3, 0.3]),
                                "b": _simulate(rng, 150, [0.1, 0.3, 0.3])})
        res = group_driver_importance(data, "y", ["d1", "d2", "d3"], {"g": labels},
                                      bootstrap=0, permutations=199, seed=rep)
        t = res.tests.set_index("driver")
        called.append(t.loc["d1", "pvalue.adjusted"] < 0.05 and t.loc["d1", "high"] == "a")
        others.append(t.loc["d1", "difference"])
    assert float(np.mean(called)) >= 0.9
    # the observed spread estimates the populations' difference of d1's share
    # (population correlations from Cov(x) = S, Cov(x, y) = S b, Var(y) = b'S b + 1)
    truth = []
    for beta in ([0.9, 0.3, 0.3], [0.1, 0.3, 0.3]):
        cov = np.full((3, 3), 0.4) + 0.6 * np.eye(3)
        b = np.asarray(beta)
        full = np.block([[cov, (cov @ b)[:, None]], [(cov @ b)[None, :], b @ cov @ b + 1]])
        sd = np.sqrt(np.diag(full))
        truth.append(shares_of((full / np.outer(sd, sd))[None])[0, 0])
    assert float(np.mean(others)) == pytest.approx(truth[0] - truth[1], abs=0.04)


def test_small_groups_and_missing_values_are_counted_not_dropped() -> None:
    rng = np.random.default_rng(4)
    data, labels = _groups({"a": _simulate(rng, 130, [0.5, 0.5]),
                            "b": _simulate(rng, 120, [0.5, 0.5]),
                            "tiny": _simulate(rng, 40, [0.5, 0.5])})
    labels = labels.astype(object)
    labels.iloc[:5] = None  # no group
    data.loc[10:14, "d2"] = np.nan  # incomplete scores in a
    other = pd.Series(np.where(np.arange(len(data)) < 200, "x", "y"), index=data.index)
    res = group_driver_importance(data, "y", ["d1", "d2"], {"g": labels, "other": other},
                                  bootstrap=0, permutations=19)
    assert res.min_n == 100
    ex = res.excluded.set_index(["by", "reason"])
    assert ex.loc[("g", "missing group value"), "n"] == 5
    assert ex.loc[("g", "incomplete scores"), "n"] == 5
    assert ex.loc[("g", "group below minimum n"), "group"] == "tiny"
    assert ex.loc[("g", "group below minimum n"), "n"] == 40
    analysed = res.importance[res.importance["by"] == "g"].drop_duplicates("group")["n"].sum()
    assert analysed + res.excluded[res.excluded["by"] == "g"]["n"].sum() == len(data)
    assert set(res.importance[res.importance["by"] == "g"]["group"]) == {"a", "b"}
    # 'other' has y with 90 respondents: one group qualifies, the variable is not analysed
    assert "other" not in res.variables
    assert ex.loc[("other", "variable not analysed"), "n"] == 195  # 5 of x lack d2
    assert ex.loc[("other", "incomplete scores"), "n"] == 5
    assert res.excluded[res.excluded["by"] == "other"]["n"].sum() == len(data)
    assert ex.loc[("other", "group below minimum n"), "n"] == 90
    small = {(d.params["by"], d.params["group"]): d for d in res.warnings
             if d.code == "group_drivers_small_group"}
    assert set(small) == {("g", "tiny"), ("other", "y")}  # one note per group, its code
    assert small[("g", "tiny")].params["n"] == 40 and small[("g", "tiny")].params["min_n"] == 100
    assert small[("other", "y")].params["n"] == 90
    # the code is shown without the questionnaire; the report passes its labels
    assert small[("g", "tiny")].text("en") == (
        "key drivers by g: the group tiny has 40 respondents with complete scores, fewer "
        "than the 100 the per-group driver analysis needs; it is left out")
    assert "the group <g=tiny> has 40" in small[("g", "tiny")].text(
        "en", category=lambda by, code: f"<{by}={code}>")
    not_run = [d for d in res.warnings if d.code == "group_drivers_not_run"]
    assert [d.params for d in not_run] == [{"by": "other", "groups": 2, "min_n": 100}]
    json.dumps(res.to_dict())  # the JSON contract holds plain values


def test_categorical_order_is_kept_and_bad_input_is_named() -> None:
    rng = np.random.default_rng(8)
    data, labels = _groups({"z": _simulate(rng, 110, [0.5, 0.2]),
                            "m": _simulate(rng, 110, [0.5, 0.2])})
    ordered = pd.Series(pd.Categorical(labels, categories=["z", "m"]), index=labels.index)
    res = group_driver_importance(data, "y", ["d1", "d2"], {"g": ordered}, bootstrap=0,
                                  permutations=9)
    assert list(dict.fromkeys(res.importance["group"])) == ["z", "m"]
    with pytest.raises(InputError, match="no scores"):
        group_driver_importance(data, "y", ["d1", "nope"], {"g": labels})
    with pytest.raises(InputError, match="permutation"):
        group_driver_importance(data, "y", ["d1"], {"g": labels}, permutations=0)


# -- in the pipeline and the report -------------------------------------------------


@pytest.fixture(scope="module")
def bank_run(bank_csv: Path) -> object:
    from satisfaction.pipeline import run
    from satisfaction.questionnaire import load_questionnaire

    return run(load_questionnaire("ecsi_bank"), bank_csv, bootstrap=100, seed=1,
               parallel=False)


def test_pipeline_uses_the_driver_chapters_drivers_and_scores(bank_run: object) -> None:
    a = bank_run
    res = a.group_drivers
    decomposition = a.ipa.decomposition
    assert res.target == a.ipa.target == a.satisfaction
    assert res.drivers == decomposition.drivers  # read from the IPA, not from names
    scores = a.indices.scores
    gender = a.responses.data["gender"]
    for group in ("male", "female"):
        rows = gender == group
        ref = shapley_r2(scores.loc[rows, res.target], scores.loc[rows, res.drivers])
        got = res.importance[res.importance["group"] == group].set_index("driver")
        np.testing.assert_allclose(got.loc[ref["driver"], "share"], ref["shapley.share"],
                                   atol=1e-12)
    out = a.to_dict()
    assert out["group_drivers"]["importance"] and out["group_drivers"]["tests"]
    assert out["group_drivers"]["min_n"] == 100
    json.dumps(out["group_drivers"])


def test_report_sentences_and_chart_agree_with_the_tests(bank_run: object) -> None:
    """A difference made certain (male Satisfaction follows Value): the sentence names
    the driver, the groups and the tested numbers; the chart marks the driver."""
    import copy

    from satisfaction.report.cells import fmt_p, fmt_pct
    from satisfaction.report.context import build_context

    a = copy.copy(bank_run)
    scores = a.indices.scores.copy()
    male = a.responses.data["gender"] == "male"
    rng = np.random.default_rng(3)
    scores.loc[male, "Satisfaction"] = scores.loc[male, "Value"] + rng.normal(0, 3, male.sum())
    a.group_drivers = group_driver_importance(
        scores, "Satisfaction", a.ipa.decomposition.drivers, {"gender": a.responses.data["gender"]},
        bootstrap=200, permutations=199, seed=1)
    row = a.group_drivers.tests.set_index("driver").loc["Value"]
    assert row["pvalue.adjusted"] < 0.05 and row["high"] == "male"
    for lang, value, male_name in (("en", "Perceived value", "male"), ("zh", "感知价值", "男")):
        section = build_context(a, lang)["groups"]["drivers"]
        text = section["sentences"][0]
        assert value in text and male_name in text
        assert fmt_pct(row["share.high"]) in text and fmt_pct(row["share.low"]) in text
        assert f"{100 * row['difference']:.1f}" in text
        assert fmt_p(row["pvalue.adjusted"]) in text
        assert f"{value} *" in section["chart"]  # the marked driver's label
    quiet = build_context(bank_run, "en")["groups"]["drivers"]
    assert "no driver's share differs significantly" in quiet["sentences"][0]
    assert "*" not in "".join(t for t in quiet["chart"].split(">") if "Perceived" in t)


def test_report_names_the_exceptions_and_the_groups_too_small(bank_run: object) -> None:
    import copy

    from satisfaction.report.context import build_context

    rng = np.random.default_rng(12)
    value_first, image_first = [0.2, 0.1, 0.1, 0.9], [0.9, 0.1, 0.1, 0.2]
    frames = {"male": _simulate(rng, 150, value_first), "female": _simulate(rng, 150, value_first),
              "other": _simulate(rng, 150, image_first), "tiny": _simulate(rng, 30, value_first)}
    data, labels = _groups(frames)
    data.columns = [*DRIVERS, "Satisfaction"]
    a = copy.copy(bank_run)
    a.group_drivers = group_driver_importance(data, "Satisfaction", DRIVERS, {"gender": labels},
                                              bootstrap=100, permutations=99, seed=2)
    top = a.group_drivers.importance.query("rank == 1").set_index("group")["driver"]
    assert top.to_dict() == {"male": "Value", "female": "Value", "other": "Image"}
    en = build_context(a, "en")["groups"]["drivers"]
    assert "Perceived value is the top driver in every group except other (Image)." \
        in en["sentences"][0]
    assert en["notes"] == ["Not analysed by key driver (fewer than 100 respondents with "
                           "complete scores): Gender: tiny (n = 30)."]
    context = build_context(a, "zh")
    zh = context["groups"]["drivers"]
    assert "除other（企业形象）外，感知价值在每个组中都是首要驱动因素。" in zh["sentences"][0]
    assert "性别：tiny（n = 30）" in zh["notes"][0]
    # the workbook's shares by group: the chapter's term for the share of R² (份额;
    # 占比 is a proportion of people, zh.yaml's glossary)
    shares = next(t for t in context["tables"] if t.key == "group_drivers")
    assert shares.columns[4] == "R² 份额"


def test_report_lists_the_diagnostics_with_the_group_labels(bank_run: object) -> None:
    """The warnings appendix names a group too small by its label in the report's
    language (ecsi_bank: female = 女), as the chapter does, not by its code."""
    import copy

    from satisfaction.pipeline import AnalysisWarning
    from satisfaction.report.context import build_context

    a = copy.copy(bank_run)
    gender = a.responses.data["gender"]
    keep = ~((gender == "female") & (gender.groupby(gender).cumcount() >= 60))
    scores = a.indices.scores[keep]
    res = group_driver_importance(scores, a.ipa.target, a.ipa.decomposition.drivers,
                                  {"gender": gender[keep]}, bootstrap=0, permutations=9)
    n_female = int(((gender[keep] == "female")
                    & scores[[*res.drivers, res.target]].notna().all(axis=1)).sum())
    assert 0 < n_female < res.min_n
    a.warnings = [AnalysisWarning("compare", d) for d in res.warnings]
    texts = {}
    for lang in ("en", "zh"):
        rows = build_context(a, lang)["appendix"]["warnings"].rows
        texts[lang] = [cell.text for row in rows for cell in row]
    assert any(f"key drivers by Gender: the group female has {n_female} respondents" in t
               for t in texts["en"])
    assert any(f"按性别分组的驱动因素分析：女组的完整得分受访者只有 {n_female} 名" in t
               for t in texts["zh"])
    assert any("fewer than two of its 2 groups" in t for t in texts["en"])


def test_zh_names_the_share_of_r2_as_in_its_glossary() -> None:
    """zh.yaml's glossary: 份额 is a driver's part of the explained variance, 占比 a
    proportion of people or money; no text calls the share of R² 占比, and the
    chapter's term is R² 份额 (the workbook's column: test above)."""
    import re

    import yaml

    from satisfaction.resources import TEMPLATES

    catalog = yaml.safe_load((TEMPLATES / "messages" / "zh.yaml").read_text(encoding="utf-8"))

    def texts(node: object) -> list[str]:
        if isinstance(node, dict):
            return [t for v in node.values() for t in texts(v)]
        return [node] if isinstance(node, str) else []

    r2_as_proportion = re.compile(r"(R²|方差|Shapley)[^，。；、]{0,8}占比|占比[^，。；、]{0,8}(R²|方差)")
    assert [t for t in texts(catalog) if r2_as_proportion.search(t)] == []
    assert catalog["group_drivers"]["axis"] == "R² 份额"


def test_values_outside_the_bands_are_counted_under_their_own_reason() -> None:
    """A numeric group variable with bands: respondents whose value lies outside the
    bands are counted as the group comparison counts them ('outside the bands (below
    a or above b)'), the truly missing ones as 'missing group value'; the counts add up."""
    from satisfaction.compare import band_codes, outside_bands, outside_reason

    rng = np.random.default_rng(8)
    data = _simulate(rng, 260, [0.5, 0.5])
    age = pd.Series(rng.integers(18, 70, len(data)).astype(float), index=data.index)
    age.iloc[:4] = 95.0      # above the last edge
    age.iloc[4:6] = 10.0     # below the first
    age.iloc[6:9] = np.nan   # missing
    bands = [18, 40, 70]
    labels = band_codes(age, bands)
    res = group_driver_importance(data, "y", ["d1", "d2"], {"age": labels}, bootstrap=0,
                                  permutations=19,
                                  outside={"age": (outside_reason(bands),
                                                   outside_bands(age, bands))})
    ex = res.excluded.set_index(["by", "reason"])["n"]
    assert ex[("age", "outside the bands (below 18 or above 70)")] == 6
    assert ex[("age", "missing group value")] == 3
    analysed = res.importance.drop_duplicates("group")["n"].sum()
    assert analysed + res.excluded["n"].sum() == len(data)
