"""`make demo`: the story on local defaults, with progress as it goes."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from confluent_kafka import Producer

from pipelines.ingest.stream import run_ingest
from pipelines.kafka_admin import create_topics
from pipelines.local.broker import LocalBroker
from pipelines.settings import Settings
from pipelines.spark.session import get_spark
from pipelines.spark.tables import BRONZE_AGENT_EVENTS

Progress = Callable[[str], None]


def produce_smoke_events(settings: Settings, topic: str, count: int, start: int = 0) -> None:
    """A plain confluent-kafka loop of JSON events, keyed by session."""
    producer = Producer(
        {"bootstrap.servers": settings.kafka_bootstrap_servers, "enable.idempotence": True}
    )
    for i in range(start, start + count):
        session_id = f"smoke-session-{i % 50}"
        event = {
            "event_id": str(uuid.uuid4()),
            "event_type": "interaction",
            "occurred_at": datetime.now(UTC).isoformat(),
            "session_id": session_id,
            "payload": {"n": i},
        }
        producer.produce(topic, key=session_id, value=json.dumps(event).encode())
        producer.poll(0)
    remaining = producer.flush(30)
    if remaining:
        raise RuntimeError(f"{remaining} smoke events were not delivered")


def run_demo(settings: Settings, events: int, progress: Progress) -> None:
    started = time.monotonic()
    step = _stepper(progress, total=4)
    step("starting the local Kafka broker")
    LocalBroker(settings).up(progress=progress)
    step("creating topics from the registry")
    for result in create_topics(settings):
        progress(f"  {result.status:8} {result.name}")
    topic = settings.topic_name("agent.interactions.v1")
    step(f"producing {events} smoke events to {topic}")
    produce_smoke_events(settings, topic, events)
    step("streaming the topics into bronze (catch-up)")
    spark = get_spark(settings, app_name="afl-demo")
    run_ingest(spark, settings, available_now=True)
    counts = spark.table(BRONZE_AGENT_EVENTS.qualified_name).groupBy("topic").count().collect()
    progress(f"done in {time.monotonic() - started:.0f}s. bronze.agent_events by topic:")
    for row in sorted(counts, key=lambda r: r["topic"]):
        progress(f"  {row['topic']:28} {row['count']:>8}")
    progress(f"lake: {settings.lake_root}   stop the broker with: afl infra down")


def _stepper(progress: Progress, total: int) -> Callable[[str], None]:
    count = 0

    def step(message: str) -> None:
        nonlocal count
        count += 1
        progress(f"[{count}/{total}] {message}")

    return step
