"""The PDF report: sections present, numbers equal to the JSON results, no stray
"nan"/"None"/template syntax/untranslated keys, Chinese fonts embedded, injection
attempts inert, outputs atomic.

Reports are rendered once per module from small simulated data (300
respondents, 20 bootstrap draws, 3,000 customers) and from the shared ECSI bank
data set, and their text is read back with pypdf.
"""

from __future__ import annotations

import json
import re
import string
from pathlib import Path

import pandas as pd
import pytest
import yaml
from pypdf import PdfReader

from satisfaction.cli import main
from satisfaction.pipeline import run
from satisfaction.questionnaire import load_questionnaire
from satisfaction.report.context import build_context, fmt
from satisfaction.report.messages import TEMPLATES, load_messages
from satisfaction.report.render import (
    TemplatesFetcher,
    render_html,
    render_pdf_bytes,
    write_report,
)
from satisfaction.responses import problem_text
from satisfaction.simulate import demo_population, simulate_responses, simulate_transactions

from .conftest import QUESTIONNAIRES, ROOT

INJECTED_ITEM = '<img src="file:///etc/passwd"> <b>bold</b> {{ 7*7 }} http://example.com/x.png'
INJECTED_GROUP = '<img src="http://example.com/track.png">'


def _keys(node: dict, prefix: str = "") -> set[str]:
    """The catalog's text keys; a plural node (en's one/other) is one text."""
    from satisfaction.report.messages import is_plural

    out: set[str] = set()
    for k, v in node.items():
        leaf = not isinstance(v, dict) or is_plural(v)
        out |= {f"{prefix}{k}"} if leaf else _keys(v, f"{prefix}{k}.")
    return out


def _text(pdf: Path | bytes) -> str:
    import io

    reader = PdfReader(io.BytesIO(pdf) if isinstance(pdf, bytes) else str(pdf))
    return "\n".join(page.extract_text() or "" for page in reader.pages)


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def cram_run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """CRAM with injected item and group texts, simulated responses and transactions."""
    folder = tmp_path_factory.mktemp("report")
    spec = yaml.safe_load((QUESTIONNAIRES / "cram.yaml").read_text(encoding="utf-8"))
    spec["constructs"][3]["items"][0]["text"] = {"en": INJECTED_ITEM, "zh": INJECTED_ITEM}
    spec["groups"][0]["codes"][1] = {"en": INJECTED_GROUP, "zh": INJECTED_GROUP}
    qpath = folder / "cram_injected.yaml"
    qpath.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    q = load_questionnaire(qpath)
    # Chinese comments: the report quotes customers' words untranslated, and the zh
    # report of this run must hold no English sentence (the English path of the themes
    # is tested in tests/test_text.py)
    responses = simulate_responses(q, n=300, seed=5, population=demo_population(),
                                   comments="zh")
    latent = responses.attrs["latent"]
    loyalty = pd.Series(latent["Loy"].to_numpy(), index=responses[q.customer_id].to_numpy())
    tx = simulate_transactions(loyalty, n_customers=3000, seed=5)
    rpath, tpath = folder / "responses.csv", folder / "transactions.csv"
    responses.to_csv(rpath, index=False)
    tx.to_csv(tpath, index=False, date_format="%Y-%m-%d")
    analysis = run(qpath, rpath, tpath, bootstrap=20, seed=7)
    files = write_report(analysis, folder / "report.pdf", lang="en",
                         html=folder / "report.html", json=folder / "results.json",
                         excel=folder / "tables.xlsx")
    return {"analysis": analysis, "files": files, "folder": folder,
            "text": _text(files.pdf),
            "json": json.loads(files.json.read_text(encoding="utf-8"))}


