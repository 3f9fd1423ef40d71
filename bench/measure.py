"""Timing helpers: a child process's wall time and peak memory, medians and percentiles.

Why a child process: peak memory must be the engine's own, not the harness's. The command
runs under `bench.launch`, a tiny fresh process that forks it and reads its rusage with
`os.wait4` (ru_maxrss, KiB on Linux): forking straight from the harness would hand the
harness's own high-water mark to the child, and RUSAGE_CHILDREN only ever grows.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


class ChildFailed(RuntimeError):
    """A measured command exited non-zero; the message carries the tail of its stderr."""


@dataclass(frozen=True)
class ChildRun:
    seconds: float
    peak_rss_mb: float
    stdout: str


def run_child(
    args: Sequence[str], *, env: Mapping[str, str] | None = None, cwd: Path = ROOT
) -> ChildRun:
    """Run a command, wait for it with wait4, return its wall time and peak RSS (MiB)."""
    full_env = {**os.environ, **(env or {})}
    scratch = Path(tempfile.mkdtemp(prefix="bench-child-"))
    err_path, result_path = scratch / "stderr", scratch / "result"
    launcher = [sys.executable, "-m", "bench.launch", str(result_path), "--", *args]
    env_path = {
        **full_env,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), full_env.get("PYTHONPATH")])),
    }
    try:
        with open(err_path, "w+b") as err, open(os.devnull, "rb") as devnull:
            done = subprocess.run(
                launcher,
                cwd=cwd,
                env=env_path,
                stdin=devnull,
                stdout=subprocess.PIPE,
                stderr=err,
                check=False,
            )
            if done.returncode != 0:
                err.seek(0)
                tail = err.read().decode(errors="replace")[-2000:]
                raise ChildFailed(f"{' '.join(args[:3])} ... exited {done.returncode}:\n{tail}")
        seconds, maxrss_kib = result_path.read_text().split()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return ChildRun(
        seconds=float(seconds), peak_rss_mb=int(maxrss_kib) / 1024, stdout=done.stdout.decode()
    )


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (numpy's default), without numpy."""
    s = sorted(values)
    if len(s) == 1:
        return float(s[0])
    pos = (len(s) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    return float(s[lo] + (s[hi] - s[lo]) * (pos - lo))


def timed(fn, *args, **kwargs) -> tuple[float, object]:
    """Wall seconds of one in-process call and its result."""
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - start, result
