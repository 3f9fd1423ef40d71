"""X API v2 full-archive post counts (opt-in, paid access, the user's own ``X_BEARER_TOKEN``).

One query per (city, year): ``GET {base}/2/tweets/counts/all?query=<q>
&start_time=<Y-01-01T00:00:00Z>&end_time=<Y+1-01-01T00:00:00Z>&granularity=day`` with
``Authorization: Bearer <token>``, paged through ``meta.next_token`` (sent back as
``next_token``; about 31 days per page, so about 12 requests per city-year). Only the yearly
total is kept (the sum of the pages' ``meta.total_tweet_count``): no post content is ever
requested, and the counts are paid data.

- The query is the registry's name variants as exact phrases (``social_query``, else
  ``name_en``; several variants are OR-ed in one query), each ``social_exclude`` word as
  ``-word`` and ``-is:retweet`` (original posts, quotes and replies).
- The token travels only in the ``Authorization`` header: it is never part of a URL, of the
  params (so not of the snapshot key, ``raw.api_responses`` or any error message) nor logged.
- 401/403 mean the token has no access to the endpoint (full-archive counts need Pro or
  Enterprise access, or pay-per-use credits): :class:`SourceError` naming URL and status, never
  retried. 429 waits until ``x-rate-limit-reset`` (epoch seconds; window 300 requests / 15 min),
  each wait bounded by ``SourceConfig.retry_after_max`` and at most ``retries`` times; a 200
  with ``x-rate-limit-remaining: 0`` makes the next request wait for the reset the same way
  (the :meth:`XClient.rate_limit` hook; the shared policy in ``http.py`` does the waiting).
  500/502/503/504 are retried with back-off. ``{"errors": [...]}`` bodies (with any status)
  raise with the API's messages.
"""

from __future__ import annotations

import json
import logging
import os
import time
from calendar import timegm
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

from pipelines.sources.http import (
    Answer,
    RecordedResponse,
    SourceClient,
    SourceConfig,
    SourceError,
    Throttle,
    decode_json,
    json_or_none,
)
from pipelines.sources.social.tables import X_POST_COUNTS

logger = logging.getLogger(__name__)

TOKEN_ENV = "X_BEARER_TOKEN"
PATH = "/2/tweets/counts/all"
GRANULARITY = "day"
#: Longest query full-archive search accepts on Pro (Enterprise: 4,096).
MAX_QUERY_LENGTH = 1024
#: A year at day granularity is about 12 pages; anything far beyond is a pagination loop.
MAX_PAGES = 40
NO_ACCESS = (
    "no access to full-archive counts (/2/tweets/counts/all needs Pro/Enterprise access or "
    "pay-per-use credits; check X_BEARER_TOKEN and the app's access level)"
)

COUNT_SCHEMA = X_POST_COUNTS.polars_schema()


def skipped(note: str) -> str:
    """Log (info) why X counts were not fetched, and return the note for the batch issues."""
    logger.info(note)
    return note


def year_bounds(year: int) -> tuple[str, str]:
    """``start_time`` / ``end_time`` (RFC 3339, UTC): 1 January of ``year`` and of ``year + 1``."""
    return f"{year:04d}-01-01T00:00:00Z", f"{year + 1:04d}-01-01T00:00:00Z"


def year_is_over(year: int, now: float | None = None) -> bool:
    """X refuses an ``end_time`` less than 10 s in the past: only complete years are counted."""
    now = time.time() if now is None else now
    return timegm((year + 1, 1, 1, 0, 0, 0)) <= now - 10


def _term(word: str) -> str:
    word = word.strip()
    return f'"{word}"' if any(c.isspace() for c in word) else word


def build_query(variants: Iterable[str], excluded: Iterable[str] = ()) -> str:
    """``("Mumbai" OR "Bombay") -word -is:retweet``: variants as exact phrases (OR-ed), each
    exclusion word negated, retweets left out."""
    phrases = [f'"{v.strip()}"' for v in variants if v.strip()]
    if not phrases:
        raise ValueError("an X query needs at least one name variant")
    head = phrases[0] if len(phrases) == 1 else "(" + " OR ".join(phrases) + ")"
    terms = [head] + [f"-{_term(w)}" for w in excluded if w.strip()] + ["-is:retweet"]
    query = " ".join(terms)
    if len(query) > MAX_QUERY_LENGTH:
        raise ValueError(f"X query is {len(query)} characters (max {MAX_QUERY_LENGTH}): {query}")
    return query


def counts_request(
    query: str, year: int, next_token: str | None = None
) -> tuple[str, dict[str, str]]:
    start, end = year_bounds(year)
    params = {"query": query, "start_time": start, "end_time": end, "granularity": GRANULARITY}
    if next_token:
        params["next_token"] = next_token
    return PATH, params


def error_message(data: Any) -> str | None:
    """The API's own words for an error body (``errors`` list, or a problem ``title/detail``)."""
    if not isinstance(data, dict):
        return None
    parts: list[str] = []
    for error in data.get("errors") or []:
        if isinstance(error, dict):
            text = error.get("message") or error.get("detail") or error.get("title") or ""
            parts.append(str(text) or json.dumps(error, sort_keys=True)[:200])
        else:
            parts.append(str(error)[:200])
    if not parts and (data.get("title") or data.get("detail")):
        parts.append(": ".join(str(data[k]) for k in ("title", "detail") if data.get(k)))
    if data.get("reason"):
        parts.append(f"reason {data['reason']}")
    return "; ".join(parts) if parts else None


