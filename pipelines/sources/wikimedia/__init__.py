"""Wikimedia pageviews: monthly user views of each city's article in every registry language.

The package holds the client and parsers (client.py), the raw tables it lands (tables.py),
its fetch for a year and its spec."""

import duckdb
import polars as pl

from pipelines.sources.http import RecordedResponse
from pipelines.sources.spec import (
    PlannedRequests,
    SourceBatch,
    SourceSpec,
    SourceTitle,
    concat,
    names_year,
    span,
)
from pipelines.sources.wikidata import client as wikidata
from pipelines.sources.wikimedia import client as wikimedia
from pipelines.sources.wikimedia.tables import MISSING, PAGEVIEWS


def _wiki_languages() -> tuple[str, ...]:
    from pipelines.registry import WIKI_LANGUAGES

    return tuple(WIKI_LANGUAGES)


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
    start, end = span(year)
    responses: list[RecordedResponse] = []
    views, missing = [], []
    with names_year(year):
        for row, lang, title in _articles(cities, sitelinks):
            response = client.monthly(lang, title, start, end)
            responses.append(response)
            found, absent = wikimedia.pageview_rows(response, row["id"], lang, title, year)
            views.append(found)
            missing.append(absent)
    tables = {PAGEVIEWS.name: concat(views, PAGEVIEWS), MISSING.name: concat(missing, MISSING)}
    return SourceBatch("wikimedia", year, responses, tables)


def _articles(cities: pl.DataFrame, sitelinks: pl.DataFrame | None) -> list[tuple[dict, str, str]]:
    """(registry row, edition, title) of every article a fetch asks for."""
    languages = _wiki_languages()
    if sitelinks is not None:
        cities = wikidata.fill_wiki_titles(cities, sitelinks, languages)
    return [
        (row, lang, (row.get(f"wiki_{lang}") or "").strip())
        for row in cities.iter_rows(named=True)
        for lang in languages
        if (row.get(f"wiki_{lang}") or "").strip()
    ]


def plan_wikimedia(
    cities: pl.DataFrame, year: int, *, sitelinks: pl.DataFrame | None = None
) -> list[PlannedRequests]:
    """One request per article (city x edition with a title): exact with the year's sitelinks
    (what the ingest reads), a lower bound with the registry's titles alone."""
    config = wikimedia.WikimediaClient.default_config()
    estimate = "" if sitelinks is not None else "registry titles only; sitelinks add more"
    count = len(_articles(cities, sitelinks))
    return [PlannedRequests("wikimedia", count, config.min_interval, estimate)]


def landed_sitelinks(con: duckdb.DuckDBPyConnection, year: int) -> dict:
    """The year's Wikidata sitelinks, which fill article titles the registry leaves empty."""
    landed = con.sql(
        "select count(*) from information_schema.tables"
        " where table_schema = 'raw' and table_name = 'wikidata_sitelinks'"
    ).fetchall()[0][0]
    if not landed:
        return {}
    sitelinks = con.sql("select * from raw.wikidata_sitelinks where year = ?", params=[year]).pl()
    return {"sitelinks": sitelinks}


SPEC = SourceSpec(
    name="wikimedia",
    description="Monthly user pageviews of each city's article in every registry language "
    "edition (titles from the registry, completed by the year's Wikidata sitelinks).",
    tables=(PAGEVIEWS, MISSING),
    fetch=fetch_wikimedia,
    inputs=landed_sitelinks,
    reads=("wikidata_sitelinks",),
    plan=plan_wikimedia,
    titles={
        "wikimedia": SourceTitle(
            "Wikipedia page views",
            "维基百科浏览量",
            "Monthly page views of each city's article in many language editions (Wikimedia API).",
            "各语种维基百科城市条目的月浏览量（Wikimedia 接口）。",
            "Wikimedia",
        ),
    },
)
