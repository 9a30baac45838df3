"""The kill switch on the real stack: an operator pauses an agent from the shell, an app in
another process sees it, a tracked action refuses to start (and says so in an outcome
caused by the pause), the resume lifts it; the lake lands every command once, and a record
on the control topic that is not a command is skipped by the apps and quarantined."""

from __future__ import annotations

import getpass
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from pyspark.sql import functions as F

from pipelines.ingest.stream import CATCH_UP, run_ingest
from pipelines.producer.actions import track_action
from pipelines.producer.control import ControlState
from pipelines.producer.events import AgentIdentity
from pipelines.producer.exceptions import AgentPaused
from pipelines.producer.sdk import AgentEventProducer
from pipelines.spark.tables import silver_spec
from tests.support.hostile import Hostile
from tests.support.kafka import send_raw
from tests.support.lake import assert_lake_exact, quarantine_by_kind
from tests.support.shell import afl, shell_env

pytestmark = pytest.mark.integration

WHO = AgentIdentity("acme", "support-bot", "2.4.0", "support-p42", "gpt-4.1-mini")

# An agent app's watcher, in its own process: says when it is current, paused, resumed.
WATCHER = """
import sys, time
from pipelines.producer.control import ControlState
from pipelines.settings import Settings

with ControlState(Settings.from_env()) as control:
    control.wait_until_current(60)
    print("ready", flush=True)
    for wanted in (True, False):
        deadline = time.monotonic() + 60
        while control.is_paused("support-bot", "acme") != wanted:
            if time.monotonic() > deadline:
                print("timed out", flush=True)
                sys.exit(1)
            time.sleep(0.05)
        pause = control.pause_for("support-bot", "acme")
        print(f"paused {pause.reason}" if wanted else "resumed", f"skipped={control.skipped}",
              flush=True)
"""


def test_a_pause_reaches_another_process_refuses_actions_and_lands_in_the_lake(
    spark, settings, topics
):
    watcher = subprocess.Popen(
        [sys.executable, "-c", WATCHER],
        env=shell_env(settings),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert watcher.stdout is not None
        first = watcher.stdout.readline().strip()
        assert first == "ready", watcher.stderr.read()
        # a record on the control topic that no contract accepts: skipped, never fatal
        send_raw(settings, [Hostile("junk", "agent.control.v1", b"not a command", b"k")])
        paused = afl(settings, "control", "pause", "agent", "support-bot", "--tenant", "acme",
                     "--reason", "wrong refund amounts", "--issuer", "operator:ana")  # fmt: skip
        assert paused.returncode == 0, paused.stderr
        assert paused.stdout.startswith("pause agent support-bot (acme): published ")
        pause_id = paused.stdout.split()[-1]
        assert watcher.stdout.readline().split() == [
            "paused", "wrong", "refund", "amounts", "skipped=1",
        ]  # fmt: skip

        with ControlState(settings) as control, AgentEventProducer(settings) as producer:
            control.wait_until_current()
            with (
                pytest.raises(AgentPaused) as refused,
                track_action(producer, WHO, "refund", session_id="ses-9", control=control),
            ):
                pytest.fail("a paused agent's action ran")
            assert str(refused.value) == (
                "support-bot may not act: pause agent support-bot (tenant acme): wrong refund "
                f"amounts [operator:ana, {pause_id}]"
            )
            with track_action(producer, WHO, "refund", session_id="ses-9", control=control,
                              override=True):  # fmt: skip
                pass  # an operator's override acts anyway
            other = AgentIdentity("globex", "support-bot", "2.4.0")
            with track_action(producer, other, "refund", session_id="ses-10", control=control):
                pass  # another tenant's agent is not paused

        resumed = afl(settings, "control", "resume", "agent", "support-bot", "--tenant", "acme",
                      "--reason", "fixed in 2.4.1")  # fmt: skip
        assert resumed.returncode == 0, resumed.stderr
        assert watcher.stdout.readline().split() == ["resumed", "skipped=1"]
        assert watcher.wait(30) == 0
    finally:
        watcher.kill()

    status = afl(settings, "control", "status")
    assert status.returncode == 0, status.stderr
    [line] = status.stdout.splitlines()
    assert line.startswith("lifted    resume agent support-bot (tenant acme): fixed in 2.4.1 [")

    for _ in range(2):  # the second run, after a restart, lands nothing twice
        run_ingest(spark, settings, CATCH_UP)
        assert_lake_exact(spark, settings)
        controls = spark.read.format("delta").load(silver_spec("control").path(settings))
        assert sorted(
            (r["command"], r["target_kind"], r["target"], r["tenant_id"], r["issuer"])
            for r in controls.collect()
        ) == [
            ("pause", "agent", "support-bot", "acme", "operator:ana"),
            ("resume", "agent", "support-bot", "acme", f"operator:{_login()}"),
        ]
        outcomes = spark.read.format("delta").load(silver_spec("outcome").path(settings))
        assert sorted(
            (r["tenant_id"], r["status"], r["causation_id"], r["error_type"])
            for r in outcomes.collect()
        ) == [
            ("acme", "CANCELLED", pause_id, "pipelines.producer.exceptions.AgentPaused"),
            ("acme", "SUCCESS", None, None),
            ("globex", "SUCCESS", None, None),
        ]
        assert quarantine_by_kind(spark, settings) == {"malformed_json": 1}
    refusal = outcomes.where(F.col("status") == "CANCELLED").first()
    assert refusal is not None and refusal["error_message"] == str(refused.value)


def _login() -> str:
    return getpass.getuser()


def test_a_command_with_an_expiry_carries_it_to_the_apps(settings, topics):
    before = datetime.now(UTC).replace(microsecond=0)  # the event keeps milliseconds
    degraded = afl(settings, "control", "degrade", "tool", "refund_api", "--reason", "timeouts",
                   "--expires-in", "2h")  # fmt: skip
    after = datetime.now(UTC)
    assert degraded.returncode == 0, degraded.stderr
    with ControlState(settings) as control:
        control.wait_until_current()
        assert control.is_degraded("refund_api", "acme") and control.is_degraded("refund_api", "x")
        [command] = control.commands()
        assert command.expires_at is not None
        assert before + timedelta(hours=2) <= command.expires_at <= after + timedelta(hours=2)
