"""Official-account follower counts (Bluesky, Mastodon) and the opt-in, key-gated X counts.

Follower counts have no history: each run takes a snapshot (``observed_at`` = the response's
retrieval time), and a snapshot describes partition year Y only when it was taken during Y or in
the first quarter of Y+1 (when the edition of Y is built). Only handles listed in the registry
(``bluesky_handle``, ``mastodon_account``) are asked; a city without one, an account that does
not exist (Bluesky 400 "Profile not found" or 404, Mastodon 404/410) or a server that refuses
anonymous lookups (401) is **missing**, never zero.

- Bluesky: ``GET {base}/app.bsky.actor.getProfile?actor=<handle>`` on the public AppView
  (``https://public.api.bsky.app/xrpc``), keyless; ``followersCount``.
- Mastodon: ``GET https://<server>/api/v1/accounts/lookup?acct=<user>@<server>`` on the
  account's own server (``CITY_INDEX_MASTODON_URL`` overrides the server for every account, e.g.
  a test mirror); ``followers_count``.
- X (``X_BEARER_TOKEN``, paid): full-archive post counts per city-year (``social/x.py``,
  landed as ``raw.x_post_counts`` by ``fetch_social``); without the token, skipped with a log
  line and nothing landed.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

import polars as pl

from pipelines.sources.http import (
    RecordedResponse,
    SourceClient,
    SourceError,
    canonical_request,
    decode_json,
)
from pipelines.sources.social.tables import FOLLOWERS

logger = logging.getLogger(__name__)

X_TOKEN_ENV = "X_BEARER_TOKEN"

# observed_at travels as ISO 8601 UTC text; landing casts it to the declared TIMESTAMP.
FOLLOWER_SCHEMA = {**FOLLOWERS.polars_schema(), "observed_at": pl.String}


class AccountMissing(LookupError):
    """The platform says the account does not exist (or cannot be read): missing data."""


def describes_year(observed_at: str, year: int) -> bool:
    """A current snapshot stands for ``year`` if taken in that year or in Q1 of the next."""
    observed = datetime.fromisoformat(observed_at.replace("Z", "+00:00"))
    return observed.year == year or (observed.year == year + 1 and observed.month <= 3)


# --- Bluesky ----------------------------------------------------------------------------------
BLUESKY_PATH = "/app.bsky.actor.getProfile"
#: XRPC error names that mean "no such (readable) account".
BLUESKY_MISSING_ERRORS = frozenset({"AccountDeactivated", "AccountTakedown", "NotFound"})


def bluesky_request(handle: str) -> tuple[str, dict[str, str]]:
    return BLUESKY_PATH, {"actor": handle.strip().lstrip("@").lower()}


def parse_bluesky(response: RecordedResponse) -> int:
    """``followersCount``; raises :class:`AccountMissing` for an unknown account."""
    if response.status == 404:
        raise AccountMissing(f"bluesky {response.params.get('actor')}: 404")
    data = decode_json(response)
    if response.status == 400:
        error = str(data.get("error", "")) if isinstance(data, dict) else ""
        message = str(data.get("message", "")) if isinstance(data, dict) else ""
        if error in BLUESKY_MISSING_ERRORS or "not found" in message.lower():
            raise AccountMissing(f"bluesky {response.params.get('actor')}: {error} {message}")
        raise SourceError(response.source, response.url, 400, f"{error}: {message}")
    if not isinstance(data, dict) or not isinstance(data.get("followersCount"), int):
        raise SourceError(response.source, response.url, response.status, "no followersCount")
    return int(data["followersCount"])


class BlueskyClient(SourceClient):
    """Public Bluesky AppView (keyless; 3,000 requests / 5 min per IP)."""

    NAME: ClassVar[str] = "bluesky"
    BASE_URL: ClassVar[str] = "https://public.api.bsky.app/xrpc"
    MIN_INTERVAL: ClassVar[float] = 0.5
    ACCEPT_STATUSES: ClassVar[frozenset[int]] = frozenset({200, 400, 404})

    def profile(self, handle: str) -> RecordedResponse:
        path, params = bluesky_request(handle)
        return self.get(path, params)


# --- Mastodon ---------------------------------------------------------------------------------
MASTODON_PATH = "/api/v1/accounts/lookup"


def mastodon_request(account: str) -> tuple[str, dict[str, str]]:
    """``user@server`` -> the lookup on the account's own server (acct keeps the server, so the
    snapshot key differs per server)."""
    user, _, server = account.strip().lstrip("@").partition("@")
    if not user or not server:
        raise ValueError(f"mastodon account {account!r} is not of the form user@server")
    return MASTODON_PATH, {"acct": f"{user}@{server.lower()}"}


def parse_mastodon(response: RecordedResponse) -> int:
    """``followers_count``; 404/410 (unknown, gone) and 401 (no anonymous lookup) are missing."""
    if response.status in (401, 404, 410):
        raise AccountMissing(f"mastodon {response.params.get('acct')}: {response.status}")
    data = decode_json(response)
    if not isinstance(data, dict) or not isinstance(data.get("followers_count"), int):
        raise SourceError(response.source, response.url, response.status, "no followers_count")
    return int(data["followers_count"])


class MastodonClient(SourceClient):
    """Mastodon REST API of each account's own server (keyless; 300 requests / 5 min per IP)."""

    NAME: ClassVar[str] = "mastodon"
    BASE_URL: ClassVar[str] = ""  # the account's server, unless CITY_INDEX_MASTODON_URL is set
    MIN_INTERVAL: ClassVar[float] = 1.0
    ACCEPT_STATUSES: ClassVar[frozenset[int]] = frozenset({200, 401, 404, 410})

    def url_for(self, path: str, params: Mapping[str, Any] | None) -> str:
        base = self.config.base_url
        if not base:
            server = str((params or {}).get("acct", "")).rpartition("@")[2]
            base = f"https://{server}"
        return base + canonical_request(path, params)

    def lookup(self, account: str) -> RecordedResponse:
        path, params = mastodon_request(account)
        return self.get(path, params)


def follower_row(
    response: RecordedResponse, city_id: str, platform: str, account: str, followers: int
) -> dict[str, Any]:
    return {
        "city_id": city_id,
        "platform": platform,
        "account": account,
        "followers": followers,
        "observed_at": response.retrieved_at,
        "response_sha256": response.sha256,
    }


def optional_platform_notes(environ: Mapping[str, str] | None = None) -> list[str]:
    """Log (and return) one line per key-gated platform saying why it was skipped."""
    env = os.environ if environ is None else environ
    notes = []
    if not env.get(X_TOKEN_ENV):
        notes.append(f"x: {X_TOKEN_ENV} not set; X post counts skipped (paid, opt-in)")
    else:
        notes.append(
            f"x: {X_TOKEN_ENV} set; fetching X full-archive post counts (paid, opt-in; yearly "
            "totals only)"
        )
    for note in notes:
        logger.info(note)
    return notes
