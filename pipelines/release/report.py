"""The edition report: one self-contained HTML file per language (`report.html` in English,
`report.zh.html` in Chinese), inline CSS and SVG, no network, no server.

Readers open the report straight from a release folder or an e-mail attachment, so nothing may
be fetched: charts are drawn by matplotlib into inline SVG (`charts.py`), styles are inlined,
and the only script is an optional table sorter. Every sentence comes from the message
catalogue (`messages.py`), every claim about a city from `facts.py`, every source name from
`sources.py`: the two editions show the same numbers in two languages.

Conventions used by the report (see `docs/architecture.md` for the tables):
- `rank_change` = previous rank - current rank, so a positive value means the city climbed;
  null for a ranked city means it has no previous rank ("new").
- `change_significant` is False when the previous rank lies inside the city's 5th-95th
  percentile Monte Carlo rank interval; null when there is no change to judge.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from pipelines.framework_tree import FrameworkTree
from pipelines.release import charts, facts
from pipelines.release.messages import (
    LANGUAGES,
    REPORT_FILES,
    Translator,
    ordinal,
)
from pipelines.release.sources import source_description, source_name, source_of_indicator

TEMPLATE_DIR = Path(__file__).parent / "templates"
TOP_N = 20
LEADERS_N = 10
MOVERS_N = 8


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
    # marts.fct_index_score up to the year: every city, year and code with score and rank.
    scores: pl.DataFrame | None = None
    # marts.fct_indicator_value of the year: raw values behind the indicators.
    indicators: pl.DataFrame | None = None
    # marts.dim_city: region and country of every city (peer groups).
    cities: pl.DataFrame | None = None
    # Data files of the release, relative to the report (linked from it).
    files: tuple[str, ...] | None = None


def release_files(year: int, validation_page: bool = True) -> tuple[str, ...]:
    """The data files every release folder holds, as relative links from the report."""
    names = ("index.csv", "index.parquet", f"city_index_{year}.duckdb", "manifest.json")
    return names + (("validation/index.html",) if validation_page else ())


# --------------------------------------------------------------------------- formatting helpers


def _is_missing(value: Any) -> bool:
    """Polars gives None for nulls but floats may still be NaN; both mean "no value"."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def _num(value: Any, digits: int = 1) -> str:
    return "–" if _is_missing(value) else f"{float(value):.{digits}f}"


def _int(value: Any) -> str:
    return "–" if _is_missing(value) else str(int(round(float(value))))


def _signed(value: float, digits: int = 0) -> str:
    """Typographic minus, so "−3" and "+3" line up and read as numbers."""
    if round(value, digits) == 0:
        return "0"
    return f"{value:+.{digits}f}".replace("-", "\u2212")


def _raw(value: Any) -> str:
    """Raw values span counts (millions) and ratios: thousands separators, few decimals."""
    if _is_missing(value):
        return "–"
    value = float(value)
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}"


def _p_value(value: Any) -> str:
    if _is_missing(value):
        return "–"
    return "< 0.001" if float(value) < 0.001 else f"{float(value):.3f}"


def _rows(frame: pl.DataFrame | None) -> list[dict[str, Any]]:
    return [] if frame is None else frame.to_dicts()


def _ranked(ranking: pl.DataFrame) -> list[dict[str, Any]]:
    """Ranked cities in rank order; ties keep a stable order by name."""
    rows = [r for r in _rows(ranking) if r.get("ranked") and not _is_missing(r.get("rank"))]
    return sorted(rows, key=lambda r: (r["rank"], r.get("name_en") or ""))


def select_movers(ranking: pl.DataFrame, n: int = MOVERS_N) -> list[dict[str, Any]]:
    """Largest climbs first, then largest falls (the movers chart's data)."""
    return charts.movers_data(_ranked(ranking), n)


# --------------------------------------------------------------------------- change semantics


