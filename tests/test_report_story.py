"""The report's story on the bank data: summary, item results, groups, methods.

Numbers are checked against R (group-mean intervals: t.test) or against the
analysis results the chapters show; the bank analysis runs once, without
bootstrap, so the module stays short.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from satisfaction.pipeline import run
from satisfaction.report.context import build_context, fmt, mean_interval
from satisfaction.report.summary_context import SURVEY_CONDITIONS
from satisfaction.topbox import box_scores
from satisfaction.value.rfm import DEFAULT_SEGMENTS

REF = Path(__file__).parent / "reference"


def test_group_mean_interval_equals_t_test(bank_csv: Path) -> None:
    data = pd.read_csv(bank_csv)
    for ref in json.loads((REF / "group_means_reference.json").read_text(encoding="utf-8")):
        x = data.loc[data["gender"] == ref["gender"], ref["item"]]
        lo, hi = mean_interval(x.mean(), x.std(ddof=1), len(x))
        assert (lo, hi) == (pytest.approx(ref["lower"], abs=1e-9),
                            pytest.approx(ref["upper"], abs=1e-9))
    assert mean_interval(5.0, None, 10) == (None, None)
    assert mean_interval(5.0, 1.0, 1) == (None, None)


@pytest.fixture(scope="module")
def bank(bank_csv: Path) -> dict:
    analysis = run("ecsi_bank", bank_csv, bootstrap=0)
    return {"analysis": analysis, "en": build_context(analysis, "en"),
            "zh": build_context(analysis, "zh")}


def test_summary_holds_headline_findings_chart_and_survey_actions(bank: dict) -> None:
    a, ctx = bank["analysis"], bank["en"]
    s = ctx["summary"]
    sat = a.indices.constructs.set_index("construct").loc[a.satisfaction]
    assert s["cards"][0]["value"] == fmt(sat["index"], 1)
    assert s["cards"][0]["ci"] == f"[{fmt(sat['ci.lower'], 1)}, {fmt(sat['ci.upper'], 1)}]"
    assert 3 <= len(s["findings"]) <= 5
    assert s["findings"][0].startswith(f"Satisfaction stands at {fmt(sat['index'], 1)}")
    assert all(any(ch.isdigit() for ch in f) for f in s["findings"])
    assert s["driver_chart"] and s["driver_chart"].startswith("<svg")
    assert s["actions"] is not None
    assert all(r["condition"] in SURVEY_CONDITIONS for r in s["actions"])
    # the bank's CB-SEM is inadmissible and PLS is used: many limitations; the page
    # lists at most four of those that concern the results shown (the fallback first,
    # then the CB-SEM's gates it names; not the CFA's diagnostics nor the CB-SEM's fit
    # cautions) and counts the rest
    from satisfaction.report.context import _Builder

    total = len(_Builder(a, "en").limitations())
    shown = s["limitations"]
    assert total > 5 and 0 < len(shown) <= 4
    assert shown[0]["text"].startswith("the covariance-based (CB-SEM) solution failed")
    assert shown[1]["severity"] == "invalidates"
    assert not any(lim["text"].startswith("CFA") or "misses the cut-off" in lim["text"]
                   for lim in shown)
    assert s["limitations_more"].startswith(f"… and {total - len(shown)} further limitations")


def test_benchmark_is_compared_with_the_interval(bank: dict) -> None:
    a = bank["analysis"]
    sat = a.indices.constructs.set_index("construct").loc[a.satisfaction]
    for target, side in ((sat["ci.lower"] - 5, "above"), (sat["ci.upper"] + 5, "below"),
                         (sat["index"], "level")):
        a.questionnaire.benchmarks = {a.satisfaction: float(target)}
        try:
            card = build_context(a, "en")["summary"]["cards"][0]
        finally:
            a.questionnaire.benchmarks = {}
        assert card["benchmark"]["side"] == side
        assert f"benchmark of {fmt(float(target), 1)}" in card["benchmark"]["text"]


def test_item_results_and_nps_are_the_box_scores(bank: dict) -> None:
    a, items = bank["analysis"], bank["en"]["items"]
    boxes = box_scores(a.questionnaire, a.responses.data)
    weakest = boxes.items.sort_values(["top", "mean_share"], kind="stable")
    first = items["weakest"].rows[0]
    assert first[0].text == weakest.index[0]
    assert first[3].raw == pytest.approx(weakest.iloc[0]["top"])
    nps = boxes.nps.loc["loy3"]
    assert items["nps"].rows[0][2].text == fmt(nps["nps"], 1)
    assert items["nps_sentence"] in bank["en"]["summary"]["findings"]


def test_group_chapter_charts_means_and_moves_tests_to_the_appendix(bank: dict) -> None:
    groups = bank["en"]["groups"]
    assert groups["chart"] and groups["chart"].startswith("<svg")
    families = {r[2].text for r in groups["table"].rows}
    assert families == {"Welch t"}  # tests of means only; ranks and χ² in the workbook


def test_methods_appendix_states_how_figures_were_made(bank: dict) -> None:
    blocks = bank["en"]["appendix"]["methods_blocks"]
    text = " ".join(line for b in blocks for line in b["lines"])
    terms = {t for b in blocks for t, _ in b["terms"]}
    fiml = bank["analysis"].options.get("sem_missing") == "fiml"
    assert ("full-information maximum likelihood" in text) == fiml
    assert ("listwise" in text) == (not fiml)
    assert "Priority of a recommendation" in text
    for word in ("HTMT", "AVE", "P(alive)", "NPS", "Top-2-box"):
        assert word in terms, word
    assert len(DEFAULT_SEGMENTS) > 0


def test_methods_define_every_rfm_segment_and_lifecycle_stage(tmp_path: Path) -> None:
    from satisfaction.report.methods_context import methods_section
    from satisfaction.simulate import simulate_demo

    data = simulate_demo(n_respondents=300, n_customers=2_000, seed=7)
    responses, transactions = tmp_path / "r.csv", tmp_path / "t.csv"
    data.responses.to_csv(responses, index=False)
    data.transactions.to_csv(transactions, index=False, date_format="%Y-%m-%d")
    analysis = run(data.questionnaire, responses, transactions, bootstrap=0)
    ctx = build_context(analysis, "en")
    b = {blk["title"]: blk for blk in ctx["appendix"]["methods_blocks"]}
    rfm = dict(b["RFM segments"]["terms"])
    assert rfm["Champions"] == "R 4–5, F 4–5, M 4–5"
    assert len(rfm) == len(DEFAULT_SEGMENTS) + 1
    assert set(dict(b["Lifecycle stages"]["terms"])) == {"Acquisition", "Growth", "Maturity",
                                                        "Decline", "Lapsed"}
    clv = " ".join(b["Customer lifetime value"]["lines"])
    st = analysis.value["result"].settings
    assert f"next {st['horizon']} weeks" in clv and "discounted at 10% a year" in clv
    assert "currency of the transactions file" in clv
    assert methods_section.__doc__
    # the customer-value chapter holds the database actions, the summary none of them
    assert all(r["condition"] not in SURVEY_CONDITIONS for r in ctx["value"]["actions"])
