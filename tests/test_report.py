"""The edition report must open offline, show all four charts and say when data is synthetic.

The fixture is a small deterministic edition (25 cities x 3 years) with the awkward cases the
real data has: an apostrophe and Chinese in names (Xi'an 西安), a newly ranked city, an unranked
city and a synthetic source.
"""

from __future__ import annotations

import random
import re
from dataclasses import replace
from pathlib import Path

import polars as pl
import pytest

from pipelines.framework_tree import FrameworkTree
from pipelines.release import charts, facts
from pipelines.release.messages import MESSAGES
from pipelines.release.report import (
    EditionData,
    Page,
    change_cell,
    render_report,
    significance_text,
    write_report,
)
from tests.browser import CHROMIUM, CHROMIUM_ARGS

REPO_ROOT = Path(__file__).resolve().parents[1]
CHARTS = ("top-ranks", "pillars", "movers", "history")
YEARS = (2022, 2023, 2024)

CITIES: list[tuple[str, str, str, str]] = [
    ("london", "London", "伦敦", "GBR"),
    ("new-york", "New York", "纽约", "USA"),
    ("paris", "Paris", "巴黎", "FRA"),
    ("tokyo", "Tokyo", "东京", "JPN"),
    ("beijing", "Beijing", "北京", "CHN"),
    ("shanghai", "Shanghai", "上海", "CHN"),
    ("singapore", "Singapore", "新加坡", "SGP"),
    ("hong-kong", "Hong Kong", "香港", "CHN"),
    ("dubai", "Dubai", "迪拜", "ARE"),
    ("seoul", "Seoul", "首尔", "KOR"),
    ("berlin", "Berlin", "柏林", "DEU"),
    ("moscow", "Moscow", "莫斯科", "RUS"),
    ("sydney", "Sydney", "悉尼", "AUS"),
    ("los-angeles", "Los Angeles", "洛杉矶", "USA"),
    ("madrid", "Madrid", "马德里", "ESP"),
    ("istanbul", "Istanbul", "伊斯坦布尔", "TUR"),
    ("sao-paulo", "São Paulo", "圣保罗", "BRA"),
    ("mumbai", "Mumbai", "孟买", "IND"),
    ("shenzhen", "Shenzhen", "深圳", "CHN"),
    ("guangzhou", "Guangzhou", "广州", "CHN"),
    ("xian", "Xi'an", "西安", "CHN"),
    ("chengdu", "Chengdu", "成都", "CHN"),
    ("cairo", "Cairo", "开罗", "EGY"),
    ("hangzhou", "Hangzhou", "杭州", "CHN"),  # new: no previous rank
    ("lhasa", "Lhasa", "拉萨", "CHN"),  # unranked: insufficient data
]
NEW_CITY = "hangzhou"
UNRANKED_CITY = "lhasa"


def _rank(scores: dict[str, float]) -> dict[str, int]:
    """Descending ranks, ties sharing the lowest number, as the engine does."""
    ordered = sorted(scores.values(), reverse=True)
    return {c: ordered.index(s) + 1 for c, s in scores.items()}


# Overseas media attention as the Chinese reports tell it: Beijing second in the world in the
# edition year, first among Chinese cities, having passed Paris since the year before.
MEDIA = {
    2023: {"new-york": 99.0, "paris": 97.0, "beijing": 96.0, "london": 93.0},
    2024: {"new-york": 99.0, "beijing": 97.0, "paris": 95.0, "london": 93.0},
}
INDICATORS = {  # code -> pillar, raw value per score point
    "gdelt_vol": ("media", 1000.0),
    "gdelt_tone": ("media", 0.05),
    "wiki_views": ("social", 20000.0),
    "wiki_links": ("social", 2.0),
    "gdp_pc": ("economy", 700.0),
    "remoteness": ("economy", 90.0),
}
REGIONS = {"CHN": "China (mainland)", "USA": "North America", "GBR": "Europe", "FRA": "Europe"}


