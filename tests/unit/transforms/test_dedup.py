"""First copy wins; copies with other content are told apart from retries."""

import orjson
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from pipelines.transforms.dedup import candidates, content_differences, decide, key_hash

EVENT = {
    "event_id": "e1",
    "occurred_at": "2026-11-20T09:30:00Z",
    "payload": {"rating": 4, "comment": None},
}


def test_the_same_content_in_other_bytes_is_a_retry():
    reordered = orjson.dumps(dict(reversed(list(EVENT.items()))), option=orjson.OPT_INDENT_2)
    assert content_differences(reordered, orjson.dumps(EVENT)) == []


def test_differences_are_named_by_field():
    other = {**EVENT, "occurred_at": "2026-11-12T09:30:00Z", "payload": {"rating": 4.0, "x": 1}}
    assert content_differences(orjson.dumps(other), orjson.dumps(EVENT)) == [
        "occurred_at",
        "payload.rating",  # 4.0 is not 4
        "payload.x",  # (a missing field and a null one are the same to the lake)
    ]
    assert content_differences(b"{not json", orjson.dumps(EVENT)) == ["<unreadable>"]


def test_an_earlier_batch_copy_wins_over_every_copy_in_this_batch(spark):
    rows = spark.createDataFrame(
        [("e1", "t", 0, 7), ("e1", "t", 0, 3), ("e2", "t", 1, 9), ("e2", "t", 0, 11)],
        "event_id string, kafka_topic string, kafka_partition int, kafka_offset long",
    )
    earlier = spark.createDataFrame(
        [("e2", "t", 2, 1), ("e1", "t", 0, 3)],  # e1 at 3: landed by a first attempt
        "event_id string, kafka_topic string, kafka_partition int, kafka_offset long",
    )
    original = "struct<kafka_topic: string, kafka_partition: int, kafka_offset: long>"
    expected = spark.createDataFrame(
        [
            ("e1", "t", 0, 7, ("t", 0, 3)),  # a re-run decides the same: a copy of offset 3
            ("e1", "t", 0, 3, None),  # lands: the batch's first copy
            ("e2", "t", 1, 9, ("t", 2, 1)),  # an earlier batch landed e2
            ("e2", "t", 0, 11, ("t", 2, 1)),
        ],
        "event_id string, kafka_topic string, kafka_partition int, kafka_offset long, "
        f"_original {original}",
    )
    assertDataFrameEqual(decide(rows, earlier), expected)


def test_a_hashed_lookup_matches_on_the_hash_first_and_decides_on_the_keys(spark):
    keys = ("event_type", "event_id")
    columns = "event_type string, event_id string, kafka_topic string, kafka_partition int"
    batch = spark.createDataFrame(
        [("feedback", "e1", "t", 0), ("outcome", "e2", "t", 1)], columns
    ).withColumn("key_hash", key_hash(keys))
    e1 = batch.where("event_id = 'e1'").first()["key_hash"]
    table = spark.createDataFrame(
        [
            ("feedback", "e1", "t", 5, 10, e1),  # an earlier copy of e1
            ("outcome", "e1", "t", 5, 11, e1),  # a collision: e1's hash, another key
            ("feedback", "e9", "t", 5, 12, 42),  # nothing to do with the batch
        ],
        f"{columns}, kafka_offset long, key_hash long",
    )
    found = candidates(table, batch.withColumn("kafka_offset", F.lit(0)), keys, "key_hash")
    expected = spark.createDataFrame(
        [("feedback", "e1", "t", 5, 10)], f"{columns}, kafka_offset long"
    )
    assertDataFrameEqual(found, expected)
