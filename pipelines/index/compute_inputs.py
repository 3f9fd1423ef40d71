"""compute's inputs, read into DuckDB: the framework, the data and the unit groups.

The data is read by DuckDB's CSV reader straight into the engine's table (compute.data: unit
code, year, one DOUBLE column per indicator) when the file is plainly regular, the common case:
no dataframe library is imported before the engine runs, and a 5,000 x 20 panel loads in about
0.16 s instead of 0.26 s through polars. Anything the fast read does not accept (a number it
cannot parse, an empty unit code, a Time that is not plainly a year, a unit twice in one year)
is read again as text by read_data_checked, which names the file, row and column of the first
problem, or reads the file as the rules allow.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING

from pipelines.errors import InputRefused
from pipelines.index.duckdb_native import Connection, Error
from pipelines.index.framework_check import FrameworkFile, number, parent_code
from pipelines.sql_names import quote_identifier

if TYPE_CHECKING:
    import polars as pl

NO_TIME = 0  # year used internally when the data has no Time column; written back as empty

#: A compute input is malformed; the message names the file, row and column (exit code 3).
InputError = InputRefused

#: compute.framework's columns and their DuckDB types (framework_values fills them).
FRAMEWORK_COLUMNS = {
    "level": "integer",
    "icode": "varchar",
    "iname": "varchar",
    "direction": "double",
    "weight": "double",
    "parent": "varchar",
    "type": "varchar",
}
GROUP_COLUMNS = "unit_code varchar, year integer, group_name varchar, group_value varchar"
# DuckDB's CSV dialect for iData, stated rather than sniffed: sniffing costs more than reading
# a one-year file, and a guess could read a file differently from the careful path.
CSV_DIALECT = "header = true, auto_detect = false, delim = ',', quote = '\"', escape = '\"'"


def indicator_codes(framework: FrameworkFile) -> list[str]:
    return [row["iCode"] for row in framework.rows if row["Type"] == "Indicator"]


def framework_values(framework: FrameworkFile) -> dict[str, list[object]]:
    """compute.framework's columns, typed (a checked framework: tree rows have whole levels)."""
    levels = [number(cell) for cell in framework.column("Level")]
    return {
        "level": [int(v) if v is not None and v % 1 == 0 else None for v in levels],
        "icode": framework.column("iCode"),
        "iname": framework.column("iName"),
        "direction": [number(cell) for cell in framework.column("Direction")],
        "weight": [number(cell) for cell in framework.column("Weight")],
        "parent": [parent_code(cell) for cell in framework.column("Parent")],
        "type": framework.column("Type"),
    }


def framework_frame(framework: FrameworkFile) -> pl.DataFrame:
    """compute.framework as a polars frame (the numpy engine of the bench and the tests)."""
    import polars as pl

    from pipelines.index.arrow_stream import polars_schema

    return pl.DataFrame(framework_values(framework), schema=polars_schema(FRAMEWORK_COLUMNS))


def load_framework_table(con: Connection, framework: FrameworkFile) -> None:
    """compute.framework in one statement: each column a list parameter, unnested side by side."""
    values = framework_values(framework)
    select = ", ".join(f"cast(unnest(${c}) as {t}) as {c}" for c, t in FRAMEWORK_COLUMNS.items())
    con.execute(f"create table compute.framework as select {select}", values)  # names above


