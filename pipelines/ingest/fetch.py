"""Fetch one source for one partition year: the responses and the raw tables parsed from them.

Each ``fetch_<source>`` returns a :class:`SourceBatch` whose ``tables`` are exactly the raw
tables of docs/architecture.md for that source, without the ``year`` column (landing adds it).
Requests span every year (see ``pipelines.sources.http.coverage_years``); the rows kept are
those of the partition year, except World Bank (the Y-5..Y window of that partition's request)
and Wikidata (sitelinks as of retrieval).
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import polars as pl

from pipelines.sources import gdelt, wikidata, wikimedia, worldbank
from pipelines.sources.http import (
    PROJECT_ROOT,
    RecordedResponse,
    SnapshotMissing,
    body_sha256,
    chunks,
    coverage_years,
    utc_now_iso,
)

CURATED_FILE = PROJECT_ROOT / "assets" / "inputs" / "city_statistics.csv"
CURATED_COLUMNS = ("city_id", "year", "indicator", "value", "unit", "source_url")
CURATED_SCHEMA = {
    "city_id": pl.String,
    "stat_year": pl.Int32,
    "indicator": pl.String,
    "value": pl.Float64,
    "unit": pl.String,
    "source_url": pl.String,
    "source_file": pl.String,
    "source_row": pl.Int32,
    "response_sha256": pl.String,
}


@dataclass
class SourceBatch:
    """What one (source, year) fetch produced; ``issues`` are non-fatal problems to report."""

    source: str
    year: int
    responses: list[RecordedResponse]
    tables: dict[str, pl.DataFrame]
    issues: list[str] = field(default_factory=list)


class CuratedInputError(ValueError):
    """A curated CSV is invalid; the message names the file, row (header = 1) and column."""

    def __init__(self, path: str, row: int, column: str | None, message: str) -> None:
        self.path, self.row, self.column = path, row, column
        where = f"{path}, row {row}" + (f", column {column!r}" if column else "")
        super().__init__(f"{where}: {message}")


@contextmanager
def _names_year(year: int) -> Iterator[None]:
    """Let a missing snapshot say which ``--year`` records it."""
    try:
        yield
    except SnapshotMissing as exc:
        if exc.year is not None:
            raise
        raise SnapshotMissing(exc.source, exc.url, year) from None


def _concat(frames: list[pl.DataFrame], schema: dict[str, pl.DataType]) -> pl.DataFrame:
    frames = [f for f in frames if f.height]
    if not frames:
        return pl.DataFrame([], schema=schema)
    return pl.concat(frames, how="vertical")


def _span(year: int) -> tuple[date, date]:
    first, last = coverage_years(year)
    return date(first, 1, 1), date(last, 12, 31)


def _wiki_languages() -> tuple[str, ...]:
    from pipelines.registry import WIKI_LANGUAGES

    return tuple(WIKI_LANGUAGES)


# --- GDELT ------------------------------------------------------------------------------------
GDELT_VOLUME_SCHEMA = {
    "city_id": pl.String,
    "date": pl.Date,
    "article_count": pl.Int64,
    "norm_total": pl.Int64,
    "response_sha256": pl.String,
}
GDELT_TONE_SCHEMA = {
    "city_id": pl.String,
    "date": pl.Date,
    "avg_tone": pl.Float64,
    "response_sha256": pl.String,
}
GDELT_SOURCE_COUNTRY_SCHEMA = {
    "city_id": pl.String,
    "date": pl.Date,
    "source_country": pl.String,
    "source_fips": pl.String,
    "value": pl.Float64,
    "response_sha256": pl.String,
}


def fetch_gdelt(
    cities: pl.DataFrame, year: int, client: gdelt.GdeltClient | None = None
) -> SourceBatch:
    """Per city: overseas volume and tone (``-sourcecountry:<FIPS>``) and all source countries."""
    client = client or gdelt.GdeltClient()
    start, end = _span(year)
    responses: list[RecordedResponse] = []
    volume, tone, countries = [], [], []
    issues: list[str] = []
    with _names_year(year):
        for row in cities.iter_rows(named=True):
            city_id, query = row["id"], (row["gdelt_query"] or "").strip()
            if not query:
                issues.append(f"gdelt: city {city_id} has no gdelt_query; not requested")
                continue
            overseas = gdelt.overseas_query(query, row["country_fips"])
            vol = client.timeline(overseas, "timelinevolraw", start, end)
            ton = client.timeline(overseas, "timelinetone", start, end)
            src = client.timeline(query, "timelinesourcecountry", start, end)
            responses += [vol, ton, src]
            volume.append(gdelt.volume_rows(vol, city_id, year))
            tone.append(gdelt.tone_rows(ton, city_id, year))
            countries.append(gdelt.source_country_rows(src, city_id, year))
    tables = {
        "gdelt_volume": _concat(volume, GDELT_VOLUME_SCHEMA),
        "gdelt_tone": _concat(tone, GDELT_TONE_SCHEMA),
        "gdelt_source_country": _concat(countries, GDELT_SOURCE_COUNTRY_SCHEMA),
    }
    return SourceBatch("gdelt", year, responses, tables, issues)


# --- Wikimedia --------------------------------------------------------------------------------
def fetch_wikimedia(
    cities: pl.DataFrame,
    year: int,
    client: wikimedia.WikimediaClient | None = None,
    *,
    sitelinks: pl.DataFrame | None = None,
) -> SourceBatch:
    """Monthly user views of each city's article in every edition with a title.

    Titles come from the registry; with ``sitelinks`` (raw.wikidata_sitelinks rows) empty
    registry cells are filled from Wikidata first.
    """
    client = client or wikimedia.WikimediaClient()
    languages = _wiki_languages()
    if sitelinks is not None:
        cities = wikidata.fill_wiki_titles(cities, sitelinks, languages)
    start, end = _span(year)
    responses: list[RecordedResponse] = []
    views, missing = [], []
    with _names_year(year):
        for row in cities.iter_rows(named=True):
            for lang in languages:
                title = (row.get(f"wiki_{lang}") or "").strip()
                if not title:
                    continue
                response = client.monthly(lang, title, start, end)
                responses.append(response)
                found, absent = wikimedia.pageview_rows(response, row["id"], lang, title, year)
                views.append(found)
                missing.append(absent)
    tables = {
        "wikimedia_pageviews": _concat(views, wikimedia.PAGEVIEW_SCHEMA),
        "wikimedia_missing": _concat(missing, wikimedia.MISSING_SCHEMA),
    }
    return SourceBatch("wikimedia", year, responses, tables)


# --- Wikidata ---------------------------------------------------------------------------------
def fetch_wikidata(
    cities: pl.DataFrame, year: int, client: wikidata.WikidataClient | None = None
) -> SourceBatch:
    """Language-Wikipedia sitelinks of each city's item, in batches of 50 ids."""
    client = client or wikidata.WikidataClient()
    city_by_qid: dict[str, list[str]] = {}
    issues: list[str] = []
    for row in cities.iter_rows(named=True):
        qid = (row["wikidata_qid"] or "").strip()
        if qid:
            city_by_qid.setdefault(qid, []).append(row["id"])
        else:
            issues.append(f"wikidata: city {row['id']} has no wikidata_qid; not requested")
    responses: list[RecordedResponse] = []
    frames: list[pl.DataFrame] = []
    with _names_year(year):
        for batch in chunks(sorted(city_by_qid), wikidata.BATCH_SIZE):
            response = client.sitelinks(batch)
            responses.append(response)
            frame, missing = wikidata.sitelink_rows(response, city_by_qid)
            frames.append(frame)
            issues += [
                f"wikidata: entity {qid} (city {', '.join(city_by_qid.get(qid, []))}) is missing"
                for qid in missing
            ]
    tables = {"wikidata_sitelinks": _concat(frames, wikidata.SITELINK_SCHEMA)}
    return SourceBatch("wikidata", year, responses, tables, issues)


