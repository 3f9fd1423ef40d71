"""World Bank API v2 client and parsers: national indicators for the cities' countries.

Bodies are ``[meta, rows]`` pages; ``rows`` is ``null`` when there is nothing. Errors come back
with status 200 as ``[{"message": [...]}]``. Error 120 ("Invalid value") refuses the whole call
for one bad country code *or* a bad indicator, so a refused batch is asked again country by
country to tell which: refused codes, or every code refused (the indicator or the date range is
then the bad value), end the fetch with a SourceError naming them. A refused country is never
left out silently: its data would be missing from the edition.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import polars as pl

from pipelines.sources.http import RecordedResponse, SourceClient, SourceError, decode_json
from pipelines.sources.worldbank.tables import INDICATOR, WINDOW_YEARS

INDICATORS = ("NY.GDP.PCAP.CD", "SP.POP.TOTL")
PER_PAGE = 1000
BATCH_SIZE = 60
INVALID_VALUE_ID = "120"

INDICATOR_SCHEMA = INDICATOR.polars_schema()


class WorldBankAPIError(SourceError):
    """An error envelope (status 200); ``error_id`` 120 = invalid value, 175 = no indicator.

    The message names the indicator and the countries of the refused request."""

    def __init__(self, response: RecordedResponse, error_id: str, key: str, value: str) -> None:
        self.error_id = error_id
        self.key = key
        self.value = value
        asked = request_parts(response.url)
        super().__init__(
            response.source,
            response.url,
            response.status,
            f"error {error_id} ({key}): {value} [indicator {asked[1]}, countries {asked[0]}]",
        )


def request_parts(url: str) -> tuple[str, str]:
    """(country codes, indicator) of an indicator request URL, for error messages."""
    path = url.split("?", 1)[0]
    parts = path.split("/")
    try:
        at = parts.index("country")
        return parts[at + 1], parts[at + 3]
    except (ValueError, IndexError):
        return "?", "?"


def indicator_request(
    countries: Iterable[str], indicator: str, start: int, end: int, page: int = 1
) -> tuple[str, dict[str, str]]:
    """Path and params of one page; country codes sorted so the request key is stable."""
    codes = sorted(set(countries))
    if not codes:
        raise ValueError("no country codes")
    path = f"/v2/country/{';'.join(codes)}/indicator/{indicator}"
    params = {
        "format": "json",
        "date": f"{start}:{end}",
        "per_page": str(PER_PAGE),
        "page": str(page),
    }
    return path, params


def window(year: int) -> tuple[int, int]:
    """Observation years requested for partition ``year``: the five years before and the year."""
    return year - WINDOW_YEARS, year


def to_float(value: Any) -> float | None:
    """Values may be numbers, numeric strings (older bodies) or null."""
    if value is None or value == "":
        return None
    return float(value)


def parse_page(response: RecordedResponse) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(meta, rows) of one page; raises WorldBankAPIError on an error envelope."""
    data = decode_json(response)
    if not isinstance(data, list) or not data or not isinstance(data[0], dict):
        raise SourceError(response.source, response.url, response.status, "unexpected body")
    if "message" in data[0]:
        message = (data[0]["message"] or [{}])[0]
        raise WorldBankAPIError(
            response,
            str(message.get("id", "")),
            str(message.get("key", "")),
            str(message.get("value", "")),
        )
    meta = data[0]
    rows = data[1] if len(data) > 1 and data[1] is not None else []
    return meta, rows


def page_rows(response: RecordedResponse) -> tuple[int, pl.DataFrame]:
    """(number of pages, raw.worldbank_indicator rows) of one page; aggregates without ISO3
    codes are dropped."""
    meta, rows = parse_page(response)
    vintage = meta.get("lastupdated") or None
    out = [
        {
            "country_iso3": row["countryiso3code"],
            "indicator_id": row["indicator"]["id"],
            "obs_year": int(row["date"]),
            "value": to_float(row.get("value")),
            "last_updated": vintage,
            "response_sha256": response.sha256,
        }
        for row in rows
        if row.get("countryiso3code")
    ]
    frame = pl.DataFrame(out, schema={**INDICATOR_SCHEMA, "last_updated": pl.String}).with_columns(
        pl.col("last_updated").str.to_date("%Y-%m-%d", strict=False)
    )
    return int(meta.get("pages") or 0), frame


