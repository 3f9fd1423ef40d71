"""The sources the report names: a reader-facing name and a one-line description per source id
(the `source` of raw.api_responses and raw.landed_batches), in English and Chinese, and which
framework indicators each source feeds, gathered from the source packages' specs.

The report, both languages, never shows a bare id where a name exists; an id missing here is
shown as itself, so a new source is visible rather than silently dropped.
"""

from __future__ import annotations

from pipelines.sources.catalog import SPECS
from pipelines.sources.spec import SourceTitle

#: The one counting rule for "responses used", applied by the release to raw.api_responses:
#: distinct requests (request_key) landed for the years of the edition (up to its year). A
#: request serving several years has a row per year in raw.api_responses; it counts once.
RESPONSES_RULE = "distinct requests landed for the edition's years"


#: Source id -> its reader-facing title, declared by each source package (SourceSpec.titles).
SOURCES: dict[str, SourceTitle] = {
    source_id: title for spec in SPECS.values() for source_id, title in spec.titles.items()
}


def source_name(source_id: str, lang: str = "en") -> str:
    source = SOURCES.get(source_id)
    if source is None:
        return source_id
    return source.name_zh if lang == "zh" else source.name


def source_description(source_id: str, lang: str = "en") -> str:
    source = SOURCES.get(source_id)
    if source is None:
        return ""
    return source.description_zh if lang == "zh" else source.description


def source_of_indicator(framework_source: str | None) -> str | None:
    """The source id behind a framework row, from the start of its `source` text."""
    text = (framework_source or "").strip()
    for source_id, source in SOURCES.items():
        if source.framework_prefix and text.startswith(source.framework_prefix):
            return source_id
    return None
