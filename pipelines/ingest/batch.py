"""The silver micro-batch: bronze records into silver, restricted companions, quarantine and
ops.stream_progress, exactly once.

Every write of batch N carries Delta's idempotent-write id (``txnAppId`` = the query's id,
``txnVersion`` = N), so a batch replayed after a crash skips the writes that committed and
redoes the rest. For that to be exact, a replay must decide what its first attempt decided:
the frames a batch computes are materialized once (``BatchFrames``), never recomputed after
a write, and deduplication ignores rows written from the batch's own records.

Deduplication reads only what can hold an earlier copy (see docs/architecture.md,
"Exactly-once"): silver rows ingested within the dedup horizon before the batch, and, for
events that occurred long before they arrived, their own date partitions from the moment
they occurred. Its cost follows the horizon and the rate, not the size of the table.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import reduce

from delta.tables import DeltaTable
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T
from pyspark.sql.streaming import StreamingQuery

from pipelines.contracts.registry import ContractSet, contract_set
from pipelines.contracts.topics import DLQ_TOPIC, TOPICS
from pipelines.errors import AflError
from pipelines.ingest.isolation import BatchFrames, Isolated
from pipelines.ingest.progress import BatchCounts, Txn, append_progress, progress_row
from pipelines.ingest.schema_fit import Fitted, SchemaEvolution, fit_to_table
from pipelines.settings import Settings
from pipelines.spark.io import delta_append
from pipelines.spark.tables import (
    BRONZE_AGENT_EVENTS,
    QUARANTINE,
    STREAM_PROGRESS,
    TableSpec,
    ensure_table,
    silver_restricted_spec,
    silver_spec,
)
from pipelines.transforms.dedup import COORDS, conflicting, decide, earlier_copies
from pipelines.transforms.silver import (
    IngestRules,
    classify,
    quarantine_rows,
    split_restricted,
    typed_events,
    with_rejection,
)

log = logging.getLogger(__name__)

SILVER_QUERY = "silver_agent_events"
SILVER_WRITERS = 2  # tables written at once: one's commit overlaps another's scan
RECORD_COORDS = ("topic", "partition", "offset")
_EARLIER_SCHEMA = T.StructType(
    [
        T.StructField("event_id", T.StringType()),
        T.StructField(
            "_original",
            T.StructType(
                [
                    T.StructField("kafka_topic", T.StringType()),
                    T.StructField("kafka_partition", T.IntegerType()),
                    T.StructField("kafka_offset", T.LongType()),
                ]
            ),
        ),
    ]
)


def ingest_rules(
    settings: Settings, contracts: ContractSet | None = None, *, dead_letters: bool = True
) -> IngestRules:
    """The rules for this deployment; ``dead_letters`` False judges DLQ records on merit."""
    topic_event_types = {settings.topic_name(t.name): t.event_types for t in TOPICS}
    if not dead_letters:  # a dead-lettered record may carry any type; judge it as that type
        all_types = tuple(et for t in TOPICS for et in t.event_types)
        topic_event_types[settings.topic_name(DLQ_TOPIC)] = all_types
    return IngestRules(
        contracts=contracts or contract_set(),
        topic_event_types=topic_event_types,
        topic_classification={et: t.classification for t in TOPICS for et in t.event_types},
        dlq_topics=(settings.topic_name(DLQ_TOPIC),) if dead_letters else (),
        hash_salt=settings.hash_salt,
    )


@dataclass
class Landed:
    """What landing one batch's valid records did."""

    inserted: dict[str, int] = field(default_factory=dict)  # event type -> new silver rows
    duplicates: int = 0  # copies of landed events with the same content
    quarantine: list[DataFrame] = field(default_factory=list)  # rows found failing, as rows
    rows_by_table: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class _TypePlan:
    """One event type's share of a batch, from the tally."""

    event_type: str
    versions: tuple[int, ...]
    records: int
    first_ingested: datetime
    late_dates: tuple = ()
    first_late_occurred: datetime | None = None


