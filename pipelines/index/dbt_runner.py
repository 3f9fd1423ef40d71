"""Run the dbt project from Python: the one place that knows where it is and how to call it."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"


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


def ensure_manifest(target_path: Path | None = None) -> Path:
    """Parse the project so that dagster-dbt can load the manifest (never done at import time).

    Parsed with the vars of the default edition run and the current warehouse profile, so that
    the run's dbt can reuse this parse instead of starting over (dbt reparses when vars or the
    profile change)."""
    from dbt.cli.main import dbtRunner

    from pipelines.settings import LATEST_COMPLETE_YEAR

    target = target_path or PROJECT_DIR / "target"
    args = dbt_args("parse", dbt_vars={"year": LATEST_COMPLETE_YEAR}, target_path=target)
    result = dbtRunner().invoke([*args, "--quiet"])
    if not result.success:
        raise DbtRunError(f"dbt parse failed: {result.exception}")
    return target / "manifest.json"
