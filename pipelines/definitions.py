"""The Dagster code location: every asset, check, job, schedule and resource in one place."""

from __future__ import annotations

import sys
from pathlib import Path

import dagster as dg

from pipelines.analysis.assets import index_analysis
from pipelines.console import run_console
from pipelines.index.assets import city_index_models, dbt_project
from pipelines.index.dbt_resource import CityIndexDbtResource
from pipelines.ingest.assets import SOURCE_ASSETS, city_registry, index_framework
from pipelines.ingest.raw_checks import RAW_CHECKS
from pipelines.ingest.reference_tables import REFERENCE_CHECKS
from pipelines.release.assets import annual_release
from pipelines.resources import WarehouseResource
from pipelines.settings import apply_environment_defaults
from pipelines.validation.audit_check import indicator_audit
from pipelines.validation.edition_gate import edition_gate

apply_environment_defaults()

# The dbt installed beside this Python (the venv), whether or not the venv is on PATH.
DBT_EXECUTABLE = str(Path(sys.executable).parent / "dbt")

INGEST_ASSETS = [city_registry, index_framework, *SOURCE_ASSETS]
BUILD_ASSETS = [city_index_models, index_analysis]
# The raw checks run (blocking) at the head of every build, without their ingest assets: a bad
# raw table of any year the build reads, or a registry or framework table older than its file,
# stops the run before dbt starts.
RAW_DATA_CHECKS = dg.AssetSelection.checks(*RAW_CHECKS, *REFERENCE_CHECKS)

ingest_job = dg.define_asset_job(
    "ingest",
    selection=dg.AssetSelection.assets(*INGEST_ASSETS),
    description="Fetch and land every source for one year (snapshot, live or record mode).",
    executor_def=dg.in_process_executor,
)

# Building and releasing read the raw data already landed: they never ingest, so a release
# publishes exactly what was fetched (live, record or snapshot) and makes no request.
build_job = dg.define_asset_job(
    "build",
    selection=dg.AssetSelection.assets(*BUILD_ASSETS) | RAW_DATA_CHECKS,
    description=(
        "Build the index and its analysis for a year or a range of years (one run), with the "
        "dbt tests and the Great Expectations gate; other years' rows are left as they are."
    ),
    # One process: every step opens the same DuckDB file, which allows one writer at a time.
    executor_def=dg.in_process_executor,
)

annual_edition_job = dg.define_asset_job(
    "annual_edition",
    selection=dg.AssetSelection.assets(*BUILD_ASSETS, annual_release) | RAW_DATA_CHECKS,
    description=(
        "Build, validate and release one year's edition from the landed raw data: dbt models, "
        "analysis, the Great Expectations gate (blocking) and the release folder."
    ),
    executor_def=dg.in_process_executor,
)

# On 1 January: ingest the year that ended (in the configured mode), then, once that run has
# succeeded, build and release its edition: two runs, each visible in the UI.
annual_ingest_schedule = dg.build_schedule_from_partitioned_job(
    ingest_job, name="annual_ingest_schedule"
)


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[ingest_job],
    request_job=annual_edition_job,
    description="After the scheduled ingest of a year succeeds, build and release its edition.",
)
def edition_after_annual_ingest(context: dg.RunStatusSensorContext):
    run = context.dagster_run
    if run.tags.get("dagster/schedule_name") != annual_ingest_schedule.name:
        return dg.SkipReason("not the annual ingest: editions are released on request")
    partition = run.tags.get("dagster/partition")
    return dg.RunRequest(run_key=f"edition-{partition}-{run.run_id}", partition_key=partition)


defs = dg.Definitions(
    assets=[*INGEST_ASSETS, *BUILD_ASSETS, annual_release],
    asset_checks=[edition_gate, indicator_audit, *RAW_CHECKS, *REFERENCE_CHECKS],
    jobs=[ingest_job, build_job, annual_edition_job],
    schedules=[annual_ingest_schedule],
    sensors=[edition_after_annual_ingest],
    # The CLI's console: one line per message; failures are summarised once by the CLI.
    loggers={"console": run_console},
    # Every run, the UI's asset materializations and backfills included, runs its steps in
    # one process: DuckDB allows one writer, and the run lock is held per process.
    executor=dg.in_process_executor,
    resources={
        "warehouse": WarehouseResource(database=dg.EnvVar("CITY_INDEX_WAREHOUSE")),
        "dbt": CityIndexDbtResource(project_dir=dbt_project, dbt_executable=DBT_EXECUTABLE),
    },
)
