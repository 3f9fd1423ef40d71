"""What the report states about cities, computed from the edition's tables (never hand-written):
ranks per code (index, pillars, indicators) in the world and among a city's peers (Chinese
cities: mainland, Hong Kong and Macau; the city's region), leaders over several years, who
passed whom, and one profile per ranked city.

Everything here is language-neutral data: a statement is a message key and its parameters, and
`pipelines.release.messages` turns it into English or Chinese, so both editions say the same.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from pipelines.framework_tree import FrameworkTree
from pipelines.release.sources import source_of_indicator

#: Cities counted as Chinese in the national tables, as the Chinese yearly reports count them.
CHINESE_COUNTRIES = frozenset({"CHN", "HKG", "MAC"})
PASSED_MAX = 3  # at most this many cities named in a "passed" statement


@dataclass(frozen=True)
class Statement:
    """A sentence as a message key and its parameters (city ids, codes, numbers)."""

    key: str
    params: dict[str, Any] = field(default_factory=dict)


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def min_rank(values: dict[str, float]) -> dict[str, int]:
    """Highest first, ties share the best rank (1, 1, 3): the engine's rule."""
    ordered = sorted(values.values(), reverse=True)
    return {key: ordered.index(value) + 1 for key, value in values.items()}


class Scores:
    """Scores and world ranks per (year, code, city), with the cities' peer groups and the
    framework's tree (which code is the index, which are pillars)."""

    def __init__(
        self, scores: pl.DataFrame, cities: dict[str, dict[str, Any]], tree: FrameworkTree
    ) -> None:
        self.cities = cities
        self.tree = tree
        self.by_code: dict[tuple[int, str], dict[str, float]] = {}
        self.world_rank: dict[tuple[int, str], dict[str, int]] = {}
        for row in scores.to_dicts():
            if _missing(row.get("score")):
                continue
            key = (int(row["year"]), str(row["icode"]))
            self.by_code.setdefault(key, {})[row["city_id"]] = float(row["score"])
            if not _missing(row.get("rank")):
                self.world_rank.setdefault(key, {})[row["city_id"]] = int(row["rank"])
        for key, values in self.by_code.items():
            ranks = self.world_rank.setdefault(key, {})
            for city, rank in min_rank(values).items():
                ranks.setdefault(city, rank)
        self.years = sorted({year for year, _code in self.by_code})

    def is_chinese(self, city_id: str) -> bool:
        return self.cities.get(city_id, {}).get("country_iso3") in CHINESE_COUNTRIES

    def peers(self, city_id: str, group: str) -> set[str]:
        """`china` or `region`: the cities compared with this one (itself included)."""
        if group == "china":
            return {c for c in self.cities if self.is_chinese(c)}
        region = self.cities.get(city_id, {}).get("region")
        return {c for c, info in self.cities.items() if region and info.get("region") == region}

    def rank(self, year: int, code: str, city_id: str, group: str = "world") -> int | None:
        values = self.by_code.get((year, code), {})
        if city_id not in values:
            return None
        if group == "world":
            return self.world_rank[(year, code)][city_id]
        members = self.peers(city_id, group)
        if city_id not in members:
            return None
        return min_rank({c: v for c, v in values.items() if c in members})[city_id]

    def count(self, year: int, code: str, city_id: str, group: str = "world") -> int:
        values = self.by_code.get((year, code), {})
        if group == "world":
            return len(values)
        return len(set(values) & self.peers(city_id, group))

    def leader(self, year: int, code: str, group: str = "world") -> str | None:
        values = self.by_code.get((year, code), {})
        if group == "china":
            values = {c: v for c, v in values.items() if self.is_chinese(c)}
        if not values:
            return None
        return min(values, key=lambda c: (-values[c], c))

    def streak(self, year: int, code: str, group: str = "world") -> tuple[str | None, int]:
        """The leader of `year` and for how many consecutive years up to it it has led."""
        leader = self.leader(year, code, group)
        years = 0
        while leader is not None and self.leader(year - years, code, group) == leader:
            years += 1
        return leader, years

    def passed(self, year: int, code: str, city_id: str, group: str = "world") -> list[str]:
        """Cities ahead of this one last year and behind it this year, nearest first."""
        now = self.by_code.get((year, code), {})
        before = self.by_code.get((year - 1, code), {})
        if city_id not in now or city_id not in before:
            return []
        members = set(now) & set(before)
        if group == "china":
            members = {c for c in members if self.is_chinese(c)}
        rank_now = min_rank({c: now[c] for c in members})
        rank_before = min_rank({c: before[c] for c in members})
        overtaken = [
            c
            for c in members
            if c != city_id
            and rank_before[c] < rank_before[city_id]
            and rank_now[c] > rank_now[city_id]
        ]
        return sorted(overtaken, key=lambda c: (rank_now[c], c))[:PASSED_MAX]


def scores_frame(
    scores: pl.DataFrame | None,
    ranking: pl.DataFrame,
    history: pl.DataFrame,
    tree: FrameworkTree,
) -> pl.DataFrame:
    """fct_index_score when the release passes it; else what the ranking and history hold."""
    if scores is not None:
        return scores.select("city_id", "year", "icode", "score", "rank")
    index = history.select(
        "city_id", "year", pl.lit(tree.index).alias("icode"), "score", pl.col("rank")
    )
    pillars = [
        ranking.filter(pl.col("ranked")).select(
            "city_id",
            "year",
            pl.lit(p).alias("icode"),
            pl.col(p).cast(pl.Float64).alias("score"),
            pl.lit(None, dtype=pl.Int64).alias("rank"),
        )
        for p in tree.pillars
    ]
    frames = [index.with_columns(pl.col("rank").cast(pl.Int64))] + pillars
    return pl.concat([f.with_columns(pl.col("score").cast(pl.Float64)) for f in frames])


