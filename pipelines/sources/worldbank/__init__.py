"""World Bank API v2: GDP per capita and population of the registry's countries.

The package holds the client and parsers (client.py), the raw table it lands (tables.py),
its fetch for a year and its spec."""

import polars as pl

from pipelines.sources.http import RecordedResponse
from pipelines.sources.spec import (
    PlannedRequests,
    SourceBatch,
    SourceSpec,
    SourceTitle,
    concat,
    names_year,
)
from pipelines.sources.worldbank import client as worldbank
from pipelines.sources.worldbank.tables import INDICATOR


def fetch_worldbank(
    cities: pl.DataFrame, year: int, client: worldbank.WorldBankClient | None = None
) -> SourceBatch:
    """GDP per capita and population of the cities' countries for Y-5..Y (all years returned)."""
    client = client or worldbank.WorldBankClient()
    countries = sorted(set(cities["country_iso3"].to_list()))
    start, end = worldbank.window(year)
    responses: list[RecordedResponse] = []
    frames: list[pl.DataFrame] = []
    issues: list[str] = []
    with names_year(year):
        for indicator in worldbank.INDICATORS:
            result = client.indicator(countries, indicator, start, end)
            responses += result.responses
            frames.append(result.table())
    table = concat(frames, INDICATOR)
    table = table.unique(["country_iso3", "indicator_id", "obs_year"], keep="first")
    table = table.sort(["indicator_id", "country_iso3", "obs_year"])
    return SourceBatch("worldbank", year, responses, {INDICATOR.name: table}, issues)


def plan_worldbank(cities: pl.DataFrame, year: int, **_inputs: object) -> list[PlannedRequests]:
    """One page per indicator and batch of 60 countries: exact unless a batch is refused (the
    fetch then asks country by country to name the refused codes, and fails)."""
    config = worldbank.WorldBankClient.default_config()
    count = worldbank.planned_requests(cities["country_iso3"].to_list())
    return [PlannedRequests("worldbank", count, config.min_interval)]


SPEC = SourceSpec(
    name="worldbank",
    description="World Bank API v2: GDP per capita and population of the registry's countries.",
    tables=(INDICATOR,),
    fetch=fetch_worldbank,
    plan=plan_worldbank,
    titles={
        "worldbank": SourceTitle(
            "World Bank",
            "世界银行",
            "National GDP per capita in current US dollars (World Bank API).",
            "按现价美元计的全国人均 GDP（世界银行接口）。",
            "World Bank",
        ),
    },
)
