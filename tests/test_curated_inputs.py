"""Curated inputs (assets/inputs/, docs/inputs.md): shipped files, encodings, every rejection.

Every error must name the file, the 1-based row (header = row 1) and the column, and a file
with an error must load nothing: landing keeps the rows of the previous load.
"""

from __future__ import annotations

import csv

import duckdb
import polars as pl
import pytest

from pipelines.ingest.landing import SOURCE_TABLES, land_batch
from pipelines.settings import LATEST_COMPLETE_YEAR
from pipelines.sources.curated import CuratedInputError as FetchCuratedInputError
from pipelines.sources.curated import fetch_curated
from pipelines.sources.curated import inputs as curated
from pipelines.sources.curated.inputs import (
    CITY_STATISTICS,
    OUTREACH,
    PUBLISHED_RANKINGS,
    SPECS,
    TEMPLATES_DIR,
    CuratedInputError,
)

CITIES = pl.DataFrame({"id": ["paris", "xian", "beijing"]})
URL = "https://example.org/report"


def header(spec: curated.InputSpec) -> str:
    return ",".join(spec.header) + "\n"


def inputs_dir(tmp_path, **bodies: str | bytes):
    """A folder with the three inputs: header-only unless a body (text after the header, or
    the whole file as bytes) is given."""
    folder = tmp_path / "inputs"
    folder.mkdir(exist_ok=True)
    for name, spec in SPECS.items():
        body = bodies.get(name, "")
        path = folder / spec.filename
        if isinstance(body, bytes):
            path.write_bytes(body)
        else:
            path.write_text(header(spec) + body, encoding="utf-8", newline="")
    return folder


def fetch(tmp_path, year: int = 2025, **bodies: str | bytes):
    return fetch_curated(year, cities=CITIES, inputs_dir=inputs_dir(tmp_path, **bodies))


def table_rows(con, table: str, year: int) -> list[tuple]:
    return con.execute(
        f"SELECT * EXCLUDE (response_sha256) FROM raw.{table} WHERE year = ? ORDER BY source_row",
        [year],
    ).fetchall()


# --- Shipped files ----------------------------------------------------------------------------
def test_error_class_keeps_its_import_path():
    assert FetchCuratedInputError is CuratedInputError


def test_shipped_files_validate_against_the_registry():
    stats = curated.validate_city_statistics()
    outreach = curated.validate_outreach()
    rankings = curated.validate_published_rankings()
    assert len(stats.rows) > 0 and stats.encoding == "utf-8"
    assert outreach.rows == []  # header only: no figure is invented
    assert any("header only" in note for note in outreach.notes)
    by_city = {r["city_id"]: r for r in rankings.rows}
    assert by_city["london"]["position"] == 1  # GaWC 2020: London first
    assert by_city["xian"]["position"] == 124
    assert {r["edition_year"] for r in rankings.rows} == {2020}


@pytest.mark.parametrize("spec", list(SPECS.values()), ids=list(SPECS))
def test_templates_are_header_only_and_match_the_spec(spec):
    template = TEMPLATES_DIR / spec.filename
    rows = list(csv.reader(template.open(encoding="utf-8", newline="")))
    assert rows == [list(spec.header)]
    shipped = curated.INPUTS_DIR / spec.filename
    assert next(csv.reader(shipped.open(encoding="utf-8", newline=""))) == list(spec.header)


def test_shipped_inputs_land_in_three_tables(tmp_path):
    con = duckdb.connect()
    batch = fetch_curated(LATEST_COMPLETE_YEAR)
    assert set(batch.tables) == set(SOURCE_TABLES["curated"])
    counts = land_batch(con, batch, tmp_path / "landing")
    assert counts["curated_city_statistics"] > 0
    assert counts["curated_outreach"] == 0
    assert counts["curated_published_rankings"] == len(curated.validate_published_rankings().rows)
    assert counts["curated_published_rankings"] > 0
    assert counts["api_responses"] == 3


