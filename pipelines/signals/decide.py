"""What a rule does about the windows it sees: issue its command, undo it, or nothing.

Pure Python over the windows a micro-batch updated and the control state, so the same
windows and state always give the same commands, with the same ids:

- a window at or above ``min_events`` whose failing share is over ``above`` issues the
  rule's command for its tenant and target, unless that command is in force already;
- a command this rule issued is undone by a window at or above ``min_events`` whose
  share is under ``below`` and which began when the command's evidence window ended
  (the recovery is measured on traffic after the failures, not beside them); a command
  an operator issued is an operator's to undo;
- only windows ending within ``max_age`` of now act: history replayed from the table (a
  new checkpoint) is not a reason to act today.

A command's event_id is derived from (rule, target, command, window end): the same
decision made twice (a batch re-run after a crash) is the same event.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pipelines.contracts.registry import serialize
from pipelines.producer.control import CONTROL_ID_PREFIX, ControlState, control_event
from pipelines.producer.events import format_timestamp
from pipelines.signals.rules import SignalRule

_IDS = uuid.UUID("6f1c2a4e-8b1d-4f7e-9a55-3c2d1e0b7a91")  # namespace of command ids


@dataclass(frozen=True)
class WindowShare:
    """One window of one tenant's target, as the transform counted it."""

    tenant_id: str
    target: str
    window_start: datetime  # aware, UTC
    window_end: datetime
    events: int
    failures: int
    evidence: tuple[str, ...] = ()

    @property
    def share(self) -> float:
        return self.failures / self.events if self.events else 0.0


def decide(
    rule: SignalRule,
    windows: Iterable[WindowShare],
    state: ControlState,
    now: datetime,
    max_age: timedelta,
) -> list[dict[str, Any]]:
    """The control events to publish, in order; each is applied to ``state`` as decided."""
    out: list[dict[str, Any]] = []
    for w in sorted(windows, key=lambda w: (w.window_end, w.tenant_id, w.target)):
        if w.window_end < now - max_age or w.events < rule.min_events:
            continue
        current = state.latest(w.tenant_id, rule.target_kind, w.target)
        in_force = current is not None and current.command == rule.command and current.applies(now)
        if not in_force and w.share > rule.above:
            command, threshold = rule.command, rule.above
        elif (
            in_force
            and current is not None
            and current.rule == rule.name
            and w.share < rule.below
            and (current.window_end is None or w.window_start >= current.window_end)
        ):
            command, threshold = rule.undo, rule.below
        else:
            continue
        event = control_event(
            command,
            rule.target_kind,
            w.target,
            reason=(
                f"{rule.name}: {w.failures} of {w.events} failed ({w.share:.0%}) in "
                f"{format_timestamp(w.window_start)}..{format_timestamp(w.window_end)}, "
                f"{'over' if command == rule.command else 'under'} {threshold:.0%}"
            ),
            issuer=rule.issuer,
            tenant_id=w.tenant_id,
            event_id=command_id(rule, w, command),
            details={
                "rule": rule.name,
                "window_start": format_timestamp(w.window_start),
                "window_end": format_timestamp(w.window_end),
                "observed_value": round(w.share, 6),
                "threshold": threshold,
                "evidence_event_ids": list(w.evidence) or None,
            },
        )
        state.apply(serialize(event))
        out.append(event)
    return out


def command_id(rule: SignalRule, window: WindowShare, command: str) -> str:
    key = (
        f"{rule.name}|{window.tenant_id}|{rule.target_kind}|{window.target}|{command}|"
        f"{format_timestamp(window.window_end)}"
    )
    return f"{CONTROL_ID_PREFIX}{uuid.uuid5(_IDS, key)}"
