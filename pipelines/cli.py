"""`city-index`: the annual edition, ingestion and the engine from the command line.

Runs go through the Dagster instance under DAGSTER_HOME, so every run the CLI makes is in the
UI's run history. A failed command ends with one line that says what failed and what to do,
and exits 2 (usage), 3 (data refused by a check) or 1 (a fault): see pipelines/errors.py.
"""

from __future__ import annotations

import argparse
import functools
import os
import signal
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path

from pipelines import arguments, console, errors, preflight
from pipelines.method_options import add_method_options, method_from_args
from pipelines.settings import (
    FIRST_YEAR,
    LATEST_COMPLETE_YEAR,
    apply_environment_defaults,
    warehouse_path,
)


def all_sources() -> tuple[str, ...]:
    """Every source of pipelines/sources/catalog.py, in ingest order.

    Imported on use: the sources bring their HTTP stack, which `compute` never needs (about
    0.1 s of every command)."""
    from pipelines.ingest.landing import SOURCE_TABLES

    return tuple(SOURCE_TABLES)


def http_modes() -> tuple[str, ...]:
    from pipelines.sources.http import MODES

    return MODES


class LazyChoices(Sequence):
    """argparse choices loaded the first time argparse checks a value or prints help."""

    def __init__(self, load: Callable[[], Sequence[str]]) -> None:
        self._load = load

    @functools.cached_property
    def _values(self) -> tuple[str, ...]:
        return tuple(self._load())

    def __getitem__(self, index):
        return self._values[index]

    def __len__(self) -> int:
        return len(self._values)


class CommandFailed(RuntimeError):
    """A run failed; the message says what failed and why, `exit_code` which kind it is."""

    def __init__(self, message: str, exit_code: int = errors.FAULT) -> None:
        super().__init__(message)
        self.exit_code = exit_code

    @classmethod
    def from_run(cls, what: str, result) -> CommandFailed:
        """`<what> failed: <cause>; <remedy> (run <id>: ...)` from a failed run's events."""
        explained = errors.explain_run(result)
        return cls(f"{what} failed: {explained.message}", explained.exit_code)


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


def interrupted(result) -> bool:
    """True when a run failed because it was interrupted (Ctrl-C or SIGTERM)."""
    for event in result.all_events:
        error = event.step_failure_data.error if event.is_step_failure else None
        while error is not None:
            if error.cls_name == "DagsterExecutionInterruptedError":
                return True
            error = error.cause
    return False


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
        if interrupted(result):
            raise KeyboardInterrupt(f"{name} run {result.run_id} stopped")
        raise CommandFailed.from_run(f"{name} run for {label}", result)
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


def ingest_sources(
    requested: Sequence[str] | None, cities: Sequence[str]
) -> tuple[list[str], list[str]]:
    """The sources an ingest runs, and those ``--city`` leaves as landed: without --source, a
    narrowed ingest runs every source whose rows are per city; a source named with --source
    that is not per city is refused (its whole year would be replaced by a few cities')."""
    from pipelines.ingest.landing import not_per_city_message, per_city

    chosen = list(dict.fromkeys(requested or all_sources()))
    if not cities:
        return chosen, []
    not_per_city = [s for s in chosen if not per_city(s)]
    if requested and not_per_city:
        raise CommandFailed(not_per_city_message(not_per_city), errors.USAGE)
    return [s for s in chosen if s not in not_per_city], not_per_city


def shows_progress(progress: bool | None) -> bool:
    """Progress and summaries by default in live and record mode; snapshot runs stay calm."""
    from pipelines.sources.http import resolve_mode

    return progress if progress is not None else resolve_mode() != "snapshot"


def summary_lines(runs, sources: Sequence[str], year: int) -> list[str]:
    """One line per source: what its run did, or that it did not run."""
    from pipelines.sources.http import resolve_mode, resume_enabled

    lines = [run.summary() for run in runs]
    ran = {run.source for run in runs}
    lines += [
        f"{s} {year}: not run (the run stopped, or a source it reads failed)"
        for s in sources
        if s not in ran
    ]
    stopped = any(run.error for run in runs) or len(ran) < len(sources)
    if stopped and resolve_mode() == "record" and resume_enabled():
        lines.append("run the same command again to go on: responses already stored are reused")
    return lines


