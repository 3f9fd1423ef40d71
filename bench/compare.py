"""Check that two scores.csv files hold the same numbers (the engines must agree to 1e-9)."""

from __future__ import annotations

from pathlib import Path

import polars as pl

KEYS = ["uCode", "Time", "iCode"]


def compare_scores(a: Path, b: Path, sample: int | None = None, seed: int = 1) -> dict:
    """Max |value difference|, rank and missingness mismatches over all rows (or a sample)."""
    left = pl.read_csv(a, infer_schema_length=0)
    right = pl.read_csv(b, infer_schema_length=0)
    if sample is not None and sample < left.height:
        left = left.sample(sample, seed=seed)
    joined = left.join(right, on=KEYS, how="left", suffix="_b")
    va = pl.col("value").cast(pl.Float64, strict=False)
    vb = pl.col("value_b").cast(pl.Float64, strict=False)
    row = joined.select(
        (va - vb).abs().max().alias("max_abs_diff"),
        (va.is_null() != vb.is_null()).sum().alias("missing_mismatches"),
        (pl.col("rank").fill_null("") != pl.col("rank_b").fill_null(""))
        .sum()
        .alias("rank_mismatches"),
        pl.col("Level_b").is_null().sum().alias("rows_not_found"),
    ).row(0, named=True)
    max_diff = row["max_abs_diff"]
    return {
        "rows_compared": joined.height,
        "rows_total": right.height,
        "max_abs_diff": float(max_diff) if max_diff is not None else 0.0,
        "rank_mismatches": int(row["rank_mismatches"]),
        "missing_mismatches": int(row["missing_mismatches"]),
        "rows_not_found": int(row["rows_not_found"]),
        "identical_within_1e-9": (max_diff is None or max_diff <= 1e-9)
        and row["missing_mismatches"] == 0
        and row["rows_not_found"] == 0,
    }
