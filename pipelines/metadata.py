"""Asset metadata shown in the Dagster UI: row counts and a preview of what was written."""

from __future__ import annotations

from collections.abc import Mapping

import dagster as dg
import polars as pl


def markdown_preview(frame: pl.DataFrame, rows: int = 5) -> dg.MetadataValue:
    """A small markdown table of the first rows (no tabulate dependency)."""
    head = frame.head(rows)
    header = "| " + " | ".join(head.columns) + " |"
    rule = "| " + " | ".join("---" for _ in head.columns) + " |"
    body = [
        "| " + " | ".join("" if v is None else str(v) for v in row) + " |"
        for row in head.iter_rows()
    ]
    return dg.MetadataValue.md("\n".join([header, rule, *body]))


def table_metadata(counts: Mapping[str, int], preview: pl.DataFrame | None = None) -> dict:
    """Row counts per table (and the total as dagster/row_count) plus an optional preview."""
    metadata: dict[str, object] = {f"rows {name}": count for name, count in counts.items()}
    metadata["dagster/row_count"] = sum(counts.values())
    if preview is not None:
        metadata["preview"] = markdown_preview(preview)
    return metadata
