"""Classification, retention and masking of the rows every table carries."""

import hashlib
from datetime import datetime

from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from pipelines.governance.classification import (
    general_classification,
    hashed,
    retention_until,
    source_from_headers,
)


def test_a_restricted_topics_general_table_is_confidential_others_keep_their_class():
    assert [general_classification(c) for c in ("restricted", "confidential", "internal")] == [
        "confidential",
        "confidential",
        "internal",
    ]


def test_retention_hashing_and_source_per_row(spark):
    rows = spark.createDataFrame(
        [
            (datetime(2026, 11, 20, 9, 30), "ana", [("afl.source", bytearray(b"legacy_mirror"))]),
            (datetime(2026, 11, 20, 9, 30), None, [("afl.source", bytearray(b"elsewhere"))]),
            (datetime(2026, 11, 20, 9, 30), "bo", []),
        ],
        "occurred_at timestamp, user_id string, headers array<struct<key: string, value: binary>>",
    )
    out = rows.select(
        retention_until(F.col("occurred_at"), "restricted").alias("retention_until"),
        hashed(F.col("user_id"), "salt-").alias("user_id_hash"),
        source_from_headers(F.col("headers")).alias("source"),
    )
    until = datetime(2027, 2, 18, 9, 30)  # 90 days
    expected = spark.createDataFrame(
        [
            (until, hashlib.sha256(b"salt-ana").hexdigest(), "legacy_mirror"),
            (until, None, "stream"),  # null stays null; an unknown source is the stream
            (until, hashlib.sha256(b"salt-bo").hexdigest(), "stream"),
        ],
        "retention_until timestamp, user_id_hash string, source string",
    )
    assertDataFrameEqual(out, expected)
