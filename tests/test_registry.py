"""Tests for the city registry: the real file and the loader's error messages."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from pipelines.registry import (
    CITIES_CSV,
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
    WIKI_LANGUAGES,
    RegistryError,
    foreign_languages,
    load_cities,
    load_countries,
    wiki_titles,
)

ROOT = Path(__file__).resolve().parent.parent
REF = ROOT / "assets" / "reference"
STATS = ROOT / "assets" / "inputs" / "city_statistics.csv"


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _write(path: Path, rows: list[dict[str, str]], fieldnames: list[str]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fieldnames, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def test_real_registry_loads() -> None:
    df = load_cities()
    assert df.height >= 50
    assert list(df.columns) == [*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS]
    ids = set(df["id"].to_list())
    assert {"beijing", "shanghai", "xian", "hong-kong", "new-york", "london"} <= ids
    xian = df.filter(df["id"] == "xian").row(0, named=True)
    assert xian["name_en"] == "Xi'an"
    assert str(df.schema["latitude"]) == "Float64"
    assert str(df.schema["id"]) == "String"


PENDING_QID_CITIES: set[str] = set()  # every city has its verified Wikidata item
QID_SUPPLEMENT = REF / "wikidata" / "qids_mainland_supplement.csv"


def test_registry_includes_haikou() -> None:
    df = load_cities()
    haikou = df.filter(df["id"] == "haikou").row(0, named=True)
    assert haikou["name_en"] == "Haikou"
    assert haikou["name_zh"] == haikou["name_local"] == "海口"
    codes = (haikou["country_iso3"], haikou["country_iso2"], haikou["country_fips"])
    assert codes == ("CHN", "CN", "CH")
    assert haikou["region"] == "China (mainland)"
    assert haikou["local_langs"] == "zh"
    assert (haikou["wiki_en"], haikou["wiki_zh"]) == ("Haikou", "海口市")
    assert haikou["wup_city_code"] == "23639"
    assert haikou["gawc_name"] == "Haikou"
    assert haikou["wikidata_qid"] == "Q189823"  # from the checked supplement


def test_pending_qids_are_only_the_unverified_cities() -> None:
    df = load_cities()
    empty = set(df.filter(df["wikidata_qid"] == "")["id"].to_list())
    assert empty == PENDING_QID_CITIES
    qids = [q for q in df["wikidata_qid"].to_list() if q]
    assert len(qids) == len(set(qids))


def test_mainland_qids_are_the_checked_supplement() -> None:
    """The eleven QIDs added in 2026 are exactly the supplement's, checked against census
    populations (assets/reference/wikidata/qids_mainland_supplement.csv)."""
    supplement = {r["city_id"]: r["wikidata_qid"] for r in _read(QID_SUPPLEMENT)}
    assert len(supplement) == 11
    registry = dict(load_cities().select("id", "wikidata_qid").iter_rows())
    assert {city: registry[city] for city in supplement} == supplement
    assert registry["fuzhou"] == "Q68481"  # Fuzhou, Fujian; not Q363391 (Fuzhou, Jiangxi)


def test_registry_file_has_no_bom() -> None:
    assert not CITIES_CSV.read_bytes().startswith(b"\xef\xbb\xbf")


def test_wup_codes_exist() -> None:
    wup = {r["City Code"]: r for r in _read(REF / "WUP2018_F22_cities_over_300k_2020_only.csv")}
    for row in load_cities().iter_rows(named=True):
        assert row["wup_city_code"] in wup, row["id"]
        w = wup[row["wup_city_code"]]
        assert row["latitude"] == pytest.approx(float(w["Latitude"])), row["id"]


def test_gawc_names_exist() -> None:
    gawc = {r["City"] for r in _read(REF / "gawc_da31_global_network_connectivity_2020.csv")}
    for row in load_cities().iter_rows(named=True):
        if row["gawc_name"]:
            assert row["gawc_name"] in gawc, row["id"]


def test_gdelt_terms_are_long_enough() -> None:
    for row in load_cities().iter_rows(named=True):
        query = row["gdelt_query"].replace("(", " ").replace(")", " ")
        for part in query.split('"')[0::2]:  # outside quoted phrases
            for word in part.split():
                if word != "OR":
                    assert len(word) >= 4, (row["id"], word)


def test_city_statistics_cities_are_in_registry() -> None:
    ids = set(load_cities()["id"].to_list())
    rows = _read(STATS)
    assert rows
    for row in rows:
        assert row["city_id"] in ids
        assert row["indicator"] == "population_agglomeration"
        assert row["unit"] == "persons"
        assert int(row["value"]) > 0
    template = (ROOT / "assets" / "inputs" / "templates" / "city_statistics.csv").read_text()
    assert template.strip() == "city_id,year,indicator,value,unit,source_url"


def test_helpers() -> None:
    df = load_cities()
    hk = df.filter(df["id"] == "hong-kong").row(0, named=True)
    assert foreign_languages(hk) == [x for x in WIKI_LANGUAGES if x not in ("zh", "en")]
    assert wiki_titles(hk)["en"] == "Hong Kong"
    assert all(wiki_titles(hk).values())
    istanbul = df.filter(df["id"] == "istanbul").row(0, named=True)
    assert foreign_languages(istanbul) == list(WIKI_LANGUAGES)
    countries = load_countries()
    cn = countries.filter(countries["iso2"] == "CN").row(0, named=True)
    assert (cn["iso3"], cn["fips"]) == ("CHN", "CH")


@pytest.fixture
def registry_copy(tmp_path: Path) -> tuple[Path, list[dict[str, str]], list[str]]:
    path = tmp_path / "cities.csv"
    shutil.copy(CITIES_CSV, path)
    rows = _read(path)
    return path, rows, list(rows[0].keys())


def _assert_error(path: Path, row: int, column: str) -> None:
    with pytest.raises(RegistryError) as info:
        load_cities(path)
    message = str(info.value)
    assert str(path) in message
    assert f"row {row}" in message
    assert repr(column) in message
    assert info.value.row == row and info.value.column == column


def test_duplicate_id(registry_copy) -> None:
    path, rows, fields = registry_copy
    rows[3]["id"] = rows[0]["id"]
    _write(path, rows, fields)
    _assert_error(path, 5, "id")


def test_unknown_country_code(registry_copy) -> None:
    path, rows, fields = registry_copy
    rows[2]["country_iso2"] = "XX"
    _write(path, rows, fields)
    _assert_error(path, 4, "country_iso2")


def test_inconsistent_fips(registry_copy) -> None:
    path, rows, fields = registry_copy
    rows[1]["country_fips"] = "CN"  # China is CH in FIPS 10-4
    _write(path, rows, fields)
    _assert_error(path, 3, "country_fips")


def test_empty_required_field(registry_copy) -> None:
    path, rows, fields = registry_copy
    rows[0]["wiki_en"] = ""
    _write(path, rows, fields)
    _assert_error(path, 2, "wiki_en")


def test_empty_qid_is_accepted(registry_copy) -> None:
    path, rows, fields = registry_copy
    rows[0]["wikidata_qid"] = ""
    _write(path, rows, fields)
    df = load_cities(path)
    assert df.filter(df["id"] == rows[0]["id"]).row(0, named=True)["wikidata_qid"] == ""


@pytest.mark.parametrize("bad", ["956", "q956", "Q", "Q95x", "Q 956", "L956"])
def test_malformed_qid_is_rejected(registry_copy, bad: str) -> None:
    path, rows, fields = registry_copy
    rows[0]["wikidata_qid"] = bad
    _write(path, rows, fields)
    _assert_error(path, 2, "wikidata_qid")


def test_duplicate_qid_is_rejected(registry_copy) -> None:
    path, rows, fields = registry_copy
    rows[2]["wikidata_qid"] = rows[0]["wikidata_qid"]
    _write(path, rows, fields)
    _assert_error(path, 4, "wikidata_qid")


def test_missing_column(registry_copy) -> None:
    path, rows, fields = registry_copy
    fields = [f for f in fields if f != "gdelt_query"]
    for r in rows:
        del r["gdelt_query"]
    _write(path, rows, fields)
    _assert_error(path, 1, "gdelt_query")


def test_bad_local_lang(registry_copy) -> None:
    path, rows, fields = registry_copy
    rows[4]["local_langs"] = "zh|it"
    _write(path, rows, fields)
    _assert_error(path, 6, "local_langs")
