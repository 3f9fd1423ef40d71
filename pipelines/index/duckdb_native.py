"""compute's DuckDB: the native module `_duckdb`, without the duckdb package's Python layer.

Why: duckdb 2.0 is a native module (`_duckdb`: connections, statements, results, errors) under
a Python layer (the relation and expression API, 4,600 lines, and importlib.metadata for its
version). Importing the package costs a compute run about 45 ms, 12 % of a one-year run, and
compute uses none of that layer: it executes statements with parameters, fetches rows and
reads results as Arrow streams, all of which the native module does itself. Its connections
and errors are the very objects the package re-exports, so `duckdb.Error` catches them.

Two ties to the package remain. `arrow_result` makes the one call the package's relations make
for `__arrow_c_stream__` (duckdb/_seam.py: `con._submit(sql, values, "stream")`), a private
call, so this module follows the pinned duckdb (pyproject.toml; tests/test_engine_sql.py runs
it). And a statement can scan a Python object (a polars frame) only once the package has
taught the native module how: `allow_python_scans`, called first by the paths that need it
(the treatment, the careful read of an irregular file).
"""

from __future__ import annotations

from typing import Any

import _duckdb

Connection = _duckdb.DuckDBPyConnection
Error = _duckdb.Error
connect = _duckdb.connect

# Rows per Arrow batch: the package's own default (duckdb/_seam.py DEFAULT_BATCH_SIZE).
BATCH_ROWS = 131_072


class ArrowResult:
    """The result of one statement as an Arrow C stream (the PyCapsule protocol): run when a
    reader (polars) asks for the stream, once."""

    def __init__(self, con: Connection, sql: str, params: dict[str, Any] | None) -> None:
        self._con, self._sql, self._params = con, sql, params

    def __arrow_c_stream__(self, requested_schema: object | None = None) -> Any:
        return self._con._submit(self._sql, self._params, "stream", BATCH_ROWS).arrow_capsule()


def arrow_result(con: Connection, sql: str, params: dict[str, Any] | None = None) -> ArrowResult:
    """`sql` (its data in `params`) as an Arrow C stream for polars or any Arrow reader."""
    return ArrowResult(con, sql, params)


def allow_python_scans() -> None:
    """Let statements read Python objects by name (a polars frame in a local variable):
    importing the duckdb package registers its scanners with the native module."""
    import duckdb  # noqa: F401  (imported for its registration)
