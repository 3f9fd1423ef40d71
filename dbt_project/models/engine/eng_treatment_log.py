"""What the outlier treatment did per indicator and year: statistics before and after, method."""


def model(dbt, session):
    dbt.config(materialized="table")
    import polars as pl

    from pipelines.index.treatment import LOG_SCHEMA, treat_coinr

    if dbt.config.get("treat") != "coinr":  # nothing treated: do not read the data at all
        return pl.DataFrame(schema=LOG_SCHEMA)

    imputed = dbt.ref("eng_imputed").pl().select("unit_code", "year", "icode", "value")
    _treated, log = treat_coinr(imputed)
    return log
