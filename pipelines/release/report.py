"""The edition report: one self-contained HTML file (inline CSS and SVG, no network, no server).

Readers open `report.html` straight from a release folder or an e-mail attachment, so nothing may
be fetched: charts are SVG drawn here in Python, styles are inlined from `templates/report.css`,
and the only script is an optional inline table sorter. All text goes through markupsafe, so
names such as "Xi'an" and Chinese names are escaped once and render as written.

Conventions used by the report (see `docs/architecture.md` for the tables):
- `rank_change` = previous rank - current rank, so a positive value means the city climbed;
  null for a ranked city means it has no previous rank ("new").
- `change_significant` is False when the previous rank lies inside the city's 5th-95th
  percentile Monte Carlo rank interval; null when there is no change to judge.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

TEMPLATE_DIR = Path(__file__).parent / "templates"
PILLARS: tuple[str, ...] = ("media", "social", "economy")
PILLAR_COLOURS: dict[str, str] = {"media": "#3b6ea5", "social": "#c9822b", "economy": "#4b8b5a"}
GAIN_COLOUR = "#2e7d4f"
LOSS_COLOUR = "#b4443a"
LINE_COLOURS: tuple[str, ...] = (
    "#1f5f9e",
    "#d1731c",
    "#2f8a4a",
    "#b83a3a",
    "#7a55a8",
    "#8a5a44",
    "#c75a9c",
    "#5f6b73",
    "#9a9a1f",
    "#1f9aa8",
)
TOP_N = 20
LEADERS_N = 10
MOVERS_N = 8
FONT = "'Noto Sans CJK SC','WenQuanYi Zen Hei',system-ui,sans-serif"


@dataclass(frozen=True)
class EditionData:
    """Everything the report shows for one edition, gathered by the release step."""

    year: int
    edition: int
    generated_at: str
    code_version: str
    ranking: pl.DataFrame
    history: pl.DataFrame
    framework: pl.DataFrame
    coherence: pl.DataFrame
    pillar_alpha: pl.DataFrame
    external_validation: pl.DataFrame
    provenance: pl.DataFrame
    validation: pl.DataFrame
    config: dict[str, Any] = field(default_factory=dict)
    # Per landed (source, year): mode (snapshot | live | record) and synthetic or real.
    data_kinds: pl.DataFrame | None = None
    audit: pl.DataFrame | None = None  # analysis.audit of the year (report_audit)
    sensitivity: pl.DataFrame | None = None  # analysis.sensitivity of the year


# --------------------------------------------------------------------------- formatting helpers


def _is_missing(value: Any) -> bool:
    """Polars gives None for nulls but floats may still be NaN; both mean "no value"."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def _num(value: Any, digits: int = 1) -> str:
    return "–" if _is_missing(value) else f"{float(value):.{digits}f}"


def _int(value: Any) -> str:
    return "–" if _is_missing(value) else str(int(round(float(value))))


def _signed(value: int) -> str:
    """Typographic minus, so "−3" and "+3" line up and read as numbers."""
    return "0" if value == 0 else f"{value:+d}".replace("-", "\u2212")


def _p_value(value: Any) -> str:
    if _is_missing(value):
        return "–"
    return "< 0.001" if float(value) < 0.001 else f"{float(value):.3f}"


def _city_label(row: dict[str, Any]) -> Markup:
    """English and Chinese names side by side, each tagged with its language for fonts/readers."""
    zh = row.get("name_zh") or ""
    en = Markup('<span lang="en">{}</span>').format(row.get("name_en") or row.get("city_id"))
    if not zh:
        return en
    return en + Markup(' <span lang="zh-Hans" class="zh">{}</span>').format(zh)


def _plain_name(row: dict[str, Any]) -> str:
    """Name for SVG labels, where spans are awkward: "Xi'an 西安"."""
    return " ".join(str(p) for p in (row.get("name_en"), row.get("name_zh")) if p)


def _rows(frame: pl.DataFrame | None) -> list[dict[str, Any]]:
    return [] if frame is None else frame.to_dicts()


