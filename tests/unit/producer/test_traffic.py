import json
from datetime import UTC, datetime

import pytest

from pipelines.contracts.registry import MAX_EVENT_BYTES, classify_record, validate_event
from pipelines.producer.traffic import BAD_KINDS, TrafficGenerator

END = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def generate(**kw):
    gen = TrafficGenerator(end_time=END, **{"seed": 7, "events": 1200, **kw})
    return gen, list(gen)


def test_same_seed_gives_byte_identical_records():
    _, first = generate(bad_fraction=0.05)
    _, second = generate(bad_fraction=0.05)
    assert [(r.topic, r.key, r.value) for r in first] == [(r.topic, r.key, r.value) for r in second]
    _, other = generate(seed=8, bad_fraction=0.05)
    assert [r.value for r in other] != [r.value for r in first]


def test_manifest_counts_exactly_what_was_generated():
    gen, records = generate(bad_fraction=0.05)
    manifest = gen.manifest.to_dict()
    assert manifest["records_sent"] == len(records) == 1200
    assert manifest["bad"] == {kind: 10 for kind in BAD_KINDS}
    assert manifest["valid_distinct_total"] == 1140
    verdicts = {}
    seen = set()
    for record in records:
        verdict = classify_record(record.value)
        kind = verdict.kind
        if kind == "valid":
            kind = "duplicate" if verdict.event_id in seen else "valid"
            seen.add(verdict.event_id)
        assert kind == record.kind, (record.kind, verdict.reason)
        verdicts[kind] = verdicts.get(kind, 0) + 1
    assert verdicts == {"valid": 1140, **{k: 10 for k in BAD_KINDS}}


def test_bad_records_are_bad_in_exactly_their_way():
    _, records = generate(bad_fraction=0.05)
    by_kind = {}
    for r in records:
        by_kind.setdefault(r.kind, []).append(r)
    assert all(len(r.value) > MAX_EVENT_BYTES for r in by_kind["oversized"])
    assert all(
        json.loads(r.value)["event_type"] == "agent_thought" for r in by_kind["unknown_event_type"]
    )
    valid_values = {r.value for r in by_kind["valid"]}
    assert all(r.value in valid_values for r in by_kind["duplicate"])
    for r in by_kind["wrong_type"]:
        assert classify_record(r.value).field.startswith("payload.")


def test_sessions_tell_the_whole_turn_story():
    _, records = generate(events=3000)
    events = [r.event for r in records]
    for event in events:
        validate_event(event)
    kinds = {e["payload"]["kind"] for e in events if e["event_type"] == "interaction"}
    assert kinds == {"user_message", "retrieval", "model_response"}
    feedback = {e["payload"]["feedback_kind"] for e in events if e["event_type"] == "feedback"}
    assert feedback == {"rating", "thumbs", "correction", "escalation"}
    statuses = {e["payload"]["status"] for e in events if e["event_type"] == "outcome"}
    assert {"SUCCESS", "FAILURE", "PARTIAL", "TIMEOUT", "CANCELLED"} <= statuses
    assert len({e["tenant_id"] for e in events}) == 4
    assert len({(e["agent_name"], e["agent_version"]) for e in events}) == 8
    # every event of a session shares its key, and events chain by causation within a turn
    assert all(r.key == r.event["session_id"] for r in records)
    by_id = {e["event_id"]: e for e in events}
    caused = [e for e in events if e["causation_id"]]
    assert caused and all(by_id[e["causation_id"]]["trace_id"] == e["trace_id"] for e in caused)


def test_event_times_spread_over_the_days_back():
    _, records = generate(events=2000, days_back=5)
    times = [datetime.fromisoformat(r.event["occurred_at"]) for r in records]
    assert max(times) <= END
    assert (END - min(times)).days >= 4


def test_v2_events_carry_the_v2_fields():
    _, records = generate(events=1500, schema_version=2)
    outcomes = [r.event for r in records if r.event_type == "outcome"]
    assert outcomes and all(e["schema_version"] == 2 for e in outcomes)
    assert all("cache_hit" in e["payload"] and "model_provider" in e["payload"] for e in outcomes)


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="bad_fraction"):
        TrafficGenerator(seed=1, events=10, end_time=END, bad_fraction=2)
