"""The release asset: gathers the validated edition from the warehouse and publishes it."""

import datetime as dt
import json
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
from dagster_duckdb import DuckDBResource

from pipelines.index.method import recorded_configuration
from pipelines.ingest.landing import SOURCE_TABLES
from pipelines.partitions import yearly_partitions
from pipelines.release import files as release_files
from pipelines.release.edition import (
    ReleaseRefused,
    code_version,
    package_versions,
    publish_edition,
)
from pipelines.release.sources import source_description
from pipelines.settings import releases_dir, validation_dir

# Tables copied into the edition's DuckDB file: (schema, table), all filtered to years <= edition.
EDITION_TABLES = (
    ("marts", "mart_city_ranking"),
    ("marts", "fct_index_score"),
    ("marts", "fct_indicator_value"),
    ("marts", "fct_data_availability"),
    ("marts", "fct_treatment_log"),
    ("marts", "fct_published_ranking"),
    ("analysis", "uncertainty"),
    ("analysis", "sensitivity"),
    ("analysis", "coherence"),
    ("analysis", "pillar_alpha"),
    ("analysis", "external_validation"),
    ("analysis", "audit"),
)
# Tables without a year, copied whole: (schema, table) -> name in the edition's marts schema.
UNDATED_TABLES = {
    ("marts", "dim_city"): "dim_city",
    ("staging", "stg_framework__indicators"): "framework",
}
# What the release reads, declared so that the asset graph shows every input.
RELEASE_INPUTS = [
    dg.AssetKey("index_analysis"),
    *(dg.AssetKey(list(key)) for key in EDITION_TABLES if key[0] == "marts"),
    *(dg.AssetKey(list(key)) for key in UNDATED_TABLES),
    dg.AssetKey(["engine", "eng_method"]),  # the method used, for the manifest
    *(dg.AssetKey(["raw", table]) for tables in SOURCE_TABLES.values() for table in tables),
]


class ReleaseConfig(dg.Config):
    """Edition number: empty means the latest existing edition of the year (or 1)."""

    edition: int | None = None


def edition_ranking(con: duckdb.DuckDBPyConnection, year: int) -> pl.DataFrame:
    return con.sql(
        """
        select r.*, u.median_rank, u.rank_p05, u.rank_p95, u.change_significant
        from marts.mart_city_ranking as r
        left join analysis.uncertainty as u using (city_id, year)
        where r.year = ?
        order by r.rank nulls last, r.name_en, r.city_id
        """,
        params=[year],
    ).pl()


def provenance(con: duckdb.DuckDBPyConnection, year: int) -> tuple[pl.DataFrame, list[dict]]:
    """Per source: responses used (sources.RESPONSES_RULE: distinct requests landed for the
    edition's years), retrieval window, synthetic or real; and every response."""
    responses = con.sql(
        """
        select distinct source, request_key, url, retrieved_at, sha256, synthetic, status
        from raw.api_responses where year <= ? order by source, url, request_key
        """,
        params=[year],
    ).pl()
    summary = (
        responses.group_by("source")
        .agg(
            pl.col("request_key").n_unique().alias("responses"),
            pl.col("synthetic").any().alias("synthetic"),
            pl.col("retrieved_at").min().cast(pl.String).alias("retrieved_at_min"),
            pl.col("retrieved_at").max().cast(pl.String).alias("retrieved_at_max"),
        )
        .with_columns(
            pl.when(pl.col("synthetic"))
            .then(pl.lit("generated deterministically in the real response format"))
            .otherwise(pl.lit("real values"))
            .alias("note"),
            pl.col("source")
            .map_elements(source_description, return_dtype=pl.String)
            .alias("description"),
        )
        .sort("source")
    )
    listed = responses.drop("request_key").unique(maintain_order=True)
    return summary, listed.with_columns(pl.col("retrieved_at").cast(pl.String)).to_dicts()


def data_kinds(con: duckdb.DuckDBPyConnection, year: int) -> pl.DataFrame:
    """Per landed (source, year) up to the edition: the mode it came in and whether it is
    synthetic, as recorded by the landing."""
    return con.sql(
        "select source, year, mode, synthetic, responses, cast(landed_at as varchar)"
        " as landed_at from raw.landed_batches where year <= ? order by source, year",
        params=[year],
    ).pl()


def validation_summary(year: int) -> tuple[pl.DataFrame, Path | None]:
    """What the gate recorded for this year (written by the edition_gate check)."""
    folder = validation_dir() / str(year)
    summary_file = folder / "summary.json"
    if not summary_file.exists():
        raise dg.Failure(f"no validation result for {year}: the edition gate has not run")
    summary = json.loads(summary_file.read_text())
    docs = folder / "docs"
    return pl.DataFrame(summary["suites"]), docs if docs.is_dir() else None


