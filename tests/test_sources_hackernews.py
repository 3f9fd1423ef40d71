"""Hacker News (Algolia HN Search) client: nbHits per city-year, variants, errors, snapshot."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import duckdb
import polars as pl
import pytest
import responses

from pipelines.ingest.landing import land_batch
from pipelines.registry import load_cities
from pipelines.sources.hackernews import client as hackernews
from pipelines.sources.hackernews import fetch_hackernews
from pipelines.sources.hackernews.client import HackerNewsClient
from pipelines.sources.http import SourceError

URL = "https://hn.algolia.com/api/v1/search"


def client() -> HackerNewsClient:
    config = HackerNewsClient.default_config().with_overrides(
        min_interval=0.0, backoff_factor=0.0, retry_after_max=0, retries=2
    )
    return HackerNewsClient(config, mode="live")


def cities(*rows: tuple[str, str, str, str]) -> pl.DataFrame:
    """A small temporary registry: id, name_en, social_query, social_exclude."""
    keys = ("id", "name_en", "social_query", "social_exclude")
    return pl.DataFrame([dict(zip(keys, row, strict=True)) for row in rows])


def algolia(nb_hits: int, exhaustive: bool = True) -> dict:
    """The real answer shape (algolia/hn-search #230), with hitsPerPage=0."""
    return {
        "hits": [],
        "nbHits": nb_hits,
        "page": 0,
        "nbPages": 0,
        "hitsPerPage": 0,
        "exhaustiveNbHits": exhaustive,
        "exhaustiveTypo": True,
        "query": '"London"',
        "params": "advancedSyntax=true&analytics=true&hitsPerPage=0",
        "processingTimeMS": 5,
    }


@responses.activate
def test_nbhits_per_city_year_with_the_real_parameters():
    responses.get(URL, json=algolia(5562))
    batch = fetch_hackernews(cities(("london", "London", "", "")), 2023, client())
    table = batch.tables["hackernews_mentions"]
    assert table.to_dicts()[0] | {"response_sha256": None} == {
        "city_id": "london",
        "period_year": 2023,
        "query": '"London"',
        "hits": 5562,
        "exhaustive": True,
        "response_sha256": None,
    }
    sent = parse_qs(urlsplit(responses.calls[0].request.url).query)
    assert sent["query"] == ['"London"']
    assert sent["tags"] == ["(story,comment)"]
    assert sent["hitsPerPage"] == ["0"]
    assert sent["numericFilters"] == ["created_at_i>=1672531200,created_at_i<1704067200"]
    assert batch.responses[0].sha256 == table["response_sha256"][0]
    assert not batch.issues


@responses.activate
def test_variants_exclusions_zero_and_estimates():
    responses.get(URL, json=algolia(0))
    responses.get(URL, json=algolia(17, exhaustive=False))
    registry = cities(("hanoi", "Hanoi", "Hanoi|Ha Noi", "Towers|Tower"))
    batch = fetch_hackernews(registry, 2020, client())
    table = batch.tables["hackernews_mentions"]
    assert table["query"].to_list() == ['"Hanoi" -Towers -Tower', '"Ha Noi" -Towers -Tower']
    assert table["hits"].to_list() == [0, 17]  # a zero from the API is a real count
    assert table["exhaustive"].to_list() == [True, False]
    assert any("estimate" in issue for issue in batch.issues)


@responses.activate
def test_error_names_url_and_status():
    responses.get(
        URL, json={"message": "Invalid syntax for numeric value", "status": 400}, status=400
    )
    with pytest.raises(SourceError) as error:
        fetch_hackernews(cities(("paris", "Paris", "", "")), 2021, client())
    assert error.value.status == 400
    assert "hn.algolia.com/api/v1/search" in str(error.value)
    assert "Invalid syntax" in str(error.value)


@responses.activate
def test_answer_without_nbhits_is_an_error_not_zero():
    responses.get(URL, json={"hits": [], "message": "you can only fetch the 1000 hits"})
    with pytest.raises(SourceError, match="no nbHits"):
        fetch_hackernews(cities(("paris", "Paris", "", "")), 2021, client())


def test_query_builder_and_year_bounds():
    assert hackernews.build_query("New York", ["Times"]) == '"New York" -Times'
    assert hackernews.year_bounds(2024) == (1704067200, 1735689600)


def test_snapshot_mode_real_registry_city_and_idempotent_landing(tmp_path: Path):
    registry = load_cities().filter(pl.col("id") == "xian")
    batch = fetch_hackernews(registry, 2024, HackerNewsClient(mode="snapshot"))
    table = batch.tables["hackernews_mentions"]
    assert table["query"].to_list() == ['"Xi\'an"', '"Xian"']
    assert (table["hits"] >= 0).all() and table["period_year"].to_list() == [2024, 2024]
    assert all(r.synthetic for r in batch.responses)
    con = duckdb.connect()
    for _ in range(2):  # a reload of the year replaces it
        counts = land_batch(con, batch, tmp_path / "landing")
    assert counts["hackernews_mentions"] == 2
    assert con.execute("select count(*) from raw.hackernews_mentions").fetchall() == [(2,)]
    assert con.execute("select bool_and(synthetic) from raw.api_responses").fetchall() == [(True,)]


@responses.activate
@pytest.mark.parametrize(
    "flags",
    [
        {"exhaustiveNbHits": False},
        {"exhaustive": {"nbHits": False, "typo": True}},  # the newer flag alone
        {"exhaustiveNbHits": True, "exhaustive": {"nbHits": False}},  # either false: estimate
    ],
)
def test_counts_above_1000_are_landed_as_estimates(flags):
    """Written by us: the real shape with Algolia's estimate flags (either one is enough)."""
    body = {k: v for k, v in algolia(48_210).items() if k != "exhaustiveNbHits"} | flags
    responses.get(URL, json=body)
    batch = fetch_hackernews(cities(("london", "London", "", "")), 2023, client())
    table = batch.tables["hackernews_mentions"]
    assert table["hits"].to_list() == [48_210] and table["exhaustive"].to_list() == [False]
    assert batch.issues == [
        "hackernews: 1 of 1 counts are Algolia estimates (above 1000; landed with "
        'exhaustive = false): london "London"'
    ]


def test_plan_is_one_request_per_city_and_variant():
    from pipelines.sources.hackernews import plan_hackernews

    registry = cities(("hanoi", "Hanoi", "Hanoi|Ha Noi", ""), ("paris", "Paris", "", ""))
    [planned] = plan_hackernews(registry, 2020)
    assert (planned.client, planned.requests) == ("hackernews", 3)
