"""The columns of the outlier treatment's log, apart from the treatment itself: the engine's
runner (treatment_rows) needs them on every compute, the treatment (and numpy) only when
something is treated."""

from __future__ import annotations

import polars as pl

LOG_SCHEMA = {
    "year": pl.Int64,
    "icode": pl.String,
    "n": pl.Int64,
    "skew_before": pl.Float64,
    "kurt_before": pl.Float64,
    "skew_after": pl.Float64,
    "kurt_after": pl.Float64,
    "winsorised_points": pl.Int64,
    "method": pl.String,
    "low_or_high": pl.String,
}