class SilverWriter:
    """Lands classified records in silver: typed, fitted, deduplicated, split, appended."""

    def __init__(
        self,
        settings: Settings,
        rules: IngestRules,
        schema_evolution: SchemaEvolution = SchemaEvolution.ADD_NEW_COLUMNS,
    ) -> None:
        self.settings = settings
        self.rules = rules
        self.mode = SchemaEvolution.parse(schema_evolution)
        self.horizon = timedelta(minutes=settings.dedup_horizon_minutes)
        self.skew = timedelta(minutes=settings.dedup_clock_skew_minutes)
        self.tables = _Appender(settings)

    def tally(self, classified: DataFrame) -> list:
        """Rows per (type, version, event date, accepted, late): counts and the times the
        dedup lookups and the progress row need. One small job."""
        late = F.col("occurred_at") < F.col("ingested_at") - F.make_interval(
            mins=F.lit(int((self.horizon - self.skew).total_seconds() // 60))
        )
        return (
            classified.groupBy(
                "event_type",
                "schema_version",
                "event_date",
                F.col("rejection").isNull().alias("ok"),
                F.coalesce(late, F.lit(False)).alias("late"),
            )
            .agg(
                F.count("*").alias("n"),
                F.min("kafka_timestamp").alias("oldest"),
                F.min("ingested_at").alias("first_ingested"),
                F.min("occurred_at").alias("first_occurred"),
            )
            .collect()
        )

    def land(
        self,
        frames: BatchFrames,
        classified: DataFrame,
        tally: list,
        txn: Txn,
        batch_id: int | None,
    ) -> Landed:
        """Every accepted event type into its silver table(s); one writer thread per table."""
        plans = _plans(tally)
        landed = Landed()
        with ThreadPoolExecutor(max_workers=SILVER_WRITERS) as pool:
            done = list(
                pool.map(lambda p: self._land_type(frames, classified, p, txn, batch_id), plans)
            )
        for plan, (inserted, duplicates, quarantine, by_table) in zip(plans, done, strict=True):
            landed.inserted[plan.event_type] = inserted
            landed.duplicates += duplicates
            landed.quarantine += quarantine
            landed.rows_by_table.update(by_table)
        return landed

    def _land_type(
        self,
        frames: BatchFrames,
        classified: DataFrame,
        plan: _TypePlan,
        txn: Txn,
        batch_id: int | None,
    ) -> tuple[int, int, list[DataFrame], dict[str, int]]:
        spark = classified.sparkSession
        cs = self.rules.contracts
        contracts = [cs.get(plan.event_type, v) for v in plan.versions]
        of_type = classified.where(
            F.col("rejection").isNull() & (F.col("event_type") == plan.event_type)
        )
        typed, isolated = frames.keep_isolating(
            lambda records: typed_events(records, contracts, self.rules), of_type
        )
        quarantine: list[DataFrame] = []
        if isolated:
            quarantine.append(isolated_rows(spark, of_type, isolated, "typing"))
        problems = typed.where(F.col("_typing_problem").isNotNull())
        quarantine.append(
            with_rejection(
                of_type,
                problems.select(
                    F.col("kafka_topic").alias("topic"),
                    F.col("kafka_partition").alias("partition"),
                    F.col("kafka_offset").alias("offset"),
                    F.lit("unrepresentable").alias("kind"),
                    F.lit(None).cast("string").alias("field"),
                    F.col("_typing_problem").alias("message"),
                    F.lit("typing").alias("stage"),
                ),
            )
        )
        clean = typed.where(F.col("_typing_problem").isNull()).drop("_typing_problem")

        spec = silver_spec(plan.event_type)
        table = self.tables.read(spark, spec)
        hashed = {k.split(".", 1)[1] for c in contracts for k in c.field_classes}
        fitted = (
            fit_to_table(clean, table.schema, spec.qualified_name, self.mode, hashed)
            if table is not None
            else Fitted(clean, None)
        )
        if fitted.conflicts is not None:
            quarantine.append(_conflict_rows(of_type, fitted.conflicts))
        rows = fitted.rows.withColumn("ingest_batch_id", F.lit(batch_id).cast("long"))

        if table is not None:
            earlier = frames.keep(earlier_copies(self._may_hold_copies(table, plan), rows))
        else:
            earlier = spark.createDataFrame([], _EARLIER_SCHEMA)
        decided = frames.keep(decide(rows, earlier))
        outcome = {
            (r["lands"], r["contains_pii"]): r["n"]
            for r in decided.groupBy(F.col("_original").isNull().alias("lands"), "contains_pii")
            .agg(F.count("*").alias("n"))
            .collect()
        }
        inserted = outcome.get((True, True), 0) + outcome.get((True, False), 0)
        copies = outcome.get((False, True), 0) + outcome.get((False, False), 0)
        by_table: dict[str, int] = {spec.qualified_name: inserted}
        if inserted:
            new_rows = decided.where(F.col("_original").isNull()).drop("_original")
            general, restricted = split_restricted(new_rows, contracts, self.rules.hash_salt)
            restricted_spec = silver_restricted_spec(plan.event_type, cs)
            self.tables.append(spark, spec, general, txn)
            if restricted is not None and restricted_spec is not None:
                with_pii = outcome.get((True, True), 0)
                if with_pii:
                    self.tables.append(spark, restricted_spec, restricted, txn)
                by_table[restricted_spec.qualified_name] = with_pii
        duplicates = copies
        if copies:
            differing, n_differing = self._conflicting_copies(frames, of_type, decided)
            duplicates -= n_differing
            quarantine.append(differing)
        return inserted, duplicates, quarantine, by_table

    def _may_hold_copies(self, table: DataFrame, plan: _TypePlan) -> DataFrame:
        """The silver rows an earlier copy of this batch's events can be among."""
        recent = table.where(F.col("ingested_at") >= F.lit(plan.first_ingested - self.horizon))
        if not plan.late_dates:
            return recent
        assert plan.first_late_occurred is not None
        late = table.where(
            F.col("event_date").isin(list(plan.late_dates))
            & (F.col("ingested_at") >= F.lit(plan.first_late_occurred - self.skew))
        )
        return recent.unionByName(late)

    def _conflicting_copies(
        self, frames: BatchFrames, of_type: DataFrame, decided: DataFrame
    ) -> tuple[DataFrame, int]:
        """The duplicate records whose content differs from the copy that landed."""
        copies = decided.where(F.col("_original").isNotNull()).select(
            F.col("kafka_topic").alias("topic"),
            F.col("kafka_partition").alias("partition"),
            F.col("kafka_offset").alias("offset"),
            "_original",
        )
        records = of_type.join(F.broadcast(copies), list(RECORD_COORDS))
        wanted = copies.select("_original.*").distinct()
        originals = _bronze_values(
            of_type.sparkSession, BRONZE_AGENT_EVENTS.path(self.settings), wanted
        )
        found = frames.keep(conflicting(records, originals))
        return found, found.count()


def _plans(tally: list) -> list[_TypePlan]:
    accepted = [r for r in tally if r["ok"]]
    plans = []
    for event_type in sorted({r["event_type"] for r in accepted}):
        rows = [r for r in accepted if r["event_type"] == event_type]
        late = [r for r in rows if r["late"]]
        plans.append(
            _TypePlan(
                event_type=event_type,
                versions=tuple(sorted({r["schema_version"] for r in rows})),
                records=sum(r["n"] for r in rows),
                first_ingested=min(r["first_ingested"] for r in rows),
                late_dates=tuple(sorted({r["event_date"] for r in late})),
                first_late_occurred=min((r["first_occurred"] for r in late), default=None),
            )
        )
    return plans


def _bronze_values(spark: SparkSession, bronze_path: str, wanted: DataFrame) -> DataFrame:
    """``kafka_topic, kafka_partition, kafka_offset, value`` of the bronze records named.

    Bronze files each hold a narrow offset range of one topic partition, so a filter on
    those ranges lets Delta skip almost every file before the exact join.
    """
    ranges = (
        wanted.groupBy("kafka_topic", "kafka_partition")
        .agg(F.min("kafka_offset").alias("lo"), F.max("kafka_offset").alias("hi"))
        .collect()
    )
    within = reduce(
        lambda a, b: a | b,
        [
            (F.col("topic") == r["kafka_topic"])
            & (F.col("partition") == r["kafka_partition"])
            & F.col("offset").between(r["lo"], r["hi"])
            for r in ranges
        ],
        F.lit(False),
    )
    bronze = (
        spark.read.format("delta")
        .load(bronze_path)
        .where(within)
        .select(
            F.col("topic").alias("kafka_topic"),
            F.col("partition").alias("kafka_partition"),
            F.col("offset").alias("kafka_offset"),
            "value",
        )
    )
    return bronze.join(F.broadcast(wanted), list(COORDS), "left_semi")


def isolated_rows(
    spark: SparkSession, records: DataFrame, isolated: Sequence[Isolated], stage: str
) -> DataFrame:
    reasons = spark.createDataFrame(
        [(*i.key, "processing_error", None, i.message[:1000], stage) for i in isolated],
        "topic string, partition int, offset long, kind string, field string, "
        "message string, stage string",
    )
    return with_rejection(records, reasons)


def _conflict_rows(records: DataFrame, conflicts: DataFrame) -> DataFrame:
    """Records whose types the table cannot take, as schema_conflict rejections."""
    reasons = conflicts.select(
        F.col("kafka_topic").alias("topic"),
        F.col("kafka_partition").alias("partition"),
        F.col("kafka_offset").alias("offset"),
        F.lit("schema_conflict").alias("kind"),
        F.regexp_extract("_reason", r"^(payload\.\w+)", 1).alias("field"),
        F.regexp_replace("_reason", r"^payload\.\w+: ", "").alias("message"),
        F.lit("schema").alias("stage"),
    )
    return with_rejection(records, reasons)


def _nullable(schema: T.StructType) -> T.StructType:
    """A table made from a batch's frame must not inherit NOT NULL from its literals."""
    return T.StructType([T.StructField(f.name, f.dataType, True, f.metadata) for f in schema])


class _Appender:
    """Appends to registry tables: creates one on its first rows, adds columns when rows
    bring new ones, and remembers what it learned so a batch probes nothing."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._columns: dict[str, set[str]] = {}
        self._lock = threading.Lock()

    def read(self, spark: SparkSession, spec: TableSpec) -> DataFrame | None:
        """The table's current snapshot, or None while it does not exist."""
        path = spec.path(self.settings)
        known = path in self._columns
        if not known and not DeltaTable.isDeltaTable(spark, path):
            return None
        table = spark.read.format("delta").load(path)
        # Lakes written before replays landed rows: the column must admit null.
        if not known and not table.schema["ingest_batch_id"].nullable:
            spark.sql(f"ALTER TABLE delta.`{path}` ALTER COLUMN ingest_batch_id DROP NOT NULL")
            table = spark.read.format("delta").load(path)
        with self._lock:
            self._columns[path] = set(table.columns)
        return table

    def append(self, spark: SparkSession, spec: TableSpec, rows: DataFrame, txn: Txn) -> None:
        path = spec.path(self.settings)
        columns = self._columns.get(path)
        if columns is None:
            if DeltaTable.isDeltaTable(spark, path):
                columns = set(spark.read.format("delta").load(path).columns)
            else:
                schema = spec.schema or _nullable(rows.schema)
                ensure_table(spark, self.settings, spec, schema=schema)
                columns = set(schema.fieldNames())
        # mergeSchema only when columns arrive: it costs every append a schema merge
        delta_append(rows, path, txn, merge_schema=bool(set(rows.columns) - columns))
        with self._lock:
            self._columns[path] = columns | set(rows.columns)


class SilverBatch:
    """The foreachBatch function of the silver query: one micro-batch into every table."""

    def __init__(
        self,
        settings: Settings,
        *,
        query_name: str = SILVER_QUERY,
        schema_evolution: SchemaEvolution | str = SchemaEvolution.ADD_NEW_COLUMNS,
        rules: IngestRules | None = None,
    ) -> None:
        self.settings = settings
        self.query_name = query_name
        self.writer = SilverWriter(
            settings, rules or ingest_rules(settings), SchemaEvolution.parse(schema_evolution)
        )
        self._writer_id: str | None = None
        self._writer_ready = threading.Event()
        self._previous_start: float | None = None

    def bind_query(self, query: StreamingQuery) -> None:
        """Name writes after the query's id: stable across restarts, new with a new checkpoint."""
        self._writer_id = f"{self.query_name}:{query.id}"
        self._writer_ready.set()

    def __call__(self, bronze: DataFrame, batch_id: int) -> None:
        started = time.time()
        if not self._writer_ready.wait(60):
            raise AflError("the ingest query never bound its id to the batch writer")
        counts = self.write(bronze, (str(self._writer_id), batch_id), started)
        log.info("batch %s: %s", batch_id, counts)

    def write(self, bronze: DataFrame, txn: Txn, started: float) -> BatchCounts:
        """Bronze rows into silver, quarantine and progress; idempotent per ``txn``."""
        spark = bronze.sparkSession
        frames = BatchFrames()
        try:
            return self._write(spark, frames, bronze, txn, started)
        finally:
            frames.release()

    def _write(
        self,
        spark: SparkSession,
        frames: BatchFrames,
        bronze: DataFrame,
        txn: Txn,
        started: float,
    ) -> BatchCounts:
        records = frames.keep(bronze)
        classified, isolated = frames.keep_isolating(
            lambda r: classify(r, self.writer.rules), records
        )
        tally = self.writer.tally(classified)
        landed = self.writer.land(frames, classified, tally, txn, txn[1])
        rejected = [classified]
        if isolated:
            rejected.append(isolated_rows(spark, records, isolated, "classify"))
        rejected += landed.quarantine
        quarantine = frames.keep(
            reduce(
                DataFrame.unionByName,
                [quarantine_rows(frame, txn[1]) for frame in rejected],
            )
        )
        counts = BatchCounts(
            input_rows=sum(r["n"] for r in tally) + len(isolated),
            valid_rows=sum(landed.inserted.values()),
            duplicate_rows=landed.duplicates,
            quarantined_rows=quarantine.count(),
            rows_by_table=dict(landed.rows_by_table),
        )
        if counts.quarantined_rows:
            self.writer.tables.append(spark, QUARANTINE, quarantine, txn)
        counts.rows_by_table[QUARANTINE.qualified_name] = counts.quarantined_rows
        if not counts.balanced:  # a bug, never data: stop before the progress row lies
            raise AflError(f"batch {txn[1]} does not balance: {counts}")
        oldest = min((r["oldest"] for r in tally if r["oldest"] is not None), default=None)
        finished = time.time()
        since = started - self._previous_start if self._previous_start else None
        self._previous_start = started
        row = progress_row(self.query_name, txn[1], started, finished, counts, oldest, since)
        path = ensure_table(spark, self.settings, STREAM_PROGRESS)
        append_progress(spark, path, [row], txn)
        return counts
