"""Shared client behaviour: modes, config, snapshot keys and files, the HTTP policy (retries,
pacing, Retry-After, the deadline, secrets) and resumed record runs."""

from __future__ import annotations

import gzip
import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import polars as pl
import pytest
import requests
import responses

from pipelines.registry import load_cities
from pipelines.sources.events import RequestEvent, listening
from pipelines.sources.gdelt.client import GdeltClient
from pipelines.sources.hackernews import fetch_hackernews
from pipelines.sources.hackernews.client import HackerNewsClient
from pipelines.sources.http import (
    RESUME_ENV,
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
    scrub,
)
from pipelines.sources.stackexchange.client import StackExchangeClient
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
    assert default.deadline == 180.0
    timed = SourceConfig.from_env("gdelt", "x", 5.0, environ={"CITY_INDEX_GDELT_DEADLINE": "2.5"})
    assert timed.deadline == 2.5


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


@responses.activate
def test_retry_after_is_waited_then_the_request_succeeds():
    responses.get(
        f"{WB}/v2/country/FRA/indicator/SP.POP.TOTL", status=503, headers={"Retry-After": "7"}
    )
    responses.get(f"{WB}/v2/country/FRA/indicator/SP.POP.TOTL", body="[{}, null]")
    slept: list[float] = []
    client = WorldBankClient(
        fast(WorldBankClient, retry_after_max=60), mode="live", sleep=slept.append
    )
    assert client.page(["FRA"], "SP.POP.TOTL", 2015, 2020).status == 200
    assert slept == [7.0]


