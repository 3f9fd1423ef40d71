"""GDELT DOC 2.0 API client and parsers: coverage volume, tone and source countries per city.

One call per city and mode spans every year (2017 to the last year), so one recorded response
serves every yearly partition. Quirks handled (see docs/sources.md): the throttle sentence with
429 *or* 200, plain-text error sentences with 200, ``{}`` for no results, JSON broken by control
characters in titles, and the bucket size given in ``query_details.date_resolution``.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar

import polars as pl

from pipelines.sources.http import (
    PROJECT_ROOT,
    Answer,
    RecordedResponse,
    SourceClient,
    SourceConfig,
    SourceError,
    Throttle,
)

PATH = "/api/v2/doc/doc"
MODES = ("timelinevolraw", "timelinetone", "timelinesourcecountry")
THROTTLE_MARKER = "please limit requests"
RESOLUTIONS = ("15min", "hour", "day", "week", "month")
MAX_JSON_REPAIRS = 100
COUNTRIES_FILE = PROJECT_ROOT / "assets" / "reference" / "countries.json"

TIMELINE_SCHEMA = {
    "series": pl.String,
    "date": pl.Datetime("us"),
    "value": pl.Float64,
    "norm": pl.Float64,
}

#: GDELT writes some countries by their FIPS 10-4 era names; GeoNames uses current names.
LABEL_ALIASES = {
    "czechrepublic": "EZ",
    "burma": "BM",
    "macau": "MC",
    "vaticancity": "VT",
    "swaziland": "WZ",
    "macedonia": "MK",
    "capeverde": "CV",
    "easttimor": "TT",
    "congo": "CF",
    "thebahamas": "BF",
    "thegambia": "GA",
    "palestine": "WE",
    "westbank": "WE",
    "cotedivoire": "IV",
}


def overseas_query(query: str, country_fips: str) -> str:
    """Coverage by outlets outside the city's own country (GDELT wants FIPS, not ISO)."""
    return f"{query} -sourcecountry:{country_fips}"


def gdelt_datetime(day: date, end: bool = False) -> str:
    return day.strftime("%Y%m%d") + ("235959" if end else "000000")


def timeline_request(query: str, mode: str, start: date, end: date) -> tuple[str, dict[str, str]]:
    """Path and params of one timeline call covering ``start``..``end`` (inclusive days)."""
    if mode not in MODES:
        raise ValueError(f"unsupported GDELT mode {mode!r}")
    params = {
        "query": query,
        "mode": mode,
        "format": "json",
        "startdatetime": gdelt_datetime(start),
        "enddatetime": gdelt_datetime(end, end=True),
    }
    return PATH, params


def is_throttle_text(body: str) -> bool:
    return body.lstrip()[:80].lower().startswith(THROTTLE_MARKER)


def load_json(text: str, max_repairs: int = MAX_JSON_REPAIRS) -> Any:
    """Parse JSON, deleting the character at each decode error (as gdeltdoc does), bounded."""
    for _ in range(max_repairs + 1):
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            if exc.pos >= len(text):
                raise
            last = exc
            text = text[: exc.pos] + text[exc.pos + 1 :]
    raise ValueError(f"JSON still invalid after {max_repairs} repairs: {last}")


def decode_timeline(response: RecordedResponse) -> dict[str, Any]:
    """The JSON object of a timeline response, or SourceError for GDELT's text answers."""
    body = response.body.strip()
    if is_throttle_text(body):
        raise SourceError(response.source, response.url, response.status, body[:200])
    if not body:
        raise SourceError(response.source, response.url, response.status, "empty body")
    if "html" in response.content_type.lower() or not body.startswith("{"):
        # Query errors come back as one plain sentence with status 200.
        sentence = " ".join(body.split())[:300]
        raise SourceError(response.source, response.url, response.status, sentence)
    try:
        data = load_json(body)
    except ValueError as exc:
        raise SourceError(response.source, response.url, response.status, str(exc)) from exc
    if not isinstance(data, dict):
        raise SourceError(response.source, response.url, response.status, "not a JSON object")
    return data


def parse_bucket(text: str) -> datetime:
    """Bucket start: ``YYYYMMDDTHHMMSSZ`` (also accepts ``YYYYMMDDHHMMSS``)."""
    digits = text.replace("T", "").replace("Z", "")
    return datetime.strptime(digits, "%Y%m%d%H%M%S")


