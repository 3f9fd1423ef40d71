"""The city registry (`assets/cities.csv`): load it, check it, and answer simple questions.

Every stage keys its data on the registry's ids, names, country codes and article titles, so a
bad row here would silently corrupt every source. The loader therefore refuses the file with an
error that names the file, the 1-based row (header = row 1) and the column to fix.
"""

from __future__ import annotations

import csv
import difflib
import json
import re
from pathlib import Path

import polars as pl

ASSETS_DIR = Path(__file__).resolve().parent.parent / "assets"
CITIES_CSV = ASSETS_DIR / "cities.csv"
COUNTRIES_JSON = ASSETS_DIR / "reference" / "countries.json"

WIKI_LANGUAGES: tuple[str, ...] = ("en", "zh", "fr", "de", "es", "ja", "ru", "ar", "pt", "ko")

REQUIRED_COLUMNS: tuple[str, ...] = (
    "id",
    "name_en",
    "name_zh",
    "name_local",
    "country_iso3",
    "country_iso2",
    "country_fips",
    "region",
    "local_langs",
    "wikidata_qid",
    *(f"wiki_{lang}" for lang in WIKI_LANGUAGES),
    "gdelt_query",
    "wup_city_code",
    "geonames_id",
    "gawc_name",
    "latitude",
    "longitude",
)

#: Optional columns (social platforms): absent from the header = empty for every city.
#: ``social_query``: `|`-separated name variants searched as phrases (empty = ``name_en``);
#: ``social_exclude``: `|`-separated words whose presence excludes a mention (ambiguous names);
#: ``bluesky_handle`` (``city.example.org``), ``mastodon_account`` (``user@server``): verified
#: official accounts only, empty when unknown (the follower count is then missing, never zero).
OPTIONAL_COLUMNS: tuple[str, ...] = (
    "social_query",
    "social_exclude",
    "bluesky_handle",
    "mastodon_account",
)

NON_EMPTY_COLUMNS: tuple[str, ...] = (
    "id",
    "name_en",
    "name_zh",
    "country_iso3",
    "country_iso2",
    "country_fips",
    "wiki_en",
    "gdelt_query",
    "wup_city_code",
    "latitude",
    "longitude",
)

SLUG_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
QID_RE = re.compile(r"^Q\d+$")
BLUESKY_HANDLE_RE = re.compile(r"^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z][a-z0-9-]*[a-z0-9]$")
MASTODON_ACCOUNT_RE = re.compile(
    r"^[A-Za-z0-9_]+([A-Za-z0-9_.-]+[A-Za-z0-9_]+)?@([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$"
)


class RegistryError(ValueError):
    """A registry file is invalid; the message says where (file, row, column) and why."""

    def __init__(self, path: Path, row: int | None, column: str | None, message: str) -> None:
        self.path = path
        self.row = row
        self.column = column
        where = [str(path)]
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column {column!r}")
        super().__init__(f"{', '.join(where)}: {message}")


def load_countries(path: Path | None = None) -> pl.DataFrame:
    """Country code crosswalk (ISO2, ISO3, FIPS 10-4, name) from the GeoNames countries.json.

    GDELT filters by FIPS codes, the World Bank by ISO3 and GeoNames by ISO2, so the registry
    must agree with one crosswalk.
    """
    path = path or COUNTRIES_JSON
    data = json.loads(path.read_text(encoding="utf-8"))
    rows = [
        {
            "iso2": c.get("iso") or "",
            "iso3": c.get("iso3") or "",
            "fips": c.get("fips") or "",
            "name": c.get("name") or "",
        }
        for c in data.values()
    ]
    return pl.DataFrame(
        rows, schema={"iso2": pl.String, "iso3": pl.String, "fips": pl.String, "name": pl.String}
    )


