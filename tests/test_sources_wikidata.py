"""Wikidata client: sitelinks ({} or []), missing entities, batches of 50, title filling."""

from __future__ import annotations

import json

import polars as pl
import responses

from pipelines.registry import WIKI_LANGUAGES, load_cities
from pipelines.sources.wikidata import client as wikidata
from pipelines.sources.wikidata import fetch_wikidata
from pipelines.sources.wikidata.client import WikidataClient

URL = "https://www.wikidata.org/w/api.php"


def client() -> WikidataClient:
    config = WikidataClient.default_config().with_overrides(
        min_interval=0.0, backoff_factor=0.0, retry_after_max=0, retries=2
    )
    return WikidataClient(config, mode="live")


def link(site: str, title: str) -> dict:
    return {"site": site, "title": title, "badges": []}


def cities(qids: list[str]) -> pl.DataFrame:
    """A small temporary registry: only the columns the fetchers read."""
    rows = [
        {"id": f"c{i}", "wikidata_qid": q, **{f"wiki_{lang}": "" for lang in WIKI_LANGUAGES}}
        for i, q in enumerate(qids)
    ]
    return pl.DataFrame(rows)


def test_language_wikipedia_filter():
    assert wikidata.is_language_wikipedia("frwiki")
    # Cantonese, Min Nan, Classical Chinese: separate languages under an old site prefix.
    for site in ("zh_yuewiki", "zh_min_nanwiki", "zh_classicalwiki"):
        assert wikidata.is_language_wikipedia(site)
    # Simple English is a second English edition, not a language.
    for site in ("simplewiki", "commonswiki", "specieswiki", "frwikivoyage", "enwikiquote"):
        assert not wikidata.is_language_wikipedia(site)


@responses.activate
def test_simplewiki_is_not_counted_as_an_edition():
    """Written by us in wbgetentities' shape: an item with en, simple and Cantonese links."""
    body = {
        "entities": {
            "Q956": {
                "type": "item",
                "id": "Q956",
                "sitelinks": {
                    site: link(site, "Beijing")
                    for site in ("enwiki", "simplewiki", "zh_yuewiki", "enwikivoyage")
                },
            }
        },
        "success": 1,
    }
    responses.get(URL, json=body)
    batch = fetch_wikidata(cities(["Q956"]), 2020, client())
    assert batch.tables["wikidata_sitelinks"]["site"].to_list() == ["enwiki", "zh_yuewiki"]


@responses.activate
def test_sitelinks_dict_list_and_missing():
    body = {
        "entities": {
            "Q90": {
                "type": "item",
                "id": "Q90",
                "sitelinks": {
                    "enwiki": link("enwiki", "Paris"),
                    "frwiki": link("frwiki", "Paris"),
                    "commonswiki": link("commonswiki", "Paris"),
                    "frwikivoyage": link("frwikivoyage", "Paris"),
                },
            },
            "Q2": {"type": "item", "id": "Q2", "sitelinks": []},
            "Q999999999": {"id": "Q999999999", "missing": ""},
        },
        "success": 1,
    }
    responses.get(URL, json=body)
    batch = fetch_wikidata(cities(["Q90", "Q2", "Q999999999"]), 2020, client())
    table = batch.tables["wikidata_sitelinks"]
    assert sorted(table["site"].to_list()) == ["enwiki", "frwiki"]
    assert set(table["city_id"]) == {"c0"}
    assert any("Q999999999" in issue for issue in batch.issues)
    sent = responses.calls[0].request.url
    assert "action=wbgetentities" in sent and "props=sitelinks" in sent
    assert "ids=Q2%7CQ90%7CQ999999999" in sent


@responses.activate
def test_batches_of_fifty():
    qids = [f"Q{n}" for n in range(1, 62)]
    responses.get(URL, json={"entities": {}, "success": 1})
    batch = fetch_wikidata(cities(qids), 2020, client())
    assert len(responses.calls) == 2
    assert len(batch.responses) == 2
    assert len(batch.issues) == 61  # none came back: every one is reported


def test_fill_titles_only_where_empty():
    registry = pl.DataFrame({"id": ["a", "b"], "wiki_fr": ["", "Bé"], "wiki_de": ["", ""]})
    links = pl.DataFrame(
        {
            "city_id": ["a", "b", "a"],
            "qid": ["Q1", "Q2", "Q1"],
            "site": ["frwiki", "frwiki", "dewiki"],
            "title": ["A (ville)", "Other", "A (Stadt)"],
        }
    )
    out = wikidata.fill_wiki_titles(registry, links, ["fr", "de"])
    assert out.sort("id")["wiki_fr"].to_list() == ["A (ville)", "Bé"]
    assert out.sort("id")["wiki_de"].to_list() == ["A (Stadt)", ""]


def test_snapshot_mode_real_qids():
    registry = load_cities().filter(pl.col("wikidata_qid") != "")
    batch = fetch_wikidata(registry, 2020, WikidataClient(mode="snapshot"))
    table = batch.tables["wikidata_sitelinks"]
    paris = table.filter(pl.col("city_id") == "paris")
    assert paris.filter(pl.col("site") == "enwiki")["title"].to_list() == ["Paris"]
    assert paris.height > 20
    assert table.filter(pl.col("site") == "commonswiki").is_empty()
    assert not batch.issues
    assert json.loads(batch.responses[0].body)["success"] == 1
