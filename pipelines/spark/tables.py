"""The table registry: every Delta table's layer, name, schema, partitioning and properties.

Tables live at ``<lake root>/<database>/<name>`` and are registered by location in each
session (``CREATE TABLE ... USING DELTA LOCATION``) so SQL can name them without a
shared metastore.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from delta.tables import DeltaTable
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import types as T

from pipelines.contracts.registry import ContractSet, contract_set
from pipelines.contracts.topics import topic_for_event_type
from pipelines.errors import AflError
from pipelines.evaluators.schemas import SCORES_SCHEMA
from pipelines.governance.classification import (
    RETENTION_DAYS,
    USER_TEXT,
    general_classification,
)
from pipelines.parity.schemas import CUTOVER_SCHEMA, PARITY_RESULTS_SCHEMA
from pipelines.quality.schemas import QUALITY_RESULTS_SCHEMA
from pipelines.retention.schemas import (
    BRONZE_EXPIRY_SCHEMA,
    ERASED_RECORDS_SCHEMA,
    ERASURES_SCHEMA,
    RETENTION_BATCHES_SCHEMA,
    RETENTION_RUNS_SCHEMA,
)
from pipelines.settings import Settings
from pipelines.transforms.schemas import (
    BRONZE_SCHEMA,
    EXPORT_SCHEMA,
    MIRROR_WATERMARK_SCHEMA,
    QUARANTINE_SCHEMA,
    STREAM_PROGRESS_SCHEMA,
)


@dataclass(frozen=True)
class TableSpec:
    """A table's place and shape. ``schema`` None: created from the first batch written."""

    database: str
    name: str
    schema: T.StructType | None
    partition_by: tuple[str, ...] = ()
    properties: Mapping[str, str] = field(default_factory=dict)
    comment: str = ""

    @property
    def qualified_name(self) -> str:
        return f"{self.database}.{self.name}"

    @property
    def restricted(self) -> bool:
        """Holds raw user text or PII: lives under the restricted root, seen only by the
        restricted role."""
        return self.properties.get("afl.classification") == "restricted"

    def path(self, settings: Settings) -> str:
        if self.restricted:
            return settings.restricted_path(self.database, self.name)
        return settings.lake_path(self.database, self.name)


# Commits between two checkpoints of each table the stream appends to: about 100, not
# Delta's 10 (each checkpoint rewrites the table's state), and a different prime per table.
# The stream commits to each of them once a batch, so equal intervals made every table
# checkpoint in the same batch: one batch in ~100 took 10-15 s instead of ~4 (soak, issue 13).
CHECKPOINT_EVERY = {
    "agent_events": 97,
    "interactions": 101,
    "feedback": 103,
    "tool_calls": 107,
    "outcomes": 109,
    "policy_decisions": 113,
    "evaluations": 127,
    # commands and approvals are rare: these commit seldom
    "controls": 139,
    "approvals": 149,
    "approvals_restricted": 151,
    "interactions_restricted": 131,
    "feedback_restricted": 137,
    "quarantine": 89,
    "stream_progress": 83,
}


def stream_table(table: str, *stats_columns: str) -> dict[str, str]:
    """Properties of a table the stream appends to every few seconds.

    Statistics only on the columns lookups filter on (Kafka coordinates and times, ids):
    collecting them for every column slows each small append, and without them on
    ``kafka_timestamp`` a lookup would open every file. Checkpoints: ``CHECKPOINT_EVERY``.
    """
    return {
        "delta.dataSkippingStatsColumns": ",".join(stats_columns),
        "delta.checkpointInterval": str(CHECKPOINT_EVERY.get(table, 100)),
    }


BRONZE_AGENT_EVENTS = TableSpec(
    "bronze",
    "agent_events",
    BRONZE_SCHEMA,
    partition_by=("ingest_date",),
    properties={
        # Raw records: user text and PII as sent. Not append-only: retention and subject
        # erasure delete from it (docs/architecture.md, "Retention").
        "delta.appendOnly": "false",
        "afl.layer": "bronze",
        "afl.classification": "restricted",
        # whole ingest days, past the retention of the rawest data it holds
        "afl.retention_days": str(RETENTION_DAYS["restricted"]),
        **stream_table(
            "agent_events", "topic", "partition", "offset", "kafka_timestamp", "ingested_at"
        ),
    },
    comment="Every Kafka record from the agent topics, once, as it arrived.",
)
SILVER_STATS = (
    "event_id",
    "occurred_at",
    "tenant_id",
    "session_id",
    "kafka_topic",
    "kafka_partition",
    "kafka_offset",
    "kafka_timestamp",
    "ingested_at",
    "ingest_batch_id",
)
RESTRICTED_STATS = ("event_id", "kafka_topic", "kafka_partition", "kafka_offset", "kafka_timestamp")

