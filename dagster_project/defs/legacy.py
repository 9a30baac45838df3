"""The legacy batch path and the mirror that brings its facts into the stream."""

import dagster as dg

from dagster_project import constants
from dagster_project.resources import LakehouseResource
from pipelines.legacy.etl import run_nightly_etl
from pipelines.legacy.mirror import run_mirror
from pipelines.spark.tables import LEGACY_FEEDBACK_EXPORT


@dg.asset(
    key=constants.table_key(LEGACY_FEEDBACK_EXPORT),
    group_name=constants.LEGACY,
    partitions_def=constants.DAILY,
)
def feedback_export(
    context: dg.AssetExecutionContext, lakehouse: LakehouseResource
) -> dg.MaterializeResult:
    """One day of app feedback exported by the nightly batch ETL, as the warehouse gets it."""
    result = run_nightly_etl(
        lakehouse.spark(), lakehouse.settings(), constants.partition_day(context.partition_key)
    )
    return dg.MaterializeResult(
        metadata={
            "rows": dg.MetadataValue.int(result.rows),
            "path": dg.MetadataValue.path(result.path),
        }
    )


@dg.asset(key=[constants.LEGACY, "feedback_mirror"], group_name=constants.LEGACY)
def feedback_mirror(lakehouse: LakehouseResource) -> dg.MaterializeResult:
    """App feedback rows changed since the watermark, published to the feedback topic."""
    result = run_mirror(lakehouse.spark(), lakehouse.settings())
    return dg.MaterializeResult(
        metadata={
            "row_versions_published": dg.MetadataValue.int(result.published),
            "tombstones": dg.MetadataValue.int(result.tombstones),
            "watermark_from": dg.MetadataValue.text(str(result.watermark_from)),
            "watermark_to": dg.MetadataValue.text(str(result.watermark_to)),
        }
    )
