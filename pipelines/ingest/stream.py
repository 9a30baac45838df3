"""Kafka -> Delta streaming ingest: two chained queries, one code path for both run modes.

1. ``bronze_agent_events``: Kafka -> bronze.agent_events through the Delta sink. Raw
   capture never depends on parsing: a contract bug cannot stop the evidence trail.
2. ``silver_agent_events``: bronze (Delta source) -> ``IngestBatch`` (foreachBatch) ->
   silver tables, quarantine, ops.stream_progress.

Exactly-once: the Delta sink commits each batch with its checkpoint; every write of the
silver query's batch N carries ``txnAppId=<query id>``/``txnVersion=N``, so when a killed
stream replays batch N, writes that already committed are skipped and the rest happen once.
"""

from __future__ import annotations

import logging
import re
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from delta.tables import DeltaTable
from pyspark import StorageLevel
from pyspark.errors import StreamingQueryException
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T
from pyspark.sql.streaming import StreamingQuery

from pipelines.contracts.registry import ContractSet, contract_set
from pipelines.contracts.topics import DLQ_TOPIC, TOPICS
from pipelines.errors import AflError
from pipelines.settings import Settings
from pipelines.spark.io import delta_append, read_kafka_stream
from pipelines.spark.tables import (
    BRONZE_AGENT_EVENTS,
    QUARANTINE,
    STREAM_PROGRESS,
    TableSpec,
    ensure_table,
    register_table,
    silver_restricted_spec,
    silver_spec,
)
from pipelines.transforms.bronze import kafka_to_bronze
from pipelines.transforms.progress import STREAM_PROGRESS_SCHEMA
from pipelines.transforms.silver import (
    IngestRules,
    classify,
    first_per_event_id,
    quarantine_rows,
    split_restricted,
    typed_events,
)

log = logging.getLogger(__name__)

BRONZE_QUERY = "bronze_agent_events"
SILVER_QUERY = "silver_agent_events"
EVOLUTION_MODES = ("addNewColumns", "rescue", "failOnNewColumns")
DEFAULT_MAX_OFFSETS_PER_TRIGGER = 250_000
DEFAULT_MAX_BYTES_PER_TRIGGER = "256m"
SILVER_WRITERS = 2
STOP_GRACE_S = 120.0


class SchemaEvolutionError(AflError):
    """failOnNewColumns met columns the silver table does not have."""


def registry_topics(settings: Settings) -> list[str]:
    """Every registry topic, DLQ included: the DLQ is evidence too."""
    return [settings.topic_name(t.name) for t in TOPICS]


def ingest_rules(
    settings: Settings, contracts: ContractSet | None = None, *, dead_letters: bool = True
) -> IngestRules:
    """The rules for this deployment; ``dead_letters`` False judges DLQ records on merit."""
    return IngestRules(
        contracts=contracts or contract_set(),
        topic_event_types={settings.topic_name(t.name): t.event_types for t in TOPICS},
        topic_classification={et: t.classification for t in TOPICS for et in t.event_types},
        dlq_topics=(settings.topic_name(DLQ_TOPIC),) if dead_letters else (),
        hash_salt=settings.hash_salt,
    )


@dataclass
class SilverResult:
    inserted: dict[str, int] = field(default_factory=dict)  # event type -> new silver rows
    valid: dict[str, int] = field(default_factory=dict)  # event type -> accepted records
    conflicts: DataFrame | None = None  # quarantine rows for schema conflicts


@dataclass
class BatchCounts:
    input_rows: int = 0
    valid_rows: int = 0
    quarantined_rows: int = 0
    duplicate_rows: int = 0


