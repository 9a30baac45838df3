"""Sessions and their turns: one turn's life, step by step, as envelope events.

user message -> retrieval -> tool calls -> model response -> policy checks -> outcome ->
feedback (ratings, thumbs, corrections, escalations) and sometimes an online evaluation.

Every value comes from the generator's one ``random.Random``, drawn in a fixed order: the
same seed gives byte-identical events only while that order holds, so moving, adding or
dropping a draw (even one whose value no event keeps) changes every seed's output.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pipelines.producer.events import AgentIdentity, format_timestamp, new_event
from pipelines.producer.traffic.catalog import (
    AGENTS,
    COMMENTS,
    DEFAULT_MODEL,
    ESCALATION_REASONS,
    MODELS,
    POLICIES,
    TENANTS,
    TOOL_ERRORS,
    AgentProfile,
)


def random_id(rng: random.Random, prefix: str) -> str:
    """A short prefixed id (``ses-…``, ``turn-…``) from the rng, so seeds fix it too."""
    return f"{prefix}-{uuid.UUID(int=rng.getrandbits(128), version=4).hex[:20]}"


def random_event_id(rng: random.Random) -> str:
    """A UUID4-shaped event id from the rng (``uuid.uuid4()`` would not be reproducible)."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


class SessionMaker:
    """Whole sessions, one after another: an agent deployment, a start time within
    ``days_back`` of ``end_time`` and one to three turns a few minutes apart."""

    def __init__(
        self,
        rng: random.Random,
        *,
        end_time: datetime,
        days_back: float,
        schema_version: int,
    ) -> None:
        self.rng = rng
        self.end_time = end_time
        self.days_back = days_back
        self.schema_version = schema_version

    def next_session(self) -> list[dict[str, Any]]:
        """The next session's events in the order they occur."""
        rng = self.rng
        agent = AGENTS[rng.choice(sorted(AGENTS))]
        model = rng.choice(sorted(MODELS))
        newer = rng.random() < 0.5
        identity = AgentIdentity(
            tenant_id=rng.choice(TENANTS),
            agent_name=agent.name,
            agent_version=agent.versions[int(newer)],
            prompt_version=agent.prompts[int(newer or rng.random() < 0.3)],
            model=model,
        )
        session_id = random_id(rng, "ses")
        rng.randrange(5000)  # a session user number no event carries; drawn to keep seeds stable
        span = timedelta(days=self.days_back)
        moment = self.end_time - span * rng.random() - timedelta(minutes=10)
        events: list[dict[str, Any]] = []
        for _ in range(rng.choices((1, 2, 3), weights=(5, 3, 2))[0]):
            turn = TurnBuilder(
                rng,
                identity=identity,
                agent=agent,
                session_id=session_id,
                moment=moment,
                schema_version=self.schema_version,
            )
            moment = turn.build()
            events.extend(turn.events)
            moment += timedelta(seconds=rng.uniform(20, 240))
        return events


@dataclass(frozen=True)
class ModelCall:
    """What the outcome needs to know about the turn's model response."""

    event_id: str
    input_tokens: int
    output_tokens: int
    latency_ms: float


