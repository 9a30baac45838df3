"""The shapes of what evaluators produce: one unit's row, and gold.evaluator_scores."""

from pyspark.sql import types as T

# What an evaluator returns per unit (a turn, a tool call, ...): the backfill adds the rest.
UNIT_COLUMNS = T.StructType(
    [
        T.StructField("unit_id", T.StringType(), nullable=False),
        T.StructField("event_date", T.DateType(), nullable=False),
        T.StructField("tenant_id", T.StringType()),
        T.StructField("agent_name", T.StringType()),
        T.StructField("agent_version", T.StringType()),
        T.StructField("session_id", T.StringType()),
        T.StructField("trace_id", T.StringType()),
        T.StructField("score", T.DoubleType()),
        T.StructField("label", T.StringType()),
        T.StructField("explanation", T.StringType()),
    ]
)

_UNIT = {f.name: f for f in UNIT_COLUMNS.fields}

SCORES_SCHEMA = T.StructType(
    [
        _UNIT["event_date"],
        T.StructField("unit_type", T.StringType(), nullable=False),
        _UNIT["unit_id"],
        T.StructField("evaluator", T.StringType(), nullable=False),
        T.StructField("evaluator_version", T.IntegerType(), nullable=False),
        *(f for f in UNIT_COLUMNS.fields if f.name not in ("unit_id", "event_date")),
        T.StructField("evaluated_at", T.TimestampType(), nullable=False),
        T.StructField("code_hash", T.StringType(), nullable=False),
        T.StructField("judge_model", T.StringType()),
        T.StructField("run_id", T.StringType(), nullable=False),
        T.StructField("silver_versions", T.MapType(T.StringType(), T.LongType())),
        T.StructField("data_classification", T.StringType()),
        T.StructField("contains_pii", T.BooleanType()),
        T.StructField("retention_until", T.TimestampType()),
        T.StructField("source", T.StringType()),
        T.StructField("pipeline_version", T.StringType()),
    ]
)
