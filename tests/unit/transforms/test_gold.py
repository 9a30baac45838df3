"""Gold aggregates against numbers computed by hand on a tiny fixture."""

from datetime import date, datetime

import pytest
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from pipelines.transforms.gold import agent_scorecard_daily, feedback_daily, tool_reliability_daily
from pipelines.transforms.silver import PIPELINE_VERSION

D = date(2026, 11, 20)
FEEDBACK = (
    "event_date date, tenant_id string, agent_name string, agent_version string, "
    "prompt_version string, source string, feedback_kind string, rating bigint, thumbs string, "
    "legacy_feedback_id string, legacy_row_version bigint, deleted boolean, kafka_offset bigint"
)


@pytest.fixture
def feedback(spark):
    # fmt: off
    rows = [
        # stream events for bot 1.0 / p1
        (D, "acme", "bot", "1.0", "p1", "stream", "rating", 5, None, None, None, None, 1),
        (D, "acme", "bot", "1.0", "p1", "stream", "rating", 2, None, None, None, None, 2),
        (D, "acme", "bot", "1.0", "p1", "stream", "thumbs", None, "down", None, None, None, 3),
        (D, "acme", "bot", "1.0", "p1", "stream", "thumbs", None, "up", None, None, None, 4),
        (D, "acme", "bot", "1.0", "p1", "stream", "correction", None, "down", None, None, None, 5),
        (D, "acme", "bot", "1.0", "p1", "stream", "escalation", None, None, None, None, None, 6),
        # mirrored app rows: row 7 edited 3 -> 4 (only v2 counts), row 8 deleted (not counted)
        *[
            (D, "acme", "bot", "legacy-app", None, "legacy_mirror", kind, rating, thumbs, row_id,
             version, deleted, offset)
            for kind, rating, thumbs, row_id, version, deleted, offset in (
                ("rating", 3, None, "7", 1, False, 7),
                ("rating", 4, None, "7", 2, False, 8),
                ("thumbs", None, "down", "8", 1, False, 9),
                ("thumbs", None, "down", "8", 2, True, 10),
            )
        ],
    ]
    # fmt: on
    return spark.createDataFrame(rows, FEEDBACK)


def built(frame: DataFrame) -> DataFrame:
    """A gold frame without its build time (now), after checking every row has one."""
    assert frame.where(F.col("built_at").isNull()).count() == 0
    return frame.drop("built_at")


def with_governance(expected: DataFrame) -> DataFrame:
    """Day D first; last, the governance columns gold adds: internal, no PII, kept 730 days
    from D, the stream as source unless the frame has its own, the pipeline's version."""
    source = [] if "source" in expected.columns else [F.lit("stream").alias("source")]
    return expected.select(
        F.lit(D).alias("event_date"),
        *expected.columns,
        F.lit("internal").alias("data_classification"),
        F.lit(False).alias("contains_pii"),
        F.lit(datetime(2028, 11, 19)).alias("retention_until"),
        *source,
        F.lit(PIPELINE_VERSION).alias("pipeline_version"),
    )


def test_feedback_daily(spark, feedback):
    # fmt: off
    expected = spark.createDataFrame(
        [
            # stream: 6 events, ratings 5 and 2, thumbs up 1 and down 2 (a thumbs and a
            # correction), 1 correction, 1 escalation
            ("acme", "bot", "1.0", "p1", "stream", 6, 2, 0, 1, 0, 0, 1, 3.5, 1, 2, 1, 1, 2 / 3),
            # mirrored: row 7's second version (rating 4) only; row 8 deleted, not counted
            ("acme", "bot", "legacy-app", None, "legacy_mirror",
             1, 1, 0, 0, 0, 1, 0, 4.0, 0, 0, 0, 0, None),
        ],
        "tenant_id string, agent_name string, agent_version string, prompt_version string, "
        "source string, feedback_events bigint, ratings bigint, rating_1 bigint, "
        "rating_2 bigint, rating_3 bigint, rating_4 bigint, rating_5 bigint, "
        "avg_rating double, thumbs_up bigint, thumbs_down bigint, corrections bigint, "
        "escalations bigint, thumbs_down_rate double",
    )
    # fmt: on
    assertDataFrameEqual(built(feedback_daily(feedback)), with_governance(expected))


def test_tool_reliability_daily(spark):
    rows = [
        (D, "acme", "search", "started", None, None),
        (D, "acme", "search", "completed", None, 100.0),
        (D, "acme", "search", "completed", None, 200.0),
        (D, "acme", "search", "failed", "TimeoutError", 300.0),
        (D, "acme", "search", "failed", "HTTPError", 400.0),
        (D, "acme", "refund", "completed", None, 50.0),
    ]
    frame = spark.createDataFrame(
        rows,
        "event_date date, tenant_id string, tool_name string, phase string, "
        "error_type string, latency_ms double",
    )
    expected = spark.createDataFrame(
        [
            # 4 finished calls (the started one is not a call), 2 failed, 1 timeout; p50
            # between 200 and 300, p95 = 300 + 0.85 * 100
            ("acme", "search", 4, 2, 1, 250.0, 385.0, 0.5),
            ("acme", "refund", 1, 0, 0, 50.0, 50.0, 0.0),
        ],
        "tenant_id string, tool_name string, calls bigint, failures bigint, timeouts bigint, "
        "p50_latency_ms double, p95_latency_ms double, failure_rate double",
    )
    assertDataFrameEqual(built(tool_reliability_daily(frame)), with_governance(expected), atol=1e-9)


def test_agent_scorecard_daily(spark, feedback):
    keys = "event_date date, tenant_id string, agent_name string, agent_version string"
    outcomes = spark.createDataFrame(
        [
            (D, "acme", "bot", "1.0", "SUCCESS", 0.01, 100, 1000.0),
            (D, "acme", "bot", "1.0", "SUCCESS", 0.02, 200, 2000.0),
            (D, "acme", "bot", "1.0", "FAILURE", 0.03, 300, 3000.0),
            (D, "acme", "bot", "1.0", "TIMEOUT", 0.04, 400, 9000.0),
        ],
        f"{keys}, status string, cost_usd double, total_tokens bigint, duration_ms double",
    )
    policy = spark.createDataFrame(
        [(D, "acme", "bot", "1.0", d) for d in ("allow", "allow", "flag", "block", "block")],
        f"{keys}, decision string",
    )
    # fmt: off
    expected = spark.createDataFrame(
        [
            # 4 outcomes: 2 success, 1 failure, 1 timeout; cost 0.10, 1000 tokens, mean
            # duration 3750, p95 = 3000 + 0.85 * 6000; 2 blocks, 1 flag; the stream feedback
            # of bot 1.0: ratings 5 and 2, 2 of 3 thumbs down
            ("acme", "bot", "1.0", 4, 2, 1, 0, 1, 0, 0,
             0.10, 1000, 3750.0, 8100.0, 2, 1, 3.5, 0.5, 2 / 3),
        ],
        "tenant_id string, agent_name string, agent_version string, outcomes bigint, "
        "success bigint, failure bigint, partial bigint, timeout bigint, cancelled bigint, "
        "pending bigint, cost_usd double, total_tokens bigint, avg_duration_ms double, "
        "p95_duration_ms double, policy_blocks bigint, policy_flags bigint, "
        "avg_rating double, success_rate double, thumbs_down_rate double",
    )
    # fmt: on
    assertDataFrameEqual(
        built(agent_scorecard_daily(outcomes, policy, feedback)),
        with_governance(expected),
        atol=1e-9,
    )
