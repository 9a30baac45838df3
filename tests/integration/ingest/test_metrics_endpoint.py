"""The running stream's /metrics endpoint and the lag in ops.stream_progress, scraped for real."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families
from pyspark.sql import functions as F

from pipelines.ingest.status import stream_status
from pipelines.ingest.stream import registry_topics
from pipelines.kafka_admin import end_offsets
from pipelines.producer.sdk import AgentEventProducer
from pipelines.producer.traffic import TrafficGenerator, send_traffic
from pipelines.spark.tables import spec_for
from tests.support.lake import assert_lake_exact, silver_progress
from tests.support.services import free_port
from tests.support.streams import END, running_stream, wait_for

pytestmark = pytest.mark.integration

QUERY = {"query": "agent_events"}


def scrape(port: int) -> dict[tuple[str, frozenset], float]:
    """Every sample on the endpoint: (name, labels) -> value."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def sample(samples: dict, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset({**QUERY, **labels}.items())))


def lag_by_partition(samples: dict) -> dict[tuple[str, int], float]:
    return {
        (labels["topic"], int(labels["partition"])): value
        for (name, frozen), value in samples.items()
        if name == "afl_stream_kafka_lag_records"
        for labels in [dict(frozen)]
    }


def test_metrics_follow_the_stream_and_the_lag_drains_to_zero(spark, lake):
    settings = lake.with_overrides(metrics_port=free_port())
    port = settings.metrics_port
    generator = TrafficGenerator(
        seed=41, events=4_000, end_time=END, days_back=1, bad_fraction=0.03
    )
    with running_stream(spark, settings) as stream:
        wait_for(lambda: _answers(port) and stream.alive(), what="the metrics endpoint")
        with AgentEventProducer(settings) as producer:
            manifest = send_traffic(producer, generator, rate=500).to_dict()
        sent = manifest["records_sent"]
        wait_for(
            lambda: sample(scrape(port), "afl_stream_rows_total", outcome="input") == sent,
            what="every record counted",
        )
        # the watch loop's lag: Kafka's end offsets minus the checkpoint's, every 5 s
        wait_for(
            lambda: (lag := lag_by_partition(scrape(port))) and sum(lag.values()) == 0,
            timeout_s=60,
            what="the lag back to zero",
        )
        samples = scrape(port)
        assert stream.alive()

    # the numbers on the endpoint are the numbers in ops.stream_progress
    progress = silver_progress(spark, settings)
    valid = sum(r["valid_rows"] for r in progress)
    quarantined = sum(r["quarantined_rows"] for r in progress)
    duplicates = sum(r["duplicate_rows"] for r in progress)
    assert sample(samples, "afl_stream_rows_total", outcome="valid") == valid
    assert valid == manifest["valid_distinct_total"]
    assert sample(samples, "afl_stream_rows_total", outcome="quarantined") == quarantined
    assert quarantined == manifest["bad_total"] - manifest["bad"]["duplicate"] > 0
    assert sample(samples, "afl_stream_rows_total", outcome="duplicate") == duplicates
    assert duplicates == manifest["bad"]["duplicate"] > 0
    assert valid + quarantined + duplicates == sent
    batches = len(progress)
    assert batches >= 2  # 8 s of traffic at 500/s; the first batch (tables created) takes ~20 s
    assert sample(samples, "afl_stream_batches_total") == batches
    assert sample(samples, "afl_stream_batch_duration_seconds_count") == batches
    assert sample(samples, "afl_stream_last_batch_id") == progress[-1]["batch_id"]
    assert sample(samples, "afl_stream_processed_rows_per_second") == pytest.approx(
        progress[-1]["processed_rows_per_second"]
    )
    assert sample(samples, "afl_stream_processed_rows_per_second") > 0
    assert sample(samples, "afl_stream_input_rows_per_second") > 0
    assert 0 < sample(samples, "afl_stream_e2e_latency_seconds") < 120
    assert sample(samples, "afl_stream_kafka_up") == 1

    # one lag series per partition of every registry topic, DLQ included
    topics = registry_topics(settings)
    partitions = {(t, p) for t, parts in end_offsets(settings, topics).items() for p in parts}
    assert set(lag_by_partition(samples)) == partitions

    # each batch recorded the lag it left behind, per "topic-partition"
    assert all(r["kafka_lag"] is not None for r in progress)
    assert {key for r in progress for key in r["kafka_lag"]} == {f"{t}-{p}" for t, p in partitions}
    assert all(r["kafka_lag_total"] == sum(r["kafka_lag"].values()) for r in progress)
    assert progress[-1]["kafka_lag_total"] == 0  # the last batch took everything there was
    table = spark.read.format("delta").load(settings.lake_path("ops", "stream_progress"))
    assert table.where(F.col("kafka_lag_total").isNull()).count() == 0

    with pytest.raises(urllib.error.URLError):  # the endpoint goes with the stream
        scrape(port)

    # `afl stream status`, without Spark, agrees with the lake
    status = stream_status(settings, topics)
    lines = status.lines()
    assert lines[0] == "query agent_events: nobody holds it (no stream running)"
    assert f"  last committed batch: {progress[-1]['batch_id']}" in lines
    assert "  Kafka lag: 0 records" in lines
    shown = {t.table: t for t in status.tables}
    for name in ("bronze.agent_events", "silver.outcomes", "silver.quarantine"):
        rows = spark.read.format("delta").load(spec_for(name).path(settings))
        assert shown[name].rows == rows.count(), name
        newest = rows.agg(F.max("ingested_at")).first()[0]
        in_statistics = newest.replace(microsecond=newest.microsecond // 1000 * 1000)
        assert shown[name].latest_ingested_at in (newest, in_statistics), name  # ms in stats
        assert any(
            line.startswith(f"    {name}") and f"{rows.count():,} rows" in line for line in lines
        )
    assert_lake_exact(spark, settings)


def _answers(port: int) -> bool:
    try:
        scrape(port)
    except (urllib.error.URLError, ConnectionError):
        return False
    return True
