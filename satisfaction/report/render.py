"""Rendering the report: Jinja2 → HTML → WeasyPrint → PDF; plus HTML, JSON and Excel.

Safety: Jinja2 autoescaping is on and undefined names are errors, so text from
questionnaires, responses and rule files is always shown as text and a missing
catalog key stops the render instead of showing a key to the reader.
WeasyPrint fetches resources through :class:`TemplatesFetcher`, which serves
only files under ``templates/`` (and the charts of this render, which it holds
in memory under ``templates/_charts/``) and refuses every other URL: an item
text holding ``<img src="file:///etc/passwd">`` is escaped to text, and even an
unescaped one could fetch nothing. Every output is written to a temporary file
and renamed, so a failed run leaves no partial file.
"""

from __future__ import annotations

import base64
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import jinja2
import markupsafe

from satisfaction.io import write_json, write_text, write_with
from satisfaction.report.context import build_context
from satisfaction.report.messages import TEMPLATES, Messages, load_messages
from satisfaction.report.workbook import (  # noqa: F401  (as_text_cells: API)
    as_text_cells,
    recommendations_table,
    summary_table,
    write_workbook,
)

CHARTS_DIR = "_charts"
#: Stylesheets inlined into the standalone HTML, in order (see :func:`inline_stylesheet`).
STYLESHEETS: tuple[str, ...] = ("report.css", "report-screen.css")
_LOG = logging.getLogger(__name__)


