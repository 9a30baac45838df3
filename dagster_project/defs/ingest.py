"""Ingest assets: catch-up runs of the Kafka -> bronze -> silver stream."""

import dagster as dg

from dagster_project import constants
from dagster_project.resources import LakehouseResource
from pipelines.contracts.topics import topic_for_event_type
from pipelines.delta_log import table_freshness
from pipelines.ingest.status import latest_progress
from pipelines.ingest.stream import catch_up
from pipelines.settings import Settings
from pipelines.spark.tables import BRONZE_AGENT_EVENTS, SILVER_TABLE_FOR, silver_spec

DAGSTER_OWNER = "dagster bronze/agent_events"
CATCH_UP_WAIT_S = 1800.0  # for another catch-up, or the continuous stream to reach now


@dg.asset(
    key=constants.table_key(BRONZE_AGENT_EVENTS),
    group_name=constants.INGEST,
    deps=[dg.AssetKey([constants.LEGACY, "feedback_mirror"])],
)
def agent_events(
    context: dg.AssetExecutionContext, lakehouse: LakehouseResource
) -> dg.MaterializeResult:
    """Every Kafka record once in bronze, and silver/quarantine caught up.

    A catch-up run, unless a continuous `afl stream` holds the checkpoint: then that stream
    is what keeps bronze current, and this reports its progress instead of racing it.
    Another catch-up holding it (a second run) is waited for, then this one catches up.
    """
    settings = lakehouse.settings()
    done = catch_up(settings, lakehouse.spark, owner=DAGSTER_OWNER, wait_s=CATCH_UP_WAIT_S)
    metadata: dict[str, dg.MetadataValue] = {"ran": dg.MetadataValue.text(done.ran)}
    if done.held_by is not None:
        context.log.info(f"not catching up: {done.held_by} keeps bronze current")
        metadata |= {
            "held_by": dg.MetadataValue.text(done.held_by),
            "records_behind_at_start": dg.MetadataValue.int(done.records_behind_at_start),
            **_progress_metadata(latest_progress(settings)),
        }
    return dg.MaterializeResult(metadata=metadata | _bronze_metadata(settings))


def _bronze_metadata(settings: Settings) -> dict[str, dg.MetadataValue]:
    bronze = table_freshness(settings, BRONZE_AGENT_EVENTS)
    return {
        "rows": dg.MetadataValue.int(bronze.rows or 0),
        "delta_version": dg.MetadataValue.int(bronze.delta_version or 0),
        "path": dg.MetadataValue.path(BRONZE_AGENT_EVENTS.path(settings)),
    }


def _progress_metadata(last: dict | None) -> dict[str, dg.MetadataValue]:
    if last is None:
        return {}
    return {
        "last_batch_id": dg.MetadataValue.int(last["batch_id"]),
        "last_batch_finished_at": dg.MetadataValue.text(str(last["finished_at"])),
        "last_batch_input_rows": dg.MetadataValue.int(last["input_rows"] or 0),
        "last_batch_e2e_latency_ms": dg.MetadataValue.int(last["e2e_latency_ms"] or 0),
    }


def _silver(event_type: str) -> dg.AssetSpec:
    """A silver table the stream writes (not Dagster): one partition per event date."""
    carries = topic_for_event_type(event_type).carries
    return dg.AssetSpec(
        key=constants.table_key(silver_spec(event_type)),
        group_name=constants.INGEST,
        partitions_def=constants.DAILY,
        deps=[agent_events],
        description=f"{carries[0].upper()}{carries[1:]}: typed and deduplicated by the stream "
        "(one partition per day).",
    )


# One per event type of the library's table catalog, keyed by event type.
SILVER_ASSETS = {event_type: _silver(event_type) for event_type in SILVER_TABLE_FOR}
SILVER_SPECS = tuple(SILVER_ASSETS.values())
