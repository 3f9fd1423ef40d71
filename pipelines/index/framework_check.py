"""One validator for every framework: a COINr iMeta for `city-index compute` and
`assets/framework.csv` for the city index.

A framework that is not a tree (a cycle, a missing parent, a level that does not follow its
parent's) or has weights and directions the engine cannot use gives empty or partial scores
with exit 0; it is refused here instead, naming the file, the row (header = row 1) and the
column.

Why plain Python: a framework is tens of rows, and each rule below is one predicate on a cell,
stated once and checked row by row in file order, so the first failure names its own row and
column. A dataframe schema (pandera, as before) needed polars and pandas to say the same thing:
about 0.07 s of every `city-index compute` for polars alone, 0.4 s more for pandera whenever a
file was refused. Read with the csv module, the compute path imports no dataframe library
before the engine has run.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pipelines.errors import InputRefused

if TYPE_CHECKING:
    import polars as pl

META_COLUMNS = ("Level", "iCode", "iName", "Direction", "Weight", "Parent", "Type")
#: Rows of these types form the tree; COINr's Group, Denominator and Other rows stand aside.
TREE_TYPES = ("Indicator", "Aggregate")
TYPES = (*TREE_TYPES, "Group", "Denominator", "Other")
#: Codes become column names and table values in the engine: letters, digits and underscores,
#: starting with a letter or underscore, at most 63 characters (DuckDB's identifier limit).
CODE_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")

Cell = str | None  # None: the cell is empty


class FrameworkError(InputRefused):
    """A framework file is refused; the message names the file, row and column."""


@dataclass(frozen=True)
class FrameworkFile:
    """A framework file as text: its header and its rows in file order (row 2 is rows[0])."""

    columns: tuple[str, ...]
    rows: list[dict[str, Cell]]

    def column(self, name: str) -> list[Cell]:
        return [row[name] for row in self.rows]


def number(cell: Cell) -> float | None:
    """A cell as a number, or None: surrounding spaces allowed, digit separators not."""
    if cell is None or "_" in cell:
        return None
    try:
        return float(cell.strip())
    except ValueError:
        return None


def _whole_from_one(cell: Cell) -> bool:
    value = number(cell)
    return value is not None and value >= 1 and value % 1 == 0


def _plus_or_minus_one(cell: Cell) -> bool:
    return number(cell) in (-1.0, 1.0)


def _positive(cell: Cell) -> bool:
    value = number(cell)
    return value is not None and value > 0 and math.isfinite(value)


def _code(cell: Cell) -> bool:
    return CODE_PATTERN.fullmatch(cell) is not None


def _type(cell: Cell) -> bool:
    return cell in TYPES


Rule = tuple[str, Callable[[str], bool], str]
#: The rules on every row (an empty cell is refused as "empty"): column, rule, message.
ROW_RULES: tuple[Rule, ...] = (
    ("iCode", _code, "not a code of letters, digits and _"),
    ("Type", _type, f"not one of {', '.join(TYPES)}"),
)
#: The rules on the rows of the tree (Indicator, Aggregate), an empty cell failing them too.
TREE_ROW_RULES: tuple[Rule, ...] = (
    ("Level", _whole_from_one, "not a whole number >= 1"),
    ("Direction", _plus_or_minus_one, "not 1 or -1"),
    ("Weight", _positive, "not a positive number"),
)


def read_framework_csv(path: Path) -> FrameworkFile:
    """The file as text, with its columns checked for presence."""
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            lines = [line for line in csv.reader(handle, strict=True) if line]
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise FrameworkError(path, None, None, f"cannot read it as CSV: {error}") from None
    if not lines:
        raise FrameworkError(
            path,
            None,
            None,
            f"the file is empty: a framework needs a header ({', '.join(META_COLUMNS)}) "
            "and one row per indicator and aggregate",
        )
    header = tuple(lines[0])
    for column in META_COLUMNS:
        if column not in header:
            raise FrameworkError(path, 1, column, "required column is missing")
    repeated = next((c for i, c in enumerate(header) if c in header[:i]), None)
    if repeated is not None:
        raise FrameworkError(path, 1, repeated, "column appears twice in the header")
    rows = []
    for row_number, line in enumerate(lines[1:], start=2):
        if len(line) > len(header):
            raise FrameworkError(
                path, row_number, None, f"{len(line)} fields, the header has {len(header)}"
            )
        cells = [*line, *[""] * (len(header) - len(line))]  # a short row: empty cells
        rows.append({c: cell or None for c, cell in zip(header, cells, strict=True)})
    return FrameworkFile(header, rows)


def _check_cells(framework: FrameworkFile, path: Path) -> None:
    """The first cell, in file order, that breaks a rule of its column."""
    for row_number, row in enumerate(framework.rows, start=2):
        rules = ROW_RULES + (TREE_ROW_RULES if row["Type"] in TREE_TYPES else ())
        for column, holds, message in rules:
            cell = row[column]
            if cell is None:
                shown = "empty" if column in ("iCode", "Type") else message
                raise FrameworkError(path, row_number, column, shown)
            if not holds(cell):
                raise FrameworkError(path, row_number, column, f"{message} ({cell!r})")


def check_framework(framework: FrameworkFile, path: Path) -> None:
    """Refuse a framework that the engine cannot aggregate; the first problem raises."""
    path = Path(path)
    if not framework.rows:
        raise FrameworkError(path, None, None, "a header and no rows: add the indicators")
    _check_cells(framework, path)
    first_row: dict[str, int] = {}
    for row_number, code in enumerate(framework.column("iCode"), start=2):
        if code in first_row:
            raise FrameworkError(
                path,
                row_number,
                "iCode",
                f"duplicate code {code!r} (first on row {first_row[code]})",
            )
        first_row[code] = row_number
    _check_tree(framework, path, first_row)


def _check_tree(framework: FrameworkFile, path: Path, row_of: dict[str, int]) -> None:
    """Parents exist and are aggregates, no cycle, levels step by one, no empty aggregate."""
    rows = [r for r in framework.rows if r["Type"] in TREE_TYPES]
    if not any(r["Type"] == "Indicator" for r in rows):
        raise FrameworkError(
            path, None, "Type", "no row of Type Indicator: there is nothing to aggregate"
        )
    node = {r["iCode"]: r for r in rows}
    kind = dict(zip(framework.column("iCode"), framework.column("Type"), strict=True))
    level = {code: int(number(r["Level"])) for code, r in node.items()}
    parent = {code: parent_code(r["Parent"]) for code, r in node.items()}
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


def parent_code(cell: Cell) -> str | None:
    """A Parent cell as a code (spaces around it ignored), None for the root."""
    return (cell or "").strip() or None


def checked_framework(path: Path) -> FrameworkFile:
    """Read and check a framework file."""
    framework = read_framework_csv(path)
    check_framework(framework, path)
    return framework


def load_framework(path: Path) -> pl.DataFrame:
    """A checked framework file as a polars frame of strings, every column of the file kept
    (empty cells null), for the city index's warehouse."""
    import polars as pl

    framework = checked_framework(path)
    return pl.DataFrame(
        {column: framework.column(column) for column in framework.columns},
        schema=dict.fromkeys(framework.columns, pl.String),
    )
