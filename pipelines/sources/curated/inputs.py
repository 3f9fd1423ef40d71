"""Curated CSV inputs (``assets/inputs/``): column specs, decoding and one validator per input.

Analysts keep three CSVs by hand (docs/inputs.md). Each is described by an :class:`InputSpec`
(columns with type, required, allowed values or range; key columns; the year column compared
with the partition year) and checked by the same code:

* bytes are decoded as UTF-8 (a UTF-8 BOM is stripped), else as GBK (Chinese Windows "ANSI"
  exports); the encoding used is reported;
* the file is parsed with the ``csv`` module (quoting respected: ``Xi'an``, ``"a, b"``);
* the header must hold exactly the spec's columns (missing or extra columns are errors);
* every cell is checked against its column; keys must be unique; city ids must be in the
  registry.

The first problem raises :class:`CuratedInputError` naming the file, the 1-based row (header =
row 1, i.e. the row number a spreadsheet shows) and the column, so nothing is loaded from a file
with an error. A header-only file is valid: it loads nothing and says so.
"""

from __future__ import annotations

import codecs
import csv
import io
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import polars as pl

from pipelines.errors import refusal
from pipelines.settings import ASSETS_DIR, FIRST_YEAR, LATEST_COMPLETE_YEAR, PROJECT_ROOT

INPUTS_DIR = ASSETS_DIR / "inputs"
TEMPLATES_DIR = INPUTS_DIR / "templates"
#: Earliest year a city statistic may refer to (older statistics are allowed as context).
EARLIEST_STAT_YEAR = 1950


@refusal
class CuratedInputError(ValueError):
    """A curated CSV is invalid; the message names the file, row (header = 1) and column.

    ``column`` is None only for problems of the whole file (empty, undecodable).
    """

    def __init__(self, path: str, row: int, column: str | None, message: str) -> None:
        self.path, self.row, self.column, self.reason = path, row, column, message
        where = f"{path}, row {row}" + (f", column {column!r}" if column else "")
        super().__init__(f"{where}: {message}")

    @property
    def file(self) -> str:
        return self.path


# --- Specs ------------------------------------------------------------------------------------
#: Column kinds: how a cell is parsed, and the polars type it is stored as.
KIND_DTYPES: dict[str, pl.DataType] = {
    "text": pl.String,
    "city": pl.String,  # a registry id
    "url": pl.String,  # http:// or https://
    "year": pl.Int32,
    "integer": pl.Int64,
    "number": pl.Float64,
}

_INTEGER_RE = re.compile(r"^[+-]?\d+$")
_NUMBER_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


@dataclass(frozen=True)
class Column:
    """One CSV column: its kind, whether it may be empty, allowed values or range."""

    name: str
    kind: str
    meaning: str
    required: bool = True
    allowed: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    stored_as: str | None = None  # column name in the raw table (default: the CSV name)

    def __post_init__(self) -> None:
        if self.kind not in KIND_DTYPES:
            raise ValueError(f"unknown column kind {self.kind!r}")

    @property
    def target(self) -> str:
        return self.stored_as or self.name


