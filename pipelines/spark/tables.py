"""The table registry: every Delta table's layer, name, schema, partitioning and properties.

Tables live at ``<lake root>/<database>/<name>`` and are registered by location in each
session (``CREATE TABLE ... USING DELTA LOCATION``) so SQL can name them without a
shared metastore.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from delta.tables import DeltaTable
from pyspark.sql import SparkSession
from pyspark.sql import types as T

from pipelines.settings import Settings
from pipelines.transforms.bronze import BRONZE_SCHEMA


@dataclass(frozen=True)
class TableSpec:
    database: str
    name: str
    schema: T.StructType
    partition_by: tuple[str, ...] = ()
    properties: Mapping[str, str] = field(default_factory=dict)
    comment: str = ""

    @property
    def qualified_name(self) -> str:
        return f"{self.database}.{self.name}"

    def path(self, settings: Settings) -> str:
        return settings.lake_path(self.database, self.name)


BRONZE_AGENT_EVENTS = TableSpec(
    "bronze",
    "agent_events",
    BRONZE_SCHEMA,
    partition_by=("ingest_date",),
    properties={"delta.appendOnly": "true"},
    comment="Every Kafka record from the agent topics, once, as it arrived.",
)

TABLES: tuple[TableSpec, ...] = (BRONZE_AGENT_EVENTS,)


def ensure_table(spark: SparkSession, settings: Settings, spec: TableSpec) -> str:
    """Create the Delta table at its location if missing, register it by name; its path."""
    path = spec.path(settings)
    if not DeltaTable.isDeltaTable(spark, path):
        builder = DeltaTable.createIfNotExists(spark).location(path).addColumns(spec.schema)
        if spec.partition_by:
            builder = builder.partitionedBy(*spec.partition_by)
        for key, value in spec.properties.items():
            builder = builder.property(key, value)
        if spec.comment:
            builder = builder.comment(spec.comment)
        builder.execute()
    register_table(spark, spec.qualified_name, path)
    return path


def register_table(spark: SparkSession, qualified_name: str, location: str) -> None:
    """Name a Delta location in this session's catalog; re-point it if the lake moved."""
    database = qualified_name.split(".")[0]
    spark.sql(f"CREATE DATABASE IF NOT EXISTS {database}")
    if spark.catalog.tableExists(qualified_name):
        current = spark.sql(f"DESCRIBE DETAIL {qualified_name}").first()
        if current is not None and _same_location(current["location"], location):
            return
        spark.sql(f"DROP TABLE {qualified_name}")  # external: drops the name, not the data
    spark.sql(f"CREATE TABLE {qualified_name} USING DELTA LOCATION '{location}'")


def register_existing(spark: SparkSession, settings: Settings) -> list[str]:
    """Register every registry table that exists in this lake; the names registered."""
    names = []
    for spec in TABLES:
        path = spec.path(settings)
        if DeltaTable.isDeltaTable(spark, path):
            register_table(spark, spec.qualified_name, path)
            names.append(spec.qualified_name)
    return names


def _same_location(a: str, b: str) -> bool:
    def norm(s: str) -> str:
        return s.removeprefix("file:").rstrip("/").replace("///", "/")

    return norm(a) == norm(b)
