"""Gold: daily aggregates from silver. Pure DataFrame -> DataFrame; one event date at a time.

Percentiles are exact (Spark's ``percentile``, linear interpolation), so a day's numbers can
be checked by hand. Gold holds no user text and no PII: it reads only the general silver
tables, where those fields are hashed.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from pipelines.governance.classification import RETENTION_DAYS
from pipelines.transforms.legacy import current_versions
from pipelines.transforms.silver import PIPELINE_VERSION

GOLD_CLASSIFICATION = "internal"
STATUSES = ("SUCCESS", "FAILURE", "PARTIAL", "TIMEOUT", "CANCELLED", "PENDING")


def _rate(part: Column, whole: Column) -> Column:
    return F.when(whole > 0, part / whole)


def _governed(frame: DataFrame, source: Column | None = None) -> DataFrame:
    """Gold's governance columns: class, no PII, retention, source, lineage."""
    retention = F.lit(RETENTION_DAYS[GOLD_CLASSIFICATION])
    return frame.withColumns(
        {
            "data_classification": F.lit(GOLD_CLASSIFICATION),
            "contains_pii": F.lit(False),
            "retention_until": F.to_timestamp(F.date_add("event_date", retention)),
            "source": source if source is not None else F.lit("stream"),
            "pipeline_version": F.lit(PIPELINE_VERSION),
            "built_at": F.current_timestamp(),
        }
    )


def feedback_daily(feedback: DataFrame) -> DataFrame:
    """Per tenant, agent, agent version, prompt version and source: what users said."""
    current = current_versions(feedback)
    kind = F.col("feedback_kind")
    daily = current.groupBy(
        "event_date", "tenant_id", "agent_name", "agent_version", "prompt_version", "source"
    ).agg(
        F.count("*").alias("feedback_events"),
        F.count("rating").alias("ratings"),
        *[F.count(F.when(F.col("rating") == r, 1)).alias(f"rating_{r}") for r in range(1, 6)],
        F.avg("rating").alias("avg_rating"),
        F.count(F.when(F.col("thumbs") == "up", 1)).alias("thumbs_up"),
        F.count(F.when(F.col("thumbs") == "down", 1)).alias("thumbs_down"),
        F.count(F.when(kind == "correction", 1)).alias("corrections"),
        F.count(F.when(kind == "escalation", 1)).alias("escalations"),
    )
    daily = daily.withColumn(
        "thumbs_down_rate", _rate(F.col("thumbs_down"), F.col("thumbs_up") + F.col("thumbs_down"))
    )
    return _governed(daily, source=F.col("source"))


def tool_reliability_daily(tool_calls: DataFrame) -> DataFrame:
    """Per tenant and tool: finished calls, failure rate, latency percentiles, timeouts."""
    finished = tool_calls.where(F.col("phase").isin("completed", "failed"))
    failed = F.col("phase") == "failed"
    daily = finished.groupBy("event_date", "tenant_id", "tool_name").agg(
        F.count("*").alias("calls"),
        F.count(F.when(failed, 1)).alias("failures"),
        F.count(F.when(failed & (F.col("error_type") == "TimeoutError"), 1)).alias("timeouts"),
        F.percentile("latency_ms", F.lit(0.5)).alias("p50_latency_ms"),
        F.percentile("latency_ms", F.lit(0.95)).alias("p95_latency_ms"),
    )
    return _governed(daily.withColumn("failure_rate", _rate(F.col("failures"), F.col("calls"))))


def agent_scorecard_daily(
    outcomes: DataFrame, policy_decisions: DataFrame, feedback: DataFrame
) -> DataFrame:
    """Per tenant, agent and agent version: outcome mix, cost, tokens, policy, feedback."""
    keys = ["event_date", "tenant_id", "agent_name", "agent_version"]
    status = F.col("status")
    scored = outcomes.groupBy(*keys).agg(
        F.count("*").alias("outcomes"),
        *[F.count(F.when(status == s, 1)).alias(s.lower()) for s in STATUSES],
        F.sum("cost_usd").alias("cost_usd"),
        F.sum("total_tokens").alias("total_tokens"),
        F.avg("duration_ms").alias("avg_duration_ms"),
        F.percentile("duration_ms", F.lit(0.95)).alias("p95_duration_ms"),
    )
    decision = F.col("decision")
    policy = policy_decisions.groupBy(*keys).agg(
        F.count(F.when(decision == "block", 1)).alias("policy_blocks"),
        F.count(F.when(decision == "flag", 1)).alias("policy_flags"),
    )
    said = (
        current_versions(feedback)
        .groupBy(*keys)
        .agg(
            F.avg("rating").alias("avg_rating"),
            F.count(F.when(F.col("thumbs") == "down", 1)).alias("_down"),
            F.count("thumbs").alias("_thumbs"),
        )
    )
    card = (
        scored.join(policy, keys, "left")
        .join(said, keys, "left")
        .fillna(0, subset=["policy_blocks", "policy_flags"])
        .withColumn("success_rate", _rate(F.col("success"), F.col("outcomes")))
        .withColumn("thumbs_down_rate", _rate(F.col("_down"), F.col("_thumbs")))
        .drop("_down", "_thumbs")
    )
    return _governed(card)
