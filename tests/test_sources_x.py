"""X API v2 full-archive counts (opt-in, paid): pagination, token handling, errors, landing."""

from __future__ import annotations

import gzip
import logging
from pathlib import Path

import duckdb
import polars as pl
import pytest
import responses
from responses import matchers

from pipelines.ingest.landing import land_batch
from pipelines.sources.http import SnapshotStore, SourceConfig, SourceError
from pipelines.sources.social import fetch_social
from pipelines.sources.social import x as xapi
from pipelines.sources.social.x import XClient

COUNTS = "https://api.x.com/2/tweets/counts/all"
TOKEN = "AAAAAAAAAAAAAAAAAAAAAtest-bearer-token-0123456789"
WITH_TOKEN = {"X_BEARER_TOKEN": TOKEN}
YEAR = 2024
START, END = "2024-01-01T00:00:00Z", "2025-01-01T00:00:00Z"


def fast(mode: str = "live", token: str = TOKEN, **overrides) -> XClient:
    """No pacing, no real sleeping (waits are recorded in ``client.slept``)."""
    store = overrides.pop("store", None)
    settings = {"backoff_factor": 0.0, "retry_after_max": 0.01, "retries": 2, **overrides}
    config = SourceConfig.from_env("x", XClient.BASE_URL, 0.0, environ={}, **settings)
    slept: list[float] = []
    client = XClient(config, mode=mode, token=token, sleep=slept.append, store=store)
    client.slept = slept  # type: ignore[attr-defined]
    client.wall_clock = lambda: 1_700_000_000.0
    client.clock = lambda: 1000.0  # the monotonic clock of pacing and waits
    return client


def cities(*rows: tuple[str, str, str, str]) -> pl.DataFrame:
    """Registry rows (id, name_en, social_query, social_exclude) without follower handles."""
    keys = ("id", "name_en", "social_query", "social_exclude")
    frame = pl.DataFrame([dict(zip(keys, row, strict=True)) for row in rows])
    return frame.with_columns(bluesky_handle=pl.lit(""), mastodon_account=pl.lit(""))


def page(counts: list[int], next_token: str | None = None, month: int = 1) -> dict:
    """A counts/all answer: one bucket per day, meta.total_tweet_count = their sum."""
    data = [
        {
            "end": f"2024-{month:02d}-{day + 2:02d}T00:00:00.000Z",
            "start": f"2024-{month:02d}-{day + 1:02d}T00:00:00.000Z",
            "tweet_count": n,
        }
        for day, n in enumerate(counts)
    ]
    meta: dict = {"total_tweet_count": sum(counts)}
    if next_token:
        meta["next_token"] = next_token
    return {"data": data, "meta": meta}


def params(query: str, next_token: str | None = None) -> dict[str, str]:
    out = {"query": query, "start_time": START, "end_time": END, "granularity": "day"}
    if next_token:
        out["next_token"] = next_token
    return out


PARIS = '"Paris" -Hilton -is:retweet'


def two_pages() -> None:
    responses.get(
        COUNTS,
        json=page([120, 80, 100], next_token="b26v89c19zqg8o3fpds"),
        match=[matchers.query_param_matcher(params(PARIS))],
    )
    responses.get(
        COUNTS,
        json=page([50, 25], month=2),
        match=[matchers.query_param_matcher(params(PARIS, "b26v89c19zqg8o3fpds"))],
    )


def test_query_from_registry_terms():
    assert xapi.build_query(["Paris"], ["Hilton"]) == PARIS
    assert xapi.build_query(["Mumbai", "Bombay"], []) == '("Mumbai" OR "Bombay") -is:retweet'
    assert xapi.build_query(["New York"], ["Times", "New Jersey"]) == (
        '"New York" -Times -"New Jersey" -is:retweet'
    )
    assert xapi.counts_request(PARIS, YEAR)[1] == params(PARIS)


