"""Exactly-once as a tested property: kill -9 the stream mid-batch, restart, counts are exact."""

import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from pipelines.ingest.batch import INGEST_QUERY
from pipelines.ingest.offsets import verify_offsets
from pipelines.ingest.stream import CATCH_UP, run_ingest
from pipelines.producer.sdk import AgentEventProducer
from pipelines.producer.traffic import TrafficGenerator
from tests import AFL
from tests.support.lake import (
    assert_lake_exact,
    quarantine_by_kind,
    silver_counts,
    silver_progress,
    with_user_text_or_pii,
)
from tests.support.shell import shell_env
from tests.support.streams import END, checkpoint_batches, wait_committed

pytestmark = pytest.mark.integration


def wait_mid_batch(checkpoint: Path, timeout_s: float = 180) -> int:
    """Block until the query has planned a batch it has not committed; that batch id."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        in_flight = checkpoint_batches(checkpoint, "offsets") - checkpoint_batches(
            checkpoint, "commits"
        )
        if in_flight:
            return max(in_flight)
        time.sleep(0.02)
    raise AssertionError(f"no batch in flight under {checkpoint} within {timeout_s}s")


def test_three_kills_mid_batch_lose_nothing_and_duplicate_nothing(spark, lake, tmp_path):
    settings = lake
    env = shell_env(settings)
    log = open(tmp_path / "stream.log", "ab")  # noqa: SIM115 - closed at the end

    def start_stream() -> subprocess.Popen:
        return subprocess.Popen(
            [AFL, "stream", "--trigger-interval", "1 second"],
            env=env,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )

    generator = TrafficGenerator(
        seed=5, events=200_000, end_time=END, days_back=2, bad_fraction=0.02
    )
    stop_producing = threading.Event()
    with_pii = {"feedback": 0, "interaction": 0}  # valid events whose raw text goes restricted

    def produce() -> None:
        records = iter(generator)  # the manifest counts a record when it is drawn
        with AgentEventProducer(settings) as producer:
            started = time.monotonic()
            i = 0
            while not stop_producing.is_set():
                record = next(records, None)
                if record is None:
                    break
                i += 1
                if record.kind == "valid":
                    producer.emit(record.event)
                    if record.event_type in with_pii:
                        with_pii[record.event_type] += with_user_text_or_pii(record.event)
                else:
                    producer.produce_raw(record.topic, record.value, record.key)
                if i % 100 == 0:  # ~1,500 records/s: batches keep coming while we kill
                    time.sleep(max(0.0, i / 1500 - (time.monotonic() - started)))

    producer_thread = threading.Thread(target=produce)
    producer_thread.start()
    checkpoints = Path(settings.checkpoint_root)
    kills = []
    stream = start_stream()
    try:
        for query in (INGEST_QUERY, INGEST_QUERY, INGEST_QUERY):
            batch = wait_mid_batch(checkpoints / query)
            os.killpg(stream.pid, signal.SIGKILL)  # the CLI and its JVM, like a lost machine
            stream.wait()
            kills.append((query, batch))
            stream = start_stream()
        # the last run redoes the batch killed in flight, then stops cleanly on SIGTERM
        wait_committed(checkpoints / INGEST_QUERY, kills[-1][1])
        stop_producing.set()
        producer_thread.join(timeout=60)
        stream.send_signal(signal.SIGTERM)
        assert stream.wait(timeout=180) == 0
    finally:
        stop_producing.set()
        if stream.poll() is None:
            os.killpg(stream.pid, signal.SIGKILL)
        log.close()
    assert len(kills) == 3
    assert "stream stopped cleanly" in (tmp_path / "stream.log").read_text()

    run_ingest(spark, settings, CATCH_UP)  # drain whatever arrived after the stop
    assert_lake_exact(spark, settings)  # first: when it fails it names what broke
    manifest = generator.manifest.to_dict()
    assert manifest["records_sent"] > 10_000
    assert silver_counts(spark, settings) == manifest["valid_distinct"]
    expected_bad = {k: v for k, v in manifest["bad"].items() if k != "duplicate" and v}
    assert quarantine_by_kind(spark, settings) == expected_bad
    reports = verify_offsets(spark, settings)
    assert [r.describe() for r in reports if not r.ok] == []
    assert sum(r.rows for r in reports) == manifest["records_sent"]
    batches = silver_progress(spark, settings)
    assert len({b["batch_id"] for b in batches}) == len(batches)  # no batch recorded twice
    for b in batches:
        assert b["valid_rows"] + b["quarantined_rows"] + b["duplicate_rows"] == b["input_rows"]
    assert sum(b["input_rows"] for b in batches) == manifest["records_sent"]
    assert sum(b["duplicate_rows"] for b in batches) == manifest["bad"]["duplicate"]
    # every table, restricted companions included, and each batch's counts against the rows
    # the tables hold for it (a replayed batch must count what its first attempt wrote)
    for table, event_type in (
        ("feedback_restricted", "feedback"),
        ("interactions_restricted", "interaction"),
    ):
        restricted = spark.read.format("delta").load(settings.restricted_path("silver", table))
        assert restricted.count() == with_pii[event_type], table
