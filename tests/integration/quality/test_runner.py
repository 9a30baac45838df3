"""Quality gates: GX suites on Spark partitions, blocking gold through Dagster."""

import os
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from dagster_project.definitions import defs
from dagster_project.resources import LakehouseResource
from pipelines.producer.traffic import TrafficGenerator
from pipelines.quality.runner import validate_table_day
from tests import AFL
from tests.support.kafka import private_settings

pytestmark = pytest.mark.integration

CLEAN, FAULTY = date(2026, 11, 19), date(2026, 11, 20)


@pytest.fixture(scope="module")
def lake(ingested_lake, base_settings, spark, tmp_path_factory):
    root = tmp_path_factory.mktemp("quality")
    settings = private_settings(base_settings, root, home=str(root / "home"))
    traffic = TrafficGenerator(
        seed=17, events=6000, days_back=3, end_time=datetime(2026, 11, 21, tzinfo=UTC)
    )
    ingested_lake(settings, traffic)
    # the faulty day: a duplicate event, a rating out of range, a row without tenant
    path = settings.lake_path("silver", "feedback")
    feedback = spark.read.format("delta").load(path).where(F.col("event_date") == FAULTY)
    sample = feedback.where(F.col("rating").isNotNull()).orderBy("event_id").limit(3).collect()
    rows = [
        sample[0].asDict(),
        {**sample[1].asDict(), "event_id": "fault-rating", "rating": 9},
        {**sample[2].asDict(), "event_id": "fault-tenant", "tenant_id": None},
    ]
    spark.createDataFrame(rows, feedback.schema).write.format("delta").mode("append").save(path)
    return settings


def test_a_clean_day_passes_and_injected_faults_fail_exactly_their_expectations(spark, lake):
    for table in (
        "silver.feedback",
        "silver.outcomes",
        "silver.tool_calls",
        "silver.policy_decisions",
        "silver.interactions",
        "silver.evaluations",
    ):
        report = validate_table_day(spark, lake, table, CLEAN)
        assert report.rows > 0 and report.passed, [o.describe() for o in report.failures]
        assert report.failures == [] and report.warnings == []
    faulty = validate_table_day(spark, lake, "silver.feedback", FAULTY)
    failed = {(o.expectation, o.column): o for o in faulty.failures}
    assert set(failed) == {
        ("expect_column_values_to_be_unique", "event_id"),
        ("expect_column_values_to_be_between", "rating"),
        ("expect_column_values_to_not_be_null", "tenant_id"),
    }
    assert failed[("expect_column_values_to_be_between", "rating")].sample == [9]
    assert failed[("expect_column_values_to_not_be_null", "tenant_id")].unexpected_count == 1
    assert failed[("expect_column_values_to_be_unique", "event_id")].unexpected_count == 2
    stored = (
        spark.read.format("delta")
        .load(lake.lake_path("ops", "quality_results"))
        .where((F.col("partition_date") == FAULTY) & (F.col("run_id") == faulty.run_id))
    )
    assert stored.count() == len(faulty.outcomes)
    assert stored.where(~F.col("success")).count() == 3
    assert Path(faulty.docs_index).is_file()


def test_quality_from_the_shell_exits_1_and_names_the_failures(lake):
    env = dict(os.environ, AFL_LAKE_ROOT=lake.lake_root, AFL_HOME=lake.home)
    done = subprocess.run(
        [AFL, "quality", "--table", "silver.feedback", "--date", str(FAULTY)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1, done.stderr[-2000:]
    lines = done.stdout.strip().splitlines()
    assert (
        "FAIL [critical] expect_column_values_to_be_between on rating: 1 unexpected, e.g. [9]"
        in lines
    )
    assert lines[-1].startswith(f"silver.feedback {FAULTY}: ") and "3 failed" in lines[-1]


def test_failing_silver_blocks_that_days_gold_only(spark, lake):
    lakehouse = LakehouseResource.over(lake)
    job = defs.resolve_job_def("gold_daily_job")
    clean = job.execute_in_process(partition_key=str(CLEAN), resources={"lakehouse": lakehouse})
    assert clean.success
    built = {e.asset_key.to_user_string() for e in clean.get_asset_materialization_events()}
    assert built == {
        "gold/feedback_daily",
        "gold/tool_reliability_daily",
        "gold/agent_scorecard_daily",
    }
    assert all(c.passed for c in clean.get_asset_check_evaluations())

    faulty = job.execute_in_process(
        partition_key=str(FAULTY), resources={"lakehouse": lakehouse}, raise_on_error=False
    )
    checks = {c.asset_key.to_user_string(): c for c in faulty.get_asset_check_evaluations()}
    assert not checks["silver/feedback"].passed
    assert (
        "expect_column_values_to_be_between on rating"
        in checks["silver/feedback"].metadata["failed"].value
    )
    assert checks["silver/tool_calls"].passed and checks["silver/outcomes"].passed
    built = {e.asset_key.to_user_string() for e in faulty.get_asset_materialization_events()}
    assert built == {"gold/tool_reliability_daily"}  # feedback and scorecard read silver.feedback
    gold = spark.read.format("delta").load(lake.lake_path("gold", "feedback_daily"))
    assert {r[0] for r in gold.select("event_date").distinct().collect()} == {CLEAN}