@responses.activate
def test_two_pages_are_summed_into_one_yearly_total(tmp_path: Path):
    two_pages()
    registry = cities(("paris", "Paris", "", "Hilton"))
    batch = fetch_social(registry, YEAR, x=fast(), environ=WITH_TOKEN)
    table = batch.tables["x_post_counts"]
    assert table.select("city_id", "period_year", "query", "total").rows() == [
        ("paris", YEAR, PARIS, 375)
    ]
    assert table["response_sha256"][0] == batch.responses[0].sha256
    assert [r.source for r in batch.responses] == ["x", "x"]
    assert all(c.request.headers["Authorization"] == f"Bearer {TOKEN}" for c in responses.calls)

    con = duckdb.connect()
    land_batch(con, batch, tmp_path / "landing")
    counts = land_batch(con, batch, tmp_path / "landing")  # idempotent per year
    assert counts == {"social_followers": 0, "x_post_counts": 1, "api_responses": 2}
    rows = con.execute("select city_id, period_year, total, year from raw.x_post_counts")
    assert rows.fetchall() == [("paris", YEAR, 375, YEAR)]
    assert con.execute("select count(*) from raw.api_responses").fetchone() == (2,)


@responses.activate
def test_absent_token_skips_x_and_lands_nothing(tmp_path: Path, caplog):
    caplog.set_level(logging.INFO, logger="pipelines.sources.social.client")
    registry = cities(("paris", "Paris", "", "Hilton"))
    client = fast()
    batch = fetch_social(registry, YEAR, x=client, environ={})
    assert "x: X_BEARER_TOKEN not set; X post counts skipped" in caplog.text
    assert "x_post_counts" not in batch.tables and batch.responses == []
    assert len(responses.calls) == 0

    con = duckdb.connect()
    counts = land_batch(con, batch, tmp_path / "landing")
    assert counts == {"social_followers": 0, "api_responses": 0}
    assert con.execute("select count(*) from raw.x_post_counts").fetchone() == (0,)

    # counts landed earlier with the token are kept (missing now, not zero)
    two_pages()
    land_batch(con, fetch_social(registry, YEAR, x=client, environ=WITH_TOKEN), tmp_path / "l")
    land_batch(con, batch, tmp_path / "landing")
    assert con.execute("select total from raw.x_post_counts").fetchall() == [(375,)]
    sources = con.execute("select source, count(*) from raw.api_responses group by 1")
    assert sources.fetchall() == [("x", 2)]


@responses.activate
@pytest.mark.parametrize(
    ("status", "body"),
    [
        (
            401,
            {
                "title": "Unauthorized",
                "type": "about:blank",
                "status": 401,
                "detail": "Unauthorized",
            },
        ),
        (
            403,
            {
                "title": "Client Forbidden",
                "detail": "This request must be made using an approved developer account that "
                "is enrolled in the requested endpoint.",
                "reason": "client-not-enrolled",
                "type": "https://api.twitter.com/2/problems/client-forbidden",
            },
        ),
    ],
)
def test_no_access_raises_naming_url_and_status(status: int, body: dict):
    responses.get(COUNTS, json=body, status=status)
    client = fast()
    with pytest.raises(SourceError) as error:
        client.year_counts(PARIS, YEAR)
    assert error.value.status == status
    assert error.value.url.startswith(COUNTS + "?")
    assert "Pro/Enterprise" in str(error.value) and f"status {status}" in str(error.value)
    assert TOKEN not in str(error.value)
    assert len(responses.calls) == 1  # never retried


@responses.activate
def test_rate_limit_waits_for_reset_then_succeeds():
    reset = 1_700_000_030  # wall clock is 1_700_000_000: 31 s to wait, bounded by config
    responses.get(
        COUNTS,
        json={"title": "Too Many Requests", "detail": "Too Many Requests", "status": 429},
        status=429,
        headers={"x-rate-limit-reset": str(reset), "x-rate-limit-remaining": "0"},
    )
    responses.get(COUNTS, json=page([7, 3]))
    client = fast(retry_after_max=0.01)
    pages = client.year_counts(PARIS, YEAR)
    assert [xapi.parse_page(p).total for p in pages] == [10]
    assert client.slept == [0.01]  # tiny bound from the config
    assert len(responses.calls) == 2

    responses.reset()
    responses.get(COUNTS, status=429, headers={"x-rate-limit-reset": str(reset)})
    responses.get(COUNTS, json=page([7, 3]))
    patient = fast(retry_after_max=900)
    patient.year_counts(PARIS, YEAR)
    assert patient.slept == [31.0]  # reset - now + 1 s


