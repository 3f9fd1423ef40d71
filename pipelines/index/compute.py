"""`city-index compute`: the index engine on any COINr-format framework and data.

Reads iMeta and iData files into DuckDB (compute_inputs), runs the same dbt engine models as
the city index, and writes every unit, year and code with its value and rank.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from pipelines.background_import import imported_meanwhile
from pipelines.index import duckdb_native
from pipelines.index.compute_inputs import InputError, load_inputs
from pipelines.index.engine_sql import cached_engine, compiled_engine, run_engine
from pipelines.index.framework_check import FrameworkFile, checked_framework
from pipelines.settings import output_home
from pipelines.work_folders import locked, prune, remove_unless_locked

# DuckDB settings of the engine run. Insertion order is never relied on (every sum runs over an
# ordered list and the output is sorted), which lets DuckDB stream instead of buffering; the
# memory limit makes DuckDB spill to the scratch folder rather than hold every intermediate
# (without it a 5,000 x 20 panel peaked at 1.7 GB; bench/README.md has the curve). 550 MB, not
# 400: without pyarrow's batches the whole run peaks at about 710 MB with it (COINr's process:
# 848 MB) and spills less (at 400 MB: 600-640 MB, the engine models 0.3-0.5 s slower).
ENGINE_SETTINGS = {"preserve_insertion_order": "false", "memory_limit": "'550MB'"}

# The interpreter's switch interval (s) while polars loads beside the engine: 0.1 ms, not the
# default 5 ms, measured 7 ms faster on a one-year run (bench/README.md).
IMPORT_SWITCH_INTERVAL = 0.0001

__all__ = ["EngineConfig", "InputError", "compute", "read_framework"]


@dataclass(frozen=True)
class EngineConfig:
    """Every choice of the engine; recorded with the results.

    range_lower and range_upper are the min-max target range; they are ignored by zscore,
    which always gives mean 0 and sample sd 1 (COINr's n_zscore default). aggregate gmean
    needs positive normalised values, so use a range such as 1,100 with it.
    """

    treat: str = "none"
    impute: str = "none"
    normalise: str = "minmax"
    range_lower: float = 0.0
    range_upper: float = 100.0
    aggregate: str = "amean"
    screen_threshold: float = 0.0
    weights: dict[str, float] = field(default_factory=dict)  # framework weights replaced by code

    def dbt_vars(self) -> dict[str, object]:
        return asdict(self)


def read_framework(path: Path) -> FrameworkFile:
    """The framework file, checked (framework_check): refused naming file, row and column."""
    return checked_framework(path)


def engine_connection(warehouse: Path, spill: Path) -> duckdb_native.Connection:
    """An in-memory database under the scratch file's catalog name (the name in dbt's compiled
    SQL), spilling to `spill` beyond the memory limit. The engine's tables are read once and
    dropped: writing them to a file (compressed, checkpointed) cost a 5,000 x 20 panel about
    1.5 s of 9, for no use."""
    con = duckdb_native.connect(config={"temp_directory": str(spill)})
    catalog = warehouse.stem
    if not catalog.isidentifier():
        raise ValueError(f"scratch file name {warehouse.name} is not a plain identifier")
    con.execute(f"attach ':memory:' as {catalog}")  # checked identifier, no data
    con.execute(f"use {catalog}")
    for setting, value in ENGINE_SETTINGS.items():
        con.execute(f"set {setting} = {value}")  # constants above, no data
    return con


def parse_cache(dbt_vars: dict[str, object]) -> Path:
    """A work folder per configuration, kept between runs: dbt parses the project again
    whenever its vars or profile change, so one folder per set of vars lets it reuse its
    partial parse (seconds per run)."""
    key = hashlib.sha256(json.dumps(dbt_vars, sort_keys=True).encode()).hexdigest()[:16]
    return output_home() / "compute_targets" / key


def compute(
    framework_path: Path,
    data_path: Path,
    out_dir: Path,
    config: EngineConfig,
) -> Path:
    """Run the engine and write out_dir/scores.csv; returns its path."""
    framework = read_framework(framework_path)
    grouped = config.impute.startswith("group_mean:")
    group_column = config.impute.split(":", 1)[1] if grouped else None
    dbt_vars = {"engine_input": "compute", **config.dbt_vars()}
    workspace = parse_cache(dbt_vars)
    # The scratch file (only dbt's compile opens it; the engine runs in memory under its name)
    # keeps one path per configuration (a new path would change dbt's profile and force a full
    # parse); the lock keeps two computes with one configuration apart.
    with locked(workspace):
        prune(workspace.parent, remove_unless_locked)  # this one is the most recent: it stays
        warehouse = workspace / "scratch.duckdb"
        warehouse.unlink(missing_ok=True)
        partial = out_dir / "scores.csv.partial"
        try:
            nodes = cached_engine(dbt_vars, workspace)
            if nodes is None:  # dbt compiles, once, against a file holding the sources
                with duckdb_native.connect(str(warehouse)) as con:
                    load_inputs(con, framework, data_path, group_column)
                nodes = compiled_engine(warehouse, dbt_vars, workspace)
            target = out_dir / "scores.csv"
            # The writer's polars (0.07-0.1 s of CPU to import) loads on the other core while
            # DuckDB starts, reads the data and runs the engine, all without the interpreter
            # lock. The engine's models go to DuckDB as one script (run_engine), and the short
            # switch interval gives the lock back within 0.1 ms after each statement.
            with (
                imported_meanwhile("polars", switch_interval=IMPORT_SWITCH_INTERVAL),
                engine_connection(warehouse, workspace / "spill") as con,
            ):
                has_time = load_inputs(con, framework, data_path, group_column)
                run_engine(con, nodes)
                from pipelines.index.scores_csv import write_scores  # waits for the import

                out_dir.mkdir(parents=True, exist_ok=True)
                write_scores(con, partial, has_time)
            partial.replace(target)
        finally:
            warehouse.unlink(missing_ok=True)
            partial.unlink(missing_ok=True)  # only a complete scores.csv is ever left
    return target