class IngestBatch:
    """The foreachBatch function: one micro-batch of Kafka records into every table."""

    def __init__(
        self,
        settings: Settings,
        *,
        query_name: str = SILVER_QUERY,
        schema_evolution: str = "addNewColumns",
        contracts: ContractSet | None = None,
        rules: IngestRules | None = None,
    ) -> None:
        if schema_evolution not in EVOLUTION_MODES:
            raise AflError(
                f"schema evolution mode must be one of {', '.join(EVOLUTION_MODES)}; "
                f"got {schema_evolution!r}"
            )
        self.settings = settings
        self.query_name = query_name
        self.mode = schema_evolution
        self.rules = rules or ingest_rules(settings, contracts)
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
        counts = self.write(bronze.sparkSession, bronze, (str(self._writer_id), batch_id), started)
        log.info("batch %s: %s", batch_id, counts)

    def write(
        self, spark: SparkSession, bronze: DataFrame, txn: tuple[str, int], started: float
    ) -> BatchCounts:
        """Bronze rows into silver, quarantine and progress; idempotent per ``txn``."""
        classified = classify(bronze, self.rules).persist(StorageLevel.MEMORY_AND_DISK)
        try:
            return self._write_classified(spark, classified, txn, started)
        finally:
            classified.unpersist()

    def _write_classified(
        self, spark: SparkSession, classified: DataFrame, txn: tuple[str, int], started: float
    ) -> BatchCounts:
        tally = self.tally(classified)
        counts = BatchCounts(input_rows=sum(r["n"] for r in tally))
        oldest = min((r["oldest"] for r in tally if r["oldest"] is not None), default=None)
        silver = self.write_silver(spark, classified, tally, txn)
        quarantine = quarantine_rows(classified)
        if silver.conflicts is not None:
            quarantine = quarantine.unionByName(silver.conflicts)
        quarantine = quarantine.persist(StorageLevel.MEMORY_AND_DISK)
        try:
            counts.quarantined_rows = quarantine.count()
            if counts.quarantined_rows:
                delta_append(quarantine, ensure_table(spark, self.settings, QUARANTINE), txn)
        finally:
            quarantine.unpersist()
        conflicts = counts.quarantined_rows - sum(r["n"] for r in tally if not r["ok"])
        counts.valid_rows = sum(silver.inserted.values())
        counts.duplicate_rows = sum(silver.valid.values()) - counts.valid_rows - conflicts
        rows_by_table = {silver_spec(et).qualified_name: n for et, n in silver.inserted.items()}
        rows_by_table[QUARANTINE.qualified_name] = counts.quarantined_rows
        self._write_progress(spark, txn, started, counts, oldest, rows_by_table)
        return counts

    @staticmethod
    def tally(classified: DataFrame) -> list:
        """Rows per (event type, version, event date, accepted), oldest produce time: one job."""
        return (
            classified.groupBy(
                "event_type",
                "schema_version",
                "event_date",
                F.col("rejection").isNull().alias("ok"),
            )
            .agg(F.count("*").alias("n"), F.min("kafka_timestamp").alias("oldest"))
            .collect()
        )

    def write_silver(
        self, spark: SparkSession, classified: DataFrame, tally: list, txn: tuple[str, int]
    ) -> SilverResult:
        """Every accepted event type into its silver table(s), deduplicated by event_id."""
        present: dict[str, list[int]] = {}
        for r in tally:
            if r["ok"]:
                present.setdefault(r["event_type"], []).append(r["schema_version"])
        result = SilverResult()

        def one(event_type: str) -> tuple[str, int, DataFrame | None]:
            found_versions = sorted(present[event_type])
            contracts = [self.rules.contracts.get(event_type, v) for v in found_versions]
            dates = {r["event_date"] for r in tally if r["ok"] and r["event_type"] == event_type}
            return (event_type, *self._write_silver(spark, classified, contracts, dates, txn))

        # Tables are independent: writing them concurrently overlaps one table's commit and
        # planning with another's scan.
        with ThreadPoolExecutor(max_workers=SILVER_WRITERS) as pool:
            done = list(pool.map(one, sorted(present)))
        for event_type, inserted, conflicts in done:
            result.inserted[event_type] = inserted
            result.valid[event_type] = sum(
                r["n"] for r in tally if r["ok"] and r["event_type"] == event_type
            )
            if conflicts is not None:
                result.conflicts = (
                    conflicts
                    if result.conflicts is None
                    else result.conflicts.unionByName(conflicts)
                )
        return result

    def _write_silver(
        self,
        spark: SparkSession,
        classified: DataFrame,
        contracts: list,
        dates: set,
        txn: tuple[str, int],
    ) -> tuple[int, DataFrame | None]:
        """New rows of one event type into its silver table(s); (inserted, conflict rows)."""
        event_type = contracts[0].event_type
        spec = silver_spec(event_type)
        path = spec.path(self.settings)
        rows = first_per_event_id(typed_events(classified, contracts, self.rules))
        rows = rows.withColumn("ingest_batch_id", F.lit(txn[1]).cast("long"))
        conflicts = None
        grows = False  # does this batch add columns to the table?
        if DeltaTable.isDeltaTable(spark, path):
            table = spark.read.format("delta").load(path)
            classified_names = {k.split(".", 1)[1] for c in contracts for k in c.field_classes}
            rows, conflict_coords, grows = self._fit_to_table(
                rows, table.schema, spec, skip=classified_names
            )
            if conflict_coords is not None:
                conflicts = self._conflict_quarantine(classified, conflict_coords)
            # Only the batch's event dates of the table can hold its event ids.
            existing = table.where(F.col("event_date").isin(list(dates))).select(
                "event_id", "event_date"
            )
            rows = rows.join(existing, ["event_id", "event_date"], "left_anti")
        # Counted once, then written twice from the cache: both tables get the same rows.
        new_rows = rows.persist(StorageLevel.MEMORY_AND_DISK)
        try:
            inserted = new_rows.count()
            if inserted:
                general, restricted = split_restricted(new_rows, contracts, self.rules.hash_salt)
                self._append(spark, spec, general, txn, grows)
                restricted_spec = silver_restricted_spec(event_type, self.rules.contracts)
                if restricted is not None and restricted_spec is not None:
                    self._append(spark, restricted_spec, restricted, txn, grows)
        finally:
            new_rows.unpersist()
        return inserted, conflicts

    def _append(
        self, spark: SparkSession, spec: TableSpec, rows: DataFrame, txn, grows: bool
    ) -> None:
        path = spec.path(self.settings)
        if not DeltaTable.isDeltaTable(spark, path):
            ensure_table(spark, self.settings, spec, schema=rows.schema)
        else:
            register_table(spark, spec.qualified_name, path)
        # mergeSchema only when columns arrive: it costs every append a schema merge.
        delta_append(rows, path, txn, merge_schema=grows and self.mode == "addNewColumns")

    def _fit_to_table(
        self, rows: DataFrame, table_schema: T.StructType, spec: TableSpec, skip: set[str]
    ) -> tuple[DataFrame, DataFrame | None, bool]:
        """Apply the evolution mode; rows whose types conflict with the table are split off.

        ``skip``: user text and PII columns, which the general table holds only hashed.
        """
        table_types = {f.name: f.dataType for f in table_schema.fields}
        new_columns = [c for c in rows.columns if c not in table_types and c not in skip]
        if new_columns and self.mode == "failOnNewColumns":
            raise SchemaEvolutionError(
                f"{spec.qualified_name} has no column(s) {', '.join(sorted(new_columns))} "
                "(schema evolution mode failOnNewColumns); restart with addNewColumns or rescue"
            )
        if new_columns and self.mode == "rescue":
            rows = _rescue_columns(rows, new_columns)
        # user text / PII fields arrive under new names (<field>_hash) in the general table
        grows = bool(new_columns) or any(
            f"{name}_hash" not in table_types for name in skip if name in rows.columns
        )
        conflicts = []
        casts = {}
        for f in rows.schema.fields:
            target = table_types.get(f.name)
            if target is None or target == f.dataType or f.name in skip:
                continue
            if _safe_widening(f.dataType, target):
                casts[f.name] = F.col(f.name).cast(target)
            else:
                conflicts.append((f.name, f.dataType, target))
        if casts:
            rows = rows.withColumns(casts)
        if not conflicts:
            return rows, None, grows
        any_conflict = F.lit(False)
        reason = F.lit(None).cast("string")
        for name, given, target in reversed(conflicts):
            message = (
                f"payload.{name}: the contract gives {given.simpleString()}, "
                f"{spec.qualified_name}.{name} is {target.simpleString()} (not a safe widening)"
            )
            any_conflict = any_conflict | F.col(name).isNotNull()
            reason = F.when(F.col(name).isNotNull(), F.lit(message)).otherwise(reason)
        coords = rows.where(any_conflict).select(
            "kafka_topic",
            "kafka_partition",
            "kafka_offset",
            reason.alias("_reason"),
            F.lit(f"payload.{conflicts[0][0]}").alias("_field"),
        )
        clean = rows.where(~any_conflict).withColumns(
            {name: F.col(name).cast(target) for name, _, target in conflicts}
        )
        return clean, coords, grows

    def _conflict_quarantine(self, classified: DataFrame, coords: DataFrame) -> DataFrame:
        joined = classified.join(
            coords.withColumnsRenamed(
                {"kafka_topic": "topic", "kafka_partition": "partition", "kafka_offset": "offset"}
            ),
            ["topic", "partition", "offset"],
        )
        joined = joined.withColumn(
            "rejection",
            F.struct(
                F.lit("schema_conflict").alias("kind"),
                F.regexp_extract("_reason", r"^(payload\.\w+)", 1).alias("field"),
                F.regexp_replace("_reason", r"^payload\.\w+: ", "").alias("message"),
                F.lit("schema").alias("stage"),
            ),
        ).drop("_reason", "_field")
        return quarantine_rows(joined)

    def _write_progress(
        self,
        spark: SparkSession,
        txn: tuple[str, int],
        started: float,
        counts: BatchCounts,
        oldest: datetime | None,
        rows_by_table: dict[str, int],
    ) -> None:
        finished = time.time()
        since_previous = started - self._previous_start if self._previous_start else None
        self._previous_start = started
        duration = max(finished - started, 1e-3)
        finished_at = datetime.fromtimestamp(finished, UTC).replace(tzinfo=None)
        row = (
            self.query_name,
            txn[1],
            datetime.fromtimestamp(started, UTC).replace(tzinfo=None),
            finished_at,
            int(duration * 1000),
            counts.input_rows,
            counts.valid_rows,
            counts.quarantined_rows,
            counts.duplicate_rows,
            counts.input_rows / since_previous if since_previous else None,
            counts.input_rows / duration,
            oldest,
            int((finished_at - oldest).total_seconds() * 1000) if oldest else None,
            rows_by_table,
            finished_at.date(),
        )
        frame = spark.createDataFrame([row], STREAM_PROGRESS_SCHEMA)
        path = ensure_table(spark, self.settings, STREAM_PROGRESS)
        delta_append(frame, path, txn)


