"""The shared readers and writers: the Kafka reader's options, Delta appends (idempotent with a
transaction id, widened only when asked), a replace of one slice, the latest version, one row,
and small files and listings through Hadoop's FileSystem."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from pyspark.errors import AnalysisException
from pyspark.testing import assertDataFrameEqual

from pipelines.errors import AflError
from pipelines.spark.io import (
    delta_append,
    delta_replace,
    delta_version,
    list_names,
    one_row,
    read_kafka_stream,
    read_text,
)

ROWS = "day string, n bigint"


def kafka_options(frame) -> dict[str, str]:
    """The options a streaming Kafka frame was defined with (its analyzed plan's relation)."""
    return dict(frame._jdf.queryExecution().analyzed().extraOptions().asCaseSensitiveMap())


def test_the_kafka_stream_reads_every_topic_from_the_earliest_offset_with_headers(spark, settings):
    stream = read_kafka_stream(spark, settings, ["t.feedback", "t.outcomes"])
    assert stream.isStreaming
    assert kafka_options(stream) == {
        "kafka.bootstrap.servers": settings.kafka_bootstrap_servers,
        "subscribe": "t.feedback,t.outcomes",
        "startingOffsets": "earliest",
        "includeHeaders": "true",
        "failOnDataLoss": "true",
    }
    assert stream.columns == [
        "key",
        "value",
        "topic",
        "partition",
        "offset",
        "timestamp",
        "timestampType",
        "headers",
    ]


def test_the_kafka_stream_takes_a_batch_limit_and_starting_offsets_when_given(spark, settings):
    offsets = '{"t.feedback":{"0":42}}'
    stream = read_kafka_stream(
        spark, settings, ["t.feedback"], max_offsets_per_trigger=500, starting_offsets=offsets
    )
    options = kafka_options(stream)
    assert (options["startingOffsets"], options["maxOffsetsPerTrigger"]) == (offsets, "500")


def test_an_append_with_a_transaction_already_committed_is_skipped(spark, tmp_path):
    path = str(tmp_path / "table")
    delta_append(spark.createDataFrame([("d1", 1)], ROWS), path, txn=("job-a", 1))
    delta_append(spark.createDataFrame([("d1", 1)], ROWS), path, txn=("job-a", 1))  # a retry
    delta_append(spark.createDataFrame([("d1", 2)], ROWS), path, txn=("job-a", 2))
    delta_append(spark.createDataFrame([("d1", 3)], ROWS), path, txn=("job-b", 1))  # other app

    expected = spark.createDataFrame([("d1", 1), ("d1", 2), ("d1", 3)], ROWS)
    assertDataFrameEqual(spark.read.format("delta").load(path), expected)
    assert delta_version(spark, path) == 2  # three commits; the skipped retry made none


def test_a_new_column_is_refused_unless_the_append_merges_the_schema(spark, tmp_path):
    path = str(tmp_path / "table")
    delta_append(spark.createDataFrame([("d1", 1)], ROWS), path)
    wider = spark.createDataFrame([("d2", 2, "late")], f"{ROWS}, note string")
    with pytest.raises(AnalysisException, match="A schema mismatch detected when writing"):
        delta_append(wider, path)
    delta_append(wider, path, merge_schema=True)

    expected = spark.createDataFrame([("d1", 1, None), ("d2", 2, "late")], f"{ROWS}, note string")
    assertDataFrameEqual(spark.read.format("delta").load(path), expected)


def test_a_replace_overwrites_only_the_rows_its_condition_matches(spark, tmp_path):
    path = str(tmp_path / "table")
    delta_append(spark.createDataFrame([("d1", 1), ("d1", 2), ("d2", 3)], ROWS), path)
    delta_replace(spark.createDataFrame([("d1", 10)], ROWS), path, "day = 'd1'")
    delta_replace(spark.createDataFrame([("d1", 10)], ROWS), path, "day = 'd1'")  # a re-run

    assertDataFrameEqual(
        spark.read.format("delta").load(path), spark.createDataFrame([("d1", 10), ("d2", 3)], ROWS)
    )
    assert delta_version(spark, path) == 2


def test_a_replace_refuses_rows_outside_its_condition_and_changes_nothing(spark, tmp_path):
    path = str(tmp_path / "table")
    delta_append(spark.createDataFrame([("d1", 1), ("d2", 3)], ROWS), path)
    with pytest.raises(AnalysisException, match="DELTA_REPLACE_WHERE_MISMATCH"):
        delta_replace(spark.createDataFrame([("d2", 30)], ROWS), path, "day = 'd1'")

    assertDataFrameEqual(
        spark.read.format("delta").load(path), spark.createDataFrame([("d1", 1), ("d2", 3)], ROWS)
    )
    assert delta_version(spark, path) == 0


def test_one_row_is_the_first_row_and_an_empty_result_is_an_error(spark):
    frame = spark.createDataFrame([("d1", 7)], ROWS)
    assert one_row(frame).asDict() == {"day": "d1", "n": 7}
    with pytest.raises(AflError, match=r"^expected a row, the query returned none$"):
        one_row(frame.where("n > 7"))


def test_names_are_listed_directly_under_a_folder_and_an_absent_folder_has_none(spark, tmp_path):
    folder = tmp_path / "checkpoint" / "commits"
    assert list_names(spark, str(folder)) == []
    folder.mkdir(parents=True)
    for name in ("0", "1", "12"):
        (folder / name).write_text("v1\n")
    (folder / "nested").mkdir()
    (folder / "nested" / "deep").write_text("")

    assert sorted(list_names(spark, str(folder))) == ["0", "1", "12", "nested"]
    assert sorted(list_names(spark, f"file://{folder}")) == ["0", "1", "12", "nested"]


def test_a_small_file_is_read_whole_as_utf8(spark, tmp_path):
    offsets = tmp_path / "offsets" / "3"
    offsets.parent.mkdir()
    offsets.write_text('v1\n{"batchWatermarkMs":0}\n{"t.feedback":{"0":42}}\n', encoding="utf-8")
    (tmp_path / "note").write_text("naïve, ünïcode: ✓\n", encoding="utf-8")

    assert read_text(spark, str(offsets)).splitlines()[2] == '{"t.feedback":{"0":42}}'
    assert read_text(spark, f"file://{tmp_path}/note") == "naïve, ünïcode: ✓\n"


def test_listing_and_reading_need_a_session_with_a_jvm():
    connect_like = SimpleNamespace(sparkContext=SimpleNamespace(_jvm=None))
    message = r"^this needs a classic Spark session \(a JVM on the driver\)$"
    with pytest.raises(AflError, match=message):
        list_names(connect_like, "/tmp")
    with pytest.raises(AflError, match=message):
        read_text(connect_like, "/tmp/x")
