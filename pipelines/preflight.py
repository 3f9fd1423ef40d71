"""Checks before a run, where they are cheap: the output folder can be created and written,
has room, and the warehouse is not held by another process.

A run that would fail on a full disk or a read-only folder fails here in a second, naming
the folder and what to do, instead of minutes later inside Dagster's or DuckDB's storage.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from pipelines.errors import Fault

#: A release writes the warehouse, the Dagster instance and the release folder: a few hundred
#: MiB for the 66-city history. Below this much free space a run is refused before it starts.
DEFAULT_MIN_FREE_MIB = 512
MIN_FREE_ENV = "CITY_INDEX_MIN_FREE_MB"


def min_free_bytes() -> int:
    """The free space a run needs (CITY_INDEX_MIN_FREE_MB overrides the default)."""
    text = os.environ.get(MIN_FREE_ENV, "").strip()
    try:
        mib = int(text) if text else DEFAULT_MIN_FREE_MIB
    except ValueError:
        raise Fault(f"{MIN_FREE_ENV}={text!r} is not a whole number of MiB; fix it") from None
    return mib * 2**20


def _existing_ancestor(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path("/")


def check_writable_folder(folder: Path, what: str, remedy: str, *, needed_bytes: int = 0) -> None:
    """Create `folder` if missing, prove it can be written, and that it has `needed_bytes`.

    `what` names the folder for the user ("the output folder (CITY_INDEX_HOME)"), `remedy`
    says what to change ("set CITY_INDEX_HOME to a writable folder")."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise Fault(f"{what} {folder} is a file, not a folder; {remedy}")
    ancestor = _existing_ancestor(folder)
    if not ancestor.is_dir():
        raise Fault(f"cannot create {what} {folder}: {ancestor} is a file, not a folder; {remedy}")
    if needed_bytes:  # before anything is created: a refused run leaves nothing behind
        free = shutil.disk_usage(folder if folder.exists() else ancestor).free
        if free < needed_bytes:
            raise Fault(
                f"only {free / 2**20:,.0f} MiB free in {folder}, a run needs at least "
                f"{needed_bytes / 2**20:,.0f} MiB; free some space or {remedy} on a larger disk"
                f" ({MIN_FREE_ENV} changes the threshold)"
            )
    created = not folder.exists()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder, prefix=".write-probe-"):
            pass
    except OSError as error:
        if created and folder.is_dir():
            folder.rmdir()  # leave nothing behind
        reason = error.strerror or str(error)
        raise Fault(f"cannot write {what} {folder} ({reason}); {remedy}") from error


def check_output_home() -> Path:
    """CITY_INDEX_HOME exists (or can be made), can be written and has room for a run."""
    from pipelines.settings import output_home

    home = output_home()
    check_writable_folder(
        home,
        "the output folder (CITY_INDEX_HOME)",
        "set CITY_INDEX_HOME to a writable folder",
        needed_bytes=min_free_bytes(),
    )
    return home


def check_warehouse_free(path: Path | None = None) -> None:
    """No other process holds the warehouse: a dbt left running by a killed run is stopped;
    any other holder is named with what to do (pipelines.locking.free_warehouse)."""
    from pipelines.locking import free_warehouse
    from pipelines.settings import warehouse_path

    free_warehouse(Path(path or warehouse_path()))
