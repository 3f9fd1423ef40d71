"""The columns of eng_treatment, in DuckDB's types: the rows the engine's one Python model
makes (treatment_rows) and, within them, the outlier treatment's log (treatment).

Why DuckDB's names: an untreated compute creates the model's empty table from them directly
(engine_sql), with no dataframe library loaded; arrow_stream.polars_schema gives them to polars.
"""

from __future__ import annotations

#: The log of the treatment, one row per indicator and year.
LOG_COLUMNS = {
    "year": "bigint",
    "icode": "varchar",
    "n": "bigint",
    "skew_before": "double",
    "kurt_before": "double",
    "skew_after": "double",
    "kurt_after": "double",
    "winsorised_points": "bigint",
    "method": "varchar",
    "low_or_high": "varchar",
}

#: eng_treatment: rows of kind "value" (a changed value) and "log" (LOG_COLUMNS, no unit).
ROW_COLUMNS = {
    "row_kind": "varchar",
    "unit_code": "varchar",
    "year": "integer",
    "icode": "varchar",
    "value": "double",
    "treatment": "varchar",
    **{c: t for c, t in LOG_COLUMNS.items() if c not in ("year", "icode")},
}


def create_empty(columns: dict[str, str]) -> str:
    """The column list of a CREATE TABLE for `columns` (names and types above, no data)."""
    return ", ".join(f"{column} {kind}" for column, kind in columns.items())