def csv_header(path: Path) -> list[str] | None:
    """The header row, or None when the file has none or is not readable text."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            return next(csv.reader(handle), None)
    except (OSError, UnicodeDecodeError, csv.Error):
        return None


def load_data_fast(con: Connection, path: Path, indicators: list[str]) -> bool | None:
    """compute.data read by DuckDB and checked in SQL; True when the file has a Time column.
    None (and no table) when the file is not plainly regular, so that read_data_checked decides.
    """
    header = csv_header(path)
    if (
        not header
        or "uCode" not in header
        or not indicators
        or any(code not in header for code in indicators)
        or len(set(header)) != len(header)
    ):
        return None
    has_time = "Time" in header
    wanted = set(indicators)
    columns = {name: "DOUBLE" if name in wanted else "VARCHAR" for name in header}
    year = (
        "case when regexp_full_match(trim(Time), '[0-9]{1,9}') then cast(trim(Time) as integer) end"
        if has_time
        else str(NO_TIME)
    )
    values = ", ".join(quote_identifier(code) for code in indicators)  # checked codes
    try:
        con.execute(
            f"create table compute.data as select uCode as unit_code, {year} as year, {values}"
            f" from read_csv($path, {CSV_DIALECT}, columns = $columns, nullstr = ['NA', ''])",
            {"path": str(path), "columns": columns},
        )
    except Error:
        return None  # not parsed as the stated dialect and types: the careful path says why
    not_finite = " or ".join(f"not isfinite({quote_identifier(code)})" for code in indicators)
    ((rows, irregular, repeated),) = con.execute(
        "select count(*),"
        " count(*) filter (where regexp_full_match(coalesce(unit_code, ''), '\\s*')"
        f" or year is null or {not_finite}),"
        " count(*) - count(distinct (unit_code, year))"
        " from compute.data"
    ).fetchall()
    if rows and not irregular and not repeated:
        return has_time
    con.execute("drop table compute.data")
    return None


def read_csv_strings(path: Path, what: str) -> pl.DataFrame:
    """A CSV read as strings; an empty or unreadable file is refused naming it."""
    import polars as pl

    try:
        return pl.read_csv(path, infer_schema_length=0)
    except pl.exceptions.NoDataError:
        raise InputError(path, None, None, f"the file is empty: {what}") from None
    except pl.exceptions.ComputeError as error:
        first_line = str(error).strip().splitlines()[0]
        raise InputError(path, None, None, f"cannot read it as CSV: {first_line}") from None


#: Digit groups, as DuckDB's reader (and Python) read them: 1_000, 0.000_5, 1e1_0.
DIGIT_GROUPS = r"^[+-]?(\d+(_\d+)*)?(\.\d+(_\d+)*)?([eE][+-]?\d+(_\d+)*)?$"


def text_to_number(cell: pl.Expr) -> pl.Expr:
    """A cell as the fast read parses it: spaces around it ignored, digit groups joined."""
    import polars as pl

    text = cell.str.strip_chars()
    joined = pl.when(text.str.contains(DIGIT_GROUPS)).then(text.str.replace_all("_", ""))
    return joined.otherwise(text).cast(pl.Float64, strict=False)


def read_data_checked(path: Path, indicators: list[str]) -> tuple[pl.DataFrame, bool]:
    """iData read as text and checked cell by cell (the careful path of load_data).

    Refused, naming file, row and column: an empty file or one with no rows, no uCode column,
    none or only some of the framework's indicators, a unit code that is empty, a Time that is
    not a whole year, a value that is not a finite number, a unit twice in one year."""
    import polars as pl

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
    # A blank line holds no data (DuckDB's reader skips it too); rows keep their file numbers.
    data = data.with_row_index("row", offset=2).filter(
        ~pl.all_horizontal(pl.exclude("row").is_null())
    )
    if data.is_empty():
        raise InputError(path, None, None, "a header and no rows: add one row per unit")

    def refuse(problem: pl.Series, column: str, message: str, last: bool = False) -> None:
        if problem.any():
            at = problem.arg_true()[-1 if last else 0]
            shown = message.format(value=data[column][at])
            raise InputError(path, int(data["row"][at]), column, shown)

    refuse(
        data["uCode"].is_null() | (data["uCode"].str.strip_chars() == ""),
        "uCode",
        "empty unit code",
    )
    has_time = "Time" in data.columns
    if has_time:
        year = data["Time"].str.strip_chars().cast(pl.Int32, strict=False)
        refuse(year.is_null(), "Time", "not a whole year: {value!r}")
    data = data.with_columns(
        pl.col("Time").str.strip_chars().cast(pl.Int32)
        if has_time
        else pl.lit(NO_TIME, dtype=pl.Int32).alias("Time")
    )
    for column in indicators:
        text = data[column].str.strip_chars()
        parsed = data.select(text_to_number(pl.col(column))).to_series()
        given = text.is_not_null() & (text != "") & (text != "NA")
        bad = given & (parsed.is_null() | ~parsed.is_finite().fill_null(True))
        refuse(bad, column, "not a finite number {value!r}")
    refuse(data.select("uCode", "Time").is_duplicated(), "uCode", "duplicate unit and Time", True)
    wide = data.select(
        pl.col("uCode").alias("unit_code"),
        pl.col("Time").alias("year"),
        *[text_to_number(pl.col(c)) for c in indicators],
    )
    return wide, has_time


def read_groups(path: Path, column: str) -> pl.DataFrame:
    """One unit group column of iData in long form, for group-mean imputation.

    An empty or "NA" group is missing: that unit is left unimputed, as COINr's i_mean_grp.
    """
    import polars as pl

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
    con: Connection,
    framework: FrameworkFile,
    data_path: Path,
    group_column: str | None,
) -> bool:
    """The compute sources of the engine models: framework, data and groups; True when the
    data has a Time column.

    The data stays wide (unit_code, year, one column per indicator): exactly the framework's
    indicators and one row per unit and year (both paths check both). eng_input unpivots it,
    nulls included, into the complete long grid."""
    con.execute("create schema compute")
    load_framework_table(con, framework)
    indicators = indicator_codes(framework)
    has_time = load_data_fast(con, data_path, indicators)
    if has_time is None:
        from pipelines.index.arrow_stream import create_table

        wide, has_time = read_data_checked(data_path, indicators)
        create_table(con, "compute.data", wide)
    if group_column is None:
        con.execute(f"create table compute.groups ({GROUP_COLUMNS})")  # constant
    else:
        from pipelines.index.arrow_stream import create_table

        create_table(con, "compute.groups", read_groups(data_path, group_column))
    return has_time
