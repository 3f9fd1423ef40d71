"""The build ledger: which years of the warehouse a pipeline build made, and from what.

Why: `city-index release --year Y` rebuilds the history years before Y in a run of its own,
which is wasted when those years were already built with the same method, code and data (half
of an edition's time). The ledger (`ledger.built_years`, one row per year) records, for each
year a run built, the fingerprint of everything that build read; a release skips the history
only when every history year has a row whose fingerprint equals the one computed now.

A row may only ever claim a year whose marts and analysis are what its fingerprint describes:
every build deletes the rows of the years it replaces *before* it replaces them (a dbt
`on-run-start` hook, dbt_project/macros/build_ledger.sql, also for a bare `dbt build`; the
analysis asset at its start), and rows are written only after a run succeeded. A crash at any
moment thus leaves fewer rows, never a wrong one.

The fingerprint of year y is a sha256 over canonical JSON of: the method (dbt vars), the
analysis settings the release passes, a hash of the code (the dbt project, pipelines/**/*.py,
the assets a build reads, the GX suites), the versions of the libraries that compute numbers,
and a content hash of every raw table's rows of the years up to y (tables without a year
column whole). Raw rows of later years do not enter it: a build of y never reads them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import platform
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import duckdb

from pipelines.content_hash import files_digest, row_hashes, schema_columns
from pipelines.settings import PROJECT_ROOT

LEDGER_SCHEMA = "ledger"
LEDGER_TABLE = "built_years"
LEDGER = f"{LEDGER_SCHEMA}.{LEDGER_TABLE}"
# The one definition of the table (the dbt hook only deletes rows, and only if it exists).
LEDGER_COLUMNS = {
    "year": "INTEGER PRIMARY KEY",
    "fingerprint": "VARCHAR NOT NULL",
    "run_id": "VARCHAR NOT NULL",
    "built_at": "TIMESTAMP NOT NULL",  # UTC
}
RAW_SCHEMA = "raw"
# Normalisations that pool the years: a build of any year recomputes every year (dbt's
# build_year_from()), so no history year is independent of the others.
POOLED_NORMALISATIONS = ("minmax_panel",)
# Libraries whose version can change a built number or whether a build passes, besides
# those the release manifest records (pipelines.release.edition.VERSIONED_PACKAGES).
NUMERIC_PACKAGES = ("numpy", "scipy", "pyarrow", "pandera")
# Code a build runs or reads besides the dbt files engine_sql.project_fingerprint hashes
# (folders relative to the project root, with the file patterns taken from each). Snapshots
# are left out: they reach a build only through the raw tables, which are hashed themselves.
CODE_INPUTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("pipelines", ("**/*",)),
    ("dbt_project/seeds", ("**/*",)),
    ("dbt_project/tests", ("**/*",)),
    ("gx/expectations", ("**/*",)),
    ("assets", ("*.csv", "inputs/**/*", "reference/**/*")),
)
# The dbt vars the fingerprint uses to hash the dbt project (the method enters on its own).
_NO_VARS: dict[str, object] = {}


@dataclass(frozen=True)
class LedgerRow:
    year: int
    fingerprint: str
    run_id: str
    built_at: dt.datetime


def ledger_exists(con: duckdb.DuckDBPyConnection) -> bool:
    return _table_exists(con, LEDGER_SCHEMA, LEDGER_TABLE)


def _table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    # fetchall: DuckDB 2.0 refuses other work on a connection with an unfinished result
    (count,) = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, table],
    ).fetchall()[0]
    return count > 0


def ensure_ledger(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"create schema if not exists {LEDGER_SCHEMA}")
    columns = ", ".join(f"{name} {kind}" for name, kind in LEDGER_COLUMNS.items())
    con.execute(f"create table if not exists {LEDGER} ({columns})")


def read_ledger(con: duckdb.DuckDBPyConnection, years: Iterable[int]) -> dict[int, LedgerRow]:
    """The rows of these years (a missing table or row: the year is not known current)."""
    wanted = sorted(set(years))
    if not wanted or not ledger_exists(con):
        return {}
    rows = con.execute(
        f"select year, fingerprint, run_id, built_at from {LEDGER}"
        " where year between ? and ? order by year",
        [wanted[0], wanted[-1]],
    ).fetchall()
    return {row[0]: LedgerRow(*row) for row in rows if row[0] in wanted}


def invalidate(con: duckdb.DuckDBPyConnection, years: Iterable[int]) -> None:
    """Forget these years: a build is about to replace them (committed at once)."""
    years = sorted(set(years))
    if years and ledger_exists(con):
        con.execute(f"delete from {LEDGER} where list_contains(?, year)", [years])


def record(con: duckdb.DuckDBPyConnection, fingerprints: Mapping[int, str], run_id: str) -> None:
    """Mark these years current, as built by run_id from inputs with these fingerprints."""
    if not fingerprints:
        return
    ensure_ledger(con)
    built_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    rows = [[year, fingerprint, run_id, built_at] for year, fingerprint in fingerprints.items()]
    con.begin()
    try:
        con.execute(f"delete from {LEDGER} where list_contains(?, year)", [list(fingerprints)])
        con.executemany(f"insert into {LEDGER} values (?, ?, ?, ?)", rows)
        con.commit()
    except BaseException:
        con.rollback()
        raise


# --- the fingerprint ---------------------------------------------------------------------


def code_hash() -> dict[str, str]:
    """Hashes of the code and versioned inputs a build runs: the dbt project (by the same
    function the compute engine keys its compiled SQL with) and CODE_INPUTS."""
    from pipelines.index.engine_sql import project_fingerprint

    hashes = {"dbt_project": project_fingerprint(_NO_VARS)}
    for folder, patterns in CODE_INPUTS:
        hashes[folder] = files_digest(PROJECT_ROOT / folder, patterns)
    return hashes


def library_versions() -> dict[str, str]:
    """Python's version, the versions a release manifest records and NUMERIC_PACKAGES'."""
    from pipelines.release.edition import package_versions

    versions = {"python": platform.python_version(), **package_versions()}
    for package in NUMERIC_PACKAGES:
        try:
            versions[package] = version(package)
        except PackageNotFoundError:  # recorded as such: installing it changes the hash
            versions[package] = "not installed"
    return versions


def raw_table_hashes(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, Any]]:
    """Per raw table: its columns and types, and for each year (or `all` when it has no year
    column) the row count and the sum and xor of the rows' hashes (order-independent)."""
    tables: dict[str, dict[str, Any]] = {}
    for table, table_columns in schema_columns(con, RAW_SCHEMA).items():
        by_year = "year" in [name for name, _ in table_columns]
        tables[table] = {
            "columns": table_columns,
            "years": row_hashes(con, RAW_SCHEMA, table, by_year=by_year),
            "by_year": by_year,
        }
    return tables


