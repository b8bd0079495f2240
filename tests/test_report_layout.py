"""Layout of the reports as a client sees them: no near-empty page, a one-page
summary, native Chinese, and the measurement evidence of the model used.

Four PDFs are rendered: the demo (2,000 simulated respondents; fewer customers
and bootstrap draws than ``satisfaction demo`` to keep the test short: the pages
hold the same sections) and the ECSI bank report (whose CB-SEM is inadmissible,
so the analysis falls back to PLS), each in English *with* a previous wave (the
headline cards, the findings and the index tables carry the change) and in
Chinese without one. The previous wave is this wave's indices with the
satisfaction index 3 points lower (a significant change for the demo's 1,968
respondents, not for the bank's 250), as the ``--json`` of an earlier run would
hold them.

* Ink: every page is rasterised (``pdftoppm``, 40 dpi); a page's fill is the
  share of its body (the page inside the running header and footer) from the
  top of the body down to the last inked row. Every page but the cover, the
  contents and the last page of a chapter (the page before a chapter's start
  page as the contents list it, and the last page) must be at least 15 % full.
* One-page summary: the contents put the chapter after the summary on the page
  after the summary's, and that page opens with its title.
* Chinese: the terminology of the zh catalog's header is used and none of the
  forbidden variants appears in the report's text.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from satisfaction.pipeline import run
from satisfaction.report.context import build_context
from satisfaction.report.messages import load_messages
from satisfaction.report.render import render_pdf_bytes
from satisfaction.report.summary_context import _leaders, _tied_finding
from satisfaction.simulate import simulate_demo
from satisfaction.waves import compare_waves

#: Smallest fill of a page that does not end a chapter (issue 12).
MIN_FILL = 0.15
#: Raster resolution; A4 is 297 mm high, the body lies inside 22 mm (top) and 20 mm.
DPI, PAGE_MM, TOP_MM, BOTTOM_MM = 40, 297.0, 22.0, 20.0
#: Forbidden variants in the Chinese report and the term to use instead.
FORBIDDEN = {r"客户(?!经理)": "顾客", "各项指数": "拟合指标", "拟合指数": "拟合指标",
             "题项-其余相关": "校正的项总相关", "列表删除": "成列删除",
             "人均收入": "客均消费"}
#: The rendered reports: (case, language, with a previous wave).
REPORTS = (("demo", "en", True), ("demo", "zh", False), ("bank", "en", True),
           ("bank", "zh", False))
SEED = 20261125


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} (poppler-utils) is needed to check the report's pages")
    return path


def _previous_wave(analysis: Any, shift: float = 3.0) -> dict[str, Any]:
    """The results file of an earlier wave: these indices, satisfaction ``shift`` lower."""
    indices = json.loads(json.dumps(analysis.indices.to_dict(), default=float))
    for row in indices["constructs"]:
        if row["construct"] == analysis.satisfaction:
            for key in ("index", "ci.lower", "ci.upper"):
                row[key] -= shift
    return {"questionnaire": analysis.questionnaire.id, "indices": indices,
            "data_quality": {"analysed": analysis.responses.log.analysed}}


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory, bank_csv: Path) -> dict:
    folder = tmp_path_factory.mktemp("layout")
    data = simulate_demo(n_respondents=2000, n_customers=20_000, seed=SEED)
    responses, transactions = folder / "r.csv", folder / "t.csv"
    data.responses.to_csv(responses, index=False)
    data.transactions.to_csv(transactions, index=False, date_format="%Y-%m-%d")
    analyses = {"demo": run(data.questionnaire, responses, transactions, bootstrap=200,
                            seed=SEED),
                "bank": run("ecsi_bank", bank_csv, bootstrap=100, seed=SEED)}
    out: dict[str, Any] = {"folder": folder, **analyses}
    for case, lang, wave in REPORTS:
        a = analyses[case]
        waves = compare_waves(a.indices, _previous_wave(a), level=a.indices.level,
                              source="wave1.json") if wave else None
        context = build_context(a, lang, waves=waves)
        pdf = folder / f"{case}_{lang}.pdf"
        pdf.write_bytes(render_pdf_bytes(context))
        out[case, lang] = {"pdf": pdf, "context": context, "pages": _page_texts(pdf)}
    return out


def _page_texts(pdf: Path) -> list[str]:
    text = subprocess.run([_tool("pdftotext"), "-layout", str(pdf), "-"], check=True,
                          capture_output=True, text=True).stdout
    return text.split("\f")


def _contents(pages: list[str]) -> list[tuple[str, int]]:
    """The chapters and their start pages (1-based), read from the table of contents."""
    out = []
    for line in pages[1].splitlines():
        m = re.match(r"\s*(.+?)\s+(\d+)\s*$", line)
        if m and not re.search(r"\d+\s*/\s*\d+$", line.strip()):  # not the page footer
            out.append((m.group(1).strip(), int(m.group(2))))
    return out


def _fills(pdf: Path, folder: Path) -> list[float]:
    from PIL import Image

    stem = folder / pdf.stem
    subprocess.run([_tool("pdftoppm"), "-png", "-gray", "-r", str(DPI), str(pdf), str(stem)],
                   check=True)
    fills = []
    for png in sorted(folder.glob(f"{pdf.stem}-*.png"), key=lambda p: int(p.stem.rsplit("-")[1])):
        img = np.asarray(Image.open(png), dtype=float)
        h = img.shape[0]
        top, bottom = int(h * TOP_MM / PAGE_MM), int(h * (1 - BOTTOM_MM / PAGE_MM))
        body = img[top:bottom]
        inked = np.where((body < 200).any(axis=1))[0]
        fills.append(0.0 if not len(inked) else (inked[-1] + 1) / body.shape[0])
    return fills


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.mark.parametrize(("case", "lang"), [(c, lang) for c, lang, _ in REPORTS])
def test_no_near_empty_page_outside_chapter_ends(reports: dict, case: str, lang: str) -> None:
    report = reports[case, lang]
    chapters = _contents(report["pages"])
    sections = load_messages(lang)["sections"]
    titles = [t for t, _ in chapters]
    for key in ("summary", "quality", "measurement", "model", "drivers", "recommendations",
                "appendix"):
        assert sections[key] in titles, f"{case} {lang}: contents not read: {chapters}"
    starts = {page for _, page in chapters}
    fills = _fills(report["pdf"], reports["folder"])
    assert len(fills) >= 15
    ends = {s - 1 for s in starts} | {len(fills)}
    thin = [(k, round(f, 2)) for k, f in enumerate(fills, start=1)
            if k > 2 and k not in ends and f < MIN_FILL]
    assert not thin, f"{case} {lang}: pages under {MIN_FILL:.0%} full (page, fill): {thin}"


@pytest.mark.parametrize(("case", "lang", "wave"), REPORTS)
def test_summary_is_one_page(reports: dict, case: str, lang: str, wave: bool) -> None:
    report = reports[case, lang]
    pages = report["pages"]
    (summary, start), (after, next_start) = _contents(pages)[:2]
    assert summary == load_messages(lang)["sections"]["summary"]
    assert next_start == start + 1, f"{case} {lang}: the summary runs over one page"
    # the page after the summary opens with the next chapter's title
    body = [line for line in pages[next_start - 1].splitlines() if line.strip()]
    assert _flat(after) in _flat(" ".join(body[1:3])), body[:3]
    # the page in reading order (the layout mode interleaves the cards' lines)
    page = _flat(subprocess.run([_tool("pdftotext"), "-f", str(start), "-l", str(start),
                                 str(report["pdf"]), "-"], check=True, capture_output=True,
                                text=True).stdout)
    s = report["context"]["summary"]
    # everything the summary holds is on its page: cards, every finding, the driver
    # chart's note, every action (the previous wave's change among the findings)
    for card in s["cards"]:
        assert _flat(card["value"]) in page and _flat(card["ci"]) in page
    for text in [*s["findings"], s["driver_note"], *(a["title"] for a in s["actions"] or [])]:
        assert _flat(text) in page, text[:40]
    if wave:
        w = report["context"]["waves"]
        assert w["sentences"] and w["sentences"][0] in s["findings"]
        assert _flat(s["waves_note"]) in page
        assert all(_flat(card["previous"]["text"]) in page for card in s["cards"])
    else:
        assert s["waves_note"] is None


def test_chinese_reports_use_the_terminology(reports: dict) -> None:
    for case in ("demo", "bank"):
        flat = _flat("".join(reports[case, "zh"]["pages"]))
        for pattern, instead in FORBIDDEN.items():
            found = re.findall(pattern, flat)
            assert not found, f"{case}: {pattern!r} appears {len(found)} times; write {instead}"
        for term in ("顾客", "执行摘要", "主要发现", "置信区间"):
            assert term in flat, (case, term)
    demo = _flat("".join(reports["demo", "zh"]["pages"]))
    for term in ("拟合指标", "校正的项总相关", "客均消费"):
        assert term in demo, term


def test_summary_page_holds_headline_findings_chart_and_actions(reports: dict) -> None:
    pages = reports["demo", "en"]["pages"]
    summary = " ".join(pages[2].split())
    assert "Executive summary" in summary
    ind = reports["demo"].indices.constructs.set_index("construct")
    value = ind.loc["Sat", "index"]
    assert f"Satisfaction stands at {value:.1f} out of 100" in summary
    side = "below" if ind.loc["Sat", "ci.upper"] < 70 else "above" \
        if ind.loc["Sat", "ci.lower"] > 70 else "level"
    assert f"{side} the benchmark of 70.0" in summary
    for heading in ("Key findings", "What drives satisfaction", "Top actions from the survey"):
        assert heading in summary, heading
    assert "Convenience of buying" in summary
    # database (RFM) actions are not survey findings
    assert "Champions" not in summary and "customers)" not in summary


def test_pls_report_shows_the_pls_measurement(reports: dict) -> None:
    """The bank's model is PLS: the measurement chapter shows the reliability and
    HTMT of the PLS composites (α, ρA, ρC, AVE and HTMT with intervals equal to the
    PLS fit's), says the CFA's is not the one used, and shows no CFA table."""
    bank = reports["bank"]
    assert bank.pls is not None
    for lang in ("en", "zh"):
        report = reports["bank", lang]
        m = load_messages(lang)
        pls = report["context"]["measurement"]["pls"]
        rel = {r[0].raw: [c.raw for c in r[1:]] for r in pls["reliability"].rows}
        for cid, row in bank.pls.constructs.iterrows():
            name = bank.questionnaire.construct(cid).name.get(lang)
            assert rel[name] == pytest.approx([row[k] for k in ("alpha", "rhoA", "cr", "ave")],
                                              abs=5e-4)
        htmt = pls["htmt"].rows
        assert len(htmt) == len(bank.pls.htmt_pairs)
        for cells, (_, ref) in zip(htmt, bank.pls.htmt_pairs.iterrows(), strict=True):
            assert cells[2].raw == pytest.approx(ref["htmt"], abs=5e-4)
            assert cells[3].raw == pytest.approx((ref["ci.lower"], ref["ci.upper"]), abs=5e-4)
            assert ref["ci.lower"] <= ref["htmt"] <= ref["ci.upper"]
        chapters = dict(_contents(report["pages"]))
        first, last = chapters[m.sections.measurement], chapters[m.sections.model]
        text = _flat("".join(report["pages"][first - 1:last - 1]))
        assert _flat(m.pls.reliability) in text and _flat(m.pls.htmt) in text
        assert _flat(m.pls.measurement_note) in text
        # no CFA table: no ω column (the note names the CFA's ω) and not its note
        assert "ω" not in text.replace(_flat(m.pls.measurement_note), "")
        assert _flat(m.measurement.reliability_note[:30]) not in text
        # the methods say how the PLS index and its interval were made, and define ρA, ρC
        blocks = report["context"]["appendix"]["methods_blocks"]
        lines = [line for block in blocks for line in block["lines"]]
        assert m.pls.index_interval_boot in lines and m.appendix.indices not in lines
        terms = {term for block in blocks for term, _ in block["terms"]}
        assert {m.pls.rho_a_term, m.pls.rho_c_term} <= terms
        # the model chapter no longer repeats them
        model = _flat("".join(report["pages"][last - 1:chapters[m.sections.drivers] - 1]))
        assert _flat(m.pls.reliability) not in model


def _ipa(rows: list[tuple[str, float, float, float]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["construct", "importance", "importance.ci.lower",
                                        "importance.ci.upper"])
    frame["importance.method"] = "total_effect"
    return frame.sort_values("importance", ascending=False)


def test_leaders_are_the_drivers_whose_interval_overlaps_the_top_one() -> None:
    clear = _ipa([("A", 0.60, 0.50, 0.70), ("B", 0.40, 0.30, 0.49), ("C", 0.1, 0.0, 0.2)])
    assert list(_leaders(clear)["construct"]) == ["A"]
    tied = _ipa([("A", 0.60, 0.50, 0.70), ("B", 0.40, 0.30, 0.51), ("C", 0.45, 0.2, 0.6),
                 ("D", 0.1, 0.0, 0.2)])
    assert list(_leaders(tied)["construct"]) == ["A", "C", "B"]
    no_interval = _ipa([("A", 0.60, np.nan, np.nan), ("B", 0.59, 0.3, 0.9)])
    assert list(_leaders(no_interval)["construct"]) == ["A"]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_driver_finding_claims_no_winner_when_intervals_overlap(reports: dict,
                                                                lang: str) -> None:
    m = load_messages(lang)
    tail = m.summary.finding_driver_tied.split("{target}")[-1]
    for case in ("bank", "demo"):
        a = reports[case]
        c = a.ipa.constructs.sort_values("importance", ascending=False)
        top, second = c.iloc[0], c.iloc[1]
        name = a.questionnaire.construct(top["construct"]).name.get(lang)
        target = a.questionnaire.construct(a.ipa.target).name.get(lang)
        findings = reports[case, lang]["context"]["summary"]["findings"]
        tied = [f for f in findings if f.endswith(tail)]
        if second["importance.ci.upper"] >= top["importance.ci.lower"]:
            # the bank's IPMA: the intervals overlap, no winner is named; every driver
            # whose interval overlaps the top one's is named with its interval
            assert a.pls is not None and len(tied) == 1, findings
            assert not any(f.startswith(name) and f not in tied for f in findings)
            leaders = c[c["importance.ci.upper"] >= top["importance.ci.lower"]]
            for _, r in leaders.iterrows():
                leader = a.questionnaire.construct(r["construct"]).name.get(lang)
                assert f"{leader}" in tied[0] and \
                    f"[{r['importance.ci.lower']:.3f}, {r['importance.ci.upper']:.3f}]" in tied[0]
        else:  # the demo: Convenience of buying's share lies clear of the next one's
            assert case == "demo" and not tied, findings
            assert m.text("summary.finding_driver_share", construct=name, target=target,
                          importance=f"{100 * top['importance']:.1f}%",
                          performance=f"{top['performance']:.1f}",
                          mean=f"{top['mean.performance']:.1f}") in findings
    # the sentence itself, on a frame of two tied drivers
    b = type("B", (), {"t": staticmethod(m.text), "name": staticmethod(str)})()
    frame = _ipa([("A", 0.60, 0.50, 0.70), ("B", 0.55, 0.45, 0.65)])
    sentence = _tied_finding(b, _leaders(frame), "T", share=False)
    assert sentence == m.text("summary.finding_driver_tied", target="T", leaders=(
        m.text("summary.driver_leader", construct="A", importance="0.600", lower="0.500",
               upper="0.700") + m.summary.list_and +
        m.text("summary.driver_leader", construct="B", importance="0.550", lower="0.450",
               upper="0.650")))


def test_pls_methods_say_how_pls_handled_missing_answers(reports: dict,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Under PLS with mean replacement (answers missing), the methods' missing-data
    line is PLS's, not the CB-SEM's FIML line (the bank has no missing answer: the
    fit's ``missing`` is set as :func:`satisfaction.pls_pipeline.fit_pls_stage` sets
    it when one is missing)."""
    bank = reports["bank"]
    monkeypatch.setattr(bank.pls, "missing", "mean")
    monkeypatch.setitem(bank.options, "sem_missing", "fiml")
    for lang in ("en", "zh"):
        m = load_messages(lang)
        lines = build_context(bank, lang)["appendix"]["methods_blocks"][0]["lines"]
        assert m.pls.mean_note in lines
        assert m.methods.missing_fiml not in lines and m.methods.missing_listwise not in lines