def _ranked(ranking: pl.DataFrame) -> list[dict[str, Any]]:
    """Ranked cities in rank order; ties keep a stable order by name."""
    rows = [r for r in _rows(ranking) if r.get("ranked") and not _is_missing(r.get("rank"))]
    return sorted(rows, key=lambda r: (r["rank"], r.get("name_en") or ""))


# --------------------------------------------------------------------------- change semantics


def change_cell(row: dict[str, Any]) -> dict[str, str]:
    """Arrow, text and CSS class for a rank change; "new" when there is no previous rank."""
    change = row.get("rank_change")
    if _is_missing(change):
        return {"text": "new", "cls": "new", "sort": "0"}
    change = int(change)
    if change > 0:
        return {"text": f"▲ {change}", "cls": "up", "sort": str(change)}
    if change < 0:
        return {"text": f"▼ {-change}", "cls": "down", "sort": str(change)}
    return {"text": "=", "cls": "same", "sort": "0"}


def significance_text(row: dict[str, Any]) -> str:
    """A move inside the rank interval is noise, and the table says so in words."""
    change = row.get("rank_change")
    if _is_missing(change):
        return "–"
    if int(change) == 0:
        return "no change"
    flag = row.get("change_significant")
    if flag is None:
        return "–"
    return "significant" if flag else "not significant"


# --------------------------------------------------------------------------- SVG primitives


def _nice_step(span: float, target_ticks: int = 6) -> float:
    """1-2-5 tick steps, so axes read at round numbers whatever the number of cities."""
    if span <= 0:
        return 1.0
    raw = span / target_ticks
    power = 10 ** math.floor(math.log10(raw))
    for mult in (1, 2, 5, 10):
        if raw <= mult * power:
            return float(mult * power)
    return float(10 * power)


def _rank_ticks(max_rank: float, target: int = 6) -> list[int]:
    step = max(1, int(_nice_step(max_rank - 1, target)))
    ticks = [1] + list(range(step, int(max_rank) + 1, step))
    return sorted(set(ticks))


def _svg(width: int, height: int, title: str, body: Iterable[Markup]) -> Markup:
    """Outer SVG with a viewBox, so the chart scales with the page and keeps its proportions."""
    head = Markup(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}"'
        ' role="img" font-family="{font}" font-size="12" preserveAspectRatio="xMinYMin meet">'
        "<title>{t}</title>"
    ).format(w=width, h=height, font=FONT, t=title)
    return head + Markup("").join(body) + Markup("</svg>")


def _text(
    x: float, y: float, text: Any, anchor: str = "start", cls: str = "", extra: str = ""
) -> Markup:
    return Markup('<text x="{:.1f}" y="{:.1f}" text-anchor="{}" class="{}"{}>{}</text>').format(
        x, y, anchor, cls, Markup(extra), text
    )


def _line(x1: float, y1: float, x2: float, y2: float, cls: str) -> Markup:
    return Markup('<line x1="{:.1f}" y1="{:.1f}" x2="{:.1f}" y2="{:.1f}" class="{}"/>').format(
        x1, y1, x2, y2, cls
    )


def _empty_chart(message: str, title: str) -> Markup:
    """A chart that has nothing to show still says so, rather than leaving a hole."""
    return _svg(720, 80, title, [_text(360, 45, message, "middle", "note")])


# --------------------------------------------------------------------------- charts


