"""Layout of the demo report as a client sees it: no near-empty page, native Chinese.

The demo (2,000 simulated respondents; fewer customers and bootstrap draws than
``satisfaction demo`` to keep the test short: the pages hold the same sections)
is analysed once and rendered in English and Chinese.

* Ink: every page is rasterised (``pdftoppm``, 40 dpi); a page's fill is the
  share of its body (the page inside the running header and footer) from the
  top of the body down to the last inked row. Every page but the cover, the
  contents and the last page of a chapter (the page before a chapter's start
  page as the contents list it, and the last page) must be at least 15 % full.
* Chinese: the terminology of the zh catalog's header is used and none of the
  forbidden variants appears in the report's text.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from satisfaction.pipeline import run
from satisfaction.report.context import build_context
from satisfaction.report.render import render_pdf_bytes
from satisfaction.simulate import simulate_demo

#: Smallest fill of a page that does not end a chapter (issue 12).
MIN_FILL = 0.15
#: Raster resolution; A4 is 297 mm high, the body lies inside 22 mm (top) and 20 mm.
DPI, PAGE_MM, TOP_MM, BOTTOM_MM = 40, 297.0, 22.0, 20.0
#: Forbidden variants in the Chinese report and the term to use instead.
FORBIDDEN = {r"客户(?!经理)": "顾客", "各项指数": "拟合指标", "拟合指数": "拟合指标",
             "题项-其余相关": "校正的项总相关", "列表删除": "成列删除",
             "人均收入": "客均消费"}


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} (poppler-utils) is needed to check the report's pages")
    return path


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict:
    folder = tmp_path_factory.mktemp("layout")
    data = simulate_demo(n_respondents=2000, n_customers=20_000, seed=20261125)
    responses, transactions = folder / "r.csv", folder / "t.csv"
    data.responses.to_csv(responses, index=False)
    data.transactions.to_csv(transactions, index=False, date_format="%Y-%m-%d")
    analysis = run(data.questionnaire, responses, transactions, bootstrap=200, seed=20261125)
    out = {"folder": folder, "analysis": analysis}
    for lang in ("en", "zh"):
        pdf = folder / f"demo_{lang}.pdf"
        pdf.write_bytes(render_pdf_bytes(build_context(analysis, lang)))
        out[lang] = pdf
    return out


def _page_texts(pdf: Path) -> list[str]:
    text = subprocess.run([_tool("pdftotext"), "-layout", str(pdf), "-"], check=True,
                          capture_output=True, text=True).stdout
    return text.split("\f")


def _chapter_starts(pages: list[str], titles: list[str]) -> set[int]:
    """Start pages (1-based) of the chapters, read from the table of contents."""
    starts = set()
    for line in pages[1].splitlines():
        m = re.match(r"\s*(.+?)\s+(\d+)\s*$", line)
        if m and any(t in m.group(1) for t in titles):
            starts.add(int(m.group(2)))
    return starts


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


def test_no_near_empty_page_outside_chapter_ends(demo: dict) -> None:
    from satisfaction.report.messages import load_messages

    sections = load_messages("en")["sections"]
    titles = [sections[k] for k in ("summary", "quality", "measurement", "model", "drivers",
                                    "groups", "value", "recommendations", "appendix")]
    for lang in ("en",):
        pdf = demo[lang]
        pages = _page_texts(pdf)
        starts = _chapter_starts(pages, titles)
        assert len(starts) == len(titles), f"contents not read: {starts}"
        fills = _fills(pdf, demo["folder"])
        assert len(fills) >= 20
        ends = {s - 1 for s in starts} | {len(fills)}
        thin = [(k, round(f, 2)) for k, f in enumerate(fills, start=1)
                if k > 2 and k not in ends and f < MIN_FILL]
        assert not thin, f"{lang}: pages under {MIN_FILL:.0%} full (page, fill): {thin}"
        # the summary is one page: its chapter starts and ends on the same page
        summary = min(starts)
        assert summary + 1 in starts, "the executive summary runs over one page"


def test_chinese_report_uses_the_terminology(demo: dict) -> None:
    text = "".join(_page_texts(demo["zh"]))
    flat = re.sub(r"\s+", "", text)
    for pattern, instead in FORBIDDEN.items():
        found = re.findall(pattern, flat)
        assert not found, f"{pattern!r} appears {len(found)} times; write {instead}"
    for term in ("顾客", "拟合指标", "校正的项总相关", "客均消费", "执行摘要", "主要发现"):
        assert term in flat, term


def test_summary_page_holds_headline_findings_chart_and_actions(demo: dict) -> None:
    pages = _page_texts(demo["en"])
    summary = pages[2]
    assert "Executive summary" in summary
    ind = demo["analysis"].indices.constructs.set_index("construct")
    value = ind.loc["Sat", "index"]
    assert f"Satisfaction stands at {value:.1f} out of 100" in " ".join(summary.split())
    side = "below" if ind.loc["Sat", "ci.upper"] < 70 else "above" \
        if ind.loc["Sat", "ci.lower"] > 70 else "level"
    assert f"{side} the benchmark of 70.0" in " ".join(summary.split())
    for heading in ("Key findings", "What drives satisfaction", "Top actions from the survey"):
        assert heading in summary, heading
    assert "Convenience of buying" in summary
    # database (RFM) actions are not survey findings
    assert "Champions" not in summary and "customers)" not in summary
