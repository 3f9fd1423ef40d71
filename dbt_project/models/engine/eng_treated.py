"""Treat outliers with COINr's default rule (or pass values through when treat is "none").

A Python model because the rule iterates (winsorise one tied set at a time, re-test, fall back
to a log transform); the rule itself lives in pipelines.index.treatment so that the Monte Carlo
analysis uses exactly the same code.
"""


def model(dbt, session):
    dbt.config(materialized="table")
    import polars as pl

    imputed = dbt.ref("eng_imputed").pl()
    method = dbt.config.get("treat")
    if method == "none":
        return imputed.with_columns(pl.lit("none").alias("treatment"))
    if method != "coinr":
        raise ValueError(f"treat must be none or coinr, got {method!r}")
    from pipelines.index.treatment import treat_coinr

    treated, _log = treat_coinr(imputed.select("unit_code", "year", "icode", "value"))
    return treated.join(
        imputed.select("unit_code", "year", "icode", "imputed"),
        on=["unit_code", "year", "icode"],
        how="left",
    )
