"""What the outlier treatment did per indicator and year: statistics before and after, method."""


def model(dbt, session):
    dbt.config(materialized="table")
    imputed = dbt.ref("eng_imputed").pl()
    if dbt.config.get("treat") != "coinr":
        return imputed.head(0).select("year", "icode")
    from pipelines.index.treatment import treat_coinr

    _treated, log = treat_coinr(imputed.select("unit_code", "year", "icode", "value"))
    return log
