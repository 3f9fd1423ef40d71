"""The plan of an ingest before it runs: per source, the requests it will send and how long
they take at the configured pacing (``city-index ingest --dry-run``).

Plans come from each source's ``SourceSpec.plan(cities, year)``, which counts requests
without sending any; a source without a plan is shown as unknown, never guessed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from pipelines.sources.spec import PlannedRequests, SourceSpec


@dataclass(frozen=True)
class SourcePlan:
    """What ingesting one source for (cities, year) will ask; ``parts`` is None when the
    source has no plan yet."""

    source: str
    year: int
    parts: tuple[PlannedRequests, ...] | None

    @property
    def requests(self) -> int | None:
        return None if self.parts is None else sum(p.requests for p in self.parts)

    @property
    def seconds(self) -> float | None:
        """The time the pacing alone takes: each client sends its requests one after the
        other, at least ``min_interval`` apart (responses and retries add to it)."""
        if self.parts is None:
            return None
        return sum(p.requests * p.min_interval for p in self.parts)


def plan_source(spec: SourceSpec, cities: pl.DataFrame, year: int) -> SourcePlan:
    parts = None if spec.plan is None else tuple(spec.plan(cities, year))
    return SourcePlan(spec.name, year, parts)


def duration(seconds: float) -> str:
    """``45 s``, ``3 min 20 s``, ``2 h 05 min``: what a person reads at a glance."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, secs = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def _pacing(part: PlannedRequests) -> str:
    if part.min_interval <= 0:
        return "unpaced"
    return f"1 per {part.min_interval:g} s"


def render(
    plans: Sequence[SourcePlan],
    *,
    mode: str,
    cities: int,
    resume: bool,
    left_out: Sequence[str] = (),
) -> str:
    """The plan as printed by ``ingest --dry-run``: one line per source, then the total."""
    year = plans[0].year if plans else ""
    city_text = "1 city" if cities == 1 else f"{cities} cities"
    lines = [f"ingest plan for {year}: {city_text}, mode {mode} (nothing is sent)"]
    width = max([len(p.source) for p in plans] + [5])
    for plan in plans:
        if plan.parts is None:
            lines.append(f"  {plan.source:<{width}}  unknown: this source has no plan yet")
            continue
        clients = ", ".join(
            f"{p.client} {p.requests} at {_pacing(p)}"
            + (f"; an estimate: {p.estimate}" if p.estimate else "")
            for p in plan.parts
            if p.requests
        )
        about = "about " if any(p.estimate for p in plan.parts) else ""
        lines.append(
            f"  {plan.source:<{width}}  {about}{plan.requests} requests, at least "
            f"{duration(plan.seconds)}" + (f" ({clients})" if clients else "")
        )
    for source in left_out:
        lines.append(f"  {source:<{width}}  left as landed: not per city (--city)")
    known = [p for p in plans if p.parts is not None]
    unknown = [p.source for p in plans if p.parts is None]
    if known:
        total = f"  {'total':<{width}}  {sum(p.requests for p in known)} requests, at least "
        total += duration(sum(p.seconds for p in known))
        if unknown:
            total += f" (without {', '.join(unknown)})"
    else:
        total = f"  {'total':<{width}}  unknown"
    lines.append(total)
    if mode == "snapshot":
        lines.append("snapshot mode answers from the embedded recordings: no request leaves.")
    elif mode == "record":
        lines.append(
            "record mode reuses responses already stored by an earlier run"
            if resume
            else "record mode with --no-resume asks every request again"
        )
    return "\n".join(lines)
