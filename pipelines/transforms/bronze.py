"""Bronze: every Kafka record once, exactly as it arrived, plus when we saw it."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F


def kafka_to_bronze(records: DataFrame) -> DataFrame:
    """Shape Kafka source rows for bronze; the value stays raw bytes (evidence, lossless)."""
    ingested_at = F.current_timestamp()
    return records.select(
        F.col("key").cast("string").alias("key"),
        F.col("value"),
        F.col("headers"),
        F.col("topic"),
        F.col("partition"),
        F.col("offset"),
        F.col("timestamp").alias("kafka_timestamp"),
        ingested_at.alias("ingested_at"),
        F.to_date(ingested_at).alias("ingest_date"),
    )
