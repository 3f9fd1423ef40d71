"""The raw tables Wikimedia pageviews lands (one declaration: types, descriptions and rules)."""

from pipelines.sources.spec import COUNT, Range, RawRules, RawTable

CITY = ("VARCHAR", "registry city id (assets/cities.csv)")
LANG = ("VARCHAR", "Wikipedia language edition (pipelines.registry.WIKI_LANGUAGES)")
ARTICLE = ("VARCHAR", "the article title as the API writes it (underscores)")

PAGEVIEWS = RawTable(
    "wikimedia_pageviews",
    "Monthly user pageviews per city article and language edition.",
    {
        "city_id": CITY,
        "lang": LANG,
        "article": ARTICLE,
        "month": ("DATE", "first day of the month counted (inside the partition year)"),
        "views": ("BIGINT", "user (not bot) views of the article in that month"),
    },
    RawRules(
        keys=("city_id", "lang", "month"),
        ranges={"views": Range(0, 1_000_000_000, f"{COUNT}; no article has 1 G views a month")},
        dates_in_year=("month",),
        covers_registry="city_id",
    ),
)
MISSING = RawTable(
    "wikimedia_missing",
    "Articles the pageviews API has no data for (404/400, or 200 with no month in the "
    "partition year); missing, never zero.",
    {
        "city_id": CITY,
        "lang": LANG,
        "article": ARTICLE,
        "status": ("INTEGER", "the API's HTTP status (404 or 400; 200 when no month has views)"),
        "detail": ("VARCHAR", "the API's explanation"),
    },
    RawRules(keys=("city_id", "lang"), allowed={"status": (200, 400, 404)}),
)
