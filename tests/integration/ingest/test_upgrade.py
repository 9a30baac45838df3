"""A lake written by 0.1's two queries continues under the one ingest query.

0.1 ran a bronze query (Kafka -> bronze, Delta sink) and a silver query (bronze -> silver,
quarantine, progress). Their checkpoints are made here by real Spark queries of those two
shapes (the silver side lands with today's writer, as 0.1's did from bronze rows), then the
new query must start where bronze stopped: nothing read twice, nothing skipped.
"""

import time

import pytest
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from pipelines.errors import AflError
from pipelines.ingest.batch import IngestBatch
from pipelines.ingest.offsets import verify_offsets
from pipelines.ingest.stream import CATCH_UP, PREVIOUS_QUERIES, registry_topics, run_ingest
from pipelines.spark.io import read_kafka_stream
from pipelines.spark.tables import BRONZE_AGENT_EVENTS
from pipelines.transforms.bronze import kafka_to_bronze
from tests.support.lake import assert_lake_exact, quarantine_by_kind, silver_counts
from tests.support.streams import produce

pytestmark = pytest.mark.integration

BRONZE_QUERY, SILVER_QUERY = PREVIOUS_QUERIES


def run_old_bronze_query(spark, settings) -> None:
    records = read_kafka_stream(spark, settings, registry_topics(settings), None)
    query = (
        kafka_to_bronze(records)
        .writeStream.format("delta")
        .option("checkpointLocation", settings.checkpoint_path(BRONZE_QUERY))
        .trigger(availableNow=True)
        .start(BRONZE_AGENT_EVENTS.path(settings))
    )
    query.awaitTermination()


def run_old_silver_query(spark, settings) -> None:
    def land(bronze_rows: DataFrame, batch_id: int) -> None:
        # the bronze rows in the Kafka source's shape; the writer finds them in bronze
        # already and lands them without appending them again
        kafka_rows = bronze_rows.select(
            F.col("key").cast("binary").alias("key"),
            "value",
            "topic",
            "partition",
            "offset",
            F.col("kafka_timestamp").alias("timestamp"),
            "headers",
        )
        writer = IngestBatch(settings, query_name=SILVER_QUERY)
        writer.query_id = "0.1-silver"
        writer.write(kafka_rows, batch_id, time.time())

    query = (
        spark.readStream.format("delta")
        .load(BRONZE_AGENT_EVENTS.path(settings))
        .writeStream.foreachBatch(land)
        .option("checkpointLocation", settings.checkpoint_path(SILVER_QUERY))
        .trigger(availableNow=True)
        .start()
    )
    query.awaitTermination()


def test_a_lake_of_the_two_queries_continues_from_bronze_offsets(spark, lake):
    settings = lake
    first = produce(settings, seed=21, events=3_000, bad_fraction=0.02)
    run_old_bronze_query(spark, settings)

    # silver has not caught up with bronze: refusing is the only safe answer
    with pytest.raises(AflError, match="silver query has not processed all of bronze"):
        run_ingest(spark, settings, CATCH_UP)

    run_old_silver_query(spark, settings)
    bronze = spark.read.format("delta").load(BRONZE_AGENT_EVENTS.path(settings))
    assert bronze.count() == first["records_sent"]

    second = produce(settings, seed=22, events=2_000, bad_fraction=0.02)
    run_ingest(spark, settings, CATCH_UP)

    sent = first["records_sent"] + second["records_sent"]
    reports = verify_offsets(spark, settings)
    assert [r.describe() for r in reports if not r.ok] == []
    assert sum(r.rows for r in reports) == sent  # each record once: none re-read, none skipped
    bronze = spark.read.format("delta").load(BRONZE_AGENT_EVENTS.path(settings))
    assert bronze.count() == sent
    new_query_rows = (
        spark.read.format("delta")
        .load(settings.lake_path("ops", "stream_progress"))
        .where(F.col("query_name") == "agent_events")
        .agg(F.sum("input_rows"))
        .first()[0]
    )
    assert new_query_rows == second["records_sent"]
    valid = {
        t: first["valid_distinct"].get(t, 0) + second["valid_distinct"].get(t, 0)
        for t in {*first["valid_distinct"], *second["valid_distinct"]}
    }
    assert silver_counts(spark, settings) == {t: n for t, n in valid.items() if n}
    bad = {
        k: first["bad"].get(k, 0) + second["bad"].get(k, 0)
        for k in {*first["bad"], *second["bad"]}
        if k != "duplicate"
    }
    assert quarantine_by_kind(spark, settings) == {k: n for k, n in bad.items() if n}
    assert_lake_exact(spark, settings)
