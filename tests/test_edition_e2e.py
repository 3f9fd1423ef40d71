"""The annual edition end to end on the embedded snapshot: real Dagster runs in a real instance,
real dbt builds, the Great Expectations gate and the release folder."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest

from pipelines import cli
from pipelines.registry import load_cities
from tests.test_validation_docs import assert_self_contained

pytestmark = pytest.mark.slow
YEAR = 2025
REPLICATIONS = 200


def digest_tree(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def first_release(pipeline_home: Path) -> Path:
    cli.ingest(YEAR - 1)  # the year before: for the change against the previous edition
    return cli.release(YEAR, None, REPLICATIONS, history_from=YEAR - 1)


def test_release_ranks_every_city_with_scores_in_range(first_release: Path) -> None:
    assert first_release.name == "edition-1"
    assert first_release.parent.name == str(YEAR)
    index = pl.read_csv(first_release / "index.csv")
    assert sorted(index["city_id"].to_list()) == sorted(load_cities()["id"].to_list())
    assert index["ranked"].all()
    assert index["score"].min() >= 0 and index["score"].max() <= 100
    assert sorted(index["rank"].to_list())[0] == 1
    assert index["rank_change"].is_not_null().any()  # the 2024 ranking exists for the change
    assert (index["rank_p05"] <= index["median_rank"]).all()
    assert pl.read_parquet(first_release / "index.parquet").equals(index, null_equal=True)


def test_manifest_lists_every_file_with_its_checksum(first_release: Path) -> None:
    manifest = json.loads((first_release / "manifest.json").read_text())
    files = digest_tree(first_release)
    files.pop("manifest.json")
    assert manifest["files"] == files
    assert {"gdelt", "wikimedia", "worldbank"} <= {s["source"] for s in manifest["sources"]}
    assert "gdelt" in manifest["synthetic_sources"]
    assert "worldbank" not in manifest["synthetic_sources"]
    assert manifest["versions"]["dbt-core"].startswith("1.11")
    assert all(len(r["sha256"]) == 64 for r in manifest["responses"])


def test_report_and_analyst_database(first_release: Path) -> None:
    report = (first_release / "report.html").read_text()
    assert "synthetic" in report.lower()
    assert "Xi&#39;an" in report and "西安" in report
    database = first_release / f"city_index_{YEAR}.duckdb"
    with duckdb.connect(str(database), read_only=True) as con:
        ranked = con.execute(
            "select count(*) from marts.mart_city_ranking where year = ? and ranked", [YEAR]
        ).fetchall()[0][0]
        years = con.sql("select distinct year from marts.mart_city_ranking order by 1").fetchall()
    assert ranked == len(load_cities())
    assert [y[0] for y in years] == [YEAR - 1, YEAR]


def test_validation_page_is_self_contained(first_release: Path, pipeline_home: Path) -> None:
    """The release's validation folder is one page that needs no network and names no path."""
    folder = first_release / "validation"
    assert [p.name for p in folder.iterdir()] == ["index.html"]
    html = (folder / "index.html").read_text(encoding="utf-8")
    assert_self_contained(html, pipeline_home)
    manifest = json.loads((first_release / "manifest.json").read_text())
    assert manifest["validation"] and 'data-verdict="pass"' in html
    for suite in manifest["validation"]:
        assert f'data-suite="{suite["suite"]}"' in html


def test_runs_are_recorded_in_the_dagster_instance(first_release: Path) -> None:
    runs = dg.DagsterInstance.get().get_runs()
    assert {run.job_name for run in runs} >= {"ingest", "annual_edition"}
    assert all(run.status == dg.DagsterRunStatus.SUCCESS for run in runs)


def test_same_numbers_again_is_a_no_op(first_release: Path) -> None:
    before = digest_tree(first_release)
    again = cli.release(YEAR, None, REPLICATIONS, history_from=YEAR - 1)
    assert again == first_release
    assert digest_tree(first_release) == before
    assert sorted(p.name for p in first_release.parent.iterdir()) == ["edition-1"]


