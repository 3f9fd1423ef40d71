"""Curated inputs kept by analysts (assets/inputs/: city statistics, outreach, published
rankings), validated on load with errors naming file, row and column (docs/inputs.md).

The package holds the file specs and validators (inputs.py), the raw tables derived from
them, its fetch for a year and its spec."""

import hashlib
from pathlib import Path

import polars as pl

from pipelines.sources.curated import inputs as curated
from pipelines.sources.curated.inputs import CuratedInputError as CuratedInputError
from pipelines.sources.http import RecordedResponse, body_sha256, utc_now_iso
from pipelines.sources.spec import (
    COUNT,
    PlannedRequests,
    Range,
    RawRules,
    RawTable,
    SourceBatch,
    SourceSpec,
    SourceTitle,
)

#: Curated column kinds -> DuckDB types of the raw tables.
KIND_TYPES = {
    "text": "VARCHAR",
    "city": "VARCHAR",
    "url": "VARCHAR",
    "year": "INTEGER",
    "integer": "BIGINT",
    "number": "DOUBLE",
}

#: Columns stored narrower than their kind, as warehouses already landed them.
STORED_TYPES = {("curated_published_rankings", "position"): "INTEGER"}

#: The rules of each curated raw table (checked right after it lands).
RULES = {
    "curated_city_statistics": RawRules(
        keys=("city_id", "stat_year", "indicator"),
        ranges={"value": Range(0, None, "curated statistics are counts and sizes")},
    ),
    "curated_outreach": RawRules(
        keys=("city_id", "stat_year", "platform", "account", "metric"),
        ranges={"value": Range(0, None, COUNT)},
    ),
    "curated_published_rankings": RawRules(
        keys=("ranking", "edition_year", "city_id"),
        ranges={"position": Range(1, None, "positions start at 1")},
    ),
}


def raw_table(spec: curated.InputSpec) -> RawTable:
    """The raw table of one curated input, from the input's own column declarations."""
    columns = {
        c.target: (STORED_TYPES.get((spec.table, c.target), KIND_TYPES[c.kind]), c.meaning)
        for c in spec.columns
    }
    columns["source_file"] = ("VARCHAR", "the file, relative to the project")
    columns["source_row"] = ("INTEGER", "the row in that file (header = 1)")
    return RawTable(spec.table, f"{spec.description} ({spec.filename})", columns, RULES[spec.table])


TABLES = tuple(raw_table(spec) for spec in curated.SPECS.values())


def _file_response(checked: curated.ValidatedInput) -> RecordedResponse:
    """A validated curated file as the response it was loaded from (body = decoded text)."""
    return RecordedResponse(
        source="curated",
        request_key=hashlib.sha256(f"FILE {checked.shown}".encode()).hexdigest(),
        url=f"file:{checked.shown}",
        params={"encoding": checked.encoding},
        status=200,
        content_type="text/csv",
        body=checked.text,
        retrieved_at=utc_now_iso(),
        sha256=body_sha256(checked.text),
        synthetic=False,
    )


def fetch_curated(
    year: int,
    path: Path | None = None,
    cities: pl.DataFrame | None = None,
    *,
    inputs_dir: Path | None = None,
) -> SourceBatch:
    """The curated inputs (docs/inputs.md) as of ``year``; each file itself is the response.

    Every file is validated (pipelines.sources.curated.inputs) before anything is returned:
    the first error raises CuratedInputError, so landing keeps the previous rows of all
    curated tables. Files are read from ``inputs_dir`` (default: the folder of ``path`` when
    given, else assets/inputs); ``path`` names the city statistics file. A missing file loads
    nothing; it is reported in ``issues``, as are header-only files and files not in plain
    UTF-8.
    """
    if inputs_dir is not None:
        folder = Path(inputs_dir)
    else:
        folder = Path(path).parent if path is not None else curated.INPUTS_DIR
    if cities is None:
        from pipelines.registry import load_cities

        cities = load_cities()
    city_ids = cities["id"].to_list()
    responses: list[RecordedResponse] = []
    tables: dict[str, pl.DataFrame] = {}
    issues: list[str] = []
    for spec in curated.SPECS.values():
        file = folder / spec.filename
        if path is not None and spec is curated.CITY_STATISTICS:
            file = Path(path)
        if not file.exists():
            issues.append(f"{curated.display_path(file)} not found; nothing loaded")
            tables[spec.table] = pl.DataFrame([], schema=spec.schema())
            continue
        checked = curated.validate_file(spec, file, city_ids)
        response = _file_response(checked)
        responses.append(response)
        tables[spec.table] = checked.frame(year, response.sha256)
        issues += checked.notes
    return SourceBatch("curated", year, responses, tables, issues)


def plan_curated(cities: pl.DataFrame, year: int, **_inputs: object) -> list[PlannedRequests]:
    """Curated inputs are files: no request."""
    return []


SPEC = SourceSpec(
    name="curated",
    description="Curated inputs (assets/inputs/: city statistics, outreach, published "
    "rankings), validated on load (docs/inputs.md).",
    tables=TABLES,
    # Curated rows are checked against the whole registry, also when an ingest is narrowed.
    fetch=lambda cities, year: fetch_curated(year),
    plan=plan_curated,
    titles={
        "curated": SourceTitle(
            "Curated statistics",
            "整理的统计资料",
            "Population (UN World Urbanization Prospects) and published city rankings, kept "
            "in the repository with their provenance.",
            "人口（联合国《世界城市化展望》）与已发布的城市排名，连同出处保存在代码库中。",
            "UN World Urbanization",
        ),
    },
)
