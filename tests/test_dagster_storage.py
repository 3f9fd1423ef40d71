"""The instance storage with kept-open event log connections (pipelines/dagster_storage.py):
every event lands where Dagster's own SQLite storage and the UI's log watcher read it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import dagster as dg
import yaml

from pipelines.dagster_storage import KeptOpenSqliteEventLogStorage

PROJECT_ROOT = Path(__file__).resolve().parents[1]


@dg.asset
def small_asset() -> int:
    return 1


def _instance(home: Path, config: dict) -> dg.DagsterInstance:
    (home / "dagster.yaml").write_text(yaml.safe_dump(config))
    return dg.DagsterInstance.from_config(str(home))


def test_events_are_in_the_files_dagster_and_the_ui_read(tmp_path: Path) -> None:
    project_config = yaml.safe_load((PROJECT_ROOT / "dagster.yaml").read_text())
    project_config["storage"]["custom"]["config"]["base_dir"] = str(tmp_path)
    instance = _instance(tmp_path, project_config)
    assert isinstance(instance.event_log_storage, KeptOpenSqliteEventLogStorage)
    result = dg.materialize([small_asset], instance=instance)
    assert result.success
    written = len(instance.all_logs(result.run_id))
    assert written > 5

    # The run's database file itself holds every event (checkpointed: the UI's watcher
    # follows this file's changes), without reading the WAL beside it.
    run_db = tmp_path / "history" / "runs" / f"{result.run_id}.db"
    with sqlite3.connect(f"file:{run_db}?immutable=1", uri=True) as con:
        (in_file,) = con.execute("select count(*) from event_logs").fetchone()
    assert in_file == written

    # Dagster's own SQLite storage, as another process would open it, reads the same run,
    # its events and the asset's materialization (index database).
    plain = _instance(tmp_path, {"storage": {"sqlite": {"base_dir": str(tmp_path)}}})
    assert type(plain.event_log_storage).__name__ == "SqliteEventLogStorage"
    assert plain.get_run_by_id(result.run_id).is_success
    assert len(plain.all_logs(result.run_id)) == written
    latest = plain.get_latest_materialization_event(dg.AssetKey("small_asset"))
    assert latest is not None and latest.run_id == result.run_id
    instance.dispose()
