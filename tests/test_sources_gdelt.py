"""GDELT DOC 2.0 client: timelines, throttle text with 200 and 429, text errors, {} and bad JSON."""

from __future__ import annotations

import json
from datetime import date

import polars as pl
import pytest
import responses

from pipelines.registry import load_cities
from pipelines.sources.gdelt import client as gdelt
from pipelines.sources.gdelt import fetch_gdelt
from pipelines.sources.gdelt.client import GdeltClient
from pipelines.sources.http import SnapshotMissing, SnapshotStore, SourceError

URL = "https://api.gdeltproject.org/api/v2/doc/doc"
THROTTLE = (
    "Please limit requests to one every 5 seconds or contact kalev.leetaru5@gmail.com for "
    "larger queries."
)
VOLRAW = {
    "query_details": {"title": "Xi'an -sourcecountry:CH", "date_resolution": "day"},
    "timeline": [
        {
            "series": "Article Count",
            "data": [
                {"date": "20191231T000000Z", "value": 7, "norm": 90000},
                {"date": "20200101T000000Z", "value": 2, "norm": 100},
                {"date": "20200102T000000Z", "value": 3, "norm": 120},
            ],
        }
    ],
}


def client(**changes) -> GdeltClient:
    base = dict(min_interval=0.0, backoff_factor=0.0, retry_after_max=0, retries=3)
    config = GdeltClient.default_config().with_overrides(**{**base, **changes})
    return GdeltClient(config, mode="live", sleep=lambda s: None)


def call(c: GdeltClient, mode: str = "timelinevolraw"):
    return c.timeline('"Xi\'an" -sourcecountry:CH', mode, date(2017, 1, 1), date(2025, 12, 31))


def test_request_spans_all_years_in_one_call():
    path, params = gdelt.timeline_request(
        "Paris", "timelinetone", date(2017, 1, 1), date(2025, 12, 31)
    )
    assert path == "/api/v2/doc/doc"
    assert params["startdatetime"] == "20170101000000"
    assert params["enddatetime"] == "20251231235959"
    assert params["format"] == "json"
    assert gdelt.overseas_query("Paris", "FR") == "Paris -sourcecountry:FR"


@responses.activate
def test_volraw_success_rows_in_year():
    responses.get(URL, json=VOLRAW)
    response = call(client())
    rows = gdelt.volume_rows(response, "xian", 2020)
    assert rows.columns == ["city_id", "date", "article_count", "norm_total", "response_sha256"]
    assert rows["date"].to_list() == [date(2020, 1, 1), date(2020, 1, 2)]
    assert rows["article_count"].to_list() == [2, 3]
    assert rows["norm_total"].to_list() == [100, 120]
    assert set(rows["response_sha256"]) == {response.sha256}
    sent = responses.calls[0].request.url
    assert "mode=timelinevolraw" in sent and "format=json" in sent


@responses.activate
@pytest.mark.parametrize("status", [200, 429])
def test_throttle_text_is_retried(status):
    responses.get(URL, body=THROTTLE, status=status, content_type="text/plain")
    responses.get(URL, json=VOLRAW)
    response = call(client())
    assert response.status == 200
    assert len(responses.calls) == 2
    assert gdelt.volume_rows(response, "xian", None).height == 3


@responses.activate
def test_throttle_forever_gives_source_error():
    responses.get(URL, body=THROTTLE, status=200, content_type="text/plain")
    with pytest.raises(SourceError, match="rate limited") as info:
        call(client(retries=2))
    assert info.value.status == 200 and info.value.url.startswith(URL)
    assert len(responses.calls) == 3


@responses.activate
def test_plain_text_error_with_200_raises_the_sentence():
    sentence = "Your search contained a parenthetical clauses had an error."
    responses.get(URL, body=sentence, status=200, content_type="text/html; charset=utf-8")
    with pytest.raises(SourceError, match="parenthetical clauses had an error"):
        call(client())


@responses.activate
def test_empty_object_means_zero_rows():
    responses.get(URL, body="{}", content_type="application/json")
    response = call(client())
    assert gdelt.volume_rows(response, "xian", 2020).height == 0
    assert gdelt.source_country_rows(response, "xian", 2020).height == 0


@responses.activate
def test_malformed_json_is_repaired():
    good = json.dumps(VOLRAW)
    broken = good.replace('"Article Count"', '"Article\x01 Count\x02"')  # raw control chars
    with pytest.raises(json.JSONDecodeError):
        json.loads(broken)
    responses.get(URL, body=broken, content_type="application/json")
    response = call(client())
    frame = gdelt.parse_timeline(response)
    assert frame.height == 3
    assert frame["series"][0] == "Article Count"


@pytest.mark.parametrize(
    ("resolution", "stamp"),
    [("15min", "20200101T001500Z"), ("hour", "20200101T130000Z"), ("month", "20200101T000000Z")],
)
def test_other_bucket_sizes_are_accepted(resolution, stamp):
    body = {
        "query_details": {"title": "q", "date_resolution": resolution},
        "timeline": [{"series": "Average Tone", "data": [{"date": stamp, "value": -1.5}]}],
    }
    frame = gdelt.parse_timeline(_recorded(json.dumps(body)))
    assert frame["date"][0].year == 2020 and frame["value"][0] == -1.5


def test_source_country_labels_map_to_fips_or_null():
    body = {
        "query_details": {"title": "q", "date_resolution": "day"},
        "timeline": [
            {"series": "France", "data": [{"date": "20200101T000000Z", "value": 0.5}]},
            {
                "series": "United Kingdom Volume Intensity",
                "data": [{"date": "20200101T000000Z", "value": 1}],
            },
            {"series": "Czech Republic", "data": [{"date": "20200101T000000Z", "value": 1}]},
            {"series": "Atlantis", "data": [{"date": "20200101T000000Z", "value": 0.1}]},
        ],
    }
    rows = gdelt.source_country_rows(_recorded(json.dumps(body)), "paris", 2020)
    mapping = dict(zip(rows["source_country"], rows["source_fips"], strict=True))
    assert mapping == {
        "France": "FR",
        "United Kingdom Volume Intensity": "UK",
        "Czech Republic": "EZ",
        "Atlantis": None,
    }


def test_snapshot_mode_reads_embedded_snapshot_for_a_real_city():
    cities = load_cities().filter(pl.col("id") == "beijing")
    batch = fetch_gdelt(cities, 2020, GdeltClient(mode="snapshot"))
    volume = batch.tables["gdelt_volume"]
    assert volume.height == 366  # a leap year of daily buckets
    assert volume["date"].dt.year().unique().to_list() == [2020]
    assert all(r.synthetic for r in batch.responses)
    assert "-sourcecountry:CH" in batch.responses[0].url.replace("%3A", ":")
    countries = batch.tables["gdelt_source_country"]
    assert countries.filter(pl.col("source_fips").is_null()).height == 0
    assert batch.tables["gdelt_tone"].height == 366


def test_snapshot_missing_for_unknown_query_names_url(tmp_path):
    c = GdeltClient(mode="snapshot", store=SnapshotStore(tmp_path))
    with pytest.raises(SnapshotMissing, match="api.gdeltproject.org/api/v2/doc/doc"):
        call(c)


def _recorded(body: str):
    from pipelines.sources.http import RecordedResponse, body_sha256

    return RecordedResponse(
        source="gdelt",
        request_key="k",
        url=URL,
        params={},
        status=200,
        content_type="application/json",
        body=body,
        retrieved_at="2026-01-01T00:00:00Z",
        sha256=body_sha256(body),
    )
