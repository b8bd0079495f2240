"""Open-ended answers: the schema, the loader, the terms, the statistic and its themes.

The reference set ``tests/data/comments_bilingual.csv`` (written for this test)
holds 90 answers, half English, half Chinese, with a satisfaction index placed
so that rows T001-T030 form the lower third (index 20-49), T031-T060 the middle
(50.5-65) and T061-T090 the upper third (70-99). Planted: "waiting time" /
"等待时间" in 11 of the dissatisfied answers of each language and once among
the satisfied; "friendly staff" / "服务热情" in 10 of the satisfied answers of
each language and once among the dissatisfied. Everything else ("app", "fees",
"手机银行") is spread over both thirds.
"""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from satisfaction.errors import SchemaError, UsageError
from satisfaction.questionnaire import load_questionnaire
from satisfaction.responses import validate_frame
from satisfaction.text import answer_terms, log_odds_dirichlet, tertile_groups, themes

DATA = Path(__file__).parent / "data" / "comments_bilingual.csv"
PLANTED_DISSATISFIED = {"waiting time", "等待时间"}
PLANTED_SATISFIED = {"friendly staff", "服务热情"}

BASE = """\
id: t
title: {en: Test, zh: 测试}
scales:
  s5: {min: 1, max: 5}
constructs:
  - id: A
    name: A
    role: satisfaction
    items:
      - {id: a1, text: x, scale: s5}
      - {id: a2, text: x, scale: s5}
      - {id: a3, text: x, scale: s5}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "q.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def comments() -> pd.DataFrame:
    frame = pd.read_csv(DATA, index_col="respondent", keep_default_na=False, dtype={"comment": str})
    frame["comment"] = frame["comment"].replace("", None)
    return frame


# -- terms ---------------------------------------------------------------------------


def test_terms_by_hand() -> None:
    # stop words out; phrases of two adjacent words, not across punctuation
    assert list(answer_terms("The waiting time was far too long, and staff were rude.")) == [
        "waiting", "time", "waiting time", "far", "long", "staff", "rude"]
    # a negation starts a phrase but is no term of its own; "didn't" is "not"
    assert list(answer_terms("Not friendly. I didn't like it")) == [
        "friendly", "not friendly", "like", "not like"]
    # Chinese: jieba's words, phrases joined without a space, the function words out
    assert list(answer_terms("服务热情，等待时间短。")) == [
        "服务", "热情", "服务热情", "等待时间", "短", "等待时间短"]
    assert list(answer_terms("服务不热情")) == ["服务", "热情", "不热情"]
    # markup and formulas are not the respondent's words (the verbatim keeps them)
    assert list(answer_terms("<b>Great</b> =SUM(A1)")) == ["great"]
    assert list(answer_terms("=SUM(A1) great")) == ["great"]


def test_tertile_groups_follow_r_quantile_type_7() -> None:
    index = pd.Series([10.0, 20, 30, 40, 50, 60, np.nan], index=list("abcdefg"))
    groups, low, high = tertile_groups(index)
    # R: quantile(c(10,20,30,40,50,60), c(1/3, 2/3)) = 26.66667, 43.33333
    assert low == pytest.approx(26.666667, abs=1e-6)
    assert high == pytest.approx(43.333333, abs=1e-6)
    assert list(groups) == ["dissatisfied", "dissatisfied", "middle", "middle", "satisfied",
                            "satisfied", pd.NA] or groups.isna().iloc[-1]
    assert groups.iloc[:6].tolist() == ["dissatisfied", "dissatisfied", "middle", "middle",
                                        "satisfied", "satisfied"]


# -- the statistic -------------------------------------------------------------------


def test_log_odds_matches_a_hand_computation() -> None:
    # y_a = (10, 1, 5), y_b = (1, 10, 5), prior shape (12, 12, 12), alpha_0 = 3: alpha_w = 1,
    # n_a = n_b = 16. Term 1: ln(11 / (16 + 3 - 10 - 1)) - ln(2 / (16 + 3 - 1 - 1))
    # = ln(11/8) - ln(2/17) = 2.458520; Var = 1/11 + 1/2, se = 0.768706. Term 3: 0.
    delta, se = log_odds_dirichlet(np.array([10, 1, 5]), np.array([1, 10, 5]),
                                   np.array([12, 12, 12]), 3.0)
    assert delta[0] == pytest.approx(2.458520, abs=1e-6)
    assert se[0] == pytest.approx(0.768706, abs=1e-6)
    assert delta[1] == pytest.approx(-2.458520, abs=1e-6)
    assert delta[2] == pytest.approx(0.0, abs=1e-12)


def test_planted_themes_are_found_and_nothing_else() -> None:
    frame = comments()
    result = themes(frame["comment"], frame["index"])
    side = {name: set(group["term"]) for name, group in result.themes.groupby("side")}
    assert side["dissatisfied"] == PLANTED_DISSATISFIED
    assert side["satisfied"] == PLANTED_SATISFIED
    assert result.counts["answers"] == 87  # three empty answers ("", "", "n/a") left out
    assert result.counts["answers_dissatisfied"] == 29
    assert result.counts["answers_satisfied"] == 30
    # the words inside the planted phrases are not listed again on their own
    for word in ("waiting", "friendly", "staff", "热情"):
        assert word not in set(result.themes["term"])
    # the most mentioned terms are the planted ones too
    top = result.themes[result.themes["side"] == "frequent"]["term"].head(4)
    assert set(top) == PLANTED_DISSATISFIED | PLANTED_SATISFIED


def test_statistic_of_the_planted_terms_by_hand() -> None:
    """y counted here by substring on the raw answers, the groups from the planted
    design (index < 50 dissatisfied, >= 70 satisfied), the formula written out."""
    frame = comments()
    result = themes(frame["comment"], frame["index"])
    c = result.counts
    assert c["cut_low"] == pytest.approx(50.0)  # between 49 and 50.5 (type 7)
    answered = frame[frame["comment"].notna()]
    low = answered[answered["index"] < 50]["comment"].str.lower()
    high = answered[answered["index"] >= 70]["comment"].str.lower()
    every = answered["comment"].str.lower()
    # n: the mentions of every term, once per answer
    assert c["mentions"] == sum(len(answer_terms(t)) for t in answered["comment"])
    assert c["mentions_dissatisfied"] == sum(
        len(answer_terms(t)) for t in answered[answered["index"] < 50]["comment"])
    a0, n, n_d, n_s = 100.0, c["mentions"], c["mentions_dissatisfied"], c["mentions_satisfied"]
    terms = result.terms.set_index("term")
    expected = {"waiting time": (11, 1, 13), "等待时间": (11, 1, 13),
                "friendly staff": (1, 10, 12), "服务热情": (1, 10, 12)}
    for term, (y_d, y_s, y) in expected.items():
        assert (low.str.contains(term).sum(), high.str.contains(term).sum(),
                every.str.contains(term).sum()) == (y_d, y_s, y), term
        alpha = a0 * y / n
        delta = (math.log((y_d + alpha) / (n_d + a0 - y_d - alpha))
                 - math.log((y_s + alpha) / (n_s + a0 - y_s - alpha)))
        se = math.sqrt(1 / (y_d + alpha) + 1 / (y_s + alpha))
        row = terms.loc[term]
        assert (row["mentions_dissatisfied"], row["mentions_satisfied"], row["mentions"]) == (
            y_d, y_s, y)
        assert row["log_odds"] == pytest.approx(delta, abs=1e-9)
        assert row["se"] == pytest.approx(se, abs=1e-9)
        assert row["z"] == pytest.approx(delta / se, abs=1e-9)
        assert row["share_dissatisfied"] == pytest.approx(y_d / 29)
        assert row["share_satisfied"] == pytest.approx(y_s / 30)


def test_examples_are_verbatims_of_their_side() -> None:
    frame = comments()
    result = themes(frame["comment"], frame["index"], examples=2)
    ex = result.examples
    waiting = ex[(ex["side"] == "dissatisfied") & (ex["term"] == "waiting time")]
    assert len(waiting) == 2
    for rid, text in zip(waiting["respondent"], waiting["text"], strict=True):
        assert frame.loc[rid, "index"] < 50
        assert text == frame.loc[rid, "comment"]
    # answers of typical length first: the 11 dissatisfied answers holding "waiting
    # time" have a median of 48 characters, which these two have (the file's first two
    # of that length); the shortest ("Reduce the waiting time please.", 31) is not
    assert list(waiting["text"]) == ["The waiting time at the branch was far too long.",
                                     "Long waiting time and nobody explained the fees."]
    out = result.to_dict()
    assert {t["term"] for t in out["themes"] if t["side"] == "satisfied"} == PLANTED_SATISFIED


def test_markup_is_kept_as_written() -> None:
    answers = pd.Series(["<script>alert('x')</script> broken"] * 6, index=[f"r{i}" for i in range(6)])
    result = themes(answers, None, min_count=1)
    assert result.examples["text"].iloc[0] == "<script>alert('x')</script> broken"
    assert [w.code for w in result.warnings] == ["text_no_index"]
    assert "dissatisfied" not in set(result.themes["side"])


def test_too_few_answers_for_a_contrast_is_said() -> None:
    frame = comments()
    # only the first 40 answered: 29 dissatisfied answers, 10 middle, no satisfied one
    answers = frame["comment"].where(frame.index.isin(frame.index[:40]), None)
    result = themes(answers, frame["index"])
    codes = [w.code for w in result.warnings]
    assert codes == ["text_no_contrast"]
    assert result.terms["z"].isna().all()
    assert set(result.themes["side"]) == {"frequent"}
    empty = themes(pd.Series([None, "  "], index=["a", "b"]), None)
    assert [w.code for w in empty.warnings] == ["text_no_answers"] and empty.themes.empty


# -- schema and loader ---------------------------------------------------------------


def test_open_ended_questions_in_the_questionnaire(tmp_path: Path) -> None:
    q = load_questionnaire(write(tmp_path, BASE + textwrap.dedent("""\
        open_ended:
          - {id: comment, type: text, column: Q9, text: {en: "Anything else?", zh: 还有什么？}}
        """)))
    assert [(o.id, o.source, o.text.get("zh")) for o in q.open_ended] == [
        ("comment", "Q9", "还有什么？")]
    assert "comment" not in [i.id for i in q.analysed_items]
    assert "comment" not in q.to_lavaan()


@pytest.mark.parametrize(("extra", "line", "words"), [
    # a text item among a construct's items
    ("""\
  - id: B
    name: B
    items:
      - {id: b1, text: x, scale: s5}
      - {id: b2, text: x, scale: s5, type: text}
