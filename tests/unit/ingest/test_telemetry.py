"""The stream's metrics and its progress row: what a batch reports is what Prometheus scrapes."""

from __future__ import annotations

import urllib.request
from datetime import UTC, datetime
from typing import Any

import pytest

from pipelines.ingest.progress import BatchCounts, BatchProgress
from pipelines.ingest.telemetry import StreamMetrics, serving
from pipelines.transforms.schemas import STREAM_PROGRESS_SCHEMA
from tests.support.services import free_port

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC).timestamp()


def batch(batch_id: int, valid: int, quarantined: int, duplicates: int, **more) -> BatchProgress:
    counts = BatchCounts(
        input_rows=valid + quarantined + duplicates,
        valid_rows=valid,
        quarantined_rows=quarantined,
        duplicate_rows=duplicates,
        rows_by_table={"silver.outcomes": valid},
    )
    options: dict[str, Any] = {
        "started": T0 + batch_id * 10,
        "finished": T0 + batch_id * 10 + 4,
        "oldest": datetime.fromtimestamp(T0 + batch_id * 10 - 2, UTC).replace(tzinfo=None),
        "since_previous": 10.0 if batch_id else None,
        "query_id": "q-1",
    } | more
    return BatchProgress("agent_events", batch_id, counts=counts, **options)


def test_the_progress_row_has_the_tables_columns_and_keys_the_lag_as_kafka_does():
    progress = batch(3, 90, 6, 4, kafka_lag={("agent.outcome.v1", 1): 7, ("agent.dlq", 0): 0})
    row = dict(zip(STREAM_PROGRESS_SCHEMA.fieldNames(), progress.row(), strict=True))
    assert row["input_rows"] == 100 and row["duration_ms"] == 4000
    assert row["processed_rows_per_second"] == 25.0
    assert row["input_rows_per_second"] == 10.0
    assert row["e2e_latency_ms"] == 6000  # oldest record produced 2 s before the start
    assert row["kafka_lag"] == {"agent.dlq-0": 0, "agent.outcome.v1-1": 7}
    assert row["kafka_lag_total"] == 7
    unknown = dict(zip(STREAM_PROGRESS_SCHEMA.fieldNames(), batch(4, 1, 0, 0).row(), strict=True))
    assert unknown["kafka_lag"] is None and unknown["kafka_lag_total"] is None


def test_batches_add_up_and_the_lag_is_per_partition():
    metrics = StreamMetrics("agent_events")
    assert metrics.value("afl_stream_rows_total", outcome="quarantined") == 0  # present at 0
    metrics.record_batch(batch(0, 90, 6, 4, kafka_lag={("t", 0): 50, ("t", 1): 3}))
    metrics.record_batch(batch(1, 40, 0, 10, kafka_lag={("t", 0): 0, ("t", 1): 0}))
    assert metrics.value("afl_stream_rows_total", outcome="input") == 150
    assert metrics.value("afl_stream_rows_total", outcome="valid") == 130
    assert metrics.value("afl_stream_rows_total", outcome="quarantined") == 6
    assert metrics.value("afl_stream_rows_total", outcome="duplicate") == 14
    assert metrics.value("afl_stream_batches_total") == 2
    assert metrics.value("afl_stream_batch_duration_seconds_count") == 2
    assert metrics.value("afl_stream_batch_duration_seconds_bucket", le="5.0") == 2
    assert metrics.value("afl_stream_input_rows_per_second") == 5.0  # 50 rows, 10 s apart
    assert metrics.value("afl_stream_last_batch_id") == 1
    assert metrics.value("afl_stream_e2e_latency_seconds") == 6.0
    assert metrics.value("afl_stream_kafka_lag_records", topic="t", partition="0") == 0
    assert metrics.value("afl_stream_kafka_up") == 1
    metrics.record_kafka_down()
    assert metrics.value("afl_stream_kafka_up") == 0


def test_the_endpoint_serves_only_while_the_block_runs():
    metrics = StreamMetrics("agent_events")
    metrics.record_batch(batch(0, 5, 1, 0))
    port = free_port()
    with serving(metrics, port, "127.0.0.1") as served:
        assert served == port
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
            text = answer.read().decode()
    assert 'afl_stream_rows_total{outcome="quarantined",query="agent_events"} 1.0' in text
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2)
    with serving(metrics, 0) as off:
        assert off == 0
