"""Retention, enforced: rows past their class's retention are deleted from every table that
holds event data, legal holds kept, files removed after Delta's safety window, each run in
a ledger.

- A row's expiry is its own ``retention_until`` (silver, restricted companions, quarantine,
  gold, evaluator scores); the legacy export, which has none, expires from ``created_at``
  by its table's class.
- The stream keeps running: its appends are blind, so under Delta's WriteSerializable
  isolation they never conflict with a delete; a delete only takes rows the run counted
  (``ingested_at`` no later than the newest it saw), so the ledger is exact.
- Deleted rows are tombstoned first; VACUUM (of each table the run deleted from) removes
  their files once older than the window (default 7 days, Delta's own: readers and time
  travel inside it keep working).
- Bronze, the raw records, expires by whole ingest days once past the retention of the
  rawest data it holds (restricted: 90 days): a partition delete, a prefix of every Kafka
  partition's offsets. It runs after every other table, so ``ops.bronze_expiry`` can say
  how many of the deleted records had no row left (copies, or rows deleted before):
  ``afl verify`` accounts offsets, traces and copies with it (docs/architecture.md,
  "Retention").
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import reduce

from delta.tables import DeltaTable
from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from pipelines.errors import AflError
from pipelines.governance.classification import retention_until
from pipelines.retention.holds import LegalHold, held_record, load_holds, under_hold
from pipelines.settings import Settings
from pipelines.spark.io import delta_append, delta_version, one_row
from pipelines.spark.tables import (
    BRONZE_AGENT_EVENTS,
    BRONZE_EXPIRY,
    QUARANTINE,
    RETENTION_BATCHES,
    RETENTION_RUNS,
    SILVER_TABLE_FOR,
    TableSpec,
    all_specs,
    ensure_table,
    silver_spec,
)

# Tables without a retention_until column: the column their age counts from.
AGE_FROM = {"legacy.feedback_export": "created_at"}
DELTA_SAFETY_HOURS = 168  # Delta's default: VACUUM never removes younger files
RECORD = ("topic", "partition", "offset")


@dataclass(frozen=True)
class RetentionOptions:
    """``now``: the cutoff (default: the run's start, UTC); ``vacuum_hours`` below Delta's
    168 only for drills on a lake nobody else reads."""

    dry_run: bool = False
    now: datetime | None = None
    vacuum_hours: int = DELTA_SAFETY_HOURS


@dataclass(frozen=True)
class TableRetention:
    table: str
    expired: int  # past retention
    held: int  # of those, kept by a legal hold
    deleted: int
    version_before: int
    version_after: int
    vacuumed: bool


@dataclass(frozen=True)
class RetentionReport:
    run_id: str
    cutoff: datetime
    dry_run: bool
    holds: tuple[LegalHold, ...]
    tables: list[TableRetention] = field(default_factory=list)

    @property
    def deleted(self) -> int:
        return sum(t.deleted for t in self.tables)

    def lines(self) -> list[str]:
        verb = "would delete" if self.dry_run else "deleted"
        out = [
            f"{t.table:34} {t.expired:>9,} expired, {t.held:>7,} held, {verb} {t.deleted:>9,}"
            + (
                f" (v{t.version_before} -> v{t.version_after})"
                if t.deleted and not self.dry_run
                else ""
            )
            for t in self.tables
        ]
        held = f"; {len(self.holds)} legal hold(s)" if self.holds else ""
        out.append(
            f"retention {'dry run' if self.dry_run else 'run'} {self.run_id} at cutoff "
            f"{self.cutoff:%Y-%m-%d %H:%M:%S} UTC: {verb} {self.deleted:,} rows in "
            f"{len(self.tables)} tables{held}"
        )
        return out


def expiry(spec: TableSpec, columns: list[str], cutoff: datetime) -> Column | None:
    """Rows of this table past their retention at ``cutoff``; None if it holds no event data."""
    moment = F.lit(cutoff.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")).cast("timestamp")
    if "retention_until" in columns:
        return F.col("retention_until") < moment
    base = AGE_FROM.get(spec.qualified_name)
    if base is not None:
        return retention_until(F.col(base), spec.properties["afl.classification"]) < moment
    return None


def run_retention(
    spark: SparkSession,
    settings: Settings,
    options: RetentionOptions | None = None,
    progress: Callable[[str], None] | None = None,
) -> RetentionReport:
    """Delete what has expired in every table of the lake (or count it: dry run)."""
    options = options or RetentionOptions()
    holds = load_holds(settings.legal_holds)
    started = datetime.now(UTC)
    report = RetentionReport(uuid.uuid4().hex[:12], options.now or started, options.dry_run, holds)
    batches: list[tuple[str, int | None, int]] = []
    partitions = settings.spark_shuffle_partitions
    ranges: list[tuple[str, int, int, int, int]] = []
    for spec in all_specs():
        if spec.database == "ops" or spec is BRONZE_AGENT_EVENTS:
            continue  # the ledgers and run records: no event data; bronze comes last
        path = spec.path(settings)
        if not DeltaTable.isDeltaTable(spark, path):
            continue
        table = spark.read.format("delta").load(path)
        rule = expiry(spec, table.columns, report.cutoff)
        if rule is None:
            continue
        for attempt in range(1, 4):
            try:
                result, deleted_batches = _expire(
                    spark, spec, path, table, rule, holds, options, partitions
                )
                break
            except Exception as exc:  # another writer's delete or rewrite won: count again
                # Delta's ConcurrentAppendException and kin reach Python wrapped by py4j
                if "Concurrent" not in f"{type(exc).__name__} {str(exc)[:300]}" or attempt == 3:
                    raise
                table = spark.read.format("delta").load(path)
        report.tables.append(result)
        batches += [(spec.qualified_name, b, n) for b, n in deleted_batches]
        if progress:
            progress(report.lines()[len(report.tables) - 1])
    path = BRONZE_AGENT_EVENTS.path(settings)
    if DeltaTable.isDeltaTable(spark, path):
        result, ranges = _expire_bronze(spark, settings, path, holds, options, report.cutoff)
        report.tables.append(result)
        if progress:
            progress(report.lines()[len(report.tables) - 1])
    _record(spark, settings, report, started, batches, ranges)
    return report


def bronze_expiry(cutoff: datetime) -> Column:
    """Bronze records past retention at ``cutoff``: whole ingest days, each kept until its
    last record is ``afl.retention_days`` old (a partition predicate: Delta drops files)."""
    days = int(BRONZE_AGENT_EVENTS.properties["afl.retention_days"])
    last = cutoff.astimezone(UTC).date() - timedelta(days=days + 1)
    return F.col("ingest_date") <= F.lit(last)


def _expire_bronze(
    spark: SparkSession,
    settings: Settings,
    path: str,
    holds: tuple[LegalHold, ...],
    options: RetentionOptions,
    cutoff: datetime,
) -> tuple[TableRetention, list[tuple[str, int, int, int, int]]]:
    """Expire bronze's old ingest days; the ranges deleted, with how many had no row."""
    before = delta_version(spark, path)
    bronze = spark.read.format("delta").load(path)
    rule = bronze_expiry(cutoff)
    kept = held_record(holds, F.col("value"))
    expired = bronze.where(rule).select(*RECORD, "kafka_timestamp", kept.alias("held"))
    counts = one_row(
        expired.agg(F.count(F.lit(1)).alias("n"), F.sum(F.col("held").cast("long")).alias("k"))
    )
    n, held = int(counts["n"]), int(counts["k"] or 0)
    doomed = expired.where(~F.col("held")).drop("held")
    ranges = _offset_ranges(doomed, _rows_of(spark, settings, doomed)) if n - held else []
    after = before
    if not options.dry_run and n - held:
        DeltaTable.forPath(spark, path).delete(rule & ~kept)
        commit = one_row(DeltaTable.forPath(spark, path).history(1))
        after, metrics = int(commit["version"]), commit["operationMetrics"]
        if int(metrics.get("numDeletedRows", n - held)) != n - held:
            raise AflError(
                f"bronze.agent_events: retention counted {n - held:,} records but Delta "
                f"deleted {metrics['numDeletedRows']}"
            )
        _vacuum(spark, path, options.vacuum_hours, settings.spark_shuffle_partitions)
    deleted = 0 if options.dry_run else n - held
    result = TableRetention(
        BRONZE_AGENT_EVENTS.qualified_name, n, held, deleted, before, after, deleted > 0
    )
    return result, [] if options.dry_run else ranges


def _rows_of(spark: SparkSession, settings: Settings, records: DataFrame) -> DataFrame:
    """The silver and quarantine rows' Kafka records among ``records``' times (their
    statistics on kafka_timestamp skip the rest of each table)."""
    span = one_row(records.agg(F.min("kafka_timestamp"), F.max("kafka_timestamp")))
    within = (
        F.col("kafka_timestamp").between(span[0], span[1])
        if span[0] is not None
        else F.col("kafka_timestamp").isNull()
    )
    found = [
        spark.read.format("delta")
        .load(spec.path(settings))
        .where(within | F.col("kafka_timestamp").isNull())
        .select(
            F.col("kafka_topic").alias("topic"),
            F.col("kafka_partition").alias("partition"),
            F.col("kafka_offset").alias("offset"),
        )
        for spec in (*(silver_spec(et) for et in SILVER_TABLE_FOR), QUARANTINE)
        if DeltaTable.isDeltaTable(spark, spec.path(settings))
    ]
    if not found:
        return spark.createDataFrame([], "topic string, partition int, offset long")
    return reduce(DataFrame.unionByName, found)


def _offset_ranges(records: DataFrame, rows: DataFrame) -> list[tuple[str, int, int, int, int]]:
    """``records`` as runs of consecutive offsets per topic partition: (topic, partition,
    first, last, how many had no row in ``rows``)."""
    order = Window.partitionBy("topic", "partition").orderBy("offset")
    flagged = records.join(
        rows.distinct().withColumn("has_row", F.lit(True)), list(RECORD), "left"
    ).withColumn("run", F.col("offset") - F.row_number().over(order))
    return [
        (r["topic"], r["partition"], r["first"], r["last"], r["without_row"])
        for r in flagged.groupBy("topic", "partition", "run")
        .agg(
            F.min("offset").alias("first"),
            F.max("offset").alias("last"),
            F.sum(F.col("has_row").isNull().cast("long")).alias("without_row"),
        )
        .orderBy("topic", "partition", "first")
        .collect()
    ]


def _expire(
    spark: SparkSession,
    spec: TableSpec,
    path: str,
    table: DataFrame,
    rule: Column,
    holds: tuple[LegalHold, ...],
    options: RetentionOptions,
    parallelism: int,
) -> tuple[TableRetention, list[tuple[int | None, int]]]:
    before = delta_version(spark, path)
    kept = under_hold(holds, set(table.columns))
    expired = table.where(rule)
    if "ingested_at" in table.columns:  # only rows this run has counted: the stream appends on
        newest = one_row(table.agg(F.max("ingested_at")))[0]
        if newest is not None:
            rule = rule & (F.col("ingested_at") <= F.lit(newest))
            expired = table.where(rule)
    counts = one_row(
        expired.agg(F.count(F.lit(1)).alias("n"), F.sum(kept.cast("long")).alias("held"))
    )
    n, held = int(counts["n"]), int(counts["held"] or 0)
    doomed = rule & ~kept
    by_batch: list[tuple[int | None, int]] = []
    if "ingest_batch_id" in table.columns and n - held:
        by_batch = [
            (r[0], int(r[1]))
            for r in table.where(doomed).groupBy("ingest_batch_id").count().collect()
        ]
    after, vacuumed = before, False
    if not options.dry_run and n - held:
        DeltaTable.forPath(spark, path).delete(doomed)
        commit = one_row(DeltaTable.forPath(spark, path).history(1))  # the delete's
        after, metrics = int(commit["version"]), commit["operationMetrics"]
        if int(metrics.get("numDeletedRows", n - held)) != n - held:
            raise AflError(
                f"{spec.qualified_name}: retention counted {n - held:,} rows but Delta "
                f"deleted {metrics['numDeletedRows']}: another writer deleted beside it"
            )
        vacuumed = _vacuum(spark, path, options.vacuum_hours, parallelism)
    deleted = 0 if options.dry_run else n - held
    return (
        TableRetention(spec.qualified_name, n, held, deleted, before, after, vacuumed),
        by_batch,
    )


def _vacuum(spark: SparkSession, path: str, hours: int, parallelism: int) -> bool:
    """Remove files Delta no longer needs that are older than ``hours``.

    VACUUM lists the table with Spark's partition-discovery parallelism, 10,000 tasks by
    default: a minute for a small table on 2 cores, 4 s with a few."""
    overrides = {"spark.sql.sources.parallelPartitionDiscovery.parallelism": str(parallelism)}
    if hours < DELTA_SAFETY_HOURS:
        overrides["spark.databricks.delta.retentionDurationCheck.enabled"] = "false"
    previous = {key: spark.conf.get(key, None) for key in overrides}
    for key, value in overrides.items():
        spark.conf.set(key, value)
    try:
        spark.sql(f"VACUUM delta.`{path}` RETAIN {hours} HOURS").collect()
    finally:
        for key, earlier in previous.items():
            if earlier is None:
                spark.conf.unset(key)
            else:
                spark.conf.set(key, earlier)
    return True


def _record(
    spark: SparkSession,
    settings: Settings,
    report: RetentionReport,
    started: datetime,
    batches: list[tuple[str, int | None, int]],
    ranges: list[tuple[str, int, int, int, int]],
) -> None:
    holds = [h.describe() for h in report.holds]
    cutoff = report.cutoff.astimezone(UTC).replace(tzinfo=None)
    rows = [
        (report.run_id, started.replace(tzinfo=None), cutoff, report.dry_run, t.table,
         t.expired, t.held, t.deleted, t.version_before, t.version_after, t.vacuumed, holds)
        for t in report.tables
    ]  # fmt: skip
    if rows:
        path = ensure_table(spark, settings, RETENTION_RUNS)
        delta_append(spark.createDataFrame(rows, RETENTION_RUNS.schema), path)
    if batches and not report.dry_run:
        path = ensure_table(spark, settings, RETENTION_BATCHES)
        frame = spark.createDataFrame(
            [(report.run_id, t, b, n) for t, b, n in batches], RETENTION_BATCHES.schema
        )
        delta_append(frame, path)
    if ranges:
        path = ensure_table(spark, settings, BRONZE_EXPIRY)
        frame = spark.createDataFrame(
            [(report.run_id, t, p, a, b, b - a + 1, w) for t, p, a, b, w in ranges],
            BRONZE_EXPIRY.schema,
        )
        delta_append(frame, path)
