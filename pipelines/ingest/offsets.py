"""Exactly-once, proven: bronze must hold every Kafka offset once, up to the committed end.

The producer SDK is idempotent (not transactional), so each partition's offsets are
contiguous: any hole in bronze is a lost record, any repeat a duplicate — unless a ledger
says where it went: a subject erasure (ops.erased_records, per record) or a retention run's
bronze expiry (ops.bronze_expiry, per range of offsets).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from confluent_kafka import Consumer, TopicPartition
from pyspark.sql import SparkSession, Window
from pyspark.sql import functions as F

from pipelines.errors import AflError
from pipelines.ingest.batch import INGEST_QUERY
from pipelines.ingest.checkpoint import committed_offsets
from pipelines.settings import Settings
from pipelines.spark.tables import BRONZE_AGENT_EVENTS, BRONZE_EXPIRY, ERASED_RECORDS, read_table

Range = tuple[int, int]  # first and last offset, inclusive


@dataclass
class PartitionReport:
    topic: str
    partition: int
    expected_from: int
    committed_end: int  # exclusive
    rows: int
    gaps: list[tuple[int, int]] = field(default_factory=list)  # inclusive ranges missing
    repeats: list[tuple[int, int]] = field(default_factory=list)  # (offset, times seen)
    beyond_commit: int = 0
    expired: int = 0  # offsets the ledger says a retention run deleted

    @property
    def ok(self) -> bool:
        return not self.gaps and not self.repeats

    def describe(self) -> str:
        if self.committed_end <= self.expected_from and not self.rows:
            return f"ok     {self.topic}[{self.partition}] no records"
        span = f"offsets {self.expected_from}..{self.committed_end - 1}"
        status = "ok" if self.ok else "BROKEN"
        text = f"{status:6} {self.topic}[{self.partition}] {span}: {self.rows:,} rows"
        if self.gaps:
            shown = ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in self.gaps[:10])
            missing = sum(b - a + 1 for a, b in self.gaps)
            text += f"; {missing} missing: {shown}"
        if self.repeats:
            shown = ", ".join(f"{o} x{n}" for o, n in self.repeats[:10])
            text += f"; {len(self.repeats)} repeated: {shown}"
        if self.expired:
            text += f"; {self.expired:,} expired by retention (ops.bronze_expiry)"
        if self.beyond_commit:
            text += f"; {self.beyond_commit} beyond the checkpoint (next batch, not yet committed)"
        return text


def verify_offsets(
    spark: SparkSession, settings: Settings, bronze_path: str | None = None
) -> list[PartitionReport]:
    """One report per topic partition the bronze query has committed.

    A record a subject erasure deleted is accounted by its ledger (ops.erased_records), a
    range of offsets a retention run expired by its (ops.bronze_expiry)."""
    committed = committed_offsets(settings.checkpoint_path(INGEST_QUERY))
    if not committed:
        raise AflError("the bronze query has committed nothing yet; run `afl stream` first")
    bronze = (
        spark.read.format("delta")
        .load(bronze_path or BRONZE_AGENT_EVENTS.path(settings))
        .select("topic", "partition", "offset")
    )
    erased = read_table(spark, settings, ERASED_RECORDS)
    if erased is not None:
        bronze = bronze.unionByName(
            erased.where(F.col("table_name") == BRONZE_AGENT_EVENTS.qualified_name).select(
                "topic", "partition", "offset"
            )
        )
    stats = {
        (r["topic"], r["partition"]): r
        for r in bronze.groupBy("topic", "partition")
        .agg(F.count("*").alias("rows"), F.min("offset").alias("lo"), F.max("offset").alias("hi"))
        .collect()
    }
    order = Window.partitionBy("topic", "partition").orderBy("offset")
    holes = (
        bronze.select("topic", "partition", "offset")
        .withColumn("prev", F.lag("offset").over(order))
        .where(F.col("offset") - F.col("prev") > 1)
        .select(
            "topic", "partition", (F.col("prev") + 1).alias("a"), (F.col("offset") - 1).alias("b")
        )
        .collect()
    )
    repeated = bronze.groupBy("topic", "partition", "offset").count().where("count > 1").collect()
    low = _low_watermarks(settings, committed)
    expired = expired_ranges(spark, settings)
    reports = []
    for topic, parts in sorted(committed.items()):
        for partition, end in sorted(parts.items()):
            s = stats.get((topic, partition))
            start = min(low.get((topic, partition), 0), s["lo"] if s else end)
            report = PartitionReport(topic, partition, start, end, s["rows"] if s else 0)
            if s is None:
                if end > start:
                    report.gaps.append((start, end - 1))
            else:
                if s["lo"] > start:
                    report.gaps.append((start, s["lo"] - 1))
                report.gaps += sorted(
                    (h["a"], min(h["b"], end - 1))
                    for h in holes
                    if (h["topic"], h["partition"]) == (topic, partition) and h["a"] < end
                )
                if s["hi"] < end - 1:
                    report.gaps.append((s["hi"] + 1, end - 1))
                report.repeats = sorted(
                    (r["offset"], r["count"])
                    for r in repeated
                    if (r["topic"], r["partition"]) == (topic, partition)
                )
                report.beyond_commit = max(0, s["hi"] - (end - 1))
            ranges = expired.get((topic, partition), [])
            missing = report.gaps
            report.gaps = outside(missing, ranges)
            report.expired = sum(b - a + 1 for a, b in missing) - sum(
                b - a + 1 for a, b in report.gaps
            )
            reports.append(report)
    return reports


def expired_ranges(spark: SparkSession, settings: Settings) -> dict[tuple[str, int], list[Range]]:
    """Per topic partition, the offset ranges retention runs deleted from bronze."""
    ledger = read_table(spark, settings, BRONZE_EXPIRY)
    found: dict[tuple[str, int], list[Range]] = {}
    if ledger is None:
        return found
    for r in ledger.orderBy("topic", "partition", "first_offset").collect():
        found.setdefault((r["topic"], r["partition"]), []).append(
            (r["first_offset"], r["last_offset"])
        )
    return found


def outside(gaps: list[Range], ranges: list[Range]) -> list[Range]:
    """The parts of ``gaps`` no range in ``ranges`` covers (all inclusive)."""
    left = list(gaps)
    for lo, hi in ranges:
        cut: list[Range] = []
        for a, b in left:
            if b < lo or a > hi:
                cut.append((a, b))
                continue
            if a < lo:
                cut.append((a, lo - 1))
            if b > hi:
                cut.append((hi + 1, b))
        left = cut
    return sorted(left)


def _low_watermarks(
    settings: Settings, committed: dict[str, dict[int, int]]
) -> dict[tuple[str, int], int]:
    """Earliest offsets Kafka still holds: a partition must be complete from there."""
    consumer = Consumer(
        {"bootstrap.servers": settings.kafka_bootstrap_servers, "group.id": "afl-verify-offsets"}
    )
    try:
        found = {}
        for topic, parts in committed.items():
            for partition in parts:
                lo, _ = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)
                found[(topic, partition)] = lo
        return found
    finally:
        consumer.close()
