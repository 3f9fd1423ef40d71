"""Child-process helpers for the edition scenario: ingest history, run the bare GX gate, read
step timings of the last edition run. Each runs against the pipeline home in the environment.

Why a child: the harness must not import Dagster or hold the warehouse open, and each side
of the ratio should pay the same process start-up.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path


def ingest(years: list[int]) -> None:
    from pipelines import cli

    for year in years:
        cli.ingest(year)


def gate(year: int) -> dict:
    """The edition gate's GX checkpoint on the same frames, outside Dagster."""
    import duckdb

    from pipelines.settings import warehouse_path
    from pipelines.validation.edition_gate import edition_frames, gate_parameters
    from pipelines.validation.gate import run_checkpoint

    with duckdb.connect(str(warehouse_path()), read_only=True) as con:
        frames = edition_frames(con, year)
        parameters = gate_parameters(con, year)
    with tempfile.TemporaryDirectory() as folder:
        result = run_checkpoint(
            f"edition_{year}",
            frames,
            parameters,
            context_root=Path(folder) / "gx",
            docs_dir=Path(folder) / "docs",
        )
    return {"success": result.success}


HISTORY_BUILD_RUN = "history_build_run (the years before the edition's, whole run)"


def steps() -> dict:
    """Step durations (s) of the latest annual_edition run in the instance; the whole duration
    of the history build run `release` made before it, if it made one; and whether it made
    none (`history_skipped`: no `build` run started since the annual_edition run before)."""
    import dagster as dg

    instance = dg.DagsterInstance.get()
    editions = instance.get_runs(filters=dg.RunsFilter(job_name="annual_edition"), limit=2)
    if not editions:
        return {}
    run = editions[0]
    stats = instance.get_run_stats(run.run_id)
    out = {
        s.step_key: round(s.end_time - s.start_time, 3)
        for s in instance.get_run_step_stats(run.run_id)
        if s.start_time and s.end_time
    }
    # Its whole duration is listed with the steps, so that it is not counted as the edition's
    # time outside its steps.
    previous_end = instance.get_run_stats(editions[1].run_id).end_time if len(editions) > 1 else 0
    history = instance.get_runs(filters=dg.RunsFilter(job_name="build"), limit=1)
    history_stats = instance.get_run_stats(history[0].run_id) if history else None
    ran = bool(
        history_stats
        and history_stats.start_time
        and history_stats.start_time > (previous_end or 0)
        and history_stats.start_time < (stats.start_time or float("inf"))
    )
    if ran and history_stats.end_time:
        out[HISTORY_BUILD_RUN] = round(history_stats.end_time - history_stats.start_time, 3)
    return {
        "run_s": round(stats.end_time - stats.start_time, 3),
        "steps_s": out,
        "history_skipped": not ran,
    }


def main(argv: list[str] | None = None) -> int:
    from pipelines.settings import apply_environment_defaults

    apply_environment_defaults()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("ingest").add_argument("years", type=int, nargs="+")
    sub.add_parser("gate").add_argument("year", type=int)
    sub.add_parser("steps")
    args = parser.parse_args(argv)
    if args.command == "ingest":
        ingest(args.years)
        print(json.dumps({"ingested": args.years}))
    elif args.command == "gate":
        print(json.dumps(gate(args.year)))
    else:
        print(json.dumps(steps()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
