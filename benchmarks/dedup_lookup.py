"""The dedup lookup of one batch as the recent events held in memory grow.

    .venv/bin/python -m benchmarks.dedup_lookup --sizes 300000,900000,1800000,3600000

A running stream keeps the rows it landed within the dedup horizon (``RecentLanded``; a
15-minute horizon at 2,000 events/s is 1.8 M rows). Each batch asks which of its keys
already landed. Three ways, side by side on the same frames, for a 10,000-event batch of
new keys and for the same batch carrying 20 copies of recently landed events:

- baseline: every frame scanned, matched on (event_type, event_id) (before c9ec06b)
- hash: every frame scanned, matched on the 64-bit key hash first, then on the keys
- index (the stream's way): only the frames whose driver-side key hashes hold one of the
  batch's keys are scanned, matched as in ``hash``

Median of 5 per figure, after one warm-up.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import datetime, timedelta

import numpy as np
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from pipelines.ingest.isolation import release
from pipelines.ingest.recent import RecentLanded, key_hashes
from pipelines.settings import Settings
from pipelines.spark.session import get_spark
from pipelines.transforms.dedup import candidates, key_hash

TYPES = ("feedback", "interaction", "outcome", "policy_decision", "tool_call", "evaluation")
KEYS = ("event_type", "event_id")
START = datetime(2026, 11, 22, 9, 0)
BATCH_ROWS = 12_000  # one landed micro-batch: ~6 s at 2,000 events/s


def landed_batch(spark, number: int, rows: int = BATCH_ROWS) -> DataFrame:
    """``rows`` landed rows of random keys, sent at batch ``number``'s time, materialized."""
    kinds = F.array(*[F.lit(t) for t in TYPES])
    return (
        spark.range(rows)
        .select(
            F.element_at(kinds, (F.col("id") % len(TYPES) + 1).cast("int")).alias("event_type"),
            F.expr("uuid()").alias("event_id"),
            F.lit("agent.events").alias("kafka_topic"),
            (F.col("id") % 6).cast("int").alias("kafka_partition"),
            (F.col("id") + number * rows).alias("kafka_offset"),
            F.lit(START + timedelta(seconds=6 * number)).cast("timestamp").alias("kafka_timestamp"),
        )
        .withColumn("key_hash", key_hash(KEYS))
        .localCheckpoint(eager=True)
    )


def timed(run: Callable[[], object]) -> float:
    run()
    times = []
    for _ in range(5):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="300000,900000,1800000,3600000")
    args = parser.parse_args()
    spark = get_spark(Settings.from_env(), app_name="afl-bench-dedup-lookup")
    recent = RecentLanded()
    since = {t: START for t in TYPES}
    recent.covered_from.update(since)
    batches = 0
    print("rows held | batch | baseline | hash | index (frames scanned)", flush=True)
    for size in (int(s) for s in args.sizes.split(",")):
        while batches * BATCH_ROWS < size:
            rows = landed_batch(spark, batches)
            recent.add(rows, START + timedelta(seconds=6 * batches), rows, key_hashes(rows))
            batches += 1
        fresh = landed_batch(spark, 100_000, 10_000)
        newest = (recent._small or recent._merged)[-1].rows  # retries of the newest events
        copies = newest.limit(20).localCheckpoint(eager=True)
        for label, batch in (("new keys", fresh), ("20 copies", fresh.unionByName(copies))):
            found, figures, scanned = measure(spark, recent, since, batch)
            print(
                f"{batches * BATCH_ROWS:>9,} | {label} ({found} found) | "
                + " | ".join(f"{f:.3f} s" for f in figures)
                + f" ({scanned} of {_frames(recent)})",
                flush=True,
            )
        release(fresh)
        release(copies)


def measure(
    spark: SparkSession,
    recent: RecentLanded,
    since: dict[str, datetime],
    batch: DataFrame,
) -> tuple[int, list[float], int]:
    """(copies found, seconds of baseline / hash / index, frames the index scanned)."""
    keys = key_hashes(batch)
    everything = np.concatenate([f.hashes for f in (*recent._merged, *recent._small)])
    scanned_all = recent.lookup(spark, since, _unused, everything)

    def baseline() -> int:
        return candidates(scanned_all, batch, KEYS).count()

    def hashed() -> int:
        return candidates(scanned_all, batch, KEYS, "key_hash").count()

    def index() -> int:
        found = recent.lookup(spark, since, _unused, keys)
        return candidates(found, batch, KEYS, "key_hash").count()

    found = index()
    assert found == baseline() == hashed(), "the three lookups must agree"
    figures = [timed(baseline), timed(hashed), timed(index)]
    return found, figures, len(recent.frames_for(keys))


def _unused(event_type: str, low: datetime, until: datetime | None) -> DataFrame:
    raise AssertionError("every window is held in memory")


def _frames(recent: RecentLanded) -> int:
    return len(recent._merged) + len(recent._small)


if __name__ == "__main__":
    main()