@dataclass(frozen=True)
class InputSpec:
    """One curated input: file name, columns (in header order), key and year column."""

    name: str
    table: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    # Rows with this year <= the partition year are loaded; None loads every row for every
    # partition (structural statistics: the model picks the estimate nearest the year).
    year_column: str | None

    @property
    def filename(self) -> str:
        return f"{self.name}.csv"

    @property
    def header(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def schema(self) -> dict[str, pl.DataType]:
        """Polars schema of the raw table (without the partition ``year``)."""
        schema = {c.target: KIND_DTYPES[c.kind] for c in self.columns}
        schema.update(
            {"source_file": pl.String, "source_row": pl.Int32, "response_sha256": pl.String}
        )
        return schema

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def _source_url(what: str) -> Column:
    return Column("source_url", "url", f"where {what} was published (http:// or https://)")


CITY_STATISTICS = InputSpec(
    name="city_statistics",
    table="curated_city_statistics",
    description="Official city statistics (population, GDP, ...) not available from an API.",
    columns=(
        Column("city_id", "city", "registry id (assets/cities.csv `id`, e.g. `xian`)"),
        Column(
            "year",
            "year",
            "year the statistic refers to",
            minimum=EARLIEST_STAT_YEAR,
            maximum=LATEST_COMPLETE_YEAR,
            stored_as="stat_year",
        ),
        Column("indicator", "text", "indicator code, e.g. `population_agglomeration`"),
        Column("value", "number", "the figure, in `unit` (>= 0)", minimum=0),
        Column("unit", "text", "unit of `value`, e.g. `persons`, `USD`"),
        _source_url("the figure"),
    ),
    key=("city_id", "year", "indicator"),
    year_column=None,
)

OUTREACH = InputSpec(
    name="outreach",
    table="curated_outreach",
    description="Outreach figures reported by city offices (official social media accounts).",
    columns=(
        Column("city_id", "city", "registry id (assets/cities.csv `id`)"),
        Column(
            "year",
            "year",
            "year the figure refers to (a partition year)",
            minimum=FIRST_YEAR,
            maximum=LATEST_COMPLETE_YEAR,
            stored_as="stat_year",
        ),
        Column("platform", "text", "platform as named by the office, e.g. `weibo`, `x`"),
        Column("account", "text", "account name or handle on that platform"),
        Column(
            "metric",
            "text",
            "what `value` counts",
            allowed=("posts", "followers", "views"),
        ),
        Column("value", "integer", "the count (whole number >= 0)", minimum=0),
        _source_url("the office reported the figure"),
    ),
    key=("city_id", "year", "platform", "account", "metric"),
    year_column="year",
)

PUBLISHED_RANKINGS = InputSpec(
    name="published_rankings",
    table="curated_published_rankings",
    description="Published city rankings, kept for external validation of the index.",
    columns=(
        Column("ranking", "text", "ranking name, e.g. `GaWC global network connectivity`"),
        Column(
            "edition_year",
            "year",
            "year of the ranking's edition (a partition year)",
            minimum=FIRST_YEAR,
            maximum=LATEST_COMPLETE_YEAR,
        ),
        Column("city_id", "city", "registry id (assets/cities.csv `id`)"),
        Column("position", "integer", "the city's published rank (1 = first)", minimum=1),
        _source_url("the ranking"),
    ),
    key=("ranking", "edition_year", "city_id"),
    year_column="edition_year",
)

SPECS: dict[str, InputSpec] = {s.name: s for s in (CITY_STATISTICS, OUTREACH, PUBLISHED_RANKINGS)}


# --- Decoding ---------------------------------------------------------------------------------
def decode(data: bytes, shown: str) -> tuple[str, str]:
    """Text and the encoding used: UTF-8 (BOM stripped) strictly, else GBK."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise CuratedInputError(
            shown, 1, None, "file is UTF-16 (Excel 'Unicode text'); save it as CSV UTF-8"
        )
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[len(codecs.BOM_UTF8) :].decode("utf-8"), "utf-8 (BOM stripped)"
        except UnicodeDecodeError as exc:
            _undecodable(data, exc, shown, "has a UTF-8 BOM but is not valid UTF-8")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gbk"), "gbk"
    except UnicodeDecodeError as exc:
        _undecodable(data, exc, shown, "is neither UTF-8 nor GBK")
    raise AssertionError("unreachable")


def _undecodable(data: bytes, exc: UnicodeDecodeError, shown: str, what: str) -> None:
    """Raise an error at the row (and, when it can be told, the column) of the bad byte."""
    before = data[: exc.start].decode("utf-8", errors="replace")
    row = before.count("\n") + 1
    column = None
    try:
        records = list(csv.reader(io.StringIO(before)))
        header = [h.strip() for h in records[0]] if records else []
        if row > 1 and records and header:
            index = len(records[-1]) - 1
            column = header[index] if 0 <= index < len(header) else None
    except csv.Error:
        pass
    raise CuratedInputError(
        shown, row, column, f"file {what} (byte 0x{data[exc.start]:02x}); save it as CSV UTF-8"
    )


# --- Validation -------------------------------------------------------------------------------
@dataclass
class ValidatedInput:
    """A curated file that passed every check: its rows and how it was read."""

    spec: InputSpec
    shown: str  # the file as named in messages (relative to the project when inside it)
    text: str
    encoding: str
    rows: list[dict[str, object]] = field(default_factory=list)

    @property
    def notes(self) -> list[str]:
        """Facts worth reporting (non-fatal)."""
        notes = []
        if self.encoding != "utf-8":
            notes.append(f"{self.shown}: decoded as {self.encoding}")
        if not self.rows:
            notes.append(f"{self.shown}: header only, no rows (nothing loaded)")
        return notes

    def frame(self, year: int | None = None, sha256: str | None = None) -> pl.DataFrame:
        """Rows as a frame of the raw table's schema; with ``year``, only those as of it."""
        spec = self.spec
        target = spec.column(spec.year_column).target if spec.year_column else None
        kept = [
            {**r, "response_sha256": sha256}
            for r in self.rows
            if year is None or target is None or r[target] <= year
        ]
        return pl.DataFrame(kept, schema=spec.schema())


def _parse_cell(column: Column, raw: str, shown: str, row: int) -> object:
    def fail(message: str) -> CuratedInputError:
        return CuratedInputError(shown, row, column.name, message)

    if raw == "":
        if column.required:
            raise fail("required value is empty")
        return None
    value: object = raw
    if column.kind in ("year", "integer"):
        if not _INTEGER_RE.match(raw):
            what = "a year" if column.kind == "year" else "a whole number"
            raise fail(f"{raw!r} is not {what}")
        value = int(raw)
    elif column.kind == "number":
        if not _NUMBER_RE.match(raw):
            raise fail(f"{raw!r} is not a number (digits, '.' as decimal point, no separators)")
        value = float(raw)
        if not math.isfinite(value):
            raise fail(f"{raw!r} is not a finite number")
    elif column.kind == "url":
        parts = urlsplit(raw)
        if parts.scheme not in ("http", "https") or not parts.netloc or " " in raw:
            raise fail(f"{raw!r} is not a URL starting with http:// or https://")
    if column.allowed is not None and value not in column.allowed:
        raise fail(f"{raw!r} is not one of {', '.join(column.allowed)}")
    if isinstance(value, int | float):
        if column.minimum is not None and value < column.minimum:
            if column.kind == "year":
                raise fail(f"year {raw} is before {column.minimum:g} ({_year_range(column)})")
            if column.minimum == 0:
                raise fail(f"{raw} is negative; values must be >= 0")
            raise fail(f"{raw} is below the minimum {column.minimum:g}")
        if column.maximum is not None and value > column.maximum:
            if column.kind == "year":
                raise fail(f"year {raw} is after {column.maximum:g} ({_year_range(column)})")
            raise fail(f"{raw} is above the maximum {column.maximum:g}")
    return value


def _year_range(column: Column) -> str:
    bounds = f"{column.minimum:g}..{column.maximum:g}"
    if column.minimum == FIRST_YEAR:
        return f"allowed: the partition years {bounds}"
    return f"allowed: {bounds}"


def _check_header(spec: InputSpec, header: list[str], shown: str) -> None:
    seen: set[str] = set()
    for position, name in enumerate(header, start=1):
        if name == "":
            raise CuratedInputError(
                shown, 1, f"#{position}", "empty column name (a trailing comma?)"
            )
        if name in seen:
            raise CuratedInputError(shown, 1, name, "column appears twice in the header")
        seen.add(name)
    expected = ",".join(spec.header)
    missing = [c for c in spec.header if c not in seen]
    if missing:
        raise CuratedInputError(
            shown,
            1,
            missing[0],
            f"required column(s) missing: {', '.join(missing)} (expected header: {expected})",
        )
    extra = [c for c in header if c not in spec.header]
    if extra:
        raise CuratedInputError(
            shown,
            1,
            extra[0],
            f"unexpected column(s): {', '.join(extra)} (expected header: {expected})",
        )


def _key_text(value: object) -> object:
    return value.casefold() if isinstance(value, str) else value


def validate_text(
    spec: InputSpec, text: str, shown: str, city_ids: Iterable[str]
) -> list[dict[str, object]]:
    """Validated rows (raw-table column names, plus source_file and source_row)."""
    city_ids = set(city_ids)
    if "\x00" in text:
        row = text[: text.index("\x00")].count("\n") + 1
        raise CuratedInputError(shown, row, None, "NUL byte: not a text CSV (UTF-16?)")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        records = list(reader)
    except csv.Error as exc:
        raise CuratedInputError(shown, reader.line_num, None, f"not a valid CSV: {exc}") from None
    if not records or not any(cell.strip() for cell in records[0]):
        raise CuratedInputError(
            shown, 1, None, f"no header row (expected: {','.join(spec.header)})"
        )
    header = [h.strip() for h in records[0]]
    _check_header(spec, header, shown)
    keys: dict[tuple[object, ...], int] = {}
    rows: list[dict[str, object]] = []
    for number, record in enumerate(records[1:], start=2):
        cells = [cell.strip() for cell in record]
        if not any(cells):
            continue  # blank line
        if len(cells) > len(header):
            raise CuratedInputError(
                shown,
                number,
                f"#{len(header) + 1}",
                f"{len(cells)} fields but the header has {len(header)} "
                "(a comma inside a value must be quoted)",
            )
        values = dict(zip(header, cells + [""] * (len(header) - len(cells)), strict=True))
        parsed: dict[str, object] = {}
        for column in spec.columns:
            value = _parse_cell(column, values[column.name], shown, number)
            if column.kind == "city" and value is not None and value not in city_ids:
                raise CuratedInputError(
                    shown, number, column.name, f"unknown city id {value!r} (see assets/cities.csv)"
                )
            parsed[column.name] = value
        key = tuple(_key_text(parsed[c]) for c in spec.key)
        if key in keys:
            shown_key = ", ".join(f"{c}={parsed[c]!r}" for c in spec.key)
            raise CuratedInputError(
                shown,
                number,
                ",".join(spec.key),
                f"duplicate key ({shown_key}): rows {keys[key]} and {number}",
            )
        keys[key] = number
        out = {spec.column(name).target: value for name, value in parsed.items()}
        rows.append({**out, "source_file": shown, "source_row": number})
    return rows


def display_path(path: Path) -> str:
    """The file relative to the project when inside it (as messages and raw rows name it)."""
    try:
        return path.resolve().relative_to(PROJECT_ROOT).as_posix()
    except ValueError:
        return str(path)


def validate_file(
    spec: InputSpec, path: Path, city_ids: Iterable[str] | None = None
) -> ValidatedInput:
    """Read, decode and validate one curated file; raises CuratedInputError on any problem."""
    path = Path(path)
    shown = display_path(path)
    data = path.read_bytes()
    if not data:
        raise CuratedInputError(
            shown, 1, None, f"empty file (0 bytes); expected the header {','.join(spec.header)}"
        )
    text, encoding = decode(data, shown)
    if city_ids is None:
        from pipelines.registry import load_cities

        city_ids = load_cities()["id"].to_list()
    rows = validate_text(spec, text, shown, city_ids)
    return ValidatedInput(spec, shown, text, encoding, rows)


def validate_city_statistics(
    path: Path | None = None, city_ids: Iterable[str] | None = None
) -> ValidatedInput:
    """``assets/inputs/city_statistics.csv`` (or ``path``)."""
    return validate_file(CITY_STATISTICS, path or INPUTS_DIR / CITY_STATISTICS.filename, city_ids)


def validate_outreach(
    path: Path | None = None, city_ids: Iterable[str] | None = None
) -> ValidatedInput:
    """``assets/inputs/outreach.csv`` (or ``path``)."""
    return validate_file(OUTREACH, path or INPUTS_DIR / OUTREACH.filename, city_ids)


def validate_published_rankings(
    path: Path | None = None, city_ids: Iterable[str] | None = None
) -> ValidatedInput:
    """``assets/inputs/published_rankings.csv`` (or ``path``)."""
    return validate_file(
        PUBLISHED_RANKINGS, path or INPUTS_DIR / PUBLISHED_RANKINGS.filename, city_ids
    )


VALIDATORS = {
    "city_statistics": validate_city_statistics,
    "outreach": validate_outreach,
    "published_rankings": validate_published_rankings,
}
