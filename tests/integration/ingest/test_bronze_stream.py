"""The foundation's acceptance: real broker, real Spark Structured Streaming, real Delta."""

import json

import pytest
from confluent_kafka.admin import NewTopic
from delta.tables import DeltaTable

from pipelines.ingest.stream import StreamOptions, run_ingest
from pipelines.kafka_admin import admin_client
from pipelines.spark.tables import BRONZE_AGENT_EVENTS
from tests.support.kafka import produce_json

pytestmark = pytest.mark.integration


def _create_topic(settings, name: str, partitions: int = 3) -> None:
    admin = admin_client(settings)
    for future in admin.create_topics([NewTopic(name, partitions, 1)]).values():
        future.result()


def test_available_now_runs_append_exactly_once(spark, kafka_broker, settings):
    topic = settings.topic_name("smoke")
    _create_topic(settings, topic)

    produce_json(settings, topic, count=1000)
    run_ingest(spark, settings, StreamOptions(available_now=True, topics=(topic,)))
    path = BRONZE_AGENT_EVENTS.path(settings)
    assert spark.read.format("delta").load(path).count() == 1000

    produce_json(settings, topic, count=500, start=1000)
    run_ingest(spark, settings, StreamOptions(available_now=True, topics=(topic,)))
    bronze = spark.read.format("delta").load(path)
    rows = bronze.select("value", "partition", "offset", "topic").collect()
    assert len(rows) == 1500
    # nothing skipped, nothing twice: every produced n and every Kafka offset once
    assert sorted(json.loads(bytes(r["value"]))["n"] for r in rows) == list(range(1500))
    assert len({(r["partition"], r["offset"]) for r in rows}) == 1500
    assert {r["topic"] for r in rows} == {topic}

    history = DeltaTable.forPath(spark, path).history().orderBy("version").collect()
    appends = [h for h in history if h["operation"] == "WRITE"]
    assert len(appends) == 2  # one append per micro-batch
    assert [int(h["operationMetrics"]["numOutputRows"]) for h in appends] == [1000, 500]

    # a third run with nothing new commits nothing
    run_ingest(spark, settings, StreamOptions(available_now=True, topics=(topic,)))
    assert DeltaTable.forPath(spark, path).history().count() == len(history)


def test_bronze_is_registered_by_name_and_an_older_append_only_bronze_is_lifted(
    spark, kafka_broker, settings
):
    """Retention and erasure delete from bronze: a lake from before them had it append-only,
    and the stream lifts that when it opens the table."""
    topic = settings.topic_name("smoke")
    _create_topic(settings, topic, partitions=1)
    produce_json(settings, topic, count=10)
    run_ingest(spark, settings, StreamOptions(available_now=True, topics=(topic,)))
    assert spark.table("bronze.agent_events").count() == 10

    def append_only() -> str:
        rows = spark.sql("SHOW TBLPROPERTIES bronze.agent_events").collect()
        return {r["key"]: r["value"] for r in rows}["delta.appendOnly"]

    assert append_only() == "false"
    spark.sql("ALTER TABLE bronze.agent_events SET TBLPROPERTIES ('delta.appendOnly' = 'true')")
    with pytest.raises(Exception, match="DELTA_CANNOT_MODIFY_APPEND_ONLY"):
        spark.sql("DELETE FROM bronze.agent_events WHERE offset = 0")
    produce_json(settings, topic, count=5)
    run_ingest(spark, settings, StreamOptions(available_now=True, topics=(topic,)))
    assert append_only() == "false"
    assert spark.table("bronze.agent_events").count() == 15