def environment() -> jinja2.Environment:
    """The Jinja2 environment: templates/ only, autoescape on, strict undefined."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=False,
        lstrip_blocks=False,
    )


def render_html(context: dict[str, Any], *, standalone: bool = False,
                charts: dict[str, bytes] | None = None) -> str:
    """The report as an HTML string.

    Parameters
    ----------
    context : dict
        From :func:`~satisfaction.report.context.build_context`.
    standalone : bool
        ``True``: the stylesheet is inlined and the charts are ``data:`` URIs (an
        HTML file that opens anywhere). ``False``: the stylesheet and charts are
        referenced under ``templates/`` for WeasyPrint, and the chart documents
        are put into ``charts`` for the fetcher.
    """
    store = charts if charts is not None else {}

    def chart_url(name: str, svg: str) -> str:
        data = svg.encode("utf-8")
        if standalone:
            return "data:image/svg+xml;base64," + base64.b64encode(data).decode("ascii")
        store[f"{name}.svg"] = data
        return f"{CHARTS_DIR}/{name}.svg"

    css = inline_stylesheet() if standalone else None
    template = environment().get_template("report.html.j2")
    return template.render(**context, chart_url=chart_url, inline_css=css)


def inline_stylesheet() -> markupsafe.Markup:
    """The stylesheets of the standalone HTML: ``report.css`` (print, the PDF's
    layout) then ``report-screen.css`` (``@media screen`` only).

    They go into ``<style>`` as trusted markup: autoescaping would turn the quotes
    of the font names into ``&#34;``, and browsers then drop every ``font-family``
    declaration. Both are package files, never user input; a ``</style>`` in them
    would end the element early and is refused.
    """
    css = "\n".join((TEMPLATES / name).read_text(encoding="utf-8") for name in STYLESHEETS)
    if "</" in css:
        raise ValueError("a stylesheet of the report holds '</', which would end <style>")
    return markupsafe.Markup(css)


@dataclass
class TemplatesFetcher:
    """Serves files under ``templates/`` and this render's charts; refuses everything else.

    ``refused`` lists every URL that was asked for and refused (tests check it).
    """

    charts: dict[str, bytes]
    root: Path = TEMPLATES
    refused: list[str] = field(default_factory=list)

    def response(self, url: str) -> Any:
        from weasyprint.urls import URLFetcherResponse

        parsed = urlparse(url)
        if parsed.scheme != "file" or parsed.netloc not in ("", "localhost"):
            return self.refuse(url)
        path = Path(unquote(parsed.path))
        root = self.root.resolve()
        try:
            relative = path.resolve().relative_to(root)
        except ValueError:
            return self.refuse(url)
        if relative.parts and relative.parts[0] == CHARTS_DIR:
            name = "/".join(relative.parts[1:])
            if name not in self.charts:
                return self.refuse(url)
            return URLFetcherResponse(url, body=self.charts[name],
                                      headers={"Content-Type": "image/svg+xml"})
        target = root / relative
        if not target.is_file():
            return self.refuse(url)
        mime = {".css": "text/css", ".svg": "image/svg+xml", ".png": "image/png",
                ".otf": "font/otf", ".ttf": "font/ttf"}.get(target.suffix,
                                                            "application/octet-stream")
        return URLFetcherResponse(url, body=target.read_bytes(), headers={"Content-Type": mime})

    def refuse(self, url: str) -> Any:
        self.refused.append(url)
        raise ValueError(f"the report fetches only files under templates/: refused {url!r}")


def _weasy_fetcher(fetcher: TemplatesFetcher) -> Any:
    from weasyprint.urls import URLFetcher

    class _Fetcher(URLFetcher):
        def fetch(self, url: str, headers: Any = None) -> Any:
            return fetcher.response(url)

    return _Fetcher(allowed_protocols=("file",))


def render_pdf_bytes(context: dict[str, Any], fetcher: TemplatesFetcher | None = None) -> bytes:
    """The report as PDF bytes (WeasyPrint, base URL = templates/)."""
    from weasyprint import HTML

    charts: dict[str, bytes] = {}
    html = render_html(context, charts=charts)
    fetcher = fetcher or TemplatesFetcher(charts)
    fetcher.charts.update(charts)
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    document = HTML(string=html, base_url=TEMPLATES.as_uri() + "/",
                    url_fetcher=_weasy_fetcher(fetcher))
    return document.write_pdf(uncompressed_pdf=False)


@dataclass
class ReportFiles:
    """Paths written by :func:`write_report`."""

    pdf: Path | None = None
    html: Path | None = None
    json: Path | None = None
    excel: Path | None = None

    def to_dict(self) -> dict[str, str | None]:
        return {k: None if v is None else str(v) for k, v in self.__dict__.items()}


def write_excel(tables: list[Any], path: str | Path, messages: Messages | None = None, *,
                front: list[Any] | None = None) -> None:
    """Every table of the report as a sheet of an Excel workbook (atomic).

    See :mod:`satisfaction.report.workbook`: numbers with the page's formats,
    intervals as lower and upper columns, texts in the report's language, frozen
    headers, filters and widths; ``front`` (summary, recommendations) comes first.
    No cell is a formula (:func:`as_text_cells`).
    """
    write_workbook(tables, path, messages or load_messages("en"), front=front)


def write_report(analysis: Any, pdf: str | Path | None = None, *, lang: str = "en",
                 html: str | Path | None = None, json: str | Path | None = None,
                 excel: str | Path | None = None, date: Any = None,
                 waves: Any = None) -> ReportFiles:
    """Render ``analysis`` and write the requested outputs, each atomically.

    Parameters
    ----------
    analysis : Analysis
        From :func:`satisfaction.pipeline.run`.
    pdf, html, json, excel : path, optional
        Where to write the PDF report, the same report as one HTML file, all
        results as JSON (:meth:`Analysis.to_dict`, plus ``report.recommendations``:
        the recommendations as the page shows and ranks them) and every table as an
        Excel workbook.
    lang : {"en", "zh"}
    date : date, optional
        Date on the cover (default today).
    waves : WaveComparison, optional
        The change of each index since the previous wave
        (:func:`satisfaction.waves.compare_waves`): in the summary, the index
        tables, the workbook and the JSON (``waves``).

    Returns
    -------
    ReportFiles
    """
    context = build_context(analysis, lang, date=date, waves=waves)
    # Render everything in memory first, then write: a rendering error leaves no file.
    pdf_bytes = render_pdf_bytes(context) if pdf is not None else None
    html_text = render_html(context, standalone=True) if html is not None else None
    files = ReportFiles()
    if json is not None:
        results = analysis.to_dict()
        if context.get("recommendations"):
            # the recommendations as the report shows them (one per rule for the
            # segment rules, ranked again after merging), each with the ranks of the
            # engine's recommendations it stands for
            results["report"] = {"lang": lang, "recommendations": [
                {"rank": c["rank"], "rule": c["rule"], "title": c["title"],
                 "action": c["action"], "priority": c["priority_value"],
                 "matches": c["matches"]} for c in context["recommendations"]]}
        if waves is not None:
            results["waves"] = waves.to_dict()
        write_json(json, results)
        files.json = Path(json)
    if excel is not None:
        write_excel(context["tables"], excel, context["t"],
                    front=[summary_table(analysis, context, context["t"]),
                           recommendations_table(context, context["t"])])
        files.excel = Path(excel)
    if html_text is not None:
        write_text(html, html_text)
        files.html = Path(html)
    if pdf_bytes is not None:
        write_with(pdf, lambda tmp: tmp.write_bytes(pdf_bytes))
        files.pdf = Path(pdf)
    return files
