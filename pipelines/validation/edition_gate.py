"""The release gate as a blocking Dagster asset check: one GX checkpoint per yearly edition.

It runs after the analysis asset and before the release: a failure stops the release and its
summary (failing expectations, columns and sample rows) shows in the UI and the CLI.
"""

import json
import shutil

import dagster as dg
import polars as pl
from dagster_duckdb import DuckDBResource

from pipelines.framework_tree import FrameworkTree
from pipelines.index.method import read_method, score_range
from pipelines.partitions import run_years
from pipelines.settings import validation_dir
from pipelines.validation.derive import join_uncertainty
from pipelines.validation.gate import run_checkpoint
from pipelines.validation.suites import default_parameters

# Suite name -> query for the edition year (the year is always a parameter, never spliced).
# The raw tables are checked where they enter (pipelines/ingest/raw_checks.py), before dbt.
EDITION_FRAMES = {
    "indicators": "select * from marts.fct_indicator_value where year = ?",
    "index_scores": "select * from marts.fct_index_score where year = ?",
}


def edition_frames(con, year: int) -> dict[str, pl.DataFrame]:
    frames = {name: con.sql(query, params=[year]).pl() for name, query in EDITION_FRAMES.items()}
    ranking = con.sql("select * from marts.mart_city_ranking where year = ?", params=[year]).pl()
    uncertainty = con.sql("select * from analysis.uncertainty where year = ?", params=[year]).pl()
    frames["index_ranking"] = join_uncertainty(ranking, uncertainty)
    frames["index_weights"] = con.sql(
        "select icode, parent, weight / sum(weight) over (partition by parent)"
        " as weight_normalised from engine.eng_framework where parent is not null"
    ).pl()
    return frames


def gate_parameters(con, year: int) -> dict:
    cities = con.execute("select count(*) from raw.cities").fetchall()[0][0]
    framework = con.sql("select icode, parent from engine.eng_framework order by icode").pl()
    return default_parameters(
        year,
        score_range=score_range(read_method(con), cities),  # the method's range
        pillars=FrameworkTree.from_rows(framework.to_dicts()).pillars,
    )


def validate_year(con, year: int):
    """Run the year's checkpoint; its summary and documents go to validation/<year>/."""
    folder = validation_dir() / str(year)
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    frames = edition_frames(con, year)
    parameters = gate_parameters(con, year)
    result = run_checkpoint(
        f"edition_{year}", frames, parameters, context_root=folder / "gx", docs_dir=folder / "docs"
    )
    suites = [
        {
            "suite": s.suite,
            "success": s.success,
            "evaluated": s.evaluated,
            "failed": len(s.failures),
        }
        for s in result.suites
    ]
    (folder / "summary.json").write_text(
        json.dumps({"success": result.success, "suites": suites}, indent=2)
    )
    return result


@dg.asset_check(
    asset=dg.AssetKey("index_analysis"),
    name="edition_gate",
    blocking=True,
    additional_deps=[
        dg.AssetKey(["raw", "cities"]),
        dg.AssetKey(["marts", "fct_indicator_value"]),
        dg.AssetKey(["marts", "fct_index_score"]),
        dg.AssetKey(["marts", "mart_city_ranking"]),
        dg.AssetKey(["engine", "eng_framework"]),
        dg.AssetKey(["engine", "eng_method"]),
    ],
    description=(
        "Great Expectations checkpoint edition_<year> for every year the run builds: "
        "indicators and index suites (gx/expectations). Blocking: a failure stops the release."
    ),
)
def edition_gate(context: dg.AssetCheckExecutionContext, warehouse: DuckDBResource):
    results = {}
    with warehouse.get_connection() as con:
        for year in run_years(context):
            results[year] = validate_year(con, year)
    failed = [year for year, result in results.items() if not result.success]
    summary = "\n".join(results[year].summary() for year in (failed or [max(results)]))
    if failed:
        context.log.error(summary)
    description = (
        f"failed for {', '.join(map(str, failed))}: " if failed else "passed: "
    ) + summary.splitlines()[0]
    last = results[max(results)]
    return dg.AssetCheckResult(
        passed=not failed,
        severity=dg.AssetCheckSeverity.ERROR,
        description=description,
        metadata={
            "years": ", ".join(map(str, results)),
            "summary": dg.MetadataValue.md(f"```\n{summary}\n```"),
            "failed expectations": sum(len(r.failures) for r in results.values()),
            "data docs": dg.MetadataValue.path(str(last.docs_index or "")),
        },
    )
