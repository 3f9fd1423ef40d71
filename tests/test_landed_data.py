"""A release never replaces the data a user ingested: it reads what was landed, makes no HTTP
request and reads no snapshot, says what is missing, and records which kind of data it used.
Real landed data is never overwritten by synthetic data unless asked."""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Iterator
from pathlib import Path

import duckdb
import polars as pl
import pytest
import responses

from pipelines import cli, errors
from pipelines.ingest.landing import land_batch
from pipelines.registry import load_cities
from pipelines.settings import landing_dir
from pipelines.sources.gdelt import fetch_gdelt
from pipelines.sources.http import SnapshotStore
from pipelines.sources.spec import SourceBatch
from pipelines.sources.worldbank import fetch_worldbank

pytestmark = pytest.mark.slow
YEAR = 2025
HOME_VARIABLES = ("CITY_INDEX_HOME", "DAGSTER_HOME", "CITY_INDEX_WAREHOUSE", "CITY_INDEX_MODE")


@pytest.fixture
def home(tmp_path: Path, pipeline_home: Path) -> Iterator[Path]:
    """A pipeline home of this test's own (the session's stays as it was)."""
    saved = {name: os.environ.get(name) for name in HOME_VARIABLES}
    os.environ.update(
        CITY_INDEX_HOME=str(tmp_path),
        DAGSTER_HOME=str(tmp_path / "dagster_home"),
        CITY_INDEX_WAREHOUSE=str(tmp_path / "warehouse.duckdb"),
        CITY_INDEX_MODE="snapshot",
    )
    cli.apply_environment_defaults()
    yield tmp_path
    for name, value in saved.items():
        os.environ.update({name: value}) if value is not None else os.environ.pop(name, None)


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Any HTTP request fails (responses has nothing registered) and any snapshot read is
    recorded, so a test can assert that neither happened."""
    snapshot_reads: list[str] = []
    original = SnapshotStore.read

    def recording_read(self, source, *args, **kwargs):
        snapshot_reads.append(source)
        return original(self, source, *args, **kwargs)

    monkeypatch.setattr(SnapshotStore, "read", recording_read)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield snapshot_reads
        assert not mock.calls, [c.request.url for c in mock.calls]


def land_as_live(year: int, batch: SourceBatch) -> None:
    """Land a batch as a live ingest would: mode live, every response real."""
    real = [dataclasses.replace(r, synthetic=False) for r in batch.responses]
    with duckdb.connect(os.environ["CITY_INDEX_WAREHOUSE"]) as con:
        land_batch(con, dataclasses.replace(batch, responses=real), landing_dir(), "live")


def test_release_publishes_the_landed_values_without_fetching(home: Path, offline) -> None:
    cli.ingest(YEAR - 1)
    cli.ingest(YEAR)
    # A live World Bank ingest of the edition year that differs from the snapshot.
    batch = fetch_worldbank(load_cities(), YEAR)
    table = batch.tables["worldbank_indicator"].with_columns(
        pl.when(pl.col("country_iso3") == "CHN")
        .then(pl.col("value") * 2)
        .otherwise(pl.col("value"))
        .alias("value")
    )
    land_as_live(YEAR, dataclasses.replace(batch, tables={"worldbank_indicator": table}))
    with duckdb.connect(os.environ["CITY_INDEX_WAREHOUSE"], read_only=True) as con:
        landed_gdp = con.execute(
            "select arg_max(value, obs_year) from raw.worldbank_indicator"
            " where year = ? and country_iso3 = 'CHN' and indicator_id = 'NY.GDP.PCAP.CD'"
            " and value is not null",
            [YEAR],
        ).fetchall()[0][0]

    offline.clear()
    folder = cli.release(YEAR, None, 200, history_from=YEAR - 1)
    assert offline == []  # no snapshot was read: the release used the landed data only

    with duckdb.connect(str(folder / f"city_index_{YEAR}.duckdb"), read_only=True) as con:
        published = con.execute(
            "select raw_value from marts.fct_indicator_value"
            " where year = ? and city_id = 'beijing' and icode = 'gdp_per_capita'",
            [YEAR],
        ).fetchall()[0][0]
    assert published == landed_gdp
    manifest = json.loads((folder / "manifest.json").read_text())
    kinds = {(k["source"], k["year"]): k for k in manifest["data_kinds"]}
    assert kinds[("worldbank", YEAR)]["mode"] == "live"
    assert kinds[("gdelt", YEAR)] | {"landed_at": None} == {
        "source": "gdelt",
        "year": YEAR,
        "mode": "snapshot",
        "synthetic": True,
        "responses": kinds[("gdelt", YEAR)]["responses"],
        "landed_at": None,
    }
    assert "Kind of data per source and year" in (folder / "report.html").read_text()


def test_a_release_with_nothing_landed_says_what_to_ingest(home: Path, offline) -> None:
    os.environ["CITY_INDEX_MODE"] = "live"
    with pytest.raises(cli.CommandFailed) as refused:
        cli.release(YEAR, None, 200, history_from=YEAR - 1)
    message = str(refused.value)
    assert f"nothing landed for {YEAR - 1}: gdelt" in message
    assert f"city-index ingest --year {YEAR - 1} --mode live" in message
    assert not (home / "releases").exists()


def test_real_landed_data_is_kept_unless_replacing_it_is_asked(home: Path) -> None:
    batch = fetch_gdelt(load_cities(), YEAR)
    land_as_live(YEAR, batch)
    with pytest.raises(cli.CommandFailed) as refused:
        cli.ingest(YEAR, ["gdelt"])  # the snapshot's gdelt is synthetic
    assert refused.value.exit_code == errors.REFUSED
    assert "--replace-real-with-synthetic" in str(refused.value)
    with duckdb.connect(os.environ["CITY_INDEX_WAREHOUSE"], read_only=True) as con:
        kind = con.execute(
            "select mode, synthetic from raw.landed_batches where source = 'gdelt' and year = ?",
            [YEAR],
        ).fetchall()
    assert kind == [("live", False)]

    cli.ingest(YEAR, ["gdelt"], replace_real_with_synthetic=True)
    with duckdb.connect(os.environ["CITY_INDEX_WAREHOUSE"], read_only=True) as con:
        kind = con.execute(
            "select mode, synthetic from raw.landed_batches where source = 'gdelt' and year = ?",
            [YEAR],
        ).fetchall()
    assert kind == [("snapshot", True)]


def test_ingest_of_one_city_replaces_its_rows_and_keeps_the_others(home: Path) -> None:
    """`ingest --city beijing` once deleted the other 65 cities' rows of the year."""
    argv = ["ingest", "--year", str(YEAR), "--source", "hackernews"]
    assert cli.main(argv) == 0
    warehouse = os.environ["CITY_INDEX_WAREHOUSE"]
    with duckdb.connect(warehouse) as con:  # mark Beijing's rows, to see them replaced
        con.execute("update raw.hackernews_mentions set hits = -1 where city_id = 'beijing'")

    def others() -> tuple[list, list]:
        with duckdb.connect(warehouse, read_only=True) as con:
            rows = con.execute(
                "select * from raw.hackernews_mentions where city_id <> 'beijing' order by all"
            ).fetchall()
            responses = con.execute(
                "select * from raw.api_responses where source = 'hackernews' and not"
                " list_contains(?, request_key) order by all",
                [beijing_keys()],
            ).fetchall()
        return rows, responses

    def beijing_keys() -> list[str]:
        with duckdb.connect(warehouse, read_only=True) as con:
            return [
                key
                for (key,) in con.execute(
                    "select r.request_key from raw.api_responses r join raw.hackernews_mentions"
                    " m on m.response_sha256 = r.sha256 and m.year = r.year"
                    " where m.city_id = 'beijing'"
                ).fetchall()
            ]

    before = others()
    assert before[0] and before[1]
    assert cli.main([*argv, "--city", "beijing"]) == 0
    assert others() == before
    with duckdb.connect(warehouse, read_only=True) as con:
        hits = con.execute(
            "select list(hits) from raw.hackernews_mentions where city_id = 'beijing'"
        ).fetchone()[0]
        cities = con.execute(
            "select count(distinct city_id), max(cities) from raw.hackernews_mentions,"
            " raw.landed_batches where source = 'hackernews' and landed_batches.year = ?",
            [YEAR],
        ).fetchone()
    assert hits and all(h >= 0 for h in hits)  # replaced from the snapshot
    assert cities == (len(load_cities()), 1)