def chart_top_ranks(ranking: pl.DataFrame, n: int = TOP_N) -> Markup:
    """Rank dots with the Monte Carlo 5th-95th interval: shows how firm each top place is."""
    rows = _ranked(ranking)[:n]
    title = f"Top {n} cities: rank and 5th–95th percentile rank interval"
    if not rows:
        return _empty_chart("No ranked cities in this edition", title)
    left, right, top, row_h, bottom = 200, 30, 16, 22, 56
    width = 960
    height = top + row_h * len(rows) + bottom
    plot_w = width - left - right
    highs = [r.get("rank_p95") for r in rows if not _is_missing(r.get("rank_p95"))]
    max_rank = max([float(r["rank"]) for r in rows] + [float(h) for h in highs] + [2.0])

    def x(rank: float) -> float:
        return left + (rank - 1) / (max_rank - 1) * plot_w

    body: list[Markup] = []
    axis_y = top + row_h * len(rows)
    for tick in _rank_ticks(max_rank):
        body.append(_line(x(tick), top, x(tick), axis_y, "grid"))
        body.append(_text(x(tick), axis_y + 16, tick, "middle", "tick"))
    body.append(_line(left, axis_y, width - right, axis_y, "axis"))
    body.append(
        _text(
            left + plot_w / 2,
            axis_y + 40,
            "Rank (dot = this edition; bar = 5th–95th percentile of simulated ranks)",
            "middle",
            "axis-label",
        )
    )
    for i, row in enumerate(rows):
        cy = top + row_h * i + row_h / 2
        label = f"{int(row['rank'])}. {_plain_name(row)}"
        body.append(_text(left - 10, cy + 4, label, "end", "label"))
        lo, hi = row.get("rank_p05"), row.get("rank_p95")
        tip = f"{_plain_name(row)}: rank {_int(row['rank'])}, interval {_int(lo)}–{_int(hi)}"
        if not (_is_missing(lo) or _is_missing(hi)):
            body.append(_line(x(float(lo)), cy, x(float(hi)), cy, "err"))
            body.append(_line(x(float(lo)), cy - 5, x(float(lo)), cy + 5, "err"))
            body.append(_line(x(float(hi)), cy - 5, x(float(hi)), cy + 5, "err"))
        body.append(
            Markup(
                '<circle cx="{:.1f}" cy="{:.1f}" r="5" class="dot"><title>{}</title></circle>'
            ).format(x(float(row["rank"])), cy, tip)
        )
    return _svg(width, height, title, body)


def chart_pillars(ranking: pl.DataFrame, pillar_names: dict[str, str], n: int = TOP_N) -> Markup:
    """Small multiples, one panel per pillar, so each pillar reads on its own 0-100 scale."""
    rows = _ranked(ranking)[:n]
    title = f"Pillar scores of the top {n} cities"
    if not rows:
        return _empty_chart("No ranked cities in this edition", title)
    left, right, top, row_h, bottom, gap = 200, 16, 34, 20, 50, 22
    width = 1000
    panel_w = (width - left - right - gap * (len(PILLARS) - 1)) / len(PILLARS)
    axis_y = top + row_h * len(rows)
    height = axis_y + bottom
    body: list[Markup] = []
    for i, row in enumerate(rows):
        cy = top + row_h * i + row_h / 2
        label = f"{int(row['rank'])}. {_plain_name(row)}"
        body.append(_text(left - 10, cy + 4, label, "end", "label"))
    for p, pillar in enumerate(PILLARS):
        x0 = left + p * (panel_w + gap)
        body.append(
            _text(x0, top - 14, pillar_names.get(pillar, pillar.title()), "start", "panel-title")
        )
        for tick in (0, 50, 100):
            tx = x0 + panel_w * tick / 100
            body.append(_line(tx, top, tx, axis_y, "grid"))
            body.append(_text(tx, axis_y + 16, tick, "middle", "tick"))
        body.append(_line(x0, axis_y, x0 + panel_w, axis_y, "axis"))
        for i, row in enumerate(rows):
            value = row.get(pillar)
            if _is_missing(value):
                continue
            bar_w = panel_w * max(0.0, min(100.0, float(value))) / 100
            tip = f"{_plain_name(row)} – {pillar_names.get(pillar, pillar)}: {_num(value)}"
            body.append(
                Markup(
                    '<rect x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}" fill="{}">'
                    "<title>{}</title></rect>"
                ).format(x0, top + row_h * i + 3, bar_w, row_h - 6, PILLAR_COLOURS[pillar], tip)
            )
    body.append(
        _text(
            left + (width - left - right) / 2,
            axis_y + 40,
            "Pillar score (0–100, higher = more international attention)",
            "middle",
            "axis-label",
        )
    )
    return _svg(width, height, title, body)


