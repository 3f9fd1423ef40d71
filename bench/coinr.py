"""COINr beside the engine: the same files (made once in COINr's format by bench/generate.py),
the two tools alternating, ratios and agreement taken in the same run.

COINr runs through `Rscript bench/coinr_run.R` with COINr 1.1.14 from COINR_LIB (default
/tmp/coinr-lib, where the project's install-coinr script puts it). Its build time is timed
inside R (new_coin + [Treat] + Normalise + Aggregate); its whole process, like compute's, by
bench.launch (wall time and own peak RSS).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import polars as pl

from bench.generate import generate, write_inputs
from bench.measure import BIN, ROOT, median, run_child

CITY_INDEX = str(BIN / "city-index")
PY = str(BIN / "python")
R_SCRIPT = ROOT / "bench" / "coinr_run.R"
INSTALL_HINT = (
    "COINr is not available: install R (Debian: r-base-core) and COINr 1.1.14 (tag v1.1.14 of "
    "github.com/bluefoxr/COINr) with `R CMD INSTALL --library=/tmp/coinr-lib COINr` (or set "
    "COINR_LIB to where it is; install-coinr does both), then run again"
)


def coinr_lib() -> str:
    return os.environ.get("COINR_LIB", "/tmp/coinr-lib")


def coinr_version() -> str | None:
    """COINr's version when R and COINr are present, else None."""
    if shutil.which("Rscript") is None:
        return None
    probe = subprocess.run(
        [
            "Rscript",
            "-e",
            '.libPaths(c(Sys.getenv("COINR_LIB"), .libPaths()));'
            ' cat(as.character(packageVersion("COINr")))',
        ],
        env={**os.environ, "COINR_LIB": coinr_lib()},
        capture_output=True,
        text=True,
    )
    return probe.stdout.strip() if probe.returncode == 0 else None


def run_coinr(meta: Path, data: Path, out: Path, mode: str, treat: str) -> dict:
    run = run_child(
        ["Rscript", str(R_SCRIPT), str(meta), str(data), str(out), mode, treat],
        env={"COINR_LIB": coinr_lib()},
    )
    timing = json.loads((out / "timing.json").read_text())
    return {
        "seconds": round(run.seconds, 3),
        "build_s": round(timing["build_s"], 3),
        "peak_rss_mb": round(run.peak_rss_mb, 1),
    }


def run_compute(meta: Path, data: Path, out: Path, normalise: str, treat: str) -> dict:
    run = run_child(
        [
            CITY_INDEX,
            "compute",
            "--framework",
            str(meta),
            "--data",
            str(data),
            "--out",
            str(out),
            "--normalise",
            normalise,
            "--treat",
            treat,
        ]
    )
    return {"seconds": round(run.seconds, 3), "peak_rss_mb": round(run.peak_rss_mb, 1)}


def agreement(compute_csv: Path, coinr_csv: Path) -> dict:
    """Every value of compute's scores.csv against COINr's, and ranks (R's ties = "min")."""
    ours = pl.read_csv(compute_csv, infer_schema_length=0).select(
        "uCode",
        pl.col("Time").fill_null(""),
        "iCode",
        pl.col("value").cast(pl.Float64),
        pl.col("rank").cast(pl.Int64),
    )
    wide = pl.read_csv(coinr_csv, infer_schema_length=0, null_values=["NA", "NaN"])
    keys = ["uCode", "Time", "iCode"]
    if "Time" not in wide.columns:  # one coin (one year): COINr keeps no Time column
        keys = ["uCode", "iCode"]
        wide = wide.with_columns(pl.lit("").alias("Time"))
    theirs = (
        wide.unpivot(index=["uCode", "Time"], variable_name="iCode", value_name="coinr")
        .with_columns(pl.col("coinr").str.strip_chars())
        .with_columns(  # format() pads columns; R writes a missing value as NA (NaN for 0/0)
            pl.when(pl.col("coinr").is_in(["NA", "NaN"]))
            .then(None)
            .otherwise(pl.col("coinr"))
            .cast(pl.Float64)
            .alias("coinr")
        )
        .with_columns(
            pl.col("coinr").rank("min", descending=True).over("Time", "iCode").alias("coinr_rank")
        )
    )
    both = ours.join(theirs.drop("Time") if len(keys) == 2 else theirs, on=keys, how="inner")
    diff = (both["value"] - both["coinr"]).abs()
    return {
        "rows_compute": ours.height,
        "rows_coinr": theirs.height,
        "rows_matched": both.height,
        "max_abs_diff": float(diff.max() or 0.0),
        "missing_mismatches": int((both["value"].is_null() != both["coinr"].is_null()).sum()),
        "rank_mismatches": int(
            (both["rank"].fill_null(-1) != both["coinr_rank"].fill_null(-1)).sum()
        ),
    }


