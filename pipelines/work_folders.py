"""The work folders kept per configuration, bounded: dbt's targets (one per set of build vars)
and compute's compiled engines (one per set of engine options).

Why kept: the next run with the same vars reuses dbt's parse and the compiled engine (seconds
a run). Why bounded: every other year, method, weight or compute option adds a folder of
2-3 MB, and over years of editions and sensitivity runs they would pile up without end. The
KEEP most recently used stay; a run marks its own folder used first, then removes the oldest
beyond KEEP.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

KEEP = 24
LAST_USED = ".last_used"  # touched by each run that uses the folder
LOCK = ".lock"  # held by a compute while it works in its folder


def mark_used(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / LAST_USED).touch()


def last_used(folder: Path) -> float:
    """When a run last used the folder (its creation for one never marked)."""
    for marker in (folder / LAST_USED, folder):
        try:
            return marker.stat().st_mtime
        except FileNotFoundError:
            continue
    return 0.0


def prune(parent: Path, remove: Callable[[Path], None] = shutil.rmtree) -> None:
    """Remove the subfolders of `parent` beyond the KEEP most recently used."""
    if not parent.is_dir():
        return
    folders = sorted((p for p in parent.iterdir() if p.is_dir()), key=last_used, reverse=True)
    for folder in folders[KEEP:]:
        remove(folder)


def remove_unless_locked(folder: Path) -> None:
    """Remove a compute work folder unless a compute holds its lock (then it stays for now)."""
    try:
        with (folder / LOCK).open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            shutil.rmtree(folder, ignore_errors=True)
    except (BlockingIOError, FileNotFoundError):
        pass


@contextmanager
def locked(folder: Path) -> Iterator[None]:
    """Hold a compute work folder's lock (waiting while another compute holds it), the folder
    marked used. A prune in another process may remove the folder between its creation and
    the lock; then it is made again."""
    while True:
        folder.mkdir(parents=True, exist_ok=True)
        try:
            lock = (folder / LOCK).open("a")
        except FileNotFoundError:
            continue
        with lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if os.fstat(lock.fileno()).st_nlink == 0:  # removed while this one waited
                continue
            mark_used(folder)
            yield
            return
