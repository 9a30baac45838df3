"""Bad records, each bad in exactly the way its kind says, so the lake's handling of each
kind can be counted against the manifest.

They are made from recent valid events (a retry storm or a buggy client re-sends what was
just sent): a duplicate is a byte-identical copy; the others are copies with a new event id
and one defect.
"""

from __future__ import annotations

import dataclasses
import json
import random
from collections.abc import Callable, Sequence
from typing import Any

from pipelines.contracts.registry import MAX_EVENT_BYTES, serialize
from pipelines.contracts.topics import topic_for_event_type
from pipelines.producer.traffic.records import GeneratedRecord
from pipelines.producer.traffic.turns import random_event_id

# per event type, the payload field a missing_required record drops
_REQUIRED_PAYLOAD = {
    "interaction": "turn_id",
    "feedback": "feedback_kind",
    "tool_call": "tool_name",
    "outcome": "status",
    "policy_decision": "decision",
    "evaluation": "unit_id",
}
# per event type, the numeric payload field a wrong_type record fills with a string
_NUMERIC_PAYLOAD = {
    "interaction": "latency_ms",
    "feedback": "rating",
    "tool_call": "latency_ms",
    "outcome": "cost_usd",
    "policy_decision": "score",
    "evaluation": "score",
}


def bad_record(
    kind: str,
    rng: random.Random,
    recent: Sequence[GeneratedRecord],
    fresh_event: Callable[[], dict[str, Any]],
) -> GeneratedRecord:
    """A ``kind`` record from one of the ``recent`` valid ones (a duplicate needs one);
    ``fresh_event`` supplies the template when nothing was sent yet."""
    if kind == "duplicate":
        original = recent[rng.randrange(len(recent))]
        return dataclasses.replace(original, kind="duplicate")
    event = json.loads(serialize(_template(rng, recent, fresh_event)))
    event["event_id"] = random_event_id(rng)
    topic = topic_for_event_type(event["event_type"]).name
    if kind == "malformed_json":
        raw = serialize(event)
        value = raw[: rng.randrange(10, len(raw) - 5)]
    elif kind == "missing_required":
        if rng.random() < 0.5:
            del event["tenant_id"]
        else:
            del event["payload"][_REQUIRED_PAYLOAD[event["event_type"]]]
        value = serialize(event)
    elif kind == "wrong_type":
        field_name = _NUMERIC_PAYLOAD[event["event_type"]]
        event["payload"][field_name] = "not-a-number"
        value = serialize(event)
    elif kind == "unknown_event_type":
        event["event_type"] = "agent_thought"
        value = serialize(event)
    elif kind == "oversized":
        # Schema-valid but too large: only the size is wrong.
        event["debug_blob"] = "x" * (MAX_EVENT_BYTES + 1024)
        value = serialize(event)
    else:
        raise ValueError(f"unknown bad kind {kind!r}")
    return GeneratedRecord(kind, topic, event.get("session_id"), value, event["event_type"])


def _template(
    rng: random.Random,
    recent: Sequence[GeneratedRecord],
    fresh_event: Callable[[], dict[str, Any]],
) -> dict[str, Any]:
    if recent:
        return recent[rng.randrange(len(recent))].valid_event
    return fresh_event()
