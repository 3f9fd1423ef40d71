"""Import modules on a background thread while this process only waits on another one.

The Dagster process spends a dbt build waiting on dbt's output (dbt runs in its own process);
the Great Expectations import the edition gate needs next (2-3 s on the 2 shared cores) and
the release report's matplotlib (0.4-0.5 s) can load on the other core meanwhile. The thread
is joined before the caller goes on, so nothing else imports at the same time (nothing is
imported while dagster-dbt streams dbt's events, checked on dagster-dbt 0.29).
"""

from __future__ import annotations

import contextlib
import importlib
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager


def _import_quietly(modules: tuple[str, ...]) -> None:
    # A failure is left to the step that needs the module: it imports it again and reports.
    for module in modules:
        with contextlib.suppress(Exception):
            importlib.import_module(module)


@contextmanager
def imported_meanwhile(*modules: str, switch_interval: float | None = None) -> Iterator[None]:
    """Import `modules`, in order, on a thread during the block; the block's end waits for it.

    `switch_interval` (seconds) shortens the interpreter's switch interval for the block: a
    block that often returns from C code that released the lock (DuckDB statements) then gets
    it back within that time rather than the default 5 ms."""
    thread = threading.Thread(
        target=_import_quietly, args=(modules,), name=f"import {', '.join(modules)}", daemon=True
    )
    previous_interval = sys.getswitchinterval()
    if switch_interval is not None:
        sys.setswitchinterval(switch_interval)
    thread.start()
    try:
        yield
    finally:
        thread.join()
        sys.setswitchinterval(previous_interval)
