"""Fetch one source for one partition year: the responses and the raw tables parsed from them.

Each ``fetch_<source>`` returns a :class:`SourceBatch` whose ``tables`` are exactly the raw
tables of docs/architecture.md for that source, without the ``year`` column (landing adds it).
Requests span every year (see ``pipelines.sources.http.coverage_years``); the rows kept are
those of the partition year, except World Bank (the Y-5..Y window of that partition's request)
and Wikidata (sitelinks as of retrieval).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import polars as pl

from pipelines.ingest import curated
from pipelines.ingest.curated import CuratedInputError as CuratedInputError  # re-exported
from pipelines.sources import (
    gdelt,
    hackernews,
    social,
    stackexchange,
    wikidata,
    wikimedia,
    worldbank,
)
from pipelines.sources import x as xapi
from pipelines.sources.http import (
    RecordedResponse,
    SnapshotMissing,
    body_sha256,
    chunks,
    coverage_years,
    utc_now_iso,
)

# The curated inputs are specified in pipelines.ingest.curated; these names stay for callers.
CURATED_FILE = curated.INPUTS_DIR / curated.CITY_STATISTICS.filename
CURATED_COLUMNS = curated.CITY_STATISTICS.header
CURATED_SCHEMA = curated.CITY_STATISTICS.schema()


@dataclass
class SourceBatch:
    """What one (source, year) fetch produced; ``issues`` are non-fatal problems to report."""

    source: str
    year: int
    responses: list[RecordedResponse]
    tables: dict[str, pl.DataFrame]
    issues: list[str] = field(default_factory=list)


@contextmanager
def _names_year(year: int) -> Iterator[None]:
    """Let a missing snapshot say which ``--year`` records it."""
    try:
        yield
    except SnapshotMissing as exc:
        if exc.year is not None:
            raise
        raise SnapshotMissing(exc.source, exc.url, year) from None


def _concat(frames: list[pl.DataFrame], schema: dict[str, pl.DataType]) -> pl.DataFrame:
    frames = [f for f in frames if f.height]
    if not frames:
        return pl.DataFrame([], schema=schema)
    return pl.concat(frames, how="vertical")


def _span(year: int) -> tuple[date, date]:
    first, last = coverage_years(year)
    return date(first, 1, 1), date(last, 12, 31)


def _wiki_languages() -> tuple[str, ...]:
    from pipelines.registry import WIKI_LANGUAGES

    return tuple(WIKI_LANGUAGES)


# --- GDELT ------------------------------------------------------------------------------------
GDELT_VOLUME_SCHEMA = {
    "city_id": pl.String,
    "date": pl.Date,
    "article_count": pl.Int64,
    "norm_total": pl.Int64,
    "response_sha256": pl.String,
}
GDELT_TONE_SCHEMA = {
    "city_id": pl.String,
    "date": pl.Date,
    "avg_tone": pl.Float64,
    "response_sha256": pl.String,
}
GDELT_SOURCE_COUNTRY_SCHEMA = {
    "city_id": pl.String,
    "date": pl.Date,
    "source_country": pl.String,
    "source_fips": pl.String,
    "value": pl.Float64,
    "response_sha256": pl.String,
}


def fetch_gdelt(
    cities: pl.DataFrame, year: int, client: gdelt.GdeltClient | None = None
) -> SourceBatch:
    """Per city: overseas volume and tone (``-sourcecountry:<FIPS>``) and all source countries."""
    client = client or gdelt.GdeltClient()
    start, end = _span(year)
    responses: list[RecordedResponse] = []
    volume, tone, countries = [], [], []
    issues: list[str] = []
    with _names_year(year):
        for row in cities.iter_rows(named=True):
            city_id, query = row["id"], (row["gdelt_query"] or "").strip()
            if not query:
                issues.append(f"gdelt: city {city_id} has no gdelt_query; not requested")
                continue
            overseas = gdelt.overseas_query(query, row["country_fips"])
            vol = client.timeline(overseas, "timelinevolraw", start, end)
            ton = client.timeline(overseas, "timelinetone", start, end)
            src = client.timeline(query, "timelinesourcecountry", start, end)
            responses += [vol, ton, src]
            volume.append(gdelt.volume_rows(vol, city_id, year))
            tone.append(gdelt.tone_rows(ton, city_id, year))
            countries.append(gdelt.source_country_rows(src, city_id, year))
    tables = {
        "gdelt_volume": _concat(volume, GDELT_VOLUME_SCHEMA),
        "gdelt_tone": _concat(tone, GDELT_TONE_SCHEMA),
        "gdelt_source_country": _concat(countries, GDELT_SOURCE_COUNTRY_SCHEMA),
    }
    return SourceBatch("gdelt", year, responses, tables, issues)


# --- Wikimedia --------------------------------------------------------------------------------
def fetch_wikimedia(
    cities: pl.DataFrame,
    year: int,
    client: wikimedia.WikimediaClient | None = None,
    *,
    sitelinks: pl.DataFrame | None = None,
) -> SourceBatch:
    """Monthly user views of each city's article in every edition with a title.

    Titles come from the registry; with ``sitelinks`` (raw.wikidata_sitelinks rows) empty
    registry cells are filled from Wikidata first.
    """
    client = client or wikimedia.WikimediaClient()
    languages = _wiki_languages()
    if sitelinks is not None:
        cities = wikidata.fill_wiki_titles(cities, sitelinks, languages)
    start, end = _span(year)
    responses: list[RecordedResponse] = []
    views, missing = [], []
    with _names_year(year):
        for row in cities.iter_rows(named=True):
            for lang in languages:
                title = (row.get(f"wiki_{lang}") or "").strip()
                if not title:
                    continue
                response = client.monthly(lang, title, start, end)
                responses.append(response)
                found, absent = wikimedia.pageview_rows(response, row["id"], lang, title, year)
                views.append(found)
                missing.append(absent)
    tables = {
        "wikimedia_pageviews": _concat(views, wikimedia.PAGEVIEW_SCHEMA),
        "wikimedia_missing": _concat(missing, wikimedia.MISSING_SCHEMA),
    }
    return SourceBatch("wikimedia", year, responses, tables)


# --- Wikidata ---------------------------------------------------------------------------------
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
    with _names_year(year):
        for batch in chunks(sorted(city_by_qid), wikidata.BATCH_SIZE):
            response = client.sitelinks(batch)
            responses.append(response)
            frame, missing = wikidata.sitelink_rows(response, city_by_qid)
            frames.append(frame)
            issues += [
                f"wikidata: entity {qid} (city {', '.join(city_by_qid.get(qid, []))}) is missing"
                for qid in missing
            ]
    tables = {"wikidata_sitelinks": _concat(frames, wikidata.SITELINK_SCHEMA)}
    return SourceBatch("wikidata", year, responses, tables, issues)


# --- World Bank -------------------------------------------------------------------------------
def fetch_worldbank(
    cities: pl.DataFrame, year: int, client: worldbank.WorldBankClient | None = None
) -> SourceBatch:
    """GDP per capita and population of the cities' countries for Y-5..Y (all years returned)."""
    client = client or worldbank.WorldBankClient()
    countries = sorted(set(cities["country_iso3"].to_list()))
    start, end = worldbank.window(year)
    responses: list[RecordedResponse] = []
    frames: list[pl.DataFrame] = []
    issues: list[str] = []
    with _names_year(year):
        for indicator in worldbank.INDICATORS:
            result = client.indicator(countries, indicator, start, end)
            responses += result.responses
            frames.append(result.table())
            if result.bad_countries:
                issues.append(
                    f"worldbank: {indicator} refused country code(s) "
                    f"{', '.join(result.bad_countries)} (error 120, invalid value)"
                )
    table = _concat(frames, worldbank.INDICATOR_SCHEMA)
    table = table.unique(["country_iso3", "indicator_id", "obs_year"], keep="first")
    table = table.sort(["indicator_id", "country_iso3", "obs_year"])
    return SourceBatch("worldbank", year, responses, {"worldbank_indicator": table}, issues)


