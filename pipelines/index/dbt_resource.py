"""dagster-dbt's DbtCliResource without two start-up costs this project never uses.

Before every `dbt.cli(...)` call, dagster-dbt 0.29 (a) runs `dbt --version` in a subprocess to
learn which dbt it will launch (1.9-2.7 s measured on the 2 shared cores: a whole dbt start-up)
and (b) opens a dbt adapter in the Dagster process (0.3-0.6 s: profile, project, macros), used
only by `fetch_column_metadata` and `fetch_row_counts`. This project launches the dbt installed
beside its own Python, so the version is the installed dbt-core's, and it fetches neither
column metadata nor row counts. The dbt build, its events, materializations and test results
are dagster-dbt's own, unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from pathlib import Path

from dagster_dbt import DbtCliResource
from dagster_dbt.compat import DBT_PYTHON_VERSION
from packaging import version


def launches_installed_dbt(dbt_executable: str | Path) -> bool:
    """True when the executable is the dbt of this Python's environment (its bin folder)."""
    import sys

    executable = Path(dbt_executable)
    return executable.is_absolute() and executable.parent == Path(sys.executable).parent


class CityIndexDbtResource(DbtCliResource):
    """DbtCliResource that knows its dbt's version and opens no adapter in the Dagster process."""

    @cached_property
    def _cli_version(self) -> version.Version:
        if DBT_PYTHON_VERSION is not None and launches_installed_dbt(self.dbt_executable):
            return DBT_PYTHON_VERSION
        return super()._cli_version  # another dbt: ask it, as dagster-dbt does

    def _initialize_dbt_core_adapter(self, args: Sequence[str]):
        # Only fetch_column_metadata / fetch_row_counts use the adapter (without one they add no
        # metadata): neither is called in this project; tests/test_dbt_resource.py holds that.
        return None
