"""Cells and tables of the report: how a number is written on the page and kept for Excel.

Shared by the report's context builders (:mod:`satisfaction.report.context` and
the section modules ``*_context``) and the workbook writer, so that none of them
imports another: every number is formatted here (three decimals for
coefficients, one for 0-100 indices, an en dash when missing, never "nan").
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd


def _missing(x: Any) -> bool:
    if x is None:
        return True
    try:
        return bool(pd.isna(x))
    except (TypeError, ValueError):
        return False


def fmt(x: Any, digits: int = 3) -> str:
    """A number with ``digits`` decimals; an en dash when missing."""
    if _missing(x):
        return "–"
    if isinstance(x, bool | np.bool_):
        return str(bool(x))
    if isinstance(x, int | np.integer):
        return f"{int(x):,}"
    x = float(x)
    if not math.isfinite(x):
        return "–"
    text = f"{x:,.{digits}f}"
    return "0" + text[2:] if text.startswith("-0") and float(text) == 0 else text


def fmt_p(p: Any) -> str:
    """A p-value as written in results: ``< 0.001`` or ``= 0.023``."""
    if _missing(p):
        return "–"
    return "< 0.001" if float(p) < 0.001 else f"= {float(p):.3f}"


def fmt_p_cell(p: Any) -> str:
    """A p-value in a table's p column: ``< 0.001`` or ``0.023`` (no ``=``)."""
    text = fmt_p(p)
    return text[2:] if text.startswith("= ") else text


def as_sentence(text: str, lang: str) -> str:
    """A diagnostic's text (a clause without its own full stop) as a sentence of the
    report's prose: in English with a capital first letter and a full stop, in
    Chinese with "。". Text that already ends a sentence is left as it is.

    >>> as_sentence("the fit is degenerate", "en")
    'The fit is degenerate.'
    >>> as_sentence("拟合退化", "zh")
    '拟合退化。'
    """
    text = text.strip()
    if not text:
        return text
    if lang == "zh":
        return text if text.endswith(("。", "！", "？")) else text + "。"
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def fmt_pct(x: Any, digits: int = 1) -> str:
    if _missing(x):
        return "–"
    return f"{100 * float(x):.{digits}f}%"


def plain(x: Any) -> Any:
    """A plain Python value for Excel (None for missing)."""
    if _missing(x):
        return None
    if isinstance(x, np.generic):
        return x.item()
    return x


@dataclass
class Cell:
    text: str
    raw: Any = None
    flag: bool = False  # highlighted (below a threshold, significant, ...)


@dataclass
class Table:
    """A table as shown on the page (``rows`` of :class:`Cell`) and as plain values."""

    key: str
    title: str
    columns: list[str]
    rows: list[list[Cell]] = field(default_factory=list)
    numeric: list[bool] = field(default_factory=list)
    note: str = ""
    pdf: bool = True  # False: in the workbook only (e.g. tests repeated by rank)

    def add(self, *cells: Cell | str | tuple[str, Any]) -> None:
        row = []
        for c in cells:
            if isinstance(c, Cell):
                row.append(c)
            elif isinstance(c, tuple):
                row.append(Cell(c[0], plain(c[1])))
            else:
                row.append(Cell(c, c))
        self.rows.append(row)

    def frame(self) -> pd.DataFrame:
        """Plain values, with the reader-facing column labels (for Excel)."""
        return pd.DataFrame([[c.raw for c in r] for r in self.rows], columns=self.columns)


def mean_interval(mean: Any, sd: Any, n: Any, level: float = 0.95
                  ) -> tuple[float | None, float | None]:
    """The t-interval of a group mean from its mean, SD and size.

    .. math:: \\bar x \\pm t_{n-1,\\,(1+\\text{level})/2} \\, s / \\sqrt{n}

    (R's ``t.test(x)$conf.int``; tested in tests/test_report_story.py). ``None``
    when it does not exist (n < 2 or a missing SD).
    """
    if _missing(mean) or _missing(sd) or _missing(n) or int(n) < 2:
        return None, None
    from scipy import stats

    half = float(stats.t.ppf(0.5 + level / 2, int(n) - 1)) * float(sd) / math.sqrt(int(n))
    return float(mean) - half, float(mean) + half


def num(x: Any, digits: int = 3, flag: bool = False) -> Cell:
    return Cell(fmt(x, digits), plain(x), flag)
