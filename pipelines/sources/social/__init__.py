"""Official city accounts: followers on Bluesky and Mastodon (run snapshots), and X post
counts when X_BEARER_TOKEN is set (opt-in, paid).

The package holds the clients and parsers (client.py, x.py), the raw tables it lands
(tables.py), its fetch for a year and its spec."""

import os

import polars as pl

from pipelines.sources.http import RecordedResponse, SnapshotMissing
from pipelines.sources.social import client as social
from pipelines.sources.social import x as xapi
from pipelines.sources.social.tables import FOLLOWERS, X_POST_COUNTS
from pipelines.sources.spec import (
    PlannedRequests,
    SourceBatch,
    SourceSpec,
    SourceTitle,
    names_year,
    social_terms,
)


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
    with names_year(year):
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
    tables = {FOLLOWERS.name: table}
    x_responses, x_table, x_issues = _fetch_x(cities, year, x, environ)
    responses += x_responses
    issues += x_issues
    if x_table is not None:
        tables[X_POST_COUNTS.name] = x_table
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
            query = xapi.build_query(*social_terms(row))
            pages = client.year_counts(query, year)
            responses += pages
            rows.append(xapi.count_row(pages, row["id"], year, query))
    except SnapshotMissing as exc:
        note = (
            f"x: no recorded X responses in the snapshot store ({exc.url}); X post counts are "
            "paid data and none are shipped: skipped (fetch with CITY_INDEX_MODE=live or record)"
        )
        return [], None, [xapi.skipped(note)]
    return responses, pl.DataFrame(rows, schema=X_POST_COUNTS.polars_schema()), []


#: X's counts at day granularity come about 31 days a page: about 12 pages a city and year.
X_PAGES_PER_YEAR = 12


def plan_social(
    cities: pl.DataFrame, year: int, *, environ: dict[str, str] | None = None, **_inputs: object
) -> list[PlannedRequests]:
    """One request per listed Bluesky handle and Mastodon account (exact); with an X token and
    a year that is over, X's paginated counts at about 12 pages per city (an estimate)."""
    plans = []
    for platform, column, client in (
        ("bluesky", "bluesky_handle", social.BlueskyClient),
        ("mastodon", "mastodon_account", social.MastodonClient),
    ):
        count = sum(1 for v in cities[column].to_list() if (v or "").strip())
        if count:
            plans.append(PlannedRequests(platform, count, client.default_config().min_interval))
    env = os.environ if environ is None else environ
    if env.get(xapi.TOKEN_ENV) and xapi.year_is_over(year):
        interval = xapi.XClient.default_config().min_interval
        pages = X_PAGES_PER_YEAR * cities.height
        plans.append(PlannedRequests("x", pages, interval, "paginated: about 12 pages a city"))
    return plans


SPEC = SourceSpec(
    name="social",
    description="Follower counts of official city accounts on Bluesky and Mastodon (run "
    "snapshots).",
    tables=(FOLLOWERS,),
    fetch=fetch_social,
    optional_tables=(X_POST_COUNTS,),
    response_sources={FOLLOWERS.name: ("bluesky", "mastodon"), X_POST_COUNTS.name: ("x",)},
    plan=plan_social,
    titles={
        "social": SourceTitle(
            "Social media accounts",
            "社交媒体账号",
            "Followers of the cities' official accounts on Bluesky and Mastodon.",
            "城市官方账号在 Bluesky 和 Mastodon 上的关注者。",
        ),
        "bluesky": SourceTitle(
            "Bluesky",
            "Bluesky",
            "Followers of the city's official Bluesky account.",
            "城市官方 Bluesky 账号的关注者。",
        ),
        "mastodon": SourceTitle(
            "Mastodon",
            "Mastodon",
            "Followers of the city's official Mastodon account.",
            "城市官方 Mastodon 账号的关注者。",
        ),
        "x": SourceTitle(
            "X (Twitter)",
            "X（推特）",
            "Posts on X mentioning the city.",
            "X 上提及该城市的帖子。",
        ),
    },
)
