"""`city-index`: the annual edition, ingestion and the engine from the command line.

Runs go through the Dagster instance under DAGSTER_HOME, so every run the CLI makes is in the
UI's run history. Exit status is non-zero, with the reason, when anything fails.
"""

from __future__ import annotations

import argparse
import functools
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from pipelines.ingest.landing import SOURCE_TABLES
from pipelines.settings import (
    FIRST_YEAR,
    LATEST_COMPLETE_YEAR,
    apply_environment_defaults,
    warehouse_path,
)

SOURCES = tuple(SOURCE_TABLES)  # gdelt, wikimedia, wikidata, worldbank, curated, ...
MODES = ("snapshot", "live", "record")


class CommandFailed(RuntimeError):
    """A run failed; the message says what failed and why."""


def _year(text: str) -> int:
    year = int(text)
    if not FIRST_YEAR <= year <= LATEST_COMPLETE_YEAR:
        raise argparse.ArgumentTypeError(
            f"year must be a complete year between {FIRST_YEAR} and {LATEST_COMPLETE_YEAR}"
        )
    return year


@functools.cache
def _definitions():
    """Load the code location after parsing the dbt project (never at import time), so the
    asset graph matches the models on disk."""
    from pipelines.index.dbt_runner import ensure_manifest

    ensure_manifest()
    from pipelines.definitions import defs

    return defs


def _instance():
    import dagster as dg

    return dg.DagsterInstance.get()


def failure_report(result) -> str:
    """Failed steps and failed checks of a run, with their messages."""
    lines = []
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data is not None:
            error = event.step_failure_data.error
            message = error.message.strip() if error else "unknown error"
            cause = error.cause.message.strip() if error and error.cause else ""
            lines.append(
                f"step {event.step_key} failed: {message}" + (f"\n  {cause}" if cause else "")
            )
    for evaluation in result.get_asset_check_evaluations():
        if not evaluation.passed:
            summary = evaluation.metadata.get("summary")
            text = summary.value if summary is not None else evaluation.description or ""
            lines.append(f"check {evaluation.check_name} failed:\n{text}")
    return "\n".join(lines) or "the run failed (see the Dagster UI for details)"


def run_job(
    name: str,
    years: Sequence[int],
    *,
    run_config: dict | None = None,
    asset_selection=None,
):
    """Execute a job as one run recorded in the instance: for one year's partition, or for a
    range of years in a single run (a single-run backfill)."""
    from pipelines.partitions import range_tags

    job = _definitions().resolve_job_def(name)
    quiet_console = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}
    first, last = min(years), max(years)
    partition = {"partition_key": str(first)} if first == last else {}
    tags = {"city_index/command": name} | ({} if first == last else range_tags(first, last))
    result = job.execute_in_process(
        instance=_instance(),
        run_config={**quiet_console, **(run_config or {})},
        asset_selection=asset_selection,
        raise_on_error=False,
        tags=tags,
        **partition,
    )
    label = str(first) if first == last else f"{first}-{last}"
    if not result.success:
        raise CommandFailed(
            f"{name} run for {label} failed (run {result.run_id}):\n" + failure_report(result)
        )
    return result


def landed_sources(years: Sequence[int]) -> dict[int, set[str]]:
    """The sources landed for each of the years (read-only peek before a run)."""
    import duckdb

    landed: dict[int, set[str]] = {year: set() for year in years}
    path = warehouse_path()
    if not path.exists():
        return landed
    with duckdb.connect(str(path), read_only=True) as con:
        exists = con.execute(
            "select count(*) from information_schema.tables"
            " where table_schema = 'raw' and table_name = 'landed_batches'"
        ).fetchall()[0][0]
        if not exists:
            return landed
        rows = con.execute(
            "select year, source from raw.landed_batches where year between ? and ?",
            [min(years), max(years)],
        ).fetchall()
    for year, source in rows:
        landed.setdefault(year, set()).add(source)
    return landed


def ingest(
    year: int,
    sources: Sequence[str] = SOURCES,
    cities: Sequence[str] = (),
    *,
    replace_real_with_synthetic: bool = False,
) -> None:
    import dagster as dg

    from pipelines.ingest.assets import source_asset_keys

    selection = [dg.AssetKey(["raw", "cities"]), dg.AssetKey(["raw", "framework"])]
    for source in sources:
        selection += source_asset_keys(source)
    op_config = {
        "cities": list(cities),
        "replace_real_with_synthetic": replace_real_with_synthetic,
    }
    run_config = {"ops": {f"ingest_{source}": {"config": op_config} for source in sources}}
    run_job("ingest", [year], run_config=run_config, asset_selection=selection)


def ensure_landed(years: Sequence[int]) -> None:
    """Every year an edition reads must have its sources landed. In the offline default
    (snapshot mode) the missing ones are ingested from the embedded snapshot, as `make run`
    needs on a fresh machine; in live or record mode nothing is fetched behind the user's
    back: the command stops and says what to ingest."""
    from pipelines.sources.http import resolve_mode

    missing = {
        year: [s for s in SOURCES if s not in landed]
        for year, landed in landed_sources(years).items()
        if set(SOURCES) - landed
    }
    if not missing:
        return
    mode = resolve_mode()
    if mode != "snapshot":
        listing = "; ".join(f"{y}: {', '.join(s)}" for y, s in sorted(missing.items()))
        raise CommandFailed(
            f"nothing landed for {listing}. Ingest first, e.g. city-index ingest --year "
            f"{min(missing)} --mode {mode} (or --mode snapshot for the embedded offline data)"
        )
    for year, sources in sorted(missing.items()):
        print(
            f"ingesting {year} from the embedded snapshot ({', '.join(sources)}): nothing "
            "was landed for it",
            file=sys.stderr,
        )
        ingest(year, sources)


