"""The raw table the World Bank API lands (one declaration: types and descriptions)."""

from pipelines.sources.spec import RawTable

INDICATOR = RawTable(
    "worldbank_indicator",
    "World Bank API v2 observations (national context) with their vintage.",
    {
        "country_iso3": ("VARCHAR", "ISO 3166-1 alpha-3 code of a registry country"),
        "indicator_id": ("VARCHAR", "World Bank indicator code (NY.GDP.PCAP.CD, SP.POP.TOTL)"),
        "obs_year": ("INTEGER", "the year observed (partition year - 5 .. partition year)"),
        "value": ("DOUBLE", "the observation (null when the Bank has none)"),
        "last_updated": ("DATE", "the Bank's lastupdated date of the series (its vintage)"),
    },
)
