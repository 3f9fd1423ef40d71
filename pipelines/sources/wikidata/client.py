"""Wikidata sitelinks client and parsers: which language Wikipedias have an article on a city.

``wbgetentities`` takes up to 50 ids per call. The count of language-Wikipedia sitelinks is the
"language editions" indicator, and the titles fill registry cells left empty. ``simplewiki``
(Simple English) is a second English edition, not a language, and is not counted; ``zh_yuewiki``
(Cantonese), ``zh_min_nanwiki`` (Min Nan) and ``zh_classicalwiki`` (Classical Chinese) are
separate languages whose site ids kept an old prefix, and are counted (docs/sources.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

import polars as pl

from pipelines.sources.http import RecordedResponse, SourceClient, SourceError, decode_json
from pipelines.sources.wikidata.tables import SITELINKS

PATH = "/w/api.php"
BATCH_SIZE = 50

#: Sites named ``<code>wiki`` that are not language Wikipedias (``simplewiki``: a second
#: English edition, written in simpler English).
NON_LANGUAGE_WIKIS = frozenset(
    {
        "simplewiki",
        "commonswiki",
        "specieswiki",
        "metawiki",
        "mediawikiwiki",
        "wikidatawiki",
        "sourceswiki",
        "incubatorwiki",
        "outreachwiki",
        "wikimaniawiki",
        "foundationwiki",
        "wikifunctionswiki",
        "testwiki",
        "test2wiki",
        "testwikidatawiki",
        "wikitechwiki",
        "abstractwiki",
    }
)
SITE_RE = re.compile(r"^[a-z][a-z0-9_]*wiki$")

SITELINK_SCHEMA = SITELINKS.polars_schema()


def is_language_wikipedia(site: str) -> bool:
    """``frwiki`` yes; ``commonswiki``, ``frwikivoyage``, ``frwikiquote`` no."""
    return bool(SITE_RE.match(site)) and site not in NON_LANGUAGE_WIKIS


def entities_request(qids: Iterable[str]) -> tuple[str, dict[str, str]]:
    """Path and params of one batch; ids sorted so the request (and its key) is stable."""
    ids = sorted(set(qids))
    if not 0 < len(ids) <= BATCH_SIZE:
        raise ValueError(f"wbgetentities takes 1..{BATCH_SIZE} ids, got {len(ids)}")
    params = {
        "action": "wbgetentities",
        "ids": "|".join(ids),
        "props": "sitelinks",
        "format": "json",
    }
    return PATH, params


def parse_entities(response: RecordedResponse) -> tuple[dict[str, dict[str, str]], list[str]]:
    """(qid -> {site: title} of language Wikipedias, qids reported missing).

    ``sitelinks`` may be ``{}`` or ``[]`` (MediaWiki serialises empty maps as lists). A
    redirected id is reported under the id that was asked for.
    """
    data = decode_json(response)
    if "error" in data:
        error = data["error"]
        message = f"{error.get('code', 'error')}: {error.get('info', '')}"
        raise SourceError(response.source, response.url, response.status, message)
    asked = set(response.params.get("ids", "").split("|")) - {""}
    links: dict[str, dict[str, str]] = {}
    missing: list[str] = []
    for key, entity in (data.get("entities") or {}).items():
        qid = key
        redirect = entity.get("redirects") or {}
        if qid not in asked and redirect.get("from") in asked:
            qid = redirect["from"]
        if "missing" in entity:
            missing.append(entity.get("id", qid))
            continue
        sitelinks: Mapping[str, Any] | list[Any] = entity.get("sitelinks") or {}
        items = sitelinks.values() if isinstance(sitelinks, Mapping) else sitelinks
        links[qid] = {
            link["site"]: link.get("title", "")
            for link in items
            if is_language_wikipedia(str(link.get("site", "")))
        }
    missing.extend(sorted(asked - set(links) - set(missing)))
    return links, sorted(set(missing))


def sitelink_rows(
    response: RecordedResponse, city_by_qid: Mapping[str, list[str]]
) -> tuple[pl.DataFrame, list[str]]:
    """raw.wikidata_sitelinks rows for one batch, and the QIDs reported missing."""
    links, missing = parse_entities(response)
    rows = [
        {
            "city_id": city_id,
            "qid": qid,
            "site": site,
            "title": title,
            "response_sha256": response.sha256,
        }
        for qid, sites in sorted(links.items())
        for city_id in city_by_qid.get(qid, [])
        for site, title in sorted(sites.items())
    ]
    return pl.DataFrame(rows, schema=SITELINK_SCHEMA), missing


def fill_wiki_titles(
    cities: pl.DataFrame, sitelinks: pl.DataFrame, languages: Iterable[str]
) -> pl.DataFrame:
    """Fill empty ``wiki_<lang>`` cells from ``<lang>wiki`` sitelinks; filled cells are kept."""
    out = cities
    for lang in languages:
        column = f"wiki_{lang}"
        if column not in out.columns:
            continue
        titles = sitelinks.filter(pl.col("site") == f"{lang}wiki").select(
            pl.col("city_id").alias("id"), pl.col("title").alias("_title")
        )
        out = (
            out.join(titles.unique("id", keep="first"), on="id", how="left")
            .with_columns(
                pl.when(pl.col(column).fill_null("").str.strip_chars() == "")
                .then(pl.col("_title"))
                .otherwise(pl.col(column))
                .fill_null("")
                .alias(column)
            )
            .drop("_title")
        )
    return out


class WikidataClient(SourceClient):
    """Wikidata action API: one batch of up to 50 ids per request."""

    NAME: ClassVar[str] = "wikidata"
    BASE_URL: ClassVar[str] = "https://www.wikidata.org"
    MIN_INTERVAL: ClassVar[float] = 1.0

    def sitelinks(self, qids: Iterable[str]) -> RecordedResponse:
        path, params = entities_request(qids)
        return self.get(path, params)
