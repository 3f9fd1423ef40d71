"""The raw table Stack Exchange lands (one declaration: types, descriptions and rules)."""

from pipelines.sources.spec import COUNT, Range, RawRules, RawTable

QUESTIONS = RawTable(
    "stackexchange_questions",
    "Questions created per year on Travel / Expatriates Stack Exchange matching each city "
    "(API 2.3 search/advanced, the answer's total), one row per site and name variant.",
    {
        "city_id": ("VARCHAR", "registry city id (assets/cities.csv)"),
        "site": ("VARCHAR", "travel or expatriates"),
        "period_year": ("INTEGER", "the year the questions were created (the partition year)"),
        "query": ("VARCHAR", "the search query: one registry name variant"),
        "total": ("BIGINT", "questions matching (the answer's total)"),
    },
    RawRules(
        keys=("city_id", "site", "period_year", "query"),
        ranges={"total": Range(0, 1_000_000, f"{COUNT}; the sites hold < 1 M questions")},
        years_equal=("period_year",),
        allowed={"site": ("travel", "expatriates")},
        covers_registry="city_id",
    ),
)
