"""Parity comparison: pure DataFrame functions, legacy export against the stream's state.

Every difference gets a root cause:

- ``missing_in_stream``  the export has the key, the stream does not
- ``missing_in_legacy``  the stream has the key, the export does not
- ``value_mismatch``     both have it; a column differs beyond its rule
- ``late``               a difference on a row the app changed inside the lag window before
                         the stream's watermark: it may still arrive, so it is not counted
- ``schema_difference``  a configured column is missing or of an incompatible type
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from pipelines.parity.config import ColumnRule, ParityConfig
from pipelines.transforms.legacy import current_versions, legacy_key

STATUSES = ("match", "missing_in_stream", "missing_in_legacy", "value_mismatch", "late")
_SPARK_TYPES = {
    "string": T.StringType(),
    "int": T.IntegerType(),
    "bigint": T.LongType(),
    "double": T.DoubleType(),
    "timestamp": T.TimestampType(),
}
_COMPATIBLE = {
    ("int", "bigint"),
    ("bigint", "int"),
    ("int", "double"),
    ("bigint", "double"),
}


def stream_feedback_state(feedback: DataFrame, restricted: DataFrame) -> DataFrame:
    """Mirrored feedback as the export would show it: latest row version, deletions removed.

    Raw user_id and comment come from the restricted companion (the general table only
    holds their hashes).
    """
    mirrored = current_versions(feedback.where(F.col("source") == "legacy_mirror"))
    current = mirrored.join(restricted.select("event_id", "user_id", "comment"), "event_id", "left")
    return current.select(
        legacy_key(F.col("legacy_feedback_id").cast("long")).alias("feedback_id"),
        "tenant_id",
        "user_id",
        "session_id",
        "agent_name",
        F.col("rating").cast("int").alias("rating"),
        "thumbs",
        "comment",
        F.col("occurred_at").alias("created_at"),
        F.col("legacy_updated_at").alias("updated_at"),
        "event_date",
        "ingested_at",
    )


def schema_differences(legacy: DataFrame, config: ParityConfig) -> list[str]:
    """Configured columns the export lacks or holds in an incompatible type, in words."""
    found = {f.name: f.dataType for f in legacy.schema.fields}
    problems = []
    for rule in config.columns:
        if rule.column not in found:
            problems.append(f"{rule.column}: missing from the legacy export")
            continue
        expected = _SPARK_TYPES[rule.type]
        actual = found[rule.column]
        if actual != expected:
            actual_name = next((k for k, v in _SPARK_TYPES.items() if v == actual), None)
            if (rule.type, actual_name) not in _COMPATIBLE:
                problems.append(
                    f"{rule.column}: the export has {actual.simpleString()}, "
                    f"parity expects {expected.simpleString()}"
                )
    return problems


def column_equal(left: Column, right: Column, rule: ColumnRule) -> Column:
    """True when two values agree under the column's rule."""
    if rule.rule == "numeric":
        diff = F.abs(left.cast("double") - right.cast("double"))
        same = (diff <= F.lit(rule.abs_tolerance)) | (
            diff <= F.lit(rule.rel_tolerance) * F.abs(left.cast("double"))
        )
    elif rule.rule == "text":
        a, b = left.cast("string"), right.cast("string")
        if rule.whitespace_insensitive:
            a = F.trim(F.regexp_replace(a, r"\s+", " "))
            b = F.trim(F.regexp_replace(b, r"\s+", " "))
        if rule.case_insensitive:
            a, b = F.lower(a), F.lower(b)
        same = a == b
    elif rule.rule == "timestamp":
        seconds = F.abs(left.cast("double") - right.cast("double"))
        same = seconds <= F.lit(rule.tolerance_seconds)
    else:
        same = left == right
    both_null = left.isNull() & right.isNull()
    one_null = left.isNull() != right.isNull()
    return (
        F.when(both_null, F.lit(rule.null_equals_null))
        .when(one_null, F.lit(False))
        .otherwise(F.coalesce(same, F.lit(False)))
    )


def compare_day(
    legacy: DataFrame,
    stream: DataFrame,
    config: ParityConfig,
    stream_watermark: datetime | None,
) -> DataFrame:
    """One row per key: which side has it, which columns differ, and the root cause."""
    skipped = {p.split(":")[0] for p in schema_differences(legacy, config)}
    rules = [r for r in config.columns if r.column not in skipped and r.column != config.key]
    key = config.key
    left = legacy.select(
        F.col(key).alias("key"),
        *[F.col(r.column).alias(f"l_{r.column}") for r in rules],
        F.col("updated_at").alias("_legacy_changed"),
    )
    right = stream.select(
        F.col(key).alias("key"),
        *[F.col(r.column).alias(f"s_{r.column}") for r in rules],
        F.lit(True).alias("_in_stream"),
    )
    joined = left.withColumn("_in_legacy", F.lit(True)).join(right, "key", "full_outer")
    in_legacy = F.coalesce(F.col("_in_legacy"), F.lit(False))
    in_stream = F.coalesce(F.col("_in_stream"), F.lit(False))
    differing = (
        F.filter(
            F.array(
                *[
                    F.when(
                        ~column_equal(F.col(f"l_{r.column}"), F.col(f"s_{r.column}"), r),
                        F.lit(r.column),
                    )
                    for r in rules
                ]
            ),
            lambda c: c.isNotNull(),
        )
        if rules
        else F.array().cast("array<string>")
    )
    if stream_watermark is None:
        may_still_arrive = F.lit(True)
    else:
        cutoff = stream_watermark - timedelta(minutes=config.lag_window_minutes)
        may_still_arrive = F.col("_legacy_changed") > F.lit(cutoff)
    status = (
        F.when(
            in_legacy & ~in_stream, F.when(may_still_arrive, "late").otherwise("missing_in_stream")
        )
        .when(in_stream & ~in_legacy, F.lit("missing_in_legacy"))
        .when(F.size(differing) == 0, F.lit("match"))
        .when(may_still_arrive, F.lit("late"))
        .otherwise(F.lit("value_mismatch"))
    )
    return joined.select(
        "key",
        in_legacy.alias("in_legacy"),
        in_stream.alias("in_stream"),
        F.when(in_legacy & in_stream, differing)
        .otherwise(F.array().cast("array<string>"))
        .alias("mismatched_columns"),
        status.alias("status"),
        F.col("_legacy_changed").alias("legacy_updated_at"),
        *[F.col(f"l_{r.column}") for r in rules],
        *[F.col(f"s_{r.column}") for r in rules],
    )


def rating_histogram(frame: DataFrame) -> dict[int, int]:
    rows = frame.where(F.col("rating").isNotNull()).groupBy("rating").count().collect()
    found = {int(r["rating"]): r["count"] for r in rows}
    return {rating: found.get(rating, 0) for rating in range(1, 6)}


def thumbs_down_rate(frame: DataFrame) -> DataFrame:
    """Per agent: thumbs given and the share that were down (case-insensitive)."""
    thumbs = F.lower(F.col("thumbs"))
    return frame.groupBy("agent_name").agg(
        F.count(thumbs).alias("thumbs"),
        (F.sum(F.when(thumbs == "down", 1).otherwise(0)) / F.count(thumbs)).alias("down_rate"),
    )
