"""The `city-index` console script: `pipelines.cli.main`, then a quick exit.

A command that ran a pipeline has imported Dagster, dbt, Great Expectations, scipy and more;
Python's own teardown of them at exit takes 1.3-2.7 s on the 2 shared cores (measured: pure
interpreter work after the last output, no I/O). By then everything the command writes is
written and closed: each run event is committed to the instance, the steps close their
warehouse connections, the run lock is released. So the script waits for any non-daemon
thread, runs the atexit handlers (logging's shutdown among them), flushes the standard streams
and leaves with main's exit code, skipping the teardown. `python -m pipelines.cli` and tests
calling `main()` keep Python's ordinary exit.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
import threading


def run() -> None:
    from pipelines.cli import main

    code = main()
    for thread in threading.enumerate():
        if thread is not threading.current_thread() and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):  # a closed pipe: nothing more can be said
            stream.flush()
    os._exit(code)
