"""Landing a micro-batch's accepted records in silver: typed, fitted, deduplicated, appended.

1. Per event type (tables in parallel): type the records with the contracts of the versions
   present and fit them to the table (``_typing_problem``, ``_conflict``), materialized once.
2. One decision for the whole batch: which copy of each (event_type, event_id) lands. The
   earlier copies it needs come from ``RecentLanded`` (what the stream landed within the
   dedup horizon, in memory) and, for events that occurred long before they were sent,
   from their own date partitions (see docs/architecture.md, "Exactly-once").
3. Per table (in parallel): one append of the landing rows to the general table and one to
   the restricted companion; duplicates whose content differs become quarantine rows.

Cost per batch follows the batch and the horizon, never the size of the tables.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import reduce

import numpy as np
from pyspark.sql import Column, DataFrame, Row, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from pipelines.contracts.registry import Contract, ContractSet, contract_set
from pipelines.contracts.topics import DLQ_TOPIC, TOPICS
from pipelines.errors import AflError
from pipelines.ingest.appender import TableAppender
from pipelines.ingest.isolation import BatchFrames, Isolated
from pipelines.ingest.recent import KEY_HASH, RECENT_SCHEMA, RecentLanded, key_hashes
from pipelines.ingest.schema_fit import SchemaEvolution, fit_to_table
from pipelines.settings import Settings
from pipelines.spark.tables import (
    BRONZE_AGENT_EVENTS,
    TableSpec,
    silver_restricted_spec,
    silver_spec,
)
from pipelines.transforms.dedup import COORDS, candidates, conflicting, decide, key_hash
from pipelines.transforms.silver import (
    IngestRules,
    split_restricted,
    typed_events,
    with_rejection,
)

WRITERS = 5  # tables typed and written at once: one's commit overlaps another's job
RECORD_COORDS = ("topic", "partition", "offset")
# An event whose Kafka time is older than this, against the batch's newest, is looked up by
# its own date only (a producer's clock cannot widen every lookup to the whole table).
LOOKBACK = timedelta(days=7)
_KEY = ("event_type", "event_id")
# What the batch-wide decision needs of each typed row.
_NARROW = (
    "event_id",
    *COORDS,
    "kafka_timestamp",
    "contains_pii",
    "_eligible",
    "_typing_problem",
    "_conflict",
)
_HELPERS = ("_typing_problem", "_conflict", "_eligible")

# Whether a table already holds a batch's rows, asked with one of those rows' coordinates;
# None when the batch cannot be a replay.
Holds = Callable[[TableSpec, Column], bool] | None


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
    """What landing one batch's accepted records did."""

    inserted: dict[str, int] = field(default_factory=dict)  # event type -> new silver rows
    duplicates: int = 0  # copies of landed events with the same content
    quarantine: list[DataFrame] = field(default_factory=list)  # rejected while landing
    quarantined: int = 0  # how many rows ``quarantine`` holds
    rows_by_table: dict[str, int] = field(default_factory=dict)
    decided: DataFrame | None = None  # the batch's materialized decision (``_fate`` per row)
    keys: np.ndarray | None = None  # the key hashes of the batch's typed rows


@dataclass(frozen=True)
class TypePlan:
    """One event type's share of a batch, from the tally."""

    event_type: str
    versions: tuple[int, ...]
    records: int
    since: datetime  # copies sent from here on are looked up whatever they carry
    late_dates: tuple[date, ...] = ()  # dates with events that occurred before ``since``
    late_from: datetime | None = None  # the oldest such event, less the clock skew


@dataclass(frozen=True)
class _Typed:
    plan: TypePlan
    contracts: list[Contract]
    spec: TableSpec
    schema: T.StructType | None  # the silver table's, None while it does not exist
    records: DataFrame  # the classified records of this type
    rows: DataFrame  # typed, fitted; _typing_problem, _conflict, _eligible
    isolated: list[Isolated]


