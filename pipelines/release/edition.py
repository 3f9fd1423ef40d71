"""An edition on disk: built in a temporary folder, renamed into place, never changed after.

`releases/<year>/edition-<n>/` holds index.csv, index.parquet, a DuckDB file with the marts,
report.html, the validation page and manifest.json (sha256 of every file, configuration,
versions and the API responses used). Releasing the same numbers again is a no-op; different
numbers need a new edition number, and the refusal names the cities and columns that differ.
Released folders are world-readable (0755 / 0644) whatever the umask.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import polars as pl

from pipelines.settings import PROJECT_ROOT

EDITION_DIR = re.compile(r"^edition-(\d+)$")
FINGERPRINT_FILE = "index.csv"  # the numbers an edition publishes
INDEX_KEY = "city_id"
CITIES_NAMED = 5  # a refusal names this many differing cities, then counts the rest
PUBLIC_DIR_MODE = 0o755
PUBLIC_FILE_MODE = 0o644
VERSIONED_PACKAGES = (
    "city-influence-index",
    "dagster",
    "dagster-dbt",
    "dbt-core",
    "dbt-duckdb",
    "duckdb",
    "great-expectations",
    "polars",
)


class ReleaseRefused(RuntimeError):
    """The edition exists with different numbers: a new edition number is needed."""


@dataclass(frozen=True)
class ReleaseOutcome:
    path: Path
    edition: int
    created: bool  # False when the same numbers were already released (no-op)
    message: str


def existing_editions(year_dir: Path) -> list[int]:
    if not year_dir.is_dir():
        return []
    return sorted(int(m.group(1)) for p in year_dir.iterdir() if (m := EDITION_DIR.match(p.name)))


def choose_edition(year_dir: Path, requested: int | None) -> int:
    """The requested edition, else the latest existing one (so a rerun is checked), else 1."""
    if requested is not None:
        if requested < 1:
            raise ValueError(f"edition must be >= 1, got {requested}")
        return requested
    editions = existing_editions(year_dir)
    return editions[-1] if editions else 1


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def code_version() -> str:
    """The git commit the edition was built from (with -dirty for uncommitted changes)."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        return commit + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"


def read_index(path: Path) -> tuple[list[str], dict[str, dict[str, str | None]]]:
    """index.csv as its columns and {city_id: {column: cell text}} (cells are compared as
    numbers where both are numeric)."""
    frame = pl.read_csv(path, infer_schema=False)
    if INDEX_KEY not in frame.columns:
        raise ValueError(f"{path}: no {INDEX_KEY} column")
    duplicated = frame.filter(pl.col(INDEX_KEY).is_duplicated())[INDEX_KEY].unique().sort()
    if duplicated.len():
        raise ValueError(f"{path}: {INDEX_KEY} repeated: {', '.join(duplicated.to_list())}")
    return frame.columns, {row[INDEX_KEY]: row for row in frame.to_dicts()}


def same_value(old: str | None, new: str | None) -> bool:
    """Equal as numbers when both cells are numbers (1 == 1.0, NaN == NaN), else as text."""
    if old is None or new is None:
        return old is new
    try:
        a, b = float(old), float(new)
    except ValueError:
        return old == new
    return a == b or (math.isnan(a) and math.isnan(b))


@dataclass(frozen=True)
class IndexDifferences:
    """How a rebuilt index.csv differs from the released one; empty when the numbers agree."""

    structure: list[str]  # columns or cities present in one file only
    cities: list[str]  # one entry per city: each differing column with old and new value

    def __bool__(self) -> bool:
        return bool(self.structure or self.cities)

    def summary(self, cities_named: int = CITIES_NAMED) -> str:
        shown = self.structure + self.cities[:cities_named]
        rest = len(self.cities) - cities_named
        return "; ".join(shown) + (f"; ... and {rest} more cities" if rest > 0 else "")


def index_differences(released: Path, rebuilt: Path) -> IndexDifferences:
    """Compare two index.csv files by city and column, as numbers (not bytes)."""
    (old_columns, old), (new_columns, new) = read_index(released), read_index(rebuilt)
    structure = []
    if added := [c for c in new_columns if c not in old_columns]:
        structure.append(f"columns added: {', '.join(added)}")
    if removed := [c for c in old_columns if c not in new_columns]:
        structure.append(f"columns removed: {', '.join(removed)}")
    if gone := sorted(old.keys() - new.keys()):
        structure.append(f"cities no longer in the index: {', '.join(gone)}")
    if arrived := sorted(new.keys() - old.keys()):
        structure.append(f"cities new in the index: {', '.join(arrived)}")
    compared = [c for c in new_columns if c in old_columns and c != INDEX_KEY]
    cities = []
    for city in sorted(old.keys() & new.keys()):
        changes = [
            f"{column} {old[city][column]} -> {new[city][column]}"
            for column in compared
            if not same_value(old[city][column], new[city][column])
        ]
        if changes:
            cities.append(f"{city}: {', '.join(changes)}")
    return IndexDifferences(structure, cities)


def make_world_readable(folder: Path) -> None:
    """Directories 0755 and files 0644 (mkdtemp creates 0700; a umask may remove more)."""
    folder.chmod(PUBLIC_DIR_MODE)
    for path in folder.rglob("*"):
        path.chmod(PUBLIC_DIR_MODE if path.is_dir() else PUBLIC_FILE_MODE)


def make_public_dir(path: Path) -> None:
    """Create a release directory (and its parents) readable by everyone."""
    missing = [p for p in (path, *path.parents) if not p.exists()]
    path.mkdir(parents=True, exist_ok=True)
    for created in missing:
        created.chmod(PUBLIC_DIR_MODE)


def package_versions() -> dict[str, str]:
    versions = {}
    for name in VERSIONED_PACKAGES:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def publish_edition(
    releases_root: Path,
    year: int,
    requested_edition: int | None,
    build: Callable[[Path, int], dict],
) -> ReleaseOutcome:
    """Build an edition with `build(folder, edition) -> manifest fields` and move it into place.

    The build writes into a temporary sibling folder; only a complete folder is renamed to
    `edition-<n>`, so a crash leaves either the whole edition or none of it.
    """
    year_dir = releases_root / str(year)
    make_public_dir(year_dir)
    for stale in year_dir.glob(".edition-*"):  # left by a run that was killed (runs hold the
        shutil.rmtree(stale, ignore_errors=True)  # run lock: no live run is building these)
    edition = choose_edition(year_dir, requested_edition)
    target = year_dir / f"edition-{edition}"
    staging = Path(tempfile.mkdtemp(prefix=f".edition-{edition}-", dir=year_dir))
    try:
        manifest = build(staging, edition)
        if target.exists():
            differences = index_differences(target / FINGERPRINT_FILE, staging / FINGERPRINT_FILE)
            if not differences:
                return ReleaseOutcome(
                    target,
                    edition,
                    False,
                    f"edition {edition} of {year} is already released with the same numbers: "
                    "nothing to do",
                )
            raise ReleaseRefused(
                f"edition {edition} of {year} is already released with different numbers "
                f"({target}): {differences.summary()}. Releases are immutable: "
                f"release it as a new edition with --edition {existing_editions(year_dir)[-1] + 1}"
            )
        files = {
            str(p.relative_to(staging)): sha256_file(p)
            for p in sorted(staging.rglob("*"))
            if p.is_file()
        }
        manifest = {**manifest, "year": year, "edition": edition, "files": files}
        (staging / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str))
        make_world_readable(staging)
        os.rename(staging, target)  # atomic on one file system; fails if target appeared
        return ReleaseOutcome(target, edition, True, f"released edition {edition} of {year}")
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
