"""Descriptions of the release file's tables and columns, each taken from the one place that
owns it: the dbt models' YAML for marts, staging and engine tables; the analysis package for
`analysis.*`; this module for the provenance tables the release itself writes.

The edition's DuckDB file carries them as `COMMENT ON TABLE/COLUMN`, so an analyst sees them in
`duckdb_tables()` / `duckdb_columns()` (and in DBeaver, DataGrip, ...) without the docs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

DBT_MODELS_DIR = Path(__file__).resolve().parents[2] / "dbt_project" / "models"
DBT_SCHEMAS = ("marts", "staging", "engine", "intermediate")


@dataclass(frozen=True)
class TableDescription:
    text: str
    columns: dict[str, str] = field(default_factory=dict)


#: Key columns shared by many tables, described once; a model's own YAML wins where it has one.
SHARED_COLUMNS = {
    "year": "Edition year the row belongs to (the file holds the edition year and earlier years).",
    "city_id": "City id: the slug of the registry (assets/cities.csv), e.g. shanghai, xian.",
    "icode": "Framework code: an indicator, a pillar or the index (see marts.framework).",
    "unit_code": "City id (the engine's name for the unit): see city_id.",
    "name_en": "English name of the city.",
    "name_zh": "Chinese name of the city (simplified characters).",
    "country_iso3": "ISO 3166-1 alpha-3 code of the city's country.",
}

PROVENANCE_DESCRIPTIONS: dict[str, TableDescription] = {
    "api_responses": TableDescription(
        "Every API response and curated file the edition used, with its checksum and whether "
        "it is synthetic (generated for the offline snapshot, not measured).",
        {
            "source": "Source key: a package of pipelines/sources (named in the report).",
            "request_key": "sha256 of the request (source, url, params): the response's key.",
            "url": "The URL requested (file: for curated inputs).",
            "params": "Request parameters as JSON text.",
            "status": "HTTP status of the response.",
            "content_type": "Content type of the response body.",
            "retrieved_at": "When the response was retrieved (UTC).",
            "sha256": "sha256 of the response body, as landed.",
            "synthetic": (
                "True for a generated response of the embedded offline snapshot: its values "
                "are not real measurements."
            ),
            "year": "Ingest partition year the response was landed for.",
        },
    ),
    "landed_batches": TableDescription(
        "Per source and year, how its data was landed: from the embedded snapshot or fetched "
        "from the API (live, record), and whether any of it is synthetic.",
        {
            "source": "Source key: a package of pipelines/sources (named in the report).",
            "mode": "snapshot (recorded responses), live or record (fetched from the API); "
            "modes joined by + (snapshot+record) when some cities were landed in another mode.",
            "synthetic": "True when any landed response of the source and year is generated, "
            "not measured.",
            "responses": "Number of responses landed for the source and year.",
            "landed_at": "When the latest batch was landed in the warehouse (UTC).",
            "year": "Ingest partition year.",
            "cities": "Cities the latest batch covered (ingest --city); empty when it covered "
            "the whole registry.",
        },
    ),
}


@cache
def dbt_model_descriptions(models_dir: Path = DBT_MODELS_DIR) -> dict[str, TableDescription]:
    """Model name -> description and column descriptions, from every `_*__models.yml`."""
    models: dict[str, TableDescription] = {}
    for path in sorted(models_dir.glob("*/_*__models.yml")):
        for model in yaml.safe_load(path.read_text()).get("models", []):
            columns = {
                column["name"]: " ".join(column["description"].split())
                for column in model.get("columns", [])
                if column.get("description")
            }
            models[model["name"]] = TableDescription(
                " ".join(model.get("description", "").split()), columns
            )
    return models


def describe(schema: str, table: str) -> TableDescription:
    """The description of a warehouse table and of the columns it names itself (SHARED_COLUMNS
    covers the rest); a table nobody describes is an error, not a blank comment."""
    from pipelines.analysis.descriptions import ANALYSIS_DESCRIPTIONS

    if schema in DBT_SCHEMAS:
        found = dbt_model_descriptions().get(table)
        where = f"{DBT_MODELS_DIR}/*/_*__models.yml"
    elif schema == "analysis":
        found = ANALYSIS_DESCRIPTIONS.get(table)
        where = "pipelines/analysis/descriptions.py"
    elif schema in ("raw", "provenance"):
        found = PROVENANCE_DESCRIPTIONS.get(table)
        where = "pipelines/release/descriptions.py"
    else:
        found, where = None, "no description source for this schema"
    if found is None or not found.text:
        raise LookupError(f"{schema}.{table} has no description ({where})")
    return found