# A server that accepts connections and never answers -----------------------------------------
@pytest.fixture
def hanging_server() -> Iterator[tuple[str, list[socket.socket]]]:
    """A real local socket that accepts every connection and never sends a byte."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.05)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}", accepted
    stop.set()
    thread.join()
    for connection in accepted:
        connection.close()
    listener.close()


def test_a_hanging_api_ends_the_whole_source_within_its_deadline(hanging_server, monkeypatch):
    base, accepted = hanging_server
    monkeypatch.setenv("CITY_INDEX_HACKERNEWS_URL", base)
    monkeypatch.setenv("CITY_INDEX_HACKERNEWS_DEADLINE", "1")
    # Without the deadline this would wait 60 s per attempt, 5 attempts.
    config = HackerNewsClient.default_config(read_timeout=60.0, retries=4, backoff_factor=0.1)
    client = HackerNewsClient(config.with_overrides(min_interval=0.0), mode="live")
    cities = pl.DataFrame(
        [
            {"id": c, "name_en": c.title(), "social_query": "", "social_exclude": ""}
            for c in ("paris", "rome", "oslo")
        ]
    )
    started = time.monotonic()
    with pytest.raises(SourceError) as info:
        fetch_hackernews(cities, 2024, client)
    elapsed = time.monotonic() - started
    assert elapsed < 20  # the bound the deadline gives, far below 5 x 60 s
    assert info.value.url.startswith(f"{base}/api/v1/search?")
    assert "no answer within 1 s" in str(info.value)
    assert accepted  # the server did accept: it is the answer that never came


# Resumed record runs ---------------------------------------------------------------------------
SHIPPED = SnapshotStore()


class Killed(Exception):
    """Stands for the process being killed in the middle of a record run."""


class ReplaySession(requests.Session):
    """Answers every GET from the shipped snapshot store, as the API would, and counts what was
    sent; after ``die_after`` requests it 'kills the run'."""

    def __init__(self, source: str, base: str, die_after: int | None = None) -> None:
        super().__init__()
        self.source, self.base, self.die_after = source, base, die_after
        self.sent: list[str] = []

    def get(self, url, **kwargs):  # noqa: ANN001 - requests' signature
        if self.die_after is not None and len(self.sent) >= self.die_after:
            raise Killed(f"killed after {len(self.sent)} requests")
        self.sent.append(url)
        parts = urlsplit(url)
        path = parts.path[len(urlsplit(self.base).path) :]
        entry = SHIPPED.read(self.source, "GET", path, dict(parse_qsl(parts.query)))
        assert entry is not None, url
        answer = requests.Response()
        answer.status_code = entry["response"]["status"]
        answer._content = entry["response"]["body"].encode("utf-8")
        answer.headers["Content-Type"] = entry["response"]["content_type"]
        answer.url = url
        return answer


def record_client(store: SnapshotStore, session: ReplaySession) -> HackerNewsClient:
    config = fast(HackerNewsClient)
    return HackerNewsClient(config, mode="record", store=store, session=session)


def test_a_killed_record_run_resumes_without_asking_again(tmp_path, monkeypatch):
    monkeypatch.delenv(RESUME_ENV, raising=False)
    store = SnapshotStore(tmp_path)
    cities = load_cities().head(4)  # registry cities: the shipped store answers them
    base = HackerNewsClient.BASE_URL
    first = ReplaySession("hackernews", base, die_after=2)
    with pytest.raises(Killed):
        fetch_hackernews(cities, 2024, record_client(store, first))
    assert len(first.sent) == 2
    assert len(list((tmp_path / "hackernews").glob("*.json.gz"))) == 2  # stored as they came

    again = ReplaySession("hackernews", base)
    events: list[RequestEvent] = []
    with listening(events.append):
        batch = fetch_hackernews(cities, 2024, record_client(store, again))
    total = len(events)
    assert total >= 4 and len(again.sent) == total - 2  # only the remaining requests were sent
    assert not set(again.sent) & set(first.sent)
    assert [e.origin for e in events] == ["store"] * 2 + ["network"] * (total - 2)
    assert batch.tables["hackernews_mentions"].height == total

    # CITY_INDEX_RECORD_RESUME=0 asks everything again; synthetic answers are never reused.
    monkeypatch.setenv(RESUME_ENV, "0")
    fresh = ReplaySession("hackernews", base)
    fetch_hackernews(cities, 2024, record_client(store, fresh))
    assert len(fresh.sent) == total
    monkeypatch.delenv(RESUME_ENV)
    labelled = SnapshotStore(tmp_path / "labelled")
    path, params = _first_request(cities)
    shipped = SHIPPED.read("hackernews", "GET", path, params)
    assert shipped["synthetic"] is True
    labelled.write(
        "hackernews",
        "GET",
        path,
        params,
        status=shipped["response"]["status"],
        content_type=shipped["response"]["content_type"],
        body=shipped["response"]["body"],
        retrieved_at=shipped["retrieved_at"],
        synthetic=True,
    )
    asked = ReplaySession("hackernews", base)
    fetch_hackernews(cities, 2024, record_client(labelled, asked))
    assert len(asked.sent) == total  # a synthetic answer is never taken for a recorded one


def _first_request(cities: pl.DataFrame) -> tuple[str, dict[str, str]]:
    from pipelines.sources.hackernews.client import build_query, search_request
    from pipelines.sources.spec import social_terms

    variants, excluded = social_terms(cities.row(0, named=True))
    return search_request(build_query(variants[0], excluded), 2024)


# Secrets ---------------------------------------------------------------------------------------
def test_scrub_masks_raw_and_encoded_secrets():
    text = "GET /q?key=a%2Fb+c&x=1 failed; Bearer a/b c"
    assert scrub(text, ["a/b c"]) == "GET /q?key=***&x=1 failed; Bearer ***"


class _Answers(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        body = b'{"items": [{"filter": "!written-by-us"}], "total": 1, "quota_max": 10000}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:  # keep the test output clean
        pass


def test_the_key_never_reaches_the_http_logs(caplog):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answers)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        config = fast(StackExchangeClient, base_url=base)
        client = StackExchangeClient(config, mode="live", key="k3y-(secret)")
        caplog.set_level(logging.DEBUG)
        client.count('"Oslo"', "travel", 2024)
    finally:
        server.shutdown()
        thread.join()
    assert "/2.3/search/advanced" in caplog.text  # urllib3 did log the request line
    assert "k3y" not in caplog.text and "key=***" in caplog.text


def test_an_unreachable_api_is_named_by_its_cause_and_its_url_once() -> None:
    """A refused connection (a real local port nobody listens on) fails with the innermost
    cause in a few words, not urllib3's message repeating the URL (which cut the cause off)."""
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]  # closed again when the block ends: nobody listens
    config = HackerNewsClient.default_config(retries=1, backoff_factor=0.01).with_overrides(
        base_url=f"http://127.0.0.1:{port}", min_interval=0.0
    )
    client = HackerNewsClient(config, "live")
    with pytest.raises(SourceError) as info:
        client.get("/api/v1/search", {"query": '"Xi\'an"', "tags": "story"})
    message = str(info.value)
    assert "unreachable after" in message and "1 retries" in message
    assert "connection refused" in message.lower()
    assert message.count(f"127.0.0.1:{port}") == 1, message
    assert "Max retries exceeded" not in message and "ConnectionPool" not in message, message
