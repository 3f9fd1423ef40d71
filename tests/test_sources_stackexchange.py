"""Stack Exchange API 2.3: counts with a created filter, backoff, quota, throttle, key, snapshot.

Bodies: the search wrapper's fields and the keyless quota figures follow the real keyless answer
quoted in docs/sources (dorukayhan/how-to-use-a-se-api-key: ``"quota_max": 300,
"quota_remaining": 240``); the ``throttle_violation`` body is the API's documented error shape
(error_id 502) with the message real callers report. The ``/filters/create`` answer and its
filter string are WRITTEN BY US after the documented ``filter`` type (``filter``,
``filter_type``, ``included_fields``): the real string is made by the API.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import polars as pl
import pytest
import requests
import responses

from pipelines.errors import FAULT, explain
from pipelines.registry import load_cities
from pipelines.sources.http import QuotaExhausted, SnapshotStore, SourceError
from pipelines.sources.stackexchange import fetch_stackexchange
from pipelines.sources.stackexchange.client import (
    FILTER_INCLUDE,
    StackExchangeClient,
    seconds_to_utc_midnight,
)

URL = "https://api.stackexchange.com/2.3/search/advanced"
FILTERS = "https://api.stackexchange.com/2.3/filters/create"
MADE_FILTER = "!written-by-us-test-filter"  # not a real filter string
NOW = 1_760_000_000.0  # 2025-10-09T08:53:20Z


def filter_answer() -> None:
    responses.get(
        FILTERS,
        json={
            "items": [
                {
                    "filter": MADE_FILTER,
                    "filter_type": "safe",
                    "included_fields": FILTER_INCLUDE.split(";"),
                }
            ],
            "has_more": False,
            "quota_max": 300,
            "quota_remaining": 299,
        },
    )


def throttle_violation(seconds: int) -> None:
    """HTTP 400 with the API's throttle error (error_id 502) asking to wait ``seconds``."""
    message = f"too many requests from this IP, more requests available in {seconds} seconds"
    body = {"error_id": 502, "error_message": message, "error_name": "throttle_violation"}
    responses.get(URL, json=body, status=400)


def client(sleeps: list[float] | None = None, key: str = "", **changes) -> StackExchangeClient:
    config = StackExchangeClient.default_config().with_overrides(
        **{
            "min_interval": 0.0,
            "backoff_factor": 0.0,
            "retry_after_max": 0,
            "retries": 2,
            **changes,
        }
    )
    record = sleeps if sleeps is not None else []
    made = StackExchangeClient(config, mode="live", sleep=record.append, key=key)
    made.clock = lambda: 1000.0
    made.wall_clock = lambda: NOW
    return made


def cities(*rows: tuple[str, str]) -> pl.DataFrame:
    return pl.DataFrame(
        [{"id": i, "name_en": n, "social_query": "", "social_exclude": ""} for i, n in rows]
    )


def sent(call: int) -> dict[str, list[str]]:
    return parse_qs(urlsplit(responses.calls[call].request.url).query)


@responses.activate
def test_totals_per_site_and_year_with_the_created_filter():
    filter_answer()
    responses.get(URL, json={"total": 42, "quota_max": 300, "quota_remaining": 298})
    responses.get(URL, json={"total": 5, "quota_max": 300, "quota_remaining": 297})
    made = client()
    batch = fetch_stackexchange(cities(("paris", "Paris")), 2022, made)
    table = batch.tables["stackexchange_questions"]
    assert table.select("site", "total").rows() == [("travel", 42), ("expatriates", 5)]
    assert sent(0) == {"base": ["none"], "include": [FILTER_INCLUDE], "unsafe": ["false"]}
    search = sent(1)
    assert search["site"] == ["travel"] and search["filter"] == [MADE_FILTER]
    assert search["q"] == ['"Paris"']
    assert search["fromdate"] == ["1640995200"] and search["todate"] == ["1672531199"]
    assert "key" not in search
    assert len(responses.calls) == 3  # the filter is asked once per client
    assert (made.quota_remaining, made.quota_max) == (297, 300)
    assert any("quota_remaining 297 of 300" in issue for issue in batch.issues)


@responses.activate
def test_backoff_is_honoured_before_the_next_request():
    filter_answer()
    responses.get(URL, json={"total": 3, "backoff": 10, "quota_max": 300, "quota_remaining": 120})
    responses.get(URL, json={"total": 1, "quota_max": 300, "quota_remaining": 119})
    sleeps: list[float] = []
    batch = fetch_stackexchange(cities(("rome", "Rome")), 2019, client(sleeps, retry_after_max=60))
    assert sleeps == [10.0]
    assert batch.tables["stackexchange_questions"]["total"].to_list() == [3, 1]


