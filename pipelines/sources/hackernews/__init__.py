"""Hacker News (Algolia HN Search): stories and comments mentioning each city per year.

The package holds the client and parsers (client.py), the raw table it lands (tables.py),
its fetch for a year and its spec."""

import polars as pl

from pipelines.sources.hackernews import client as hackernews
from pipelines.sources.hackernews.tables import MENTIONS
from pipelines.sources.http import RecordedResponse
from pipelines.sources.spec import (
    PlannedRequests,
    SourceBatch,
    SourceSpec,
    SourceTitle,
    names_year,
    social_terms,
)


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
    estimated = [f"{r['city_id']} {r['query']}" for r in rows if not r["exhaustive"]]
    issues = []
    if estimated:
        issues.append(
            f"hackernews: {len(estimated)} of {len(rows)} counts are Algolia estimates "
            f"(above {hackernews.EXACT_COUNT_LIMIT}; landed with exhaustive = false): "
            + "; ".join(estimated[:5])
            + (" ..." if len(estimated) > 5 else "")
        )
    return SourceBatch("hackernews", year, responses, {MENTIONS.name: table}, issues)


def plan_hackernews(cities: pl.DataFrame, year: int, **_inputs: object) -> list[PlannedRequests]:
    """One request per city and name variant: exact."""
    count = sum(len(social_terms(row)[0]) for row in cities.iter_rows(named=True))
    config = hackernews.HackerNewsClient.default_config()
    return [PlannedRequests("hackernews", count, config.min_interval)]


SPEC = SourceSpec(
    name="hackernews",
    description="Hacker News stories and comments mentioning each city per year (Algolia nbHits).",
    tables=(MENTIONS,),
    fetch=fetch_hackernews,
    plan=plan_hackernews,
    titles={
        "hackernews": SourceTitle(
            "Hacker News",
            "Hacker News",
            "Stories and comments on the technology forum Hacker News that mention the city.",
            "科技论坛 Hacker News 上提及该城市的帖子与评论。",
            "Hacker News",
        ),
    },
)
