"""Shared HTTP behaviour for the source clients: modes, the HTTP policy, snapshots.

Every source client goes through :meth:`SourceClient.get`, so the three modes behave the same
for all APIs:

- ``snapshot`` (default): answer from the recorded responses in ``assets/snapshots``; never touch
  the network. A request that was never recorded raises :class:`SnapshotMissing`.
- ``live``: call the API under the policy below.
- ``record``: like ``live``, and every accepted response is written to the snapshot store as it
  arrives. A request whose live-recorded (not synthetic) answer is already stored is answered
  from the store without being sent (``RequestEvent(origin="store")``): a run killed or stopped
  by a quota resumes where it stopped. ``CITY_INDEX_RECORD_RESUME=0`` asks everything again.

The HTTP policy is decided in one place, :meth:`SourceClient._fetch`; clients only build
requests, parse answers and declare quirks through hooks (:meth:`SourceClient.rate_limit`,
:meth:`~SourceClient.auth_headers`, :meth:`~SourceClient.secret_params`,
:meth:`~SourceClient.check`):

- pacing: at most one request every ``min_interval`` seconds (:class:`Pacer`, monotonic; every
  source here asks for "serially, one every N s", so a pacer without bursts or buckets fits);
- retries: urllib3's ``Retry`` (:class:`PoliteRetry`, not mounted on the session but driven
  here) counts attempts, backs off exponentially and parses ``Retry-After`` (seconds or a date,
  capped at ``retry_after_max``); 429 and 5xx are retried, and so is whatever a client's
  ``rate_limit`` hook calls a refusal (a throttle sentence with status 200, a reset header, a
  throttle error in the body);
- waits an accepted answer asks for (a window used up, a ``backoff`` field) delay the next
  request; a spent quota stops the source with :class:`QuotaExhausted`, which says when it can
  go on (each client's module documents its API's signals);
- deadline: no answer for ``deadline`` seconds (``CITY_INDEX_<NAME>_DEADLINE``), retries and
  back-off included, ends the source with :class:`SourceError` naming the URL, so a server that
  accepts connections and never answers cannot hold an ingest for long;
- secrets (bearer tokens, API keys) are sent only: never in snapshot keys, stored URLs or
  params; :func:`scrub` masks them in error messages and in the HTTP stack's logs.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import os
import re
import time
from collections.abc import Callable, Iterable, Mapping
from contextlib import suppress
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import quote, quote_plus, urlencode

import requests
from urllib3.exceptions import MaxRetryError
from urllib3.util.retry import Retry

from pipelines.settings import FIRST_YEAR as SETTINGS_FIRST_YEAR
from pipelines.settings import LATEST_COMPLETE_YEAR
from pipelines.sources.events import RequestEvent, notify

MODES = ("snapshot", "live", "record")
DEFAULT_MODE = "snapshot"
MODE_ENV = "CITY_INDEX_MODE"
#: ``0`` makes a record run ask again for answers already in the store.
RESUME_ENV = "CITY_INDEX_RECORD_RESUME"

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

    ``deadline`` bounds the time without any answer (attempts, their timeouts and the back-off
    between them): a dead or hanging API ends the source within it. Waits an API asks for are
    bounded by ``retry_after_max`` each and :meth:`max_wait_seconds` in all.
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
    deadline: float = 180.0

    @classmethod
    def from_env(
        cls,
        name: str,
        base_url: str,
        min_interval: float,
        environ: Mapping[str, str] | None = None,
        **overrides: Any,
    ) -> SourceConfig:
        """Defaults overridden by ``CITY_INDEX_<NAME>_URL``, ``..._MIN_INTERVAL`` and
        ``..._DEADLINE`` (seconds)."""
        env = os.environ if environ is None else environ
        prefix = f"CITY_INDEX_{name.upper()}_"
        url = env.get(prefix + "URL") or base_url
        interval_text = env.get(prefix + "MIN_INTERVAL")
        interval = float(interval_text) if interval_text else min_interval
        deadline_text = env.get(prefix + "DEADLINE")
        if deadline_text and "deadline" not in overrides:
            overrides["deadline"] = float(deadline_text)
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


def retry_budget(config: SourceConfig) -> PoliteRetry:
    """The retry budget of one request: the count, back-off and Retry-After cap of the config.

    It is not mounted on the session: :meth:`SourceClient._fetch` drives it, so that the
    sources' own rate-limit signals and the deadline are decided in the same place."""
    return PoliteRetry(
        total=config.retries,
        backoff_factor=config.backoff_factor,
        backoff_max=config.backoff_max,
        retry_after_max=int(config.retry_after_max),
        respect_retry_after_header=True,
    )


