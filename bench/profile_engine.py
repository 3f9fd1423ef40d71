"""Where `city-index compute` spends its time: each phase and each engine model's own time.

Why: the engine's wall time is one number; to fix it we need to know whether reading, loading,
compiling, a particular model or writing costs most. This replays compute's steps with the
same functions (read_framework, read_data, load_inputs, compiled_engine, run_engine with its
per-model timings, the same CSV writer) on a scratch DuckDB of its own.
"""

from __future__ import annotations

import json
import resource
import time
from pathlib import Path

import duckdb

from pipelines.index.compute import ENGINE_SETTINGS, EngineConfig, engine_connection, read_framework
from pipelines.index.compute_inputs import load_inputs
from pipelines.index.engine_sql import cached_engine, compiled_engine, run_engine
from pipelines.index.scores_csv import write_scores


def peak_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def profile_compute(
    framework_path: Path, data_path: Path, work: Path, config: EngineConfig
) -> dict:
    """Phase times (s) with the process's peak RSS after each, and every model's time (s)."""
    started = time.perf_counter()
    import pipelines.cli  # noqa: F401  (what `city-index` imports before it computes)

    phases: dict[str, dict] = {"import_cli": {"s": time.perf_counter() - started}}
    phases["import_cli"]["peak_mb"] = peak_mb()

    def phase(name: str, t0: float) -> None:
        phases[name] = {"s": round(time.perf_counter() - t0, 3), "peak_mb": peak_mb()}

    work.mkdir(parents=True, exist_ok=True)
    warehouse = work / "scratch.duckdb"
    warehouse.unlink(missing_ok=True)
    t0 = time.perf_counter()
    framework = read_framework(framework_path)
    phase("read_and_check_framework", t0)
    t0 = time.perf_counter()
    dbt_vars = {"engine_input": "compute", **config.dbt_vars()}
    nodes = cached_engine(dbt_vars, work)
    if nodes is None:
        with duckdb.connect(str(warehouse)) as con:
            load_inputs(con, framework, data_path, None)
        nodes = compiled_engine(warehouse, dbt_vars, work)
    phase("compiled_engine (dbt compile on first use)", t0)
    models: dict[str, float] = {}
    t0 = time.perf_counter()
    with engine_connection(warehouse, work / "spill") as con:
        has_time = load_inputs(con, framework, data_path, None)
        phase("read_and_check_data_into_duckdb", t0)
        t0 = time.perf_counter()
        run_engine(con, nodes, models)
        phase("run_engine_models", t0)
        t0 = time.perf_counter()
        write_scores(con, work / "scores.csv", has_time)
    phase("sort_and_write_scores_csv", t0)
    return {
        "phases": phases,
        "models_s": {name: round(s, 3) for name, s in sorted(models.items(), key=lambda m: -m[1])},
        "engine_settings": ENGINE_SETTINGS,
    }


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--framework", type=Path, required=True)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--normalise", default="minmax_panel")
    parser.add_argument("--treat", default="none")
    args = parser.parse_args()
    config = EngineConfig(normalise=args.normalise, treat=args.treat)
    print(json.dumps(profile_compute(args.framework, args.data, args.work, config), indent=1))