# --- Loading ----------------------------------------------------------------------------------
def test_rows_as_of_the_partition_year(tmp_path):
    body = f"GaWC,2019,paris,8,{URL}\nGaWC,2020,paris,8,{URL}\nGaWC,2021,paris,7,{URL}\n"
    outreach = f"xian,2021,weibo,a,posts,3,{URL}\nxian,2023,weibo,a,posts,4,{URL}\n"
    batch = fetch(tmp_path, 2020, published_rankings=body, outreach=outreach)
    assert batch.tables["curated_published_rankings"]["edition_year"].to_list() == [2019, 2020]
    assert batch.tables["curated_published_rankings"]["source_row"].to_list() == [2, 3]
    assert batch.tables["curated_outreach"].height == 0
    assert fetch(tmp_path, 2022, outreach=outreach).tables["curated_outreach"].height == 1


def test_names_with_apostrophes_and_quoted_commas_survive(tmp_path):
    outreach = (
        f"xian,2024,youtube,Visit Xi'an,views,1200,{URL}\n"
        f"xian,2024,x,\"Xi'an, Shaanxi\",followers,5,{URL}?q=xi'an\n"
    )
    con = duckdb.connect()
    land_batch(con, fetch(tmp_path, outreach=outreach), tmp_path / "landing")
    rows = con.execute(
        "SELECT account, value, source_url FROM raw.curated_outreach ORDER BY source_row"
    ).fetchall()
    assert rows == [
        ("Visit Xi'an", 1200, URL),
        ("Xi'an, Shaanxi", 5, f"{URL}?q=xi'an"),
    ]


def test_utf8_bom_is_stripped(tmp_path):
    text = header(OUTREACH) + f"xian,2024,weibo,西安发布,followers,100,{URL}\n"
    batch = fetch(tmp_path, outreach=b"\xef\xbb\xbf" + text.encode("utf-8"))
    table = batch.tables["curated_outreach"]
    assert table["city_id"].to_list() == ["xian"]  # the BOM is not glued to the first column
    assert table["account"].to_list() == ["西安发布"]
    assert any("utf-8 (BOM stripped)" in issue for issue in batch.issues)


def test_gbk_file_with_chinese_names_loads(tmp_path):
    text = (
        header(OUTREACH)
        + f"xian,2024,weibo,西安发布,followers,1500000,{URL}\n"
        + f"beijing,2024,douyin,北京文旅,views,200,{URL}\n"
    )
    rankings = header(PUBLISHED_RANKINGS) + f"中国城市国际传播影响力,2023,xian,3,{URL}\n"
    batch = fetch(tmp_path, outreach=text.encode("gbk"), published_rankings=rankings.encode("gbk"))
    assert batch.tables["curated_outreach"]["account"].to_list() == ["西安发布", "北京文旅"]
    assert batch.tables["curated_published_rankings"]["ranking"][0] == "中国城市国际传播影响力"
    assert any("outreach.csv: decoded as gbk" in issue for issue in batch.issues)
    encodings = {r.url.rsplit("/", 1)[-1]: r.params["encoding"] for r in batch.responses}
    assert encodings["outreach.csv"] == "gbk"
    assert encodings["city_statistics.csv"] == "utf-8"
    con = duckdb.connect()
    land_batch(con, batch, tmp_path / "landing")
    assert con.execute(
        "SELECT account FROM raw.curated_outreach WHERE city_id = 'xian'"
    ).fetchone() == ("西安发布",)


def test_header_only_file_is_valid_and_loads_nothing(tmp_path):
    batch = fetch(tmp_path)
    assert all(frame.height == 0 for frame in batch.tables.values())
    assert sorted(batch.issues) == sorted(
        f"{curated.display_path(tmp_path / 'inputs' / s.filename)}: header only, no rows"
        " (nothing loaded)"
        for s in SPECS.values()
    )


def test_city_statistics_may_be_older_than_the_partitions(tmp_path):
    body = f"paris,1990,population,2152423,persons,{URL}\n"
    batch = fetch(tmp_path, 2017, city_statistics=body)
    assert batch.tables["curated_city_statistics"]["stat_year"].to_list() == [1990]


