"""Raw landing: idempotent per (source, year), atomic, bodies content-addressed."""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl
import pytest

from pipelines.ingest.landing import land_batch
from pipelines.sources.http import RecordedResponse, body_sha256
from pipelines.sources.spec import SourceBatch


def response(body: str, key: str = "k1") -> RecordedResponse:
    return RecordedResponse(
        source="wikimedia",
        request_key=key,
        url=f"https://wikimedia.org/api/rest_v1/x/{key}",
        params={},
        status=200,
        content_type="application/json",
        body=body,
        retrieved_at="2026-01-01T00:00:00Z",
        sha256=body_sha256(body),
        synthetic=True,
    )


def batch(year: int, views: list[int], months: list[object] | None = None) -> SourceBatch:
    r = response(f'{{"items": {views}}}')
    months = months or [date(year, m + 1, 1) for m in range(len(views))]
    pageviews = pl.DataFrame(
        {
            "city_id": ["paris"] * len(views),
            "lang": ["en"] * len(views),
            "article": ["Paris"] * len(views),
            "month": months,
            "views": views,
            "response_sha256": [r.sha256] * len(views),
        }
    )
    missing = pl.DataFrame(
        {
            "city_id": ["xian"],
            "lang": ["ko"],
            "article": ["시안시"],
            "status": [404],
            "detail": ["Not found"],
            "response_sha256": [r.sha256],
        }
    )
    tables = {"wikimedia_pageviews": pageviews, "wikimedia_missing": missing}
    return SourceBatch("wikimedia", year, [r], tables)


def counts(con, year):
    return con.execute(
        "SELECT (SELECT count(*) FROM raw.wikimedia_pageviews WHERE year = ?),"
        " (SELECT count(*) FROM raw.api_responses WHERE year = ?)",
        [year, year],
    ).fetchone()


def test_idempotent_and_years_independent(tmp_path):
    con = duckdb.connect()
    first = land_batch(con, batch(2020, [10, 20, 30]), tmp_path / "landing")
    assert first == {"wikimedia_pageviews": 3, "wikimedia_missing": 1, "api_responses": 1}
    land_batch(con, batch(2021, [5]), tmp_path / "landing")
    again = land_batch(con, batch(2020, [10, 20, 30]), tmp_path / "landing")
    assert again == first
    assert counts(con, 2020) == (3, 1)
    assert counts(con, 2021) == (1, 1)
    row = con.execute(
        "SELECT status, synthetic, body_path, params, retrieved_at FROM raw.api_responses"
        " WHERE year = 2020"
    ).fetchone()
    assert row[0] == 200 and row[1] is True and row[3] == "{}"
    assert str(row[4]) == "2026-01-01 00:00:00"
    body_file = tmp_path / row[2]
    assert body_file.read_text(encoding="utf-8") == '{"items": [10, 20, 30]}'
    assert body_file.name == body_sha256('{"items": [10, 20, 30]}') + ".txt"
    types = dict(
        con.execute(
            "SELECT column_name, data_type FROM information_schema.columns"
            " WHERE table_schema = 'raw' AND table_name = 'wikimedia_pageviews'"
        ).fetchall()
    )
    assert types["month"] == "DATE" and types["views"] == "BIGINT" and types["year"] == "INTEGER"


def test_failing_load_leaves_previous_rows(tmp_path):
    con = duckdb.connect()
    land_batch(con, batch(2020, [10, 20, 30]), tmp_path / "landing")
    bad = batch(2020, [1, 2], months=["2020-01-01", "not a month"])  # fails in the CAST
    with pytest.raises(duckdb.Error):
        land_batch(con, bad, tmp_path / "landing")
    assert counts(con, 2020) == (3, 1)
    views = con.execute(
        "SELECT list(views ORDER BY month) FROM raw.wikimedia_pageviews WHERE year = 2020"
    ).fetchone()[0]
    assert views == [10, 20, 30]


def test_wrong_tables_are_refused(tmp_path):
    con = duckdb.connect()
    b = batch(2020, [1])
    b.tables.pop("wikimedia_missing")
    with pytest.raises(ValueError, match="expected"):
        land_batch(con, b, tmp_path / "landing")
    b = batch(2020, [1])
    b.tables["wikimedia_pageviews"] = b.tables["wikimedia_pageviews"].drop("views")
    with pytest.raises(ValueError, match="views"):
        land_batch(con, b, tmp_path / "landing")


def test_embedded_snapshot_lands_every_source_for_the_whole_registry(tmp_path):
    """The offline default covers the registry; after a registry edit, regenerate it with
    ``python scripts/generate_snapshots.py``."""
    from pipelines.registry import load_cities
    from pipelines.sources.catalog import SPECS
    from pipelines.sources.curated import fetch_curated
    from pipelines.sources.http import SnapshotMissing

    cities = load_cities()
    con = duckdb.connect()
    try:
        for source, spec in SPECS.items():
            if source == "curated":
                continue
            counts = land_batch(con, spec.fetch(cities, 2025), tmp_path / "landing")
            if source == "social":  # no registry city lists a verified handle: nothing asked
                assert counts == {"social_followers": 0, "api_responses": 0}
                continue
            assert all(n > 0 for name, n in counts.items() if name != "wikimedia_missing")
    except SnapshotMissing as exc:
        pytest.fail(
            f"{exc}\nRegenerate the embedded snapshot: python scripts/generate_snapshots.py"
        )
    land_batch(con, fetch_curated(2025), tmp_path / "landing")
    sources = {
        r[0] for r in con.execute("SELECT DISTINCT source FROM raw.api_responses").fetchall()
    }
    assert sources == {
        "gdelt",
        "wikimedia",
        "wikidata",
        "worldbank",
        "curated",
        "hackernews",
        "stackexchange",
    }
