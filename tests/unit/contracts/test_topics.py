import pytest

from pipelines.contracts.topics import DAY_MS, TOPICS, event_topics, topic, topic_for_event_type


def test_registry_holds_the_architecture_topics():
    assert [t.name for t in TOPICS] == [
        "agent.interactions.v1",
        "agent.feedback.v1",
        "agent.tool_calls.v1",
        "agent.outcomes.v1",
        "agent.policy.v1",
        "agent.evaluations.v1",
        "agent.control.v1",
        "agent.approvals.v1",
        "agent.dlq",
    ]
    assert {t.name: t.classification for t in event_topics()} == {
        "agent.interactions.v1": "restricted",
        "agent.feedback.v1": "confidential",
        "agent.tool_calls.v1": "internal",
        "agent.outcomes.v1": "internal",
        "agent.policy.v1": "confidential",
        "agent.evaluations.v1": "internal",
        "agent.control.v1": "internal",
        "agent.approvals.v1": "confidential",
    }
    assert {t.key for t in TOPICS} == {"session_id"}


def test_topic_config_carries_retention():
    assert topic("agent.dlq").config()["retention.ms"] == str(30 * DAY_MS)
    assert topic("agent.outcomes.v1").config()["retention.ms"] == str(7 * DAY_MS)


def test_the_control_topic_keeps_the_latest_command_per_target_for_good():
    config = topic("agent.control.v1").config()
    assert config["cleanup.policy"] == "compact"
    assert config["min.compaction.lag.ms"] == str(7 * DAY_MS)  # every command reaches the lake
    assert "retention.ms" not in config


def test_event_type_lookup():
    assert topic_for_event_type("outcome").name == "agent.outcomes.v1"
    with pytest.raises(KeyError, match="no topic carries event type 'nope'"):
        topic_for_event_type("nope")