def change_cell(row: dict[str, Any], t: Translator | None = None) -> dict[str, str]:
    """Arrow, text and CSS class for a rank change; "new" when there is no previous rank."""
    t = t or Translator("en")
    change = row.get("rank_change")
    if _is_missing(change):
        return {"text": t.plain("new"), "cls": "new", "sort": "0"}
    change = int(change)
    if change > 0:
        return {"text": f"▲ {change}", "cls": "up", "sort": str(change)}
    if change < 0:
        return {"text": f"▼ {-change}", "cls": "down", "sort": str(change)}
    return {"text": "=", "cls": "same", "sort": "0"}


def significance_text(row: dict[str, Any], t: Translator | None = None) -> str:
    """A move inside the rank interval is noise, and the table says so in words."""
    t = t or Translator("en")
    change = row.get("rank_change")
    if _is_missing(change):
        return "–"
    if int(change) == 0:
        return t.plain("no_change")
    flag = row.get("change_significant")
    if flag is None:
        return "–"
    return t.plain("significant") if flag else t.plain("not_significant")


# --------------------------------------------------------------------------- the page in a language


class Page:
    """One edition rendered in one language: names, statements and tables for the template."""

    def __init__(self, data: EditionData, lang: str) -> None:
        self.data = data
        self.lang = lang
        self.t = Translator(lang)
        self.ranked = _ranked(data.ranking)
        self.cities = self._cities()
        self.framework = {str(r["icode"]): r for r in _rows(data.framework)}
        self.tree = FrameworkTree.from_rows(self.framework.values())
        self.scores = facts.Scores(
            facts.scores_frame(data.scores, data.ranking, data.history, self.tree),
            self.cities,
            self.tree,
        )

    def _cities(self) -> dict[str, dict[str, Any]]:
        cities: dict[str, dict[str, Any]] = {}
        for row in _rows(self.data.history) + _rows(self.data.ranking):
            cities.setdefault(row["city_id"], {}).update(
                {k: row[k] for k in ("name_en", "name_zh", "country_iso3") if row.get(k)}
            )
        for row in _rows(self.data.cities):
            cities.setdefault(row["city_id"], {}).update(
                {k: row[k] for k in ("name_en", "name_zh", "country_iso3", "region") if row.get(k)}
            )
        return cities

    # ---- names

    def name(self, city_id: str) -> str:
        info = self.cities.get(city_id, {})
        if self.lang == "zh":
            return info.get("name_zh") or info.get("name_en") or city_id
        return info.get("name_en") or city_id

    def city_label(self, city_id: str, link: bool = True) -> Markup:
        """Name linked to the city's profile (ranked cities have one); the other script beside
        it, tagged with its language for fonts and screen readers."""
        info = self.cities.get(city_id, {})
        other = info.get("name_en") if self.lang == "zh" else info.get("name_zh")
        if link:
            label = Markup('<a href="#{}">{}</a>').format(city_id, self.name(city_id))
        else:
            label = Markup("<span>{}</span>").format(self.name(city_id))
        if other and other != self.name(city_id):
            tag = "en" if self.lang == "zh" else "zh-Hans"
            label += Markup(' <span lang="{}" class="alt">{}</span>').format(tag, other)
        return label

    def code_name(self, code: str) -> str:
        row = self.framework.get(code, {})
        if self.lang == "zh":
            return str(row.get("iname_zh") or row.get("iname") or code)
        if code == self.tree.index:
            return "the overall index"
        return str(row.get("iname") or code)

    def pillar_names(self) -> dict[str, str]:
        return {p: self.code_name(p) for p in self.tree.pillars}

    # ---- statements

    def say(self, statement: facts.Statement, here: str | None = None) -> Markup:
        """The statement in this page's language; `here` is the profile it appears in (its
        city is not linked to itself)."""
        params: dict[str, Any] = {}
        for key, value in statement.params.items():
            if key == "city":
                label = self.city_label(value, link=value != here)
                params[key] = Markup("<strong>{}</strong>").format(label)
            elif key == "others":
                sep = self.t("list_sep")
                params[key] = sep.join(self.city_label(c) for c in value)
            elif key == "code":
                params[key] = self.code_name(value)
            elif key in ("world", "china"):
                params[key] = "" if value is None else ordinal(value, self.lang)
            else:
                params[key] = value
        if "years" in params and statement.key.startswith("leader"):
            years = params["years"]
            params["running"] = self.t("running", years=years) if years >= 2 else ""
        return self.t(statement.key, **params)

    def findings(self) -> list[Markup]:
        """The podium, the significant movers and the leaders (world and Chinese cities)."""
        t = self.t
        if not self.ranked:
            return [t("no_ranked")]
        podium = t("list_sep").join(
            Markup("{}. {} ({})").format(
                int(r["rank"]), self.city_label(r["city_id"]), _num(r.get("score"))
            )
            for r in self.ranked[:3]
        )
        out = [t("top_three", podium=podium)]
        significant = [
            r
            for r in self.ranked
            if r.get("change_significant")
            and not _is_missing(r.get("rank_change"))
            and r["rank_change"] != 0
        ]
        up = max(significant, key=lambda r: r["rank_change"], default=None)
        down = min(significant, key=lambda r: r["rank_change"], default=None)
        if up is not None and up["rank_change"] > 0:
            out.append(
                t(
                    "climb",
                    city=self.city_label(up["city_id"]),
                    n=int(up["rank_change"]),
                    rank=int(up["rank"]),
                )
            )
        if down is not None and down["rank_change"] < 0:
            out.append(
                t(
                    "fall",
                    city=self.city_label(down["city_id"]),
                    n=-int(down["rank_change"]),
                    rank=int(down["rank"]),
                )
            )
        if up is None and down is None:
            out.append(t("no_significant"))
        new = [r for r in self.ranked if _is_missing(r.get("rank_change"))]
        if new:
            out.append(
                t(
                    "newly_ranked",
                    cities=t("list_sep").join(self.city_label(r["city_id"]) for r in new),
                )
            )
        codes = [self.tree.index, *self.tree.pillars]
        out += [self.say(s) for s in facts.headline_statements(self.scores, self.data.year, codes)]
        return out

    # ---- tables

    def ranking_rows(self) -> list[dict[str, Any]]:
        out = []
        for row in self.ranked:
            lo, hi = row.get("rank_p05"), row.get("rank_p95")
            out.append(
                {
                    "rank": _int(row["rank"]),
                    "change": change_cell(row, self.t),
                    "city": self.city_label(row["city_id"]),
                    "name_sort": self.name(row["city_id"]),
                    "country": row.get("country_iso3") or "",
                    "score": _num(row.get("score")),
                    "pillars": [_num(row.get(p)) for p in self.tree.pillars],
                    "interval": "–" if _is_missing(lo) else f"{_int(lo)}–{_int(hi)}",
                    "significance": significance_text(row, self.t),
                    "sig_cls": "sig-" + str(significance_text(row)).replace(" ", "-"),
                }
            )
        return out

    def unranked_rows(self) -> list[dict[str, Any]]:
        rows = [
            r for r in _rows(self.data.ranking) if not r.get("ranked") or _is_missing(r.get("rank"))
        ]
        rows.sort(key=lambda r: r.get("name_en") or "")
        return [
            {
                "city": self.city_label(r["city_id"], link=False),
                "country": r.get("country_iso3") or "",
                "availability": "–"
                if _is_missing(r.get("data_availability"))
                else f"{float(r['data_availability']):.0%}",
            }
            for r in rows
        ]

    def chinese_rows(self) -> list[dict[str, Any]]:
        return [
            {
                "national": row["national"],
                "national_change": change_cell(
                    {
                        "rank_change": None
                        if row["national_previous"] is None
                        else row["national_previous"] - row["national"]
                    },
                    self.t,
                ),
                "city": self.city_label(row["city"]),
                "world": _int(row["world"]),
                "score": _num(row["score"]),
                "pillars": [f"{_int(c)} / {_int(w)}" for c, w in row["pillars"].values()],
            }
            for row in facts.chinese_table(self.scores, self.data.year)
        ]

    def synthetic_years(self) -> set[tuple[str, int]]:
        return {
            (str(r["source"]), int(r["year"]))
            for r in _rows(self.data.data_kinds)
            if r.get("synthetic")
        } | {
            (str(r["source"]), self.data.year)
            for r in _rows(self.data.provenance)
            if r.get("synthetic")
        }

    def profiles(self) -> list[dict[str, Any]]:
        """One profile per ranked city, in rank order."""
        year = self.data.year
        synthetic = self.synthetic_years()
        history = _rows(self.data.history)
        codes = [self.tree.index, *self.tree.pillars] + [
            c for c, r in self.framework.items() if r.get("level") == 1
        ]
        out = []
        for row in self.ranked:
            city = row["city_id"]
            rows = facts.indicator_rows(
                self.scores, self.data.indicators, self.data.framework, synthetic, year, city
            )
            moved = facts.moves(self.scores, year, city)
            out.append(
                {
                    "id": city,
                    "name": self.name(city),
                    "alt": self.city_label(city),
                    "rank_line": self.t(
                        "profile_rank",
                        rank=int(row["rank"]),
                        n=len(self.ranked),
                        score=_num(row.get("score")),
                        low=_int(row.get("rank_p05")),
                        high=_int(row.get("rank_p95")),
                    ),
                    "statements": [
                        self.say(s, here=city)
                        for s in facts.city_statements(self.scores, year, city, codes)
                    ],
                    "history": [
                        {"year": h["year"], "rank": _int(h["rank"]), "score": _num(h["score"])}
                        for h in sorted(history, key=lambda h: h["year"])
                        if h["city_id"] == city
                    ],
                    "rows": [
                        {
                            "name": self.code_name(r["code"]),
                            "pillar": r["pillar"],
                            "score": _num(r["score"]),
                            "world": f"{_int(r['world'])} / {r['world_n']}",
                            "china": _int(r["china"]),
                            "region": f"{_int(r['region'])} / {r['region_n']}"
                            if r["region"]
                            else "–",
                            "raw": _raw(r["raw"]),
                            "unit": r["unit"],
                            "source": source_name(r["source"], self.lang) if r["source"] else "",
                            "synthetic": r["synthetic"],
                            "imputed": r["imputed"],
                        }
                        for r in rows
                    ],
                    "chinese": self.scores.is_chinese(city),
                    "moved": [
                        self.t(
                            "profile_moved_item",
                            code=self.code_name(m["code"]),
                            change=_signed(m["change"], 1),
                            rank_change=_signed(m["rank_change"]),
                        )
                        for m in moved
                    ],
                    "availability": self.t(
                        "profile_availability",
                        share="–"
                        if _is_missing(row.get("data_availability"))
                        else f"{float(row['data_availability']):.0%}",
                    ),
                }
            )
        return out

    def method_rows(self) -> list[dict[str, Any]]:
        """Indicators grouped by pillar with weight, direction, unit and source, in words."""
        rows = []
        for pillar in self.tree.pillars:
            rows.append(
                {
                    "name": self.code_name(pillar),
                    "pillar": True,
                    "weight": "",
                    "direction": "",
                    "unit": "",
                    "source": "",
                    "definition": "",
                }
            )
            for code, r in self.framework.items():
                if r.get("parent") != pillar or r.get("level") != 1:
                    continue
                source = source_of_indicator(r.get("source"))
                rows.append(
                    {
                        "name": self.code_name(code),
                        "pillar": False,
                        "weight": _num(r.get("weight"), 2),
                        "direction": self.t.plain(
                            "lower_better" if r.get("direction") == -1 else "higher_better"
                        ),
                        "unit": r.get("unit") or "",
                        "source": source_name(source, self.lang) if source else "",
                        "definition": r.get("definition") or "" if self.lang == "en" else "",
                    }
                )
        return rows

    def method_choices(self) -> list[tuple[str, str]]:
        """The method's configuration in plain words; anything unknown is shown as recorded."""
        out = []
        for key, value in sorted(self.data.config.items(), key=lambda kv: str(kv[0])):
            label = next(
                (self.t.plain(m) for k, m in CONFIG_LABELS if k in str(key).lower()), str(key)
            )
            shown = (
                f"{float(value):.0%}"
                if "screen" in str(key).lower() and isinstance(value, int | float)
                else "–".join(str(v) for v in value)
                if isinstance(value, list | tuple)
                else str(value)
            )
            out.append((label, shown))
        return out

    def provenance_rows(self) -> list[dict[str, Any]]:
        return [
            {
                "source": source_name(str(r.get("source")), self.lang),
                "id": r.get("source") or "",
                "description": source_description(str(r.get("source")), self.lang),
                "responses": _int(r.get("responses")),
                "window": _window(r.get("retrieved_at_min"), r.get("retrieved_at_max")),
                "synthetic": bool(r.get("synthetic")),
            }
            for r in _rows(self.data.provenance)
        ]

    def data_kind_table(self) -> dict[str, Any]:
        kinds = self.data.data_kinds
        if kinds is None or kinds.is_empty():
            return {"years": [], "rows": []}
        years = sorted(set(kinds["year"].to_list()))
        cells: dict[str, dict[int, dict[str, Any]]] = {}
        for r in _rows(kinds):
            cells.setdefault(str(r["source"]), {})[int(r["year"])] = {
                "mode": r["mode"],
                "synthetic": bool(r["synthetic"]),
                "empty": not r.get("responses"),
            }
        rows = [
            {"source": source_name(s, self.lang), "cells": [by.get(y) for y in years]}
            for s, by in sorted(cells.items())
        ]
        return {"years": years, "rows": rows}

    def file_rows(self) -> list[dict[str, Any]]:
        names = self.data.files or release_files(self.data.year)
        keys = {
            ".csv": "file_csv",
            ".parquet": "file_parquet",
            ".duckdb": "file_duckdb",
            ".json": "file_manifest",
            ".html": "file_validation",
        }
        other = REPORT_FILES["zh" if self.lang == "en" else "en"]
        rows = [
            {
                "href": n,
                "text": self.t(next((v for k, v in keys.items() if n.endswith(k)), "file_other")),
            }
            for n in names
        ]
        return rows + [{"href": other, "text": self.t("file_other")}]

    def charts(self) -> list[dict[str, Any]]:
        t = self.t
        names = {c: self.name(c) for c in self.cities}
        empty = t.plain("chart_empty")
        prev = self.data.year - 1
        leaders = [r["city_id"] for r in self.ranked[:LEADERS_N]]
        top = t.plain("chart_top", n=TOP_N)
        pillars = t.plain("chart_pillars", n=TOP_N)
        movers = t.plain("chart_movers", prev=prev)
        history = t.plain("chart_history", n=LEADERS_N, year=self.data.year)
        return [
            {
                "name": "top-ranks",
                "caption": top,
                "svg": charts.draw_top_ranks(
                    charts.top_ranks_data(self.ranked, TOP_N),
                    names,
                    {"title": top, "axis": t.plain("axis_rank"), "empty": empty},
                ),
            },
            {
                "name": "pillars",
                "caption": pillars,
                "svg": charts.draw_pillars(
                    charts.pillar_data(self.ranked, self.tree.pillars, TOP_N),
                    self.pillar_names(),
                    names,
                    {"title": pillars, "axis": t.plain("axis_score"), "empty": empty},
                ),
            },
            {
                "name": "movers",
                "caption": movers,
                "svg": charts.draw_movers(
                    charts.movers_data(self.ranked, MOVERS_N),
                    names,
                    {"title": movers, "axis": t.plain("axis_change"), "empty": empty},
                ),
            },
            {
                "name": "history",
                "caption": history,
                "svg": charts.draw_history(
                    charts.history_data(_rows(self.data.history), leaders),
                    names,
                    {
                        "title": history,
                        "axis": t.plain("axis_rank"),
                        "axis_x": t.plain("axis_year"),
                        "empty": empty,
                    },
                ),
            },
        ]


