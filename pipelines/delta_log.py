"""What a Delta table's log says about it, read without Spark: version, rows, newest ingest.

Dagster's observer sensor and freshness checks ask every streaming table the same three
questions every few minutes. Counting rows and taking ``max(ingested_at)`` with Spark reads
every file of the table and needs a JVM inside the sensor (whose evaluation times out at
60 s); the Delta log already holds the answer: each add action carries the file's row count
and its column statistics (``maxValues.ingested_at``), which Delta writes for the first 32
columns and every table here keeps ``ingested_at`` among them. delta-rs reads the log (and
its checkpoints), so the cost grows with the number of files, not with rows; see
benchmarks/sensor_tick.py. A file written without statistics is read for that column alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
from deltalake import DeltaTable
from deltalake.exceptions import TableNotFoundError

from pipelines.settings import Settings

if TYPE_CHECKING:  # the catalog's specs; this module must not need a Spark session
    from pipelines.spark.tables import TableSpec

INGESTED_AT = "ingested_at"


@dataclass(frozen=True)
class Freshness:
    """A table's newest ingested_at (naive UTC, as Spark shows it; to the millisecond, as
    Delta's statistics keep it), Delta version and rows."""

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


def table_freshness(settings: Settings, spec: TableSpec) -> Freshness:
    """The table's Freshness from its Delta log (``exists=False`` when there is no table yet)."""
    try:
        table = DeltaTable(spec.path(settings))
    except TableNotFoundError:
        return Freshness(spec.qualified_name, False)
    adds = pa.table(table.get_add_actions(flatten=True))
    if INGESTED_AT not in {f.name for f in table.schema().fields}:
        rows = pc.sum(adds["num_records"]).as_py() if adds.num_rows else 0
        return Freshness(spec.qualified_name, True, None, table.version(), rows or 0)
    unknown = _without_statistics(adds)
    known = adds.filter(pc.invert(unknown))
    rows = pc.sum(known["num_records"]).as_py() or 0
    column = f"max.{INGESTED_AT}"
    latest = pc.max(known[column]).as_py() if column in known.column_names else None
    if pc.any(unknown).as_py():
        read = _read(table, set(adds.filter(unknown)["path"].to_pylist()))
        rows += read.num_rows
        latest = max((t for t in (latest, pc.max(read[INGESTED_AT]).as_py()) if t), default=None)
    return Freshness(spec.qualified_name, True, _naive_utc(latest), table.version(), rows)


def _without_statistics(adds: pa.Table) -> pa.ChunkedArray:
    """Per file: True when the log cannot give its row count or its newest ingested_at.

    A file whose ingested_at is all null has no maximum and needs none.
    """
    if adds.num_rows == 0:
        return pa.chunked_array([pa.array([], pa.bool_())])
    no_count = pc.is_null(adds["num_records"])
    column = f"max.{INGESTED_AT}"
    if column not in adds.column_names:
        return pc.or_(no_count, pc.greater(adds["num_records"], 0))
    all_null = pc.equal(adds[f"null_count.{INGESTED_AT}"], adds["num_records"])
    no_max = pc.and_(pc.is_null(adds[column]), pc.invert(pc.fill_null(all_null, False)))
    return pc.or_(no_count, no_max)


def _read(table: DeltaTable, paths: set[str]) -> pa.Table:
    """The ingested_at column of the given files (paths relative to the table's root)."""
    dataset = table.to_pyarrow_dataset()
    fragments = [f for f in dataset.get_fragments() if f.path in paths]
    subset = ds.FileSystemDataset(
        fragments, dataset.schema, dataset.format, filesystem=dataset.filesystem
    )
    return subset.to_table(columns=[INGESTED_AT])


def _naive_utc(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)
