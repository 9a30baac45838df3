"""What a rule does with the windows it sees: pure decisions over a control state."""

from datetime import UTC, datetime, timedelta

import pytest

from pipelines.contracts.registry import serialize, validate_event
from pipelines.producer.control import ControlState, control_event
from pipelines.signals.decide import WindowShare, decide
from pipelines.signals.rules import load_rules

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
AGE = timedelta(minutes=10)


@pytest.fixture
def rule():
    return load_rules()[0]  # degrade a tool over 50% failing, restore under 20%, >= 10 events


@pytest.fixture
def state(settings):
    return ControlState(settings, start=False)


def window(start_minute: int, events: int, failures: int, tool="refund_api", tenant="acme"):
    start = NOW - timedelta(minutes=start_minute)
    return WindowShare(tenant, tool, start, start + timedelta(minutes=5), events, failures,
                       tuple(f"tc-{i}" for i in range(failures)))  # fmt: skip


def test_a_failing_window_degrades_once_with_its_evidence(rule, state):
    [degrade] = decide(rule, [window(6, 20, 12)], state, NOW, AGE)
    validate_event(degrade)
    payload = degrade["payload"]
    assert (payload["command"], payload["target"], degrade["tenant_id"]) == (
        "degrade",
        "refund_api",
        "acme",
    )
    assert (payload["rule"], payload["observed_value"], payload["threshold"]) == (
        "tool-failure-rate",
        0.6,
        0.5,
    )
    assert payload["issuer"] == "rule:tool-failure-rate"
    assert payload["evidence_event_ids"] == [f"tc-{i}" for i in range(12)]
    assert payload["reason"] == (
        "tool-failure-rate: 12 of 20 failed (60%) in 2026-12-07T11:54:00.000Z.."
        "2026-12-07T11:59:00.000Z, over 50%"
    )
    assert state.is_degraded("refund_api", "acme")
    # the same windows again (a batch re-run): in force already, nothing to publish
    assert decide(rule, [window(6, 20, 12), window(5, 25, 15)], state, NOW, AGE) == []


def test_the_same_decision_on_a_fresh_state_has_the_same_id(rule, settings):
    first = decide(rule, [window(6, 20, 12)], ControlState(settings, start=False), NOW, AGE)
    again = decide(rule, [window(6, 20, 12)], ControlState(settings, start=False), NOW, AGE)
    assert [e["event_id"] for e in first] == [e["event_id"] for e in again]
    assert first[0]["event_id"].startswith("ctl-")


def test_restore_needs_a_healthy_window_after_the_evidence(rule, state):
    decide(rule, [window(9, 20, 12)], state, NOW, AGE)  # evidence ends 4 minutes ago
    beside = window(7, 20, 1)  # healthy, but it overlaps the failures
    assert decide(rule, [beside, window(5, 20, 3)], state, NOW, AGE) == []  # 15%: overlap
    [restore] = decide(rule, [window(4, 20, 3)], state, NOW, AGE)
    assert restore["payload"]["command"] == "restore"
    assert restore["payload"]["reason"].endswith(", under 20%")
    assert not state.is_degraded("refund_api", "acme")


def test_too_few_events_old_windows_and_other_targets_change_nothing(rule, state):
    assert decide(rule, [window(6, 9, 9)], state, NOW, AGE) == []  # under min_events
    assert decide(rule, [window(20, 50, 50)], state, NOW, AGE) == []  # history, not today
    degraded = decide(rule, [window(6, 20, 20, tool="search", tenant="globex")], state, NOW, AGE)
    assert [e["payload"]["command"] for e in degraded] == ["degrade"]
    assert state.is_degraded("search", "globex") and not state.is_degraded("search", "acme")


def test_an_operators_degrade_is_not_the_rules_to_undo(rule, state):
    operator = control_event("degrade", "tool", "refund_api", reason="vendor outage",
                             issuer="operator:ana", tenant_id="acme")  # fmt: skip
    state.apply(serialize(operator))
    assert decide(rule, [window(4, 30, 0)], state, NOW, AGE) == []
    assert state.is_degraded("refund_api", "acme")
