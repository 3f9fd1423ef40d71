"""Run a command from a small, freshly started process and report its own peak RSS.

Why: Linux carries a process's memory high-water mark across fork and exec, so a child forked
straight from the harness (which holds generated panels in memory) reports the harness's peak
as its own. Forked from this tiny process, the command's ru_maxrss is its own.
Usage: python -m bench.launch RESULT_FILE -- COMMAND ...; writes "seconds maxrss_kib".
"""

from __future__ import annotations

import os
import subprocess
import sys
import time


def main() -> int:
    result_file, separator, *command = sys.argv[1:]
    assert separator == "--", "usage: python -m bench.launch RESULT_FILE -- COMMAND ..."
    start = time.perf_counter()
    proc = subprocess.Popen(command)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    with open(result_file, "w") as out:
        out.write(f"{seconds} {usage.ru_maxrss}\n")
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    sys.exit(main())
