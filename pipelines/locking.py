"""One run at a time on the warehouse, with a lock that dies with its process.

DuckDB allows one writing process, and a run's steps must not interleave with another run's.
Dagster's pools serialised steps, but a run killed with `kill -9` never gave its slot back and
every later run waited for it forever. An advisory `flock` on `<CITY_INDEX_HOME>/run.lock` is
released by the kernel when its process dies, however it dies; the file records who holds it so
that a second run can say which run is in the way. The lock is re-entrant within a process (the
CLI holds it around a command whose Dagster runs take it again).

Runs that died while holding the lock stay "started" in the Dagster instance; once the lock is
ours, `recover_dead_runs` marks them failed (and frees any concurrency slots they held, from
versions that used pools), so the UI never shows a ghost run and nothing waits on it.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pipelines.errors import LOCK_PATTERN, Fault, explain_lock
from pipelines.settings import output_home

LOCK_NAME = "run.lock"
PID_TAG = "city_index/pid"
HOST_TAG = "city_index/host"


class WarehouseBusy(Fault):
    """Another live city-index run holds the warehouse."""


class _Held:
    """This process's hold on the lock: the open file and how many holders nest in it."""

    def __init__(self) -> None:
        self.guard = threading.Lock()
        self.fd: int | None = None
        self.depth = 0


_held = _Held()


def lock_path() -> Path:
    return output_home() / LOCK_NAME


def read_holder(path: Path | None = None) -> dict:
    """Who holds (or last held) the lock, as recorded in the lock file."""
    try:
        return json.loads((path or lock_path()).read_text() or "{}")
    except (OSError, ValueError):
        return {}


def describe_holder(holder: dict) -> str:
    if not holder:
        return "another process"
    parts = [f"pid {holder.get('pid')}"]
    if holder.get("what"):
        parts.append(str(holder["what"]))
    if holder.get("started_at"):
        parts.append(f"started {holder['started_at']}")
    return "another city-index run (" + ", ".join(parts) + ")"


@contextmanager
def run_lock(what: str) -> Iterator[None]:
    """Hold the warehouse for this process, or fail at once naming the run that holds it."""
    with _held.guard:
        if _held.fd is not None:
            _held.depth += 1
        else:
            path = lock_path()
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                holder = read_holder(path)
                raise WarehouseBusy(
                    f"{describe_holder(holder)} holds the warehouse {output_home()}: wait for "
                    f"it to finish, or stop it (kill {holder.get('pid', '<pid>')}); a run "
                    "that was killed releases it by itself"
                ) from None
            record = {
                "pid": os.getpid(),
                "host": socket.gethostname(),
                "what": what,
                "started_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
            }
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(record).encode(), 0)
            _held.fd, _held.depth = fd, 1
    try:
        yield
    finally:
        with _held.guard:
            _held.depth -= 1
            if _held.depth == 0 and _held.fd is not None:
                os.ftruncate(_held.fd, 0)
                fcntl.flock(_held.fd, fcntl.LOCK_UN)
                os.close(_held.fd)
                _held.fd = None


def _process_environ(pid: int) -> dict[str, str]:
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return {}
    pairs = (item.split(b"=", 1) for item in raw.split(b"\0") if b"=" in item)
    return {k.decode(errors="replace"): v.decode(errors="replace") for k, v in pairs}


def _orphaned_dbt(warehouse: Path) -> list[int]:
    """dbt processes working for this warehouse (their environment says so). Called while
    holding the run lock, so no live run owns them: a killed run left them behind."""
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        pid = int(entry.name)
        if pid == os.getpid():
            continue
        try:
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        program = command.split(b"\0")[:2]  # dbt itself, or python running dbt's script
        is_dbt = any(arg == b"dbt" or arg.endswith(b"/dbt") for arg in program)
        if is_dbt and _process_environ(pid).get("CITY_INDEX_WAREHOUSE") == str(warehouse):
            found.append(pid)
    return found


def free_warehouse(warehouse: Path, *, wait_seconds: float = 30.0) -> None:
    """Make sure no process is left writing the warehouse before a run starts.

    A run killed with `kill -9` can leave its dbt child running on: it works for this
    warehouse and nobody will read its result, so it is stopped (a stopped DuckDB transaction
    rolls back). dbt opens and closes the file between models, so it is found by its
    environment, not only by the file's lock. Any other program holding the file (an analyst's
    DuckDB CLI or DBeaver on the working file) is named, with what to do."""
    import duckdb

    orphans = _orphaned_dbt(warehouse)
    for pid in orphans:
        print(
            f"stopping dbt (pid {pid}), left running on the warehouse by a run that was killed",
            file=sys.stderr,
        )
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + wait_seconds
    while orphans := [pid for pid in orphans if _pid_alive(pid)]:
        if time.monotonic() > deadline:
            for pid in orphans:
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.2)
    if not warehouse.exists():
        return
    try:
        duckdb.connect(str(warehouse)).close()
    except duckdb.IOException as error:
        if LOCK_PATTERN.search(str(error)) is None:
            raise
        raise WarehouseBusy(explain_lock(str(error))) from None


def held_by_this_process() -> bool:
    return _held.fd is not None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def recover_dead_runs(instance) -> list[str]:
    """Mark failed the runs of this instance that are still 'started' but whose process is
    gone (killed, out of memory, power cut). Call only while holding the lock: then no other
    city-index run is alive on this warehouse. Returns the run ids recovered."""
    import dagster as dg

    if not held_by_this_process():
        raise RuntimeError("recover_dead_runs needs the run lock")
    host = socket.gethostname()
    in_flight = instance.get_runs(
        filters=dg.RunsFilter(
            statuses=[
                dg.DagsterRunStatus.STARTED,
                dg.DagsterRunStatus.STARTING,
                dg.DagsterRunStatus.CANCELING,
            ]
        )
    )
    recovered = []
    for run in in_flight:
        pid_text = run.tags.get(PID_TAG)
        if pid_text is None or run.tags.get(HOST_TAG) != host:
            continue  # not a run this project started here: not ours to judge
        pid = int(pid_text)
        if pid == os.getpid() or _pid_alive(pid):
            continue
        instance.report_run_failed(
            run, f"the process of this run (pid {pid}) died without finishing it"
        )
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        recovered.append(run.run_id)
    return recovered


def tag_run_with_process(instance, run_id: str) -> None:
    """Record which process executes a run, so that a later run can tell it died."""
    instance.add_run_tags(run_id, {PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname()})
