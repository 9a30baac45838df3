"""The action wrapper: one outcome event per agent action, as a context manager and a decorator."""

import json
import time

import pytest

from pipelines.producer.actions import agent_session, current_action, track_action
from pipelines.producer.events import AgentIdentity
from pipelines.producer.sdk import AgentEventProducer
from tests.support.kafka import consume

pytestmark = pytest.mark.integration

IDENTITY = AgentIdentity("acme", "support-bot", "2.4.0", "support-p42", "gpt-4.1-mini")


def test_action_wrapper_emits_outcomes_for_success_and_failure(settings, topics):
    with AgentEventProducer(settings) as producer, agent_session("ses-1", "trc-1"):
        with track_action(producer, IDENTITY, "lookup_order", turn_id="turn-1") as action:
            action.record(input_tokens=100, output_tokens=20, cost_usd=0.002)
            time.sleep(0.05)
        with (
            pytest.raises(ValueError, match="order 77 not found"),
            track_action(producer, IDENTITY, "refund_payment"),
        ):
            raise ValueError("order 77 not found")

        @track_action(producer, IDENTITY, "answer_question", tags=("beta",))
        def answer() -> str:
            current_action().record(quality_score=0.9)
            raise TimeoutError("model took too long")

        with pytest.raises(TimeoutError):
            answer()
    read = consume(settings, [topics["agent.outcomes.v1"]], expected=3)
    outcomes = {
        json.loads(m.value())["payload"]["action_name"]: json.loads(m.value()) for m in read
    }
    ok = outcomes["lookup_order"]
    assert (ok["session_id"], ok["trace_id"]) == ("ses-1", "trc-1")
    assert ok["payload"]["status"] == "SUCCESS" and ok["payload"]["severity"] == "INFO"
    assert ok["payload"]["total_tokens"] == 120 and ok["payload"]["turn_id"] == "turn-1"
    assert ok["payload"]["duration_ms"] >= 50
    failed = outcomes["refund_payment"]["payload"]
    assert (failed["status"], failed["severity"]) == ("FAILURE", "ERROR")
    assert (failed["error_type"], failed["error_message"]) == ("ValueError", "order 77 not found")
    timed_out = outcomes["answer_question"]["payload"]
    assert (timed_out["status"], timed_out["error_type"]) == ("TIMEOUT", "TimeoutError")
    assert timed_out["quality_score"] == 0.9 and timed_out["tags"] == ["beta"]