def _year_scores(year: int) -> dict[str, dict[str, float]]:
    rng = random.Random(year)
    out: dict[str, dict[str, float]] = {}
    for i, (city_id, *_rest) in enumerate(CITIES):
        if city_id == UNRANKED_CITY or (city_id == NEW_CITY and year < YEARS[-1]):
            continue
        base = 90 - i * 3.2
        pillars = {
            p: max(0.0, min(100.0, base + rng.uniform(-9, 9)))
            for p in ("media", "social", "economy")
        }
        pillars["media"] = MEDIA.get(year, {}).get(city_id, pillars["media"])
        pillars["score"] = sum(pillars.values()) / 3
        out[city_id] = pillars
    return out


def _history() -> pl.DataFrame:
    names = {c[0]: c for c in CITIES}
    rows = []
    for year in YEARS:
        scores = _year_scores(year)
        ranks = _rank({c: v["score"] for c, v in scores.items()})
        for city_id, values in scores.items():
            _id, en, zh, _iso = names[city_id]
            rows.append(
                {
                    "year": year,
                    "city_id": city_id,
                    "name_en": en,
                    "name_zh": zh,
                    "score": values["score"],
                    "rank": ranks[city_id],
                }
            )
    return pl.DataFrame(rows)


def _ranking(history: pl.DataFrame) -> pl.DataFrame:
    year = YEARS[-1]
    scores = _year_scores(year)
    prev_scores = _year_scores(year - 1)
    ranks = _rank({c: v["score"] for c, v in scores.items()})
    prev_ranks = _rank({c: v["score"] for c, v in prev_scores.items()})
    rng = random.Random(99)
    rows = []
    for city_id, en, zh, iso in CITIES:
        row = {"year": year, "city_id": city_id, "name_en": en, "name_zh": zh, "country_iso3": iso}
        if city_id not in scores:
            rows.append(
                row
                | {
                    "ranked": False,
                    "data_availability": 0.41,
                    "score": None,
                    "rank": None,
                    "score_change": None,
                    "rank_change": None,
                    "media": 35.0,
                    "social": None,
                    "economy": None,
                    "median_rank": None,
                    "rank_p05": None,
                    "rank_p95": None,
                    "change_significant": None,
                }
            )
            continue
        rank = ranks[city_id]
        low = max(1, rank - rng.randint(0, 3))
        high = min(len(scores), rank + rng.randint(0, 3))
        prev = prev_ranks.get(city_id)
        change = None if prev is None else prev - rank
        significant = None if prev is None else not (low <= prev <= high)
        score = scores[city_id]["score"]
        rows.append(
            row
            | {
                "ranked": True,
                "data_availability": 0.9 + (rank % 3) / 30,
                "score": score,
                "rank": rank,
                "score_change": None if prev is None else score - prev_scores[city_id]["score"],
                "rank_change": change,
                "media": scores[city_id]["media"],
                "social": scores[city_id]["social"],
                "economy": scores[city_id]["economy"],
                "median_rank": float(rank),
                "rank_p05": float(low),
                "rank_p95": float(high),
                "change_significant": significant,
            }
        )
    return pl.DataFrame(
        rows,
        schema_overrides={
            "change_significant": pl.Boolean,
            "rank": pl.Int64,
            "rank_change": pl.Int64,
        },
    )


