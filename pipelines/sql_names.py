"""Identifiers quoted for SQL text. Only names from a whitelist or the catalogue reach it:
data always travels as parameters."""


def quote_identifier(name: str) -> str:
    """`"name"`, with any double quote doubled (DuckDB's and the SQL standard's rule)."""
    return '"' + name.replace('"', '""') + '"'
