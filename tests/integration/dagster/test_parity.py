"""Dagster materializes the nightly parity path for one partition, through its Python API."""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from dagster_project.definitions import defs
from dagster_project.resources import LakehouseResource
from tests.support.kafka import create_registry_topics
from tests.support.legacy import seeded_app_db

pytestmark = pytest.mark.integration


def test_the_nightly_job_materializes_a_partition_with_verdict_and_report(
    kafka_broker, settings, tmp_path
):
    create_registry_topics(settings)
    db_url = seeded_app_db(tmp_path)
    lakehouse = LakehouseResource.over(
        settings, legacy_db_url=db_url, reports_dir=str(tmp_path / "reports")
    )
    # the very job the nightly schedule launches, for one partition
    job = defs.resolve_job_def("nightly_parity_job")
    result = job.execute_in_process(partition_key="2026-11-20", resources={"lakehouse": lakehouse})
    assert result.success
    events = {
        e.asset_key.to_user_string(): e.materialization.metadata
        for e in result.get_asset_materialization_events()
    }
    meta = events["parity/feedback_parity"]
    assert meta["verdict"].value == "green"
    assert meta["missing_in_stream"].value == 0 and meta["value_mismatch"].value == 0
    assert meta["legacy_rows"].value == meta["stream_rows"].value > 50
    report = Path(meta["report"].value)
    assert report.name == "2026-11-20.html" and "GREEN" in report.read_text()
    assert meta["summary"].value.startswith("# Feedback parity — 2026-11-20: **GREEN**")
    assert events["legacy/feedback_export"]["rows"].value == meta["legacy_rows"].value
    [check] = result.get_asset_check_evaluations()
    assert check.asset_key.to_user_string() == "silver/feedback"
    assert check.check_name == "parity_with_legacy" and check.passed
    assert check.metadata["verdict"].value == "green"


def test_the_schedule_runs_yesterdays_nightly_path():
    schedule = defs.resolve_schedule_def("nightly_parity_job_schedule")
    assert schedule.cron_schedule == "0 2 * * *"
    job = defs.resolve_job_def(schedule.job_name)
    assert set(job.graph.node_names()) == {
        "legacy__feedback_export",
        "legacy__feedback_mirror",
        "bronze__agent_events",
        "parity__feedback_parity",
        "silver__feedback_parity_with_legacy",
    }
    assert (
        job.partitions_def.get_partition_keys(
            current_time=datetime(2026, 11, 21, 2, 0, tzinfo=UTC)
        )[-1]
        == "2026-11-20"
    )
