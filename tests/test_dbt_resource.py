"""The dbt resource skips dagster-dbt's `dbt --version` subprocess and its in-process adapter,
and only where that is safe: the dbt launched is this environment's own."""

from __future__ import annotations

import sys
from pathlib import Path

import dagster_dbt.core.resource as dagster_dbt_resource
import pytest
from dagster_dbt.compat import DBT_PYTHON_VERSION

from pipelines.index.dbt_resource import CityIndexDbtResource, launches_installed_dbt
from pipelines.index.dbt_runner import PROJECT_DIR

PIPELINES = Path(__file__).resolve().parents[1] / "pipelines"
# The dbt beside this Python, as pipelines.definitions gives it to the resource.
DBT_EXECUTABLE = str(Path(sys.executable).parent / "dbt")


def _no_subprocess(*args, **kwargs):
    raise AssertionError(f"dbt was started: {args}")


def test_the_installed_dbt_is_not_asked_its_version(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dagster_dbt_resource, "check_output", _no_subprocess)
    resource = CityIndexDbtResource(project_dir=PROJECT_DIR, dbt_executable=DBT_EXECUTABLE)
    assert launches_installed_dbt(DBT_EXECUTABLE)
    assert resource._cli_version == DBT_PYTHON_VERSION
    assert resource._initialize_dbt_core_adapter(["build"]) is None


def test_another_dbt_is_asked_as_dagster_dbt_does(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    other = tmp_path / "bin" / "dbt"
    other.parent.mkdir()
    other.write_text("#!/bin/sh\n")
    other.chmod(0o755)
    asked = []

    def version_of(command: list[str]) -> bytes:
        asked.append(command)
        return b"Core:\n  - installed: 1.9.4\n"

    monkeypatch.setattr(dagster_dbt_resource, "check_output", version_of)
    resource = CityIndexDbtResource(project_dir=PROJECT_DIR, dbt_executable=str(other))
    assert not launches_installed_dbt(other)
    assert str(resource._cli_version) == "1.9.4"
    assert asked == [[str(other), "--version"]]


def test_the_definitions_use_it(pipeline_home: Path) -> None:
    from pipelines.definitions import DBT_EXECUTABLE as executable
    from pipelines.definitions import defs

    assert executable == DBT_EXECUTABLE
    assert isinstance(defs.resources["dbt"], CityIndexDbtResource)


def test_nothing_needs_the_adapter() -> None:
    """Without the adapter, dagster-dbt's column metadata and row counts would add nothing:
    the project must not rely on them."""
    for path in PIPELINES.rglob("*.py"):
        if path.name == "dbt_resource.py":
            continue
        text = path.read_text()
        assert "fetch_column_metadata" not in text and "fetch_row_counts" not in text, path
