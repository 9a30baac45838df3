"""Gold aggregates against numbers computed by hand on a tiny fixture."""

from datetime import date, datetime

import pytest

from pipelines.transforms.gold import agent_scorecard_daily, feedback_daily, tool_reliability_daily

D = date(2026, 11, 20)
FEEDBACK = (
    "event_date date, tenant_id string, agent_name string, agent_version string, "
    "prompt_version string, source string, feedback_kind string, rating bigint, thumbs string, "
    "legacy_feedback_id string, legacy_row_version bigint, deleted boolean, kafka_offset bigint"
)


@pytest.fixture
def feedback(spark):
    rows = [
        # stream events for bot 1.0 / p1
        (D, "acme", "bot", "1.0", "p1", "stream", "rating", 5, None, None, None, None, 1),
        (D, "acme", "bot", "1.0", "p1", "stream", "rating", 2, None, None, None, None, 2),
        (D, "acme", "bot", "1.0", "p1", "stream", "thumbs", None, "down", None, None, None, 3),
        (D, "acme", "bot", "1.0", "p1", "stream", "thumbs", None, "up", None, None, None, 4),
        (D, "acme", "bot", "1.0", "p1", "stream", "correction", None, "down", None, None, None, 5),
        (D, "acme", "bot", "1.0", "p1", "stream", "escalation", None, None, None, None, None, 6),
        # mirrored app rows: row 7 edited 3 -> 4 (only v2 counts), row 8 deleted (not counted)
        (
            D,
            "acme",
            "bot",
            "legacy-app",
            None,
            "legacy_mirror",
            "rating",
            3,
            None,
            "7",
            1,
            False,
            7,
        ),
        (
            D,
            "acme",
            "bot",
            "legacy-app",
            None,
            "legacy_mirror",
            "rating",
            4,
            None,
            "7",
            2,
            False,
            8,
        ),
        (
            D,
            "acme",
            "bot",
            "legacy-app",
            None,
            "legacy_mirror",
            "thumbs",
            None,
            "down",
            "8",
            1,
            False,
            9,
        ),
        (
            D,
            "acme",
            "bot",
            "legacy-app",
            None,
            "legacy_mirror",
            "thumbs",
            None,
            "down",
            "8",
            2,
            True,
            10,
        ),
    ]
    return spark.createDataFrame(rows, FEEDBACK)


def test_feedback_daily(spark, feedback):
    rows = {r["source"]: r for r in feedback_daily(feedback).collect()}
    stream = rows["stream"]
    assert (stream["feedback_events"], stream["ratings"], stream["avg_rating"]) == (6, 2, 3.5)
    assert [stream[f"rating_{i}"] for i in range(1, 6)] == [0, 1, 0, 0, 1]
    assert (stream["thumbs_up"], stream["thumbs_down"]) == (1, 2)
    assert stream["thumbs_down_rate"] == pytest.approx(2 / 3)
    assert (stream["corrections"], stream["escalations"]) == (1, 1)
    mirrored = rows["legacy_mirror"]
    assert (mirrored["feedback_events"], mirrored["ratings"], mirrored["avg_rating"]) == (1, 1, 4.0)
    assert (mirrored["thumbs_down"], mirrored["thumbs_down_rate"]) == (0, None)
    assert (stream["data_classification"], stream["contains_pii"]) == ("internal", False)
    assert stream["retention_until"] == datetime(2028, 11, 19)  # + 730 days


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
    out = {r["tool_name"]: r for r in tool_reliability_daily(frame).collect()}
    search = out["search"]
    assert (search["calls"], search["failures"], search["timeouts"]) == (4, 2, 1)
    assert search["failure_rate"] == 0.5
    assert search["p50_latency_ms"] == 250.0  # between 200 and 300
    assert search["p95_latency_ms"] == pytest.approx(385.0)  # 300 + 0.85 * 100
    assert (
        out["refund"]["calls"],
        out["refund"]["failure_rate"],
        out["refund"]["p95_latency_ms"],
    ) == (1, 0.0, 50.0)


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
    [card] = agent_scorecard_daily(outcomes, policy, feedback).collect()
    assert (
        card["outcomes"],
        card["success"],
        card["failure"],
        card["timeout"],
        card["pending"],
    ) == (4, 2, 1, 1, 0)
    assert card["success_rate"] == 0.5
    assert card["cost_usd"] == pytest.approx(0.10)
    assert card["total_tokens"] == 1000
    assert card["avg_duration_ms"] == 3750.0
    assert card["p95_duration_ms"] == pytest.approx(8100.0)  # 3000 + 0.85 * 6000
    assert (card["policy_blocks"], card["policy_flags"]) == (2, 1)
    assert card["avg_rating"] == 3.5  # the stream feedback for bot 1.0
    assert card["thumbs_down_rate"] == pytest.approx(2 / 3)
