"""Soak: the continuous stream for an hour at a steady rate; memory and freshness must not drift.

    .venv/bin/python -m benchmarks.stream_soak --minutes 60 --rate 2000

Needs the local broker (`afl infra up`). A producer on this machine sends live traffic at
--rate events/s for --minutes into fresh topics; the stream runs in this process on the
default driver. Every 10 s the driver's resident memory (the JVM and this Python process)
is sampled. At the end, per 10-minute window of production: p50/p95 freshness (produced ->
visible in silver) and the mean driver RSS; the verdicts the issue asks for (RSS of the
last 10 minutes within 1.2x of minutes 10-20, p95 within 1.5x); then `afl verify lake`.
Where a drift comes from: per window, the mean seconds of each step of the batch (from the
batch writer's log, kept in <root>/batches.log) and the JVM's GC pauses (<root>/gc.log).
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import uuid
from collections import defaultdict
from datetime import datetime
from pathlib import Path

from pyspark.sql import functions as F

from benchmarks.ingest_throughput import fresh, lag_stats, lags, stream_while_producing
from pipelines.ingest.verify import verify_lake
from pipelines.settings import Settings
from pipelines.spark.session import get_spark


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=int, default=60)
    parser.add_argument("--rate", type=int, default=2000)
    parser.add_argument("--root", default="/tmp/afl-bench")
    args = parser.parse_args()
    base = Settings.from_env()
    root = Path(args.root) / uuid.uuid4().hex[:8]
    root.mkdir(parents=True, exist_ok=True)
    batch_log = logging.FileHandler(root / "batches.log")
    batch_log.setFormatter(logging.Formatter("%(created)f %(message)s"))
    writer_log = logging.getLogger("pipelines.ingest.batch")
    writer_log.addHandler(batch_log)
    writer_log.setLevel(logging.INFO)
    gc_log = root / "gc.log"
    spark = get_spark(
        base,
        app_name="afl-bench-soak",
        extra_conf={"spark.driver.extraJavaOptions": f"-Xlog:gc:file={gc_log}:time"},
    )
    jvm_pid = spark.sparkContext._gateway.proc.pid  # type: ignore[union-attr]  # py4j gateway: None only before the context starts
    settings = fresh(base, root, "soak")
    samples: list[tuple[float, float, float]] = []  # (seconds in, JVM MB, Python MB)

    def sample(elapsed: float) -> None:
        jvm, python = rss_mb(jvm_pid), rss_mb(os.getpid())
        samples.append((elapsed, jvm, python))
        if len(samples) % 6 == 0:
            print(f"  {elapsed / 60:5.1f} min: driver JVM {jvm:,.0f} MB, Python {python:,.0f} MB")

    print(f"soak: {args.rate}/s for {args.minutes} min ...", flush=True)
    started = stream_while_producing(spark, settings, args.rate, args.minutes * 60, sample)
    by_window = (
        lags(spark, settings)
        .withColumn("window", F.floor((F.col("kafka_ts") - started) / 600).cast("int"))
        .where(F.col("window") >= 0)
    )
    windows = {}
    for w in range(args.minutes // 10):
        stats = lag_stats(by_window.where(F.col("window") == w))
        memory = [jvm + py for at, jvm, py in samples if w * 600 <= at < (w + 1) * 600]
        rss = sum(memory) / len(memory) if memory else 0.0
        windows[w] = (stats, rss)
        print(
            f"minutes {w * 10:2d}-{w * 10 + 10:2d}: {stats['events']:,} events, "
            f"p50 {stats['p50']:.2f}s, p95 {stats['p95']:.2f}s, max {stats['max']:.2f}s; "
            f"driver RSS {rss:,.0f} MB",
            flush=True,
        )
    print_steps(root / "batches.log", gc_log, started, args.minutes // 10)
    if len(windows) >= 3:
        (early, early_rss), (late, late_rss) = windows[1], windows[len(windows) - 1]
        print(
            f"RSS last 10 min / minutes 10-20: {late_rss / early_rss:.2f}x (<= 1.2x); "
            f"p95 last 10 min / minutes 10-20: {late['p95'] / early['p95']:.2f}x (<= 1.5x)",
            flush=True,
        )
    for check in verify_lake(spark, settings):
        print(check.describe(), flush=True)


_STEP = re.compile(r"(\w+) ([\d.]+)s")
_PAUSE = re.compile(r"^\[([^\]]+)\].*Pause.* ([\d.]+)ms$")


def print_steps(batch_log: Path, gc_log: Path, started: float, windows: int) -> None:
    """Per 10-minute window: batches, mean seconds per step, and GC pause seconds."""
    steps: dict[int, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for line in batch_log.read_text().splitlines():
        at, _, message = line.partition(" ")
        window = int((float(at) - started) // 600)
        inside = message[message.rfind("(") + 1 : -1]
        total = 0.0
        for name, seconds in _STEP.findall(inside):
            steps[window][name].append(float(seconds))
            total += float(seconds)
        steps[window]["total"].append(total)
    paused: dict[int, float] = defaultdict(float)
    if gc_log.exists():
        for line in gc_log.read_text().splitlines():
            found = _PAUSE.match(line)
            if found:
                when = datetime.strptime(found[1], "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()
                paused[int((when - started) // 600)] += float(found[2]) / 1000
    for w in range(windows):
        means = ", ".join(f"{k} {sum(v) / len(v):.2f}" for k, v in steps[w].items())
        print(
            f"minutes {w * 10:2d}-{w * 10 + 10:2d}: {len(steps[w]['total'])} batches; "
            f"mean s: {means}; GC pauses {paused[w]:.1f} s",
            flush=True,
        )


if __name__ == "__main__":
    main()
