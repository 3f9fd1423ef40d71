"""The five benchmark scenarios. Each returns a JSON-able dict; ratios are taken side by side
in the same run, absolute times are context only.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

from bench.compare import compare_scores
from bench.edition_worker import HISTORY_BUILD_RUN
from bench.generate import (
    ASEM_DATA,
    ASEM_META,
    Panel,
    asem_framework,
    asem_values,
    generate,
    write_inputs,
)
from bench.measure import BIN, ROOT, median, percentile, run_child, timed
from bench.numpy_compute import panel_scores

PY = str(BIN / "python")
CITY_INDEX = str(BIN / "city-index")


def _engine_child(program: list[str], meta: Path, data: Path, out: Path, normalise: str) -> dict:
    """Time one engine (same arguments for both) in a fresh child process."""
    arguments = ["--framework", str(meta), "--data", str(data), "--out", str(out)]
    run = run_child([*program, *arguments, "--normalise", normalise])
    return {"seconds": round(run.seconds, 3), "peak_rss_mb": round(run.peak_rss_mb, 1)}


def _compute_child(meta: Path, data: Path, out: Path, normalise: str) -> dict:
    return _engine_child([CITY_INDEX, "compute"], meta, data, out, normalise)


def _numpy_child(meta: Path, data: Path, out: Path, normalise: str) -> dict:
    return _engine_child([PY, "-m", "bench.numpy_compute"], meta, data, out, normalise)


# 1. Engine at scale -----------------------------------------------------------------------


def engine_at_scale(sizes: list[tuple[int, int]], work: Path, reps: int = 1) -> dict:
    """`city-index compute --normalise minmax_panel` vs the numpy engine on the same files,
    alternating, `reps` times each; medians, peak RSS (max) and a full equality check."""
    rows = []
    for n_units, n_years in sizes:
        panel = generate(n_units, n_years)
        folder = work / f"engine_{n_units}x{n_years}"
        meta, data = write_inputs(panel, folder)
        dbt_runs, np_runs = [], []
        for _ in range(reps):
            dbt_runs.append(_compute_child(meta, data, folder / "dbt", "minmax_panel"))
            np_runs.append(_numpy_child(meta, data, folder / "numpy", "minmax_panel"))
        check = compare_scores(folder / "dbt" / "scores.csv", folder / "numpy" / "scores.csv")
        dbt_s = median([r["seconds"] for r in dbt_runs])
        np_s = median([r["seconds"] for r in np_runs])
        rows.append(
            {
                "units": n_units,
                "years": n_years,
                "indicators": panel.framework.n_indicators,
                "values": panel.n_values,
                "missing_share": round(float(np.isnan(panel.values).mean()), 4),
                "compute_s": dbt_s,
                "compute_peak_rss_mb": max(r["peak_rss_mb"] for r in dbt_runs),
                "numpy_s": np_s,
                "numpy_peak_rss_mb": max(r["peak_rss_mb"] for r in np_runs),
                "compute_over_numpy": round(dbt_s / np_s, 2),
                "runs": {"compute": dbt_runs, "numpy": np_runs},
                "check_compute_vs_numpy": check,
            }
        )
        shutil.rmtree(folder, ignore_errors=True)
    return {"normalise": "minmax_panel", "reps": reps, "sizes": rows}


# 2. Uncertainty ---------------------------------------------------------------------------


def uncertainty(n_reps: int, repeats: int) -> dict:
    """monte_carlo_ranks on ASEM with the default assumptions (winsorisation limit 1-5,
    min-max or z-score, weights +-25 %, arithmetic or geometric)."""
    from pipelines.analysis.uncertainty import monte_carlo_ranks

    fw = asem_framework()
    values, units = asem_values(fw)
    times = []
    for _ in range(repeats):
        seconds, result = timed(monte_carlo_ranks, fw, values, units, n_reps=n_reps)
        times.append(seconds)
    total = median(times)
    return {
        "units": len(units),
        "indicators": fw.n_indicators,
        "replications": n_reps,
        "repeats": repeats,
        "total_s": round(total, 4),
        "ms_per_replication": round(total / n_reps * 1000, 4),
        "runs_s": [round(t, 4) for t in times],
        "ranked_units": int(result["median_rank"].is_not_null().sum()),
    }


# 3. The annual edition vs bare dbt + GX ----------------------------------------------------


def edition(work: Path, year: int, reps: int, replications: int = 1000) -> dict:
    """`city-index release` (subprocess, every year ingested first) vs `dbt build` (subprocess,
    same vars, persistent target so partial parsing works as for a person at a shell) plus the
    GX checkpoint on the same frames; alternating, medians."""
    from pipelines.settings import FIRST_YEAR

    home = work / "edition_home"
    shutil.rmtree(home, ignore_errors=True)
    env = {
        "CITY_INDEX_HOME": str(home),
        "DAGSTER_HOME": str(home / "dagster_home"),
        "CITY_INDEX_WAREHOUSE": str(home / "warehouse.duckdb"),
        "CITY_INDEX_MODE": "snapshot",
    }
    prepare = run_child([CITY_INDEX, "prepare"], env=env)  # the manifest dagster-dbt loads
    started = time.perf_counter()
    # Every year, the edition's own included, is landed first (untimed, as a user's `ingest`
    # run): since `release` ingests only the years it finds missing, a timed edition then does
    # what the bare build it is compared with does, no ingest.
    run_child(
        [PY, "-m", "bench.edition_worker", "ingest", *map(str, range(FIRST_YEAR, year + 1))],
        env=env,
    )
    ingest_s = time.perf_counter() - started
    release = [CITY_INDEX, "release", "--year", str(year), "--replications", str(replications)]
    # Every timed run publishes a new edition number, so each does the same work as a real
    # first release and none depends on the previous one having the same numbers.
    first = run_child([*release, "--edition", "1"], env=env)
    # The bare side runs on a copy of the warehouse (same data, same models, its own dbt
    # target): a bare `dbt build` in the edition's warehouse would replace years behind the
    # pipeline's back (and invalidate any record the pipeline keeps of what it built), so the
    # timed edition would not do what a release after a release does.
    bare_home = work / "edition_bare"
    shutil.rmtree(bare_home, ignore_errors=True)
    bare_home.mkdir(parents=True)
    for suffix in ("", ".wal"):
        source = Path(env["CITY_INDEX_WAREHOUSE"] + suffix)
        if source.exists():
            shutil.copy2(source, bare_home / (source.name))
    bare_env = {**env, "CITY_INDEX_WAREHOUSE": str(bare_home / "warehouse.duckdb")}
    target = bare_home / "dbt_target"
    dbt = str(BIN / "dbt")
    project = [
        "--project-dir",
        str(ROOT / "dbt_project"),
        "--profiles-dir",
        str(ROOT / "dbt_project"),
        "--target-path",
        str(target),
    ]
    run_child([dbt, "parse", *project], env=bare_env)

    def build(first_year: int, last_year: int) -> list[str]:
        years = {"year_from": first_year, "year_to": last_year}
        return [dbt, "build", *project, "--vars", json.dumps(years), "--quiet"]

    bare_cmd = build(year, year)
    # `release` rebuilds the years before the edition's first, in a run of its own, with the
    # same method, unless they are up to date: the same models over the same years, built
    # bare, are that history build plus the year's (reported beside the goal's ratio, which
    # takes the year's build alone).
    history_cmd = build(FIRST_YEAR, year - 1)
    gate_cmd = [PY, "-m", "bench.edition_worker", "gate", str(year)]
    editions, bares, dbt_s, gate_s, step_runs, history_s = [], [], [], [], [], []
    for rep in range(reps):
        h = run_child(history_cmd, env=bare_env)
        b = run_child(bare_cmd, env=bare_env)
        g = run_child(gate_cmd, env=bare_env)
        history_s.append(h.seconds)
        dbt_s.append(b.seconds)
        gate_s.append(g.seconds)
        bares.append(b.seconds + g.seconds)
        e = run_child([*release, "--edition", str(rep + 2)], env=env)
        editions.append(e.seconds)
        step_runs.append(
            json.loads(run_child([PY, "-m", "bench.edition_worker", "steps"], env=env).stdout)
        )
    edition_s, bare_s = median(editions), median(bares)
    steps = step_runs[-1].get("steps_s", {})
    like = sum(v for k, v in steps.items() if "city_index_models" in k or "edition_gate" in k)
    overhead = editions[-1] - sum(steps.values())
    shutil.rmtree(home, ignore_errors=True)
    shutil.rmtree(bare_home, ignore_errors=True)
    return {
        "year": year,
        "replications": replications,
        "reps": reps,
        "prepare_s": round(prepare.seconds, 2),
        "ingest_every_year_s": round(ingest_s, 2),
        "first_edition_s": round(first.seconds, 2),
        "edition_s": round(edition_s, 2),
        "bare_dbt_build_s": round(median(dbt_s), 2),
        "bare_gx_checkpoint_s": round(median(gate_s), 2),
        "bare_s": round(bare_s, 2),
        "ratio": round(edition_s / bare_s, 2),
        "bare_history_build_s": round(median(history_s), 2),
        "ratio_same_years": round(edition_s / (bare_s + median(history_s)), 2),
        "runs": {"edition_s": editions, "bare_s": bares},
        # Per timed edition: True when `release` made no history build run (read from the
        # instance: no `build` run since the edition before it).
        "history_skipped": [run.get("history_skipped") for run in step_runs],
        "edition_peak_rss_mb": round(first.peak_rss_mb, 1),
        "last_edition_steps_s": steps,
        # Outside the edition run's steps and outside the history build run before it.
        "last_edition_outside_steps_s": round(overhead, 2),
        "last_edition_history_build_s": steps.get(HISTORY_BUILD_RUN),
        "like_for_like_ratio": round((like + overhead) / bare_s, 2) if like else None,
    }


# 4. Incremental ---------------------------------------------------------------------------


def incremental(n_units: int, n_years: int, work: Path, reps: int = 2) -> dict:
    """Adding one year: with per-year min-max each year is independent, so the new year is
    computed alone; compared with recomputing the whole backfill (which minmax_panel forces,
    since a new year moves the pooled min and max). The new year's scores must be identical."""
    panel = generate(n_units, n_years)
    folder = work / f"incremental_{n_units}x{n_years}"
    meta, data_all = write_inputs(panel, folder / "all")
    _, data_new = write_inputs(panel, folder / "new", years=[panel.years[-1]])
    # One untimed run compiles the engine for this configuration (as any later run finds it),
    # then the backfill and the new year alternate, `reps` times; medians.
    _compute_child(meta, data_new, folder / "warm", "minmax")
    fulls, ones = [], []
    for _ in range(reps):
        fulls.append(_compute_child(meta, data_all, folder / "out_all", "minmax"))
        ones.append(_compute_child(meta, data_new, folder / "out_new", "minmax"))
    full = {"seconds": median([r["seconds"] for r in fulls])}
    one = {"seconds": median([r["seconds"] for r in ones])}
    # The fixed cost of a run: COINr's own ASEM example (51 units, 1 year), median of 3.
    fixed = [_compute_child(ASEM_META, ASEM_DATA, folder / "asem", "minmax") for _ in range(3)]
    full_np = _numpy_child(meta, data_all, folder / "np_all", "minmax")
    one_np = _numpy_child(meta, data_new, folder / "np_new", "minmax")
    last = str(panel.years[-1])
    pl.read_csv(folder / "out_all" / "scores.csv", infer_schema_length=0).filter(
        pl.col("Time") == last
    ).write_csv(folder / "last.csv")
    check = compare_scores(folder / "out_new" / "scores.csv", folder / "last.csv")
    shutil.rmtree(folder, ignore_errors=True)
    return {
        "units": n_units,
        "years": n_years,
        "normalise": "minmax (per year)",
        "full_backfill_s": full["seconds"],
        "one_year_s": one["seconds"],
        "share": round(one["seconds"] / full["seconds"], 3),
        "runs": {"full_backfill": fulls, "one_year": ones},
        "fixed_cost_asem_s": median([r["seconds"] for r in fixed]),
        "fixed_cost_asem_peak_rss_mb": max(r["peak_rss_mb"] for r in fixed),
        "numpy_full_backfill_s": full_np["seconds"],
        "numpy_one_year_s": one_np["seconds"],
        "numpy_share": round(one_np["seconds"] / full_np["seconds"], 3),
        "check_new_year_equals_backfill": check,
    }


