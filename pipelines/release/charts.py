"""The report's charts, drawn by matplotlib (a well-kept library: axes, ticks and layout are its
job) as inline SVG with text kept as text, so labels stay searchable, selectable and sharp.

Each chart is two steps: a `*_data` function that picks what the chart shows (tested), and a
drawing that turns it into SVG bytes that are the same on every run (fixed hash salt, no date).
Charts are drawn narrow (about 330 units wide, text 9.5-10 units) so that their text stays
legible on a 390 px phone.
"""

from __future__ import annotations

import io
import logging
import math
import re
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display: the report is built on servers
import matplotlib.pyplot as plt  # noqa: E402
from markupsafe import Markup  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

# A machine without the CJK font still draws (the browser supplies the glyphs): no warning spam.
logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)

#: Pillar colours in framework order (a framework with more pillars cycles through them).
PILLAR_COLOURS: tuple[str, ...] = ("#3b6ea5", "#c9822b", "#4b8b5a", "#8a5a9e", "#5a8f9e")
GAIN_COLOUR = "#2e7d4f"
LOSS_COLOUR = "#b4443a"
WIDTH_IN = 4.6
ROW_IN = 0.22
STYLE = {
    "svg.fonttype": "none",  # text stays <text>, rendered by the reader's fonts
    "svg.hashsalt": "city-influence-index",  # stable ids, so the same data gives the same bytes
    # Layout is measured with these (DejaVu ships with matplotlib; a CJK font where installed);
    # the reader's browser draws the text with FONT_CSS.
    "font.family": ["DejaVu Sans", "WenQuanYi Zen Hei"],
    "font.size": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 10,
    "axes.labelsize": 10,
    "xtick.labelsize": 9.5,
    "ytick.labelsize": 9.5,
    "legend.fontsize": 9.5,
    "legend.frameon": False,
}
FONT_CSS = "system-ui, 'Noto Sans CJK SC', 'WenQuanYi Zen Hei', sans-serif"


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def to_svg(figure: Any, title: str) -> Markup:
    """SVG text of a figure, without the XML prolog and fixed pixel size (CSS scales it)."""
    buffer = io.StringIO()
    figure.savefig(
        buffer, format="svg", metadata={"Date": None, "Creator": None}, bbox_inches="tight"
    )
    plt.close(figure)
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r'<svg ([^>]*?)width="[^"]*" height="[^"]*"', r"<svg \1", svg, count=1)
    svg = svg.replace("<svg ", f'<svg role="img" aria-label="{_attr(title)}" ', 1)
    svg = re.sub(r"font-family:[^;\"]*", f"font-family:{FONT_CSS}", svg)
    return Markup(svg)


def _attr(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def _figure(rows: int, extra_in: float = 0.9) -> tuple[Any, Any]:
    with plt.rc_context(STYLE):
        figure, axes = plt.subplots(figsize=(WIDTH_IN, max(1.2, rows * ROW_IN + extra_in)))
    return figure, axes


def _empty(message: str, title: str) -> Markup:
    with plt.rc_context(STYLE):
        figure, axes = plt.subplots(figsize=(WIDTH_IN, 0.8))
        axes.axis("off")
        axes.text(0.5, 0.5, message, ha="center", va="center", color="#5b636b")
        return to_svg(figure, title)


# --------------------------------------------------------------------------- chart data


def top_ranks_data(ranked: list[dict[str, Any]], n: int) -> list[dict[str, Any]]:
    """The top n ranked cities: rank and the 5th-95th percentile rank interval."""
    return [
        {
            "city_id": r["city_id"],
            "rank": int(r["rank"]),
            "low": None if _missing(r.get("rank_p05")) else float(r["rank_p05"]),
            "high": None if _missing(r.get("rank_p95")) else float(r["rank_p95"]),
        }
        for r in ranked[:n]
    ]


def pillar_data(ranked: list[dict[str, Any]], pillars: tuple[str, ...], n: int) -> list[dict]:
    return [
        {
            "city_id": r["city_id"],
            **{p: None if _missing(r.get(p)) else float(r[p]) for p in pillars},
        }
        for r in ranked[:n]
    ]


def movers_data(ranked: list[dict[str, Any]], n: int) -> list[dict[str, Any]]:
    """Largest climbs first, then largest falls; cities without a previous rank are left out."""
    rows = [r for r in ranked if not _missing(r.get("rank_change"))]
    gains = sorted(
        (r for r in rows if r["rank_change"] > 0), key=lambda r: (-r["rank_change"], r["rank"])
    )[:n]
    losses = sorted(
        (r for r in rows if r["rank_change"] < 0), key=lambda r: (r["rank_change"], r["rank"])
    )[:n]
    return [
        {
            "city_id": r["city_id"],
            "rank": int(r["rank"]),
            "change": int(r["rank_change"]),
            "significant": bool(r.get("change_significant")),
        }
        for r in gains + list(reversed(losses))
    ]


def history_data(
    history: list[dict[str, Any]], leaders: list[str]
) -> dict[str, list[tuple[int, int]]]:
    """Rank per year of each leader, in year order; a missing year is simply absent."""
    series: dict[str, list[tuple[int, int]]] = {c: [] for c in leaders}
    for row in sorted(history, key=lambda r: r["year"]):
        if row["city_id"] in series and not _missing(row.get("rank")):
            series[row["city_id"]].append((int(row["year"]), int(row["rank"])))
    return series


# --------------------------------------------------------------------------- drawings


def draw_top_ranks(
    data: list[dict[str, Any]], names: dict[str, str], text: dict[str, str]
) -> Markup:
    if not data:
        return _empty(text["empty"], text["title"])
    with plt.rc_context(STYLE):
        figure, axes = _figure(len(data))
        ys = list(range(len(data)))
        for y, row in zip(ys, data, strict=True):
            if row["low"] is not None and row["high"] is not None:
                axes.plot([row["low"], row["high"]], [y, y], color="#7d8a96", lw=2)
        axes.scatter([r["rank"] for r in data], ys, color="#1f5f9e", zorder=3, s=22)
        axes.set_yticks(ys, [f"{r['rank']}. {names[r['city_id']]}" for r in data])
        axes.invert_yaxis()
        axes.set_xlabel(text["axis"])
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.grid(axis="x", color="#e6e9ec")
        axes.set_axisbelow(True)
        return to_svg(figure, text["title"])


def draw_pillars(
    data: list[dict[str, Any]], pillars: dict[str, str], names: dict[str, str], text: dict[str, str]
) -> Markup:
    if not data:
        return _empty(text["empty"], text["title"])
    with plt.rc_context(STYLE):
        figure, axes = _figure(len(data), 1.2)
        ys = list(range(len(data)))
        middle = (len(pillars) - 1) / 2  # the pillars' dots sit around each city's line
        for k, (pillar, label) in enumerate(pillars.items()):
            offset = (k - middle) * 0.22
            points = [(r[pillar], y + offset) for y, r in zip(ys, data, strict=True)]
            points = [(x, y) for x, y in points if x is not None]
            axes.scatter(
                [x for x, _ in points],
                [y for _, y in points],
                s=14,
                color=PILLAR_COLOURS[k % len(PILLAR_COLOURS)],
                label=label,
                zorder=3,
            )
        axes.set_yticks(ys, [names[r["city_id"]] for r in data])
        axes.invert_yaxis()
        axes.set_xlim(-2, 102)  # room for a dot at 0 or 100
        axes.set_xlabel(text["axis"])
        axes.grid(axis="x", color="#e6e9ec")
        axes.set_axisbelow(True)
        axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=3)
        return to_svg(figure, text["title"])


