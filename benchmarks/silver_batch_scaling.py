"""Does a silver micro-batch cost more as the day's partitions grow? (issue 13)

    .venv/bin/python -m benchmarks.silver_batch_scaling --sizes 0,5000000,20000000,50000000

No broker needed. One event date D; before each measurement the silver tables get more rows
on D (synthetic copies of real silver rows, new event ids, ``ingested_at`` spread evenly over
the 24 hours before the batch, files in arrival order as streaming appends leave them),
until they hold each --sizes total. Then, at each size, in the same run:

1. the silver batch: 20,000 new valid events of D (occurred within the last minutes,
   as live traffic is) through the stream's own batch writer, timed end to end; --repeat
   such batches, the median reported (after two warm-up batches, so nothing measured
   includes compiling the plans);
2. the same after a restart: the writer forgets what it held (as its process would) and a
   new writer (nothing in memory, tables probed, the dedup horizon's rows loaded from the
   tables) takes the next 20,000, and goes on as the writer of the next sizes;
3. baseline: the lookup the writer used before issue 13, an anti-join of the batch's
   event ids against every event id of D's partitions, timed alone.

Prints one line per size, with the driver heap in use after a full GC; the driver is the
default 2 GB.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from pipelines.ingest.batch import IngestBatch
from pipelines.producer.traffic import TrafficGenerator
from pipelines.settings import Settings
from pipelines.spark.session import get_spark
from pipelines.spark.tables import SILVER_TABLE_FOR

DAY = datetime(2026, 11, 20, tzinfo=UTC)
BATCH_AT = DAY + timedelta(hours=20)  # the measured batches arrive at 20:00 on D


KAFKA_ROWS = (
    "key binary, value binary, topic string, partition int, offset long, "
    "timestamp timestamp, headers array<struct<key:string,value:binary>>"
)


def kafka_batch(
    spark: SparkSession, seed: int, events: int, at: datetime, topic_prefix: str = "bench."
) -> DataFrame:
    """``events`` valid records as the Kafka source hands them over: live traffic, each
    sent a second after it occurred, the last ones around ``at``."""
    generator = TrafficGenerator(seed=seed, events=events, end_time=at, days_back=0.004)
    rows: list[tuple[object, ...]] = []
    for offset, record in enumerate(generator):
        occurred = datetime.fromisoformat(record.valid_event["occurred_at"].replace("Z", "+00:00"))
        rows.append(
            (
                (record.key or "").encode(),
                record.value,
                f"{topic_prefix}{record.topic}",
                offset % 3,
                1_000_000_000 * seed + offset,
                (occurred + timedelta(seconds=1)).replace(tzinfo=None),
                [],
            )
        )
    return spark.createDataFrame(rows, KAFKA_ROWS)


def grow_to(
    spark: SparkSession,
    settings: Settings,
    sample: dict[str, DataFrame],
    total: int,
    held: int,
    until: datetime = BATCH_AT,
) -> int:
    """Append synthetic copies of the sample's rows (their event dates, new event ids) until
    the silver tables hold ``total`` rows; they arrived over the 24 hours before ``until``."""
    if total <= held:
        return held
    weights = {t: frame.count() for t, frame in sample.items()}
    all_rows = sum(weights.values())
    for table, frame in sample.items():
        wanted = (total - held) * weights[table] // all_rows
        copies = wanted // weights[table] + 1
        grown = (
            frame.crossJoin(spark.range(copies).withColumnRenamed("id", "_copy"))
            .limit(wanted)
            .withColumn("_n", F.monotonically_increasing_id())
            .withColumns(
                {
                    "event_id": F.concat(F.col("event_id"), F.lit(f"-{held}-"), F.col("_n")),
                    "kafka_offset": F.col("_n") + F.lit(10_000_000_000 + held),
                    # arrivals spread over the day before ``until``, oldest first
                    "ingested_at": F.lit(until.replace(tzinfo=None))
                    - F.make_interval(secs=F.lit(86_400.0) * F.rand(seed=len(table) + held)),
                }
            )
            .withColumn("kafka_timestamp", F.col("ingested_at") - F.expr("INTERVAL 1 SECOND"))
            .drop("_copy", "_n")
            .repartitionByRange(max(1, wanted // 400_000), "ingested_at")
            .sortWithinPartitions("ingested_at")
        )
        grown.write.format("delta").mode("append").save(settings.lake_path("silver", table))
    return total


def old_lookup_seconds(spark: SparkSession, settings: Settings, batch: DataFrame) -> float:
    """The pre-issue-13 dedup: every event id of D's partitions against the batch's."""
    started = time.perf_counter()
    ids = batch.select(
        F.get_json_object(F.col("value").cast("string"), "$.event_id").alias("event_id")
    )
    for table in SILVER_TABLE_FOR.values():
        path = settings.lake_path("silver", table)
        existing = spark.read.format("delta").load(path).where(F.col("event_date") == DAY.date())
        ids.join(existing.select("event_id"), "event_id", "left_anti").count()
    return time.perf_counter() - started


def heap_mb(spark: SparkSession) -> int:
    """The driver JVM's heap in use after a full collection (what the stream keeps)."""
    runtime = spark.sparkContext._jvm.java.lang.Runtime.getRuntime()  # type: ignore[union-attr]  # py4j gateway: None only before the context starts
    spark.sparkContext._jvm.java.lang.System.gc()  # type: ignore[union-attr]  # py4j gateway: None only before the context starts
    return int((runtime.totalMemory() - runtime.freeMemory()) // 2**20)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="0,5000000,20000000,50000000")
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--root", default="/tmp/afl-bench")
    parser.add_argument("--repeat", type=int, default=3, help="Batches measured per size.")
    parser.add_argument(
        "--baseline-max", type=int, default=20_000_000, help="Skip the baseline above this size."
    )
    args = parser.parse_args()
    root = Path(args.root) / uuid.uuid4().hex[:8]
    settings = Settings.from_env().with_overrides(
        lake_root=str(root / "lake"),
        checkpoint_root=str(root / "checkpoints"),
        topic_prefix="bench.",
    )
    spark = get_spark(settings, app_name="afl-bench-silver-scaling")
    writer = IngestBatch(settings, query_name="bench_ingest")
    writer.query_id = "bench"
    # a first batch creates the tables; its rows are the sample the synthetic rows copy
    batch_ids = itertools.count()
    writer.write(
        kafka_batch(spark, 1, 60_000, BATCH_AT - timedelta(hours=19)), next(batch_ids), time.time()
    )
    for warm_up in range(2):  # compile once before anything is measured
        batch = kafka_batch(
            spark, 2 + warm_up, 5_000, BATCH_AT - timedelta(hours=18, minutes=-warm_up)
        )
        writer.write(batch, next(batch_ids), time.time())
    # A local checkpoint, not cache(): a cached read of a table is what Spark then serves
    # every later read of that path from, recomputing it whole after each append (the
    # tables' full size through the 2 GB driver: that, not the writer, made the restart
    # batch grow with the table and run out of heap in earlier runs of this benchmark).
    sample = {
        table: spark.read.format("delta")
        .load(settings.lake_path("silver", table))
        .localCheckpoint(eager=True)
        for table in SILVER_TABLE_FOR.values()
    }
    held = sum(frame.count() for frame in sample.values())
    print(f"sample: {held:,} silver rows", flush=True)
    for step, size in enumerate(int(s) for s in args.sizes.split(",")):
        started = time.perf_counter()
        held = grow_to(spark, settings, sample, size, held)
        grown_s = time.perf_counter() - started
        at = BATCH_AT + timedelta(minutes=step)
        batches = [
            kafka_batch(spark, 10 * step + r + 10, args.events, at + timedelta(seconds=10 * r))
            for r in range(args.repeat + 1)
        ]
        for batch in batches:
            batch.cache().count()
        baseline = (
            f"{old_lookup_seconds(spark, settings, batches[0]):.2f} s"
            if size <= args.baseline_max
            else "skipped"
        )
        times = []
        for batch in batches[:-1]:
            started = time.perf_counter()
            counts = writer.write(batch, next(batch_ids), time.time())
            times.append(time.perf_counter() - started)
            assert (
                counts.valid_rows == args.events - counts.duplicate_rows - counts.quarantined_rows
            )
        steps = ", ".join(f"{k} {v:.2f}" for k, v in writer.phases.items())
        # a restarted stream: nothing in memory (the old writer's recent events are gone,
        # as they are with its process), every table probed, the horizon loaded
        writer.writer.forget()
        writer = IngestBatch(settings, query_name="bench_ingest")
        writer.query_id = "bench"
        started = time.perf_counter()
        writer.write(batches[-1], next(batch_ids), time.time())
        restart_s = time.perf_counter() - started
        restart_steps = ", ".join(f"{k} {v:.2f}" for k, v in writer.phases.items())
        print(
            f"{size:>12,} rows on D (grown in {grown_s:.0f} s): silver batch of "
            f"{args.events:,}: median {statistics.median(times):.2f} s of "
            f"{', '.join(f'{t:.2f}' for t in times)} (last: {steps}); "
            f"first batch after a restart {restart_s:.2f} s ({restart_steps}); "
            f"baseline date-partition anti-join alone {baseline}; "
            f"driver heap used {heap_mb(spark):,} MB",
            flush=True,
        )
        for batch in batches:
            batch.unpersist()


if __name__ == "__main__":
    main()