@responses.activate
def test_rate_limit_that_persists_raises():
    responses.get(COUNTS, status=429, headers={"x-rate-limit-reset": "1700000005"})
    with pytest.raises(SourceError, match="still rate limited") as error:
        fast(retries=1).year_counts(PARIS, YEAR)
    assert error.value.status == 429 and COUNTS in error.value.url


@responses.activate
def test_errors_body_raises_with_the_api_message():
    responses.get(
        COUNTS,
        json={
            "errors": [
                {
                    "parameters": {"query": ['"Paris" -']},
                    "message": "There were errors processing your request: Ambiguous use of -",
                }
            ],
            "title": "Invalid Request",
            "detail": "One or more parameters to your request was invalid.",
            "type": "https://api.twitter.com/2/problems/invalid-request",
        },
        status=400,
    )
    with pytest.raises(SourceError, match="Ambiguous use of -") as error:
        fast().year_counts(PARIS, YEAR)
    assert error.value.status == 400
    responses.get(COUNTS, json={"errors": [{"message": "Service unavailable for query"}]})
    with pytest.raises(SourceError, match="Service unavailable"):
        fast().year_counts('"Lyon" -is:retweet', YEAR)


@responses.activate
def test_token_never_in_recorded_url_params_or_snapshot(tmp_path: Path):
    two_pages()
    store = SnapshotStore(tmp_path / "snapshots")
    pages = fast(mode="record", store=store).year_counts(PARIS, YEAR)
    assert "Authorization" not in responses.calls[0].request.url
    for response in pages:
        assert TOKEN not in response.url and TOKEN not in repr(response.params)
        assert set(response.params) <= {*params(PARIS, "t"), "next_token"}
    assert TOKEN not in repr(fast())
    files = sorted((tmp_path / "snapshots" / "x").glob("*.json.gz"))
    assert len(files) == 2
    assert all(TOKEN not in gzip.decompress(f.read_bytes()).decode() for f in files)

    # a team's own recordings replay offline (none are shipped in assets/snapshots)
    replayed = fast(mode="snapshot", token="", store=store).year_counts(PARIS, YEAR)
    assert [p.sha256 for p in replayed] == [p.sha256 for p in pages]


def test_snapshot_mode_without_recordings_skips_with_a_log_line(tmp_path: Path, caplog):
    caplog.set_level(logging.INFO, logger="pipelines.sources.social.x")
    client = fast(mode="snapshot", store=SnapshotStore(tmp_path))
    batch = fetch_social(cities(("paris", "Paris", "", "")), YEAR, x=client, environ=WITH_TOKEN)
    assert "x_post_counts" not in batch.tables and batch.responses == []
    assert "no recorded X responses" in caplog.text and TOKEN not in caplog.text
    assert any("none are shipped" in issue for issue in batch.issues)


def test_the_shipped_snapshot_has_no_x_responses():
    from pipelines.sources.http import DEFAULT_SNAPSHOT_ROOT

    assert not list((DEFAULT_SNAPSHOT_ROOT / "x").glob("*"))


def test_a_year_not_over_is_skipped():
    batch = fetch_social(cities(("paris", "Paris", "", "")), 2999, x=fast(), environ=WITH_TOKEN)
    assert "x_post_counts" not in batch.tables
    assert any("not over" in issue for issue in batch.issues)


@responses.activate
def test_an_exhausted_window_makes_the_next_request_wait():
    responses.get(
        COUNTS,
        json=page([1], next_token="p2"),
        headers={"x-rate-limit-remaining": "0", "x-rate-limit-reset": "1700000010"},
    )
    responses.get(COUNTS, json=page([2], month=2))
    client = fast(retry_after_max=900)
    pages = client.year_counts(PARIS, YEAR)
    assert sum(xapi.parse_page(p).total for p in pages) == 3
    assert client.slept == [11.0]
