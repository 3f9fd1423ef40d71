"""The dbt files written from the source specs: the raw tables' sources and the list of the
sources' indicator models.

- `dbt_project/models/staging/_raw__sources.yml` lists every raw table with its columns, types
  and descriptions.
- `dbt_project/macros/indicator_models.sql` lists the `int_<source>__indicators` models (one per
  source that feeds framework indicators, found by that name), in catalog order; the engine's
  input `int_city_indicators__long` is their union.

tests/test_source_specs.py holds both equal to the specs. After changing a spec or adding an
indicator model, rewrite them: `.venv/bin/python -m pipelines.sources.dbt_sources`.
"""

from pathlib import Path

import yaml

from pipelines.sources.catalog import SPECS, raw_tables

DBT_PROJECT = Path(__file__).resolve().parents[2] / "dbt_project"
SOURCES_YML = DBT_PROJECT / "models/staging/_raw__sources.yml"
INDICATOR_MODELS_SQL = DBT_PROJECT / "macros/indicator_models.sql"
INTERMEDIATE_DIR = DBT_PROJECT / "models/intermediate"
GENERATED = "Written by pipelines/sources/dbt_sources.py from the source specs: do not edit."

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
    header = f"# {GENERATED}\n"
    return header + yaml.safe_dump(document(), sort_keys=False, allow_unicode=True, width=100)


def indicator_models() -> list[str]:
    """The sources' indicator models, in catalog order: `int_<source>__indicators` where the
    source has one (a source may feed no indicator, e.g. the social follower counts)."""
    names = [f"int_{name}__indicators" for name in SPECS]
    return [name for name in names if (INTERMEDIATE_DIR / f"{name}.sql").is_file()]


def render_indicator_models() -> str:
    listed = ", ".join(f"'{name}'" for name in indicator_models())
    return (
        f"{{#- {GENERATED} -#}}\n"
        "{% macro indicator_models() %}\n"
        f"    {{{{ return([{listed}]) }}}}\n"
        "{% endmacro %}\n"
    )


if __name__ == "__main__":
    SOURCES_YML.write_text(render(), encoding="utf-8")
    INDICATOR_MODELS_SQL.write_text(render_indicator_models(), encoding="utf-8")