# --- Rejections -------------------------------------------------------------------------------
GOOD_STAT = f"paris,2019,gdp,1.5,bn,{URL}"
GOOD_OUTREACH = f"xian,2024,weibo,西安发布,followers,10,{URL}"
GOOD_RANKING = f"GaWC,2020,paris,8,{URL}"

BAD_CASES = [
    # (id, input, data rows after the header, row, column, message fragment)
    (
        "duplicate key",
        "city_statistics",
        [GOOD_STAT, f"xian,2019,gdp,2,bn,{URL}", f"paris,2019,GDP,1.7,bn,{URL}"],
        4,
        "city_id,year,indicator",
        "rows 2 and 4",
    ),
    (
        "duplicate ranking key",
        "published_rankings",
        [GOOD_RANKING, f"gawc,2020,paris,9,{URL}"],
        3,
        "ranking,edition_year,city_id",
        "rows 2 and 3",
    ),
    ("unknown city", "outreach", [f"rome,2024,x,a,posts,1,{URL}"], 2, "city_id", "'rome'"),
    (
        "negative value",
        "city_statistics",
        [GOOD_STAT, f"xian,2019,gdp,-1,bn,{URL}"],
        3,
        "value",
        "negative",
    ),
    ("negative count", "outreach", [f"xian,2024,x,a,posts,-3,{URL}"], 2, "value", "negative"),
    ("non-numeric", "city_statistics", [f"xian,2019,gdp,abc,bn,{URL}"], 2, "value", "not a number"),
    (
        "thousands separator",
        "city_statistics",
        [f'xian,2019,gdp,"1,500",bn,{URL}'],
        2,
        "value",
        "not a number",
    ),
    (
        "fractional count",
        "outreach",
        [f"xian,2024,x,a,views,1.5,{URL}"],
        2,
        "value",
        "not a whole number",
    ),
    (
        "non-numeric position",
        "published_rankings",
        [f"GaWC,2020,paris,first,{URL}"],
        2,
        "position",
        "not a whole number",
    ),
    (
        "position zero",
        "published_rankings",
        [f"GaWC,2020,paris,0,{URL}"],
        2,
        "position",
        "minimum 1",
    ),
    (
        "year before partitions",
        "outreach",
        [GOOD_OUTREACH, f"xian,2016,x,a,posts,1,{URL}"],
        3,
        "year",
        "2017..2025",
    ),
    (
        "year after partitions",
        "published_rankings",
        [f"GaWC,2030,paris,1,{URL}"],
        2,
        "edition_year",
        "2017..2025",
    ),
    (
        "stat year too old",
        "city_statistics",
        [f"xian,1949,gdp,1,bn,{URL}"],
        2,
        "year",
        "before 1950",
    ),
    (
        "stat year in the future",
        "city_statistics",
        [f"xian,2031,gdp,1,bn,{URL}"],
        2,
        "year",
        "after 2025",
    ),
    (
        "year not a number",
        "city_statistics",
        [f"xian,20x0,gdp,1,bn,{URL}"],
        2,
        "year",
        "not a year",
    ),
    (
        "empty required field",
        "outreach",
        [f"xian,2024,weibo,,posts,1,{URL}"],
        2,
        "account",
        "required value is empty",
    ),
    (
        "short row",
        "published_rankings",
        ["GaWC,2020,paris,3"],
        2,
        "source_url",
        "required value is empty",
    ),
    (
        "bad url",
        "city_statistics",
        ["xian,2019,gdp,1,bn,www.example.org"],
        2,
        "source_url",
        "http:// or https://",
    ),
    (
        "ftp url",
        "outreach",
        ["xian,2024,x,a,posts,1,ftp://example.org/a"],
        2,
        "source_url",
        "http:// or https://",
    ),
    (
        "metric not allowed",
        "outreach",
        [f"xian,2024,x,a,likes,1,{URL}"],
        2,
        "metric",
        "posts, followers, views",
    ),
    (
        "too many fields",
        "outreach",
        [f"xian,2024,x,a,b,posts,1,{URL}"],
        2,
        "#8",
        "8 fields but the header has 7",
    ),
]


