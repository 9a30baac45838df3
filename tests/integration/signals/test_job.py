"""The signal job on the real stack: a tool starts failing, the job (its own process)
degrades it, an app in this process sees it; the job is killed -9 right after and
restarted; the tool recovers and the job restores it. The control topic then holds
exactly one degrade and one restore, and the lake lands both once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import uuid
from datetime import UTC, datetime

import pytest
from pyspark.sql import functions as F

from pipelines.contracts.topics import CONTROL_TOPIC
from pipelines.ingest.stream import CATCH_UP, run_ingest
from pipelines.producer.control import ControlState
from pipelines.producer.events import AgentIdentity, new_event
from pipelines.producer.sdk import AgentEventProducer
from pipelines.spark.tables import silver_spec
from tests import AFL
from tests.support.kafka import consume, create_registry_topics
from tests.support.lake import assert_lake_exact
from tests.support.shell import shell_env
from tests.support.streams import running_stream, wait_for

pytestmark = pytest.mark.integration

WHO = AgentIdentity("acme", "support-bot", "2.4.0", "support-p42", "gpt-4.1-mini")
RULES = """\
rules:
  - name: tool-failure-rate
    event_type: tool_call
    target_kind: tool
    target: tool_name
    counted: {phase: [completed, failed]}
    failing: {phase: [failed]}
    window: 20s
    slide: 5s
    min_events: 6
    above: 0.5
    below: 0.2
    command: degrade
"""


def tool_calls(producer, tool: str, failed: int, completed: int) -> None:
    """Finished calls of ``tool`` happening now, the failures first."""
    for i in range(failed + completed):
        call = f"tc-{uuid.uuid4().hex[:12]}"
        producer.emit(
            new_event(
                "tool_call",
                {"tool_call_id": call, "tool_name": tool,
                 "phase": "failed" if i < failed else "completed", "latency_ms": 120.0},
                identity=WHO,
                session_id=f"ses-{i % 3}",
                trace_id=f"trc-{call}",
                occurred_at=datetime.now(UTC),
            )
        )  # fmt: skip
    producer.flush()


def test_a_failing_tool_is_degraded_then_restored_exactly_once_across_a_kill(
    spark, kafka_broker, settings, tmp_path
):
    create_registry_topics(settings)
    rules = tmp_path / "rules.yml"
    rules.write_text(RULES)
    env = dict(shell_env(settings), AFL_SIGNAL_RULES=str(rules))
    log = open(tmp_path / "signals.log", "ab")  # noqa: SIM115 - closed at the end

    def start_job() -> subprocess.Popen:
        return subprocess.Popen(
            [AFL, "signals", "run", "--trigger", "1 second"],
            env=env,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )

    def running_rules() -> int:
        return (tmp_path / "signals.log").read_text().count("signals: 1 rule(s) running")

    job = None
    try:
        with (
            running_stream(spark, settings) as stream,
            AgentEventProducer(settings) as producer,
            ControlState(settings) as control,
        ):
            tool_calls(producer, "search", failed=0, completed=8)  # silver.tool_calls exists
            wait_for(lambda: os.path.isdir(silver_spec("tool_call").path(settings)))
            job = start_job()
            wait_for(lambda: running_rules() == 1, what="the signal job")

            crossed = time.monotonic()  # 8 of 10 calls fail: over 50% at once
            tool_calls(producer, "refund_api", failed=8, completed=2)
            tool_calls(producer, "search", failed=1, completed=9)  # 10%: stays in rotation
            seconds = wait_for(lambda: control.is_degraded("refund_api", "acme"), 180,
                               "the degrade")  # fmt: skip
            print(f"degrade seen by an app {time.monotonic() - crossed:.1f} s after the "
                  f"threshold was crossed (waited {seconds:.1f} s)")  # fmt: skip

            os.killpg(job.pid, signal.SIGKILL)  # mid-window: its state is only the checkpoint
            job.wait()
            job = start_job()
            wait_for(lambda: running_rules() == 2, what="the restarted signal job")
            time.sleep(12)  # the recovery is measured on windows after the failures
            for _ in range(3):
                tool_calls(producer, "refund_api", failed=0, completed=5)
                time.sleep(3)
            wait_for(lambda: not control.is_degraded("refund_api", "acme"), 180, "the restore")
            assert not control.is_degraded("search", "acme")
            assert stream.alive()
            job.send_signal(signal.SIGTERM)
            assert job.wait(120) == 0
    finally:
        if job is not None and job.poll() is None:
            os.killpg(job.pid, signal.SIGKILL)
        log.close()
    assert "signals stopped" in (tmp_path / "signals.log").read_text()

    records = consume(settings, [settings.topic_name(CONTROL_TOPIC)], expected=2, timeout_s=30)
    commands = [json.loads(r.value()) for r in records]
    assert [(c["payload"]["command"], c["payload"]["target"]) for c in commands] == [
        ("degrade", "refund_api"),
        ("restore", "refund_api"),
    ]
    degrade, restore = commands
    assert degrade["payload"]["issuer"] == "rule:tool-failure-rate"
    assert degrade["payload"]["observed_value"] > 0.5
    assert len(degrade["payload"]["evidence_event_ids"]) >= 4
    assert restore["payload"]["observed_value"] < 0.2
    assert restore["payload"]["window_start"] >= degrade["payload"]["window_end"]

    run_ingest(spark, settings, CATCH_UP)
    assert_lake_exact(spark, settings)
    controls = spark.read.format("delta").load(silver_spec("control").path(settings))
    assert sorted(r["command"] for r in controls.collect()) == ["degrade", "restore"]
    assert controls.where(F.col("rule") == "tool-failure-rate").count() == 2
