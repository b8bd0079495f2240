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
    height = max(2.0, 0.85 * nrow + 0.6)
    pos: dict[str, tuple[float, float]] = {}
    for col, members in columns.items():
        for k, node in enumerate(members):
            y = (len(members) - 1) / 2 - k
            pos[node["id"]] = (col * 3.0, y * 1.5)
    with _figure(width, height) as fig:
        ax = fig.add_axes((0, 0, 1, 1))
        ax.set_axis_off()
        ew, eh = 2.1, 0.9
        ax.set_xlim(-ew / 2 - 0.2, (ncol - 1) * 3.0 + ew / 2 + 0.2)
        ax.set_ylim(-(nrow - 1) * 0.75 - eh / 2 - 0.35, (nrow - 1) * 0.75 + eh / 2 + 0.35)
        ax.set_aspect("auto")
        for node in nodes:
            x, y = pos[node["id"]]
            ax.add_patch(Ellipse((x, y), ew, eh, facecolor="#EAF1F8", edgecolor=BLUE, lw=1.0))
            ax.text(x, y + (0.1 if node.get("r2") else 0), node["label"], ha="center",
                    va="center", fontsize=7.5, color="#102030", wrap=True)
            if node.get("r2"):
                ax.text(x, y - 0.22, node["r2"], ha="center", va="center", fontsize=6.5,
                        color="#444444")
        for edge in edges:
            (x0, y0), (x1, y1) = pos[edge["from"]], pos[edge["to"]]
            sig = bool(edge.get("significant"))
            arrow = FancyArrowPatch(
                (x0 + ew / 2, y0), (x1 - ew / 2, y1), arrowstyle="-|>", mutation_scale=9,
                lw=1.3 if sig else 0.8, color=BLUE if sig else GREY,
                linestyle="-" if sig else "--", shrinkA=2, shrinkB=2,
                connectionstyle="arc3,rad=0.0")
            ax.add_patch(arrow)
            t = 0.42
            ax.text(x0 + ew / 2 + t * (x1 - x0 - ew), y0 + t * (y1 - y0), edge["label"],
                    ha="center", va="center", fontsize=7,
                    bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none"})
        return _svg(fig)


def bar_index(labels: Sequence[str], values: Sequence[float | None],
              lower: Sequence[float | None], upper: Sequence[float | None],
              xlabel: str, width: float = 6.2) -> str:
    """Horizontal bars of 0-100 indices with their confidence intervals."""
    n = len(labels)
    with _figure(width, max(1.4, 0.28 * n + 0.7)) as fig:
        ax = fig.add_subplot()
        ys = list(range(n))[::-1]
        vals = [v if v is not None else 0.0 for v in values]
        ax.barh(ys, vals, color=SKY, edgecolor=BLUE, height=0.6)
        for y, v, lo, hi in zip(ys, values, lower, upper, strict=True):
            if lo is not None and hi is not None:
                ax.plot([lo, hi], [y, y], color=BLUE, lw=1.0)
            if v is not None:
                ax.text(min(v + 1.5, 96), y, f"{v:.1f}", va="center", fontsize=7)
        ax.set_yticks(ys, labels)
        ax.set_xlim(0, 100)
        ax.set_xlabel(xlabel)
        fig.tight_layout()
        return _svg(fig)


def ipa_map(labels: Sequence[str], importance: Sequence[float], performance: Sequence[float],
            mean_importance: float, mean_performance: float, xlabel: str, ylabel: str,
            quadrant_names: dict[str, str], width: float = 6.2) -> str:
    """Importance-performance map with the quadrant lines at the means."""
    with _figure(width, 3.9) as fig:
        ax = fig.add_subplot()
        ax.scatter(importance, performance, s=22, color=BLUE, zorder=3)
        ax.axvline(mean_importance, color=GREY, lw=0.8, ls="--")
        ax.axhline(mean_performance, color=GREY, lw=0.8, ls="--")
        xs = [*importance, mean_importance]
        ys = [*performance, mean_performance]
        xpad = (max(xs) - min(xs)) * 0.15 or 0.05
        ypad = (max(ys) - min(ys)) * 0.15 or 2.0
        ax.set_xlim(min(xs) - xpad, max(xs) + xpad * 1.6)
        ax.set_ylim(min(ys) - ypad, max(ys) + ypad)
        corners = {"concentrate_here": (0.98, 0.03, "right", "bottom"),
                   "keep_up": (0.98, 0.97, "right", "top"),
                   "low_priority": (0.02, 0.03, "left", "bottom"),
                   "possible_overkill": (0.02, 0.97, "left", "top")}
        for key, (x, y, ha, va) in corners.items():
            ax.text(x, y, quadrant_names[key], transform=ax.transAxes, ha=ha, va=va,
                    fontsize=7.5, color=RED if key == "concentrate_here" else GREY,
                    fontweight="bold" if key == "concentrate_here" else "normal")
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


def bars(labels: Sequence[str], values: Sequence[float], ylabel: str,
         fmt: str = "{:,.0f}", width: float = 6.2, color: str = BLUE) -> str:
    """Vertical bars with their values on top (counts, shares, means)."""
    with _figure(width, 2.5) as fig:
        ax = fig.add_subplot()
        xs = list(range(len(labels)))
        ax.bar(xs, values, color=color, width=0.65)
        top = max(values) if len(values) else 1.0
        for x, v in zip(xs, values, strict=True):
            ax.text(x, v + top * 0.01, fmt.format(v), ha="center", va="bottom", fontsize=7)
        ax.set_xticks(xs, labels, rotation=30 if len(labels) > 5 else 0,
                      ha="right" if len(labels) > 5 else "center")
        ax.set_ylabel(ylabel)
        ax.set_ylim(0, top * 1.12 if top > 0 else 1)
        fig.tight_layout()
        return _svg(fig)


def pareto(share_customers: Sequence[float], share_revenue: Sequence[float],
           xlabel: str, ylabel: str, cuts: Sequence[float] = (), width: float = 5.0) -> str:
    """Cumulative share of revenue against cumulative share of customers (Lorenz/Pareto)."""
    with _figure(width, 2.8) as fig:
        ax = fig.add_subplot()
        ax.plot(share_customers, share_revenue, color=BLUE, lw=1.5)
        ax.plot([0, 1], [0, 1], color=GREY, lw=0.8, ls=":")
        for c in cuts:
            ax.axvline(c, color=ORANGE, lw=0.8, ls="--")
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
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        fig.tight_layout()
        return _svg(fig)
