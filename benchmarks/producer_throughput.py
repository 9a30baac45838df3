"""Producer throughput: the SDK's emit() beside a bare confluent-kafka loop, same events, same run.

    .venv/bin/python -m benchmarks.producer_throughput --events 1000000

Needs the local broker (`afl infra up`). Events are generated before timing starts (valid,
v1, seeded); each variant sends all of them to its own fresh topics and is timed from the
first produce to the end of flush() (every event acknowledged). Variants:

- sdk:         AgentEventProducer.emit(event): contract validation, serialization, metrics
- bare_json:   the loop a team writes without the SDK: json.dumps + produce + poll(0)
- bare_bytes:  produce of pre-serialized bytes: the ceiling for one Python process

All three use the same producer settings (idempotent, acks=all, linger 5 ms, lz4).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import time
import uuid
from datetime import UTC, datetime

from confluent_kafka import Producer

from pipelines.contracts.registry import serialize
from pipelines.contracts.topics import TOPICS, topic_for_event_type
from pipelines.kafka_admin import create_topics
from pipelines.producer.sdk import AgentEventProducer
from pipelines.producer.traffic import TrafficGenerator
from pipelines.settings import Settings

PRODUCER_CONFIG = {
    "enable.idempotence": True,
    "acks": "all",
    "linger.ms": 5,
    "compression.type": "lz4",
    "partitioner": "murmur2_random",
    "queue.buffering.max.messages": 100_000,
}


def _bare(settings: Settings, events: list[dict], pre_serialized: list[bytes] | None) -> float:
    producer = Producer({"bootstrap.servers": settings.kafka_bootstrap_servers, **PRODUCER_CONFIG})
    topics = {
        t: settings.topic_name(topic_for_event_type(t).name)
        for t in {e["event_type"] for e in events}
    }
    started = time.perf_counter()
    for i, event in enumerate(events):
        value = (
            pre_serialized[i]
            if pre_serialized
            else json.dumps(event, separators=(",", ":")).encode()
        )
        while True:
            try:
                producer.produce(topics[event["event_type"]], value, event["session_id"])
                break
            except BufferError:
                producer.poll(0.05)
        producer.poll(0)
    assert producer.flush(120) == 0
    return time.perf_counter() - started


def _sdk(settings: Settings, events: list[dict]) -> float:
    producer = AgentEventProducer(settings)
    started = time.perf_counter()
    for event in events:
        producer.emit(event)
    producer.flush(120)
    elapsed = time.perf_counter() - started
    assert producer.metrics.sent == len(events), producer.metrics.snapshot()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    base = Settings.from_env()
    print(f"generating {args.events:,} events ...", flush=True)
    gen = TrafficGenerator(seed=1, events=args.events, end_time=datetime(2026, 11, 20, tzinfo=UTC))
    events = [r.valid_event for r in gen]
    serialized = [serialize(e) for e in events]
    avg_bytes = sum(map(len, serialized)) / len(serialized)
    print(f"average event size {avg_bytes:.0f} bytes", flush=True)

    results: dict[str, list[float]] = {"sdk": [], "bare_json": [], "bare_bytes": []}
    for round_no in range(args.rounds):
        order = (
            ["bare_json", "sdk", "bare_bytes"]
            if round_no % 2 == 0
            else ["sdk", "bare_bytes", "bare_json"]
        )
        for variant in order:
            settings = base.with_overrides(topic_prefix=f"bench-{uuid.uuid4().hex[:8]}.")
            create_topics(settings, TOPICS)
            if variant == "sdk":
                elapsed = _sdk(settings, events)
            else:
                elapsed = _bare(settings, events, serialized if variant == "bare_bytes" else None)
            rate = len(events) / elapsed
            results[variant].append(rate)
            print(
                f"round {round_no + 1} {variant:10} {elapsed:7.2f}s {rate:>10,.0f} events/s",
                flush=True,
            )

    median = {k: statistics.median(v) for k, v in results.items()}
    print()
    print("| variant | events/s (median of rounds) | runs | vs bare_json |")
    print("|---|---:|---|---:|")
    for variant in ("sdk", "bare_json", "bare_bytes"):
        runs = ", ".join(f"{r:,.0f}" for r in results[variant])
        ratio = median[variant] / median["bare_json"]
        print(f"| {variant} | {median[variant]:,.0f} | {runs} | {ratio:.0%} |")
    print(f"\npeak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB")


if __name__ == "__main__":
    main()
