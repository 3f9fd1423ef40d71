"""What the HTTP layer tells the rest of the program about each request, as it happens.

:class:`pipelines.sources.http.SourceClient` calls :func:`notify` once per request it answers;
progress displays, plans and run summaries subscribe with :func:`listening` instead of the
clients knowing about them. Listeners are per context (a ``ContextVar``), so a run in one
thread never sees another's requests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestEvent:
    """One request answered by a source client.

    ``origin`` is where the answer came from: ``"network"`` (sent now), ``"store"`` (a
    response recorded earlier and reused, e.g. a resumed record run) or ``"snapshot"``
    (snapshot mode)."""

    source: str
    url: str
    origin: str
    status: int | None = None


Listener = Callable[[RequestEvent], None]
_listeners: ContextVar[tuple[Listener, ...]] = ContextVar("request_listeners", default=())


@contextmanager
def listening(listener: Listener) -> Iterator[None]:
    """Call ``listener`` for every request answered inside the ``with`` block."""
    token = _listeners.set((*_listeners.get(), listener))
    try:
        yield
    finally:
        _listeners.reset(token)


def notify(event: RequestEvent) -> None:
    for listener in _listeners.get():
        listener(event)
