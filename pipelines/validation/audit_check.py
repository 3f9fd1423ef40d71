"""The indicator audit as a blocking Dagster asset check: a hollow or degenerate indicator
stops the release and names itself with its numbers.

It reads the year's `analysis.audit` rows that `index_analysis` wrote (pipelines.analysis.audit)
and fails when any row is blocking; softer findings pass and are published in the report.
"""

import dagster as dg
import polars as pl
from dagster_duckdb import DuckDBResource

from pipelines.analysis.audit import BLOCK, FLAG
from pipelines.partitions import run_years


def audit_summary(audit: pl.DataFrame, year: int) -> tuple[bool, str]:
    """(passed, a message naming every blocking indicator and its numbers)."""
    if audit.is_empty():
        return False, f"no audit rows for {year}: index_analysis has not written analysis.audit"
    blocked = audit.filter(pl.col("status") == BLOCK)
    flagged = audit.filter(pl.col("status") == FLAG)
    if blocked.height:
        lines = [
            f"the {year} edition fails the indicator audit "
            f"({blocked.height} indicator(s) unfit to rank cities):"
        ]
        lines += [f"- {code}: {text}" for code, text in blocked.select("code", "findings").rows()]
        return False, "\n".join(lines)
    return True, (
        f"every indicator of {year} passes the audit's blocking rules "
        f"({flagged.height} flagged note(s) published in the report)"
    )


@dg.asset_check(
    asset=dg.AssetKey("index_analysis"),
    name="indicator_audit",
    blocking=True,
    description=(
        "Statistical audit of the edition's indicators (analysis.audit): coverage among ranked "
        "cities, distinct values and modal share. Blocking: a degenerate or hollow indicator "
        "stops the release."
    ),
)
def indicator_audit(context: dg.AssetCheckExecutionContext, warehouse: DuckDBResource):
    years = run_years(context)
    with warehouse.get_connection() as con:
        audits = {
            year: con.sql("select * from analysis.audit where year = ?", params=[year]).pl()
            for year in years
        }
    outcomes = {year: audit_summary(audit, year) for year, audit in audits.items()}
    failed = [year for year, (ok, _) in outcomes.items() if not ok]
    passed = not failed
    summary = "\n".join(outcomes[year][1] for year in (failed or [years[-1]]))
    audit = pl.concat(list(audits.values()), how="diagonal_relaxed")
    if not passed:
        context.log.error(summary)
    return dg.AssetCheckResult(
        passed=passed,
        severity=dg.AssetCheckSeverity.ERROR,
        description=summary.splitlines()[0],
        metadata={
            "summary": dg.MetadataValue.md(f"```\n{summary}\n```"),
            "blocking indicators": audit.filter(pl.col("status") == BLOCK)["code"].to_list(),
            "flagged notes": audit.filter(pl.col("status") == FLAG).height,
        },
    )