# --- World Bank -------------------------------------------------------------------------------
def fetch_worldbank(
    cities: pl.DataFrame, year: int, client: worldbank.WorldBankClient | None = None
) -> SourceBatch:
    """GDP per capita and population of the cities' countries for Y-5..Y (all years returned)."""
    client = client or worldbank.WorldBankClient()
    countries = sorted(set(cities["country_iso3"].to_list()))
    start, end = worldbank.window(year)
    responses: list[RecordedResponse] = []
    frames: list[pl.DataFrame] = []
    issues: list[str] = []
    with _names_year(year):
        for indicator in worldbank.INDICATORS:
            result = client.indicator(countries, indicator, start, end)
            responses += result.responses
            frames.append(result.table())
            if result.bad_countries:
                issues.append(
                    f"worldbank: {indicator} refused country code(s) "
                    f"{', '.join(result.bad_countries)} (error 120, invalid value)"
                )
    table = _concat(frames, worldbank.INDICATOR_SCHEMA)
    table = table.unique(["country_iso3", "indicator_id", "obs_year"], keep="first")
    table = table.sort(["indicator_id", "country_iso3", "obs_year"])
    return SourceBatch("worldbank", year, responses, {"worldbank_indicator": table}, issues)


# --- Curated CSV ------------------------------------------------------------------------------
def _display_path(path: Path) -> str:
    try:
        return path.resolve().relative_to(PROJECT_ROOT).as_posix()
    except ValueError:
        return str(path)