def ingest(
    year: int,
    sources: Sequence[str] | None = None,
    cities: Sequence[str] = (),
    *,
    replace_real_with_synthetic: bool = False,
    progress: bool | None = None,
) -> None:
    """Ingest the sources for the year in one run; with ``progress`` (by default in live and
    record mode) a bar per source on a terminal and a summary line per source at the end,
    also when the run stops. ``sources`` None: every source."""
    import dagster as dg

    from pipelines.ingest import progress_bars
    from pipelines.ingest.assets import source_asset_keys

    sources = all_sources() if sources is None else sources
    selection = [dg.AssetKey(["raw", "cities"]), dg.AssetKey(["raw", "framework"])]
    for source in sources:
        selection += source_asset_keys(source)
    op_config = {
        "cities": list(cities),
        "replace_real_with_synthetic": replace_real_with_synthetic,
        "progress": progress,
    }
    run_config = {"ops": {f"ingest_{source}": {"config": op_config} for source in sources}}
    if not shows_progress(progress):
        run_job("ingest", [year], run_config=run_config, asset_selection=selection)
        return
    runs = []
    try:
        with progress_bars.shown(bars=sys.stderr.isatty()) as collector:
            runs = collector.runs
            run_job("ingest", [year], run_config=run_config, asset_selection=selection)
    finally:
        for line in summary_lines(runs, sources, year):
            print(line, file=sys.stderr)


def dry_run(year: int, requested: Sequence[str] | None, cities: Sequence[str]) -> str:
    """The plan of an ingest: sends nothing, lands nothing, takes no lock."""
    import polars as pl

    from pipelines.ingest.plan import plan_source, render
    from pipelines.registry import load_cities
    from pipelines.sources.catalog import SPECS
    from pipelines.sources.http import resolve_mode, resume_enabled

    sources, left_out = ingest_sources(requested, cities)
    registry = load_cities()
    if cities:
        registry = registry.filter(pl.col("id").is_in(list(cities)))
    plans = [plan_source(SPECS[source], registry, year) for source in sources]
    return render(
        plans,
        mode=resolve_mode(),
        cities=registry.height,
        resume=resume_enabled(),
        left_out=left_out,
    )


