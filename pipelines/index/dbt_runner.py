"""Run the dbt project from Python: the one place that knows where it is and how to call it."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pipelines.content_hash import files_digest

PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"
#: The distributions whose versions decide how dbt parses and compiles the project.
DBT_DISTRIBUTIONS = ("dbt-core", "dbt-duckdb")


class DbtRunError(RuntimeError):
    """dbt failed: the message carries the failing nodes and their errors."""


def dbt_args(
    command: str,
    *,
    dbt_vars: Mapping[str, Any] | None = None,
    select: str | None = None,
    target_path: Path | None = None,
) -> list[str]:
    """The CLI arguments for one dbt invocation on this project."""
    args = [command, "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR)]
    if dbt_vars:
        args += ["--vars", json.dumps(dict(dbt_vars))]
    if select:
        args += ["--select", select]
    if target_path is not None:
        args += ["--target-path", str(target_path)]
    return args


def run_dbt(
    command: str,
    *,
    warehouse: Path,
    dbt_vars: Mapping[str, Any] | None = None,
    select: str | None = None,
    target_path: Path | None = None,
) -> None:
    """Invoke dbt in-process against the given DuckDB file; raise DbtRunError on any failure."""
    from dbt.cli.main import dbtRunner  # imported when used: a second of start-up otherwise

    previous = os.environ.get("CITY_INDEX_WAREHOUSE")
    os.environ["CITY_INDEX_WAREHOUSE"] = str(warehouse)
    try:
        result = dbtRunner().invoke(
            [
                *dbt_args(command, dbt_vars=dbt_vars, select=select, target_path=target_path),
                "--quiet",
            ]
        )
    finally:
        if previous is None:
            os.environ.pop("CITY_INDEX_WAREHOUSE", None)
        else:
            os.environ["CITY_INDEX_WAREHOUSE"] = previous
    if result.success:
        return
    problems = []
    for node_result in getattr(result.result, "results", None) or []:
        if str(node_result.status) not in ("success", "pass"):
            problems.append(f"{node_result.node.name}: {node_result.status}: {node_result.message}")
    detail = "; ".join(problems) or str(result.exception or "unknown error")
    raise DbtRunError(f"dbt {command} failed: {detail}")


def dbt_versions() -> list[str]:
    """The versions of DBT_DISTRIBUTIONS, in order.

    Read from the names of their metadata folders beside the dbt package
    (`dbt_core-1.11.16.dist-info`), as importlib.metadata finds them, but without importing it:
    that import is 12 ms of every compute run, which needs nothing else from it. Any other
    layout is left to importlib.metadata."""
    import importlib.util

    spec = importlib.util.find_spec("dbt")
    folders = list(spec.submodule_search_locations or []) if spec else []
    found: dict[str, list[str]] = {name: [] for name in DBT_DISTRIBUTIONS}
    for folder in folders:
        for entry in os.listdir(Path(folder).parent):
            if entry.endswith(".dist-info"):
                name, _, version = entry.removesuffix(".dist-info").partition("-")
                found.get(name.replace("_", "-").lower(), []).append(version)
    if all(len(versions) == 1 for versions in found.values()):
        return [found[name][0] for name in DBT_DISTRIBUTIONS]
    from importlib.metadata import version

    return [version(name) for name in DBT_DISTRIBUTIONS]


#: Folders of the dbt project that dbt writes, never reads when parsing.
_NOT_PARSED = {"target", "logs", "dbt_packages"}
#: The record of the last parse, kept in its target folder beside the manifest.
PARSE_STAMP = "city_index_parse.json"


def parse_inputs(dbt_vars: Mapping[str, Any]) -> str:
    """A digest of everything a parse of the project depends on: every file dbt reads in the
    project folder (models, macros, tests, seeds, dbt_project.yml, profiles.yml), the vars, the
    profile's warehouse (the one env var the project reads) and the dbt packages' versions."""
    digest = hashlib.sha256()
    header = {
        "vars": dict(dbt_vars),
        "warehouse": os.environ.get("CITY_INDEX_WAREHOUSE"),
        "dbt": dbt_versions(),
    }
    digest.update(json.dumps(header, sort_keys=True).encode())
    digest.update(files_digest(PROJECT_DIR, skip=_NOT_PARSED).encode())
    return digest.hexdigest()


def _artifacts_state(target: Path) -> list[list[int]] | None:
    """Size and modification time of the parse's artifacts; None when one is missing."""
    files = [target / "manifest.json", target / "partial_parse.msgpack"]
    if not all(f.is_file() for f in files):
        return None
    return [[f.stat().st_size, f.stat().st_mtime_ns] for f in files]


def parse_is_current(target: Path, inputs: str) -> bool:
    """True when the target holds the parse of exactly these inputs, untouched since."""
    try:
        stamp = json.loads((target / PARSE_STAMP).read_text())
    except (OSError, ValueError):
        return False
    state = _artifacts_state(target)
    return state is not None and stamp == {"inputs": inputs, "artifacts": state}


def ensure_manifest(target_path: Path | None = None) -> Path:
    """Parse the project so that dagster-dbt can load the manifest (never done at import time).

    Parsed with the vars of the default edition run and the current warehouse profile, so that
    the run's dbt can reuse this parse instead of starting over (dbt reparses when vars or the
    profile change). Skipped when the target already holds the parse of the same project files,
    vars, profile and dbt (a stamp written after each parse): dbt's own check of the same
    things, in-process, costs about 0.9 s of every command."""
    from pipelines.settings import LATEST_COMPLETE_YEAR

    target = target_path or PROJECT_DIR / "target"
    dbt_vars = {"year": LATEST_COMPLETE_YEAR}
    inputs = parse_inputs(dbt_vars)
    if parse_is_current(target, inputs):
        return target / "manifest.json"
    from dbt.cli.main import dbtRunner

    (target / PARSE_STAMP).unlink(missing_ok=True)
    args = dbt_args("parse", dbt_vars=dbt_vars, target_path=target)
    result = dbtRunner().invoke([*args, "--quiet"])
    if not result.success:
        raise DbtRunError(f"dbt parse failed: {result.exception}")
    stamp = {"inputs": inputs, "artifacts": _artifacts_state(target)}
    (target / PARSE_STAMP).write_text(json.dumps(stamp))
    return target / "manifest.json"