def _read_rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    """Read the CSV as strings; raises RegistryError for an unreadable or header-less file."""
    try:
        with path.open(encoding="utf-8", newline="") as f:
            reader = csv.DictReader(f)
            header = list(reader.fieldnames or [])
            rows = [{k: (v or "") for k, v in r.items() if k is not None} for r in reader]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise RegistryError(path, None, None, f"cannot read file: {exc}") from exc
    if not header:
        raise RegistryError(path, 1, None, "missing header row")
    if header[0].startswith("\ufeff"):
        raise RegistryError(path, 1, header[0], "file starts with a UTF-8 BOM; save without BOM")
    return header, rows


def _check_rows(path: Path, rows: list[dict[str, str]], countries: pl.DataFrame) -> None:
    """Field-level checks; the first problem found raises RegistryError."""
    by_iso2 = {r["iso2"]: r for r in countries.iter_rows(named=True)}
    iso3_known = {r["iso3"] for r in by_iso2.values()}
    seen_ids: dict[str, int] = {}
    seen_qids: dict[str, int] = {}
    country_codes: dict[str, tuple[str, str, int]] = {}
    allowed_langs = set(WIKI_LANGUAGES)

    for i, row in enumerate(rows):
        line = i + 2  # header is row 1
        for col in NON_EMPTY_COLUMNS:
            if not row.get(col, "").strip():
                raise RegistryError(path, line, col, "required value is empty")

        cid = row["id"]
        if not SLUG_RE.match(cid):
            raise RegistryError(path, line, "id", f"{cid!r} is not a lower-case ascii slug")
        if cid in seen_ids:
            raise RegistryError(
                path, line, "id", f"duplicate id {cid!r} (first on row {seen_ids[cid]})"
            )
        seen_ids[cid] = line

        # Optional: empty = QID not verified yet, the city has no Wikidata data (missing).
        qid = row.get("wikidata_qid", "")
        if qid:
            if not QID_RE.match(qid):
                raise RegistryError(
                    path, line, "wikidata_qid", f"{qid!r} is not of the form Q<digits>"
                )
            if qid in seen_qids:
                raise RegistryError(
                    path,
                    line,
                    "wikidata_qid",
                    f"duplicate QID {qid!r} (first on row {seen_qids[qid]})",
                )
            seen_qids[qid] = line

        iso2, iso3, fips = row["country_iso2"], row["country_iso3"], row["country_fips"]
        known = by_iso2.get(iso2)
        if known is None:
            raise RegistryError(path, line, "country_iso2", f"unknown country code {iso2!r}")
        if iso3 not in iso3_known:
            raise RegistryError(path, line, "country_iso3", f"unknown country code {iso3!r}")
        if known["iso3"] != iso3:
            raise RegistryError(
                path,
                line,
                "country_iso3",
                f"{iso3!r} does not match ISO2 {iso2!r} (expected {known['iso3']!r})",
            )
        if known["fips"] != fips:
            raise RegistryError(
                path,
                line,
                "country_fips",
                f"{fips!r} does not match ISO2 {iso2!r} (expected {known['fips']!r})",
            )
        first = country_codes.setdefault(iso2, (iso3, fips, line))
        if first[:2] != (iso3, fips):
            raise RegistryError(
                path, line, "country_iso2", f"codes for {iso2!r} differ from row {first[2]}"
            )

        langs = [x for x in row["local_langs"].split("|") if x]
        for lang in langs:
            if lang not in allowed_langs:
                raise RegistryError(
                    path, line, "local_langs", f"{lang!r} is not one of {' '.join(WIKI_LANGUAGES)}"
                )

        _check_social(path, line, row)

        for col in ("latitude", "longitude"):
            try:
                value = float(row[col])
            except ValueError:
                raise RegistryError(path, line, col, f"{row[col]!r} is not a number") from None
            limit = 90.0 if col == "latitude" else 180.0
            if not -limit <= value <= limit:
                raise RegistryError(path, line, col, f"{value} is out of range")


