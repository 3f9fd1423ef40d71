"""Stack Exchange API 2.3: filter=total counts, backoff, quota, error JSON, key, snapshot."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import polars as pl
import pytest
import responses

from pipelines.registry import load_cities
from pipelines.sources.http import SourceError
from pipelines.sources.stackexchange import fetch_stackexchange
from pipelines.sources.stackexchange.client import StackExchangeClient

URL = "https://api.stackexchange.com/2.3/search/advanced"


def client(sleeps: list[float] | None = None, key: str = "") -> StackExchangeClient:
    config = StackExchangeClient.default_config().with_overrides(
        min_interval=0.0, backoff_factor=0.0, retry_after_max=0, retries=2
    )
    record = sleeps if sleeps is not None else []
    made = StackExchangeClient(config, mode="live", sleep=record.append, key=key)
    made.clock = lambda: 1000.0
    return made


def cities(*rows: tuple[str, str]) -> pl.DataFrame:
    return pl.DataFrame(
        [{"id": i, "name_en": n, "social_query": "", "social_exclude": ""} for i, n in rows]
    )


@responses.activate
def test_totals_per_site_and_year():
    responses.get(URL, json={"total": 42})
    responses.get(URL, json={"total": 5})
    batch = fetch_stackexchange(cities(("paris", "Paris")), 2022, client())
    table = batch.tables["stackexchange_questions"]
    assert table.select("site", "total").rows() == [("travel", 42), ("expatriates", 5)]
    sent = parse_qs(urlsplit(responses.calls[0].request.url).query)
    assert sent["site"] == ["travel"] and sent["filter"] == ["total"]
    assert sent["q"] == ['"Paris"']
    assert sent["fromdate"] == ["1640995200"] and sent["todate"] == ["1672531199"]
    assert "key" not in sent


@responses.activate
def test_backoff_is_honoured_before_the_next_request():
    responses.get(URL, json={"total": 3, "backoff": 10, "quota_max": 300, "quota_remaining": 120})
    responses.get(URL, json={"total": 1})
    sleeps: list[float] = []
    batch = fetch_stackexchange(cities(("rome", "Rome")), 2019, client(sleeps))
    assert sleeps == [10.0]
    assert batch.tables["stackexchange_questions"]["total"].to_list() == [3, 1]
    assert any("quota_remaining 120 of 300" in issue for issue in batch.issues)


@responses.activate
def test_error_json_raises_with_name_message_url_and_status():
    body = {
        "error_id": 502,
        "error_message": "too many requests from this IP, more requests available in 82502 seconds",
        "error_name": "throttle_violation",
    }
    responses.get(URL, json=body, status=400)
    with pytest.raises(SourceError) as error:
        fetch_stackexchange(cities(("rome", "Rome")), 2019, client())
    text = str(error.value)
    assert error.value.status == 400
    assert "throttle_violation (error_id 502)" in text and "82502 seconds" in text
    assert "api.stackexchange.com/2.3/search/advanced" in text
    assert len(responses.calls) == 1  # not retried


@responses.activate
def test_exhausted_quota_stops_sending():
    responses.get(URL, json={"total": 2, "quota_max": 300, "quota_remaining": 0})
    with pytest.raises(SourceError, match="quota exhausted"):
        fetch_stackexchange(cities(("rome", "Rome")), 2019, client())
    assert len(responses.calls) == 1


@responses.activate
def test_key_is_sent_but_never_recorded():
    responses.get(URL, json={"total": 7})
    responses.get(URL, json={"total": 0})
    batch = fetch_stackexchange(cities(("oslo", "Oslo")), 2024, client(key="abc(123)"))
    assert parse_qs(urlsplit(responses.calls[0].request.url).query)["key"] == ["abc(123)"]
    assert all("key" not in r.url and "key" not in r.params for r in batch.responses)


def test_snapshot_mode_real_registry_city():
    registry = load_cities().filter(pl.col("id") == "new-york")
    batch = fetch_stackexchange(registry, 2025, StackExchangeClient(mode="snapshot"))
    table = batch.tables["stackexchange_questions"]
    assert table["site"].to_list() == ["travel", "expatriates"]
    assert table["query"].to_list() == ['"New York" -Times'] * 2
    assert (table["total"] >= 0).all()
    assert all(r.synthetic for r in batch.responses)
