"""The built-in evaluators on tiny literal frames."""

from datetime import date, datetime

import pytest

from pipelines.errors import AflError
from pipelines.evaluators.catalog import LatencySlaBreach
from pipelines.evaluators.registry import get_evaluator

D = date(2026, 11, 20)
KEYS = (
    "turn_id string, event_date date, tenant_id string, agent_name string, "
    "agent_version string, session_id string, trace_id string"
)
FEEDBACK = f"{KEYS}, feedback_kind string, rating bigint, thumbs string, occurred_at timestamp"


def fb(turn, kind, rating=None, thumbs=None, minute=0):
    return (
        turn,
        D,
        "acme",
        "bot",
        "1.0",
        f"s-{turn}",
        f"t-{turn}",
        kind,
        rating,
        thumbs,
        datetime(2026, 11, 20, 10, minute),
    )


@pytest.fixture
def feedback(spark):
    rows = [
        fb("corrected-but-rated", "rating", rating=5),
        fb("corrected-but-rated", "correction", thumbs="down"),
        fb("corrected-only", "correction", thumbs="down"),
        fb("rated-only", "rating", rating=4),
        fb("thumbs-up", "thumbs", thumbs="up"),
        fb("mixed", "rating", rating=3),
        fb("mixed", "thumbs", thumbs="up"),
        fb("mixed", "thumbs", thumbs="down"),
        fb("escalated", "escalation"),
        (
            None,
            D,
            "acme",
            "bot",
            "legacy-app",
            "s-x",
            None,
            "rating",
            1,
            None,
            datetime(2026, 11, 20),
        ),
    ]
    return spark.createDataFrame(rows, FEEDBACK)


def labels(evaluator_key, frames):
    rows = get_evaluator(evaluator_key).evaluate(frames).collect()
    return {r["unit_id"]: (r["label"], r["score"]) for r in rows}


def test_helpfulness_v1_and_v2_differ_exactly_where_a_correction_meets_other_signals(feedback):
    v1 = labels("helpfulness@1", {"feedback": feedback})
    v2 = labels("helpfulness@2", {"feedback": feedback})
    assert v1 == {
        "corrected-but-rated": ("mixed", 0.5),  # mean of 1.0 and 0.0
        "corrected-only": ("unhelpful", 0.0),
        "rated-only": ("helpful", 0.75),
        "thumbs-up": ("helpful", 1.0),
        "mixed": ("mixed", 0.5),  # (0.5 + 1 + 0) / 3
    }
    assert {k for k in v1 if v1[k] != v2[k]} == {"corrected-but-rated"}
    assert v2["corrected-but-rated"] == ("unhelpful", 0.0)


def test_unescalated_tool_failure(spark, feedback):
    calls = spark.createDataFrame(
        [
            ("escalated", D, "acme", "bot", "1.0", "s-e", "t-e", "failed"),
            ("quiet-failure", D, "acme", "bot", "1.0", "s-q", "t-q", "failed"),
            ("quiet-failure", D, "acme", "bot", "1.0", "s-q", "t-q", "completed"),
            ("fine", D, "acme", "bot", "1.0", "s-f", "t-f", "completed"),
        ],
        f"{KEYS}, phase string",
    )
    assert labels("unescalated_tool_failure@1", {"tool_call": calls, "feedback": feedback}) == {
        "escalated": ("escalated_failure", 0.0),
        "quiet-failure": ("unescalated_failure", 1.0),
        "fine": ("no_failure", 0.0),
    }


def test_negative_feedback_must_come_after_the_flag(spark):
    policy = spark.createDataFrame(
        [
            (t, D, "acme", "bot", "1.0", f"s-{t}", f"t-{t}", "flag", datetime(2026, 11, 20, 10, 5))
            for t in ("after", "before", "flag-but-happy")
        ],
        f"{KEYS}, decision string, occurred_at timestamp",
    )
    said = [
        fb("after", "thumbs", thumbs="down", minute=9),
        fb("before", "rating", rating=1, minute=1),
        fb("flag-but-happy", "rating", rating=5, minute=9),
        fb("no-flag", "correction", minute=9),
    ]
    result = labels(
        "negative_feedback_after_flag@1",
        {"policy_decision": policy, "feedback": spark.createDataFrame(said, FEEDBACK)},
    )
    assert result == {
        "after": ("negative_after_flag", 1.0),
        "before": ("negative_unflagged", 0.0),
        "flag-but-happy": ("flagged_ok", 0.0),
        "no-flag": ("negative_unflagged", 0.0),
    }


def test_latency_sla_per_agent(spark):
    outcomes = spark.createDataFrame(
        [
            ("a1", D, "acme", "support-bot", "1", "s", "t", 3500.0),
            ("a2", D, "acme", "code-helper", "1", "s", "t", 3500.0),
        ],
        "action_id string, event_date date, tenant_id string, agent_name string, "
        "agent_version string, session_id string, trace_id string, duration_ms double",
    )
    result = labels("latency_sla_breach@1", {"outcome": outcomes})
    assert result == {"a1": ("breach", round(3500 / 3000, 4)), "a2": ("within_sla", 0.875)}


def test_versions_and_configuration_change_the_code_hash():
    assert get_evaluator("helpfulness@1").code_hash() != get_evaluator("helpfulness@2").code_hash()
    assert get_evaluator("helpfulness").key == "helpfulness@2"  # a bare name: newest
    assert LatencySlaBreach({"default_ms": 1, "per_agent_ms": {}}).code_hash() != (
        LatencySlaBreach().code_hash()
    )
    with pytest.raises(AflError, match="unknown evaluator 'helpfulness@9'"):
        get_evaluator("helpfulness@9")
