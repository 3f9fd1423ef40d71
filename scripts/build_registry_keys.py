"""Re-derive and check the reference keys of `assets/cities.csv` from `assets/reference/`.

Run: `.venv/bin/python scripts/build_registry_keys.py` (check only; exit 1 on a mismatch) or
`--write` to rewrite latitude/longitude from WUP and fill an empty geonames_id where exactly one
GeoNames city (population >= 1 M, same country, within 0.5 degrees) carries the English name.
The CSV stays the source of truth: this script only reports or fills, it never invents codes.
Also writes `assets/inputs/city_statistics.csv` (WUP 2020 agglomeration population) with --write.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REF = ROOT / "assets" / "reference"
CITIES = ROOT / "assets" / "cities.csv"
STATS = ROOT / "assets" / "inputs" / "city_statistics.csv"
GEONAMES = REF / "cities_pop_ge_1m.csv"
WUP_URL = "https://population.un.org/wup/Download/"


def read_csv(path: Path) -> list[dict[str, str]]:
    """Rows of a UTF-8 CSV as dicts of strings."""
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def wup_persons(text: str) -> int:
    """WUP gives thousands with spaces as separators ("  4 222" -> 4,222,000 persons)."""
    return int(text.replace(" ", "").replace("\u00a0", "")) * 1000


def geonames_candidates(row: dict[str, str], geonames: list[dict[str, str]]) -> list[str]:
    """GeoNames ids with the city's English name, same country, near the WUP point."""
    lat, lon = float(row["latitude"]), float(row["longitude"])
    out = []
    for g in geonames:
        names = {g["name"], *g["alternatenames"].split("|")}
        if g["countrycode"] != row["country_iso2"] or row["name_en"] not in names:
            continue
        if abs(float(g["latitude"]) - lat) < 0.5 and abs(float(g["longitude"]) - lon) < 0.5:
            out.append(g["geonameid"])
    return out


def main() -> int:
    """Check (and with --write, fill) the registry keys; print every problem found."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true", help="rewrite cities.csv and stats")
    args = parser.parse_args()

    cities = read_csv(CITIES)
    fieldnames = list(cities[0].keys())
    wup = {r["City Code"]: r for r in read_csv(REF / "WUP2018_F22_cities_over_300k_2020_only.csv")}
    gawc = {r["City"] for r in read_csv(REF / "gawc_da31_global_network_connectivity_2020.csv")}
    geonames = read_csv(GEONAMES)
    problems: list[str] = []

    for row in cities:
        cid = row["id"]
        w = wup.get(row["wup_city_code"])
        if w is None:
            problems.append(f"{cid}: wup_city_code {row['wup_city_code']!r} not in WUP file")
            continue
        if (row["latitude"], row["longitude"]) != (w["Latitude"], w["Longitude"]):
            problems.append(f"{cid}: lat/lon differ from WUP ({w['Latitude']}, {w['Longitude']})")
            row["latitude"], row["longitude"] = w["Latitude"], w["Longitude"]
        if row["gawc_name"] and row["gawc_name"] not in gawc:
            problems.append(f"{cid}: gawc_name {row['gawc_name']!r} not in GaWC file")
        if geonames:
            ids = {g["geonameid"] for g in geonames}
            if row["geonames_id"] and row["geonames_id"] not in ids:
                problems.append(f"{cid}: geonames_id {row['geonames_id']} not in GeoNames file")
            if not row["geonames_id"]:
                found = geonames_candidates(row, geonames)
                if len(found) == 1:
                    problems.append(f"{cid}: geonames_id could be {found[0]}")
                    row["geonames_id"] = found[0]

    for p in problems:
        print(p)
    pending = [row["id"] for row in cities if not row["wikidata_qid"].strip()]
    if pending:  # informational only: an empty QID is allowed (see assets/cities.md)
        print(f"note: wikidata_qid pending verification for {', '.join(pending)}")
    if args.write:
        with CITIES.open("w", encoding="utf-8", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=fieldnames, lineterminator="\n")
            writer.writeheader()
            writer.writerows(cities)
        STATS.parent.mkdir(parents=True, exist_ok=True)
        with STATS.open("w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f, lineterminator="\n")
            writer.writerow(["city_id", "year", "indicator", "value", "unit", "source_url"])
            for row in cities:
                value = wup_persons(wup[row["wup_city_code"]]["2020"])
                writer.writerow(
                    [row["id"], 2020, "population_agglomeration", value, "persons", WUP_URL]
                )
        print(f"wrote {CITIES} and {STATS}")
        return 0
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
