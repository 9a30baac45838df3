"""Governance on a schedule: retention enforced every night."""

import dagster as dg

from dagster_project import constants
from dagster_project.resources import LakehouseResource
from pipelines.retention.run import run_retention
from pipelines.spark.tables import RETENTION_RUNS


@dg.asset(key=constants.table_key(RETENTION_RUNS), group_name=constants.GOVERNANCE)
def retention_runs(lakehouse: LakehouseResource) -> dg.MaterializeResult:
    """Rows past their class's retention deleted from every table, legal holds kept."""
    report = run_retention(lakehouse.spark(), lakehouse.settings())
    tables = [f"- `{t.table}`: {t.deleted:,} deleted, {t.held:,} held" for t in report.tables]
    return dg.MaterializeResult(
        metadata={
            "run_id": dg.MetadataValue.text(report.run_id),
            "cutoff": dg.MetadataValue.text(report.cutoff.isoformat()),
            "rows_deleted": dg.MetadataValue.int(report.deleted),
            "tables": dg.MetadataValue.md("\n".join(tables)),
        }
    )


retention_job = dg.define_asset_job("retention_job", selection=[retention_runs])
retention_schedule = dg.ScheduleDefinition(
    job=retention_job, cron_schedule="30 3 * * *", execution_timezone="UTC"
)