# 5. Analyst queries -----------------------------------------------------------------------

PILLARS_SHOWN = 3  # pillar columns in the history query, as media, social, economy


def build_release_db(panel: Panel, path: Path) -> dict:
    """A release-like DuckDB: marts.mart_city_ranking, marts.fct_index_score and
    analysis.uncertainty for every unit and year (per-year min-max, as the edition).
    Intervals are rank +- a spread growing with the rank (shape only, no Monte Carlo)."""
    fw = panel.framework
    scores, ranks = panel_scores(panel.values, fw, "minmax")
    n_years, n_units, n_codes = scores.shape
    yi, ui, ci = (a.reshape(-1) for a in np.indices(scores.shape))
    units = pl.Series(panel.unit_codes)
    fct = pl.DataFrame(
        {
            "city_id": units.gather(pl.Series(ui)),
            "year": pl.Series(panel.years).gather(pl.Series(yi)),
            "icode": pl.Series(fw.codes).gather(pl.Series(ci)),
            "level": pl.Series(fw.levels.tolist()).gather(pl.Series(ci)),
            "score": pl.Series(scores.reshape(-1)).fill_nan(None),
            "rank": pl.Series(ranks.reshape(-1)).fill_nan(None).cast(pl.Int64),
        }
    )
    top = fw.top_index()
    pillars = [i for i, lev in enumerate(fw.levels) if lev == 2]
    rank = ranks[:, :, top]
    prev = np.vstack([np.full((1, n_units), np.nan), rank[:-1]])
    score = scores[:, :, top]
    prev_score = np.vstack([np.full((1, n_units), np.nan), score[:-1]])
    yy, uu = np.indices((n_years, n_units)).reshape(2, -1)
    data = {
        "year": np.asarray(panel.years)[yy],
        "city_id": units.gather(pl.Series(uu)),
        "name_en": ("City " + units.gather(pl.Series(uu))),
        "name_zh": ("城市" + units.gather(pl.Series(uu))),
        "country_iso3": pl.Series([f"C{i % 150:03d}" for i in range(n_units)]).gather(
            pl.Series(uu)
        ),
        "ranked": ~np.isnan(rank.reshape(-1)),
        "data_availability": 1 - np.isnan(panel.values).mean(axis=2).reshape(-1),
        "score": score.reshape(-1),
        "rank": rank.reshape(-1),
        "score_change": (score - prev_score).reshape(-1),
        "rank_change": (prev - rank).reshape(-1),
        "previous_rank": prev.reshape(-1),
    }
    for j, p in enumerate(pillars):
        data[f"pillar_{j + 1}"] = scores[:, :, p].reshape(-1)
    mart = (
        pl.DataFrame(data)
        .with_columns(pl.col(pl.Float64).fill_nan(None))
        .with_columns(pl.col("rank", "rank_change", "previous_rank").cast(pl.Int64))
    )
    spread = np.ceil(0.5 * np.sqrt(np.nan_to_num(rank, nan=1.0))).reshape(-1)
    unc = (
        mart.select("year", "city_id", "rank", "previous_rank")
        .with_columns(
            pl.col("rank").cast(pl.Float64).alias("median_rank"),
            (pl.col("rank") - pl.Series(spread))
            .clip(lower_bound=1)
            .cast(pl.Float64)
            .alias("rank_p05"),
            (pl.col("rank") + pl.Series(spread)).cast(pl.Float64).alias("rank_p95"),
        )
        .with_columns(
            (
                (pl.col("previous_rank") < pl.col("rank_p05"))
                | (pl.col("previous_rank") > pl.col("rank_p95"))
            )
            .fill_null(False)
            .alias("change_significant")
        )
        .drop("previous_rank")
    )
    path.unlink(missing_ok=True)
    with duckdb.connect(str(path)) as con:
        for schema, name, frame in (
            ("marts", "mart_city_ranking", mart),
            ("marts", "fct_index_score", fct),
            ("analysis", "uncertainty", unc),
        ):
            con.execute(f"create schema if not exists {schema}")
            con.register("incoming", frame.to_arrow())
            con.execute(f"create table {schema}.{name} as select * from incoming")
            con.unregister("incoming")
    return {
        "mart_rows": mart.height,
        "fct_index_score_rows": fct.height,
        "file_mb": round(path.stat().st_size / 2**20, 1),
    }