def release(
    year: int,
    edition: int | None,
    replications: int,
    *,
    history_from: int = FIRST_YEAR,
    refresh: bool = False,
) -> Path:
    """Build, validate and release the edition of `year` from the raw data already landed.

    The years before it (from `history_from`) are built first in one run, so the change on
    the year before and the leaders' history come from the same code; `refresh` ingests the
    edition year again first (in the mode in force)."""
    if refresh:
        ingest(year)
    ensure_landed(range(history_from, year + 1))
    analysis = {"index_analysis": {"config": {"replications": replications}}}
    if history_from < year:
        print(f"building history {history_from}-{year - 1}", file=sys.stderr)
        run_job("build", range(history_from, year), run_config={"ops": analysis})
    run_config = {"ops": {"annual_release": {"config": {"edition": edition}}, **analysis}}
    result = run_job("annual_edition", [year], run_config=run_config)
    materialization = result.asset_materializations_for_node("annual_release")[-1]
    metadata = materialization.metadata
    print(metadata["message"].value, file=sys.stderr)
    if not metadata["created"].value:
        print(
            "to publish different numbers for this year, release a new edition: "
            f"city-index release --year {year} --edition N",
            file=sys.stderr,
        )
    return Path(metadata["path"].value)


def compute_command(args: argparse.Namespace) -> Path:
    from pipelines.index.compute import EngineConfig, compute

    lower, upper = (float(v) for v in args.range.split(","))
    config = EngineConfig(
        treat=args.treat,
        impute=args.impute,
        normalise=args.normalise,
        range_lower=lower,
        range_upper=upper,
        aggregate=args.aggregate,
        screen_threshold=args.screen,
    )
    return compute(args.framework, args.data, args.out, config)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="city-index", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    release_parser = commands.add_parser("release", help="build, validate and release an edition")
    release_parser.add_argument("--year", type=_year, default=LATEST_COMPLETE_YEAR)
    release_parser.add_argument("--edition", type=int, default=None)
    release_parser.add_argument(
        "--replications", type=int, default=1000, help="Monte Carlo replications for rank intervals"
    )
    release_parser.add_argument(
        "--refresh",
        action="store_true",
        help="ingest the edition year again first (in the mode in force); by default the "
        "release uses the data already landed",
    )

    ingest_parser = commands.add_parser("ingest", help="fetch and land sources for one year")
    ingest_parser.add_argument("--year", type=_year, required=True)
    ingest_parser.add_argument("--source", choices=SOURCES, action="append")
    ingest_parser.add_argument("--city", action="append", default=[])
    ingest_parser.add_argument("--mode", choices=MODES, default=None)
    ingest_parser.add_argument(
        "--replace-real-with-synthetic",
        action="store_true",
        help="allow synthetic snapshot data to replace real data landed before (logged)",
    )

    compute_parser = commands.add_parser("compute", help="run the engine on COINr-format files")
    compute_parser.add_argument("--framework", type=Path, required=True)
    compute_parser.add_argument("--data", type=Path, required=True)
    compute_parser.add_argument("--out", type=Path, required=True)
    compute_parser.add_argument("--treat", choices=("none", "coinr"), default="none")
    compute_parser.add_argument("--impute", default="none", help="none, mean or group_mean:COLUMN")
    compute_parser.add_argument(
        "--normalise", choices=("minmax", "minmax_panel", "zscore"), default="minmax"
    )
    compute_parser.add_argument("--range", default="0,100", help="min-max range L,U")
    compute_parser.add_argument("--aggregate", choices=("amean", "gmean"), default="amean")
    compute_parser.add_argument(
        "--screen",
        type=float,
        default=0.0,
        help="data-availability threshold below which units are not ranked",
    )

    commands.add_parser("prepare", help="parse the dbt project (for `dagster dev`)")
    return parser


def _stop_on_sigterm() -> None:
    """SIGTERM stops a run as Ctrl-C does: Dagster turns the interrupt into a clean stop of the
    step (and of dbt's process), and the run is recorded as stopped."""

    def interrupt(signum, frame):
        signal.raise_signal(signal.SIGINT)

    signal.signal(signal.SIGTERM, interrupt)


def run_command(args: argparse.Namespace) -> str:
    """Execute a parsed command; returns what to print on stdout."""
    if args.command == "release":
        return str(release(args.year, args.edition, args.replications, refresh=args.refresh))
    if args.command == "ingest":
        if args.mode:
            os.environ["CITY_INDEX_MODE"] = args.mode
        sources = args.source or SOURCES
        ingest(
            args.year,
            sources,
            args.city,
            replace_real_with_synthetic=args.replace_real_with_synthetic,
        )
        return f"ingested {', '.join(sources)} for {args.year}"
    if args.command == "compute":
        return str(compute_command(args))
    from pipelines.index.dbt_runner import ensure_manifest

    return str(ensure_manifest())


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    apply_environment_defaults()
    _stop_on_sigterm()
    try:
        if args.command in ("release", "ingest"):
            from pipelines.locking import free_warehouse, recover_dead_runs, run_lock

            with run_lock(f"city-index {args.command}"):
                free_warehouse(warehouse_path())
                for run_id in recover_dead_runs(_instance()):
                    print(
                        f"run {run_id} had died without finishing: marked failed", file=sys.stderr
                    )
                print(run_command(args))
        else:
            print(run_command(args))
    except KeyboardInterrupt:
        print(
            f"city-index {args.command}: interrupted; the run stopped and the warehouse keeps "
            "its last completed step. Run the command again to finish.",
            file=sys.stderr,
        )
        return 130
    except Exception as error:  # the CLI's contract: a clear message and a non-zero exit
        print(f"city-index {args.command}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