#: Configuration keys (substring) -> message key of their plain-language label.
CONFIG_LABELS = (
    ("screen", "cfg_screen"),
    ("treat", "cfg_treat"),
    ("impute", "cfg_impute"),
    ("normalis", "cfg_normalise"),
    ("aggregat", "cfg_aggregate"),
    ("mc_", "cfg_mc"),
    ("seed", "cfg_seed"),
    ("range", "cfg_range"),
)


def _window(start: Any, end: Any) -> str:
    """Retrieval window as dates; the time of day adds noise, not information."""

    def day(v: Any) -> str:
        return "–" if _is_missing(v) else str(v)[:10]

    a, b = day(start), day(end)
    return a if a == b else f"{a} → {b}"


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


def audit_context(data: EditionData, lang: str = "en") -> dict[str, Any]:
    """The audit and sensitivity sections (pipelines.release.report_audit)."""
    from pipelines.release import report_audit as ra

    return {
        "audit": ra.audit_rows(data.audit),
        "audit_pillars": ra.pillar_audit_rows(data.audit),
        "audit_notes": ra.audit_notes(data.audit),
        "sensitivity_chart": ra.chart_sensitivity(data.sensitivity, lang),
        "sensitivity_sentence": ra.sensitivity_sentence(data.sensitivity, lang),
    }


