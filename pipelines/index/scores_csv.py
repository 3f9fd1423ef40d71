"""compute's scores.csv, written from the engine's numbered rows (eng_ranked) by polars.

Why polars: its CSV writer formats 6 million rows (5,000 units x 20 years) in about 0.6 s of
CPU where pyarrow's took about 1.3 s and DuckDB's COPY more than pyarrow's; each double is
written in its shortest form that reads back as the same double (Ryu), so every value of
the file parses to exactly the engine's number. The file is written in chunks of whole
(year, code) groups of at most CHUNK_ROWS rows, each sorted by DuckDB and named here, so
memory stays bounded whatever the size.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from pipelines.index.arrow_stream import frame_of
from pipelines.index.duckdb_native import Connection

COLUMNS = ("uCode", "Time", "iCode", "Level", "value", "rank")
# Rows of one chunk: large enough that a chunk's query costs little, small enough that its
# frame (about 60 bytes a row, names included) stays a few tens of MB.
CHUNK_ROWS = 500_000


def chunks(con: Connection) -> list[tuple[int, list[int]]]:
    """(year, code numbers) of each chunk, in the file's order (year, level, code): whole
    (year, code) groups, up to CHUNK_ROWS rows, never across a year."""
    groups = con.execute(
        "select r.year, r.code_id, count(*) from engine.eng_ranked as r"
        " group by r.year, r.level, r.code_id order by r.year, r.level, r.code_id"
    ).fetchall()
    planned: list[tuple[int, list[int]]] = []
    rows = 0
    for year, code_id, n in groups:
        if not planned or planned[-1][0] != year or rows + n > CHUNK_ROWS:
            planned.append((year, []))
            rows = 0
        planned[-1][1].append(code_id)
        rows += n
    return planned


def names(con: Connection, query: str) -> pl.Series:
    """The one text column of `query`, in its order (numbers 1, 2, ... are positions 0, 1, ...)."""
    return pl.Series([name for (name,) in con.execute(query).fetchall()], dtype=pl.String)


def write_scores(con: Connection, path: Path, has_time: bool) -> None:
    """scores.csv: every unit, year and code with value and rank, sorted by year, level, code
    and unit (eng_units and eng_codes number units and codes in the order of their text, so
    the numbers sort as the text). Units and codes are named by position in their lists:
    no join of names over millions of rows."""
    unit_names = names(con, "select unit_code from engine.eng_units order by unit_id")
    code_names = names(con, "select icode from engine.eng_codes order by code_id")
    with path.open("wb") as out:
        out.write((",".join(COLUMNS) + "\n").encode())  # the header, rows or none
        for year, code_ids in chunks(con):
            rows = frame_of(
                con,
                "select unit_id - 1 as unit_index, code_id - 1 as code_index,"
                " cast(level as integer) as Level, value, cast(rank as bigint) as rank"
                " from engine.eng_ranked where year = $year and list_contains($codes, code_id)"
                " order by level, code_id, unit_id",
                {"year": year, "codes": code_ids},
            )
            named = pl.DataFrame(
                {
                    "uCode": unit_names.gather(rows["unit_index"]),
                    "Time": pl.repeat(
                        str(year) if has_time else None, rows.height, dtype=pl.String, eager=True
                    ),
                    "iCode": code_names.gather(rows["code_index"]),
                    "Level": rows["Level"],
                    "value": rows["value"],
                    "rank": rows["rank"],
                }
            )
            named.write_csv(out, include_header=False, float_precision=None)
