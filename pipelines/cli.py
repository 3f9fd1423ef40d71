"""`city-index`: the annual edition, ingestion and the engine from the command line.

Runs go through the Dagster instance under DAGSTER_HOME, so every run the CLI makes is in the
UI's run history. Exit status is non-zero, with the reason, when anything fails.
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from pipelines.ingest.landing import SOURCE_TABLES
from pipelines.method_options import add_method_options, method_from_args  # h3-audit
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


def run_job(name: str, year: int, *, run_config: dict | None = None, asset_selection=None):
    """Execute a job for one year's partition as a run recorded in the instance."""
    job = _definitions().resolve_job_def(name)
    quiet_console = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}
    result = job.execute_in_process(
        instance=_instance(),
        partition_key=str(year),
        run_config={**quiet_console, **(run_config or {})},
        asset_selection=asset_selection,
        raise_on_error=False,
        tags={"city_index/command": name},
    )
    if not result.success:
        raise CommandFailed(
            f"{name} run for {year} failed (run {result.run_id}):\n" + failure_report(result)
        )
    return result


def loaded_years() -> set[int]:
    """Years whose raw data is in the warehouse (read-only peek before a run)."""
    import duckdb

    path = warehouse_path()
    if not path.exists():
        return set()
    with duckdb.connect(str(path), read_only=True) as con:
        exists = con.execute(
            "select count(*) from information_schema.tables"
            " where table_schema = 'raw' and table_name = 'api_responses'"
        ).fetchall()[0][0]
        if not exists:
            return set()
        return {
            row[0] for row in con.execute("select distinct year from raw.api_responses").fetchall()
        }


def ingest(year: int, sources: Sequence[str] = SOURCES, cities: Sequence[str] = ()) -> None:
    import dagster as dg

    from pipelines.ingest.assets import source_asset_keys

    selection = [dg.AssetKey(["raw", "cities"]), dg.AssetKey(["raw", "framework"])]
    for source in sources:
        selection += source_asset_keys(source)
    run_config = {
        "ops": {f"ingest_{source}": {"config": {"cities": list(cities)}} for source in sources}
    }
    run_job("ingest", year, run_config=run_config, asset_selection=selection)


def release(
    year: int,
    edition: int | None,
    replications: int,
    history_from: int = FIRST_YEAR,
    method=None,  # h3-audit: a pipelines.index.method.MethodConfig; None = the defaults
) -> Path:
    """Ingest the years from `history_from` that are missing (for the change and the leaders'
    history), then build, validate and release the edition."""
    from pipelines.index.method import MethodConfig  # h3-audit

    method = method or MethodConfig()  # h3-audit
    for earlier in sorted(set(range(history_from, year)) - loaded_years()):
        print(f"ingesting {earlier} (history for the {year} edition)", file=sys.stderr)
        ingest(earlier)
    run_config = {
        "ops": {
            "annual_release": {"config": {"edition": edition}},
            "index_analysis": {"config": {"replications": replications}},
            "city_index_models": {"config": method.as_dict()},  # h3-audit
        }
    }
    result = run_job("annual_edition", year, run_config=run_config)
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
    add_method_options(release_parser)  # h3-audit

    ingest_parser = commands.add_parser("ingest", help="fetch and land sources for one year")
    ingest_parser.add_argument("--year", type=_year, required=True)
    ingest_parser.add_argument("--source", choices=SOURCES, action="append")
    ingest_parser.add_argument("--city", action="append", default=[])
    ingest_parser.add_argument("--mode", choices=MODES, default=None)

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


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    apply_environment_defaults()
    try:
        if args.command == "release":
            method = method_from_args(args)  # h3-audit
            print(release(args.year, args.edition, args.replications, method=method))
        elif args.command == "ingest":
            if args.mode:
                os.environ["CITY_INDEX_MODE"] = args.mode
            ingest(args.year, args.source or SOURCES, args.city)
            print(f"ingested {', '.join(args.source or SOURCES)} for {args.year}")
        elif args.command == "compute":
            print(compute_command(args))
        elif args.command == "prepare":
            from pipelines.index.dbt_runner import ensure_manifest

            print(ensure_manifest())
    except Exception as error:  # the CLI's contract: a clear message and a non-zero exit
        print(f"city-index {args.command}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
