"""The kill switch, in the agent app: control commands, and the current state they add up to.

An operator (``afl control pause agent support-bot --reason ...``) or the signal job
publishes a ``control`` event to the compacted control topic. Its Kafka key is its target
(``control:<tenant>:<target_kind>:<target>``, the envelope's session_id), so Kafka keeps
the latest command per target for good, and every command for the topic's retention, long
enough for the lake to land each one.

``ControlState`` reads that topic from the beginning in a background thread and keeps the
latest command per target, so an app can ask before it acts::

    control = ControlState(settings)          # starts reading; .wait_until_current() to block
    if control.is_degraded("refund_api", tenant_id="acme"):
        ...                                   # take the fallback
    with track_action(producer, identity, "answer", control=control):  # refuses when paused
        ...

A paused tenant pauses every agent of it; a command for tenant ``*`` applies to every
tenant. A command with ``expires_at`` stops applying then. Records that are not valid
control events are skipped (and counted), never trusted and never fatal.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version as package_version
from typing import Any

import orjson
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, TopicPartition

from pipelines.contracts.exceptions import ContractViolation
from pipelines.contracts.registry import validate_event
from pipelines.contracts.timestamps import parse_timestamp
from pipelines.contracts.topics import CONTROL_TOPIC
from pipelines.producer.events import AgentIdentity, format_timestamp, new_event
from pipelines.producer.exceptions import ProducerError
from pipelines.settings import Settings

log = logging.getLogger(__name__)

EVERY_TENANT = "*"
COMMANDS = {"pause": "resume", "degrade": "restore"}  # each command and what undoes it
TARGET_KINDS = ("agent", "tool", "tenant")
POLL_S = 0.2
# Every command's event_id starts so: an event caused by one (causation_id) is known for a
# consequence of a command without a lookup, and is never evidence for a rule again.
CONTROL_ID_PREFIX = "ctl-"
# What a topic created a moment ago answers until its partitions have leaders.
_NOT_YET = frozenset(
    {
        KafkaError.NOT_LEADER_FOR_PARTITION,
        KafkaError.LEADER_NOT_AVAILABLE,
        KafkaError.UNKNOWN_TOPIC_OR_PART,
    }
)


@dataclass(frozen=True)
class Command:
    """One control command as the state keeps it."""

    event_id: str
    command: str  # pause | resume | degrade | restore
    tenant_id: str
    target_kind: str
    target: str
    reason: str
    issuer: str
    occurred_at: datetime
    expires_at: datetime | None = None
    rule: str | None = None
    window_end: datetime | None = None  # the end of a rule's evidence window

    @property
    def key(self) -> str:
        return control_key(self.tenant_id, self.target_kind, self.target)

    def applies(self, now: datetime) -> bool:
        """A pause or degrade still in force (an undo command applies nothing)."""
        return self.command in COMMANDS and (self.expires_at is None or now < self.expires_at)

    def describe(self) -> str:
        until = f" until {format_timestamp(self.expires_at)}" if self.expires_at else ""
        scope = "every tenant" if self.tenant_id == EVERY_TENANT else f"tenant {self.tenant_id}"
        return (
            f"{self.command} {self.target_kind} {self.target} ({scope}){until}: "
            f"{self.reason} [{self.issuer}, {self.event_id}]"
        )


def control_key(tenant_id: str, target_kind: str, target: str) -> str:
    """The Kafka key (and envelope session_id) of every command for one target."""
    return f"control:{tenant_id}:{target_kind}:{target}"


def control_event(
    command: str,
    target_kind: str,
    target: str,
    *,
    reason: str,
    issuer: str,
    tenant_id: str = EVERY_TENANT,
    expires_at: datetime | None = None,
    causation_id: str | None = None,
    event_id: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A control event (not yet validated: ``emit`` does that), keyed by its target.

    ``details``: the signal job's rule, window, observed value, threshold and evidence. A
    command for a tenant is that tenant's (``tenant_id`` is the target).
    ``event_id``: pass a deterministic one (``ctl-`` first) where a retry must not make a
    second command.
    """
    if command not in (*COMMANDS, *COMMANDS.values()):
        raise ProducerError(f"unknown control command {command!r}: pause, resume, degrade, restore")
    if target_kind not in TARGET_KINDS:
        raise ProducerError(f"unknown control target {target_kind!r}: agent, tool or tenant")
    if target_kind == "tenant":
        tenant_id = target  # a tenant's command is that tenant's
    issuing = AgentIdentity(tenant_id, "afl-control", package_version("agent-feedback-lakehouse"))
    key = control_key(tenant_id, target_kind, target)
    payload: dict[str, Any] = {
        "command": command,
        "target_kind": target_kind,
        "target": target,
        "reason": reason,
        "issuer": issuer,
        "expires_at": format_timestamp(expires_at) if expires_at else None,
        **(details or {}),
    }
    return new_event(
        "control",
        payload,
        identity=issuing,
        session_id=key,
        trace_id=f"ctl-{uuid.uuid4().hex[:16]}",
        causation_id=causation_id,
        event_id=event_id or f"{CONTROL_ID_PREFIX}{uuid.uuid4()}",
    )


def command_from(event: Mapping[str, Any]) -> Command:
    """The command a valid control event carries."""
    payload = event["payload"]
    occurred = parse_timestamp(event["occurred_at"])
    expires = parse_timestamp(payload["expires_at"]) if payload.get("expires_at") else None
    return Command(
        event_id=event["event_id"],
        command=payload["command"],
        tenant_id=event["tenant_id"],
        target_kind=payload["target_kind"],
        target=payload["target"],
        reason=payload["reason"],
        issuer=payload["issuer"],
        occurred_at=occurred or datetime.now(UTC),
        expires_at=expires,
        rule=payload.get("rule"),
        window_end=parse_timestamp(payload["window_end"]) if payload.get("window_end") else None,
    )


