"""COINr's default outlier treatment, run once per build: the values it changed, and per
indicator and year what it did (the log that eng_treatment_log selects).

A Python model because the rule iterates (winsorise one tied set at a time, re-test, fall back
to a log transform); the rule itself lives in pipelines.index.treatment so that the Monte Carlo
analysis uses exactly the same code. Rows of kind "value" are the treated values (only those
the rule changed: eng_treated joins them onto the imputed values in SQL, so an untreated build
never moves the data through Python); rows of kind "log" (unit_code null) are the log.
"""


def model(dbt, session):
    dbt.config(materialized="table")
    import polars as pl

    method = dbt.config.get("treat")
    if method not in ("none", "coinr"):
        raise ValueError(f"treat must be none or coinr, got {method!r}")
    from pipelines.index.treatment import LOG_SCHEMA, treat_coinr

    schema = {
        "row_kind": pl.String,
        "unit_code": pl.String,
        "year": pl.Int32,
        "icode": pl.String,
        "value": pl.Float64,
        "treatment": pl.String,
        **{c: t for c, t in LOG_SCHEMA.items() if c not in ("year", "icode")},
    }
    if method == "none":
        return pl.DataFrame(schema=schema)

    imputed = dbt.ref("eng_imputed").pl().select("unit_code", "year", "icode", "value")
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
            for c, t in schema.items()
        ]
    )