def _pair(
    folder: Path, meta: Path, data: Path, normalise: str, mode: str, treat: str, reps: int
) -> dict:
    """Compute (after one untimed run that compiles the engine for this configuration) and
    COINr, alternating `reps` times; medians and max peak memory; full agreement check."""
    run_compute(meta, data, folder / "warm", normalise, treat)  # compiles once per config
    ours, theirs = [], []
    for _ in range(reps):
        theirs.append(run_coinr(meta, data, folder / "coinr", mode, treat))
        ours.append(run_compute(meta, data, folder / "compute", normalise, treat))
    check = agreement(folder / "compute" / "scores.csv", folder / "coinr" / "scores_wide.csv")
    compute_s = median([r["seconds"] for r in ours])
    coinr_s = median([r["seconds"] for r in theirs])
    coinr_build_s = median([r["build_s"] for r in theirs])
    return {
        "compute_s": compute_s,
        "compute_peak_rss_mb": max(r["peak_rss_mb"] for r in ours),
        "coinr_s": coinr_s,
        "coinr_build_s": coinr_build_s,
        "coinr_peak_rss_mb": max(r["peak_rss_mb"] for r in theirs),
        "coinr_build_over_compute": round(coinr_build_s / compute_s, 2),
        "coinr_process_over_compute": round(coinr_s / compute_s, 2),
        "runs": {"compute": ours, "coinr": theirs},
        "agreement": check,
    }


def beside_coinr(
    panel_sizes: list[tuple[int, int]], one_year_units: int, work: Path, reps: int
) -> dict:
    """Panels (min-max pooled over years) and one year (with and without COINr's treatment)."""
    found = coinr_version()
    if found is None:
        return {"skipped": INSTALL_HINT}
    panels, profile = [], {}
    for n_units, n_years in panel_sizes:
        panel = generate(n_units, n_years)
        folder = work / f"coinr_{n_units}x{n_years}"
        meta, data = write_inputs(panel, folder)
        row = _pair(folder, meta, data, "minmax_panel", "panel", "none", reps)
        panels.append({"units": n_units, "years": n_years, "values": panel.n_values, **row})
        if (n_units, n_years) == max(panel_sizes):
            profile = profile_child(meta, data, folder / "profile")
        shutil.rmtree(folder, ignore_errors=True)
    panel = generate(one_year_units, 1)
    folder = work / f"coinr_{one_year_units}x1"
    meta, data = write_inputs(panel, folder)
    one_year = {
        treat: {
            "units": one_year_units,
            "values": panel.n_values,
            **_pair(folder / treat, meta, data, "minmax", "year", treat, reps),
        }
        for treat in ("none", "coinr")
    }
    shutil.rmtree(folder, ignore_errors=True)
    return {
        "coinr_version": found,
        "reps": reps,
        "panels": panels,
        "one_year": one_year,
        "compute_profile_largest_panel": profile,
    }


def profile_child(meta: Path, data: Path, work: Path) -> dict:
    """Phases and per-model times of one compute of these files (bench/profile_engine.py)."""
    run = run_child(
        [
            PY,
            "-m",
            "bench.profile_engine",
            "--framework",
            str(meta),
            "--data",
            str(data),
            "--work",
            str(work),
        ]
    )
    return {"seconds": round(run.seconds, 3), **json.loads(run.stdout)}
