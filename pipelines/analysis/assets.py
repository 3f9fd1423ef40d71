"""Analysis on top of the engine for an edition year: rank intervals, sensitivity, coherence and
external validation, written to the warehouse's `analysis` schema (each year replaced whole)."""

import dagster as dg
import polars as pl
from dagster_duckdb import DuckDBResource

from pipelines.analysis.audit import audit_edition, read_audit_inputs  # h3-audit
from pipelines.analysis.coherence import pillar_alpha, pillar_correlations
from pipelines.analysis.engine_numpy import compile_framework, dense_values
from pipelines.analysis.external_validation import spearman_against
from pipelines.analysis.uncertainty import (
    change_significance,
    monte_carlo_ranks,
    sensitivity_indices,
)
from pipelines.index.method import read_method  # h3-audit
from pipelines.metadata import markdown_preview
from pipelines.partitions import yearly_partitions
from pipelines.resources import transaction
from pipelines.settings import ASSETS_DIR

ANALYSIS_TABLES = ("uncertainty", "sensitivity", "coherence", "pillar_alpha", "external_validation")
ANALYSIS_TABLES += ("audit",)  # h3-audit: pipelines.analysis.audit
GAWC_FILE = ASSETS_DIR / "reference" / "gawc_da31_global_network_connectivity_2020.csv"


class AnalysisConfig(dg.Config):
    """Monte Carlo settings (recorded in the release manifest)."""

    replications: int = 1000
    seed: int = 20250101
    weight_perturbation: float = 0.25
    sensitivity_base_samples: int = 256


def read_year(con, year: int) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """The edition year's indicators (screened-in cities), ranking and framework."""
    indicators = con.sql(
        "select city_id as unit_code, icode, raw_value as value, normalised_value"
        " from marts.fct_indicator_value where year = ? and treatment <> 'not ranked'",
        params=[year],
    ).pl()
    ranking = con.sql(
        "select city_id, rank, previous_rank, score, ranked from marts.mart_city_ranking"
        " where year = ?",
        params=[year],
    ).pl()
    framework = con.sql(
        "select level, icode, direction, weight, parent, type from engine.eng_framework"
    ).pl()
    return indicators, ranking, framework


def gawc_benchmark(con) -> pl.DataFrame:
    """GaWC 2020 global network connectivity of the registry's cities (real data)."""
    gawc = pl.read_csv(GAWC_FILE).select(
        pl.col("City").alias("gawc_name"), pl.col("GNC_abs").cast(pl.Float64).alias("value")
    )
    cities = con.sql("select city_id as unit_code, gawc_name from marts.dim_city").pl()
    return cities.join(gawc, on="gawc_name").select("unit_code", "value")


def replace_year(con, table: str, year: int, frame: pl.DataFrame) -> None:
    """Replace one year of an analysis table in one transaction (table from a fixed list)."""
    assert table in ANALYSIS_TABLES, table
    con.execute("create schema if not exists analysis")
    con.register("incoming", frame.with_columns(pl.lit(year).alias("year")).to_arrow())
    con.execute(f"create table if not exists analysis.{table} as select * from incoming limit 0")
    try:
        with transaction(con):
            con.execute(f"delete from analysis.{table} where year = ?", [year])
            con.execute(f"insert into analysis.{table} by name select * from incoming")
    finally:
        con.unregister("incoming")


@dg.asset(
    group_name="analysis",
    partitions_def=yearly_partitions,
    pool="duckdb",
    deps=[
        dg.AssetKey(["marts", "mart_city_ranking"]),
        dg.AssetKey(["marts", "fct_indicator_value"]),
    ],
    kinds={"python", "duckdb"},
    description=(
        "Rank intervals (seeded Monte Carlo over weights, treatment, normalisation and "
        "aggregation), Sobol sensitivity per assumption, pillar coherence (correlations, "
        "Cronbach's alpha) and external validation against GaWC 2020."
    ),
)
def index_analysis(
    context: dg.AssetExecutionContext, config: AnalysisConfig, warehouse: DuckDBResource
) -> dg.MaterializeResult:
    year = int(context.partition_key)
    with warehouse.get_connection() as con:
        indicators, ranking, framework = read_year(con, year)
        compiled = compile_framework(framework)
        values, units = dense_values(indicators, compiled)
        method = read_method(con)  # h3-audit: the Monte Carlo perturbs around the method used
        intervals = monte_carlo_ranks(
            compiled,
            values,
            units,
            n_reps=config.replications,
            seed=config.seed,
            weight_perturbation=config.weight_perturbation,
            method=method,  # h3-audit
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
            method=method,  # h3-audit
        )
        normalised = indicators.select(
            "unit_code", "icode", pl.col("normalised_value").alias("value")
        )
        coherence = pillar_correlations(normalised, framework)
        alpha = pillar_alpha(normalised, framework)
        scores = ranking.filter(pl.col("ranked")).select(
            pl.col("city_id").alias("unit_code"), "score"
        )
        external = pl.DataFrame(
            [spearman_against(scores, gawc_benchmark(con), "GaWC 2020 global network connectivity")]
        )
        for table, frame in (
            ("uncertainty", uncertainty),
            ("sensitivity", sensitivity),
            ("coherence", coherence),
            ("pillar_alpha", alpha),
            ("external_validation", external),
            ("audit", audit_edition(**read_audit_inputs(con, year))),  # h3-audit
        ):
            replace_year(con, table, year, frame)
    flagged = coherence.filter(pl.col("flag") != "ok").height
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": uncertainty.height,
            "replications": config.replications,
            "seed": config.seed,
            "flagged correlations": flagged,
            "spearman vs GaWC": external["spearman_rho"][0],
            "preview": markdown_preview(uncertainty.sort("rank", nulls_last=True)),
        }
    )
