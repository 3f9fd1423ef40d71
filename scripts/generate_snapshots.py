"""Generate the embedded offline snapshot (assets/snapshots/) for every registry city, 2017-2025.

Run: ``python scripts/generate_snapshots.py`` (deterministic: same registry -> same bytes).

Why: the pipeline's default mode replays recorded API responses, and media and social data for
many city-years cannot be had offline. This script writes responses in the REAL formats of each
API, under the keys the real clients ask for (it calls their request builders), so the whole
pipeline runs offline through the same parsing code as live.

What is generated and what is real:
- GDELT DOC 2.0 (SYNTHETIC, ``synthetic: true``): per city and year (the client asks for one
  year per request) one ``timelinevolraw`` and one ``timelinetone`` call with daily points,
  and one ``timelinesourcecountry`` call with MONTHLY points, over a number of outlet countries
  that grows with the city's attention level and varies by year (so ``media_reach`` varies);
  a country with no article in the year is left out of that year's answer, as GDELT does
  (``date_resolution: "month"``, to keep the snapshot small; live answers are daily). Queries
  are the client's (``gdelt.build_query``: ``"Xi'an"`` is sent as ``Xian``). Values
  come from a generator seeded by sha256(city id): an "attention level" from real registry
  facts (log of the UN WUP 2020 population, GaWC 2020 connectivity) plus a per-city trend and
  noise, so rankings are plausible but generated. ``norm`` (all monitored articles) is one
  shared generated series.
- Wikimedia pageviews (SYNTHETIC): monthly ``user`` views per (city, edition), for every
  registry language: the registry's title where it has one, else the title the synthetic
  Wikidata sitelinks give (see below), which the Wikimedia ingest takes as the pipeline does
  live. English views are scaled to real anchors (assets/reference/magnitudes/README.md: five
  cities' real English monthly views, about October 2022). One (city, local edition) pair gets
  the real 404 body format, to exercise "missing, never zero" (the real article may well exist).
- Wikidata (SYNTHETIC sitelinks; real QIDs): one response per batch of 50 QIDs; sitelinks are
  the registry titles, a GENERATED title in every registry language the registry leaves empty
  (the registry's Chinese name on zhwiki, the English name elsewhere: not the real titles,
  which need a record run), ``commonswiki`` and a deterministic number of other ``xxwiki``
  editions outside the ten core languages.
- World Bank (REAL values, reconstructed envelope, ``synthetic: false``): NY.GDP.PCAP.CD from
  the bulk CSV (vintage 2024-06-28) and SP.POP.TOTL from datahub's population.csv, for each
  partition year's window (Y-5..Y), in the ``[meta, rows]`` page format; ``value: null`` where
  the file has no value. A country absent from a file is answered like the API answers a bad
  code (error 120 for the batch, then one request per country), which fails the ingest: the
  client treats a refused country as an error, so the registry must only hold known codes.

- Hacker News (SYNTHETIC counts, real Algolia response format): one ``/api/v1/search`` answer per
  (city, name variant, year) with ``hitsPerPage=0`` (``hits: []``) and a generated ``nbHits``
  from the same attention level (per-city trend, noise); above 1,000 the answer says the count
  is an estimate (``exhaustiveNbHits``/``exhaustive.nbHits`` false), as Algolia does.
- Stack Exchange (SYNTHETIC counts, real ``filter=total`` format ``{"total": N}``): one answer
  per (city, name variant, site in travel/expatriates, year); Travel declines over the years as
  the real site does, Expatriates is about a sixth of it; Travel's size is scaled to real
  per-city title-question counts of the 2017 Travel dump (assets/reference/magnitudes/).
- Bluesky / Mastodon followers: nothing is generated (no registry city lists a verified handle).

Files that hold recorded (live) responses are never overwritten; generated files that are no
longer produced (e.g. after a registry change) are removed. Re-run after editing the registry.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
import math
import random
import sys
from collections.abc import Iterable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

from pipelines.registry import WIKI_LANGUAGES, load_cities, social_terms  # noqa: E402
from pipelines.sources.gdelt import client as gdelt  # noqa: E402
from pipelines.sources.hackernews import client as hackernews  # noqa: E402
from pipelines.sources.http import (  # noqa: E402
    FIRST_YEAR,
    LAST_YEAR,
    SnapshotStore,
    chunks,
    request_key,
)
from pipelines.sources.stackexchange import client as stackexchange  # noqa: E402
from pipelines.sources.wikidata import client as wikidata  # noqa: E402
from pipelines.sources.wikimedia import client as wikimedia  # noqa: E402
from pipelines.sources.worldbank import client as worldbank  # noqa: E402

REFERENCE = PROJECT_ROOT / "assets" / "reference"
GDP_PC_FILE = REFERENCE / "API_NY.GDP.PCAP.CD_DS2_en_csv_v2_1887433.csv"
POPULATION_FILE = REFERENCE / "population_total.csv"
POPULATION_META = REFERENCE / "population_datapackage.json"
WUP_FILE = REFERENCE / "WUP2018_F22_cities_over_300k_2020_only.csv"
GAWC_FILE = REFERENCE / "gawc_da31_global_network_connectivity_2020.csv"
COUNTRIES_FILE = REFERENCE / "countries.json"
ENWIKI_ANCHORS = REFERENCE / "magnitudes" / "enwiki_monthly_views_about_2022_10.csv"
TRAVEL_ANCHORS = REFERENCE / "magnitudes" / "city_title_questions_by_year.csv"
#: An API search matches titles and bodies, the dump's anchor titles only (an assumption).
TITLE_TO_SEARCH = 1.5

GENERATED_AT = "2026-01-01T00:00:00Z"
MARK = "generated by scripts/generate_snapshots.py"
START, END = date(FIRST_YEAR, 1, 1), date(LAST_YEAR, 12, 31)
YEARS = range(FIRST_YEAR, LAST_YEAR + 1)

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
#: Real Wikipedia language codes outside the ten core editions, for synthetic extra sitelinks.
_OTHER_WIKI_CODES = (
    "it nl pl sv uk vi fa ca no fi hu id cs tr ro he sr bg da eo eu el hy ka kk lt lv et sl sk "
    "hr ms th ur hi bn ta te mr gu kn ml si ne my km lo mn uz az be tg ky tt ba cv ce sah os "
    "gl oc br cy ga gd is lb fy af sw yo ha ig so am zu xh sq mk bs la ast an io ia vo war ceb "
    "tl pam ilo bcl jv su min ace map_bms bjn ban mg ht qu ay gn nah wuu zh_yue zh_min_nan "
    "zh_classical gan hak cdo ps ku ckb sd pa or as bh new sa pi dv ug bo dz ti om rw ln kg "
    "ny sn st tn ts ve wo ff bm ee ak tw fj sm to haw mi ty ch mh nv chr iu kl se smn fo nn"
)
OTHER_WIKIS = tuple(_OTHER_WIKI_CODES.split())


def rng_for(*parts: str) -> random.Random:
    """Seed from sha256 (stable across runs and Python versions, unlike hash())."""
    digest = hashlib.sha256(":".join(parts).encode("utf-8")).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def compact(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def days() -> list[date]:
    return [START + timedelta(n) for n in range((END - START).days + 1)]


def stamp(day: date) -> str:
    return day.strftime("%Y%m%dT000000Z")


# --- Registry facts -------------------------------------------------------------------------
def load_attention(cities: list[dict[str, Any]]) -> dict[str, float]:
    """A 0..1 "attention level" per city from WUP 2020 population and GaWC 2020 connectivity."""
    with WUP_FILE.open(encoding="utf-8") as f:
        wup = {r["City Code"]: float(r["2020"].replace(" ", "")) for r in csv.DictReader(f)}
    with GAWC_FILE.open(encoding="utf-8") as f:
        gawc = {r["City"]: float(r["GNC_rel(%)"]) for r in csv.DictReader(f)}
    levels = {}
    for city in cities:
        population = wup.get(city["wup_city_code"], 500.0)  # thousands
        connectivity = gawc.get(city["gawc_name"], 10.0) / 100.0
        noise = rng_for(city["id"], "attention").gauss(0.0, 0.05)
        score = 0.25 * (math.log10(population) - 2.5) / 2.0 + 0.75 * connectivity + noise
        levels[city["id"]] = min(1.0, max(0.02, score))
    return levels


# --- GDELT ----------------------------------------------------------------------------------
def gdelt_norm(all_days: list[date]) -> list[int]:
    """One shared series of "all articles monitored per day" (generated)."""
    rng = rng_for("gdelt", "norm")
    out = []
    for n, day in enumerate(all_days):
        weekly = 0.78 if day.weekday() >= 5 else 1.0
        trend = 1.0 + 0.25 * math.sin(n / 900.0)
        out.append(int(105_000 * weekly * trend * rng.lognormvariate(0, 0.06)))
    return out


def gdelt_bodies(city: dict[str, Any], level: float, norm: list[int]) -> dict[tuple[str, int], str]:
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

    countries = json.loads(COUNTRIES_FILE.read_text(encoding="utf-8"))
    series = source_country_series(city, level, share, countries, rng)

    overseas = gdelt.overseas_query(city["gdelt_query"], city["country_fips"])
    query = gdelt.build_query(city["gdelt_query"])
    bodies = {}
    for year in YEARS:
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
    city: dict[str, Any], level: float, share: float, countries: dict, rng: random.Random
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
    for year in YEARS:
        reach = (10 + 120 * level**1.3) * (1 + growth) ** (year - FIRST_YEAR)
        k = min(len(by_strength), max(3, int(round(reach + rng.gauss(0, 2.5)))))
        covering[year] = {home, *by_strength[:k]}
    months = [date(y, m, 1) for y in YEARS for m in range(1, 13)]
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


# --- Wikimedia --------------------------------------------------------------------------------
def edition_titles(city: dict[str, Any]) -> dict[str, tuple[str, bool]]:
    """Article title per registry language and whether it is generated: the registry's title,
    else a synthetic one (the registry's Chinese name on zhwiki, the English name elsewhere)
    standing in for the real sitelink that a record run would fetch."""
    titles = {}
    for lang in WIKI_LANGUAGES:
        known = city[f"wiki_{lang}"]
        if known:
            titles[lang] = (known, False)
        else:
            titles[lang] = (city["name_zh"] if lang == "zh" else city["name_en"], True)
    return titles


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


def pageviews_body(city: dict[str, Any], level: float, lang: str, title: str, scale: float) -> str:
    rng = rng_for(city["id"], "wikimedia", lang)
    local = lang in city["local_langs"].split("|")
    base = scale * 10 ** (2.2 * level) * LANG_WEIGHT[lang] * (4.0 if local else 1.0)
    growth = rng.uniform(-0.05, 0.05)
    article = wikimedia.article_key(title)
    items = []
    for n, (year, month) in enumerate((y, m) for y in YEARS for m in range(1, 13)):
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


# --- Wikidata ---------------------------------------------------------------------------------
def entities_body(batch: Iterable[str], by_qid: dict[str, dict[str, Any]], levels) -> str:
    entities = {}
    for qid in batch:
        city = by_qid[qid]
        rng = rng_for(city["id"], "wikidata")
        links = {}
        for lang, (title, _generated) in edition_titles(city).items():
            links[f"{lang}wiki"] = {"site": f"{lang}wiki", "title": title, "badges": []}
        links["commonswiki"] = {
            "site": "commonswiki",
            "title": f"Category:{city['name_en']}",
            "badges": [],
        }
        extra = min(len(OTHER_WIKIS), int(40 + 160 * levels[city["id"]] + rng.randint(0, 20)))
        for code in sorted(rng.sample(OTHER_WIKIS, extra)):
            site = f"{code}wiki"
            links[site] = {"site": site, "title": city["name_en"], "badges": []}
        entities[qid] = {"type": "item", "id": qid, "sitelinks": dict(sorted(links.items()))}
    return compact({"entities": entities, "success": 1})


# --- World Bank -------------------------------------------------------------------------------
def read_gdp_per_capita() -> tuple[dict[str, dict[int, float]], dict[str, str], str]:
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


def read_population() -> tuple[dict[str, dict[int, float]], dict[str, str], str]:
    values: dict[str, dict[int, float]] = {}
    names: dict[str, str] = {}
    with POPULATION_FILE.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            names[row["Country Code"]] = row["Country Name"]
            values.setdefault(row["Country Code"], {})[int(row["Year"])] = float(row["Value"])
    vintage = json.loads(POPULATION_META.read_text(encoding="utf-8"))["last_updated"]
    return values, names, vintage


def worldbank_body(
    codes: list[str], indicator: tuple[str, str], start: int, end: int, data, iso2: dict[str, str]
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


# --- Hacker News and Stack Exchange -----------------------------------------------------------
def _poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw (Knuth for small means, a rounded normal for large ones)."""
    if mean > 50:
        return max(0, int(round(rng.gauss(mean, math.sqrt(mean)))))
    limit, k, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k


def hackernews_body(city_id: str, level: float, variant_no: int, query: str, year: int) -> str:
    rng = rng_for(city_id, "hackernews", str(variant_no), str(year))
    growth = rng_for(city_id, "hackernews", "growth").uniform(-0.04, 0.06)
    share = 1.0 if variant_no == 0 else 0.12  # later variants are rarer spellings
    mean = 10 ** (1.0 + 3.3 * level) * share * (1 + growth) ** (year - FIRST_YEAR)
    hits = _poisson(rng, mean * rng.lognormvariate(0, 0.12))
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


def travel_scale(cities: list[dict[str, Any]], levels: dict[str, float]) -> float:
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
    city_id: str, level: float, variant_no: int, site: str, year: int, local_en: bool, scale: float
) -> str:
    rng = rng_for(city_id, "stackexchange", site, str(variant_no), str(year))
    share = (1.0 if variant_no == 0 else 0.12) * (1.0 if site == "travel" else 1 / 6)
    decline = 0.86 ** (year - FIRST_YEAR)  # Travel SE has been shrinking since 2017
    mean = scale * 10 ** (2.7 * level) * share * decline * (1.3 if local_en else 1.0)
    return compact({"total": _poisson(rng, mean * rng.lognormvariate(0, 0.15))})


