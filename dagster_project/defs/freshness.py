"""The streaming tables as Dagster sees them: observed freshness and version, checked.

Read from the Delta logs with delta-rs (pipelines/delta_log.py): the sensor starts no JVM
and costs milliseconds whatever the tables' size.
"""

import dagster as dg

from dagster_project.defs.ingest import SILVER_ASSETS, agent_events
from dagster_project.resources import LakehouseResource
from pipelines.contracts.topics import topic_for_event_type
from pipelines.delta_log import Freshness, table_freshness
from pipelines.spark.tables import BRONZE_AGENT_EVENTS, TableSpec, silver_spec

# Every table the stream writes, from the same catalog the stream writes them by.
OBSERVED: dict[dg.AssetKey, TableSpec] = {agent_events.key: BRONZE_AGENT_EVENTS} | {
    spec.key: silver_spec(event_type) for event_type, spec in SILVER_ASSETS.items()
}


def _metadata(freshness: Freshness) -> dict[str, dg.MetadataValue]:
    lag = freshness.lag_minutes()
    return {
        "latest_ingested_at": dg.MetadataValue.text(str(freshness.latest_ingested_at)),
        "lag_minutes": dg.MetadataValue.float(round(lag, 2) if lag is not None else -1.0),
        "delta_version": dg.MetadataValue.int(freshness.delta_version or 0),
        "rows": dg.MetadataValue.int(freshness.rows or 0),
    }


@dg.sensor(minimum_interval_seconds=300, default_status=dg.DefaultSensorStatus.RUNNING)
def streaming_tables_observer(context: dg.SensorEvaluationContext, lakehouse: LakehouseResource):
    """Record each streaming table's newest ingested_at, Delta version and size."""
    settings = lakehouse.settings()
    events = []
    for key, spec in OBSERVED.items():
        freshness = table_freshness(settings, spec)
        if freshness.exists:
            events.append(dg.AssetObservation(asset_key=key, metadata=_metadata(freshness)))
    return dg.SensorResult(asset_events=events)


def freshness_check(key: dg.AssetKey) -> dg.AssetChecksDefinition:
    spec = OBSERVED[key]

    @dg.asset_check(
        asset=key, name="fresh", description=f"{spec.qualified_name} received data recently."
    )
    def _check(lakehouse: LakehouseResource):
        settings = lakehouse.settings()
        freshness = table_freshness(settings, spec)
        lag = freshness.lag_minutes()
        bound = settings.freshness_max_minutes
        return dg.AssetCheckResult(
            passed=lag is not None and lag <= bound,
            metadata={**_metadata(freshness), "bound_minutes": dg.MetadataValue.int(bound)},
        )

    return _check


# Tables whose traffic is steady: silence there is a broken path (commands and approvals
# come when someone acts: no bound on them).
FRESHNESS_CHECKS = tuple(
    freshness_check(spec.key)
    for event_type, spec in SILVER_ASSETS.items()
    if topic_for_event_type(event_type).steady
)

freshness_job = dg.define_asset_job(
    "stream_freshness_job",
    selection=dg.AssetSelection.checks(*FRESHNESS_CHECKS),
    description="Is silver still receiving data? Fails when a table is older than the bound.",
)
freshness_schedule = dg.ScheduleDefinition(job=freshness_job, cron_schedule="*/15 * * * *")
