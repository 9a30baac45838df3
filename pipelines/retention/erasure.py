"""Subject erasure: one person's data deleted from every table that holds it, proven gone,
and recorded without keeping who it was.

- **A subject's data** is every event naming them in a field the contracts classify as PII
  (``user_id``, ``reviewer``, ... found from the contracts, not listed here), and every
  event of the sessions those events belong to: the messages and tool payloads of their
  conversations are theirs too. Bronze and quarantine are searched in the raw JSON, so a
  malformed record naming them goes as well.
- Those records' rows are **deleted**, by Kafka coordinates, from bronze, every silver table
  and its restricted companion, and quarantine; the legacy export by ``user_id`` and
  session; gold.evaluator_scores by session. Gold's daily aggregates name no one and stay;
  ops.mirror_watermark holds an app row id and a time, nothing of the subject.
- **Proof:** after the deletes every table is searched again by content (the raw id in
  restricted tables, the lake's salted hash in general ones) and by the erased records'
  coordinates; rows the running stream landed meanwhile are deleted in another pass (at
  most three). Rows still found fail the erasure in one line.
- **Ledger:** ops.erasures (per table: found, deleted, remaining, versions) and
  ops.erased_records (each deleted row's Kafka record and batch), so ``afl verify`` still
  balances offsets and batches. The subject is kept only as a keyed digest, not the
  lake's hash: the ledger cannot be joined back to the tables.
- Deleted rows' files go at the first retention VACUUM after Delta's window (7 days); Kafka
  keeps the records until topic retention (7 days): an erasure is complete within 8 days
  (docs/architecture.md, "Retention").
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import reduce

from delta.tables import DeltaTable
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from pipelines.contracts.registry import contract_set
from pipelines.errors import AflError
from pipelines.governance.classification import PII, hashed
from pipelines.settings import Settings
from pipelines.spark.io import delta_append, delta_version, one_row
from pipelines.spark.tables import (
    BRONZE_AGENT_EVENTS,
    ERASED_RECORDS,
    ERASURES,
    EVALUATOR_SCORES,
    LEGACY_FEEDBACK_EXPORT,
    QUARANTINE,
    SILVER_TABLE_FOR,
    TableSpec,
    ensure_table,
    read_table,
    silver_restricted_spec,
    silver_spec,
    spec_for,
)

MAX_PASSES = 3
RECORD = ("topic", "partition", "offset")


@dataclass(frozen=True)
class ErasureOptions:
    """Whose data (``user_id``, optionally only in ``tenant_id``), and whether to only count.

    The id never appears in a repr, a log line or the ledger."""

    user_id: str = field(repr=False)
    tenant_id: str | None = None
    dry_run: bool = False

    def __post_init__(self) -> None:
        if not self.user_id.strip():
            raise AflError("erasure needs a non-blank --user-id")


@dataclass(frozen=True)
class TableErasure:
    table: str
    found: int
    deleted: int
    remaining: int
    version_before: int
    version_after: int
    passes: int


@dataclass(frozen=True)
class ErasureReport:
    erasure_id: str
    subject_digest: str
    tenant_id: str | None
    dry_run: bool
    tables: list[TableErasure] = field(default_factory=list)

    @property
    def found(self) -> int:
        return sum(t.found for t in self.tables)

    @property
    def deleted(self) -> int:
        return sum(t.deleted for t in self.tables)

    @property
    def remaining(self) -> int:
        return sum(t.remaining for t in self.tables)

    def lines(self) -> list[str]:
        verb = "would delete" if self.dry_run else "deleted"
        out = [
            f"{t.table:34} {t.found:>7,} found, {verb} {t.deleted:>7,}, {t.remaining} remaining"
            for t in self.tables
            if t.found or t.remaining
        ]
        scope = f" in tenant {self.tenant_id}" if self.tenant_id else ""
        out.append(
            f"erasure {'dry run' if self.dry_run else 'run'} {self.erasure_id}{scope}: "
            f"{self.found:,} rows found in {sum(1 for t in self.tables if t.found)} tables, "
            f"{verb} {self.deleted:,}, {self.remaining:,} remaining"
        )
        return out


def subject_digest(settings: Settings, options: ErasureOptions) -> str:
    """The ledger's name for the subject: keyed by the lake's salt, and not the lake's hash."""
    text = f"afl-erasure|{settings.hash_salt}|{options.tenant_id or ''}|{options.user_id}"
    return hashlib.sha256(text.encode()).hexdigest()


