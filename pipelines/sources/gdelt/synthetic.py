"""GDELT DOC 2.0 answers of the embedded offline snapshot (SYNTHETIC, ``synthetic: true``).

Per city and year (the client asks for one year per request) one ``timelinevolraw`` and one
``timelinetone`` call with daily points, and one ``timelinesourcecountry`` call with MONTHLY
points, over a number of outlet countries that grows with the city's attention level and varies
by year (so ``media_reach`` varies); a country with no article in the year is left out of that
year's answer, as GDELT does (``date_resolution: "month"``, to keep the snapshot small; live
answers are daily). Queries are the client's (``gdelt.build_query``: ``"Xi'an"`` is sent as
``Xian``). Values come from a generator seeded by sha256(city id): an "attention level" from
real registry facts (log of the UN WUP 2020 population, GaWC 2020 connectivity) plus a per-city
trend and noise, so rankings are plausible but generated. ``norm`` (all monitored articles) is
one shared generated series. Written by ``python scripts/generate_snapshots.py``.
"""

from __future__ import annotations

import math
import random
from datetime import date, timedelta
from typing import Any

from pipelines.sources.gdelt import client as gdelt
from pipelines.sources.synthetic import (
    END,
    MARK,
    START,
    SyntheticContext,
    compact,
    load_countries,
    rng_for,
)

#: Outlet countries in the synthetic source-country timelines (ISO2), with a base weight.
MEDIA_COUNTRIES = {
    "US": 1.0,
    "GB": 0.6,
    "IN": 0.45,
    "AU": 0.3,
    "CA": 0.3,
    "DE": 0.25,
    "FR": 0.25,
    "IT": 0.2,
    "ES": 0.2,
    "JP": 0.15,
    "KR": 0.12,
    "CN": 0.2,
    "HK": 0.12,
    "SG": 0.12,
    "RU": 0.15,
    "BR": 0.12,
    "MX": 0.1,
    "AR": 0.08,
    "ZA": 0.1,
    "NG": 0.1,
    "EG": 0.06,
    "AE": 0.1,
    "SA": 0.06,
    "TR": 0.08,
    "ID": 0.08,
    "MY": 0.08,
    "TH": 0.06,
    "VN": 0.05,
    "PH": 0.1,
    "PK": 0.08,
    "NL": 0.08,
    "SE": 0.05,
    "CH": 0.06,
    "AT": 0.05,
    "IE": 0.08,
}

NOTE = (
    f"SYNTHETIC: {MARK}; values are generated from a seeded model (registry facts + noise), "
    "real response format. timelinesourcecountry uses monthly points (date_resolution month) "
    "to keep the snapshot small; series labels are assumed to be bare country names."
)


def days() -> list[date]:
    return [START + timedelta(n) for n in range((END - START).days + 1)]


def stamp(day: date) -> str:
    return day.strftime("%Y%m%dT000000Z")


def gdelt_norm(all_days: list[date]) -> list[int]:
    """One shared series of "all articles monitored per day" (generated)."""
    rng = rng_for("gdelt", "norm")
    out = []
    for n, day in enumerate(all_days):
        weekly = 0.78 if day.weekday() >= 5 else 1.0
        trend = 1.0 + 0.25 * math.sin(n / 900.0)
        out.append(int(105_000 * weekly * trend * rng.lognormvariate(0, 0.06)))
    return out


