"""A broker outage while the stream runs: it waits, says so once, resumes, loses nothing."""

from __future__ import annotations

import logging
import time

import pytest

from pipelines.ingest.telemetry import StreamMetrics
from pipelines.local.broker import LocalBroker
from tests.support.kafka import create_registry_topics, private_settings
from tests.support.lake import assert_lake_exact, silver_counts
from tests.support.services import free_port
from tests.support.streams import produce, running_stream, wait_for

pytestmark = pytest.mark.integration

OUTAGE_S = 20.0


@pytest.fixture
def own_broker(base_settings, tmp_path):
    """A broker of this test's own (the session's is shared): it is stopped mid-stream."""
    settings = private_settings(
        base_settings.with_overrides(
            home=str(tmp_path / "home"),
            kafka_bootstrap_servers=f"127.0.0.1:{free_port()}",
            kafka_controller_port=free_port(),
            metrics_port=free_port(),
        ),
        tmp_path,
    )
    broker = LocalBroker(settings)
    broker.up()
    try:
        create_registry_topics(settings)
        yield broker, settings
    finally:
        broker.down()


def test_the_stream_rides_out_a_broker_outage(spark, own_broker, caplog):
    broker, settings = own_broker
    caplog.set_level(logging.INFO, logger="pipelines.ingest.stream")
    metrics = StreamMetrics("agent_events")

    def counted() -> float | None:
        return metrics.value("afl_stream_rows_total", outcome="input")

    with running_stream(spark, settings, metrics=metrics) as stream:
        before = produce(settings, seed=51, events=1_500, days_back=1)
        wait_for(lambda: counted() == before["records_sent"], what="the first traffic")

        broker.down()
        down_at = time.monotonic()
        wait_for(lambda: metrics.value("afl_stream_kafka_up") == 0, 60, "the outage seen")
        time.sleep(max(0.0, OUTAGE_S - (time.monotonic() - down_at)))
        assert stream.alive()
        broker.up()

        after = produce(settings, seed=52, events=1_500, days_back=1)
        sent = before["records_sent"] + after["records_sent"]
        wait_for(lambda: counted() == sent, 180, "the traffic after the outage")
        wait_for(lambda: metrics.value("afl_stream_kafka_up") == 1, 30, "Kafka seen back")
        wait_for(lambda: lag(metrics) == 0, 60, "the lag back to zero")
        assert stream.alive()

    said = [r.getMessage() for r in caplog.records if r.name == "pipelines.ingest.stream"]
    servers = settings.kafka_bootstrap_servers
    down = [m for m in said if m == f"Kafka at {servers} is not answering: the stream waits for it"]
    back = [m for m in said if m.startswith(f"Kafka at {servers} answers again (about ")]
    assert len(down) == 1 and len(back) == 1, said  # one line each, not one per retry
    valid = before["valid_distinct"].copy()
    for event_type, n in after["valid_distinct"].items():
        valid[event_type] = valid.get(event_type, 0) + n
    assert silver_counts(spark, settings) == valid
    assert_lake_exact(spark, settings)


def lag(metrics: StreamMetrics) -> float | None:
    """The lag series summed over partitions (None before the first look at Kafka)."""
    samples = [
        s.value
        for family in metrics.registry.collect()
        if family.name == "afl_stream_kafka_lag_records"
        for s in family.samples
    ]
    return sum(samples) if samples else None
