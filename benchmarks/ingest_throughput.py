"""Ingest throughput and freshness, with a bare consumer as the baseline in the same run.

    .venv/bin/python -m benchmarks.ingest_throughput --events 1000000 --skip-freshness
    .venv/bin/python -m benchmarks.ingest_throughput --skip-catch-up \
        --rate 2000 --seconds 120 --warmup 60

Needs the local broker (`afl infra up`). Three measurements, each on fresh topics and lake:

1. baselines: a bare confluent-kafka consumer reads every record of the topics (no parsing);
   Spark's Kafka source alone reads them into a noop sink (the ceiling of any Spark design)
2. catch-up: `run_ingest(CATCH_UP)`: Kafka -> bronze, silver, quarantine, progress
3. freshness: the continuous stream while a producer on this machine sends a steady
   --rate events/s of live traffic (each event occurs as it is sent) for --seconds; per
   event, produced (Kafka timestamp) -> visible in silver (the end of the micro-batch that
   committed it); p50 / p95 / max. --preload N puts N rows in today's silver partitions
   first (synthetic copies, arrivals spread over the preceding day).
"""

from __future__ import annotations

import argparse
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from confluent_kafka import Consumer
from pyspark.sql import functions as F

from pipelines.contracts.topics import TOPICS
from pipelines.ingest.batch import INGEST_QUERY
from pipelines.ingest.stream import CATCH_UP, DEFAULT_MAX_OFFSETS_PER_TRIGGER, run_ingest
from pipelines.kafka_admin import create_topics
from pipelines.producer.sdk import AgentEventProducer
from pipelines.producer.traffic import TrafficGenerator, send_traffic
from pipelines.settings import Settings
from pipelines.spark.io import read_kafka_stream
from pipelines.spark.session import get_spark
from pipelines.spark.tables import SILVER_TABLE_FOR, STREAM_PROGRESS

END = datetime(2026, 11, 20, 12, tzinfo=UTC)


def fresh(base: Settings, root: Path, name: str) -> Settings:
    settings = base.with_overrides(
        lake_root=str(root / name / "lake"),
        checkpoint_root=str(root / name / "checkpoints"),
        topic_prefix=f"bench-{uuid.uuid4().hex[:8]}.",
    )
    create_topics(settings, TOPICS)
    return settings


