"""Yearly partitions: one per edition year, 2017 up to the latest complete year."""

import dagster as dg

from pipelines.settings import FIRST_YEAR

# Dagster has no yearly partitions class; a time window on 1 January is one.
yearly_partitions = dg.TimeWindowPartitionsDefinition(
    start=str(FIRST_YEAR), cron_schedule="0 0 1 1 *", fmt="%Y"
)

# Run tags that make one run cover a range of partitions (a single-run backfill).
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


def run_years(context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext) -> list[int]:
    """The years a run covers: its partition, or every partition of its range."""
    if isinstance(context, dg.AssetCheckExecutionContext):
        context = context.op_execution_context
    return sorted(int(key) for key in context.partition_keys)


def range_tags(first: int, last: int) -> dict[str, str]:
    """Tags for one run over the years first..last."""
    return {RANGE_START_TAG: str(first), RANGE_END_TAG: str(last)}
