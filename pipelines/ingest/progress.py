"""ops.stream_progress: one row per micro-batch per query, the stream's own evidence.

Every batch row satisfies valid + quarantined + duplicates = input, exactly, also when the
batch is a re-run after a crash (a re-run decides what its first attempt decided, and
writes the row only if the first attempt did not).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime


@dataclass
class BatchCounts:
    input_rows: int = 0
    valid_rows: int = 0  # new rows landed in silver (general tables)
    quarantined_rows: int = 0  # rows written to silver.quarantine
    duplicate_rows: int = 0  # copies of events already landed, with the same content
    rows_by_table: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class BatchProgress:
    """One micro-batch's progress: its ops.stream_progress row and its metrics."""

    query_name: str
    batch_id: int
    started: float  # unix seconds
    finished: float
    counts: BatchCounts
    oldest: datetime | None  # the oldest record's production time (naive UTC)
    since_previous: float | None  # seconds since the previous batch of this process started
    query_id: str | None
    # records each topic partition held beyond this batch's end offsets when it finished
    # (None when Kafka did not answer)
    kafka_lag: Mapping[tuple[str, int], int] | None = None

    @property
    def duration_s(self) -> float:
        return max(self.finished - self.started, 1e-3)

    @property
    def finished_at(self) -> datetime:
        return datetime.fromtimestamp(self.finished, UTC).replace(tzinfo=None)

    @property
    def input_rows_per_second(self) -> float | None:
        return self.counts.input_rows / self.since_previous if self.since_previous else None

    @property
    def processed_rows_per_second(self) -> float:
        return self.counts.input_rows / self.duration_s

    @property
    def e2e_latency_ms(self) -> int | None:
        if self.oldest is None:
            return None
        return int((self.finished_at - self.oldest).total_seconds() * 1000)

    def row(self) -> tuple[object, ...]:
        """The ops.stream_progress row (STREAM_PROGRESS_SCHEMA's order); the lag keyed
        ``topic-partition`` as Kafka names partitions."""
        lag = self.kafka_lag
        return (
            self.query_name,
            self.batch_id,
            datetime.fromtimestamp(self.started, UTC).replace(tzinfo=None),
            self.finished_at,
            int(self.duration_s * 1000),
            self.counts.input_rows,
            self.counts.valid_rows,
            self.counts.quarantined_rows,
            self.counts.duplicate_rows,
            self.input_rows_per_second,
            self.processed_rows_per_second,
            self.oldest,
            self.e2e_latency_ms,
            dict(self.counts.rows_by_table),
            self.finished_at.date(),
            self.query_id,
            None if lag is None else {f"{t}-{p}": n for (t, p), n in sorted(lag.items())},
            None if lag is None else sum(lag.values()),
        )
