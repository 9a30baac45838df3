"""Build one day of a gold table from silver; a rebuild replaces that day only."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from delta.tables import DeltaTable
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from pipelines.errors import AflError
from pipelines.settings import Settings
from pipelines.spark.io import delta_replace, delta_version
from pipelines.spark.tables import (
    GOLD_AGENT_SCORECARD_DAILY,
    GOLD_FEEDBACK_DAILY,
    GOLD_TOOL_RELIABILITY_DAILY,
    TableSpec,
    ensure_table,
    silver_spec,
)
from pipelines.transforms.gold import agent_scorecard_daily, feedback_daily, tool_reliability_daily


@dataclass(frozen=True)
class GoldBuild:
    """Which silver tables a gold table reads, and the transform."""

    spec: TableSpec
    inputs: tuple[str, ...]  # event types whose silver tables are read
    transform: Callable[..., DataFrame]


GOLD_BUILDS = {
    "feedback_daily": GoldBuild(GOLD_FEEDBACK_DAILY, ("feedback",), feedback_daily),
    "tool_reliability_daily": GoldBuild(
        GOLD_TOOL_RELIABILITY_DAILY, ("tool_call",), tool_reliability_daily
    ),
    "agent_scorecard_daily": GoldBuild(
        GOLD_AGENT_SCORECARD_DAILY,
        ("outcome", "policy_decision", "feedback"),
        agent_scorecard_daily,
    ),
}


@dataclass(frozen=True)
class GoldResult:
    table: str
    day: date
    rows: int
    delta_version: int


def build_gold_day(spark: SparkSession, settings: Settings, name: str, day: date) -> GoldResult:
    build = GOLD_BUILDS.get(name)
    if build is None:
        raise AflError(f"unknown gold table {name!r}; known: {', '.join(GOLD_BUILDS)}")
    frames = []
    for event_type in build.inputs:
        path = silver_spec(event_type).path(settings)
        if not DeltaTable.isDeltaTable(spark, path):
            raise AflError(f"{silver_spec(event_type).qualified_name} does not exist yet")
        frames.append(spark.read.format("delta").load(path).where(F.col("event_date") == day))
    rows = build.transform(*frames).persist()
    try:
        count = rows.count()
        path = build.spec.path(settings)
        if not DeltaTable.isDeltaTable(spark, path):
            ensure_table(spark, settings, build.spec, schema=rows.schema)
        delta_replace(rows, path, f"event_date = '{day.isoformat()}'")
    finally:
        rows.unpersist()
    return GoldResult(build.spec.qualified_name, day, count, delta_version(spark, path))
