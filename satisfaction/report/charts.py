"""Vector (SVG) charts for the report, drawn with matplotlib.

Every chart function takes plain data (numbers, labels already translated)
and returns the SVG document as a string. Text stays text
(``svg.fonttype = 'none'``) and names the Noto Sans CJK SC family, so that
WeasyPrint sets it in the embedded font and Chinese labels render. The charts
compute nothing: the numbers come from the analysis results.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from contextlib import contextmanager
from typing import Any

import matplotlib

matplotlib.use("svg")

import itertools
import math
import textwrap

import numpy as np
from matplotlib import rc_context
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure
from matplotlib.patches import Ellipse, FancyArrowPatch

#: Font families, first match wins: CJK first so Chinese labels have glyphs.
FONTS: list[str] = ["Noto Sans CJK SC", "Noto Sans", "DejaVu Sans"]

#: Report palette (colour-blind safe, after Okabe & Ito 2008).
BLUE, ORANGE, GREEN, GREY, RED, SKY = "#0F4C81", "#E69F00", "#009E73", "#8C8C8C", "#C0392B", \
    "#56B4E9"

_RC = {
    "svg.fonttype": "none",
    "svg.hashsalt": "satisfaction",
    "font.family": "sans-serif",
    "font.sans-serif": FONTS,
    "font.size": 8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#555555",
    "axes.titlesize": 9,
    "axes.labelsize": 8,
    "xtick.labelsize": 7.5,
    "ytick.labelsize": 7.5,
    "axes.unicode_minus": False,
    # labels are data (construct names, item texts): "$" is a dollar sign, never
    # the start of mathtext ("Price $ value $" would otherwise fail to parse)
    "text.parse_math": False,
}


@contextmanager
def _figure(width: float, height: float) -> Any:
    with rc_context(_RC):
        fig = Figure(figsize=(width, height))
        FigureCanvasSVG(fig)
        yield fig


def _svg(fig: Figure) -> str:
    buffer = io.StringIO()
    with rc_context(_RC):
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    text = buffer.getvalue()
    return text[text.index("<svg"):]  # drop the XML prolog and DOCTYPE


def _thousands() -> Any:
    """Axis numbers with thousands separators, as in the tables (one per axis)."""
    return matplotlib.ticker.StrMethodFormatter("{x:,.0f}")


def stars(p: float | None) -> str:
    """Significance marks: * p < .05, ** p < .01, *** p < .001."""
    if p is None or p != p:
        return ""
    return "***" if p < 0.001 else "**" if p < 0.01 else "*" if p < 0.05 else ""


def path_diagram(nodes: Sequence[dict[str, Any]], edges: Sequence[dict[str, Any]],
                 width: float = 6.7) -> str:
    """The structural model as ellipses in columns joined by arrows.

    Parameters
    ----------
    nodes : list of dict
        ``id``, ``label``, ``column`` (0 = leftmost), ``r2`` (text or ``""``).
    edges : list of dict
        ``from``, ``to``, ``label`` (coefficient and marks), ``significant`` (bool).
    """
    columns: dict[int, list[dict[str, Any]]] = {}
    for node in nodes:
        columns.setdefault(int(node["column"]), []).append(node)
    ncol = max(columns) + 1 if columns else 1
    nrow = max((len(v) for v in columns.values()), default=1)
    # geometry in inches (equal aspect): nodes as wide as the columns allow
    step = (width - 0.2) / ncol
    # a chain of single nodes zig-zags, so that the paths that skip a column run
    # beside the chain instead of through its nodes; its nodes leave room for labels
    zigzag = ncol >= 4 and any(len(v) == 1 for v in columns.values())
    ew, eh, dy = min(1.35, (0.64 if zigzag else 0.8) * step), 0.5, 0.75
    pos: dict[str, tuple[float, float]] = {}
    for col, members in columns.items():
        shift = (0.28 if col % 2 else -0.28) if zigzag and len(members) == 1 else 0.0
        for k, node in enumerate(members):
            pos[node["id"]] = (0.1 + step * (col + 0.5), ((len(members) - 1) / 2 - k) * dy
                               + shift)
    spans = [abs(int(_col(nodes, e["to"])) - int(_col(nodes, e["from"]))) for e in edges]
    curves = _route_edges(edges, spans, pos, ew, eh)
    half = (nrow - 1) * dy / 2 + eh / 2 + 0.3 + (0.28 if zigzag else 0)
    half = max([half, *[abs(ly) + 0.18 for _, (_, ly) in curves]])
    height = 2 * half
    with _figure(width, height) as fig:
        ax = fig.add_axes((0, 0, 1, 1))
        ax.set_axis_off()
        ax.set_xlim(0, width)
        ax.set_ylim(-half, half)
        ax.set_aspect("equal")
        shapes: dict[str, Ellipse] = {}
        for node in nodes:
            x, y = pos[node["id"]]
            shape = Ellipse((x, y), ew, eh, facecolor="#EAF1F8", edgecolor=BLUE, lw=1.0,
                            zorder=2)
            ax.add_patch(shape)
            shapes[node["id"]] = shape
            label = _wrap_label(node["label"], ew)
            lines = label.split("\n")
            # inches per character at 7.5 pt: ~0.058 for Latin text, ~0.1 for Chinese
            per_char = 0.1 if any(ch >= "\u3000" for ch in label) else 0.058
            size = max(6.0, min(7.5, 7.5 * 0.86 * ew / (max(map(len, lines)) * per_char)))
            size = min(size, (7.5, 7.0, 6.0)[min(len(lines), 3) - 1])  # fits the node's height
            ax.text(x, y + (0.07 if node.get("r2") else 0) - 0.02 * (len(lines) > 2), label,
                    ha="center", va="center", fontsize=size,
                    color="#102030", zorder=3, linespacing=1.0)
            if node.get("r2"):
                ax.text(x, y - 0.15, node["r2"], ha="center", va="center", fontsize=6,
                        color="#444444", zorder=3)
        for edge, (rad, (lx, ly)) in zip(edges, curves, strict=True):
            (x0, y0), (x1, y1) = pos[edge["from"]], pos[edge["to"]]
            sig = bool(edge.get("significant"))
            arrow = FancyArrowPatch(
                (x0, y0), (x1, y1), patchA=shapes[edge["from"]], patchB=shapes[edge["to"]],
                arrowstyle="-|>", mutation_scale=9, lw=1.3 if sig else 0.8,
                color=BLUE if sig else GREY, linestyle="-" if sig else "--", shrinkA=1,
                shrinkB=1, connectionstyle=f"arc3,rad={rad}", zorder=1)
            ax.add_patch(arrow)
            ax.text(lx, ly, edge["label"], ha="center", va="center", fontsize=6.5, zorder=4,
                    bbox={"boxstyle": "round,pad=0.12", "fc": "white", "ec": "none"})
        return _svg(fig)


def _route_edges(edges: Sequence[dict[str, Any]], spans: Sequence[int],
                 pos: dict[str, tuple[float, float]], ew: float, eh: float,
                 ) -> list[tuple[float, tuple[float, float]]]:
    """Curvature (matplotlib ``arc3`` rad) and label point of every edge.

    Edges between neighbouring columns are straight, labelled at their middle.
    An edge that skips columns is an arc; of the arcs tried (above and below,
    flat to round) it takes the one whose label lies farthest inside no node and
    clear of the labels placed before it.
    """
    out: list[tuple[float, tuple[float, float]] | None] = [None] * len(edges)
    placed: list[tuple[float, float]] = []

    def point(e: dict[str, Any], rad: float) -> tuple[float, float]:
        (x0, y0), (x1, y1) = pos[e["from"]], pos[e["to"]]
        # the midpoint of arc3's quadratic Bezier (the straight line's middle at rad 0)
        return (x0 + x1) / 2 + rad * (y1 - y0) / 2, (y0 + y1) / 2 - rad * (x1 - x0) / 2

    def cost(p: tuple[float, float]) -> float:
        c = 0.0
        for x, y in pos.values():
            d = ((p[0] - x) / (ew / 2 + 0.22)) ** 2 + ((p[1] - y) / (eh / 2 + 0.08)) ** 2
            c += 10 * max(0.0, 1 - d)
        for x, y in placed:
            if abs(p[0] - x) < 0.45 and abs(p[1] - y) < 0.16:
                c += 5
        return c

    def crossing(e: dict[str, Any], rad: float) -> float:
        """How deep the curve runs through nodes other than its own two."""
        (x0, y0), (x1, y1) = pos[e["from"]], pos[e["to"]]
        cx, cy = point(e, 2 * rad)  # arc3's control point lies twice as far out
        c = 0.0
        for t in np.linspace(0.08, 0.92, 22):
            bx = (1 - t) ** 2 * x0 + 2 * t * (1 - t) * cx + t ** 2 * x1
            by = (1 - t) ** 2 * y0 + 2 * t * (1 - t) * cy + t ** 2 * y1
            for node, (x, y) in pos.items():
                if node in (e["from"], e["to"]):
                    continue
                d = ((bx - x) / (ew / 2 + 0.06)) ** 2 + ((by - y) / (eh / 2 + 0.06)) ** 2
                c += 3 * max(0.0, 1 - d)
        return c

    for k, e in enumerate(edges):
        if spans[k] <= 1:
            out[k] = (0.0, point(e, 0.0))
            placed.append(out[k][1])
    for k in sorted((k for k in range(len(edges)) if spans[k] > 1), key=lambda k: spans[k]):
        e = edges[k]
        options = [sign * r for r in (0.2, 0.3, 0.42, 0.56) for sign in (-1, 1)]
        best = min(options, key=lambda rad: cost(point(e, rad)) + crossing(e, rad) + abs(rad))
        out[k] = (best, point(e, best))
        placed.append(out[k][1])
    return [o for o in out if o is not None]


def _col(nodes: Sequence[dict[str, Any]], node_id: str) -> int:
    return next(int(n["column"]) for n in nodes if n["id"] == node_id)


def _wrap_label(label: str, width: float) -> str:
    """A node label in at most three lines that fit the node (shortened with an ellipsis).

    One line when it fits; else two lines broken at the space nearest the middle;
    a long text (e.g. an observed variable's question) in three lines of ~13
    characters, the rest cut. Chinese text (no spaces) is broken between
    characters into balanced lines.
    """
    if any(ch >= "\u3000" for ch in label) and " " not in label:
        per_line = max(int(width * 0.85 / 0.095), 2)  # a CJK character is ~0.095 in wide
        if len(label) <= per_line:
            return label
        n = min(math.ceil(len(label) / per_line), 3)
        size = math.ceil(len(label) / n)
        lines = [label[i:i + size] for i in range(0, len(label), size)]
        if len(lines) > 3:
            lines = [*lines[:2], lines[2][:-1] + "…"]
        return "\n".join(lines)
    if len(label) * 0.062 <= width * 0.85 or " " not in label:
        return label
    if len(label) <= 26:
        spaces = [i for i, ch in enumerate(label) if ch == " "]
        cut = min(spaces, key=lambda i: abs(i - len(label) / 2))
        return label[:cut] + "\n" + label[cut + 1:]
    lines = textwrap.wrap(label, width=13, max_lines=3, placeholder="…")
    return "\n".join(lines)


def bar_index(labels: Sequence[str], values: Sequence[float | None],
              lower: Sequence[float | None], upper: Sequence[float | None],
              xlabel: str, width: float = 6.2, *, colors: Sequence[str] | None = None,
              reference: float | None = None, reference_label: str = "",
              sort: bool = True) -> str:
    """Horizontal bars of 0-100 indices with their confidence intervals.

    Sorted from the highest index down (``sort``), each bar in its colour
    (``colors``, e.g. by purchase stage or quadrant), the value written to the
    right of the interval's upper end so that no whisker crosses it, and an
    optional vertical ``reference`` line (a benchmark or the mean) labelled
    ``reference_label``.
    """
    n = len(labels)
    order = list(range(n))
    if sort:
        order.sort(key=lambda k: -(values[k] if values[k] is not None else -1.0))
    colours = list(colors) if colors is not None else [SKY] * n
    with _figure(width, max(1.4, 0.27 * n + 0.7)) as fig:
        ax = fig.add_subplot()
        ys = list(range(n))[::-1]
        for y, k in zip(ys, order, strict=True):
            v, lo, hi = values[k], lower[k], upper[k]
            ax.barh(y, v if v is not None else 0.0, color=colours[k], edgecolor="none",
                    height=0.62)
            if lo is not None and hi is not None:
                ax.plot([lo, hi], [y, y], color="#1d2733", lw=0.9)
                ax.plot([lo, lo], [y - 0.13, y + 0.13], color="#1d2733", lw=0.9)
                ax.plot([hi, hi], [y - 0.13, y + 0.13], color="#1d2733", lw=0.9)
            if v is not None:
                right = max(v, hi if hi is not None else v)
                ax.text(right + 1.2, y, f"{v:.1f}", va="center", ha="left", fontsize=7)
        if reference is not None:
            ax.axvline(reference, color=RED, lw=0.9, ls="--")
            if reference_label:
                ax.annotate(reference_label, (reference, 1.0), xycoords=("data", "axes fraction"),
                            xytext=(2, 1), textcoords="offset points", fontsize=6.5,
                            color=RED, ha="left", va="bottom")
        ax.set_yticks(ys, [labels[k] for k in order])
        ax.set_xlim(0, 108)
        ax.set_xticks([0, 20, 40, 60, 80, 100])
        ax.set_ylim(-0.6, n - 0.4)
        ax.set_xlabel(xlabel)
        fig.tight_layout()
        return _svg(fig)


def driver_bars(labels: Sequence[str], importance: Sequence[float],
                lower: Sequence[float | None], upper: Sequence[float | None],
                colors: Sequence[str], xlabel: str, legend: Sequence[tuple[str, str]] = (),
                width: float = 6.2, percent: bool = True) -> str:
    """Key drivers: horizontal bars of importance, largest first, with intervals.

    ``colors`` codes each driver (e.g. its quadrant); ``legend`` lists
    ``(colour, label)`` pairs shown under the chart. With ``percent`` the
    importance (a share of R²) is written as a percentage.
    """
    n = len(labels)
    order = sorted(range(n), key=lambda k: -importance[k])
    with _figure(width, max(1.5, 0.2 * n + 0.9)) as fig:
        ax = fig.add_subplot()
        ys = list(range(n))[::-1]
        top = max([*importance, *(u for u in upper if u is not None)], default=1.0) or 1.0
        for y, k in zip(ys, order, strict=True):
            ax.barh(y, importance[k], color=colors[k], height=0.62, edgecolor="none")
            lo, hi = lower[k], upper[k]
            if lo is not None and hi is not None:
                ax.plot([lo, hi], [y, y], color="#1d2733", lw=0.9)
            right = max(importance[k], hi if hi is not None else importance[k])
            text = f"{100 * importance[k]:.1f}%" if percent else f"{importance[k]:.2f}"
            ax.text(right + top * 0.015, y, text, va="center", ha="left", fontsize=7)
        ax.set_yticks(ys, [labels[k] for k in order])
        ax.set_xlim(0, top * 1.18)
        ax.set_ylim(-0.6, n - 0.4)
        if percent:
            ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0, decimals=0))
        ax.set_xlabel(xlabel)
        if legend:
            from matplotlib.patches import Patch

            # outside the axes, on the right: inside, a long interval of the last
            # (shortest) bar and its value label ran under the legend
            ax.legend(handles=[Patch(color=c, label=t) for c, t in legend],
                      loc="center left", bbox_to_anchor=(1.01, 0.5), ncol=1, frameon=False,
                      fontsize=6.5, handlelength=1.0)
        fig.tight_layout()
        return _svg(fig)


def stacked_shares(labels: Sequence[str], shares: Sequence[Sequence[float]],
                   categories: Sequence[str], width: float = 6.5,
                   highlight: Sequence[bool] | None = None) -> str:
    """Answer distributions as horizontal 100 % stacked bars, one per item.

    ``shares[i][j]`` is the share of answer category ``j`` for item ``i``
    (categories from the least to the most favourable, coloured red → grey →
    blue). Items flagged in ``highlight`` have their label in bold red.
    """
    n, m = len(labels), len(categories)
    cmap = matplotlib.colors.LinearSegmentedColormap.from_list(
        "agree", ["#B2182B", "#EF8A62", "#E0E0E0", "#67A9CF", "#2166AC"])
    colours = [cmap(j / (m - 1)) if m > 1 else SKY for j in range(m)]
    with _figure(width, 0.17 * n + 1.1) as fig:
        ax = fig.add_subplot()
        ys = list(range(n))[::-1]
        left = np.zeros(n)
        for j in range(m):
            col = np.array([shares[i][j] for i in range(n)], dtype=float)
            ax.barh(ys, col, left=left, color=colours[j], height=0.72, edgecolor="white",
                    lw=0.3, label=categories[j])
            left += col
        ax.set_yticks(ys, labels)
        if highlight is not None:
            for tick, flag in zip(ax.get_yticklabels(), highlight, strict=True):
                if flag:
                    tick.set_color(RED)
                    tick.set_fontweight("bold")
        ax.set_xlim(0, 1)
        ax.set_ylim(-0.6, n - 0.4)
        ax.tick_params(axis="y", labelsize=6.5)
        ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0, decimals=0))
        short = all(len(c) <= 3 for c in categories)  # scale points: one row
        ax.legend(loc="lower center", bbox_to_anchor=(0.4, 1.0),
                  ncol=m if short else min(m, 4),
                  frameon=False, fontsize=6.5, handlelength=1.0, columnspacing=0.8)
        fig.tight_layout()
        return _svg(fig)


def group_means(panels: Sequence[dict[str, Any]], xlabel: str, width: float = 6.5) -> str:
    """Group means with 95 % intervals, one small panel per comparison.

    Each panel: ``title`` (construct by group variable, with the test's
    significance marks), ``labels``, ``means``, ``lower``, ``upper`` and
    ``significant`` (the bars are blue when the groups differ significantly,
    grey otherwise). Means sit on a shared 0-100 axis.
    """
    k = len(panels)
    ncol = 2 if k > 1 else 1
    nrow = math.ceil(k / ncol)
    rows_per = [len(p["labels"]) for p in panels]
    per_row = [max(rows_per[r * ncol:(r + 1) * ncol]) for r in range(nrow)]
    height = sum(0.2 * m + 0.55 for m in per_row) + 0.4
    with _figure(width, height) as fig:
        grid = fig.add_gridspec(nrow, ncol, height_ratios=[m + 2.5 for m in per_row])
        for i, panel in enumerate(panels):
            ax = fig.add_subplot(grid[i // ncol, i % ncol])
            m = len(panel["labels"])
            ys = list(range(m))[::-1]
            colour = BLUE if panel["significant"] else GREY
            for y, v, lo, hi in zip(ys, panel["means"], panel["lower"], panel["upper"],
                                    strict=True):
                ax.plot([lo, hi], [y, y], color=colour, lw=1.0)
                ax.plot([v], [y], "o", color=colour, ms=3.5)
                ax.text(hi + 1.0, y, f"{v:.1f}", va="center", ha="left", fontsize=6.5)
            ax.set_yticks(ys, panel["labels"])
            lo_all = min(panel["lower"])
            hi_all = max(panel["upper"])
            span = max(hi_all - lo_all, 4.0)
            ax.set_xlim(lo_all - 0.15 * span, hi_all + 0.35 * span)
            ax.set_ylim(-0.7, m - 0.3)
            ax.set_title(panel["title"], fontsize=7.5, loc="left",
                         color="#1d2733" if panel["significant"] else "#5a6672",
                         fontweight="bold" if panel["significant"] else "normal")
            ax.tick_params(labelsize=6.5)
            if i // ncol == nrow - 1:
                ax.set_xlabel(xlabel, fontsize=7)
        fig.tight_layout()
        return _svg(fig)


#: Colours of the groups of one variable in the per-group driver chart, in group order.
GROUP_COLOURS: tuple[str, ...] = (BLUE, ORANGE, GREEN, SKY, RED, GREY, "#CC79A7", "#D55E00")


def group_driver_shares(panels: Sequence[dict[str, Any]], xlabel: str,
                        width: float = 6.5) -> str:
    """Key drivers within groups: one small panel per group variable.

    Each panel: ``title``, ``drivers`` (labels, top to bottom), ``groups`` (names),
    ``shares``/``lower``/``upper`` (one list per group, one value per driver) and
    ``marked`` (per driver: its share differs between the groups; the label gets
    " *" and is bold). Every group is a colour-coded dot with its interval, the
    groups of a driver stacked just above and below its row, so that whiskers of
    different groups never overlap and no value label is needed (the numbers are
    in the sentences and the workbook). Shares sit on a shared percent axis.
    """
    k = len(panels)
    ncol = 2 if k > 1 else 1
    nrow = math.ceil(k / ncol)
    rows = [max(len(p["drivers"]) for p in panels[r * ncol:(r + 1) * ncol])
            for r in range(nrow)]
    top = max((v for p in panels for u in p["upper"] for v in u if v is not None
               and math.isfinite(v)), default=1.0)
    with _figure(width, sum(0.22 * m + 0.75 for m in rows) + 0.2) as fig:
        grid = fig.add_gridspec(nrow, ncol, height_ratios=[m + 3.4 for m in rows])
        for i, panel in enumerate(panels):
            ax = fig.add_subplot(grid[i // ncol, i % ncol])
            m, groups = len(panel["drivers"]), panel["groups"]
            ys = np.arange(m)[::-1].astype(float)
            step = 0.72 / max(len(groups), 1)
            for g, name in enumerate(groups):
                offset = (len(groups) - 1) / 2 * step - g * step
                colour = GROUP_COLOURS[g % len(GROUP_COLOURS)]
                for y, v, lo, hi in zip(ys + offset, panel["shares"][g], panel["lower"][g],
                                        panel["upper"][g], strict=True):
                    if lo is not None and hi is not None:
                        ax.plot([lo, hi], [y, y], color=colour, lw=0.8, alpha=0.85)
                    ax.plot([v], [y], "o", color=colour, ms=2.8,
                            label=name if y == ys[0] + offset else None)
            labels = [f"{d} *" if marked else d
                      for d, marked in zip(panel["drivers"], panel["marked"], strict=True)]
            ax.set_yticks(ys, labels)
            for tick, marked in zip(ax.get_yticklabels(), panel["marked"], strict=True):
                if marked:
                    tick.set_fontweight("bold")
            ax.set_xlim(0, top * 1.05)
            ax.set_ylim(-0.6, m - 0.4)
            ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0, decimals=0))
            ax.tick_params(labelsize=6.5)
            ax.set_title(panel["title"], fontsize=7.5, loc="left", pad=14)
            ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=len(groups),
                      frameon=False, fontsize=6, handlelength=0.8, handletextpad=0.3,
                      columnspacing=0.8, borderaxespad=0.1)
            if i // ncol == nrow - 1 or i + ncol >= k:
                ax.set_xlabel(xlabel, fontsize=7)
        fig.tight_layout()
        return _svg(fig)


def ipa_map(labels: Sequence[str], importance: Sequence[float], performance: Sequence[float],
            mean_importance: float, mean_performance: float, xlabel: str, ylabel: str,
            quadrant_names: dict[str, str], width: float = 6.2, *,
            importance_lower: Sequence[float | None] | None = None,
            importance_upper: Sequence[float | None] | None = None,
            performance_lower: Sequence[float | None] | None = None,
            performance_upper: Sequence[float | None] | None = None,
            quadrants: Sequence[str] | None = None) -> str:
    """Importance-performance map with the quadrant lines at the means.

    ``importance_lower``/``importance_upper`` draw each point's importance
    interval as a horizontal whisker, ``performance_lower``/``performance_upper``
    its performance interval as a vertical one (pass the interval the quadrant
    was called from). ``quadrants`` gives each point's quadrant key: points
    whose quadrant is ``"undetermined"`` (an interval holds a mean line) are
    drawn hollow and grey, and ``quadrant_names["undetermined"]``, when given,
    labels them in a legend. The mean lines are labelled with their values.
    """
    n = len(labels)
    kinds = list(quadrants) if quadrants is not None else ["determined"] * n

    def bounds(values: Sequence[float | None] | None) -> list[float]:
        if values is None:
            return [math.nan] * n
        return [math.nan if v is None else float(v) for v in values]

    ilo, ihi = bounds(importance_lower), bounds(importance_upper)
    plo, phi = bounds(performance_lower), bounds(performance_upper)
    with _figure(width, 3.9) as fig:
        ax = fig.add_subplot()
        for k in range(n):
            open_ = kinds[k] == "undetermined"
            colour = GREY if open_ else (RED if kinds[k] == "concentrate_here" else BLUE)
            if math.isfinite(ilo[k]) and math.isfinite(ihi[k]):
                ax.plot([ilo[k], ihi[k]], [performance[k]] * 2, color=colour, lw=0.9,
                        alpha=0.7, zorder=2, solid_capstyle="butt")
            if math.isfinite(plo[k]) and math.isfinite(phi[k]):
                ax.plot([importance[k]] * 2, [plo[k], phi[k]], color=colour, lw=0.9,
                        alpha=0.7, zorder=2, solid_capstyle="butt")
        determined = [k for k in range(n) if kinds[k] != "undetermined"]
        undetermined = [k for k in range(n) if kinds[k] == "undetermined"]
        if determined:
            ax.scatter([importance[k] for k in determined], [performance[k] for k in determined],
                       s=24, zorder=3, edgecolors="white", linewidths=0.5,
                       color=[RED if kinds[k] == "concentrate_here" else BLUE
                              for k in determined])
        if undetermined:
            ax.scatter([importance[k] for k in undetermined],
                       [performance[k] for k in undetermined], s=24, zorder=3,
                       facecolors="white", edgecolors=GREY, linewidths=1.1,
                       label=quadrant_names.get("undetermined"))
        ax.axvline(mean_importance, color=GREY, lw=0.8, ls="--")
        ax.axhline(mean_performance, color=GREY, lw=0.8, ls="--")
        xs = [*importance, mean_importance, *(v for v in (*ilo, *ihi) if math.isfinite(v))]
        ys = [*performance, mean_performance, *(v for v in (*plo, *phi) if math.isfinite(v))]
        xpad = (max(xs) - min(xs)) * 0.12 or 0.05
        ypad = (max(ys) - min(ys)) * 0.15 or 2.0
        ax.set_xlim(min(xs) - xpad, max(xs) + xpad * 1.6)
        ax.set_ylim(min(ys) - ypad, max(ys) + ypad)
        ax.annotate(f"{mean_importance:.3g}", (mean_importance, 1.0),
                    xycoords=("data", "axes fraction"), xytext=(2, -2),
                    textcoords="offset points", ha="left", va="top", fontsize=6.5,
                    color=GREY)
        ax.annotate(f"{mean_performance:.1f}", (1.0, mean_performance),
                    xycoords=("axes fraction", "data"), xytext=(-2, 2),
                    textcoords="offset points", ha="right", va="bottom", fontsize=6.5,
                    color=GREY)
        corners = {"concentrate_here": (0.98, 0.03, "right", "bottom"),
                   "keep_up": (0.98, 0.97, "right", "top"),
                   "low_priority": (0.02, 0.03, "left", "bottom"),
                   "possible_overkill": (0.02, 0.97, "left", "top")}
        for key, (x, y, ha, va) in corners.items():
            ax.text(x, y, quadrant_names[key], transform=ax.transAxes, ha=ha, va=va,
                    fontsize=7.5, color=RED if key == "concentrate_here" else GREY,
                    fontweight="bold" if key == "concentrate_here" else "normal")
        if undetermined and quadrant_names.get("undetermined"):
            ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), frameon=False,
                      fontsize=7, handletextpad=0.3, borderaxespad=0.0)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        fig.tight_layout()
        _place_labels(fig, ax, labels, importance, performance)
        return _svg(fig)


#: Label positions tried around a point, nearest first: offset (points), alignment.
_SPOTS: tuple[tuple[float, float, str, str], ...] = tuple(
    (dx * r, dy * r, ha, va)
    for r in (1.0, 2.2, 3.6)
    for dx, dy, ha, va in ((4, 2, "left", "bottom"), (4, -2, "left", "top"),
                           (-4, 2, "right", "bottom"), (-4, -2, "right", "top"),
                           (0, 5, "center", "bottom"), (0, -5, "center", "top"),
                           (6, 0, "left", "center"), (-6, 0, "right", "center")))


def _place_labels(fig: Figure, ax: Any, labels: Sequence[str], xs: Sequence[float],
                  ys: Sequence[float], fontsize: float = 6.5) -> None:
    """Label scatter points without overlaps (greedy, nearest free spot first).

    Each label takes the first position around its point whose box overlaps no
    label placed before, no point and stays inside the axes; when none is free
    it takes the position with the least overlap. Labels set away from their
    point get a thin leader line. Points are labelled from the most important
    (rightmost) down, so the points that matter most get the nearest spots.
    """
    from matplotlib.transforms import Bbox

    if not labels:
        return
    renderer = fig._get_renderer()  # text extents depend on the renderer's metrics
    frame = ax.get_window_extent(renderer)
    dots = [ax.transData.transform((x, y)) for x, y in zip(xs, ys, strict=True)]
    r = 3.0 * fig.dpi / 72
    dot_boxes = [Bbox.from_extents(px - r, py - r, px + r, py + r) for px, py in dots]
    placed: list[Any] = []

    def overlap(a: Any, b: Any) -> float:
        w = min(a.x1, b.x1) - max(a.x0, b.x0)
        h = min(a.y1, b.y1) - max(a.y0, b.y0)
        return w * h if w > 0 and h > 0 else 0.0

    for k in sorted(range(len(labels)), key=lambda i: (-xs[i], -ys[i])):
        text = ax.annotate(labels[k], (xs[k], ys[k]), xytext=(0, 0),
                           textcoords="offset points", fontsize=fontsize, zorder=4)
        best, best_cost = _SPOTS[0], float("inf")
        for spot in _SPOTS:
            text.set_position(spot[:2])
            text.set_ha(spot[2])
            text.set_va(spot[3])
            box = text.get_window_extent(renderer).padded(1.0)
            cost = sum(overlap(box, b) for b in placed) + \
                sum(overlap(box, b) for j, b in enumerate(dot_boxes) if j != k)
            outside = (max(frame.x0 - box.x0, 0) + max(box.x1 - frame.x1, 0)
                       + max(frame.y0 - box.y0, 0) + max(box.y1 - frame.y1, 0))
            cost += outside * box.height * 4
            if cost < best_cost:
                best, best_cost = spot, cost
            if cost == 0:
                break
        text.set_position(best[:2])
        text.set_ha(best[2])
        text.set_va(best[3])
        if abs(best[0]) > 8 or abs(best[1]) > 8:
            ax.annotate("", (xs[k], ys[k]), xytext=best[:2], textcoords="offset points",
                        arrowprops={"arrowstyle": "-", "color": GREY, "lw": 0.4,
                                    "shrinkA": 0, "shrinkB": 2})
        placed.append(text.get_window_extent(renderer).padded(1.0))


def bars(labels: Sequence[str], values: Sequence[float], xlabel: str,
         fmt: str = "{:,.0f}", width: float = 6.2, color: str | Sequence[str] = BLUE,
         sort: bool = True, lower: Sequence[float | None] | None = None,
         upper: Sequence[float | None] | None = None) -> str:
    """Horizontal bars with their values beside them, largest first (``sort``).

    Horizontal so that long and Chinese labels are never rotated. ``color`` is
    one colour or one per bar; ``lower``/``upper`` draw intervals, and the value
    is then written right of the interval so that no whisker crosses it.
    """
    n = len(labels)
    order = sorted(range(n), key=lambda k: -values[k]) if sort else list(range(n))
    colours = [color] * n if isinstance(color, str) else list(color)
    with _figure(width, max(1.3, 0.25 * n + 0.7)) as fig:
        ax = fig.add_subplot()
        ys = list(range(n))[::-1]
        ends = [max(values[k], (upper[k] if upper is not None and upper[k] is not None
                                else values[k])) for k in range(n)]
        top = max(ends) if n else 1.0
        for y, k in zip(ys, order, strict=True):
            ax.barh(y, values[k], color=colours[k], height=0.62, edgecolor="none")
            if lower is not None and upper is not None and lower[k] is not None \
                    and upper[k] is not None:
                ax.plot([lower[k], upper[k]], [y, y], color="#1d2733", lw=0.9)
            ax.text(ends[k] + top * 0.012, y, fmt.format(values[k]), va="center",
                    ha="left", fontsize=7)
        ax.set_yticks(ys, [labels[k] for k in order])
        ax.set_xlabel(xlabel)
        ax.xaxis.set_major_formatter(_thousands())
        ax.set_xlim(0, top * 1.15 if top > 0 else 1)
        ax.set_ylim(-0.6, n - 0.4)
        fig.tight_layout()
        return _svg(fig)


def pareto(share_customers: Sequence[float], share_revenue: Sequence[float],
           xlabel: str, ylabel: str, cuts: Sequence[tuple[float, str]] = (),
           width: float = 5.0, equality: str = "") -> str:
    """Cumulative share of revenue against cumulative share of customers (Lorenz/Pareto).

    ``cuts`` are ``(share of customers, label)``: a dashed vertical line each,
    labelled beside it (e.g. where class A ends); ``equality`` labels the
    diagonal (every customer bringing the same revenue).
    """
    with _figure(width, 2.8) as fig:
        ax = fig.add_subplot()
        ax.plot(share_customers, share_revenue, color=BLUE, lw=1.5)
        ax.plot([0, 1], [0, 1], color=GREY, lw=0.8, ls=":")
        if equality:
            ax.text(0.62, 0.55, equality, rotation=0, fontsize=6.5, color=GREY,
                    ha="left", va="top")
        for c, label in cuts:
            ax.axvline(c, color=ORANGE, lw=0.8, ls="--")
            if label:
                ax.text(c + 0.01, 0.06, label, fontsize=6.5, color="#9a6a00", ha="left",
                        va="bottom")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.02)
        ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
        ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        fig.tight_layout()
        return _svg(fig)


def histogram(edges: Sequence[float], counts: Sequence[float], xlabel: str, ylabel: str,
              width: float = 5.0) -> str:
    """A histogram drawn from precomputed bin edges and counts."""
    with _figure(width, 2.6) as fig:
        ax = fig.add_subplot()
        lefts = list(edges[:-1])
        widths = [b - a for a, b in itertools.pairwise(edges)]
        ax.bar(lefts, counts, width=widths, align="edge", color=SKY, edgecolor=BLUE, lw=0.5)
        ax.xaxis.set_major_formatter(_thousands())
        ax.yaxis.set_major_formatter(_thousands())
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        fig.tight_layout()
        return _svg(fig)


def holdout(labels: Sequence[str], actual: Sequence[float], predicted: Sequence[float],
            xlabel: str, ylabel: str, legend: tuple[str, str], width: float = 5.0) -> str:
    """Actual and predicted mean holdout purchases by calibration frequency, as two
    lines over the groups ``labels`` (0, 1, ..., 7+): the conditional-expectations
    plot of Fader, Hardie & Lee (2005a, figure 4). ``legend`` names the actual and
    the predicted line."""
    with _figure(width, 2.6) as fig:
        ax = fig.add_subplot()
        xs = list(range(len(labels)))
        ax.plot(xs, actual, color=BLUE, lw=1.5, marker="o", ms=3.5, label=legend[0])
        ax.plot(xs, predicted, color=ORANGE, lw=1.5, ls="--", marker="s", ms=3.5,
                label=legend[1])
        ax.set_xticks(xs, labels)
        ax.set_ylim(bottom=0)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.legend(frameon=False, loc="upper left")
        fig.tight_layout()
        return _svg(fig)
