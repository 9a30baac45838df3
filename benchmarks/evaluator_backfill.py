"""Evaluator backfill over 30 days at 100,000 events a day, beside a one-pass baseline.

    .venv/bin/python -m benchmarks.evaluator_backfill --days 30 --events-per-day 100000

The traffic generator produces one day of 100,000 events; its feedback events, typed as the
stream types them, are replicated across 30 days (turn ids made unique per day) straight
into silver.feedback. Then, in the same run:

- baseline: the evaluator's logic over all 30 days in one Spark pass, written once
- backfill: `backfill(helpfulness@1)` day by day — per-day replace, lineage, Delta versions
"""

from __future__ import annotations

import argparse
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from pipelines.contracts.registry import contract_set
from pipelines.evaluators.backfill import backfill
from pipelines.evaluators.registry import get_evaluator
from pipelines.ingest.landing import ingest_rules
from pipelines.producer.traffic import TrafficGenerator
from pipelines.settings import Settings
from pipelines.spark.session import get_spark
from pipelines.spark.tables import silver_spec
from pipelines.transforms.schemas import BRONZE_SCHEMA
from pipelines.transforms.silver import classify, typed_events

FIRST = date(2026, 10, 1)


def seed_silver(spark: SparkSession, settings: Settings, days: int, per_day: int) -> int:
    """One day of generated feedback, typed like the stream does, copied across ``days``."""
    end = datetime(2026, 10, 2, tzinfo=UTC)
    records: list[tuple[object, ...]] = [
        (
            r.key,
            r.value,
            [],
            r.topic,
            0,
            i,
            end.replace(tzinfo=None),
            end.replace(tzinfo=None),
            end.date(),
        )
        for i, r in enumerate(TrafficGenerator(seed=3, events=per_day, end_time=end, days_back=1))
        if r.event_type == "feedback"
    ]
    bronze = spark.createDataFrame(records, BRONZE_SCHEMA)
    rules = ingest_rules(settings)
    one_day = typed_events(classify(bronze, rules), [contract_set().get("feedback", 1)], rules)
    one_day = one_day.drop("_typing_problem").withColumn("event_date", F.lit(FIRST)).persist()
    copies = [
        one_day.withColumns(
            {
                "event_date": F.lit(FIRST + timedelta(days=d)),
                "turn_id": F.concat(F.col("turn_id"), F.lit(f"-d{d}")),
                "event_id": F.concat(F.col("event_id"), F.lit(f"-d{d}")),
            }
        )
        for d in range(days)
    ]
    everything = copies[0]
    for copy in copies[1:]:
        everything = everything.unionByName(copy)
    everything.write.format("delta").partitionBy("event_date").save(
        silver_spec("feedback").path(settings)
    )
    return one_day.count() * days


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--events-per-day", type=int, default=100_000)
    args = parser.parse_args()
    root = Path("/tmp/afl-bench-evaluators") / uuid.uuid4().hex[:8]
    settings = Settings.from_env().with_overrides(lake_root=str(root / "lake"))
    spark = get_spark(settings, app_name="afl-bench-evaluators")
    started = time.perf_counter()
    rows = seed_silver(spark, settings, args.days, args.events_per_day)
    print(
        f"seeded {rows:,} feedback rows ({args.days} days x {args.events_per_day:,} events/day) "
        f"in {time.perf_counter() - started:.1f}s"
    )
    last = FIRST + timedelta(days=args.days - 1)

    evaluator = get_evaluator("helpfulness@1")
    started = time.perf_counter()
    frame = spark.read.format("delta").load(silver_spec("feedback").path(settings))
    units = evaluator.evaluate({"feedback": frame})
    units.write.format("delta").mode("overwrite").save(str(root / "baseline"))
    base_s = time.perf_counter() - started
    base_units = spark.read.format("delta").load(str(root / "baseline")).count()
    print(
        f"baseline one pass: {base_s:.1f}s for {base_units:,} units ({base_units / base_s:,.0f}/s)"
    )

    started = time.perf_counter()
    result = backfill(spark, settings, "helpfulness@1", FIRST, last)
    back_s = time.perf_counter() - started
    print(
        f"backfill {args.days} days: {back_s:.1f}s for {result.units:,} units "
        f"({result.units / back_s:,.0f}/s, {back_s / args.days:.2f}s per day)"
    )
    print(f"generated at {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")


if __name__ == "__main__":
    main()