def gdelt_bodies(
    city: dict[str, Any], level: float, norm: list[int], years: range
) -> dict[tuple[str, int], str]:
    """Bodies of the three timeline calls of one city, keyed by (mode, year): the series are
    generated over all years at once (same numbers whatever the request shape), then cut."""
    city_id = city["id"]
    all_days = days()
    rng = rng_for(city_id, "gdelt")
    share = 10 ** (-4.3 + 2.3 * level)  # fraction of all monitored articles
    growth = rng.uniform(-0.06, 0.08)  # per year
    tone_mean = rng.uniform(-2.2, 0.8)
    volume_points, tone_points = [], []
    for n, day in enumerate(all_days):
        trend = (1 + growth) ** (n / 365.25)
        expected = norm[n] * share * trend * rng.lognormvariate(0, 0.35)
        count = max(0, int(round(expected)))
        volume_points.append({"date": stamp(day), "value": count, "norm": norm[n]})
        tone = tone_mean + rng.gauss(0, 0.9 / math.sqrt(1 + count / 20))
        tone_points.append({"date": stamp(day), "value": round(tone, 4)})

    series = source_country_series(city, level, share, load_countries(), rng, years)

    overseas = gdelt.overseas_query(city["gdelt_query"], city["country_fips"])
    query = gdelt.build_query(city["gdelt_query"])
    bodies = {}
    for year in years:
        prefix = str(year)

        def in_year(points: list[dict[str, Any]], prefix: str = prefix) -> list[dict[str, Any]]:
            return [p for p in points if p["date"].startswith(prefix)]

        year_series = [
            {"series": s["series"], "data": in_year(s["data"])}
            for s in series
            if any(p["value"] for p in in_year(s["data"]))
        ]
        bodies[("timelinevolraw", year)] = compact(
            {
                "query_details": {"title": overseas, "date_resolution": "day"},
                "timeline": [{"series": "Article Count", "data": in_year(volume_points)}],
            }
        )
        bodies[("timelinetone", year)] = compact(
            {
                "query_details": {"title": overseas, "date_resolution": "day"},
                "timeline": [{"series": "Average Tone", "data": in_year(tone_points)}],
            }
        )
        bodies[("timelinesourcecountry", year)] = compact(
            {
                "query_details": {"title": query, "date_resolution": "month"},
                "timeline": year_series,
            }
        )
    return bodies


def source_country_series(
    city: dict[str, Any],
    level: float,
    share: float,
    countries: dict,
    rng: random.Random,
    years: range,
) -> list[dict[str, Any]]:
    """Monthly source-country series: the home country and the foreign countries whose outlets
    cover the city. How many foreign countries cover it in a year grows with its attention
    level (about 10 to 130 of the ~190 with a GDELT name), with a per-city trend and yearly
    noise; the countries are those with the strongest (weight x random affinity) link, so
    ``media_reach`` varies between cities and years. A country outside a year's set reports 0
    in that year's months, as GDELT does for an outlet country with no matching article."""
    home = city["country_iso2"]
    pool = {
        iso2: MEDIA_COUNTRIES.get(iso2, 0.03)
        for iso2, item in countries.items()
        if item.get("fips") and (item.get("population", 0) >= 1_000_000 or iso2 == home)
    }
    affinity = {iso2: weight * rng.lognormvariate(0, 0.8) for iso2, weight in sorted(pool.items())}
    by_strength = sorted((c for c in affinity if c != home), key=lambda c: -affinity[c])
    growth = rng.uniform(-0.03, 0.06)
    covering: dict[int, set[str]] = {}
    for year in years:
        reach = (10 + 120 * level**1.3) * (1 + growth) ** (year - years[0])
        k = min(len(by_strength), max(3, int(round(reach + rng.gauss(0, 2.5)))))
        covering[year] = {home, *by_strength[:k]}
    months = [date(y, m, 1) for y in years for m in range(1, 13)]
    series = []
    for iso2 in sorted(set().union(*covering.values())):
        base = 100 * share * 4 * affinity[iso2] * (6.0 if iso2 == home else 1.0)
        data = [
            {
                "date": stamp(m),
                "value": round(base * rng.lognormvariate(0, 0.25), 4)
                if iso2 in covering[m.year]
                else 0,
            }
            for m in months
        ]
        series.append({"series": countries[iso2]["name"], "data": data})
    return series


def synthesize(context: SyntheticContext) -> list[str]:
    """Three timelines per city and year, the keys the client's fetch asks for."""
    norm = gdelt_norm(days())
    for city in context.cities:
        bodies = gdelt_bodies(city, context.levels[city["id"]], norm, context.years)
        overseas = gdelt.overseas_query(city["gdelt_query"], city["country_fips"])
        for (mode, year), body in bodies.items():
            query = gdelt.build_query(city["gdelt_query"])
            query = query if mode == "timelinesourcecountry" else overseas
            path, params = gdelt.timeline_request(query, mode, *gdelt.year_window(year))
            context.put(
                path,
                params,
                status=200,
                content_type="application/json",
                body=body,
                synthetic=True,
                note=NOTE,
            )
    return []
