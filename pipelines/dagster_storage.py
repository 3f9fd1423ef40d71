"""Dagster's SQLite instance storage, with its event log connections kept open.

Dagster's `SqliteEventLogStorage` opens a new SQLAlchemy engine and SQLite connection for every
read and write of the event log (about 1,100 in an edition run) and closes it after. Closing
the last connection to a WAL database checkpoints the WAL into the database, syncs it and
deletes the WAL: 3-6 ms each on this machine's disk, 4-8 s of an edition run. Here each
database keeps one engine whose connection stays open (the files, tables, journal mode and
sync level are Dagster's own). Run databases are checkpointed after each transaction, so that
the file the UI's log watcher follows (`<run_id>.db`) still changes with every event; the
index database is checkpointed by SQLite itself (every 1,000 pages) and when the process ends
normally. Every committed event is in the database as before: readers in other processes (the
UI) see it at once, as SQLite's WAL is shared between processes.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    INDEX_SHARD_NAME,
    SqliteEventLogStorage,
)
from dagster._core.storage.sql import create_engine
from dagster._core.storage.sqlite_storage import DagsterSqliteStorage, _event_logs_directory
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import QueuePool

# How long a writer waits on another process's lock (Dagster's own value).
SQLITE_BUSY_TIMEOUT_SECONDS = 30
# Run databases whose engine stays open (a long-lived UI process reads many runs).
OPEN_RUN_SHARDS = 8


class KeptOpenSqliteEventLogStorage(SqliteEventLogStorage):
    """`SqliteEventLogStorage` with one engine per database, its connection kept open."""

    def __init__(self, base_dir: str, inst_data: Any = None) -> None:
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        super().__init__(base_dir, inst_data=inst_data)

    def _engine(self, shard: str) -> Engine:
        engine = self._engines.get(shard)
        if engine is not None:
            self._engines.move_to_end(shard)
            return engine
        engine = create_engine(
            self.conn_string_for_shard(shard),
            poolclass=QueuePool,
            pool_size=1,
            max_overflow=2,
            # Used by one thread at a time (under Dagster's lock), not always the same thread.
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
        )
        if shard not in self._initialized_dbs:
            self._initdb(engine)
            self._initialized_dbs.add(shard)
        self._engines[shard] = engine
        run_shards = [name for name in self._engines if name != INDEX_SHARD_NAME]
        for name in run_shards[:-OPEN_RUN_SHARDS]:
            self._engines.pop(name).dispose()
        return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock:
            engine = self._engine(shard)
            with engine.connect() as conn:
                with conn.begin():
                    yield conn
                if shard != INDEX_SHARD_NAME:
                    # Writes the run's events into `<run_id>.db`, which the UI's watcher follows.
                    conn.execute(text("PRAGMA wal_checkpoint(PASSIVE)"))
                    conn.commit()

    def dispose(self) -> None:
        super().dispose()
        with self._db_lock:
            while self._engines:
                self._engines.popitem()[1].dispose()


class CityIndexSqliteStorage(DagsterSqliteStorage):
    """Dagster's SQLite storage (runs, event log, schedules under one folder), with the event
    log's connections kept open. Configured in dagster.yaml as custom storage."""

    def __init__(self, base_dir: str, inst_data: Any = None) -> None:
        super().__init__(base_dir, inst_data=inst_data)
        self._event_log_storage = KeptOpenSqliteEventLogStorage(_event_logs_directory(base_dir))

    @classmethod
    def from_config_value(cls, inst_data: Any, config_value: Any) -> CityIndexSqliteStorage:
        # Dagster's own builds its own class here, whatever the class configured.
        return cls.from_local(inst_data=inst_data, **config_value)
