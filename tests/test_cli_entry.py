"""The console script leaves without Python's teardown, yet with main's exit code and every
line of output written, also when its output is a pipe (block-buffered)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

CITY_INDEX = str(Path(sys.executable).parent / "city-index")


def run(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "CITY_INDEX_HOME": str(home),
        "DAGSTER_HOME": str(home / "dagster_home"),
        "CITY_INDEX_WAREHOUSE": str(home / "warehouse.duckdb"),
    }
    return subprocess.run([CITY_INDEX, *args], env=env, capture_output=True, text=True)


def test_the_script_is_the_quick_exit_entry() -> None:
    assert "pipelines.cli_entry import run" in Path(CITY_INDEX).read_text()


def test_exit_codes_and_output_survive_the_quick_exit(tmp_path: Path) -> None:
    usage = run("release", "--year", "not-a-year", home=tmp_path)
    assert usage.returncode == 2 and "--year" in usage.stderr
    helped = run("--help", home=tmp_path)
    assert helped.returncode == 0 and "release" in helped.stdout
    prepared = run("prepare", home=tmp_path)
    assert prepared.returncode == 0, prepared.stderr
    assert prepared.stdout.strip().endswith("manifest.json")
