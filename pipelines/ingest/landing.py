"""Land a fetched batch in DuckDB's ``raw`` schema, replacing what it fetched atomically.

Response bodies go to ``<landing_dir>/<sha256>.txt`` (content-addressed, written once), and the
rows to the raw tables of docs/architecture.md. A batch of the whole registry replaces its
(source, year); a batch of some cities (``ingest --city``) replaces only those cities' rows of
(source, year), in every table of the source, and their responses. The delete of the old rows
and the insert of the new ones happen in one transaction: a failing load leaves the previous
data. Table and column names come only from the fixed DDL below; data only travels as
parameters or as a registered Arrow table.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Sequence
from pathlib import Path

import duckdb
import polars as pl

from pipelines.sources.catalog import SPECS, raw_tables
from pipelines.sources.http import MODES, resolve_mode
from pipelines.sources.spec import SourceBatch
from pipelines.sql_names import quote_identifier

SCHEMA = "raw"

#: Column -> DuckDB type of every raw table this module writes (the whitelist): the two
#: bookkeeping tables here, then every source's tables (below).
TABLES: dict[str, dict[str, str]] = {
    "api_responses": {
        "source": "VARCHAR",
        "request_key": "VARCHAR",
        "url": "VARCHAR",
        "params": "VARCHAR",  # JSON text
        "status": "INTEGER",
        "content_type": "VARCHAR",
        "retrieved_at": "TIMESTAMP",  # UTC
        "sha256": "VARCHAR",
        "body_path": "VARCHAR",
        "synthetic": "BOOLEAN",
        "year": "INTEGER",
    },
    # One row per landed (source, year): where the data came from, so that a release can say
    # which kind of data it used and never replaces real data with synthetic data unawares.
    "landed_batches": {
        "source": "VARCHAR",
        # snapshot | live | record; modes joined by "+" (e.g. "record+snapshot") when
        # landings of some cities in another mode left the year mixed
        "mode": "VARCHAR",
        "synthetic": "BOOLEAN",  # any landed response generated rather than recorded
        "responses": "INTEGER",  # responses landed for the (source, year)
        "landed_at": "TIMESTAMP",  # UTC, of the latest landing
        "year": "INTEGER",
        "cities": "INTEGER",  # cities the latest landing covered; NULL: the whole registry
    },
}
# Every source's tables, from its one declaration (pipelines/sources/<name>/).
TABLES.update({table.name: table.duckdb_types() for table in raw_tables()})

#: The tables each source owns.
SOURCE_TABLES: dict[str, tuple[str, ...]] = {
    name: tuple(table.name for table in spec.tables) for name, spec in SPECS.items()
}

#: Opt-in tables a source lands only when its batch carries them (e.g. X counts, only with
#: X_BEARER_TOKEN): a batch without them leaves their rows as they are.
OPTIONAL_SOURCE_TABLES: dict[str, tuple[str, ...]] = {
    name: tuple(table.name for table in spec.optional_tables)
    for name, spec in SPECS.items()
    if spec.optional_tables
}

#: Table -> the column holding each row's registry city (None: the table is not per city).
CITY_COLUMNS: dict[str, str | None] = {
    table.name: table.city_column if table.per_city else None for table in raw_tables()
}

#: ``raw.api_responses.source`` values of clients named differently from their batch's source:
#: replaced together with the table they feed.
TABLE_RESPONSE_SOURCES: dict[str, tuple[str, ...]] = {
    table: sources for spec in SPECS.values() for table, sources in spec.response_sources.items()
}

_FRAME_VIEW = "_landing_frame"


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create ``raw`` and every table of the whitelist if missing; bookkeeping columns added
    since a warehouse was created are added to it (NULL for the rows it holds)."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    for table, columns in TABLES.items():
        cols = ", ".join(f"{quote_identifier(c)} {t}" for c, t in columns.items())
        con.execute(f"CREATE TABLE IF NOT EXISTS {SCHEMA}.{table} ({cols})")
    con.execute(f"ALTER TABLE {SCHEMA}.landed_batches ADD COLUMN IF NOT EXISTS cities INTEGER")


def per_city(source: str) -> bool:
    """True when every table of the source holds a city column, so that ``ingest --city``
    can replace some cities' rows and keep the others."""
    return all(
        CITY_COLUMNS[t] is not None
        for t in (*SOURCE_TABLES[source], *OPTIONAL_SOURCE_TABLES.get(source, ()))
    )


def not_per_city_message(sources: Sequence[str]) -> str:
    """Why ``--city`` cannot narrow these sources, and what to do."""
    return (
        f"{', '.join(sources)} {'holds' if len(sources) == 1 else 'hold'} no per-city rows "
        "(e.g. per country), so --city cannot replace some cities' rows and keep the others; "
        "ingest it without --city"
    )


