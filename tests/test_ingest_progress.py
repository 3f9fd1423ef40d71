"""A long ingest says what it will do and where it is: `ingest --dry-run` prints the plan and
touches nothing; a run counts each source's requests as the HTTP layer answers them (a bar
per source on a terminal, a line every ~30 s or 10 % in the run log) and ends with a summary
line per source, also when a source stops.

Progress is counted from real request events: the CLI runs real Dagster runs on the embedded
snapshot in a temporary home; clocks are fakes where a test needs time to pass."""

from __future__ import annotations

import os
import re
from pathlib import Path

import duckdb
import pytest

from pipelines import cli, errors
from pipelines.ingest import assets as ingest_assets
from pipelines.ingest import plan as plan_module
from pipelines.ingest.plan import SourcePlan, duration, render
from pipelines.ingest.progress import PeriodicLog, SourceRun, observing, source_run
from pipelines.sources.catalog import SPECS
from pipelines.sources.events import RequestEvent, notify
from pipelines.sources.http import RESUME_ENV, SnapshotStore
from pipelines.sources.spec import PlannedRequests

YEAR = 2024


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def event(origin: str = "network") -> RequestEvent:
    return RequestEvent("gdelt", "https://api.gdeltproject.org/api/v2/doc/doc?x", origin, 200)


# --- counting and wording ---------------------------------------------------------------


def test_a_source_run_counts_requests_rate_and_time_left() -> None:
    clock = FakeClock()
    seen: list[str] = []

    class Watcher:
        shows_progress = shows_summary = False

        def started(self, run):
            seen.append(f"start {run.total}")

        def advanced(self, run):
            seen.append(f"at {run.done}")

        def ended(self, run):
            seen.append(f"end {run.error}")

    with observing(Watcher()), source_run("gdelt", YEAR, 10, clock=clock) as run:
        for origin in ("store", "store", "network", "network"):
            clock.now += 5
            notify(event(origin))
    assert seen == ["start 10", "at 1", "at 2", "at 3", "at 4", "end None"]
    assert (run.done, run.reused, run.network, run.remaining) == (4, 2, 2, 6)
    assert run.rate == pytest.approx(4 / 20)
    assert run.eta == pytest.approx(6 / (4 / 20))
    assert run.progress_line() == "gdelt 2024: 4/10 requests (40 %), 0.20/s, about 30 s left"
    assert run.summary() == "gdelt 2024: 4 requests, 2 reused from store, 20 s"
    notify(event())  # after the block: not this run's request
    assert run.done == 4


def test_a_stopped_source_says_what_was_done_and_what_remains() -> None:
    clock = FakeClock()
    with pytest.raises(RuntimeError), source_run("gdelt", YEAR, 594, clock=clock) as run:
        for _ in range(120):
            clock.now += 5
            notify(event())
        raise RuntimeError("stackexchange: daily quota used up; it can go on at 00:00 UTC\nmore")
    assert run.summary() == (
        "gdelt 2024: stopped after 120 requests, 10 min 00 s; 474 of 594 planned remain: "
        "stackexchange: daily quota used up; it can go on at 00:00 UTC"
    )


def test_progress_lines_come_every_ten_percent_or_thirty_seconds() -> None:
    clock = FakeClock()
    lines: list[str] = []
    run = SourceRun("gdelt", YEAR, 100, clock=clock)
    periodic = PeriodicLog(lines.append)
    for _ in range(25):  # quick requests: a line at 10 % and at 20 %
        clock.now += 0.1
        run.record(event())
        periodic(run)
    assert [line.split(": ")[1].split(" requests")[0] for line in lines] == ["10/100", "20/100"]
    clock.now += 31  # slow: a line after 30 s even without a new 10 %
    run.record(event())
    periodic(run)
    assert len(lines) == 3 and lines[-1].startswith("gdelt 2024: 26/100 requests (26 %)")
    unknown = SourceRun("wikidata", YEAR, None, clock=clock)
    unknown_lines: list[str] = []
    timed = PeriodicLog(unknown_lines.append)
    for _ in range(3):
        clock.now += 20
        unknown.record(event())
        timed(unknown)
    assert unknown_lines == ["wikidata 2024: 2 requests, 0.05/s"]


