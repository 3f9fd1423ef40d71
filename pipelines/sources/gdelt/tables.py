"""The raw tables GDELT DOC 2.0 lands (one declaration: types and descriptions)."""

from pipelines.sources.spec import RawTable

CITY = ("VARCHAR", "registry city id (assets/cities.csv)")
DAY = ("DATE", "the day of the timeline point (inside the partition year)")

VOLUME = RawTable(
    "gdelt_volume",
    "GDELT DOC 2.0 timelinevolraw points (overseas article count and norm).",
    {
        "city_id": CITY,
        "date": DAY,
        "article_count": ("BIGINT", "overseas articles matching the city's query that day"),
        "norm_total": ("BIGINT", "all articles GDELT monitored that day (the norm)"),
    },
)
TONE = RawTable(
    "gdelt_tone",
    "GDELT DOC 2.0 timelinetone points (average tone of overseas coverage).",
    {
        "city_id": CITY,
        "date": DAY,
        "avg_tone": ("DOUBLE", "average tone of the day's overseas articles (-100..+100)"),
    },
)
SOURCE_COUNTRY = RawTable(
    "gdelt_source_country",
    "GDELT DOC 2.0 timelinesourcecountry points, one series per source country.",
    {
        "city_id": CITY,
        "date": DAY,
        "source_country": ("VARCHAR", "the source country's name as GDELT labels it"),
        "source_fips": ("VARCHAR", "its FIPS 10-4 code (null when the label is unknown)"),
        "value": ("DOUBLE", "share of the country's monitored articles matching, in percent"),
    },
)
