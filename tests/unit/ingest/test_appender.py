"""Appending to a registry table: created on first rows without the frame's NOT NULL, new
columns merged only when they come, one file per small batch, and nothing probed twice."""

import pytest
from pyspark.sql import functions as F
from pyspark.sql import types as T

from pipelines.errors import AflError
from pipelines.ingest.appender import TableAppender
from pipelines.spark.tables import TableSpec, spec_for

EVENTS = TableSpec("silver", "appender_events", None, partition_by=("event_date",))


def _batch(spark, ids: range):
    return spark.range(ids.start, ids.stop).select(
        F.col("id").cast("string").alias("event_id"),
        F.lit("2026-11-20").cast("date").alias("event_date"),
        F.lit(1).alias("schema_version"),  # a literal: NOT NULL in the frame
    )


def test_the_first_rows_create_the_table_with_nullable_columns_and_one_file(spark, settings):
    appender = TableAppender(settings)
    assert appender.schema(spark, EVENTS) is None and appender.read(spark, EVENTS) is None
    appender.append(spark, EVENTS, _batch(spark, range(0, 300)), 300)
    table = spark.read.format("delta").load(EVENTS.path(settings))
    assert table.count() == 300 and all(f.nullable for f in table.schema)
    assert len(table.inputFiles()) == 1
    assert appender.schema(spark, EVENTS) == table.schema


def test_new_columns_are_merged_and_the_learned_schema_follows(spark, settings):
    appender = TableAppender(settings)
    appender.append(spark, EVENTS, _batch(spark, range(0, 10)), 10)
    wider = _batch(spark, range(10, 15)).withColumn("tool_name", F.lit("search"))
    appender.append(spark, EVENTS, wider, 5)
    table = spark.read.format("delta").load(EVENTS.path(settings))
    assert table.columns == ["event_id", "event_date", "schema_version", "tool_name"]
    assert table.where(F.col("tool_name").isNull()).count() == 10
    assert appender.schema(spark, EVENTS)["tool_name"].dataType == T.StringType()


def test_holds_answers_from_the_table_and_a_new_appender_learns_it_again(spark, settings):
    first = TableAppender(settings)
    first.append(spark, EVENTS, _batch(spark, range(0, 20)), 20)
    again = TableAppender(settings)  # a restarted process: nothing remembered
    assert again.holds(spark, EVENTS, F.col("event_id") == "7")
    assert not again.holds(spark, EVENTS, F.col("event_id") == "70")
    assert again.schema(spark, EVENTS) == first.schema(spark, EVENTS)
    again.forget()
    assert again.schema(spark, EVENTS) == first.schema(spark, EVENTS)  # looked at again


def test_a_restricted_table_left_under_the_lake_root_must_be_moved_first(spark, settings):
    restricted = spec_for("silver.feedback_restricted")
    old = settings.lake_path("silver", "feedback_restricted")
    spark.range(3).write.format("delta").save(old)  # a lake from before the restricted root
    with pytest.raises(AflError) as refused:
        TableAppender(settings).schema(spark, restricted)
    assert str(refused.value) == (
        f"silver.feedback_restricted is still under the lake root at {old}: move that folder "
        f"to {restricted.path(settings)} (AFL_RESTRICTED_ROOT) before streaming on"
    )
