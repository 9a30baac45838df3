"""Building events: the envelope filled in the same way by the SDK, the generator and the mirror."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pipelines.contracts.registry import latest
from pipelines.contracts.topics import topic_for_event_type


@dataclass(frozen=True)
class AgentIdentity:
    """Who emits: the envelope fields that stay the same for an agent deployment."""

    tenant_id: str
    agent_name: str
    agent_version: str
    prompt_version: str | None = None
    model: str | None = None


def format_timestamp(moment: datetime) -> str:
    """ISO-8601 in UTC with milliseconds and a Z: what every contract's date-time expects."""
    if moment.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_event(
    event_type: str,
    payload: Mapping[str, Any],
    *,
    identity: AgentIdentity,
    session_id: str,
    trace_id: str,
    causation_id: str | None = None,
    occurred_at: datetime | None = None,
    event_id: str | None = None,
    schema_version: int | None = None,
) -> dict[str, Any]:
    """An event dict in envelope order (so its JSON is deterministic); not yet validated."""
    return {
        "event_id": event_id or str(uuid.uuid4()),
        "event_type": event_type,
        "schema_version": schema_version or latest(event_type).version,
        "occurred_at": format_timestamp(occurred_at or datetime.now(UTC)),
        "tenant_id": identity.tenant_id,
        "session_id": session_id,
        "trace_id": trace_id,
        "causation_id": causation_id,
        "agent_name": identity.agent_name,
        "agent_version": identity.agent_version,
        "prompt_version": identity.prompt_version,
        "model": identity.model,
        "data_classification": topic_for_event_type(event_type).classification,
        "payload": dict(payload),
    }