def city_statements(scores: Scores, year: int, city_id: str, codes: list[str]) -> list[Statement]:
    """Per pillar, and per indicator where the city leads: its rank in the world and among
    Chinese cities; then whom it passed since last year."""
    out: list[Statement] = []
    chinese = scores.is_chinese(city_id)
    for code in codes:
        world = scores.rank(year, code, city_id)
        if world is None:
            continue
        is_pillar = code in scores.tree.pillars or code == scores.tree.index
        china = scores.rank(year, code, city_id, "china") if chinese else None
        if not is_pillar and world > 3 and china != 1:
            continue
        params = {"city": city_id, "code": code, "world": world, "china": china}
        out.append(Statement("rank_world_china" if chinese else "rank_world", params))
        _leader, streak = scores.streak(year, code)
        if _leader == city_id and streak >= 2:
            out.append(Statement("streak_world", {"city": city_id, "code": code, "years": streak}))
        if chinese:
            leader, streak = scores.streak(year, code, "china")
            if leader == city_id and streak >= 2:
                out.append(
                    Statement("streak_china", {"city": city_id, "code": code, "years": streak})
                )
        passed = scores.passed(year, code, city_id)
        if passed and is_pillar:
            out.append(Statement("passed", {"city": city_id, "code": code, "others": passed}))
    return out


def headline_statements(scores: Scores, year: int, codes: list[str]) -> list[Statement]:
    """Leaders of the index and each pillar, in the world and among Chinese cities, with the
    number of years running they have led."""
    out: list[Statement] = []
    for code in codes:
        for group in ("world", "china"):
            leader, years = scores.streak(year, code, group)
            if leader is None:
                continue
            out.append(Statement(f"leader_{group}", {"city": leader, "code": code, "years": years}))
    return out


def chinese_table(scores: Scores, year: int) -> list[dict[str, Any]]:
    """Chinese cities by national rank, with the global rank beside it (index and pillars)."""
    index = scores.tree.index
    values = scores.by_code.get((year, index), {})
    chinese = {c: v for c, v in values.items() if scores.is_chinese(c)}
    national = min_rank(chinese)
    rows = []
    for city in sorted(chinese, key=lambda c: (national[c], c)):
        before = scores.by_code.get((year - 1, index), {})
        previous_chinese = {c: v for c, v in before.items() if scores.is_chinese(c)}
        previous = min_rank(previous_chinese).get(city) if previous_chinese else None
        rows.append(
            {
                "city": city,
                "national": national[city],
                "national_previous": previous,
                "world": scores.rank(year, index, city),
                "score": chinese[city],
                "pillars": {
                    p: (scores.rank(year, p, city, "china"), scores.rank(year, p, city))
                    for p in scores.tree.pillars
                },
            }
        )
    return rows


def indicator_rows(
    scores: Scores,
    indicators: pl.DataFrame | None,
    framework: pl.DataFrame,
    synthetic_years: set[tuple[str, int]],
    year: int,
    city_id: str,
) -> list[dict[str, Any]]:
    """Pillars and their indicators for one city: score, ranks (world, Chinese cities, region),
    the raw value with its unit and source, and whether that value is synthetic or imputed."""
    raw: dict[str, dict[str, Any]] = {}
    if indicators is not None:
        for row in indicators.filter(
            (pl.col("city_id") == city_id) & (pl.col("year") == year)
        ).to_dicts():
            raw[row["icode"]] = row
    chinese = scores.is_chinese(city_id)
    rows = []
    frame = framework.to_dicts()
    for pillar in scores.tree.pillars:
        children = [r for r in frame if r.get("parent") == pillar and r.get("level") == 1]
        for code, meta in [(pillar, {})] + [(str(r["icode"]), r) for r in children]:
            source = source_of_indicator(meta.get("source")) if meta else None
            value = raw.get(code, {})
            rows.append(
                {
                    "code": code,
                    "pillar": code == pillar,
                    "score": scores.by_code.get((year, code), {}).get(city_id),
                    "world": scores.rank(year, code, city_id),
                    "world_n": scores.count(year, code, city_id),
                    "china": scores.rank(year, code, city_id, "china") if chinese else None,
                    "region": scores.rank(year, code, city_id, "region"),
                    "region_n": scores.count(year, code, city_id, "region"),
                    "raw": value.get("raw_value"),
                    "unit": meta.get("unit") or "",
                    "source": source,
                    "synthetic": source is not None and (source, year) in synthetic_years,
                    "imputed": bool(value.get("imputed")),
                }
            )
    return rows


def moves(scores: Scores, year: int, city_id: str) -> list[dict[str, Any]]:
    """Pillar score changes since last year, largest first: what moved the city."""
    out = []
    for pillar in scores.tree.pillars:
        now = scores.by_code.get((year, pillar), {}).get(city_id)
        before = scores.by_code.get((year - 1, pillar), {}).get(city_id)
        if now is None or before is None:
            continue
        out.append(
            {
                "code": pillar,
                "change": now - before,
                "rank_change": (scores.rank(year - 1, pillar, city_id) or 0)
                - (scores.rank(year, pillar, city_id) or 0),
            }
        )
    return sorted(out, key=lambda m: (-abs(m["change"]), m["code"]))
