"""Silver: typed, deduplicated, governed rows from bronze records; quarantine for the rest.

Pure DataFrame -> DataFrame functions. The same functions serve the stream (inside
foreachBatch) and the quarantine replay (over quarantined records).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from importlib.metadata import version as package_version
from typing import Any

import orjson
import pandas as pd
from pyspark import SparkContext
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T
from pyspark.sql.pandas.functions import pandas_udf

from pipelines.contracts.registry import (
    Contract,
    ContractSet,
    envelope_schema,
    shipped_contract_set,
)
from pipelines.contracts.spark_schema import (
    event_schema,
    exactness_schema,
    merged_schema,
    unrepresentable,
)
from pipelines.contracts.timestamps import LATEST_TIMESTAMP, parse_timestamp
from pipelines.errors import AflError
from pipelines.governance.classification import (
    RETENTION_DAYS,
    USER_TEXT,
    general_classification,
    hashed,
    retention_until,
    source_from_headers,
)
from pipelines.settings import DEFAULT_HASH_SALT
from pipelines.transforms.schemas import COORDINATES, QUARANTINE_SCHEMA

PIPELINE_VERSION = package_version("agent-feedback-lakehouse")
RESCUED = "_rescued_data"

STAGES = {
    "oversized": "size",
    "malformed_json": "parse",
    "not_an_object": "parse",
    "dead_lettered": "producer",
    "unrepresentable": "typing",
    "processing_error": "classify",
    "schema_conflict": "schema",
    "conflicting_duplicate": "dedupe",
}
# Rescued values are kept as JSON; orjson writes at most this many levels of nesting.
MAX_RESCUE_DEPTH = 254

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
    hash_salt: str = field(default=DEFAULT_HASH_SALT, repr=False)


_EXPRESSIONS: dict[tuple[object, ...], Any] = {}


def _once(key: tuple[object, ...], build: Callable[[], Any]) -> Any:
    """Column expressions built once per Spark session and shape, then reused.

    Building an expression costs a py4j round trip per node; a micro-batch would otherwise
    spend seconds rebuilding the same typing and rejection expressions (they are unresolved,
    so the same objects serve every batch's DataFrame).
    """
    full = (id(SparkContext._active_spark_context), *key)
    found = _EXPRESSIONS.get(full)
    if found is None:
        found = _EXPRESSIONS[full] = build()
    return found


CLASSIFIED = (
    "struct<kind:string,field:string,message:string,event_type:string,"
    "schema_version:bigint,event_id:string,event_date:date,occurred_at:timestamp,"
    "rescued:string,present:int>"
)


def contract_classifier(contracts: ContractSet) -> Callable[[Column], Column]:
    """A vectorized UDF running ``ContractSet.classify`` over record values.

    It is the producer SDK's own compiled validator, so the stream and the producer judge
    events identically. The contract documents travel with the UDF (tens of KB): a worker
    judges by exactly the set the driver accepted, whether or not it can see the contracts
    folder, and not by files dropped there since that the stream refused. It never raises:
    whatever goes wrong with one record becomes that record's rejection
    (``processing_error``), so one record can never stop a micro-batch.
    """
    directory, documents = str(contracts.directory), contracts.documents

    @pandas_udf(CLASSIFIED)  # type: ignore[call-overload,untyped-decorator]  # no pandas stubs
    def classify_values(values: pd.Series) -> pd.DataFrame:
        cs = shipped_contract_set(directory, documents)
        out: dict[str, list[Any]] = {name: [] for name in _VERDICT_FIELDS}
        for value in values:
            try:
                verdict = judge_record(cs, value)
            except Exception as exc:  # a record must never stop the batch
                verdict = _processing_error(value, exc)
            for name, item in zip(_VERDICT_FIELDS, verdict, strict=True):
                out[name].append(item)
        frame = pd.DataFrame(out)
        frame["schema_version"] = pd.array(out["schema_version"], dtype="Int64")
        frame["present"] = pd.array(out["present"], dtype="Int32")
        return frame

    udf: Callable[[Column], Column] = classify_values
    return udf


_VERDICT_FIELDS = (
    "kind",
    "field",
    "message",
    "event_type",
    "schema_version",
    "event_id",
    "event_date",
    "occurred_at",
    "rescued",
    "present",
)
# occurred_at plus the longest retention must stay a date every reader can handle
_LATEST_OCCURRED_AT = LATEST_TIMESTAMP - timedelta(days=max(RETENTION_DAYS.values()))


def judge_record(cs: ContractSet, value: bytes | None) -> tuple[Any, ...]:
    """One record's verdict, as a row of CLASSIFIED (what the classifier UDF runs per record)."""
    verdict = cs.classify(value)
    event = verdict.event if isinstance(verdict.event, dict) else {}
    et, ver, eid = (event.get("event_type"), event.get("schema_version"), event.get("event_id"))
    identity = (
        et if isinstance(et, str) else None,
        ver if type(ver) is int else None,
        eid if isinstance(eid, str) else None,
    )
    if verdict.kind != "valid":
        message = _message_of(verdict.reason, verdict.field)
        return (verdict.kind, verdict.field, message, *identity, None, None, None, None)
    if not isinstance(et, str) or not isinstance(ver, int):  # a valid event has both
        raise ValueError(f"a valid event without its type or version: {et!r} v{ver!r}")
    contract = cs.get(et, ver)
    problem = unrepresentable(event, _exactness(contract), "")
    moment = parse_timestamp(event["occurred_at"]) if problem is None else None
    if problem is None and (moment is None or moment > _LATEST_OCCURRED_AT):
        problem = ("occurred_at", "is too far in the future for its retention date")
    if problem is not None:
        return ("unrepresentable", problem[0], problem[1], *identity, None, None, None, None)
    assert moment is not None
    unknown = cs.unknown_fields(event)
    rescued = None
    if unknown:
        try:
            rescued = orjson.dumps(unknown).decode()
        except orjson.JSONEncodeError:
            deepest = max(unknown, key=lambda k: _depth(unknown[k]))
            return (
                "unrepresentable",
                deepest,
                f"nests too deep for _rescued_data (JSON of at most {MAX_RESCUE_DEPTH} levels)",
                *identity,
                None,
                None,
                None,
                None,
            )
    occurred = moment.replace(tzinfo=None)
    present = _count_present(event, contract)
    return (None, None, None, *identity, occurred.date(), occurred, rescued, present)


def _processing_error(value: bytes | None, exc: Exception) -> tuple[Any, ...]:
    identity: tuple[Any, ...] = (None, None, None)
    try:
        event = orjson.loads(value) if value is not None else None
        if isinstance(event, dict):
            eid = event.get("event_id")
            et = event.get("event_type")
            ver = event.get("schema_version")
            identity = (
                et if isinstance(et, str) else None,
                ver if type(ver) is int else None,
                eid if isinstance(eid, str) else None,
            )
    except Exception:  # best effort: the reason matters more
        pass
    message = f"{type(exc).__name__}: {exc}"[:500]
    return ("processing_error", None, message, *identity, None, None, None, None)


_EXACTNESS: dict[tuple[str, int, str], T.StructType] = {}


def _exactness(contract: Contract) -> T.StructType:
    key = (contract.event_type, contract.version, str(contract.path))
    if key not in _EXACTNESS:
        _EXACTNESS[key] = exactness_schema(event_schema(contract))
    return _EXACTNESS[key]


def _depth(value: Any) -> int:
    depth, level = 0, [value]
    while level:
        depth += 1
        level = [
            child
            for item in level
            if isinstance(item, dict | list)
            for child in (item.values() if isinstance(item, dict) else item)
        ]
    return depth


def _count_present(event: dict[str, Any], contract: Contract) -> int:
    """Non-null values of the fields the contract types (envelope and payload)."""
    payload = event["payload"]
    top = sum(
        1 for k in contract.envelope["properties"] if k != "payload" and event.get(k) is not None
    )
    return top + sum(1 for k in contract.payload_fields if payload.get(k) is not None)


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

    Adds ``event_type``, ``schema_version``, ``event_id``, ``event_date``, ``occurred_at``,
    ``_rescued``, ``_present`` (how many typed fields the event fills) and ``rejection``
    (struct kind, field, message, stage). Checks run in the Python reference's order (size,
    JSON, object, event type, version, contract, exactness), then the record's topic, then
    the DLQ.
    """
    cs = rules.contracts
    key = (
        "classify",
        str(cs.directory),
        cs.fingerprint,
        tuple((t, tuple(types)) for t, types in sorted(rules.topic_event_types.items())),
        tuple(rules.dlq_topics),
    )
    verdict, columns = _once(key, lambda: _classify_columns(rules))
    return records.withColumn("_c", verdict).select(*records.columns, *columns)


def _classify_columns(rules: IngestRules) -> tuple[Column, list[Column]]:
    cs = rules.contracts
    verdict = contract_classifier(cs)(F.col("value"))
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
    return verdict, [
        et.alias("event_type"),
        F.col("_c.schema_version").alias("schema_version"),
        F.col("_c.event_id").alias("event_id"),
        F.col("_c.event_date").alias("event_date"),
        F.col("_c.occurred_at").alias("occurred_at"),
        F.col("_c.rescued").alias("_rescued"),
        F.col("_c.present").alias("_present"),
        judged_rejection.alias("rejection"),
    ]


def _header(name: str) -> Column:
    found = F.filter("headers", lambda h: h["key"] == F.lit(name))
    return F.when(F.size(found) > 0, found[0]["value"].cast("string"))


def quarantine_rows(classified: DataFrame, batch_id: int | None = None) -> DataFrame:
    """Every rejected record, with its raw value, Kafka coordinates and the reason.

    A conflicting duplicate also names the copy that landed (``duplicate_of``) and the
    fields that differ; ``ingest_batch_id`` is the stream micro-batch that judged it.
    """
    has_duplicates = "_duplicate_of" in classified.columns
    columns = _once(("quarantine", has_duplicates), lambda: _quarantine_columns(has_duplicates))
    rejected = classified.where(F.col("rejection").isNotNull())
    return (
        rejected.select(*columns)
        .withColumn("ingest_batch_id", F.lit(batch_id).cast("long"))
        .select(*QUARANTINE_SCHEMA.fieldNames())
    )


def _quarantine_columns(has_duplicates: bool) -> list[Column | str]:
    now = F.current_timestamp()
    duplicate_of = (F.col("_duplicate_of") if has_duplicates else F.lit(None)).cast(COORDINATES)
    differing = (F.col("_differing") if has_duplicates else F.lit(None)).cast("array<string>")
    return [
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
        duplicate_of.alias("duplicate_of"),
        differing.alias("differing_fields"),
        # Quarantine keeps raw values: restricted, for as long as restricted data is kept
        # (from when the record was produced: a rejected record may carry no valid time).
        F.get_json_object(F.col("value").cast("string"), "$.tenant_id").alias("tenant_id"),
        F.lit("restricted").alias("data_classification"),
        retention_until(F.col("kafka_timestamp"), "restricted").alias("retention_until"),
    ]


REASON_COLUMNS = ("kind", "field", "message", "stage")


def with_rejection(records: DataFrame, reasons: DataFrame) -> DataFrame:
    """``records`` (bronze or classified rows) named by ``reasons`` as rejected records.

    ``reasons``: ``topic, partition, offset`` and the rejection's ``kind, field, message,
    stage``; the result has what quarantine_rows needs.
    """
    joined = records.drop("rejection").join(
        F.broadcast(reasons.select("topic", "partition", "offset", *REASON_COLUMNS)),
        ["topic", "partition", "offset"],
    )
    for name, dtype in (
        ("event_type", "string"),
        ("event_id", "string"),
        ("schema_version", "bigint"),
    ):
        if name not in records.columns:
            joined = joined.withColumn(name, F.lit(None).cast(dtype))
    rejection = F.struct(*[F.col(c).cast("string").alias(c) for c in REASON_COLUMNS])
    return joined.withColumn("rejection", rejection).drop(*REASON_COLUMNS)


def typed_events(
    classified: DataFrame, contracts: Sequence[Contract], rules: IngestRules
) -> DataFrame:
    """Valid records of one event type as flat, typed, governed silver rows.

    ``contracts`` are the versions present in the batch: their merged schema decides the
    columns, so a new version's fields appear as new columns when its first events arrive.
    Each row is typed by its own version: a column (or nested field) its version does not
    declare is null, whatever the record carries under that name (that value is in
    ``_rescued_data``), so a typed value is always one its own contract validated, and a
    row does not depend on the versions beside it in the batch.
    ``_typing_problem`` is null, or says that Spark read null where the event has a value
    (the classifier's exactness rules should have caught it first: this is the safety net).
    ``_conflict`` is null, or says why the row's version cannot share the table's columns
    with the earlier versions in the batch (a type no safe widening joins): such rows are
    quarantined as ``schema_conflict``, the other versions' rows land.
    """
    event_type = contracts[0].event_type
    key = (
        "typed",
        event_type,
        tuple((c.version, str(c.path)) for c in contracts),
        rules.topic_classification[event_type],
    )
    parsed, columns = _once(key, lambda: _typed_columns(contracts, rules))
    rows = classified.where(
        F.col("rejection").isNull() & (F.col("event_type") == event_type)
    ).withColumn("_e", parsed)
    return rows.select(*columns)


def typing_plan(contracts: Sequence[Contract]) -> tuple[list[Contract], dict[int, str]]:
    """The versions typed together (in version order, each merging into the ones before),
    and why each other version cannot join them (version -> ``payload.<field>: ...``)."""
    typed: list[Contract] = []
    conflicts: dict[int, str] = {}
    for contract in sorted(contracts, key=lambda c: c.version):
        try:
            merged_schema([*typed, contract])
        except AflError as exc:
            field_name, _, why = str(exc).partition(": ")
            earlier = ", ".join(f"v{c.version}" for c in typed) or "silver"
            conflicts[contract.version] = (
                f"payload.{field_name}: {contract.event_type} v{contract.version} cannot share "
                f"the table's columns with {earlier} ({why})"
            )
            continue
        typed.append(contract)
    return typed, conflicts


def _typed_columns(
    contracts: Sequence[Contract], rules: IngestRules
) -> tuple[Column, list[Column]]:
    event_type = contracts[0].event_type
    typed, conflicts = typing_plan(contracts)
    schema = merged_schema(typed)
    payload_type = schema["payload"].dataType
    assert isinstance(payload_type, T.StructType)  # the envelope's payload is an object
    parsed = F.from_json(F.col("value").cast("string"), schema)
    own: dict[int, T.DataType] = {c.version: event_schema(c) for c in typed}
    version = F.col("_e.schema_version")
    topic_class = rules.topic_classification[event_type]
    columns: list[Column] = []
    for f in schema.fields:
        if f.name == "payload":
            continue
        value = own_typed(F.col(f"_e.{f.name}"), f, version, _declared(own, f.name))
        if f.name == "data_classification":
            # The table's class, which the contract and the topic decide; the producer's
            # own word stays in bronze's raw bytes.
            value = F.lit(general_classification(topic_class))
        columns.append(value.alias(f.name, metadata=f.metadata))
        if f.name == "occurred_at":
            columns.append(F.to_date(F.col("_e.occurred_at")).alias("event_date"))
    own_payloads = {c.version: event_schema(c)["payload"].dataType for c in typed}
    for f in payload_type.fields:
        declared = _declared(own_payloads, f.name)
        value = own_typed(F.col(f"_e.payload.{f.name}"), f, version, declared)
        columns.append(value.alias(f.name, metadata=f.metadata))
    contains_pii = F.lit(False)
    for contract in typed:  # the row's own version's user text and PII fields
        filled = F.lit(False)
        for name in sorted(k.split(".", 1)[1] for k in contract.field_classes):
            filled = filled | F.col(f"_e.payload.{name}").isNotNull()
        contains_pii = F.when(version == contract.version, filled).otherwise(contains_pii)
    conflict = F.lit(None).cast("string")
    for v, why in sorted(conflicts.items()):
        conflict = F.when(version == v, F.lit(why)).otherwise(conflict)
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
        _typing_problem(typed).alias("_typing_problem"),
        conflict.alias("_conflict"),
    ]
    return parsed, columns


def _declared(schemas: Mapping[int, T.DataType], name: str) -> dict[int, T.DataType | None]:
    """Each version's own type of field ``name`` (None: the version does not declare it)."""
    return {
        v: s[name].dataType if isinstance(s, T.StructType) and name in s.fieldNames() else None
        for v, s in schemas.items()
    }


def own_typed(
    value: Column, merged: T.StructField, version: Column, declared: Mapping[int, T.DataType | None]
) -> Column:
    """``value`` (read with the merged type) as the row's own version types it: null where
    that version does not declare the field, nested fields included."""
    if all(t is not None and _same_shape(t, merged.dataType) for t in declared.values()):
        return value  # every version declares it alike: the usual column, no CASE
    out = F.lit(None).cast(merged.dataType)
    for v, own in sorted(declared.items()):
        if own is not None:
            out = F.when(version == v, _project(value, merged.dataType, own)).otherwise(out)
    return out


def _same_shape(own: T.DataType, merged: T.DataType) -> bool:
    """Whether a version's type keeps every part of the merged one (widening aside)."""
    if isinstance(own, T.StructType) and isinstance(merged, T.StructType):
        mine = {f.name: f.dataType for f in own.fields}
        return all(f.name in mine and _same_shape(mine[f.name], f.dataType) for f in merged.fields)
    if isinstance(own, T.ArrayType) and isinstance(merged, T.ArrayType):
        return _same_shape(own.elementType, merged.elementType)
    if isinstance(own, T.MapType) and isinstance(merged, T.MapType):
        return _same_shape(own.valueType, merged.valueType)
    return not isinstance(merged, T.StructType | T.ArrayType | T.MapType)


def _project(value: Column, merged: T.DataType, own: T.DataType) -> Column:
    """``value`` of the merged type, keeping only the parts ``own`` declares."""
    if _same_shape(own, merged):
        return value
    if isinstance(merged, T.StructType) and isinstance(own, T.StructType):
        mine = {f.name: f.dataType for f in own.fields}
        fields = [
            (
                _project(value[f.name], f.dataType, mine[f.name])
                if f.name in mine
                else F.lit(None).cast(f.dataType)
            ).alias(f.name)
            for f in merged.fields
        ]
        return F.when(value.isNotNull(), F.struct(*fields))
    if isinstance(merged, T.ArrayType) and isinstance(own, T.ArrayType):
        element, own_element = merged.elementType, own.elementType
        return F.transform(value, lambda item: _project(item, element, own_element))
    if isinstance(merged, T.MapType) and isinstance(own, T.MapType):
        item_type, own_item = merged.valueType, own.valueType
        return F.transform_values(value, lambda _, item: _project(item, item_type, own_item))
    return F.lit(None).cast(merged)  # shapes that cannot meet: merged_schema refuses them


def _typing_problem(contracts: Sequence[Contract]) -> Column:
    """Null, or which typed fields read null although the event fills one of them."""
    problem = F.lit(None).cast("string")
    for contract in contracts:
        paths = [(k, F.col(f"_e.{k}")) for k in contract.envelope["properties"] if k != "payload"]
        paths += [(k, F.col(f"_e.payload.{k}")) for k in contract.payload_fields]
        typed = sum((c.isNotNull().cast("int") for _, c in paths), F.lit(0))
        read_null = F.concat_ws(", ", *[F.when(c.isNull(), F.lit(k)) for k, c in paths])
        problem = F.when(
            (F.col("schema_version") == contract.version) & (typed < F.col("_present")),
            F.concat(F.lit("Spark read null for a value the event has; null here: "), read_null),
        ).otherwise(problem)
    return problem


def split_restricted(
    rows: DataFrame, contracts: Sequence[Contract], salt: str
) -> tuple[DataFrame, DataFrame | None]:
    """The general table's rows (user text and PII hashed) and the restricted companion's.

    The companion holds one row for each general row that carries user text or PII
    (``contains_pii``), and no other: it is where the raw values live, keyed by event_id.
    """
    classes = {k.split(".", 1)[1]: v for c in contracts for k, v in c.field_classes.items()}
    if not classes:
        return rows, None
    key = ("split", tuple(sorted(classes.items())), salt, tuple(rows.columns))
    general, restricted = _once(key, lambda: _split_columns(rows.columns, classes, salt))
    return rows.select(*general), (rows.where(F.col("contains_pii")).select(*restricted))


def _split_columns(
    names: Sequence[str], classes: Mapping[str, str], salt: str
) -> tuple[list[Column], list[Column]]:
    general: list[Column] = []
    for name in names:
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
    restricted = [F.col(c) for c in keep if c in names and c != "retention_until"]
    # The companion's rows are restricted, and kept only as long as restricted data is.
    restricted.append(F.lit("restricted").alias("data_classification"))
    restricted.append(retention_until(F.col("occurred_at"), "restricted").alias("retention_until"))
    return general, restricted
