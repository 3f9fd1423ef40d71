"""Progress of an ingest, per source: requests done of planned, rate, time left, and one
summary line at the end ("gdelt 2024: 594 requests, 12 reused from store, 3 min 20 s").

The ingest asset opens a :func:`source_run` around its fetch; it counts the requests the HTTP
layer reports (:mod:`pipelines.sources.events`), logs a line every ~30 s or 10 % to the Dagster
run (the UI) and tells any observer, such as the CLI's progress bars, as it goes. Dagster's
in-process executor runs the steps in the caller's thread, so an observer the CLI registers
with :func:`observing` sees every step (listeners are per context, never global).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Protocol

from pipelines.ingest.plan import duration
from pipelines.sources.events import RequestEvent, listening

#: A progress line at least this often (seconds) and at every this share of the total.
LOG_EVERY_SECONDS = 30.0
LOG_EVERY_SHARE = 0.1


@dataclass
class SourceRun:
    """The requests of one source's ingest for a year, as they are answered."""

    source: str
    year: int
    total: int | None  # planned requests; None when the source has no plan
    clock: Callable[[], float] = time.monotonic
    done: int = 0
    reused: int = 0  # answered from the store (a resumed record run)
    network: int = 0
    error: str | None = None
    finished: bool = False
    started: float = field(init=False)
    ended: float | None = None

    def __post_init__(self) -> None:
        self.started = self.clock()

    def record(self, event: RequestEvent) -> None:
        self.done += 1
        if event.origin == "store":
            self.reused += 1
        elif event.origin == "network":
            self.network += 1

    @property
    def elapsed(self) -> float:
        return (self.ended if self.ended is not None else self.clock()) - self.started

    @property
    def remaining(self) -> int | None:
        return None if self.total is None else max(self.total - self.done, 0)

    @property
    def rate(self) -> float | None:
        """Requests per second so far (None before the first second)."""
        elapsed = self.elapsed
        return self.done / elapsed if elapsed >= 1 and self.done else None

    @property
    def eta(self) -> float | None:
        rate, remaining = self.rate, self.remaining
        return None if rate is None or remaining is None else remaining / rate

    def progress_line(self) -> str:
        """``gdelt 2024: 120/594 requests (20 %), 0.20/s, about 39 min 30 s left``."""
        done = f"{self.done}/{self.total}" if self.total is not None else str(self.done)
        share = f" ({100 * self.done // self.total} %)" if self.total else ""
        rate = f", {self.rate:.2f}/s" if self.rate is not None else ""
        eta = f", about {duration(self.eta)} left" if self.eta is not None else ""
        return f"{self.source} {self.year}: {done} requests{share}{rate}{eta}"

    def summary(self) -> str:
        """The one line a user reads at the end, also when the source stopped."""
        reused = f", {self.reused} reused from store" if self.reused else ""
        took = duration(self.elapsed)
        if self.error is None:
            return f"{self.source} {self.year}: {self.done} requests{reused}, {took}"
        remaining = (
            f"; {self.remaining} of {self.total} planned remain" if self.total is not None else ""
        )
        return (
            f"{self.source} {self.year}: stopped after {self.done} requests{reused}, {took}"
            f"{remaining}: {self.error}"
        )


class Observer(Protocol):
    """Told of each source run as it starts, advances and ends (e.g. the CLI's bars).

    ``shows_progress`` / ``shows_summary``: the observer puts the progress / the summary
    before the user itself, so the run log need not repeat it on the console."""

    shows_progress: bool
    shows_summary: bool

    def started(self, run: SourceRun) -> None: ...

    def advanced(self, run: SourceRun) -> None: ...

    def ended(self, run: SourceRun) -> None: ...


_observers: ContextVar[tuple[Observer, ...]] = ContextVar("ingest_observers", default=())


@contextmanager
def observing(observer: Observer) -> Iterator[None]:
    """Tell ``observer`` of every source run inside the ``with`` block."""
    token = _observers.set((*_observers.get(), observer))
    try:
        yield
    finally:
        _observers.reset(token)


def console_shows(what: str) -> bool:
    """True when an observer (the CLI) shows ``what`` ("progress" or "summary") already."""
    return any(getattr(o, f"shows_{what}", False) for o in _observers.get())


class PeriodicLog:
    """Says a run's progress line when ``every_seconds`` passed or the done share crossed
    the next ``every_share`` step since the last line."""

    def __init__(
        self,
        say: Callable[[str], None],
        every_seconds: float = LOG_EVERY_SECONDS,
        every_share: float = LOG_EVERY_SHARE,
    ) -> None:
        self.say = say
        self.every_seconds = every_seconds
        self.every_share = every_share
        self._last_time: float | None = None
        self._last_step = 0

    def __call__(self, run: SourceRun) -> None:
        now = run.clock()
        if self._last_time is None:
            self._last_time = run.started
        step = int(run.done / run.total / self.every_share) if run.total else 0
        if step > self._last_step or now - self._last_time >= self.every_seconds:
            self._last_step = max(step, self._last_step)
            self._last_time = now
            self.say(run.progress_line())


def first_line(error: BaseException) -> str:
    if not isinstance(error, Exception):  # Ctrl-C, SIGTERM, Dagster's interruption
        return "interrupted"
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


@contextmanager
def source_run(
    source: str,
    year: int,
    total: int | None,
    *,
    log: Callable[[str], None] | None = None,
    end: Callable[[SourceRun], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[SourceRun]:
    """Count the requests answered inside the block as ``source``'s; ``log`` receives a
    progress line every ~30 s or 10 %, ``end`` the finished run (its ``summary()``), also
    when the block raises (then ``run.error`` says why)."""
    run = SourceRun(source, year, total, clock=clock)
    observers = _observers.get()
    periodic = PeriodicLog(log) if log is not None else None
    for observer in observers:
        observer.started(run)

    def on_request(event: RequestEvent) -> None:
        run.record(event)
        for observer in observers:
            observer.advanced(run)
        if periodic is not None:
            periodic(run)

    try:
        with listening(on_request):
            yield run
    except BaseException as error:
        run.error = first_line(error)
        raise
    finally:
        run.ended = clock()
        run.finished = True
        if end is not None:
            end(run)
        for observer in observers:
            observer.ended(run)
