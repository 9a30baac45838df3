"""Control commands and the state they add up to, without a broker (``apply``)."""

from datetime import UTC, datetime, timedelta

import orjson
import pytest

from pipelines.contracts.registry import serialize, validate_event
from pipelines.errors import AflError
from pipelines.producer.control import ControlState, control_event, control_key

ISSUER = "operator:ana"


def command(name: str, kind: str, target: str, tenant: str = "acme", **extra) -> bytes:
    event = control_event(name, kind, target, reason="r", issuer=ISSUER, tenant_id=tenant, **extra)
    validate_event(event)
    return serialize(event)


@pytest.fixture
def state(settings) -> ControlState:
    return ControlState(settings, start=False)


def test_a_control_event_is_keyed_by_its_target_and_valid():
    event = control_event("pause", "agent", "support-bot", reason="bad answers", issuer=ISSUER,
                          tenant_id="acme")  # fmt: skip
    assert validate_event(event).event_type == "control"
    assert event["session_id"] == control_key("acme", "agent", "support-bot")
    assert event["session_id"] == "control:acme:agent:support-bot"
    assert (event["tenant_id"], event["agent_name"]) == ("acme", "afl-control")
    assert event["event_id"].startswith("ctl-")  # a consequence's causation_id says so
    with pytest.raises(AflError, match=r"^unknown control command 'halt'"):
        control_event("halt", "agent", "x", reason="r", issuer=ISSUER)
    with pytest.raises(AflError, match=r"^unknown control target 'model'"):
        control_event("pause", "model", "x", reason="r", issuer=ISSUER)


def test_the_latest_command_per_target_decides(state):
    assert not state.is_paused("support-bot", "acme")
    state.apply(command("pause", "agent", "support-bot"))
    assert state.is_paused("support-bot", "acme")
    assert not state.is_paused("support-bot", "globex")  # another tenant's agent acts
    assert not state.is_paused("billing-bot", "acme")
    state.apply(command("resume", "agent", "support-bot"))
    assert not state.is_paused("support-bot", "acme")
    assert [c.command for c in state.commands()] == ["resume"]


def test_every_tenant_and_a_whole_tenant_pause_their_agents(state):
    state.apply(command("pause", "agent", "support-bot", tenant="*"))
    assert state.is_paused("support-bot", "acme") and state.is_paused("support-bot", "globex")
    state.apply(command("pause", "tenant", "initech"))
    assert state.is_paused("any-bot", "initech") and not state.is_paused("any-bot", "acme")
    reason = state.pause_for("any-bot", "initech")
    assert reason is not None
    assert (
        reason.describe()
        == f"pause tenant initech (tenant initech): r [{ISSUER}, {reason.event_id}]"
    )


def test_a_degraded_or_paused_tool_is_out_of_rotation_until_restored(state):
    state.apply(command("degrade", "tool", "refund_api"))
    assert state.is_degraded("refund_api", "acme") and not state.is_degraded("search", "acme")
    state.apply(command("restore", "tool", "refund_api"))
    assert not state.is_degraded("refund_api", "acme")
    state.apply(command("pause", "tool", "search", tenant="*"))
    assert state.is_degraded("search", "acme")


def test_a_command_stops_applying_when_it_expires(state):
    past = datetime.now(UTC) - timedelta(seconds=1)
    soon = datetime.now(UTC) + timedelta(hours=1)
    state.apply(command("pause", "agent", "a", expires_at=past))
    state.apply(command("pause", "agent", "b", expires_at=soon))
    assert not state.is_paused("a", "acme") and state.is_paused("b", "acme")


@pytest.mark.parametrize(
    "value",
    [
        None,
        b"not json",
        b"[]",
        orjson.dumps({"event_type": "control", "schema_version": 1}),  # missing everything
    ],
)
def test_records_that_are_not_control_commands_are_skipped_not_trusted(state, value):
    assert state.apply(value) is None
    assert state.skipped == 1 and state.commands() == []


def test_another_event_type_on_the_control_topic_is_skipped(state):
    event = orjson.loads(command("pause", "agent", "a"))
    event.update(event_type="outcome")
    assert state.apply(orjson.dumps(event)) is None and state.skipped == 1
