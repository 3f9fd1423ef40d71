"""Hand tables between polars and DuckDB through the Arrow C stream interface, without pyarrow.

Why: both libraries speak the Arrow PyCapsule protocol (`__arrow_c_stream__`), but DuckDB's
`register` of a polars frame and polars' `from_arrow` of a DuckDB result go through pyarrow
(with numpy), which costs every compute run about 0.1 s of imports and a copy of the data.
Wrapping the object so that only the protocol is visible makes each side take the stream.
DuckDB's side is the native module (duckdb_native), as everywhere in compute.
"""

from __future__ import annotations

from typing import Any, Protocol

import polars as pl

from pipelines.index.duckdb_native import Connection, allow_python_scans, arrow_result


class ArrowStreamSource(Protocol):
    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object: ...


class ArrowStream:
    """Only the Arrow C stream of `source` (a polars frame)."""

    def __init__(self, source: ArrowStreamSource) -> None:
        self._source = source

    def __arrow_c_stream__(self, requested_schema: object | None = None) -> Any:
        return self._source.__arrow_c_stream__(requested_schema)


#: DuckDB's types of the engine's tables and the polars types that carry them.
POLARS_TYPES = {"bigint": pl.Int64, "integer": pl.Int32, "double": pl.Float64, "varchar": pl.String}


def polars_schema(columns: dict[str, str]) -> dict[str, pl.DataType]:
    """A polars schema for columns given with DuckDB's types (name -> type)."""
    return {column: POLARS_TYPES[kind] for column, kind in columns.items()}


def create_table(con: Connection, table: str, frame: pl.DataFrame) -> None:
    """DuckDB table `table` (a name the caller controls, never data) holding `frame`."""
    allow_python_scans()
    incoming = ArrowStream(frame)  # noqa: F841  (read by name by the statement below)
    con.execute(f"create or replace table {table} as select * from incoming")


def frame_of(con: Connection, sql: str, params: dict[str, Any] | None = None) -> pl.DataFrame:
    """The result of `sql` (its data in `params`) as a polars frame."""
    return pl.DataFrame(arrow_result(con, sql, params))
