"""The dbt project as Dagster assets: staging, intermediate, engine and marts, per edition year."""

import json
from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from pipelines.index.dbt_runner import PROJECT_DIR
from pipelines.index.method import method_vars  # h3-audit
from pipelines.index.method_run_config import MethodRunConfig  # h3-audit
from pipelines.partitions import yearly_partitions

dbt_project = DbtProject(project_dir=PROJECT_DIR)


class CityIndexTranslator(DagsterDbtTranslator):
    """Models are grouped by layer; sources keep their raw/<table> keys, which are the keys
    of the ingest assets that land them."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        fqn = dbt_resource_props.get("fqn", [])
        return f"dbt_{fqn[1]}" if len(fqn) > 2 else "dbt"


def edition_vars(year: int) -> dict[str, int]:
    """dbt vars for an edition year: the models use data up to and including that year."""
    return {"year": year}


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    partitions_def=yearly_partitions,
    dagster_dbt_translator=CityIndexTranslator(),
    pool="duckdb",
)
def city_index_models(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    config: MethodRunConfig,  # h3-audit
):
    """Build and test every model for the edition year (tables are rebuilt: idempotent)."""
    year = int(context.partition_key)
    dbt_vars = {**edition_vars(year), **method_vars(config.method())}  # h3-audit
    args = ["build", "--vars", json.dumps(dbt_vars)]
    yield from dbt.cli(args, context=context).stream()
