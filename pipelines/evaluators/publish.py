"""Close the loop: evaluator scores published as evaluation events for downstream consumers."""

from __future__ import annotations

import uuid
from datetime import UTC, date

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from pipelines.evaluators.base import Evaluator
from pipelines.governance.classification import SOURCE_HEADER
from pipelines.producer.events import AgentIdentity, new_event
from pipelines.producer.sdk import AgentEventProducer
from pipelines.settings import Settings
from pipelines.spark.tables import EVALUATOR_SCORES

PUBLISH_NAMESPACE = uuid.UUID("0b5c2a7e-3f0d-4b9a-8c61-5d2e9f4a7b13")


def publish_scores(
    spark: SparkSession,
    settings: Settings,
    evaluator: Evaluator,
    code_hash: str,
    start: date,
    end: date,
) -> int:
    """One agent.evaluations.v1 event per score; ids derived from (version, hash, unit)."""
    rows = (
        spark.read.format("delta")
        .load(EVALUATOR_SCORES.path(settings))
        .where(F.col("event_date").between(start, end))
        .where(
            (F.col("evaluator") == evaluator.name)
            & (F.col("evaluator_version") == evaluator.version)
            & (F.col("code_hash") == code_hash)
        )
        .collect()
    )
    headers = [(SOURCE_HEADER, b"backfill")]
    with AgentEventProducer(settings) as producer:
        for r in rows:
            payload = {
                "evaluator": evaluator.name,
                "evaluator_version": str(evaluator.version),
                "unit_type": evaluator.unit_type,
                "unit_id": r["unit_id"],
                "label": r["label"],
                "score": r["score"],
                "explanation": r["explanation"],
                "turn_id": r["unit_id"] if evaluator.unit_type == "turn" else None,
            }
            event = new_event(
                "evaluation",
                payload,
                identity=AgentIdentity(r["tenant_id"], r["agent_name"], r["agent_version"]),
                session_id=r["session_id"],
                trace_id=r["trace_id"] or r["session_id"],
                occurred_at=r["evaluated_at"].replace(tzinfo=UTC),
                event_id=str(
                    uuid.uuid5(PUBLISH_NAMESPACE, f"{evaluator.key}:{code_hash}:{r['unit_id']}")
                ),
                schema_version=1,
            )
            producer.emit(event, headers=headers)
    return len(rows)
