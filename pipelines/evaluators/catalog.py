"""The built-in evaluators, grounded in the events (registered by registry.py)."""

from __future__ import annotations

from collections.abc import Mapping

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from pipelines.evaluators.base import Evaluator
from pipelines.evaluators.judge import AnswerRelevance

TURN_KEYS = ("turn_id", "event_date", "tenant_id", "agent_name", "agent_version", "session_id")


def _turn_frame(frame: DataFrame) -> DataFrame:
    """Rows that belong to a turn (mirrored legacy rows have none)."""
    return frame.where(F.col("turn_id").isNotNull())


def _units(grouped: DataFrame, score: Column, label: Column, explanation: Column) -> DataFrame:
    return grouped.select(
        F.col("turn_id").alias("unit_id"),
        "event_date",
        "tenant_id",
        "agent_name",
        "agent_version",
        "session_id",
        F.col("trace_id"),
        score.cast("double").alias("score"),
        label.alias("label"),
        explanation.alias("explanation"),
    )


class UnescalatedToolFailure(Evaluator):
    """A turn whose tool call failed and that nobody escalated to a human."""

    name, version, unit_type = "unescalated_tool_failure", 1, "turn"
    reads = ("tool_call", "feedback")

    def evaluate(self, frames: Mapping[str, DataFrame]) -> DataFrame:
        calls = (
            _turn_frame(frames["tool_call"])
            .groupBy(*TURN_KEYS)
            .agg(
                F.first("trace_id").alias("trace_id"),
                F.count(F.when(F.col("phase") == "failed", 1)).alias("failures"),
            )
        )
        escalations = (
            _turn_frame(frames["feedback"])
            .where(F.col("feedback_kind") == "escalation")
            .groupBy("turn_id")
            .agg(F.count("*").alias("escalations"))
        )
        turns = calls.join(escalations, "turn_id", "left").fillna(0, subset=["escalations"])
        failed, escalated = F.col("failures") > 0, F.col("escalations") > 0
        label = (
            F.when(failed & ~escalated, "unescalated_failure")
            .when(failed, "escalated_failure")
            .otherwise("no_failure")
        )
        explanation = F.format_string(
            "%d failed tool call(s), %d escalation(s)", F.col("failures"), F.col("escalations")
        )
        return _units(turns, F.when(failed & ~escalated, 1.0).otherwise(0.0), label, explanation)


class NegativeFeedbackAfterFlag(Evaluator):
    """Negative feedback (thumbs down, rating <= 2, a correction) after a policy flag or block."""

    name, version, unit_type = "negative_feedback_after_flag", 1, "turn"
    reads = ("policy_decision", "feedback")

    def evaluate(self, frames: Mapping[str, DataFrame]) -> DataFrame:
        flags = (
            _turn_frame(frames["policy_decision"])
            .where(F.col("decision").isin("flag", "block"))
            .groupBy("turn_id")
            .agg(F.min("occurred_at").alias("first_flag"), F.count("*").alias("flags"))
        )
        negative = (
            (F.col("thumbs") == "down")
            | (F.col("rating") <= 2)
            | (F.col("feedback_kind") == "correction")
        )
        said = (
            _turn_frame(frames["feedback"])
            .where(F.col("feedback_kind") != "escalation")
            .groupBy(*TURN_KEYS)
            .agg(
                F.first("trace_id").alias("trace_id"),
                F.max(F.when(negative, F.col("occurred_at"))).alias("last_negative"),
                F.count(F.when(negative, 1)).alias("negatives"),
            )
        )
        turns = said.join(flags, "turn_id", "left").fillna(0, subset=["flags"])
        after = F.col("last_negative") > F.col("first_flag")
        label = (
            F.when(after, "negative_after_flag")
            .when(F.col("negatives") > 0, "negative_unflagged")
            .when(F.col("flags") > 0, "flagged_ok")
            .otherwise("ok")
        )
        explanation = F.format_string(
            "%d policy flag(s), %d negative signal(s)", F.col("flags"), F.col("negatives")
        )
        return _units(turns, F.when(after, 1.0).otherwise(0.0), label, explanation)


