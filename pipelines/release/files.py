"""The release's files, written for the tools analysts have.

- `index.csv`: UTF-8 with a byte-order mark (Excel then reads Chinese names right) and no text
  cell that a spreadsheet would run as a formula (OWASP CSV injection rule).
- `index.parquet`: the same rows, with the synthetic warning in the file's key-value metadata,
  so a file shared alone keeps it.
- `city_index_<year>.duckdb`: the edition's tables, written in a storage format that DuckDB 1.4
  LTS and the newest 1.x read, each table and column described with `COMMENT ON`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import duckdb
import polars as pl
import pyarrow.parquet as pq

from pipelines.framework_tree import FrameworkTree
from pipelines.release.descriptions import SHARED_COLUMNS, describe
from pipelines.sql_names import quote_identifier

#: DuckDB 2.0 writes storage version 69 by default, which DuckDB 1.x refuses ("can only read
#: versions between 64 and 68"). v1.4.0 (storage 67) opens in the 1.4 LTS line and in 1.5.x.
EDITION_STORAGE_VERSION = "v1.4.0"
#: A text cell starting with one of these is run as a formula by Excel / LibreOffice / Sheets.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
#: Where a DuckDB file's header keeps its storage version number (after an 8-byte checksum and
#: the magic bytes DUCK): 67 for v1.4.0, 68 for v1.5.0.
STORAGE_NUMBER_OFFSET = 12
SYNTHETIC_COLUMN = "synthetic"
METADATA_PREFIX = "city_index."


# --- index.csv and index.parquet ---------------------------------------------------------------


def with_synthetic_flag(ranking: pl.DataFrame, synthetic_sources: Sequence[str]) -> pl.DataFrame:
    """Add the `synthetic` column: true on every row of an edition that used any synthetic
    source (the flag is per edition: the snapshot's generated sources feed every city)."""
    return ranking.with_columns(pl.lit(bool(synthetic_sources)).alias(SYNTHETIC_COLUMN))


def spreadsheet_safe(frame: pl.DataFrame) -> pl.DataFrame:
    """Prefix a single quote to every text cell that a spreadsheet would run as a formula.

    Only text columns change; numbers (negative ones too) stay numbers."""
    return frame.with_columns(
        pl.when(pl.any_horizontal(pl.col(name).str.starts_with(p) for p in FORMULA_PREFIXES))
        .then(pl.lit("'") + pl.col(name))
        .otherwise(pl.col(name))
        .alias(name)
        for name, dtype in frame.schema.items()
        if dtype == pl.String
    )


def write_index_csv(index: pl.DataFrame, path: Path) -> None:
    spreadsheet_safe(index).write_csv(path, include_bom=True)


def index_metadata(year: int, edition: int, synthetic_sources: Sequence[str]) -> dict[str, str]:
    """Key-value metadata of index.parquet: what the file is and whether it holds invented data."""
    synthetic = sorted(synthetic_sources)
    if synthetic:
        notice = (
            f"SYNTHETIC DATA: values from {', '.join(synthetic)} were generated for the offline "
            "snapshot, not measured. Do not cite these numbers as real."
        )
    else:
        notice = "All values come from the sources listed in the edition's manifest.json."
    return {
        f"{METADATA_PREFIX}year": str(year),
        f"{METADATA_PREFIX}edition": str(edition),
        f"{METADATA_PREFIX}synthetic": json.dumps(bool(synthetic)),
        f"{METADATA_PREFIX}synthetic_sources": json.dumps(synthetic),
        f"{METADATA_PREFIX}notice": notice,
        f"{METADATA_PREFIX}sources": (
            "Sources and their terms of use: docs/sources.md of the City Influence Index "
            "repository; every response used is listed in the edition's manifest.json."
        ),
    }


def write_index_parquet(index: pl.DataFrame, path: Path, metadata: Mapping[str, str]) -> None:
    """Written with pyarrow so that the metadata is in the Arrow schema as well as the file's
    key-value metadata: pyarrow, pandas and polars readers show it, DuckDB's
    `parquet_kv_metadata()` too (polars' own writer leaves it out of the Arrow schema)."""
    table = index.to_arrow()
    pq.write_table(
        table.replace_schema_metadata({**(table.schema.metadata or {}), **metadata}),
        path,
        compression="zstd",
    )


def write_index_files(
    ranking: pl.DataFrame,
    folder: Path,
    year: int,
    edition: int,
    synthetic_sources: Sequence[str],
) -> pl.DataFrame:
    """index.csv and index.parquet of an edition; returns the rows written (with `synthetic`)."""
    index = with_synthetic_flag(ranking, synthetic_sources)
    write_index_csv(index, folder / "index.csv")
    write_index_parquet(
        index, folder / "index.parquet", index_metadata(year, edition, synthetic_sources)
    )
    return index


# --- the analysts' DuckDB file -----------------------------------------------------------------


def storage_version_number(path: Path) -> int:
    """The storage version number in a DuckDB file's header (what older DuckDBs check)."""
    with path.open("rb") as handle:
        header = handle.read(STORAGE_NUMBER_OFFSET + 8)
    if header[8:STORAGE_NUMBER_OFFSET] != b"DUCK":
        raise ValueError(f"{path} is not a DuckDB database file")
    return int.from_bytes(header[STORAGE_NUMBER_OFFSET:], "little")


def sql_string_literal(text: str) -> str:
    """`text` as a SQL string literal, for the statements that take no parameters (COMMENT ON).

    DuckDB's standard literals have one escape: a doubled quote; backslashes are plain text."""
    if "\x00" in text:
        raise ValueError(f"a SQL literal cannot hold a NUL character: {text!r}")
    return "'" + text.replace("'", "''") + "'"


def table_columns(con: duckdb.DuckDBPyConnection, database: str, schema: str, table: str) -> list:
    return [
        row[0]
        for row in con.execute(
            "select column_name from duckdb_columns()"
            " where database_name = ? and schema_name = ? and table_name = ?"
            " order by column_index",
            [database, schema, table],
        ).fetchall()
    ]


def comment_table(
    con: duckdb.DuckDBPyConnection,
    database: str,
    schema: str,
    table: str,
    source: tuple[str, str],
    note: str = "",
    pillars: Mapping[str, str] | None = None,
) -> None:
    """Describe a copied table and its columns with the description of the table it came from
    (a described column the table lacks is skipped: e.g. the treatment log without treatment).
    ``pillars`` describes the columns named after the framework's pillars (code -> text)."""
    description = describe(*source)
    columns = table_columns(con, database, schema, table)
    target = ".".join(quote_identifier(part) for part in (database, schema, table))
    text = " ".join(part for part in (description.text, note) if part)
    con.execute(f"comment on table {target} is {sql_string_literal(text)}")
    described = {**SHARED_COLUMNS, **(pillars or {}), **description.columns}
    for column in columns:
        if column in described:
            con.execute(
                f"comment on column {target}.{quote_identifier(column)}"
                f" is {sql_string_literal(described[column])}"
            )


def synthetic_note(synthetic_sources: Sequence[str]) -> str:
    if not synthetic_sources:
        return ""
    return (
        f"SYNTHETIC DATA in this edition: values from {', '.join(sorted(synthetic_sources))} "
        "were generated, not measured (see provenance.api_responses.synthetic)."
    )


def pillar_descriptions(framework: pl.DataFrame) -> dict[str, str]:
    """Pillar code -> the description of its score column, from the framework's own rows."""
    tree = FrameworkTree.from_rows(framework.to_dicts())
    names = dict(zip(framework["icode"], framework["iname"], strict=True))
    return {code: f"{names[code]}: pillar score (framework code {code})." for code in tree.pillars}


def write_edition_database(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    year: int,
    dated_tables: Iterable[tuple[str, str]],
    undated_tables: Mapping[tuple[str, str], str],
    synthetic_sources: Sequence[str],
    pillars: Mapping[str, str] | None = None,
) -> None:
    """The analysts' file: the edition's marts, analysis and provenance tables, described.

    `dated_tables` are copied for the years up to the edition; `undated_tables` whole, renamed
    into `marts`. Table names come from the caller's fixed lists, never from data. `pillars`
    describes the pillar score columns (see pillar_descriptions)."""
    database = "edition"
    note = synthetic_note(synthetic_sources)
    con.execute(
        f"attach ? as {database} (storage_version '{EDITION_STORAGE_VERSION}')", [str(path)]
    )
    try:
        for schema in ("marts", "analysis", "provenance"):
            con.execute(f"create schema {database}.{schema}")
        for schema, table in dated_tables:
            con.execute(
                f"create table {database}.{schema}.{table} as "
                f"select * from {schema}.{table} where year <= ?",
                [year],
            )
            comment_table(con, database, schema, table, (schema, table), note, pillars)
        for (schema, table), name in undated_tables.items():
            con.execute(f"create table {database}.marts.{name} as select * from {schema}.{table}")
            comment_table(con, database, "marts", name, (schema, table), note)
        con.execute(
            f"create table {database}.provenance.api_responses as "
            "select * exclude (body_path) from raw.api_responses where year <= ?",
            [year],
        )
        con.execute(
            f"create table {database}.provenance.landed_batches as "
            "select * from raw.landed_batches where year <= ?",
            [year],
        )
        for table in ("api_responses", "landed_batches"):
            comment_table(con, database, "provenance", table, ("provenance", table), note)
    finally:
        con.execute(f"detach {database}")