# --- Writing ----------------------------------------------------------------------------------
class Writer:
    """Writes entries, never over a recorded (live) file; remembers what it wrote."""

    def __init__(self, store: SnapshotStore) -> None:
        self.store = store
        self.written: set[Path] = set()
        self.kept: list[Path] = []
        self.counts: dict[str, int] = {}

    def put(self, source: str, path: str, params: dict[str, str], **response: Any) -> None:
        existing = self.store.read(source, "GET", path, params)
        target = self.store.file_for(source, request_key("GET", path, params))
        if existing is not None and MARK not in existing.get("note", ""):
            self.kept.append(target)
            self.written.add(target)
            return
        self.store.write(source, "GET", path, params, retrieved_at=GENERATED_AT, **response)
        self.written.add(target)
        self.counts[source] = self.counts.get(source, 0) + 1

    def prune(self, sources: Iterable[str]) -> list[Path]:
        removed = []
        for source in sources:
            for file in sorted((self.store.root / source).glob("*.json.gz")):
                if file in self.written:
                    continue
                entry = json.loads(gzip.decompress(file.read_bytes()))
                if MARK in entry.get("note", ""):
                    file.unlink()
                    removed.append(file)
        return removed


def main() -> int:
    cities = load_cities().to_dicts()
    for city in cities:
        for key, value in city.items():
            city[key] = "" if value is None else value
    levels = load_attention(cities)
    views_scale = english_views_scale(cities, levels)
    se_scale = travel_scale(cities, levels)
    print(f"anchored scales: English views {views_scale:.0f}/month, Travel {se_scale:.3f}/year")
    countries = json.loads(COUNTRIES_FILE.read_text(encoding="utf-8"))
    iso2_by_iso3 = {c["iso3"]: c["iso"] for c in countries.values()}
    store = SnapshotStore()
    writer = Writer(store)

    # GDELT
    norm = gdelt_norm(days())
    note = (
        f"SYNTHETIC: {MARK}; values are generated from a seeded model (registry facts + noise), "
        "real response format. timelinesourcecountry uses monthly points (date_resolution month) "
        "to keep the snapshot small; series labels are assumed to be bare country names."
    )
    for city in cities:
        bodies = gdelt_bodies(city, levels[city["id"]], norm)
        overseas = gdelt.overseas_query(city["gdelt_query"], city["country_fips"])
        for (mode, year), body in bodies.items():
            query = gdelt.build_query(city["gdelt_query"])
            query = query if mode == "timelinesourcecountry" else overseas
            path, params = gdelt.timeline_request(query, mode, *gdelt.year_window(year))
            writer.put(
                "gdelt",
                path,
                params,
                status=200,
                content_type="application/json",
                body=body,
                synthetic=True,
                note=note,
            )

    # Wikimedia
    pairs = [
        (levels[c["id"]], c["id"], lang)
        for c in cities
        for lang in WIKI_LANGUAGES
        if lang != "en" and lang in c["local_langs"].split("|")
    ]  # a local edition: the 404 then does not distort the overseas (foreign) indicators
    missing_pair = min(pairs)[1:] if pairs else None
    note = f"SYNTHETIC: {MARK}; generated monthly user views, real response format."
    note_title = (
        f"SYNTHETIC: {MARK}; generated monthly user views, real response format; the article "
        "title is generated too (the registry has none for this edition; the real title comes "
        "from a record run's Wikidata sitelinks)."
    )
    note_404 = (
        f"SYNTHETIC: {MARK}; the real 404 body format, placed on this article to exercise "
        "'missing, never zero' (it does not claim the article is absent)."
    )
    for city in cities:
        for lang, (title, generated) in edition_titles(city).items():
            path, params = wikimedia.pageviews_request(lang, title, START, END)
            if (city["id"], lang) == missing_pair:
                writer.put(
                    "wikimedia",
                    path,
                    params,
                    status=404,
                    content_type="application/problem+json",
                    body=not_found_body(path),
                    synthetic=True,
                    note=note_404,
                )
                continue
            body = pageviews_body(city, levels[city["id"]], lang, title, views_scale)
            writer.put(
                "wikimedia",
                path,
                params,
                status=200,
                content_type="application/json; charset=utf-8",
                body=body,
                synthetic=True,
                note=note_title if generated else note,
            )

    # Wikidata
    by_qid = {c["wikidata_qid"]: c for c in cities if c["wikidata_qid"]}
    note = (
        f"SYNTHETIC: {MARK}; real QIDs and registry titles; GENERATED titles for the registry "
        "languages the registry leaves empty (Chinese name on zhwiki, English name elsewhere; "
        "not the real titles) and generated extra sitelinks (count is synthetic)."
    )
    for batch in chunks(sorted(by_qid), wikidata.BATCH_SIZE):
        path, params = wikidata.entities_request(batch)
        writer.put(
            "wikidata",
            path,
            params,
            status=200,
            content_type="application/json; charset=utf-8",
            body=entities_body(batch, by_qid, levels),
            synthetic=True,
            note=note,
        )

    # Hacker News and Stack Exchange
    note_hn = f"SYNTHETIC: {MARK}; generated nbHits (registry facts + noise), real Algolia format."
    note_se = f"SYNTHETIC: {MARK}; generated total, real filter=total format."
    for city in cities:
        variants, excluded = social_terms(city)
        level = levels[city["id"]]
        local_en = "en" in city["local_langs"].split("|")
        for year in YEARS:
            for n, variant in enumerate(variants):
                query = hackernews.build_query(variant, excluded)
                path, params = hackernews.search_request(query, year)
                writer.put(
                    "hackernews",
                    path,
                    params,
                    status=200,
                    content_type="application/json; charset=utf-8",
                    body=hackernews_body(city["id"], level, n, query, year),
                    synthetic=True,
                    note=note_hn,
                )
                query = stackexchange.build_query(variant, excluded)
                for site in stackexchange.SITES:
                    path, params = stackexchange.search_request(query, site, year)
                    writer.put(
                        "stackexchange",
                        path,
                        params,
                        status=200,
                        content_type="application/json; charset=utf-8",
                        body=stackexchange_body(
                            city["id"], level, n, site, year, local_en, se_scale
                        ),
                        synthetic=True,
                        note=note_se,
                    )

    # World Bank
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
    codes = sorted({c["country_iso3"] for c in cities})
    for year in YEARS:
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
                writer.put(
                    "worldbank",
                    path,
                    params,
                    status=200,
                    content_type="application/json;charset=utf-8",
                    body=body,
                    synthetic=False,
                    note=note,
                )

    removed = writer.prune(
        ["gdelt", "wikimedia", "wikidata", "worldbank", "hackernews", "stackexchange"]
    )
    total = sum(f.stat().st_size for f in store.root.rglob("*.json.gz"))
    for source, count in sorted(writer.counts.items()):
        size = sum(f.stat().st_size for f in (store.root / source).glob("*.json.gz"))
        print(f"{source:10s} {count:5d} responses written  {size / 1e6:6.2f} MB")
    if missing_pair:
        print(f"wikimedia  404 recorded for {missing_pair[0]} ({missing_pair[1]})")
    if writer.kept:
        print(f"kept {len(writer.kept)} recorded (live) files untouched")
    if removed:
        print(f"removed {len(removed)} stale generated files")
    print(f"total snapshot size {total / 1e6:.2f} MB in {store.root}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
