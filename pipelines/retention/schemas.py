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

# ops.bronze_expiry: the Kafka offsets each retention run deleted from bronze, as ranges per
# topic partition (bronze expires by whole ingest days, a prefix of every partition, so a
# run leaves one range per partition, more only around records a legal hold keeps), and
# how many of them had no silver or quarantine row left (copies, or rows deleted before)
BRONZE_EXPIRY_SCHEMA = T.StructType(
    [
        T.StructField("run_id", T.StringType(), nullable=False),
        T.StructField("topic", T.StringType(), nullable=False),
        T.StructField("partition", T.IntegerType(), nullable=False),
        T.StructField("first_offset", T.LongType(), nullable=False),
        T.StructField("last_offset", T.LongType(), nullable=False),
        T.StructField("records", T.LongType(), nullable=False),
        T.StructField("without_row", T.LongType(), nullable=False),
    ]
)

# ops.erasures: one row per erasure request and table; the subject only as a keyed digest
ERASURES_SCHEMA = T.StructType(
    [
        T.StructField("erasure_id", T.StringType(), nullable=False),
        T.StructField("requested_at", T.TimestampType(), nullable=False),
        T.StructField("subject_digest", T.StringType(), nullable=False),
        T.StructField("tenant_id", T.StringType()),
        T.StructField("dry_run", T.BooleanType(), nullable=False),
        T.StructField("table_name", T.StringType(), nullable=False),
        T.StructField("found_rows", T.LongType(), nullable=False),
        T.StructField("deleted_rows", T.LongType(), nullable=False),
        T.StructField("remaining_rows", T.LongType(), nullable=False),
        T.StructField("version_before", T.LongType()),
        T.StructField("version_after", T.LongType()),
        T.StructField("passes", T.IntegerType(), nullable=False),
    ]
)

# ops.erased_records: each erased bronze, silver and quarantine row by its Kafka record and
# stream batch, so offsets and per-batch accounting still balance after an erasure
ERASED_RECORDS_SCHEMA = T.StructType(
    [
        T.StructField("erasure_id", T.StringType(), nullable=False),
        T.StructField("table_name", T.StringType(), nullable=False),
        T.StructField("topic", T.StringType(), nullable=False),
        T.StructField("partition", T.IntegerType(), nullable=False),
        T.StructField("offset", T.LongType(), nullable=False),
        T.StructField("ingest_batch_id", T.LongType()),
        T.StructField("event_id", T.StringType()),
    ]
)
