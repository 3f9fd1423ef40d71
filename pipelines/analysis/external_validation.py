"""External validation: does the index order units like an independent benchmark does?

Why: a composite that disagrees wildly with established rankings (GaWC, Kearney GCI, ...)
needs explaining; Spearman's rho compares orders without assuming the scales are alike.
"""

from __future__ import annotations

import math

import polars as pl
from scipy import stats

__all__ = ["spearman_against"]


def spearman_against(scores: pl.DataFrame, benchmark: pl.DataFrame, name: str) -> dict:
    """Spearman rank correlation between the index and a benchmark over the units both cover.

    scores: (unit_code, score); benchmark: (unit_code, value). Missing or NaN values are
    dropped before matching. For a rank benchmark (1 = best) the sign of rho flips: pass
    scores, or negate ranks. Returns dict(benchmark, n_units, spearman_rho, p_value); rho and
    p are None with fewer than 3 common units or a constant side.
    """
    for df, col in ((scores, "score"), (benchmark, "value")):
        if df["unit_code"].is_duplicated().any():
            raise ValueError(f"duplicate unit_code in the {col} frame")
    a = scores.select("unit_code", pl.col("score").cast(pl.Float64).fill_nan(None)).drop_nulls()
    b = benchmark.select("unit_code", pl.col("value").cast(pl.Float64).fill_nan(None)).drop_nulls()
    both = a.join(b, on="unit_code", how="inner")
    n = both.height
    rho: float | None = None
    p: float | None = None
    if n >= 3 and both["score"].n_unique() > 1 and both["value"].n_unique() > 1:
        res = stats.spearmanr(both["score"].to_numpy(), both["value"].to_numpy())
        rho, p = float(res.statistic), float(res.pvalue)
        if math.isnan(rho):
            rho = p = None
    return {"benchmark": name, "n_units": n, "spearman_rho": rho, "p_value": p}