def _framework() -> pl.DataFrame:
    rows = [
        (3, "index", "City Influence Index", 1, 1.0, None, "Aggregate", "", "", ""),
        (2, "media", "Media attention", 1, 1.0, "index", "Aggregate", "", "", ""),
        (2, "social", "Social attention", 1, 1.0, "index", "Aggregate", "", "", ""),
        (2, "economy", "Economic reach", 1, 1.0, "index", "Aggregate", "", "", ""),
        (
            1,
            "gdelt_vol",
            "Foreign news volume",
            1,
            1.0,
            "media",
            "Indicator",
            "GDELT DOC 2.0",
            "share",
            "Share of world news articles mentioning the city, foreign outlets",
        ),
        (
            1,
            "gdelt_tone",
            "News tone",
            1,
            0.5,
            "media",
            "Indicator",
            "GDELT DOC 2.0",
            "tone",
            "Average tone of foreign coverage",
        ),
        (
            1,
            "wiki_views",
            "Foreign Wikipedia views",
            1,
            1.0,
            "social",
            "Indicator",
            "Wikimedia REST",
            "views",
            "Page views in foreign-language editions",
        ),
        (
            1,
            "wiki_links",
            "Wikipedia editions",
            1,
            0.5,
            "social",
            "Indicator",
            "Wikidata",
            "count",
            "Number of language editions with an article",
        ),
        (
            1,
            "gdp_pc",
            "GDP per capita",
            1,
            1.0,
            "economy",
            "Indicator",
            "World Bank",
            "USD",
            "Country GDP per capita (proxy)",
        ),
        (
            1,
            "remoteness",
            "Distance to hubs",
            -1,
            0.5,
            "economy",
            "Indicator",
            "curated",
            "km",
            "Mean distance to the ten largest air hubs",
        ),
    ]
    cols = [
        "level",
        "icode",
        "iname",
        "direction",
        "weight",
        "parent",
        "type",
        "source",
        "unit",
        "definition",
    ]
    frame = pl.DataFrame([dict(zip(cols, r, strict=True)) for r in rows])
    chinese = {"index": "城市国际影响力指数", "media": "海外媒体关注度", "social": "海外网络关注度"}
    return frame.with_columns(
        pl.col("icode").replace_strict(chinese, default=None).alias("iname_zh")
    )


def _provenance(synthetic: bool) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {
                "source": "gdelt",
                "description": "GDELT DOC 2.0 timeline API",
                "responses": 72,
                "synthetic": False,
                "retrieved_at_min": "2025-01-03T10:00:00Z",
                "retrieved_at_max": "2025-01-04T08:30:00Z",
                "note": "Snapshot replay",
            },
            {
                "source": "wikimedia",
                "description": "Wikimedia pageviews",
                "responses": 240,
                "synthetic": synthetic,
                "retrieved_at_min": "2025-01-03T10:00:00Z",
                "retrieved_at_max": "2025-01-03T11:00:00Z",
                "note": "Generated stand-in" if synthetic else "",
            },
        ]
    )


def _scores_and_values() -> tuple[pl.DataFrame, pl.DataFrame]:
    """fct_index_score (index, pillars, indicators; every year) and fct_indicator_value rows."""
    scores, values = [], []
    for year in YEARS:
        by_city = _year_scores(year)
        codes: dict[str, dict[str, float]] = {"index": {}, "media": {}, "social": {}, "economy": {}}
        for city, v in by_city.items():
            codes["index"][city] = v["score"]
            for pillar in ("media", "social", "economy"):
                codes[pillar][city] = v[pillar]
            for code, (pillar, per_point) in INDICATORS.items():
                score = max(0.0, min(100.0, v[pillar] + (list(INDICATORS).index(code) - 3)))
                codes.setdefault(code, {})[city] = score
                values.append(
                    {
                        "city_id": city,
                        "year": year,
                        "icode": code,
                        "raw_value": score * per_point,
                        "imputed": code == "remoteness" and city == "cairo",
                        "normalised_value": score,
                    }
                )
        for code, by in codes.items():
            level = 3 if code == "index" else 2 if code in ("media", "social", "economy") else 1
            for city, rank in _rank(by).items():
                scores.append(
                    {
                        "city_id": city,
                        "year": year,
                        "icode": code,
                        "level": level,
                        "score": by[city],
                        "rank": rank,
                    }
                )
    return pl.DataFrame(scores), pl.DataFrame(values)


def _cities() -> pl.DataFrame:
    return pl.DataFrame(
        [
            {
                "city_id": c,
                "name_en": en,
                "name_zh": zh,
                "country_iso3": iso,
                "region": "China (SAR)" if c == "hong-kong" else REGIONS.get(iso, "Elsewhere"),
            }
            for c, en, zh, iso in CITIES
        ]
    )