class ControlState:
    """The latest control command per target, read from the control topic (thread-safe).

    ``start=False`` makes an empty state to ``apply`` values to (tests, replays)."""

    def __init__(self, settings: Settings, *, start: bool = True) -> None:
        self.settings = settings
        self.topic = settings.topic_name(CONTROL_TOPIC)
        self.skipped = 0  # records that were not valid control events
        self._latest: dict[str, Command] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._caught_up = threading.Event()
        self._error: str | None = None
        self._thread: threading.Thread | None = None
        if start:
            self._thread = threading.Thread(target=self._run, name="afl-control", daemon=True)
            self._thread.start()

    # -- questions an app asks --------------------------------------------------------

    def is_paused(self, agent_name: str, tenant_id: str) -> bool:
        """Whether the agent may not act for this tenant: it, or the tenant, is paused."""
        return self.pause_for(agent_name, tenant_id) is not None

    def pause_for(self, agent_name: str, tenant_id: str) -> Command | None:
        """The pause in force for this agent and tenant, if any."""
        return self._find(
            "pause",
            [(tenant_id, "agent", agent_name), (EVERY_TENANT, "agent", agent_name),
             (tenant_id, "tenant", tenant_id), (EVERY_TENANT, "tenant", tenant_id)],
        )  # fmt: skip

    def is_degraded(self, tool_name: str, tenant_id: str) -> bool:
        """Whether the tool is out of rotation (degraded or paused) for this tenant."""
        targets = [(tenant_id, "tool", tool_name), (EVERY_TENANT, "tool", tool_name)]
        return (
            self._find("degrade", targets) is not None or self._find("pause", targets) is not None
        )

    def latest(self, tenant_id: str, target_kind: str, target: str) -> Command | None:
        """The latest command for exactly this target (tenant '*' is its own target)."""
        with self._lock:
            return self._latest.get(control_key(tenant_id, target_kind, target))

    def commands(self) -> list[Command]:
        """The latest command of every target, oldest first."""
        with self._lock:
            return sorted(self._latest.values(), key=lambda c: c.occurred_at)

    def _find(self, command: str, targets: list[tuple[str, str, str]]) -> Command | None:
        now = datetime.now(UTC)
        with self._lock:
            for key in targets:
                found = self._latest.get(control_key(*key))
                if found is not None and found.command == command and found.applies(now):
                    return found
        return None

    # -- keeping it current -----------------------------------------------------------

    def apply(self, value: bytes | None) -> Command | None:
        """Take one record of the control topic; the command it carried, None if skipped."""
        try:
            event = orjson.loads(value) if value is not None else None
            contract = validate_event(event)
            if contract.event_type != "control":
                raise ContractViolation("event_type", "not a control event")
            assert isinstance(event, dict)
            command = command_from(event)
        except (orjson.JSONDecodeError, ContractViolation, KeyError, TypeError) as exc:
            self.skipped += 1
            log.warning("control topic: a record that is not a control command, skipped: %s", exc)
            return None
        with self._lock:
            self._latest[command.key] = command
        return command

    def wait_until_current(self, timeout_s: float = 30.0) -> None:
        """Block until every command published before this call has been read."""
        if not self._caught_up.wait(timeout_s):
            why = f": {self._error}" if self._error else ""
            raise ProducerError(
                f"the control topic {self.topic} was not read within {timeout_s:.0f}s{why}"
            )

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def __enter__(self) -> ControlState:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run(self) -> None:
        consumer = Consumer(
            {
                "bootstrap.servers": self.settings.kafka_bootstrap_servers,
                "group.id": f"afl-control-{uuid.uuid4().hex[:8]}",  # never commits: reads all
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
            }
        )
        try:
            ends = self._assign_from_start(consumer)
            while not self._stop.is_set():
                for message in consumer.consume(num_messages=500, timeout=POLL_S):
                    if message.error() is None:
                        self.apply(message.value())
                        partition, offset = message.partition() or 0, message.offset() or 0
                        if partition in ends and offset >= ends[partition] - 1:
                            del ends[partition]
                if not ends:
                    self._caught_up.set()
        except KafkaException as exc:
            self._error = str(exc.args[0])
            log.error("control topic %s could not be read: %s", self.topic, self._error)
        finally:
            consumer.close()

    def _assign_from_start(self, consumer: Consumer) -> dict[int, int]:
        """Read every partition from its beginning; the end offsets to reach (non-empty)."""
        deadline = time.monotonic() + 30
        while True:
            meta = consumer.list_topics(self.topic, timeout=10)
            found = meta.topics.get(self.topic)
            if found is not None and found.error is None and found.partitions:
                break
            if time.monotonic() > deadline:
                raise KafkaException(f"topic {self.topic} does not exist")
            time.sleep(0.5)
        partitions = sorted(found.partitions)
        ends = {}
        for p in partitions:
            while True:
                try:
                    low, high = consumer.get_watermark_offsets(
                        TopicPartition(self.topic, p), timeout=10
                    )
                    break
                except KafkaException as exc:  # a new topic's leaders are still being elected
                    if time.monotonic() > deadline or exc.args[0].code() not in _NOT_YET:
                        raise
                    time.sleep(0.5)
            if high > low:
                ends[p] = high
        consumer.assign([TopicPartition(self.topic, p, OFFSET_BEGINNING) for p in partitions])
        return ends
