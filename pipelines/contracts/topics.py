"""The topic registry: the single source of truth for agent event topics.

Topic creation, the producer SDK, the stream ingest and the docs all read this list.
"""

from __future__ import annotations

from dataclasses import dataclass

DAY_MS = 24 * 60 * 60 * 1000


@dataclass(frozen=True)
class Topic:
    """One Kafka topic: what it carries and how it is kept."""

    name: str
    carries: str
    classification: str  # public | internal | confidential | restricted | "as source"
    event_types: tuple[str, ...]
    partitions: int = 3
    retention_days: int = 7
    key: str = "session_id"
    # Compacted: Kafka keeps the latest record per key for good (a control command per
    # target: the target's state), and every record for ``retention_days`` before that, so
    # the stream lands each one in the lake, offsets without gaps.
    compacted: bool = False
    # Traffic arrives all the time, so a silent table means a broken path (its freshness is
    # checked); commands and approvals come when someone acts, and silence is normal.
    steady: bool = True

    @property
    def retention_ms(self) -> int:
        return self.retention_days * DAY_MS

    def config(self) -> dict[str, str]:
        """Kafka topic-level configuration."""
        config = {
            "retention.ms": str(self.retention_ms),
            "cleanup.policy": "delete",
            # Agent events are small; this bounds one record (the producer checks too).
            "max.message.bytes": str(1024 * 1024),
        }
        if self.compacted:
            config["cleanup.policy"] = "compact"
            config["min.compaction.lag.ms"] = str(self.retention_ms)
            del config["retention.ms"]
        return config


TOPICS: tuple[Topic, ...] = (
    Topic(
        "agent.interactions.v1",
        "user messages, retrieved context refs, model responses",
        "restricted",
        ("interaction",),
    ),
    Topic(
        "agent.feedback.v1",
        "thumbs, 1-5 ratings, corrections, escalations, reviewer",
        "confidential",
        ("feedback",),
    ),
    Topic(
        "agent.tool_calls.v1",
        "tool call started / completed / failed, latency, error",
        "internal",
        ("tool_call",),
    ),
    Topic(
        "agent.outcomes.v1",
        "one outcome per agent action: status, severity, timing, tokens, cost",
        "internal",
        ("outcome",),
    ),
    Topic(
        "agent.policy.v1",
        "guardrail and policy decisions (allow / flag / block, rule, score)",
        "confidential",
        ("policy_decision",),
    ),
    Topic(
        "agent.evaluations.v1",
        "evaluator labels and scores, with evaluator name@version",
        "internal",
        ("evaluation",),
    ),
    Topic(
        "agent.control.v1",
        "pause / resume / degrade / restore commands for agents, tools and tenants",
        "internal",
        ("control",),
        compacted=True,
        steady=False,
    ),
    Topic(
        "agent.approvals.v1",
        "human approval requests on held responses, and the reviewers' decisions",
        "confidential",
        ("approval",),
        steady=False,
    ),
    Topic(
        "agent.dlq",
        "events a producer could not validate, with the reason",
        "as source",
        (),
        partitions=1,
        retention_days=30,
    ),
)

DLQ_TOPIC = "agent.dlq"
CONTROL_TOPIC = "agent.control.v1"


def topic(name: str) -> Topic:
    """Look up a registry topic by name."""
    for t in TOPICS:
        if t.name == name:
            return t
    raise KeyError(f"unknown topic {name!r}; known: {', '.join(t.name for t in TOPICS)}")


def event_topics() -> tuple[Topic, ...]:
    """The topics that carry agent events (everything but the DLQ)."""
    return tuple(t for t in TOPICS if t.name != DLQ_TOPIC)


def topic_for_event_type(event_type: str) -> Topic:
    for t in TOPICS:
        if event_type in t.event_types:
            return t
    raise KeyError(f"no topic carries event type {event_type!r}")