def _safe_widening(given: T.DataType, target: T.DataType) -> bool:
    """Values of ``given`` fit ``target`` without loss (the table keeps its type)."""
    return (
        isinstance(given, T.IntegerType | T.LongType | T.ShortType | T.ByteType)
        and isinstance(target, T.LongType | T.DoubleType | T.DecimalType)
    ) or (isinstance(given, T.FloatType) and isinstance(target, T.DoubleType))


def _rescue_columns(rows: DataFrame, columns: Sequence[str]) -> DataFrame:
    """Move columns the table lacks into _rescued_data (rescue mode: the schema stays)."""
    new_json = F.to_json(F.struct(*[F.col(c).alias(f"payload.{c}") for c in columns]))
    existing = F.col("_rescued_data")
    merged = (
        F.when(new_json == "{}", existing)
        .when(existing.isNull(), new_json)
        .otherwise(
            F.concat(
                F.expr("substring(_rescued_data, 1, length(_rescued_data) - 1)"),
                F.lit(","),
                F.substring(new_json, 2, 1 << 30),
            )
        )
    )
    return rows.withColumn("_rescued_data", merged).drop(*columns)


# -- running the queries ---------------------------------------------------------------


def start_bronze_query(
    spark: SparkSession,
    settings: Settings,
    *,
    topics: Sequence[str] | None = None,
    available_now: bool = False,
    trigger_interval: str = "1 second",
    max_offsets_per_trigger: int | None = DEFAULT_MAX_OFFSETS_PER_TRIGGER,
) -> StreamingQuery:
    """Kafka -> bronze.agent_events through the Delta sink (exactly-once by its checkpoint)."""
    path = ensure_table(spark, settings, BRONZE_AGENT_EVENTS)
    records = read_kafka_stream(
        spark, settings, topics or registry_topics(settings), max_offsets_per_trigger
    )
    writer = (
        kafka_to_bronze(records)
        .writeStream.format("delta")
        .queryName(BRONZE_QUERY)
        .outputMode("append")
        .option("checkpointLocation", settings.checkpoint_path(BRONZE_QUERY))
    )
    return _with_trigger(writer, available_now, trigger_interval).start(path)


