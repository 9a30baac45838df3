"""Observations and freshness checks for the streaming tables."""

from datetime import UTC, datetime

import dagster as dg
import pytest
from delta.tables import DeltaTable

from dagster_project.definitions import defs
from dagster_project.defs.freshness import streaming_tables_observer
from dagster_project.resources import LakehouseResource
from pipelines.ingest.stream import CATCH_UP, run_ingest
from pipelines.producer.sdk import AgentEventProducer
from pipelines.producer.traffic import TrafficGenerator, send_traffic
from tests.support.kafka import create_registry_topics, private_settings
from tests.support.lake import assert_lake_exact

pytestmark = pytest.mark.integration


def test_observer_reports_versions_and_freshness_checks_use_the_bound(
    spark, kafka_broker, base_settings, tmp_path
):
    settings = private_settings(base_settings, tmp_path)
    create_registry_topics(settings)
    with AgentEventProducer(settings) as producer:
        send_traffic(
            producer,
            TrafficGenerator(
                seed=31, events=800, days_back=1, end_time=datetime(2026, 11, 20, tzinfo=UTC)
            ),
        )
    run_ingest(spark, settings, CATCH_UP)
    assert_lake_exact(spark, settings)
    lakehouse = LakehouseResource.over(settings)

    result = streaming_tables_observer(dg.build_sensor_context(resources={"lakehouse": lakehouse}))
    observed = {e.asset_key.to_user_string(): e.metadata for e in result.asset_events}
    assert set(observed) == {
        "bronze/agent_events",
        "silver/feedback",
        "silver/interactions",
        "silver/tool_calls",
        "silver/outcomes",
        "silver/policy_decisions",
        "silver/evaluations",
    }
    assert observed["bronze/agent_events"]["rows"].value == 800
    silver = spark.read.format("delta").load(settings.lake_path("silver", "outcomes"))
    assert observed["silver/outcomes"]["rows"].value == silver.count()
    path = settings.lake_path("silver", "outcomes")
    version = DeltaTable.forPath(spark, path).history(1).first()["version"]
    assert observed["silver/outcomes"]["delta_version"].value == version
    assert 0 <= observed["silver/outcomes"]["lag_minutes"].value < 10

    job = defs.resolve_job_def("stream_freshness_job")
    fresh = job.execute_in_process(resources={"lakehouse": lakehouse})
    assert fresh.success
    checks = fresh.get_asset_check_evaluations()
    assert len(checks) == 6 and all(c.passed for c in checks)
    assert checks[0].metadata["bound_minutes"].value == 120

    strict = LakehouseResource(lake_root=settings.lake_root, freshness_max_minutes=-1)
    stale = job.execute_in_process(resources={"lakehouse": strict}, raise_on_error=False)
    assert [c.passed for c in stale.get_asset_check_evaluations()] == [False] * 6
