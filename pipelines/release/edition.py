"""An edition on disk: built in a temporary folder, renamed into place, never changed after.

`releases/<year>/edition-<n>/` holds index.csv, index.parquet, a DuckDB file with the marts,
report.html, the validation page and manifest.json (sha256 of every file, configuration,
versions and the API responses used). Releasing the same numbers again is a no-op; different
numbers need a new edition number.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from pipelines.settings import PROJECT_ROOT

EDITION_DIR = re.compile(r"^edition-(\d+)$")
FINGERPRINT_FILE = "index.csv"  # the numbers an edition publishes
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
    year_dir.mkdir(parents=True, exist_ok=True)
    for stale in year_dir.glob(".edition-*"):  # left by a run that was killed (runs hold the
        shutil.rmtree(stale, ignore_errors=True)  # run lock: no live run is building these)
    edition = choose_edition(year_dir, requested_edition)
    target = year_dir / f"edition-{edition}"
    staging = Path(tempfile.mkdtemp(prefix=f".edition-{edition}-", dir=year_dir))
    try:
        manifest = build(staging, edition)
        if target.exists():
            if sha256_file(target / FINGERPRINT_FILE) == sha256_file(staging / FINGERPRINT_FILE):
                return ReleaseOutcome(
                    target,
                    edition,
                    False,
                    f"edition {edition} of {year} is already released with the same numbers: "
                    "nothing to do",
                )
            raise ReleaseRefused(
                f"edition {edition} of {year} is already released with different numbers "
                f"({target}); releases are immutable: release it as a new edition with "
                f"--edition {existing_editions(year_dir)[-1] + 1}"
            )
        files = {
            str(p.relative_to(staging)): sha256_file(p)
            for p in sorted(staging.rglob("*"))
            if p.is_file()
        }
        manifest = {**manifest, "year": year, "edition": edition, "files": files}
        (staging / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str))
        os.rename(staging, target)  # atomic on one file system; fails if target appeared
        return ReleaseOutcome(target, edition, True, f"released edition {edition} of {year}")
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
