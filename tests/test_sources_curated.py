"""Curated city statistics CSV: rows up to the partition year; bad rows name file, row, column."""

from __future__ import annotations

import polars as pl
import pytest

from pipelines.sources.curated import CuratedInputError, fetch_curated

HEADER = "city_id,year,indicator,value,unit,source_url\n"
CITIES = pl.DataFrame({"id": ["paris", "xian"]})


def write(tmp_path, body: str):
    path = tmp_path / "city_statistics.csv"
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def test_every_row_for_every_year(tmp_path):
    """City statistics are structural: every estimate is landed for every partition, and the
    indicator picks the one nearest the year (int_city_indicators__long)."""
    path = write(
        tmp_path,
        "paris,2019,gdp,1.5,bn,https://a\nxian,2020,gdp,2,bn,https://b\nparis,2021,gdp,3,bn,https://c\n",
    )
    batch = fetch_curated(2020, path=path, cities=CITIES)
    table = batch.tables["curated_city_statistics"]
    assert table["stat_year"].to_list() == [2019, 2020, 2021]
    assert table["source_row"].to_list() == [2, 3, 4]
    assert table["source_file"][0].endswith("city_statistics.csv")
    assert set(table["response_sha256"]) == {batch.responses[0].sha256}


@pytest.mark.parametrize(
    ("line", "column"),
    [
        ("rome,2020,gdp,1,bn,https://a", "city_id"),
        ("paris,2020,gdp,abc,bn,https://a", "value"),
        ("paris,2020,gdp,-1,bn,https://a", "value"),
        ("paris,20x0,gdp,1,bn,https://a", "year"),
    ],
)
def test_bad_row_names_file_row_and_column(tmp_path, line, column):
    path = write(tmp_path, "paris,2019,gdp,1,bn,https://ok\n" + line + "\n")
    with pytest.raises(CuratedInputError) as info:
        fetch_curated(2020, path=path, cities=CITIES)
    assert info.value.row == 3 and info.value.column == column
    assert "city_statistics.csv" in str(info.value) and "row 3" in str(info.value)


def test_real_file_loads():
    batch = fetch_curated(2025)
    assert batch.tables["curated_city_statistics"].height > 0