# --- Curated CSV ------------------------------------------------------------------------------
def _file_response(checked: curated.ValidatedInput) -> RecordedResponse:
    """A validated curated file as the response it was loaded from (body = decoded text)."""
    return RecordedResponse(
        source="curated",
        request_key=hashlib.sha256(f"FILE {checked.shown}".encode()).hexdigest(),
        url=f"file:{checked.shown}",
        params={"encoding": checked.encoding},
        status=200,
        content_type="text/csv",
        body=checked.text,
        retrieved_at=utc_now_iso(),
        sha256=body_sha256(checked.text),
        synthetic=False,
    )


def fetch_curated(
    year: int,
    path: Path | None = None,
    cities: pl.DataFrame | None = None,
    *,
    inputs_dir: Path | None = None,
) -> SourceBatch:
    """The curated inputs (docs/inputs.md) as of ``year``; each file itself is the response.

    Every file is validated (pipelines.ingest.curated) before anything is returned: the first
    error raises CuratedInputError, so landing keeps the previous rows of all curated tables.
    Files are read from ``inputs_dir`` (default: the folder of ``path`` when given, else
    assets/inputs); ``path`` names the city statistics file. A missing file loads nothing; it
    is reported in ``issues``, as are header-only files and files not in plain UTF-8.
    """
    if inputs_dir is not None:
        folder = Path(inputs_dir)
    else:
        folder = Path(path).parent if path is not None else curated.INPUTS_DIR
    if cities is None:
        from pipelines.registry import load_cities

        cities = load_cities()
    city_ids = cities["id"].to_list()
    responses: list[RecordedResponse] = []
    tables: dict[str, pl.DataFrame] = {}
    issues: list[str] = []
    for spec in curated.SPECS.values():
        file = folder / spec.filename
        if path is not None and spec is curated.CITY_STATISTICS:
            file = Path(path)
        if not file.exists():
            issues.append(f"{curated.display_path(file)} not found; nothing loaded")
            tables[spec.table] = pl.DataFrame([], schema=spec.schema())
            continue
        checked = curated.validate_file(spec, file, city_ids)
        response = _file_response(checked)
        responses.append(response)
        tables[spec.table] = checked.frame(year, response.sha256)
        issues += checked.notes
    return SourceBatch("curated", year, responses, tables, issues)


