"""Editions you can trust the second time: the full history built as `make run` builds it, twice
and in two folders; years that stay put when another is built; runs that survive `kill -9`,
refuse to run beside each other and stop on SIGTERM.

Each command runs as the user runs it: `city-index` in a subprocess with its own output home.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb
import pytest

pytestmark = pytest.mark.slow
YEAR = 2025
FIRST_YEAR = 2017
REPLICATIONS = "200"
PER_YEAR_MARTS = (
    "fct_index_score",
    "fct_indicator_value",
    "fct_data_availability",
    "fct_treatment_log",
    "fct_published_ranking",
)
ANALYSIS_TABLES = ("uncertainty", "sensitivity", "coherence", "pillar_alpha", "external_validation")


def home_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CITY_INDEX_")}
    env.update(
        CITY_INDEX_HOME=str(home),
        DAGSTER_HOME=str(home / "dagster_home"),
        CITY_INDEX_WAREHOUSE=str(home / "warehouse.duckdb"),
        CITY_INDEX_MODE="snapshot",
    )
    return env


def city_index(home: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "pipelines.cli", *args]
    done = subprocess.run(command, env=home_env(home), capture_output=True, text=True)
    if check:
        assert done.returncode == 0, done.stderr[-3000:]
    return done


def start_city_index(home: Path, *args: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "pipelines.cli", *args]
    return subprocess.Popen(
        command, env=home_env(home), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def release_folder(home: Path) -> Path:
    return home / "releases" / str(YEAR) / "edition-1"


def rows_by_year(warehouse: Path, schema: str, table: str) -> dict[int, str]:
    """A digest of each year's rows (sorted, every column), to compare years bit for bit."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        columns = [c[0] for c in con.sql(f"describe {schema}.{table}").fetchall()]
        rows = con.sql(
            f"select * from {schema}.{table} order by all"  # table from a fixed list
        ).fetchall()
    position = columns.index("year")
    digests: dict[int, hashlib._Hash] = {}
    for row in rows:
        digests.setdefault(row[position], hashlib.sha256()).update(repr(row).encode())
    return {year: digest.hexdigest() for year, digest in digests.items()}


@contextlib.contextmanager
def instance_of(home: Path) -> Iterator[dg.DagsterInstance]:
    """The Dagster instance of a home (its dagster.yaml reads DAGSTER_HOME)."""
    saved = os.environ.get("DAGSTER_HOME")
    os.environ["DAGSTER_HOME"] = str(home / "dagster_home")
    instance = dg.DagsterInstance.from_config(str(home / "dagster_home"))
    try:
        yield instance
    finally:
        instance.dispose()
        if saved is None:
            os.environ.pop("DAGSTER_HOME", None)
        else:
            os.environ["DAGSTER_HOME"] = saved


def materialized_years(home: Path, key: list[str]) -> set[str]:
    with instance_of(home) as instance:
        return set(instance.get_materialized_partitions(dg.AssetKey(key)))


def ui_asset_job():
    """A job as the UI makes one when an asset is materialized from the asset graph: no
    executor of its own, so it runs with the code location's default executor."""
    from pipelines.definitions import defs

    ui_job = dg.define_asset_job("ui_asset_selection", selection=["index_analysis"])
    return dg.Definitions.merge(defs, dg.Definitions(jobs=[ui_job])).resolve_job_def(
        "ui_asset_selection"
    )


@pytest.fixture(scope="module")
def built_home(tmp_path_factory: pytest.TempPathFactory, first_release_home) -> Path:
    """The full history and the 2025 edition, as `make run` builds them (a copy of the
    session's first release, conftest.py)."""
    home = tmp_path_factory.mktemp("trust_home")
    shutil.copytree(first_release_home.home, home, dirs_exist_ok=True)
    return home


def test_second_run_is_a_no_op_that_says_so(built_home: Path) -> None:
    folder = release_folder(built_home)
    before = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    again = city_index(built_home, "release", "--year", str(YEAR), "--replications", REPLICATIONS)
    assert again.stdout.strip().splitlines()[-1] == str(folder)
    assert "already released with the same numbers" in again.stderr
    assert {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()} == before


