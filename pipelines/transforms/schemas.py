"""The shapes of the tables the stream and the legacy path write, in one place.

The table catalog (pipelines/spark/tables.py) reads its schemas from the ``schemas``
modules of each domain; these import nothing from pipelines, so the catalog sits low in the
import graph, and the transforms that produce the rows import their shapes from here.
"""

from __future__ import annotations

from pyspark.sql import types as T

# Kafka record headers, as the Kafka source gives them and bronze and quarantine keep them.
HEADERS = T.ArrayType(
    T.StructType([T.StructField("key", T.StringType()), T.StructField("value", T.BinaryType())])
)

# Where a record sits in Kafka: unique per record, the key every table carries.
COORDINATES = T.StructType(
    [
        T.StructField("kafka_topic", T.StringType()),
        T.StructField("kafka_partition", T.IntegerType()),
        T.StructField("kafka_offset", T.LongType()),
    ]
)

# bronze.agent_events: every Kafka record once, as it arrived
BRONZE_SCHEMA = T.StructType(
    [
        T.StructField("key", T.StringType()),
        T.StructField("value", T.BinaryType()),
        T.StructField("headers", HEADERS),
        T.StructField("topic", T.StringType(), nullable=False),
        T.StructField("partition", T.IntegerType(), nullable=False),
        T.StructField("offset", T.LongType(), nullable=False),
        T.StructField("kafka_timestamp", T.TimestampType()),
        T.StructField("ingested_at", T.TimestampType(), nullable=False),
        T.StructField("ingest_date", T.DateType(), nullable=False),
    ]
)

# silver.quarantine: every record that could not become a silver row, with its reason
QUARANTINE_SCHEMA = T.StructType(
    [
        T.StructField("value", T.BinaryType()),
        T.StructField("key", T.StringType()),
        T.StructField("headers", HEADERS),
        T.StructField("kafka_topic", T.StringType()),
        T.StructField("kafka_partition", T.IntegerType()),
        T.StructField("kafka_offset", T.LongType()),
        T.StructField("kafka_timestamp", T.TimestampType()),
        T.StructField("stage", T.StringType()),
        T.StructField("reason_kind", T.StringType()),
        T.StructField("reason_field", T.StringType()),
        T.StructField("reason", T.StringType()),
        T.StructField("event_type", T.StringType()),
        T.StructField("event_id", T.StringType()),
        T.StructField("schema_version", T.LongType()),
        T.StructField("source", T.StringType()),
        T.StructField("ingested_at", T.TimestampType()),
        T.StructField("quarantined_at", T.TimestampType()),
        T.StructField("quarantine_date", T.DateType()),
        T.StructField("status", T.StringType()),
        T.StructField("replay_attempts", T.IntegerType()),
        T.StructField("replayed_at", T.TimestampType()),
        T.StructField("ingest_batch_id", T.LongType()),
        T.StructField("duplicate_of", COORDINATES),
        T.StructField("differing_fields", T.ArrayType(T.StringType())),
        T.StructField("tenant_id", T.StringType()),
        T.StructField("data_classification", T.StringType()),
        T.StructField("retention_until", T.TimestampType()),
    ]
)

# ops.stream_progress: one row per micro-batch
STREAM_PROGRESS_SCHEMA = T.StructType(
    [
        T.StructField("query_name", T.StringType(), nullable=False),
        T.StructField("batch_id", T.LongType(), nullable=False),
        T.StructField("started_at", T.TimestampType()),
        T.StructField("finished_at", T.TimestampType()),
        T.StructField("duration_ms", T.LongType()),
        T.StructField("input_rows", T.LongType()),
        T.StructField("valid_rows", T.LongType()),
        T.StructField("quarantined_rows", T.LongType()),
        T.StructField("duplicate_rows", T.LongType()),
        T.StructField("input_rows_per_second", T.DoubleType()),
        T.StructField("processed_rows_per_second", T.DoubleType()),
        T.StructField("oldest_produced_at", T.TimestampType()),
        T.StructField("e2e_latency_ms", T.LongType()),
        T.StructField("rows_by_table", T.MapType(T.StringType(), T.LongType())),
        T.StructField("progress_date", T.DateType()),
        T.StructField("query_id", T.StringType()),
        # records in Kafka beyond the batch's end offsets when it finished, per
        # "topic-partition", and summed (null when Kafka did not answer in time)
        T.StructField("kafka_lag", T.MapType(T.StringType(), T.LongType())),
        T.StructField("kafka_lag_total", T.LongType()),
    ]
)

# legacy.feedback_export: what the nightly ETL exports, quirks included
EXPORT_SCHEMA = T.StructType(
    [
        T.StructField("feedback_id", T.StringType(), nullable=False),
        T.StructField("tenant_id", T.StringType()),
        T.StructField("user_id", T.StringType()),
        T.StructField("session_id", T.StringType()),
        T.StructField("agent_name", T.StringType()),
        T.StructField("rating", T.IntegerType()),
        T.StructField("thumbs", T.StringType()),
        T.StructField("comment", T.StringType()),
        T.StructField("created_at", T.TimestampType()),
        T.StructField("updated_at", T.TimestampType()),
        T.StructField("export_date", T.DateType(), nullable=False),
        T.StructField("exported_at", T.TimestampType(), nullable=False),
    ]
)

# ops.mirror_watermark: how far the legacy mirror has read the app database
MIRROR_WATERMARK_SCHEMA = T.StructType(
    [
        T.StructField("source", T.StringType(), nullable=False),
        T.StructField("watermark_updated_at", T.TimestampType()),
        T.StructField("watermark_id", T.LongType()),
        T.StructField("rows_published", T.LongType()),
        T.StructField("tombstones", T.LongType()),
        T.StructField("replayed_from", T.TimestampType()),
        T.StructField("run_at", T.TimestampType(), nullable=False),
    ]
)
