"""The CLI's view of an ingest: a progress bar per source on a terminal (rich), and the
summary line of every source at the end.

rich rather than tqdm: one ``Progress`` holds a bar per source with columns of our choosing
(done/total, rate, time left), keeps the log lines Dagster prints above the bars, and is
already what Dagster and dbt use on the console. Counting and wording stay in
:mod:`pipelines.ingest.progress`; this module only draws.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

from pipelines.ingest.plan import duration
from pipelines.ingest.progress import SourceRun, observing


def _detail(run: SourceRun) -> str:
    parts = []
    if run.rate is not None:
        parts.append(f"{run.rate:.2f}/s")
    if run.eta is not None and not run.finished:
        parts.append(f"about {duration(run.eta)} left")
    if run.reused:
        parts.append(f"{run.reused} from store")
    if run.error is not None:
        parts.append("stopped")
    return ", ".join(parts)


class Bars:
    """One rich bar per source run (an :class:`~pipelines.ingest.progress.Observer`)."""

    shows_progress = True
    shows_summary = False

    def __init__(self, stream: TextIO) -> None:
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[detail]}"),
            console=Console(file=stream),
        )
        self._tasks: dict[int, TaskID] = {}

    def started(self, run: SourceRun) -> None:
        self._tasks[id(run)] = self.progress.add_task(
            f"{run.source} {run.year}", total=run.total, detail=""
        )

    def advanced(self, run: SourceRun) -> None:
        self.progress.update(self._tasks[id(run)], completed=run.done, detail=_detail(run))

    def ended(self, run: SourceRun) -> None:
        task = self._tasks[id(run)]
        if run.total is None and run.error is None:  # done: the pulsing bar becomes full
            self.progress.update(task, total=run.done)
        self.advanced(run)


class Collector:
    """Keeps the source runs of a command, in order, for the summary at its end."""

    shows_progress = False
    shows_summary = True

    def __init__(self) -> None:
        self.runs: list[SourceRun] = []

    def started(self, run: SourceRun) -> None:
        self.runs.append(run)

    def advanced(self, run: SourceRun) -> None:
        pass

    def ended(self, run: SourceRun) -> None:
        pass


@contextmanager
def shown(*, bars: bool, stream: TextIO | None = None) -> Iterator[Collector]:
    """Collect the source runs inside the block (and draw bars when ``bars``); the caller
    prints ``collector.runs``' summaries at the end."""
    stream = stream or sys.stderr
    collector = Collector()
    with ExitStack() as stack:
        stack.enter_context(observing(collector))
        if bars:
            drawing = Bars(stream)
            stack.enter_context(drawing.progress)
            stack.enter_context(observing(drawing))
        yield collector
