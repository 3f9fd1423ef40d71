"""Analysis on top of the engine, for every year a run builds: rank intervals, sensitivity,
coherence and external validation, written to the warehouse's `analysis` schema. Each year is
replaced whole and kept, so an analyst can read any past year's rank intervals."""

import dagster as dg
import polars as pl
from dagster_duckdb import DuckDBResource

from pipelines.analysis.audit import AuditThresholds, audit_edition, read_audit_inputs
from pipelines.analysis.coherence import pillar_alpha, pillar_correlations
from pipelines.analysis.engine_numpy import compile_framework, dense_values
from pipelines.analysis.external_validation import spearman_against
from pipelines.analysis.uncertainty import (
    change_significance,
    monte_carlo_ranks,
    sensitivity_indices,
)
from pipelines.index import build_ledger
from pipelines.index.method import read_method
from pipelines.metadata import markdown_preview
from pipelines.partitions import run_years, yearly_partitions
from pipelines.resources import transaction

ANALYSIS_TABLES = (
    "uncertainty",
    "sensitivity",
    "coherence",
    "pillar_alpha",
    "external_validation",
    "audit",  # pipelines.analysis.audit
)
# The benchmark of the external validation, as named in assets/inputs/published_rankings.csv.
BENCHMARK_RANKING = "GaWC global network connectivity"
EXTERNAL_VALIDATION_SCHEMA = {
    "benchmark": pl.String,
    "n_units": pl.Int64,
    "spearman_rho": pl.Float64,  # null when fewer than 3 cities are in both rankings
    "p_value": pl.Float64,
}


class AuditConfig(dg.Config):
    """Where the indicator audit draws its lines (defaults and meaning: AuditThresholds)."""

    min_coverage: float = AuditThresholds.min_coverage
    min_distinct: int = AuditThresholds.min_distinct
    max_modal_share: float = AuditThresholds.max_modal_share
    min_alpha: float = AuditThresholds.min_alpha
    min_variance_ratio: float = AuditThresholds.min_variance_ratio
    skew_threshold: float = AuditThresholds.skew_threshold
    kurt_threshold: float = AuditThresholds.kurt_threshold


class AnalysisConfig(dg.Config):
    """Monte Carlo settings (recorded in the release manifest) and the audit's thresholds."""

    replications: int = 1000
    seed: int = 20250101
    weight_perturbation: float = 0.25
    sensitivity_base_samples: int = 256
    audit: AuditConfig = AuditConfig()


def read_year(con, year: int) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """A year's indicators (screened-in cities), ranking and framework, in a fixed order (the
    Monte Carlo's sums follow it, so the same inputs give the same bits)."""
    indicators = con.sql(
        "select city_id as unit_code, icode, raw_value as value, normalised_value"
        " from marts.fct_indicator_value where year = ? and treatment <> 'not ranked'"
        " order by unit_code, icode",
        params=[year],
    ).pl()
    ranking = con.sql(
        "select city_id, rank, previous_rank, score, ranked from marts.mart_city_ranking"
        " where year = ? order by city_id",
        params=[year],
    ).pl()
    framework = con.sql(
        "select level, icode, direction, weight, parent, type from engine.eng_framework"
        " order by level, icode"
    ).pl()
    return indicators, ranking, framework


def benchmark(con, year: int) -> tuple[str, pl.DataFrame]:
    """The latest edition (as of the year) of the benchmark ranking, as (name, unit_code,
    value) with value = -position, so that a higher value is a better place."""
    rows = con.sql(
        "select city_id as unit_code, edition_year, -position as value"
        " from marts.fct_published_ranking where year = ? and ranking = ?"
        " and edition_year = (select max(edition_year) from marts.fct_published_ranking"
        "                     where year = ? and ranking = ?)"
        " order by unit_code",
        params=[year, BENCHMARK_RANKING, year, BENCHMARK_RANKING],
    ).pl()
    edition = rows["edition_year"][0] if rows.height else None
    name = f"{BENCHMARK_RANKING} {edition}" if edition else f"{BENCHMARK_RANKING} (none by {year})"
    return name, rows.select("unit_code", pl.col("value").cast(pl.Float64))