def pii_fields() -> list[str]:
    """Dotted paths of every field any contract classifies as PII (``payload.user_id``)."""
    return sorted(
        {p for c in contract_set().all() for p, cls in c.field_classes.items() if cls == PII}
    )


def names_subject(raw: Column, options: ErasureOptions) -> Column:
    """A raw Kafka value naming the subject: in a PII field, or (a record that is not valid
    JSON, or names them elsewhere) as a JSON string equal to their id."""
    text = raw.cast("string")
    named = reduce(
        lambda a, b: a | b,
        [F.get_json_object(text, f"$.{path}") == F.lit(options.user_id) for path in pii_fields()],
        F.lit(False),
    )
    named = F.coalesce(named, F.lit(False)) | F.coalesce(
        F.instr(text, json.dumps(options.user_id)) > 0, F.lit(False)
    )
    if options.tenant_id is None:
        return named
    tenant = F.get_json_object(text, "$.tenant_id")
    return named & (tenant.isNull() | (tenant == F.lit(options.tenant_id)))


def subject_records(bronze: DataFrame, options: ErasureOptions) -> DataFrame:
    """The bronze records of the subject's data: (topic, partition, offset, tenant, session)."""
    text = F.col("value").cast("string")
    records = bronze.select(
        *RECORD,
        F.get_json_object(text, "$.tenant_id").alias("tenant_id"),
        F.get_json_object(text, "$.session_id").alias("session_id"),
        names_subject(F.col("value"), options).alias("named"),
    )
    sessions = (
        records.where(F.col("named") & F.col("session_id").isNotNull())
        .select("tenant_id", "session_id")
        .distinct()
    )
    in_session = records.join(
        F.broadcast(sessions.withColumn("in_session", F.lit(True))),
        ["tenant_id", "session_id"],
        "left",
    )
    return in_session.where(F.col("named") | F.coalesce(F.col("in_session"), F.lit(False))).select(
        *RECORD, "tenant_id", "session_id"
    )


def at_records(coords: list[tuple[str, int, int]], names: tuple[str, str, str]) -> Column:
    """Rows at these Kafka records, grouped per partition (statistics skip other files)."""
    if not coords:
        return F.lit(False)
    topic, partition, offset = (F.col(n) for n in names)
    by_partition: dict[tuple[str, int], list[int]] = {}
    for t, p, o in coords:
        by_partition.setdefault((t, p), []).append(o)
    return reduce(
        lambda a, b: a | b,
        [
            (topic == F.lit(t)) & (partition == F.lit(p)) & offset.isin(*sorted(offsets))
            for (t, p), offsets in sorted(by_partition.items())
        ],
    )


def in_sessions(sessions: list[tuple[str | None, str]], columns: list[str]) -> Column:
    if not sessions or not {"tenant_id", "session_id"} <= set(columns):
        return F.lit(False)
    return reduce(
        lambda a, b: a | b,
        [
            F.col("tenant_id").eqNullSafe(F.lit(t)) & (F.col("session_id") == F.lit(s))
            for t, s in sessions
        ],
    )


@dataclass(frozen=True)
class _Target:
    """A table to erase from and how its rows are recognised."""

    spec: TableSpec
    match: Callable[[DataFrame], Column]  # the subject's rows, given the table
    coordinates: tuple[str, str, str] | None  # its Kafka-record columns, if it has them


