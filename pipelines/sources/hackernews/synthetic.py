"""Hacker News answers of the embedded offline snapshot (SYNTHETIC counts, real Algolia response
format).

One ``/api/v1/search`` answer per (city, name variant, year) with ``hitsPerPage=0``
(``hits: []``) and a generated ``nbHits`` from the attention level (per-city trend, noise);
above 1,000 the answer says the count is an estimate (``exhaustiveNbHits``/``exhaustive.nbHits``
false), as Algolia does. Written by ``python scripts/generate_snapshots.py``.
"""

from __future__ import annotations

from pipelines.registry import social_terms
from pipelines.sources.hackernews import client as hackernews
from pipelines.sources.synthetic import MARK, SyntheticContext, compact, poisson, rng_for

NOTE = f"SYNTHETIC: {MARK}; generated nbHits (registry facts + noise), real Algolia format."


def hackernews_body(
    city_id: str, level: float, variant_no: int, query: str, year: int, first_year: int
) -> str:
    rng = rng_for(city_id, "hackernews", str(variant_no), str(year))
    growth = rng_for(city_id, "hackernews", "growth").uniform(-0.04, 0.06)
    share = 1.0 if variant_no == 0 else 0.12  # later variants are rarer spellings
    mean = 10 ** (1.0 + 3.3 * level) * share * (1 + growth) ** (year - first_year)
    hits = poisson(rng, mean * rng.lognormvariate(0, 0.12))
    path, params = hackernews.search_request(query, year)
    echo = "&".join(f"{k}={v}" for k, v in sorted(params.items()))
    exact = hits <= hackernews.EXACT_COUNT_LIMIT  # beyond it Algolia estimates, as it does live
    return compact(
        {
            "hits": [],
            "nbHits": hits,
            "page": 0,
            "nbPages": 0,
            "hitsPerPage": 0,
            "exhaustiveNbHits": exact,
            "exhaustiveTypo": True,
            "exhaustive": {"nbHits": exact, "typo": True},
            "query": query,
            "params": echo,
            "processingTimeMS": 1,
        }
    )


def synthesize(context: SyntheticContext) -> list[str]:
    """One count per (city, year, name variant), the query the client builds."""
    first_year = context.years[0]
    for city in context.cities:
        variants, excluded = social_terms(city)
        level = context.levels[city["id"]]
        for year in context.years:
            for n, variant in enumerate(variants):
                query = hackernews.build_query(variant, excluded)
                path, params = hackernews.search_request(query, year)
                context.put(
                    path,
                    params,
                    status=200,
                    content_type="application/json; charset=utf-8",
                    body=hackernews_body(city["id"], level, n, query, year, first_year),
                    synthetic=True,
                    note=NOTE,
                )
    return []