def test_durations_read_at_a_glance() -> None:
    assert [duration(s) for s in (0, 44.6, 200, 3600 * 2 + 300)] == [
        "0 s",
        "45 s",
        "3 min 20 s",
        "2 h 05 min",
    ]


def test_the_plan_gives_requests_and_time_at_the_pacing_or_says_unknown() -> None:
    plans = [
        SourcePlan("gdelt", YEAR, (PlannedRequests("gdelt", 594, 5.0),)),
        SourcePlan(
            "social",
            YEAR,
            (PlannedRequests("bluesky", 10, 1.0), PlannedRequests("mastodon", 4, 0.5)),
        ),
        SourcePlan("wikimedia", YEAR, None),
    ]
    text = render(plans, mode="record", cities=66, resume=True)
    lines = text.splitlines()
    assert lines[0] == "ingest plan for 2024: 66 cities, mode record (nothing is sent)"
    assert "594 requests, at least 49 min 30 s" in lines[1]
    assert "14 requests, at least 12 s (bluesky 10 at 1 per 1 s, mastodon 4 at" in lines[2]
    assert "unknown: this source has no plan yet" in lines[3]
    assert "608 requests, at least 49 min 42 s (without wikimedia)" in lines[4]
    assert "reuses responses already stored" in lines[5]
    again = render(plans, mode="record", cities=66, resume=False)
    assert "asks every request again" in again


# --- the command --------------------------------------------------------------------------


def hackernews_requests(cities, year) -> list[PlannedRequests]:
    """The test's own plan: one request per city and name variant, unpaced (as the fetch)."""
    from pipelines.sources.spec import social_terms

    variants = sum(len(social_terms(row)[0]) for row in cities.iter_rows(named=True))
    return [PlannedRequests("hackernews", variants, 2.0)]


@pytest.fixture
def planned(monkeypatch: pytest.MonkeyPatch) -> None:
    """hackernews with a plan, wherever the plan is read (the CLI's specs, the asset)."""
    import dataclasses

    spec = dataclasses.replace(SPECS["hackernews"], plan=hackernews_requests)
    monkeypatch.setitem(SPECS, "hackernews", spec)
    real_plan_source = plan_module.plan_source

    def plan_source(spec, cities, year):
        if spec.name == "hackernews":
            spec = dataclasses.replace(spec, plan=hackernews_requests)
        return real_plan_source(spec, cities, year)

    monkeypatch.setattr(ingest_assets, "plan_source", plan_source)


