"""Stack Exchange API 2.3 client and parser: questions mentioning a city per site and year.

One request per (city, name variant, site, year): ``/2.3/search/advanced?site=<site>&q=<query>
&fromdate=<unix>&todate=<unix>&filter=total`` answers ``{"total": N}`` (questions created in
the window whose text matches ``q``). Quirks:

- ``backoff`` (seconds) may come in any answer: the next request waits that long (the API bans
  callers that ignore it). ``quota_remaining`` is read too; at 0 no further request is sent.
- Errors are JSON ``{"error_id": 502, "error_name": "throttle_violation", "error_message":
  "..."}``, usually with HTTP 400 (also 401-409, 502): they raise :class:`SourceError` naming
  the URL, status, ``error_id``, ``error_name`` and ``error_message``.
- ``STACKEXCHANGE_KEY`` (optional, from stackapps.com) raises the daily quota from 300 to
  10,000 requests per IP. It is added when sending only: snapshot keys, landed URLs and
  parameters never contain it.
"""

from __future__ import annotations

import os
import time
from calendar import timegm
from dataclasses import replace
from typing import Any, ClassVar
from urllib.parse import quote

from pipelines.sources.http import (
    RecordedResponse,
    SourceClient,
    SourceError,
    decode_json,
    json_or_none,
)
from pipelines.sources.queries import phrase_query
from pipelines.sources.stackexchange.tables import QUESTIONS

PATH = "/2.3/search/advanced"
SITES: tuple[str, ...] = ("travel", "expatriates")
KEY_ENV = "STACKEXCHANGE_KEY"

QUESTION_SCHEMA = QUESTIONS.polars_schema()


def year_bounds(year: int) -> tuple[int, int]:
    """``fromdate`` / ``todate`` (unix seconds, both inclusive) covering the UTC year."""
    return timegm((year, 1, 1, 0, 0, 0)), timegm((year + 1, 1, 1, 0, 0, 0)) - 1


build_query = phrase_query  # one syntax for the text searches


def search_request(query: str, site: str, year: int) -> tuple[str, dict[str, str]]:
    start, end = year_bounds(year)
    params = {
        "site": site,
        "q": query,
        "fromdate": str(start),
        "todate": str(end),
        "filter": "total",
    }
    return PATH, params


def _load(response: RecordedResponse) -> dict[str, Any]:
    data = decode_json(response)
    if not isinstance(data, dict):
        raise SourceError(response.source, response.url, response.status, "not a JSON object")
    return data


def check_error(response: RecordedResponse) -> None:
    """Raise for the API's error JSON (whatever the HTTP status) and for non-200 answers."""
    data = _load(response)
    if "error_id" in data or "error_name" in data:
        message = (
            f"{data.get('error_name', 'error')} (error_id {data.get('error_id')}): "
            f"{data.get('error_message', '')}"
        )
        raise SourceError(response.source, response.url, response.status, message)
    if response.status != 200:
        raise SourceError(response.source, response.url, response.status, "unexpected status")


def parse_total(response: RecordedResponse) -> int:
    """``total`` of a ``filter=total`` answer; a missing total is an error, never zero."""
    check_error(response)
    total = _load(response).get("total")
    if not isinstance(total, int):
        raise SourceError(response.source, response.url, response.status, "no total in answer")
    return total


def question_row(
    response: RecordedResponse, city_id: str, site: str, year: int, query: str
) -> dict[str, Any]:
    return {
        "city_id": city_id,
        "site": site,
        "period_year": year,
        "query": query,
        "total": parse_total(response),
        "response_sha256": response.sha256,
    }


class StackExchangeClient(SourceClient):
    """api.stackexchange.com: keyless 300 requests/day per IP, honouring ``backoff``."""

    NAME: ClassVar[str] = "stackexchange"
    BASE_URL: ClassVar[str] = "https://api.stackexchange.com"
    MIN_INTERVAL: ClassVar[float] = 1.0
    #: Error JSON comes with 400-409 (and 502 for a throttle violation): read, then raised by
    #: :meth:`check` with the API's error name and message (a ban is not retried).
    ACCEPT_STATUSES: ClassVar[frozenset[int]] = frozenset(
        {200, 400, 401, 402, 403, 404, 405, 406, 407, 409, 502}
    )

    def __init__(self, *args: Any, key: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.key = key if key is not None else os.environ.get(KEY_ENV, "")
        self.clock = time.monotonic
        self._not_before: float | None = None
        self.quota_remaining: int | None = None
        self.quota_max: int | None = None

    def check(self, response: RecordedResponse) -> None:
        check_error(response)

    def _fetch(self, url: str, key: str, params: dict[str, str]) -> RecordedResponse:
        if self.quota_remaining == 0:
            raise SourceError(
                self.source, url, None, "daily quota exhausted (quota_remaining 0); not sent"
            )
        if self._not_before is not None:
            remaining = self._not_before - self.clock()
            if remaining > 0:
                self.sleep(remaining)
            self._not_before = None
        send = url + (f"&key={quote(self.key, safe='')}" if self.key else "")
        try:
            recorded = super()._fetch(send, key, params)
        except SourceError as exc:  # never show the key in an error message
            raise SourceError(exc.source, url, exc.status, exc.message.replace(send, url)) from None
        recorded = replace(recorded, url=url)
        self._note_throttle(recorded)
        return recorded

    def _note_throttle(self, response: RecordedResponse) -> None:
        data = json_or_none(response.body)
        if not isinstance(data, dict):
            return
        backoff = data.get("backoff")
        if isinstance(backoff, (int, float)) and backoff > 0:
            self._not_before = self.clock() + float(backoff)
        if isinstance(data.get("quota_remaining"), int):
            self.quota_remaining = data["quota_remaining"]
        if isinstance(data.get("quota_max"), int):
            self.quota_max = data["quota_max"]

    def count(self, query: str, site: str, year: int) -> RecordedResponse:
        path, params = search_request(query, site, year)
        return self.get(path, params)
