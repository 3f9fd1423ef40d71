"""Yearly partitions: one per edition year, 2017 up to the latest complete year."""

import dagster as dg

from pipelines.settings import FIRST_YEAR

# Dagster has no yearly partitions class; a time window on 1 January is one.
yearly_partitions = dg.TimeWindowPartitionsDefinition(
    start=str(FIRST_YEAR), cron_schedule="0 0 1 1 *", fmt="%Y"
)