SILVER_TABLE_FOR = {
    "interaction": "interactions",
    "feedback": "feedback",
    "tool_call": "tool_calls",
    "outcome": "outcomes",
    "policy_decision": "policy_decisions",
    "evaluation": "evaluations",
    "control": "controls",
    "approval": "approvals",
}


def silver_spec(event_type: str) -> TableSpec:
    """The general silver table of an event type: user text and PII only hashed."""
    topic_class = topic_for_event_type(event_type).classification
    classification = general_classification(topic_class)
    return TableSpec(
        "silver",
        SILVER_TABLE_FOR[event_type],
        None,
        partition_by=("event_date",),
        properties={
            **stream_table(SILVER_TABLE_FOR[event_type], *SILVER_STATS),
            "afl.layer": "silver",
            "afl.event_type": event_type,
            "afl.classification": classification,
            "afl.retention_days": str(RETENTION_DAYS[topic_class]),
            "afl.contains_user_text": "false",
        },
        comment=f"{event_type} events: typed, one row per event_id, governed.",
    )


def silver_restricted_spec(
    event_type: str, contracts: ContractSet | None = None
) -> TableSpec | None:
    """The restricted companion holding raw user text and PII, if the contract has any."""
    cs = contracts or contract_set()
    classes = {
        k: v for c in cs.all() if c.event_type == event_type for k, v in c.field_classes.items()
    }
    if not classes:
        return None
    return TableSpec(
        "silver",
        f"{SILVER_TABLE_FOR[event_type]}_restricted",
        None,
        partition_by=("event_date",),
        properties={
            **stream_table(f"{SILVER_TABLE_FOR[event_type]}_restricted", *RESTRICTED_STATS),
            "afl.layer": "silver",
            "afl.event_type": event_type,
            "afl.classification": "restricted",
            "afl.retention_days": str(RETENTION_DAYS["restricted"]),
            "afl.contains_user_text": str(USER_TEXT in classes.values()).lower(),
            "afl.classified_columns": ",".join(sorted(k.split(".", 1)[1] for k in classes)),
        },
        comment=f"Raw user text and PII of {event_type} events; restricted access.",
    )


QUARANTINE = TableSpec(
    "silver",
    "quarantine",
    QUARANTINE_SCHEMA,
    partition_by=("quarantine_date",),
    properties={
        **stream_table(
            "quarantine",
            "kafka_topic",
            "kafka_partition",
            "kafka_offset",
            "kafka_timestamp",
            "ingest_batch_id",
        ),
        "afl.layer": "silver",
        "afl.classification": "restricted",
        "afl.retention_days": str(RETENTION_DAYS["restricted"]),
        "afl.contains_user_text": "true",
    },
    comment="Every record that could not become a silver row, with its reason (raw values).",
)

STREAM_PROGRESS = TableSpec(
    "ops",
    "stream_progress",
    STREAM_PROGRESS_SCHEMA,
    properties={
        **stream_table("stream_progress", "query_name", "batch_id", "query_id", "finished_at"),
        "afl.layer": "ops",
        "afl.classification": "internal",
    },
    comment="One row per streaming micro-batch: volumes, rates, latency.",
)


LEGACY_FEEDBACK_EXPORT = TableSpec(
    "legacy",
    "feedback_export",
    EXPORT_SCHEMA,
    partition_by=("export_date",),
    # The app's raw user ids and comments, as the legacy warehouse has them.
    properties={"afl.layer": "legacy", "afl.classification": "restricted"},
    comment="What the nightly batch ETL exports, one partition per day, quirks included.",
)

MIRROR_WATERMARK = TableSpec(
    "ops",
    "mirror_watermark",
    MIRROR_WATERMARK_SCHEMA,
    properties={"afl.layer": "ops", "afl.classification": "internal"},
    comment="How far the legacy mirror has published the app database (updated_at, id).",
)


PARITY_RESULTS = TableSpec(
    "ops",
    "parity_results",
    PARITY_RESULTS_SCHEMA,
    partition_by=("parity_date",),
    properties={"afl.layer": "ops", "afl.classification": "internal"},
    comment="One row per day and parity check; a re-run replaces its day.",
)

