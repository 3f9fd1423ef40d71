"""Where `city-index compute` spends its time: Python phases and every dbt model's own time.

Why: the engine's wall time is one number; to fix it we need to know whether parsing, loading,
dbt's start-up or a particular model costs most. This replays compute's steps (the same
functions, the same dbt invocation) but keeps dbt's run_results.json, and wraps the whole in
cProfile for the Python side.
"""

from __future__ import annotations

import cProfile
import io
import json
import pstats
import time
from pathlib import Path

import duckdb
import polars as pl

from pipelines.index.compute import EngineConfig, read_data, read_framework
from pipelines.index.dbt_runner import run_dbt


def profile_compute(
    framework_path: Path, data_path: Path, work: Path, config: EngineConfig, top: int = 12
) -> dict:
    """Phase times (s), per-model dbt times (s) and the top cProfile entries (cumulative)."""
    work.mkdir(parents=True, exist_ok=True)
    warehouse = work / "scratch.duckdb"
    warehouse.unlink(missing_ok=True)
    phases: dict[str, float] = {}
    profiler = cProfile.Profile()
    profiler.enable()
    t0 = time.perf_counter()
    framework = read_framework(framework_path)
    long, _ = read_data(data_path, framework)
    phases["read_and_check_inputs"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema compute")
        empty_groups = pl.DataFrame(
            schema={
                "unit_code": pl.String,
                "year": pl.Int32,
                "group_name": pl.String,
                "group_value": pl.String,
            }
        )
        for name, frame in (("framework", framework), ("data", long), ("groups", empty_groups)):
            con.register("incoming", frame.to_arrow())
            con.execute(f"create table compute.{name} as select * from incoming")
            con.unregister("incoming")
    phases["load_scratch_duckdb"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    run_dbt(
        "build",
        warehouse=warehouse,
        dbt_vars={"engine_input": "compute", **config.dbt_vars()},
        select="tag:engine",
        target_path=work / "target",
    )
    phases["dbt_build"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    with duckdb.connect(str(warehouse)) as con:
        scores = con.sql(
            "select unit_code, year, icode, level, value, rank from engine.eng_scores"
            " order by year, level, icode, unit_code"
        ).pl()
    scores.write_csv(work / "scores.csv", float_precision=None)
    phases["read_scores_and_write_csv"] = time.perf_counter() - t0
    profiler.disable()
    results = json.loads((work / "target" / "run_results.json").read_text())
    models = sorted(
        (
            {"node": r["unique_id"].split(".", 2)[-1], "seconds": round(r["execution_time"], 3)}
            for r in results["results"]
        ),
        key=lambda r: -r["seconds"],
    )
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(top)
    return {
        "phases_s": {k: round(v, 3) for k, v in phases.items()},
        "dbt_nodes_s": models,
        "dbt_nodes_total_s": round(sum(m["seconds"] for m in models), 3),
        "cprofile_top": out.getvalue().splitlines()[-top - 3 :],
    }


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--framework", type=Path, required=True)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--normalise", default="minmax_panel")
    args = parser.parse_args()
    report = profile_compute(
        args.framework, args.data, args.work, EngineConfig(normalise=args.normalise)
    )
    print(json.dumps(report, indent=1))