""", 17, "list it under 'open_ended:'"),
    ("""\
open_ended:
  - {id: a1, text: x}
""", 14, "duplicate id 'a1'"),
    ("""\
open_ended:
  - {id: c, text: x, column: respondent}
""", 14, "which is the respondent id"),
    ("""\
open_ended:
  - {id: c, text: x}
  - {id: d, text: x, column: c}
""", 15, "mapped to two questions"),
    ("""\
open_ended:
  - {id: c, type: number, text: x}
""", 14, "'text'"),
])
def test_open_ended_errors_name_line_and_key(tmp_path: Path, extra: str, line: int,
                                             words: str) -> None:
    with pytest.raises(SchemaError) as info:
        load_questionnaire(write(tmp_path, BASE + extra))
    message = str(info.value)
    assert info.value.line == line, message
    assert words in message, message


def test_loader_keeps_answers_as_text(tmp_path: Path) -> None:
    q = load_questionnaire(write(tmp_path, BASE + textwrap.dedent("""\
        open_ended:
          - {id: comment, text: x}
          - {id: other, text: y}
        """)))
    frame = pd.DataFrame({
        "respondent": ["r1", "r2", "r3", "r4"],
        "a1": [1, 2, 3, None], "a2": [2, 3, 4, None], "a3": [3, 4, 5, None],
        "comment": ["=1+1", "<b>bold</b>", 5.0, "  "]})
    responses = validate_frame(q, frame)
    # r4 answered no item and is excluded; its comment goes with it
    assert responses.texts.index.tolist() == ["r1", "r2", "r3"]
    assert responses.texts["comment"].tolist() == ["=1+1", "<b>bold</b>", "5"]
    assert "comment" not in responses.data.columns
    missing = [w for w in responses.log.warnings if w.code == "text_column_missing"]
    assert [w.params for w in missing] == [{"column": "other", "item": "other"}]


# -- demo data and the pipeline ------------------------------------------------------

TWO = BASE + """\
  - id: L
    name: L
    role: loyalty
    items:
      - {id: l1, text: x, scale: s5}
      - {id: l2, text: x, scale: s5}
      - {id: l3, text: x, scale: s5}