# --- Hacker News, Stack Exchange, official-account followers (social attention) -------------
def _social_terms(row: dict) -> tuple[list[str], list[str]]:
    from pipelines.registry import social_terms

    return social_terms(row)


def fetch_hackernews(
    cities: pl.DataFrame, year: int, client: hackernews.HackerNewsClient | None = None
) -> SourceBatch:
    """Stories and comments mentioning each city in the partition year (one request per city
    and name variant; ``nbHits`` only). A zero is a real count; a failure raises."""
    client = client or hackernews.HackerNewsClient()
    responses: list[RecordedResponse] = []
    rows: list[dict] = []
    with _names_year(year):
        for row in cities.iter_rows(named=True):
            variants, excluded = _social_terms(row)
            for variant in variants:
                query = hackernews.build_query(variant, excluded)
                response = client.count(query, year)
                responses.append(response)
                rows.append(hackernews.mention_row(response, row["id"], year, query))
    table = pl.DataFrame(rows, schema=hackernews.MENTION_SCHEMA)
    issues = [
        f"hackernews: {r['city_id']} {r['query']} nbHits is an estimate (exhaustiveNbHits false)"
        for r in rows
        if not r["exhaustive"]
    ]
    return SourceBatch("hackernews", year, responses, {"hackernews_mentions": table}, issues)


def fetch_stackexchange(
    cities: pl.DataFrame, year: int, client: stackexchange.StackExchangeClient | None = None
) -> SourceBatch:
    """Questions on Travel and Expatriates Stack Exchange mentioning each city, created in the
    partition year (``filter=total``; one request per city, name variant and site)."""
    client = client or stackexchange.StackExchangeClient()
    responses: list[RecordedResponse] = []
    rows: list[dict] = []
    with _names_year(year):
        for row in cities.iter_rows(named=True):
            variants, excluded = _social_terms(row)
            for site in stackexchange.SITES:
                for variant in variants:
                    query = stackexchange.build_query(variant, excluded)
                    response = client.count(query, site, year)
                    responses.append(response)
                    rows.append(stackexchange.question_row(response, row["id"], site, year, query))
    table = pl.DataFrame(rows, schema=stackexchange.QUESTION_SCHEMA)
    issues = []
    if client.quota_remaining is not None:
        issues.append(
            f"stackexchange: quota_remaining {client.quota_remaining} of {client.quota_max}"
        )
    return SourceBatch("stackexchange", year, responses, {"stackexchange_questions": table}, issues)


