"""A raw table-year that passed is not validated again while its rows, the registry, the rules
and the code are the same; any change to them, or a failure, means a full check."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines.ingest import raw_checks
from pipelines.ingest.landing import TABLES
from pipelines.ingest.raw_check_memory import CheckMemory
from pipelines.ingest.raw_checks import POLARS_TYPES, check_table

TABLE = "gdelt_volume"


def volume(year: int) -> pl.DataFrame:
    schema = {c: POLARS_TYPES[t] for c, t in TABLES[TABLE].items()}
    rows = {
        "city_id": ["a", "b"],
        "date": [dt.date(year, 1, 1), dt.date(year, 6, 1)],
        "article_count": [1, 2],
        "norm_total": [100, 100],
        "response_sha256": ["x", "y"],
        "year": [year, year],
    }
    return pl.DataFrame(rows, schema=schema)


@pytest.fixture
def warehouse(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    con.execute("create schema raw")
    con.execute("create table raw.cities (id varchar, country_iso3 varchar)")
    con.execute("insert into raw.cities values ('a', 'CHN'), ('b', 'FRA')")
    columns = ", ".join(f"{c} {t}" for c, t in TABLES[TABLE].items())
    con.execute(f"create table raw.{TABLE} ({columns})")
    for year in (2024, 2025):
        con.register("rows", volume(year).to_arrow())
        con.execute(f"insert into raw.{TABLE} select * from rows")
        con.unregister("rows")
    yield con
    con.close()


@pytest.fixture
def validated(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The years actually validated (pandera run on them)."""
    years: list[int] = []
    real = raw_checks.check_frame

    def counting(table, year, frame, registry=None):
        years.append(year)
        return real(table, year, frame, registry)

    monkeypatch.setattr(raw_checks, "check_frame", counting)
    return years


def test_unchanged_years_that_passed_are_not_validated_again(
    warehouse, validated, tmp_path: Path
) -> None:
    memory = tmp_path / "passed.json"
    assert check_table(warehouse, TABLE, 2025, CheckMemory(memory)) == ([2024, 2025], [])
    assert validated == [2024, 2025]
    assert check_table(warehouse, TABLE, 2025, CheckMemory(memory)) == ([2024, 2025], [])
    assert validated == [2024, 2025]  # nothing validated the second time


def test_a_changed_row_is_checked_and_its_failure_is_not_remembered(
    warehouse, validated, tmp_path: Path
) -> None:
    memory = tmp_path / "passed.json"
    check_table(warehouse, TABLE, 2025, CheckMemory(memory))
    warehouse.execute(f"update raw.{TABLE} set article_count = -5 where year = 2024")
    years, problems = check_table(warehouse, TABLE, 2025, CheckMemory(memory))
    assert validated == [2024, 2025, 2024]
    assert problems and all("2024" in p for p in problems)
    check_table(warehouse, TABLE, 2025, CheckMemory(memory))
    assert validated == [2024, 2025, 2024, 2024]  # refused again, in full


def test_a_changed_registry_or_rule_means_a_full_check(
    warehouse, validated, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    memory = tmp_path / "passed.json"
    check_table(warehouse, TABLE, 2025, CheckMemory(memory))
    warehouse.execute("insert into raw.cities values ('c', 'FRA')")
    years, problems = check_table(warehouse, TABLE, 2025, CheckMemory(memory))
    assert validated == [2024, 2025] * 2
    assert any("no rows for c" in p for p in problems)  # coverage of the new registry
    warehouse.execute("delete from raw.cities where id = 'c'")
    check_table(warehouse, TABLE, 2025, CheckMemory(memory))
    assert validated == [2024, 2025] * 3
    rules = dataclasses.replace(raw_checks.RAW_RULES[TABLE], keys=("city_id",))
    monkeypatch.setitem(raw_checks.RAW_RULES, TABLE, rules)
    check_table(warehouse, TABLE, 2025, CheckMemory(memory))
    assert validated == [2024, 2025] * 4