def analyst_queries(year: int) -> dict[str, tuple[str, list]]:
    """docs/analysts.md's example queries, top 10 widened to top 50 where the issue asks."""
    shown = ", ".join(f"round(pillar_{j + 1}, 1) as pillar_{j + 1}" for j in range(PILLARS_SHOWN))
    return {
        "top_50": (
            "select rank, name_en, name_zh, round(score, 1) as score, rank_change"
            " from marts.mart_city_ranking where year = ? and ranked order by rank limit 50",
            [year],
        ),
        "city_history": (
            f"select year, rank, round(score, 1) as score, {shown}"
            " from marts.mart_city_ranking where city_id = ? order by year",
            [None],  # a different city each run, set by the caller
        ),
        "pillar_breakdown": (
            "select r.rank, r.name_en, s.icode as pillar, round(s.score, 1) as score"
            " from marts.mart_city_ranking as r"
            " join marts.fct_index_score as s using (city_id, year)"
            " where r.year = ? and r.rank <= 10 and s.level = 2 order by r.rank, pillar",
            [year],
        ),
        "movers": (
            "select r.name_en, r.previous_rank, r.rank, r.rank_change, u.change_significant"
            " from marts.mart_city_ranking as r"
            " join analysis.uncertainty as u using (city_id, year)"
            " where r.year = ? and r.rank_change is not null"
            " order by abs(r.rank_change) desc limit 10",
            [year],
        ),
        "rank_intervals": (
            "select r.rank, r.name_en, u.median_rank, u.rank_p05, u.rank_p95"
            " from marts.mart_city_ranking as r"
            " join analysis.uncertainty as u using (city_id, year)"
            " where r.year = ? and r.ranked order by r.rank",
            [year],
        ),
    }


