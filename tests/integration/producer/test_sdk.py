"""The producer SDK against the real broker."""

import json
import os
import signal
import time
from datetime import UTC, datetime

import pytest

from pipelines.contracts.exceptions import ContractViolation
from pipelines.contracts.topics import topic_for_event_type
from pipelines.local.broker import LocalBroker
from pipelines.producer.exceptions import BackpressureTimeout, DeliveryError
from pipelines.producer.sdk import AgentEventProducer
from pipelines.producer.traffic import TrafficGenerator
from tests.support.kafka import consume, create_registry_topics, murmur2_partition
from tests.support.services import free_port

pytestmark = pytest.mark.integration


def test_emit_delivers_every_event_with_its_key_on_the_java_partition(settings, topics):
    records = list(
        TrafficGenerator(seed=11, events=600, end_time=datetime(2026, 11, 20, tzinfo=UTC))
    )
    with AgentEventProducer(settings) as producer:
        for record in records:
            producer.emit(record.event)
    metrics = producer.metrics.snapshot()
    assert (metrics["emitted"], metrics["sent"], metrics["failed"]) == (600, 600, 0)
    assert metrics["delivery_latency_p95_ms"] > 0

    read = consume(settings, list(topics.values()), expected=600)
    assert len(read) == 600
    sent = {r.event["event_id"]: r.event for r in records}
    for msg in read:
        event = json.loads(msg.value())
        original = sent.pop(event["event_id"])
        assert event == original
        assert msg.key().decode() == original["session_id"]
        assert msg.topic() == topics[topic_for_event_type(original["event_type"]).name]
        assert msg.partition() == murmur2_partition(msg.key(), 3)
    assert sent == {}


def test_invalid_event_raises_naming_the_field_or_goes_to_the_dlq(settings, topics):
    event = next(
        iter(TrafficGenerator(seed=1, events=1, end_time=datetime(2026, 11, 20, tzinfo=UTC)))
    ).event
    event["payload"]["turn_id"] = 42
    with (
        AgentEventProducer(settings) as producer,
        pytest.raises(ContractViolation, match=r"payload\.turn_id: must be string"),
    ):
        producer.emit(event)
    assert producer.metrics.invalid == 1 and producer.metrics.emitted == 0

    with AgentEventProducer(settings, dead_letter_invalid=True) as producer:
        producer.emit(event)
    assert producer.metrics.dead_lettered == 1
    [dlq] = consume(settings, [topics["agent.dlq"]], expected=1)
    headers = {k: v.decode() for k, v in dlq.headers()}
    assert headers["afl.field"] == "payload.turn_id"
    assert headers["afl.reason"] == "invalid interaction event: payload.turn_id: must be string"
    assert headers["afl.stage"] == "producer"
    assert json.loads(dlq.value())["event_id"] == event["event_id"]
    assert consume(settings, [topics["agent.interactions.v1"]], expected=1, timeout_s=3) == []


@pytest.fixture
def own_broker(tmp_path, base_settings):
    """A broker this test may kill, apart from the session's."""
    settings = base_settings.with_overrides(
        home=str(tmp_path / "home"),
        kafka_bootstrap_servers=f"localhost:{free_port()}",
        kafka_controller_port=free_port(),
    )
    broker = LocalBroker(settings)
    broker.up()
    create_registry_topics(settings)
    yield settings, broker
    broker.down()


def test_a_killed_broker_makes_emit_fail_clearly_within_the_timeout(own_broker):
    settings, broker = own_broker
    events = [
        r.event
        for r in TrafficGenerator(seed=5, events=6, end_time=datetime(2026, 11, 20, tzinfo=UTC))
    ]
    producer = AgentEventProducer(settings, delivery_timeout_s=3)
    producer.emit(events[0], wait=True)
    assert producer.metrics.sent == 1

    os.kill(broker.status().pid, signal.SIGKILL)
    for event in events[1:4]:
        producer.emit(event)
    started = time.monotonic()
    with pytest.raises(DeliveryError, match=r"3 event\(s\) were not delivered to Kafka") as caught:
        producer.flush()
    assert time.monotonic() - started < 10
    assert "timed out" in caught.value.last_error.lower()

    started = time.monotonic()
    with pytest.raises(DeliveryError, match=r"1 event\(s\) were not delivered"):
        producer.emit(events[4], wait=True)
    assert time.monotonic() - started < 10
    assert producer.metrics.failed == 4


def test_a_full_buffer_pushes_back_then_gives_up(own_broker):
    settings, broker = own_broker
    broker.down()
    events = [
        r.event
        for r in TrafficGenerator(seed=5, events=5, end_time=datetime(2026, 11, 20, tzinfo=UTC))
    ]
    producer = AgentEventProducer(
        settings, max_buffered=3, buffer_timeout_s=1, delivery_timeout_s=30
    )
    for event in events[:3]:
        producer.emit(event)
    started = time.monotonic()
    with pytest.raises(BackpressureTimeout, match="stayed full for 1s"):
        producer.emit(events[3])
    assert 0.9 < time.monotonic() - started < 5
    assert producer.metrics.emitted == 3