def render_report(data: EditionData, lang: str = "en") -> str:
    """The whole report in one language as one HTML string: readable offline."""
    page = Page(data, lang)
    t = page.t
    synthetic = [source_name(s, lang) for s in synthetic_sources(data.provenance)]
    pillar_names = page.pillar_names()
    context = {
        "t": t,
        "lang": LANGUAGES[lang],
        "other_report": REPORT_FILES["zh" if lang == "en" else "en"],
        "other_lang": LANGUAGES["zh" if lang == "en" else "en"],
        "year": data.year,
        "edition": data.edition,
        "generated_at": data.generated_at,
        "generated_date": str(data.generated_at)[:10],
        "code_version": data.code_version,
        "css": Markup((TEMPLATE_DIR / "report.css").read_text(encoding="utf-8")),
        "script": Markup((TEMPLATE_DIR / "sort.js").read_text(encoding="utf-8")),
        "synthetic": synthetic,
        "findings": page.findings(),
        "pillars": [{"name": pillar_names[p], "short": pillar_names[p]} for p in page.tree.pillars],
        "ranking": page.ranking_rows(),
        "unranked": page.unranked_rows(),
        "chinese": page.chinese_rows(),
        "charts": page.charts(),
        "profiles": page.profiles(),
        "coherence": coherence_rows(data),
        "alpha": alpha_rows(data.pillar_alpha),
        "external": external_rows(data.external_validation),
        "method": page.method_rows(),
        "choices": page.method_choices(),
        "provenance": page.provenance_rows(),
        "data_kinds": page.data_kind_table(),
        "files": page.file_rows(),
        "validation": validation_rows(data.validation),
        "validation_ok": all(r.get("success") for r in _rows(data.validation)),
        **audit_context(data, lang),
    }
    return _environment().get_template("report.html.j2").render(**context)


def write_report(data: EditionData, path: Path) -> Path:
    """Write the English report at `path` and the Chinese one beside it (report.zh.html), each
    via a temporary file, so a reader never sees half a report. Returns the English path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    for lang, target in (("en", path), ("zh", path.with_name(REPORT_FILES["zh"]))):
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_text(render_report(data, lang), encoding="utf-8")
        tmp.replace(target)
    return path
