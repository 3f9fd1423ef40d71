"""`city-index compute`: the index engine on any COINr-format framework and data.

Reads iMeta and iData files, loads them into a scratch DuckDB, runs the same dbt engine models
as the city index, and writes every unit, year and code with its value and rank.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from pipelines.errors import InputRefused
from pipelines.index.arrow_stream import create_table
from pipelines.index.engine_sql import cached_engine, compiled_engine, run_engine
from pipelines.index.framework_check import load_framework
from pipelines.index.scores_csv import write_scores
from pipelines.settings import output_home

# DuckDB settings of the engine run. Insertion order is never relied on (every sum runs over an
# ordered list and the output is sorted), which lets DuckDB stream instead of buffering; the
# memory limit makes DuckDB spill to the scratch folder rather than hold every intermediate
# (without it a 5,000 x 20 panel peaked at 1.7 GB; bench/README.md has the curve). 550 MB, not
# 400: without pyarrow's batches the whole run peaks at about 710 MB with it (COINr's process:
# 848 MB) and spills less (at 400 MB: 600-640 MB, the engine models 0.3-0.5 s slower).
ENGINE_SETTINGS = {"preserve_insertion_order": "false", "memory_limit": "'550MB'"}

NO_TIME = 0  # year used internally when the data has no Time column; written back as empty

#: A compute input is malformed; the message names the file, row and column (exit code 3).
InputError = InputRefused


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


def read_framework(path: Path) -> pl.DataFrame:
    """The framework in COINr's iMeta columns, checked (framework_check), typed for the engine."""
    meta = load_framework(path)
    return meta.select(
        pl.col("Level").cast(pl.Int32, strict=False).alias("level"),
        pl.col("iCode").alias("icode"),
        pl.col("iName").alias("iname"),
        pl.col("Direction").cast(pl.Float64, strict=False).alias("direction"),
        pl.col("Weight").cast(pl.Float64, strict=False).alias("weight"),
        pl.col("Parent").alias("parent"),
        pl.col("Type").alias("type"),
    )


def read_csv_strings(path: Path, what: str) -> pl.DataFrame:
    """A CSV read as strings; an empty or unreadable file is refused naming it."""
    try:
        return pl.read_csv(path, infer_schema_length=0)
    except pl.exceptions.NoDataError:
        raise InputError(path, None, None, f"the file is empty: {what}") from None
    except pl.exceptions.ComputeError as error:
        first_line = str(error).strip().splitlines()[0]
        raise InputError(path, None, None, f"cannot read it as CSV: {first_line}") from None


def read_data(path: Path, framework: pl.DataFrame) -> tuple[pl.DataFrame, bool]:
    """iData typed (unit_code, year, one Float64 column per indicator); True when it has a Time
    column. Read typed in one pass when the file is regular; anything irregular is read again
    as text by read_data_checked, which says what is wrong (or reads it as the rules allow)."""
    indicators = framework.filter(pl.col("type") == "Indicator")["icode"].to_list()
    typed = read_data_typed(path, indicators)
    return typed if typed is not None else read_data_checked(path, framework)


def read_data_typed(path: Path, indicators: list[str]) -> tuple[pl.DataFrame, bool] | None:
    """The fast path of read_data: numbers parsed while reading (a fraction of the memory of
    text). None when the file is not plainly regular, so that read_data_checked decides."""
    try:
        header = pl.read_csv(path, n_rows=0).columns
        if "uCode" not in header or not indicators or any(c not in header for c in indicators):
            return None
        has_time = "Time" in header
        data = pl.read_csv(
            path,
            columns=["uCode", *(["Time"] if has_time else []), *indicators],
            schema_overrides={
                "uCode": pl.String,
                "Time": pl.String,
                **dict.fromkeys(indicators, pl.Float64),
            },
            null_values=["NA"],
        )
    except (pl.exceptions.PolarsError, OSError, ValueError):
        return None
    units = data["uCode"]
    if data.is_empty() or units.null_count() or not units.str.strip_chars().ne("").all():
        return None  # an empty or missing unit code: the careful path names its row
    year = (
        data["Time"].str.strip_chars().cast(pl.Int32, strict=False)
        if has_time
        else pl.Series("Time", [NO_TIME] * data.height, dtype=pl.Int32)
    )
    if (
        year.null_count()
        or not data.select(
            pl.all_horizontal(pl.col(indicators).is_finite().fill_null(True)).all()
        ).item()
    ):
        return None
    wide = data.select(pl.col("uCode").alias("unit_code"), year.alias("year"), *indicators)
    if wide.select("unit_code", "year").is_duplicated().any():
        return None
    return wide, has_time


