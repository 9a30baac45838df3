"""What the generator yields: one Kafka record, valid or bad in one known way.

Its own module so that the bad-record maker and the generator share it without importing
each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

BAD_KINDS = (
    "malformed_json",
    "missing_required",
    "wrong_type",
    "unknown_event_type",
    "oversized",
    "duplicate",
)


@dataclass(frozen=True)
class GeneratedRecord:
    """One Kafka record to send: ``kind`` is 'valid' or one of BAD_KINDS."""

    kind: str
    topic: str
    key: str | None
    value: bytes
    event_type: str | None
    event: dict[str, Any] | None = None

    @property
    def valid_event(self) -> dict[str, Any]:
        """The event of a valid record; a bad record has only its bytes (ValueError)."""
        if self.event is None:
            raise ValueError(f"a {self.kind} record carries no event")
        return self.event