class SilverWriter:
    """Lands classified records in silver. ``remember`` keeps what landed in memory for the
    next batches' lookups (a running stream); without it every lookup reads the tables."""

    def __init__(
        self,
        settings: Settings,
        rules: IngestRules,
        schema_evolution: SchemaEvolution = SchemaEvolution.ADD_NEW_COLUMNS,
        *,
        remember: bool = True,
    ) -> None:
        self.settings = settings
        self.rules = rules
        self.mode = SchemaEvolution.parse(schema_evolution)
        self.horizon = timedelta(minutes=settings.dedup_horizon_minutes)
        self.skew = timedelta(minutes=settings.dedup_clock_skew_minutes)
        self.tables = TableAppender(settings)
        self.recent = RecentLanded() if remember else None

    def tally(self, classified: DataFrame) -> list[Row]:
        """Records per (type, version, event date, accepted): counts and the times the
        lookups and the progress row need. One small job."""
        return (
            classified.groupBy(
                "event_type",
                "schema_version",
                "event_date",
                F.col("rejection").isNull().alias("ok"),
            )
            .agg(
                F.count("*").alias("n"),
                F.min("kafka_timestamp").alias("oldest"),
                F.max("kafka_timestamp").alias("newest"),
                F.min("occurred_at").alias("first_occurred"),
            )
            .collect()
        )

    def plans(self, tally: list[Row]) -> list[TypePlan]:
        accepted = [r for r in tally if r["ok"]]
        plans = []
        for event_type in sorted({r["event_type"] for r in accepted}):
            rows = [r for r in accepted if r["event_type"] == event_type]
            newest = max(r["newest"] for r in rows)
            oldest = min(r["oldest"] for r in rows)
            since = max(oldest, newest - LOOKBACK) - self.horizon
            late = [r for r in rows if r["first_occurred"] - self.skew < since]
            plans.append(
                TypePlan(
                    event_type=event_type,
                    versions=tuple(sorted({r["schema_version"] for r in rows})),
                    records=sum(r["n"] for r in rows),
                    since=since,
                    late_dates=tuple(sorted({r["event_date"] for r in late})),
                    late_from=min((r["first_occurred"] for r in late), default=None),
                )
            )
        return plans

    def land(
        self,
        frames: BatchFrames,
        classified: DataFrame,
        tally: list[Row],
        batch_id: int | None,
        holds: Holds = None,
        mark: Callable[[str], None] = lambda step: None,
        alongside: Callable[[Landed], None] = lambda landed: None,
    ) -> Landed:
        """Type per event type, decide once for the batch, append per table; ``mark(step)``
        after each step (the batch's timings). ``alongside(landed)`` runs once, while the
        silver appends do, as soon as ``landed`` knows its quarantine rows (the batch's
        quarantine append overlaps silver's)."""
        spark = classified.sparkSession
        plans = self.plans(tally)
        if not plans:
            landed = Landed()
            alongside(landed)
            return landed
        with ThreadPoolExecutor(max_workers=WRITERS) as pool:
            typed = list(pool.map(lambda p: self._typed(frames, classified, p, batch_id), plans))
        mark("typing")
        landed = Landed()
        for t in typed:
            if t.isolated:
                landed.quarantine.append(isolated_rows(spark, t.records, t.isolated, "typing"))
        narrow = reduce(
            DataFrame.unionByName,
            [t.rows.select(*_NARROW, F.lit(t.plan.event_type).alias("event_type")) for t in typed],
        ).withColumn(KEY_HASH, key_hash(_KEY))
        keys = key_hashes(narrow) if self.recent is not None else None
        earlier = candidates(self._may_hold_copies(spark, typed, keys), narrow, _KEY, KEY_HASH)
        decided = frames.keep(
            decide(narrow, earlier, F.col("_eligible"), _KEY).withColumn("_fate", _fate())
        )
        fates = {
            (r["event_type"], r["_fate"], r["contains_pii"]): r["n"]
            for r in decided.groupBy("event_type", "_fate", "contains_pii")
            .agg(F.count("*").alias("n"))
            .collect()
        }
        mark("dedup")

        def count(event_type: str | None, *kinds: str, pii: bool | None = None) -> int:
            return sum(
                n
                for (et, fate, with_pii), n in fates.items()
                if (event_type is None or et == event_type)
                and fate in kinds
                and (pii is None or with_pii == pii)
            )

        def append(t: _Typed) -> dict[str, int]:
            et = t.plan.event_type
            landing = (count(et, "land"), count(et, "land", pii=True))
            every_row = landing[0] == count(et, *FATES)
            return self._append(t, decided, landing, every_row, batch_id, holds)

        with ThreadPoolExecutor(max_workers=WRITERS) as pool:
            appends = [pool.submit(append, t) for t in typed]
            unfit = count(None, "unrepresentable", "schema_conflict")
            if unfit:
                rows = decided.where(F.col("_fate").isin("unrepresentable", "schema_conflict"))
                landed.quarantine.append(_unfit_rows(classified, rows))
            copies = count(None, "copy")
            differing = 0
            if copies:
                conflicting_rows, differing = self._conflicting_copies(frames, classified, decided)
                landed.quarantine.append(conflicting_rows)
            landed.duplicates = copies - differing
            landed.quarantined = sum(len(t.isolated) for t in typed) + unfit + differing
            alongside(landed)
            written = [a.result() for a in appends]
        mark("silver")
        for t, tables in zip(typed, written, strict=True):
            landed.inserted[t.plan.event_type] = count(t.plan.event_type, "land")
            landed.rows_by_table.update(tables)
        landed.decided, landed.keys = decided, keys
        return landed

    def remember(
        self,
        frames: BatchFrames,
        landed: Landed,
        plans: list[TypePlan],
        newest: datetime | None,
    ) -> None:
        """After the batch committed: what landed joins the recent events (the batch's
        materialized decision, taken over from ``frames``); what no later batch asks for
        (sent before this batch's ``since``) goes. A later batch with an older record
        loads that window from the tables again, so trimming never costs exactness."""
        if self.recent is None:
            return
        if landed.decided is not None and landed.keys is not None:
            decided = frames.hand_over(landed.decided)
            landing = decided.where(F.col("_fate") == "land")
            self.recent.add(landing, newest, decided, landed.keys)
        self.recent.trim({p.event_type: p.since for p in plans})

    def forget(self) -> None:
        """The stream stopped: nothing it remembers may be trusted by a later run."""
        self.tables.forget()
        if self.recent is not None:
            self.recent.clear()

    # -- steps ----------------------------------------------------------------------------

    def _typed(
        self, frames: BatchFrames, classified: DataFrame, plan: TypePlan, batch_id: int | None
    ) -> _Typed:
        """One event type's accepted records, typed and fitted to its table, materialized."""
        spark = classified.sparkSession
        cs = self.rules.contracts
        contracts = [cs.get(plan.event_type, v) for v in plan.versions]
        records = classified.where(
            F.col("rejection").isNull() & (F.col("event_type") == plan.event_type)
        )
        spec = silver_spec(plan.event_type)
        schema = self.tables.schema(spark, spec)
        hashed = {k.split(".", 1)[1] for c in contracts for k in c.field_classes}

        def typed(part: DataFrame) -> DataFrame:
            rows = typed_events(part, contracts, self.rules)
            if schema is not None:
                rows = fit_to_table(rows, schema, spec.qualified_name, self.mode, hashed)
            eligible = F.col("_typing_problem").isNull() & F.col("_conflict").isNull()
            return rows.withColumn("_eligible", eligible)

        rows, isolated = frames.keep_isolating(typed, records)
        return _Typed(plan, contracts, spec, schema, records, rows, isolated)

    def _may_hold_copies(
        self, spark: SparkSession, typed: list[_Typed], keys: np.ndarray | None
    ) -> DataFrame:
        """Every landed row an earlier copy of this batch's events can be: sent since the
        plan's ``since`` (any date), or, for late events, on their own dates. ``keys``: the
        batch's key hashes (what the recent events are asked about)."""
        existing = {t.plan.event_type: t for t in typed if t.schema is not None}
        since = {et: t.plan.since for et, t in existing.items()}

        def rows_of(event_type: str) -> DataFrame:  # read only when a lookup needs the table
            table = self.tables.read(spark, existing[event_type].spec)
            assert table is not None
            rows = table.select(
                F.lit(event_type).alias("event_type"), "event_id", *COORDS, "kafka_timestamp"
            )
            return rows.withColumn(KEY_HASH, key_hash(_KEY))

        def load(event_type: str, low: datetime, until: datetime | None) -> DataFrame:
            window = F.col("kafka_timestamp") >= F.lit(low)
            if until is not None:
                window = window & (F.col("kafka_timestamp") < F.lit(until))
            return rows_of(event_type).where(window)

        if self.recent is not None:
            assert keys is not None
            found = [self.recent.lookup(spark, since, load, keys)]
        else:
            found = [load(et, low, None) for et, low in since.items()]
        for et, t in existing.items():
            if t.plan.late_dates:
                assert t.plan.late_from is not None
                found.append(
                    rows_of(et).where(
                        F.col("event_date").isin(list(t.plan.late_dates))
                        & (F.col("kafka_timestamp") >= F.lit(t.plan.late_from - self.skew))
                        & (F.col("kafka_timestamp") < F.lit(t.plan.since))
                    )
                )
        if not found:
            return spark.createDataFrame([], RECENT_SCHEMA)
        return reduce(DataFrame.unionByName, found)

    def _append(
        self,
        t: _Typed,
        decided: DataFrame,
        counts: tuple[int, int],
        every_row: bool,
        batch_id: int | None,
        holds: Holds,
    ) -> dict[str, int]:
        """The landing rows of one type into its general table and restricted companion;
        ``counts``: (rows landing, of which with user text or PII); ``every_row``: all of
        the type's typed rows land (no copies, nothing unfit: the usual batch)."""
        spark = decided.sparkSession
        inserted, with_pii = counts
        by_table = {t.spec.qualified_name: inserted}
        restricted_spec = silver_restricted_spec(t.plan.event_type, self.rules.contracts)
        if restricted_spec is not None:
            by_table[restricted_spec.qualified_name] = with_pii
        if not inserted:
            return by_table
        landing = decided.where(
            (F.col("_fate") == "land") & (F.col("event_type") == t.plan.event_type)
        ).select(*COORDS, "kafka_timestamp", "contains_pii")
        # The batch id joins the rows only here: a literal in the typing projection would
        # make Spark compile that (large) projection again for every batch.
        chosen = (
            t.rows
            if every_row
            else t.rows.join(F.broadcast(landing.select(*COORDS)), list(COORDS), "left_semi")
        )
        new_rows = chosen.withColumn("ingest_batch_id", F.lit(batch_id).cast("long"))
        general, restricted = split_restricted(
            new_rows.drop(*_HELPERS), t.contracts, self.rules.hash_salt
        )
        if holds is None or not holds(t.spec, record_at(first_record(landing))):
            self.tables.append(spark, t.spec, general, inserted)
        if restricted is None or restricted_spec is None or not with_pii:
            return by_table
        with_text = landing.where(F.col("contains_pii"))
        if holds is None or not holds(restricted_spec, record_at(first_record(with_text))):
            self.tables.append(spark, restricted_spec, restricted, with_pii)
        return by_table

    def _conflicting_copies(
        self, frames: BatchFrames, classified: DataFrame, decided: DataFrame
    ) -> tuple[DataFrame, int]:
        """The duplicate records whose content differs from the copy that landed."""
        copies = decided.where(F.col("_fate") == "copy").select(
            F.col("kafka_topic").alias("topic"),
            F.col("kafka_partition").alias("partition"),
            F.col("kafka_offset").alias("offset"),
            "_original",
        )
        records = classified.join(F.broadcast(copies), list(RECORD_COORDS))
        wanted = copies.select("_original.*").distinct()
        originals = bronze_values(
            classified.sparkSession, BRONZE_AGENT_EVENTS.path(self.settings), wanted
        )
        found = frames.keep(conflicting(records, originals))
        return found, found.count()


