"""GDELT DOC 2.0 API client and parsers: coverage volume, tone and source countries per city.

One call per city, mode and partition year, covering that year only: the bucket size of a
timeline depends on the span asked for (daily up to about 2.5 years is what has been recorded;
a 2017-2025 span is beyond anything documented), so a one-year span keeps the answers daily.
Whatever resolution comes back (``15m``, ``15min``, ``hour``, ``day``, ``week``, ``month``...)
is accepted: points are summed (counts) or averaged (tone, shares) per calendar day, the key of
the raw tables. Quirks handled (see docs/sources.md): the throttle sentence with 429 *or* 200,
plain-text error sentences with 200 ("The specified phrase is too short.", "Invalid/Unsupported
Country.", "OR'd terms must be surrounded by ()"), ``{}`` for no results and JSON broken by
control characters in titles. Queries are built to GDELT's rules by :func:`build_query`.
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


class QueryError(ValueError):
    """A registry query GDELT would refuse; raised before any request is sent."""


#: A token of a query: a quoted phrase, a parenthesis, or a run of other characters.
_TOKEN = re.compile(r'"[^"]*"|[()]|[^\s()"]+')
#: Characters GDELT accepts in an unquoted keyword (others must be quoted, per its docs).
_BARE_WORD = re.compile(r"^-?[\w.:]+$")


def _phrase(text: str, query: str) -> str:
    """A quoted phrase as GDELT accepts it: a single word is refused in quotes ("The specified
    phrase is too short."), so it goes bare, without its apostrophes (``"Xi'an"`` -> ``Xian``:
    unquoted, an apostrophe is an illegal character)."""
    words = text.split()
    if not words:
        raise QueryError(f"empty phrase in GDELT query {query!r}")
    if len(words) > 1:
        return '"' + " ".join(words) + '"'
    word = words[0].replace("'", "").replace("\u2019", "")
    if not _BARE_WORD.match(word):
        raise QueryError(
            f"GDELT query {query!r}: {text!r} is one word with characters GDELT refuses "
            "unquoted, and a quoted single word is refused as too short"
        )
    return word


def build_query(query: str) -> str:
    """The registry's ``gdelt_query`` written to GDELT's documented rules.

    Phrases of two or more words stay quoted; a quoted single word goes bare (see
    :func:`_phrase`); ``OR`` must be inside parentheses ("OR'd terms must be surrounded by
    ()"), so a top-level ``a OR b`` is wrapped; unbalanced parentheses or quotes are refused
    here with the query named, not by GDELT after a 5 s wait."""
    text = " ".join((query or "").split())
    if not text:
        raise QueryError("empty GDELT query")
    if text.count('"') % 2:
        raise QueryError(f"unbalanced quotes in GDELT query {query!r}")
    tokens = _TOKEN.findall(text)
    out: list[str] = []
    depth, top_level_or = 0, False
    for token in tokens:
        if token == "(":
            depth += 1
            out.append(token)
        elif token == ")":
            depth -= 1
            if depth < 0:
                raise QueryError(f"unbalanced parentheses in GDELT query {query!r}")
            out.append(token)
        elif token.startswith('"'):
            out.append(_phrase(token.strip('"'), query))
        elif token == "OR":
            top_level_or = top_level_or or depth == 0
            out.append(token)
        elif _BARE_WORD.match(token.replace("'", "")):
            out.append(token.replace("'", ""))
        else:
            raise QueryError(f"GDELT query {query!r}: {token!r} must be quoted")
    if depth:
        raise QueryError(f"unbalanced parentheses in GDELT query {query!r}")
    built = " ".join(out).replace("( ", "(").replace(" )", ")")
    return f"({built})" if top_level_or else built


@lru_cache(maxsize=4)
def known_fips(path: Path = COUNTRIES_FILE) -> frozenset[str]:
    """The FIPS 10-4 codes GeoNames lists: what ``sourcecountry:`` takes."""
    countries = json.loads(path.read_text(encoding="utf-8"))
    return frozenset(item["fips"] for item in countries.values() if item.get("fips"))


def overseas_query(query: str, country_fips: str) -> str:
    """Coverage by outlets outside the city's own country (GDELT wants FIPS, not ISO); an
    unknown code is refused here (GDELT would answer "Invalid/Unsupported Country.")."""
    code = (country_fips or "").strip().upper()
    if code not in known_fips():
        raise QueryError(f"{country_fips!r} is not a FIPS 10-4 country code GDELT knows")
    return f"{build_query(query)} -sourcecountry:{code}"


def year_window(year: int) -> tuple[date, date]:
    """The days one request covers for partition ``year``: that year only (daily buckets)."""
    return date(year, 1, 1), date(year, 12, 31)


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


def resolution(response: RecordedResponse) -> str:
    """The bucket size GDELT reports (``query_details.date_resolution``), as given."""
    data = decode_timeline(response)
    return str((data.get("query_details") or {}).get("date_resolution", ""))


def parse_timeline(response: RecordedResponse) -> pl.DataFrame:
    """Long frame (series, date, value, norm): one row per series and bucket; ``{}`` -> 0 rows.

    Every bucket size is accepted: the timestamps say where each bucket starts, so the
    ``date_resolution`` label (``15m``, ``15min``, ``hour``, ``day``...) is not needed."""
    data = decode_timeline(response)
    rows: list[dict[str, Any]] = []
    for series in data.get("timeline") or []:
        label = str(series.get("series", ""))
        for point in series.get("data") or []:
            value = point.get("value")
            norm = point.get("norm")
            try:
                bucket = parse_bucket(str(point["date"]))
            except (KeyError, ValueError) as exc:
                raise SourceError(
                    response.source,
                    response.url,
                    response.status,
                    f"unreadable bucket date {point.get('date')!r} in series {label!r}",
                ) from exc
            rows.append(
                {
                    "series": label,
                    "date": bucket,
                    "value": None if value is None else float(value),
                    "norm": None if norm is None else float(norm),
                }
            )
    return pl.DataFrame(rows, schema=TIMELINE_SCHEMA)


def daily(frame: pl.DataFrame, how: str) -> pl.DataFrame:
    """One row per series and calendar day: buckets finer than a day (15 minutes, hours) are
    summed (``how="sum"``: counts and their norm) or averaged (``"mean"``: tone, shares);
    daily and coarser buckets pass unchanged (one bucket per day)."""
    agg = pl.sum if how == "sum" else pl.mean
    return (
        frame.with_columns(pl.col("date").dt.truncate("1d"))
        .group_by("series", "date", maintain_order=True)
        .agg(agg("value").alias("value"), agg("norm").alias("norm"))
        .sort("series", "date", maintain_order=True)
    )


def _in_year(frame: pl.DataFrame, year: int | None, how: str) -> pl.DataFrame:
    frame = daily(frame, how)
    return frame if year is None else frame.filter(pl.col("date").dt.year() == year)


def volume_rows(response: RecordedResponse, city_id: str, year: int | None) -> pl.DataFrame:
    """raw.gdelt_volume rows: article count and GDELT's total monitored articles per bucket."""
    frame = _in_year(parse_timeline(response), year, "sum")
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
    """raw.gdelt_tone rows: average tone per day (unweighted mean of finer buckets)."""
    frame = _in_year(parse_timeline(response), year, "mean")
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
    frame = _in_year(parse_timeline(response), year, "mean")
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
