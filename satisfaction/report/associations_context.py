"""Numeric group variables in the segments chapter: correlations, not group tests.

A numeric group variable without ``bands`` (age, tenure) is not split into as
many groups as it has values; :func:`satisfaction.compare.compare` correlates
every construct index with it instead (``CompareResult.associations``: Pearson r
with its Fisher-z interval and Spearman ρ with Bonett & Wright's interval,
:func:`satisfaction.compare.index_association`, tested against R's ``cor.test``).
This module only selects and formats those rows: one sentence per numeric
variable on the satisfaction index, and a table of every index. In a weighted
analysis the rows are the design-based weighted correlations
(:func:`satisfaction.compare.weighted_association`, tested against R's survey):
the sentence, the table's title and its note say so (``groups.*_weighted``) and
the sentence gives the effective n.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from satisfaction.report.cells import Cell, _missing, fmt, fmt_p, fmt_p_cell, plain


def _pair(rows: pd.DataFrame, construct: str, by: str) -> tuple[Any, Any]:
    """The Pearson and the Spearman row of one index and one variable (None if absent)."""
    hit = rows[(rows["construct"] == construct) & (rows["by"] == by)]
    found = {m: r for m, r in zip(hit["method"], hit.to_dict("records"), strict=True)}
    return found.get("pearson"), found.get("spearman")


def _group_name(b: Any, gid: str) -> str:
    """A group variable's name in the report language (its id when it has none)."""
    try:
        g = b.q.group(gid)
    except KeyError:
        return str(gid)
    return g.name.get(b.lang) if g.name else g.id


def _interval(r: dict[str, Any] | None) -> Cell:
    if r is None or _missing(r.get("ci.lower")):
        return Cell("–", None)
    return Cell(f"[{fmt(r['ci.lower'])}, {fmt(r['ci.upper'])}]",
                f"{plain(r['ci.lower'])}, {plain(r['ci.upper'])}")


def associations_section(b: Any, cmp: Any) -> dict[str, Any] | None:
    """``sentences`` (one per numeric variable, on the satisfaction index, else the
    first index) and ``table`` (every index × numeric variable: Pearson r and
    Spearman ρ with their 95 % intervals, n, Pearson's adjusted p); None when the
    comparison holds no association.

    ``b`` is the report builder (:mod:`satisfaction.report.context`), ``cmp`` a
    :class:`~satisfaction.compare.CompareResult`.
    """
    rows = getattr(cmp, "associations", None)
    if rows is None or not len(rows):
        return None
    constructs = list(dict.fromkeys(rows["construct"]))
    variables = list(dict.fromkeys(rows["by"]))
    weighted = "weighted" in rows.columns and bool(rows["weighted"].fillna(False).any())
    suffix = "_weighted" if weighted else ""
    key = b.a.satisfaction if b.a.satisfaction in constructs else constructs[0]
    sentences = []
    for by in variables:
        pearson, spearman = _pair(rows, key, by)
        if pearson is None or _missing(pearson.get("estimate")):
            sentences.append(b.t("groups.association_none", construct=b.name(key),
                                 by=_group_name(b, by)))
            continue
        extra = {"n_eff": fmt(pearson["n_eff"], 1)} if weighted else {}
        sentences.append(b.t(
            "groups.association" + suffix, construct=b.name(key), by=_group_name(b, by),
            **extra,
            r=fmt(pearson["estimate"], 2), lower=fmt(pearson["ci.lower"], 2),
            upper=fmt(pearson["ci.upper"], 2),
            rho=fmt(None if spearman is None else spearman["estimate"], 2),
            rho_lower=fmt(None if spearman is None else spearman["ci.lower"], 2),
            rho_upper=fmt(None if spearman is None else spearman["ci.upper"], 2),
            n=fmt(int(pearson["n"])), p=fmt_p(pearson["pvalue.adjusted"])))
    table = b.table("group_associations", b.t("groups.associations" + suffix),
                    [b.t("columns.construct"), b.t("columns.by"), b.t("groups.pearson"),
                     b.t("columns.ci"), b.t("groups.spearman"), b.t("columns.ci"),
                     b.t("columns.n"), b.t("columns.padj")],
                    [False, False, True, True, True, True, True, True],
                    note=b.t("groups.associations_note" + suffix,
                             adjust=b.label("adjust", cmp.adjust)))
    for by in variables:
        for construct in constructs:
            pearson, spearman = _pair(rows, construct, by)
            if pearson is None:
                continue
            p = pearson.get("pvalue.adjusted")
            table.add(b.name(construct), _group_name(b, by),
                      Cell(fmt(pearson["estimate"]), plain(pearson["estimate"])),
                      _interval(pearson),
                      Cell(fmt(None if spearman is None else spearman["estimate"]),
                           None if spearman is None else plain(spearman["estimate"])),
                      _interval(spearman), (fmt(int(pearson["n"])), int(pearson["n"])),
                      Cell(fmt_p_cell(p), plain(p), not _missing(p) and p < 0.05))
    return {"sentences": sentences, "table": table, "variables": variables}


__all__ = ["associations_section"]
