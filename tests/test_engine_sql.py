"""compute runs the engine as dbt compiled it, directly on DuckDB (pipelines.index.engine_sql):
the same tables as `dbt run` makes, a compile that follows the vars and the project (and dbt's
versions), a failing model named as dbt names it, and a typed fast read that gives the same
frame as the careful one."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines.errors import InputRefused
from pipelines.index import duckdb_native
from pipelines.index.compute import EngineConfig, read_framework
from pipelines.index.compute_inputs import (
    indicator_codes,
    load_data_fast,
    load_inputs,
    read_data_checked,
)
from pipelines.index.dbt_runner import DBT_DISTRIBUTIONS, DbtRunError, dbt_versions, run_dbt
from pipelines.index.engine_sql import (
    EngineNode,
    compiled_engine,
    project_fingerprint,
    run_engine,
)
from tests.reference_data import COINR_ASEM_DIR as COINR

META = COINR / "inputs_iMeta.csv"
PANEL = COINR / "inputs_iData_p.csv"


def scratch_with_inputs(folder: Path) -> Path:
    """A scratch warehouse named as compute names it, holding the ASEM panel as sources."""
    folder.mkdir(parents=True, exist_ok=True)
    warehouse = folder / "scratch.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        load_inputs(con, read_framework(META), PANEL, None)
    return warehouse


@pytest.mark.parametrize("treat", ["none", "coinr"])
def test_direct_run_makes_the_tables_dbt_run_makes(tmp_path: Path, treat: str) -> None:
    dbt_vars = {
        "engine_input": "compute",
        **EngineConfig(treat=treat, normalise="minmax_panel").dbt_vars(),
    }
    by_dbt = scratch_with_inputs(tmp_path / "dbt")
    run_dbt(
        "run",
        warehouse=by_dbt,
        dbt_vars=dbt_vars,
        select="tag:engine",
        target_path=tmp_path / "dbt" / "target",
    )
    direct = scratch_with_inputs(tmp_path / "direct")
    nodes = compiled_engine(direct, dbt_vars, tmp_path / "direct")
    with duckdb.connect(str(direct)) as con:
        run_engine(con, nodes)
    tables = ("eng_scores", "eng_ranked", "eng_treatment", "eng_treated", "eng_screened")
    made = {}
    for name, warehouse in (("dbt", by_dbt), ("direct", direct)):
        with duckdb.connect(str(warehouse)) as con:  # table names are fixed, not data
            made[name] = {t: con.sql(f"from engine.{t} order by all").pl() for t in tables}
    for table in tables:
        assert made["direct"][table].equals(made["dbt"][table]), table
    treated = made["dbt"]["eng_treatment"].filter(pl.col("row_kind") == "value").height
    assert (treated > 0) == (treat == "coinr")


def test_the_compiled_engine_follows_vars_and_project_files(tmp_path: Path) -> None:
    base = {"engine_input": "compute", **EngineConfig().dbt_vars()}
    other = {**base, "normalise": "zscore"}
    assert project_fingerprint(base) == project_fingerprint(dict(reversed(base.items())))
    assert project_fingerprint(base) != project_fingerprint(other)
    warehouse = scratch_with_inputs(tmp_path)
    nodes = compiled_engine(warehouse, base, tmp_path)
    ranked = next(n for n in nodes if n.name == "eng_ranked")
    assert "rank() over" in ranked.code
    cached = (tmp_path / "engine_sql.json").read_text()
    assert compiled_engine(warehouse, base, tmp_path) == nodes  # from the cache
    zscore = compiled_engine(warehouse, other, tmp_path)
    normalised = next(n for n in zscore if n.name == "eng_normalised")
    assert "x_sd" in normalised.code and (tmp_path / "engine_sql.json").read_text() != cached
    names = [n.name for n in nodes]
    assert names.index("eng_imputed") < names.index("eng_treatment") < names.index("eng_treated")


def fast_read(path: Path, indicators: list[str]) -> pl.DataFrame | None:
    """compute.data as DuckDB's fast read makes it (sorted), or None when it declines."""
    with duckdb.connect() as con:
        con.execute("create schema compute")
        if load_data_fast(con, path, indicators) is None:
            assert not con.sql("from duckdb_tables() where schema_name = 'compute'").fetchall()
            return None
        return con.sql("from compute.data order by unit_code, year").pl()


