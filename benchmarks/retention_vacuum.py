"""What VACUUM costs a retention run per table: Spark's default listing vs retention's.

    .venv/bin/python -m benchmarks.retention_vacuum --commits 20,100 --repeats 3

No broker needed. For each size, a table of that many small appends (one Delta commit
each, like the stream's) has half its rows deleted, then, in the same run and session:

1. baseline: ``VACUUM ... RETAIN 168 HOURS`` as Spark runs it by default (its listing at
   ``spark.sql.sources.parallelPartitionDiscovery.parallelism``, 10,000 tasks);
2. ``pipelines.retention.run._vacuum``: the same statement with the listing at the
   session's shuffle partitions.

Median of ``--repeats`` runs each; nothing is old enough to be removed, so every run does
the same work.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from delta.tables import DeltaTable

from pipelines.retention.run import DELTA_SAFETY_HOURS, _vacuum
from pipelines.settings import Settings
from pipelines.spark.session import get_spark


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", default="20,100")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    settings = Settings.from_env()
    spark = get_spark(settings, app_name="bench-retention-vacuum")
    print("| commits | baseline: default listing (median) | retention's VACUUM (median) |")
    print("|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as root:
        for commits in (int(c) for c in args.commits.split(",")):
            path = str(Path(root) / f"t{commits}")
            for i in range(commits):
                spark.range(i * 10, i * 10 + 10).write.format("delta").mode("append").save(path)
            DeltaTable.forPath(spark, path).delete(f"id < {commits * 5}")

            def default(path: str = path) -> None:
                spark.sql(f"VACUUM delta.`{path}` RETAIN {DELTA_SAFETY_HOURS} HOURS").collect()

            def retention(path: str = path) -> None:
                _vacuum(spark, path, DELTA_SAFETY_HOURS, settings.spark_shuffle_partitions)

            times = {}
            for name, run in (("default", default), ("retention", retention)):
                seconds = []
                for _ in range(args.repeats):
                    started = time.perf_counter()
                    run()
                    seconds.append(time.perf_counter() - started)
                times[name] = statistics.median(seconds)
            print(f"| {commits} | {times['default']:.2f} s | {times['retention']:.2f} s |")


if __name__ == "__main__":
    main()
