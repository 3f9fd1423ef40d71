"""World Bank client: [meta, rows] pages, null rows, string numbers, error envelopes with 200."""

from __future__ import annotations

import json

import polars as pl
import pytest
import responses
from responses import matchers

from pipelines.registry import load_cities
from pipelines.sources.http import SourceError
from pipelines.sources.worldbank import client as worldbank
from pipelines.sources.worldbank import fetch_worldbank
from pipelines.sources.worldbank.client import WorldBankClient

ROOT = "https://api.worldbank.org/v2/country"
# The two error envelopes as the API answers them (status 200), quoted verbatim from recorded
# third-party fixtures in the project's API research (tests/data/api_answers/PROVENANCE.md).
INVALID = [
    {"message": [{"id": "120", "key": "Invalid value",
                  "value": "The provided parameter value is not valid"}]}
]  # fmt: skip
ARCHIVED = [
    {"message": [{"id": "175", "key": "Invalid format",
                  "value": "The indicator was not found. It may have been deleted or archived."}]}
]  # fmt: skip


def client() -> WorldBankClient:
    config = WorldBankClient.default_config().with_overrides(
        min_interval=0.0, backoff_factor=0.0, retry_after_max=0, retries=2
    )
    return WorldBankClient(config, mode="live")


def meta(page=1, pages=1, lastupdated="2024-06-28"):
    return {"page": page, "pages": pages, "per_page": 1000, "total": 3, "sourceid": "2",
            "lastupdated": lastupdated}  # fmt: skip


def row(iso3, year, value, indicator="NY.GDP.PCAP.CD"):
    return {"indicator": {"id": indicator, "value": "x"},
            "country": {"id": iso3[:2], "value": iso3}, "countryiso3code": iso3,
            "date": str(year), "value": value, "unit": "", "obs_status": "",
            "decimal": 0}  # fmt: skip


def page_matcher(page: int):
    return [matchers.query_param_matcher({"page": str(page)}, strict_match=False)]


def test_request_shape():
    path, params = worldbank.indicator_request(["FRA", "CHN"], "SP.POP.TOTL", 2015, 2020, 2)
    assert path == "/v2/country/CHN;FRA/indicator/SP.POP.TOTL"
    assert params == {"format": "json", "date": "2015:2020", "per_page": "1000", "page": "2"}
    assert worldbank.window(2020) == (2015, 2020)


@responses.activate
def test_all_pages_string_numbers_and_nulls():
    url = f"{ROOT}/CHN;FRA/indicator/NY.GDP.PCAP.CD"
    body1 = [meta(1, 2), [row("CHN", 2020, "10408.7"), row("FRA", 2020, None)]]
    body2 = [
        meta(2, "2"),
        [row("FRA", 2019, 40494.9), {**row("", 2019, 1.0), "countryiso3code": ""}],
    ]
    responses.get(url, json=body1, match=page_matcher(1))
    responses.get(url, json=body2, match=page_matcher(2))
    result = client().indicator(["FRA", "CHN"], "NY.GDP.PCAP.CD", 2015, 2020)
    table = result.table().sort(["country_iso3", "obs_year"])
    assert len(result.responses) == 2
    assert table["country_iso3"].to_list() == ["CHN", "FRA", "FRA"]
    assert table["value"].to_list() == [10408.7, 40494.9, None]
    assert str(table["last_updated"][0]) == "2024-06-28"


@responses.activate
def test_null_second_element_means_no_rows():
    empty = [{"page": 0, "pages": 0, "per_page": 0, "total": 0, "sourceid": None,
              "lastupdated": None}, None]  # fmt: skip
    responses.get(f"{ROOT}/FRA/indicator/SP.POP.TOTL", json=empty)
    result = client().indicator(["FRA"], "SP.POP.TOTL", 2015, 2020)
    assert result.table().height == 0