def make_edition(synthetic: bool = True) -> EditionData:
    """A realistic edition for 2024, built without any pipeline dependency."""
    history = _history()
    scores, values = _scores_and_values()
    return EditionData(
        scores=scores,
        indicators=values.filter(pl.col("year") == YEARS[-1]),
        cities=_cities(),
        year=YEARS[-1],
        edition=1,
        generated_at="2025-01-05T09:30:00+00:00",
        code_version="0.1.0+g1a2b3c4",
        ranking=_ranking(history),
        history=history,
        framework=_framework(),
        coherence=pl.DataFrame(
            [
                {
                    "pillar": "media",
                    "icode_a": "gdelt_vol",
                    "icode_b": "gdelt_tone",
                    "pearson_r": -0.32,
                    "flag": "negative",
                },
                {
                    "pillar": "social",
                    "icode_a": "wiki_views",
                    "icode_b": "wiki_links",
                    "pearson_r": 0.95,
                    "flag": "redundant",
                },
                {
                    "pillar": "economy",
                    "icode_a": "gdp_pc",
                    "icode_b": "remoteness",
                    "pearson_r": 0.41,
                    "flag": "ok",  # what pipelines.analysis.coherence writes
                },
            ]
        ),
        pillar_alpha=pl.DataFrame(
            [
                {"pillar": "media", "cronbach_alpha": 0.62, "n_indicators": 2},
                {"pillar": "social", "cronbach_alpha": 0.88, "n_indicators": 2},
                {"pillar": "economy", "cronbach_alpha": 0.74, "n_indicators": 2},
            ]
        ),
        external_validation=pl.DataFrame(
            [
                {"benchmark": "GaWC 2020", "n_units": 21, "spearman_rho": 0.71, "p_value": 0.0003},
                {"benchmark": "GPCI 2023", "n_units": 17, "spearman_rho": 0.64, "p_value": 0.0056},
            ]
        ),
        provenance=_provenance(synthetic),
        validation=pl.DataFrame(
            [
                {"suite": "raw", "success": True, "evaluated": 42, "failed": 0},
                {"suite": "indicators", "success": True, "evaluated": 18, "failed": 0},
                {"suite": "index", "success": True, "evaluated": 12, "failed": 0},
            ]
        ),
        config={
            "treat": "coinr",
            "impute": "none",
            "normalise": "minmax",
            "range": [0, 100],
            "aggregate": "arithmetic",
            "screen_threshold": 0.66,
            "mc_reps": 500,
            "seed": 20240101,
        },
    )


@pytest.fixture(scope="module")
def edition() -> EditionData:
    return make_edition()


@pytest.fixture(scope="module")
def html(edition: EditionData) -> str:
    return render_report(edition)


def _figure(html: str, name: str) -> str:
    match = re.search(rf'<figure data-chart="{name}">(.*?)</figure>', html, re.S)
    assert match, f"chart {name} missing"
    return match.group(1)


def test_fixture_has_the_awkward_cases(edition: EditionData) -> None:
    ranking = edition.ranking
    assert ranking.height == 25
    assert ranking.filter(pl.col("ranked").not_()).height == 1
    new = ranking.filter(pl.col("ranked") & pl.col("rank_change").is_null())
    assert new["city_id"].to_list() == [NEW_CITY]
    assert sorted(edition.history["year"].unique().to_list()) == list(YEARS)


def test_self_contained(html: str) -> None:
    """No resource may be fetched: scripts, styles, images and fonts are all inline."""
    external = re.findall(r'\b(?:src|href)\s*=\s*["\']?\s*(?:https?:)?//', html, re.I)
    assert external == []
    assert not re.search(r"<link\b", html, re.I)
    assert not re.search(r"@import|url\(\s*['\"]?(?:https?:)?//", html, re.I)
    assert not re.search(r"<script[^>]*\bsrc=", html, re.I)
    assert "<style>" in html


