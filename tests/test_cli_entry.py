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


def test_library_info_logs_are_not_printed_twice(tmp_path: Path) -> None:
    """dbt's import of snowplow_tracker calls logging.basicConfig(), which printed every
    message dagster-dbt logs again as `INFO:dagster.builtin:...`; the CLI's own root handler
    (warnings and errors only) comes first, so basicConfig does nothing."""
    code = (
        "import logging\n"
        "from pipelines import cli\n"
        "assert cli.main(['prepare']) == 0\n"
        "import snowplow_tracker  # noqa: F401  (dbt's dependency: its basicConfig)\n"
        "log = logging.getLogger('dagster.builtin')\n"
        "log.setLevel(logging.INFO)\n"
        "log.info('an info message')\n"
        "log.warning('a warning')\n"
    )
    env = {
        **os.environ,
        "CITY_INDEX_HOME": str(tmp_path),
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
        "CITY_INDEX_WAREHOUSE": str(tmp_path / "warehouse.duckdb"),
    }
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert "an info message" not in done.stderr
    assert "WARNING:dagster.builtin:a warning" in done.stderr