@responses.activate
def test_other_error_json_raises_with_name_message_url_and_status():
    filter_answer()
    body = {"error_id": 400, "error_message": "site is required", "error_name": "bad_parameter"}
    responses.get(URL, json=body, status=400)
    with pytest.raises(SourceError) as error:
        fetch_stackexchange(cities(("rome", "Rome")), 2019, client())
    text = str(error.value)
    assert not isinstance(error.value, QuotaExhausted)
    assert error.value.status == 400
    assert "bad_parameter (error_id 400): site is required" in text
    assert "api.stackexchange.com/2.3/search/advanced" in text
    assert len(responses.calls) == 2  # the filter, then one search: not retried


@responses.activate
def test_throttle_violation_stops_with_the_time_it_can_go_on():
    filter_answer()
    throttle_violation(82502)
    with pytest.raises(QuotaExhausted) as error:
        fetch_stackexchange(cities(("rome", "Rome"), ("oslo", "Oslo")), 2019, client())
    assert error.value.resume_at == datetime.fromtimestamp(NOW + 82502, UTC)
    assert error.value.requests_left == 4  # 2 cities x 2 sites, none landed
    text = str(error.value)
    assert "throttle_violation" in text and "82502 seconds" in text and "4 requests left" in text
    assert "resumes at 2025-10-10T07:48:22Z" in text
    assert len(responses.calls) == 2  # never retried beyond the allowed wait
    explained = explain(error.value)  # what the command line says
    assert explained.exit_code == FAULT
    assert "run the same command again after 2025-10-10T07:48:22Z" in explained.message
    assert "resumes where it stopped" in explained.message


@responses.activate
def test_a_short_throttle_violation_is_waited_out():
    filter_answer()
    throttle_violation(3)
    responses.get(URL, json={"total": 9, "quota_max": 300, "quota_remaining": 200})
    responses.get(URL, json={"total": 1, "quota_max": 300, "quota_remaining": 199})
    sleeps: list[float] = []
    batch = fetch_stackexchange(cities(("rome", "Rome")), 2019, client(sleeps, retry_after_max=60))
    assert batch.tables["stackexchange_questions"]["total"].to_list() == [9, 1]
    assert sleeps == [3.0]


@responses.activate
def test_exhausted_quota_stops_before_sending_until_utc_midnight():
    filter_answer()
    responses.get(URL, json={"total": 2, "quota_max": 300, "quota_remaining": 0})
    with pytest.raises(QuotaExhausted, match="quota exhausted") as error:
        fetch_stackexchange(cities(("rome", "Rome")), 2019, client())
    assert len(responses.calls) == 2  # the filter and the answer that spent the quota
    assert error.value.resume_at == datetime(2025, 10, 10, tzinfo=UTC)
    assert error.value.requests_left == 1
    assert seconds_to_utc_midnight(NOW) == pytest.approx(15 * 3600 + 6 * 60 + 40)


@responses.activate
def test_key_is_sent_but_never_recorded(tmp_path):
    filter_answer()
    responses.get(URL, json={"total": 7, "quota_max": 10000, "quota_remaining": 9998})
    responses.get(URL, json={"total": 0, "quota_max": 10000, "quota_remaining": 9997})
    made = client(key="abc(123)")
    made.mode, made.store = "record", SnapshotStore(tmp_path)
    batch = fetch_stackexchange(cities(("oslo", "Oslo")), 2024, made)
    assert sent(1)["key"] == ["abc(123)"]
    assert all("key" not in r.url and "key" not in r.params for r in batch.responses)
    stored = b"".join(f.read_bytes() for f in (tmp_path / "stackexchange").glob("*"))
    assert b"abc" not in stored and len(list((tmp_path / "stackexchange").glob("*"))) == 3


@responses.activate
def test_key_never_in_an_error_message():
    filter_answer()
    responses.get(URL, body=requests.ConnectionError(f"{URL}?key=abc%28123%29 refused"))
    with pytest.raises(SourceError) as error:
        fetch_stackexchange(cities(("oslo", "Oslo")), 2024, client(key="abc(123)"))
    assert "abc" not in str(error.value) and "***" in str(error.value)


def test_snapshot_mode_real_registry_city_uses_filter_total():
    registry = load_cities().filter(pl.col("id") == "new-york")
    batch = fetch_stackexchange(registry, 2025, StackExchangeClient(mode="snapshot"))
    table = batch.tables["stackexchange_questions"]
    assert table["site"].to_list() == ["travel", "expatriates"]
    assert table["query"].to_list() == ['"New York" -Times'] * 2
    assert (table["total"] >= 0).all()
    assert all(r.synthetic and r.params["filter"] == "total" for r in batch.responses)
