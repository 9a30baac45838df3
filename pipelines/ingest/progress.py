"""ops.stream_progress: one row per micro-batch per query, the stream's own evidence.

Every silver batch row satisfies valid + quarantined + duplicates = input, exactly, also
when the batch is a replay after a crash (it is written with the batch's other writes'
Delta txn, and a replay decides exactly what its first attempt decided).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from pyspark.sql import SparkSession
from pyspark.sql.streaming import StreamingQuery

from pipelines.spark.io import delta_append
from pipelines.transforms.progress import STREAM_PROGRESS_SCHEMA

Txn = tuple[str, int]  # Delta idempotent-write id: (app id, version = batch id)


@dataclass
class BatchCounts:
    input_rows: int = 0
    valid_rows: int = 0  # new rows landed in silver (general tables)
    quarantined_rows: int = 0  # rows written to silver.quarantine
    duplicate_rows: int = 0  # copies of events already landed, with the same content
    rows_by_table: dict[str, int] = field(default_factory=dict)

    @property
    def balanced(self) -> bool:
        return self.valid_rows + self.quarantined_rows + self.duplicate_rows == self.input_rows


def progress_row(
    query_name: str,
    batch_id: int,
    started: float,
    finished: float,
    counts: BatchCounts,
    oldest: datetime | None,
    since_previous: float | None,
) -> tuple:
    """One ops.stream_progress row (STREAM_PROGRESS_SCHEMA's order)."""
    duration = max(finished - started, 1e-3)
    finished_at = datetime.fromtimestamp(finished, UTC).replace(tzinfo=None)
    return (
        query_name,
        batch_id,
        datetime.fromtimestamp(started, UTC).replace(tzinfo=None),
        finished_at,
        int(duration * 1000),
        counts.input_rows,
        counts.valid_rows,
        counts.quarantined_rows,
        counts.duplicate_rows,
        counts.input_rows / since_previous if since_previous else None,
        counts.input_rows / duration,
        oldest,
        int((finished_at - oldest).total_seconds() * 1000) if oldest else None,
        dict(counts.rows_by_table),
        finished_at.date(),
    )


def append_progress(spark: SparkSession, path: str, rows: list[tuple], txn: Txn) -> None:
    delta_append(spark.createDataFrame(rows, STREAM_PROGRESS_SCHEMA), path, txn)


class BronzeProgress:
    """Record the bronze query's micro-batches in ops.stream_progress.

    A blind append (never conflicts with the silver query's appends), idempotent by Delta's
    txn: app id = the bronze query's id, version = the highest batch id written.
    """

    def __init__(self, spark: SparkSession, path: str, table_name: str) -> None:
        self.spark = spark
        self.path = path
        self.table_name = table_name
        self.written = -1

    def record(self, query: StreamingQuery) -> None:
        rows = []
        for p in query.recentProgress:
            batch_id = p["batchId"]
            if batch_id <= self.written or p["numInputRows"] == 0:
                continue
            rows.append(_bronze_row(p, self.table_name))
        if not rows:
            return
        last = max(r[1] for r in rows)
        append_progress(self.spark, self.path, rows, (f"{query.name}-progress:{query.id}", last))
        self.written = last


def _bronze_row(p: Mapping, table_name: str) -> tuple:
    started = datetime.fromisoformat(p["timestamp"].replace("Z", "+00:00"))
    duration_ms = int(p["durationMs"].get("triggerExecution", 0))
    finished = started + timedelta(milliseconds=duration_ms)
    return (
        p["name"],
        p["batchId"],
        started.replace(tzinfo=None),
        finished.replace(tzinfo=None),
        duration_ms,
        p["numInputRows"],
        p["numInputRows"],
        0,
        0,
        float(p.get("inputRowsPerSecond") or 0.0),
        float(p.get("processedRowsPerSecond") or 0.0),
        None,
        None,
        {table_name: p["numInputRows"]},
        finished.date(),
    )
