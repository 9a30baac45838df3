"""Kafka -> Delta streaming ingest: one code path for continuous and catch-up runs."""

from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import SparkSession
from pyspark.sql.streaming import StreamingQuery

from pipelines.contracts.topics import TOPICS
from pipelines.settings import Settings
from pipelines.spark.io import read_kafka_stream
from pipelines.spark.tables import BRONZE_AGENT_EVENTS, ensure_table
from pipelines.transforms.bronze import kafka_to_bronze

BRONZE_QUERY = "bronze_agent_events"


def registry_topics(settings: Settings) -> list[str]:
    """Every registry topic, DLQ included: the DLQ is evidence too."""
    return [settings.topic_name(t.name) for t in TOPICS]


def start_bronze_stream(
    spark: SparkSession,
    settings: Settings,
    *,
    topics: Sequence[str] | None = None,
    available_now: bool = False,
    trigger_interval: str = "1 second",
    max_offsets_per_trigger: int | None = None,
) -> StreamingQuery:
    """Start Kafka -> bronze.agent_events; exactly-once through the Delta sink's checkpoint."""
    path = ensure_table(spark, settings, BRONZE_AGENT_EVENTS)
    records = read_kafka_stream(
        spark, settings, topics or registry_topics(settings), max_offsets_per_trigger
    )
    writer = (
        kafka_to_bronze(records)
        .writeStream.format("delta")
        .queryName(BRONZE_QUERY)
        .outputMode("append")
        .option("checkpointLocation", settings.checkpoint_path(BRONZE_QUERY))
    )
    writer = (
        writer.trigger(availableNow=True)
        if available_now
        else writer.trigger(processingTime=trigger_interval)
    )
    return writer.start(path)


def run_bronze_catch_up(
    spark: SparkSession, settings: Settings, topics: Sequence[str] | None = None
) -> None:
    """Drain what the topics hold now into bronze, then return."""
    start_bronze_stream(spark, settings, topics=topics, available_now=True).awaitTermination()
