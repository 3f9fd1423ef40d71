"""Stack Exchange answers of the embedded offline snapshot (SYNTHETIC counts, real
``filter=total`` format ``{"total": N}``).

One answer per (city, name variant, site in travel/expatriates, year); Travel declines over the
years as the real site does, Expatriates is about a sixth of it; Travel's size is scaled to real
per-city title-question counts of the 2017 Travel dump (assets/reference/magnitudes/).
Written by ``python scripts/generate_snapshots.py``.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from typing import Any

from pipelines.registry import social_terms
from pipelines.sources.stackexchange import client as stackexchange
from pipelines.sources.synthetic import (
    MARK,
    REFERENCE,
    SyntheticContext,
    compact,
    poisson,
    rng_for,
)

TRAVEL_ANCHORS = REFERENCE / "magnitudes" / "city_title_questions_by_year.csv"
#: An API search matches titles and bodies, the dump's anchor titles only (an assumption).
TITLE_TO_SEARCH = 1.5

NOTE = f"SYNTHETIC: {MARK}; generated total, real filter=total format."


def travel_scale(cities: list[dict[str, Any]], levels: Mapping[str, float]) -> float:
    """Travel questions a year at attention level 0, chosen so that the anchor cities' expected
    2017 totals match TITLE_TO_SEARCH x their real 2016 title-question counts."""
    real = 0.0
    anchored = set()
    with TRAVEL_ANCHORS.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["site"] == "travel" and row["period_year"] == "2016":
                real += float(row["questions"])
                anchored.add(row["city_id"])
    expected = sum(
        10 ** (2.7 * levels[c["id"]]) * (1.3 if "en" in c["local_langs"].split("|") else 1.0)
        for c in cities
        if c["id"] in anchored
    )
    return TITLE_TO_SEARCH * real / expected


def stackexchange_body(
    city_id: str,
    level: float,
    variant_no: int,
    site: str,
    year: int,
    local_en: bool,
    scale: float,
    first_year: int,
) -> str:
    rng = rng_for(city_id, "stackexchange", site, str(variant_no), str(year))
    share = (1.0 if variant_no == 0 else 0.12) * (1.0 if site == "travel" else 1 / 6)
    decline = 0.86 ** (year - first_year)  # Travel SE has been shrinking since 2017
    mean = scale * 10 ** (2.7 * level) * share * decline * (1.3 if local_en else 1.0)
    return compact({"total": poisson(rng, mean * rng.lognormvariate(0, 0.15))})


def synthesize(context: SyntheticContext) -> list[str]:
    """One total per (city, year, name variant, site), the query the client builds."""
    scale = travel_scale(context.cities, context.levels)
    first_year = context.years[0]
    for city in context.cities:
        variants, excluded = social_terms(city)
        level = context.levels[city["id"]]
        local_en = "en" in city["local_langs"].split("|")
        for year in context.years:
            for n, variant in enumerate(variants):
                query = stackexchange.build_query(variant, excluded)
                for site in stackexchange.SITES:
                    path, params = stackexchange.search_request(query, site, year)
                    context.put(
                        path,
                        params,
                        status=200,
                        content_type="application/json; charset=utf-8",
                        body=stackexchange_body(
                            city["id"], level, n, site, year, local_en, scale, first_year
                        ),
                        synthetic=True,
                        note=NOTE,
                    )
    return [f"stackexchange anchored scale: Travel {scale:.3f} questions/year at attention 0"]