CUTOVER_STATE = TableSpec(
    "ops",
    "cutover_state",
    CUTOVER_SCHEMA,
    properties={"afl.layer": "ops", "afl.classification": "internal"},
    comment="The cutover state machine replayed over the daily verdicts.",
)

PARITY_TABLES = (PARITY_RESULTS, CUTOVER_STATE)


def gold_spec(name: str, comment: str) -> TableSpec:
    return TableSpec(
        "gold",
        name,
        None,
        partition_by=("event_date",),
        properties={
            "afl.layer": "gold",
            "afl.classification": "internal",
            "afl.retention_days": str(RETENTION_DAYS["internal"]),
            "afl.contains_user_text": "false",
        },
        comment=comment,
    )


GOLD_FEEDBACK_DAILY = gold_spec(
    "feedback_daily", "Per day, tenant, agent, agent and prompt version, source: user feedback."
)
GOLD_TOOL_RELIABILITY_DAILY = gold_spec(
    "tool_reliability_daily", "Per day, tenant and tool: calls, failure rate, latency, timeouts."
)
GOLD_AGENT_SCORECARD_DAILY = gold_spec(
    "agent_scorecard_daily", "Per day, tenant, agent and version: outcomes, cost, policy, feedback."
)
GOLD_TABLES = (GOLD_FEEDBACK_DAILY, GOLD_TOOL_RELIABILITY_DAILY, GOLD_AGENT_SCORECARD_DAILY)

EVALUATOR_SCORES = TableSpec(
    "gold",
    "evaluator_scores",
    SCORES_SCHEMA,
    partition_by=("event_date",),
    properties={
        "afl.layer": "gold",
        "afl.classification": "internal",
        "afl.retention_days": str(RETENTION_DAYS["internal"]),
    },
    comment="One row per (unit, evaluator, version): score, label, explanation and lineage.",
)

EVALUATOR_COMPARISONS = TableSpec(
    "gold",
    "evaluator_comparisons",
    None,
    partition_by=("event_date",),
    properties={"afl.layer": "gold", "afl.classification": "internal"},
    comment="Per day and pair of evaluator versions: units compared, labels changed, examples.",
)

QUALITY_RESULTS = TableSpec(
    "ops",
    "quality_results",
    QUALITY_RESULTS_SCHEMA,
    partition_by=("partition_date",),
    properties={"afl.layer": "ops", "afl.classification": "internal"},
    comment="One row per validated expectation: table, day, success, observed and sample values.",
)


RETENTION_RUNS = TableSpec(
    "ops",
    "retention_runs",
    RETENTION_RUNS_SCHEMA,
    properties={"afl.layer": "ops", "afl.classification": "internal"},
    comment="Each retention run per table: cutoff, rows expired, held, deleted, versions.",
)

RETENTION_BATCHES = TableSpec(
    "ops",
    "retention_batches",
    RETENTION_BATCHES_SCHEMA,
    properties={"afl.layer": "ops", "afl.classification": "internal"},
    comment="Rows each retention run deleted per table and stream micro-batch.",
)

BRONZE_EXPIRY = TableSpec(
    "ops",
    "bronze_expiry",
    BRONZE_EXPIRY_SCHEMA,
    properties={"afl.layer": "ops", "afl.classification": "internal"},
    comment="The Kafka offset ranges each retention run deleted from bronze, per partition.",
)

ERASURES = TableSpec(
    "ops",
    "erasures",
    ERASURES_SCHEMA,
    properties={"afl.layer": "ops", "afl.classification": "internal"},
    comment="Each subject erasure per table: rows found, deleted, remaining (subject as a digest).",
)

ERASED_RECORDS = TableSpec(
    "ops",
    "erased_records",
    ERASED_RECORDS_SCHEMA,
    properties={"afl.layer": "ops", "afl.classification": "internal"},
    comment="The Kafka record and stream batch of every row an erasure deleted.",
)


def all_specs(contracts: ContractSet | None = None) -> list[TableSpec]:
    cs = contracts or contract_set()
    specs = [BRONZE_AGENT_EVENTS, QUARANTINE, STREAM_PROGRESS]
    for event_type in SILVER_TABLE_FOR:
        specs.append(silver_spec(event_type))
        restricted = silver_restricted_spec(event_type, cs)
        if restricted is not None:
            specs.append(restricted)
    return [
        *specs,
        LEGACY_FEEDBACK_EXPORT,
        MIRROR_WATERMARK,
        *PARITY_TABLES,
        *GOLD_TABLES,
        EVALUATOR_SCORES,
        EVALUATOR_COMPARISONS,
        QUALITY_RESULTS,
        RETENTION_RUNS,
        RETENTION_BATCHES,
        BRONZE_EXPIRY,
        ERASURES,
        ERASED_RECORDS,
    ]