def select_movers(ranking: pl.DataFrame, n: int = MOVERS_N) -> list[dict[str, Any]]:
    """Largest climbs first, then largest falls; cities without a previous rank are left out."""
    rows = [r for r in _ranked(ranking) if not _is_missing(r.get("rank_change"))]
    gains = sorted(
        (r for r in rows if r["rank_change"] > 0), key=lambda r: (-r["rank_change"], r["rank"])
    )[:n]
    losses = sorted(
        (r for r in rows if r["rank_change"] < 0), key=lambda r: (r["rank_change"], r["rank"])
    )[:n]
    return gains + list(reversed(losses))


def chart_movers(ranking: pl.DataFrame, n: int = MOVERS_N) -> Markup:
    """Diverging bars of rank change; pale bars are moves inside the rank interval."""
    rows = select_movers(ranking, n)
    title = "Largest rank gains and losses since the previous edition"
    if not rows:
        return _empty_chart("No rank changes against a previous edition", title)
    left, right, top, row_h, bottom = 200, 40, 16, 22, 74
    width = 960
    axis_y = top + row_h * len(rows)
    height = axis_y + bottom
    span = max(abs(int(r["rank_change"])) for r in rows)
    step = max(1, int(_nice_step(2 * span, 8)))
    span = math.ceil(span / step) * step
    plot_w = width - left - right
    mid = left + plot_w / 2

    def x(change: float) -> float:
        # half a step of room beyond the last tick keeps end labels off the city names
        return mid + change / (span + step / 2) * (plot_w / 2)

    body: list[Markup] = []
    for tick in range(-span, span + 1, step):
        body.append(_line(x(tick), top, x(tick), axis_y, "grid" if tick else "zero"))
        body.append(_text(x(tick), axis_y + 16, _signed(tick), "middle", "tick"))
    body.append(_line(left, axis_y, width - right, axis_y, "axis"))
    for i, row in enumerate(rows):
        cy = top + row_h * i + row_h / 2
        change = int(row["rank_change"])
        body.append(
            _text(left - 10, cy + 4, f"{int(row['rank'])}. {_plain_name(row)}", "end", "label")
        )
        colour = GAIN_COLOUR if change > 0 else LOSS_COLOUR
        opacity = "1" if row.get("change_significant") else "0.35"
        x1, x2 = sorted((x(0), x(change)))
        tip = f"{_plain_name(row)}: {change:+d} places ({significance_text(row)})"
        body.append(
            Markup(
                '<rect x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}" fill="{}" '
                'fill-opacity="{}" stroke="{}"><title>{}</title></rect>'
            ).format(x1, cy - 7, x2 - x1, 14, colour, opacity, colour, tip)
        )
        tx = x(change) + (5 if change > 0 else -5)
        body.append(_text(tx, cy + 4, _signed(change), "start" if change > 0 else "end", "value"))
    body.append(
        _text(
            mid, axis_y + 38, "Change in rank (places; positive = climbed)", "middle", "axis-label"
        )
    )
    body.append(
        _text(
            mid,
            axis_y + 58,
            "Solid bar: significant. Pale bar: inside the rank interval (not significant).",
            "middle",
            "note",
        )
    )
    return _svg(width, height, title, body)


def _spread_labels(ys: Sequence[float], min_gap: float, low: float) -> list[float]:
    """Push end-of-line labels apart so tied or adjacent ranks stay legible."""
    order = sorted(range(len(ys)), key=lambda i: ys[i])
    placed = list(ys)
    last = low - min_gap
    for i in order:
        placed[i] = max(ys[i], last + min_gap)
        last = placed[i]
    return placed


