"""COINr's default outlier treatment: the values it changed, per unit, year and indicator.

A Python model because the rule iterates (winsorise one tied set at a time, re-test, fall back
to a log transform); the rule itself lives in pipelines.index.treatment so that the Monte Carlo
analysis uses exactly the same code. Only treated rows are returned (none when treat is
"none", without reading the data): eng_treated joins them onto the imputed values in SQL, so
an untreated build never moves the data through Python.
"""


def model(dbt, session):
    dbt.config(materialized="table")
    import polars as pl

    method = dbt.config.get("treat")
    if method not in ("none", "coinr"):
        raise ValueError(f"treat must be none or coinr, got {method!r}")
    schema = {
        "unit_code": pl.String,
        "year": pl.Int32,
        "icode": pl.String,
        "value": pl.Float64,
        "treatment": pl.String,
    }
    if method == "none":
        return pl.DataFrame(schema=schema)
    from pipelines.index.treatment import treat_coinr

    imputed = dbt.ref("eng_imputed").pl().select("unit_code", "year", "icode", "value")
    treated, _log = treat_coinr(imputed)
    return treated.filter(pl.col("treatment") != "none").cast(schema)
