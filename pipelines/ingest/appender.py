"""Appending a micro-batch's rows to registry tables, cheaply and without surprises.

- A table is created from the registry on its first rows; a table made from a frame does
  not inherit NOT NULL from the frame's literals.
- Rows that bring new columns merge the schema (only then: a merge costs every append).
- One file per event date per batch (a few for large batches): small appends would
  otherwise leave one file per shuffle partition per table per second.
- Appends are plain: Delta's idempotent-write options rebuild the table's whole state on
  every write (three extra Spark jobs, ~0.45 s each time on 2 cores; Delta 4.0 cannot
  answer them from its checksum file). A replayed batch instead asks each table whether
  it already holds the batch's rows (``holds``), see pipelines/ingest/batch.py.
- What it learns (existence, schema, table properties brought up to the registry's) is
  remembered, so a batch probes nothing: typing a batch needs the table's schema, not a
  fresh snapshot, and every snapshot lists the table's ``_delta_log`` folder (on a local
  disk ~18 us per log file, and a stream adds one commit per batch: ~17,000 a day).
  The stream is the tables' only writer; ``forget`` drops what it learned after a failure.
"""

from __future__ import annotations

import math
import threading

from delta.tables import DeltaTable
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import types as T

from pipelines.errors import AflError
from pipelines.settings import Settings
from pipelines.spark.io import delta_append
from pipelines.spark.tables import TableSpec, ensure_table

ROWS_PER_FILE = 500_000
# Properties a table created by an earlier version is brought up to when the stream opens it.
UPGRADED_PROPERTIES = (
    "delta.appendOnly",
    "delta.dataSkippingStatsColumns",
    "delta.checkpointInterval",
    "afl.classification",
    "afl.retention_days",
    "afl.contains_user_text",
)


class TableAppender:
    """Appends to registry tables and remembers what it learned about them."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._schemas: dict[str, T.StructType] = {}
        self._moved: set[str] = set()  # restricted tables known not to be left behind
        self._lock = threading.Lock()

    def schema(self, spark: SparkSession, spec: TableSpec) -> T.StructType | None:
        """The table's schema as this process last saw or made it; None while there is no
        table. Only the first call per table looks at the table."""
        path = spec.path(self.settings)
        known = self._schemas.get(path)
        if known is None and DeltaTable.isDeltaTable(spark, path):
            known = self._open(spark, spec, path)
        elif known is None and spec.restricted and path not in self._moved:
            self._refuse_unmoved(spark, spec, path)
        return known

    def _refuse_unmoved(self, spark: SparkSession, spec: TableSpec, path: str) -> None:
        """A lake from before the restricted root keeps raw values under the lake root:
        writing on would split the table in two. It must be moved first."""
        old = self.settings.lake_path(spec.database, spec.name)
        if DeltaTable.isDeltaTable(spark, old):
            raise AflError(
                f"{spec.qualified_name} is still under the lake root at {old}: move that "
                f"folder to {path} (AFL_RESTRICTED_ROOT) before streaming on"
            )
        self._moved.add(path)

    def read(self, spark: SparkSession, spec: TableSpec) -> DataFrame | None:
        """The table's current snapshot, or None while it does not exist."""
        path = spec.path(self.settings)
        if self.schema(spark, spec) is None:
            return None
        table = spark.read.format("delta").load(path)
        self._learn(path, table.schema)
        return table

    def append(self, spark: SparkSession, spec: TableSpec, rows: DataFrame, count: int) -> None:
        """Append ``rows`` (``count`` of them); the table is created if it does not exist."""
        path = spec.path(self.settings)
        schema = self.schema(spark, spec)
        if schema is None:
            ensure_table(spark, self.settings, spec, schema=spec.schema or _nullable(rows.schema))
            schema = self._learn(path, spark.read.format("delta").load(path).schema)
        files = max(1, math.ceil(count / ROWS_PER_FILE))
        new_columns = bool(set(rows.columns) - set(schema.fieldNames()))
        delta_append(rows.coalesce(files), path, merge_schema=new_columns)
        if new_columns:  # the table's schema is now the merge: read it once
            self._learn(path, spark.read.format("delta").load(path).schema)

    def forget(self) -> None:
        """Drop what was learned: the next batch looks at every table again."""
        with self._lock:
            self._schemas.clear()

    def holds(self, spark: SparkSession, spec: TableSpec, where: Column) -> bool:
        """Whether the table has a row matching ``where`` (data skipping keeps this cheap)."""
        table = self.read(spark, spec)
        return table is not None and not table.where(where).limit(1).isEmpty()

    def _learn(self, path: str, schema: T.StructType) -> T.StructType:
        with self._lock:
            self._schemas[path] = schema
        return schema

    def _open(self, spark: SparkSession, spec: TableSpec, path: str) -> T.StructType:
        """First sight of an existing table in this process: bring it up to the registry."""
        table = spark.read.format("delta").load(path)
        if "ingest_batch_id" in table.columns and not table.schema["ingest_batch_id"].nullable:
            # Lakes written before replays landed rows: the column must admit null.
            spark.sql(f"ALTER TABLE delta.`{path}` ALTER COLUMN ingest_batch_id DROP NOT NULL")
        current = {
            r["key"]: r["value"] for r in spark.sql(f"SHOW TBLPROPERTIES delta.`{path}`").collect()
        }
        columns = set(table.columns)
        wanted = {
            k: _existing_only(k, v, columns)
            for k, v in spec.properties.items()
            if k in UPGRADED_PROPERTIES
        }
        wanted = {k: v for k, v in wanted.items() if current.get(k) != v}
        if wanted:
            settings = ", ".join(f"'{k}' = '{v}'" for k, v in sorted(wanted.items()))
            spark.sql(f"ALTER TABLE delta.`{path}` SET TBLPROPERTIES ({settings})")
        return self._learn(path, spark.read.format("delta").load(path).schema)


def _existing_only(key: str, value: str, columns: set[str]) -> str:
    """Statistics columns a table does not have (yet) cannot be named: Delta refuses them."""
    if key != "delta.dataSkippingStatsColumns":
        return value
    return ",".join(c for c in value.split(",") if c in columns)


def _nullable(schema: T.StructType) -> T.StructType:
    """A table made from a batch's frame must not inherit NOT NULL from its literals."""
    return T.StructType([T.StructField(f.name, f.dataType, True, f.metadata) for f in schema])
