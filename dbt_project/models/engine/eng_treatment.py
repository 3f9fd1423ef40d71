"""COINr's default outlier treatment, run once per build: the values it changed, and per
indicator and year what it did (the log that eng_treatment_log selects).

A Python model because the rule iterates (winsorise one tied set at a time, re-test, fall back
to a log transform); the rule itself lives in pipelines.index.treatment so that the Monte Carlo
analysis uses exactly the same code, and the rows in pipelines.index.treatment_rows so that
compute's direct execution of the compiled engine makes the same table. Rows of kind "value"
are the treated values (only those the rule changed: eng_treated joins them onto the imputed
values in SQL, so an untreated build never moves the data through Python); rows of kind "log"
(unit_code null) are the log.
"""


def model(dbt, session):
    dbt.config(materialized="table")
    from pipelines.index.treatment_rows import treatment_rows

    imputed = dbt.ref("eng_imputed")  # a lazy relation: read only when something is treated
    return treatment_rows(dbt.config.get("treat"), imputed.pl)
