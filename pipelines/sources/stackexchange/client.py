"""Stack Exchange API 2.3 client and parser: questions mentioning a city per site and year.

One request per (city, name variant, site, year): ``/2.3/search/advanced?site=<site>&q=<query>
&fromdate=<unix>&todate=<unix>&filter=<filter>`` answers the number of questions created in the
window whose text matches ``q`` (``total``). Quirks, declared through the shared policy's hooks:

- The filter. The built-in ``filter=total`` returns only ``{"total": N}``: none of the
  wrapper's ``quota_remaining``, ``quota_max`` or ``backoff``. Filters are immutable and
  non-expiring strings made by ``/2.3/filters/create`` (API docs, "Filters": "filters should be
  pre-calculated and baked in"). The client asks once, for a filter of base ``none`` including
  ``FILTER_INCLUDE`` (``.total`` and the wrapper's quota, backoff and error fields), through
  the same store as every answer: a record run stores it, a resumed or replayed run reuses
  it. Where it was never recorded (snapshot mode on the shipped, synthetic snapshot) the client
  uses ``filter=total``: counts are right, and the quota is then known only from errors.
- ``backoff`` (seconds) may come in any answer: the next request waits that long (the API bans
  callers that ignore it).
- Quota: 300 requests a day per IP without a key, 10,000 with ``STACKEXCHANGE_KEY``; it resets
  at midnight UTC. An answer with ``quota_remaining`` 0 is kept and the source stops before the
  next request with :class:`~pipelines.sources.http.QuotaExhausted` (resume at the next
  midnight UTC). HTTP 400 ``throttle_violation`` (error_id 502, "too many requests from this IP,
  more requests available in N seconds") is a refusal: waited out when N is within
  ``retry_after_max``, else the source stops the same way, resuming in N seconds.
- Other errors are JSON ``{"error_id", "error_name", "error_message"}`` with 400-409 (or 502):
  :meth:`StackExchangeClient.check` raises them with the API's name and message.
- ``STACKEXCHANGE_KEY`` (optional, from stackapps.com) is a secret parameter: sent only, never
  in snapshot keys, stored URLs, params or messages.
"""

from __future__ import annotations

import os
import re
from calendar import timegm
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from pipelines.sources.http import (
    Answer,
    RecordedResponse,
    SnapshotMissing,
    SourceClient,
    SourceError,
    Throttle,
    decode_json,
    json_or_none,
)
from pipelines.sources.queries import phrase_query
from pipelines.sources.stackexchange.tables import QUESTIONS

PATH = "/2.3/search/advanced"
FILTER_PATH = "/2.3/filters/create"
#: What the search answers carry: the count, and the wrapper's quota, backoff and error fields.
FILTER_INCLUDE = ".backoff;.error_id;.error_message;.error_name;.quota_max;.quota_remaining;.total"
#: The built-in filter used where no created filter is recorded (counts only).
TOTAL_FILTER = "total"
SITES: tuple[str, ...] = ("travel", "expatriates")
KEY_ENV = "STACKEXCHANGE_KEY"
THROTTLE_ERROR = "throttle_violation"
WAIT_SECONDS = re.compile(r"(\d+)\s*seconds")

QUESTION_SCHEMA = QUESTIONS.polars_schema()


def year_bounds(year: int) -> tuple[int, int]:
    """``fromdate`` / ``todate`` (unix seconds, both inclusive) covering the UTC year."""
    return timegm((year, 1, 1, 0, 0, 0)), timegm((year + 1, 1, 1, 0, 0, 0)) - 1


build_query = phrase_query  # one syntax for the text searches


def search_request(
    query: str, site: str, year: int, search_filter: str = TOTAL_FILTER
) -> tuple[str, dict[str, str]]:
    start, end = year_bounds(year)
    params = {
        "site": site,
        "q": query,
        "fromdate": str(start),
        "todate": str(end),
        "filter": search_filter,
    }
    return PATH, params


def filter_request() -> tuple[str, dict[str, str]]:
    """``/filters/create`` for a filter of base ``none`` with exactly ``FILTER_INCLUDE``."""
    return FILTER_PATH, {"base": "none", "include": FILTER_INCLUDE, "unsafe": "false"}


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


def parse_filter(response: RecordedResponse) -> str:
    """The filter string of a ``/filters/create`` answer (``items[0].filter``)."""
    items = _load(response).get("items")
    made = items[0].get("filter") if isinstance(items, list) and items else None
    if not isinstance(made, str) or not made:
        raise SourceError(response.source, response.url, response.status, "no filter in answer")
    return made


def parse_total(response: RecordedResponse) -> int:
    """``total`` of a search answer; a missing total is an error, never zero."""
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


def seconds_to_utc_midnight(now: float) -> float:
    """When the daily quota resets: the next midnight UTC."""
    moment = datetime.fromtimestamp(now, UTC)
    midnight = datetime(moment.year, moment.month, moment.day, tzinfo=UTC) + timedelta(days=1)
    return (midnight - moment).total_seconds()


class StackExchangeClient(SourceClient):
    """api.stackexchange.com: 300 requests/day per IP keyless (10,000 with a key)."""

    NAME: ClassVar[str] = "stackexchange"
    BASE_URL: ClassVar[str] = "https://api.stackexchange.com"
    MIN_INTERVAL: ClassVar[float] = 1.0
    #: Error JSON comes with 400-409 (and 502): read, then raised by :meth:`check` with the
    #: API's error name and message (a ban is not retried).
    ACCEPT_STATUSES: ClassVar[frozenset[int]] = frozenset(
        {200, 400, 401, 402, 403, 404, 405, 406, 407, 409, 502}
    )

    def __init__(self, *args: Any, key: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.key = key if key is not None else os.environ.get(KEY_ENV, "")
        self.quota_remaining: int | None = None
        self.quota_max: int | None = None
        self._filter: str | None = None

    def secret_params(self) -> dict[str, str]:
        return {"key": self.key} if self.key else {}

    def rate_limit(self, answer: Answer) -> Throttle | None:
        """``throttle_violation``: a refusal for the seconds its message gives (a quota);
        ``quota_remaining`` 0: no request before midnight UTC; ``backoff``: the next request
        waits."""
        data = json_or_none(answer.body)
        if not isinstance(data, dict):
            return None
        if data.get("error_name") == THROTTLE_ERROR:
            seconds = WAIT_SECONDS.search(str(data.get("error_message", "")))
            return Throttle(wait=float(seconds[1]) if seconds else None, quota=bool(seconds))
        if isinstance(data.get("quota_remaining"), int):
            self.quota_remaining = data["quota_remaining"]
        if isinstance(data.get("quota_max"), int):
            self.quota_max = data["quota_max"]
        if self.quota_remaining == 0 and "quota_remaining" in data:
            wait = seconds_to_utc_midnight(self.wall_clock())
            return Throttle(wait=wait, refused=False, quota=True)
        backoff = data.get("backoff")
        if isinstance(backoff, (int, float)) and backoff > 0:
            return Throttle(wait=float(backoff), refused=False)
        return None

    def check(self, response: RecordedResponse) -> None:
        check_error(response)

    def search_filter(self) -> str:
        """The created filter (asked once, through the store), else ``total`` where a replay
        has none recorded."""
        if self._filter is None:
            try:
                self._filter = parse_filter(self.get(*filter_request()))
            except SnapshotMissing:
                self._filter = TOTAL_FILTER
        return self._filter

    def count(self, query: str, site: str, year: int) -> RecordedResponse:
        path, params = search_request(query, site, year, self.search_filter())
        return self.get(path, params)