def _targets(
    settings: Settings,
    options: ErasureOptions,
    coords: list[tuple[str, int, int]],
    sessions: list[tuple[str | None, str]],
) -> list[_Target]:
    kafka = ("kafka_topic", "kafka_partition", "kafka_offset")

    def of_tenant(frame: DataFrame) -> Column:
        if options.tenant_id is None or "tenant_id" not in frame.columns:
            return F.lit(True)
        return F.col("tenant_id").eqNullSafe(F.lit(options.tenant_id))

    def by_hash(frame: DataFrame) -> Column:
        digest = hashed(F.lit(options.user_id), settings.hash_salt)
        named = [F.col(c) == digest for c in frame.columns if c.endswith("_hash")]
        if not named:
            return F.lit(False)
        return F.coalesce(reduce(lambda a, b: a | b, named), F.lit(False)) & of_tenant(frame)

    def by_value(frame: DataFrame) -> Column:
        fields = {p.split(".", 1)[1] for p in pii_fields()} & set(frame.columns)
        named = [F.col(c) == F.lit(options.user_id) for c in sorted(fields)]
        if not named:
            return F.lit(False)
        return F.coalesce(reduce(lambda a, b: a | b, named), F.lit(False)) & of_tenant(frame)

    def records(names: tuple[str, str, str]) -> Callable[[DataFrame], Column]:
        return lambda frame: at_records(coords, names)

    targets = [
        _Target(
            BRONZE_AGENT_EVENTS,
            lambda f: records(RECORD)(f) | names_subject(F.col("value"), options),
            RECORD,
        ),
        _Target(
            QUARANTINE,
            lambda f: records(kafka)(f) | names_subject(F.col("value"), options),
            kafka,
        ),
    ]
    for event_type in SILVER_TABLE_FOR:
        targets.append(
            _Target(silver_spec(event_type), lambda f: records(kafka)(f) | by_hash(f), kafka)
        )
        restricted = silver_restricted_spec(event_type)
        if restricted is not None:
            targets.append(_Target(restricted, lambda f: records(kafka)(f) | by_value(f), kafka))
    targets += [
        _Target(
            LEGACY_FEEDBACK_EXPORT, lambda f: by_value(f) | in_sessions(sessions, f.columns), None
        ),
        _Target(EVALUATOR_SCORES, lambda f: in_sessions(sessions, f.columns), None),
    ]
    return targets


def require_restricted(settings: Settings) -> None:
    """Erasure reads raw values: a general session is refused in one line."""
    if settings.role != "restricted":
        raise AflError(
            "erasure searches and deletes in restricted tables: set AFL_ROLE=restricted, "
            "with access to AFL_RESTRICTED_ROOT"
        )


def erase_subject(
    spark: SparkSession,
    settings: Settings,
    options: ErasureOptions,
    progress: Callable[[str], None] | None = None,
) -> ErasureReport:
    """Delete the subject's data from every table (or count it: dry run); prove it gone.

    Each pass finds the subject's records in bronze, then counts and deletes their rows in
    every table; the next pass's count is the proof. Rows the stream lands meanwhile (a
    bronze record before its silver row) are taken by the next pass."""
    require_restricted(settings)
    report = ErasureReport(
        uuid.uuid4().hex[:12], subject_digest(settings, options), options.tenant_id, options.dry_run
    )
    requested = datetime.now(UTC).replace(tzinfo=None)
    coords: set[tuple[str, int, int]] = set()
    sessions: set[tuple[str | None, str]] = set()
    tally: dict[str, _Tally] = {}
    erased: list[ErasedRow] = []
    for passes in range(1, MAX_PASSES + 2):
        bronze = read_table(spark, settings, BRONZE_AGENT_EVENTS)
        if bronze is not None:
            for r in subject_records(bronze, options).collect():
                coords.add((r["topic"], r["partition"], r["offset"]))
                if r["session_id"]:
                    sessions.add((r["tenant_id"], r["session_id"]))
        ordered = sorted(coords)
        within = sorted(sessions, key=lambda s: (s[0] or "", s[1]))
        left = 0
        for target in _targets(settings, options, ordered, within):
            path = target.spec.path(settings)
            table = read_table(spark, settings, target.spec)
            if table is None:
                continue
            t = tally.setdefault(target.spec.qualified_name, _Tally(delta_version(spark, path)))
            rows = _subject_rows(table, target)
            t.remaining = len(rows)
            left += len(rows)
            if options.dry_run or not rows or passes > MAX_PASSES:
                continue
            _delete(spark, path, target, table, rows)
            t.deleted += len(rows)
            t.passes = passes
            erased += [(target.spec.qualified_name, *row) for row in rows]
        if options.dry_run or left == 0 or passes > MAX_PASSES:
            break
    for name, t in tally.items():
        path = spec_for(name).path(settings)
        report.tables.append(
            TableErasure(
                name, t.deleted + t.remaining, t.deleted, t.remaining, t.before,
                delta_version(spark, path), t.passes,
            )
        )  # fmt: skip
    _record(spark, settings, report, requested, erased)
    if progress:
        for line in report.lines()[:-1]:
            progress(line)
    if report.remaining and not options.dry_run:
        rest = ", ".join(f"{t.table} ({t.remaining})" for t in report.tables if t.remaining)
        raise AflError(f"erasure {report.erasure_id}: rows of the subject remain in {rest}")
    return report