# Corruptions as a broken source or a damaged warehouse would leave them, in an earlier year the
# edition reads (its history) or in the edition year: (table, year, SQL, what the refusal names).
CORRUPTIONS = {
    "duplicate key": (
        "gdelt_volume",
        YEAR - 1,
        "insert into raw.gdelt_volume select * from raw.gdelt_volume where year = ? limit 1",
        r"raw\.gdelt_volume 2024: row city_id=\S+, date=\S+ columns city_id, date: duplicate",
    ),
    "negative views": (
        "wikimedia_pageviews",
        YEAR - 1,
        "update raw.wikimedia_pageviews set views = -60000000"
        " where year = ? and city_id = 'paris' and lang = 'de'",
        r"raw\.wikimedia_pageviews 2024: row city_id=paris, lang=de, month=\S+ column views: "
        r"-60000000 is not >= 0",
    ),
    "implausible tone": (
        "gdelt_tone",
        YEAR - 1,
        "update raw.gdelt_tone set avg_tone = 2.6e27 where year = ? and city_id = 'tokyo'",
        r"raw\.gdelt_tone 2024: row city_id=tokyo, date=\S+ column avg_tone: 2\.6e\+27 is not "
        r"<= 100",
    ),
    "a city's rows deleted": (
        "stackexchange_questions",
        YEAR - 1,
        "delete from raw.stackexchange_questions where year = ? and city_id = 'beijing'",
        r"raw\.stackexchange_questions 2024: column city_id: no rows for beijing",
    ),
    "implausible GDP per capita": (
        "worldbank_indicator",
        YEAR,
        "update raw.worldbank_indicator set value = 1e30"
        " where year = ? and country_iso3 = 'CHN' and indicator_id = 'NY.GDP.PCAP.CD'",
        r"raw\.worldbank_indicator 2025: row country_iso3=CHN, indicator_id=NY\.GDP\.PCAP\.CD, "
        r"obs_year=\d+ column value: 1e\+30 is not value of NY\.GDP\.PCAP\.CD in 0\.\.500000",
    ),
}


@pytest.mark.parametrize("corruption", list(CORRUPTIONS))
def test_bad_raw_data_of_any_year_read_stops_the_build_before_dbt(
    first_release: Path, corruption: str
) -> None:
    """A bad raw table of any year the edition reads fails its raw check, which names the
    table, year, row and column, and no dbt step runs; the edition stays untouched."""
    import re

    table, year, corrupt, named = CORRUPTIONS[corruption]
    before = digest_tree(first_release)
    warehouse = Path(first_release).parents[2] / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute(f"create temp table kept as select * from raw.{table} where year = ?", [year])
        kept = con.sql("select * from kept").pl()
        con.execute(corrupt, [year])
    try:
        job = cli._definitions().resolve_job_def("annual_edition")
        result = job.execute_in_process(
            instance=dg.DagsterInstance.get(),
            partition_key=str(YEAR),
            run_config={
                "ops": {
                    "annual_release": {"config": {"edition": 2}},
                    "index_analysis": {"config": {"replications": 50}},
                }
            },
            raise_on_error=False,
        )
    finally:
        # A release never repairs landed data: the test puts the rows back itself.
        with duckdb.connect(str(warehouse)) as con:
            con.execute(f"delete from raw.{table} where year = ?", [year])
            con.register("kept_rows", kept.to_arrow())
            con.execute(f"insert into raw.{table} select * from kept_rows")
    assert not result.success
    report = cli.failure_report(result)
    assert f"check {table}_valid failed" in report
    assert re.search(named, report), report
    started = {e.step_key for e in result.all_events if e.event_type_value == "STEP_START"}
    assert "city_index_models" not in started and "index_analysis" not in started
    assert not result.get_asset_materialization_events()
    assert not (first_release.parent / "edition-2").exists()
    assert digest_tree(first_release) == before


def test_different_numbers_need_a_new_edition(first_release: Path) -> None:
    before = digest_tree(first_release)
    # Fewer replications give other rank intervals: different numbers for the same year.
    # The refusal names cities and the columns that differ, with both values.
    with pytest.raises(
        cli.CommandFailed, match=r"[a-z-]+: .*rank_p\d\d [\d.]+ -> [\d.]+.*--edition 2"
    ):
        cli.release(YEAR, None, 50, history_from=YEAR - 1)
    assert digest_tree(first_release) == before
    second = cli.release(YEAR, 2, 50, history_from=YEAR - 1)
    assert second.name == "edition-2"
    assert digest_tree(first_release) == before
    assert not list(first_release.parent.glob(".edition-*"))  # no half-built folder left


