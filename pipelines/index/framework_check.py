"""One validator for every framework: a COINr iMeta for `city-index compute` and
`assets/framework.csv` for the city index.

A framework that is not a tree (a cycle, a missing parent, a level that does not follow its
parent's) or has weights and directions the engine cannot use gives empty or partial scores
with exit 0; it is refused here instead, naming the file, the row (header = row 1) and the
column. The column rules (types, ranges, codes) are a pandera schema on the polars frame, a
library made for dataframe checks; the graph rules, which no column schema can express, are
plain code below it. The same rules run first as one polars expression: a framework that passes
them never imports pandera (with pandas, about 0.4 s and 170 MB of every `city-index compute`);
one that fails is validated by the schema, which names the row and column.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from pipelines.errors import InputRefused

if TYPE_CHECKING:
    import pandera.polars as pa

META_COLUMNS = ("Level", "iCode", "iName", "Direction", "Weight", "Parent", "Type")
#: Rows of these types form the tree; COINr's Group, Denominator and Other rows stand aside.
TREE_TYPES = ("Indicator", "Aggregate")
TYPES = (*TREE_TYPES, "Group", "Denominator", "Other")
#: Codes become column names and table values in the engine: letters, digits and underscores,
#: starting with a letter or underscore, at most 63 characters (DuckDB's identifier limit).
CODE_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,62}$"


class FrameworkError(InputRefused):
    """A framework file is refused; the message names the file, row and column."""


def _number(column: str) -> pl.Expr:
    return pl.col(column).str.strip_chars().cast(pl.Float64, strict=False)


LEVEL = _number("Level")
DIRECTION = _number("Direction")
WEIGHT = _number("Weight")

#: The rules on the rows of the tree (Indicator, Aggregate): column, rule, message.
TREE_ROW_RULES = (
    ("Level", (LEVEL >= 1) & (LEVEL % 1 == 0), "not a whole number >= 1"),
    ("Direction", DIRECTION.is_in([-1.0, 1.0]), "not 1 or -1"),
    ("Weight", (WEIGHT > 0) & WEIGHT.is_finite(), "not a positive number"),
)
CODE_MESSAGE = "not a code of letters, digits and _"
TYPE_MESSAGE = f"not one of {', '.join(TYPES)}"


def _tree_row_holds(rule: pl.Expr) -> pl.Expr:
    return pl.when(pl.col("Type").is_in(TREE_TYPES)).then(rule.fill_null(False)).otherwise(True)


def columns_pass(meta: pl.DataFrame) -> bool:
    """Every column rule of schema() holds (the fast path: no pandera import)."""
    if any(meta.schema[c] != pl.String for c in ("iCode", "Type")):
        return False
    rules = [
        pl.col("iCode").is_not_null() & pl.col("iCode").str.contains(CODE_PATTERN),
        pl.col("Type").is_in(TYPES).fill_null(False),  # not nullable in the schema either
        *(_tree_row_holds(rule) for _, rule, _ in TREE_ROW_RULES),
    ]
    return bool(meta.select(pl.all_horizontal(rules).all()).item())


@functools.cache
def schema() -> pa.DataFrameSchema:
    """The column rules as a pandera schema, which names the failing row and column."""
    import pandera.polars as pa
    from pandera.api.polars.types import PolarsData

    def tree_row_check(column: str, rule: pl.Expr, message: str) -> pa.Check:
        """A rule on one column that holds for the tree's rows (Indicator, Aggregate) only."""

        def check(data: PolarsData) -> pl.LazyFrame:
            return data.lazyframe.select(_tree_row_holds(rule).alias(column))

        return pa.Check(check, name=column, error=message)

    return pa.DataFrameSchema(
        {
            "iCode": pa.Column(
                str, pa.Check.str_matches(CODE_PATTERN, error=CODE_MESSAGE), nullable=False
            ),
            "Type": pa.Column(str, pa.Check.isin(TYPES, error=TYPE_MESSAGE)),
            "Level": pa.Column(str, nullable=True),
            "Direction": pa.Column(str, nullable=True),
            "Weight": pa.Column(str, nullable=True),
            "Parent": pa.Column(str, nullable=True),
        },
        checks=[tree_row_check(*rule) for rule in TREE_ROW_RULES],
        strict=False,  # extra columns (unit, source, definition...) are kept as they are
    )


def _refuse_from_schema(path: Path, errors: Exception, meta: pl.DataFrame) -> None:
    """Raise for the first failing row (file order), naming its column and value."""
    cases = errors.failure_cases.filter(pl.col("index").is_not_null()).sort("index")
    if cases.is_empty():
        raise FrameworkError(path, None, None, str(errors).splitlines()[0])
    case = cases.row(0, named=True)
    index = int(case["index"])
    row_checks = {check.error: check.name for check in schema().checks}
    if case["schema_context"] == "DataFrameSchema":  # a row check, named after its column
        column, message = row_checks[case["check"]], case["check"]
    else:
        column = case["column"]
        message = "empty" if case["check"] == "not_nullable" else case["check"]
    value = meta[column][index]
    shown = f"{message} ({value!r})" if value is not None else message
    raise FrameworkError(path, index + 2, column, shown)


