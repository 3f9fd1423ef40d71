"""The raw checks (pipelines/ingest/raw_checks.py) on small frames typed as the warehouse
returns them: each rule refuses what it should, naming table, year, row and column."""

import datetime as dt

import polars as pl
import pytest

from pipelines.ingest.landing import TABLES
from pipelines.ingest.raw_checks import (
    POLARS_TYPES,
    RAW_CHECKS,
    RAW_RULES,
    check_frame,
    rules_markdown,
)

YEAR = 2023
REGISTRY = pl.DataFrame({"city_id": ["a", "b", "c"], "country_iso3": ["CHN", "FRA", "FRA"]})


def typed(table: str, rows: dict) -> pl.DataFrame:
    """Rows of raw.<table> with the warehouse's types; omitted columns are null."""
    schema = {c: POLARS_TYPES[t] for c, t in TABLES[table].items()}
    height = len(next(iter(rows.values())))
    data = {c: rows.get(c, [None] * height) for c in schema}
    return pl.DataFrame(data, schema=schema)


def volume(**changes) -> pl.DataFrame:
    rows = {
        "city_id": ["a", "b", "c"],
        "date": [dt.date(YEAR, 1, 1), dt.date(YEAR, 6, 1), dt.date(YEAR, 12, 31)],
        "article_count": [1, 2, 3],
        "norm_total": [100, 100, 100],
        "response_sha256": ["x"] * 3,
        "year": [YEAR] * 3,
    }
    return typed("gdelt_volume", rows | changes)


def worldbank(values: list[float], obs_years: list[int] | None = None) -> pl.DataFrame:
    rows = {
        "country_iso3": ["CHN", "FRA", "CHN", "FRA"],
        "indicator_id": ["NY.GDP.PCAP.CD"] * 2 + ["SP.POP.TOTL"] * 2,
        "obs_year": obs_years or [YEAR] * 4,
        "value": values,
        "year": [YEAR] * 4,
    }
    return typed("worldbank_indicator", rows)


def test_every_raw_table_a_source_lands_has_rules_and_a_check() -> None:
    landed = set(TABLES) - {"api_responses", "landed_batches"}
    assert set(RAW_RULES) == landed
    checked = {next(iter(c.check_keys)).asset_key.path[-1] for c in RAW_CHECKS}
    assert checked == landed
    assert all(spec.blocking for c in RAW_CHECKS for spec in c.check_specs)


def test_good_rows_pass() -> None:
    assert check_frame("gdelt_volume", YEAR, volume(), REGISTRY) == []
    assert check_frame("worldbank_indicator", YEAR, worldbank([1e4, 4e4, 1e9, 6e7]), REGISTRY) == []


def test_duplicate_key_names_the_row_and_key_columns() -> None:
    frame = pl.concat([volume(), volume().head(1)])
    problems = check_frame("gdelt_volume", YEAR, frame, REGISTRY)
    assert problems
    assert all("columns city_id, date: duplicate key" in p for p in problems)
    assert f"raw.gdelt_volume {YEAR}: row city_id=a, date={YEAR}-01-01" in problems[0]


@pytest.mark.parametrize(
    ("column", "value", "rule"),
    [
        ("article_count", -60_000_000, "-60000000 is not >= 0"),
        ("norm_total", 10**12, "is not <= 1e+07"),
    ],
)
def test_counts_out_of_range_are_refused(column: str, value: int, rule: str) -> None:
    frame = volume(**{column: [1, value, 3]})
    (problem,) = check_frame("gdelt_volume", YEAR, frame, REGISTRY)
    assert problem.startswith(f"raw.gdelt_volume {YEAR}: row city_id=b, date={YEAR}-06-01")
    assert f"column {column}: " in problem and rule in problem


@pytest.mark.parametrize("tone", [2.6e27, float("nan"), float("inf")])
def test_tone_outside_gdelt_scale_is_refused(tone: float) -> None:
    rows = {
        "city_id": ["a", "b", "c"],
        "date": [dt.date(YEAR, 3, 1)] * 3,
        "avg_tone": [1.0, tone, -2.0],
        "year": [YEAR] * 3,
    }
    problems = check_frame("gdelt_tone", YEAR, typed("gdelt_tone", rows), REGISTRY)
    assert problems and all("row city_id=b" in p and "column avg_tone" in p for p in problems)


def test_dates_and_years_outside_the_partition_year_are_refused() -> None:
    frame = volume(date=[dt.date(YEAR, 1, 1), dt.date(YEAR + 1, 1, 1), dt.date(YEAR, 2, 1)])
    (problem,) = check_frame("gdelt_volume", YEAR, frame, REGISTRY)
    assert "column date" in problem and f"a date inside {YEAR}" in problem
    (problem,) = check_frame("gdelt_volume", YEAR, volume(year=[YEAR, YEAR, YEAR - 1]), REGISTRY)
    assert "column year" in problem and f"the partition year {YEAR}" in problem
    old = worldbank([1e4, 4e4, 1e9, 6e7], obs_years=[YEAR, YEAR - 6, YEAR, YEAR])
    (problem,) = check_frame("worldbank_indicator", YEAR, old, REGISTRY)
    assert "country_iso3=FRA" in problem and "column obs_year" in problem


def test_a_city_without_rows_is_named() -> None:
    frame = volume().filter(pl.col("city_id") != "b")
    (problem,) = check_frame("gdelt_volume", YEAR, frame, REGISTRY)
    assert problem == (
        f"raw.gdelt_volume {YEAR}: column city_id: no rows for b (1 of 3 in the registry)"
    )


def test_values_have_plausible_ranges_per_indicator() -> None:
    # 1e9 is a plausible population but not a GDP per capita.
    frame = worldbank([1e4, 1e30, 1e9, 6e7])
    (problem,) = check_frame("worldbank_indicator", YEAR, frame, REGISTRY)
    assert "row country_iso3=FRA, indicator_id=NY.GDP.PCAP.CD" in problem
    assert "column value: 1e+30 is not value of NY.GDP.PCAP.CD in 0..500000" in problem
    swapped = worldbank([1e9, 4e4, 1e4, 6e7])
    assert len(check_frame("worldbank_indicator", YEAR, swapped, REGISTRY)) == 1


def test_a_column_of_another_type_is_refused() -> None:
    frame = volume().with_columns(pl.col("article_count").cast(pl.Float64))
    problems = check_frame("gdelt_volume", YEAR, frame, REGISTRY)
    assert any("article_count" in p and "Int64" in p for p in problems), problems


def test_the_documented_rules_are_the_checked_rules() -> None:
    from pathlib import Path

    docs = (Path(__file__).parents[1] / "docs" / "architecture.md").read_text(encoding="utf-8")
    assert rules_markdown() in docs


def test_rules_are_declared_with_each_sources_tables() -> None:
    """One declaration per table: the rules checked are the ones the source's tables.py gives,
    and every column they name is a column of that table."""
    from pipelines.sources.catalog import raw_tables

    for table in raw_tables():
        rules = table.rules
        assert RAW_RULES[table.name] is rules
        named = {
            *rules.keys,
            *rules.ranges,
            *rules.dates_in_year,
            *rules.years_equal,
            *rules.years_within,
            *rules.allowed,
            *([rules.covers_registry] if rules.covers_registry else []),
            *([rules.ranges_by[0], "value"] if rules.ranges_by else []),
        }
        assert named <= set(table.all_columns()), (table.name, named - set(table.all_columns()))
