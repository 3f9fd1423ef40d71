"""GDELT DOC 2.0 client: timelines, throttle text with 200 and 429, text errors, {} and bad JSON."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import polars as pl
import pytest
import responses

from pipelines.registry import load_cities
from pipelines.sources.gdelt import client as gdelt
from pipelines.sources.gdelt import fetch_gdelt
from pipelines.sources.gdelt.client import GdeltClient
from pipelines.sources.http import SnapshotMissing, SnapshotStore, SourceError

ANSWERS = Path(__file__).parent / "data" / "api_answers"
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


def test_request_covers_one_year():
    start, end = gdelt.year_window(2020)
    path, params = gdelt.timeline_request("Paris", "timelinetone", start, end)
    assert path == "/api/v2/doc/doc"
    assert params["startdatetime"] == "20200101000000"
    assert params["enddatetime"] == "20201231235959"
    assert params["format"] == "json"
    assert gdelt.overseas_query("Paris", "FR") == "Paris -sourcecountry:FR"


@pytest.mark.parametrize(
    ("registry", "sent"),
    [
        ('"Xi\'an"', "Xian"),  # a quoted single word: "The specified phrase is too short."
        ('"Hong Kong"', '"Hong Kong"'),  # a phrase of two words stays quoted
        ("Macau OR Macao", "(Macau OR Macao)"),  # "OR'd terms must be surrounded by ()"
        ("(Macau OR Macao)", "(Macau OR Macao)"),
        ('("Sao Paulo" OR "São Paulo")', '("Sao Paulo" OR "São Paulo")'),
        ('("Zurich" OR Zürich)', "(Zurich OR Zürich)"),
        ("  Paris  ", "Paris"),
    ],
)
def test_query_builder_follows_gdelts_rules(registry, sent):
    assert gdelt.build_query(registry) == sent


@pytest.mark.parametrize("bad", ['"Hong Kong', "(Macau OR Macao", "Macau) OR (Macao", '""', "f-16"])
def test_query_builder_refuses_what_gdelt_would_refuse(bad):
    with pytest.raises(gdelt.QueryError, match="GDELT query|empty"):
        gdelt.build_query(bad)


def test_every_registry_query_builds_to_one_gdelt_accepts():
    """No quoted single word, no OR outside parentheses, known FIPS codes: the three refusals
    GDELT answers (tests/data/api_answers/gdelt_text_errors.json) cannot be provoked."""
    for row in load_cities().iter_rows(named=True):
        query = gdelt.overseas_query(row["gdelt_query"], row["country_fips"])
        for phrase in query.split('"')[1::2]:
            assert len(phrase.split()) > 1, (row["id"], query)
        top_level = query.split(" -sourcecountry:")[0]
        if " OR " in top_level:
            assert top_level.startswith("(") and top_level.endswith(")"), (row["id"], query)


def test_unknown_country_code_is_refused_before_asking():
    with pytest.raises(gdelt.QueryError, match="'CHN' is not a FIPS"):
        gdelt.overseas_query("Beijing", "CHN")  # ISO3: GDELT says Invalid/Unsupported


@responses.activate
@pytest.mark.parametrize(
    "answer",
    json.loads((ANSWERS / "gdelt_text_errors.json").read_text(encoding="utf-8"))["answers"],
    ids=lambda a: a["body"][:20],
)
def test_text_answers_with_200_are_source_errors_naming_text_and_url(answer):
    responses.get(
        URL, body=answer["body"], status=answer["status"], content_type=answer["content_type"]
    )
    with pytest.raises(SourceError) as info:
        call(client())
    assert answer["body"] in str(info.value)
    assert info.value.url.startswith(URL) and info.value.url in str(info.value)
    assert len(responses.calls) == 1  # a refusal is not retried


@responses.activate
def test_fetch_asks_each_timeline_for_the_partition_year_with_built_queries():
    cities = load_cities().filter(pl.col("id") == "xian")
    responses.get(URL, json=VOLRAW)
    batch = fetch_gdelt(cities, 2020, client())
    assert len(responses.calls) == 3
    for call_ in responses.calls:
        params = call_.request.params
        assert params["startdatetime"] == "20200101000000"
        assert params["enddatetime"] == "20201231235959"
        assert params["query"] in ("Xian -sourcecountry:CH", "Xian")
    assert batch.tables["gdelt_volume"]["date"].to_list() == [date(2020, 1, 1), date(2020, 1, 2)]


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
    [
        ("15m", "20200101T001500Z"),
        ("15min", "20200101T001500Z"),
        ("hour", "20200101T130000Z"),
        ("week", "20200106T000000Z"),
        ("month", "20200101T000000Z"),
    ],
)
def test_every_bucket_size_is_accepted(resolution, stamp):
    body = {
        "query_details": {"title": "q", "date_resolution": resolution},
        "timeline": [{"series": "Average Tone", "data": [{"date": stamp, "value": -1.5}]}],
    }
    frame = gdelt.parse_timeline(_recorded(json.dumps(body)))
    assert frame["date"][0].year == 2020 and frame["value"][0] == -1.5
    assert gdelt.resolution(_recorded(json.dumps(body))) == resolution


def test_buckets_finer_than_a_day_are_summed_or_averaged_per_day():
    """Written by us in the documented shape with the "15m" label seen in real answers."""
    points = [("20200101T000000Z", 2, 100, -1.0), ("20200101T001500Z", 3, 120, -3.0),
              ("20200102T234500Z", 1, 90, 2.0)]  # fmt: skip
    volume = {
        "query_details": {"title": "q", "date_resolution": "15m"},
        "timeline": [{"series": "Article Count",
                      "data": [{"date": d, "value": v, "norm": n} for d, v, n, _ in points]}],
    }  # fmt: skip
    tone = {
        "query_details": {"title": "q", "date_resolution": "15m"},
        "timeline": [{"series": "Average Tone",
                      "data": [{"date": d, "value": t} for d, _, _, t in points]}],
    }  # fmt: skip
    rows = gdelt.volume_rows(_recorded(json.dumps(volume)), "xian", 2020)
    assert rows["date"].to_list() == [date(2020, 1, 1), date(2020, 1, 2)]
    assert rows["article_count"].to_list() == [5, 1]
    assert rows["norm_total"].to_list() == [220, 90]
    tones = gdelt.tone_rows(_recorded(json.dumps(tone)), "xian", 2020)
    assert tones["avg_tone"].to_list() == [-2.0, 2.0]


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