def read_framework_csv(path: Path) -> pl.DataFrame:
    """The file as strings, with its columns checked for presence."""
    path = Path(path)
    try:
        meta = pl.read_csv(path, infer_schema_length=0)
    except pl.exceptions.NoDataError:
        raise FrameworkError(
            path,
            None,
            None,
            f"the file is empty: a framework needs a header ({', '.join(META_COLUMNS)}) "
            "and one row per indicator and aggregate",
        ) from None
    except (OSError, pl.exceptions.ComputeError) as error:
        raise FrameworkError(path, None, None, f"cannot read it as CSV: {error}") from None
    for column in META_COLUMNS:
        if column not in meta.columns:
            raise FrameworkError(path, 1, column, "required column is missing")
    return meta


def check_framework(meta: pl.DataFrame, path: Path) -> None:
    """Refuse a framework that the engine cannot aggregate; the first problem raises."""
    path = Path(path)
    if meta.is_empty():
        raise FrameworkError(path, None, None, "a header and no rows: add the indicators")
    if not columns_pass(meta):
        import pandera.errors

        try:
            schema().validate(meta, lazy=True)
        except pandera.errors.SchemaErrors as errors:
            _refuse_from_schema(path, errors, meta)
    codes = meta["iCode"].to_list()
    first_row = {}
    for index, code in enumerate(codes):
        if code in first_row:
            raise FrameworkError(
                path,
                index + 2,
                "iCode",
                f"duplicate code {code!r} (first on row {first_row[code]})",
            )
        first_row[code] = index + 2
    _check_tree(meta, path, first_row)


def _check_tree(meta: pl.DataFrame, path: Path, row_of: dict[str, int]) -> None:
    """Parents exist and are aggregates, no cycle, levels step by one, no empty aggregate."""
    rows = [r for r in meta.iter_rows(named=True) if r["Type"] in TREE_TYPES]
    if not any(r["Type"] == "Indicator" for r in rows):
        raise FrameworkError(
            path, None, "Type", "no row of Type Indicator: there is nothing to aggregate"
        )
    node = {r["iCode"]: r for r in rows}
    kind = dict(zip(meta["iCode"], meta["Type"], strict=True))
    level = {code: int(float(r["Level"])) for code, r in node.items()}
    parent = {code: (r["Parent"] or "").strip() or None for code, r in node.items()}
    for code, up in parent.items():
        row = row_of[code]
        if up is None:
            if node[code]["Type"] == "Indicator":
                raise FrameworkError(path, row, "Parent", f"indicator {code!r} has no parent")
            continue
        if up not in kind:
            raise FrameworkError(
                path, row, "Parent", f"parent {up!r} of {code!r} is not a code in this file"
            )
        if kind[up] != "Aggregate":
            raise FrameworkError(
                path, row, "Parent", f"parent {up!r} of {code!r} is a {kind[up]}, not an Aggregate"
            )
    for code in parent:
        path_up, current = [code], parent[code]
        while current is not None:
            if current in path_up:
                loop = " -> ".join([*path_up[path_up.index(current) :], current])
                closing = path_up[-1]  # the row whose Parent closes the loop
                raise FrameworkError(
                    path, row_of[closing], "Parent", f"parents form a cycle: {loop}"
                )
            path_up.append(current)
            current = parent[current]
    for code, up in parent.items():
        if node[code]["Type"] == "Indicator" and level[code] != 1:
            raise FrameworkError(
                path, row_of[code], "Level", f"indicator {code!r} is at level {level[code]}, not 1"
            )
        if up is not None and level[code] != level[up] - 1:
            raise FrameworkError(
                path,
                row_of[code],
                "Level",
                f"{code!r} is at level {level[code]} but its parent {up!r} is at level "
                f"{level[up]} (a child is one level below its parent)",
            )
    with_children = {up for up in parent.values() if up is not None}
    for code, r in node.items():
        if r["Type"] == "Aggregate" and code not in with_children:
            raise FrameworkError(path, row_of[code], "iCode", f"aggregate {code!r} has no children")
    top = max(level.values())
    for code, up in parent.items():
        if up is None and level[code] != top:
            raise FrameworkError(
                path,
                row_of[code],
                "Parent",
                f"aggregate {code!r} has no parent but is at level {level[code]}, below the "
                f"top level {top}: give it a parent",
            )


def load_framework(path: Path) -> pl.DataFrame:
    """Read and check a framework file; the frame keeps the file's columns, as strings."""
    meta = read_framework_csv(path)
    check_framework(meta, path)
    return meta
