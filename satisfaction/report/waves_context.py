"""The previous wave in the report: each index's change, its interval and significance.

Computes nothing: the changes come from :func:`satisfaction.waves.compare_waves`
(Welch's t-test of two independent means, Holm-adjusted over the indices
compared). This module words them for the reader:

* a table of every index in both waves (previous, current, change with its 95%
  interval, Holm-adjusted p-value flagged when significant), in the drivers
  chapter; the same three columns more in the workbook's index tables;
* under each headline card, the change since the previous wave;
* in the summary, one sentence per significant change (or that none changed),
  and the method in a note.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from satisfaction.report.cells import Cell, fmt, fmt_p, fmt_p_cell, num, plain


def signed(x: Any, digits: int = 1) -> str:
    """A change with its sign: ``+14.2``, ``-3.3``, ``0.0``."""
    text = fmt(x, digits)
    if text == "–" or float(text.replace(",", "")) <= 0:
        return text
    return "+" + text


def _interval(row: dict[str, Any]) -> str:
    return f"[{signed(row['ci.lower'])}, {signed(row['ci.upper'])}]"


def _side(row: dict[str, Any]) -> str:
    if not row["significant"]:
        return "level"
    return "above" if row["change"] > 0 else "below"


def waves_section(b: Any, waves: Any, summary: dict[str, Any]) -> dict[str, Any] | None:
    """Add the previous wave's changes to the index tables and headline cards.

    Parameters
    ----------
    b : the context builder (names, catalog, tables)
    waves : WaveComparison or None
    summary : dict
        The summary's context; its ``cards`` get ``previous`` (``side``, ``text``).

    Returns
    -------
    dict or None
        ``intro``, ``sentences``, ``note`` and ``headline`` (the headline indices'
        changes for the workbook's summary sheet); ``None`` without a previous wave.
    """
    for card in summary.get("cards") or []:
        card.setdefault("previous", None)
    if waves is None:
        return None
    changes = waves.changes
    rows = {(r["kind"], r["id"]): r for r in changes.to_dict(orient="records")}
    note = b.t("waves.note", k=len(changes), alpha=fmt(1 - waves.level, 2))
    _add_columns(b, "indices", "construct", rows, note)
    _add_columns(b, "stage_indices", "stage", rows, note)

    headline = []
    for cid in (b.a.satisfaction, b.a.loyalty):
        row = rows.get(("construct", cid))
        if cid is None or row is None or row["change.se"] != row["change.se"]:
            continue
        name = b.name(cid)
        mark = b.t("waves.significant" if row["significant"] else "waves.not_significant")
        for card in summary.get("cards") or []:
            if card["name"] == name:
                card["previous"] = {"side": _side(row), "text": b.t(
                    "waves.card", change=signed(row["change"]), ci=_interval(row), mark=mark)}
        headline.append({"name": name, "text": signed(row["change"]),
                         "value": plain(row["change"]), "ci": _interval(row),
                         "interval": (plain(row["ci.lower"]), plain(row["ci.upper"])),
                         "p": plain(row["pvalue.adjusted"])})

    sentences = []
    for row in changes[changes["significant"]].to_dict(orient="records"):
        name = b.name(row["id"]) if row["kind"] == "construct" else b.stage(row["id"])
        key = "waves.rose" if row["change"] > 0 else "waves.fell"
        sentences.append(b.t(key, name=name, change=fmt(abs(row["change"]), 1),
                             lower=signed(row["ci.lower"]), upper=signed(row["ci.upper"]),
                             previous=fmt(row["previous"], 1), current=fmt(row["current"], 1),
                             p=fmt_p(row["pvalue.adjusted"])))
    tested = changes[changes["change.se"].notna()]
    if not sentences and len(tested):
        top = tested.loc[tested["change"].abs().idxmax()]
        name = b.name(top["id"]) if top["kind"] == "construct" else b.stage(top["id"])
        sentences.append(b.t("waves.none", name=name, change=signed(top["change"]),
                             lower=signed(top["ci.lower"]), upper=signed(top["ci.upper"])))
    return {"intro": b.t("waves.intro", n=fmt(waves.previous_n) if waves.previous_n else "–",
                         source=Path(waves.source).name or "–"),
            "sentences": sentences, "note": note, "headline": headline,
            "table": _change_table(b, changes, note)}


def _change_table(b: Any, changes: Any, note: str) -> Any:
    """Every index of both waves: previous, current, change with its interval, Holm p."""
    table = b.table("waves", b.t("waves.title"),
                    [b.t("waves.column_index"), b.t("waves.column_previous"),
                     b.t("waves.column_current"), b.t("waves.column_change"),
                     b.t("waves.column_ci"), b.t("waves.column_p")],
                    [False, True, True, True, True, True], note=note)
    for row in changes.to_dict(orient="records"):
        name = b.name(row["id"]) if row["kind"] == "construct" else b.stage(row["id"])
        tested = row["change.se"] == row["change.se"]
        table.add(name, num(row["previous"], 1), num(row["current"], 1),
                  Cell(signed(row["change"]), plain(row["change"]), bool(row["significant"])),
                  Cell(_interval(row), (plain(row["ci.lower"]), plain(row["ci.upper"])))
                  if tested else Cell("", None),
                  Cell(fmt_p_cell(row["pvalue.adjusted"]), plain(row["pvalue.adjusted"]),
                       bool(row["significant"])))
    return table


def _add_columns(b: Any, key: str, kind: str, rows: dict[tuple[str, str], dict[str, Any]],
                 note: str) -> None:
    """Three columns more in the table ``key``: change, its interval, Holm p."""
    table = next((t for t in b.tables if t.key == key), None)
    if table is None or not table.rows:
        return
    table.columns += [b.t("waves.column_change"), b.t("waves.column_ci"),
                      b.t("waves.column_p")]
    table.numeric += [True, True, True]
    ids = _row_ids(b, key)
    for cells in table.rows:
        row = rows.get((kind, ids.get(cells[0].text, "")))
        if row is None or row["change.se"] != row["change.se"]:
            cells += [Cell("–", None), Cell("", None), Cell("–", None)]
            continue
        cells += [Cell(signed(row["change"]), plain(row["change"]), bool(row["significant"])),
                  Cell(_interval(row), (plain(row["ci.lower"]), plain(row["ci.upper"]))),
                  Cell(fmt_p_cell(row["pvalue.adjusted"]), plain(row["pvalue.adjusted"]),
                       bool(row["significant"]))]
    table.note = f"{table.note} {note}".strip()


def _row_ids(b: Any, key: str) -> dict[str, str]:
    """The index id behind each row of the table ``key``, by the name in its first cell."""
    ind = b.a.indices
    if key == "indices":
        return {b.name(c): str(c) for c in ind.constructs["construct"]}
    return {b.stage(s): str(s) for s in ind.stages["stage"]}
