"""The Dagster code location: every asset, check, job, schedule and resource in one place."""

from __future__ import annotations

import sys
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource

from pipelines.analysis.assets import index_analysis
from pipelines.index.assets import city_index_models, dbt_project
from pipelines.ingest.assets import SOURCE_ASSETS, city_registry, index_framework
from pipelines.release.assets import annual_release
from pipelines.resources import WarehouseResource
from pipelines.settings import apply_environment_defaults
from pipelines.validation.audit_check import indicator_audit
from pipelines.validation.edition_gate import edition_gate

apply_environment_defaults()

# The dbt installed beside this Python (the venv), whether or not the venv is on PATH.
DBT_EXECUTABLE = str(Path(sys.executable).parent / "dbt")

INGEST_ASSETS = [city_registry, index_framework, *SOURCE_ASSETS]

ingest_job = dg.define_asset_job(
    "ingest",
    selection=dg.AssetSelection.assets(*INGEST_ASSETS),
    description="Fetch and land every source for one year (snapshot, live or record mode).",
    executor_def=dg.in_process_executor,
)

annual_edition_job = dg.define_asset_job(
    "annual_edition",
    selection=dg.AssetSelection.all(),
    description=(
        "Build, validate and release one year's edition: ingest, dbt models, analysis, the "
        "Great Expectations gate (blocking) and the release folder."
    ),
    # One process: every step opens the same DuckDB file, which allows one writer at a time.
    executor_def=dg.in_process_executor,
)

# On 1 January, build the edition of the year that just ended.
annual_schedule = dg.build_schedule_from_partitioned_job(annual_edition_job)

defs = dg.Definitions(
    assets=[*INGEST_ASSETS, city_index_models, index_analysis, annual_release],
    asset_checks=[edition_gate, indicator_audit],
    jobs=[ingest_job, annual_edition_job],
    schedules=[annual_schedule],
    resources={
        "warehouse": WarehouseResource(database=dg.EnvVar("CITY_INDEX_WAREHOUSE")),
        "dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=DBT_EXECUTABLE),
    },
)
