"""The observability views over hand-made silver and gold tables: each view is made only once
every table it reads is registered, and traces, observations and scores hold the rows and
values worked out by hand (hashes only, never raw text)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from pyspark.testing import assertDataFrameEqual

from pipelines.spark.tables import register_table
from pipelines.spark.views import VIEWS, register_views

D = date(2026, 11, 20)
T = datetime(2026, 11, 20, 10, 0, 0)
KEYS = "trace_id string, session_id string, tenant_id string"
AGENT = ("acme", "bot", "1.0", "p1", "gpt-x")

INTERACTIONS = (
    f"event_id string, {KEYS}, agent_name string, agent_version string, prompt_version string, "
    "model string, turn_id string, occurred_at timestamp, kind string, text_hash string, "
    "latency_ms double, input_tokens bigint, output_tokens bigint, event_date date"
)
# fmt: off
INTERACTION_ROWS = [
    # turn 1 (trace t1): question, retrieval, answer; turn 2 (trace t2): a question only
    ("i1", "t1", "s1", *AGENT, "turn1", T, "user_message", "h-in1", None, None, None, D),
    ("i2", "t1", "s1", *AGENT, "turn1", T + timedelta(seconds=1), "retrieval", None, 40.0,
     None, None, D),
    ("i3", "t1", "s1", *AGENT, "turn1", T + timedelta(seconds=3), "model_response", "h-out1",
     1800.0, 120, 45, D),
    ("i4", "t2", "s1", *AGENT, "turn2", T + timedelta(minutes=1), "user_message", "h-in2", None,
     None, None, D),
]
# fmt: on


@pytest.fixture
def register(spark, settings):
    """``register(name, rows, ddl)`` writes a Delta table in this test's lake and names it.

    The catalog is the session's, shared by every test: the views and the tables they read
    are dropped before (so none is left from elsewhere) and after the test.
    """
    tables = sorted({table for needs, _ in VIEWS.values() for table in needs})

    def forget() -> None:
        for name in VIEWS:
            spark.sql(f"DROP VIEW IF EXISTS {name}")
        for name in tables:
            spark.sql(f"DROP TABLE IF EXISTS {name}")  # by location: the name, not the data

    def write(name: str, rows: list[tuple], ddl: str) -> None:
        path = settings.lake_path(*name.split("."))
        spark.createDataFrame(rows, ddl).write.format("delta").save(path)
        register_table(spark, name, path)

    forget()
    yield write
    forget()


def test_a_trace_is_one_turn_with_its_hashes_and_the_worst_and_total_of_its_outcomes(
    spark, register
):
    register("silver.interactions", INTERACTION_ROWS, INTERACTIONS)
    assert register_views(spark) == []  # the outcomes are not there yet
    assert not spark.catalog.tableExists("observability.traces")
    register(
        "silver.outcomes",
        [
            # two tracked actions in turn 1: the failure wins, the costs add up
            ("t1", "SUCCESS", "WARNING", 2500.0, 165, 0.0021),
            ("t1", "FAILURE", "ERROR", 500.0, 35, 0.0004),
            ("t9", "FAILURE", "ERROR", 900.0, 10, 0.0001),  # no interaction: no trace
        ],
        "trace_id string, status string, severity string, duration_ms double, "
        "total_tokens bigint, cost_usd double",
    )
    assert register_views(spark) == ["observability.traces"]

    # fmt: off
    expected = spark.createDataFrame(
        [
            ("t1", "s1", *AGENT, "turn1", T, T + timedelta(seconds=3), "h-in1", "h-out1",
             2, "FAILURE", "ERROR", 3000.0, 200, 0.0025, D),
            ("t2", "s1", *AGENT, "turn2", T + timedelta(minutes=1), T + timedelta(minutes=1),
             "h-in2", None, 0, None, None, None, None, None, D),  # no answer, no outcome yet
        ],
        f"{KEYS}, agent_name string, agent_version string, prompt_version string, "
        "model string, turn_id string, started_at timestamp, last_event_at timestamp, "
        "input_hash string, output_hash string, actions bigint, status string, severity string, "
        "duration_ms double, total_tokens bigint, cost_usd double, event_date date",
    )
    # fmt: on
    assertDataFrameEqual(spark.table("observability.traces"), expected)


def test_observations_are_messages_generations_tool_calls_and_guardrails(spark, register):
    register("silver.interactions", INTERACTION_ROWS, INTERACTIONS)
    event = f"event_id string, {KEYS}, occurred_at timestamp, model string"
    register(
        "silver.tool_calls",
        [
            ("c1", "t1", "s1", "acme", T, "gpt-x", "search", "started", None, None, D),
            ("c2", "t1", "s1", "acme", T, "gpt-x", "search", "failed", "TimeoutError", 300.0, D),
            ("c3", "t1", "s1", "acme", T, "gpt-x", "refund", "completed", None, 50.0, D),
        ],
        f"{event}, tool_name string, phase string, error_type string, "
        "latency_ms double, event_date date",
    )
    assert register_views(spark) == []  # observations read the policy decisions too
    register(
        "silver.policy_decisions",
        [("g1", "t1", "s1", "acme", T, "gpt-x", "pii_filter", "flag", D)],
        f"{event}, policy_name string, decision string, event_date date",
    )
    assert register_views(spark) == ["observability.observations"]

    at = [T + timedelta(seconds=s) for s in (0, 1, 3, 60)]
    # fmt: off
    expected = spark.createDataFrame(
        [
            ("i1", "t1", "s1", "acme", at[0], "message", "user_message", "gpt-x", None, None,
             None, None, "h-in1", D),
            ("i2", "t1", "s1", "acme", at[1], "retrieval", "retrieval", "gpt-x", 40.0, None,
             None, None, None, D),
            ("i3", "t1", "s1", "acme", at[2], "generation", "model_response", "gpt-x", 1800.0,
             120, 45, None, "h-out1", D),
            ("i4", "t2", "s1", "acme", at[3], "message", "user_message", "gpt-x", None, None,
             None, None, "h-in2", D),
            ("c1", "t1", "s1", "acme", T, "tool", "search", "gpt-x", None, None, None,
             "started", None, D),
            ("c2", "t1", "s1", "acme", T, "tool", "search", "gpt-x", 300.0, None, None,
             "failed: TimeoutError", None, D),
            ("c3", "t1", "s1", "acme", T, "tool", "refund", "gpt-x", 50.0, None, None,
             "completed", None, D),
            ("g1", "t1", "s1", "acme", T, "guardrail", "pii_filter", "gpt-x", None, None, None,
             "flag", None, D),
        ],
        f"observation_id string, {KEYS}, occurred_at timestamp, type string, "
        "name string, model string, latency_ms double, input_tokens bigint, "
        "output_tokens bigint, status string, content_hash string, event_date date",
    )
    # fmt: on
    assertDataFrameEqual(spark.table("observability.observations"), expected)


def test_scores_are_user_feedback_scaled_to_one_and_evaluator_labels(spark, register):
    feedback = [
        ("t1", "s1", "acme", T, "rating", 5, None, "hc1", D, "stream"),
        ("t1", "s1", "acme", T, "rating", 2, None, None, D, "stream"),
        ("t2", "s1", "acme", T, "thumbs", None, "up", None, D, "stream"),
        ("t2", "s1", "acme", T, "correction", None, "down", "hc2", D, "stream"),
        ("t2", "s1", "acme", T, "escalation", None, None, None, D, "stream"),
        (None, "s1", "acme", T, "rating", 1, None, None, D, "stream"),  # about no trace
        ("t1", "s1", "acme", T, "rating", 4, None, None, D, "legacy_mirror"),  # the app's copy
    ]
    register(
        "silver.feedback",
        feedback,
        f"{KEYS}, occurred_at timestamp, feedback_kind string, rating bigint, thumbs string, "
        "comment_hash string, event_date date, source string",
    )
    assert register_views(spark) == []
    evaluated = T + timedelta(hours=2)
    register(
        "gold.evaluator_scores",
        [("t1", "s1", "acme", evaluated, "helpfulness", 2, 0.8, "helpful", D)],
        f"{KEYS}, evaluated_at timestamp, evaluator string, evaluator_version int, "
        "score double, label string, event_date date",
    )
    assert register_views(spark) == ["observability.scores"]

    # fmt: off
    expected = spark.createDataFrame(
        [
            ("t1", "s1", "acme", T, "user_rating", "user", 1.0, "5", "hc1", D),
            ("t1", "s1", "acme", T, "user_rating", "user", 0.25, "2", None, D),
            ("t2", "s1", "acme", T, "user_thumbs", "user", 1.0, "up", None, D),
            ("t2", "s1", "acme", T, "user_correction", "user", 0.0, "down", "hc2", D),
            ("t2", "s1", "acme", T, "user_escalation", "user", None, "escalation", None, D),
            ("t1", "s1", "acme", evaluated, "helpfulness@2", "evaluator", 0.8, "helpful", None,
             D),
        ],
        f"{KEYS}, scored_at timestamp, name string, source string, value double, "
        "label string, comment_hash string, event_date date",
    )
    # fmt: on
    assertDataFrameEqual(spark.table("observability.scores"), expected)