def fetch_social(
    cities: pl.DataFrame,
    year: int,
    client: social.BlueskyClient | None = None,
    *,
    mastodon: social.MastodonClient | None = None,
    x: xapi.XClient | None = None,
    environ: dict[str, str] | None = None,
) -> SourceBatch:
    """Follower counts of the official accounts the registry lists (Bluesky, Mastodon), as a
    snapshot of the run. No handle, an unknown account, or a snapshot taken outside the year
    (or Q1 of the next) gives no row: missing, never zero. Key-gated platforms are skipped with
    a log line when their key is absent.

    With ``X_BEARER_TOKEN`` (in ``environ``, default the process environment) the batch also
    carries ``x_post_counts`` (yearly X post totals per city); without it, or in snapshot mode
    without recorded X responses, the table is left out of the batch, so landing keeps whatever
    is there (missing, never zero)."""
    issues = social.optional_platform_notes(environ)
    wanted = [
        (row["id"], platform, (row.get(column) or "").strip())
        for row in cities.iter_rows(named=True)
        for platform, column in (("bluesky", "bluesky_handle"), ("mastodon", "mastodon_account"))
    ]
    wanted = [w for w in wanted if w[2]]
    responses: list[RecordedResponse] = []
    rows: list[dict] = []
    if wanted:
        bluesky = client or social.BlueskyClient()
        mastodon = mastodon or social.MastodonClient()
    with _names_year(year):
        for city_id, platform, account in wanted:
            if platform == "bluesky":
                response, parse = bluesky.profile(account), social.parse_bluesky
            else:
                response, parse = mastodon.lookup(account), social.parse_mastodon
            responses.append(response)
            try:
                followers = parse(response)
            except social.AccountMissing as exc:
                issues.append(f"social: {city_id} {exc}; followers missing")
                continue
            if not social.describes_year(response.retrieved_at, year):
                issues.append(
                    f"social: {city_id} {platform} {account} observed {response.retrieved_at} "
                    f"cannot describe {year} (no history); followers missing"
                )
                continue
            rows.append(social.follower_row(response, city_id, platform, account, followers))
    without = cities.height - len({w[0] for w in wanted})
    if without:
        issues.append(f"social: {without} cities list no official account; followers missing")
    table = pl.DataFrame(rows, schema=social.FOLLOWER_SCHEMA)
    tables = {"social_followers": table}
    x_responses, x_table, x_issues = _fetch_x(cities, year, x, environ)
    responses += x_responses
    issues += x_issues
    if x_table is not None:
        tables["x_post_counts"] = x_table
    return SourceBatch("social", year, responses, tables, issues)


def _fetch_x(
    cities: pl.DataFrame,
    year: int,
    client: xapi.XClient | None,
    environ: dict[str, str] | None,
) -> tuple[list[RecordedResponse], pl.DataFrame | None, list[str]]:
    """X full-archive counts (one query per city, all pages summed), or ``None`` when skipped:
    no token (already reported by ``optional_platform_notes``), a year not over yet, or snapshot
    mode without recorded X responses (none are shipped: paid data)."""
    env = os.environ if environ is None else environ
    token = env.get(xapi.TOKEN_ENV, "")
    if not token:
        return [], None, []
    if not xapi.year_is_over(year):
        return [], None, [xapi.skipped(f"x: {year} is not over (complete years only); skipped")]
    client = client or xapi.XClient(token=token)
    responses: list[RecordedResponse] = []
    rows: list[dict] = []
    try:
        for row in cities.iter_rows(named=True):
            query = xapi.build_query(*_social_terms(row))
            pages = client.year_counts(query, year)
            responses += pages
            rows.append(xapi.count_row(pages, row["id"], year, query))
    except SnapshotMissing as exc:
        note = (
            f"x: no recorded X responses in the snapshot store ({exc.url}); X post counts are "
            "paid data and none are shipped: skipped (fetch with CITY_INDEX_MODE=live or record)"
        )
        return [], None, [xapi.skipped(note)]
    return responses, pl.DataFrame(rows, schema=xapi.COUNT_SCHEMA), []


FETCHERS = {
    "gdelt": fetch_gdelt,
    "wikimedia": fetch_wikimedia,
    "wikidata": fetch_wikidata,
    "worldbank": fetch_worldbank,
    "hackernews": fetch_hackernews,
    "stackexchange": fetch_stackexchange,
    "social": fetch_social,
}
