"""ops.stream_progress: one row per micro-batch per query, the stream's own evidence.

Every batch row satisfies valid + quarantined + duplicates = input, exactly, also when the
batch is a re-run after a crash (a re-run decides what its first attempt decided, and
writes the row only if the first attempt did not).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime


@dataclass
class BatchCounts:
    input_rows: int = 0
    valid_rows: int = 0  # new rows landed in silver (general tables)
    quarantined_rows: int = 0  # rows written to silver.quarantine
    duplicate_rows: int = 0  # copies of events already landed, with the same content
    rows_by_table: dict[str, int] = field(default_factory=dict)


def progress_row(
    query_name: str,
    batch_id: int,
    started: float,
    finished: float,
    counts: BatchCounts,
    oldest: datetime | None,
    since_previous: float | None,
    query_id: str | None,
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
        query_id,
    )