def test_four_charts_with_svg(html: str) -> None:
    """Drawn by matplotlib, inline, text kept as text (the data is tested in test_chart_data)."""
    for name in CHARTS:
        body = _figure(html, name)
        assert "<svg" in body and "</svg>" in body
        assert "<text" in body, f"{name}: labels must stay text"
        assert "<figcaption>" in body


def test_chart_data(edition: EditionData) -> None:
    """What each chart shows, from the edition's ranking and history."""
    ranked = sorted(edition.ranking.filter(pl.col("ranked")).to_dicts(), key=lambda r: r["rank"])
    top = charts.top_ranks_data(ranked, 20)
    assert [r["rank"] for r in top] == sorted(r["rank"] for r in ranked)[:20]
    assert all(r["low"] <= r["rank"] <= r["high"] for r in top)
    movers = charts.movers_data(ranked, 8)
    changes = [m["change"] for m in movers]
    assert changes == sorted(changes, reverse=True) and NEW_CITY not in {
        m["city_id"] for m in movers
    }
    series = charts.history_data(edition.history.to_dicts(), [r["city_id"] for r in top[:10]])
    london = dict(series["london"])
    expected = edition.history.filter(pl.col("city_id") == "london")
    assert london == dict(zip(expected["year"], expected["rank"], strict=True))
    pillars = charts.pillar_data(ranked, ("media",), 3)
    assert [p["media"] for p in pillars] == [r["media"] for r in ranked[:3]]


def test_charts_are_byte_stable(edition: EditionData) -> None:
    assert render_report(edition) == render_report(edition)


def test_banner_when_synthetic(html: str) -> None:
    assert "This edition contains synthetic data: Wikipedia page views." in html
    assert "are not measurements" in html


def test_no_banner_without_synthetic_data() -> None:
    page = render_report(make_edition(synthetic=False))
    assert "synthetic data:" not in page
    assert 'data-banner="synthetic"' not in page


def test_names_escaped_once(html: str) -> None:
    page = re.sub(r"<svg.*?</svg>", "", html, flags=re.S)
    assert "Xi&#39;an" in page
    assert "Xi'an" not in page  # never raw in the HTML
    assert "&amp;#39;" not in html and "&amp;apos;" not in html  # never double-escaped
    assert '<span lang="zh-Hans" class="alt">西安</span>' in html
    assert "19. Xi" in _figure(html, "top-ranks")  # SVG labels are text


def test_ranking_table_semantics(html: str) -> None:
    table = re.search(r'<table class="sortable ranking".*?</table>', html, re.S).group(0)
    assert ">new<" in table
    assert "not significant" in table
    assert re.search(r"▲ \d+", table) and re.search(r"▼ \d+", table)
    assert "Lhasa" not in table
    unranked = re.search(r'<table data-table="unranked">.*?</table>', html, re.S).group(0)
    assert "Lhasa" in unranked and "拉萨" in unranked and "Insufficient data" in unranked


def test_change_helpers() -> None:
    assert change_cell({"rank_change": None})["text"] == "new"
    assert change_cell({"rank_change": 3})["text"] == "▲ 3"
    assert change_cell({"rank_change": -2})["text"] == "▼ 2"
    assert significance_text({"rank_change": 2, "change_significant": False}) == ("not significant")
    assert significance_text({"rank_change": 2, "change_significant": True}) == "significant"


def test_sections_present(html: str) -> None:
    for text in (
        "City Influence Index 2024",
        "Edition 1",
        "2025-01-05",
        "0.1.0+g1a2b3c4",
        "GaWC 2020",
        "Cronbach",
        "redundant",
        "Foreign news volume",
        "Minimum data to be ranked",
        "Responses used",
        "2025-01-03 → 2025-01-04",
        "All validation suites passed",
    ):
        assert text in html, text
    assert 'class="flagged"' in html