def ensure_landed(years: Sequence[int]) -> None:
    """Every year an edition reads must have its sources landed. In the offline default
    (snapshot mode) the missing ones are ingested from the embedded snapshot, as `make run`
    needs on a fresh machine; in live or record mode nothing is fetched behind the user's
    back: the command stops and says what to ingest."""
    from pipelines.sources.http import resolve_mode

    sources = all_sources()
    missing = {
        year: [s for s in sources if s not in landed]
        for year, landed in landed_sources(years).items()
        if set(sources) - landed
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


def reload_reference_tables(year: int) -> None:
    """raw.cities and raw.framework as their files make them now: a table loaded from an older
    version of its file is reloaded before anything is built (no request: the files are in
    the repository; pipelines/ingest/reference_tables.py says why)."""
    import dagster as dg
    import duckdb

    from pipelines.ingest.reference_tables import stale_tables

    path = warehouse_path()
    if not path.exists():
        return
    with duckdb.connect(str(path), read_only=True) as con:
        stale = stale_tables(con)
    if stale:
        names = ", ".join(f"raw.{name}" for name in stale)
        print(f"reloading {names}: the file changed since the table was loaded", file=sys.stderr)
        run_job("ingest", [year], asset_selection=[dg.AssetKey(["raw", n]) for n in stale])


def release(
    year: int,
    edition: int | None,
    replications: int,
    *,
    history_from: int = FIRST_YEAR,
    refresh: bool = False,
    method=None,
    rebuild_history: bool = False,
) -> Path:
    """Build, validate and release the edition of `year` from the raw data already landed.

    The years before it (from `history_from`) are built first in one run, with the same
    method (a pipelines.index.method.MethodConfig; None = the defaults), so the change on the
    year before and the leaders' history come from the same code; `refresh` ingests the
    edition year again first (in the mode in force). History years the build ledger shows
    built with the same method, code and data are not rebuilt (pipelines/index/build_ledger.py),
    unless `rebuild_history`."""
    from pipelines.index import build_ledger
    from pipelines.index.method import MethodConfig

    method = method or MethodConfig()
    if refresh:
        ingest(year)
    ensure_landed(range(history_from, year + 1))
    reload_reference_tables(year)
    build_config = {
        "index_analysis": {"config": {"replications": replications}},
        "city_index_models": {"config": method.as_dict()},
    }
    expected = build_ledger.release_fingerprints(
        warehouse_path(), range(history_from, year + 1), method=method, replications=replications
    )
    if history_from < year:
        history = {y: expected[y] for y in range(history_from, year)}
        state = build_ledger.check_history(warehouse_path(), history, method=method)
        span = f"{history_from}-{year - 1}"
        if state.up_to_date and not rebuild_history:
            print(
                f"history {span} up to date (built by {state.describe_current()} with the "
                "same method, code and data): not rebuilt (--rebuild-history to force)",
                file=sys.stderr,
            )
        else:
            # Years are rebuilt from the first stale one on: a year's marts read only its own
            # raw rows, but its analysis reads the previous year's ranking.
            first = history_from if rebuild_history else state.stale[0]
            why = "--rebuild-history" if rebuild_history else f"{state.stale[0]}: {state.why_stale}"
            print(f"building history {first}-{year - 1} ({why})", file=sys.stderr)
            result = run_job("build", range(first, year), run_config={"ops": build_config})
            rebuilt = {y: history[y] for y in range(first, year)}
            build_ledger.record_built(warehouse_path(), rebuilt, result.run_id)
    run_config = {"ops": {"annual_release": {"config": {"edition": edition}}, **build_config}}
    result = run_job("annual_edition", [year], run_config=run_config)
    build_ledger.record_built(warehouse_path(), {year: expected[year]}, result.run_id)
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

    lower, upper = args.range
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
    verbose_help = "full tracebacks and Dagster's own console log on failure"
    parser.add_argument("--verbose", "-v", action="store_true", help=verbose_help)
    commands = parser.add_subparsers(dest="command", required=True)
    command_parsers: dict[str, argparse.ArgumentParser] = {}

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text)
        # also accepted after the command; SUPPRESS keeps a global --verbose given before it
        sub.add_argument(
            "--verbose", "-v", action="store_true", default=argparse.SUPPRESS, help=verbose_help
        )
        command_parsers[name] = sub
        return sub

    release_parser = command("release", "build, validate and release an edition")
    release_parser.add_argument("--year", type=arguments.year, default=LATEST_COMPLETE_YEAR)
    release_parser.add_argument("--edition", type=arguments.edition, default=None)
    release_parser.add_argument(
        "--replications",
        type=arguments.replications,
        default=1000,
        help=f"Monte Carlo replications for rank intervals (at least {arguments.MIN_REPLICATIONS})",
    )
    release_parser.add_argument(
        "--refresh",
        action="store_true",
        help="ingest the edition year again first (in the mode in force); by default the "
        "release uses the data already landed",
    )
    release_parser.add_argument(
        "--rebuild-history",
        action="store_true",
        help="rebuild every year before --year; by default years the warehouse's build "
        "ledger shows built with the same method, code and data are not rebuilt",
    )
    add_method_options(release_parser)

    ingest_parser = command("ingest", "fetch and land sources for one year")
    ingest_parser.add_argument("--year", type=arguments.year, required=True)
    ingest_parser.add_argument(
        "--source",
        choices=LazyChoices(all_sources),
        metavar="SOURCE",
        action="append",
        help="one of %(choices)s; repeat for several (default: every source)",
    )
    ingest_parser.add_argument("--city", action="append", default=[], help="a registry id")
    ingest_parser.add_argument(
        "--mode",
        choices=LazyChoices(http_modes),
        metavar="MODE",
        default=None,
        help="%(choices)s (default: CITY_INDEX_MODE, else snapshot)",
    )
    ingest_parser.add_argument(
        "--replace-real-with-synthetic",
        action="store_true",
        help="allow synthetic snapshot data to replace real data landed before (logged)",
    )
    ingest_parser.add_argument(
        "--dry-run",
        action="store_true",
        help="print the plan (requests and time per source at the configured pacing) and stop: "
        "nothing is sent or landed",
    )
    ingest_parser.add_argument(
        "--no-resume",
        action="store_true",
        help="in record mode, ask again for responses an earlier run already stored",
    )
    ingest_parser.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="a bar per source and a summary line per source (default: in live and record "
        "mode only)",
    )

    compute_parser = command("compute", "run the engine on COINr-format files")
    compute_parser.add_argument("--framework", type=arguments.existing_file, required=True)
    compute_parser.add_argument("--data", type=arguments.existing_file, required=True)
    compute_parser.add_argument("--out", type=arguments.output_folder, required=True)
    compute_parser.add_argument("--treat", choices=("none", "coinr"), default="none")
    compute_parser.add_argument(
        "--impute",
        type=arguments.impute_spec,
        default="none",
        help="none, mean or group_mean:COLUMN",
    )
    compute_parser.add_argument(
        "--normalise", choices=("minmax", "minmax_panel", "zscore"), default="minmax"
    )
    compute_parser.add_argument(
        "--range", type=arguments.value_range, default=(0.0, 100.0), help="min-max range L,U"
    )
    compute_parser.add_argument("--aggregate", choices=("amean", "gmean"), default="amean")
    compute_parser.add_argument(
        "--screen",
        type=arguments.share,
        default=0.0,
        help="data-availability threshold (0 to 1) below which units are not ranked",
    )

    command("prepare", "parse the dbt project (for `dagster dev`)")
    parser.set_defaults(command_parsers=command_parsers)
    return parser


