"""The dbt sources of the raw tables, written from the source specs.

`dbt_project/models/staging/_raw__sources.yml` lists every raw table with its columns, types
and descriptions; tests/test_source_specs.py holds it equal to the specs. After changing a
spec, rewrite it: `.venv/bin/python -m pipelines.sources.dbt_sources`.
"""

from pathlib import Path

import yaml

from pipelines.sources.catalog import raw_tables

SOURCES_YML = Path(__file__).resolve().parents[2] / "dbt_project/models/staging/_raw__sources.yml"

#: Raw tables that belong to no source: the registry, the framework and the bookkeeping.
OTHER_TABLES = [
    {
        "name": "cities",
        "description": "The city registry (assets/cities.csv) as loaded and checked.",
    },
    {
        "name": "framework",
        "description": "The index framework (assets/framework.csv), COINr iMeta columns.",
    },
    {
        "name": "api_responses",
        "description": "Every API response used, with URL, parameters, status, time and sha256.",
    },
    {
        "name": "landed_batches",
        "description": "One row per landed (source, year): mode (snapshot, live, record), "
        "whether synthetic, number of responses and time.",
    },
]


def source_tables() -> list[dict]:
    """The dbt source entry of every raw table a source lands."""
    return [
        {
            "name": table.name,
            "description": table.description,
            "columns": [
                {"name": column, "data_type": kind, "description": text}
                for column, (kind, text) in table.all_columns().items()
            ],
        }
        for table in raw_tables()
    ]


def document() -> dict:
    return {
        "version": 2,
        "sources": [
            {
                "name": "raw",
                "description": "Landed API responses and curated inputs, loaded per source and "
                "partition year by the ingest assets (a reload of a year replaces it in one "
                "transaction). Source tables are written from pipelines/sources/*/ "
                "(pipelines/sources/dbt_sources.py).",
                "schema": "raw",
                "tables": [*OTHER_TABLES, *source_tables()],
            }
        ],
    }


def render() -> str:
    header = "# Written by pipelines/sources/dbt_sources.py from the source specs: do not edit.\n"
    return header + yaml.safe_dump(document(), sort_keys=False, allow_unicode=True, width=100)


if __name__ == "__main__":
    SOURCES_YML.write_text(render(), encoding="utf-8")
