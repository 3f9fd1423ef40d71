"""Official-account followers (Bluesky, Mastodon) and the key-gated X counts."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
import responses

from pipelines.registry import RegistryError, _check_social, load_cities
from pipelines.sources.http import SourceError
from pipelines.sources.social import client as social
from pipelines.sources.social import fetch_social
from pipelines.sources.social.client import BlueskyClient, MastodonClient

BSKY = "https://public.api.bsky.app/xrpc/app.bsky.actor.getProfile"
MASTODON = "https://social.example.org/api/v1/accounts/lookup"
THIS_YEAR = datetime.now(UTC).year
NO_KEYS: dict[str, str] = {}


def fast(cls, **kwargs):
    config = cls.default_config().with_overrides(
        min_interval=0.0, backoff_factor=0.0, retry_after_max=0, retries=2
    )
    return cls(config, mode=kwargs.pop("mode", "live"), **kwargs)


def cities(*rows: tuple[str, str, str]) -> pl.DataFrame:
    """Temporary registry rows (id, bluesky_handle, mastodon_account); test-only handles."""
    keys = ("id", "bluesky_handle", "mastodon_account")
    return pl.DataFrame([dict(zip(keys, row, strict=True)) for row in rows])


def profile(followers: int) -> dict:
    """app.bsky.actor.getProfile (profileViewDetailed), trimmed."""
    return {
        "did": "did:plc:abcdefghijklmnopqrstuvwx",
        "handle": "city.example.org",
        "displayName": "Example City",
        "followersCount": followers,
        "followsCount": 12,
        "postsCount": 340,
        "indexedAt": "2024-05-01T10:00:00.000Z",
        "createdAt": "2023-11-20T08:00:00.000Z",
    }


def account(followers: int) -> dict:
    """Mastodon Account entity, trimmed."""
    return {
        "id": "109348572937423",
        "username": "city",
        "acct": "city",
        "display_name": "Example City",
        "locked": False,
        "bot": False,
        "created_at": "2022-11-14T00:00:00.000Z",
        "followers_count": followers,
        "following_count": 30,
        "statuses_count": 800,
        "url": "https://social.example.org/@city",
    }


def run(registry: pl.DataFrame, year: int = THIS_YEAR):
    return fetch_social(
        registry,
        year,
        fast(BlueskyClient),
        mastodon=fast(MastodonClient),
        environ=NO_KEYS,
    )


@responses.activate
def test_followers_from_both_platforms():
    responses.get(BSKY, json=profile(15320))
    responses.get(MASTODON, json=account(2210))
    batch = run(cities(("a", "city.example.org", "city@social.example.org"), ("b", "", "")))
    table = batch.tables["social_followers"].sort("platform")
    assert table.select("city_id", "platform", "account", "followers").rows() == [
        ("a", "bluesky", "city.example.org", 15320),
        ("a", "mastodon", "city@social.example.org", 2210),
    ]
    assert table["observed_at"].str.starts_with(str(THIS_YEAR)).all()
    assert responses.calls[0].request.url == BSKY + "?actor=city.example.org"
    assert responses.calls[1].request.url == MASTODON + "?acct=city%40social.example.org"
    assert any("1 cities list no official account" in issue for issue in batch.issues)


@responses.activate
def test_missing_accounts_are_missing_not_zero():
    responses.get(
        BSKY, json={"error": "InvalidRequest", "message": "Profile not found"}, status=400
    )
    responses.get(BSKY, json={"error": "NotFound"}, status=404)
    responses.get(MASTODON, json={"error": "Record not found"}, status=404)
    registry = cities(
        ("a", "gone.example.org", "gone@social.example.org"), ("b", "old.example.org", "")
    )
    batch = run(registry)
    assert batch.tables["social_followers"].is_empty()
    assert len(batch.responses) == 3  # the answers are still kept (raw.api_responses)
    assert sum("followers missing" in issue for issue in batch.issues) >= 3


@responses.activate
def test_other_bluesky_errors_raise_with_url_and_status():
    responses.get(
        BSKY,
        json={"error": "InvalidRequest", "message": "Error: actor must be a valid did or a handle"},
        status=400,
    )
    with pytest.raises(SourceError) as error:
        run(cities(("a", "x.example.org", "")))
    assert error.value.status == 400 and "app.bsky.actor.getProfile" in str(error.value)


@responses.activate
def test_a_current_snapshot_never_describes_an_old_year():
    responses.get(BSKY, json=profile(10))
    batch = run(cities(("a", "city.example.org", "")), year=THIS_YEAR - 3)
    assert batch.tables["social_followers"].is_empty()
    assert any("cannot describe" in issue for issue in batch.issues)
    assert social.describes_year("2026-02-10T00:00:00Z", 2025)
    assert not social.describes_year("2026-06-10T00:00:00Z", 2025)


def test_absent_key_skips_x_with_a_log_line(caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.INFO, logger="pipelines.sources.social.client")
    batch = fetch_social(cities(("a", "", "")), 2025, environ=NO_KEYS)
    assert "x: X_BEARER_TOKEN not set" in caplog.text
    assert any("X_BEARER_TOKEN not set" in issue for issue in batch.issues)
    assert batch.responses == [] and batch.tables["social_followers"].is_empty()


def test_snapshot_mode_real_registry_city_has_no_handle_so_followers_are_missing():
    registry = load_cities().filter(pl.col("id") == "paris")
    batch = fetch_social(registry, 2025, BlueskyClient(mode="snapshot"), environ=NO_KEYS)
    assert batch.responses == []  # no handle: nothing asked, nothing invented
    assert batch.tables["social_followers"].is_empty()
    assert any("no official account" in issue for issue in batch.issues)


def test_registry_checks_handle_formats():
    good = {"bluesky_handle": "city.example.org", "mastodon_account": "city@social.example.org"}
    _check_social(Path("cities.csv"), 2, good)
    with pytest.raises(RegistryError, match="mastodon_account"):
        _check_social(Path("cities.csv"), 2, {"mastodon_account": "@city"})
    with pytest.raises(RegistryError, match="bluesky_handle"):
        _check_social(Path("cities.csv"), 2, {"bluesky_handle": "@city"})
    with pytest.raises(RegistryError, match="social_query"):
        _check_social(Path("cities.csv"), 2, {"social_query": 'Paris|"x"'})


@responses.activate
def test_follower_snapshot_lands_with_its_timestamp(tmp_path: Path):
    import duckdb

    from pipelines.ingest.landing import land_batch

    responses.get(BSKY, json=profile(321))
    batch = run(cities(("a", "city.example.org", "")))
    con = duckdb.connect()
    land_batch(con, batch, tmp_path / "landing")
    land_batch(con, batch, tmp_path / "landing")  # idempotent per year
    rows = con.execute("select city_id, followers, year(observed_at) from raw.social_followers")
    assert rows.fetchall() == [("a", 321, THIS_YEAR)]