def test_the_fast_read_gives_the_checked_read(tmp_path: Path) -> None:
    indicators = indicator_codes(read_framework(META))
    fast = fast_read(PANEL, indicators)
    checked, has_time = read_data_checked(PANEL, indicators)
    assert has_time and fast is not None
    assert fast.equals(checked.sort("unit_code", "year"))
    rows = list(csv.reader(PANEL.read_text().splitlines()))
    column = rows[0].index(indicators[0])
    value = rows[3][column]
    rows[3][column] = f" {value}\t"  # spaces around a number: the same number both ways
    spaced = tmp_path / "spaced.csv"
    with spaced.open("w", newline="") as out:
        csv.writer(out).writerows([*rows[:5], [], *rows[5:]])  # and a blank line: no row
    assert fast_read(spaced, indicators).equals(fast)
    assert read_data_checked(spaced, indicators)[0].sort("unit_code", "year").equals(fast)
    rows[3][column] = "n/a"  # not a number: the careful path says where
    irregular = tmp_path / "iData.csv"
    with irregular.open("w", newline="") as out:
        csv.writer(out).writerows(rows)
    assert fast_read(irregular, indicators) is None
    with pytest.raises(InputRefused, match=indicators[0]) as refused, duckdb.connect() as con:
        load_inputs(con, read_framework(META), irregular, None)
    assert "row 4" in str(refused.value) and "n/a" in str(refused.value)
    shutil.rmtree(tmp_path, ignore_errors=True)


@pytest.mark.parametrize(
    "cell",
    ["1.5", " 2.5\t", "1_000", "1e1_0", "1_000.5_5", "+5", ".5", "5.", "1e-5", "-0", "00012.50"],
)
def test_a_number_the_fast_read_accepts_reads_the_same_on_the_careful_path(
    tmp_path: Path, cell: str
) -> None:
    data = tmp_path / "iData.csv"
    data.write_text(f'uCode,Time,x\nAUT,2001,"{cell}"\nBEL,2001,1\n')
    fast = fast_read(data, ["x"])
    careful = read_data_checked(data, ["x"])[0].sort("unit_code", "year")
    assert fast is not None, cell
    assert fast.equals(careful), (cell, fast, careful)


def engine_node(name: str, code: str) -> EngineNode:
    return EngineNode(
        name=name,
        relation=f"engine.{name}",
        schema="engine",
        materialized="table",
        language="sql",
        code=code,
        config={},
        depends_on=(),
    )


@pytest.mark.parametrize("profiled", [False, True])
def test_a_failing_model_is_named_whether_run_as_one_script_or_one_by_one(
    profiled: bool,
) -> None:
    nodes = [
        engine_node("eng_first", "select 1 as x"),
        engine_node("eng_broken", "select x from engine.no_such_table"),
        engine_node("eng_after", "select 2 as x"),
    ]
    timings: dict[str, float] | None = {} if profiled else None
    with duckdb_native.connect() as con:
        failure = r"dbt run failed: eng_broken: error: .*no_such_table"
        with pytest.raises(DbtRunError, match=failure):
            run_engine(con, nodes, timings)
        assert con.execute("select x from engine.eng_first").fetchall() == [(1,)]
        run_engine(con, [nodes[0], nodes[2]], timings)  # the script of the others runs whole
        assert con.execute("select x from engine.eng_after").fetchall() == [(2,)]


def test_dbt_versions_are_the_installed_distributions() -> None:
    from importlib.metadata import version

    assert dbt_versions() == [version(name) for name in DBT_DISTRIBUTIONS]
