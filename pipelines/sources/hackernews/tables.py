"""The raw table Hacker News (Algolia) lands (one declaration: types, descriptions and rules)."""

from pipelines.sources.spec import COUNT, Range, RawRules, RawTable

MENTIONS = RawTable(
    "hackernews_mentions",
    "Hacker News stories and comments mentioning each city per year (Algolia HN Search "
    "nbHits, one row per registry name variant; exhaustive = false when Algolia estimated).",
    {
        "city_id": ("VARCHAR", "registry city id (assets/cities.csv)"),
        "period_year": ("INTEGER", "the year counted (the partition year)"),
        "query": ("VARCHAR", "the search query: one registry name variant"),
        "hits": ("BIGINT", "Algolia nbHits: stories and comments matching"),
        "exhaustive": ("BOOLEAN", "false when nbHits is Algolia's estimate"),
    },
    RawRules(
        keys=("city_id", "period_year", "query"),
        ranges={"hits": Range(0, 10_000_000, f"{COUNT}; HN holds < 50 M items in all")},
        years_equal=("period_year",),
        covers_registry="city_id",
    ),
)
