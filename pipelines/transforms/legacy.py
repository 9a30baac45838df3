"""The legacy export's shape, quirks included: what the old warehouse has always received.

The nightly ETL exports one day of rows (created that day, not deleted, current state) with
the quirks downstream reports were built around: keys formatted ``FB-00000042``, thumbs in
upper case, comments trimmed, timestamps truncated to the second. Parity rules account for
exactly these (see pipelines/parity/parity.yml).
"""

from __future__ import annotations

from datetime import date, datetime

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

APP_ROW_SCHEMA = T.StructType(
    [
        T.StructField("id", T.LongType(), nullable=False),
        T.StructField("tenant_id", T.StringType()),
        T.StructField("user_id", T.StringType()),
        T.StructField("session_id", T.StringType()),
        T.StructField("agent_name", T.StringType()),
        T.StructField("rating", T.LongType()),
        T.StructField("thumbs", T.StringType()),
        T.StructField("comment", T.StringType()),
        T.StructField("created_at", T.TimestampType()),
        T.StructField("updated_at", T.TimestampType()),
        T.StructField("deleted_at", T.TimestampType()),
        T.StructField("row_version", T.LongType()),
    ]
)


def legacy_key(numeric_id: Column) -> Column:
    """The warehouse's key format for an app row id: at least eight digits, never cut (lpad
    would cut a ninth digit and give two rows one key)."""
    return F.format_string("FB-%08d", numeric_id.cast("long"))


def feedback_export(rows: DataFrame, day: date, exported_at: datetime) -> DataFrame:
    """App rows -> the export rows for ``day``: created that day, not soft-deleted."""
    # The day by the session's time zone (UTC), not by the Python process's: a datetime
    # literal would be read in the host's local zone.
    kept = rows.where((F.to_date("created_at") == F.lit(day)) & F.col("deleted_at").isNull())
    return kept.select(
        legacy_key(F.col("id")).alias("feedback_id"),
        "tenant_id",
        "user_id",
        "session_id",
        "agent_name",
        F.col("rating").cast("int").alias("rating"),
        F.upper("thumbs").alias("thumbs"),
        F.trim("comment").alias("comment"),
        F.date_trunc("second", "created_at").alias("created_at"),
        F.date_trunc("second", "updated_at").alias("updated_at"),
        F.lit(day).alias("export_date"),
        F.lit(exported_at.isoformat(sep=" ")).cast("timestamp").alias("exported_at"),
    )


def current_versions(feedback: DataFrame) -> DataFrame:
    """Feedback as it stands now: mirrored app rows reduced to their latest row version with
    deletions removed; events from other sources pass through unchanged."""
    from pyspark.sql import Window

    newest = Window.partitionBy("legacy_feedback_id").orderBy(
        F.col("legacy_row_version").desc(), F.col("kafka_offset").desc()
    )
    mirrored = feedback.where(F.col("source") == "legacy_mirror")
    current = (
        mirrored.withColumn("_n", F.row_number().over(newest))
        .where((F.col("_n") == 1) & ~F.coalesce(F.col("deleted"), F.lit(False)))
        .drop("_n")
    )
    return feedback.where(F.col("source") != "legacy_mirror").unionByName(current)
