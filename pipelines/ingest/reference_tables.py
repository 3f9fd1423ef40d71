"""The reference tables raw.cities and raw.framework: loaded from the repository's files
(assets/cities.csv, assets/framework.csv), not fetched.

Why here and not only in the ingest: the ingest loads them, but every build reads them, and an
edited file (a weight re-balanced, a city renamed) must reach the next build. A build that read
the table loaded at the last ingest would publish numbers made with the old framework while
the build ledger recorded the new file. So `city-index release` reloads a table that differs
from its file (no request is made: the files are in the repository), and a blocking check at
the head of every build, the UI's included, stops a build that would read a stale one.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
from dagster_duckdb import DuckDBResource

from pipelines.index.framework_check import META_COLUMNS, load_framework
from pipelines.registry import CITIES_CSV, load_cities
from pipelines.settings import FRAMEWORK_CSV

SCHEMA = "raw"


def framework_table(path: Path) -> pl.DataFrame:
    """raw.framework as the framework file makes it: checked, lower-case COINr columns, and
    `position`, the file's order (the pillars' order in the mart and the report)."""
    checked = load_framework(path)
    framework = checked.rename(
        {column: column.lower() for column in (*META_COLUMNS, "iName_zh")}, strict=False
    )
    if "iname_zh" not in framework.columns:  # optional: the report falls back to iName
        framework = framework.with_columns(pl.lit(None, pl.String).alias("iname_zh"))
    return framework.with_row_index("position", offset=1)


REFERENCE_TABLES = ("cities", "framework")


def reference_file(name: str) -> Path:
    """The file a reference table is made from (looked up on each call: tests point it
    elsewhere)."""
    return {"cities": CITIES_CSV, "framework": FRAMEWORK_CSV}[name]


def reference_table(name: str) -> pl.DataFrame:
    """The table `name` as its file makes it now (refused naming file, row and column)."""
    path = reference_file(name)
    return load_cities(path) if name == "cities" else framework_table(path)


def is_current(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """raw.<name> exists and holds exactly what its file makes now."""
    if name not in REFERENCE_TABLES:
        raise ValueError(f"not a reference table: {name}")
    try:
        loaded = con.sql(f"select * from {SCHEMA}.{name}").pl()  # whitelisted name above
    except duckdb.CatalogException:
        return False
    return loaded.equals(reference_table(name))


def stale_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [name for name in REFERENCE_TABLES if not is_current(con, name)]


def stale_message(name: str) -> str:
    return (
        f"raw.{name} differs from {reference_file(name)} (the file changed since it was loaded): "
        f"`city-index release` reloads it, or materialize raw/{name} in the UI, then build again"
    )


def _reference_check(name: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=dg.AssetKey([SCHEMA, name]),
        name=f"{name}_current",
        blocking=True,
        description=(
            f"raw.{name} holds what its file makes now; blocking: a build never reads a "
            "table loaded from an older version of the file."
        ),
    )
    def _check(warehouse: DuckDBResource) -> dg.AssetCheckResult:
        with warehouse.get_connection() as con:
            current = is_current(con, name)
        return dg.AssetCheckResult(
            passed=current,
            severity=dg.AssetCheckSeverity.ERROR,
            description=f"raw.{name} is current" if current else stale_message(name),
        )

    return _check


REFERENCE_CHECKS = [_reference_check(name) for name in REFERENCE_TABLES]
