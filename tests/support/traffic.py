"""Generated traffic for tests: a fixed end time and seed, and the events no agent generates."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pipelines.producer.control import control_event
from pipelines.producer.events import AgentIdentity, new_event
from pipelines.producer.traffic import GeneratedRecord, TrafficGenerator

END = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def generate(**kw: Any) -> tuple[TrafficGenerator, list[GeneratedRecord]]:
    """A generator (seed 7, 1,200 records unless ``kw`` says otherwise) and its records."""
    gen = TrafficGenerator(end_time=END, **{"seed": 7, "events": 1200, **kw})
    return gen, list(gen)


def command_and_approval_events(
    count: int, when: datetime = END
) -> dict[str, list[dict[str, Any]]]:
    """Valid control and approval events: not agents' traffic, so the generator makes none."""
    who = AgentIdentity("acme", "support-bot", "2.4.0", "support-p42", "gpt-4.1-mini")
    controls = [
        control_event(
            "degrade",
            "tool",
            f"tool-{i}",
            reason="failing",
            issuer="rule:t",
            tenant_id="acme",
            details={"observed_value": 0.6},
        )
        for i in range(count)
    ]
    approvals = [
        new_event(
            "approval",
            {
                "approval_id": f"apr-{i}",
                "decision": "approved",
                "reviewer": "rev-1",
                "reason": "ok",
            },
            identity=who,
            session_id=f"ses-{i}",
            trace_id=f"trc-{i}",
            occurred_at=when,
        )
        for i in range(count)
    ]
    return {"control": controls, "approval": approvals}
