"""`city-index compute`: the index engine on any COINr-format framework and data.

Reads iMeta and iData files, loads them into a scratch DuckDB, runs the same dbt engine models
as the city index, and writes every unit, year and code with its value and rank.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.csv as pa_csv

from pipelines.index.dbt_runner import run_dbt
from pipelines.settings import output_home

META_COLUMNS = ("Level", "iCode", "iName", "Direction", "Weight", "Parent", "Type")
NO_TIME = 0  # year used internally when the data has no Time column; written back as empty
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")


class InputError(ValueError):
    """A compute input is malformed; the message names the file, row and column."""


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
    """The framework in COINr's iMeta columns, checked."""
    meta = pl.read_csv(path, infer_schema_length=0)
    missing = [c for c in META_COLUMNS if c not in meta.columns]
    if missing:
        raise InputError(f"{path}: missing column(s) {', '.join(missing)}")
    for row_number, row in enumerate(meta.iter_rows(named=True), start=2):
        for column in ("iCode", "Type"):
            if not (row[column] or "").strip():
                raise InputError(f"{path}: row {row_number}, column {column}: empty")
        if not IDENTIFIER.match(row["iCode"]):
            raise InputError(
                f"{path}: row {row_number}, column iCode: invalid code {row['iCode']!r}"
            )
        if row["Type"] in ("Indicator", "Aggregate"):
            for column in ("Level", "Direction", "Weight"):
                try:
                    float(row[column])
                except (TypeError, ValueError):
                    raise InputError(
                        f"{path}: row {row_number}, column {column}: not a number {row[column]!r}"
                    ) from None
    if meta["iCode"].is_duplicated().any():
        duplicate = meta.filter(meta["iCode"].is_duplicated())["iCode"][0]
        raise InputError(f"{path}: column iCode: duplicate code {duplicate!r}")
    return meta.select(
        pl.col("Level").cast(pl.Int32, strict=False).alias("level"),
        pl.col("iCode").alias("icode"),
        pl.col("iName").alias("iname"),
        pl.col("Direction").cast(pl.Float64, strict=False).alias("direction"),
        pl.col("Weight").cast(pl.Float64, strict=False).alias("weight"),
        pl.col("Parent").alias("parent"),
        pl.col("Type").alias("type"),
    )


def read_data(path: Path, framework: pl.DataFrame) -> tuple[pl.DataFrame, bool]:
    """iData in long form (unit_code, year, icode, value); True when it has a Time column."""
    data = pl.read_csv(path, infer_schema_length=0)
    indicators = framework.filter(pl.col("type") == "Indicator")["icode"].to_list()
    required = ["uCode", *indicators]
    missing = [c for c in required if c not in data.columns]
    if missing:
        raise InputError(f"{path}: missing column(s) {', '.join(missing)}")
    has_time = "Time" in data.columns
    data = data.with_columns(
        pl.col("Time").cast(pl.Int32, strict=False) if has_time else pl.lit(NO_TIME).alias("Time")
    )
    for column in indicators:
        parsed = data[column].cast(pl.Float64, strict=False)
        bad = data[column].is_not_null() & (data[column] != "") & (data[column] != "NA")
        bad = bad & parsed.is_null()
        if bad.any():
            row_index = int(bad.arg_true()[0])
            raise InputError(
                f"{path}: row {row_index + 2}, column {column}: "
                f"not a number {data[column][row_index]!r}"
            )
    keys = data.select("uCode", "Time")
    if keys.is_duplicated().any():
        row_index = int(keys.is_duplicated().arg_true()[0])
        raise InputError(f"{path}: row {row_index + 2}, column uCode: duplicate unit and Time")
    long = data.select(
        pl.col("uCode").alias("unit_code"),
        pl.col("Time").alias("year"),
        *[pl.col(c).cast(pl.Float64, strict=False) for c in indicators],
    ).unpivot(index=["unit_code", "year"], variable_name="icode", value_name="value")
    return long, has_time


def read_groups(path: Path, column: str) -> pl.DataFrame:
    """One unit group column of iData in long form, for group-mean imputation.

    An empty or "NA" group is missing: that unit is left unimputed, as COINr's i_mean_grp.
    """
    data = pl.read_csv(path, infer_schema_length=0)
    if column not in data.columns:
        raise InputError(f"{path}: group column {column!r} not found")
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


def write_csv_stream(batches: pa.RecordBatchReader, path: Path) -> None:
    """Write query results batch by batch: millions of scores never sit in memory at once."""
    with pa_csv.CSVWriter(path, batches.schema) as writer:
        for batch in batches:
            writer.write_batch(batch)


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
    long, has_time = read_data(data_path, framework)
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
    # The scratch file keeps one path per configuration (a new path would change dbt's profile
    # and force a full parse); the lock keeps two computes with one configuration apart.
    with (workspace / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        warehouse = workspace / "scratch.duckdb"
        warehouse.unlink(missing_ok=True)
        partial = out_dir / "scores.csv.partial"
        try:
            with duckdb.connect(str(warehouse)) as con:
                con.execute("create schema compute")
                for name, frame in (("framework", framework), ("data", long), ("groups", groups)):
                    con.register("incoming", frame.to_arrow())
                    con.execute(f"create table compute.{name} as select * from incoming")
                    con.unregister("incoming")
            run_dbt(
                "run",  # the engine's grid is unique by construction (tested in the suite)
                warehouse=warehouse,
                dbt_vars=dbt_vars,
                select="tag:engine",
                target_path=workspace / "target",
            )
            out_dir.mkdir(parents=True, exist_ok=True)
            target = out_dir / "scores.csv"
            with duckdb.connect(str(warehouse)) as con:  # dbt may still hold it in-process
                scores = con.sql(
                    "select unit_code as uCode,"
                    " case when ? then cast(year as varchar) end as Time,"
                    " icode as iCode, level as Level, value, cast(rank as bigint) as rank"
                    " from engine.eng_scores order by year, level, icode, unit_code",
                    params=[has_time],
                )
                write_csv_stream(scores.fetch_record_batch(), partial)
            partial.replace(target)
        finally:
            warehouse.unlink(missing_ok=True)
            partial.unlink(missing_ok=True)  # only a complete scores.csv is ever left
    return target
