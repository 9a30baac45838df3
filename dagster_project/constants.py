"""Asset groups, key prefixes and partitions, in one place."""

from datetime import date

import dagster as dg

from pipelines.spark.tables import TableSpec

INGEST = "ingest"
LEGACY = "legacy"
PARITY = "parity"
GOLD = "gold"
EVALUATORS = "evaluators"
GOVERNANCE = "governance"

BRONZE = "bronze"
SILVER = "silver"

# One partition per calendar day (UTC) of agent activity.
DAILY = dg.DailyPartitionsDefinition(start_date="2026-01-01", timezone="UTC")


def table_key(spec: TableSpec) -> dg.AssetKey:
    """A lake table's asset key: its database and name, as the library's catalog has them."""
    return dg.AssetKey([spec.database, spec.name])


def partition_day(partition_key: str) -> date:
    """The day a DAILY partition key stands for."""
    return date.fromisoformat(partition_key)
