"""ensure_manifest parses the dbt project only when something a parse depends on changed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import dbt.cli.main
import pytest

from pipelines.index import dbt_runner


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the dbt project (without its target), parsed into its own target."""
    copy = tmp_path / "dbt_project"
    shutil.copytree(dbt_runner.PROJECT_DIR, copy, ignore=shutil.ignore_patterns("target", "logs"))
    monkeypatch.setattr(dbt_runner, "PROJECT_DIR", copy)
    monkeypatch.setenv("CITY_INDEX_WAREHOUSE", str(tmp_path / "warehouse.duckdb"))
    return copy


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The dbt commands invoked in-process."""
    calls: list[list[str]] = []
    real = dbt.cli.main.dbtRunner

    class Counting(real):
        def invoke(self, args, **kwargs):
            calls.append(list(args))
            return super().invoke(args, **kwargs)

    monkeypatch.setattr(dbt.cli.main, "dbtRunner", Counting)
    return calls


def test_a_current_parse_is_kept(project: Path, parses: list[list[str]]) -> None:
    manifest = dbt_runner.ensure_manifest()
    assert len(parses) == 1 and manifest.is_file()
    assert dbt_runner.ensure_manifest() == manifest
    assert len(parses) == 1


def test_a_changed_model_is_parsed_again(project: Path, parses: list[list[str]]) -> None:
    dbt_runner.ensure_manifest()
    model = next((project / "models").rglob("*.sql"))
    model.write_text(model.read_text() + "\n-- changed\n")
    dbt_runner.ensure_manifest()
    assert len(parses) == 2


def test_another_warehouse_is_parsed_again(
    project: Path, parses: list[list[str]], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    dbt_runner.ensure_manifest()
    monkeypatch.setenv("CITY_INDEX_WAREHOUSE", str(tmp_path / "other.duckdb"))
    dbt_runner.ensure_manifest()
    assert len(parses) == 2


def test_a_manifest_written_by_another_parse_is_replaced(
    project: Path, parses: list[list[str]]
) -> None:
    manifest = dbt_runner.ensure_manifest()
    content = json.loads(manifest.read_text())
    manifest.write_text(json.dumps(content))  # e.g. `dbt parse` at a shell, other vars
    dbt_runner.ensure_manifest()
    assert len(parses) == 2
    (project / "target" / "partial_parse.msgpack").unlink()
    dbt_runner.ensure_manifest()
    assert len(parses) == 3
