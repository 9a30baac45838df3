"""Retention in Dagster: one asset, its own job, scheduled nightly after parity."""

import dagster as dg

from dagster_project.definitions import defs


def test_retention_is_an_asset_with_a_nightly_job():
    job = defs.resolve_job_def("retention_job")
    assert [n.name for n in job.nodes] == ["ops__retention_runs"]
    schedule = defs.resolve_schedule_def("retention_job_schedule")
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("30 3 * * *", "UTC")
    assert defs.resolve_assets_def(dg.AssetKey(["ops", "retention_runs"])).group_names_by_key == {
        dg.AssetKey(["ops", "retention_runs"]): "governance"
    }