def _parse_curated(text: str, shown: str, city_ids: set[str]) -> list[dict[str, object]]:
    """Validated rows; the first problem raises CuratedInputError (nothing is loaded)."""
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    for column in CURATED_COLUMNS:
        if column not in header:
            raise CuratedInputError(shown, 1, column, "required column is missing")
    rows: list[dict[str, object]] = []
    for line, raw in enumerate(reader, start=2):
        record = {k.strip(): (v or "").strip() for k, v in raw.items() if k is not None}
        if not any(record.values()):
            continue
        if record["city_id"] not in city_ids:
            raise CuratedInputError(
                shown, line, "city_id", f"unknown city id {record['city_id']!r}"
            )
        try:
            stat_year = int(record["year"])
        except ValueError:
            raise CuratedInputError(
                shown, line, "year", f"{record['year']!r} is not a year"
            ) from None
        try:
            value = float(record["value"])
        except ValueError:
            raise CuratedInputError(
                shown, line, "value", f"{record['value']!r} is not a number"
            ) from None
        if not math.isfinite(value) or value < 0:
            raise CuratedInputError(shown, line, "value", f"{value} is not a non-negative number")
        if not record["indicator"]:
            raise CuratedInputError(shown, line, "indicator", "required value is empty")
        rows.append(
            {
                "city_id": record["city_id"],
                "stat_year": stat_year,
                "indicator": record["indicator"],
                "value": value,
                "unit": record["unit"],
                "source_url": record["source_url"],
                "source_file": shown,
                "source_row": line,
            }
        )
    return rows


def fetch_curated(
    year: int, path: Path | None = None, cities: pl.DataFrame | None = None
) -> SourceBatch:
    """Curated city statistics with ``stat_year <= year``; the file itself is the response."""
    path = Path(path) if path is not None else CURATED_FILE
    shown = _display_path(path)
    empty = pl.DataFrame([], schema=CURATED_SCHEMA)
    if not path.exists():
        return SourceBatch(
            "curated", year, [], {"curated_city_statistics": empty}, [f"{shown} not found"]
        )
    if cities is None:
        from pipelines.registry import load_cities

        cities = load_cities()
    text = path.read_bytes().decode("utf-8-sig")
    rows = _parse_curated(text, shown, set(cities["id"].to_list()))
    response = RecordedResponse(
        source="curated",
        request_key=hashlib.sha256(f"FILE {shown}".encode()).hexdigest(),
        url=f"file:{shown}",
        params={},
        status=200,
        content_type="text/csv",
        body=text,
        retrieved_at=utc_now_iso(),
        sha256=body_sha256(text),
        synthetic=False,
    )
    kept = [{**r, "response_sha256": response.sha256} for r in rows if r["stat_year"] <= year]
    table = pl.DataFrame(kept, schema=CURATED_SCHEMA) if kept else empty
    return SourceBatch("curated", year, [response], {"curated_city_statistics": table})


FETCHERS = {
    "gdelt": fetch_gdelt,
    "wikimedia": fetch_wikimedia,
    "wikidata": fetch_wikidata,
    "worldbank": fetch_worldbank,
}
