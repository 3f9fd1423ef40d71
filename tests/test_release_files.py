"""The release's files for the tools analysts have: Excel-safe index.csv, Parquet that carries
its synthetic warning, and a DuckDB file that DuckDB 1.4 LTS reads, with every table described.

Fast tests on small frames and a small warehouse; tests/test_edition_e2e.py checks a real
edition."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import polars as pl
import pyarrow.parquet as pq
import pytest

from pipelines.release.assets import EDITION_TABLES, UNDATED_TABLES
from pipelines.release.descriptions import dbt_model_descriptions, describe
from pipelines.release.files import (
    EDITION_STORAGE_VERSION,
    pillar_descriptions,
    quote_identifier,
    sql_string_literal,
    storage_version_number,
    write_edition_database,
    write_index_files,
)

#: Measured with the PyPI wheels: DuckDB 1.4.5 reads storage versions 64-67 ("can only read
#: versions between 64 and 67"), 1.5.6 reads 64-68; DuckDB 2.0's default is 69.
NEWEST_STORAGE_READ_BY_DUCKDB_1_4 = 67
HOSTILE_NAME = '=HYPERLINK("http://x","y")'


def ranking() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "year": [2025, 2025, 2025],
            "city_id": ["beijing", "xian", "hostile"],
            "name_en": ["Beijing", "Xi'an", HOSTILE_NAME],
            "name_zh": ["北京", "西安", "+北京"],
            "score": [76.69761109118372, 50.5, 10.0],
            "rank": [1, 2, 3],
            "score_change": [-1.25, 0.5, None],
            "change_reason": [None, "@mention", "-dropped\tsource"],
        }
    )


# --- index.csv and index.parquet ---------------------------------------------------------------


def test_csv_has_a_bom_keeps_chinese_and_neutralises_formulas(tmp_path: Path) -> None:
    write_index_files(ranking(), tmp_path, 2025, 1, ["gdelt"])
    raw = (tmp_path / "index.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel reads UTF-8 only with the BOM
    text = raw.decode("utf-8-sig")
    assert "北京" in text and "西安" in text
    index = pl.read_csv(tmp_path / "index.csv")
    hostile = index.filter(pl.col("city_id") == "hostile").row(0, named=True)
    assert hostile["name_en"] == "'" + HOSTILE_NAME
    assert hostile["name_zh"] == "'+北京"
    assert hostile["change_reason"] == "'-dropped\tsource"
    assert index.filter(pl.col("city_id") == "xian")["change_reason"].item() == "'@mention"
    assert index["name_en"].to_list()[:2] == ["Beijing", "Xi'an"]  # ordinary text unchanged
    # numbers stay numbers, negative ones too
    assert index.schema["score_change"] == pl.Float64
    assert index["score_change"].to_list()[0] == -1.25
    assert index["score"].to_list() == ranking()["score"].to_list()


def test_every_text_cell_that_starts_a_formula_is_prefixed(tmp_path: Path) -> None:
    triggers = ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1"]
    frame = pl.DataFrame({"city_id": [f"c{i}" for i in range(len(triggers))], "name": triggers})
    write_index_files(frame, tmp_path, 2025, 1, [])
    written = pl.read_csv(tmp_path / "index.csv")["name"].to_list()
    assert written == ["'" + t for t in triggers]


def test_synthetic_flag_travels_in_both_files(tmp_path: Path) -> None:
    written = write_index_files(ranking(), tmp_path, 2025, 3, ["wikimedia", "gdelt"])
    assert written["synthetic"].to_list() == [True, True, True]
    assert pl.read_csv(tmp_path / "index.csv")["synthetic"].to_list() == [True, True, True]
    parquet = pq.read_table(tmp_path / "index.parquet")
    assert parquet.column("synthetic").to_pylist() == [True, True, True]
    assert parquet.column("name_en").to_pylist()[2] == HOSTILE_NAME  # data, not a spreadsheet
    metadata = {k.decode(): v.decode() for k, v in parquet.schema.metadata.items()}
    assert metadata["city_index.year"] == "2025"
    assert metadata["city_index.edition"] == "3"
    assert json.loads(metadata["city_index.synthetic"]) is True
    assert json.loads(metadata["city_index.synthetic_sources"]) == ["gdelt", "wikimedia"]
    assert "SYNTHETIC" in metadata["city_index.notice"]
    assert "gdelt, wikimedia" in metadata["city_index.notice"]


def test_an_edition_of_real_data_says_so(tmp_path: Path) -> None:
    write_index_files(ranking(), tmp_path, 2025, 1, [])
    assert pl.read_csv(tmp_path / "index.csv")["synthetic"].to_list() == [False] * 3
    metadata = pq.read_schema(tmp_path / "index.parquet").metadata
    assert json.loads(metadata[b"city_index.synthetic"]) is False
    assert json.loads(metadata[b"city_index.synthetic_sources"]) == []
    assert b"SYNTHETIC" not in metadata[b"city_index.notice"]


# --- SQL literals for COMMENT ON -----------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Xi'an's rank",
        "'; drop table t; --",
        "back\\slash \\' and ''",
        "line one\nline two",
        "北京 · 西安",
        "",
    ],
)
def test_a_comment_reads_back_exactly_as_written(text: str) -> None:
    with duckdb.connect() as con:
        con.execute("create table t (a integer)")
        con.execute(f"comment on table t is {sql_string_literal(text)}")
        con.execute(f"comment on column t.{quote_identifier('a')} is {sql_string_literal(text)}")
        assert con.sql("select comment from duckdb_tables()").fetchall() == [(text,)]
        assert con.sql(
            "select comment from duckdb_columns() where table_name = 't'"
        ).fetchall() == [(text,)]
        assert con.sql("select count(*) from t").fetchall() == [(0,)]  # still there


def test_storage_version_number_reads_the_header(tmp_path: Path) -> None:
    for version, number in (("v1.4.0", 67), ("v1.5.0", 68)):
        path = tmp_path / f"{version}.duckdb"
        with duckdb.connect() as con:
            con.execute(f"attach ? as db (storage_version '{version}')", [str(path)])
            con.execute("create table db.t as select 1 as a")
        assert storage_version_number(path) == number
    (tmp_path / "not.duckdb").write_bytes(b"x" * 64)
    with pytest.raises(ValueError, match="not a DuckDB database file"):
        storage_version_number(tmp_path / "not.duckdb")


def test_a_nul_character_is_refused() -> None:
    with pytest.raises(ValueError, match="NUL"):
        sql_string_literal("a\x00b")


# --- the analysts' DuckDB file -----------------------------------------------------------------


@pytest.fixture()
def warehouse(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    """A small warehouse with every table the edition copies (key columns and a value)."""
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    for schema, table in [*EDITION_TABLES, *UNDATED_TABLES]:
        con.execute(f"create schema if not exists {schema}")
        con.execute(
            f"create table {schema}.{table} as select * from (values"
            " (2024, 'xian', 1.5), (2025, 'xian', 2.5), (2026, 'xian', 3.5)) as v(year, city_id, x)"
        )
    con.execute("create schema raw")
    con.execute(
        "create table raw.api_responses as select 'gdelt' as source, 'k' as request_key,"
        " 'https://x' as url, '{}' as params, 200 as status, 'application/json' as content_type,"
        " timestamp '2025-01-01' as retrieved_at, 'abc' as sha256, 'landing/x' as body_path,"
        " true as synthetic, 2025 as year"
    )
    con.execute(
        "create table raw.landed_batches as select 'gdelt' as source, 'snapshot' as mode,"
        " true as synthetic, 1 as responses, timestamp '2025-01-01' as landed_at, 2025 as year"
    )
    yield con
    con.close()


def test_edition_file_opens_in_duckdb_1_4_and_is_described(
    warehouse: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    path = tmp_path / "city_index_2025.duckdb"
    framework = pl.DataFrame(
        {"icode": ["top", "x"], "iname": ["Index", "Pillar X"], "parent": [None, "top"]}
    )
    pillars = pillar_descriptions(framework)
    assert pillars == {"x": "Pillar X: pillar score (framework code x)."}
    write_edition_database(
        warehouse, path, 2025, EDITION_TABLES, UNDATED_TABLES, ["gdelt"], pillars
    )
    assert storage_version_number(path) <= NEWEST_STORAGE_READ_BY_DUCKDB_1_4
    with duckdb.connect(str(path), read_only=True) as con:
        tags = con.sql(
            "select tags['storage_version'] from duckdb_databases()"
            " where database_name = current_database()"
        ).fetchall()
        assert tags == [(EDITION_STORAGE_VERSION + "+",)]
        tables = con.sql(
            "select schema_name, table_name, comment from duckdb_tables() order by all"
        ).fetchall()
        assert len(tables) == len(EDITION_TABLES) + len(UNDATED_TABLES) + 2  # + provenance
        for schema, table, comment in tables:
            assert comment and comment.strip(), f"{schema}.{table} has no description"
            assert "SYNTHETIC DATA" in comment and "gdelt" in comment
        undescribed_views = con.sql(
            "select view_name from duckdb_views() where not internal and coalesce(comment, '') = ''"
        ).fetchall()
        assert undescribed_views == []
        key_columns = con.sql(
            "select schema_name, table_name, column_name, comment from duckdb_columns()"
            " where column_name in ('year', 'city_id', 'synthetic')"
        ).fetchall()
        assert len(key_columns) >= len(EDITION_TABLES) * 2
        assert all(comment for *_, comment in key_columns), key_columns
        years = con.sql("select distinct year from marts.mart_city_ranking order by 1").fetchall()
        assert years == [(2024,), (2025,)]  # history up to the edition, never later
        pillar_comment = con.sql(
            "select comment from duckdb_columns()"
            " where table_name = 'mart_city_ranking' and column_name = 'x'"
        ).fetchall()
        assert pillar_comment == [(pillars["x"],)]  # named by the framework, not by code


def test_edition_table_descriptions_come_from_the_dbt_models() -> None:
    models = dbt_model_descriptions()
    for schema, table in [*EDITION_TABLES, *UNDATED_TABLES]:
        description = describe(schema, table)
        if schema in ("marts", "staging", "engine"):
            assert description.text == " ".join(models[table].text.split())
        assert description.text.strip()
    ranking_columns = describe("marts", "mart_city_ranking").columns
    assert {"score", "rank", "rank_change", "previous_rank"} <= set(ranking_columns)


def test_a_table_nobody_describes_is_refused() -> None:
    with pytest.raises(LookupError, match="analysis.not_a_table"):
        describe("analysis", "not_a_table")
