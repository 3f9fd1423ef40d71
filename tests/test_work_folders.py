"""Work folders kept per configuration stay bounded (pipelines/work_folders.py): the most
recently used stay, a folder another compute is working in is never removed, and a compute
whose folder is removed under it makes it again."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from pipelines import work_folders
from pipelines.index.compute import EngineConfig, compute, parse_cache
from pipelines.work_folders import LAST_USED, LOCK, locked, mark_used, prune, remove_unless_locked
from tests.reference_data import COINR_ASEM_DIR

NOW = time.time()


def used_folder(parent: Path, name: str, seconds_ago: float) -> Path:
    folder = parent / name
    mark_used(folder)
    os.utime(folder / LAST_USED, (NOW - seconds_ago, NOW - seconds_ago))
    return folder


def test_prune_keeps_the_most_recently_used(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(work_folders, "KEEP", 3)
    for age in (50, 10, 40, 20, 30):
        used_folder(tmp_path, f"used_{age}s_ago", age)
    never_marked = tmp_path / "never_marked"  # counts from its own time: now, so it stays
    never_marked.mkdir()
    prune(tmp_path)
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == ["never_marked", "used_10s_ago", "used_20s_ago"]
    prune(tmp_path / "absent")  # nothing to prune: no error


def test_a_folder_another_compute_holds_is_not_removed(tmp_path: Path) -> None:
    busy = used_folder(tmp_path, "busy", 100)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, sys, time\n"
            f"lock = open({str(busy / LOCK)!r}, 'a')\n"
            "fcntl.flock(lock, fcntl.LOCK_EX)\n"
            "print('held', flush=True)\n"
            "sys.stdin.read()\n",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        remove_unless_locked(busy)
        assert busy.is_dir()
    finally:
        holder.communicate("")
    remove_unless_locked(busy)
    assert not busy.exists()
    remove_unless_locked(busy)  # already gone: no error


def test_a_folder_removed_while_waiting_for_its_lock_is_made_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "config"
    waiting_for_lock = threading.Event()
    second_inside: list[bool] = []

    class Flock:  # fcntl, telling when the second thread has opened the lock file and waits
        LOCK_EX, LOCK_NB = fcntl.LOCK_EX, fcntl.LOCK_NB

        @staticmethod
        def flock(handle, operation: int) -> None:
            if threading.current_thread().name == "second":
                waiting_for_lock.set()
            fcntl.flock(handle, operation)

    def second() -> None:
        with locked(folder):
            second_inside.append((folder / LOCK).exists() and (folder / LAST_USED).exists())

    with locked(folder):
        monkeypatch.setattr(work_folders, "fcntl", Flock)
        waiting = threading.Thread(target=second, name="second")
        waiting.start()
        assert waiting_for_lock.wait(10)
        assert not second_inside
        remove_unless_locked(folder)  # held by this one: stays
        assert folder.is_dir()
        for entry in folder.iterdir():  # as a prune elsewhere would, ignoring the lock
            entry.unlink()
        folder.rmdir()
    waiting.join(10)
    assert second_inside == [True]


def test_compute_prunes_the_configurations_least_recently_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CITY_INDEX_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(work_folders, "KEEP", 2)
    config = EngineConfig()
    workspace = parse_cache({"engine_input": "compute", **config.dbt_vars()})
    stale = [used_folder(workspace.parent, f"stale_{n}", 1000 + n) for n in range(3)]
    compute(
        COINR_ASEM_DIR / "inputs_iMeta.csv",
        COINR_ASEM_DIR / "inputs_iData.csv",
        tmp_path / "out",
        config,
    )
    assert (tmp_path / "out" / "scores.csv").stat().st_size > 0
    assert sorted(p.name for p in workspace.parent.iterdir()) == sorted(
        [workspace.name, stale[0].name]
    )
