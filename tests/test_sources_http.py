"""Shared client behaviour: modes, config, snapshot keys and files, retries, pacing."""

from __future__ import annotations

import gzip
import json
import time

import pytest
import requests
import responses

from pipelines.sources.gdelt.client import GdeltClient
from pipelines.sources.http import (
    USER_AGENT,
    Pacer,
    PoliteRetry,
    SnapshotMissing,
    SnapshotStore,
    SourceConfig,
    SourceError,
    canonical_request,
    request_key,
    resolve_mode,
)
from pipelines.sources.worldbank.client import WorldBankClient

WB = "https://api.worldbank.org"


def fast(client_cls, **changes):
    """The client's config with pacing and back-off at zero, so retry tests take milliseconds."""
    base = dict(min_interval=0.0, backoff_factor=0.0, retry_after_max=0, retries=3)
    return client_cls.default_config().with_overrides(**{**base, **changes})


def test_mode_explicit_env_default(monkeypatch):
    monkeypatch.delenv("CITY_INDEX_MODE", raising=False)
    assert resolve_mode() == "snapshot"
    monkeypatch.setenv("CITY_INDEX_MODE", "record")
    assert resolve_mode() == "record"
    assert resolve_mode("live") == "live"
    with pytest.raises(ValueError, match="snapshot, live, record"):
        resolve_mode("offline")


def test_config_from_env():
    env = {"CITY_INDEX_GDELT_URL": "http://mirror.local/", "CITY_INDEX_GDELT_MIN_INTERVAL": "6"}
    config = SourceConfig.from_env("gdelt", "https://api.gdeltproject.org", 5.0, environ=env)
    assert config.base_url == "http://mirror.local"
    assert config.min_interval == 6.0
    default = SourceConfig.from_env("gdelt", "https://api.gdeltproject.org", 5.0, environ={})
    assert (default.base_url, default.min_interval) == ("https://api.gdeltproject.org", 5.0)
    assert default.max_wait_seconds() <= 300  # a dead source gives up within minutes


def test_key_ignores_base_and_param_order():
    a = canonical_request("/p", {"b": "2", "a": "x y"})
    assert a == "/p?a=x%20y&b=2"
    assert request_key("GET", "/p", {"b": "2", "a": "x y"}) == request_key(
        "get", "/p", {"a": "x y", "b": "2"}
    )


def test_store_file_layout_and_roundtrip(tmp_path):
    store = SnapshotStore(tmp_path)
    file = store.write(
        "demo",
        "GET",
        "/x",
        {"q": "1"},
        status=200,
        content_type="application/json",
        body='{"a":1}',
        retrieved_at="2026-01-01T00:00:00Z",
        synthetic=True,
        note="n",
    )
    key = request_key("GET", "/x", {"q": "1"})
    assert file == tmp_path / "demo" / f"{key[:20]}.json.gz"
    entry = json.loads(gzip.decompress(file.read_bytes()))
    assert entry["request"] == {"method": "GET", "path": "/x", "params": {"q": "1"}}
    assert entry["response"]["body"] == '{"a":1}'
    assert entry["synthetic"] is True and entry["note"] == "n"
    assert store.read("demo", "GET", "/x", {"q": "1"})["retrieved_at"] == "2026-01-01T00:00:00Z"
    assert store.read("demo", "GET", "/x", {"q": "2"}) is None


def test_pacer_keeps_interval():
    now = [100.0]
    slept = []

    def sleep(seconds):
        slept.append(seconds)
        now[0] += seconds

    pacer = Pacer(5.0, clock=lambda: now[0], sleep=sleep)
    pacer.wait()
    now[0] += 1.0
    pacer.wait()
    assert slept == [pytest.approx(4.0)]


def test_retry_backs_off_from_first_retry_and_caps_retry_after():
    retry = PoliteRetry(total=5, backoff_factor=5, backoff_max=60, retry_after_max=60)
    retry = retry.increment(method="GET", url="/x")
    assert retry.get_backoff_time() == 5.0  # urllib3's own Retry would retry at once
    assert retry.parse_retry_after("3600") == 60


@responses.activate
def test_user_agent_and_live_record(tmp_path):
    responses.get(f"{WB}/v2/country/FRA/indicator/SP.POP.TOTL", body="[{}, null]")
    client = WorldBankClient(fast(WorldBankClient), mode="record", store=SnapshotStore(tmp_path))
    recorded = client.page(["FRA"], "SP.POP.TOTL", 2015, 2020)
    assert responses.calls[0].request.headers["User-Agent"] == USER_AGENT
    assert "data@city-influence-index.org" in USER_AGENT
    assert recorded.url.startswith(f"{WB}/v2/country/FRA/indicator/SP.POP.TOTL?date=2015%3A2020")

    # Snapshot mode reads the recorded response back, even under a mirror base URL.
    mirror = fast(WorldBankClient, base_url="http://mirror.local")
    replay = WorldBankClient(mirror, mode="snapshot", store=SnapshotStore(tmp_path))
    again = replay.page(["FRA"], "SP.POP.TOTL", 2015, 2020)
    assert again.body == recorded.body and again.sha256 == recorded.sha256
    assert again.request_key == recorded.request_key
    assert again.url.startswith("http://mirror.local/v2/")
    assert len(responses.calls) == 1


def test_snapshot_missing_names_url_and_command(tmp_path):
    client = WorldBankClient(fast(WorldBankClient), mode="snapshot", store=SnapshotStore(tmp_path))
    with pytest.raises(SnapshotMissing) as info:
        client.page(["FRA"], "SP.POP.TOTL", 2015, 2020)
    message = str(info.value)
    assert f"{WB}/v2/country/FRA/indicator/SP.POP.TOTL?" in message
    assert "CITY_INDEX_MODE=record city-index ingest --year" in message
    assert "--source worldbank" in message


@responses.activate
def test_source_that_keeps_failing_raises_source_error_quickly():
    responses.get(f"{WB}/v2/country/FRA/indicator/SP.POP.TOTL", status=503, body="busy")
    client = WorldBankClient(fast(WorldBankClient, retries=2), mode="live")
    started = time.monotonic()
    with pytest.raises(SourceError) as info:
        client.page(["FRA"], "SP.POP.TOTL", 2015, 2020)
    assert time.monotonic() - started < 5
    assert info.value.status == 503
    assert info.value.url.startswith(f"{WB}/v2/country/FRA/")
    assert "503" in str(info.value) and WB in str(info.value)
    assert len(responses.calls) == 3  # first try + 2 retries


@responses.activate
def test_connection_error_becomes_source_error():
    responses.get(
        "https://api.gdeltproject.org/api/v2/doc/doc",
        body=requests.ConnectionError("no route to host"),
    )
    client = GdeltClient(fast(GdeltClient), mode="live")
    with pytest.raises(SourceError) as info:
        client.get("/api/v2/doc/doc", {"query": "x"})
    assert info.value.status is None
    assert "no route to host" in str(info.value)
