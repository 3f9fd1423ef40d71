"""The dbt project as Dagster assets: staging, intermediate, engine and marts, per edition year.

A run builds the years of its partition, or of its partition range in one dbt invocation (a
single-run backfill): the marts replace exactly those years (delete+insert), so a build of any
year, in any order, never changes another year's rows. Intermediate and engine tables are
working tables that hold the years of the last build; the marts hold every year built.
"""

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from pipelines.background_import import imported_meanwhile
from pipelines.index.dbt_runner import PROJECT_DIR
from pipelines.index.method import method_vars
from pipelines.index.method_run_config import MethodRunConfig
from pipelines.partitions import run_years, yearly_partitions
from pipelines.settings import output_home, warehouse_path
from pipelines.work_folders import mark_used, prune

dbt_project = DbtProject(project_dir=PROJECT_DIR)


class CityIndexTranslator(DagsterDbtTranslator):
    """Models are grouped by layer; sources keep their raw/<table> keys, which are the keys
    of the ingest assets that land them."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        fqn = dbt_resource_props.get("fqn", [])
        return f"dbt_{fqn[1]}" if len(fqn) > 2 else "dbt"


def build_vars(years: Sequence[int]) -> dict[str, int]:
    """dbt vars for a build of consecutive years (one partition, or a range in one run)."""
    return {"year_from": min(years), "year_to": max(years)}


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    partitions_def=yearly_partitions,
    dagster_dbt_translator=CityIndexTranslator(),
    # A backfill of many years is one dbt invocation: the per-year steps are independent, and
    # one start-up of dbt costs more than the models themselves.
    backfill_policy=dg.BackfillPolicy.single_run(),
)
def city_index_models(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, config: MethodRunConfig
):
    """Build and test every model for the run's years with the run's method; marts replace
    only those years (with panel normalisation, every year from the first is recomputed, as
    the method pools them)."""
    years = run_years(context)
    context.log.info(f"building years {years[0]}-{years[-1]}")
    dbt_vars = {**build_vars(years), **method_vars(config.method())}
    args = ["build", "--vars", json.dumps(dbt_vars)]
    # dbt builds in its own process while this one waits on its events: the edition gate's
    # Great Expectations (2-3 s of import taken off the gate's step) and the release report
    # with its matplotlib (0.4-0.5 s off `annual_release`) load meanwhile.
    target = build_target(dbt_vars)
    mark_used(target)
    prune(target.parent)  # only folders no build has used since 24 others
    with imported_meanwhile("great_expectations", "pipelines.release.report"):
        yield from dbt.cli(args, context=context, target_path=target).stream()


def build_target(dbt_vars: Mapping[str, Any]) -> Path:
    """dbt's target folder for a build with these vars on this warehouse, kept between runs.

    dbt parses the whole project again whenever its vars or profile differ from the last
    parse in its target folder (about 1.5 s a build here); a folder per set of vars and
    warehouse lets the next build with the same ones (a new edition of a year, the history
    build before it) reuse its partial parse, as dbt at a shell with one target does. Under
    the pipeline's home, whose run lock keeps two builds apart."""
    key = json.dumps({"vars": dbt_vars, "warehouse": str(warehouse_path())}, sort_keys=True)
    return output_home() / "dbt_targets" / hashlib.sha256(key.encode()).hexdigest()[:16]
