"""Every source, in ingest order: the one list the landing tables, the ingest assets, the
CLI's --source choices, the raw checks and the dbt sources are derived from."""

from pipelines.sources import (
    curated,
    gdelt,
    hackernews,
    social,
    stackexchange,
    wikidata,
    wikimedia,
    worldbank,
)
from pipelines.sources.spec import RawTable, SourceSpec

SPECS: dict[str, SourceSpec] = {
    spec.name: spec
    for spec in (
        gdelt.SPEC,
        wikimedia.SPEC,
        wikidata.SPEC,
        worldbank.SPEC,
        hackernews.SPEC,
        stackexchange.SPEC,
        social.SPEC,
        curated.SPEC,
    )
}


def raw_tables() -> list[RawTable]:
    """Every raw table a source lands (optional ones included), in source order."""
    return [t for spec in SPECS.values() for t in (*spec.tables, *spec.optional_tables)]