def test_sparse_edition_still_renders(edition: EditionData) -> None:
    """A first edition has no history and no changes; the charts say so instead of failing."""
    first = replace(
        edition,
        ranking=edition.ranking.with_columns(
            pl.lit(None, dtype=pl.Int64).alias("rank_change"),
            pl.lit(None, dtype=pl.Boolean).alias("change_significant"),
        ),
        history=edition.history.filter(pl.col("year") == YEARS[-1]),
        coherence=edition.coherence.head(0),
    )
    page = render_report(first)
    for name in CHARTS:
        assert "<svg" in _figure(page, name)


def test_write_report(edition: EditionData, tmp_path: Path) -> None:
    path = write_report(edition, tmp_path / "release" / "report.html")
    assert path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert not list(path.parent.glob("*.tmp"))


@pytest.mark.browser
def test_report_in_real_browser(edition: EditionData, tmp_path: Path) -> None:
    """Render in Debian's chromium: no JS errors, every chart has a size, keep a screenshot."""
    if not CHROMIUM.exists():
        pytest.skip(
            "Debian chromium not installed at /usr/bin/chromium: "
            "apt-get install chromium fonts-wqy-zenhei"
        )
    sync_api = pytest.importorskip("playwright.sync_api")
    path = write_report(edition, tmp_path / "report.html")
    artifacts = REPO_ROOT / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    errors: list[str] = []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(path.as_uri(), wait_until="load")
            for name in CHARTS:
                box = page.locator(f'figure[data-chart="{name}"] svg').bounding_box()
                assert box is not None and box["width"] > 0 and box["height"] > 0, name
            assert "Xi'an 西安" in page.inner_text("table.ranking")
            page.screenshot(path=str(artifacts / "report.png"), full_page=True)
            page.locator("table.ranking thead th").nth(4).click()  # score, ascending
            first = page.locator("table.ranking tbody tr").first.inner_text()
            assert first.startswith("24"), first
        finally:
            browser.close()
    assert errors == []


def _text(fragment: str, cells: str = "") -> str:
    """What a reader sees: tags dropped (table cells apart by `cells`), entities decoded,
    spaces collapsed."""
    import html as html_lib

    fragment = re.sub(r"</t[dh]>", cells, fragment)
    return re.sub(r"\s+", " ", html_lib.unescape(re.sub(r"<[^>]+>", "", fragment))).strip()


def _profile(page: str, city_id: str) -> str:
    match = re.search(rf'<article class="profile" id="{city_id}".*?</article>', page, re.S)
    assert match, f"no profile for {city_id}"
    return match.group(0)


def test_every_data_file_linked_relatively(edition: EditionData, html: str) -> None:
    links = set(re.findall(r'<a href="([^"#]+)" data-file=', html))
    assert links == {
        "index.csv",
        "index.parquet",
        f"city_index_{edition.year}.duckdb",
        "manifest.json",
        "validation/index.html",
        "report.zh.html",
    }


def test_every_ranked_city_has_a_profile(edition: EditionData, html: str) -> None:
    ranked = edition.ranking.filter(pl.col("ranked"))["city_id"].to_list()
    profiles = re.findall(r'<article class="profile" id="([^"]+)"', html)
    assert sorted(profiles) == sorted(ranked)
    for href in set(re.findall(r'href="#([^"]+)"', html)):
        assert f'id="{href}"' in html, f"link to #{href} has no target"


