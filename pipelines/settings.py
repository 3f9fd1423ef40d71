"""Where things are: the project's versioned inputs and the output folder a run writes to.

Everything a run writes lives under CITY_INDEX_HOME (default ./output), so that a clean
checkout stays clean and a test can point a whole run at a temporary folder.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
ASSETS_DIR = PROJECT_ROOT / "assets"
FRAMEWORK_CSV = ASSETS_DIR / "framework.csv"
GX_DIR = PROJECT_ROOT / "gx"
FIRST_YEAR = 2017
LATEST_COMPLETE_YEAR = 2025


def output_home() -> Path:
    return Path(os.environ.get("CITY_INDEX_HOME", PROJECT_ROOT / "output")).resolve()


def warehouse_path() -> Path:
    """The working DuckDB warehouse (one writer at a time; analysts get release files)."""
    return Path(os.environ.get("CITY_INDEX_WAREHOUSE", output_home() / "warehouse.duckdb"))


def landing_dir() -> Path:
    return output_home() / "landing"


def releases_dir() -> Path:
    return output_home() / "releases"


def validation_dir() -> Path:
    return output_home() / "validation"


def apply_environment_defaults() -> None:
    """Set the variables Dagster and dbt read (DAGSTER_HOME, the warehouse) if unset."""
    home = output_home()
    os.environ.setdefault("CITY_INDEX_HOME", str(home))
    os.environ.setdefault("DAGSTER_HOME", str(home / "dagster_home"))
    os.environ.setdefault("CITY_INDEX_WAREHOUSE", str(home / "warehouse.duckdb"))
    Path(os.environ["DAGSTER_HOME"]).mkdir(parents=True, exist_ok=True)
    dagster_yaml = Path(os.environ["DAGSTER_HOME"]) / "dagster.yaml"
    if not dagster_yaml.exists():
        dagster_yaml.write_text((PROJECT_ROOT / "dagster.yaml").read_text())
