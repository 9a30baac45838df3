"""Quarantine replay: re-drive quarantined records through today's contracts.

After a contract fix (say, a version that was missing is added), records that now pass
land in silver exactly once — the silver writer drops event_ids already present — and are
marked ``replayed``; records that still fail stay quarantined with their new reason.
A second replay finds nothing new to land.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from delta.tables import DeltaTable
from pyspark import StorageLevel
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from pipelines.contracts.registry import contract_set, reload_contracts
from pipelines.contracts.topics import DLQ_TOPIC, TOPICS
from pipelines.errors import AflError
from pipelines.ingest.stream import IngestBatch, ingest_rules
from pipelines.settings import Settings
from pipelines.spark.tables import QUARANTINE
from pipelines.transforms.silver import classify


@dataclass(frozen=True)
class ReplayResult:
    examined: int
    landed: int
    already_in_silver: int
    still_failing: int


def replay_quarantine(spark: SparkSession, settings: Settings) -> ReplayResult:
    """Replay every record still quarantined; return what happened to them."""
    path = QUARANTINE.path(settings)
    if not DeltaTable.isDeltaTable(spark, path):
        raise AflError("there is no quarantine table yet; nothing to replay")
    reload_contracts()
    rules = ingest_rules(settings, contract_set(), dead_letters=False)
    writer = IngestBatch(settings, query_name="quarantine_replay", rules=rules)
    pending = spark.read.format("delta").load(path).where(F.col("status") == "quarantined")
    # Records a producer dead-lettered are judged as if sent to their own event type's topic.
    dlq = settings.topic_name(DLQ_TOPIC)
    own_topic = F.coalesce(
        *[
            F.when(F.col("event_type") == et, F.lit(settings.topic_name(t.name)))
            for t in TOPICS
            for et in t.event_types
        ],
        F.col("kafka_topic"),
    )
    records = pending.select(
        "value",
        "key",
        "headers",
        F.when(F.col("kafka_topic") == dlq, own_topic)
        .otherwise(F.col("kafka_topic"))
        .alias("topic"),
        F.col("kafka_partition").alias("partition"),
        F.col("kafka_offset").alias("offset"),
        "kafka_timestamp",
        "ingested_at",
        F.col("kafka_topic").alias("_quarantined_topic"),
    )
    classified = classify(records, rules).persist(StorageLevel.MEMORY_AND_DISK)
    try:
        tally = writer.tally(classified)
        examined = sum(r["n"] for r in tally)
        if examined == 0:
            return ReplayResult(0, 0, 0, 0)
        silver = writer.write_silver(spark, classified, tally, (f"afl-replay:{uuid.uuid4()}", 0))
        landed = sum(silver.inserted.values())
        passing = sum(silver.valid.values())
        outcome = classified.select(
            F.col("_quarantined_topic").alias("kafka_topic"),
            F.col("topic").alias("_judged_topic"),
            F.col("partition").alias("kafka_partition"),
            F.col("offset").alias("kafka_offset"),
            F.col("rejection.kind").alias("reason_kind"),
            F.col("rejection.field").alias("reason_field"),
            F.concat_ws(": ", "rejection.field", "rejection.message").alias("reason"),
            F.col("rejection.stage").alias("stage"),
        )
        conflicts = 0
        if silver.conflicts is not None:
            # A schema conflict is a rejection found while writing: it wins over "passed".
            found = silver.conflicts.select(
                "kafka_partition",
                "kafka_offset",
                F.col("kafka_topic").alias("_topic"),
                *[
                    F.col(c).alias(f"_c_{c}")
                    for c in ("reason_kind", "reason_field", "reason", "stage")
                ],
            ).persist()
            conflicts = found.count()
            outcome = outcome.join(
                found,
                (outcome._judged_topic == found._topic)
                & (outcome.kafka_partition == found.kafka_partition)
                & (outcome.kafka_offset == found.kafka_offset),
                "left",
            ).select(
                outcome.kafka_topic,
                outcome.kafka_partition,
                outcome.kafka_offset,
                *[
                    F.coalesce(f"_c_{c}", outcome[c]).alias(c)
                    for c in ("reason_kind", "reason_field", "reason", "stage")
                ],
            )
        _mark(spark, path, outcome)
        return ReplayResult(
            examined, landed, passing - landed - conflicts, examined - passing + conflicts
        )
    finally:
        classified.unpersist()


def _mark(spark: SparkSession, path: str, outcome) -> None:  # type: ignore[no-untyped-def]
    """Passing records become 'replayed'; failing ones keep status and take the new reason."""
    passed = F.col("u.reason_kind").isNull()
    (
        DeltaTable.forPath(spark, path)
        .alias("t")
        .merge(
            outcome.alias("u"),
            "t.kafka_topic = u.kafka_topic AND t.kafka_partition = u.kafka_partition "
            "AND t.kafka_offset = u.kafka_offset AND t.status = 'quarantined'",
        )
        .whenMatchedUpdate(
            condition=passed,
            set={
                "status": F.lit("replayed"),
                "replayed_at": F.current_timestamp(),
                "replay_attempts": F.col("t.replay_attempts") + 1,
            },
        )
        .whenMatchedUpdate(
            set={
                "reason_kind": F.col("u.reason_kind"),
                "reason_field": F.col("u.reason_field"),
                "reason": F.col("u.reason"),
                "stage": F.col("u.stage"),
                "replay_attempts": F.col("t.replay_attempts") + 1,
            },
        )
        .execute()
    )
