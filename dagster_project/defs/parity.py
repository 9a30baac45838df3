"""Daily parity between the legacy export and the stream, and its check on silver feedback."""

import json
from pathlib import Path

import dagster as dg
from pyspark.sql import functions as F

from dagster_project import constants
from dagster_project.defs.ingest import SILVER_ASSETS, agent_events
from dagster_project.defs.legacy import feedback_export
from dagster_project.resources import LakehouseResource
from pipelines.parity.run import run_parity
from pipelines.spark.tables import PARITY_RESULTS


@dg.asset(
    key=[constants.PARITY, "feedback_parity"],
    group_name=constants.PARITY,
    partitions_def=constants.DAILY,
    deps=[feedback_export, SILVER_ASSETS["feedback"], agent_events],
)
def feedback_parity(
    context: dg.AssetExecutionContext, lakehouse: LakehouseResource
) -> dg.MaterializeResult:
    """The day's parity verdict (green / yellow / red), its report, and the cutover state."""
    report = run_parity(
        lakehouse.spark(), lakehouse.settings(), constants.partition_day(context.partition_key)
    )
    now = report.cutover[-1] if report.cutover else None
    return dg.MaterializeResult(
        metadata={
            "verdict": dg.MetadataValue.text(report.verdict),
            "explanation": dg.MetadataValue.text(report.explanation),
            "report": dg.MetadataValue.path(report.report_html),
            "summary": dg.MetadataValue.md(Path(report.report_markdown).read_text()),
            "legacy_rows": dg.MetadataValue.int(report.legacy_rows),
            "stream_rows": dg.MetadataValue.int(report.stream_rows),
            **{status: dg.MetadataValue.int(n) for status, n in report.counts.items()},
            "cutover_state": dg.MetadataValue.text(now.state if now else "shadow"),
            "cutover_recommendation": dg.MetadataValue.text(
                (now.recommendation or "none") if now else "none"
            ),
        }
    )


@dg.asset_check(
    asset=SILVER_ASSETS["feedback"].key,
    name="parity_with_legacy",
    partitions_def=constants.DAILY,
    additional_deps=[feedback_parity],
)
def parity_with_legacy(
    context: dg.AssetCheckExecutionContext, lakehouse: LakehouseResource
) -> dg.AssetCheckResult:
    """The day's silver feedback agrees with the legacy export (red fails, yellow warns)."""
    settings, spark = lakehouse.settings(), lakehouse.spark()
    day = constants.partition_day(context.partition_key)
    row = (
        spark.read.format("delta")
        .load(PARITY_RESULTS.path(settings))
        .where((F.col("parity_date") == day) & (F.col("check") == "verdict"))
        .first()
    )
    if row is None:
        return dg.AssetCheckResult(passed=False, metadata={"reason": f"no parity run for {day}"})
    details = json.loads(row["details"])
    return dg.AssetCheckResult(
        passed=row["verdict"] != "red",
        severity=dg.AssetCheckSeverity.WARN
        if row["verdict"] == "yellow"
        else dg.AssetCheckSeverity.ERROR,
        metadata={"verdict": row["verdict"], "explanation": details["explanation"]},
    )


nightly_parity_job = dg.define_asset_job(
    "nightly_parity_job",
    selection=dg.AssetSelection.assets(feedback_export, feedback_parity, agent_events)
    | dg.AssetSelection.assets(dg.AssetKey([constants.LEGACY, "feedback_mirror"]))
    | dg.AssetSelection.checks(parity_with_legacy),
    description="Every night, for yesterday: legacy ETL, mirror, stream catch-up, parity report.",
)

nightly_parity_schedule = dg.build_schedule_from_partitioned_job(
    nightly_parity_job, hour_of_day=2, minute_of_hour=0
)
