"""One micro-batch of Kafka records into bronze, silver, quarantine and ops.stream_progress.

Order within the batch: bronze first (the raw capture, appended while the records are
classified), then silver (``SilverWriter.land``) and quarantine side by side, then the
progress row.
Nothing a record carries can stop this: a record that makes a step fail is isolated and
quarantined (``BatchFrames.keep_isolating``).

Exactly once. Spark re-runs a batch after a crash with the same records. The batch's frames
are materialized once and its decisions depend only on its records and the tables as the
previous batches left them, so a re-run decides what the first attempt decided. The first
batch a process runs may be such a re-run: it asks each table whether it already holds the
batch's rows (by the Kafka coordinates of one of them: a record belongs to one batch, and
each table gets one append per batch) and skips those appends. Bronze is read back for the
records it already holds, so silver's ``ingested_at`` is what bronze says.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime
from functools import reduce

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.streaming.query import StreamingQuery

from pipelines.contracts.watch import ContractWatch
from pipelines.errors import AflError
from pipelines.ingest.checkpoint import batch_offsets, kafka_lag
from pipelines.ingest.contract_record import record_accepted, stream_contracts
from pipelines.ingest.isolation import BatchFrames
from pipelines.ingest.landing import (
    RECORD_COORDS,
    Holds,
    Landed,
    SilverWriter,
    bronze_records,
    first_record,
    ingest_rules,
    isolated_rows,
    record_at,
)
from pipelines.ingest.progress import BatchCounts, BatchProgress
from pipelines.ingest.schema_fit import SchemaEvolution
from pipelines.ingest.telemetry import StreamMetrics
from pipelines.kafka_admin import KafkaUnavailable, end_offsets
from pipelines.settings import Settings
from pipelines.spark.tables import BRONZE_AGENT_EVENTS, QUARANTINE, STREAM_PROGRESS, TableSpec
from pipelines.transforms.bronze import kafka_to_bronze
from pipelines.transforms.schemas import STREAM_PROGRESS_SCHEMA
from pipelines.transforms.silver import IngestRules, classify, quarantine_rows

log = logging.getLogger(__name__)

INGEST_QUERY = "agent_events"
LAG_TIMEOUT_S = 2.0  # asking Kafka its end offsets after each batch, for the lag


class IngestBatch:
    """The foreachBatch function of the ingest query."""

    def __init__(
        self,
        settings: Settings,
        *,
        query_name: str = INGEST_QUERY,
        schema_evolution: SchemaEvolution | str = SchemaEvolution.ADD_NEW_COLUMNS,
        rules: IngestRules | None = None,
        metrics: StreamMetrics | None = None,
    ) -> None:
        self.settings = settings
        self.metrics = metrics
        self.query_name = query_name
        if rules is None:  # the folder checked against what this query published before
            rules = ingest_rules(settings, stream_contracts(settings, query_name))
        self.writer = SilverWriter(settings, rules, SchemaEvolution.parse(schema_evolution))
        self.contracts = ContractWatch(self.writer.rules.contracts)
        self.query_id: str | None = None
        self._ready = threading.Event()
        self._last_batch: int | None = None
        self._previous_start: float | None = None
        self.phases: dict[str, float] = {}  # the last batch's steps, seconds each (logged)

    def bind_query(self, query: StreamingQuery) -> None:
        """The query's id (stable across restarts, new with a new checkpoint) names its rows."""
        self.query_id = str(query.id)
        self._ready.set()

    def __call__(self, kafka_records: DataFrame, batch_id: int) -> None:
        started = time.time()
        if not self._ready.wait(60):
            raise AflError("the ingest query never bound its id to the batch writer")
        counts = self.write(kafka_records, batch_id, started)
        steps = ", ".join(f"{k} {v:.2f}s" for k, v in self.phases.items())
        log.info("batch %s: %s (%s)", batch_id, counts, steps)

    def write(self, kafka_records: DataFrame, batch_id: int, started: float) -> BatchCounts:
        """Kafka records (the Kafka source's columns) into every table, exactly once."""
        # A process's first batch, or one Spark runs again, may have committed some writes.
        maybe_rerun = self._last_batch is None or batch_id <= self._last_batch
        if not maybe_rerun:  # a re-run decides with the contracts its first attempt had
            self._pick_up_contracts()
        frames = BatchFrames()
        try:
            counts = self._write(frames, kafka_records, batch_id, started, maybe_rerun)
        except BaseException:
            self.writer.forget()  # a failed batch leaves nothing to trust in memory
            raise
        finally:
            frames.release()
        self._last_batch = batch_id
        return counts

    def _pick_up_contracts(self) -> None:
        """Contract versions added to the folder since the last batch, if compatible."""
        accepted = self.contracts.poll()
        if accepted is not None:
            record_accepted(self.settings, self.query_name, accepted)
            self.writer.rules = replace(self.writer.rules, contracts=accepted)

    def _write(
        self,
        frames: BatchFrames,
        kafka_records: DataFrame,
        batch_id: int,
        started: float,
        maybe_rerun: bool,
    ) -> BatchCounts:
        spark = kafka_records.sparkSession
        self.phases = {}
        mark = _clock(self.phases)
        # One task per core, not per topic partition: a live batch is small, and each of its
        # steps would otherwise run ~20 tiny tasks (classifying 20,000 records took 3x longer).
        cores = spark.sparkContext.defaultParallelism
        records = frames.keep(kafka_to_bronze(kafka_records).coalesce(cores))
        tables = self.writer.tables
        holds = self._holds(spark) if maybe_rerun else None
        capture = None
        first = first_record(records, RECORD_COORDS)
        if first is None:  # nothing arrived: nothing to write
            return BatchCounts()
        if holds is not None and holds(BRONZE_AGENT_EVENTS, record_at(first, RECORD_COORDS)):
            expected = records.count()
            records = frames.keep(_held_in_bronze(spark, self.settings, records))
            if records.count() != expected:  # one append per batch: all or nothing
                raise AflError(f"bronze holds part of batch {batch_id}; it must hold all or none")
        else:
            pool = ThreadPoolExecutor(max_workers=1)
            count = records.count()
            capture = pool.submit(tables.append, spark, BRONZE_AGENT_EVENTS, records, count)
            pool.shutdown(wait=False)
        mark("read")
        classified, isolated = frames.keep_isolating(
            lambda r: classify(r, self.writer.rules), records
        )
        tally = self.writer.tally(classified)
        mark("classify")
        if capture is not None:
            capture.result()  # bronze before any silver write: it is what silver came from
        mark("bronze")
        rejected = [classified]
        if isolated:
            rejected.append(isolated_rows(spark, records, isolated, "classify"))
        refused = sum(r["n"] for r in tally if not r["ok"]) + len(isolated)

        def quarantine(landed: Landed) -> None:  # runs while silver's appends do
            quarantined = refused + landed.quarantined
            if not quarantined:
                return
            frames_of = [*rejected, *landed.quarantine]
            rows = frames.keep(
                reduce(DataFrame.unionByName, [quarantine_rows(f, batch_id) for f in frames_of])
            )
            if holds is None or not holds(QUARANTINE, record_at(first_record(rows))):
                tables.append(spark, QUARANTINE, rows, quarantined)

        landed = self.writer.land(
            frames, classified, tally, batch_id, holds, mark, alongside=quarantine
        )
        quarantined = refused + landed.quarantined
        counts = BatchCounts(
            input_rows=sum(r["n"] for r in tally) + len(isolated),
            valid_rows=sum(landed.inserted.values()),
            quarantined_rows=quarantined,
            duplicate_rows=landed.duplicates,
            rows_by_table={
                BRONZE_AGENT_EVENTS.qualified_name: sum(r["n"] for r in tally) + len(isolated),
                **landed.rows_by_table,
                QUARANTINE.qualified_name: quarantined,
            },
        )
        oldest = min((r["oldest"] for r in tally if r["oldest"] is not None), default=None)
        counts = self._progress(spark, batch_id, started, counts, oldest, holds)
        mark("progress")
        newest = max((r["newest"] for r in tally if r["newest"] is not None), default=None)
        self.writer.remember(frames, landed, self.writer.plans(tally), newest)
        mark("remember")
        return counts

    def _progress(
        self,
        spark: SparkSession,
        batch_id: int,
        started: float,
        counts: BatchCounts,
        oldest: datetime | None,
        holds: Holds,
    ) -> BatchCounts:
        """The batch's ops.stream_progress row, written last."""
        mine = (
            (F.col("query_name") == self.query_name)
            & (F.col("query_id") == self.query_id)
            & (F.col("batch_id") == batch_id)
        )
        if holds is not None and holds(STREAM_PROGRESS, mine):
            return counts
        finished = time.time()
        since = started - self._previous_start if self._previous_start else None
        self._previous_start = started
        lag = self._kafka_lag_after(batch_id)
        progress = BatchProgress(
            self.query_name, batch_id, started, finished, counts, oldest, since, self.query_id, lag
        )
        frame = spark.createDataFrame([progress.row()], STREAM_PROGRESS_SCHEMA)
        self.writer.tables.append(spark, STREAM_PROGRESS, frame, 1)
        if self.metrics is not None:
            self.metrics.record_batch(progress)
        return counts

    def _kafka_lag_after(self, batch_id: int) -> dict[tuple[str, int], int] | None:
        """What Kafka holds beyond this batch's end offsets, now (None: Kafka did not answer).

        The end offsets are the checkpoint's (Spark wrote them before the batch ran); the
        latest are asked of Kafka with a short timeout: a slow answer must not hold the batch.
        """
        try:
            ends = batch_offsets(self.settings.checkpoint_path(self.query_name), batch_id)
            if not ends:
                return None
            latest = end_offsets(self.settings, list(ends), timeout_s=LAG_TIMEOUT_S)
        except KafkaUnavailable:
            return None
        except Exception as exc:  # an observation: it never fails a batch
            log.warning("batch %s: Kafka lag not measured: %s", batch_id, exc)
            return None
        return kafka_lag(latest, ends)

    def _holds(self, spark: SparkSession) -> Callable[[TableSpec, Column], bool]:
        tables = self.writer.tables

        def holds(spec: TableSpec, where: Column) -> bool:
            found = tables.holds(spark, spec, where)
            if found:
                log.warning("%s already holds this batch's rows: not appended again", spec.name)
            return found

        return holds


def _clock(phases: dict[str, float]) -> Callable[[str], None]:
    """``mark(step)`` records the seconds since the previous mark under ``step``."""
    last = [time.perf_counter()]

    def mark(step: str) -> None:
        now = time.perf_counter()
        phases[step] = phases.get(step, 0.0) + now - last[0]
        last[0] = now

    return mark


def _held_in_bronze(spark: SparkSession, settings: Settings, records: DataFrame) -> DataFrame:
    """The batch's records as bronze already holds them (a re-run after bronze committed)."""
    wanted = records.select(
        F.col("topic").alias("kafka_topic"),
        F.col("partition").alias("kafka_partition"),
        F.col("offset").alias("kafka_offset"),
    )
    held = bronze_records(spark, BRONZE_AGENT_EVENTS.path(settings), wanted)
    return held.select(*records.columns)
