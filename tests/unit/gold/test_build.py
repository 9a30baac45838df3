"""Building a day of gold from small silver tables in the test's own lake: the result, the
table made from the registry's spec, a rebuild replacing its day only; and the errors that
name an unknown gold table or a silver table not there yet."""

from datetime import date, datetime, timedelta

import pytest
from delta.tables import DeltaTable
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from pipelines.errors import AflError
from pipelines.gold.build import GoldResult, build_gold_day
from pipelines.spark.io import delta_append
from pipelines.spark.tables import GOLD_TOOL_RELIABILITY_DAILY, silver_spec
from pipelines.transforms.silver import PIPELINE_VERSION

D = date(2026, 11, 20)
D2 = D + timedelta(days=1)
TOOL_CALLS = (
    "event_date date, tenant_id string, tool_name string, phase string, error_type string, "
    "latency_ms double"
)
GOLD = (
    "event_date date, tenant_id string, tool_name string, calls bigint, failures bigint, "
    "timeouts bigint, p50_latency_ms double, p95_latency_ms double, failure_rate double, "
    "data_classification string, contains_pii boolean, retention_until timestamp, "
    "source string, pipeline_version string"
)


def gold_row(day, tool, calls, failures, timeouts, p50, p95, rate):
    """A tool_reliability_daily row of tenant acme with gold's governance: kept 730 days."""
    kept = datetime(day.year, day.month, day.day) + timedelta(days=730)
    return (day, "acme", tool, calls, failures, timeouts, p50, p95, rate,
            "internal", False, kept, "stream", PIPELINE_VERSION)  # fmt: skip


def test_an_unknown_gold_table_is_refused_with_the_known_names(spark, settings):
    message = (
        "^unknown gold table 'scorecard'; "
        "known: feedback_daily, tool_reliability_daily, agent_scorecard_daily$"
    )
    with pytest.raises(AflError, match=message):
        build_gold_day(spark, settings, "scorecard", D)


def test_each_missing_silver_input_is_named_and_no_gold_is_written(spark, settings):
    with pytest.raises(AflError, match=r"^silver\.outcomes does not exist yet$"):
        build_gold_day(spark, settings, "agent_scorecard_daily", D)
    outcomes = spark.createDataFrame(
        [(D, "acme", "bot", "1.0", "SUCCESS", 0.01, 100, 1000.0)],
        "event_date date, tenant_id string, agent_name string, agent_version string, "
        "status string, cost_usd double, total_tokens bigint, duration_ms double",
    )
    delta_append(outcomes, silver_spec("outcome").path(settings))
    with pytest.raises(AflError, match=r"^silver\.policy_decisions does not exist yet$"):
        build_gold_day(spark, settings, "agent_scorecard_daily", D)
    assert not DeltaTable.isDeltaTable(spark, settings.lake_path("gold", "agent_scorecard_daily"))


def test_a_day_is_built_from_its_silver_rows_and_a_rebuild_replaces_that_day_only(spark, settings):
    silver = silver_spec("tool_call").path(settings)
    delta_append(
        spark.createDataFrame(
            [
                (D, "acme", "search", "started", None, None),  # not a finished call
                (D, "acme", "search", "completed", None, 100.0),
                (D, "acme", "search", "failed", "TimeoutError", 300.0),
                (D, "acme", "refund", "completed", None, 50.0),
                (D2, "acme", "search", "completed", None, 200.0),
            ],
            TOOL_CALLS,
        ),
        silver,
    )
    gold = GOLD_TOOL_RELIABILITY_DAILY.path(settings)

    def table():
        return spark.read.format("delta").load(gold)

    # two calls of search: p50 halfway from 100 to 300, p95 = 100 + 0.95 * 200
    day_one = [
        gold_row(D, "search", 2, 1, 1, 200.0, 290.0, 0.5),
        gold_row(D, "refund", 1, 0, 0, 50.0, 50.0, 0.0),
    ]
    assert build_gold_day(spark, settings, "tool_reliability_daily", D) == GoldResult(
        "gold.tool_reliability_daily",
        D,
        2,
        1,  # version 0 made the table, 1 wrote the day
    )
    assertDataFrameEqual(table().drop("built_at"), spark.createDataFrame(day_one, GOLD))
    detail = DeltaTable.forPath(spark, gold).detail().first()
    assert detail is not None
    assert detail["partitionColumns"] == ["event_date"]
    assert dict(detail["properties"]) == dict(GOLD_TOOL_RELIABILITY_DAILY.properties)
    built_at = table().where(F.col("event_date") == D).select("tool_name", "built_at").collect()
    assert all(row["built_at"] is not None for row in built_at)

    assert build_gold_day(spark, settings, "tool_reliability_daily", D2) == GoldResult(
        "gold.tool_reliability_daily", D2, 1, 2
    )
    day_two = [gold_row(D2, "search", 1, 0, 0, 200.0, 200.0, 0.0)]
    assertDataFrameEqual(table().drop("built_at"), spark.createDataFrame(day_one + day_two, GOLD))
    assert table().where(F.col("event_date") == D).select("tool_name", "built_at").collect() == (
        built_at  # day one's rows were not rewritten
    )

    # a late failure of search on day one: its rebuild replaces day one, day two stays
    delta_append(
        spark.createDataFrame([(D, "acme", "search", "failed", "HTTPError", 500.0)], TOOL_CALLS),
        silver,
    )
    assert build_gold_day(spark, settings, "tool_reliability_daily", D) == GoldResult(
        "gold.tool_reliability_daily", D, 2, 3
    )
    # three calls: p50 is the middle one (300), p95 = 300 + 0.9 * (500 - 300)
    rebuilt = [
        gold_row(D, "search", 3, 2, 1, 300.0, 480.0, 2 / 3),
        gold_row(D, "refund", 1, 0, 0, 50.0, 50.0, 0.0),
    ]
    assertDataFrameEqual(
        table().drop("built_at"), spark.createDataFrame(rebuilt + day_two, GOLD), atol=1e-9
    )
