"""Wikimedia REST pageviews client and parsers: monthly user views of one article per request.

One request per (edition, article) covers every year, so a recorded response serves every yearly
partition. A 404 (unknown title, or no data) and a 400 (no full month) are answers, recorded as
missing: a missing article is never counted as zero views. 429 is retried honouring Retry-After.
The API leaves out the months in which an article had no views: an omitted month is zero views
(nothing is landed for it, and the yearly sum counts it as zero), while a year with no month at
all is recorded as missing (status 200), because the article may not have existed yet.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar
from urllib.parse import quote

import polars as pl

from pipelines.sources.http import (
    RecordedResponse,
    SourceClient,
    SourceError,
    decode_json,
    json_or_none,
)
from pipelines.sources.wikimedia.tables import MISSING, PAGEVIEWS

PATH_TEMPLATE = (
    "/metrics/pageviews/per-article/{project}/all-access/user/{article}/monthly/{start}/{end}"
)
MISSING_STATUSES = (400, 404)

PAGEVIEW_SCHEMA = PAGEVIEWS.polars_schema()
MISSING_SCHEMA = MISSING.polars_schema()


def article_key(title: str) -> str:
    """The API's form of a title: spaces become underscores (the API echoes this form)."""
    return title.strip().replace(" ", "_")


def pageviews_request(lang: str, title: str, start: date, end: date) -> tuple[str, dict[str, str]]:
    """Path (no query) of one monthly per-article request; ``/`` in titles becomes %2F."""
    path = PATH_TEMPLATE.format(
        project=f"{lang}.wikipedia",
        article=quote(article_key(title), safe=""),
        start=start.strftime("%Y%m%d"),
        end=end.strftime("%Y%m%d"),
    )
    return path, {}


def _detail(body: str) -> str:
    data = json_or_none(body)
    if data is None:
        return " ".join(body.split())[:300]
    if isinstance(data, dict):
        return str(data.get("detail") or data.get("title") or "")[:300]
    return ""


def parse_items(response: RecordedResponse) -> list[dict[str, Any]]:
    """(month, views) of a 200 body; timestamps are ``YYYYMM0100``."""
    data = decode_json(response)
    items = data.get("items") if isinstance(data, dict) else None
    if items is None:
        raise SourceError(response.source, response.url, response.status, "no 'items' in body")
    rows = []
    for item in items:
        stamp = str(item["timestamp"])
        month = datetime.strptime(stamp[:6], "%Y%m").date()
        rows.append({"month": month, "views": int(item["views"])})
    return rows


def pageview_rows(
    response: RecordedResponse, city_id: str, lang: str, title: str, year: int | None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(raw.wikimedia_pageviews rows, raw.wikimedia_missing rows) for one response.

    A 400/404 gives one missing row with the API's detail. A 200 without any month in the
    partition year also gives a missing row (status 200), so "no data" is explicit, not zero.
    """
    article = article_key(title)
    base = {"city_id": city_id, "lang": lang, "article": article}
    if response.status in MISSING_STATUSES:
        missing = [
            {
                **base,
                "status": response.status,
                "detail": _detail(response.body),
                "response_sha256": response.sha256,
            }
        ]
        return pl.DataFrame([], schema=PAGEVIEW_SCHEMA), pl.DataFrame(
            missing, schema=MISSING_SCHEMA
        )
    if response.status != 200:
        raise SourceError(response.source, response.url, response.status, _detail(response.body))
    rows = [
        {**base, **item, "response_sha256": response.sha256}
        for item in parse_items(response)
        if year is None or item["month"].year == year
    ]
    missing = []
    if not rows:
        detail = f"no monthly views in {year}" if year is not None else "no monthly views"
        missing.append(
            {**base, "status": 200, "detail": detail, "response_sha256": response.sha256}
        )
    return (
        pl.DataFrame(rows, schema=PAGEVIEW_SCHEMA),
        pl.DataFrame(missing, schema=MISSING_SCHEMA),
    )


class WikimediaClient(SourceClient):
    """Wikimedia pageviews: about 200 requests/min allowed with a descriptive User-Agent."""

    NAME: ClassVar[str] = "wikimedia"
    BASE_URL: ClassVar[str] = "https://wikimedia.org/api/rest_v1"
    MIN_INTERVAL: ClassVar[float] = 0.5
    ACCEPT_STATUSES: ClassVar[frozenset[int]] = frozenset({200, *MISSING_STATUSES})

    def monthly(self, lang: str, title: str, start: date, end: date) -> RecordedResponse:
        path, params = pageviews_request(lang, title, start, end)
        return self.get(path, params)
