"""Great Expectations suites as partitioned asset checks. Silver checks block gold."""

import dagster as dg

from dagster_project import constants
from dagster_project.defs.gold import GOLD_ASSETS
from dagster_project.defs.ingest import SILVER_ASSETS
from dagster_project.resources import LakehouseResource
from pipelines.gold.build import GOLD_BUILDS
from pipelines.quality.runner import validate_table_day
from pipelines.spark.tables import read_table, spec_for

# The event types gold reads: a failing day of any of them must not produce gold that day.
BLOCKING = frozenset(t for build in GOLD_BUILDS.values() for t in build.inputs)


def expectations_check(asset_key: dg.AssetKey, blocking: bool) -> dg.AssetChecksDefinition:
    table = ".".join(asset_key.path)

    @dg.asset_check(
        asset=asset_key,
        name="expectations",
        partitions_def=constants.DAILY,
        blocking=blocking,
        description=f"The {table} suite in expectations/ on the day's partition.",
    )
    def _check(context: dg.AssetCheckExecutionContext, lakehouse: LakehouseResource):
        spec = spec_for(table)
        if read_table(lakehouse.spark(), lakehouse.settings(), spec) is None:
            # no record of its type yet (approvals on a quiet day): gold reading it is blocked,
            # any other table passes and says so
            return dg.AssetCheckResult(
                passed=not blocking,
                severity=dg.AssetCheckSeverity.ERROR,
                metadata={
                    "rows": dg.MetadataValue.int(0),
                    "absent": spec.path(lakehouse.settings()),
                },
            )
        report = validate_table_day(
            lakehouse.spark(),
            lakehouse.settings(),
            table,
            constants.partition_day(context.partition_key),
        )
        return dg.AssetCheckResult(
            passed=report.passed,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={
                "rows": dg.MetadataValue.int(report.rows),
                "expectations": dg.MetadataValue.int(len(report.outcomes)),
                "failed": dg.MetadataValue.md(
                    "\n".join(f"- {o.describe()}" for o in report.failures) or "none"
                ),
                "warnings": dg.MetadataValue.md(
                    "\n".join(f"- {o.describe()}" for o in report.warnings) or "none"
                ),
                "data_docs": dg.MetadataValue.path(report.docs_index),
            },
        )

    return _check


SILVER_CHECKS = tuple(
    expectations_check(spec.key, blocking=event_type in BLOCKING)
    for event_type, spec in SILVER_ASSETS.items()
)
GOLD_CHECKS = tuple(expectations_check(asset.key, blocking=False) for asset in GOLD_ASSETS)

gold_daily_job = dg.define_asset_job(
    "gold_daily_job",
    selection=dg.AssetSelection.assets(*GOLD_ASSETS)
    | dg.AssetSelection.checks(*SILVER_CHECKS, *GOLD_CHECKS),
    partitions_def=constants.DAILY,
    description="Every day, for yesterday: silver quality gates, then gold and its checks.",
)

gold_daily_schedule = dg.build_schedule_from_partitioned_job(
    gold_daily_job, hour_of_day=3, minute_of_hour=0
)
