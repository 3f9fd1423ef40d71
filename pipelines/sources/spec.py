"""What a source is: one spec object per source package (pipelines/sources/<name>/).

A spec declares each raw table the source lands once (column -> DuckDB type and description,
and the table's rules: keys, plausible ranges, dates inside the year, registry coverage); the
landing DDL, the polars frames, the dbt sources (dbt_project/models/staging/
_raw__sources.yml, held equal by a test), the raw checks (pipelines/ingest/raw_checks.py),
the docs, the ingest assets and the CLI's choices are all derived from the specs listed in
``pipelines.sources.catalog``.
"""

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date

import polars as pl

from pipelines.sources.http import RecordedResponse, SnapshotMissing, coverage_years

#: DuckDB type of a declared column -> the polars type of the frames that carry it.
POLARS_TYPES: dict[str, pl.DataType] = {
    "VARCHAR": pl.String,
    "BIGINT": pl.Int64,
    "INTEGER": pl.Int32,
    "DOUBLE": pl.Float64,
    "DATE": pl.Date,
    "TIMESTAMP": pl.Datetime("us"),
    "BOOLEAN": pl.Boolean,
}

#: The column of a raw table that holds the registry city id, unless the table says otherwise.
CITY_COLUMN = "city_id"

#: Columns every landed table ends with: the batch's first response and the partition year.
RESPONSE_COLUMN = ("response_sha256", "VARCHAR", "sha256 of the response the row was parsed from")
YEAR_COLUMN = ("year", "INTEGER", "the partition year the row was landed for")


@dataclass(frozen=True)
class Range:
    """A plausible range of one column, with the reason for its bounds (documented)."""

    low: float | None
    high: float | None
    why: str


COUNT = "a count cannot be negative"


@dataclass(frozen=True)
class RawRules:
    """The rules of one raw table beyond its column types, checked right after it lands."""

    keys: tuple[str, ...]
    ranges: Mapping[str, Range] = field(default_factory=dict)
    #: Date columns whose values lie inside the partition year.
    dates_in_year: tuple[str, ...] = ()
    #: Integer year columns equal to the partition year.
    years_equal: tuple[str, ...] = ()
    #: Integer year columns inside (partition year - look-back)..partition year.
    years_within: Mapping[str, int] = field(default_factory=dict)
    #: Allowed values of categorical columns.
    allowed: Mapping[str, tuple] = field(default_factory=dict)
    #: Every registry city (city_id) or country (country_iso3) has rows each year.
    covers_registry: str | None = None
    #: Per-value ranges of `value` keyed by this column (e.g. World Bank indicator ids).
    ranges_by: tuple[str, Mapping[str, Range]] | None = None


@dataclass(frozen=True)
class RawTable:
    """One raw table: its name, what it holds, its columns (name -> (type, description)) and
    its rules (:class:`RawRules`).

    ``columns`` lists the parsed columns; ``response_sha256`` and ``year`` are appended.
    ``city_column`` holds the registry city of each row (``ingest --city`` replaces only the
    rows of the cities it fetched); a table without it (None, or no such column, e.g. per
    country) is replaced whole and refuses ``--city``."""

    name: str
    description: str
    columns: Mapping[str, tuple[str, str]]
    rules: RawRules
    city_column: str | None = CITY_COLUMN

    @property
    def per_city(self) -> bool:
        """True when each row belongs to one registry city (``city_column`` is declared)."""
        return self.city_column is not None and self.city_column in self.columns

    def all_columns(self) -> dict[str, tuple[str, str]]:
        name, kind, text = RESPONSE_COLUMN
        year, year_kind, year_text = YEAR_COLUMN
        return {**self.columns, name: (kind, text), year: (year_kind, year_text)}

    def duckdb_types(self) -> dict[str, str]:
        """Column -> DuckDB type (the landing DDL)."""
        return {column: kind for column, (kind, _) in self.all_columns().items()}

    def polars_schema(self) -> dict[str, pl.DataType]:
        """The schema of the frames a fetch returns (no ``year``: landing adds it)."""
        types = self.duckdb_types()
        types.pop(YEAR_COLUMN[0])
        return {column: POLARS_TYPES[kind] for column, kind in types.items()}


@dataclass(frozen=True)
class SourceTitle:
    """How the report names a source (or one of its clients) to readers, in English and
    Chinese; ``framework_prefix`` is how assets/framework.csv's ``source`` column starts for
    the indicators it feeds."""

    name: str
    name_zh: str
    description: str
    description_zh: str
    framework_prefix: str = ""


@dataclass(frozen=True)
class PlannedRequests:
    """What a fetch of (cities, year) will ask one API: the number of requests and the pacing
    (seconds between requests) of the client that sends them; the plan of ``ingest --dry-run``.
    ``estimate`` says why the count is not exact (pagination, titles known only at fetch time);
    empty when it is exact."""

    client: str
    requests: int
    min_interval: float
    estimate: str = ""


@dataclass(frozen=True)
class SourceSpec:
    """One source: its raw tables and its fetch for a year.

    ``fetch(cities, year, **inputs)`` returns a SourceBatch; ``inputs(warehouse, year)`` reads
    what the fetch needs from the warehouse, and ``reads`` names those raw tables so Dagster
    lands them first. ``optional_tables`` are landed only when a batch carries them;
    ``response_sources`` are the raw.api_responses sources of clients named otherwise;
    ``plan(cities, year)`` lists the requests a fetch would send (:class:`PlannedRequests`),
    without sending any."""

    name: str
    description: str
    tables: tuple[RawTable, ...]
    fetch: Callable
    optional_tables: tuple[RawTable, ...] = ()
    response_sources: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    inputs: Callable | None = None
    reads: tuple[str, ...] = ()
    plan: Callable[..., list[PlannedRequests]] | None = None
    #: Reader-facing names, keyed by the raw.api_responses source: the spec's own name, and
    #: the clients' names where they land responses under their own (social: bluesky, ...).
    titles: Mapping[str, SourceTitle] = field(default_factory=dict)

    def table(self, name: str) -> RawTable:
        return next(t for t in (*self.tables, *self.optional_tables) if t.name == name)


@dataclass
class SourceBatch:
    """What one (source, year) fetch produced; ``issues`` are non-fatal problems to report."""

    source: str
    year: int
    responses: list[RecordedResponse]
    tables: dict[str, pl.DataFrame]
    issues: list[str] = field(default_factory=list)


@contextmanager
def names_year(year: int) -> Iterator[None]:
    """Let a missing snapshot say which ``--year`` records it."""
    try:
        yield
    except SnapshotMissing as exc:
        if exc.year is not None:
            raise
        raise SnapshotMissing(exc.source, exc.url, year) from None


def concat(frames: list[pl.DataFrame], table: RawTable) -> pl.DataFrame:
    """The non-empty frames one below the other, or an empty frame of the table's schema."""
    frames = [f for f in frames if f.height]
    if not frames:
        return pl.DataFrame([], schema=table.polars_schema())
    return pl.concat(frames, how="vertical")


def span(year: int) -> tuple[date, date]:
    """The dates every request of a partition year covers (see http.coverage_years)."""
    first, last = coverage_years(year)
    return date(first, 1, 1), date(last, 12, 31)


def social_terms(row: dict) -> tuple[list[str], list[str]]:
    """A registry row's name variants and exclusion words (for the sources that search text)."""
    from pipelines.registry import social_terms as terms

    return terms(row)