FATES = ("land", "copy", "unrepresentable", "schema_conflict")


def _fate() -> Column:
    """Where a typed record goes: land, copy, unrepresentable or schema_conflict."""
    return (
        F.when(F.col("_typing_problem").isNotNull(), F.lit("unrepresentable"))
        .when(F.col("_conflict").isNotNull(), F.lit("schema_conflict"))
        .when(F.col("_original").isNull(), F.lit("land"))
        .otherwise(F.lit("copy"))
    )


def first_record(rows: DataFrame, names: Sequence[str] = COORDS) -> Row | None:
    """One record of ``rows``: its Kafka coordinates (``names``) and Kafka timestamp in
    microseconds (a Python datetime would depend on the driver's time zone and DST)."""
    return rows.select(*names, F.unix_micros("kafka_timestamp")).first()


def record_at(record: Row | None, names: Sequence[str] = COORDS) -> Column:
    """The table row of that record. The Kafka timestamp lets Delta skip every file written
    at another time (a file's offset range spans every partition it holds, so offsets alone
    skip little). ``record`` is ``first_record`` of rows known not to be empty."""
    if record is None:
        raise AflError("no record to look for: the rows were empty")
    *coords, micros = record
    at = [F.col(n) == v for n, v in zip(names, coords, strict=True)]
    if micros is None:
        at.append(F.col("kafka_timestamp").isNull())
    else:
        at.append(F.col("kafka_timestamp") == F.timestamp_micros(F.lit(micros)))
    found: Column = reduce(lambda a, b: a & b, at)
    return found