def _stop_on_sigterm() -> None:
    """SIGTERM stops a run as Ctrl-C does: Dagster turns the interrupt into a clean stop of the
    step (and of dbt's process), and the run is recorded as failed by the interruption."""

    def interrupt(signum, frame):
        signal.raise_signal(signal.SIGINT)

    signal.signal(signal.SIGTERM, interrupt)


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse and validate; a bad argument exits 2 with argparse's one-line error."""
    parser = build_parser()
    args = parser.parse_args(argv)
    arguments.validate(args, args.command_parsers[args.command])
    return args


def dispatch(args: argparse.Namespace) -> None:
    if args.command == "release":
        method = method_from_args(args)
        print(
            release(
                args.year,
                args.edition,
                args.replications,
                refresh=args.refresh,
                method=method,
                rebuild_history=args.rebuild_history,
            )
        )
    elif args.command == "ingest":
        sources, left = ingest_sources(args.source, args.city)
        if left:
            print(
                f"{', '.join(left)}: not per city, left as landed (--city narrows the others)",
                file=sys.stderr,
            )
        ingest(
            args.year,
            sources,
            args.city,
            replace_real_with_synthetic=args.replace_real_with_synthetic,
            progress=args.progress,
        )
        print(f"ingested {', '.join(sources)} for {args.year}")
    elif args.command == "compute":
        print(compute_command(args))
    elif args.command == "prepare":
        from pipelines.index.dbt_runner import ensure_manifest

        print(ensure_manifest())


def run_command(args: argparse.Namespace) -> None:
    """Cheap checks first (the output folder); runs then hold the warehouse for the whole
    command, after any process a killed run left behind has been dealt with."""
    if args.command == "ingest":
        if args.mode:
            os.environ["CITY_INDEX_MODE"] = args.mode
        if args.no_resume:
            from pipelines.sources.http import RESUME_ENV

            os.environ[RESUME_ENV] = "0"
        if args.dry_run:  # a plan writes nothing: no output folder, no lock
            print(dry_run(args.year, args.source, args.city))
            return
    if args.command != "prepare":
        preflight.check_output_home()
    apply_environment_defaults()
    if args.command not in ("release", "ingest"):
        dispatch(args)
        return
    from pipelines.locking import recover_dead_runs, run_lock

    with run_lock(f"city-index {args.command}"):
        preflight.check_warehouse_free()
        for run_id in recover_dead_runs(_instance()):
            print(f"run {run_id} had died without finishing: marked failed", file=sys.stderr)
        dispatch(args)


def main(argv: Sequence[str] | None = None) -> int:
    """Exit codes: 0 done, 2 usage error, 3 data refused by a check, 1 fault (errors.py)."""
    try:
        args = parse_arguments(argv)
    except SystemExit as exit_:  # argparse: --help (0) or a usage error (2)
        return exit_.code if isinstance(exit_.code, int) else errors.USAGE
    console.set_verbose(args.verbose)
    console.claim_root_logger()
    _stop_on_sigterm()
    try:
        with console.quiet_library_warnings(args.verbose):
            run_command(args)
    except KeyboardInterrupt:
        print(
            f"city-index {args.command}: interrupted; the run stopped and the warehouse keeps "
            "its last completed step. Run the command again to finish.",
            file=sys.stderr,
        )
        return 130
    except Exception as error:  # the CLI's contract: one clear last line and an exit code
        if isinstance(error, CommandFailed):
            explained = errors.Explained(str(error), error.exit_code)
        else:
            explained = errors.explain(error)
        if args.verbose:
            traceback.print_exc()
        print(f"city-index {args.command}: {explained.message}", file=sys.stderr)
        return explained.exit_code
    finally:
        console.set_verbose(False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