def test_two_folders_give_byte_identical_numbers(
    built_home: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    other = tmp_path_factory.mktemp("trust_other")
    city_index(other, "release", "--year", str(YEAR), "--replications", REPLICATIONS)
    for name in ("index.csv", "index.parquet"):
        assert (release_folder(other) / name).read_bytes() == (
            release_folder(built_home) / name
        ).read_bytes(), name
    for table in PER_YEAR_MARTS:
        assert rows_by_year(other / "warehouse.duckdb", "marts", table) == rows_by_year(
            built_home / "warehouse.duckdb", "marts", table
        ), table


def test_every_year_is_materialized_and_analysed(built_home: Path) -> None:
    years = {str(y) for y in range(FIRST_YEAR, YEAR + 1)}
    assert materialized_years(built_home, ["marts", "fct_index_score"]) == years
    assert materialized_years(built_home, ["index_analysis"]) == years
    warehouse = built_home / "warehouse.duckdb"
    for table in ANALYSIS_TABLES:
        assert set(rows_by_year(warehouse, "analysis", table)) == set(map(int, years)), table
    with duckdb.connect(str(warehouse), read_only=True) as con:
        shanghai_2019 = con.execute(
            "select rank_p05, rank_p95 from analysis.uncertainty"
            " where city_id = 'shanghai' and year = 2019"
        ).fetchall()
    assert shanghai_2019 and shanghai_2019[0][0] <= shanghai_2019[0][1]


def test_building_one_year_leaves_every_other_year_as_it_was(built_home: Path) -> None:
    """Releasing 2022 after the 2025 edition rebuilds 2017-2022 and touches nothing else; a
    change to 2022's raw data then moves 2022's rows only."""
    warehouse = built_home / "warehouse.duckdb"
    before = {t: rows_by_year(warehouse, "marts", t) for t in PER_YEAR_MARTS}
    city_index(built_home, "release", "--year", "2022", "--replications", REPLICATIONS)
    assert {t: rows_by_year(warehouse, "marts", t) for t in PER_YEAR_MARTS} == before
    assert materialized_years(built_home, ["marts", "fct_index_score"]) == {
        str(y) for y in range(FIRST_YEAR, YEAR + 1)
    }

    with duckdb.connect(str(warehouse)) as con:  # a corrected GDELT count for 2022 only
        con.execute(
            "update raw.gdelt_volume set article_count = article_count * 3"
            " where year = 2022 and city_id = 'chengdu'"
        )
    from pipelines import cli

    saved = {k: os.environ.get(k) for k in home_env(built_home)}
    os.environ.update(home_env(built_home))
    try:
        cli.run_job("build", [2022], run_config={"ops": {"index_analysis": {"config": {}}}})
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    after = rows_by_year(warehouse, "marts", "fct_index_score")
    assert after[2022] != before["fct_index_score"][2022]
    assert {y: d for y, d in after.items() if y != 2022} == {
        y: d for y, d in before["fct_index_score"].items() if y != 2022
    }


def test_a_backfill_launched_as_the_ui_launches_it_completes(built_home: Path) -> None:
    """The UI runs a backfill through the job's own executor (not in-process like the CLI):
    its steps must share one process and one hold on the warehouse."""
    from pipelines.partitions import range_tags

    saved = {k: os.environ.get(k) for k in home_env(built_home)}
    os.environ.update(home_env(built_home))
    instance = dg.DagsterInstance.from_config(str(built_home / "dagster_home"))
    try:
        result = dg.execute_job(
            dg.reconstructable(ui_asset_job),
            instance,
            tags=range_tags(2019, 2020),
            run_config={"ops": {"index_analysis": {"config": {"replications": 200}}}},
        )
        assert result.success, [e.message for e in result.all_events if e.is_step_failure]
    finally:
        instance.dispose()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def test_a_second_concurrent_run_fails_at_once_naming_the_first(built_home: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import time; from pipelines.locking import run_lock\n"
            "with run_lock('city-index release (test)'):\n"
            "    print('held', flush=True); time.sleep(120)",
        ],
        env=home_env(built_home),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        refused = city_index(built_home, "ingest", "--year", str(YEAR), check=False)
        assert refused.returncode != 0
        assert f"pid {holder.pid}" in refused.stderr
        assert "city-index release (test)" in refused.stderr
    finally:
        holder.kill()  # as kill -9 would: the lock goes with the process
        holder.wait()
    city_index(built_home, "ingest", "--year", str(YEAR), "--source", "worldbank")


@pytest.mark.parametrize("seconds", [4.0, 12.0])
def test_kill_9_at_any_moment_then_the_next_release_completes(
    built_home: Path, seconds: float
) -> None:
    reference = (release_folder(built_home) / "index.csv").read_bytes()
    victim = start_city_index(built_home, "release", "--year", str(YEAR), "--replications", "200")
    time.sleep(seconds)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    again = city_index(built_home, "release", "--year", str(YEAR), "--replications", REPLICATIONS)
    assert again.stdout.strip().splitlines()[-1] == str(release_folder(built_home))
    assert (release_folder(built_home) / "index.csv").read_bytes() == reference
    assert not list(release_folder(built_home).parent.glob(".edition-*"))
    with instance_of(built_home) as instance:
        runs_left_started = [
            r
            for r in instance.get_runs()
            if r.status in (dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING)
        ]
    assert runs_left_started == []


def test_sigterm_stops_a_run_and_says_so(built_home: Path) -> None:
    run = start_city_index(built_home, "release", "--year", str(YEAR), "--replications", "200")
    time.sleep(6)
    run.send_signal(signal.SIGTERM)
    try:
        _out, err = run.communicate(timeout=120)  # a bound for a hung run, not a speed goal
    except subprocess.TimeoutExpired:
        run.kill()
        pytest.fail("city-index did not stop on SIGTERM")
    assert run.returncode != 0
    assert "interrupted" in err.splitlines()[-1] or "stopped" in err.splitlines()[-1], err[-2000:]
    city_index(built_home, "release", "--year", str(YEAR), "--replications", REPLICATIONS)
