"""Hacker News (Algolia HN Search API) client and parser: stories and comments per city-year.

One request per (city, name variant, year): ``/api/v1/search`` with the variant as a quoted
phrase, the registry's exclusion words as ``-word`` (Algolia advanced syntax), ``tags=(story,
comment)`` (OR of the two item types), ``numericFilters=created_at_i>=A,created_at_i<B`` (UTC
year bounds) and ``hitsPerPage=0``: only ``nbHits`` is read. ``nbHits`` is the full total even
beyond the 1,000 hits that can be paged; ``exhaustiveNbHits`` false means Algolia estimated it,
and the flag is kept.
"""

from __future__ import annotations

from calendar import timegm
from typing import ClassVar

from pipelines.sources.hackernews.tables import MENTIONS
from pipelines.sources.http import RecordedResponse, SourceClient, SourceError, decode_json
from pipelines.sources.queries import phrase_query

PATH = "/api/v1/search"
TAGS = "(story,comment)"

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
    exhaustive = data.get("exhaustiveNbHits")
    if exhaustive is None:
        exhaustive = (data.get("exhaustive") or {}).get("nbHits", True)
    return int(data["nbHits"]), bool(exhaustive)


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
