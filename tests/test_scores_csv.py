"""compute's scores.csv writer (pipelines/index/scores_csv.py): every value reads back as the
engine's double, bit for bit; rows in the order of year, level, code and unit text; missing
cells empty; the same bytes every time; chunks change nothing. And the compute path loads
neither pyarrow nor numpy when nothing is treated (they cost every run about 0.1 s)."""

from __future__ import annotations

import csv
import json
import math
import os
import random
import struct
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from pipelines.index import scores_csv

ASEM = Path(__file__).parent / "data" / "coinr"

# Doubles whose shortest text is awkward: exponents both ways, subnormal, ties in the last
# digit, integers, negative zero.
AWKWARD = [
    0.0,
    -0.0,
    1.5e-05,
    5.19e-07,
    0.1 + 0.2,
    1 / 3,
    2.0**-1074,
    1e300,
    -123456789.125,
    100.0,
    28.688524590163933,
    9007199254740993.0,
    5e-324,
    1e-7,
    123456.7890123,
]


def bits(x: float) -> int:
    return struct.unpack("<Q", struct.pack("<d", x))[0]


def engine_tables(con: duckdb.DuckDBPyConnection, has_time: bool) -> list[tuple]:
    """A small eng_units / eng_codes / eng_ranked with awkward values and nulls; returns the
    rows as the file must hold them, in its order."""
    con.execute("create schema engine")
    units = ["A", "B,comma", 'C"quote', "NA"]  # text order: A, B..., C..., NA
    codes = [("Agg", 2), ("i1", 1), ("i2", 1)]  # code_id in text order
    con.execute("create table engine.eng_units (unit_code varchar, unit_id integer)")
    con.executemany(
        "insert into engine.eng_units values (?, ?)", [(u, i + 1) for i, u in enumerate(units)]
    )
    con.execute("create table engine.eng_codes (code_id integer, icode varchar, level integer)")
    con.executemany(
        "insert into engine.eng_codes values (?, ?, ?)",
        [(i + 1, c, lv) for i, (c, lv) in enumerate(codes)],
    )
    con.execute(
        "create table engine.eng_ranked (unit_id integer, year integer,"
        " code_id integer, level integer, value double, rank bigint)"
    )
    rng = random.Random(7)
    years = [2019, 2020] if has_time else [0]
    rows = []
    values = iter(AWKWARD * 4 + [rng.uniform(-1e6, 1e6) for _ in range(100)])
    for year in years:
        for code_id, (_code, level) in enumerate(codes, start=1):
            for unit_id in range(1, len(units) + 1):
                value = next(values)
                value = None if (unit_id + code_id + year) % 5 == 0 else value
                rank = None if value is None else unit_id
                rows.append((unit_id, year, code_id, level, value, rank))
    shuffled = rows[:]
    rng.shuffle(shuffled)  # the writer must sort, not rely on insertion order
    con.executemany("insert into engine.eng_ranked values (?, ?, ?, ?, ?, ?)", shuffled)
    expected = sorted(rows, key=lambda r: (r[1], r[3], r[2], r[0]))
    return [
        (
            units[u - 1],
            str(y) if has_time else "",
            codes[c - 1][0],
            str(lv),
            v,
            "" if r is None else str(r),
        )
        for u, y, c, lv, v, r in expected
    ]


@pytest.mark.parametrize("has_time", [True, False])
@pytest.mark.parametrize("chunk_rows", [1, 5, 10_000])
def test_values_read_back_bit_for_bit_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, has_time: bool, chunk_rows: int
) -> None:
    monkeypatch.setattr(scores_csv, "CHUNK_ROWS", chunk_rows)
    con = duckdb.connect()
    expected = engine_tables(con, has_time)
    path = tmp_path / "scores.csv"
    scores_csv.write_scores(con, path, has_time)
    with path.open(newline="") as f:
        header, *rows = list(csv.reader(f))
    assert header == list(scores_csv.COLUMNS)
    assert len(rows) == len(expected)
    for row, want in zip(rows, expected, strict=True):
        assert row[:4] == list(want[:4]) and row[5] == want[5], (row, want)
        if want[4] is None:
            assert row[4] == "", row
        else:
            got = float(row[4])
            assert bits(got) == bits(want[4]) and not math.isnan(got), (row, want)


def test_same_bytes_every_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    written = []
    for chunk_rows, run in ((3, "a"), (3, "b"), (1_000, "c")):
        monkeypatch.setattr(scores_csv, "CHUNK_ROWS", chunk_rows)
        con = duckdb.connect()
        engine_tables(con, True)
        path = tmp_path / f"{run}.csv"
        scores_csv.write_scores(con, path, True)
        written.append(path.read_bytes())
    assert written[0] == written[1] == written[2]


def test_no_rows_still_has_the_header(tmp_path: Path) -> None:
    con = duckdb.connect()
    engine_tables(con, True)
    con.execute("delete from engine.eng_ranked")
    path = tmp_path / "scores.csv"
    scores_csv.write_scores(con, path, True)
    assert path.read_text() == ",".join(scores_csv.COLUMNS) + "\n"


def test_untreated_compute_loads_neither_pyarrow_nor_numpy(tmp_path: Path) -> None:
    code = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from pipelines.index.compute import EngineConfig, compute\n"
        f"asem = Path({str(ASEM)!r})\n"
        "compute(asem / 'inputs_iMeta.csv', asem / 'inputs_iData.csv', Path(sys.argv[1]),"
        " EngineConfig())\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    env = {**os.environ, "CITY_INDEX_HOME": str(tmp_path / "home")}
    run = [sys.executable, "-c", code, str(tmp_path / "out")]
    subprocess.run(run, env=env, capture_output=True, text=True, check=True)  # compiles once
    second = subprocess.run(run, env=env, capture_output=True, text=True, check=True)
    loaded = set(json.loads(second.stdout))
    assert not loaded & {"pyarrow", "numpy", "pandas", "dbt"}, loaded & {"pyarrow", "numpy"}
    assert second.stderr == ""  # no warning of the bindings on exit
    assert (tmp_path / "out" / "scores.csv").read_text().count("\n") == 1 + 51 * 60