def test_beijing_media_statements_are_computed(edition: EditionData, html: str) -> None:
    """The question the Chinese reports answer, from the data: Beijing is second in the world
    and first among Chinese cities for overseas media attention, having passed Paris."""
    profile = _text(_profile(html, "beijing"))
    assert (
        "Beijing 北京 is 2nd in the world and 1st among Chinese cities for Media attention."
        in profile
    )
    assert "In Media attention, Beijing 北京 passed Paris 巴黎 since last year." in profile
    zh = _text(_profile(render_report(edition, "zh"), "beijing"))
    assert "北京 Beijing在海外媒体关注度方面位居全球第2、中国城市第1。" in zh
    # Change the data and the sentence follows: Beijing first in the world.
    scores = edition.scores.with_columns(
        pl.when((pl.col("city_id") == "beijing") & (pl.col("icode") == "media"))
        .then(100.0)
        .otherwise(pl.col("score"))
        .alias("score"),
        pl.when(pl.col("icode") == "media").then(None).otherwise(pl.col("rank")).alias("rank"),
    )
    page = render_report(replace(edition, scores=scores))
    assert "Beijing 北京 is 1st in the world and 1st among Chinese cities for Media attention." in (
        _text(_profile(page, "beijing"))
    )


def test_leaders_and_streaks_are_computed(edition: EditionData) -> None:
    cities = {c[0]: {"country_iso3": c[3]} for c in CITIES}
    known = facts.Scores(edition.scores, cities, FrameworkTree.from_rows(_framework().to_dicts()))
    leader, years = known.streak(YEARS[-1], "media")
    assert (leader, years) == ("new-york", 2)  # MEDIA puts New York first in 2023 and 2024
    assert known.passed(YEARS[-1], "media", "beijing") == ["paris"]
    findings = _text(re.search(r'<ul class="findings">.*?</ul>', render_report(edition), re.S)[0])
    assert "New York 纽约 is first in the world for Media attention, 2 years running." in findings


def test_chinese_cities_table(edition: EditionData, html: str) -> None:
    table = re.search(r'<table data-table="china">.*?</table>', html, re.S).group(0)
    rows = [_text(r, " ") for r in re.findall(r"<tr><td.*?</tr>", table, re.S)]
    chinese = edition.ranking.filter(pl.col("ranked") & (pl.col("country_iso3") == "CHN"))
    assert len(rows) == chinese.height
    world = dict(zip(chinese["city_id"], chinese["rank"], strict=True))
    # national rank, its change (Beijing first three years running), city, world rank
    assert rows[0].startswith(f"1 = Beijing 北京 {world['beijing']} ")
    national = [int(r.split()[0]) for r in rows]
    assert national == sorted(national)
    assert all(re.match(r"\d+ (new|=|[▲▼] \d+) ", r) for r in rows)
    assert any(r.split()[1] == "new" for r in rows)  # Hangzhou, first ranked this year


def test_profile_shows_raw_values_units_sources_and_synthetic(html: str) -> None:
    profile = _profile(html, "beijing")
    text = _text(profile)
    assert "Foreign Wikipedia views" in text and "views" in text
    assert "Wikipedia page views" in text  # the source by name, from the sources table
    row = re.search(r"<tr><td>Foreign Wikipedia views</td>.*?</tr>", profile, re.S).group(0)
    assert "synthetic" in row  # wikimedia is synthetic in this edition
    assert re.search(r"<td>2022</td><td class=\"num\">\d+</td>", profile)  # rank history


def test_sources_named_and_described_once(html: str) -> None:
    table = re.search(r'<table data-table="provenance">.*?</table>', html, re.S).group(0)
    rows = re.findall(
        r'<tr data-source="(\w+)">\s*<td><strong>(.*?)</strong></td><td>(.*?)</td>', table
    )
    assert rows
    for source_id, name, description in rows:
        assert name != source_id  # a name, not the internal id
        assert description not in ("", source_id, name)  # a description, not the id again
    assert "distinct requests landed for the edition&#39;s years" in html
    assert "Engine configuration" not in html


def test_catalogue_has_both_languages() -> None:
    for key, (en, zh) in MESSAGES.items():
        assert en.strip() and zh.strip(), key
        assert re.findall(r"{(\w+)}", en) == re.findall(r"{(\w+)}", zh) or sorted(
            re.findall(r"{(\w+)}", en)
        ) == sorted(re.findall(r"{(\w+)}", zh)), key


