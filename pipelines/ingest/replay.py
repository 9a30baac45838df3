"""Quarantine replay: re-drive quarantined records through today's contracts.

After a contract fix (say, a version that was missing is added), records that now pass
land in silver exactly once (the silver writer's deduplication applies) and are marked
``replayed``; records that still fail stay quarantined with their new reason. A second
replay finds nothing new to land. Replayed rows keep their true Kafka coordinates (a
dead-lettered record's are agent.dlq's) and carry no ``ingest_batch_id``: no stream
micro-batch wrote them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import reduce

from delta.tables import DeltaTable
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from pipelines.errors import AflError
from pipelines.ingest.batch import INGEST_QUERY
from pipelines.ingest.contract_record import stream_contracts
from pipelines.ingest.isolation import BatchFrames
from pipelines.ingest.landing import SilverWriter, ingest_rules, isolated_rows
from pipelines.settings import Settings
from pipelines.spark.tables import QUARANTINE
from pipelines.transforms.silver import classify, quarantine_rows

REASONS = ("reason_kind", "reason_field", "reason", "stage")


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
    # The stream's contracts (the folder checked as at its start), and dead-lettered records
    # judged on their merit: the DLQ topic may carry any type.
    contracts = stream_contracts(settings, INGEST_QUERY)
    rules = ingest_rules(settings, contracts, dead_letters=False)
    writer = SilverWriter(settings, rules, remember=False)
    pending = spark.read.format("delta").load(path).where(F.col("status") == "quarantined")
    records = pending.select(
        "value",
        "key",
        "headers",
        F.col("kafka_topic").alias("topic"),
        F.col("kafka_partition").alias("partition"),
        F.col("kafka_offset").alias("offset"),
        "kafka_timestamp",
        "ingested_at",
    )
    frames = BatchFrames()
    try:
        records = frames.keep(records)
        classified, isolated = frames.keep_isolating(lambda r: classify(r, writer.rules), records)
        tally = writer.tally(classified)
        examined = sum(r["n"] for r in tally) + len(isolated)
        if examined == 0:
            return ReplayResult(0, 0, 0, 0)
        landed = writer.land(frames, classified, tally, None)
        failing = [classified]
        if isolated:
            failing.append(isolated_rows(spark, records, isolated, "classify"))
        failing += landed.quarantine
        # Where a record failed again, its newest reason; a failure found while landing
        # (schema conflict, conflicting duplicate) wins over "passed the contract".
        outcome = frames.keep(
            reduce(DataFrame.unionByName, [quarantine_rows(f) for f in failing]).select(
                "kafka_topic", "kafka_partition", "kafka_offset", *REASONS
            )
        )
        still_failing = outcome.count()
        _mark(spark, path, records, outcome)
        inserted = sum(landed.inserted.values())
        return ReplayResult(examined, inserted, examined - inserted - still_failing, still_failing)
    finally:
        frames.release()


def _mark(spark: SparkSession, path: str, records: DataFrame, failing: DataFrame) -> None:
    """Passing records become 'replayed'; failing ones keep status and take the new reason."""
    outcome = records.select(
        F.col("topic").alias("kafka_topic"),
        F.col("partition").alias("kafka_partition"),
        F.col("offset").alias("kafka_offset"),
    ).join(failing, ["kafka_topic", "kafka_partition", "kafka_offset"], "left")
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
                **{c: F.col(f"u.{c}") for c in REASONS},
                "replay_attempts": F.col("t.replay_attempts") + 1,
            },
        )
        .execute()
    )