def start_silver_query(
    spark: SparkSession,
    settings: Settings,
    *,
    available_now: bool = False,
    trigger_interval: str = "1 second",
    schema_evolution: str = "addNewColumns",
    max_bytes_per_trigger: str = DEFAULT_MAX_BYTES_PER_TRIGGER,
) -> StreamingQuery:
    """bronze.agent_events -> silver, quarantine and progress (foreachBatch, idempotent)."""
    batch = IngestBatch(settings, query_name=SILVER_QUERY, schema_evolution=schema_evolution)
    path = ensure_table(spark, settings, BRONZE_AGENT_EVENTS)
    bronze = (
        spark.readStream.format("delta")
        .option("maxBytesPerTrigger", max_bytes_per_trigger)
        .load(path)
    )
    writer = (
        bronze.writeStream.queryName(SILVER_QUERY)
        .option("checkpointLocation", settings.checkpoint_path(SILVER_QUERY))
        .foreachBatch(batch)
    )
    query = _with_trigger(writer, available_now, trigger_interval).start()
    batch.bind_query(query)
    return query


def _with_trigger(writer, available_now: bool, trigger_interval: str):  # type: ignore[no-untyped-def]
    if available_now:
        return writer.trigger(availableNow=True)
    return writer.trigger(processingTime=trigger_interval)


