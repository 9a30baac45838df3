"""Dagster materializes evaluator partitions (day x version) and compares two versions."""

from datetime import UTC, date, datetime

import dagster as dg
import pytest
from pyspark.sql import functions as F

from dagster_project.defs.evaluators import evaluator_comparisons, evaluator_scores
from dagster_project.resources import LakehouseResource
from pipelines.producer.traffic import TrafficGenerator

pytestmark = pytest.mark.integration

DAYS = ["2026-11-18", "2026-11-19"]
VERSIONS = ["helpfulness@1", "helpfulness@2"]


def test_a_multi_partition_range_materializes_and_a_rerun_replaces(spark, ingested_lake, settings):
    traffic = TrafficGenerator(
        seed=29, events=4000, days_back=3, end_time=datetime(2026, 11, 20, tzinfo=UTC)
    )
    ingested_lake(settings, traffic)
    lakehouse = LakehouseResource.over(settings)
    units = {}
    for day in DAYS:  # what a UI backfill of this range launches: one run per partition
        for version in VERSIONS:
            key = dg.MultiPartitionKey({"date": day, "evaluator": version})
            result = dg.materialize(
                [evaluator_scores], partition_key=key, resources={"lakehouse": lakehouse}
            )
            assert result.success
            [event] = result.get_asset_materialization_events()
            units[(day, version)] = event.materialization.metadata["units"].value
    stored = spark.read.format("delta").load(settings.lake_path("gold", "evaluator_scores"))
    counted = {
        (str(r["event_date"]), f"{r['evaluator']}@{r['evaluator_version']}"): r["count"]
        for r in stored.groupBy("event_date", "evaluator", "evaluator_version").count().collect()
    }
    assert counted == units and all(n > 0 for n in units.values())

    again = dg.MultiPartitionKey({"date": DAYS[0], "evaluator": VERSIONS[0]})
    assert dg.materialize(
        [evaluator_scores], partition_key=again, resources={"lakehouse": lakehouse}
    ).success
    assert (
        stored.where(
            (F.col("event_date") == date.fromisoformat(DAYS[0])) & (F.col("evaluator_version") == 1)
        ).count()
        == units[(DAYS[0], VERSIONS[0])]
    )

    compared = dg.materialize(
        [evaluator_comparisons, evaluator_scores],
        partition_key=DAYS[1],
        selection=[evaluator_comparisons],
        resources={"lakehouse": lakehouse},
    )
    [event] = compared.get_asset_materialization_events()
    meta = event.materialization.metadata
    assert meta["helpfulness_v1_v2_compared"].value == units[(DAYS[1], VERSIONS[0])]
    changed = meta["helpfulness_v1_v2_changed"].value
    shown = meta["helpfulness_v1_v2_examples"].value
    assert min(changed, 10) == shown.count("- `") and (changed > 0 or shown == "none")