class NotPerCity(ValueError):
    """A source whose rows are not per city (e.g. per country) was narrowed to some cities."""


def write_bodies(batch: SourceBatch, landing_dir: Path) -> dict[str, str]:
    """Write each body once as ``<sha256>.txt``; returns sha256 -> body_path (relative to the
    landing folder's parent, i.e. the output home, so the warehouse can move with it)."""
    landing_dir.mkdir(parents=True, exist_ok=True)
    paths: dict[str, str] = {}
    for response in batch.responses:
        target = landing_dir / f"{response.sha256}.txt"
        if not target.exists():
            tmp = target.with_suffix(f".tmp{os.getpid()}")
            tmp.write_bytes(response.body.encode("utf-8"))
            tmp.replace(target)
        paths[response.sha256] = f"{landing_dir.name}/{target.name}"
    return paths


def _responses_frame(batch: SourceBatch, paths: dict[str, str]) -> pl.DataFrame:
    seen: set[str] = set()
    rows = []
    for r in batch.responses:
        if r.request_key in seen:
            continue
        seen.add(r.request_key)
        rows.append(
            {
                "source": r.source,
                "request_key": r.request_key,
                "url": r.url,
                "params": json.dumps(r.params, sort_keys=True, ensure_ascii=False),
                "status": r.status,
                "content_type": r.content_type,
                "retrieved_at": r.retrieved_at.replace("Z", "").replace("+00:00", ""),
                "sha256": r.sha256,
                "body_path": paths[r.sha256],
                "synthetic": r.synthetic,
            }
        )
    schema = {c: pl.String for c in TABLES["api_responses"] if c != "year"}
    schema.update({"status": pl.Int32, "synthetic": pl.Boolean})
    return pl.DataFrame(rows, schema=schema)


def _insert(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame, year: int) -> int:
    """Insert a frame through Arrow, casting to the whitelisted DDL types."""
    columns = {c: t for c, t in TABLES[table].items() if c != "year"}
    absent = [c for c in columns if c not in frame.columns]
    if absent:
        raise ValueError(f"frame for raw.{table} lacks column(s) {', '.join(absent)}")
    select = ", ".join(f"CAST({quote_identifier(c)} AS {t})" for c, t in columns.items())
    names = ", ".join(quote_identifier(c) for c in columns)
    con.register(_FRAME_VIEW, frame.select(list(columns)).to_arrow())
    try:
        con.execute(
            f"INSERT INTO {SCHEMA}.{table} ({names}, year) SELECT {select}, ? FROM {_FRAME_VIEW}",
            [year],
        )
    finally:
        con.unregister(_FRAME_VIEW)
    return frame.height


class RealDataProtected(RuntimeError):
    """A synthetic batch would replace real landed data without the explicit flag."""


def landed_kind(con: duckdb.DuckDBPyConnection, source: str, year: int) -> dict | None:
    """What is landed for (source, year): mode, synthetic, responses, landed_at, cities; None
    if nothing is."""
    ensure_schema(con)
    row = con.execute(
        f"SELECT mode, synthetic, responses, landed_at, cities FROM {SCHEMA}.landed_batches"
        " WHERE source = ? AND year = ?",
        [source, year],
    ).fetchone()
    if row is None:
        return None
    keys = ("mode", "synthetic", "responses", "landed_at", "cities")
    return dict(zip(keys, row, strict=True))


def batch_is_synthetic(batch: SourceBatch) -> bool:
    return any(r.synthetic for r in batch.responses)


def mixed_mode(previous: str | None, mode: str) -> str:
    """The mode of a (source, year) after some cities were landed in ``mode`` over data landed
    in ``previous`` (itself possibly mixed): the modes present, joined by "+"."""
    present = {mode, *(previous.split("+") if previous else ())}
    return "+".join(m for m in MODES if m in present)


def _city_rows_responses(
    con: duckdb.DuckDBPyConnection, tables: Sequence[str], year: int, cities: Sequence[str] | None
) -> set[str]:
    """The response_sha256 values of the rows of ``tables`` for ``year`` (of ``cities`` only,
    when given)."""
    shas: set[str] = set()
    for table in tables:
        sql = f"SELECT DISTINCT response_sha256 FROM {SCHEMA}.{table} WHERE year = ?"
        params: list = [year]
        if cities is not None:
            sql += f" AND list_contains(?, {quote_identifier(CITY_COLUMNS[table])})"
            params.append(list(cities))
        shas.update(sha for (sha,) in con.execute(sql, params).fetchall() if sha is not None)
    return shas


