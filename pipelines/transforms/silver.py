"""Silver: typed, deduplicated, governed rows from bronze records; quarantine for the rest.

Pure DataFrame -> DataFrame functions. The same functions serve the stream (inside
foreachBatch) and the quarantine replay (over quarantined records).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version as package_version

import orjson
import pandas as pd
from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from pipelines.contracts.registry import (
    Contract,
    ContractSet,
    contract_set,
    envelope_schema,
    reload_contracts,
)
from pipelines.contracts.spark_schema import merged_schema
from pipelines.governance.classification import (
    USER_TEXT,
    hashed,
    retention_until,
    source_from_headers,
)

PIPELINE_VERSION = package_version("agent-feedback-lakehouse")
RESCUED = "_rescued_data"

STAGES = {
    "oversized": "size",
    "malformed_json": "parse",
    "not_an_object": "parse",
    "dead_lettered": "producer",
    "schema_conflict": "schema",
}

ENVELOPE_COLUMNS = tuple(k for k in envelope_schema()["properties"] if k != "payload")
KAFKA_COLUMNS = ("kafka_topic", "kafka_partition", "kafka_offset", "kafka_timestamp")
GOVERNANCE_COLUMNS = (
    RESCUED,
    "contains_pii",
    "retention_until",
    "source",
    *KAFKA_COLUMNS,
    "ingested_at",
    "pipeline_version",
)
KEY_COLUMNS = ("event_id", "event_date", "occurred_at", "tenant_id", "session_id", "trace_id")


@dataclass(frozen=True)
class IngestRules:
    """What the transforms need to know, passed in (they read no settings and do no I/O)."""

    contracts: ContractSet
    topic_event_types: Mapping[str, Sequence[str]]  # physical topic -> event types it carries
    topic_classification: Mapping[str, str]  # event type -> its topic's classification
    dlq_topics: Sequence[str] = ()
    hash_salt: str = "afl-local-salt"


CLASSIFIED = (
    "struct<kind:string,field:string,message:string,event_type:string,"
    "schema_version:bigint,event_id:string,event_date:date,rescued:string>"
)


def contract_classifier(contracts_dir: str, fingerprint: str) -> Callable[[Column], Column]:
    """A vectorized UDF running ``ContractSet.classify`` over record values.

    It is the producer SDK's own compiled validator, so the stream and the producer judge
    events identically. Workers reload the contracts when their fingerprint changes.
    """

    @F.pandas_udf(CLASSIFIED)  # type: ignore[call-overload]
    def classify_values(values: pd.Series) -> pd.DataFrame:
        cs = contract_set(contracts_dir)
        if cs.fingerprint != fingerprint:  # a contract file changed since this worker loaded
            reload_contracts()
            cs = contract_set(contracts_dir)
        kinds, fields, messages, types, versions, ids, dates, rescued = ([] for _ in range(8))
        for value in values:
            verdict = cs.classify(value)
            event = verdict.event
            if verdict.kind == "valid":
                assert event is not None
                unknown = cs.unknown_fields(event)
                kinds.append(None)
                fields.append(None)
                messages.append(None)
                rescued.append(orjson.dumps(unknown).decode() if unknown else None)
                # the silver partition: occurred_at's UTC date (validated as date-time)
                moment = datetime.fromisoformat(event["occurred_at"].replace("z", "Z"))
                dates.append(moment.astimezone(UTC).date() if moment.tzinfo else moment.date())
            else:
                kinds.append(verdict.kind)
                fields.append(verdict.field)
                messages.append(_message_of(verdict.reason, verdict.field))
                rescued.append(None)
                dates.append(None)
            event = event if isinstance(event, dict) else {}
            et, ver, eid = (
                event.get("event_type"),
                event.get("schema_version"),
                event.get("event_id"),
            )
            types.append(et if isinstance(et, str) else None)
            versions.append(ver if type(ver) is int else None)
            ids.append(eid if isinstance(eid, str) else None)
        return pd.DataFrame(
            {
                "kind": kinds,
                "field": fields,
                "message": messages,
                "event_type": types,
                "schema_version": pd.array(versions, dtype="Int64"),
                "event_id": ids,
                "event_date": dates,
                "rescued": rescued,
            }
        )

    return classify_values


def _message_of(reason: str, field_name: str | None) -> str:
    """'invalid outcome event: payload.status: must be ...' -> 'must be ...'."""
    if field_name and f"{field_name}: " in reason:
        return reason.split(f"{field_name}: ", 1)[1]
    return reason


def _rejection(
    kind: str | Column, field_name: str | Column | None, message: str | Column
) -> Column:
    return F.struct(
        (F.lit(kind) if isinstance(kind, str) else kind).alias("kind"),
        (field_name if isinstance(field_name, Column) else F.lit(field_name))
        .cast("string")
        .alias("field"),
        (F.lit(message) if isinstance(message, str) else message).alias("message"),
    )


def classify(records: DataFrame, rules: IngestRules) -> DataFrame:
    """Judge each bronze record once: which event it is, and why it cannot be silver (or null).

    Adds ``event_type``, ``schema_version``, ``event_id``, ``_rescued`` and ``rejection``
    (struct kind, field, message, stage). Checks run in the Python reference's order (size,
    JSON, object, event type, version, contract), then the record's topic, then the DLQ.
    """
    cs = rules.contracts
    judged = records.withColumn(
        "_c", contract_classifier(str(cs.directory), cs.fingerprint)(F.col("value"))
    )
    et = F.col("_c.event_type")
    allowed_on_topic = F.coalesce(
        *[
            F.when(F.col("topic") == t, F.array(*[F.lit(x) for x in types]))
            for t, types in rules.topic_event_types.items()
        ],
        F.array().cast("array<string>"),
    )
    is_dlq = F.col("topic").isin(*rules.dlq_topics) if rules.dlq_topics else F.lit(False)
    dlq_reason = F.coalesce(_header("afl.reason"), F.lit("sent to the dead-letter topic"))
    wrong_topic = F.format_string("%s events do not belong on topic %s", et, F.col("topic"))
    rejection = F.coalesce(
        F.when(
            F.col("_c.kind").isNotNull(),
            _rejection(F.col("_c.kind"), F.col("_c.field"), F.col("_c.message")),
        ),
        F.when(is_dlq, _rejection("dead_lettered", None, dlq_reason)),
        F.when(
            ~F.array_contains(allowed_on_topic, et),
            _rejection("wrong_topic", "event_type", wrong_topic),
        ),
    )
    stage = F.coalesce(
        *[F.when(rejection["kind"] == k, F.lit(s)) for k, s in STAGES.items()], F.lit("contract")
    )
    judged_rejection = F.when(
        rejection.isNotNull(),
        F.struct(
            rejection["kind"].alias("kind"),
            rejection["field"].alias("field"),
            rejection["message"].alias("message"),
            stage.alias("stage"),
        ),
    )
    return judged.select(
        *records.columns,
        et.alias("event_type"),
        F.col("_c.schema_version").alias("schema_version"),
        F.col("_c.event_id").alias("event_id"),
        F.col("_c.event_date").alias("event_date"),
        F.col("_c.rescued").alias("_rescued"),
        judged_rejection.alias("rejection"),
    )


def _header(name: str) -> Column:
    found = F.filter("headers", lambda h: h["key"] == F.lit(name))
    return F.when(F.size(found) > 0, found[0]["value"].cast("string"))


QUARANTINE_SCHEMA = T.StructType(
    [
        T.StructField("value", T.BinaryType()),
        T.StructField("key", T.StringType()),
        T.StructField(
            "headers",
            T.ArrayType(
                T.StructType(
                    [T.StructField("key", T.StringType()), T.StructField("value", T.BinaryType())]
                )
            ),
        ),
        T.StructField("kafka_topic", T.StringType()),
        T.StructField("kafka_partition", T.IntegerType()),
        T.StructField("kafka_offset", T.LongType()),
        T.StructField("kafka_timestamp", T.TimestampType()),
        T.StructField("stage", T.StringType()),
        T.StructField("reason_kind", T.StringType()),
        T.StructField("reason_field", T.StringType()),
        T.StructField("reason", T.StringType()),
        T.StructField("event_type", T.StringType()),
        T.StructField("event_id", T.StringType()),
        T.StructField("schema_version", T.LongType()),
        T.StructField("source", T.StringType()),
        T.StructField("ingested_at", T.TimestampType()),
        T.StructField("quarantined_at", T.TimestampType()),
        T.StructField("quarantine_date", T.DateType()),
        T.StructField("status", T.StringType()),
        T.StructField("replay_attempts", T.IntegerType()),
        T.StructField("replayed_at", T.TimestampType()),
    ]
)


def quarantine_rows(classified: DataFrame) -> DataFrame:
    """Every rejected record, with its raw value, Kafka coordinates and the reason."""
    now = F.current_timestamp()
    rejected = classified.where(F.col("rejection").isNotNull())
    return rejected.select(
        "value",
        "key",
        "headers",
        F.col("topic").alias("kafka_topic"),
        F.col("partition").alias("kafka_partition"),
        F.col("offset").alias("kafka_offset"),
        "kafka_timestamp",
        F.col("rejection.stage").alias("stage"),
        F.col("rejection.kind").alias("reason_kind"),
        F.col("rejection.field").alias("reason_field"),
        F.concat_ws(": ", F.col("rejection.field"), F.col("rejection.message")).alias("reason"),
        "event_type",
        "event_id",
        "schema_version",
        source_from_headers(F.col("headers")).alias("source"),
        "ingested_at",
        now.alias("quarantined_at"),
        F.to_date(now).alias("quarantine_date"),
        F.lit("quarantined").alias("status"),
        F.lit(0).alias("replay_attempts"),
        F.lit(None).cast("timestamp").alias("replayed_at"),
    )


def typed_events(
    classified: DataFrame, contracts: Sequence[Contract], rules: IngestRules
) -> DataFrame:
    """Valid records of one event type as flat, typed, governed silver rows.

    ``contracts`` are the versions present in the batch: their merged schema decides the
    columns, so a new version's fields appear as new columns when its first events arrive.
    """
    event_type = contracts[0].event_type
    schema = merged_schema(contracts)
    payload_type: T.StructType = schema["payload"].dataType  # type: ignore[assignment]
    rows = classified.where(
        F.col("rejection").isNull() & (F.col("event_type") == event_type)
    ).withColumn("_e", F.from_json(F.col("value").cast("string"), schema))
    columns: list[Column] = []
    for f in schema.fields:
        if f.name == "payload":
            continue
        columns.append(F.col(f"_e.{f.name}").alias(f.name, metadata=f.metadata))
        if f.name == "occurred_at":
            columns.append(F.to_date(F.col("_e.occurred_at")).alias("event_date"))
    for f in payload_type.fields:
        columns.append(F.col(f"_e.payload.{f.name}").alias(f.name, metadata=f.metadata))
    classified_fields = sorted({k.split(".", 1)[1] for c in contracts for k in c.field_classes})
    contains_pii = F.lit(False)
    for name in classified_fields:
        contains_pii = contains_pii | F.col(f"_e.payload.{name}").isNotNull()
    topic_class = rules.topic_classification[event_type]
    columns += [
        F.col("_rescued").alias(RESCUED),
        contains_pii.alias("contains_pii"),
        retention_until(F.col("_e.occurred_at"), topic_class).alias("retention_until"),
        source_from_headers(F.col("headers")).alias("source"),
        F.col("topic").alias("kafka_topic"),
        F.col("partition").alias("kafka_partition"),
        F.col("offset").alias("kafka_offset"),
        F.col("kafka_timestamp"),
        F.col("ingested_at"),
        F.lit(PIPELINE_VERSION).alias("pipeline_version"),
    ]
    return rows.select(*columns)


def first_per_event_id(rows: DataFrame) -> DataFrame:
    """One row per event_id within a batch: the first Kafka occurrence wins."""
    order = Window.partitionBy("event_id").orderBy("kafka_topic", "kafka_partition", "kafka_offset")
    return rows.withColumn("_n", F.row_number().over(order)).where("_n = 1").drop("_n")


def split_restricted(
    rows: DataFrame, contracts: Sequence[Contract], salt: str
) -> tuple[DataFrame, DataFrame | None]:
    """The general table's rows (user text and PII hashed) and the restricted companion's."""
    classes = {k.split(".", 1)[1]: v for c in contracts for k, v in c.field_classes.items()}
    if not classes:
        return rows, None
    general: list[Column] = []
    for name in rows.columns:
        if name not in classes:
            general.append(F.col(name))
            continue
        general.append(
            hashed(F.col(name), salt).alias(
                f"{name}_hash",
                metadata={
                    "classification": f"{classes[name]}_hash",
                    "comment": f"salted SHA-256 of {name}; raw value in the restricted table",
                },
            )
        )
        if classes[name] == USER_TEXT:
            general.append(F.length(name).alias(f"{name}_length"))
    keep = [*KEY_COLUMNS, *classes, *(c for c in GOVERNANCE_COLUMNS if c != RESCUED)]
    restricted = rows.select(*[c for c in keep if c in rows.columns]).withColumn(
        "data_classification", F.lit("restricted")
    )
    return rows.select(*general), restricted
