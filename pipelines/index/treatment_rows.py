"""The rows of the engine's eng_treatment model, in one place for its two runners: the dbt
Python model (dbt_project/models/engine/eng_treatment.py) and compute's direct execution of the
compiled engine (pipelines.index.engine_sql). Rows of kind "value" are the values the treatment
changed; rows of kind "log" (unit_code null) say per indicator and year what it did."""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from pipelines.index.arrow_stream import polars_schema
from pipelines.index.treatment_schema import ROW_COLUMNS

TREATMENTS = ("none", "coinr")


def treatment_rows(method: str, read_imputed: Callable[[], pl.DataFrame]) -> pl.DataFrame:
    """The changed values and the log; read_imputed is only called when something is treated
    (an untreated build never moves the data through Python)."""
    if method not in TREATMENTS:
        raise ValueError(f"treat must be none or coinr, got {method!r}")
    if method == "none":
        return pl.DataFrame(schema=polars_schema(ROW_COLUMNS))
    from pipelines.index.treatment import treat_coinr  # numpy: only when something is treated

    imputed = read_imputed().select("unit_code", "year", "icode", "value")
    treated, log = treat_coinr(imputed)
    changed = treated.filter(pl.col("treatment") != "none").with_columns(
        pl.lit("value").alias("row_kind")
    )
    log = log.with_columns(pl.lit("log").alias("row_kind"))
    return pl.concat([changed, log], how="diagonal_relaxed").select(
        [
            pl.col(c).cast(t)
            if c in changed.columns or c in log.columns
            else pl.lit(None, t).alias(c)
            for c, t in polars_schema(ROW_COLUMNS).items()
        ]
    )
