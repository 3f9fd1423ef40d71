"""Wikimedia pageviews client: monthly views, 404/400 as missing (never zero), 429 retried."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import polars as pl
import pytest
import responses

from pipelines.registry import load_cities
from pipelines.sources.http import SourceError
from pipelines.sources.wikimedia import client as wikimedia
from pipelines.sources.wikimedia import fetch_wikimedia
from pipelines.sources.wikimedia.client import WikimediaClient

ROOT = "https://wikimedia.org/api/rest_v1/metrics/pageviews/per-article"
START, END = date(2017, 1, 1), date(2025, 12, 31)
# Real bodies (data/wikimedia_pageviews_fixtures), the 200 one cut to three items.
OK_BODY = json.dumps(
    {
        "items": [
            {"project": "en.wikipedia", "article": "ChatGPT", "granularity": "monthly",
             "timestamp": "2022120100", "access": "all-access", "agent": "user",
             "views": 1882964},
            {"project": "en.wikipedia", "article": "ChatGPT", "granularity": "monthly",
             "timestamp": "2023010100", "access": "all-access", "agent": "user",
             "views": 5349371},
            {"project": "en.wikipedia", "article": "ChatGPT", "granularity": "monthly",
             "timestamp": "2023020100", "access": "all-access", "agent": "user",
             "views": 5947457},
        ]
    }
)  # fmt: skip
NOT_FOUND = (
    '{"detail":"The date(s) you used are valid, but we either do not have data for those '
    "date(s), or the project you asked for is not loaded yet. Please check documentation for "
    'more information","method":"get","status":404,"title":"Not Found","type":"about:blank",'
    '"uri":"/metrics/pageviews/per-article/en.wikipedia/all-access/user/'
    'This_Article_Does_Not_Exist_xyz123/monthly/20221101/20260930"}'
)
NO_FULL_MONTHS = (
    '{"detail":"no full months between dates","method":"get","status":400,"title":"Bad Request",'
    '"type":"about:blank","uri":"/metrics/pageviews/per-article/en.wikipedia/all-access/user/'
    'ChatGPT/monthly/20260815/20260901"}'
)
TOO_MANY = (
    "You are making too many requests to the API.\nPlease follow the best practices at "
    "<https://www.mediawiki.org/wiki/Wikimedia_APIs/Rate_limits>.\n"
)


def client() -> WikimediaClient:
    config = WikimediaClient.default_config().with_overrides(
        min_interval=0.0, backoff_factor=0.0, retry_after_max=0, retries=3
    )
    return WikimediaClient(config, mode="live")


def url(title: str) -> str:
    return f"{ROOT}/en.wikipedia/all-access/user/{title}/monthly/20170101/20251231"


def test_path_quotes_titles():
    path, params = wikimedia.pageviews_request("pt", "São Paulo", START, END)
    assert path.endswith("/pt.wikipedia/all-access/user/S%C3%A3o_Paulo/monthly/20170101/20251231")
    assert params == {}
    path, _ = wikimedia.pageviews_request("en", "AC/DC", START, END)
    assert "/AC%2FDC/" in path


@responses.activate
def test_success_rows_in_year():
    responses.get(url("ChatGPT"), body=OK_BODY, content_type="application/json")
    response = client().monthly("en", "ChatGPT", START, END)
    views, missing = wikimedia.pageview_rows(response, "x", "en", "ChatGPT", 2023)
    assert views["month"].to_list() == [date(2023, 1, 1), date(2023, 2, 1)]
    assert views["views"].to_list() == [5349371, 5947457]
    assert missing.height == 0
    assert "city-influence-index" in responses.calls[0].request.headers["User-Agent"]


@responses.activate
def test_year_without_months_is_missing_not_zero():
    responses.get(url("ChatGPT"), body=OK_BODY, content_type="application/json")
    response = client().monthly("en", "ChatGPT", START, END)
    views, missing = wikimedia.pageview_rows(response, "x", "en", "ChatGPT", 2019)
    assert views.height == 0
    assert missing.row(0, named=True)["status"] == 200


@responses.activate
def test_404_is_recorded_as_missing():
    title = "This_Article_Does_Not_Exist_xyz123"
    responses.get(url(title), body=NOT_FOUND, status=404, content_type="application/problem+json")
    response = client().monthly("en", title, START, END)
    views, missing = wikimedia.pageview_rows(response, "x", "en", title, 2020)
    assert views.height == 0
    row = missing.row(0, named=True)
    assert row["status"] == 404 and row["article"] == title
    assert row["detail"].startswith("The date(s) you used are valid")


@responses.activate
def test_400_no_full_months_is_missing_with_detail():
    responses.get(url("ChatGPT"), body=NO_FULL_MONTHS, status=400)
    response = client().monthly("en", "ChatGPT", START, END)
    _, missing = wikimedia.pageview_rows(response, "x", "en", "ChatGPT", 2020)
    assert missing.row(0, named=True)["detail"] == "no full months between dates"


@responses.activate
def test_429_with_retry_after_then_success():
    responses.get(
        url("ChatGPT"),
        body=TOO_MANY,
        status=429,
        content_type="text/plain",
        headers={"Retry-After": "1"},
    )
    responses.get(url("ChatGPT"), body=OK_BODY, content_type="application/json")
    response = client().monthly("en", "ChatGPT", START, END)
    assert response.status == 200 and len(responses.calls) == 2


@responses.activate
def test_403_is_a_source_error():
    responses.get(url("ChatGPT"), body="Please set a user-agent", status=403)
    with pytest.raises(SourceError) as info:
        client().monthly("en", "ChatGPT", START, END)
    assert info.value.status == 403 and "ChatGPT" in info.value.url


def test_snapshot_mode_real_city_and_recorded_404():
    cities = load_cities().filter(pl.col("id").is_in(["paris", "sanya"]))
    batch = fetch_wikimedia(cities, 2021, WikimediaClient(mode="snapshot"))
    views = batch.tables["wikimedia_pageviews"]
    paris_en = views.filter((pl.col("city_id") == "paris") & (pl.col("lang") == "en"))
    assert paris_en.height == 12 and paris_en["views"].min() > 0
    missing = batch.tables["wikimedia_missing"]
    assert missing.filter(pl.col("status") == 404)["city_id"].to_list() == ["sanya"]
    # never zero: the 404 article has no pageview rows at all
    sanya_lang = missing.filter(pl.col("status") == 404)["lang"][0]
    assert views.filter((pl.col("city_id") == "sanya") & (pl.col("lang") == sanya_lang)).is_empty()


ANSWERS = Path(__file__).parent / "data" / "api_answers"


def _real(name: str, status: int, content_type: str):
    from pipelines.sources.http import RecordedResponse, body_sha256

    body = (ANSWERS / name).read_text(encoding="utf-8")
    return RecordedResponse(
        source="wikimedia",
        request_key="k",
        url=f"{ROOT}/en.wikipedia/all-access/user/ChatGPT/monthly/20221101/20260930",
        params={},
        status=status,
        content_type=content_type,
        body=body,
        retrieved_at="2026-01-01T00:00:00Z",
        sha256=body_sha256(body),
    )


def test_omitted_months_are_zero_views_and_an_empty_year_is_missing():
    """The real ChatGPT body: the article appeared in late 2022, so the API answers only from
    December 2022; January-November are omitted (zero, nothing landed), 2021 has no month."""
    response = _real("wikimedia_sample-chatgpt-monthly.json", 200, "application/json")
    items = json.loads(response.body)["items"]
    views, missing = wikimedia.pageview_rows(response, "x", "en", "ChatGPT", 2022)
    assert views["month"].to_list() == [date(2022, 12, 1)]
    assert views["views"].sum() == sum(i["views"] for i in items if i["timestamp"][:4] == "2022")
    assert missing.height == 0
    views, missing = wikimedia.pageview_rows(response, "x", "en", "ChatGPT", 2021)
    assert views.height == 0
    assert missing.row(0, named=True)["detail"] == "no monthly views in 2021"


@pytest.mark.parametrize(
    ("name", "status"),
    [("wikimedia_sample-404.json", 404), ("wikimedia_sample-400-no-full-months.json", 400)],
)
def test_real_404_and_400_bodies_are_missing_with_the_apis_detail(name, status):
    response = _real(name, status, "application/problem+json")
    views, missing = wikimedia.pageview_rows(response, "x", "en", "ChatGPT", 2023)
    row = missing.row(0, named=True)
    assert views.height == 0
    assert row["status"] == status and row["detail"] == json.loads(response.body)["detail"]


def test_plan_counts_articles_with_and_without_sitelinks():
    from pipelines.sources.wikimedia import plan_wikimedia

    registry = load_cities().filter(pl.col("id").is_in(["paris", "xian"]))
    titles = sum(
        1 for row in registry.iter_rows(named=True) for k, v in row.items()
        if k.startswith("wiki_") and (v or "").strip()
    )  # fmt: skip
    [bare] = plan_wikimedia(registry, 2020)
    assert bare.requests == titles and bare.estimate
    sitelinks = pl.DataFrame(
        {"city_id": ["xian"], "qid": ["Q5826"], "site": ["kowiki"], "title": ["시안시"]}
    )
    [full] = plan_wikimedia(registry, 2020, sitelinks=sitelinks)
    filled = 0 if registry.filter(pl.col("id") == "xian")["wiki_ko"][0] else 1
    assert full.requests == titles + filled and not full.estimate
