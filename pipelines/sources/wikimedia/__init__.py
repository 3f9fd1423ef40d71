"""Wikimedia pageviews: monthly user views of each city's article in every registry language.

The package holds the client and parsers (client.py), the raw tables it lands (tables.py),
its fetch for a year and its spec."""

import duckdb
import polars as pl

from pipelines.sources.http import RecordedResponse
from pipelines.sources.spec import SourceBatch, SourceSpec, concat, names_year, span
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
    languages = _wiki_languages()
    if sitelinks is not None:
        cities = wikidata.fill_wiki_titles(cities, sitelinks, languages)
    start, end = span(year)
    responses: list[RecordedResponse] = []
    views, missing = [], []
    with names_year(year):
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
    tables = {PAGEVIEWS.name: concat(views, PAGEVIEWS), MISSING.name: concat(missing, MISSING)}
    return SourceBatch("wikimedia", year, responses, tables)


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
)
