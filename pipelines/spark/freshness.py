"""How fresh a streaming table is: its newest ingested_at, Delta version and size."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from delta.tables import DeltaTable
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from pipelines.settings import Settings
from pipelines.spark.io import delta_version
from pipelines.spark.tables import TableSpec


@dataclass(frozen=True)
class Freshness:
    table: str
    exists: bool
    latest_ingested_at: datetime | None = None
    delta_version: int | None = None
    rows: int | None = None

    def lag_minutes(self, now: datetime | None = None) -> float | None:
        if self.latest_ingested_at is None:
            return None
        now = now or datetime.now(UTC).replace(tzinfo=None)
        return (now - self.latest_ingested_at).total_seconds() / 60


def table_freshness(spark: SparkSession, settings: Settings, spec: TableSpec) -> Freshness:
    path = spec.path(settings)
    if not DeltaTable.isDeltaTable(spark, path):
        return Freshness(spec.qualified_name, False)
    table = DeltaTable.forPath(spark, path)
    stats = (
        table.toDF().agg(F.max("ingested_at").alias("latest"), F.count("*").alias("rows")).first()
    )
    return Freshness(
        spec.qualified_name,
        True,
        stats["latest"],
        delta_version(spark, path),
        stats["rows"],
    )
