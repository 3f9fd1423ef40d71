"""Fingerprints of content: a table's rows per year (computed by DuckDB), and files.

Why one place: the build ledger (which history years a release may skip), the raw checks'
memory (which table-years passed with the content they hold now), the compute engine's compiled
SQL and the dbt parse stamp all ask "is this the content I saw before?", and must answer it
the same way. Rows, per year: the row count, and the sum and the xor of DuckDB's hash of each
whole row (milliseconds for a million rows; stable for one DuckDB version, so callers put the
version in their fingerprints). Files: sha256 over their relative paths and contents.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from pipelines.sql_names import quote_identifier

if TYPE_CHECKING:  # compute reads files_digest without importing the duckdb package
    import duckdb

#: The key of a table without a year column: its rows are fingerprinted whole.
WHOLE_TABLE = "all"


def schema_columns(
    con: duckdb.DuckDBPyConnection, schema: str, table: str | None = None
) -> dict[str, list[list[str]]]:
    """Each table's [column, type] pairs, in column order (one table, or the whole schema)."""
    query = (
        "select table_name, column_name, data_type from information_schema.columns"
        " where table_schema = ?"
    )
    params: list[str] = [schema]
    if table is not None:
        query += " and table_name = ?"
        params.append(table)
    columns: dict[str, list[list[str]]] = {}
    for name, column, data_type in con.execute(
        query + " order by table_name, ordinal_position", params
    ).fetchall():
        columns.setdefault(name, []).append([column, data_type])
    return columns


def row_hashes(
    con: duckdb.DuckDBPyConnection,
    schema: str,
    table: str,
    *,
    by_year: bool = True,
    up_to: int | None = None,
) -> dict[int | str, list]:
    """{year: [rows, sum of row hashes, xor of row hashes]} for schema.table (years up to
    `up_to` when given), or {WHOLE_TABLE: [...]} when `by_year` is false.

    The names must come from the catalogue or a whitelist, never from data: they are quoted
    into the text; the year bound is a parameter."""
    source = f"{quote_identifier(schema)}.{quote_identifier(table)}"
    content = "count(*), sum(hash(t)::hugeint)::varchar, bit_xor(hash(t))::varchar"
    if not by_year:
        rows = con.execute(f"select {content} from {source} as t").fetchall()
        return {WHOLE_TABLE: list(rows[0])}
    where, params = ("where year <= ?", [up_to]) if up_to is not None else ("", [])
    rows = con.execute(
        f"select year, {content} from {source} as t {where} group by year order by year", params
    ).fetchall()
    return {int(year): list(counts) for year, *counts in rows}


def files_digest(
    root: Path, patterns: Sequence[str] = ("**/*",), *, skip: Collection[str] = ()
) -> str:
    """sha256 over the relative paths and contents of the files under `root` matching the glob
    patterns, in path order; a path with a part in `skip` (and any `__pycache__`) is left out."""
    left_out = {"__pycache__", *skip}
    files = sorted({path for pattern in patterns for path in root.glob(pattern) if path.is_file()})
    digest = hashlib.sha256()
    for path in files:
        relative = path.relative_to(root)
        if left_out.intersection(relative.parts):
            continue
        digest.update(relative.as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()
