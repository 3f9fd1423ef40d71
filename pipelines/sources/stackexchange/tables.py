"""The raw table Stack Exchange lands (one declaration: types and descriptions)."""

from pipelines.sources.spec import RawTable

QUESTIONS = RawTable(
    "stackexchange_questions",
    "Questions created per year on Travel / Expatriates Stack Exchange matching each city "
    "(API 2.3 search/advanced, filter=total), one row per site and name variant.",
    {
        "city_id": ("VARCHAR", "registry city id (assets/cities.csv)"),
        "site": ("VARCHAR", "travel or expatriates"),
        "period_year": ("INTEGER", "the year the questions were created (the partition year)"),
        "query": ("VARCHAR", "the search query: one registry name variant"),
        "total": ("BIGINT", "questions matching (filter=total)"),
    },
)