@dataclass(frozen=True)
class CountsPage:
    total: int
    next_token: str | None


def parse_page(response: RecordedResponse) -> CountsPage:
    """One page: its total (``meta.total_tweet_count``, else the sum of ``data[].tweet_count``)
    and ``meta.next_token``. An ``errors`` body, or a page without counts, raises (never zero)."""
    data = decode_json(response) if response.status not in (401, 403) else None
    if response.status in (401, 403):
        detail = error_message(json_or_none(response.body))
        raise SourceError(
            response.source,
            response.url,
            response.status,
            NO_ACCESS + (f": {detail}" if detail else ""),
        )
    message = error_message(data) if isinstance(data, dict) and "errors" in data else None
    if message or response.status != 200:
        raise SourceError(
            response.source,
            response.url,
            response.status,
            message or error_message(data) or "unexpected status",
        )
    if not isinstance(data, dict):
        raise SourceError(response.source, response.url, response.status, "not a JSON object")
    meta = data.get("meta") if isinstance(data.get("meta"), dict) else {}
    buckets = data.get("data")
    total = meta.get("total_tweet_count")
    if not isinstance(total, int):
        if not isinstance(buckets, list) or not all(
            isinstance(b, dict) and isinstance(b.get("tweet_count"), int) for b in buckets
        ):
            raise SourceError(
                response.source, response.url, response.status, "no tweet counts in the answer"
            )
        total = sum(b["tweet_count"] for b in buckets)
    token = meta.get("next_token")
    return CountsPage(int(total), str(token) if token else None)


def count_row(pages: list[RecordedResponse], city_id: str, year: int, query: str) -> dict[str, Any]:
    """The yearly total over all pages; ``response_sha256`` is the first page's (the others are
    in raw.api_responses with the same query and a ``next_token``)."""
    return {
        "city_id": city_id,
        "period_year": year,
        "query": query,
        "total": sum(parse_page(p).total for p in pages),
        "response_sha256": pages[0].sha256,
    }


class XClient(SourceClient):
    """api.x.com v2 ``tweets/counts/all`` with the user's bearer token (paid; 300 req / 15 min).

    ``retry_after_max`` bounds each wait for ``x-rate-limit-reset`` (default 900 s, one rate
    window); ``retries`` bounds how many 429s are waited out before :class:`SourceError`.
    401/403 and error bodies are answers, raised by :meth:`check` with the API's words.
    """

    NAME: ClassVar[str] = "x"
    BASE_URL: ClassVar[str] = "https://api.x.com"
    MIN_INTERVAL: ClassVar[float] = 1.0
    RATE_WINDOW: ClassVar[float] = 900.0
    ACCEPT_STATUSES: ClassVar[frozenset[int]] = frozenset({200, 400, 401, 403, 404})

    def __init__(self, *args: Any, token: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._token = token if token is not None else os.environ.get(TOKEN_ENV, "")

    @classmethod
    def default_config(cls, **overrides: Any) -> SourceConfig:
        """Defaults and environment, with ``retry_after_max`` = one rate window (900 s)."""
        overrides.setdefault("retry_after_max", cls.RATE_WINDOW)
        return super().default_config(**overrides)

    def __repr__(self) -> str:  # never show the token
        return f"XClient(base_url={self.config.base_url!r}, mode={self.mode!r})"

    @property
    def has_token(self) -> bool:
        return bool(self._token)

    def auth_headers(self) -> dict[str, str]:
        if not self._token:
            raise SourceError(
                self.source, self.config.base_url + PATH, None, f"{TOKEN_ENV} not set"
            )
        return {"Authorization": f"Bearer {self._token}"}

    def rate_limit(self, answer: Answer) -> Throttle | None:
        """429: ask again at ``x-rate-limit-reset`` (+1 s); a 200 with
        ``x-rate-limit-remaining: 0``: the next request waits for the reset."""
        reset = answer.headers.get("x-rate-limit-reset", "").strip()
        wait = float(reset) - self.wall_clock() + 1.0 if reset.isdigit() else None
        if answer.status == 429:
            return Throttle(wait=None if wait is None else max(0.0, wait))
        remaining = answer.headers.get("x-rate-limit-remaining", "").strip()
        if remaining == "0" and wait is not None:
            return Throttle(wait=max(0.0, wait), refused=False)
        return None

    def check(self, response: RecordedResponse) -> None:
        parse_page(response)

    def year_counts(self, query: str, year: int) -> list[RecordedResponse]:
        """Every page of ``query`` over ``year`` (follows ``meta.next_token``)."""
        pages: list[RecordedResponse] = []
        seen: set[str] = set()
        token: str | None = None
        while True:
            path, params = counts_request(query, year, token)
            response = self.get(path, params)
            pages.append(response)
            token = parse_page(response).next_token
            if token is None:
                return pages
            if token in seen or len(pages) >= MAX_PAGES:
                raise SourceError(
                    self.source,
                    response.url,
                    response.status,
                    f"pagination does not end (page {len(pages)}, next_token {token!r})",
                )
            seen.add(token)
