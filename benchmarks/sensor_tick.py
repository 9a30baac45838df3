"""What one tick of Dagster's observer costs per table as the table grows: delta-rs vs Spark.

    .venv/bin/python -m benchmarks.sensor_tick --batch-rows 25000 --stops 10,50,200

No broker needed. Appends batches of synthetic silver rows (one Delta commit each, spread
over three event dates, like the stream's micro-batches) to one table with Spark and, at
each stop (a number of appends so far), times in the same run:

1. baseline: what the observer did before issue 14, in the sensor's process: a Spark
   ``count()`` and ``max(ingested_at)`` over the table and its version from the history
   (with a warm session: the first tick also pays a JVM start);
2. ``table_freshness`` (pipelines/delta_log.py): the Delta log read by delta-rs.

Both answers are compared: rows and the newest ingested_at must agree. At the last stop,
each is also timed cold, in a fresh process, as a sensor tick in a new code-server process
pays it: Python start, imports and (for the baseline) the JVM and Spark session.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from delta.tables import DeltaTable
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from pipelines.delta_log import table_freshness
from pipelines.settings import Settings
from pipelines.spark.io import one_row
from pipelines.spark.session import get_spark
from pipelines.spark.tables import silver_spec

SPEC = silver_spec("outcome")
Answer = TypeVar("Answer")
ROUNDS = 3


def append_batch(spark: SparkSession, path: str, batch: int, rows: int) -> None:
    started = datetime(2026, 11, 20, tzinfo=UTC).timestamp() + batch * 5
    frame = spark.range(rows).select(
        F.concat(F.lit(f"b{batch}-"), F.col("id").cast("string")).alias("event_id"),
        F.lit("tenant-a").alias("tenant_id"),
        F.concat(F.lit("session-"), (F.col("id") % 997).cast("string")).alias("session_id"),
        F.when(F.col("id") % 10 == 0, "FAILURE").otherwise("SUCCESS").alias("status"),
        (F.col("id") % 5000).cast("long").alias("latency_ms"),
        (F.col("id") % 3000).cast("long").alias("tokens"),
        (F.rand(batch) * 0.02).alias("cost_usd"),
        F.timestamp_seconds(F.lit(started) + F.col("id") / rows).alias("occurred_at"),
        F.timestamp_seconds(F.lit(started + 2)).alias("ingested_at"),
        F.element_at(
            F.array(F.lit("2026-11-18"), F.lit("2026-11-19"), F.lit("2026-11-20")),
            (F.col("id") % 3 + 1).cast("int"),
        )
        .cast("date")
        .alias("event_date"),
    )
    frame.repartition(3, "event_date").write.format("delta").mode("append").partitionBy(
        "event_date"
    ).save(path)


def spark_tick(spark: SparkSession, path: str) -> tuple[int, datetime]:
    table = DeltaTable.forPath(spark, path)
    stats = table.toDF().agg(F.count("*").alias("rows"), F.max("ingested_at").alias("latest"))
    row = one_row(stats)
    table.history(1).first()
    return row["rows"], row["latest"]


def timed(function: Callable[..., Answer], *args: object) -> tuple[float, Answer]:
    runs = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        answer = function(*args)
        runs.append(time.perf_counter() - started)
    return statistics.median(runs), answer


def one_tick(how: str, lake_root: str) -> None:
    """What a cold sensor process does for this table: answer once, print the row count."""
    settings = Settings.from_env().with_overrides(lake_root=lake_root)
    if how == "spark":
        spark = get_spark(settings, app_name="afl-bench-sensor-cold")
        print(spark_tick(spark, SPEC.path(settings))[0])
    else:
        print(table_freshness(settings, SPEC).rows)


def cold(how: str, lake_root: str) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "benchmarks.sensor_tick", "--one-tick", how, "--root", lake_root],
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch-rows", type=int, default=25_000)
    parser.add_argument("--stops", default="10,50,200")
    parser.add_argument("--root", default="/tmp/afl-bench")
    parser.add_argument("--one-tick", choices=("spark", "delta-rs"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one_tick:
        one_tick(args.one_tick, args.root)
        return
    stops = sorted(int(s) for s in args.stops.split(","))
    root = Path(args.root) / uuid.uuid4().hex[:8] / "sensor"
    settings = Settings.from_env().with_overrides(
        lake_root=str(root / "lake"), checkpoint_root=str(root / "checkpoints")
    )
    spark = get_spark(settings, app_name="afl-bench-sensor")
    path = SPEC.path(settings)
    print("| appends | rows | files | spark tick (s) | delta-rs tick (s) | speed-up |")
    print("|---:|---:|---:|---:|---:|---:|")
    done = 0
    for stop in stops:
        while done < stop:
            append_batch(spark, path, done, args.batch_rows)
            done += 1
        spark_s, (rows, latest) = timed(spark_tick, spark, path)
        delta_rs_s, freshness = timed(table_freshness, settings, SPEC)
        assert freshness.rows == rows, (freshness.rows, rows)
        assert freshness.latest_ingested_at == latest, (freshness.latest_ingested_at, latest)
        files = one_row(DeltaTable.forPath(spark, path).detail())["numFiles"]
        print(
            f"| {done} | {rows:,} | {files} | {spark_s:.2f} | {delta_rs_s:.3f} "
            f"| {spark_s / delta_rs_s:.0f}x |",
            flush=True,
        )
    spark.stop()
    spark_cold = statistics.median(cold("spark", settings.lake_root) for _ in range(ROUNDS))
    delta_rs_cold = statistics.median(cold("delta-rs", settings.lake_root) for _ in range(ROUNDS))
    print(
        f"cold, in a fresh process ({done} appends): spark {spark_cold:.1f} s, "
        f"delta-rs {delta_rs_cold:.1f} s",
        flush=True,
    )


if __name__ == "__main__":
    main()