def chart_history(history: pl.DataFrame, ranking: pl.DataFrame, n: int = LEADERS_N) -> Markup:
    """Rank over the years for this edition's top 10, rank 1 at the top, gaps where unranked."""
    leaders = _ranked(ranking)[:n]
    title = f"Rank history of this edition's top {n} cities"
    hist = _rows(history)
    years = sorted({int(r["year"]) for r in hist})
    if not leaders or not years:
        return _empty_chart("No history available", title)
    by_city: dict[str, dict[int, float]] = {}
    for r in hist:
        if not _is_missing(r.get("rank")):
            by_city.setdefault(r["city_id"], {})[int(r["year"])] = float(r["rank"])
    ranks = [v for c in leaders for v in by_city.get(c["city_id"], {}).values()]
    max_rank = max(ranks + [float(n), 2.0])
    left, right, top, bottom = 60, 190, 20, 56
    width, plot_h = 960, 340
    plot_w = width - left - right
    height = top + plot_h + bottom

    def x(year: int) -> float:
        if len(years) == 1:
            return left + plot_w / 2
        return left + (year - years[0]) / (years[-1] - years[0]) * plot_w

    def y(rank: float) -> float:
        return top + (rank - 0.5) / max_rank * plot_h  # half a rank of room at both ends

    body: list[Markup] = []
    for tick in _rank_ticks(max_rank, 10):
        body.append(_line(left, y(tick), left + plot_w, y(tick), "grid"))
        body.append(_text(left - 8, y(tick) + 4, tick, "end", "tick"))
    for year in years:
        body.append(_text(x(year), top + plot_h + 18, year, "middle", "tick"))
    body.append(_line(left, top + plot_h, left + plot_w, top + plot_h, "axis"))
    body.append(_line(left, top, left, top + plot_h, "axis"))
    body.append(_text(left + plot_w / 2, top + plot_h + 42, "Edition year", "middle", "axis-label"))
    body.append(
        _text(
            16,
            top + plot_h / 2,
            "Rank (1 = top)",
            "middle",
            "axis-label",
            Markup(' transform="rotate(-90 16 {:.1f})"').format(top + plot_h / 2),
        )
    )
    ends: list[float] = []
    for i, city in enumerate(leaders):
        colour = LINE_COLOURS[i % len(LINE_COLOURS)]
        series = by_city.get(city["city_id"], {})
        body.extend(_history_series(series, years, colour, _plain_name(city), x, y))
        ends.append(y(float(city["rank"])))
    for i, (city, ly) in enumerate(zip(leaders, _spread_labels(ends, 14, top), strict=True)):
        colour = LINE_COLOURS[i % len(LINE_COLOURS)]
        body.append(
            _text(
                left + plot_w + 10,
                ly + 4,
                f"{int(city['rank'])}. {_plain_name(city)}",
                "start",
                "label",
                Markup(' fill="{}"').format(colour),
            )
        )
    return _svg(width, height, title, body)


def _history_series(
    series: dict[int, float], years: list[int], colour: str, name: str, x: Any, y: Any
) -> list[Markup]:
    """One city's line; a missing year breaks the line instead of drawing a false trend."""
    parts: list[Markup] = []
    segment: list[str] = []
    segments: list[list[str]] = []
    for year in years:
        if year in series:
            segment.append(f"{x(year):.1f},{y(series[year]):.1f}")
        elif segment:
            segments.append(segment)
            segment = []
    if segment:
        segments.append(segment)
    for seg in segments:
        if len(seg) > 1:
            parts.append(
                Markup('<polyline points="{}" fill="none" stroke="{}" stroke-width="2"/>').format(
                    " ".join(seg), colour
                )
            )
    for year, rank in sorted(series.items()):
        if year in years:
            parts.append(
                Markup(
                    '<circle cx="{:.1f}" cy="{:.1f}" r="3.5" fill="{}"><title>{}</title></circle>'
                ).format(x(year), y(rank), colour, f"{name}: rank {int(rank)} in {year}")
            )
    return parts


# --------------------------------------------------------------------------- page sections


def _pillar_names(framework: pl.DataFrame) -> dict[str, str]:
    """Pillar display names from the framework, falling back to the column name."""
    names = {p: p.title() for p in PILLARS}
    for row in _rows(framework):
        code = str(row.get("icode") or "").lower()
        if code in names and row.get("iname"):
            names[code] = str(row["iname"])
    return names


