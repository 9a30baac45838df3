"""Sessions and turns: the whole story of a turn, chained by causation, on one clock."""

import random
from datetime import timedelta

from pipelines.contracts.registry import validate_event
from pipelines.producer.events import AgentIdentity
from pipelines.producer.traffic.catalog import AGENTS
from pipelines.producer.traffic.turns import TurnBuilder
from tests.support.traffic import END, generate


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


def test_v2_events_carry_the_v2_fields():
    _, records = generate(events=1500, schema_version=2)
    outcomes = [r.event for r in records if r.event_type == "outcome"]
    assert outcomes and all(e["schema_version"] == 2 for e in outcomes)
    assert all("cache_hit" in e["payload"] and "model_provider" in e["payload"] for e in outcomes)


def a_turn(agent_name: str, *, newer: bool, model: str, seed: int, schema_version: int):
    """A turn of one session of ``agent_name`` (its newer or older version), at END."""
    agent = AGENTS[agent_name]
    identity = AgentIdentity("acme", agent.name, agent.versions[newer], agent.prompts[newer], model)
    return TurnBuilder(
        random.Random(seed),
        identity=identity,
        agent=agent,
        session_id="ses-1",
        moment=END,
        schema_version=schema_version,
    )


def test_a_turn_builder_chains_its_events_on_its_clock():
    turn = a_turn("support-bot", newer=False, model="llama-3.3-70b", seed=1, schema_version=1)
    first = turn.add("interaction", {"turn_id": turn.turn_id, "kind": "user_message"}, 0)
    second = turn.add("interaction", {"turn_id": turn.turn_id, "kind": "retrieval"}, 1.5)
    assert [e["event_id"] for e in turn.events] == [first, second]
    assert [e["causation_id"] for e in turn.events] == [None, first]
    assert turn.moment == END + timedelta(seconds=1.5)
    assert {e["trace_id"] for e in turn.events} == {turn.trace_id}


def test_a_whole_turn_ends_with_its_outcome_and_what_followed():
    turn = a_turn("billing-agent", newer=True, model="gpt-4.1-mini", seed=3, schema_version=2)
    last = turn.build()
    types = [e["event_type"] for e in turn.events]
    assert types[:2] == ["interaction", "interaction"] and "outcome" in types
    assert set(types[types.index("outcome") + 1 :]) <= {"feedback", "evaluation"}
    assert last == turn.moment > END
    for event in turn.events:
        validate_event(event)