@pytest.fixture(scope="module")
def bank_zh(bank_csv: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The shared ECSI bank survey, reported in Chinese (no bootstrap)."""
    folder = tmp_path_factory.mktemp("bank")
    analysis = run(QUESTIONNAIRES / "ecsi_bank.yaml", bank_csv, bootstrap=0, seed=1)
    files = write_report(analysis, folder / "bank_zh.pdf", lang="zh")
    return {"analysis": analysis, "pdf": files.pdf, "text": _text(files.pdf)}


@pytest.fixture(scope="module")
def cram_zh(cram_run: dict) -> str:
    """The CRAM run (with customer value) reported in Chinese: the text of the PDF."""
    return _text(render_pdf_bytes(build_context(cram_run["analysis"], "zh")))


#: English words that must not appear in a Chinese report (names of methods, ids of
#: items and software may).
ENGLISH = re.compile(r"\b(the|and|of|is|are|was|were|not|below|above|with|from|to|in|"
                     r"customers?|segment|respondents?|value|index|important|n/a)\b")


def test_chinese_reports_hold_no_english_sentences(cram_zh: str, bank_zh: dict) -> None:
    for text in (cram_zh, bank_zh["text"]):
        assert not ENGLISH.findall(text), ENGLISH.findall(text)[:10]
        ids = set(re.findall(r"\b[a-z]+_[a-z_]+\b", text)) - {"factor_analyzer"}
        assert not ids, ids  # no raw ids such as at_risk
    zh = load_messages("zh")
    assert _squash(zh.sections.recommendations) in _squash(cram_zh)
    assert _squash(zh.sections.value) in _squash(cram_zh)


def test_catalogs_have_the_same_keys() -> None:
    en, zh = load_messages("en"), load_messages("zh")
    assert _keys(en) == _keys(zh)
    assert len(_keys(en)) > 200


def test_every_section_is_present(cram_run: dict) -> None:
    text = _squash(cram_run["text"])
    m = load_messages("en")
    for key in ("summary", "quality", "measurement", "model", "drivers", "groups", "value",
                "recommendations", "appendix", "methods", "wording", "log", "warnings"):
        assert _squash(m.sections[key]) in text, key
    for title in (m.measurement.reliability, m.measurement.htmt, m.model.diagram,
                  m.model.fit, m.drivers.ipa, m.value.rfm, m.value.abc, m.value.lifecycle,
                  m.value.clv):
        assert _squash(title) in text, title
    pages = len(PdfReader(str(cram_run["files"].pdf)).pages)
    assert f"2 / {pages}" in cram_run["text"]  # page numbers from the CSS counters
    assert f"{pages} / {pages}" in cram_run["text"]


def test_no_stray_values_or_keys(cram_run: dict, bank_zh: dict) -> None:
    for text in (cram_run["text"], bank_zh["text"]):
        words = set(re.findall(r"[A-Za-z_.]+", text))
        assert "nan" not in {w.lower() for w in words}
        assert "None" not in words
        assert "{%" not in text and "{#" not in text
        assert not re.search(r"\b(sections|columns|model|value|meta|quadrants)\.[a-z_]+\b",
                             text)


def test_numbers_equal_the_json_results(cram_run: dict) -> None:
    text = _squash(cram_run["text"])
    res = cram_run["json"]
    fit = res["sem"]["fit"]
    for name in ("cfi", "tli", "srmr"):
        assert fmt(fit[name]) in text, name
    log = res["data_quality"]
    assert _squash(f"{log['loaded']} respondents were loaded") in text
    assert _squash(f"{log['analysed']} were analysed") in text
    assert log["loaded"] == log["analysed"] + sum(log["excluded"].values())
    sat = next(c for c in res["indices"]["constructs"] if c["construct"] == "Sat")
    assert fmt(sat["index"], 1) in text
    rel = res["reliability"]["constructs"]
    assert fmt(rel["Quality"]["alpha"]) in text and fmt(rel["Convenience"]["ave"]) in text
    path = next(p for p in res["sem"]["parameters"]
                if p["op"] == "~" and p["lhs"] == "Loy" and p["rhs"] == "Sat")
    assert fmt(path["std.all"]) in text and fmt(path["est"]) in text
    value = res["value"]
    assert value["transactions_loaded"] == value["transactions"] + sum(value["excluded"].values())
    assert fmt(value["transactions_loaded"]) in text and fmt(value["transactions"]) in text
    assert _squash(f"{res['link']['counts']['matched']} respondents were matched") in text
    first = res["recommendations"]["recommendations"][0]
    assert _squash(first["title"]["en"])[:30] in text
    # the page's recommendations, as ranked there, are in the JSON with their priority
    shown = res["report"]["recommendations"]
    assert [r["rank"] for r in shown] == list(range(1, len(shown) + 1))
    for r in shown:
        assert _squash(r["title"])[:30] in text
        assert fmt(r["priority"], 1) in text
    engine = {r["rank"]: r["priority"] for r in res["recommendations"]["recommendations"]}
    for r in shown:   # a merged card's priority is the sum of the matches it stands for
        assert r["priority"] == pytest.approx(sum(engine[m["rank"]] for m in r["matches"]))


def test_injection_is_inert(cram_run: dict) -> None:
    text = cram_run["text"]
    assert _squash('<img src="file:///etc/passwd">') in _squash(text)
    assert "{{ 7*7 }}" in text or "{{7*7}}" in _squash(text)
    assert _squash(INJECTED_GROUP) in _squash(text)
    html = cram_run["files"].html.read_text(encoding="utf-8")
    assert '<img src="file:///etc/passwd">' not in html
    assert "&lt;img src=&#34;file:///etc/passwd&#34;&gt;" in html


def test_fetcher_serves_only_templates() -> None:
    fetcher = TemplatesFetcher({"x.svg": b"<svg/>"})
    css = fetcher.response((TEMPLATES / "report.css").as_uri())
    assert b"@page" in css.read()
    assert fetcher.response((TEMPLATES / "_charts" / "x.svg").as_uri()).read() == b"<svg/>"
    for url in ("file:///etc/passwd", "http://example.com/x.png", "https://example.com/",
                (TEMPLATES / ".." / "pyproject.toml").as_uri(),
                (TEMPLATES / "_charts" / "missing.svg").as_uri(), "data:text/plain,hi",
                "ftp://example.com/x"):
        with pytest.raises(ValueError):
            fetcher.response(url)
    assert len(fetcher.refused) == 7


def test_unescaped_markup_still_fetches_nothing(cram_run: dict) -> None:
    """Even markup that reached the HTML unescaped could fetch nothing outside templates/."""
    context = build_context(cram_run["analysis"], "en")
    context["title"] = jinja_markup('<img src="file:///etc/passwd"><img src="http://example.com/a.png">')
    fetcher = TemplatesFetcher({})
    pdf = render_pdf_bytes(context, fetcher)
    assert pdf.startswith(b"%PDF")
    assert "file:///etc/passwd" in fetcher.refused
    assert "http://example.com/a.png" in fetcher.refused
    assert all(u.startswith(("file:///etc", "http://")) for u in fetcher.refused)


def jinja_markup(text: str):
    from markupsafe import Markup

    return Markup(text)


def test_chinese_report_embeds_cjk_fonts(bank_zh: dict) -> None:
    reader = PdfReader(str(bank_zh["pdf"]))
    fonts = {}
    for page in reader.pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            font = font.get_object()
            name = str(font["/BaseFont"])
            descendants = font.get("/DescendantFonts")
            desc = (descendants[0].get_object() if descendants else font).get("/FontDescriptor")
            desc = desc.get_object() if desc is not None else {}
            fonts[name] = any(k in desc for k in ("/FontFile", "/FontFile2", "/FontFile3"))
    assert any("CJK" in n for n in fonts), fonts
    assert all(fonts.values()), fonts
    text = _squash(bank_zh["text"])
    m = load_messages("zh")
    for key in ("summary", "quality", "measurement", "model", "drivers", "appendix"):
        assert _squash(m.sections[key]) in text
    assert "零售银行顾客满意度" in text


def test_bank_report_shows_its_warnings_in_chinese(bank_zh: dict) -> None:
    analysis = bank_zh["analysis"]
    assert analysis.warnings, "the bank data raise warnings (weak AVE, fit)"
    text = _squash(bank_zh["text"])
    zh = load_messages("zh")
    name = _zh_names(analysis)
    for w in analysis.warnings:
        assert _squash(w.message)[:30] not in text, w.message  # not in English
        assert _squash(w.diagnostic.text("zh", name))[:30] in text, w.message
    assert _squash(zh.warning_stages.measurement) in text


def _zh_names(analysis):
    q = analysis.questionnaire

    def name(cid: str) -> str:
        try:
            return q.construct(cid).name.get("zh")
        except KeyError:
            groups = {g.id: g.name.get("zh") for g in q.groups if g.name}
            return groups.get(cid, cid)
    return name


def _diagnostic_codes() -> set[str]:
    """Every code the package creates a Diagnostic with (a literal first argument)."""
    codes = set()
    for path in (ROOT / "satisfaction").rglob("*.py"):
        codes |= set(re.findall(r'Diagnostic\(\s*"([a-z0-9_]+)"', path.read_text()))
    return codes


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_plural_texts_choose_by_the_count() -> None:
    """A plural node's forms hold the same placeholders as each other and as the zh
    text; ``one`` is taken for a count of exactly 1 (as a number or as the text "1"),
    ``other`` for every other count and when no count is given."""
    from satisfaction.report.messages import is_plural

    en, zh = load_messages("en"), load_messages("zh")

    def plural_keys(node: dict, prefix: str = "") -> list[str]:
        out: list[str] = []
        for k, v in node.items():
            if is_plural(v):
                out.append(f"{prefix}{k}")
            elif isinstance(v, dict):
                out += plural_keys(v, f"{prefix}{k}.")
        return out

    keys = plural_keys(en)
    assert len(keys) >= 20 and not plural_keys(zh)
    for key in keys:
        node = en
        for part in key.split("."):
            node = node[part]
        assert _placeholders(node["one"]) == _placeholders(node["other"]) == \
            _placeholders(zh.text(key)), key
    assert en.text("warnings.transactions_excluded", n="1", reason="duplicate") == \
        "1 transaction excluded: duplicate"
    assert en.text("warnings.transactions_excluded", n=1, reason="duplicate") == \
        "1 transaction excluded: duplicate"
    for n in ("0", "2", "1,001", "1.5", 11):
        assert en.text("warnings.transactions_excluded", n=n, reason="x").startswith(
            f"{n} transactions excluded")
    from satisfaction.diagnostics import Diagnostic

    assert str(Diagnostic("listwise", "caution", {"n": 1})) == \
        "1 respondent with missing values was excluded (listwise deletion)"


def test_every_diagnostic_code_has_catalog_entries_in_both_languages() -> None:
    en, zh = load_messages("en"), load_messages("zh")
    codes = _diagnostic_codes()
    assert len(codes) > 40  # the scan finds the modules' diagnostics
    for code in sorted(codes):
        assert en.has(f"warnings.{code}") and zh.has(f"warnings.{code}"), code
        assert _placeholders(en.text(f"warnings.{code}")) == \
            _placeholders(zh.text(f"warnings.{code}")), code
        assert re.search(r"[\u4e00-\u9fff]", zh.text(f"warnings.{code}")) or \
            zh.text(f"warnings.{code}") == "{message}", code


def test_warnings_and_log_of_the_runs_are_all_translated(cram_run: dict, bank_zh: dict) -> None:
    """Every diagnostic of the runs renders in both languages from its code."""
    for run_ in (cram_run, bank_zh):
        analysis = run_["analysis"]
        assert analysis.warnings
        for w in analysis.warnings:
            assert w.severity in ("info", "caution", "invalidates")
            assert w.diagnostic.text("en") == w.message
            chinese = w.diagnostic.text("zh")
            assert re.search(r"[\u4e00-\u9fff]", chinese), chinese
            # what is left in Latin letters are ids, numbers and names of methods
            assert not re.search(r"\b(the|is|are|was|were|and|not|below|above|of)\b",
                                 chinese), chinese
    problems = cram_run["analysis"].responses.log.problems
    assert len(problems) and set(problems["rule"]) >= {"out_of_range", "straight_lining"}
    for p in problems.itertuples(index=False):
        assert problem_text(p, "en") == p.message
        assert re.search(r"[\u4e00-\u9fff]", problem_text(p, "zh")), p.message



def test_recommendations_name_things_and_do_not_repeat(cram_run: dict) -> None:
    analysis = cram_run["analysis"]
    q = analysis.questionnaire
    ids = {c.id for c in q.constructs if c.name.get("zh") != c.id}
    segment_ids = set(load_messages("en").segments)
    for lang in ("en", "zh"):
        cards = build_context(analysis, lang)["recommendations"]
        assert cards
        for card in cards:
            text = " ".join((card["title"], card["action"], card["rationale"]))
            words = set(re.findall(r"[A-Za-z_]+", text))
            assert not {w for w in words & segment_ids if "_" in w}, (lang, text)
            if lang == "zh":
                assert not words & segment_ids, text
                assert not words & ids, text
                assert not re.search(r"\b[a-z]+_[a-z_]+\b", card["evidence"]), card["evidence"]
        segment_rules = [c["rule"] for c in cards if c["rule"].startswith("value.")]
        assert len(segment_rules) == len(set(segment_rules)), segment_rules
        assert [c["rank"] for c in cards] == list(range(1, len(cards) + 1))


def test_excel_holds_every_table(cram_run: dict) -> None:
    book = pd.read_excel(cram_run["files"].excel, sheet_name=None)
    sheets = load_messages("en").workbook.sheets  # sheets are named for the reader
    for key in ("data_quality", "reliability", "fit", "paths", "effects", "ipa",
                "rfm_segments", "abc", "lifecycle", "warnings"):
        assert sheets[key] in book, key
    fit = book[sheets["fit"]]
    cfi = fit[fit.iloc[:, 0] == "CFI"].iloc[0, 1]
    assert cfi == pytest.approx(cram_run["json"]["sem"]["fit"]["cfi"])


def test_json_is_deterministic(cram_run: dict) -> None:
    analysis = cram_run["analysis"]
    a = json.dumps(analysis.to_dict(), ensure_ascii=False)
    b = json.dumps(analysis.to_dict(), ensure_ascii=False)
    assert a == b
    assert "NaN" not in a


def test_failed_render_leaves_no_file(cram_run: dict, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import satisfaction.report.render as render

    def broken(*args, **kwargs):
        raise RuntimeError("renderer crashed")

    monkeypatch.setattr(render, "render_pdf_bytes", broken)
    with pytest.raises(RuntimeError):
        render.write_report(cram_run["analysis"], tmp_path / "out.pdf",
                            json=tmp_path / "out.json", excel=tmp_path / "out.xlsx")
    assert list(tmp_path.iterdir()) == []


def test_html_is_standalone(cram_run: dict) -> None:
    html = render_html(build_context(cram_run["analysis"], "en"), standalone=True)
    assert "data:image/svg+xml;base64," in html and "@page" in html
    assert "report.css" not in html


def test_report_command(bank_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "bank.pdf"
    code = main(["report", str(QUESTIONNAIRES / "ecsi_bank.yaml"), str(bank_csv),
                 "--out", str(out), "--bootstrap", "0", "--json", str(tmp_path / "r.json"),
                 "--no-progress"])
    assert code == 0
    assert out.read_bytes().startswith(b"%PDF")
    assert json.loads((tmp_path / "r.json").read_text())["data_quality"]["analysed"] == 250


def test_report_command_rejects_bad_input(bank_csv: Path, tmp_path: Path,
                                          capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "x.pdf"
    assert main(["report", str(QUESTIONNAIRES / "ecsi_bank.yaml"), str(bank_csv),
                 "--lang", "fr", "--out", str(out)]) == 2
    assert "en" in capsys.readouterr().err
    assert main(["report", str(QUESTIONNAIRES / "ecsi_bank.yaml"),
                 str(tmp_path / "missing.csv"), "--out", str(out)]) == 2
    assert not out.exists()


def test_demo_writes_every_output(tmp_path: Path) -> None:
    from satisfaction.api import demo

    result = demo(tmp_path, n_respondents=300, n_customers=2000, bootstrap=0, lang="zh",
                  html=True, excel=True)
    files = result["files"]
    for path in (files.pdf, files.html, files.excel, files.json):
        assert path.exists() and path.stat().st_size > 0
    assert files.pdf == tmp_path / "demo_zh.pdf"
    text = _squash(_text(files.pdf))
    for key in ("summary", "value", "recommendations"):
        assert _squash(load_messages("zh").sections[key]) in text
    assert not [p for p in tmp_path.rglob("*.tmp")]


def test_no_empty_chapter_without_transactions_or_groups(bank_zh: dict) -> None:
    analysis = bank_zh["analysis"]
    html = render_html(build_context(analysis, "zh"), standalone=True)
    assert 'id="value"' not in html and 'href="#value"' not in html
    assert _squash(load_messages("zh").value.not_given) in _squash(bank_zh["text"])
    assert 'id="groups"' in html  # the bank questionnaire defines groups
