"""One declaration per source: the landing DDL, the dbt sources, the docs and the ingest assets
are derived from the specs (pipelines/sources/<name>/)."""

from pathlib import Path

import yaml

from pipelines.ingest.landing import OPTIONAL_SOURCE_TABLES, SOURCE_TABLES, TABLES
from pipelines.sources import dbt_sources
from pipelines.sources.catalog import SPECS, raw_tables

ROOT = Path(__file__).resolve().parents[1]


def test_dbt_sources_file_equals_the_specs() -> None:
    on_disk = yaml.safe_load(dbt_sources.SOURCES_YML.read_text(encoding="utf-8"))
    assert on_disk == dbt_sources.document()
    tables = {t["name"]: t for t in on_disk["sources"][0]["tables"]}
    for table in raw_tables():
        columns = tables[table.name]["columns"]
        assert [c["name"] for c in columns] == list(TABLES[table.name])
        assert all(c["description"] and c["data_type"] for c in columns), table.name


def test_landing_tables_come_from_the_specs() -> None:
    assert set(SOURCE_TABLES) == set(SPECS)
    for name, spec in SPECS.items():
        assert SOURCE_TABLES[name] == tuple(t.name for t in spec.tables)
        for table in (*spec.tables, *spec.optional_tables):
            assert TABLES[table.name] == table.duckdb_types()
    assert OPTIONAL_SOURCE_TABLES == {"social": ("x_post_counts",)}


def test_docs_list_every_raw_table_with_its_columns() -> None:
    docs = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    for table in raw_tables():
        columns = ", ".join(c for c in table.columns)
        assert f"| `raw.{table.name}` | {columns}" in docs, table.name


def test_cli_choices_and_ingest_assets_are_the_specs() -> None:
    from pipelines import cli
    from pipelines.ingest.assets import SOURCE_ASSETS

    assert tuple(SPECS) == cli.all_sources()
    assert [a.op.name for a in SOURCE_ASSETS] == [f"ingest_{name}" for name in SPECS]


def test_every_source_names_itself_to_readers() -> None:
    """The report's names come from the specs: each source, and each client that lands
    responses under its own name, has an English and a Chinese title."""
    for spec in SPECS.values():
        ids = {spec.name} | {c for clients in spec.response_sources.values() for c in clients}
        assert ids <= set(spec.titles), (spec.name, ids - set(spec.titles))
        for title in spec.titles.values():
            assert title.name and title.name_zh and title.description and title.description_zh


def test_indicator_models_macro_is_written_from_the_specs() -> None:
    """The engine's input is the union of the sources' indicator models: the macro listing
    them is generated, and no indicator model belongs to a source the catalog lacks."""
    assert dbt_sources.INDICATOR_MODELS_SQL.read_text() == dbt_sources.render_indicator_models()
    on_disk = {p.stem for p in dbt_sources.INTERMEDIATE_DIR.glob("int_*__indicators.sql")}
    assert on_disk == set(dbt_sources.indicator_models())
    assert {name.split("__")[0].removeprefix("int_") for name in on_disk} <= set(SPECS)
