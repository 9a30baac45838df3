"""Shapes of the parity evidence tables (ops.parity_results; ops.cutover_state is in cutover)."""

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
