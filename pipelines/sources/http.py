"""Shared HTTP behaviour for the source clients: modes, politeness, retries, snapshots.

Every source client goes through :class:`SourceClient.get`, so the three modes behave the same
for all APIs:

- ``snapshot`` (default): answer from the recorded responses in ``assets/snapshots``; never touch
  the network. A request that was never recorded raises :class:`SnapshotMissing`.
- ``live``: call the API (descriptive User-Agent, pacing, retries with back-off).
- ``record``: like ``live``, and every accepted response is written to the snapshot store.

Rate limiting uses a simple monotonic pacer (:class:`Pacer`), not requests-ratelimiter's
``LimiterSession``: every source here asks for "at most one request every N seconds, serially"
(GDELT: 5 s), which a pacer enforces exactly, with no burst allowance and no bucket state, and a
``min_interval`` of 0 turns it off for tests. Retries of 429/5xx are urllib3's ``Retry`` mounted
on the session (it honours ``Retry-After``), capped by :class:`SourceConfig` so that a source
that keeps failing gives up within a few minutes (see :meth:`SourceConfig.max_wait_seconds`).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import quote, urlencode

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from pipelines.settings import FIRST_YEAR as SETTINGS_FIRST_YEAR
from pipelines.settings import LATEST_COMPLETE_YEAR
from pipelines.sources.events import RequestEvent, notify

MODES = ("snapshot", "live", "record")
DEFAULT_MODE = "snapshot"
MODE_ENV = "CITY_INDEX_MODE"

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SNAPSHOT_ROOT = PROJECT_ROOT / "assets" / "snapshots"

USER_AGENT = (
    "city-influence-index/0.1 (+https://github.com/city-influence-index; "
    f"data@city-influence-index.org) python-requests/{requests.__version__}"
)

#: First and last year covered by one request: requests span all years, so that one recorded
#: response serves every yearly partition (and the snapshot keys do not depend on the partition).
FIRST_YEAR = SETTINGS_FIRST_YEAR
LAST_YEAR = LATEST_COMPLETE_YEAR

RETRY_STATUSES = (429, 500, 502, 503, 504)


def coverage_years(year: int) -> tuple[int, int]:
    """The years one multi-year request covers for partition ``year``."""
    return FIRST_YEAR, max(LAST_YEAR, year)


def utc_now_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def resolve_mode(mode: str | None = None) -> str:
    """An explicit mode wins over ``CITY_INDEX_MODE``; the default is the offline snapshot."""
    value = (mode or os.environ.get(MODE_ENV) or DEFAULT_MODE).strip().lower()
    if value not in MODES:
        raise ValueError(f"{MODE_ENV} must be one of {', '.join(MODES)}, not {value!r}")
    return value


@dataclass(frozen=True)
class SourceConfig:
    """Where a source lives and how politely to call it.

    The worst-case time spent waiting on one request is bounded by :meth:`max_wait_seconds`
    (plus the timeouts of each attempt), so a dead API fails within minutes, not hours.
    """

    name: str
    base_url: str
    min_interval: float
    connect_timeout: float = 10.0
    read_timeout: float = 90.0
    retries: int = 4
    backoff_factor: float = 5.0
    backoff_max: float = 60.0
    retry_after_max: float = 60.0

    @classmethod
    def from_env(
        cls,
        name: str,
        base_url: str,
        min_interval: float,
        environ: Mapping[str, str] | None = None,
        **overrides: Any,
    ) -> SourceConfig:
        """Defaults overridden by ``CITY_INDEX_<NAME>_URL`` / ``CITY_INDEX_<NAME>_MIN_INTERVAL``."""
        env = os.environ if environ is None else environ
        prefix = f"CITY_INDEX_{name.upper()}_"
        url = env.get(prefix + "URL") or base_url
        interval_text = env.get(prefix + "MIN_INTERVAL")
        interval = float(interval_text) if interval_text else min_interval
        return cls(name=name, base_url=url.rstrip("/"), min_interval=interval, **overrides)

    def with_overrides(self, **changes: Any) -> SourceConfig:
        return replace(self, **changes)

    @property
    def timeout(self) -> tuple[float, float]:
        return (self.connect_timeout, self.read_timeout)

    def max_wait_seconds(self) -> float:
        """Upper bound of the sleeping done by retries for one request."""
        return self.retries * max(self.backoff_max, self.retry_after_max)


class SourceError(RuntimeError):
    """A source failed for good (after retries), or answered with an error body."""

    def __init__(self, source: str, url: str, status: int | None, message: str) -> None:
        self.source = source
        self.url = url
        self.status = status
        self.message = message
        status_text = f" (status {status})" if status is not None else ""
        super().__init__(f"{source}: {message}{status_text} for {url}")


class SnapshotMissing(LookupError):
    """Snapshot mode was asked for a response that was never recorded."""

    def __init__(self, source: str, url: str, year: int | None = None) -> None:
        self.source = source
        self.url = url
        self.year = year
        year_text = str(year) if year is not None else "<YEAR>"
        super().__init__(
            f"No recorded {source} response for GET {url} in the snapshot store. "
            f"With internet, record it: CITY_INDEX_MODE=record city-index ingest "
            f"--year {year_text} --source {source}"
        )


@dataclass(frozen=True)
class RecordedResponse:
    """One response as received; ``sha256`` is of the UTF-8 body (the landing file's bytes)."""

    source: str
    request_key: str
    url: str
    params: dict[str, str]
    status: int
    content_type: str
    body: str
    retrieved_at: str
    sha256: str
    synthetic: bool = False

    def json(self) -> Any:
        return json.loads(self.body)


def decode_json(response: RecordedResponse) -> Any:
    """The response body as JSON, or a SourceError naming the URL, status and an excerpt."""
    try:
        return json.loads(response.body)
    except ValueError as exc:
        excerpt = " ".join(response.body.split())[:200]
        raise SourceError(
            response.source, response.url, response.status, f"invalid JSON: {excerpt!r}"
        ) from exc


def json_or_none(body: str) -> Any:
    """The body as JSON when it is JSON, else None: for answers that may be plain text."""
    try:
        return json.loads(body)
    except ValueError:
        return None


def body_sha256(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def canonical_request(path: str, params: Mapping[str, Any] | None) -> str:
    """Path plus sorted, percent-encoded query: the base URL is left out on purpose."""
    if not params:
        return path
    items = sorted((str(k), str(v)) for k, v in params.items())
    return f"{path}?{urlencode(items, quote_via=quote, safe='')}"


def request_key(method: str, path: str, params: Mapping[str, Any] | None) -> str:
    """Key of a request in the snapshot store: independent of the (mirror) base URL."""
    text = f"{method.upper()} {canonical_request(path, params)}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class SnapshotStore:
    """Recorded responses, one gzip JSON file per request under ``<root>/<source>/``."""

    def __init__(self, root: Path | str = DEFAULT_SNAPSHOT_ROOT) -> None:
        self.root = Path(root)

    def file_for(self, source: str, key: str) -> Path:
        return self.root / source / f"{key[:20]}.json.gz"

    def read(
        self, source: str, method: str, path: str, params: Mapping[str, Any] | None
    ) -> dict[str, Any] | None:
        file = self.file_for(source, request_key(method, path, params))
        if not file.exists():
            return None
        entry = json.loads(gzip.decompress(file.read_bytes()).decode("utf-8"))
        expected = canonical_request(path, params)
        recorded = canonical_request(entry["request"]["path"], entry["request"]["params"])
        if recorded != expected:  # a 20-hex-digit prefix collision: never silently mix answers
            raise ValueError(f"snapshot {file} holds {recorded}, not {expected}")
        return entry

    def write(
        self,
        source: str,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        *,
        status: int,
        content_type: str,
        body: str,
        retrieved_at: str,
        synthetic: bool,
        note: str = "",
    ) -> Path:
        """Write deterministically (sorted params, gzip mtime 0) so regenerating is a no-op."""
        entry = {
            "request": {
                "method": method.upper(),
                "path": path,
                "params": {str(k): str(v) for k, v in sorted((params or {}).items())},
            },
            "response": {"status": status, "content_type": content_type, "body": body},
            "retrieved_at": retrieved_at,
            "synthetic": synthetic,
            "note": note,
        }
        file = self.file_for(source, request_key(method, path, params))
        file.parent.mkdir(parents=True, exist_ok=True)
        data = json.dumps(entry, ensure_ascii=False, indent=None).encode("utf-8")
        file.write_bytes(gzip.compress(data, compresslevel=9, mtime=0))
        return file


class Pacer:
    """Keeps at least ``min_interval`` seconds between the starts of consecutive requests."""

    def __init__(
        self,
        min_interval: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.min_interval = min_interval
        self._clock = clock
        self._sleep = sleep
        self._last: float | None = None

    def wait(self) -> None:
        if self.min_interval > 0 and self._last is not None:
            remaining = self._last + self.min_interval - self._clock()
            if remaining > 0:
                self._sleep(remaining)
        self._last = self._clock()


class PoliteRetry(Retry):
    """urllib3 Retry that backs off from the first retry on (urllib3 retries at once)."""

    def get_backoff_time(self) -> float:
        errors = 0
        for item in reversed(self.history):
            if item.redirect_location is not None:
                break
            errors += 1
        if errors == 0:
            return 0.0
        return float(max(0.0, min(self.backoff_max, self.backoff_factor * 2 ** (errors - 1))))


def build_session(config: SourceConfig) -> requests.Session:
    """One session per source: User-Agent, and urllib3 retries on 429/5xx honouring Retry-After."""
    retry = PoliteRetry(
        total=config.retries,
        connect=config.retries,
        read=config.retries,
        status=config.retries,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=frozenset({"GET"}),
        backoff_factor=config.backoff_factor,
        backoff_max=config.backoff_max,
        retry_after_max=int(config.retry_after_max),
        respect_retry_after_header=True,
        raise_on_status=False,
    )
    session = requests.Session()
    session.headers.update({"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate"})
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


class SourceClient:
    """Base client: subclasses build paths and params, this class fetches or replays them."""

    #: Name, default API root and default pacing of the source (set by each subclass).
    NAME: ClassVar[str] = ""
    BASE_URL: ClassVar[str] = ""
    MIN_INTERVAL: ClassVar[float] = 1.0
    #: Statuses that are answers (e.g. Wikimedia's 404 "no data"), not failures.
    ACCEPT_STATUSES: ClassVar[frozenset[int]] = frozenset({200})

    def __init__(
        self,
        config: SourceConfig | None = None,
        mode: str | None = None,
        store: SnapshotStore | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.config = config or self.default_config()
        self.mode = resolve_mode(mode)
        self.store = store or SnapshotStore()
        self.session = session or build_session(self.config)
        self.sleep = sleep
        self._pacer = Pacer(self.config.min_interval, sleep=sleep)

    @classmethod
    def default_config(cls, **overrides: Any) -> SourceConfig:
        """The source's defaults, overridden by its environment variables."""
        return SourceConfig.from_env(cls.NAME, cls.BASE_URL, cls.MIN_INTERVAL, **overrides)

    @property
    def source(self) -> str:
        return self.config.name

    def url_for(self, path: str, params: Mapping[str, Any] | None) -> str:
        return self.config.base_url + canonical_request(path, params)

    # Hooks for source quirks -------------------------------------------------------------
    def is_throttled(self, status: int, content_type: str, body: str) -> bool:
        """A rate-limit answer that urllib3 cannot see (e.g. GDELT's throttle text with 200)."""
        return False

    def check(self, response: RecordedResponse) -> None:
        """Raise :class:`SourceError` for bodies that are errors whatever the status says."""

    # ------------------------------------------------------------------------------------
    def get(self, path: str, params: Mapping[str, Any] | None = None) -> RecordedResponse:
        """Fetch (or replay) ``GET path?params``; every mode returns the same record."""
        params = {str(k): str(v) for k, v in (params or {}).items()}
        url = self.url_for(path, params)
        key = request_key("GET", path, params)
        if self.mode == "snapshot":
            entry = self.store.read(self.source, "GET", path, params)
            if entry is None:
                raise SnapshotMissing(self.source, url)
            response = entry["response"]
            recorded = RecordedResponse(
                source=self.source,
                request_key=key,
                url=url,
                params=params,
                status=int(response["status"]),
                content_type=response["content_type"],
                body=response["body"],
                retrieved_at=entry["retrieved_at"],
                sha256=body_sha256(response["body"]),
                synthetic=bool(entry.get("synthetic", False)),
            )
            notify(RequestEvent(self.source, url, "snapshot", recorded.status))
            self.check(recorded)
            return recorded

        recorded = self._fetch(url, key, params)
        notify(RequestEvent(self.source, url, "network", recorded.status))
        self.check(recorded)
        if self.mode == "record":
            self.store.write(
                self.source,
                "GET",
                path,
                params,
                status=recorded.status,
                content_type=recorded.content_type,
                body=recorded.body,
                retrieved_at=recorded.retrieved_at,
                synthetic=False,
                note=f"recorded live from {self.config.base_url}",
            )
        return recorded

    def _fetch(self, url: str, key: str, params: dict[str, str]) -> RecordedResponse:
        attempts = self.config.retries + 1
        started = time.monotonic()
        for attempt in range(attempts):
            self._pacer.wait()
            try:
                response = self.session.get(url, timeout=self.config.timeout)
            except requests.RequestException as exc:  # retries already spent by urllib3
                waited = time.monotonic() - started
                raise SourceError(
                    self.source,
                    url,
                    None,
                    f"unreachable after {waited:.0f} s and {self.config.retries} retries "
                    f"({' '.join(str(exc).split())[:200]})",
                ) from exc
            # Decode as UTF-8 ourselves: all four APIs send UTF-8 and charset guessing varies.
            body = response.content.decode("utf-8", errors="replace")
            content_type = response.headers.get("Content-Type", "")
            status = response.status_code
            if status not in RETRY_STATUSES and self.is_throttled(status, content_type, body):
                if attempt + 1 < attempts:
                    self.sleep(self._throttle_wait(attempt, response.headers.get("Retry-After")))
                    continue
                raise SourceError(
                    self.source, url, status, f"still rate limited after {attempts} attempts"
                )
            if status not in self.ACCEPT_STATUSES:
                excerpt = " ".join(body.split())[:200]
                raise SourceError(
                    self.source, url, status, f"HTTP {status} after retries: {excerpt!r}"
                )
            return RecordedResponse(
                source=self.source,
                request_key=key,
                url=url,
                params=params,
                status=status,
                content_type=content_type,
                body=body,
                retrieved_at=utc_now_iso(),
                sha256=body_sha256(body),
                synthetic=False,
            )
        raise AssertionError("unreachable")

    def _throttle_wait(self, attempt: int, retry_after: str | None) -> float:
        """Back off like urllib3 would, but never below the pacing interval."""
        if retry_after and retry_after.strip().isdigit():
            return min(float(retry_after), self.config.retry_after_max)
        wait = min(self.config.backoff_max, self.config.backoff_factor * 2**attempt)
        return max(wait, self.config.min_interval)


def chunks(items: Iterable[str], size: int) -> list[list[str]]:
    """Split into lists of at most ``size`` items, keeping order."""
    seq = list(items)
    return [seq[i : i + size] for i in range(0, len(seq), size)]
