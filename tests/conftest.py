"""Shared fixtures: a whole pipeline home (warehouse, Dagster instance, releases) in a temp dir."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from pipelines.sources.http import RESUME_ENV

PIPELINE_ENV = ("CITY_INDEX_HOME", "DAGSTER_HOME", "CITY_INDEX_WAREHOUSE", "CITY_INDEX_MODE")


@pytest.fixture(scope="session")
def pipeline_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Point every run of this session at a temporary output folder, offline snapshot mode."""
    home = tmp_path_factory.mktemp("city_index_home")
    saved = {name: os.environ.get(name) for name in PIPELINE_ENV}
    os.environ["CITY_INDEX_HOME"] = str(home)
    os.environ["DAGSTER_HOME"] = str(home / "dagster_home")
    os.environ["CITY_INDEX_WAREHOUSE"] = str(home / "warehouse.duckdb")
    os.environ["CITY_INDEX_MODE"] = "snapshot"
    from pipelines.index.dbt_runner import ensure_manifest
    from pipelines.settings import apply_environment_defaults

    apply_environment_defaults()
    ensure_manifest()  # dagster-dbt reads the manifest when the definitions are imported
    yield home
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture(scope="session")
def first_release_home(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """`city-index release --year 2025 --replications 200` in a fresh home, as `make run`
    builds it (every year ingested, the history built, the edition released): made once a
    session, about two minutes. Tests copy its home (shutil.copytree) and never change it."""
    from tests.test_trust import REPLICATIONS, YEAR, city_index

    home = tmp_path_factory.mktemp("first_release_home")
    done = city_index(home, "release", "--year", str(YEAR), "--replications", REPLICATIONS)
    return SimpleNamespace(home=home, stdout=done.stdout, stderr=done.stderr)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A pipeline home that does not exist yet, in snapshot mode with resuming at its default:
    a refused command or a dry run must not create it."""
    home = tmp_path / "home"
    monkeypatch.setenv("CITY_INDEX_HOME", str(home))
    monkeypatch.setenv("DAGSTER_HOME", str(home / "dagster_home"))
    monkeypatch.setenv("CITY_INDEX_WAREHOUSE", str(home / "warehouse.duckdb"))
    monkeypatch.setenv("CITY_INDEX_MODE", "snapshot")
    monkeypatch.delenv(RESUME_ENV, raising=False)
    return home