def run_bronze_catch_up(
    spark: SparkSession, settings: Settings, topics: Sequence[str] | None = None
) -> None:
    """Drain what the topics hold now into bronze, then return."""
    query = start_bronze_query(spark, settings, topics=topics, available_now=True)
    _await(query)
    BronzeProgress(spark, settings).record(query)


def run_ingest(
    spark: SparkSession,
    settings: Settings,
    *,
    available_now: bool = False,
    trigger_interval: str = "1 second",
    schema_evolution: str = "addNewColumns",
    max_offsets_per_trigger: int | None = DEFAULT_MAX_OFFSETS_PER_TRIGGER,
    topics: Sequence[str] | None = None,
    progress: Callable[[str], None] | None = None,
    stop_event: threading.Event | None = None,
) -> None:
    """Catch-up: drain Kafka into bronze, then bronze into silver, and return.
    Continuous: run both queries until SIGTERM/Ctrl-C (or ``stop_event``), then stop cleanly.
    """
    say = progress or (lambda _: None)
    if available_now:
        run_bronze_catch_up(spark, settings, topics)
        say(f"bronze caught up ({_rows(spark, BRONZE_AGENT_EVENTS.path(settings)):,} records)")
        silver = start_silver_query(
            spark, settings, available_now=True, schema_evolution=schema_evolution
        )
        _await(silver)
        say("silver caught up")
        return
    stop = stop_event or threading.Event()
    if stop.is_set():  # asked to stop while the session was starting: nothing began
        say("stream stopped cleanly before its first batch")
        return
    # (Re)installed here too: starting a SparkContext replaces the SIGINT handler.
    on_main = threading.current_thread() is threading.main_thread()
    restore = _install_stop_handlers(stop) if on_main else None
    bronze = start_bronze_query(
        spark,
        settings,
        topics=topics,
        trigger_interval=trigger_interval,
        max_offsets_per_trigger=max_offsets_per_trigger,
    )
    silver = start_silver_query(
        spark, settings, trigger_interval=trigger_interval, schema_evolution=schema_evolution
    )
    bronze_progress = BronzeProgress(spark, settings)
    say(f"streaming {len(topics or registry_topics(settings))} topics; Ctrl-C to stop")
    try:
        while not stop.is_set() and bronze.isActive and silver.isActive:
            stop.wait(1.0)
            bronze_progress.record(bronze)
    finally:
        for query in (bronze, silver):
            _stop_between_batches(query)
        bronze_progress.record(bronze)
        if restore:
            restore()
    for query in (bronze, silver):
        if query.exception() is not None:
            raise AflError(f"{query.name} failed: {_root_cause(str(query.exception()))}")
    say("stream stopped cleanly")


