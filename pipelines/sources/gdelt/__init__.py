"""GDELT DOC 2.0: overseas media coverage per city (volume, tone, source countries).

The package holds the client and parsers (client.py), the raw tables it lands (tables.py),
its fetch for a year and its spec."""

import polars as pl

from pipelines.sources.gdelt import client as gdelt
from pipelines.sources.gdelt.tables import SOURCE_COUNTRY, TONE, VOLUME
from pipelines.sources.http import RecordedResponse
from pipelines.sources.spec import (
    PlannedRequests,
    SourceBatch,
    SourceSpec,
    SourceTitle,
    concat,
    names_year,
)


def fetch_gdelt(
    cities: pl.DataFrame, year: int, client: gdelt.GdeltClient | None = None
) -> SourceBatch:
    """Per city: overseas volume and tone (``-sourcecountry:<FIPS>``) and all source countries,
    each asked for the partition year only (see client.year_window)."""
    client = client or gdelt.GdeltClient()
    start, end = gdelt.year_window(year)
    responses: list[RecordedResponse] = []
    volume, tone, countries = [], [], []
    issues: list[str] = []
    with names_year(year):
        for row in cities.iter_rows(named=True):
            city_id, query = row["id"], (row["gdelt_query"] or "").strip()
            if not query:
                issues.append(f"gdelt: city {city_id} has no gdelt_query; not requested")
                continue
            overseas = gdelt.overseas_query(query, row["country_fips"])
            vol = client.timeline(overseas, "timelinevolraw", start, end)
            ton = client.timeline(overseas, "timelinetone", start, end)
            src = client.timeline(gdelt.build_query(query), "timelinesourcecountry", start, end)
            responses += [vol, ton, src]
            volume.append(gdelt.volume_rows(vol, city_id, year))
            tone.append(gdelt.tone_rows(ton, city_id, year))
            countries.append(gdelt.source_country_rows(src, city_id, year))
    tables = {
        VOLUME.name: concat(volume, VOLUME),
        TONE.name: concat(tone, TONE),
        SOURCE_COUNTRY.name: concat(countries, SOURCE_COUNTRY),
    }
    return SourceBatch("gdelt", year, responses, tables, issues)


def _queried(cities: pl.DataFrame) -> int:
    return sum(1 for q in cities["gdelt_query"].to_list() if (q or "").strip())


def plan_gdelt(cities: pl.DataFrame, year: int, **_inputs: object) -> list[PlannedRequests]:
    """Three timelines (volume, tone, source countries) per city with a query: exact."""
    config = gdelt.GdeltClient.default_config()
    return [PlannedRequests("gdelt", 3 * _queried(cities), config.min_interval)]


SPEC = SourceSpec(
    name="gdelt",
    description="Overseas media coverage per city (GDELT DOC 2.0: volume, source countries, tone).",
    tables=(VOLUME, TONE, SOURCE_COUNTRY),
    fetch=fetch_gdelt,
    plan=plan_gdelt,
    titles={
        "gdelt": SourceTitle(
            "GDELT",
            "GDELT 全球事件数据库",
            "Worldwide online news monitored by the GDELT Project (DOC 2.0 API).",
            "GDELT 项目监测的全球网络新闻（DOC 2.0 接口）。",
            "GDELT",
        ),
    },
)
