"""Gold: daily aggregates built from silver, one partition per day.

One asset per entry of the library's ``GOLD_BUILDS``: its key, description and the silver
tables it depends on come from there, so a new gold table is a library change only.
"""

import dagster as dg

from dagster_project import constants
from dagster_project.defs.ingest import SILVER_ASSETS
from dagster_project.resources import LakehouseResource
from pipelines.gold.build import GOLD_BUILDS, GoldBuild, build_gold_day


def gold_asset(name: str, build: GoldBuild) -> dg.AssetsDefinition:
    """The Dagster asset of one gold table: a partition is one day, rebuilt whole."""

    @dg.asset(
        key=constants.table_key(build.spec),
        group_name=constants.GOLD,
        partitions_def=constants.DAILY,
        deps=[SILVER_ASSETS[event_type] for event_type in build.inputs],
        description=build.spec.comment,
    )
    def _gold(
        context: dg.AssetExecutionContext, lakehouse: LakehouseResource
    ) -> dg.MaterializeResult:
        day = constants.partition_day(context.partition_key)
        result = build_gold_day(lakehouse.spark(), lakehouse.settings(), name, day)
        return dg.MaterializeResult(
            metadata={
                "rows": dg.MetadataValue.int(result.rows),
                "delta_version": dg.MetadataValue.int(result.delta_version),
                "table": dg.MetadataValue.text(result.table),
            }
        )

    return _gold


GOLD_ASSETS = tuple(gold_asset(name, build) for name, build in GOLD_BUILDS.items())
