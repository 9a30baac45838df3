"""Realistic, reproducible agent traffic — with a known fraction of bad records.

Sessions across tenants, agents, agent and prompt versions follow one turn's life:
user message -> retrieval -> tool calls -> model response -> policy checks -> outcome ->
feedback (ratings, thumbs, corrections, escalations) and sometimes an online evaluation.
Everything comes from one seeded ``random.Random`` and an explicit end time, so the same
seed and end time give byte-identical records. The manifest says exactly what was sent:
valid distinct events per type and bad records per kind.
"""

from __future__ import annotations

import json
import random
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pipelines.contracts.registry import MAX_EVENT_BYTES, serialize
from pipelines.contracts.topics import topic_for_event_type
from pipelines.producer.events import AgentIdentity, format_timestamp, new_event
from pipelines.producer.sdk import AgentEventProducer

RECENT_WINDOW = 10_000
BAD_KINDS = (
    "malformed_json",
    "missing_required",
    "wrong_type",
    "unknown_event_type",
    "oversized",
    "duplicate",
)

TENANTS = ("acme", "globex", "initech", "umbrella")
MODELS = {
    "gpt-4.1-mini": (0.40, 1.60),
    "claude-haiku-4": (0.80, 4.00),
    "llama-3.3-70b": (0.20, 0.60),
}
AGENTS: dict[str, dict[str, Any]] = {
    "support-bot": {
        "versions": ("2.3.0", "2.4.0"),
        "prompts": ("support-p41", "support-p42"),
        "tools": ("search_kb", "lookup_order", "create_ticket", "refund_payment"),
        "action": "resolve_support_request",
        "topics": (
            "my order {n} has not arrived",
            "how do I reset my password",
            "I was charged twice for order {n}",
            "can I return item {n}",
        ),
    },
    "sales-assistant": {
        "versions": ("1.8.1", "1.9.0"),
        "prompts": ("sales-p12", "sales-p13"),
        "tools": ("crm_lookup", "price_quote", "schedule_demo"),
        "action": "answer_sales_question",
        "topics": (
            "what does the enterprise plan cost for {n} seats",
            "do you integrate with our CRM",
            "book a demo for next week",
        ),
    },
    "code-helper": {
        "versions": ("0.9.4", "1.0.0"),
        "prompts": ("code-p7", "code-p8"),
        "tools": ("repo_search", "run_tests", "open_pull_request"),
        "action": "assist_code_change",
        "topics": (
            "why does test_{n} fail",
            "refactor the payment module",
            "add retries to the http client",
        ),
    },
    "billing-agent": {
        "versions": ("3.1.0", "3.2.0"),
        "prompts": ("billing-p3", "billing-p4"),
        "tools": ("get_invoice", "apply_credit", "update_card"),
        "action": "handle_billing_request",
        "topics": (
            "send me invoice {n}",
            "apply my credit to invoice {n}",
            "update my card on file",
        ),
    },
}
POLICIES = (
    ("pii-001", "pii_detector"),
    ("tox-002", "toxicity"),
    ("inj-003", "prompt_injection"),
    ("top-004", "off_topic"),
)
TOOL_ERRORS = (
    ("TimeoutError", "tool did not answer within 10s"),
    ("HTTPError", "upstream returned 502 Bad Gateway"),
    ("RateLimited", "429 Too Many Requests"),
)
ESCALATION_REASONS = ("tool_failure", "user_request", "policy_flag", "low_confidence")
COMMENTS = (
    "that fixed it, thanks",
    "not what I asked",
    "too slow",
    "wrong order number",
    "great answer",
    "it ignored my question",
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


@dataclass
class TrafficManifest:
    seed: int
    events: int
    bad_fraction: float
    schema_version: int
    days_back: float
    end_time: str
    valid_distinct: Counter[str] = field(default_factory=Counter)
    bad: Counter[str] = field(default_factory=Counter)
    by_topic: Counter[str] = field(default_factory=Counter)

    def to_dict(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "events": self.events,
            "bad_fraction": self.bad_fraction,
            "schema_version": self.schema_version,
            "days_back": self.days_back,
            "end_time": self.end_time,
            "records_sent": sum(self.by_topic.values()),
            "valid_distinct_total": sum(self.valid_distinct.values()),
            "valid_distinct": dict(sorted(self.valid_distinct.items())),
            "bad_total": sum(self.bad.values()),
            "bad": {kind: self.bad.get(kind, 0) for kind in BAD_KINDS},
            "by_topic": dict(sorted(self.by_topic.items())),
        }


class TrafficGenerator:
    """Yields ``events`` records in total; ``bad_fraction`` of them are bad, by kind."""

    def __init__(
        self,
        *,
        seed: int,
        events: int,
        end_time: datetime,
        days_back: float = 3.0,
        schema_version: int = 1,
        bad_fraction: float = 0.0,
    ) -> None:
        if events < 0:
            raise ValueError("events must be >= 0")
        if not 0.0 <= bad_fraction <= 1.0:
            raise ValueError("bad_fraction must be within 0..1")
        if schema_version not in (1, 2):
            raise ValueError("schema_version must be 1 or 2")
        if end_time.tzinfo is None:
            raise ValueError("end_time must be timezone-aware")
        self.rng = random.Random(seed)
        self.events = events
        self.end_time = end_time
        self.days_back = days_back
        self.schema_version = schema_version
        self.bad_count = round(events * bad_fraction)
        self.manifest = TrafficManifest(
            seed, events, bad_fraction, schema_version, days_back, end_time.isoformat()
        )

    def __iter__(self) -> Iterator[GeneratedRecord]:
        rng = self.rng
        kinds = [BAD_KINDS[i % len(BAD_KINDS)] for i in range(self.bad_count)]
        rng.shuffle(kinds)
        bad_slots = dict(
            zip(sorted(rng.sample(range(self.events), self.bad_count)), kinds, strict=True)
        )
        # Duplicates and bad-record templates come from a recent window (a retry storm
        # re-sends recent events), which also keeps memory flat for millions of records.
        sent_valid: deque[GeneratedRecord] = deque(maxlen=RECENT_WINDOW)
        deferred_duplicates = 0
        sessions = self._sessions()
        pending: list[dict[str, Any]] = []
        for slot in range(self.events):
            kind = bad_slots.get(slot)
            if kind == "duplicate" and not sent_valid:
                deferred_duplicates += 1  # nothing sent yet to duplicate: send it at the end
                continue
            if kind is not None:
                yield self._emit(self._bad(kind, sent_valid))
                continue
            while not pending:
                pending = next(sessions)
            event = pending.pop(0)
            record = GeneratedRecord(
                "valid",
                topic_for_event_type(event["event_type"]).name,
                event["session_id"],
                serialize(event),
                event["event_type"],
                event,
            )
            sent_valid.append(record)
            yield self._emit(record)
        for _ in range(deferred_duplicates):
            yield self._emit(self._bad("duplicate", sent_valid))

    def _emit(self, record: GeneratedRecord) -> GeneratedRecord:
        if record.kind == "valid":
            self.manifest.valid_distinct[record.event_type or ""] += 1
        else:
            self.manifest.bad[record.kind] += 1
        self.manifest.by_topic[record.topic] += 1
        return record

    # -- valid sessions ----------------------------------------------------------------

    def _id(self, prefix: str) -> str:
        return f"{prefix}-{uuid.UUID(int=self.rng.getrandbits(128), version=4).hex[:20]}"

    def _event_id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def _sessions(self) -> Iterator[list[dict[str, Any]]]:
        while True:
            yield self._session()

    def _session(self) -> list[dict[str, Any]]:
        rng = self.rng
        agent_name = rng.choice(sorted(AGENTS))
        agent = AGENTS[agent_name]
        model = rng.choice(sorted(MODELS))
        newer = rng.random() < 0.5
        identity = AgentIdentity(
            tenant_id=rng.choice(TENANTS),
            agent_name=agent_name,
            agent_version=agent["versions"][int(newer)],
            prompt_version=agent["prompts"][int(newer or rng.random() < 0.3)],
            model=model,
        )
        session_id = self._id("ses")
        user_id = f"user-{identity.tenant_id}-{rng.randrange(5000):04d}"
        span = timedelta(days=self.days_back)
        moment = self.end_time - span * rng.random() - timedelta(minutes=10)
        events: list[dict[str, Any]] = []
        for _ in range(rng.choices((1, 2, 3), weights=(5, 3, 2))[0]):
            moment = self._turn(events, identity, agent, session_id, user_id, moment)
            moment += timedelta(seconds=rng.uniform(20, 240))
        return events

    def _turn(
        self,
        events: list[dict[str, Any]],
        identity: AgentIdentity,
        agent: dict[str, Any],
        session_id: str,
        user_id: str,
        moment: datetime,
    ) -> datetime:
        rng = self.rng
        trace_id = self._id("trc")
        turn_id = self._id("turn")
        v2 = self.schema_version == 2
        last_id: str | None = None

        def add(event_type: str, payload: dict[str, Any], gap_s: float) -> str:
            nonlocal moment, last_id
            moment += timedelta(milliseconds=int(gap_s * 1000))
            event = new_event(
                event_type,
                payload,
                identity=identity,
                session_id=session_id,
                trace_id=trace_id,
                causation_id=last_id,
                occurred_at=moment,
                event_id=self._event_id(),
                schema_version=self.schema_version,
            )
            events.append(event)
            last_id = event["event_id"]
            return last_id

        question = rng.choice(agent["topics"]).format(n=rng.randrange(1000, 99999))
        message_id = add(
            "interaction",
            {"turn_id": turn_id, "kind": "user_message", "text": question}
            | ({"language": rng.choice(("en", "en", "de", "fr")), "attachments": 0} if v2 else {}),
            0,
        )
        refs = [
            {
                "doc_id": f"kb-{rng.randrange(10000):05d}",
                "source": "kb",
                "score": round(rng.random(), 3),
            }
            for _ in range(rng.randint(1, 4))
        ]
        add(
            "interaction",
            {
                "turn_id": turn_id,
                "kind": "retrieval",
                "context_refs": refs,
                "latency_ms": round(rng.uniform(20, 300), 1),
            },
            rng.uniform(0.05, 0.3),
        )
        tool_failures = 0
        for _ in range(rng.choices((0, 1, 2, 3), weights=(3, 4, 2, 1))[0]):
            tool_name = rng.choice(agent["tools"])
            call_id = self._id("call")
            base = {
                "tool_call_id": call_id,
                "tool_name": tool_name,
                "turn_id": turn_id,
                "attempt": 1,
            }
            extra_v2 = {"tool_version": "1." + str(rng.randrange(5))} if v2 else {}
            add("tool_call", base | {"phase": "started"} | extra_v2, rng.uniform(0.01, 0.1))
            latency = round(rng.lognormvariate(5.3, 0.6), 1)
            if rng.random() < 0.12:
                tool_failures += 1
                tool_error, message = rng.choice(TOOL_ERRORS)
                add(
                    "tool_call",
                    base
                    | {
                        "phase": "failed",
                        "latency_ms": latency,
                        "error_type": tool_error,
                        "error_message": message,
                    }
                    | extra_v2,
                    latency / 1000,
                )
            else:
                done = base | {"phase": "completed", "latency_ms": latency} | extra_v2
                if v2:
                    done["result_size_bytes"] = rng.randrange(200, 20000)
                add("tool_call", done, latency / 1000)
        input_tokens, output_tokens = rng.randint(300, 4000), rng.randint(40, 900)
        llm_latency = round(rng.lognormvariate(6.8, 0.5), 1)
        response_id = add(
            "interaction",
            {
                "turn_id": turn_id,
                "kind": "model_response",
                "text": f"Here is what I found about {question.split()[-1]}.",
                "input_tokens": input_tokens,
                "output_tokens": output_tokens,
                "latency_ms": llm_latency,
                "finish_reason": "stop",
            }
            | ({"language": "en", "attachments": 0} if v2 else {}),
            llm_latency / 1000,
        )
        decision = "allow"
        for rule_id, policy_name in rng.sample(POLICIES, rng.randint(1, 2)):
            roll = rng.random()
            this = "block" if roll < 0.02 else "flag" if roll < 0.10 else "allow"
            if this != "allow":
                decision = this if decision != "block" else decision
            payload = {
                "rule_id": rule_id,
                "policy_name": policy_name,
                "decision": this,
                "score": round(rng.random() * (0.3 if this == "allow" else 1.0), 3),
                "turn_id": turn_id,
                "target_event_id": response_id,
                "reason": None if this == "allow" else f"{policy_name} threshold exceeded",
            }
            if v2:
                payload |= {"policy_version": "2026.11", "enforcement_mode": "enforce"}
            add("policy_decision", payload, rng.uniform(0.005, 0.05))
        status, severity = "SUCCESS", "INFO"
        error_type: str | None = None
        error_message: str | None = None
        roll = rng.random()
        if decision == "block":
            status, severity = "CANCELLED", "WARNING"
        elif roll < 0.04:
            status, severity = "TIMEOUT", "ERROR"
            error_type, error_message = "TimeoutError", "agent exceeded its 30s budget"
        elif tool_failures and roll < 0.5:
            status, severity = ("FAILURE", "ERROR") if roll < 0.25 else ("PARTIAL", "WARNING")
            error_type, error_message = "ToolError", f"{tool_failures} tool call(s) failed"
        elif roll < 0.06:
            status, severity = "FAILURE", "CRITICAL"
            error_type, error_message = "ModelError", "model returned an empty response"
        in_price, out_price = MODELS[identity.model or "gpt-4.1-mini"]
        duration = round(llm_latency + rng.uniform(200, 2500), 1)
        action_start = moment - timedelta(milliseconds=int(llm_latency))
        outcome = {
            "action_id": self._id("act"),
            "action_name": agent["action"],
            "turn_id": turn_id,
            "status": status,
            "severity": severity,
            "started_at": format_timestamp(action_start),
            "ended_at": format_timestamp(action_start + timedelta(milliseconds=int(duration))),
            "duration_ms": duration,
            "latency_ms": round(llm_latency * rng.uniform(0.3, 0.9), 1),
            "llm_latency_ms": llm_latency,
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "total_tokens": input_tokens + output_tokens,
            "cost_usd": round((input_tokens * in_price + output_tokens * out_price) / 1e6, 6),
            "error_type": error_type,
            "error_message": error_message,
            "retry_count": rng.choices((0, 1, 2), weights=(8, 2, 1))[0],
            "quality_score": round(
                rng.uniform(0.2, 1.0) if status == "SUCCESS" else rng.uniform(0, 0.5), 3
            ),
            "confidence_score": round(rng.uniform(0.3, 1.0), 3),
            "workflow_id": f"wf-{identity.agent_name}",
            "correlation_id": message_id,
            "tags": sorted(
                rng.sample(("beta", "vip", "mobile", "web", "retry"), rng.randint(0, 2))
            ),
            "metadata": {
                "region": rng.choice(("eu-west-1", "us-east-1")),
                "channel": rng.choice(("web", "app")),
            },
        }
        if v2:
            outcome |= {
                "cache_hit": rng.random() < 0.2,
                "model_provider": (identity.model or "gpt-4.1-mini").split("-")[0],
            }
        add("outcome", outcome, duration / 1000)
        bad_turn = status != "SUCCESS" or decision != "allow"
        if rng.random() < 0.45:
            self._feedback(add, turn_id, response_id, bad_turn, tool_failures, rng.random())
        if rng.random() < 0.15:
            score = round(rng.uniform(0, 0.6) if bad_turn else rng.uniform(0.5, 1.0), 3)
            evaluation = {
                "evaluator": "online_groundedness",
                "evaluator_version": "1",
                "unit_type": "turn",
                "unit_id": turn_id,
                "label": "grounded" if score >= 0.5 else "ungrounded",
                "score": score,
                "explanation": f"{len(refs)} context document(s) support the answer",
                "turn_id": turn_id,
                "target_event_id": response_id,
            }
            if v2:
                evaluation |= {"judge_model": "gpt-4.1-mini", "cost_usd": 0.0004}
            add("evaluation", evaluation, rng.uniform(1, 5))
        return moment

    def _feedback(self, add, turn_id, response_id, bad_turn, tool_failures, roll) -> None:  # type: ignore[no-untyped-def]
        rng = self.rng
        base = {
            "turn_id": turn_id,
            "target_event_id": response_id,
            "user_id": f"user-{rng.randrange(100000):05d}",
        }
        if self.schema_version == 2:
            base |= {"channel": rng.choice(("web", "slack", "api")), "locale": "en-US"}
        if tool_failures and rng.random() < 0.35:
            add(
                "feedback",
                base
                | {
                    "feedback_kind": "escalation",
                    "escalation_reason": rng.choice(ESCALATION_REASONS),
                    "reviewer": f"agent-{rng.randrange(40):02d}",
                },
                rng.uniform(5, 60),
            )
        if roll < 0.45:
            rating = rng.choices(
                (1, 2, 3, 4, 5), weights=(4, 3, 2, 1, 1) if bad_turn else (1, 1, 2, 4, 5)
            )[0]
            comment = rng.choice(COMMENTS) if rng.random() < 0.4 else None
            add(
                "feedback",
                base | {"feedback_kind": "rating", "rating": rating, "comment": comment},
                rng.uniform(2, 30),
            )
        elif roll < 0.85:
            down = rng.random() < (0.7 if bad_turn else 0.15)
            add(
                "feedback",
                base | {"feedback_kind": "thumbs", "thumbs": "down" if down else "up"},
                rng.uniform(1, 20),
            )
        else:
            if rng.random() < 0.4:  # rated it fairly well, yet corrected a detail
                rating = rng.choice((3, 4, 5))
                add(
                    "feedback",
                    base | {"feedback_kind": "rating", "rating": rating},
                    rng.uniform(2, 30),
                )
            add(
                "feedback",
                base
                | {
                    "feedback_kind": "correction",
                    "thumbs": "down",
                    "correction": "The right answer is in the account settings page.",
                },
                rng.uniform(10, 90),
            )

    # -- bad records -------------------------------------------------------------------

    def _bad(self, kind: str, sent_valid: deque[GeneratedRecord]) -> GeneratedRecord:
        rng = self.rng
        if kind == "duplicate":
            original = sent_valid[rng.randrange(len(sent_valid))]
            return GeneratedRecord(
                "duplicate",
                original.topic,
                original.key,
                original.value,
                original.event_type,
                original.event,
            )
        template = self._template(sent_valid)
        event = json.loads(serialize(template))
        event["event_id"] = self._event_id()
        topic = topic_for_event_type(event["event_type"]).name
        if kind == "malformed_json":
            raw = serialize(event)
            value = raw[: rng.randrange(10, len(raw) - 5)]
        elif kind == "missing_required":
            if rng.random() < 0.5:
                del event["tenant_id"]
            else:
                del event["payload"][_REQUIRED_PAYLOAD[event["event_type"]]]
            value = serialize(event)
        elif kind == "wrong_type":
            field_name = _NUMERIC_PAYLOAD[event["event_type"]]
            event["payload"][field_name] = "not-a-number"
            value = serialize(event)
        elif kind == "unknown_event_type":
            event["event_type"] = "agent_thought"
            value = serialize(event)
        elif kind == "oversized":
            # Schema-valid but too large: only the size is wrong.
            event["debug_blob"] = "x" * (MAX_EVENT_BYTES + 1024)
            value = serialize(event)
        else:
            raise ValueError(f"unknown bad kind {kind!r}")
        return GeneratedRecord(kind, topic, event.get("session_id"), value, event["event_type"])

    def _template(self, sent_valid: deque[GeneratedRecord]) -> dict[str, Any]:
        if sent_valid:
            record = sent_valid[self.rng.randrange(len(sent_valid))]
            assert record.event is not None
            return record.event
        return self._session()[0]


_REQUIRED_PAYLOAD = {
    "interaction": "turn_id",
    "feedback": "feedback_kind",
    "tool_call": "tool_name",
    "outcome": "status",
    "policy_decision": "decision",
    "evaluation": "unit_id",
}
_NUMERIC_PAYLOAD = {
    "interaction": "latency_ms",
    "feedback": "rating",
    "tool_call": "latency_ms",
    "outcome": "cost_usd",
    "policy_decision": "score",
    "evaluation": "score",
}


def send_traffic(
    producer: AgentEventProducer,
    generator: TrafficGenerator,
    *,
    rate: float | None = None,
    live: bool = False,
    progress: Callable[[str], None] | None = None,
) -> TrafficManifest:
    """Send every generated record: valid ones through ``emit``, bad ones raw.

    ``live``: each valid event occurs the moment it is sent (its occurred_at is now), as
    an agent's events do; otherwise they keep the generator's times (history).
    """
    started = time.monotonic()
    step = max(1, generator.events // 10)
    for i, record in enumerate(generator, start=1):
        if record.kind == "valid":
            assert record.event is not None
            if live:
                record.event["occurred_at"] = format_timestamp(datetime.now(UTC))
            producer.emit(record.event)
        else:
            producer.produce_raw(record.topic, record.value, record.key)
        if rate:
            ahead = i / rate - (time.monotonic() - started)
            if ahead > 0:
                time.sleep(ahead)
        if progress and i % step == 0:
            elapsed = time.monotonic() - started
            progress(f"  sent {i:,}/{generator.events:,} ({i / max(elapsed, 1e-9):,.0f}/s)")
    producer.flush()
    return generator.manifest