@pytest.mark.parametrize(
    ("name", "rows", "row", "column", "fragment"),
    [case[1:] for case in BAD_CASES],
    ids=[case[0] for case in BAD_CASES],
)
def test_bad_row_names_file_row_and_column(tmp_path, name, rows, row, column, fragment):
    with pytest.raises(CuratedInputError) as info:
        fetch(tmp_path, **{name: "\n".join(rows) + "\n"})
    error = info.value
    assert (error.row, error.column) == (row, column), str(error)
    assert error.file.endswith(f"{name}.csv")
    assert f"{name}.csv, row {row}, column {column!r}: " in str(error)
    assert fragment in str(error)


HEADER_CASES = [
    # (id, input, header line, column, message fragment)
    (
        "missing column",
        "outreach",
        "city_id,year,platform,account,value,source_url",
        "metric",
        "missing: metric",
    ),
    (
        "two missing",
        "city_statistics",
        "city_id,year,indicator,value",
        "unit",
        "missing: unit, source_url",
    ),
    (
        "extra columns",
        "published_rankings",
        "ranking,edition_year,city_id,position,source_url,notes,score",
        "notes",
        "unexpected column(s): notes, score",
    ),
    (
        "duplicate column",
        "published_rankings",
        "ranking,edition_year,city_id,city_id,position,source_url",
        "city_id",
        "twice",
    ),
    (
        "trailing comma",
        "city_statistics",
        "city_id,year,indicator,value,unit,source_url,",
        "#7",
        "empty column name",
    ),
]


@pytest.mark.parametrize(
    ("name", "line", "column", "fragment"),
    [case[1:] for case in HEADER_CASES],
    ids=[case[0] for case in HEADER_CASES],
)
def test_bad_header_names_row_1_and_the_columns(tmp_path, name, line, column, fragment):
    with pytest.raises(CuratedInputError) as info:
        fetch(tmp_path, **{name: (line + "\n").encode()})
    error = info.value
    assert (error.row, error.column) == (1, column), str(error)
    assert f"{name}.csv, row 1, column {column!r}: " in str(error)
    assert fragment in str(error)


def test_empty_file_is_an_error(tmp_path):
    with pytest.raises(CuratedInputError) as info:
        fetch(tmp_path, outreach=b"")
    assert info.value.row == 1 and info.value.column is None
    assert "outreach.csv, row 1: empty file (0 bytes)" in str(info.value)
    assert ",".join(OUTREACH.header) in str(info.value)


def test_undecodable_file_names_row_and_column(tmp_path):
    data = header(CITY_STATISTICS).encode() + b"xian,2019,gdp,1,\xff\xfe\xff," + URL.encode()
    with pytest.raises(CuratedInputError) as info:
        fetch(tmp_path, city_statistics=data)
    assert (info.value.row, info.value.column) == (2, "unit")
    assert "neither UTF-8 nor GBK" in str(info.value)


def test_utf16_is_refused_with_advice(tmp_path):
    data = header(OUTREACH).encode("utf-16")
    with pytest.raises(CuratedInputError, match="UTF-16"):
        fetch(tmp_path, outreach=data)


def test_a_failing_file_loads_nothing_and_keeps_the_previous_rows(tmp_path):
    con = duckdb.connect()
    good = {
        "city_statistics": GOOD_STAT + "\n",
        "outreach": GOOD_OUTREACH + "\n",
        "published_rankings": GOOD_RANKING + "\n",
    }
    land_batch(con, fetch(tmp_path, **good), tmp_path / "landing")
    before = {t: table_rows(con, t, 2025) for t in SOURCE_TABLES["curated"]}
    assert all(len(rows) == 1 for rows in before.values())
    bad = {**good, "outreach": GOOD_OUTREACH + f"\nxian,2024,weibo,b,posts,-5,{URL}\n"}
    with pytest.raises(CuratedInputError, match="row 3, column 'value'"):
        land_batch(con, fetch(tmp_path, **bad), tmp_path / "landing")
    after = {t: table_rows(con, t, 2025) for t in SOURCE_TABLES["curated"]}
    assert after == before
    responses = con.execute("SELECT count(*) FROM raw.api_responses WHERE source = 'curated'")
    assert responses.fetchone() == (3,)
