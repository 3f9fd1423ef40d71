"""Stack Exchange (Travel, Expatriates): questions mentioning each city per year.

The package holds the client and parsers (client.py), the raw table it lands (tables.py),
its fetch for a year and its spec."""

import polars as pl

from pipelines.sources.http import QuotaExhausted, RecordedResponse
from pipelines.sources.spec import (
    PlannedRequests,
    SourceBatch,
    SourceSpec,
    SourceTitle,
    names_year,
    social_terms,
)
from pipelines.sources.stackexchange import client as stackexchange
from pipelines.sources.stackexchange.tables import QUESTIONS


def fetch_stackexchange(
    cities: pl.DataFrame, year: int, client: stackexchange.StackExchangeClient | None = None
) -> SourceBatch:
    """Questions on Travel and Expatriates Stack Exchange mentioning each city, created in the
    partition year (one request per city, name variant and site). A spent quota stops the
    fetch with :class:`QuotaExhausted` saying how many requests are left and when to go on."""
    client = client or stackexchange.StackExchangeClient()
    wanted = [
        (row["id"], site, stackexchange.build_query(variant, excluded))
        for row in cities.iter_rows(named=True)
        for variants, excluded in [social_terms(row)]
        for site in stackexchange.SITES
        for variant in variants
    ]
    responses: list[RecordedResponse] = []
    rows: list[dict] = []
    with names_year(year):
        for city_id, site, query in wanted:
            try:
                response = client.count(query, site, year)
            except QuotaExhausted as exc:
                raise exc.with_requests_left(len(wanted) - len(responses)) from None
            responses.append(response)
            rows.append(stackexchange.question_row(response, city_id, site, year, query))
    table = pl.DataFrame(rows, schema=QUESTIONS.polars_schema())
    issues = []
    if client.quota_remaining is not None:
        issues.append(
            f"stackexchange: quota_remaining {client.quota_remaining} of {client.quota_max}"
        )
    return SourceBatch("stackexchange", year, responses, {QUESTIONS.name: table}, issues)


def plan_stackexchange(cities: pl.DataFrame, year: int, **_inputs: object) -> list[PlannedRequests]:
    """One request per city, name variant and site: exact."""
    variants = sum(len(social_terms(row)[0]) for row in cities.iter_rows(named=True))
    config = stackexchange.StackExchangeClient.default_config()
    return [
        PlannedRequests("stackexchange", variants * len(stackexchange.SITES), config.min_interval)
    ]


SPEC = SourceSpec(
    name="stackexchange",
    description="Questions mentioning each city per year on Travel and Expatriates Stack Exchange.",
    tables=(QUESTIONS,),
    fetch=fetch_stackexchange,
    plan=plan_stackexchange,
    titles={
        "stackexchange": SourceTitle(
            "Stack Exchange",
            "Stack Exchange",
            "Questions about the city on the Travel and Expatriates Q&A sites.",
            "Stack Exchange 旅行与外籍人士问答站上关于该城市的提问。",
            "Stack Exchange",
        ),
    },
)
