"""The records that break a step are found and left out; an outage is raised as it was."""

import pytest
from pyspark.errors import PySparkException
from pyspark.sql import functions as F

from pipelines.ingest.isolation import BatchFrames


def records(spark, n: int = 64):
    return spark.createDataFrame(
        [("t", i % 3, i) for i in range(n)], "topic string, partition int, offset long"
    )


def poison_at(*offsets: int):
    def build(frame):
        boom = F.raise_error(F.lit("bad record"))
        return frame.withColumn(
            "checked", F.when(F.col("offset").isin(*offsets), boom).otherwise(F.col("offset"))
        )

    return build


def test_the_failing_records_are_isolated_and_the_rest_computed(spark):
    frames = BatchFrames()
    try:
        kept, isolated = frames.keep_isolating(poison_at(5, 40), records(spark))
        assert sorted(i.key for i in isolated) == [("t", 1, 40), ("t", 2, 5)]
        assert all("bad record" in i.message for i in isolated)
        assert kept.count() == 62
        assert kept.where(F.col("offset").isin(5, 40)).count() == 0
    finally:
        frames.release()


def test_a_failure_of_every_record_is_not_isolated_but_raised(spark):
    frames = BatchFrames()
    with pytest.raises(PySparkException, match="bad record"):
        frames.keep_isolating(poison_at(*range(64)), records(spark))
    frames.release()


def test_released_frames_hold_no_blocks(spark):
    sc = spark.sparkContext
    before = sc._jsc.sc().getPersistentRDDs().size()
    frames = BatchFrames()
    frames.keep(records(spark))
    assert sc._jsc.sc().getPersistentRDDs().size() == before + 1
    frames.release()
    assert sc._jsc.sc().getPersistentRDDs().size() == before