def key_findings(data: EditionData) -> list[Markup]:
    """Three sentences a reader can quote: the podium and the largest real movers."""
    ranked = _ranked(data.ranking)
    if not ranked:
        return [Markup("No city had enough data to be ranked in this edition.")]
    podium = Markup(", ").join(
        Markup("{} <strong>{}</strong> ({})").format(
            f"{int(r['rank'])}.", _city_label(r), _num(r.get("score"))
        )
        for r in ranked[:3]
    )
    findings = [Markup("Top three: {}.").format(podium)]
    significant = [
        r
        for r in ranked
        if r.get("change_significant")
        and not _is_missing(r.get("rank_change"))
        and r["rank_change"] != 0
    ]
    up = max(significant, key=lambda r: r["rank_change"], default=None)
    down = min(significant, key=lambda r: r["rank_change"], default=None)
    if up is not None and up["rank_change"] > 0:
        findings.append(
            Markup(
                "Biggest significant climb: <strong>{}</strong>, up {} places to rank {}."
            ).format(_city_label(up), int(up["rank_change"]), int(up["rank"]))
        )
    if down is not None and down["rank_change"] < 0:
        findings.append(
            Markup(
                "Biggest significant fall: <strong>{}</strong>, down {} places to rank {}."
            ).format(_city_label(down), -int(down["rank_change"]), int(down["rank"]))
        )
    if up is None and down is None:
        findings.append(
            Markup(
                "No rank change this edition lies outside its rank interval; "
                "year-on-year moves are within the index's uncertainty."
            )
        )
    new = [r for r in ranked if _is_missing(r.get("rank_change"))]
    if new:
        findings.append(
            Markup("Newly ranked: {}.").format(Markup(", ").join(_city_label(r) for r in new))
        )
    return findings


def ranking_rows(ranking: pl.DataFrame) -> list[dict[str, Any]]:
    """Pre-formatted table rows; sort keys travel as data attributes for the inline sorter."""
    out = []
    for row in _ranked(ranking):
        lo, hi = row.get("rank_p05"), row.get("rank_p95")
        out.append(
            {
                "rank": _int(row["rank"]),
                "change": change_cell(row),
                "city": _city_label(row),
                "name_sort": row.get("name_en") or "",
                "country": row.get("country_iso3") or "",
                "score": _num(row.get("score")),
                "pillars": [_num(row.get(p)) for p in PILLARS],
                "interval": "–" if _is_missing(lo) else f"{_int(lo)}–{_int(hi)}",
                "median": _num(row.get("median_rank")),
                "significance": significance_text(row),
            }
        )
    return out


def unranked_rows(ranking: pl.DataFrame) -> list[dict[str, Any]]:
    """Cities screened out for low data availability are listed, not silently dropped."""
    rows = [r for r in _rows(ranking) if not r.get("ranked") or _is_missing(r.get("rank"))]
    rows.sort(key=lambda r: r.get("name_en") or "")
    return [
        {
            "city": _city_label(r),
            "country": r.get("country_iso3") or "",
            "availability": "–"
            if _is_missing(r.get("data_availability"))
            else f"{float(r['data_availability']):.0%}",
        }
        for r in rows
    ]


def _flagged(flag: Any) -> bool:
    if isinstance(flag, bool) or flag is None:
        return bool(flag)
    return str(flag).strip().lower() not in {"", "ok", "none", "false", "0"}


def coherence_rows(data: EditionData) -> list[dict[str, Any]]:
    """Flagged pairs first, since those are what a reviewer needs to look at."""
    names = {r["icode"]: r.get("iname") or r["icode"] for r in _rows(data.framework)}
    rows = [
        {
            "pillar": r.get("pillar"),
            "a": r.get("icode_a"),
            "a_name": names.get(r.get("icode_a"), ""),
            "b": r.get("icode_b"),
            "b_name": names.get(r.get("icode_b"), ""),
            "r": _num(r.get("pearson_r"), 2),
            "flagged": _flagged(r.get("flag")),
            "flag": ""
            if not _flagged(r.get("flag"))
            else ("flag" if isinstance(r.get("flag"), bool) else str(r["flag"])),
        }
        for r in _rows(data.coherence)
    ]
    rows.sort(key=lambda r: (not r["flagged"], str(r["pillar"]), str(r["a"]), str(r["b"])))
    return rows


