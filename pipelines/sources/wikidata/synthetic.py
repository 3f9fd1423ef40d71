"""Wikidata answers of the embedded offline snapshot (SYNTHETIC sitelinks; real QIDs).

One response per batch of 50 QIDs; sitelinks are the registry titles, a GENERATED title in every
registry language the registry leaves empty (the registry's Chinese name on zhwiki, the English
name elsewhere: not the real titles, which need a record run; see
``pipelines.sources.synthetic.edition_titles``), ``commonswiki`` and a deterministic number of
other ``xxwiki`` editions outside the ten core languages. Written by
``python scripts/generate_snapshots.py``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pipelines.sources.http import chunks
from pipelines.sources.synthetic import (
    MARK,
    SyntheticContext,
    compact,
    edition_titles,
    rng_for,
)
from pipelines.sources.wikidata import client as wikidata

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

NOTE = (
    f"SYNTHETIC: {MARK}; real QIDs and registry titles; GENERATED titles for the registry "
    "languages the registry leaves empty (Chinese name on zhwiki, English name elsewhere; "
    "not the real titles) and generated extra sitelinks (count is synthetic)."
)


def entities_body(
    batch: Iterable[str], by_qid: dict[str, dict[str, Any]], levels: Mapping[str, float]
) -> str:
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


def synthesize(context: SyntheticContext) -> list[str]:
    """One entities answer per batch of QIDs, as the client batches them."""
    by_qid = {c["wikidata_qid"]: c for c in context.cities if c["wikidata_qid"]}
    for batch in chunks(sorted(by_qid), wikidata.BATCH_SIZE):
        path, params = wikidata.entities_request(batch)
        context.put(
            path,
            params,
            status=200,
            content_type="application/json; charset=utf-8",
            body=entities_body(batch, by_qid, context.levels),
            synthetic=True,
            note=NOTE,
        )
    return []
