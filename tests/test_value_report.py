"""The report's sentences on satisfaction and value are made from the link's own
numbers (the ones its table and the segment chart show) and claim no more than
their intervals carry."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from satisfaction.report import value_context
from satisfaction.report.context import _Builder, fmt
from satisfaction.value.link import link_survey

HERE = Path(__file__).parent


class _NoConstructs:
    observed: tuple = ()
    groups: tuple = ()

    def construct(self, key: str):
        raise KeyError(key)


def _section(link, lang: str = "en") -> tuple[dict, _Builder]:
    analysis = SimpleNamespace(questionnaire=_NoConstructs(), satisfaction="satisfaction",
                               link=link)
    b = _Builder(analysis, lang)
    return value_context._link(b, link), b


@pytest.fixture(scope="module")
def fixture_link():
    scores = pd.read_csv(HERE / "data" / "link_scores.csv", index_col="respondent",
                         dtype={"customer_id": str})
    customers = pd.read_csv(HERE / "data" / "link_customers.csv", index_col="customer_id")
    return link_survey(scores, customers)


def _numbers(text: str) -> list[str]:
    return re.findall(r"-?\d+\.\d+", text)


def test_sentences_quote_the_tables_numbers(fixture_link):
    out, _ = _section(fixture_link)
    link = fixture_link
    first, second = out["predicts"]
    rel = link.relations.set_index(["construct", "outcome"])
    r = rel.loc[("satisfaction", "repeat_purchases")]
    assert first.startswith("Customers with higher satisfaction have higher repeat purchases: "
                            f"r = {fmt(r['r'])} [{fmt(r['ci_lower'])}, {fmt(r['ci_upper'])}]")
    # the segment means quoted are the chart's / table's rows (one decimal, as drawn)
    seg = link.groups[(link.groups["by"] == "rfm_segment")
                      & (link.groups["construct"] == "satisfaction")]
    hi, lo = seg.loc[seg["mean"].idxmax()], seg.loc[seg["mean"].idxmin()]
    _, b = _section(link)
    assert (f"highest among {b.label('segments', hi['group'])} ({hi['mean']:.1f}) and lowest "
            f"among {b.label('segments', lo['group'])} ({lo['mean']:.1f})") in first
    table_means = {row[2].text for row in out["by_segment"].rows}
    assert f"{hi['mean']:.1f}" in table_means and f"{lo['mean']:.1f}" in table_means
    # every mediation number in the sentences is in the table beside them
    cells = {c.text for row in out["predicts_table"].rows for c in row}
    shown = " ".join(c for c in cells)
    for number in _numbers(second.split("r = ")[1].split("(Spearman")[0]):
        assert number in shown
    med = link.mediation[link.mediation["outcome"] == "clv"].set_index("effect")
    assert f"c′ = {fmt(med.loc['direct', 'estimate'])}" in second
    assert "log(1 + CLV)" in second


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_direct_effect_claim_follows_its_interval(fixture_link, lang):
    out, b = _section(fixture_link, lang)
    med = fixture_link.mediation.set_index(["outcome", "effect"])
    none = b.t("value.mediation_direct_none", mediator="@", direct="@", lower="@",
               upper="@").split("@")[0]
    for outcome, line in zip(("repeat_purchases", "clv"), out["predicts"], strict=True):
        d = med.loc[(outcome, "direct")]
        holds_zero = d["ci_lower"] <= 0 <= d["ci_upper"]
        assert (none in line) == holds_zero


def _made(direct: float, indirect_slope: float, seed: int = 4, n: int = 300):
    """A linked sample with a chosen direct effect of sat on CLV and a chosen b path."""
    rng = np.random.default_rng(seed)
    sat = rng.normal(70, 12, n)
    loy = 0.6 * sat + rng.normal(0, 8, n)
    log_clv = 3 + direct * sat + indirect_slope * loy + rng.normal(0, 0.3, n)
    ids = [f"C{i}" for i in range(n)]
    scores = pd.DataFrame({"cid": ids, "satisfaction": sat, "loyalty": loy},
                          index=[f"R{i}" for i in range(n)])
    segments = np.where(sat > 75, "champions", np.where(sat > 62, "loyal", "lost"))
    customers = pd.DataFrame({"clv": np.expm1(log_clv), "rfm_segment": segments}, index=ids)
    return link_survey(scores, customers, customer_column="cid",
                       constructs=["satisfaction", "loyalty"], by=("rfm_segment",),
                       outcomes=("clv",), draws=400)


def test_a_direct_effect_is_said_when_there_is_one():
    out, _ = _section(_made(direct=0.02, indirect_slope=0.0))
    line = out["predicts"][0]
    assert "A direct effect remains once loyalty is held constant" in line
    assert "is not clearly different from zero" in line  # b = 0: nothing through loyalty


def test_no_relation_is_said_as_such():
    out, _ = _section(_made(direct=-0.01, indirect_slope=0.01 / 0.6 * 1.0))
    line = out["predicts"][0]
    assert line.startswith("No clear relation between satisfaction and customer lifetime value")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_clv_of_invalid_models_is_withheld_with_why(lang):
    """Gamma-Gamma with q < 1: the report's CLV part shows no chart and no numbers, only
    why (the gates), in the report's language; with valid models it shows them."""
    from satisfaction.value.pipeline import value_analysis
    from satisfaction.value.transactions import load_transactions
    from tests.test_value_clv_gates import _heavy_spend_cdnow

    def section(frame):
        result = value_analysis(load_transactions(frame, today="1998-07-01"),
                                models=("bgnbd", "gamma_gamma"))
        analysis = SimpleNamespace(questionnaire=_NoConstructs(), satisfaction="satisfaction",
                                   link=None, value={"result": result, "holdout": None},
                                   options={})
        return value_context.value_section(_Builder(analysis, lang))

    out = section(_heavy_spend_cdnow())
    assert out["clv"] is None and out["clv_chart"] is None and out["clv_note"] is None
    withheld = out["clv_withheld"]
    assert ("expected spend and CLV are left empty" if lang == "en" else "消费模型未通过检验") \
        in withheld
    assert re.search(r"q = 0\.\d+", withheld)  # the gate quotes the estimate
    assert withheld.count("。" if lang == "zh" else ". ") >= 2  # whole sentences
    # the valid purchase model's predictions stay beside the withheld CLV
    assert out["clv_predictions"] is not None
    fine = section(pd.read_csv(HERE / "data" / "cdnow_sample.csv"))
    assert fine["clv"] is not None and fine["clv_withheld"] is None
    assert "BG/NBD" in fine["clv_note"]
