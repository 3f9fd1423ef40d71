"""`ingest --city`: a partial landing replaces only the fetched cities' rows and responses, in
every table of the source, in one transaction, and says honestly what the year now holds."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines.ingest import landing
from pipelines.ingest.landing import NotPerCity, land_batch, landed_kind, mixed_mode, per_city
from pipelines.registry import load_cities
from pipelines.sources.catalog import SPECS
from pipelines.sources.gdelt import fetch_gdelt
from pipelines.sources.spec import SourceBatch

YEAR = 2024
CITY = "beijing"
GDELT_TABLES = ("gdelt_volume", "gdelt_tone", "gdelt_source_country")


def dump(con: duckdb.DuckDBPyConnection, table: str, where: str, params: list) -> list[tuple]:
    """Every column of the matching rows, in a stable order (the bytes a user would read)."""
    return con.execute(f"select * from raw.{table} where {where} order by all", params).fetchall()


def as_record_run(batch: SourceBatch) -> SourceBatch:
    """The snapshot batch of one city as a record run would bring it: real responses and
    different values, so that replaced rows can be told from kept ones."""
    responses = [
        dataclasses.replace(r, synthetic=False, body=r.body + " ", sha256="f" * 64 + str(i))
        for i, r in enumerate(batch.responses)
    ]
    sha_of = {r.sha256: n.sha256 for r, n in zip(batch.responses, responses, strict=True)}
    tables = {
        name: frame.with_columns(pl.col("response_sha256").replace(sha_of))
        for name, frame in batch.tables.items()
    }
    tables["gdelt_volume"] = tables["gdelt_volume"].with_columns(pl.col("article_count") * 2 + 1)
    return dataclasses.replace(batch, responses=responses, tables=tables)


@pytest.fixture(scope="module")
def registry() -> pl.DataFrame:
    return load_cities()


@pytest.fixture
def landed(tmp_path: Path, registry: pl.DataFrame) -> duckdb.DuckDBPyConnection:
    """The whole registry landed from the embedded snapshot (synthetic)."""
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    land_batch(con, fetch_gdelt(registry, YEAR), tmp_path / "landing", "snapshot")
    return con


def others(con, table: str) -> list[tuple]:
    return dump(con, table, "year = ? and city_id <> ?", [YEAR, CITY])


def test_a_partial_ingest_replaces_only_the_fetched_city(landed, tmp_path, registry) -> None:
    con = landed
    before = {t: others(con, t) for t in GDELT_TABLES}
    responses_before = dump(con, "api_responses", "year = ?", [YEAR])
    other_year = fetch_gdelt(registry.head(2), YEAR - 1)
    land_batch(con, other_year, tmp_path / "landing", "snapshot")
    other_year_rows = dump(con, "gdelt_volume", "year = ?", [YEAR - 1])

    batch = as_record_run(fetch_gdelt(registry.filter(pl.col("id") == CITY), YEAR))
    land_batch(con, batch, tmp_path / "landing", "record", cities=[CITY])

    for table in GDELT_TABLES:
        assert others(con, table) == before[table], table
    volume = con.execute(
        "select date, article_count, response_sha256 from raw.gdelt_volume"
        " where year = ? and city_id = ? order by date",
        [YEAR, CITY],
    ).fetchall()
    expected = batch.tables["gdelt_volume"].sort("date")
    assert [r[1] for r in volume] == expected["article_count"].to_list()
    assert {r[2] for r in volume} <= {r.sha256 for r in batch.responses}
    assert dump(con, "gdelt_volume", "year = ?", [YEAR - 1]) == other_year_rows

    # The responses: Beijing's new ones are landed and its old ones gone; every response a
    # kept row refers to is still there, unchanged.
    after = {r[1]: r for r in dump(con, "api_responses", "year = ?", [YEAR])}
    new_keys = {r.request_key for r in batch.responses}
    assert {after[k][7] for k in new_keys} == {r.sha256 for r in batch.responses}
    assert not any(after[k][9] for k in new_keys)  # synthetic false: recorded
    kept_refs = {
        sha
        for table in GDELT_TABLES
        for (sha,) in con.execute(
            f"select distinct response_sha256 from raw.{table} where year = ?", [YEAR]
        ).fetchall()
    }
    assert kept_refs <= {r[7] for r in after.values()}
    unchanged = [r for r in responses_before if r[1] not in new_keys]
    assert all(after[r[1]] == r for r in unchanged)
    assert len(after) == len(responses_before)  # the same requests, Beijing's replaced

    kind = landed_kind(con, "gdelt", YEAR)
    assert kind["mode"] == "snapshot+record"
    assert kind["synthetic"] is True  # the other 65 cities are still synthetic
    assert kind["cities"] == 1
    assert kind["responses"] == len(after)


def test_a_full_ingest_after_a_partial_one_is_whole_again(landed, tmp_path, registry) -> None:
    con = landed
    batch = as_record_run(fetch_gdelt(registry.filter(pl.col("id") == CITY), YEAR))
    land_batch(con, batch, tmp_path / "landing", "record", cities=[CITY])
    everything = fetch_gdelt(registry, YEAR)
    everything = dataclasses.replace(
        everything,
        responses=[dataclasses.replace(r, synthetic=False) for r in everything.responses],
    )
    land_batch(con, everything, tmp_path / "landing", "live")
    kind = landed_kind(con, "gdelt", YEAR)
    assert (kind["mode"], kind["synthetic"], kind["cities"]) == ("live", False, None)
    assert con.execute(
        "select count(*) from raw.api_responses where year = ? and synthetic", [YEAR]
    ).fetchone() == (0,)


def test_a_failure_in_the_middle_leaves_everything_as_it_was(
    landed, tmp_path, registry, monkeypatch
) -> None:
    con = landed
    tables = (*GDELT_TABLES, "api_responses", "landed_batches")
    before = {t: dump(con, t, "year = ?", [YEAR]) for t in tables}
    real_insert = landing._insert

    def failing_insert(con, table, frame, year):
        if table == "api_responses":  # after every gdelt table was replaced
            raise duckdb.IOException("disk gone")
        return real_insert(con, table, frame, year)

    monkeypatch.setattr(landing, "_insert", failing_insert)
    batch = as_record_run(fetch_gdelt(registry.filter(pl.col("id") == CITY), YEAR))
    with pytest.raises(duckdb.IOException):
        land_batch(con, batch, tmp_path / "landing", "record", cities=[CITY])
    assert {t: dump(con, t, "year = ?", [YEAR]) for t in tables} == before


def test_a_source_not_per_city_refuses_a_partial_ingest(tmp_path, registry) -> None:
    from pipelines.sources.worldbank import fetch_worldbank

    assert not per_city("worldbank")
    assert all(per_city(s) for s in SPECS if s != "worldbank")
    con = duckdb.connect()
    batch = fetch_worldbank(registry, YEAR)
    with pytest.raises(NotPerCity, match="worldbank .*without --city"):
        land_batch(con, batch, tmp_path / "landing", cities=[CITY])
    assert landed_kind(con, "worldbank", YEAR) is None


def test_rows_of_other_cities_in_a_partial_batch_are_not_landed(landed, tmp_path, registry):
    """A fetch that returns every city (curated files) lands only the cities asked for."""
    con = landed
    before = others(con, "gdelt_volume")
    batch = fetch_gdelt(registry.head(3), YEAR)
    city = registry["id"][0]
    doubled = batch.tables["gdelt_volume"].with_columns(pl.col("article_count") * 2)
    batch = dataclasses.replace(batch, tables={**batch.tables, "gdelt_volume": doubled})
    land_batch(con, batch, tmp_path / "landing", "snapshot", cities=[city])
    if city != CITY:
        before = [r for r in before if r[0] != city]
    after = [r for r in others(con, "gdelt_volume") if r[0] != city]
    assert after == before


def test_mixed_modes_are_named_in_a_stable_order() -> None:
    assert mixed_mode("snapshot", "record") == "snapshot+record"
    assert mixed_mode("snapshot+record", "live") == "snapshot+live+record"
    assert mixed_mode("record", "record") == "record"
    assert mixed_mode(None, "live") == "live"
