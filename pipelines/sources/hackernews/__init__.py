"""Hacker News (Algolia HN Search): stories and comments mentioning each city per year.

The package holds the client and parsers (client.py), the raw table it lands (tables.py),
its fetch for a year and its spec."""

import polars as pl

from pipelines.sources.hackernews import client as hackernews
from pipelines.sources.hackernews.tables import MENTIONS
from pipelines.sources.http import RecordedResponse
from pipelines.sources.spec import SourceBatch, SourceSpec, names_year, social_terms


def fetch_hackernews(
    cities: pl.DataFrame, year: int, client: hackernews.HackerNewsClient | None = None
) -> SourceBatch:
    """Stories and comments mentioning each city in the partition year (one request per city
    and name variant; ``nbHits`` only). A zero is a real count; a failure raises."""
    client = client or hackernews.HackerNewsClient()
    responses: list[RecordedResponse] = []
    rows: list[dict] = []
    with names_year(year):
        for row in cities.iter_rows(named=True):
            variants, excluded = social_terms(row)
            for variant in variants:
                query = hackernews.build_query(variant, excluded)
                response = client.count(query, year)
                responses.append(response)
                rows.append(hackernews.mention_row(response, row["id"], year, query))
    table = pl.DataFrame(rows, schema=MENTIONS.polars_schema())
    issues = [
        f"hackernews: {r['city_id']} {r['query']} nbHits is an estimate (exhaustiveNbHits false)"
        for r in rows
        if not r["exhaustive"]
    ]
    return SourceBatch("hackernews", year, responses, {MENTIONS.name: table}, issues)


SPEC = SourceSpec(
    name="hackernews",
    description="Hacker News stories and comments mentioning each city per year (Algolia nbHits).",
    tables=(MENTIONS,),
    fetch=fetch_hackernews,
)