def draw_movers(data: list[dict[str, Any]], names: dict[str, str], text: dict[str, str]) -> Markup:
    if not data:
        return _empty(text["empty"], text["title"])
    with plt.rc_context(STYLE):
        figure, axes = _figure(len(data))
        ys = list(range(len(data)))
        for y, row in zip(ys, data, strict=True):
            colour = GAIN_COLOUR if row["change"] > 0 else LOSS_COLOUR
            axes.barh(
                y,
                row["change"],
                color=colour,
                alpha=1.0 if row["significant"] else 0.35,
                edgecolor=colour,
                height=0.7,
            )
        axes.set_yticks(ys, [f"{r['rank']}. {names[r['city_id']]}" for r in data])
        axes.invert_yaxis()
        axes.axvline(0, color="#8d959c", lw=1)
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_xlabel(text["axis"])
        return to_svg(figure, text["title"])


def draw_history(
    series: dict[str, list[tuple[int, int]]], names: dict[str, str], text: dict[str, str]
) -> Markup:
    if not any(len(points) > 0 for points in series.values()):
        return _empty(text["empty"], text["title"])
    with plt.rc_context(STYLE):
        figure, axes = plt.subplots(figsize=(WIDTH_IN, 3.6))
        years = sorted({year for points in series.values() for year, _ in points})
        colours = plt.get_cmap("tab10")
        for k, (city, points) in enumerate(series.items()):
            axes.plot(
                [y for y, _ in points],
                [r for _, r in points],
                marker="o",
                ms=3.5,
                lw=1.6,
                color=colours(k % 10),
                label=names[city],
            )
        axes.invert_yaxis()
        axes.set_xticks(years, [str(y) for y in years])
        axes.set_xlabel(text["axis_x"])
        axes.set_ylabel(text["axis"])
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.grid(axis="y", color="#e6e9ec")
        axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=3)
        return to_svg(figure, text["title"])


def draw_sensitivity(
    rows: list[dict[str, Any]], labels: dict[str, str], text: dict[str, str]
) -> Markup:
    """First-order and total Sobol index per assumption, paired bars on 0-1."""
    if not rows:
        return _empty(text["empty"], text["title"])
    with plt.rc_context(STYLE):
        figure, axes = _figure(len(rows) * 2, 1.2)
        ys = list(range(len(rows)))
        first = [0.0 if _missing(r.get("first_order")) else float(r["first_order"]) for r in rows]
        total = [0.0 if _missing(r.get("total_order")) else float(r["total_order"]) for r in rows]
        axes.barh([y - 0.18 for y in ys], first, height=0.35, color="#3b6ea5", label=text["first"])
        axes.barh([y + 0.18 for y in ys], total, height=0.35, color="#c9822b", label=text["total"])
        axes.set_yticks(ys, [labels.get(r["assumption"], r["assumption"]) for r in rows])
        axes.invert_yaxis()
        axes.set_xlim(0, 1)
        axes.set_xlabel(text["axis"])
        axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.25), ncol=2)
        return to_svg(figure, text["title"])
