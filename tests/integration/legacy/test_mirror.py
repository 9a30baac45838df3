"""The mirror of the legacy app database into the feedback topic: a replay re-publishes
every row version, and the lake still holds each once."""

from datetime import datetime

import pytest
from pyspark.sql import functions as F

from pipelines.ingest.stream import CATCH_UP, run_ingest
from pipelines.legacy.mirror import run_mirror
from tests.support.lake import assert_lake_exact
from tests.support.legacy import legacy_and_stream

pytestmark = pytest.mark.integration


def test_rerunning_the_mirror_for_the_same_window_adds_nothing(spark, sqlite_lake):
    settings = sqlite_lake
    legacy_and_stream(spark, settings)
    feedback = settings.lake_path("silver", "feedback")
    before = spark.read.format("delta").load(feedback).count()
    again = run_mirror(spark, settings, replay_from=datetime(2026, 1, 1))
    assert again.published > 250
    run_ingest(spark, settings, CATCH_UP)
    assert_lake_exact(spark, settings)
    assert spark.read.format("delta").load(feedback).count() == before
    mirrored = spark.read.format("delta").load(feedback).where(F.col("source") == "legacy_mirror")
    assert mirrored.count() == before
    assert mirrored.where(F.col("deleted")).count() == 6  # tombstones for the soft deletes
