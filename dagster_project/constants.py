"""Asset groups, key prefixes and partitions, in one place."""

import dagster as dg

INGEST = "ingest"
LEGACY = "legacy"
PARITY = "parity"
GOLD = "gold"
EVALUATORS = "evaluators"

BRONZE = "bronze"
SILVER = "silver"

# One partition per calendar day (UTC) of agent activity.
DAILY = dg.DailyPartitionsDefinition(start_date="2026-01-01", timezone="UTC")
