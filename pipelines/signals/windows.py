"""The signal job's transform: failing shares per tenant, target and sliding window.

Pure DataFrame -> DataFrame, for a batch (tests) or a stream (watermarked by the job).
"""

from __future__ import annotations

from datetime import timedelta
from functools import reduce

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from pipelines.producer.control import CONTROL_ID_PREFIX
from pipelines.signals.rules import SignalRule

EVIDENCE = 20  # failing event_ids a command carries, at most
SHARE_COLUMNS = (
    "tenant_id", "target", "window_start", "window_end", "events", "failures", "evidence",
)  # fmt: skip


def _any_of(conditions: tuple[tuple[str, tuple[str, ...]], ...]) -> Column:
    return reduce(lambda a, b: a & b, [F.col(c).isin(*vs) for c, vs in conditions])


def failing_shares(events: DataFrame, rule: SignalRule) -> DataFrame:
    """Per tenant, target and window of ``occurred_at``: the events the rule counts, how
    many failed, and some failing event_ids. An event caused by a control command (its
    causation_id is a command's) is a consequence of acting, never new evidence."""
    consequence = F.coalesce(F.col("causation_id").startswith(CONTROL_ID_PREFIX), F.lit(False))
    failing = F.coalesce(_any_of(rule.failing), F.lit(False))
    counted = events.where(
        F.coalesce(_any_of(rule.counted), F.lit(False))
        & ~consequence
        & F.col(rule.target).isNotNull()
    )
    window = F.window("occurred_at", _seconds(rule.window), _seconds(rule.slide))
    return (
        counted.groupBy(window.alias("w"), "tenant_id", F.col(rule.target).alias("target"))
        .agg(
            F.count(F.lit(1)).alias("events"),
            F.sum(failing.cast("long")).alias("failures"),
            F.slice(F.collect_list(F.when(failing, F.col("event_id"))), 1, EVIDENCE).alias(
                "evidence"
            ),
        )
        .select(
            "tenant_id",
            "target",
            F.col("w.start").alias("window_start"),
            F.col("w.end").alias("window_end"),
            "events",
            "failures",
            "evidence",
        )
    )


def _seconds(length: timedelta) -> str:
    return f"{int(length.total_seconds())} seconds"
