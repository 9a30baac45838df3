"""Building an event: the envelope every producer fills the same way, in a fixed order."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from pipelines.contracts.registry import latest
from pipelines.producer.events import AgentIdentity, format_timestamp, new_event


def test_timestamps_are_utc_with_milliseconds_and_a_z():
    moment = datetime(2026, 11, 20, 12, 0, 0, 123456, tzinfo=timezone(timedelta(hours=2)))
    assert format_timestamp(moment) == "2026-11-20T10:00:00.123Z"
    with pytest.raises(ValueError, match="timestamps must be timezone-aware"):
        format_timestamp(datetime(2026, 11, 20, 12, 0))


def test_a_new_event_fills_the_envelope_from_the_identity_and_the_registry():
    payload = {"feedback_kind": "rating", "rating": 4, "user_id": "u1"}
    event = new_event(
        "feedback",
        payload,
        identity=AgentIdentity("acme", "support-bot", "1.4.0", prompt_version="p7"),
        session_id="s1",
        trace_id="t1",
        occurred_at=datetime(2026, 11, 20, 10, 0, tzinfo=UTC),
        event_id="e1",
    )
    assert event == {
        "event_id": "e1",
        "event_type": "feedback",
        "schema_version": latest("feedback").version,
        "occurred_at": "2026-11-20T10:00:00.000Z",
        "tenant_id": "acme",
        "session_id": "s1",
        "trace_id": "t1",
        "causation_id": None,
        "agent_name": "support-bot",
        "agent_version": "1.4.0",
        "prompt_version": "p7",
        "model": None,
        "data_classification": "confidential",
        "payload": payload,
    }
    assert list(event)[:3] == ["event_id", "event_type", "schema_version"]
    assert event["payload"] is not payload


def test_without_an_id_or_a_time_each_event_gets_its_own_id_and_now():
    identity = AgentIdentity("acme", "bot", "1")
    first, second = (
        new_event("feedback", {}, identity=identity, session_id="s", trace_id="t") for _ in range(2)
    )
    assert first["event_id"] != second["event_id"] and len(first["event_id"]) == 36
    assert first["occurred_at"].endswith("Z")