def bronze_records(spark: SparkSession, bronze_path: str, wanted: DataFrame) -> DataFrame:
    """The bronze rows of the records named by ``wanted`` (kafka_topic, kafka_partition,
    kafka_offset).

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
    named = wanted.select(
        F.col("kafka_topic").alias("topic"),
        F.col("kafka_partition").alias("partition"),
        F.col("kafka_offset").alias("offset"),
    )
    bronze = spark.read.format("delta").load(bronze_path).where(within)
    return bronze.join(F.broadcast(named), ["topic", "partition", "offset"], "left_semi")


def bronze_values(spark: SparkSession, bronze_path: str, wanted: DataFrame) -> DataFrame:
    """``kafka_topic, kafka_partition, kafka_offset, value`` of the bronze records named."""
    return bronze_records(spark, bronze_path, wanted).select(
        F.col("topic").alias("kafka_topic"),
        F.col("partition").alias("kafka_partition"),
        F.col("offset").alias("kafka_offset"),
        "value",
    )


def isolated_rows(
    spark: SparkSession, records: DataFrame, isolated: Sequence[Isolated], stage: str
) -> DataFrame:
    """Records that failed a step on their own, as processing_error rejections."""
    reasons = spark.createDataFrame(
        [(*i.key, "processing_error", None, i.message[:1000], stage) for i in isolated],
        "topic string, partition int, offset long, kind string, field string, "
        "message string, stage string",
    )
    return with_rejection(records, reasons)


def _unfit_rows(records: DataFrame, unfit: DataFrame) -> DataFrame:
    """Records typing could not read exactly, or whose types the table cannot take."""
    conflict = F.col("_fate") == "schema_conflict"
    reasons = unfit.select(
        F.col("kafka_topic").alias("topic"),
        F.col("kafka_partition").alias("partition"),
        F.col("kafka_offset").alias("offset"),
        F.col("_fate").alias("kind"),
        F.when(conflict, F.regexp_extract("_conflict", r"^(payload\.\w+)", 1)).alias("field"),
        F.when(conflict, F.regexp_replace("_conflict", r"^payload\.\w+: ", ""))
        .otherwise(F.col("_typing_problem"))
        .alias("message"),
        F.when(conflict, F.lit("schema")).otherwise(F.lit("typing")).alias("stage"),
    )
    return with_rejection(records, reasons)
