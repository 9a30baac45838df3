"""The legacy export's shape against rows written by hand: its day window and deletions, its
quirks (keys, upper-case thumbs, trimmed comments, whole seconds), and feedback reduced to the
current version of each mirrored app row."""

import time
from datetime import date, datetime

import pytest
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from pipelines.transforms.legacy import (
    APP_ROW_SCHEMA,
    current_versions,
    feedback_export,
    legacy_key,
)
from pipelines.transforms.schemas import EXPORT_SCHEMA

D = date(2026, 11, 20)
EXPORTED_AT = datetime(2026, 11, 21, 2, 0, 5)


def app_row(row_id, created_at, **values):
    """An app database row at version 1: tenant acme's bot, user u<id>, session s<id>."""
    row = dict.fromkeys(APP_ROW_SCHEMA.names) | {
        "id": row_id,
        "tenant_id": "acme",
        "user_id": f"u{row_id}",
        "session_id": f"s{row_id}",
        "agent_name": "bot",
        "created_at": created_at,
        "row_version": 1,
    }
    assert set(values) <= set(row), set(values) - set(row)
    return tuple((row | values).values())


def keys(spark, ids):
    frame = spark.createDataFrame([(i,) for i in ids], "id bigint")
    return [r[0] for r in frame.select(legacy_key(F.col("id"))).collect()]


def test_keys_are_the_id_zero_padded_to_eight_digits(spark):
    assert keys(spark, [0, 7, 42, 12345678]) == [
        "FB-00000000",
        "FB-00000007",
        "FB-00000042",
        "FB-12345678",
    ]


def test_an_id_longer_than_eight_digits_keeps_every_digit(spark):
    assert keys(spark, [123456789, 123456780]) == ["FB-123456789", "FB-123456780"]


def test_the_export_holds_the_days_live_rows_with_the_warehouse_quirks(spark):
    # fmt: off
    rows = spark.createDataFrame(
        [
            app_row(42, datetime(2026, 11, 20, 0, 0, 0), rating=5, thumbs="up",
                    comment="  great answer  ",
                    updated_at=datetime(2026, 11, 20, 8, 15, 30, 999999)),
            app_row(7, datetime(2026, 11, 20, 23, 59, 59, 750000)),
            app_row(11, datetime(2026, 11, 20, 12, 0, 0, 1), rating=1, thumbs="Down", comment="  ",
                    updated_at=datetime(2026, 11, 21, 9, 0, 0)),
            app_row(8, datetime(2026, 11, 21, 0, 0, 0), rating=4),  # the next day
            app_row(9, datetime(2026, 11, 19, 23, 59, 59, 999999), rating=4),  # the day before
            app_row(10, datetime(2026, 11, 20, 9, 0, 0), rating=2,
                    deleted_at=datetime(2026, 11, 20, 10, 0, 0)),  # soft-deleted
        ],
        APP_ROW_SCHEMA,
    )
    expected = spark.createDataFrame(
        [
            ("FB-00000042", "acme", "u42", "s42", "bot", 5, "UP", "great answer",
             datetime(2026, 11, 20, 0, 0, 0), datetime(2026, 11, 20, 8, 15, 30), D, EXPORTED_AT),
            ("FB-00000007", "acme", "u7", "s7", "bot", None, None, None,
             datetime(2026, 11, 20, 23, 59, 59), None, D, EXPORTED_AT),
            ("FB-00000011", "acme", "u11", "s11", "bot", 1, "DOWN", "",
             datetime(2026, 11, 20, 12, 0, 0), datetime(2026, 11, 21, 9, 0, 0), D, EXPORTED_AT),
        ],
        EXPORT_SCHEMA,
    )
    # fmt: on
    assertDataFrameEqual(feedback_export(rows, D, EXPORTED_AT), expected)


FEEDBACK = (
    "event_id string, source string, legacy_feedback_id string, legacy_row_version bigint, "
    "deleted boolean, kafka_offset bigint, rating bigint"
)


def test_current_versions_keep_each_mirrored_rows_newest_live_version(spark):
    # fmt: off
    feedback = spark.createDataFrame(
        [
            ("e1", "stream", None, None, None, 1, 5),
            ("e2", "backfill", None, None, True, 2, 3),  # not mirrored: passes, flag or not
            ("e3", "legacy_mirror", "7", 1, False, 10, 3),
            ("e4", "legacy_mirror", "7", 2, False, 11, 4),  # row 7 edited: v2 stands
            ("e5", "legacy_mirror", "8", 1, False, 12, 2),
            ("e6", "legacy_mirror", "8", 2, True, 13, 2),  # row 8 deleted: gone
            ("e7", "legacy_mirror", "9", 1, False, 14, 3),
            ("e8", "legacy_mirror", "9", 1, False, 20, 3),  # v1 again (a replay): later offset
            ("e9", "legacy_mirror", "10", 2, False, 15, 1),
            ("e10", "legacy_mirror", "10", 1, False, 16, 5),  # an older version arriving late
            ("e11", "legacy_mirror", "11", 1, None, 17, 4),  # no deleted flag: live
            ("e12", "legacy_mirror", "12", 1, True, 18, 2),
            ("e13", "legacy_mirror", "12", 2, False, 19, 2),  # deleted, then restored
        ],
        FEEDBACK,
    )
    # fmt: on
    kept = ["e1", "e2", "e4", "e8", "e9", "e11", "e13"]
    assertDataFrameEqual(current_versions(feedback), feedback.where(F.col("event_id").isin(kept)))
    assert current_versions(feedback).columns == feedback.columns


@pytest.fixture
def berlin_host(monkeypatch):
    """The Python process in Europe/Berlin; the session stays on UTC."""
    monkeypatch.setenv("TZ", "Europe/Berlin")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_the_day_and_the_export_time_do_not_follow_the_hosts_time_zone(spark, berlin_host):
    created = {1: "2026-11-20 23:30:00", 2: "2026-11-21 00:10:00", 3: "2026-11-19 23:50:00"}
    rows = spark.createDataFrame([app_row(i, None) for i in created], APP_ROW_SCHEMA)
    when = F.create_map(*[F.lit(x) for kv in created.items() for x in kv])[F.col("id")]
    rows = rows.withColumn("created_at", when.cast("timestamp")).withColumn(
        "updated_at", F.col("created_at")
    )
    export = feedback_export(rows, D, datetime(2026, 11, 21, 2, 0, 5))
    shown = export.select(
        "feedback_id", F.date_format("exported_at", "yyyy-MM-dd HH:mm:ss").alias("at")
    )
    assert [tuple(r) for r in shown.collect()] == [("FB-00000001", "2026-11-21 02:00:05")]