def raw_hash_for_year(tables: Mapping[str, Mapping[str, Any]], year: int) -> dict[str, Any]:
    """What a build of `year` reads from the raw tables: rows of the years up to it."""
    return {
        table: {
            "columns": content["columns"],
            "rows": {
                str(y): counts
                for y, counts in content["years"].items()
                if not content["by_year"] or (isinstance(y, int) and y <= year)
            },
        }
        for table, content in sorted(tables.items())
    }


def fingerprints(
    con: duckdb.DuckDBPyConnection,
    years: Iterable[int],
    *,
    method_vars: Mapping[str, Any],
    analysis: Mapping[str, Any],
) -> dict[int, str]:
    """The fingerprint of each year: what a build of it with this method and analysis reads."""
    common = {
        "method": dict(method_vars),
        "analysis": dict(analysis),
        "code": code_hash(),
        "versions": library_versions(),
    }
    tables = raw_table_hashes(con)
    out = {}
    for year in sorted(set(years)):
        payload = {**common, "year": year, "raw": raw_hash_for_year(tables, year)}
        canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"))
        out[year] = hashlib.sha256(canonical.encode()).hexdigest()
    return out


# --- the decision ------------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryState:
    """Which history years are current; `stale` empty means the history run can be skipped."""

    years: tuple[int, ...]
    stale: tuple[int, ...]
    current: dict[int, LedgerRow]
    why_stale: str = "no record of a build with this method, code and data"

    @property
    def up_to_date(self) -> bool:
        return bool(self.years) and not self.stale

    def describe_current(self) -> str:
        """`run <id> on <date>`, or the runs and the latest date when several built them."""
        runs = sorted({row.run_id for row in self.current.values()})
        latest = max(row.built_at for row in self.current.values())
        if len(runs) == 1:
            return f"run {runs[0]} on {latest:%Y-%m-%d %H:%M} UTC"
        return f"runs {', '.join(runs)} (the last on {latest:%Y-%m-%d %H:%M} UTC)"


def years_present(con: duckdb.DuckDBPyConnection, years: Sequence[int]) -> set[int]:
    """Years that have rows in the marts and the analysis (a guard against tables dropped or
    emptied by hand, which the ledger cannot see)."""
    needed = ("marts", "fct_index_score"), ("analysis", "uncertainty")
    found = set(years)
    for schema, table in needed:
        if not _table_exists(con, schema, table):
            return set()
        rows = con.execute(
            f"select distinct year from {schema}.{table} where list_contains(?, year)",
            [list(years)],
        ).fetchall()
        found &= {row[0] for row in rows}
    return found


def history_state(con: duckdb.DuckDBPyConnection, expected: Mapping[int, str]) -> HistoryState:
    """Compare the ledger with the fingerprints expected now for the history years."""
    years = tuple(sorted(expected))
    ledger = read_ledger(con, years)
    present = years_present(con, years) if years else set()
    current = {
        year: row
        for year, row in ledger.items()
        if row.fingerprint == expected[year] and year in present
    }
    stale = tuple(year for year in years if year not in current)
    return HistoryState(years=years, stale=stale, current=current)


# --- what `city-index release` calls -------------------------------------------------------


def release_fingerprints(
    warehouse: Path, years: Iterable[int], *, method, replications: int
) -> dict[int, str]:
    """The fingerprints of a release's builds (method: a MethodConfig), taken before its runs:
    they hold the run lock, so the raw data cannot change until they are recorded."""
    from pipelines.index.method import method_vars

    with duckdb.connect(str(warehouse)) as con:
        return fingerprints(
            con,
            years,
            method_vars=method_vars(method),
            analysis={"replications": replications},
        )


def check_history(warehouse: Path, expected: Mapping[int, str], *, method) -> HistoryState:
    """The history years' state; with a pooled normalisation every year is stale (a build of
    any year recomputes them all), so nothing is skipped."""
    with duckdb.connect(str(warehouse)) as con:
        state = history_state(con, expected)
    if method.normalise in POOLED_NORMALISATIONS:
        why = f"normalise {method.normalise} pools every year: always rebuilt"
        return HistoryState(years=state.years, stale=state.years, current={}, why_stale=why)
    return state


def record_built(warehouse: Path, built: Mapping[int, str], run_id: str) -> None:
    with duckdb.connect(str(warehouse)) as con:
        record(con, built, run_id)