def build_session(config: SourceConfig | None = None) -> requests.Session:
    """One session per client, with the project's User-Agent and no retries of its own."""
    session = requests.Session()
    session.headers.update({"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate"})
    return session


# Secrets -----------------------------------------------------------------------------------
_SECRETS: set[str] = set()
MASK = "***"


def scrub(text: str, secrets: Iterable[str] | None = None) -> str:
    """``text`` with every secret in use (raw or percent-encoded) replaced by ``***``.

    The one place secrets leave the program's text: error messages, logs and notes."""
    for secret in sorted({*(_SECRETS if secrets is None else secrets)}, key=len, reverse=True):
        if secret:
            for form in {secret, quote(secret, safe=""), quote_plus(secret)}:
                text = text.replace(form, MASK)
    return text


class _ScrubSecrets(logging.Filter):
    """Masks secrets in log records of the HTTP stack (urllib3 logs every URL it sends)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if _SECRETS:
            record.msg, record.args = scrub(record.getMessage()), None
        return True


for _name in ("urllib3.connectionpool", "urllib3.util.retry", __name__):
    logging.getLogger(_name).addFilter(_ScrubSecrets())


class QuotaExhausted(SourceError):
    """A quota of the API is used up: the source stopped cleanly and can go on at ``resume_at``.

    ``requests_left`` is what the fetch still had to ask (None when unknown). A record run
    started again after ``resume_at`` reuses every stored answer and asks only the rest."""

    def __init__(
        self,
        source: str,
        url: str,
        status: int | None,
        detail: str,
        resume_at: datetime,
        requests_left: int | None = None,
    ) -> None:
        self.detail = detail
        self.resume_at = resume_at
        self.requests_left = requests_left
        left = f"; {requests_left} requests left" if requests_left is not None else ""
        when = resume_at.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
        super().__init__(
            source, url, status, f"quota exhausted ({detail}){left}; resumes at {when}"
        )

    def with_requests_left(self, requests_left: int) -> QuotaExhausted:
        return QuotaExhausted(
            self.source, self.url, self.status, self.detail, self.resume_at, requests_left
        )


@dataclass(frozen=True)
class Answer:
    """One HTTP answer as the policy sees it, before it is accepted."""

    status: int
    headers: Mapping[str, str]
    body: str


@dataclass(frozen=True)
class Throttle:
    """What an answer says about asking the API again (a client's :meth:`rate_limit` hook).

    ``wait``: seconds before the next request (None: the policy's exponential back-off).
    ``refused``: the answer is a refusal; ask the same request again after ``wait``.
    ``quota``: a quota is spent; no request before ``wait`` is over: when that is longer than
    the config allows, the source stops with :class:`QuotaExhausted`."""

    wait: float | None = None
    refused: bool = True
    quota: bool = False


def resume_enabled(environ: Mapping[str, str] | None = None) -> bool:
    """Record runs reuse stored live answers unless ``CITY_INDEX_RECORD_RESUME=0``."""
    env = os.environ if environ is None else environ
    return env.get(RESUME_ENV, "1").strip().lower() not in ("0", "false", "no", "off")


class SourceClient:
    """Base client: subclasses build paths and params, this class fetches or replays them.

    The HTTP policy lives here and only here (see the module docstring); a client declares its
    quirks through the hooks :meth:`rate_limit`, :meth:`auth_headers`, :meth:`secret_params`
    and :meth:`check`."""

    #: Name, default API root and default pacing of the source (set by each subclass).
    NAME: ClassVar[str] = ""
    BASE_URL: ClassVar[str] = ""
    MIN_INTERVAL: ClassVar[float] = 1.0
    #: Statuses that are answers (e.g. a 404 that means "no data"), not failures.
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
        #: Monotonic clock of the pacing and the deadline, and the wall clock (epoch seconds)
        #: that rate-limit resets and quotas are told in; tests replace them.
        self.clock: Callable[[], float] = time.monotonic
        self.wall_clock: Callable[[], float] = time.time
        self._pacer = Pacer(self.config.min_interval, clock=self._now, sleep=sleep)
        self._not_before: float | None = None
        self._quota_spent: QuotaExhausted | None = None

    def _now(self) -> float:
        return self.clock()

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
    def rate_limit(self, answer: Answer) -> Throttle | None:
        """What ``answer`` says about asking again, beyond the policy's defaults (429/5xx with
        ``Retry-After``): a throttle sentence with 200, rate-limit headers, a ``backoff`` field
        or a spent quota. None: nothing to say."""
        return None

    def auth_headers(self) -> dict[str, str]:
        """Secret headers sent with every request, never stored nor shown (e.g. a bearer)."""
        return {}

    def secret_params(self) -> dict[str, str]:
        """Secret query parameters added when sending only (e.g. an API key): never part of
        the snapshot key, the stored URL and params, messages or logs."""
        return {}

    def check(self, response: RecordedResponse) -> None:
        """Raise :class:`SourceError` for bodies that are errors whatever the status says."""

    # ------------------------------------------------------------------------------------
    def get(self, path: str, params: Mapping[str, Any] | None = None) -> RecordedResponse:
        """Fetch (or replay) ``GET path?params``; every mode returns the same record.

        A record run answers from the store when a live-recorded (not synthetic) answer to the
        same request is there, so a run started again resumes where it stopped."""
        params = {str(k): str(v) for k, v in (params or {}).items()}
        url = self.url_for(path, params)
        if self.mode == "snapshot" or (self.mode == "record" and resume_enabled()):
            entry = self.store.read(self.source, "GET", path, params)
            if self.mode == "snapshot" and entry is None:
                raise SnapshotMissing(self.source, url)
            if entry is not None and (self.mode == "snapshot" or not entry.get("synthetic")):
                recorded = self._stored(entry, url, path, params)
                origin = "snapshot" if self.mode == "snapshot" else "store"
                notify(RequestEvent(self.source, url, origin, recorded.status))
                self.check(recorded)
                return recorded

        recorded = self._fetch(url, path, params)
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

    def _stored(
        self, entry: Mapping[str, Any], url: str, path: str, params: dict[str, str]
    ) -> RecordedResponse:
        response = entry["response"]
        return RecordedResponse(
            source=self.source,
            request_key=request_key("GET", path, params),
            url=url,
            params=params,
            status=int(response["status"]),
            content_type=response["content_type"],
            body=response["body"],
            retrieved_at=entry["retrieved_at"],
            sha256=body_sha256(response["body"]),
            synthetic=bool(entry.get("synthetic", False)),
        )

    # The policy ---------------------------------------------------------------------------
    def _fetch(self, url: str, path: str, params: dict[str, str]) -> RecordedResponse:
        """Send one request under the policy: pacing, the waits the API asked for, retries of
        failures and refusals (urllib3's Retry counts them and backs off), the deadline (no
        answer for ``config.deadline`` seconds ends the source) and secrets kept out of text."""
        secret_params = self.secret_params()
        headers = self.auth_headers()
        secrets = {*secret_params.values(), *headers.values(), *_bearer_tokens(headers)}
        _SECRETS.update(s for s in secrets if s)
        send_url = self.url_for(path, {**params, **secret_params})
        retry = retry_budget(self.config)
        deadline = self.config.deadline
        started = last_answer = self.clock()
        while True:
            self._wait_turn(url)
            left = deadline - (self.clock() - last_answer)
            if left <= 0:
                raise SourceError(self.source, url, None, f"no answer within {deadline:g} s")
            timeout = (min(self.config.connect_timeout, left), min(self.config.read_timeout, left))
            try:
                response = self.session.get(send_url, headers=headers, timeout=timeout)
            except requests.RequestException as exc:
                failure = SourceError(self.source, url, None, scrub(network_reason(exc), secrets))
                wait: float | None = None
                answered = False
            else:
                last_answer = self.clock()
                answered = True
                # Decode as UTF-8 ourselves: every API here sends UTF-8; guessing varies.
                answer = Answer(
                    response.status_code,
                    response.headers,
                    response.content.decode("utf-8", errors="replace"),
                )
                throttle, label = self._throttle(answer, retry)
                if throttle is None or not throttle.refused:
                    self._schedule(throttle, url, answer.status)
                    return self._accepted(answer, url, path, params, secrets)
                excerpt = scrub(" ".join(answer.body.split())[:200], secrets)
                failure = SourceError(self.source, url, answer.status, f"{label}: {excerpt!r}")
                wait = throttle.wait
                if throttle.quota and (wait or 0.0) > self.config.retry_after_max:
                    raise self._quota(url, answer.status, failure.message, wait or 0.0)
            try:
                retry = retry.increment("GET", url, error=failure)
            except MaxRetryError:
                raise self._given_up(failure, retry, started) from None
            pause = retry.get_backoff_time() if wait is None else wait
            pause = max(0.0, min(pause, self.config.retry_after_max if answered else pause))
            if not answered and self.clock() - last_answer + pause >= deadline:
                raise SourceError(
                    self.source,
                    url,
                    None,
                    f"no answer within {deadline:g} s (last: {failure.message})",
                )
            self.sleep(pause)

    def _wait_turn(self, url: str) -> None:
        """Stop if a quota is spent, else wait for the API's requested pause and the pacing."""
        if self._quota_spent is not None:
            raise QuotaExhausted(
                self.source,
                url,
                None,
                self._quota_spent.detail + "; not sent",
                self._quota_spent.resume_at,
            )
        if self._not_before is not None:
            remaining = self._not_before - self.clock()
            self._not_before = None
            if remaining > 0:
                self.sleep(remaining)
        self._pacer.wait()

    def _throttle(self, answer: Answer, retry: PoliteRetry) -> tuple[Throttle | None, str]:
        """The client's verdict, else the default: 429 and 5xx are refusals, waiting for
        ``Retry-After`` when the API sends one (bounded by ``retry_after_max``); and the words
        for a refusal ("rate limited", or the HTTP status of a server error)."""
        throttle = self.rate_limit(answer)
        if throttle is not None or answer.status == 429:
            label = "rate limited"
        else:
            label = f"HTTP {answer.status}"
        if throttle is None and answer.status in RETRY_STATUSES:
            retry_after = answer.headers.get("Retry-After")
            wait = None
            if retry_after:
                with suppress(ValueError):  # urllib3's InvalidHeader is a ValueError
                    wait = retry.parse_retry_after(retry_after)
            throttle = Throttle(wait=wait)
        return throttle, label

    def _schedule(self, throttle: Throttle | None, url: str, status: int) -> None:
        """An accepted answer that asks for a pause (or says a quota is spent) sets the next
        request's turn."""
        if throttle is None or throttle.wait is None or throttle.wait <= 0:
            return
        if throttle.quota:
            self._quota_spent = self._quota(url, status, "quota used up", throttle.wait)
        else:
            self._not_before = self.clock() + min(throttle.wait, self.config.retry_after_max)

    def _quota(self, url: str, status: int | None, detail: str, wait: float) -> QuotaExhausted:
        resume_at = datetime.fromtimestamp(self.wall_clock() + wait, UTC)
        return QuotaExhausted(self.source, url, status, detail, resume_at)

    def _given_up(self, failure: SourceError, retry: PoliteRetry, started: float) -> SourceError:
        retries = len(retry.history)
        if failure.status is None:
            waited = self.clock() - started
            text = f"unreachable after {waited:.0f} s and {retries} retries ({failure.message})"
        else:
            text = f"still {failure.message} after {retries + 1} attempts"
        return SourceError(failure.source, failure.url, failure.status, text)

    def _accepted(
        self,
        answer: Answer,
        url: str,
        path: str,
        params: dict[str, str],
        secrets: Iterable[str],
    ) -> RecordedResponse:
        if answer.status not in self.ACCEPT_STATUSES:
            excerpt = scrub(" ".join(answer.body.split())[:200], secrets)
            raise SourceError(self.source, url, answer.status, f"HTTP {answer.status}: {excerpt!r}")
        return RecordedResponse(
            source=self.source,
            request_key=request_key("GET", path, params),
            url=url,
            params=params,
            status=answer.status,
            content_type=answer.headers.get("Content-Type", ""),
            body=answer.body,
            retrieved_at=utc_now_iso(),
            sha256=body_sha256(answer.body),
            synthetic=False,
        )


def _bearer_tokens(headers: Mapping[str, str]) -> list[str]:
    return [v.split(" ", 1)[1] for v in headers.values() if v.lower().startswith("bearer ")]


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split())[:300]


def network_reason(error: BaseException) -> str:
    """Why a request got no answer, in the words of its innermost cause (``Failed to resolve
    'api.example.org'``, ``Connection refused``, ``Read timed out``): requests and urllib3 wrap
    it in messages that repeat the URL, which the error already names once."""
    cause = error
    for _ in range(10):  # requests -> MaxRetryError -> NewConnectionError -> ...
        inner = getattr(cause, "reason", None)
        if not isinstance(inner, BaseException) and cause.args:
            inner = cause.args[0]
        if not isinstance(inner, BaseException):
            break
        cause = inner
    text = re.sub(r"^\w+\(host='[^']*', port=\d+\): ", "", _one_line(cause))
    return text or type(cause).__name__


def chunks(items: Iterable[str], size: int) -> list[list[str]]:
    """Split into lists of at most ``size`` items, keeping order."""
    seq = list(items)
    return [seq[i : i + size] for i in range(0, len(seq), size)]