def test_analyst_and_pipeline_do_not_lock_each_other(first_release: Path) -> None:
    """An analyst holding the release file open does not block a run, and a run holding the
    warehouse does not block an analyst: they are different files."""
    import subprocess
    import sys

    database = first_release / f"city_index_{YEAR}.duckdb"
    hold = (
        "import duckdb, sys, time; c = duckdb.connect(sys.argv[1], read_only=sys.argv[2] == 'ro');"
        " c.sql('select 1').fetchall(); print('open', flush=True); time.sleep(60)"
    )
    analyst = subprocess.Popen(
        [sys.executable, "-c", hold, str(database), "ro"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert analyst.stdout.readline().strip() == "open"
        cli.ingest(YEAR, ["worldbank"])  # a pipeline run writing the warehouse
    finally:
        analyst.kill()
    warehouse = first_release.parents[2] / "warehouse.duckdb"
    pipeline = subprocess.Popen(
        [sys.executable, "-c", hold, str(warehouse), "rw"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert pipeline.stdout.readline().strip() == "open"
        with duckdb.connect(str(database), read_only=True) as con:
            top = con.sql(
                "select city_id from marts.mart_city_ranking where year = 2025 and rank = 1"
            ).fetchall()
        assert len(top) >= 1
    finally:
        pipeline.kill()


def test_every_query_in_the_analysts_guide_runs_on_the_release(first_release: Path) -> None:
    guide = (Path(__file__).resolve().parents[1] / "docs" / "analysts.md").read_text()
    blocks = [b.split("```", 1)[0] for b in guide.split("```sql\n")[1:]]
    queries = [q.strip() for block in blocks for q in block.split(";") if q.strip()]
    assert len(queries) >= 6
    database = first_release / f"city_index_{YEAR}.duckdb"
    with duckdb.connect(str(database), read_only=True) as con:
        for query in queries:
            rows = con.sql(query).fetchall()
            assert rows, query


def test_score_out_of_range_is_refused(first_release: Path) -> None:
    """A score above 100 in the marts (as a broken engine would write it) never gets out."""
    releases_before = {p: digest_tree(p) for p in first_release.parent.glob("edition-*")}
    warehouse = Path(first_release).parents[2] / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute(  # the index's own score (the ranking mart is a view over it)
            "update marts.fct_index_score set score = 101 where year = ? and rank = 1"
            " and level = (select max(level) from marts.fct_index_score)",
            [YEAR],
        )
    defs = cli._definitions()
    after_dbt = dg.AssetSelection.assets("index_analysis", "annual_release")
    result = defs.resolve_job_def("annual_edition").execute_in_process(
        instance=dg.DagsterInstance.get(),
        partition_key=str(YEAR),
        run_config={
            "ops": {
                "annual_release": {"config": {"edition": 9}},
                "index_analysis": {"config": {"replications": 50}},
            }
        },
        asset_selection=list(after_dbt.resolve(defs.resolve_asset_graph())),
        raise_on_error=False,
    )
    assert not result.success
    report = cli.failure_report(result)
    assert "expect_column_values_to_be_between on score" in report
    assert "score=101" in report  # the sample row is shown
    assert not (first_release.parent / "edition-9").exists()
    assert {p: digest_tree(p) for p in first_release.parent.glob("edition-*")} == releases_before


def test_release_files_open_in_the_tools_analysts_have(first_release: Path) -> None:
    """DuckDB 1.4 LTS reads the file (storage number <= 67), every table and the columns that
    matter are described, and the open-data files carry the synthetic warning themselves."""
    import stat

    import pyarrow.parquet as pq

    from pipelines.release.files import storage_version_number

    database = first_release / f"city_index_{YEAR}.duckdb"
    assert storage_version_number(database) <= 67  # DuckDB 1.4.x reads 64-67
    with duckdb.connect(str(database), read_only=True) as con:
        tables = con.sql("select schema_name, table_name, comment from duckdb_tables()").fetchall()
        views = con.sql(
            "select view_name, comment from duckdb_views() where not internal"
        ).fetchall()
        columns = con.sql(
            "select schema_name, table_name, column_name, comment from duckdb_columns()"
            " where schema_name in ('marts', 'analysis', 'provenance')"
        ).fetchall()
    assert len(tables) >= 12
    assert all(comment for *_, comment in tables + views), tables + views
    assert (
        "SYNTHETIC DATA" in dict(((s, t), c) for s, t, c in tables)[("marts", "mart_city_ranking")]
    )
    must_be_described = [
        (schema, table, column)
        for schema, table, column, _ in columns
        if schema in ("analysis", "provenance")
        or table in ("mart_city_ranking", "fct_index_score", "fct_indicator_value", "dim_city")
        or column in ("year", "city_id", "icode", "score", "rank")
    ]
    undescribed = [(s, t, c) for s, t, c, comment in columns if not comment]
    assert not set(must_be_described) & set(undescribed), undescribed

    raw = (first_release / "index.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and "西安" in raw.decode("utf-8-sig")
    index = pl.read_csv(first_release / "index.csv")
    assert index["synthetic"].all()  # the snapshot's GDELT responses are generated
    parquet = pq.read_table(first_release / "index.parquet")
    assert parquet.schema.metadata[b"city_index.synthetic"] == b"true"
    assert b"gdelt" in parquet.schema.metadata[b"city_index.synthetic_sources"]

    for path in [first_release, *first_release.rglob("*")]:
        expected = 0o755 if path.is_dir() else 0o644
        assert stat.S_IMODE(path.stat().st_mode) == expected, path


def test_released_edition_passes_the_indicator_audit(first_release: Path) -> None:
    """The embedded snapshot's indicators all pass the blocking rules; the audit travels in
    the analysts' file, the method actually used in the manifest."""
    database = first_release / f"city_index_{YEAR}.duckdb"
    with duckdb.connect(str(database), read_only=True) as con:
        audit = con.sql("select * from analysis.audit where year = ?", params=[YEAR]).pl()
    indicators = audit.filter(pl.col("kind") == "indicator")
    assert indicators.height == 9
    assert (indicators["status"] != "block").all()
    assert indicators["coverage"].min() >= 0.9 and indicators["distinct_values"].min() >= 5
    manifest = json.loads((first_release / "manifest.json").read_text())
    assert manifest["configuration"]["aggregate"] == "amean"
    assert "Indicator audit" in (first_release / "report.html").read_text()


def test_another_method_moves_the_intervals_and_every_rank_stays_inside(
    first_release: Path,
) -> None:
    """Released with the geometric mean, the edition's Monte Carlo is centred on that method:
    the intervals move with it and each published rank lies inside its 5-95 % interval.
    (Last in this module: it leaves the warehouse built with the other method.)"""
    from pipelines.index.method import MethodConfig

    method = MethodConfig(aggregate="gmean", range_lower=1.0)
    other = cli.release(YEAR, 20, REPLICATIONS, history_from=YEAR - 1, method=method)
    interval = ["city_id", "median_rank", "rank_p05", "rank_p95"]
    default = pl.read_csv(first_release / "index.csv").select(interval).sort("city_id")
    gmean = pl.read_csv(other / "index.csv")
    assert not gmean.select(interval).sort("city_id").equals(default)
    outside = gmean.filter(
        (pl.col("rank") < pl.col("rank_p05")) | (pl.col("rank") > pl.col("rank_p95"))
    )
    assert outside.is_empty(), outside.select("city_id", "rank", "rank_p05", "rank_p95")
    manifest = json.loads((other / "manifest.json").read_text())
    assert manifest["configuration"]["aggregate"] == "gmean"


def test_the_ranking_mart_has_a_column_per_pillar_of_the_framework(
    first_release: Path, tmp_path: Path
) -> None:
    """The mart's pillar columns are the framework's: a copy of the warehouse whose framework
    gains a fourth pillar, rebuilt by dbt, has its column after the others (file order)."""
    import shutil

    from pipelines.index.dbt_runner import run_dbt

    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(Path(first_release).parents[2] / "warehouse.duckdb", warehouse)
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "insert into raw.framework (position, level, icode, iname, direction, weight, parent,"
            " type) select max(position) + 1, '2', 'culture', 'Culture', '1', '1', 'index',"
            " 'Aggregate' from raw.framework"
        )
    run_dbt(
        "run",
        warehouse=warehouse,
        dbt_vars={"year_from": YEAR, "year_to": YEAR},
        select="stg_framework__indicators mart_city_ranking",
        target_path=tmp_path / "target",
    )
    with duckdb.connect(str(warehouse)) as con:  # dbt's in-process connection is read-write
        columns = [row[0] for row in con.execute("describe marts.mart_city_ranking").fetchall()]
    assert columns[columns.index("media") :][:4] == ["media", "social", "economy", "culture"]
