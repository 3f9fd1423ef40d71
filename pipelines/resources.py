"""The warehouse resource: DuckDBResource whose connection is closed even when a step fails.

dagster-duckdb's get_connection closes only on success; a connection left open by a failed
step keeps the database instance alive in the process, and the next open of the same file with
another configuration (the CLI's read-only peek, an analyst test) is refused.
"""

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource

from pipelines.errors import EXIT_CODE_METADATA, FAULT, explain_lock


class WarehouseResource(DuckDBResource):
    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        try:
            connection = duckdb.connect(
                database=self.database,
                read_only=False,
                config={"custom_user_agent": "city-influence-index", **self.connection_config},
            )
        except duckdb.IOException as error:  # held by another process: say which, what to do
            held = explain_lock(str(error))
            if held is None:
                raise
            raise dg.Failure(held, metadata={EXIT_CODE_METADATA: FAULT}) from error
        try:
            yield connection
        finally:
            connection.close()


@contextmanager
def transaction(connection: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """All or nothing: a reload that fails halfway leaves the previous rows as they were."""
    connection.begin()
    try:
        yield connection
        connection.commit()
    except BaseException:
        connection.rollback()
        raise