def parse_timeline(response: RecordedResponse) -> pl.DataFrame:
    """Long frame (series, date, value, norm): one row per series and bucket; ``{}`` -> 0 rows."""
    data = decode_timeline(response)
    resolution = str(data.get("query_details", {}).get("date_resolution", "day")).lower()
    if resolution not in RESOLUTIONS:
        raise SourceError(
            response.source, response.url, response.status, f"unknown date_resolution {resolution}"
        )
    rows: list[dict[str, Any]] = []
    for series in data.get("timeline") or []:
        label = str(series.get("series", ""))
        for point in series.get("data") or []:
            value = point.get("value")
            norm = point.get("norm")
            rows.append(
                {
                    "series": label,
                    "date": parse_bucket(str(point["date"])),
                    "value": None if value is None else float(value),
                    "norm": None if norm is None else float(norm),
                }
            )
    return pl.DataFrame(rows, schema=TIMELINE_SCHEMA)


def _in_year(frame: pl.DataFrame, year: int | None) -> pl.DataFrame:
    return frame if year is None else frame.filter(pl.col("date").dt.year() == year)


def volume_rows(response: RecordedResponse, city_id: str, year: int | None) -> pl.DataFrame:
    """raw.gdelt_volume rows: article count and GDELT's total monitored articles per bucket."""
    frame = _in_year(parse_timeline(response), year)
    labels = frame["series"].unique().to_list()
    if len(labels) > 1:
        frame = frame.filter(pl.col("series") == "Article Count")
    return frame.select(
        pl.lit(city_id).alias("city_id"),
        pl.col("date").dt.date(),
        pl.col("value").round(0).cast(pl.Int64).alias("article_count"),
        pl.col("norm").round(0).cast(pl.Int64).alias("norm_total"),
        pl.lit(response.sha256).alias("response_sha256"),
    )


def tone_rows(response: RecordedResponse, city_id: str, year: int | None) -> pl.DataFrame:
    """raw.gdelt_tone rows: average tone per bucket."""
    frame = _in_year(parse_timeline(response), year)
    return frame.select(
        pl.lit(city_id).alias("city_id"),
        pl.col("date").dt.date(),
        pl.col("value").alias("avg_tone"),
        pl.lit(response.sha256).alias("response_sha256"),
    )


def normalise_label(label: str) -> str:
    text = label.lower()
    for suffix in (" volume intensity", " article count"):
        text = text.removesuffix(suffix)
    return re.sub(r"[^a-z0-9]", "", text)


@lru_cache(maxsize=4)
def country_fips_by_label(path: Path = COUNTRIES_FILE) -> dict[str, str]:
    """Normalised country name -> FIPS 10-4, from GeoNames' countries.json plus GDELT aliases."""
    countries = json.loads(path.read_text(encoding="utf-8"))
    mapping = {
        normalise_label(item["name"]): item["fips"]
        for item in countries.values()
        if item.get("fips")
    }
    mapping.update(LABEL_ALIASES)
    return mapping


def source_fips(label: str, lookup: dict[str, str] | None = None) -> str | None:
    """FIPS code of an opaque series label, or None when it matches no country name."""
    table = lookup if lookup is not None else country_fips_by_label()
    return table.get(normalise_label(label))


def source_country_rows(response: RecordedResponse, city_id: str, year: int | None) -> pl.DataFrame:
    """raw.gdelt_source_country rows; unmatched labels are kept with a null source_fips."""
    frame = _in_year(parse_timeline(response), year)
    lookup = country_fips_by_label()
    fips = pl.Series("source_fips", [source_fips(s, lookup) for s in frame["series"]], pl.String)
    return frame.with_columns(fips).select(
        pl.lit(city_id).alias("city_id"),
        pl.col("date").dt.date(),
        pl.col("series").alias("source_country"),
        pl.col("source_fips"),
        pl.col("value"),
        pl.lit(response.sha256).alias("response_sha256"),
    )


class GdeltClient(SourceClient):
    """GDELT DOC 2.0: serial, one request per 5 s at most (6 s is kinder when it is busy)."""

    NAME: ClassVar[str] = "gdelt"
    BASE_URL: ClassVar[str] = "https://api.gdeltproject.org"
    MIN_INTERVAL: ClassVar[float] = 5.0

    @classmethod
    def default_config(cls, **overrides: Any) -> SourceConfig:
        """Back off 10 s, 20 s, 40 s...: GDELT's throttle window outlasts short retry loops."""
        return super().default_config(**{"backoff_factor": 10.0, **overrides})

    def rate_limit(self, answer: Answer) -> Throttle | None:
        """GDELT's throttle sentence (with 200 or 429) is a refusal: back off and ask again."""
        return Throttle() if is_throttle_text(answer.body) else None

    def check(self, response: RecordedResponse) -> None:
        decode_timeline(response)

    def timeline(self, query: str, mode: str, start: date, end: date) -> RecordedResponse:
        path, params = timeline_request(query, mode, start, end)
        return self.get(path, params)
