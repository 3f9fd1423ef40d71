"""The raw table the World Bank API lands (one declaration: types, descriptions and rules)."""

from pipelines.sources.spec import Range, RawRules, RawTable

#: Years observed per partition: the partition year and the five before it (latest value).
WINDOW_YEARS = 5

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
    RawRules(
        keys=("country_iso3", "indicator_id", "obs_year"),
        covers_registry="country_iso3",
        years_within={"obs_year": WINDOW_YEARS},
        ranges_by=(
            "indicator_id",
            {
                "NY.GDP.PCAP.CD": Range(0, 500_000, "GDP per capita, current US$; max ~250 k"),
                "SP.POP.TOTL": Range(
                    0, 10_000_000_000, "population; no country exceeds the world's 8 G"
                ),
            },
        ),
    ),
)