def write_edition_database(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    year: int,
    synthetic_sources: list[str],
    framework: pl.DataFrame,
) -> None:
    """The analysts' file: the edition's marts and analysis tables (opened read-only by them)."""
    release_files.write_edition_database(
        con,
        path,
        year,
        EDITION_TABLES,
        UNDATED_TABLES,
        synthetic_sources,
        release_files.pillar_descriptions(framework),
    )


@dg.asset(
    group_name="release",
    partitions_def=yearly_partitions,
    deps=RELEASE_INPUTS,
    kinds={"duckdb", "html", "parquet"},
    description=(
        "The released edition: releases/<year>/edition-<n>/ with index.csv, index.parquet, the "
        "analysts' DuckDB file, report.html and report.zh.html, Data Docs and manifest.json. "
        "Built in a temporary folder and renamed into place; immutable once released."
    ),
)
def annual_release(
    context: dg.AssetExecutionContext, config: ReleaseConfig, warehouse: DuckDBResource
) -> dg.MaterializeResult:
    # Imported here, not when the definitions load: the report brings matplotlib, which the
    # dbt step of the same run imports on a background thread (pipelines/background_import.py).
    from pipelines.release.report import EditionData, write_report
    from pipelines.release.report import release_files as report_links

    year = int(context.partition_key)
    validation, docs = validation_summary(year)
    generated_at = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    version = code_version()

    with warehouse.get_connection() as con:
        ranking = edition_ranking(con, year)
        history = con.sql(
            "select year, city_id, name_en, name_zh, score, rank from marts.mart_city_ranking"
            " where year <= ? and ranked order by year, rank, city_id",
            params=[year],
        ).pl()
        # The report's city profiles: every code's score and rank over the years, the raw
        # values of the year, and each city's region (tables already in RELEASE_INPUTS).
        scores = con.sql(
            "select city_id, year, icode, level, score, rank from marts.fct_index_score"
            " where year <= ? order by year, icode, city_id",
            params=[year],
        ).pl()
        indicator_values = con.sql(
            "select city_id, year, icode, raw_value, imputed from marts.fct_indicator_value"
            " where year = ? order by icode, city_id",
            params=[year],
        ).pl()
        cities = con.sql(
            "select city_id, name_en, name_zh, country_iso3, region from marts.dim_city"
        ).pl()
        framework = con.sql(
            "select * from staging.stg_framework__indicators order by position"
        ).pl()
        analysis = {
            table: con.sql(
                f"select * exclude (year) from analysis.{table} where year = ?", params=[year]
            ).pl()
            for table in ("coherence", "pillar_alpha", "external_validation", "sensitivity")
            + ("audit",)
        }
        sources, responses = provenance(con, year)
        kinds = data_kinds(con, year)
        synthetic_sources = sources.filter(pl.col("synthetic"))["source"].to_list()

        def build(folder: Path, edition: int) -> dict:
            release_files.write_index_files(ranking, folder, year, edition, synthetic_sources)
            database = folder / f"city_index_{year}.duckdb"
            write_edition_database(con, database, year, synthetic_sources, framework)
            write_report(
                EditionData(
                    year=year,
                    edition=edition,
                    generated_at=generated_at,
                    code_version=version,
                    ranking=ranking,
                    history=history,
                    framework=framework,
                    coherence=analysis["coherence"],
                    pillar_alpha=analysis["pillar_alpha"],
                    external_validation=analysis["external_validation"],
                    provenance=sources,
                    validation=validation,
                    config=recorded_configuration(con),
                    audit=analysis["audit"],
                    sensitivity=analysis["sensitivity"],
                    data_kinds=kinds,
                    scores=scores,
                    indicators=indicator_values,
                    cities=cities,
                    files=report_links(year, validation_page=docs is not None),
                ),
                folder / "report.html",  # and report.zh.html beside it
            )
            if docs is not None:
                shutil.copytree(docs, folder / "validation")
            return {
                "generated_at": generated_at,
                "code_version": version,
                "versions": package_versions(),
                "framework": framework.to_dicts(),
                "configuration": recorded_configuration(con),
                "validation": validation.to_dicts(),
                "sources": sources.to_dicts(),
                "responses": responses,
                "synthetic_sources": synthetic_sources,
                "data_kinds": kinds.to_dicts(),
            }

        try:
            outcome = publish_edition(releases_dir(), year, config.edition, build)
        except ReleaseRefused as refused:
            raise dg.Failure(str(refused)) from refused

    context.log.info(outcome.message)
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(outcome.path)),
            "edition": outcome.edition,
            "created": outcome.created,
            "message": outcome.message,
            "dagster/row_count": ranking.height,
        }
    )
