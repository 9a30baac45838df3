from datetime import datetime

from pyspark.sql import types as T

from pipelines.transforms.bronze import kafka_to_bronze
from pipelines.transforms.schemas import BRONZE_SCHEMA

KAFKA_SOURCE_SCHEMA = T.StructType(
    [
        T.StructField("key", T.BinaryType()),
        T.StructField("value", T.BinaryType()),
        T.StructField("topic", T.StringType()),
        T.StructField("partition", T.IntegerType()),
        T.StructField("offset", T.LongType()),
        T.StructField("timestamp", T.TimestampType()),
        T.StructField("timestampType", T.IntegerType()),
        T.StructField(
            "headers",
            T.ArrayType(
                T.StructType(
                    [T.StructField("key", T.StringType()), T.StructField("value", T.BinaryType())]
                )
            ),
        ),
    ]
)


def test_bronze_keeps_raw_bytes_and_kafka_coordinates(spark):
    raw = b'{"event_id": "e1", "bad utf8": "\xff"}'
    records = spark.createDataFrame(
        [
            (
                b"session-1",
                raw,
                "agent.outcomes.v1",
                2,
                41,
                datetime(2026, 1, 2, 3, 4, 5),
                0,
                [("trace", b"t-1")],
            ),
            (None, b"not json", "agent.dlq", 0, 7, datetime(2026, 1, 2, 3, 4, 6), 0, None),
        ],
        KAFKA_SOURCE_SCHEMA,
    )
    bronze = kafka_to_bronze(records)
    assert [f.name for f in bronze.schema] == [f.name for f in BRONZE_SCHEMA]
    rows = sorted(bronze.collect(), key=lambda r: r["offset"])
    assert rows[0]["key"] is None and bytes(rows[0]["value"]) == b"not json"
    first = rows[1]
    assert first["key"] == "session-1"
    assert bytes(first["value"]) == raw
    assert (first["topic"], first["partition"], first["offset"]) == ("agent.outcomes.v1", 2, 41)
    assert first["kafka_timestamp"] == datetime(2026, 1, 2, 3, 4, 5)
    assert first["headers"][0]["key"] == "trace" and bytes(first["headers"][0]["value"]) == b"t-1"
    assert first["ingest_date"] == first["ingested_at"].date()