def framework_rows(framework: pl.DataFrame) -> list[dict[str, Any]]:
    """Indicators (level 1) grouped by pillar; higher levels shown as their own rows."""
    rows = _rows(framework)
    rows.sort(
        key=lambda r: (-(r.get("level") or 0), str(r.get("parent") or ""), str(r.get("icode")))
    )
    return [
        {
            "level": _int(r.get("level")),
            "icode": r.get("icode") or "",
            "iname": r.get("iname") or "",
            "parent": r.get("parent") or "",
            "direction": {1: "+", -1: "−"}.get(int(r["direction"]), str(r["direction"]))
            if not _is_missing(r.get("direction"))
            else "–",
            "weight": _num(r.get("weight"), 2),
            "type": r.get("type") or "",
            "source": r.get("source") or "",
            "unit": r.get("unit") or "",
            "definition": r.get("definition") or "",
            "is_indicator": (r.get("level") or 0) == 1,
        }
        for r in rows
    ]


def config_rows(config: dict[str, Any]) -> list[tuple[str, str]]:
    """Flat key/value pairs; nested values shown as compact JSON so nothing is hidden."""

    def show(value: Any) -> str:
        if isinstance(value, dict | list | tuple):
            return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
        return str(value)

    return [(str(k), show(v)) for k, v in sorted(config.items(), key=lambda kv: str(kv[0]))]


def _screen_threshold(config: dict[str, Any]) -> str | None:
    for key, value in config.items():
        if "screen" in str(key).lower() and isinstance(value, int | float):
            return f"{float(value):.0%}"
    return None


def provenance_rows(provenance: pl.DataFrame) -> list[dict[str, Any]]:
    return [
        {
            "source": r.get("source") or "",
            "description": r.get("description") or "",
            "responses": _int(r.get("responses")),
            "window": _window(r.get("retrieved_at_min"), r.get("retrieved_at_max")),
            "synthetic": bool(r.get("synthetic")),
            "note": r.get("note") or "",
        }
        for r in _rows(provenance)
    ]


def _window(start: Any, end: Any) -> str:
    """Retrieval window as dates; the time of day adds noise, not information."""

    def day(v: Any) -> str:
        return "–" if _is_missing(v) else str(v)[:10]

    a, b = day(start), day(end)
    return a if a == b else f"{a} → {b}"


def data_kind_table(data_kinds: pl.DataFrame | None) -> dict[str, Any]:
    """Sources as rows, years as columns: which kind of data each year of the edition used."""
    if data_kinds is None or data_kinds.is_empty():
        return {"years": [], "rows": []}
    years = sorted(set(data_kinds["year"].to_list()))
    cells: dict[str, dict[int, dict[str, Any]]] = {}
    for r in _rows(data_kinds):
        cells.setdefault(str(r["source"]), {})[int(r["year"])] = {
            "mode": r["mode"],
            "synthetic": bool(r["synthetic"]),
            "empty": not r.get("responses"),  # landed, but the source had nothing for it
        }
    rows = [
        {"source": source, "cells": [by_year.get(year) for year in years]}
        for source, by_year in sorted(cells.items())
    ]
    return {"years": years, "rows": rows}


def synthetic_sources(provenance: pl.DataFrame) -> list[str]:
    return [str(r.get("source")) for r in _rows(provenance) if r.get("synthetic")]


def validation_rows(validation: pl.DataFrame) -> list[dict[str, Any]]:
    return [
        {
            "suite": r.get("suite") or "",
            "success": bool(r.get("success")),
            "evaluated": _int(r.get("evaluated")),
            "failed": _int(r.get("failed")),
        }
        for r in _rows(validation)
    ]


def external_rows(external: pl.DataFrame) -> list[dict[str, Any]]:
    """Accepts `n_units` (report API) or `n_cities` (analysis table) for the sample size."""
    return [
        {
            "benchmark": r.get("benchmark") or "",
            "n": _int(r.get("n_units", r.get("n_cities"))),
            "rho": _num(r.get("spearman_rho"), 2),
            "p": _p_value(r.get("p_value")),
        }
        for r in _rows(external)
    ]


