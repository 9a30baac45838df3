"""The shape of ops.quality_results."""

from pyspark.sql import types as T

QUALITY_RESULTS_SCHEMA = T.StructType(
    [
        T.StructField("table_name", T.StringType(), nullable=False),
        T.StructField("partition_date", T.DateType(), nullable=False),
        T.StructField("suite", T.StringType(), nullable=False),
        T.StructField("expectation", T.StringType(), nullable=False),
        T.StructField("column", T.StringType()),
        T.StructField("severity", T.StringType()),
        T.StructField("success", T.BooleanType(), nullable=False),
        T.StructField("observed", T.StringType()),
        T.StructField("unexpected_count", T.LongType()),
        T.StructField("unexpected_sample", T.StringType()),  # JSON list
        T.StructField("run_id", T.StringType(), nullable=False),
        T.StructField("validated_at", T.TimestampType(), nullable=False),
    ]
)