@dataclass
class IndicatorResult:
    """Everything one indicator fetch produced, including the refused codes."""

    responses: list[RecordedResponse] = field(default_factory=list)
    frames: list[pl.DataFrame] = field(default_factory=list)

    def table(self) -> pl.DataFrame:
        if not self.frames:
            return pl.DataFrame([], schema=INDICATOR_SCHEMA)
        return pl.concat(self.frames)


class WorldBankClient(SourceClient):
    """World Bank API v2: no key, no documented limit; clients keep to about 1 request/s."""

    NAME: ClassVar[str] = "worldbank"
    BASE_URL: ClassVar[str] = "https://api.worldbank.org"
    MIN_INTERVAL: ClassVar[float] = 1.0

    def page(
        self, countries: Iterable[str], indicator: str, start: int, end: int, page: int = 1
    ) -> RecordedResponse:
        path, params = indicator_request(countries, indicator, start, end, page)
        return self.get(path, params)

    def _all_pages(
        self, countries: list[str], indicator: str, start: int, end: int, result: IndicatorResult
    ) -> None:
        """Fetch pages 1..pages of one request; raises WorldBankAPIError before adding rows."""
        responses: list[RecordedResponse] = []
        frames: list[pl.DataFrame] = []
        page, pages = 1, 1
        while page <= pages:
            response = self.page(countries, indicator, start, end, page)
            responses.append(response)
            try:
                pages, frame = page_rows(response)
            except WorldBankAPIError:
                result.responses.extend(responses)  # the refusal itself is evidence
                raise
            frames.append(frame)
            page += 1
        result.responses.extend(responses)
        result.frames.extend(frames)

    def indicator(
        self, countries: Iterable[str], indicator: str, start: int, end: int
    ) -> IndicatorResult:
        """All pages for all countries. A batch refused with error 120 is asked again country
        by country, only to name what was refused; any refusal raises a SourceError."""
        result = IndicatorResult()
        codes = sorted(set(countries))
        for batch in batches(codes):
            try:
                self._all_pages(batch, indicator, start, end, result)
            except WorldBankAPIError as exc:
                if exc.error_id != INVALID_VALUE_ID:
                    raise
                refused = batch if len(batch) == 1 else self._refused(batch, indicator, start, end)
                raise self._refusal(exc, batch, refused, indicator, start, end) from None
        return result

    def _refused(self, codes: list[str], indicator: str, start: int, end: int) -> list[str]:
        """The codes of ``codes`` refused one by one (what the other ones return is dropped:
        the fetch fails anyway)."""
        refused = []
        for code in codes:
            try:
                self._all_pages([code], indicator, start, end, IndicatorResult())
            except WorldBankAPIError as exc:
                if exc.error_id != INVALID_VALUE_ID:
                    raise
                refused.append(code)
        return refused

    def _refusal(
        self,
        exc: WorldBankAPIError,
        batch: list[str],
        refused: list[str],
        indicator: str,
        start: int,
        end: int,
    ) -> SourceError:
        if len(batch) == 1:
            what = (
                f"country {batch[0]} or indicator {indicator} (or the dates {start}:{end}) "
                "is not a valid value"
            )
        elif refused and len(refused) == len(batch):
            what = (
                f"every country was refused one by one: indicator {indicator} (or the dates "
                f"{start}:{end}) is not a valid value"
            )
        elif refused:
            what = f"country code(s) {', '.join(refused)} refused for indicator {indicator}"
        else:
            what = (
                f"the batch was refused for indicator {indicator} but every country alone "
                "was accepted"
            )
        return SourceError(
            self.source, exc.url, exc.status, f"error 120 ({exc.key}: {exc.value}): {what}"
        )


def batches(codes: list[str]) -> list[list[str]]:
    """The country batches of one indicator's requests (BATCH_SIZE codes each)."""
    return [codes[i : i + BATCH_SIZE] for i in range(0, len(codes), BATCH_SIZE)]


def planned_requests(countries: Iterable[str]) -> int:
    """Requests of a fetch: one page per batch and indicator (a batch of 60 countries x 6
    years is 360 rows, within one page of PER_PAGE), when nothing is refused."""
    codes = sorted(set(countries))
    pages_per_batch = [max(1, -(-len(b) * (WINDOW_YEARS + 1) // PER_PAGE)) for b in batches(codes)]
    return len(INDICATORS) * sum(pages_per_batch)