def read_data_checked(path: Path, framework: pl.DataFrame) -> tuple[pl.DataFrame, bool]:
    """iData read as text and checked cell by cell (read_data's careful path).

    Refused, naming file, row and column: an empty file or one with no rows, no uCode column,
    none or only some of the framework's indicators, a unit code that is empty, a Time that is
    not a whole year, a value that is not a finite number, a unit twice in one year."""
    indicators = framework.filter(pl.col("type") == "Indicator")["icode"].to_list()
    data = read_csv_strings(
        path, "iData needs a header (uCode, Time, the indicator codes) and one row per unit"
    )
    if "uCode" not in data.columns:
        raise InputError(path, 1, "uCode", "required column is missing")
    known = [c for c in indicators if c in data.columns]
    if not known:
        sample = ", ".join(indicators[:5]) + (", ..." if len(indicators) > 5 else "")
        raise InputError(
            path,
            1,
            None,
            f"none of the framework's {len(indicators)} indicators ({sample}) is a column: "
            "is this the data for this framework?",
        )
    missing = [c for c in indicators if c not in data.columns]
    if missing:
        raise InputError(path, 1, missing[0], f"indicator column(s) missing: {', '.join(missing)}")
    if data.is_empty():
        raise InputError(path, None, None, "a header and no rows: add one row per unit")
    empty_unit = data["uCode"].is_null() | (data["uCode"].str.strip_chars() == "")
    if empty_unit.any():
        raise InputError(path, int(empty_unit.arg_true()[0]) + 2, "uCode", "empty unit code")
    has_time = "Time" in data.columns
    if has_time:
        year = data["Time"].str.strip_chars().cast(pl.Int32, strict=False)
        if year.is_null().any():
            row_index = int(year.is_null().arg_true()[0])
            raise InputError(
                path,
                row_index + 2,
                "Time",
                f"not a whole year: {data['Time'][row_index]!r}",
            )
    data = data.with_columns(
        pl.col("Time").str.strip_chars().cast(pl.Int32)
        if has_time
        else pl.lit(NO_TIME, dtype=pl.Int32).alias("Time")
    )
    for column in indicators:
        parsed = data[column].cast(pl.Float64, strict=False)
        given = data[column].is_not_null() & (data[column] != "") & (data[column] != "NA")
        bad = given & (parsed.is_null() | ~parsed.is_finite().fill_null(True))
        if bad.any():
            row_index = int(bad.arg_true()[0])
            raise InputError(
                path,
                row_index + 2,
                column,
                f"not a finite number {data[column][row_index]!r}",
            )
    keys = data.select("uCode", "Time")
    if keys.is_duplicated().any():
        row_index = int(keys.is_duplicated().arg_true()[-1])
        raise InputError(path, row_index + 2, "uCode", "duplicate unit and Time")
    wide = data.select(
        pl.col("uCode").alias("unit_code"),
        pl.col("Time").alias("year"),
        *[pl.col(c).cast(pl.Float64, strict=False) for c in indicators],
    )
    return wide, has_time


def read_groups(path: Path, column: str) -> pl.DataFrame:
    """One unit group column of iData in long form, for group-mean imputation.

    An empty or "NA" group is missing: that unit is left unimputed, as COINr's i_mean_grp.
    """
    data = read_csv_strings(path, "iData needs a header and one row per unit")
    if column not in data.columns:
        raise InputError(path, 1, column, "group column for --impute group_mean not found")
    time = pl.col("Time").cast(pl.Int32) if "Time" in data.columns else pl.lit(NO_TIME)
    return data.select(
        pl.col("uCode").alias("unit_code"),
        time.alias("year"),
        pl.lit(column).alias("group_name"),
        pl.when(pl.col(column).is_in(["", "NA"]))
        .then(None)
        .otherwise(pl.col(column))
        .alias("group_value"),
    )


def load_inputs(
    con: duckdb.DuckDBPyConnection,
    framework: pl.DataFrame,
    wide: pl.DataFrame,
    groups: pl.DataFrame,
) -> None:
    """The compute sources of the engine models: framework, data and groups.

    The data stays wide (unit_code, year, one column per indicator) as read_data made it:
    exactly the framework's indicators and one row per unit and year (read_data checks both).
    eng_input unpivots it, nulls included, into the complete long grid; writing the wide
    frame costs a 5,000 x 20 panel about a second less than writing its long form."""
    con.execute("create schema compute")
    for name, frame in (("framework", framework), ("data", wide), ("groups", groups)):
        create_table(con, f"compute.{name}", frame)  # names above, no data


def engine_connection(warehouse: Path, spill: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory database under the scratch file's catalog name (the name in dbt's compiled
    SQL), spilling to `spill` beyond the memory limit. The engine's tables are read once and
    dropped: writing them to a file (compressed, checkpointed) cost a 5,000 x 20 panel about
    1.5 s of 9, for no use."""
    con = duckdb.connect(config={"temp_directory": str(spill)})
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
    wide, has_time = read_data(data_path, framework)
    if config.impute.startswith("group_mean:"):
        groups = read_groups(data_path, config.impute.split(":", 1)[1])
    else:
        groups = pl.DataFrame(
            schema={
                "unit_code": pl.String,
                "year": pl.Int32,
                "group_name": pl.String,
                "group_value": pl.String,
            }
        )
    dbt_vars = {"engine_input": "compute", **config.dbt_vars()}
    workspace = parse_cache(dbt_vars)
    workspace.mkdir(parents=True, exist_ok=True)
    # The scratch file (only dbt's compile opens it; the engine runs in memory under its name)
    # keeps one path per configuration (a new path would change dbt's profile and force a full
    # parse); the lock keeps two computes with one configuration apart.
    with (workspace / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        warehouse = workspace / "scratch.duckdb"
        warehouse.unlink(missing_ok=True)
        partial = out_dir / "scores.csv.partial"
        try:
            nodes = cached_engine(dbt_vars, workspace)
            if nodes is None:  # dbt compiles, once, against a file holding the sources
                with duckdb.connect(str(warehouse)) as con:
                    load_inputs(con, framework, wide, groups)
                nodes = compiled_engine(warehouse, dbt_vars, workspace)
            out_dir.mkdir(parents=True, exist_ok=True)
            target = out_dir / "scores.csv"
            with engine_connection(warehouse, workspace / "spill") as con:
                load_inputs(con, framework, wide, groups)
                del wide  # the input frame is in DuckDB now
                run_engine(con, nodes)
                write_scores(con, partial, has_time)
            partial.replace(target)
        finally:
            warehouse.unlink(missing_ok=True)
            partial.unlink(missing_ok=True)  # only a complete scores.csv is ever left
    return target