def queries(n_units: int, n_years: int, runs: int, work: Path) -> dict:
    """p50/p95 latency of each analyst query on a read-only connection (all rows fetched)."""
    panel = generate(n_units, n_years)
    path = work / f"release_{n_units}x{n_years}.duckdb"
    build_s, shape = timed(build_release_db, panel, path)
    year = panel.years[-1]
    rng = np.random.default_rng(7)
    out: dict[str, dict] = {}
    connect_s, con = timed(duckdb.connect, str(path), read_only=True)
    try:
        for name, (sql, params) in analyst_queries(year).items():
            times = []
            for _ in range(runs + 1):  # the first run warms the buffer pool; reported apart
                city = panel.unit_codes[int(rng.integers(n_units))]
                args = [city] if params == [None] else params
                start = time.perf_counter()
                rows = con.execute(sql, args).fetchall()
                times.append((time.perf_counter() - start) * 1000)
            out[name] = {
                "first_ms": round(times[0], 2),
                "p50_ms": round(percentile(times[1:], 50), 2),
                "p95_ms": round(percentile(times[1:], 95), 2),
                "rows": len(rows),
            }
    finally:
        con.close()
    os.remove(path)
    return {
        "units": n_units,
        "years": n_years,
        "runs": runs,
        "build_s": round(build_s, 2),
        "connect_read_only_ms": round(connect_s * 1000, 2),
        **shape,
        "queries": out,
        "worst_p95_ms": max(q["p95_ms"] for q in out.values()),
    }
