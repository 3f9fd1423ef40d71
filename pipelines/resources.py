"""The warehouse resource: DuckDBResource that holds the run lock for the whole run and closes
its connections even when a step fails.

dagster-duckdb's get_connection closes only on success; a connection left open by a failed
step keeps the database instance alive in the process, and the next open of the same file with
another configuration (the CLI's read-only peek, an analyst test) is refused.

Every run that uses the warehouse, from the CLI or the UI, takes the run lock when the resource
is set up and gives it back at teardown (or when its process dies): a second run fails at once,
naming the first, instead of waiting on a slot that a killed run never returns.
"""

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource
from pydantic import PrivateAttr

from pipelines.errors import EXIT_CODE_METADATA, FAULT, explain_lock
from pipelines.locking import recover_dead_runs, run_lock, tag_run_with_process


class WarehouseResource(DuckDBResource):
    _hold: ExitStack | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        run = context.run
        self._hold = ExitStack()
        self._hold.enter_context(run_lock(f"run {run.run_id} ({run.job_name})" if run else "run"))
        if context.instance is not None and run is not None:
            tag_run_with_process(context.instance, run.run_id)
            recovered = recover_dead_runs(context.instance)
            if recovered:
                context.log.warning(f"marked failed the dead run(s): {', '.join(recovered)}")

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._hold is not None:
            self._hold.close()
            self._hold = None

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
