"""Ingest assets: the registry, the framework and one asset per source, partitioned by year.

Each source asset fetches through its real HTTP client (snapshot, live or record mode) and
lands the responses and parsed rows in the DuckDB raw schema, replacing that year in one
transaction.
"""

import dagster as dg
import polars as pl
from dagster_duckdb import DuckDBResource
from pydantic import Field

from pipelines.errors import EXIT_CODE_METADATA, USAGE, as_dagster_failure
from pipelines.ingest.landing import (
    SOURCE_TABLES,
    batch_is_synthetic,
    land_batch,
    landed_kind,
    not_per_city_message,
    per_city,
)
from pipelines.ingest.plan import plan_source
from pipelines.ingest.progress import SourceRun, console_shows, source_run
from pipelines.ingest.reference_tables import reference_table
from pipelines.metadata import table_metadata
from pipelines.partitions import yearly_partitions
from pipelines.registry import load_cities, unknown_cities_message
from pipelines.resources import transaction
from pipelines.settings import landing_dir
from pipelines.sources.catalog import SPECS
from pipelines.sources.http import resolve_mode
from pipelines.sources.spec import SourceSpec


class IngestConfig(dg.Config):
    """Narrow an ingest run to these city ids (all when empty). Real landed data is kept
    unless replace_real_with_synthetic says to overwrite it with a synthetic batch."""

    cities: list[str] = []
    replace_real_with_synthetic: bool = False
    progress: bool | None = Field(
        default=None,
        description="Log progress every ~30 s or 10 % and a summary per source: by default "
        "in live and record mode only (snapshot runs stay quiet).",
    )


def _replace_table(warehouse: DuckDBResource, table: str, frame: pl.DataFrame) -> None:
    """Replace a whole reference table (registry, framework) in one transaction."""
    assert table in {"cities", "framework"}, table  # whitelist: names never come from data
    with warehouse.get_connection() as con:
        con.execute("create schema if not exists raw")
        con.register("incoming", frame.to_arrow())
        with transaction(con):
            con.execute(f"create or replace table raw.{table} as select * from incoming")
        con.unregister("incoming")


@dg.asset(
    key=["raw", "cities"],
    group_name="ingest",
    partitions_def=yearly_partitions,
    kinds={"csv", "duckdb"},
    description="The city registry (assets/cities.csv), checked on load.",
)
def city_registry(warehouse: DuckDBResource) -> dg.MaterializeResult:
    with as_dagster_failure():
        cities = reference_table("cities")
    _replace_table(warehouse, "cities", cities)
    return dg.MaterializeResult(metadata=table_metadata({"cities": cities.height}, cities))


@dg.asset(
    key=["raw", "framework"],
    group_name="ingest",
    partitions_def=yearly_partitions,
    kinds={"csv", "duckdb"},
    description="The index framework (assets/framework.csv, COINr iMeta columns), checked on "
    "load: a tree of aggregates, positive weights, directions of 1 or -1, safe codes.",
)
def index_framework(warehouse: DuckDBResource) -> dg.MaterializeResult:
    with as_dagster_failure():
        framework = reference_table("framework")
    _replace_table(warehouse, "framework", framework)
    return dg.MaterializeResult(metadata=table_metadata({"framework": framework.height}, framework))


def _planned_requests(
    context: dg.AssetExecutionContext, spec: SourceSpec, cities: pl.DataFrame, year: int
) -> int | None:
    """The requests the source's plan expects (the progress total), None without a plan."""
    try:
        return plan_source(spec, cities, year).requests
    except Exception as error:  # a broken plan costs the total, not the ingest
        context.log.warning(f"{spec.name} {year}: no plan ({error}); progress without a total")
        return None


def source_asset_keys(source: str) -> list[dg.AssetKey]:
    return [dg.AssetKey(["raw", table]) for table in SOURCE_TABLES[source]]


def _source_asset(spec: SourceSpec) -> dg.AssetsDefinition:
    """One ingest multi-asset per source spec: fetch the source for the partition year and
    land its raw tables. ``spec.inputs`` reads what the fetch needs from the warehouse, and
    ``spec.reads`` names those raw tables, so Dagster lands them first."""
    source = spec.name

    @dg.multi_asset(
        name=f"ingest_{source}",
        specs=[
            dg.AssetSpec(
                key,
                group_name="ingest",
                deps=[city_registry, *(dg.AssetKey(["raw", t]) for t in spec.reads)],
                kinds={"python", "duckdb"},
                description=f"{spec.description} (raw.{key.path[-1]})",
            )
            for key in source_asset_keys(source)
        ],
        partitions_def=yearly_partitions,
    )
    def _ingest(context: dg.AssetExecutionContext, config: IngestConfig, warehouse: DuckDBResource):
        year = int(context.partition_key)
        cities = load_cities()
        if config.cities:
            unknown = sorted(set(config.cities) - set(cities["id"].to_list()))
            if unknown:
                raise dg.Failure(
                    unknown_cities_message(unknown, cities), metadata={EXIT_CODE_METADATA: USAGE}
                )
            if not per_city(source):
                raise dg.Failure(
                    not_per_city_message([source]), metadata={EXIT_CODE_METADATA: USAGE}
                )
            cities = cities.filter(pl.col("id").is_in(config.cities))
        progress = config.progress if config.progress is not None else resolve_mode() != "snapshot"
        total = _planned_requests(context, spec, cities, year) if progress else None

        # In the UI the run log carries the progress; under the CLI, whatever the CLI shows
        # itself (bars, the summary block) goes to the run log at debug level only.
        progress_log = context.log.debug if console_shows("progress") else context.log.info

        def summarise(run: SourceRun) -> None:
            if not progress:
                return
            if console_shows("summary"):
                context.log.debug(run.summary())
            else:
                (context.log.info if run.error is None else context.log.warning)(run.summary())

        with (
            as_dagster_failure(),  # refused inputs and faults in the user's terms
            source_run(
                source, year, total, log=progress_log if progress else None, end=summarise
            ) as run,
        ):
            inputs = {}
            if spec.inputs is not None:
                with warehouse.get_connection() as con:
                    inputs = spec.inputs(con, year)
            batch = spec.fetch(cities, year, **inputs)
            with warehouse.get_connection() as con:
                previous = landed_kind(con, source, year)
                counts = land_batch(
                    con,
                    batch,
                    landing_dir(),
                    cities=config.cities or None,
                    replace_real_with_synthetic=config.replace_real_with_synthetic,
                )
        if previous and not previous["synthetic"] and batch_is_synthetic(batch):
            context.log.warning(
                f"{source} {year}: real data landed in {previous['mode']} mode was replaced "
                "by synthetic data, as asked (--replace-real-with-synthetic)"
            )
        context.log.info(f"{source} {year}: {len(batch.responses)} responses, rows {counts}")
        for issue in batch.issues:
            context.log.warning(issue)
        for key in source_asset_keys(source):
            table = key.path[-1]
            frame = batch.tables.get(table, pl.DataFrame())
            metadata = table_metadata({table: counts.get(table, frame.height)}, frame)
            metadata["responses"] = len(batch.responses)
            metadata["synthetic responses"] = sum(r.synthetic for r in batch.responses)
            metadata["requests"] = run.done
            metadata["reused from store"] = run.reused
            yield dg.MaterializeResult(asset_key=key, metadata=metadata)

    return _ingest


SOURCE_ASSETS = [_source_asset(spec) for spec in SPECS.values()]
