"""Hacker News (Algolia HN Search API) client and parser: stories and comments per city-year.

One request per (city, name variant, year): ``/api/v1/search`` with the variant as a quoted
phrase, the registry's exclusion words as ``-word`` (Algolia advanced syntax), ``tags=(story,
comment)`` (OR of the two item types), ``numericFilters=created_at_i>=A,created_at_i<B`` (UTC
year bounds) and ``hitsPerPage=0``: only ``nbHits`` is read. ``nbHits`` is the full total even
beyond the 1,000 hits that can be paged, but above about 1,000 Algolia stops counting and
estimates (``exhaustiveNbHits`` / ``exhaustive.nbHits`` false). The estimate is used as the
count and the flag is landed with it (``exhaustive``): exact counts would need the year cut
into windows of fewer than 1,000 hits each, a dozen times the requests for the busiest cities,
while the indicator compares orders of magnitude (docs/sources.md).
"""

from __future__ import annotations

from calendar import timegm
from typing import ClassVar

from pipelines.sources.hackernews.tables import MENTIONS
from pipelines.sources.http import RecordedResponse, SourceClient, SourceError, decode_json
from pipelines.sources.queries import phrase_query

PATH = "/api/v1/search"
TAGS = "(story,comment)"
#: Above this many hits Algolia's nbHits is an estimate (its exhaustive flags turn false).
EXACT_COUNT_LIMIT = 1000

MENTION_SCHEMA = MENTIONS.polars_schema()


def year_bounds(year: int) -> tuple[int, int]:
    """Unix seconds of 1 January ``year`` and of 1 January ``year + 1`` (UTC)."""
    return timegm((year, 1, 1, 0, 0, 0)), timegm((year + 1, 1, 1, 0, 0, 0))


build_query = phrase_query  # one syntax for the text searches


def search_request(query: str, year: int) -> tuple[str, dict[str, str]]:
    start, end = year_bounds(year)
    params = {
        "query": query,
        "tags": TAGS,
        "numericFilters": f"created_at_i>={start},created_at_i<{end}",
        "hitsPerPage": "0",
    }
    return PATH, params


def parse_hits(response: RecordedResponse) -> tuple[int, bool]:
    """(``nbHits``, exhaustive); an answer without ``nbHits`` is an error, never zero."""
    data = decode_json(response)
    if not isinstance(data, dict) or not isinstance(data.get("nbHits"), int):
        message = data.get("message") if isinstance(data, dict) else None
        raise SourceError(
            response.source,
            response.url,
            response.status,
            f"no nbHits in the answer{': ' + str(message) if message else ''}",
        )
    flags = [data.get("exhaustiveNbHits"), (data.get("exhaustive") or {}).get("nbHits")]
    exhaustive = all(flag is not False for flag in flags)  # either flag false: an estimate
    return int(data["nbHits"]), exhaustive


def mention_row(response: RecordedResponse, city_id: str, year: int, query: str) -> dict:
    hits, exhaustive = parse_hits(response)
    return {
        "city_id": city_id,
        "period_year": year,
        "query": query,
        "hits": hits,
        "exhaustive": exhaustive,
        "response_sha256": response.sha256,
    }


class HackerNewsClient(SourceClient):
    """hn.algolia.com: keyless; about 10,000 requests/hour per IP, so 0.5 s pacing."""

    NAME: ClassVar[str] = "hackernews"
    BASE_URL: ClassVar[str] = "https://hn.algolia.com"
    MIN_INTERVAL: ClassVar[float] = 0.5

    def check(self, response: RecordedResponse) -> None:
        parse_hits(response)

    def count(self, query: str, year: int) -> RecordedResponse:
        path, params = search_request(query, year)
        return self.get(path, params)