def land_batch(
    con: duckdb.DuckDBPyConnection,
    batch: SourceBatch,
    landing_dir: Path,
    mode: str | None = None,
    *,
    cities: Sequence[str] | None = None,
    replace_real_with_synthetic: bool = False,
) -> dict[str, int]:
    """Replace (source, year) in its raw tables and raw.api_responses in one transaction, and
    record where it came from in raw.landed_batches (mode: the one in force by default).

    With ``cities`` (the registry ids the batch was fetched for), only those cities' rows are
    replaced, in every table of the source; rows of other cities in the batch are not landed,
    and the responses replaced are the batch's own (by request) and those only the replaced
    rows referred to. A source whose tables are not per city refuses ``cities``
    (:class:`NotPerCity`). Real landed data is never replaced by a synthetic batch unless
    asked explicitly. Returns the number of rows inserted per table (``api_responses``
    included).
    """
    expected = SOURCE_TABLES.get(batch.source)
    if expected is None:
        raise ValueError(f"unknown source {batch.source!r}")
    optional = OPTIONAL_SOURCE_TABLES.get(batch.source, ())
    expected = (*expected, *(t for t in optional if t in batch.tables))
    if set(batch.tables) != set(expected):
        raise ValueError(
            f"{batch.source} batch has tables {sorted(batch.tables)}, expected {sorted(expected)}"
        )
    if cities is not None:
        cities = sorted(set(cities))
        whole = [t for t in expected if CITY_COLUMNS[t] is None]
        if whole:
            raise NotPerCity(f"raw.{', raw.'.join(whole)}: " + not_per_city_message([batch.source]))
        if not cities:
            raise ValueError(f"{batch.source} {batch.year}: an ingest of no city")
    owned = {batch.source}  # the raw.api_responses sources this batch replaces
    for table in expected:
        owned.update(TABLE_RESPONSE_SOURCES.get(table, ()))
    ensure_schema(con)
    previous = landed_kind(con, batch.source, batch.year)
    if (
        previous
        and not previous["synthetic"]
        and batch_is_synthetic(batch)
        and not replace_real_with_synthetic
    ):
        raise RealDataProtected(
            f"{batch.source} {batch.year} holds real data landed in {previous['mode']} mode "
            f"on {previous['landed_at']}; this batch is synthetic and would replace it. Keep "
            "the real data (nothing was changed), or replace it explicitly with "
            "--replace-real-with-synthetic"
        )
    frames = {table: batch.tables[table] for table in expected}
    if cities is not None:
        frames = {
            table: frame.filter(pl.col(CITY_COLUMNS[table]).is_in(cities))
            for table, frame in frames.items()
        }
    paths = write_bodies(batch, Path(landing_dir))
    responses = _responses_frame(batch, paths)
    counts: dict[str, int] = {}
    from pipelines.resources import transaction  # Dagster: imported when landing runs

    with transaction(con):
        replaced = _city_rows_responses(con, expected, batch.year, cities)
        for table, frame in frames.items():
            if cities is None:
                con.execute(f"DELETE FROM {SCHEMA}.{table} WHERE year = ?", [batch.year])
            else:
                con.execute(
                    f"DELETE FROM {SCHEMA}.{table} WHERE year = ?"
                    f" AND list_contains(?, {quote_identifier(CITY_COLUMNS[table])})",
                    [batch.year, cities],
                )
            counts[table] = _insert(con, table, frame, batch.year)
        if cities is None:
            con.execute(
                f"DELETE FROM {SCHEMA}.api_responses WHERE list_contains(?, source) AND year = ?",
                [sorted(owned), batch.year],
            )
        else:  # the batch's requests, and responses no row of another city still refers to
            kept = _city_rows_responses(con, expected, batch.year, None)
            con.execute(
                f"DELETE FROM {SCHEMA}.api_responses WHERE list_contains(?, source) AND year = ?"
                " AND (list_contains(?, request_key) OR list_contains(?, sha256))",
                [
                    sorted(owned),
                    batch.year,
                    responses["request_key"].to_list(),
                    sorted(replaced - kept),
                ],
            )
        counts["api_responses"] = _insert(con, "api_responses", responses, batch.year)
        landed_responses, synthetic = con.execute(
            f"SELECT count(*), coalesce(bool_or(synthetic), false) FROM {SCHEMA}.api_responses"
            " WHERE list_contains(?, source) AND year = ?",
            [sorted(owned), batch.year],
        ).fetchone()
        new_mode = resolve_mode(mode)
        if cities is not None and previous is not None:
            new_mode = mixed_mode(previous["mode"], new_mode)
        con.execute(
            f"DELETE FROM {SCHEMA}.landed_batches WHERE source = ? AND year = ?",
            [batch.source, batch.year],
        )
        con.execute(
            f"INSERT INTO {SCHEMA}.landed_batches"
            " (source, mode, synthetic, responses, landed_at, year, cities)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                batch.source,
                new_mode,
                synthetic,
                landed_responses,
                dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0),
                batch.year,
                None if cities is None else len(cities),
            ],
        )
    return counts
