"""Reading topics back in tests: every record, with its coordinates."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from confluent_kafka import Consumer, Message, Producer

from pipelines.contracts.topics import TOPICS
from pipelines.kafka_admin import create_topics


def create_registry_topics(settings) -> None:
    create_topics(settings, TOPICS)


def private_settings(base, root: Path, **overrides):
    """A lake, checkpoints and topic namespace of its own under ``root``, on the shared broker."""
    return base.with_overrides(
        lake_root=str(root / "lake"),
        checkpoint_root=str(root / "checkpoints"),
        topic_prefix=f"t{uuid.uuid4().hex[:10]}.",
        **overrides,
    )


def consume(settings, topics: Sequence[str], expected: int, timeout_s: float = 60) -> list[Message]:
    """Read from the start until ``expected`` records arrived (or the timeout)."""
    consumer = Consumer(
        {
            "bootstrap.servers": settings.kafka_bootstrap_servers,
            "group.id": f"test-reader-{uuid.uuid4().hex[:8]}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe(list(topics))
    records: list[Message] = []
    deadline = time.monotonic() + timeout_s
    try:
        while len(records) < expected and time.monotonic() < deadline:
            for msg in consumer.consume(num_messages=10_000, timeout=1.0):
                if msg.error() is None:
                    records.append(msg)
        # give a surplus a moment to show up, so "exactly" really means exactly
        for msg in consumer.consume(num_messages=10_000, timeout=1.0):
            if msg.error() is None:
                records.append(msg)
    finally:
        consumer.close()
    return records


def murmur2_partition(key: bytes, partitions: int) -> int:
    """The Java client's default partition for a key (Utils.murmur2, positive, modulo)."""
    seed, m, r = 0x9747B28C, 0x5BD1E995, 24
    length = len(key)
    h = (seed ^ length) & 0xFFFFFFFF
    for i in range(0, length - length % 4, 4):
        k = int.from_bytes(key[i : i + 4], "little")
        k = (k * m) & 0xFFFFFFFF
        k ^= k >> r
        k = (k * m) & 0xFFFFFFFF
        h = (h * m) & 0xFFFFFFFF
        h ^= k
    tail = length % 4
    if tail >= 3:
        h ^= key[length - tail + 2] << 16
    if tail >= 2:
        h ^= key[length - tail + 1] << 8
    if tail >= 1:
        h ^= key[length - tail]
        h = (h * m) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * m) & 0xFFFFFFFF
    h ^= h >> 15
    return (h & 0x7FFFFFFF) % partitions


def produce_json(settings, topic: str, count: int, start: int = 0) -> None:
    """A bare confluent-kafka loop of JSON records {"n": i}, keyed by one of 50 sessions."""
    producer = Producer(
        {"bootstrap.servers": settings.kafka_bootstrap_servers, "enable.idempotence": True}
    )
    for i in range(start, start + count):
        session_id = f"smoke-session-{i % 50}"
        record = {"event_id": str(uuid.uuid4()), "at": datetime.now(UTC).isoformat(), "n": i}
        producer.produce(topic, key=session_id, value=json.dumps(record).encode())
        producer.poll(0)
    assert producer.flush(30) == 0


def send_raw(settings, records) -> None:
    """Send records (``.topic`` logical, ``.value``, ``.key``, ``.headers``) with a bare
    confluent-kafka producer, as a client we did not write would; each gets ``.coords``."""
    producer = Producer(
        {"bootstrap.servers": settings.kafka_bootstrap_servers, "enable.idempotence": True}
    )

    def delivered(record):
        def report(err, msg) -> None:
            assert err is None, f"{record.label}: {err}"
            record.coords = (msg.topic(), msg.partition(), msg.offset())

        return report

    for record in records:
        producer.produce(
            settings.topic_name(record.topic),
            value=record.value,
            key=record.key,
            headers=record.headers or None,
            on_delivery=delivered(record),
        )
        producer.poll(0)
    assert producer.flush(60) == 0
    assert all(r.coords is not None for r in records)
