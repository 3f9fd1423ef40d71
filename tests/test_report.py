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

from pipelines.release.report import (
    EditionData,
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
    return pl.DataFrame([dict(zip(cols, r, strict=True)) for r in rows])


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


def make_edition(synthetic: bool = True) -> EditionData:
    """A realistic edition for 2024, built without any pipeline dependency."""
    history = _history()
    return EditionData(
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
    for name in CHARTS:
        body = _figure(html, name)
        assert "<svg" in body and "</svg>" in body
        assert re.search(r"<(rect|circle|polyline)\b", body), f"{name} draws nothing"
        assert "<figcaption>" in body


def test_banner_when_synthetic(html: str) -> None:
    assert "This edition contains synthetic data: wikimedia." in html
    assert "are not measurements" in html


def test_no_banner_without_synthetic_data() -> None:
    page = render_report(make_edition(synthetic=False))
    assert "synthetic data:" not in page
    assert 'data-banner="synthetic"' not in page


def test_names_escaped_once(html: str) -> None:
    assert "Xi&#39;an" in html
    assert "Xi'an" not in html  # never raw, in table or SVG
    assert "&amp;#39;" not in html  # never double-escaped
    assert '<span lang="zh-Hans" class="zh">西安</span>' in html
    assert "19. Xi&#39;an 西安" in _figure(html, "top-ranks")  # SVG labels escaped as well


def test_ranking_table_semantics(html: str) -> None:
    table = re.search(r'<table class="sortable ranking".*?</table>', html, re.S).group(0)
    assert ">new<" in table
    assert "not significant" in table
    assert re.search(r"▲ \d+", table) and re.search(r"▼ \d+", table)
    assert "Lhasa" not in table
    unranked = re.search(r'<table data-table="unranked">.*?</table>', html, re.S).group(0)
    assert "Lhasa" in unranked and "拉萨" in unranked and "insufficient data" in unranked


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
        "screen_threshold",
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
