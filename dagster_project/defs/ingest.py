"""Ingest assets: catch-up runs of the Kafka -> Delta stream."""

from __future__ import annotations

import dagster as dg
from delta.tables import DeltaTable

from dagster_project import constants
from dagster_project.resources import LakehouseResource
from pipelines.ingest.stream import run_ingest
from pipelines.spark.tables import BRONZE_AGENT_EVENTS


@dg.asset(key_prefix=[constants.BRONZE], group_name=constants.INGEST)
def agent_events(lakehouse: LakehouseResource) -> dg.MaterializeResult:
    """Every Kafka record from the agent topics, once (catch-up run of the stream)."""
    settings, spark = lakehouse.settings(), lakehouse.spark()
    run_ingest(spark, settings, available_now=True)
    path = BRONZE_AGENT_EVENTS.path(settings)
    table = DeltaTable.forPath(spark, path)
    return dg.MaterializeResult(
        metadata={
            "rows": dg.MetadataValue.int(table.toDF().count()),
            "delta_version": dg.MetadataValue.int(table.history(1).first()["version"]),
            "path": dg.MetadataValue.path(path),
        }
    )