def replace_year(con, year: int, tables: dict[str, pl.DataFrame]) -> None:
    """Replace one year of every analysis table in one transaction (a run killed halfway
    leaves the year as it was). Table names come from the fixed ANALYSIS_TABLES."""
    assert set(tables) == set(ANALYSIS_TABLES), sorted(tables)
    con.execute("create schema if not exists analysis")
    views = {table: f"incoming_{table}" for table in ANALYSIS_TABLES}
    for table, view in views.items():
        con.register(view, tables[table].with_columns(pl.lit(year).alias("year")).to_arrow())
    try:
        with transaction(con):
            for table, view in views.items():
                con.execute(
                    f"create table if not exists analysis.{table} as select * from {view} limit 0"
                )
                con.execute(f"delete from analysis.{table} where year = ?", [year])
                con.execute(f"insert into analysis.{table} by name select * from {view}")
    finally:
        for view in views.values():
            con.unregister(view)


def analyse_year(con, year: int, config: AnalysisConfig) -> dict[str, pl.DataFrame]:
    """Every analysis table's rows for one year."""
    indicators, ranking, framework = read_year(con, year)
    compiled = compile_framework(framework)
    values, units = dense_values(indicators, compiled)
    method = read_method(con)  # the Monte Carlo perturbs around the method the engine used
    intervals = monte_carlo_ranks(
        compiled,
        values,
        units,
        n_reps=config.replications,
        seed=config.seed,
        weight_perturbation=config.weight_perturbation,
        method=method,
    )
    uncertainty = (
        ranking.select("city_id", "rank", "previous_rank")
        .join(intervals.rename({"unit_code": "city_id"}), on="city_id", how="left")
        .with_columns(
            pl.struct("previous_rank", "rank", "rank_p05", "rank_p95")
            .map_elements(
                lambda r: change_significance(
                    r["previous_rank"], r["rank"], r["rank_p05"], r["rank_p95"]
                ),
                return_dtype=pl.Boolean,
            )
            .alias("change_significant")
        )
        .drop("previous_rank", "nominal_rank")
    )
    sensitivity = sensitivity_indices(
        compiled,
        values,
        units,
        n_base=config.sensitivity_base_samples,
        seed=config.seed,
        weight_perturbation=config.weight_perturbation,
        method=method,
    )
    normalised = indicators.select("unit_code", "icode", pl.col("normalised_value").alias("value"))
    scores = ranking.filter(pl.col("ranked")).select(pl.col("city_id").alias("unit_code"), "score")
    benchmark_name, benchmark_values = benchmark(con, year)
    return {
        "uncertainty": uncertainty,
        "sensitivity": sensitivity,
        "coherence": pillar_correlations(normalised, framework),
        "pillar_alpha": pillar_alpha(normalised, framework),
        "external_validation": pl.DataFrame(
            [spearman_against(scores, benchmark_values, benchmark_name)],
            schema=EXTERNAL_VALIDATION_SCHEMA,
        ),
        "audit": audit_edition(
            **read_audit_inputs(con, year),
            thresholds=AuditThresholds(**config.audit.model_dump()),
        ),
    }


@dg.asset(
    group_name="analysis",
    partitions_def=yearly_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=[
        dg.AssetKey(["marts", "mart_city_ranking"]),
        dg.AssetKey(["marts", "fct_indicator_value"]),
        dg.AssetKey(["marts", "fct_published_ranking"]),
        dg.AssetKey(["engine", "eng_framework"]),
        dg.AssetKey(["engine", "eng_method"]),
    ],
    kinds={"python", "duckdb"},
    description=(
        "Per year: rank intervals (seeded Monte Carlo over weights, treatment, normalisation "
        "and aggregation), Sobol sensitivity per assumption, pillar coherence (correlations, "
        "Cronbach's alpha) and external validation against the latest GaWC edition."
    ),
)
def index_analysis(
    context: dg.AssetExecutionContext, config: AnalysisConfig, warehouse: DuckDBResource
) -> dg.MaterializeResult:
    years = run_years(context)
    with warehouse.get_connection() as con:
        build_ledger.invalidate(con, years)  # no longer known current once replaced
        for year in years:
            last = analyse_year(con, year, config)
            replace_year(con, year, last)
    flagged = last["coherence"].filter(pl.col("flag") != "ok").height
    return dg.MaterializeResult(
        metadata={
            "years": f"{years[0]}-{years[-1]}",
            "dagster/row_count": last["uncertainty"].height,
            "replications": config.replications,
            "seed": config.seed,
            f"flagged correlations {years[-1]}": flagged,
            f"spearman vs benchmark {years[-1]}": last["external_validation"]["spearman_rho"][0],
            "preview": markdown_preview(last["uncertainty"].sort("rank", nulls_last=True)),
        }
    )