paths:
  - L ~ A
open_ended:
  - {id: comment, text: {en: "Anything else?", zh: 还有什么？}}
"""


def test_simulated_comments_follow_satisfaction_and_leave_the_numbers_alone() -> None:
    from satisfaction.simulate import COMPLAINTS, demo_population, simulate_responses

    q = load_questionnaire("cram")
    frame = simulate_responses(q, n=1500, seed=5, population=demo_population())
    again = simulate_responses(q, n=1500, seed=5, population=demo_population())
    assert frame["comment"].equals(again["comment"])  # seeded
    # the numbers are those of the questionnaire without the open-ended question
    plain = q.to_dict()
    plain.pop("open_ended")
    from satisfaction.questionnaire import Questionnaire

    without = simulate_responses(Questionnaire.from_dict(plain), n=1500, seed=5,
                                 population=demo_population())
    columns = [q.respondent_id, *(i.source for i in q.analysed_items)]
    pd.testing.assert_frame_equal(frame[columns], without[columns])
    answered = frame["comment"].notna()
    assert 0.55 < answered.mean() < 0.65
    complaints = {phrase for topics in COMPLAINTS.values() for en, zh in topics
                  for phrase in (*en, *zh)}
    complaining = frame["comment"].map(
        lambda t: isinstance(t, str) and any(p.lower() in t.lower() for p in complaints))
    sat = frame.attrs["latent"]["Sat"].to_numpy()
    low, high = sat < np.quantile(sat, 1 / 3), sat > np.quantile(sat, 2 / 3)
    # the least satisfied third complains far more often than the most satisfied
    assert complaining[low & answered].mean() > 2 * complaining[high & answered].mean()
    assert frame["comment"].str.contains("<b>", regex=False).sum() == 1  # markup, once


@pytest.fixture(scope="module")
def small_analysis(tmp_path_factory: pytest.TempPathFactory) -> tuple[object, pd.DataFrame]:
    """One analysis of a two-construct questionnaire with an open-ended question."""
    from satisfaction import pipeline
    from satisfaction.simulate import simulate_responses

    q = load_questionnaire(write(tmp_path_factory.mktemp("q"), TWO))
    frame = simulate_responses(q, n=400, seed=2, contaminate=False)
    return pipeline.run(q, frame, bootstrap=0, parallel=False), frame


def test_pipeline_json_holds_the_themes(small_analysis) -> None:
    analysis, frame = small_analysis
    out = analysis.to_dict()["open_ended"]
    assert [o["item"] for o in out] == ["comment"]
    counts = out[0]["counts"]
    # the analysed respondents' answers (straight-liners are screened out with theirs)
    kept = frame.set_index("respondent").loc[analysis.responses.data.index, "comment"]
    assert counts["respondents"] == analysis.responses.log.analysed == len(kept)
    assert counts["answers"] == int(kept.notna().sum())
    # the split is the satisfaction index's thirds: recompute it from the JSON's indices
    scores = analysis.indices.scores["A"]
    assert counts["cut_low"] == pytest.approx(float(scores.quantile(1 / 3)), abs=1e-9)
    assert {t["side"] for t in out[0]["themes"]} == {"dissatisfied", "satisfied", "frequent"}
    assert "text" in analysis.timings


def test_report_has_a_themes_chapter_in_both_languages(small_analysis, tmp_path: Path
                                                       ) -> None:
    import copy

    from satisfaction.report.context import build_context
    from satisfaction.report.render import render_html

    analysis, _ = small_analysis
    analysis = copy.copy(analysis)
    result = copy.deepcopy(analysis.texts[0])
    analysis.texts = [result]
    # the first example of each side holds markup, the second a formula: both must reach
    # the reader as written, never run
    for side, text in (("dissatisfied", "<b>prices</b>"), ("satisfied", "=1+2 prices")):
        first = result.examples.index[result.examples["side"] == side][0]
        result.examples.loc[first, "text"] = text
    top = result.themes[result.themes["side"] == "dissatisfied"]["term"].iloc[0]
    for lang, heading, question in (("en", "What customers write", "Anything else?"),
                                    ("zh", "顾客的意见", "还有什么？")):
        context = build_context(analysis, lang)
        html = render_html(context)
        assert f'<section id="themes" class="chapter">\n  <h2>{heading}</h2>' in html
        assert f"<h3>{question}</h3>" in html
        assert f"<td class=\"\">{top}</td>" in html
        tables = [t for t in context["tables"] if t.key.startswith("themes_comment")]
        assert [t.key for t in tables] == ["themes_comment_dissatisfied",
                                           "themes_comment_satisfied"]
        # the shares on the page are the result's
        row = tables[0].frame().iloc[0]
        assert row.iloc[2] == pytest.approx(
            result.themes[result.themes["side"] == "dissatisfied"]["share_dissatisfied"].iloc[0])
        # markup is shown, never run
        assert "<b>prices</b>" not in html
        assert "&lt;b&gt;prices&lt;/b&gt;" in html
        # a formula-like answer is text in the workbook
        from openpyxl import load_workbook

        from satisfaction.report.render import write_excel

        path = tmp_path / f"report_{lang}.xlsx"
        write_excel(context["tables"], path)
        cells = [cell for sheet in load_workbook(path) for row in sheet.iter_rows()
                 for cell in row if cell.value == "=1+2 prices"]
        assert cells and all(cell.data_type == "s" for cell in cells)


# -- markup and examples (issue 17, point 6) ------------------------------------------

JUNK = ["<script>alert('evil')</script> {}",
        "<img src=x onerror=alert(1)> {}",
        "=HYPERLINK(\"http://example.com/refund\",\"{}\")",
        "+cmd|calc {}",
        "=cmd|'/C calc'!A0 {}",
        "-2+3 {}",
        "<body style=\"display:none\">{}</body>",
        "=SUM(1+1) {}",
        "See https://www.example.com/help?id=3 {}"]
JUNK_WORDS = {"alert", "evil", "example", "http", "https", "www", "hyperlink", "sum",
              "script", "img", "src", "onerror", "body", "display", "style", "none", "cmd",
              "calc", "com", "help", "id", "a0"}


def test_markup_words_are_not_terms() -> None:
    en = [j.format("refund is slow") for j in JUNK] + ["The refund is slow."] * 3
    zh = [j.format("退款太慢") for j in JUNK] + ["退款中多次出错，退款太慢。"] * 3
    for answers, lead in ((en, "refund"), (zh, "退款太慢")):
        series = pd.Series(answers, index=[f"r{k}" for k in range(len(answers))])
        result = themes(series, None, min_count=1)
        words = {w for term in result.terms["term"] for w in term.split()}
        assert not words & JUNK_WORDS, words & JUNK_WORDS
        assert "中" not in words and "多" not in words  # zh function words
        row = result.themes[result.themes["term"].eq(lead) | result.themes["related"].map(
            lambda r, lead=lead: lead in r.split(", "))].iloc[0]
        related = set(filter(None, row["related"].split(", ")))
        assert not related & (JUNK_WORDS | {"中", "多"}), related
        # the verbatims stay as written; the markup-free answer is the example
        assert result.examples[result.examples["term"] == row["term"]]["text"].iloc[0] in (
            "The refund is slow.", "退款中多次出错，退款太慢。")
    assert set(result.examples["text"]) <= set(zh)


def test_examples_are_representative_not_the_shortest() -> None:
    from satisfaction.text import has_markup, representative_answers

    pool = pd.Series({"a": "-2+3 slow delivery", "b": "+cmd|calc slow delivery",
                      "c": "slow delivery",
                      "d": "The delivery was slow, the driver lost the parcel twice and "
                           "nobody at the depot answered the phone for days on end.",
                      "e": "The delivery was slow and late", "f": "Delivery slow; late again."})
    pool_terms = {rid: answer_terms(text) for rid, text in pool.items()}
    assert [has_markup(t) for t in pool] == [True, True, False, False, False, False]
    # lengths of the answers holding "delivery": 18 23 13 115 30 26, median 24.5;
    # without markup, f and e hold two theme terms ("late" too): f (1.5 off the median)
    # before e (5.5 off); then c (11.5 off) before d (90.5 off); the markup last
    assert representative_answers(pool, pool_terms, ["delivery", "late"], 3) == ["f", "e", "c"]
    assert representative_answers(pool, pool_terms, ["delivery"], 6)[-2:] == ["b", "a"]
    assert representative_answers(pool, pool_terms, ["refund"], 2) == []
    # the same wording twice: another answer first, the repeat only when nothing is left
    twice = pd.Series({"x": "Slow delivery again.", "y": "slow  delivery AGAIN.",
                       "z": "The delivery was late."})
    twice_terms = {rid: answer_terms(text) for rid, text in twice.items()}
    # lengths 20, 21, 22 (median 21): y first; x (a repeat of y) after z
    assert representative_answers(twice, twice_terms, ["delivery"], 2) == ["y", "z"]
    assert representative_answers(twice, twice_terms, ["delivery"], 3) == ["y", "z", "x"]


def test_demo_comments_are_in_the_report_language(monkeypatch: pytest.MonkeyPatch,
                                                  tmp_path: Path) -> None:
    """The English demo has English comments and English themes, the Chinese demo
    Chinese ones; the numbers do not depend on the language (issue 17, point 6)."""
    import re

    from satisfaction import api, simulate

    en = simulate.simulate_demo(n_respondents=300, n_customers=50, seed=1, lang="en")
    zh = simulate.simulate_demo(n_respondents=300, n_customers=50, seed=1, lang="zh")
    cjk = re.compile(r"[\u4e00-\u9fff]")
    en_comments, zh_comments = en.responses["comment"].dropna(), zh.responses["comment"].dropna()
    assert len(en_comments) > 100 and list(en_comments.index) == list(zh_comments.index)
    assert not en_comments.map(lambda t: bool(cjk.search(t))).any()
    assert zh_comments.map(lambda t: bool(cjk.search(t))).all()
    pd.testing.assert_frame_equal(en.responses.drop(columns="comment"),
                                  zh.responses.drop(columns="comment"))
    # the themes of the English demo are English words, of the Chinese demo Chinese
    latent = en.responses.attrs["latent"]["Sat"]
    index = pd.Series(latent.to_numpy(), index=en.responses.index)
    for data, chinese in ((en, False), (zh, True)):
        listed = themes(data.responses["comment"], index).themes
        assert set(listed["side"]) == {"dissatisfied", "satisfied", "frequent"}
        assert all(bool(cjk.search(t)) == chinese for t in listed["term"]), listed["term"]
    # the demo command passes its language to the simulation
    seen: list[str] = []

    def stop(*args: object, lang: str = "en", **kwargs: object) -> None:
        seen.append(lang)
        raise RuntimeError("stop")

    monkeypatch.setattr(simulate, "simulate_demo", stop)
    for lang in ("en", "zh"):
        with pytest.raises(RuntimeError, match="stop"):
            api.demo(tmp_path / lang, lang=lang, bootstrap=0)
    assert seen == ["en", "zh"]
    with pytest.raises(UsageError, match="comments"):
        simulate.simulate_responses(load_questionnaire("cram"), n=5, comments="fr")
