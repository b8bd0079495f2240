"""The report's chapter on open-ended answers: themes and example verbatims.

The numbers come from :func:`satisfaction.text.themes` (the statistic tested by
hand in tests/test_text.py); this module selects and words them: per open-ended
question, what the dissatisfied mention more than the satisfied, what the
satisfied mention more, or (without that split) the terms mentioned most, each
theme with the terms folded into it and one verbatim; with respondent weights the
shares are weighted, and a note says so. Verbatims are plain text:
the template escapes them, the workbook stores formula-like cells as text.
"""

from __future__ import annotations

from typing import Any

from satisfaction.report.cells import Cell, fmt, fmt_pct, plain

#: Terms folded into a theme shown beside it (all of them are in the JSON).
RELATED_SHOWN = 4
#: Characters of a verbatim shown in a table cell.
VERBATIM_SHOWN = 120


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else text[:n - 1].rstrip() + "…"


def _related(text: Any) -> str:
    terms = [t for t in str(text or "").split(", ") if t]
    shown = ", ".join(terms[:RELATED_SHOWN])
    return shown + (" …" if len(terms) > RELATED_SHOWN else "")


def themes_section(b: Any) -> dict[str, Any] | None:
    """``questions``: per open-ended question its ``question`` (wording), ``intro``,
    ``tables`` (:class:`~satisfaction.report.context.Table`) and ``notes``; None
    when the questionnaire has no open-ended question or the stage did not run."""
    results = getattr(b.a, "texts", None)
    if not results:
        return None
    wording = {o.id: o.text.get(b.lang) for o in b.q.open_ended}
    blocks = []
    for r in results:
        c = r.counts
        question = wording.get(r.item, r.item)
        block: dict[str, Any] = {
            "question": question, "tables": [], "notes": [],
            "intro": b.t("themes.intro_one", n=fmt(c["answers"])) if c["respondents"] == 1
            else b.t("themes.intro", n=fmt(c["answers"]), respondents=fmt(c["respondents"]))}
        example = {}
        for e in r.examples.itertuples(index=False):
            example.setdefault((e.side, e.term), e.text)
        sides = ("dissatisfied", "satisfied") if r.contrast else ("frequent",)
        for side in sides:
            rows = r.themes[r.themes["side"] == side]
            if r.contrast:
                columns = [b.t("themes.theme"), b.t("themes.related"),
                           b.t("themes.share_dissatisfied"), b.t("themes.share_satisfied"),
                           "z", b.t("themes.example")]
                numeric = [False, False, True, True, True, False]
            else:
                columns = [b.t("themes.theme"), b.t("themes.related"), b.t("themes.mentions"),
                           b.t("themes.example")]
                numeric = [False, False, True, False]
            table = b.table(f"themes_{r.item}_{side}", b.t(f"themes.{side}"), columns, numeric)
            for t in rows.itertuples(index=False):
                verbatim = example.get((side, t.term), "")
                cells: list[Any] = [Cell(t.term, t.term), Cell(_related(t.related), t.related)]
                if r.contrast:
                    cells += [(fmt_pct(t.share_dissatisfied), plain(t.share_dissatisfied)),
                              (fmt_pct(t.share_satisfied), plain(t.share_satisfied)),
                              (fmt(t.z, 2), plain(t.z))]
                else:
                    cells.append((fmt(int(t.mentions)), int(t.mentions)))
                cells.append(Cell(_short(verbatim, VERBATIM_SHOWN), verbatim))
                table.add(*cells)
            block["tables"].append(table)
            if not len(rows):
                block["notes"].append(b.t(f"themes.none_{side}", min=c["min_count"]))
        if r.contrast:
            block["notes"].append(b.t("themes.split", low=fmt(c["cut_low"], 1),
                                      high=fmt(c["cut_high"], 1), z=fmt(c["z_min"], 2),
                                      min=c["min_count"]))
        elif c["answers"]:
            block["notes"].append(b.t("themes.no_split"))
        if c.get("weighted") and r.contrast:
            block["notes"].append(b.t("themes.weighted",
                                      n_dissatisfied=fmt(c["effective_n_dissatisfied"], 1),
                                      n_satisfied=fmt(c["effective_n_satisfied"], 1)))
        blocks.append(block)
    return {"questions": blocks}