class TurnBuilder:
    """One turn's events, each caused by the one before it, on the turn's own clock.

    ``add`` moves the clock (``moment``) on and chains the event to the previous one;
    ``build`` runs the steps in order. Creating a builder draws the trace and turn ids.
    """

    def __init__(
        self,
        rng: random.Random,
        *,
        identity: AgentIdentity,
        agent: AgentProfile,
        session_id: str,
        moment: datetime,
        schema_version: int,
    ) -> None:
        self.rng = rng
        self.identity = identity
        self.agent = agent
        self.session_id = session_id
        self.moment = moment
        self.schema_version = schema_version
        self.v2 = schema_version == 2
        self.trace_id = random_id(rng, "trc")
        self.turn_id = random_id(rng, "turn")
        self.last_id: str | None = None
        self.events: list[dict[str, Any]] = []

    @property
    def model(self) -> str:
        """The model the turn calls (the price list's default if the identity names none)."""
        return self.identity.model or DEFAULT_MODEL

    def add(self, event_type: str, payload: dict[str, Any], gap_s: float) -> str:
        """Add an event ``gap_s`` seconds after the previous one, caused by it; its id."""
        self.moment += timedelta(milliseconds=int(gap_s * 1000))
        event_id = random_event_id(self.rng)
        self.events.append(
            new_event(
                event_type,
                payload,
                identity=self.identity,
                session_id=self.session_id,
                trace_id=self.trace_id,
                causation_id=self.last_id,
                occurred_at=self.moment,
                event_id=event_id,
                schema_version=self.schema_version,
            )
        )
        self.last_id = event_id
        return event_id

    def build(self) -> datetime:
        """Every step of the turn, in order; the moment of its last event."""
        question, message_id = self.user_message()
        documents = self.retrieval()
        tool_failures = self.tool_calls()
        response = self.model_response(question)
        decision = self.policy_checks(response.event_id)
        status = self.outcome(response, decision, tool_failures, message_id)
        bad_turn = status != "SUCCESS" or decision != "allow"
        if self.rng.random() < 0.45:
            self.feedback(response.event_id, bad_turn, tool_failures, self.rng.random())
        if self.rng.random() < 0.15:
            self.evaluation(response.event_id, bad_turn, documents)
        return self.moment

    # -- the steps ----------------------------------------------------------------------

    def user_message(self) -> tuple[str, str]:
        """The user's question (one of the agent's topics) and its event id."""
        rng = self.rng
        question = rng.choice(self.agent.topics).format(n=rng.randrange(1000, 99999))
        payload: dict[str, Any] = {
            "turn_id": self.turn_id,
            "kind": "user_message",
            "text": question,
        }
        if self.v2:
            payload |= {"language": rng.choice(("en", "en", "de", "fr")), "attachments": 0}
        return question, self.add("interaction", payload, 0)

    def retrieval(self) -> int:
        """One to four knowledge-base documents fetched for the question; how many."""
        rng = self.rng
        refs = [
            {
                "doc_id": f"kb-{rng.randrange(10000):05d}",
                "source": "kb",
                "score": round(rng.random(), 3),
            }
            for _ in range(rng.randint(1, 4))
        ]
        self.add(
            "interaction",
            {
                "turn_id": self.turn_id,
                "kind": "retrieval",
                "context_refs": refs,
                "latency_ms": round(rng.uniform(20, 300), 1),
            },
            rng.uniform(0.05, 0.3),
        )
        return len(refs)

    def tool_calls(self) -> int:
        """Zero to three calls of the agent's tools; how many failed."""
        failures = 0
        for _ in range(self.rng.choices((0, 1, 2, 3), weights=(3, 4, 2, 1))[0]):
            if not self.tool_call():
                failures += 1
        return failures

    def tool_call(self) -> bool:
        """One tool call, started then completed or (about one in eight) failed; whether it
        completed."""
        rng = self.rng
        tool_name = rng.choice(self.agent.tools)
        call_id = random_id(rng, "call")
        base = {
            "tool_call_id": call_id,
            "tool_name": tool_name,
            "turn_id": self.turn_id,
            "attempt": 1,
        }
        extra_v2 = {"tool_version": "1." + str(rng.randrange(5))} if self.v2 else {}
        self.add("tool_call", base | {"phase": "started"} | extra_v2, rng.uniform(0.01, 0.1))
        latency = round(rng.lognormvariate(5.3, 0.6), 1)
        if rng.random() < 0.12:
            tool_error, message = rng.choice(TOOL_ERRORS)
            failed = {
                "phase": "failed",
                "latency_ms": latency,
                "error_type": tool_error,
                "error_message": message,
            }
            self.add("tool_call", base | failed | extra_v2, latency / 1000)
            return False
        done = base | {"phase": "completed", "latency_ms": latency} | extra_v2
        if self.v2:
            done["result_size_bytes"] = rng.randrange(200, 20000)
        self.add("tool_call", done, latency / 1000)
        return True

    def model_response(self, question: str) -> ModelCall:
        """The model's answer: its tokens and latency, which the outcome reports too."""
        rng = self.rng
        input_tokens, output_tokens = rng.randint(300, 4000), rng.randint(40, 900)
        latency = round(rng.lognormvariate(6.8, 0.5), 1)
        payload: dict[str, Any] = {
            "turn_id": self.turn_id,
            "kind": "model_response",
            "text": f"Here is what I found about {question.split()[-1]}.",
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "latency_ms": latency,
            "finish_reason": "stop",
        }
        if self.v2:
            payload |= {"language": "en", "attachments": 0}
        event_id = self.add("interaction", payload, latency / 1000)
        return ModelCall(event_id, input_tokens, output_tokens, latency)

    def policy_checks(self, response_id: str) -> str:
        """One or two policies judge the response; the turn's decision (a block wins over a
        flag, a flag over allow)."""
        rng = self.rng
        decision = "allow"
        for rule_id, policy_name in rng.sample(POLICIES, rng.randint(1, 2)):
            roll = rng.random()
            this = "block" if roll < 0.02 else "flag" if roll < 0.10 else "allow"
            if this != "allow":
                decision = this if decision != "block" else decision
            payload: dict[str, Any] = {
                "rule_id": rule_id,
                "policy_name": policy_name,
                "decision": this,
                "score": round(rng.random() * (0.3 if this == "allow" else 1.0), 3),
                "turn_id": self.turn_id,
                "target_event_id": response_id,
                "reason": None if this == "allow" else f"{policy_name} threshold exceeded",
            }
            if self.v2:
                payload |= {"policy_version": "2026.11", "enforcement_mode": "enforce"}
            self.add("policy_decision", payload, rng.uniform(0.005, 0.05))
        return decision

    def outcome(
        self, response: ModelCall, decision: str, tool_failures: int, message_id: str
    ) -> str:
        """The action's outcome: status, timing, tokens and cost; its status."""
        rng = self.rng
        status, severity, error_type, error_message = self._status(decision, tool_failures)
        duration = round(response.latency_ms + rng.uniform(200, 2500), 1)
        action_start = self.moment - timedelta(milliseconds=int(response.latency_ms))
        tokens_in, tokens_out = response.input_tokens, response.output_tokens
        outcome = {
            "action_id": random_id(rng, "act"),
            "action_name": self.agent.action,
            "turn_id": self.turn_id,
            "status": status,
            "severity": severity,
            "started_at": format_timestamp(action_start),
            "ended_at": format_timestamp(action_start + timedelta(milliseconds=int(duration))),
            "duration_ms": duration,
            "latency_ms": round(response.latency_ms * rng.uniform(0.3, 0.9), 1),
            "llm_latency_ms": response.latency_ms,
            "input_tokens": tokens_in,
            "output_tokens": tokens_out,
            "total_tokens": tokens_in + tokens_out,
            "cost_usd": MODELS[self.model].cost_usd(tokens_in, tokens_out),
            "error_type": error_type,
            "error_message": error_message,
            "retry_count": rng.choices((0, 1, 2), weights=(8, 2, 1))[0],
            "quality_score": round(
                rng.uniform(0.2, 1.0) if status == "SUCCESS" else rng.uniform(0, 0.5), 3
            ),
            "confidence_score": round(rng.uniform(0.3, 1.0), 3),
            "workflow_id": f"wf-{self.identity.agent_name}",
            "correlation_id": message_id,
            "tags": sorted(
                rng.sample(("beta", "vip", "mobile", "web", "retry"), rng.randint(0, 2))
            ),
            "metadata": {
                "region": rng.choice(("eu-west-1", "us-east-1")),
                "channel": rng.choice(("web", "app")),
            },
        }
        if self.v2:
            outcome |= {
                "cache_hit": rng.random() < 0.2,
                "model_provider": self.model.split("-")[0],
            }
        self.add("outcome", outcome, duration / 1000)
        return status

    def _status(self, decision: str, tool_failures: int) -> tuple[str, str, str | None, str | None]:
        """Status, severity, error type and message: a block cancels; otherwise timeouts,
        tool failures and empty model responses fail some turns."""
        roll = self.rng.random()
        if decision == "block":
            return "CANCELLED", "WARNING", None, None
        if roll < 0.04:
            return "TIMEOUT", "ERROR", "TimeoutError", "agent exceeded its 30s budget"
        if tool_failures and roll < 0.5:
            status, severity = ("FAILURE", "ERROR") if roll < 0.25 else ("PARTIAL", "WARNING")
            return status, severity, "ToolError", f"{tool_failures} tool call(s) failed"
        if roll < 0.06:
            return "FAILURE", "CRITICAL", "ModelError", "model returned an empty response"
        return "SUCCESS", "INFO", None, None

    def feedback(self, response_id: str, bad_turn: bool, tool_failures: int, roll: float) -> None:
        """What the user did about the response: maybe an escalation after failed tools, then
        (by ``roll``) a rating, a thumb, or a correction (sometimes after a rating); bad turns
        get worse ratings and more thumbs down."""
        rng = self.rng
        base: dict[str, Any] = {
            "turn_id": self.turn_id,
            "target_event_id": response_id,
            "user_id": f"user-{rng.randrange(100000):05d}",
        }
        if self.v2:
            base |= {"channel": rng.choice(("web", "slack", "api")), "locale": "en-US"}
        if tool_failures and rng.random() < 0.35:
            escalation = {
                "feedback_kind": "escalation",
                "escalation_reason": rng.choice(ESCALATION_REASONS),
                "reviewer": f"agent-{rng.randrange(40):02d}",
            }
            self.add("feedback", base | escalation, rng.uniform(5, 60))
        if roll < 0.45:
            weights = (4, 3, 2, 1, 1) if bad_turn else (1, 1, 2, 4, 5)
            rating = rng.choices((1, 2, 3, 4, 5), weights=weights)[0]
            comment = rng.choice(COMMENTS) if rng.random() < 0.4 else None
            self.add(
                "feedback",
                base | {"feedback_kind": "rating", "rating": rating, "comment": comment},
                rng.uniform(2, 30),
            )
        elif roll < 0.85:
            down = rng.random() < (0.7 if bad_turn else 0.15)
            self.add(
                "feedback",
                base | {"feedback_kind": "thumbs", "thumbs": "down" if down else "up"},
                rng.uniform(1, 20),
            )
        else:
            if rng.random() < 0.4:  # rated it fairly well, yet corrected a detail
                rating = rng.choice((3, 4, 5))
                self.add(
                    "feedback",
                    base | {"feedback_kind": "rating", "rating": rating},
                    rng.uniform(2, 30),
                )
            correction = {
                "feedback_kind": "correction",
                "thumbs": "down",
                "correction": "The right answer is in the account settings page.",
            }
            self.add("feedback", base | correction, rng.uniform(10, 90))

    def evaluation(self, response_id: str, bad_turn: bool, documents: int) -> None:
        """An online groundedness score of the response (lower for bad turns)."""
        rng = self.rng
        score = round(rng.uniform(0, 0.6) if bad_turn else rng.uniform(0.5, 1.0), 3)
        evaluation: dict[str, Any] = {
            "evaluator": "online_groundedness",
            "evaluator_version": "1",
            "unit_type": "turn",
            "unit_id": self.turn_id,
            "label": "grounded" if score >= 0.5 else "ungrounded",
            "score": score,
            "explanation": f"{documents} context document(s) support the answer",
            "turn_id": self.turn_id,
            "target_event_id": response_id,
        }
        if self.v2:
            evaluation |= {"judge_model": "gpt-4.1-mini", "cost_usd": 0.0004}
        self.add("evaluation", evaluation, rng.uniform(1, 5))