# (table, topic, partition, offset, ingest batch, event_id) of an erased row
ErasedRow = tuple[str, str, int, int, int | None, str | None]


@dataclass
class _Tally:
    before: int
    deleted: int = 0
    remaining: int = 0
    passes: int = 0


def _subject_rows(
    table: DataFrame, target: _Target
) -> list[tuple[str, int, int, int | None, str | None]]:
    """The subject's rows in the table: their Kafka record, batch and event_id (a row of a
    table without Kafka columns is listed with empty ones, to be counted)."""
    text = F.col("value").cast("string")
    event_id = (
        F.col("event_id")
        if "event_id" in table.columns
        else F.get_json_object(text, "$.event_id")
        if "value" in table.columns
        else F.lit(None)
    )
    batch = F.col("ingest_batch_id") if "ingest_batch_id" in table.columns else F.lit(None)
    names = target.coordinates or ("", "", "")
    coords = (
        [F.col(c) for c in names]
        if target.coordinates is not None
        else [F.lit(""), F.lit(0), F.lit(0)]
    )
    return [
        (r[0], int(r[1]), int(r[2]), r[3], r[4])
        for r in table.where(target.match(table))
        .select(*coords, batch.cast("long"), event_id.cast("string"))
        .collect()
    ]


def _delete(
    spark: SparkSession,
    path: str,
    target: _Target,
    table: DataFrame,
    rows: list[tuple[str, int, int, int | None, str | None]],
) -> None:
    """Delete the rows counted: by their Kafka records where the table has them, so a row
    the stream lands meanwhile waits for the next pass instead of spoiling the count."""
    n = len(rows)
    where = (
        at_records([(r[0], r[1], r[2]) for r in rows], target.coordinates)
        if target.coordinates is not None
        else target.match(table)
    )
    _allow_deletes(spark, path)
    DeltaTable.forPath(spark, path).delete(where)
    metrics = one_row(DeltaTable.forPath(spark, path).history(1))["operationMetrics"]
    gone = int(metrics.get("numDeletedRows", n))
    if gone != n:
        raise AflError(
            f"{target.spec.qualified_name}: erasure counted {n:,} rows but Delta deleted {gone:,}"
        )


def _allow_deletes(spark: SparkSession, path: str) -> None:
    """Bronze of a lake from before erasure was append-only: Delta would refuse the delete."""
    properties = {
        r["key"]: r["value"] for r in spark.sql(f"SHOW TBLPROPERTIES delta.`{path}`").collect()
    }
    if properties.get("delta.appendOnly") == "true":
        spark.sql(f"ALTER TABLE delta.`{path}` SET TBLPROPERTIES ('delta.appendOnly' = 'false')")


def _record(
    spark: SparkSession,
    settings: Settings,
    report: ErasureReport,
    requested: datetime,
    erased: list[ErasedRow],
) -> None:
    rows = [
        (report.erasure_id, requested, report.subject_digest, report.tenant_id, report.dry_run,
         t.table, t.found, t.deleted, t.remaining, t.version_before, t.version_after, t.passes)
        for t in report.tables
    ]  # fmt: skip
    if rows:
        path = ensure_table(spark, settings, ERASURES)
        delta_append(spark.createDataFrame(rows, ERASURES.schema), path)
    if erased and not report.dry_run:
        path = ensure_table(spark, settings, ERASED_RECORDS)
        frame = spark.createDataFrame(
            [(report.erasure_id, *row) for row in erased if row[1]], ERASED_RECORDS.schema
        )
        delta_append(frame, path)