def spec_for(qualified_name: str) -> TableSpec:
    """The registry's table of that name (``silver.feedback``), or a clear error."""
    for spec in all_specs():
        if spec.qualified_name == qualified_name:
            return spec
    known = ", ".join(s.qualified_name for s in all_specs())
    raise AflError(f"unknown table {qualified_name!r}; known: {known}")


def ensure_table(
    spark: SparkSession, settings: Settings, spec: TableSpec, schema: T.StructType | None = None
) -> str:
    """Create the Delta table at its location if missing, register it by name; its path."""
    path = spec.path(settings)
    if not DeltaTable.isDeltaTable(spark, path):
        columns = schema or spec.schema
        if columns is None:
            raise ValueError(f"{spec.qualified_name} needs a schema to be created")
        builder = DeltaTable.createIfNotExists(spark).location(path).addColumns(columns)
        if spec.partition_by:
            builder = builder.partitionedBy(*spec.partition_by)
        for key, value in spec.properties.items():
            builder = builder.property(key, value)
        if spec.comment:
            builder = builder.comment(spec.comment)
        builder.execute()
    register_table(spark, spec.qualified_name, path)
    return path


def read_table(spark: SparkSession, settings: Settings, spec: TableSpec) -> DataFrame | None:
    """The table's current snapshot, or None while it does not exist."""
    path = spec.path(settings)
    if not DeltaTable.isDeltaTable(spark, path):
        return None
    return spark.read.format("delta").load(path)


_registered: dict[tuple[int, str], str] = {}


def register_table(spark: SparkSession, qualified_name: str, location: str) -> None:
    """Name a Delta location in this session's catalog; re-point it if the lake moved."""
    key = (id(spark.sparkContext), qualified_name)
    if _registered.get(key) == location and spark.catalog.tableExists(qualified_name):
        return  # already done in this session: no catalog round trip per micro-batch
    _register(spark, qualified_name, location)
    _registered[key] = location


def _register(spark: SparkSession, qualified_name: str, location: str) -> None:
    database = qualified_name.split(".")[0]
    spark.sql(f"CREATE DATABASE IF NOT EXISTS {database}")
    if spark.catalog.tableExists(qualified_name):
        current = spark.sql(f"DESCRIBE DETAIL {qualified_name}").first()
        if current is not None and _same_location(current["location"], location):
            return
        spark.sql(f"DROP TABLE {qualified_name}")  # external: drops the name, not the data
    spark.sql(f"CREATE TABLE {qualified_name} USING DELTA LOCATION '{location}'")


def register_existing(spark: SparkSession, settings: Settings) -> list[str]:
    """Register every registry table that exists in this lake, and the views over them;
    restricted tables only for the restricted role."""
    from pipelines.spark.views import register_views

    names = []
    for spec in all_specs():
        if spec.restricted and settings.role != "restricted":
            continue
        path = spec.path(settings)
        if DeltaTable.isDeltaTable(spark, path):
            register_table(spark, spec.qualified_name, path)
            names.append(spec.qualified_name)
    return names + register_views(spark)


def restricted_names(contracts: ContractSet | None = None) -> list[str]:
    """The registry's restricted tables by name (``silver.feedback_restricted``, ...)."""
    return [s.qualified_name for s in all_specs(contracts) if s.restricted]


def check_access(query: str, settings: Settings) -> None:
    """A general session naming a restricted table is refused in one line, before Spark
    (the table is not registered for it, so Spark would only say it does not exist)."""
    if settings.role == "restricted":
        return
    named = [
        name
        for name in restricted_names()
        if re.search(rf"(?<![\w.`]){re.escape(name)}(?![\w`])", query, re.IGNORECASE)
    ]
    if named:
        raise AflError(
            f"{named[0]} is restricted (raw user text or PII) and this session's role is "
            "general: set AFL_ROLE=restricted, with access to AFL_RESTRICTED_ROOT, to read it"
        )


def _same_location(a: str, b: str) -> bool:
    def norm(s: str) -> str:
        return s.removeprefix("file:").rstrip("/").replace("///", "/")

    return norm(a) == norm(b)
