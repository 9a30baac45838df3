"""The retention ledger's tables: what each run deleted, per table and per stream batch."""

from pyspark.sql import types as T

# ops.retention_runs: one row per run and table (dry runs too, marked)
RETENTION_RUNS_SCHEMA = T.StructType(
    [
        T.StructField("run_id", T.StringType(), nullable=False),
        T.StructField("started_at", T.TimestampType(), nullable=False),
        T.StructField("cutoff", T.TimestampType(), nullable=False),
        T.StructField("dry_run", T.BooleanType(), nullable=False),
        T.StructField("table_name", T.StringType(), nullable=False),
        T.StructField("expired_rows", T.LongType(), nullable=False),
        T.StructField("held_rows", T.LongType(), nullable=False),
        T.StructField("deleted_rows", T.LongType(), nullable=False),
        T.StructField("version_before", T.LongType()),
        T.StructField("version_after", T.LongType()),
        T.StructField("vacuumed", T.BooleanType(), nullable=False),
        T.StructField("holds", T.ArrayType(T.StringType())),
    ]
)

# ops.retention_batches: rows deleted per table and stream micro-batch, so the lake's
# per-batch accounting still balances after a run
RETENTION_BATCHES_SCHEMA = T.StructType(
    [
        T.StructField("run_id", T.StringType(), nullable=False),
        T.StructField("table_name", T.StringType(), nullable=False),
        T.StructField("ingest_batch_id", T.LongType()),
        T.StructField("rows", T.LongType(), nullable=False),
    ]
)
