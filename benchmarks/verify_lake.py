"""What `afl verify lake` costs, beside the cheapest possible read of the same tables.

    .venv/bin/python -m benchmarks.verify_lake --events 1000000

Needs the local broker (`afl infra up`). Produces --events records (1% bad, 1/6 of them
copies) to fresh topics, catches the stream up, then times, in the same run:

1. baseline: counting every row of bronze, the six silver tables, the restricted
   companions and quarantine (each table read once, nothing joined);
2. `verify_lake`, check by check.
"""

from __future__ import annotations

import argparse
import time
import uuid
from pathlib import Path

from delta.tables import DeltaTable

from benchmarks.ingest_throughput import END, fresh
from pipelines.ingest.stream import CATCH_UP, run_ingest
from pipelines.ingest.verify import verify_lake
from pipelines.producer.sdk import AgentEventProducer
from pipelines.producer.traffic import TrafficGenerator, send_traffic
from pipelines.settings import Settings
from pipelines.spark.session import get_spark
from pipelines.spark.tables import all_specs


def count_every_table(spark, settings: Settings) -> tuple[float, int]:
    started = time.perf_counter()
    rows = 0
    for spec in all_specs():
        path = spec.path(settings)
        if spec.database in ("bronze", "silver") and DeltaTable.isDeltaTable(spark, path):
            rows += spark.read.format("delta").load(path).count()
    return time.perf_counter() - started, rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--root", default="/tmp/afl-bench")
    args = parser.parse_args()
    base = Settings.from_env()
    spark = get_spark(base, app_name="afl-bench-verify")
    settings = fresh(base, Path(args.root) / uuid.uuid4().hex[:8], "verify")
    print(f"producing {args.events:,} records ...", flush=True)
    generator = TrafficGenerator(
        seed=1, events=args.events, end_time=END, days_back=3, bad_fraction=0.01
    )
    with AgentEventProducer(settings) as producer:
        send_traffic(producer, generator)
    started = time.perf_counter()
    run_ingest(spark, settings, CATCH_UP)
    print(f"catch-up: {time.perf_counter() - started:.1f} s", flush=True)

    count_every_table(spark, settings)  # warm: Delta snapshots loaded once
    baseline_s, rows = count_every_table(spark, settings)
    print(f"baseline: count every bronze and silver table ({rows:,} rows): {baseline_s:.1f} s")
    started = time.perf_counter()
    checks = verify_lake(spark, settings)
    total = time.perf_counter() - started
    for check in checks:
        print(f"  {check.describe()}")
    print(f"verify_lake: {total:.1f} s ({total / baseline_s:.1f}x the baseline)", flush=True)
    assert all(c.ok for c in checks)


if __name__ == "__main__":
    main()
