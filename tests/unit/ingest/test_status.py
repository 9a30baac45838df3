"""The stream's status without Spark: waiting for a commit, the last batch, the lines printed.

Checkpoints are written by hand in Spark's format, tables with delta-rs; Kafka is a port
nobody listens on (the status then says the lag is unknown, and why).
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import write_deltalake

from pipelines import storage
from pipelines.delta_log import Freshness
from pipelines.errors import AflError
from pipelines.ingest.lease import Holder, RunMode, lease_uri
from pipelines.ingest.status import (
    STREAMED_TABLES,
    StreamStatus,
    latest_progress,
    stream_status,
    wait_caught_up,
)
from pipelines.settings import Settings
from pipelines.spark.tables import BRONZE_AGENT_EVENTS, STREAM_PROGRESS
from tests.support.services import free_port

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC).timestamp()
HOLDER = Holder(
    token="9f2c",
    query="agent_events",
    mode=RunMode.CONTINUOUS,
    owner="afl stream",
    host="worker-7",  # another machine: whether it is live depends on its heartbeat alone
    pid=4242,
    acquired_at=NOW - 3600,
    heartbeat_at=NOW - 5,
    ttl_s=30.0,
)


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings.from_env(
        {"AFL_HOME": str(tmp_path), "AFL_KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{free_port()}"}
    )


def _checkpoint(settings: Settings) -> Path:
    return Path(settings.checkpoint_path("agent_events"))


def _plan(settings: Settings, batch_id: int, ends: str) -> None:
    folder = _checkpoint(settings) / "offsets"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / str(batch_id)).write_text(f'v1\n{{"batchWatermarkMs":0}}\n{ends}\n')


def _commit(settings: Settings, batch_id: int) -> None:
    folder = _checkpoint(settings) / "commits"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / str(batch_id)).write_text('v1\n{"nextBatchWatermarkMs":0}\n')


def _progress(settings: Settings, *rows: tuple[str, int, datetime]) -> None:
    """Batches of ops.stream_progress (the columns the status reads), one append per call."""
    write_deltalake(
        STREAM_PROGRESS.path(settings),
        pa.table(
            {
                "query_name": pa.array([q for q, _, _ in rows]),
                "batch_id": pa.array([b for _, b, _ in rows], pa.int64()),
                "finished_at": pa.array([t for _, _, t in rows], pa.timestamp("us", tz="UTC")),
                "input_rows": pa.array([100 * b for _, b, _ in rows], pa.int64()),
                "duration_ms": pa.array([1500] * len(rows), pa.int64()),
                "e2e_latency_ms": pa.array([2400] * len(rows), pa.int64()),
            }
        ),
        mode="append",
    )


def test_waiting_returns_the_committed_offsets_once_they_reach_the_targets(settings):
    _plan(settings, 0, '{"t.a":{"0":5,"1":7}}')
    _commit(settings, 0)
    _plan(settings, 1, '{"t.a":{"0":9,"1":7}}')
    later = threading.Timer(0.3, _commit, (settings, 1))
    started = time.monotonic()
    later.start()
    try:
        committed = wait_caught_up(settings, {"t.a": {0: 9, 1: 7}}, timeout_s=10, poll_s=0.05)
    finally:
        later.cancel()
    assert committed == {"t.a": {0: 9, 1: 7}}
    assert time.monotonic() - started >= 0.3  # it waited for batch 1's commit
    # already there: no wait at all (offsets beyond the targets are caught up too)
    assert wait_caught_up(settings, {"t.a": {0: 8}}, timeout_s=0) == {"t.a": {0: 9, 1: 7}}


def test_a_stream_that_does_not_catch_up_in_time_names_the_lag(settings):
    _plan(settings, 0, '{"t.a":{"0":5,"1":7}}')
    _commit(settings, 0)
    targets = {"t.a": {0: 1005, 1: 7, 2: 30}, "t.b": {0: 2, 1: 3, 2: 4, 3: 5}}
    with pytest.raises(AflError) as error:
        wait_caught_up(settings, targets, timeout_s=0)
    assert str(error.value) == (
        "the agent_events stream is still 1,044 records behind after 0 s "
        "(t.a[0] 1,000, t.a[2] 30, t.b[0] 2, t.b[1] 3, t.b[2] 4)"  # the five first only
    )


def test_the_latest_progress_is_the_querys_newest_batch_of_the_last_day(settings):
    assert latest_progress(settings) is None  # no table yet
    now = datetime.now(UTC).replace(microsecond=0)
    _progress(
        settings,
        ("agent_events", 99, now - timedelta(days=2)),  # before the checkpoint was reset
        ("agent_events", 12, now - timedelta(minutes=10)),
    )
    _progress(
        settings,
        ("agent_events", 11, now - timedelta(minutes=11)),  # written last, not the newest
        ("other_query", 50, now - timedelta(minutes=1)),
    )
    assert latest_progress(settings) == {
        "query_name": "agent_events",
        "batch_id": 12,
        "finished_at": now - timedelta(minutes=10),
        "input_rows": 1200,
        "duration_ms": 1500,
        "e2e_latency_ms": 2400,
    }
    other = latest_progress(settings, "other_query")
    assert other is not None and other["batch_id"] == 50
    assert latest_progress(settings, "nobody") is None


def test_the_status_lines_name_the_holder_the_lag_the_last_batch_and_each_table():
    status = StreamStatus(
        query="agent_events",
        holder=HOLDER,
        committed_batch=41,
        lag={
            ("agent.outcome.v1", 1): 1500,
            ("agent.outcome.v1", 0): 0,
            ("agent.feedback.v1", 0): 25,
        },
        kafka_error=None,
        last_batch={
            "batch_id": 41,
            "finished_at": datetime(2026, 11, 20, 11, 59, 30),
            "input_rows": 12345,
            "duration_ms": 1820,
            "e2e_latency_ms": 2400,
        },
        tables=(
            Freshness("bronze.agent_events", True, datetime(2026, 11, 20, 11, 59, 15), 12, 1250000),
            Freshness("silver.feedback", True, datetime(2026, 11, 20, 11, 58), 7, 800),
            Freshness("silver.policy_decisions", True, datetime(2026, 11, 18, 12, 0), 3, 40),
            Freshness("silver.evaluations", True, None, 0, 0),
            Freshness("silver.quarantine", False),
        ),
    )
    assert status.total_lag == 1525
    assert status.lines(NOW) == [
        "query agent_events: held by afl stream (continuous) pid 4242 on worker-7, "
        "last heartbeat 5 s ago",
        "  last committed batch: 41",
        "  last batch written: 41 at 2026-11-20 11:59:30 UTC, 12,345 records in 1,820 ms, "
        "end-to-end latency 2.4 s",
        "  Kafka lag: 1,525 records",
        "    agent.feedback.v1[0] 25",
        "    agent.outcome.v1[1] 1,500",
        "  tables (rows, newest ingested_at, Delta version):",
        "    bronze.agent_events      1,250,000 rows, newest 2026-11-20 11:59:15 UTC (45 s ago), "
        "version 12",
        "    silver.feedback          800 rows, newest 2026-11-20 11:58:00 UTC (2 min ago), "
        "version 7",
        "    silver.policy_decisions  40 rows, newest 2026-11-18 12:00:00 UTC (2,880 min ago), "
        "version 3",
        "    silver.evaluations       0 rows, version 0",
        "    silver.quarantine        not created yet",
    ]


def test_an_expired_lease_no_batch_and_an_unknown_lag_are_said_so():
    expired = replace(HOLDER, heartbeat_at=NOW - 45)
    status = StreamStatus("agent_events", expired, None, None, "Kafka did not answer", None)
    assert status.total_lag is None
    assert status.lines(NOW) == [
        "query agent_events: lease expired: afl stream (continuous) pid 4242 on worker-7, "
        "last heartbeat 45 s ago",
        "  last committed batch: none",
        "  Kafka lag: unknown (Kafka did not answer)",
    ]
    nobody = replace(status, holder=None, lag={}, kafka_error=None)
    assert nobody.lines(NOW) == [
        "query agent_events: nobody holds it (no stream running)",
        "  last committed batch: none",
        "  Kafka lag: 0 records",
    ]


def test_the_status_reads_lease_checkpoint_progress_and_tables_with_kafka_down(settings):
    storage.write_text(lease_uri(settings, "agent_events"), HOLDER.to_json())
    _plan(settings, 0, '{"t.a":{"0":5}}')
    _plan(settings, 1, '{"t.a":{"0":9}}')
    _commit(settings, 0)
    _commit(settings, 1)
    _plan(settings, 2, '{"t.a":{"0":12}}')  # planned, not committed
    now = datetime.now(UTC).replace(microsecond=0)
    _progress(settings, ("agent_events", 1, now))
    ingested = datetime(2026, 11, 20, 9, 30)
    write_deltalake(
        BRONZE_AGENT_EVENTS.path(settings),
        pa.table(
            {
                "event_id": pa.array(["e1", "e2"]),
                "ingested_at": pa.array([ingested] * 2, pa.timestamp("us", tz="UTC")),
            }
        ),
    )
    status = stream_status(settings, ["t.a"])  # Kafka answers nothing within its 5 s
    assert status.kafka_error is not None
    assert status.kafka_error.startswith(
        f"Kafka at {settings.kafka_bootstrap_servers} did not answer: "
    )
    assert replace(status, kafka_error=None) == StreamStatus(
        query="agent_events",
        holder=HOLDER,
        committed_batch=1,
        lag=None,
        kafka_error=None,
        last_batch={
            "query_name": "agent_events",
            "batch_id": 1,
            "finished_at": now,
            "input_rows": 100,
            "duration_ms": 1500,
            "e2e_latency_ms": 2400,
        },
        tables=(
            Freshness("bronze.agent_events", True, ingested, 0, 2),
            *(Freshness(spec.qualified_name, False) for spec in STREAMED_TABLES[1:]),
        ),
    )
