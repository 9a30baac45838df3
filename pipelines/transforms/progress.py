"""ops.stream_progress: one row per micro-batch, the stream's own evidence."""

from __future__ import annotations

from pyspark.sql import types as T

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