class LatencySlaBreach(Evaluator):
    """An agent action slower than its agent's SLA (milliseconds, configured per agent)."""

    name, version, unit_type = "latency_sla_breach", 1, "action"
    reads = ("outcome",)

    def __init__(self, config: Mapping[str, object] | None = None) -> None:
        super().__init__(config or {"default_ms": 4_000, "per_agent_ms": {"support-bot": 3_000}})

    def evaluate(self, frames: Mapping[str, DataFrame]) -> DataFrame:
        per_agent = dict(self.config.get("per_agent_ms", {}))
        sla = F.lit(float(self.config["default_ms"]))
        for agent, ms in sorted(per_agent.items()):
            sla = F.when(F.col("agent_name") == agent, F.lit(float(ms))).otherwise(sla)
        actions = frames["outcome"].withColumn("_sla", sla).where(F.col("duration_ms").isNotNull())
        ratio = F.col("duration_ms") / F.col("_sla")
        return actions.select(
            F.col("action_id").alias("unit_id"),
            "event_date",
            "tenant_id",
            "agent_name",
            "agent_version",
            "session_id",
            "trace_id",
            F.round(ratio, 4).alias("score"),
            F.when(ratio > 1, "breach").otherwise("within_sla").alias("label"),
            F.format_string(
                "%.0f ms against an SLA of %.0f ms", F.col("duration_ms"), F.col("_sla")
            ).alias("explanation"),
        )


class Helpfulness(Evaluator):
    """How helpful the user found a turn, from ratings, thumbs and corrections (0..1).

    Each signal scores: a rating r -> (r - 1) / 4, thumbs up 1, thumbs down 0, a correction 0;
    the turn's score is their mean. helpful >= 0.6 > mixed >= 0.4 > unhelpful.
    """

    name, version, unit_type = "helpfulness", 1, "turn"
    reads = ("feedback",)

    def evaluate(self, frames: Mapping[str, DataFrame]) -> DataFrame:
        kind = F.col("feedback_kind")
        signal = (
            F.when(kind == "rating", (F.col("rating") - 1) / 4)
            .when(kind == "thumbs", F.when(F.col("thumbs") == "up", 1.0).otherwise(0.0))
            .when(kind == "correction", F.lit(0.0))
        )
        turns = (
            _turn_frame(frames["feedback"])
            .withColumn("_signal", signal)
            .where(F.col("_signal").isNotNull())
            .groupBy(*TURN_KEYS)
            .agg(
                F.first("trace_id").alias("trace_id"),
                F.avg("_signal").alias("_score"),
                F.count("*").alias("_signals"),
                F.count(F.when(kind == "correction", 1)).alias("_corrections"),
            )
        )
        score, label, explanation = self.judge_turn()
        return _units(turns, score, label, explanation)

    def judge_turn(self) -> tuple[Column, Column, Column]:
        score = F.round(F.col("_score"), 4)
        label = F.when(score >= 0.6, "helpful").when(score >= 0.4, "mixed").otherwise("unhelpful")
        explanation = F.format_string(
            "%d signal(s), %d correction(s): mean %.2f",
            F.col("_signals"),
            F.col("_corrections"),
            F.col("_score"),
        )
        return score, label, explanation


class HelpfulnessV2(Helpfulness):
    """v2: a correction means the answer was wrong — the turn is unhelpful whatever else."""

    version = 2

    def judge_turn(self) -> tuple[Column, Column, Column]:
        score, label, explanation = super().judge_turn()
        corrected = F.col("_corrections") > 0
        return (
            F.when(corrected, F.lit(0.0)).otherwise(score),
            F.when(corrected, F.lit("unhelpful")).otherwise(label),
            F.when(corrected, F.lit("the user corrected the answer")).otherwise(explanation),
        )


BUILT_IN: tuple[Evaluator, ...] = (
    UnescalatedToolFailure(),
    NegativeFeedbackAfterFlag(),
    LatencySlaBreach(),
    Helpfulness(),
    HelpfulnessV2(),
    AnswerRelevance(),
)
