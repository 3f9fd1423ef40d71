"""The raw tables GDELT DOC 2.0 lands (one declaration: types, descriptions and rules)."""

from pipelines.sources.spec import COUNT, Range, RawRules, RawTable

CITY = ("VARCHAR", "registry city id (assets/cities.csv)")
DAY = ("DATE", "the day of the timeline point (inside the partition year)")
PER_DAY = Range(0, 10_000_000, f"{COUNT}; GDELT monitors < 10 M a day")

VOLUME = RawTable(
    "gdelt_volume",
    "GDELT DOC 2.0 timelinevolraw points (overseas article count and norm).",
    {
        "city_id": CITY,
        "date": DAY,
        "article_count": ("BIGINT", "overseas articles matching the city's query that day"),
        "norm_total": ("BIGINT", "all articles GDELT monitored that day (the norm)"),
    },
    RawRules(
        keys=("city_id", "date"),
        ranges={"article_count": PER_DAY, "norm_total": PER_DAY},
        dates_in_year=("date",),
        covers_registry="city_id",
    ),
)
TONE = RawTable(
    "gdelt_tone",
    "GDELT DOC 2.0 timelinetone points (average tone of overseas coverage).",
    {
        "city_id": CITY,
        "date": DAY,
        "avg_tone": ("DOUBLE", "average tone of the day's overseas articles (-100..+100)"),
    },
    RawRules(
        keys=("city_id", "date"),
        ranges={"avg_tone": Range(-100, 100, "GDELT's tone scale is -100..+100")},
        dates_in_year=("date",),
        covers_registry="city_id",
    ),
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
    RawRules(
        keys=("city_id", "date", "source_country"),
        ranges={"value": Range(0, 100, "a share of coverage in percent")},
        dates_in_year=("date",),
        covers_registry="city_id",
    ),
)
