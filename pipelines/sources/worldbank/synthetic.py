"""World Bank answers of the embedded offline snapshot (REAL values, reconstructed envelope,
``synthetic: false``).

NY.GDP.PCAP.CD from the bulk CSV (vintage 2024-06-28) and SP.POP.TOTL from datahub's
population.csv, for each partition year's window (Y-5..Y), in the ``[meta, rows]`` page format;
``value: null`` where the file has no value. A country absent from a file is answered like the
API answers a bad code (error 120 for the batch, then one request per country), which fails the
ingest: the client treats a refused country as an error, so the registry must only hold known
codes. Written by ``python scripts/generate_snapshots.py``.
"""

from __future__ import annotations

import csv
import json

from pipelines.sources.synthetic import (
    MARK,
    REFERENCE,
    SyntheticContext,
    compact,
    load_countries,
)
from pipelines.sources.worldbank import client as worldbank

GDP_PC_FILE = REFERENCE / "API_NY.GDP.PCAP.CD_DS2_en_csv_v2_1887433.csv"
POPULATION_FILE = REFERENCE / "population_total.csv"
POPULATION_META = REFERENCE / "population_datapackage.json"

#: One indicator's file: iso3 -> year -> value, iso3 -> country name, vintage.
IndicatorFile = tuple[dict[str, dict[int, float]], dict[str, str], str]


def read_gdp_per_capita() -> IndicatorFile:
    """(iso3 -> year -> value, iso3 -> name, vintage) from the bulk CSV."""
    lines = GDP_PC_FILE.read_text(encoding="utf-8-sig").splitlines()
    vintage = next(row[1] for row in csv.reader(lines[:4]) if row and row[0] == "Last Updated Date")
    reader = csv.DictReader(lines[4:])
    values: dict[str, dict[int, float]] = {}
    names: dict[str, str] = {}
    for row in reader:
        code = row["Country Code"]
        names[code] = row["Country Name"]
        values[code] = {
            int(k): float(v) for k, v in row.items() if k and k.isdigit() and v not in ("", None)
        }
    return values, names, vintage


def read_population() -> IndicatorFile:
    values: dict[str, dict[int, float]] = {}
    names: dict[str, str] = {}
    with POPULATION_FILE.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            names[row["Country Code"]] = row["Country Name"]
            values.setdefault(row["Country Code"], {})[int(row["Year"])] = float(row["Value"])
    vintage = json.loads(POPULATION_META.read_text(encoding="utf-8"))["last_updated"]
    return values, names, vintage


def worldbank_body(
    codes: list[str],
    indicator: tuple[str, str],
    start: int,
    end: int,
    data: IndicatorFile,
    iso2: dict[str, str],
) -> str:
    """One page (all rows fit in per_page=1000) in the API's order: country name, date desc."""
    values, names, vintage = data
    indicator_id, indicator_name = indicator
    if any(code not in values for code in codes):
        return compact(
            [
                {
                    "message": [
                        {
                            "id": "120",
                            "key": "Invalid value",
                            "value": "The provided parameter value is not valid",
                        }
                    ]
                }
            ]
        )
    rows = []
    for code in sorted(codes, key=lambda c: names[c]):
        for year in range(end, start - 1, -1):
            value = values[code].get(year)
            if value is not None and indicator_id == "SP.POP.TOTL":
                value = int(value)
            rows.append(
                {
                    "indicator": {"id": indicator_id, "value": indicator_name},
                    "country": {"id": iso2.get(code, code[:2]), "value": names[code]},
                    "countryiso3code": code,
                    "date": str(year),
                    "value": value,
                    "unit": "",
                    "obs_status": "",
                    "decimal": 0,
                }
            )
    meta = {
        "page": 1,
        "pages": 1,
        "per_page": worldbank.PER_PAGE,
        "total": len(rows),
        "sourceid": "2",
        "lastupdated": vintage,
    }
    return compact([meta, rows])


def synthesize(context: SyntheticContext) -> list[str]:
    """Per year and indicator, the batch of every registry country (and, when a country is
    missing from a file, the client's one-by-one fallback), with the files' real values."""
    iso2_by_iso3 = {c["iso3"]: c["iso"] for c in load_countries().values()}
    sources = {
        "NY.GDP.PCAP.CD": (
            ("NY.GDP.PCAP.CD", "GDP per capita (current US$)"),
            read_gdp_per_capita(),
            GDP_PC_FILE.name,
        ),
        "SP.POP.TOTL": (
            ("SP.POP.TOTL", "Population, total"),
            read_population(),
            POPULATION_FILE.name,
        ),
    }
    codes = sorted({c["country_iso3"] for c in context.cities})
    for year in context.years:
        start, end = worldbank.window(year)
        for indicator_id in worldbank.INDICATORS:
            indicator, data, file_name = sources[indicator_id]
            note = (
                f"REAL values from assets/reference/{file_name} (vintage {data[2]}); "
                f"API envelope reconstructed by {MARK}."
            )
            batches = [codes]
            if any(code not in data[0] for code in codes):
                batches += [[code] for code in codes]  # the client's one-by-one fallback
            for batch in batches:
                path, params = worldbank.indicator_request(batch, indicator_id, start, end)
                body = worldbank_body(batch, indicator, start, end, data, iso2_by_iso3)
                context.put(
                    path,
                    params,
                    status=200,
                    content_type="application/json;charset=utf-8",
                    body=body,
                    synthetic=False,
                    note=note,
                )
    return []