def _check_social(path: Path, line: int, row: dict[str, str]) -> None:
    """Optional social columns: well-formed when filled (never checked against the platforms)."""
    for col in ("social_query", "social_exclude"):
        parts = row.get(col, "").split("|") if row.get(col, "").strip() else []
        for part in parts:
            if not part.strip() or '"' in part:
                raise RegistryError(
                    path, line, col, f"{row[col]!r}: `|`-separated terms, none empty, no quotes"
                )
    handle = row.get("bluesky_handle", "").strip()
    if handle and not BLUESKY_HANDLE_RE.match(handle):
        raise RegistryError(
            path, line, "bluesky_handle", f"{handle!r} is not a handle like city.example.org"
        )
    account = row.get("mastodon_account", "").strip()
    if account and not MASTODON_ACCOUNT_RE.match(account):
        raise RegistryError(
            path, line, "mastodon_account", f"{account!r} is not of the form user@server"
        )


def social_terms(city_row: dict) -> tuple[list[str], list[str]]:
    """(name variants, exclusion words) for the social platforms' searches."""
    variants = [v.strip() for v in (city_row.get("social_query") or "").split("|") if v.strip()]
    excluded = [w.strip() for w in (city_row.get("social_exclude") or "").split("|") if w.strip()]
    return variants or [str(city_row["name_en"]).strip()], excluded


def load_cities(path: Path | None = None) -> pl.DataFrame:
    """Load and validate the city registry.

    Returns one row per city, columns in REQUIRED_COLUMNS then OPTIONAL_COLUMNS order, all
    strings except latitude/longitude (Float64); optional columns absent from the file are
    empty. Raises RegistryError naming file, row and column.
    """
    path = Path(path) if path is not None else CITIES_CSV
    header, rows = _read_rows(path)
    for col in REQUIRED_COLUMNS:
        if col not in header:
            raise RegistryError(path, 1, col, "required column is missing")
    _check_rows(path, rows, load_countries())

    columns = (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS)
    data = {col: [r.get(col, "").strip() for r in rows] for col in columns}
    frame = pl.DataFrame(data, schema=dict.fromkeys(columns, pl.String))
    return frame.with_columns(
        pl.col("latitude").cast(pl.Float64),
        pl.col("longitude").cast(pl.Float64),
    )


def unknown_cities_message(unknown: list[str], cities: pl.DataFrame) -> str:
    """`unknown city 'pariss' (did you mean: paris?)`: the closest registry ids by spelling,
    matched on the ids and on the English names."""
    by_key = {cid: cid for cid in cities["id"]}
    by_key.update(
        {name.lower(): cid for name, cid in zip(cities["name_en"], cities["id"], strict=True)}
    )
    parts = []
    for city in unknown:
        close = difflib.get_close_matches(city.lower(), list(by_key), n=3, cutoff=0.6)
        lead = "did you mean" if close else "closest ids"
        close = close or difflib.get_close_matches(city.lower(), list(by_key), n=3, cutoff=0)
        ids = list(dict.fromkeys(by_key[key] for key in close))
        parts.append(f"{city!r} ({lead}: {', '.join(ids)})")
    label = "unknown city" if len(unknown) == 1 else "unknown cities"
    return (
        f"{label} {'; '.join(parts)}: use the ids of the registry's id column ({CITIES_CSV.name})"
    )


def local_languages(city_row: dict) -> list[str]:
    """Wikipedia editions that count as domestic for the city (from `local_langs`)."""
    return [x for x in (city_row.get("local_langs") or "").split("|") if x]


def foreign_languages(city_row: dict) -> list[str]:
    """Editions whose readers count as overseas attention: WIKI_LANGUAGES minus local ones."""
    local = set(local_languages(city_row))
    return [lang for lang in WIKI_LANGUAGES if lang not in local]


def wiki_titles(city_row: dict) -> dict[str, str]:
    """Known article titles per language; empty cells (title to come from sitelinks) omitted."""
    titles: dict[str, str] = {}
    for lang in WIKI_LANGUAGES:
        title = (city_row.get(f"wiki_{lang}") or "").strip()
        if title:
            titles[lang] = title
    return titles