@responses.activate
def test_one_bad_country_is_named_and_fails_the_fetch():
    responses.get(f"{ROOT}/CHN;FRA;XXX/indicator/NY.GDP.PCAP.CD", json=INVALID)
    responses.get(f"{ROOT}/CHN/indicator/NY.GDP.PCAP.CD", json=[meta(), [row("CHN", 2020, 1.5)]])
    responses.get(f"{ROOT}/FRA/indicator/NY.GDP.PCAP.CD", json=[meta(), [row("FRA", 2020, 2.5)]])
    responses.get(f"{ROOT}/XXX/indicator/NY.GDP.PCAP.CD", json=INVALID)
    with pytest.raises(SourceError, match=r"country code\(s\) XXX refused for indicator NY.GDP"):
        client().indicator(["FRA", "XXX", "CHN"], "NY.GDP.PCAP.CD", 2015, 2020)
    assert len(responses.calls) == 4  # the batch, then each country once to name the bad one


@responses.activate
def test_bad_indicator_refused_for_every_country_names_the_indicator():
    responses.get(f"{ROOT}/CHN;FRA/indicator/NY.GDP.PCAP.XX", json=INVALID)
    responses.get(f"{ROOT}/CHN/indicator/NY.GDP.PCAP.XX", json=INVALID)
    responses.get(f"{ROOT}/FRA/indicator/NY.GDP.PCAP.XX", json=INVALID)
    with pytest.raises(SourceError, match="indicator NY.GDP.PCAP.XX .*is not a valid value"):
        client().indicator(["FRA", "CHN"], "NY.GDP.PCAP.XX", 2015, 2020)


@responses.activate
def test_a_lone_country_refused_is_an_error_naming_country_and_indicator():
    responses.get(f"{ROOT}/TWN/indicator/SP.POP.TOTL", json=INVALID)
    with pytest.raises(SourceError, match="country TWN or indicator SP.POP.TOTL") as info:
        client().indicator(["TWN"], "SP.POP.TOTL", 2015, 2020)
    assert info.value.url.startswith(f"{ROOT}/TWN/indicator/SP.POP.TOTL")
    assert len(responses.calls) == 1


@responses.activate
def test_error_envelope_with_200_is_a_source_error():
    responses.get(f"{ROOT}/CHN/indicator/EN.ATM.CO2E.KT", json=ARCHIVED)
    with pytest.raises(SourceError, match="error 175.*indicator EN.ATM.CO2E.KT, countries CHN"):
        client().indicator(["CHN"], "EN.ATM.CO2E.KT", 2015, 2020)


@responses.activate
def test_fetch_with_a_refused_country_fails_instead_of_losing_it():
    registry = pl.DataFrame({"id": ["a", "b"], "country_iso3": ["FRA", "XXX"]})
    indicator = worldbank.INDICATORS[0]
    responses.get(f"{ROOT}/FRA;XXX/indicator/{indicator}", json=INVALID)
    responses.get(f"{ROOT}/XXX/indicator/{indicator}", json=INVALID)
    responses.get(
        f"{ROOT}/FRA/indicator/{indicator}",
        json=[meta(), [row("FRA", y, y * 1.0, indicator) for y in range(2015, 2021)]],
    )
    with pytest.raises(SourceError, match="XXX refused"):
        fetch_worldbank(registry, 2020, client())


def test_plan_counts_one_page_per_indicator_and_batch():
    codes = [f"C{n:02d}" for n in range(61)]
    assert worldbank.planned_requests(codes) == 2 * len(worldbank.INDICATORS)
    assert worldbank.planned_requests(codes[:3]) == len(worldbank.INDICATORS)


def test_snapshot_mode_real_values():
    registry = load_cities()
    batch = fetch_worldbank(registry, 2025, WorldBankClient(mode="snapshot"))
    table = batch.tables["worldbank_indicator"]
    chn = table.filter(
        (pl.col("country_iso3") == "CHN") & (pl.col("indicator_id") == "NY.GDP.PCAP.CD")
    )
    values = dict(zip(chn["obs_year"], chn["value"], strict=True))
    assert values[2023] == pytest.approx(12614.0609948923)  # the real bulk-CSV value
    assert values[2024] is None and values[2025] is None  # not in the file: null, not zero
    assert sorted(set(table["obs_year"])) == list(range(2020, 2026))
    assert not any(r.synthetic for r in batch.responses)
    assert json.loads(batch.responses[0].body)[0]["lastupdated"] == "2024-06-28"
