"""Wikidata: the sitelinks of each city's item (titles per language, number of editions).

The package holds the client and parsers (client.py), the raw table it lands (tables.py),
its fetch for a year and its spec."""

import polars as pl

from pipelines.sources.http import RecordedResponse, chunks
from pipelines.sources.spec import (
    PlannedRequests,
    SourceBatch,
    SourceSpec,
    SourceTitle,
    concat,
    names_year,
)
from pipelines.sources.wikidata import client as wikidata
from pipelines.sources.wikidata.tables import SITELINKS


def fetch_wikidata(
    cities: pl.DataFrame, year: int, client: wikidata.WikidataClient | None = None
) -> SourceBatch:
    """Language-Wikipedia sitelinks of each city's item, in batches of 50 ids."""
    client = client or wikidata.WikidataClient()
    city_by_qid: dict[str, list[str]] = {}
    issues: list[str] = []
    for row in cities.iter_rows(named=True):
        qid = (row["wikidata_qid"] or "").strip()
        if qid:
            city_by_qid.setdefault(qid, []).append(row["id"])
        else:
            issues.append(f"wikidata: city {row['id']} has no wikidata_qid; not requested")
    responses: list[RecordedResponse] = []
    frames: list[pl.DataFrame] = []
    with names_year(year):
        for batch in chunks(sorted(city_by_qid), wikidata.BATCH_SIZE):
            response = client.sitelinks(batch)
            responses.append(response)
            frame, missing = wikidata.sitelink_rows(response, city_by_qid)
            frames.append(frame)
            issues += [
                f"wikidata: entity {qid} (city {', '.join(city_by_qid.get(qid, []))}) is missing"
                for qid in missing
            ]
    tables = {SITELINKS.name: concat(frames, SITELINKS)}
    return SourceBatch("wikidata", year, responses, tables, issues)


def plan_wikidata(cities: pl.DataFrame, year: int, **_inputs: object) -> list[PlannedRequests]:
    """One request per batch of 50 distinct ids: exact."""
    qids = {(q or "").strip() for q in cities["wikidata_qid"].to_list()} - {""}
    count = len(chunks(sorted(qids), wikidata.BATCH_SIZE))
    config = wikidata.WikidataClient.default_config()
    return [PlannedRequests("wikidata", count, config.min_interval)]


SPEC = SourceSpec(
    name="wikidata",
    description="Wikidata sitelinks of each city: titles per language and the number of editions.",
    tables=(SITELINKS,),
    fetch=fetch_wikidata,
    plan=plan_wikidata,
    titles={
        "wikidata": SourceTitle(
            "Wikidata",
            "维基数据",
            "The number of Wikipedia language editions with an article on the city.",
            "拥有该城市条目的维基百科语种数量。",
            "Wikidata",
        ),
    },
)
