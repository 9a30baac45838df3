"""``afl verify lake``: the lake's invariants, checked from the tables themselves.

Each check reads what the stream wrote and says, in one line, whether the promise holds:

- bronze offsets: every Kafka offset from the low watermark to the committed end, once;
- batch accounting: every silver micro-batch's valid + quarantined + duplicates = input,
  and its valid and quarantined counts match the rows the tables hold for that batch;
- every record accounted: each bronze record the silver query has processed is a silver
  row, a quarantine row, or an identical copy of an event that is in silver;
- restricted companions: each general row carrying user text or PII has exactly one
  restricted row, and each restricted row one general row;
- one row per event_id in every silver table;
- traceable: every silver and quarantine row points at a bronze record;
- governed: every row's classification and retention are its table's (silver, restricted
  companions, quarantine);
- typed by its own contract: every typed column of every silver row (and restricted
  companion row) is null or a value the row's own contract version allows; a column (or
  nested field) its version does not declare is null.

Rows a retention run deleted are accounted for by its ledger (ops.retention_runs and
ops.retention_batches): a batch balances with the rows deleted from it, a record is
accounted when its row expired, a companion may be gone once restricted data expires.
Bronze records a retention run expired are accounted by ops.bronze_expiry: their offset
ranges (a silver or quarantine row may point into them) and how many had no row left.
Rows a subject erasure deleted are accounted by theirs (ops.erased_records): an erased
record fills its offset, a batch balances with the rows erased from it, an erased copy
(or a later copy of an erased event) balances with the copies progress counted.

They assume one silver checkpoint lineage (a reset checkpoint re-reads bronze: its second
pass would count everything as duplicates).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import reduce

from delta.tables import DeltaTable
from pyspark import SparkContext
from pyspark.sql import Column, DataFrame, Row, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from pipelines.contracts.registry import Contract, ContractSet, contract_set
from pipelines.contracts.spark_schema import satisfies
from pipelines.errors import AflError
from pipelines.governance.classification import retention_until
from pipelines.ingest.batch import INGEST_QUERY
from pipelines.ingest.checkpoint import committed_offsets
from pipelines.ingest.contract_record import lake_contracts
from pipelines.ingest.offsets import verify_offsets
from pipelines.settings import Settings
from pipelines.spark.io import one_row
from pipelines.spark.tables import (
    BRONZE_AGENT_EVENTS,
    BRONZE_EXPIRY,
    ERASED_RECORDS,
    QUARANTINE,
    RETENTION_BATCHES,
    RETENTION_RUNS,
    SILVER_TABLE_FOR,
    STREAM_PROGRESS,
    TableSpec,
    read_table,
    silver_restricted_spec,
    silver_spec,
)

RECORD = ["topic", "partition", "offset"]
# Queries whose batches land silver rows: this version's, and 0.1's silver query.
SILVER_WRITERS = (INGEST_QUERY, "silver_agent_events")
SHOWN = 5  # examples named per violation


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    seconds: float

    def describe(self) -> str:
        return (
            f"{'ok' if self.ok else 'BROKEN':6} {self.name}: {self.detail} ({self.seconds:.1f} s)"
        )


def verify_lake(spark: SparkSession, settings: Settings) -> list[Check]:
    """Every invariant, in order; each result says what it found."""
    lake = _Lake.load(spark, settings)
    checks: list[tuple[str, Callable[[], tuple[bool, str]]]] = [
        ("bronze offsets", lambda: _offsets(spark, settings)),
        ("batch accounting", lake.accounting),
        ("every record accounted", lake.records_accounted),
        ("restricted companions", lake.companions),
        ("one row per event_id", lake.unique_event_ids),
        ("traceable to bronze", lake.traceable),
        ("governed rows", lake.governed),
        ("typed by its own contract", lake.typed_by_own_contract),
    ]
    results = []
    for name, run in checks:
        started = time.perf_counter()
        ok, detail = run()
        results.append(Check(name, ok, detail, time.perf_counter() - started))
    return results


def _offsets(spark: SparkSession, settings: Settings) -> tuple[bool, str]:
    reports = verify_offsets(spark, settings)
    broken = [r.describe() for r in reports if not r.ok]
    rows = sum(r.rows for r in reports)
    if broken:
        return False, f"{len(broken)} partition(s) broken: " + "; ".join(broken[:SHOWN])
    return True, f"{len(reports)} partitions, {rows:,} records, no gap, no repeat"


class _Lake:
    """The tables the checks read, loaded once."""

    def __init__(self, spark: SparkSession, settings: Settings) -> None:
        self.spark = spark
        self.settings = settings
        bronze = _read(spark, BRONZE_AGENT_EVENTS.path(settings))
        if bronze is None:
            raise AflError("there is no bronze table yet; run `afl stream` first")
        self.bronze: DataFrame = bronze
        self.general: dict[str, DataFrame] = {}
        self.restricted: dict[str, DataFrame] = {}
        for event_type in SILVER_TABLE_FOR:
            spec = silver_spec(event_type)
            frame = _read(spark, spec.path(settings))
            if frame is not None:
                self.general[spec.qualified_name] = frame
            restricted = silver_restricted_spec(event_type, contract_set())
            if restricted is not None:
                frame = _read(spark, restricted.path(settings))
                if frame is not None:
                    self.restricted[event_type] = frame
        self.quarantine = _read(spark, QUARANTINE.path(settings))
        progress = _read(spark, STREAM_PROGRESS.path(settings))
        self.progress = (
            progress.where(F.col("query_name").isin(*SILVER_WRITERS))
            if progress is not None
            else None
        )
        self.retention = _Retention.load(spark, settings)
        self.contracts = lake_contracts(settings, INGEST_QUERY)

    @classmethod
    def load(cls, spark: SparkSession, settings: Settings) -> _Lake:
        return cls(spark, settings)

    def silver_coords(self) -> DataFrame | None:
        frames = [
            t.select(
                F.col("kafka_topic").alias("topic"),
                F.col("kafka_partition").alias("partition"),
                F.col("kafka_offset").alias("offset"),
                "event_id",
                "ingest_batch_id",
            )
            for t in self.general.values()
        ]
        return reduce(DataFrame.unionByName, frames) if frames else None

    def quarantine_coords(self) -> DataFrame | None:
        if self.quarantine is None:
            return None
        return self.quarantine.select(
            F.col("kafka_topic").alias("topic"),
            F.col("kafka_partition").alias("partition"),
            F.col("kafka_offset").alias("offset"),
            "status",
            "ingest_batch_id",
        )

    # -- checks ---------------------------------------------------------------------------

    def accounting(self) -> tuple[bool, str]:
        if self.progress is None:
            return False, "no ops.stream_progress rows for the silver query"
        rows = self.progress.select(
            "batch_id", "input_rows", "valid_rows", "quarantined_rows", "duplicate_rows"
        ).collect()
        problems = [
            f"batch {r['batch_id']}: {r['valid_rows']} valid + {r['quarantined_rows']} "
            f"quarantined + {r['duplicate_rows']} duplicates != {r['input_rows']} read"
            for r in rows
            if r["valid_rows"] + r["quarantined_rows"] + r["duplicate_rows"] != r["input_rows"]
        ]
        claimed: dict[int, tuple[int, int]] = {}
        for r in rows:
            valid, quarantined = claimed.get(r["batch_id"], (0, 0))
            claimed[r["batch_id"]] = (valid + r["valid_rows"], quarantined + r["quarantined_rows"])
        silver = self.silver_coords()
        landed = (
            {r[0]: r[1] for r in silver.groupBy("ingest_batch_id").count().collect()}
            if silver is not None
            else {}
        )
        quarantine = self.quarantine_coords()
        held = (
            {r[0]: r[1] for r in quarantine.groupBy("ingest_batch_id").count().collect()}
            if quarantine is not None
            else {}
        )
        expired_silver = self.retention.by_batch(set(self.general))
        expired_quarantine = self.retention.by_batch({QUARANTINE.qualified_name})
        for batch_id, (valid, quarantined) in sorted(claimed.items()):
            holds_now = landed.get(batch_id, 0) + expired_silver.get(batch_id, 0)
            if holds_now != valid:
                problems.append(
                    f"batch {batch_id}: progress says {valid} landed, silver holds "
                    f"{landed.get(batch_id, 0)}"
                    + (
                        f" (+{expired_silver[batch_id]} expired)"
                        if batch_id in expired_silver
                        else ""
                    )
                )
            kept = held.get(batch_id, 0) + expired_quarantine.get(batch_id, 0)
            if kept != quarantined:
                problems.append(
                    f"batch {batch_id}: progress says {quarantined} quarantined, quarantine "
                    f"holds {held.get(batch_id, 0)}"
                )
        strays = sorted(b for b in set(landed) | set(held) if b is not None and b not in claimed)
        if strays:
            problems.append(f"rows written by batches with no progress row: {strays[:SHOWN]}")
        if problems:
            return False, f"{len(problems)} problem(s): " + "; ".join(problems[:SHOWN])
        totals = [sum(r[k] for r in rows) for k in ("input_rows", "valid_rows")]
        return True, f"{len(rows)} batches balance ({totals[0]:,} read, {totals[1]:,} landed)"

    def records_accounted(self) -> tuple[bool, str]:
        processed, note = _processed_bronze(self.spark, self.settings, self.bronze)
        records = processed.select(*RECORD, "value")
        silver = self.silver_coords()
        quarantine = self.quarantine_coords()
        both = 0
        if silver is not None:
            records = records.join(silver.select(*RECORD), RECORD, "left_anti")
        if quarantine is not None:
            records = records.join(quarantine.select(*RECORD), RECORD, "left_anti")
            if silver is not None:
                both = (
                    silver.select(*RECORD)
                    .join(quarantine.where(F.col("status") == "quarantined"), RECORD)
                    .count()
                )
        copies = records.select(
            *RECORD, F.get_json_object(F.col("value").cast("string"), "$.event_id").alias("eid")
        ).cache()
        try:
            n_copies = copies.count()
            ids = silver.select(F.col("event_id").alias("eid")) if silver is not None else None
            missing = copies.join(ids, "eid", "left_anti") if ids is not None else copies
            n_copies -= missing.count()
            later = 0  # copies of events an erasure deleted, arriving after it
            if self.retention.erased_ids is not None:
                of_erased = missing.join(self.retention.erased_ids, "eid", "left_semi")
                later = of_erased.count()
                missing = missing.join(of_erased.select(*RECORD), RECORD, "left_anti")
            cutoff = self.retention.cutoff
            expired = 0
            if cutoff is not None:  # records whose rows a retention run may have deleted
                gone = missing.join(
                    processed.select(*RECORD, "value", "kafka_timestamp"), RECORD
                ).where(_expired_record(cutoff))
                expired = gone.count()
                missing = missing.join(gone.select(*RECORD), RECORD, "left_anti")
            lost = missing.collect()
        finally:
            copies.unpersist()
        counted = (
            one_row(self.progress.agg(F.sum("duplicate_rows")))[0] or 0
            if self.progress is not None
            else 0
        )
        problems = []
        if lost:
            shown = ", ".join(f"{r['topic']}[{r['partition']}]@{r['offset']}" for r in lost[:SHOWN])
            problems.append(f"{len(lost)} record(s) in neither silver nor quarantine: {shown}")
        if both:
            problems.append(f"{both} record(s) both in silver and still quarantined")
        deleted = self.retention.deleted({*self.general, QUARANTINE.qualified_name})
        erased_copies = self.retention.erased_copies(set(self.general))
        aged = self.retention.bronze_without_row()  # copies and deleted rows' records
        # an expired record is a deleted row or a copy of one: they add up exactly
        found = n_copies + expired + erased_copies + later + aged
        if note is None and found != counted + deleted:
            problems.append(
                f"{n_copies:,} copies found, {expired:,} records expired, "
                f"{erased_copies + later:,} copies erased and {aged:,} records without a row "
                f"expired from bronze; progress counted {counted:,} copies and retention "
                f"deleted {deleted:,} rows"
            )
        if problems:
            return False, "; ".join(problems)
        expired_note = f", {expired:,} expired" if expired else ""
        return True, (
            f"{processed.count():,} records: silver, quarantine or {n_copies:,} copies"
            f"{expired_note}" + (f" ({note})" if note else "")
        )

    def companions(self) -> tuple[bool, str]:
        problems, checked = [], 0
        for event_type, restricted in self.restricted.items():
            general = self.general.get(silver_spec(event_type).qualified_name)
            if general is None:
                problems.append(f"{event_type}: a restricted table without its general table")
                continue
            cutoff = self.retention.cutoff
            gone = (
                (retention_until(F.col("occurred_at"), "restricted") < F.lit(cutoff))
                if cutoff is not None
                else F.lit(False)
            )
            with_pii = (
                general.where(F.col("contains_pii"))
                .groupBy("event_id")
                .agg(F.count(F.lit(1)).alias("count"), F.max(gone).alias("gone"))
            )
            held = restricted.groupBy("event_id").count()
            paired = with_pii.alias("g").join(held.alias("r"), "event_id", "full_outer")
            bad = paired.where(
                F.col("g.count").isNull()
                | F.col("r.count").isNull()
                | (F.col("g.count") != 1)
                | (F.col("r.count") != 1)
            )
            missing = F.col("r.count").isNull() & ~F.coalesce(F.col("g.gone"), F.lit(False))
            summary = one_row(
                bad.agg(
                    F.sum(missing.cast("int")).alias("missing"),
                    F.sum(F.col("g.count").isNull().cast("int")).alias("orphans"),
                    F.sum((F.col("r.count") > 1).cast("int")).alias("doubled"),
                )
            )
            checked += with_pii.count()
            for name, label in (
                ("missing", "general rows with user text/PII but no restricted row"),
                ("orphans", "restricted rows with no general row carrying user text/PII"),
                ("doubled", "event_ids with more than one restricted row"),
            ):
                if summary[name]:
                    problems.append(f"{event_type}: {summary[name]} {label}")
        if problems:
            return False, "; ".join(problems)
        return True, f"{checked:,} rows with user text or PII, each with one restricted row"

    def unique_event_ids(self) -> tuple[bool, str]:
        tables = {**self.general}
        for event_type, frame in self.restricted.items():
            tables[silver_restricted_spec(event_type, contract_set()).qualified_name] = frame  # type: ignore[union-attr]  # restricted exists: frame came from it
        problems = []
        for name, frame in sorted(tables.items()):
            repeated = frame.groupBy("event_id").count().where("count > 1")
            found = repeated.limit(SHOWN).collect()
            if found:
                total = repeated.count()
                shown = ", ".join(f"{r['event_id']} x{r['count']}" for r in found)
                problems.append(f"{name}: {total} event_id(s) repeated ({shown})")
        if problems:
            return False, "; ".join(problems)
        return True, f"{len(tables)} tables, every event_id once"

    def traceable(self) -> tuple[bool, str]:
        known = self.bronze.select(*RECORD)
        problems, rows = [], 0
        for name, frame in (
            ("silver", self.silver_coords()),
            ("quarantine", self.quarantine_coords()),
        ):
            if frame is None:
                continue
            rows += frame.count()
            orphans = self.retention.not_expired(
                frame.select(*RECORD).join(known, RECORD, "left_anti")
            ).count()
            if orphans:
                problems.append(f"{orphans} {name} row(s) point at no bronze record")
        if problems:
            return False, "; ".join(problems)
        return True, (
            f"{rows:,} silver and quarantine rows, each at a bronze record or at one "
            "retention expired from bronze"
        )

    def governed(self) -> tuple[bool, str]:
        """Rows say what their table says: its classification, and retention_until = the
        row's time + the table's retention days. One job over every table."""
        tables: list[tuple[TableSpec, DataFrame, str]] = []
        for event_type in SILVER_TABLE_FOR:
            spec = silver_spec(event_type)
            if spec.qualified_name in self.general:
                tables.append((spec, self.general[spec.qualified_name], "occurred_at"))
            restricted = silver_restricted_spec(event_type, contract_set())
            if restricted is not None and event_type in self.restricted:
                tables.append((restricted, self.restricted[event_type], "occurred_at"))
        if self.quarantine is not None:
            tables.append((QUARANTINE, self.quarantine, "kafka_timestamp"))
        problems, frames = [], []
        for spec, frame, base in tables:
            if not {"data_classification", "retention_until"} <= set(frame.columns):
                problems.append(f"{spec.qualified_name}: rows without governance columns")
                continue
            classification = spec.properties["afl.classification"]
            days = int(spec.properties["afl.retention_days"])
            until = F.col(base) + F.make_interval(days=F.lit(days))
            frames.append(
                frame.select(
                    F.lit(spec.qualified_name).alias("table"),
                    (~F.col("data_classification").eqNullSafe(F.lit(classification)))
                    .cast("int")
                    .alias("wrong_class"),
                    (~F.col("retention_until").eqNullSafe(until)).cast("int").alias("wrong_until"),
                )
            )
        rows = 0
        if frames:
            for r in (
                reduce(DataFrame.unionByName, frames)
                .groupBy("table")
                .agg(F.count("*").alias("n"), F.sum("wrong_class"), F.sum("wrong_until"))
                .collect()
            ):
                rows += r["n"]
                if r[2]:
                    problems.append(f"{r['table']}: {r[2]} row(s) not of the table's class")
                if r[3]:
                    problems.append(f"{r['table']}: {r[3]} row(s) not kept as long as it says")
        if problems:
            return False, "; ".join(sorted(problems)[:SHOWN])
        return (
            True,
            f"{rows:,} rows in {len(frames)} tables, each of its table's class and retention",
        )

    def typed_by_own_contract(self) -> tuple[bool, str]:
        """Each typed column holds only what the row's own version validated: one job over
        every table, naming the first columns that break it."""
        frames = []
        for event_type in SILVER_TABLE_FOR:
            general = self.general.get(silver_spec(event_type).qualified_name)
            restricted = self.restricted.get(event_type)
            if restricted is not None and general is not None:  # the companion's versions
                versions = general.select("event_id", "schema_version")
                restricted = restricted.join(versions, "event_id", "left")
            for frame, name in ((general, ""), (restricted, "_restricted")):
                if frame is not None:
                    table = f"silver.{SILVER_TABLE_FOR[event_type]}{name}"
                    counts = own_contract_counts(frame, self.contracts, event_type)
                    frames.append(counts.select(F.lit(table).alias("table"), "column", "n"))
        if not frames:
            return True, "no silver rows yet"
        found = reduce(DataFrame.unionByName, frames).collect()
        rows = sum(r["n"] for r in found if r["column"] == "")
        problems = [
            f"{r['table']}.{r['column']}: {r['n']:,} row(s) hold what their version does not allow"
            for r in found
            if r["column"] and r["n"]
        ]
        if problems:
            return False, "; ".join(problems[:SHOWN])
        return True, f"{rows:,} rows, every typed value allowed by the row's own version"


class _Retention:
    """What retention runs and subject erasures deleted, from their ledgers."""

    def __init__(
        self,
        cutoff: datetime | None,
        per_table: dict[str, int],
        per_batch: list[Row],
        erased: DataFrame | None = None,
        bronze_expired: DataFrame | None = None,
    ) -> None:
        self.cutoff = cutoff
        self.per_table = per_table
        self.per_batch = per_batch
        self.erased = erased
        self.bronze_expired = bronze_expired
        self.erased_ids = (
            erased.where(F.col("event_id").isNotNull())
            .select(F.col("event_id").alias("eid"))
            .distinct()
            if erased is not None
            else None
        )

    @classmethod
    def load(cls, spark: SparkSession, settings: Settings) -> _Retention:
        runs = _read(spark, RETENTION_RUNS.path(settings))
        cutoff, per_table, per_batch = None, {}, []
        if runs is not None:
            real = runs.where(~F.col("dry_run"))
            cutoff = one_row(real.agg(F.max("cutoff")))[0]
            per_table = {
                r[0]: int(r[1])
                for r in real.groupBy("table_name").agg(F.sum("deleted_rows")).collect()
            }
            batches = _read(spark, RETENTION_BATCHES.path(settings))
            per_batch = batches.collect() if batches is not None else []
        expired = read_table(spark, settings, BRONZE_EXPIRY)
        erased = read_table(spark, settings, ERASED_RECORDS)
        if erased is not None:
            per_batch += (
                erased.groupBy("table_name", "ingest_batch_id")
                .agg(F.count(F.lit(1)).alias("rows"))
                .collect()
            )
        return cls(cutoff, per_table, per_batch, erased, expired)

    def deleted(self, tables: set[str]) -> int:
        """Rows retention deleted (their bronze records stay; an erasure's go with them)."""
        return sum(n for t, n in self.per_table.items() if t in tables)

    def by_batch(self, tables: set[str]) -> dict[int, int]:
        out: dict[int, int] = {}
        for r in self.per_batch:
            if r["table_name"] in tables and r["ingest_batch_id"] is not None:
                out[r["ingest_batch_id"]] = out.get(r["ingest_batch_id"], 0) + r["rows"]
        return out

    def bronze_without_row(self) -> int:
        """Bronze records retention expired that had no silver or quarantine row left."""
        if self.bronze_expired is None:
            return 0
        return int(one_row(self.bronze_expired.agg(F.sum("without_row")))[0] or 0)

    def not_expired(self, records: DataFrame) -> DataFrame:
        """``records`` (topic, partition, offset) outside the ranges expired from bronze."""
        if self.bronze_expired is None:
            return records
        ranges = F.broadcast(self.bronze_expired.select("topic", "partition", "first_offset",
                                                        "last_offset"))  # fmt: skip
        inside = (
            (records["topic"] == ranges["topic"])
            & (records["partition"] == ranges["partition"])
            & records["offset"].between(ranges["first_offset"], ranges["last_offset"])
        )
        return records.join(ranges, inside, "left_anti")

    def erased_copies(self, general: set[str]) -> int:
        """Erased bronze records that were neither a silver nor a quarantine row: copies."""
        if self.erased is None:
            return 0
        rows = self.erased.where(
            F.col("table_name").isin(*general, QUARANTINE.qualified_name)
        ).select(*RECORD)
        records = self.erased.where(F.col("table_name") == BRONZE_AGENT_EVENTS.qualified_name)
        return records.select(*RECORD).join(rows, RECORD, "left_anti").count()


def _expired_record(cutoff: datetime) -> Column:
    """A bronze record whose row a run at ``cutoff`` may have deleted: its event past its
    general table's retention, or (a quarantined record) its Kafka time past restricted's."""
    text = F.col("value").cast("string")
    event_type = F.get_json_object(text, "$.event_type")
    occurred = F.to_timestamp(F.get_json_object(text, "$.occurred_at"))
    days = F.coalesce(
        *[
            F.when(
                event_type == F.lit(et),
                F.lit(int(silver_spec(et).properties["afl.retention_days"])),
            )
            for et in SILVER_TABLE_FOR
        ]
    )
    moment = F.lit(cutoff)
    return F.coalesce(occurred + F.make_interval(days=days) < moment, F.lit(False)) | (
        retention_until(F.col("kafka_timestamp"), "restricted") < moment
    )


def _read(spark: SparkSession, path: str) -> DataFrame | None:
    if not DeltaTable.isDeltaTable(spark, path):
        return None
    return spark.read.format("delta").load(path)


def _processed_bronze(
    spark: SparkSession, settings: Settings, bronze: DataFrame
) -> tuple[DataFrame, str | None]:
    """The bronze records of the batches the ingest query has committed.

    Bronze is appended before silver within a batch, so a batch a crash interrupted may
    have bronze rows and no silver yet: those records are not counted until it re-runs.
    """
    ends = committed_offsets(settings.checkpoint_path(INGEST_QUERY))
    if not ends:
        return bronze.limit(0), "the stream has committed nothing yet"
    committed = reduce(
        lambda a, b: a | b,
        [
            (F.col("topic") == topic) & (F.col("partition") == partition) & (F.col("offset") < end)
            for topic, parts in ends.items()
            for partition, end in parts.items()
        ],
    )
    return bronze.where(committed), None


def own_contract_violations(
    table: DataFrame, contracts: ContractSet, event_type: str
) -> dict[str, int]:
    """``own_contract_counts`` read: {column: rows breaking it}, only columns with any;
    ``""``: how many rows were read."""
    found = own_contract_counts(table, contracts, event_type).collect()
    return {r["column"]: int(r["n"]) for r in found if r["n"] or r["column"] == ""}


def own_contract_counts(table: DataFrame, contracts: ContractSet, event_type: str) -> DataFrame:
    """Per typed column (``column``, ``n``), the rows whose value their own version does not
    allow (a general table's ``<field>_hash``/``_length`` of user text or PII: null unless
    the version declares the field; its raw value is checked in the restricted companion);
    ``column`` ``""``: how many rows were read. A row of a version no contract describes
    counts against ``schema_version``."""
    flags = _violation_flags(contracts, event_type, table.schema)
    names = list(flags)
    sums = table.agg(*[c.alias(f"_{i}") for i, c in enumerate(flags.values())])
    pairs = F.array(
        *[
            F.struct(F.lit(n).alias("column"), F.coalesce(F.col(f"_{i}"), F.lit(0)).alias("n"))
            for i, n in enumerate(names)
        ]
    )
    return sums.select(F.inline(pairs))


# Built once per (contract set, type, table schema) and JVM: the expressions take hundreds
# of py4j calls to build, more than a small lake takes to scan, and verify runs often.
_FLAGS: dict[tuple[int, str, str, str], dict[str, Column]] = {}


def _violation_flags(
    contracts: ContractSet, event_type: str, schema: T.StructType
) -> dict[str, Column]:
    """{column: count of rows breaking it} aggregates; ``""``: the row count."""
    key = (id(SparkContext._active_spark_context), contracts.fingerprint, event_type, schema.json())
    if key in _FLAGS:
        return _FLAGS[key]
    versions = {v: contracts.get(event_type, v) for v in contracts.versions(event_type)}
    payload_names = {n for c in versions.values() for n in c.payload_fields}
    classified = {k.split(".", 1)[1] for c in versions.values() for k in c.field_classes}
    version = F.col("schema_version")
    flags: dict[str, Column] = {"": F.count(F.lit(1)).cast("long")}
    for f in schema.fields:
        column = F.col(f"`{f.name}`")
        allowed: Column | None = None
        for v, contract in versions.items():
            ok = _allowed(column, f.name, f.dataType, contract, payload_names, classified)
            if ok is None:
                break  # not a typed column (governance, the event's date, the batch)
            allowed = F.when(version == v, ok).otherwise(
                allowed if allowed is not None else F.lit(True)
            )
        if allowed is not None:
            flags[f.name] = F.sum((~allowed).cast("long")).cast("long")
    flags["schema_version"] = F.sum(
        (~F.coalesce(version.isin(*versions), F.lit(False))).cast("long")
    ).cast("long")
    if len(_FLAGS) >= 256:
        _FLAGS.clear()
    _FLAGS[key] = flags
    return flags


# Envelope fields whose column the lake writes itself (or keys by), not a producer's value.
_WRITTEN_BY_THE_LAKE = frozenset({"event_type", "schema_version", "data_classification", "payload"})


def _allowed(
    column: Column,
    name: str,
    dtype: T.DataType,
    contract: Contract,
    payload_names: set[str],
    classified: set[str],
) -> Column | None:
    """Whether ``column`` (table column ``name``) holds only what ``contract`` allows, or
    None when the column is none of the event's typed fields."""
    envelope = contract.event_schema["properties"]
    payload = contract.payload_schema.get("properties", {})
    if name in _WRITTEN_BY_THE_LAKE:
        return None
    if name in envelope:
        return satisfies(column, envelope[name], dtype)
    if name in payload_names:  # declared by some version: null unless by this one
        return satisfies(column, payload[name], dtype) if name in payload else column.isNull()
    for end in ("_hash", "_length"):
        field_name = name.removesuffix(end)
        if name.endswith(end) and field_name in classified:
            return F.lit(True) if field_name in payload else column.isNull()
    return None
