"""Wikimedia pageviews answers of the embedded offline snapshot (SYNTHETIC).

Monthly ``user`` views per (city, edition), for every registry language: the registry's title
where it has one, else the title the synthetic Wikidata sitelinks give (both from
``pipelines.sources.synthetic.edition_titles``), which the Wikimedia ingest takes as the
pipeline does live. English views are scaled to real anchors
(assets/reference/magnitudes/README.md: five cities' real English monthly views, about October
2022). One (city, local edition) pair gets the real 404 body format, to exercise "missing,
never zero" (the real article may well exist). Written by ``python scripts/generate_snapshots.py``.
"""

from __future__ import annotations

import csv
import math
from typing import Any

from pipelines.registry import WIKI_LANGUAGES
from pipelines.sources.synthetic import (
    END,
    MARK,
    REFERENCE,
    START,
    SyntheticContext,
    compact,
    edition_titles,
    rng_for,
)
from pipelines.sources.wikimedia import client as wikimedia

ENWIKI_ANCHORS = REFERENCE / "magnitudes" / "enwiki_monthly_views_about_2022_10.csv"

#: Relative readership of the editions (synthetic weights).
LANG_WEIGHT = {
    "en": 1.0,
    "zh": 0.25,
    "fr": 0.2,
    "de": 0.25,
    "es": 0.25,
    "ja": 0.3,
    "ru": 0.2,
    "ar": 0.08,
    "pt": 0.1,
    "ko": 0.08,
}

NOTE = f"SYNTHETIC: {MARK}; generated monthly user views, real response format."
NOTE_TITLE = (
    f"SYNTHETIC: {MARK}; generated monthly user views, real response format; the article "
    "title is generated too (the registry has none for this edition; the real title comes "
    "from a record run's Wikidata sitelinks)."
)
NOTE_404 = (
    f"SYNTHETIC: {MARK}; the real 404 body format, placed on this article to exercise "
    "'missing, never zero' (it does not claim the article is absent)."
)


def month_season(month: int) -> float:
    return 1 + 0.12 * math.sin((month - 3) / 12 * 2 * math.pi)


def english_views_scale(cities: list[dict[str, Any]], levels: dict[str, float]) -> float:
    """Views per month at attention level 0, chosen so that the five anchor cities' expected
    October 2022 English views match their real ones on average (geometric mean)."""
    with ENWIKI_ANCHORS.open(encoding="utf-8") as f:
        anchors = {r["city_id"]: float(r["views_in_month"]) for r in csv.DictReader(f)}
    by_id = {c["id"]: c for c in cities}
    logs = []
    for city_id, views in sorted(anchors.items()):
        local = "en" in by_id[city_id]["local_langs"].split("|")
        expected = 10 ** (2.2 * levels[city_id]) * (4.0 if local else 1.0) * month_season(10)
        logs.append(math.log10(views / expected))
    return 10 ** (sum(logs) / len(logs))


def pageviews_body(
    city: dict[str, Any], level: float, lang: str, title: str, scale: float, years: range
) -> str:
    rng = rng_for(city["id"], "wikimedia", lang)
    local = lang in city["local_langs"].split("|")
    base = scale * 10 ** (2.2 * level) * LANG_WEIGHT[lang] * (4.0 if local else 1.0)
    growth = rng.uniform(-0.05, 0.05)
    article = wikimedia.article_key(title)
    items = []
    for n, (year, month) in enumerate((y, m) for y in years for m in range(1, 13)):
        season = month_season(month)
        covid = 0.8 if (year, month) >= (2020, 3) and year == 2020 else 1.0
        views = base * season * covid * (1 + growth) ** (n / 12) * rng.lognormvariate(0, 0.15)
        items.append(
            {
                "project": f"{lang}.wikipedia",
                "article": article,
                "granularity": "monthly",
                "timestamp": f"{year}{month:02d}0100",
                "access": "all-access",
                "agent": "user",
                "views": int(views),
            }
        )
    return compact({"items": items})


def not_found_body(path: str) -> str:
    """The real 404 body (wikimedia_pageviews_fixtures/sample-404.json) for ``path``."""
    return compact(
        {
            "detail": (
                "The date(s) you used are valid, but we either do not have data for those "
                "date(s), or the project you asked for is not loaded yet. Please check "
                "documentation for more information"
            ),
            "method": "get",
            "status": 404,
            "title": "Not Found",
            "type": "about:blank",
            "uri": path,
        }
    )


def synthesize(context: SyntheticContext) -> list[str]:
    """One pageviews answer per (city, registry language), one of them the real 404."""
    cities, levels = context.cities, context.levels
    scale = english_views_scale(cities, levels)
    pairs = [
        (levels[c["id"]], c["id"], lang)
        for c in cities
        for lang in WIKI_LANGUAGES
        if lang != "en" and lang in c["local_langs"].split("|")
    ]  # a local edition: the 404 then does not distort the overseas (foreign) indicators
    missing_pair = min(pairs)[1:] if pairs else None
    for city in cities:
        for lang, (title, generated) in edition_titles(city).items():
            path, params = wikimedia.pageviews_request(lang, title, START, END)
            if (city["id"], lang) == missing_pair:
                context.put(
                    path,
                    params,
                    status=404,
                    content_type="application/problem+json",
                    body=not_found_body(path),
                    synthetic=True,
                    note=NOTE_404,
                )
                continue
            body = pageviews_body(city, levels[city["id"]], lang, title, scale, context.years)
            context.put(
                path,
                params,
                status=200,
                content_type="application/json; charset=utf-8",
                body=body,
                synthetic=True,
                note=NOTE_TITLE if generated else NOTE,
            )
    lines = [f"wikimedia  anchored scale: English views {scale:.0f}/month at attention 0"]
    if missing_pair:
        lines.append(f"wikimedia  404 recorded for {missing_pair[0]} ({missing_pair[1]})")
    return lines
