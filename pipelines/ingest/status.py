"""How the stream is doing, read without Spark: its last batches, lag and who runs it.

For `afl stream status` and for Dagster's ingest asset while a continuous stream holds the
checkpoint. ops.stream_progress is read through the Delta log with delta-rs, restricted
by file statistics to the last day's batches, so the answer costs milliseconds and no JVM.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow.compute as pc
from deltalake import DeltaTable
from deltalake.exceptions import TableNotFoundError

from pipelines.delta_log import Freshness, table_freshness
from pipelines.errors import AflError
from pipelines.ingest.batch import INGEST_QUERY
from pipelines.ingest.checkpoint import (
    Offsets,
    batch_offsets,
    committed_offsets,
    kafka_lag,
    last_committed_batch,
)
from pipelines.ingest.lease import Holder, current_holder
from pipelines.kafka_admin import KafkaUnavailable, end_offsets
from pipelines.settings import Settings
from pipelines.spark.tables import (
    BRONZE_AGENT_EVENTS,
    QUARANTINE,
    SILVER_TABLE_FOR,
    STREAM_PROGRESS,
    silver_spec,
)

RECENT = timedelta(days=1)
# what the ingest query writes, in the order a reader follows a record
STREAMED_TABLES = (
    BRONZE_AGENT_EVENTS,
    *(silver_spec(event_type) for event_type in SILVER_TABLE_FOR),
    QUARANTINE,
)


def latest_progress(settings: Settings, query: str = INGEST_QUERY) -> dict[str, Any] | None:
    """The query's newest ops.stream_progress row of the last day (None: no batch yet)."""
    try:
        table = DeltaTable(STREAM_PROGRESS.path(settings))
    except TableNotFoundError:
        return None
    since = datetime.now(UTC) - RECENT  # delta-rs reads Spark's timestamps as UTC
    dataset = table.to_pyarrow_dataset()
    rows = dataset.to_table(
        filter=(pc.field("query_name") == query) & (pc.field("finished_at") >= since)
    )
    if rows.num_rows == 0:
        return None
    newest = pc.index(rows["batch_id"], pc.max(rows["batch_id"])).as_py()
    row: dict[str, Any] = rows.slice(newest, 1).to_pylist()[0]
    return row


def wait_caught_up(
    settings: Settings,
    targets: Offsets,
    timeout_s: float,
    query: str = INGEST_QUERY,
    poll_s: float = 1.0,
) -> Offsets:
    """Block until the query has committed every partition up to ``targets``.

    How a caller that must see "everything published before now" (Dagster's nightly path)
    waits for a continuous stream instead of reading Kafka itself. Raises AflError with
    the lag left when the stream does not get there in time.
    """
    checkpoint = settings.checkpoint_path(query)
    deadline = time.monotonic() + timeout_s
    while True:
        committed = committed_offsets(checkpoint)
        behind = {k: n for k, n in kafka_lag(targets, committed).items() if n}
        if not behind:
            return committed
        if time.monotonic() >= deadline:
            worst = ", ".join(f"{t}[{p}] {n:,}" for (t, p), n in sorted(behind.items())[:5])
            raise AflError(
                f"the {query} stream is still {sum(behind.values()):,} records behind "
                f"after {timeout_s:.0f} s ({worst})"
            )
        time.sleep(poll_s)


@dataclass(frozen=True)
class StreamStatus:
    """`afl stream status`: who runs the query, how far behind Kafka, its last batch."""

    query: str
    holder: Holder | None
    committed_batch: int | None
    lag: dict[tuple[str, int], int] | None  # None: Kafka did not answer
    kafka_error: str | None
    last_batch: dict[str, Any] | None
    tables: tuple[Freshness, ...] = ()  # what the stream writes, from the Delta logs

    @property
    def total_lag(self) -> int | None:
        return None if self.lag is None else sum(self.lag.values())

    def lines(self, now: float | None = None) -> list[str]:
        now = now or time.time()
        if self.holder is None:
            held = "nobody holds it (no stream running)"
        elif self.holder.live(now):
            held = f"held by {self.holder.describe(now)}"
        else:
            held = f"lease expired: {self.holder.describe(now)}"
        out = [f"query {self.query}: {held}"]
        batch = "none" if self.committed_batch is None else f"{self.committed_batch}"
        out.append(f"  last committed batch: {batch}")
        if self.last_batch is not None:
            b = self.last_batch
            latency = b["e2e_latency_ms"]
            out.append(
                f"  last batch written: {b['batch_id']} at {b['finished_at']:%Y-%m-%d %H:%M:%S} "
                f"UTC, {b['input_rows']:,} records in {b['duration_ms']:,} ms"
                + (f", end-to-end latency {latency / 1000:.1f} s" if latency is not None else "")
            )
        if self.lag is None:
            out.append(f"  Kafka lag: unknown ({self.kafka_error})")
        else:
            out.append(f"  Kafka lag: {self.total_lag:,} records")
            for (topic, partition), n in sorted(self.lag.items()):
                if n:
                    out.append(f"    {topic}[{partition}] {n:,}")
        if self.tables:
            out.append("  tables (rows, newest ingested_at, Delta version):")
            width = max(len(t.table) for t in self.tables)
            for table in self.tables:
                out.append(f"    {table.table:<{width}}  {_describe(table, now)}")
        return out


def _describe(table: Freshness, now: float) -> str:
    if not table.exists:
        return "not created yet"
    if table.latest_ingested_at is None:
        return f"{table.rows:,} rows, version {table.delta_version}"
    at = datetime.fromtimestamp(now, UTC).replace(tzinfo=None)
    minutes = table.lag_minutes(at) or 0.0
    age = f"{minutes * 60:.0f} s" if minutes < 2 else f"{minutes:,.0f} min"
    return (
        f"{table.rows:,} rows, newest {table.latest_ingested_at:%Y-%m-%d %H:%M:%S} UTC "
        f"({age} ago), version {table.delta_version}"
    )


def stream_status(settings: Settings, topics: list[str], query: str = INGEST_QUERY) -> StreamStatus:
    """Read everything from the lease, the checkpoint, Kafka and ops.stream_progress."""
    checkpoint = settings.checkpoint_path(query)
    last = last_committed_batch(checkpoint)
    committed = {} if last is None else batch_offsets(checkpoint, last)
    lag, error = None, None
    try:
        lag = kafka_lag(end_offsets(settings, topics), committed)
    except KafkaUnavailable as exc:
        error = str(exc)
    return StreamStatus(
        query,
        current_holder(settings, query),
        last,
        lag,
        error,
        latest_progress(settings, query),
        tuple(table_freshness(settings, spec) for spec in STREAMED_TABLES),
    )