def bare_consumer_rate(settings: Settings, expected: int) -> tuple[float, int]:
    consumer = Consumer(
        {
            "bootstrap.servers": settings.kafka_bootstrap_servers,
            "group.id": f"bench-{uuid.uuid4().hex[:8]}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([settings.topic_name(t.name) for t in TOPICS])
    seen = 0
    started = None
    while seen < expected:
        batch = consumer.consume(num_messages=10_000, timeout=5.0)
        if not batch:
            break
        if started is None:
            started = time.perf_counter()
        seen += sum(1 for m in batch if m.error() is None)
    elapsed = time.perf_counter() - (started or time.perf_counter())
    consumer.close()
    return seen / elapsed if elapsed else 0.0, seen


def spark_source_rate(spark, settings: Settings, root: Path, expected: int) -> float:
    """Spark's Kafka source alone, same options and batch size as bronze, into a noop sink."""
    frame = read_kafka_stream(
        spark,
        settings,
        [settings.topic_name(t.name) for t in TOPICS],
        DEFAULT_MAX_OFFSETS_PER_TRIGGER,
    )
    started = time.perf_counter()
    query = (
        frame.writeStream.format("noop")
        .option("checkpointLocation", str(root / "noop-checkpoint"))
        .trigger(availableNow=True)
        .start()
    )
    query.awaitTermination()
    elapsed = time.perf_counter() - started
    read = sum(p["numInputRows"] for p in query.recentProgress)
    assert read == expected, f"the noop query read {read:,} of {expected:,} records"
    return expected / elapsed


def catch_up(spark, settings: Settings) -> float:
    started = time.perf_counter()
    run_ingest(spark, settings, CATCH_UP)
    return time.perf_counter() - started


def freshness(spark, settings: Settings, rate: int, seconds: int, warmup: int) -> dict[str, float]:
    stop = threading.Event()
    stream = threading.Thread(
        target=run_ingest, args=(spark, settings), kwargs={"stop_event": stop}, daemon=True
    )
    stream.start()
    time.sleep(20)  # let the query start and run its first (empty) batches
    generator = TrafficGenerator(
        seed=9, events=rate * (warmup + seconds), end_time=END, days_back=1
    )
    measured_from = time.time() + warmup  # events produced before this are warm-up
    with AgentEventProducer(settings) as producer:
        send_traffic(producer, generator, rate=rate, live=True)
    time.sleep(15)  # let the last micro-batches land
    stop.set()
    stream.join(timeout=300)
    progress = (
        spark.read.format("delta")
        .load(STREAM_PROGRESS.path(settings))
        .where(F.col("query_name") == INGEST_QUERY)
        .select(F.col("batch_id").alias("ingest_batch_id"), "finished_at")
    )
    rows = None
    for table in SILVER_TABLE_FOR.values():
        part = (
            spark.read.format("delta")
            .load(settings.lake_path("silver", table))
            .select("ingest_batch_id", "kafka_timestamp")
        )
        rows = part if rows is None else rows.unionByName(part)
    rows = rows.where(F.col("kafka_timestamp").cast("double") >= measured_from)
    lag = rows.join(progress, "ingest_batch_id").select(
        (F.col("finished_at").cast("double") - F.col("kafka_timestamp").cast("double")).alias(
            "lag_s"
        )
    )
    stats = lag.agg(
        F.percentile_approx("lag_s", 0.5, 10000).alias("p50"),
        F.percentile_approx("lag_s", 0.95, 10000).alias("p95"),
        F.max("lag_s").alias("max"),
        F.count("*").alias("events"),
    ).first()
    return stats.asDict()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--bad-fraction", type=float, default=0.01)
    parser.add_argument("--rate", type=int, default=2000)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--warmup", type=int, default=0, help="Seconds of traffic not measured.")
    parser.add_argument("--skip-catch-up", action="store_true")
    parser.add_argument("--skip-freshness", action="store_true")
    parser.add_argument("--root", default="/tmp/afl-bench")
    args = parser.parse_args()
    base = Settings.from_env()
    root = Path(args.root) / uuid.uuid4().hex[:8]
    spark = get_spark(base, app_name="afl-bench-ingest")

    if not args.skip_catch_up:
        measure_catch_up(spark, base, root, args)
    if args.skip_freshness:
        return
    live = fresh(base, root, "freshness")
    stats = freshness(spark, live, args.rate, args.seconds, args.warmup)
    print(
        f"freshness at {args.rate}/s for {args.seconds}s after {args.warmup}s warm-up: "
        f"{stats['events']:,} events, "
        f"p50 {stats['p50']:.2f}s, p95 {stats['p95']:.2f}s, max {stats['max']:.2f}s",
        flush=True,
    )


def measure_catch_up(spark, base: Settings, root: Path, args: argparse.Namespace) -> None:
    settings = fresh(base, root, "catch-up")
    print(f"producing {args.events:,} records ...", flush=True)
    generator = TrafficGenerator(
        seed=1, events=args.events, end_time=END, days_back=3, bad_fraction=args.bad_fraction
    )
    with AgentEventProducer(settings) as producer:
        send_traffic(producer, generator)
    consumer_rate, consumed = bare_consumer_rate(settings, args.events)
    print(f"bare consumer: {consumed:,} records at {consumer_rate:,.0f}/s", flush=True)
    source_rate = spark_source_rate(spark, settings, root, consumed)
    print(f"Spark Kafka source -> noop sink: {source_rate:,.0f}/s", flush=True)
    total = catch_up(spark, settings)
    rate = args.events / total
    print(
        f"catch-up end to end: {total:.1f}s = {rate:,.0f} events/s "
        f"({rate / source_rate:.2f}x the Spark Kafka source alone)",
        flush=True,
    )
    batches = (
        spark.read.format("delta")
        .load(STREAM_PROGRESS.path(settings))
        .where(F.col("query_name") == INGEST_QUERY)
        .select("batch_id", "input_rows", "duration_ms")
        .orderBy("batch_id")
        .collect()
    )
    for b in batches:
        print(f"  batch {b['batch_id']}: {b['input_rows']:,} records in {b['duration_ms']:,} ms")


if __name__ == "__main__":
    main()