class BronzeProgress:
    """Record the bronze query's micro-batches in ops.stream_progress.

    A blind append (never conflicts with the silver query's appends), idempotent by Delta's
    txn: app id = the bronze query's id, version = the highest batch id written.
    """

    def __init__(self, spark: SparkSession, settings: Settings) -> None:
        self.spark = spark
        self.path = ensure_table(spark, settings, STREAM_PROGRESS)
        self.written = -1

    def record(self, query: StreamingQuery) -> None:
        rows = []
        for p in query.recentProgress:
            batch_id = p["batchId"]
            if batch_id <= self.written or p["numInputRows"] == 0:
                continue
            started = datetime.fromisoformat(p["timestamp"].replace("Z", "+00:00"))
            duration_ms = int(p["durationMs"].get("triggerExecution", 0))
            finished = started + timedelta(milliseconds=duration_ms)
            rows.append(
                (
                    p["name"],
                    batch_id,
                    started.replace(tzinfo=None),
                    finished.replace(tzinfo=None),
                    duration_ms,
                    p["numInputRows"],
                    p["numInputRows"],
                    0,
                    0,
                    float(p.get("inputRowsPerSecond") or 0.0),
                    float(p.get("processedRowsPerSecond") or 0.0),
                    None,
                    None,
                    {BRONZE_AGENT_EVENTS.qualified_name: p["numInputRows"]},
                    finished.date(),
                )
            )
        if not rows:
            return
        last = max(r[1] for r in rows)
        frame = self.spark.createDataFrame(rows, STREAM_PROGRESS_SCHEMA)
        delta_append(frame, self.path, (f"{BRONZE_QUERY}-progress:{query.id}", last))
        self.written = last


def _await(query: StreamingQuery) -> None:
    """Wait for a catch-up query; its failure becomes one readable line."""
    try:
        query.awaitTermination()
    except StreamingQueryException as exc:
        raise AflError(f"{query.name} failed: {_root_cause(str(exc))}") from None


def _root_cause(message: str) -> str:
    """The innermost 'SomeError: text' line of a Python/JVM trace."""
    causes = re.findall(r"^\s*(?:[\w.]+\.)?(\w+(?:Error|Exception)): (.+)$", message, re.M)
    if causes:
        name, text = causes[-1]
        return f"{name}: {text.strip()}"
    return message.strip().splitlines()[0]


def _rows(spark: SparkSession, path: str) -> int:
    return spark.read.format("delta").load(path).count()


def _stop_between_batches(query: StreamingQuery) -> None:
    """Let the running micro-batch finish, then stop: a clean shutdown commits what it started."""
    deadline = time.monotonic() + STOP_GRACE_S
    while query.isActive and query.status.get("isTriggerActive") and time.monotonic() < deadline:
        time.sleep(0.1)
    query.stop()


@contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[threading.Event]:
    """SIGTERM/Ctrl-C set ``stop`` instead of killing the process.

    Entered before the Spark session starts, so a stop asked for during start-up is a clean
    stop too (a supervisor's SIGTERM can come at any moment).
    """
    restore = _install_stop_handlers(stop)
    try:
        yield stop
    finally:
        restore()


def _install_stop_handlers(stop: threading.Event) -> Callable[[], None]:
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}

    def handler(signum: int, frame: object) -> None:
        log.warning("signal %s: stopping the stream after the current batch", signum)
        stop.set()

    for sig in previous:
        signal.signal(sig, handler)

    def restore() -> None:
        for sig, old in previous.items():
            signal.signal(sig, old)

    return restore
