"""Which raw table-years have passed their check, by the content they had then.

Every build checks every landed year up to its last (an edition reads its history), so an
edition re-checks eight unchanged history years of fourteen tables with pandera (about 1 s of
the raw checks' 1.2 s, measured). A check's verdict is a function of the rows, their column
types, the registry the coverage rule compares with, the rules and the checking code: a
table-year whose fingerprint of all of these equals one that passed would pass again, and is
not validated again. Anything different (a changed row, a column type, the registry, a rule,
the code or the library versions) gives another fingerprint and a full check. Failures are
never remembered. The fingerprint of the rows is pipelines/content_hash.py's (count, sum and xor of
the rows' hashes, per year; milliseconds), the one the build ledger uses.
"""

from __future__ import annotations

import functools
import hashlib
import json
from importlib.metadata import version
from pathlib import Path

import duckdb

from pipelines.content_hash import files_digest, row_hashes, schema_columns
from pipelines.settings import output_home

#: The files whose code decides a verdict, under pipelines/ (the rules are hashed per table).
_CHECK_CODE = ("ingest/raw_checks.py", "sources/spec.py")
_LIBRARIES = ("pandera", "polars", "duckdb")


def memory_path() -> Path:
    return output_home() / "raw_checks_passed.json"


@functools.cache
def _code_digest() -> str:
    code = files_digest(Path(__file__).resolve().parents[1], _CHECK_CODE)
    libraries = [version(lib) for lib in _LIBRARIES]
    return hashlib.sha256(json.dumps([code, libraries]).encode()).hexdigest()


class CheckMemory:
    """The fingerprints of the table-years that passed, kept in one JSON file per home."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or memory_path()
        try:
            self.passed: dict[str, dict[str, str]] = json.loads(self.path.read_text())
        except (OSError, ValueError):
            self.passed = {}

    @staticmethod
    def fingerprints(
        con: duckdb.DuckDBPyConnection, schema: str, table: str, rules: str, up_to: int
    ) -> dict[int, str]:
        """Per landed year of schema.table up to `up_to` (names checked by the caller)."""
        columns = schema_columns(con, schema, table).get(table, [])
        registry = row_hashes(con, "raw", "cities", by_year=False)
        rows = row_hashes(con, schema, table, up_to=up_to)
        common = json.dumps([_code_digest(), rules, columns, registry], default=str)
        return {
            year: hashlib.sha256(json.dumps([common, year, *content]).encode()).hexdigest()
            for year, content in rows.items()
        }

    def has_passed(self, table: str, year: int, fingerprint: str | None) -> bool:
        return fingerprint is not None and self.passed.get(table, {}).get(str(year)) == fingerprint

    def record(self, table: str, year: int, fingerprint: str | None, passed: bool) -> None:
        years = self.passed.setdefault(table, {})
        if passed and fingerprint is not None:
            years[str(year)] = fingerprint
        else:
            years.pop(str(year), None)

    def save(self) -> None:
        """Written whole to a temporary file and renamed: a reader never sees half of it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_name(self.path.name + ".tmp")
        partial.write_text(json.dumps(self.passed, sort_keys=True))
        partial.replace(self.path)
