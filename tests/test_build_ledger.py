"""The build ledger: a release skips the history only when every history year was built with
the same method, code and data, and anything that may have changed a year makes it rebuild.

Fast tests work on a small real DuckDB warehouse and real dbt invocations; the slow ones
release 2025 as the user does (`city-index` in a subprocess with its own home): once with the
history built, then again with it skipped, then after a failed build of a history year.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import duckdb
import polars as pl
import pytest

from pipelines.index import build_ledger
from pipelines.index.dbt_runner import PROJECT_DIR
from pipelines.index.method import MethodConfig
from tests.test_trust import city_index, home_env, rows_by_year

YEAR = 2025
HISTORY = range(2017, YEAR)
REPLICATIONS = "200"
DBT = str(Path(sys.executable).parent / "dbt")


def make_warehouse(path: Path, rows: list[tuple[int, str, float]]) -> None:
    """Raw tables (one by year, one without a year) and the marts and analysis tables the
    presence check reads, for every year of rows."""
    with duckdb.connect(str(path)) as con:
        con.execute("create schema raw; create schema marts; create schema analysis")
        con.execute("create table raw.values (year integer, city_id varchar, value double)")
        con.executemany("insert into raw.values values (?, ?, ?)", rows)
        con.execute("create table raw.cities (id varchar, name varchar)")
        con.execute("insert into raw.cities values ('paris', 'Paris'), ('lima', 'Lima')")
        for schema, table in (("marts", "fct_index_score"), ("analysis", "uncertainty")):
            con.execute(f"create table {schema}.{table} as select distinct year from raw.values")


def prints(warehouse: Path, method: MethodConfig | None = None, replications: int = 200):
    return build_ledger.release_fingerprints(
        warehouse, range(2017, 2021), method=method or MethodConfig(), replications=replications
    )


ROWS = [
    (year, city, float(year % 7) + i)
    for year in range(2017, 2021)
    for i, city in enumerate(("paris", "lima"))
]


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    path = tmp_path / "warehouse.duckdb"
    make_warehouse(path, ROWS)
    return path


def test_the_fingerprint_is_deterministic_and_ignores_row_order(tmp_path: Path) -> None:
    first, second = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    make_warehouse(first, ROWS)
    make_warehouse(second, list(reversed(ROWS)))
    assert prints(first) == prints(first) == prints(second)
    assert len(set(prints(first).values())) == 4  # every year its own


def test_a_changed_row_changes_its_year_and_later_years_only(warehouse: Path) -> None:
    before = prints(warehouse)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("update raw.values set value = value + 1e-12 where year = 2019")
    after = prints(warehouse)
    assert [after[y] == before[y] for y in range(2017, 2021)] == [True, True, False, False]


def test_a_table_without_year_changes_every_year(warehouse: Path) -> None:
    before = prints(warehouse)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("update raw.cities set name = 'Lima, Peru' where id = 'lima'")
    after = prints(warehouse)
    assert all(after[y] != before[y] for y in before)


def test_a_renamed_column_changes_the_fingerprint(warehouse: Path) -> None:
    before = prints(warehouse)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("alter table raw.cities rename column name to label")
    assert all(prints(warehouse)[y] != before[y] for y in before)


def test_method_replications_and_code_each_change_every_year(
    warehouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = prints(warehouse)
    changed = [
        prints(warehouse, MethodConfig(normalise="zscore")),
        prints(warehouse, MethodConfig(weights={"media": 2})),
        prints(warehouse, replications=201),
    ]
    monkeypatch.setattr(build_ledger, "code_hash", lambda: {"pipelines": "edited"})
    changed.append(prints(warehouse))
    for other in changed:
        assert all(other[y] != base[y] for y in base)


def test_the_code_hash_covers_pipelines_and_the_dbt_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "project"
    shutil.copytree(build_ledger.PROJECT_ROOT / "pipelines", root / "pipelines")
    monkeypatch.setattr(build_ledger, "PROJECT_ROOT", root)
    before = build_ledger.code_hash()
    (root / "pipelines" / "index" / "method.py").write_text("# edited\n", encoding="utf-8")
    after = build_ledger.code_hash()
    assert after["pipelines"] != before["pipelines"]
    assert after["dbt_project"] == before["dbt_project"]  # engine_sql.project_fingerprint


def test_history_is_current_only_with_a_matching_row_and_its_tables(warehouse: Path) -> None:
    expected = prints(warehouse)
    state = build_ledger.check_history(warehouse, expected, method=MethodConfig())
    assert state.stale == (2017, 2018, 2019, 2020) and not state.up_to_date  # no ledger yet
    build_ledger.record_built(warehouse, expected, "run-1")
    state = build_ledger.check_history(warehouse, expected, method=MethodConfig())
    assert state.up_to_date and "run run-1 on " in state.describe_current()
    with duckdb.connect(str(warehouse)) as con:
        con.execute("delete from analysis.uncertainty where year = 2019")  # emptied by hand
    state = build_ledger.check_history(warehouse, expected, method=MethodConfig())
    assert state.stale == (2019,)
    with duckdb.connect(str(warehouse)) as con:
        build_ledger.invalidate(con, [2018])
        assert sorted(build_ledger.read_ledger(con, range(2017, 2021))) == [2017, 2019, 2020]


def test_a_pooled_normalisation_never_skips(warehouse: Path) -> None:
    expected = prints(warehouse)
    build_ledger.record_built(warehouse, expected, "run-1")
    pooled = SimpleNamespace(normalise="minmax_panel")  # compute offers it, a release not yet
    state = build_ledger.check_history(warehouse, expected, method=pooled)
    assert state.stale == (2017, 2018, 2019, 2020) and "pools every year" in state.why_stale


def dbt_seed(warehouse: Path, dbt_vars: str, target: Path) -> None:
    """`dbt seed` at a shell: the cheapest command that writes, so its hooks run."""
    env = {**os.environ, "CITY_INDEX_WAREHOUSE": str(warehouse)}
    done = subprocess.run(
        [
            DBT,
            "seed",
            "--project-dir",
            str(PROJECT_DIR),
            "--profiles-dir",
            str(PROJECT_DIR),
            "--vars",
            dbt_vars,
            "--target-path",
            str(target),
            "--quiet",
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]


def test_a_bare_dbt_command_forgets_the_years_it_replaces(warehouse: Path, tmp_path: Path) -> None:
    dbt_seed(warehouse, '{"year_from": 2019, "year_to": 2019}', tmp_path / "target")  # no ledger
    build_ledger.record_built(warehouse, {y: "f" for y in range(2017, 2021)}, "run-1")
    dbt_seed(warehouse, '{"year_from": 2019, "year_to": 2019}', tmp_path / "target")
    with duckdb.connect(str(warehouse)) as con:
        # 2020 too: its analysis reads the 2019 ranking
        assert sorted(build_ledger.read_ledger(con, range(2017, 2021))) == [2017, 2018]
    build_ledger.record_built(warehouse, {y: "f" for y in range(2017, 2021)}, "run-1")
    panel = '{"year_from": 2020, "year_to": 2020, "normalise": "minmax_panel"}'
    dbt_seed(warehouse, panel, tmp_path / "target")  # pools every year: forgets them all
    with duckdb.connect(str(warehouse)) as con:
        assert build_ledger.read_ledger(con, range(2017, 2021)) == {}


# --- releases as the user runs them -----------------------------------------------------


def release(home: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return city_index(
        home, "release", "--year", str(YEAR), "--replications", REPLICATIONS, *args, check=check
    )


def expected_history(warehouse: Path, method: MethodConfig | None = None) -> dict[int, str]:
    return build_ledger.release_fingerprints(
        warehouse, HISTORY, method=method or MethodConfig(), replications=int(REPLICATIONS)
    )


def history_stale(warehouse: Path, method: MethodConfig | None = None) -> tuple[int, ...]:
    method = method or MethodConfig()
    expected = expected_history(warehouse, method)
    return build_ledger.check_history(warehouse, expected, method=method).stale


def copy_home_warehouse(home: Path, tmp_path: Path) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(home / "warehouse.duckdb", copy)
    return copy


@pytest.fixture(scope="module")
def released_twice(tmp_path_factory: pytest.TempPathFactory, first_release_home) -> dict:
    """2025 released with its history built (a copy of the session's first release,
    conftest.py), then as edition 2 with the history skipped."""
    home = tmp_path_factory.mktemp("ledger_home")
    shutil.copytree(first_release_home.home, home, dirs_exist_ok=True)
    first = first_release_home
    digests = {
        t: rows_by_year(home / "warehouse.duckdb", "marts", t)
        for t in ("fct_index_score", "fct_indicator_value")
    }
    second = release(home, "--edition", "2")
    return {"home": home, "first": first, "second": second, "digests": digests}


@pytest.mark.slow
def test_a_second_release_skips_the_history_and_publishes_the_same_bytes(
    released_twice: dict,
) -> None:
    home = released_twice["home"]
    assert "building history 2017-2024" in released_twice["first"].stderr
    assert "history 2017-2024 up to date (built by run " in released_twice["second"].stderr
    assert "building history" not in released_twice["second"].stderr
    folder = home / "releases" / str(YEAR)
    first, second = folder / "edition-1", folder / "edition-2"
    assert (second / "index.csv").read_bytes() == (first / "index.csv").read_bytes()
    # the Parquet file's metadata names its edition; its rows must be the same
    assert pl.read_parquet(second / "index.parquet").equals(
        pl.read_parquet(first / "index.parquet")
    )
    for table, digests in released_twice["digests"].items():
        assert rows_by_year(home / "warehouse.duckdb", "marts", table) == digests, table
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        ledger = build_ledger.read_ledger(con, range(2017, YEAR + 1))
    assert sorted(ledger) == list(range(2017, YEAR + 1))  # the edition year recorded too


@pytest.mark.slow
def test_method_data_and_bare_builds_each_make_the_history_stale(
    released_twice: dict, tmp_path: Path
) -> None:
    warehouse = copy_home_warehouse(released_twice["home"], tmp_path)
    assert history_stale(warehouse) == ()
    assert history_stale(warehouse, MethodConfig(normalise="zscore")) == tuple(HISTORY)
    assert history_stale(warehouse, MethodConfig(weights={"media": 2})) == tuple(HISTORY)
    with duckdb.connect(str(warehouse)) as con:  # a later year's raw row: history unaffected
        con.execute(
            "update raw.hackernews_mentions set hits = hits + 1 where year = ? and city_id ="
            " (select min(city_id) from raw.hackernews_mentions where year = ?)",
            [YEAR, YEAR],
        )
    assert history_stale(warehouse) == ()
    with duckdb.connect(str(warehouse)) as con:  # a history year's raw row
        con.execute(
            "update raw.hackernews_mentions set hits = hits + 1 where year = 2021 and city_id ="
            " (select min(city_id) from raw.hackernews_mentions where year = 2021)"
        )
    assert history_stale(warehouse) == (2021, 2022, 2023, 2024)
    other = copy_home_warehouse(released_twice["home"], tmp_path / "bare")
    env = {**home_env(released_twice["home"]), "CITY_INDEX_WAREHOUSE": str(other)}
    bare = subprocess.run(  # a bare dbt build of one history year, at a shell
        [
            DBT,
            "build",
            "--project-dir",
            str(PROJECT_DIR),
            "--profiles-dir",
            str(PROJECT_DIR),
            "--vars",
            '{"year_from": 2022, "year_to": 2022}',
            "--target-path",
            str(tmp_path / "target"),
            "--quiet",
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    assert bare.returncode == 0, bare.stdout[-2000:]
    assert history_stale(other) == (2022, 2023, 2024)


@pytest.mark.slow
def test_a_failed_history_build_leaves_its_years_stale_and_the_next_release_rebuilds_them(
    released_twice: dict,
) -> None:
    home = released_twice["home"]
    warehouse = home / "warehouse.duckdb"
    # A build of 2023 whose analysis fails after dbt replaced the marts (seed -1 is refused
    # by numpy), as a crash of the history run would leave it.
    failing = subprocess.run(
        [sys.executable, "-c", FAILING_BUILD], env=home_env(home), capture_output=True, text=True
    )
    assert failing.returncode == 0, failing.stderr[-3000:]
    assert "build run for 2023 failed" in failing.stdout
    assert history_stale(warehouse) == (2023, 2024)
    again = release(home)
    assert "building history 2023-2024" in again.stderr
    assert "already released with the same numbers" in again.stderr
    assert history_stale(warehouse) == ()


FAILING_BUILD = """
from pipelines import cli
from pipelines.settings import apply_environment_defaults
apply_environment_defaults()
config = {"ops": {"index_analysis": {"config": {"seed": -1}}}}
try:
    cli.run_job("build", [2023], run_config=config)
except cli.CommandFailed as error:
    print(error)
"""
