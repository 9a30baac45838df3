"""Ingest assets: catch-up runs of the Kafka -> bronze -> silver stream."""

import dagster as dg

from dagster_project import constants
from dagster_project.resources import LakehouseResource
from pipelines.ingest.stream import CATCH_UP, run_ingest
from pipelines.spark.freshness import table_freshness
from pipelines.spark.tables import BRONZE_AGENT_EVENTS


@dg.asset(
    key=[constants.BRONZE, "agent_events"],
    group_name=constants.INGEST,
    deps=[dg.AssetKey([constants.LEGACY, "feedback_mirror"])],
)
def agent_events(lakehouse: LakehouseResource) -> dg.MaterializeResult:
    """Every Kafka record once in bronze, and silver/quarantine caught up (catch-up run)."""
    settings, spark = lakehouse.settings(), lakehouse.spark()
    run_ingest(spark, settings, CATCH_UP)
    bronze = table_freshness(spark, settings, BRONZE_AGENT_EVENTS)
    return dg.MaterializeResult(
        metadata={
            "rows": dg.MetadataValue.int(bronze.rows or 0),
            "delta_version": dg.MetadataValue.int(bronze.delta_version or 0),
            "path": dg.MetadataValue.path(BRONZE_AGENT_EVENTS.path(settings)),
        }
    )


def _silver(table: str, what: str) -> dg.AssetSpec:
    """A silver table the stream writes (not Dagster): one partition per event date."""
    return dg.AssetSpec(
        key=[constants.SILVER, table],
        group_name=constants.INGEST,
        partitions_def=constants.DAILY,
        deps=[agent_events],
        description=f"{what}, typed and deduplicated by the stream (one partition per day).",
    )


silver_feedback = _silver("feedback", "Ratings, thumbs, corrections and escalations")
silver_interactions = _silver("interactions", "User messages, retrievals and model responses")
silver_tool_calls = _silver("tool_calls", "Tool calls started, completed and failed")
silver_outcomes = _silver("outcomes", "One outcome per agent action")
silver_policy_decisions = _silver("policy_decisions", "Guardrail and policy decisions")
silver_evaluations = _silver("evaluations", "Evaluator labels and scores")
SILVER_SPECS = (
    silver_feedback,
    silver_interactions,
    silver_tool_calls,
    silver_outcomes,
    silver_policy_decisions,
    silver_evaluations,
)
