"""Holdout validation of the purchase model (satisfaction/value/validation.py) and its
place in the report (chart, table, sentence in en and zh).

References: Fader, Hardie & Lee (2005a), "Counting your customers the easy way",
Marketing Science 24(2): the CDNOW sample split into 39 + 39 weeks at 1997-09-30,
BG/NBD r = 0.243, α = 4.414, a = 0.793, b = 2.426 on the calibration weeks, and the
conditional expectations by calibration frequency (their figure 4). The predicted
means are checked against lifetimes 0.11.3 (test-only dependency, a second
implementation of E[Y(t) | x, t_x, T]) with the same parameters; the actual means
against a count of the raw file with pandas.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from satisfaction.report import value_context
from satisfaction.report.context import _Builder
from satisfaction.value.transactions import load_transactions
from satisfaction.value.validation import holdout_validation, split_date

DATA = Path(__file__).parent / "data" / "cdnow_sample.csv"


@pytest.fixture(scope="module")
def cdnow():
    return holdout_validation(load_transactions(DATA, duplicates="keep"))


def test_split_is_fhl_2005a():
    # 1997-01-01 .. 1998-06-30: the second half held out, split where FHL split it
    assert split_date(dt.date(1997, 1, 1), dt.date(1998, 6, 30)) == dt.date(1997, 9, 30)
    with pytest.raises(ValueError):
        split_date(dt.date(1997, 1, 1), dt.date(1998, 6, 30), share=1.0)


@pytest.mark.parametrize("name,published", [
    ("r", 0.243), ("alpha", 4.414), ("a", 0.793), ("b", 2.426)])
def test_calibration_fit_is_the_published_one(cdnow, name, published):
    assert cdnow.period_end == dt.date(1997, 9, 30)
    assert cdnow.holdout_end == dt.date(1998, 6, 30)
    assert cdnow.parameters[name] == pytest.approx(published, rel=0.005)


def test_actual_holdout_purchases_by_frequency_from_the_raw_file(cdnow):
    raw = pd.read_csv(DATA, parse_dates=["date"], dtype={"customer_id": str})
    days = raw[["customer_id", "date"]].drop_duplicates()  # purchase occasions
    cal = days[days["date"] <= "1997-09-30"].groupby("customer_id").size() - 1
    hold = days[days["date"] > "1997-09-30"].groupby("customer_id").size()
    hold = hold.reindex(cal.index, fill_value=0)
    assert int(hold.sum()) == 1882 == cdnow.check.actual_total
    group = cal.clip(upper=7).map(lambda v: "7+" if v >= 7 else str(v))
    expected = hold.groupby(group).mean()
    by = cdnow.check.by_frequency
    assert list(by.index) == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    np.testing.assert_allclose(by["actual"], expected.loc[by.index], rtol=1e-12)
    assert by["customers"].tolist() == group.value_counts().loc[by.index].tolist()
    assert cdnow.customers == 2357 and cdnow.first_seen_later == 0


def test_predicted_means_equal_lifetimes(cdnow):
    from lifetimes import BetaGeoFitter

    from satisfaction.value.customers import customer_table

    # the same calibration summary (x, t_x, T: tested against lifetimes' own summary in
    # test_value_clv.py), lifetimes' formula with the calibration fit's parameters
    ref = customer_table(load_transactions(DATA, duplicates="keep"),
                         period_end="1997-09-30").purchasers
    bg = BetaGeoFitter()
    bg.params_ = pd.Series({k: cdnow.parameters[k] for k in ("r", "alpha", "a", "b")})
    pred = bg.conditional_expected_number_of_purchases_up_to_time(
        39.0, ref["frequency"], ref["t_x"], ref["T"])
    group = ref["frequency"].clip(upper=7).map(lambda v: "7+" if v >= 7 else str(int(v)))
    expected = pred.groupby(group).mean()
    by = cdnow.check.by_frequency
    assert cdnow.check.length == pytest.approx(39.0, abs=1e-9)
    np.testing.assert_allclose(by["predicted"], expected.loc[by.index], rtol=1e-6)
    assert cdnow.check.predicted_total == pytest.approx(float(pred.sum()), rel=1e-6)


def test_json(cdnow):
    d = cdnow.to_dict()
    assert d["period_end"] == "1997-09-30" and d["status"] == "ok"
    assert d["check"]["actual_total"] == 1882
    assert [r["frequency"] for r in d["check"]["by_frequency"]][-1] == "7+"
    assert "warnings" not in d["parameters"]


def test_short_window_is_said_not_checked(tmp_path):
    path = tmp_path / "short.csv"
    pd.DataFrame({"customer_id": ["a", "a", "b", "b"],
                  "date": ["2024-01-01", "2024-01-10", "2024-01-03", "2024-01-20"],
                  "amount": [10, 12, 5, 7]}).to_csv(path, index=False)
    v = holdout_validation(load_transactions(path, today="2025-01-01"))
    assert v.check is None and v.status == "none"
    assert [w.code for w in v.warnings] == ["clv_holdout_short"]
    assert v.warnings[0].params == {"days": 19, "minimum": 56}
    assert v.to_dict()["check"] is None


class _NoConstructs:
    observed: tuple = ()
    groups: tuple = ()

    def construct(self, key: str):
        raise KeyError(key)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_report_shows_the_check(cdnow, lang):
    b = _Builder(SimpleNamespace(questionnaire=_NoConstructs()), lang)
    out = value_context._holdout(b, cdnow)
    # the table is the check's own rows
    rows = out["holdout"].rows
    assert len(rows) == 8
    by = cdnow.check.by_frequency
    assert [r[0].text for r in rows] == list(by.index)
    np.testing.assert_allclose([r[2].raw for r in rows], by["actual"], rtol=1e-12)
    np.testing.assert_allclose([r[3].raw for r in rows], by["predicted"], rtol=1e-12)
    assert [r[3].text for r in rows] == [f"{v:.2f}" for v in by["predicted"]]
    note = out["holdout_note"]
    # the totals quoted: 1,653 predicted, 1,882 actual, +13.8% against the prediction
    assert "1,653" in note and "1,882" in note and "+13.8%" in note
    assert "1997-09-30" in note and "BG/NBD" in note and ("39 weeks" if lang == "en"
                                                          else "39 周") in note
    if lang == "zh":
        assert not re.search(r"[A-Za-z]{4,}", note.replace("Fader", "").replace("Hardie", ""))
    svg = out["holdout_chart"]
    assert svg.startswith("<svg") and "7+" in svg


def test_report_says_why_there_is_no_check(tmp_path):
    path = tmp_path / "short.csv"
    pd.DataFrame({"customer_id": ["a", "a"], "date": ["2024-01-01", "2024-01-10"],
                  "amount": [10, 12]}).to_csv(path, index=False)
    v = holdout_validation(load_transactions(path, today="2025-01-01"))
    b = _Builder(SimpleNamespace(questionnaire=_NoConstructs()), "en")
    out = value_context._holdout(b, v)
    assert "holdout_chart" not in out
    assert out["holdout_note"].startswith("The transactions span 9 days")
    assert out["holdout_note"].endswith("needed).")  # a sentence of the prose


def test_the_pipelines_value_stage_validates_its_purchase_model(tmp_path):
    from satisfaction.pipeline import _Runner, _value_stage

    q = SimpleNamespace(customer_id=None)
    analysis = SimpleNamespace(questionnaire=q, value=None, warnings=[], timings={})
    _value_stage(_Runner(analysis, None), analysis, DATA, ("bgnbd", "gamma_gamma"))
    held = analysis.value["holdout"]
    # the CDNOW file as the report reads it (duplicate rows excluded, as its loader does)
    mine = holdout_validation(load_transactions(DATA))
    assert held.to_dict() == mine.to_dict()
    assert held.period_end == dt.date(1997, 9, 30) and held.model == "bgnbd"
    # only Pareto/NBD asked for: it is the one validated
    analysis = SimpleNamespace(questionnaire=q, value=None, warnings=[], timings={})
    _value_stage(_Runner(analysis, None), analysis, DATA, ("pareto_nbd",))
    pn = analysis.value["holdout"]
    assert pn.model == "pareto_nbd" and pn.customers == mine.customers == 2357
    # the published Pareto/NBD of the 39 calibration weeks (FHL 2005b)
    for name, published in (("r", 0.553), ("alpha", 10.58), ("s", 0.606), ("beta", 11.67)):
        assert pn.parameters[name] == pytest.approx(published, rel=0.01)
    # too short a window: no check, and the report's warnings say why
    path = tmp_path / "short.csv"
    pd.DataFrame({"customer_id": ["a", "a", "b"],
                  "date": ["2024-01-01", "2024-01-10", "2024-01-03"],
                  "amount": [10, 12, 5]}).to_csv(path, index=False)
    analysis = SimpleNamespace(questionnaire=q, value=None, warnings=[], timings={})
    _value_stage(_Runner(analysis, None), analysis, path, ("bgnbd",))
    assert analysis.value["holdout"].check is None
    assert "clv_holdout_short" in [w.diagnostic.code for w in analysis.warnings]


def test_report_shows_no_check_of_predictions_that_are_not_there():
    """A calibration fit that gives NaN predictions (a degenerate fit): the report
    shows no chart or table, and says why, in the report's language."""
    import numpy as np

    from satisfaction.value.clv import HoldoutCheck
    from satisfaction.value.validation import HoldoutValidation

    by = pd.DataFrame({"customers": [3], "actual": [1.0], "predicted": [np.nan]},
                      index=["0"])
    check = HoldoutCheck(length=10.0, per_customer=pd.DataFrame(), by_frequency=by,
                         actual_total=3.0, predicted_total=float("nan"), mae=float("nan"),
                         rmse=float("nan"), correlation=None)
    v = HoldoutValidation(model="bgnbd", period_end=dt.date(2024, 6, 30),
                          holdout_end=dt.date(2024, 12, 30), time_unit="week", check=check)
    for lang, said in (("en", "gives no finite prediction"), ("zh", "没有有限的预测")):
        b = _Builder(SimpleNamespace(questionnaire=_NoConstructs()), lang)
        out = value_context._holdout(b, v)
        assert "holdout_chart" not in out and "holdout" not in out
        assert said in out["holdout_note"] and "2024-06-30" in out["holdout_note"]
