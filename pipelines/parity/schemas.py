"""Shapes of the parity evidence tables: ops.parity_results and ops.cutover_state."""

from pyspark.sql import types as T

PARITY_RESULTS_SCHEMA = T.StructType(
    [
        T.StructField("parity_date", T.DateType(), nullable=False),
        T.StructField("check", T.StringType(), nullable=False),
        T.StructField("status", T.StringType(), nullable=False),  # pass | warn | fail | info
        T.StructField("observed", T.DoubleType()),
        T.StructField("details", T.StringType()),  # JSON
        T.StructField("verdict", T.StringType(), nullable=False),
        T.StructField("run_id", T.StringType(), nullable=False),
        T.StructField("computed_at", T.TimestampType(), nullable=False),
    ]
)

CUTOVER_SCHEMA = T.StructType(
    [
        T.StructField("as_of_date", T.DateType(), nullable=False),
        T.StructField("verdict", T.StringType()),
        T.StructField("state", T.StringType(), nullable=False),
        T.StructField("previous_state", T.StringType()),
        T.StructField("green_streak", T.IntegerType()),
        T.StructField("recommendation", T.StringType()),
        T.StructField("reason", T.StringType()),
    ]
)