def test_dry_run_prints_the_plan_and_touches_nothing(capsys, home, planned, monkeypatch):
    from pipelines import locking

    def no_lock(*args, **kwargs):
        raise AssertionError("a dry run took the run lock")

    def no_run(*args, **kwargs):
        raise AssertionError("a dry run started a run")

    monkeypatch.setattr(locking, "run_lock", no_lock)
    monkeypatch.setattr(cli, "run_job", no_run)
    import dataclasses

    monkeypatch.setitem(SPECS, "gdelt", dataclasses.replace(SPECS["gdelt"], plan=None))
    code = cli.main(
        ["ingest", "--year", str(YEAR), "--source", "hackernews", "--source", "gdelt",
         "--dry-run", "--mode", "record"]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    from pipelines.registry import load_cities

    expected = hackernews_requests(load_cities(), YEAR)[0].requests
    assert re.search(rf"hackernews +{expected} requests, at least {duration(expected * 2)}", out)
    assert re.search(r"gdelt +unknown: this source has no plan yet", out)
    assert not home.exists()  # no warehouse, no instance, no landing folder


def test_dry_run_with_a_city_leaves_sources_not_per_city_out(capsys, home, planned):
    code = cli.main(["ingest", "--year", str(YEAR), "--city", "beijing", "--dry-run"])
    out = capsys.readouterr().out
    assert code == 0
    assert "1 city" in out.splitlines()[0]
    assert re.search(r"worldbank +left as landed: not per city", out)
    import polars as pl

    from pipelines.registry import load_cities

    beijing = load_cities().filter(pl.col("id") == "beijing")
    expected = hackernews_requests(beijing, YEAR)[0].requests
    assert re.search(rf"hackernews +{expected} requests", out)


def test_a_source_not_per_city_with_a_city_is_a_usage_error(capsys, home):
    code = cli.main(
        ["ingest", "--year", str(YEAR), "--source", "worldbank", "--city", "beijing", "--dry-run"]
    )
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert code == errors.USAGE
    assert err.startswith("city-index ingest: worldbank holds no per-city rows")


def test_no_resume_reaches_the_record_run(capsys, home, planned):
    code = cli.main(
        ["ingest", "--year", str(YEAR), "--source", "hackernews", "--mode", "record",
         "--no-resume", "--dry-run"]
    )  # fmt: skip
    assert code == 0
    assert os.environ[RESUME_ENV] == "0"
    assert "asks every request again" in capsys.readouterr().out


def landed_responses(home: Path, source: str) -> int:
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(
            "select count(*) from raw.api_responses where source = ? and year = ?",
            [source, YEAR],
        ).fetchone()[0]


def test_a_run_with_progress_ends_with_a_summary_per_source(capsys, home, planned):
    """The CLI's observer sees the requests of the run's steps (in-process, same thread)."""
    code = cli.main(
        ["ingest", "--year", str(YEAR), "--source", "hackernews", "--source", "gdelt",
         "--progress"]
    )  # fmt: skip
    err = capsys.readouterr().err
    assert code == 0, err
    summaries = {line.split(" ")[0]: line for line in err.splitlines() if f" {YEAR}: " in line}
    hackernews = landed_responses(home, "hackernews")
    gdelt = landed_responses(home, "gdelt")
    assert hackernews > 0 and gdelt > 0
    assert summaries["hackernews"].startswith(f"hackernews {YEAR}: {hackernews} requests, ")
    assert summaries["gdelt"].startswith(f"gdelt {YEAR}: {gdelt} requests, ")
    assert err.count(f"hackernews {YEAR}: {hackernews} requests") == 1  # not twice


def test_a_snapshot_run_stays_calm_by_default(capsys, home):
    code = cli.main(["ingest", "--year", str(YEAR), "--source", "hackernews"])
    err = capsys.readouterr().err
    assert code == 0
    assert " requests, " not in err  # no progress, no summary


def test_a_source_that_stops_says_what_was_done_and_what_remains(
    capsys, home, planned, monkeypatch
):
    from pipelines.registry import load_cities

    answered: list[str] = []
    real_read = SnapshotStore.read

    def read_three(self, source, *args, **kwargs):
        if source == "hackernews" and len(answered) >= 3:
            return None  # the fourth request was never recorded: the source stops
        if source == "hackernews":
            answered.append(source)
        return real_read(self, source, *args, **kwargs)

    monkeypatch.setattr(SnapshotStore, "read", read_three)
    code = cli.main(["ingest", "--year", str(YEAR), "--source", "hackernews", "--progress"])
    err = capsys.readouterr().err
    assert code != 0
    planned_total = hackernews_requests(load_cities(), YEAR)[0].requests
    line = next(s for s in err.splitlines() if s.startswith(f"hackernews {YEAR}: stopped"))
    assert line.startswith(f"hackernews {YEAR}: stopped after 3 requests, "), line
    assert (
        f"; {planned_total - 3} of {planned_total} planned remain: No recorded hackernews" in line
    )
    assert err.strip().splitlines()[-1].startswith("city-index ingest: ingest run for 2024 failed")


def test_the_bars_show_each_source_done_of_total() -> None:
    import io

    from pipelines.ingest.progress_bars import shown

    stream = io.StringIO()
    with shown(bars=True, stream=stream) as collector:
        with source_run("gdelt", YEAR, 10):
            for _ in range(4):
                notify(event("store"))
        with source_run("wikidata", YEAR, None):
            notify(event())
    drawn = stream.getvalue()
    assert "gdelt 2024" in drawn and "4/10" in drawn and "4 from store" in drawn
    assert "wikidata 2024" in drawn and "1/1" in drawn  # no plan: full once done
    assert [run.source for run in collector.runs] == ["gdelt", "wikidata"]


def test_a_plan_that_is_an_estimate_says_so() -> None:
    """A count known only at fetch time (pagination, titles) is printed as "about", with why."""
    from pipelines.ingest.plan import SourcePlan, render

    parts = (PlannedRequests("x", 792, 1.0, "about 12 pages per city-year"),)
    text = render([SourcePlan("social", YEAR, parts)], mode="record", cities=66, resume=True)
    assert re.search(r"social +about 792 requests", text)
    assert "an estimate: about 12 pages per city-year" in text