def test_chinese_edition(edition: EditionData, tmp_path: Path) -> None:
    english = write_report(edition, tmp_path / "report.html")
    chinese = tmp_path / "report.zh.html"
    zh = chinese.read_text(encoding="utf-8")
    en = english.read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in zh and '<html lang="en">' in en
    assert 'href="report.html"' in zh and 'href="report.zh.html"' in en
    assert "城市国际影响力指数 2024" in zh
    assert "本版未进行敏感性分析。" in zh  # the audit sections speak Chinese too
    # Same numbers: the ranking tables differ only in words.
    numbers = [re.findall(r'<td class="num">([\d.–]+)</td>', page) for page in (en, zh)]
    assert numbers[0] == numbers[1]
    assert re.findall(r'<article class="profile" id="([^"]+)"', en) == re.findall(
        r'<article class="profile" id="([^"]+)"', zh
    )


@pytest.mark.browser
def test_report_on_a_phone(edition: EditionData, tmp_path: Path) -> None:
    """At 390 px the page never scrolls sideways (tables scroll in their box), in both
    languages; screenshots at phone and desktop width go to test-artifacts/."""
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium not installed at /usr/bin/chromium")
    sync_api = pytest.importorskip("playwright.sync_api")
    english = write_report(edition, tmp_path / "report.html")
    artifacts = REPO_ROOT / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            for name in ("report.html", "report.zh.html"):
                page = browser.new_page(viewport={"width": 390, "height": 844})
                page.goto((english.parent / name).as_uri(), wait_until="load")
                width = page.evaluate("document.documentElement.scrollWidth")
                assert width <= 390, f"{name} is {width} px wide at 390 px"
                smallest = page.evaluate(
                    "Math.min(...[...document.querySelectorAll('figure svg text')].map("
                    "t => t.getBoundingClientRect().height).filter(h => h > 0))"
                )
                assert smallest >= 9, f"{name}: chart text {smallest:.1f} px high"
                stem = name.removesuffix(".html").replace(".", "-")
                page.screenshot(path=str(artifacts / f"{stem}-390.png"), full_page=False)
                page.goto((english.parent / name).as_uri() + "#beijing", wait_until="load")
                page.screenshot(path=str(artifacts / f"{stem}-390-beijing.png"))
                page.close()
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(english.as_uri(), wait_until="load")
            page.screenshot(path=str(artifacts / "report-1280.png"))
            page.locator("#charts").screenshot(path=str(artifacts / "report-1280-charts.png"))
            page.click('a[data-link="other-language"]')
            assert page.evaluate("document.documentElement.lang") == "zh-CN"
        finally:
            browser.close()


def test_every_framework_code_has_a_chinese_name() -> None:
    """The Chinese edition names every code of the real framework in Chinese: the names are
    the framework's own iName_zh column, one place for each code's names."""
    import csv

    with (REPO_ROOT / "assets" / "framework.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    missing = [row["iCode"] for row in rows if not (row.get("iName_zh") or "").strip()]
    assert not missing, missing


def test_code_names_and_pillars_come_from_the_framework(edition: EditionData) -> None:
    """A renamed pillar with a Chinese name shows under its framework names in both editions,
    and a framework with only two pillars gives a report with two."""
    framework = edition.framework.with_columns(
        pl.when(pl.col("icode") == "media")
        .then(pl.lit("海外媒体"))
        .otherwise(None)
        .alias("iname_zh"),
        pl.when(pl.col("icode") == "media")
        .then(pl.lit("Coverage abroad"))
        .otherwise(pl.col("iname"))
        .alias("iname"),
    )
    english = render_report(replace(edition, framework=framework), "en")
    chinese = render_report(replace(edition, framework=framework), "zh")
    assert "Coverage abroad" in english and "Media attention" not in english
    assert "海外媒体" in chinese
    two = framework.filter(pl.col("icode") != "economy")
    page = Page(replace(edition, framework=two), "en")
    assert page.tree.pillars == ("media", "social")
    assert "Economic reach" not in render_report(replace(edition, framework=two), "en")
