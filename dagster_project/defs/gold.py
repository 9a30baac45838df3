"""Gold: daily aggregates built from silver, one partition per day."""

from datetime import date

import dagster as dg

from dagster_project import constants
from dagster_project.defs.ingest import (
    silver_feedback,
    silver_outcomes,
    silver_policy_decisions,
    silver_tool_calls,
)
from dagster_project.resources import LakehouseResource
from pipelines.gold.build import build_gold_day


def _build(context: dg.AssetExecutionContext, lakehouse: LakehouseResource, name: str):
    result = build_gold_day(
        lakehouse.spark(), lakehouse.settings(), name, date.fromisoformat(context.partition_key)
    )
    return dg.MaterializeResult(
        metadata={
            "rows": dg.MetadataValue.int(result.rows),
            "delta_version": dg.MetadataValue.int(result.delta_version),
            "table": dg.MetadataValue.text(result.table),
        }
    )


@dg.asset(
    key=["gold", "feedback_daily"],
    group_name=constants.GOLD,
    partitions_def=constants.DAILY,
    deps=[silver_feedback],
)
def feedback_daily(context: dg.AssetExecutionContext, lakehouse: LakehouseResource):
    """Daily feedback per tenant, agent, agent and prompt version, and source."""
    return _build(context, lakehouse, "feedback_daily")


@dg.asset(
    key=["gold", "tool_reliability_daily"],
    group_name=constants.GOLD,
    partitions_def=constants.DAILY,
    deps=[silver_tool_calls],
)
def tool_reliability_daily(context: dg.AssetExecutionContext, lakehouse: LakehouseResource):
    """Daily tool calls, failure rate, p50/p95 latency and timeouts per tenant and tool."""
    return _build(context, lakehouse, "tool_reliability_daily")


@dg.asset(
    key=["gold", "agent_scorecard_daily"],
    group_name=constants.GOLD,
    partitions_def=constants.DAILY,
    deps=[silver_outcomes, silver_policy_decisions, silver_feedback],
)
def agent_scorecard_daily(context: dg.AssetExecutionContext, lakehouse: LakehouseResource):
    """Daily outcome mix, cost, tokens, policy blocks and feedback per agent version."""
    return _build(context, lakehouse, "agent_scorecard_daily")


GOLD_ASSETS = (feedback_daily, tool_reliability_daily, agent_scorecard_daily)
