"""Ingest throughput and freshness, with a bare consumer as the baseline in the same run.

    .venv/bin/python -m benchmarks.ingest_throughput --events 1000000 --skip-freshness
    .venv/bin/python -m benchmarks.ingest_throughput --skip-catch-up \
        --rate 2000 --seconds 120 --warmup 60 [--preload 20000000]

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
import logging
import multiprocessing
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from confluent_kafka import Consumer
from pyspark.sql import functions as F

from benchmarks.silver_batch_scaling import grow_to, kafka_batch
from pipelines.contracts.topics import TOPICS
from pipelines.ingest.batch import INGEST_QUERY, IngestBatch
from pipelines.ingest.isolation import release
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


def stream_while_producing(
    spark, settings: Settings, rate: int, seconds: int, during=None
) -> float:
    """The continuous stream runs while a producer sends ``rate`` live events/s for
    ``seconds``; ``during(elapsed_s)`` is called every 10 s. The time producing started."""
    stop = threading.Event()
    stream = threading.Thread(
        target=run_ingest, args=(spark, settings), kwargs={"stop_event": stop}, daemon=True
    )
    stream.start()
    time.sleep(20)  # let the query start and run its first (empty) batches
    # the producer is its own process, as an agent app is: it shares the cores, not the GIL
    producer = multiprocessing.get_context("spawn").Process(
        target=produce_live, args=(settings, rate, seconds)
    )
    started = time.time()
    producer.start()
    while producer.is_alive():
        producer.join(10)
        if during is not None and producer.is_alive():
            during(time.time() - started)
    if producer.exitcode != 0:
        raise RuntimeError(f"the producer failed (exit code {producer.exitcode})")
    time.sleep(15)  # let the last micro-batches land
    stop.set()
    stream.join(timeout=300)
    return started


def produce_live(settings: Settings, rate: int, seconds: int) -> None:
    generator = TrafficGenerator(seed=9, events=rate * seconds, end_time=END, days_back=1)
    with AgentEventProducer(settings) as producer:
        send_traffic(producer, generator, rate=rate, live=True)


def lags(spark, settings: Settings):
    """Per landed event: kafka_ts (s) and lag_s, produced (Kafka timestamp) -> the end of
    the micro-batch that made it visible in silver."""
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
    assert rows is not None, "no silver tables"
    return rows.join(progress, "ingest_batch_id").select(
        F.col("kafka_timestamp").cast("double").alias("kafka_ts"),
        (F.col("finished_at").cast("double") - F.col("kafka_timestamp").cast("double")).alias(
            "lag_s"
        ),
    )


def lag_stats(frame) -> dict:
    return (
        frame.agg(
            F.percentile_approx("lag_s", 0.5, 10000).alias("p50"),
            F.percentile_approx("lag_s", 0.95, 10000).alias("p95"),
            F.max("lag_s").alias("max"),
            F.count("*").alias("events"),
        )
        .first()
        .asDict()
    )


def freshness(spark, settings: Settings, rate: int, seconds: int, warmup: int) -> dict[str, float]:
    started = stream_while_producing(spark, settings, rate, warmup + seconds)
    measured = lags(spark, settings).where(F.col("kafka_ts") >= started + warmup)
    return lag_stats(measured)


def preload(spark, settings: Settings, rows: int) -> None:
    """``rows`` silver rows on today's date before the stream starts (see silver_batch_scaling)."""
    now = datetime.now(UTC)
    writer = IngestBatch(settings, query_name="bench_preload")
    writer.query_id = "preload"
    writer.write(
        kafka_batch(spark, 1, 60_000, now - timedelta(minutes=30), settings.topic_prefix),
        0,
        time.time(),
    )
    # a local checkpoint, never cache(): see silver_batch_scaling
    sample = {
        table: spark.read.format("delta")
        .load(settings.lake_path("silver", table))
        .localCheckpoint(eager=True)
        for table in SILVER_TABLE_FOR.values()
    }
    held = sum(frame.count() for frame in sample.values())
    grow_to(spark, settings, sample, rows, held, until=now - timedelta(minutes=20))
    for frame in sample.values():
        release(frame)
    print(f"preloaded {rows:,} silver rows on {now.date()}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--bad-fraction", type=float, default=0.01)
    parser.add_argument("--rate", type=int, default=2000)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--warmup", type=int, default=0, help="Seconds of traffic not measured.")
    parser.add_argument("--preload", type=int, default=0, help="Silver rows on today first.")
    parser.add_argument("--skip-catch-up", action="store_true")
    parser.add_argument("--skip-freshness", action="store_true")
    parser.add_argument("--root", default="/tmp/afl-bench")
    args = parser.parse_args()
    # each micro-batch's steps and their seconds (pipelines/ingest/batch.py logs them)
    logging.basicConfig(format="%(asctime)s %(message)s")
    logging.getLogger("pipelines.ingest.batch").setLevel(logging.INFO)
    base = Settings.from_env()
    root = Path(args.root) / uuid.uuid4().hex[:8]
    spark = get_spark(base, app_name="afl-bench-ingest")

    if not args.skip_catch_up:
        measure_catch_up(spark, base, root, args)
    if args.skip_freshness:
        return
    live = fresh(base, root, "freshness")
    if args.preload:
        preload(spark, live, args.preload)
    stats = freshness(spark, live, args.rate, args.seconds, args.warmup)
    print(
        f"freshness at {args.rate}/s for {args.seconds}s after {args.warmup}s warm-up, "
        f"{args.preload:,} rows preloaded: "
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