def alpha_rows(pillar_alpha: pl.DataFrame) -> list[dict[str, Any]]:
    """Alpha below 0.7 is the usual warning line for a pillar that measures mixed things."""
    return [
        {
            "pillar": r.get("pillar") or "",
            "alpha": _num(r.get("cronbach_alpha"), 2),
            "low": not _is_missing(r.get("cronbach_alpha")) and float(r["cronbach_alpha"]) < 0.7,
            "n": _int(r.get("n_indicators")),
        }
        for r in _rows(pillar_alpha)
    ]


# --------------------------------------------------------------------------- rendering


def _environment() -> Environment:
    """Autoescape everything: names come from outside and contain quotes and CJK."""
    return Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _charts(data: EditionData, pillar_names: dict[str, str]) -> list[dict[str, Any]]:
    prev = data.year - 1
    return [
        {
            "name": "top-ranks",
            "svg": chart_top_ranks(data.ranking),
            "caption": f"Top {TOP_N} cities by rank. The bar spans the 5th to 95th percentile of "
            "ranks across the Monte Carlo runs (weights, normalisation, aggregation and "
            "outlier treatment varied); a long bar means a less certain place.",
        },
        {
            "name": "pillars",
            "svg": chart_pillars(data.ranking, pillar_names),
            "caption": f"Pillar scores (0–100) of the top {TOP_N} cities, one panel per pillar.",
        },
        {
            "name": "movers",
            "svg": chart_movers(data.ranking),
            "caption": f"Largest rank gains and losses against {prev}. Pale bars are moves "
            "inside the city's rank interval, which the index cannot tell apart "
            "from noise. Newly ranked cities are not shown.",
        },
        {
            "name": "history",
            "svg": chart_history(data.history, data.ranking),
            "caption": f"Rank of this edition's top {LEADERS_N} cities in every edition up to "
            f"{data.year}; a gap means the city was not ranked that year.",
        },
    ]


def audit_context(data: EditionData) -> dict[str, Any]:
    """The audit and sensitivity sections (pipelines.release.report_audit)."""
    from pipelines.release import report_audit as ra  # it draws with this module's helpers

    return {
        "audit": ra.audit_rows(data.audit),
        "audit_pillars": ra.pillar_audit_rows(data.audit),
        "audit_notes": ra.audit_notes(data.audit),
        "sensitivity_chart": ra.chart_sensitivity(data.sensitivity),
        "sensitivity_sentence": ra.sensitivity_sentence(data.sensitivity),
    }


def render_report(data: EditionData) -> str:
    """The whole report as one HTML string: no external resources, readable offline."""
    env = _environment()
    pillar_names = _pillar_names(data.framework)
    synthetic = synthetic_sources(data.provenance)
    context = {
        "year": data.year,
        "edition": data.edition,
        "generated_at": data.generated_at,
        "generated_date": str(data.generated_at)[:10],
        "code_version": data.code_version,
        "css": Markup((TEMPLATE_DIR / "report.css").read_text(encoding="utf-8")),
        "script": Markup((TEMPLATE_DIR / "sort.js").read_text(encoding="utf-8")),
        "synthetic": synthetic,
        "findings": key_findings(data),
        "pillars": [{"name": pillar_names[p], "short": p.title()} for p in PILLARS],
        "ranking": ranking_rows(data.ranking),
        "unranked": unranked_rows(data.ranking),
        "screen_threshold": _screen_threshold(data.config),
        "charts": _charts(data, pillar_names),
        "coherence": coherence_rows(data),
        "alpha": alpha_rows(data.pillar_alpha),
        "external": external_rows(data.external_validation),
        "framework": framework_rows(data.framework),
        "config": config_rows(data.config),
        "provenance": provenance_rows(data.provenance),
        "data_kinds": data_kind_table(data.data_kinds),
        "validation": validation_rows(data.validation),
        "validation_ok": all(r.get("success") for r in _rows(data.validation)),
        **audit_context(data),
    }
    return env.get_template("report.html.j2").render(**context)


def write_report(data: EditionData, path: Path) -> Path:
    """Write UTF-8 via a temporary file, so a reader never sees half a report."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(render_report(data), encoding="utf-8")
    tmp.replace(path)
    return path
