"""The checkpoint lease: one holder, a named refusal, takeover after the holder dies."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from dataclasses import replace

import pytest

from pipelines import storage
from pipelines.ingest.lease import (
    CheckpointLease,
    LeaseHeld,
    RunMode,
    current_holder,
    lease_uri,
    process_start,
)
from pipelines.settings import Settings

QUERY = "agent_events"


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings.from_env({"AFL_HOME": str(tmp_path), "AFL_STREAM_LEASE_SECONDS": "2"})


def test_a_second_holder_is_refused_with_the_holder_named(settings):
    first = CheckpointLease(settings, QUERY, RunMode.CONTINUOUS, "afl stream")
    first.acquire()
    try:
        second = CheckpointLease(settings, QUERY, RunMode.CATCH_UP, "dagster bronze/agent_events")
        with pytest.raises(LeaseHeld) as refused:
            second.acquire()
        assert refused.value.holder.token == first.mine.token
        message = str(refused.value)
        assert message.startswith("the agent_events checkpoint is held by afl stream (continuous)")
        assert f"pid {first.mine.pid}" in message and "\n" not in message
    finally:
        first.release()
    assert storage.read_text(lease_uri(settings, QUERY)) is None  # released: file removed


def test_the_heartbeat_keeps_the_lease_live_past_its_time_to_live(settings):
    with CheckpointLease(settings, QUERY, RunMode.CONTINUOUS) as held:
        held.acquire()
        written = current_holder(settings, QUERY).heartbeat_at
        time.sleep(3.0)  # longer than the 2 s time to live
        renewed = current_holder(settings, QUERY)
        assert renewed.token == held.mine.token and renewed.heartbeat_at > written
        assert renewed.live()
        with pytest.raises(LeaseHeld):
            CheckpointLease(settings, QUERY, RunMode.CATCH_UP).acquire()


def test_a_dead_holders_lease_is_taken_over_once_expired(settings):
    dead = CheckpointLease(settings, QUERY, RunMode.CONTINUOUS)
    dead.acquire()
    dead._stop.set()  # what kill -9 does to the heartbeat: it stops, the file stays
    dead._thread.join()
    taker = CheckpointLease(settings, QUERY, RunMode.CONTINUOUS)
    with pytest.raises(LeaseHeld):
        taker.acquire()  # still live
    started = time.monotonic()
    taker.acquire(wait_s=10)
    waited = time.monotonic() - started
    try:
        assert current_holder(settings, QUERY).token == taker.mine.token
        assert waited <= 2 + 1.0 + 0.6  # time to live + one poll + the settle
    finally:
        taker.release()


def _write_holder(settings, **changes) -> None:
    """A lease as another process would have left it, with a fresh heartbeat."""
    other = CheckpointLease(settings, QUERY, RunMode.CONTINUOUS).mine
    storage.write_text(lease_uri(settings, QUERY), replace(other, **changes).to_json())


def test_a_holder_on_this_host_whose_process_is_gone_is_taken_over_at_once(settings):
    dead = subprocess.Popen(["true"])  # a pid that has just ended
    dead.wait()
    _write_holder(settings, pid=dead.pid)
    taker = CheckpointLease(settings, QUERY, RunMode.CONTINUOUS)
    started = time.monotonic()
    taker.acquire()  # no wait: the heartbeat is fresh, but the process is gone
    try:
        assert time.monotonic() - started < 2  # well under the 2 s time to live
        assert current_holder(settings, QUERY).token == taker.mine.token
    finally:
        taker.release()


def test_a_reused_pid_does_not_keep_a_lease_alive(settings):
    _write_holder(settings, pid=os.getppid(), process_start="1")  # running, but started later
    taker = CheckpointLease(settings, QUERY, RunMode.CONTINUOUS)
    taker.acquire()
    taker.release()


def test_a_live_process_here_or_any_process_elsewhere_keeps_its_lease(settings):
    parent_started = process_start(os.getppid())
    _write_holder(settings, pid=os.getppid(), process_start=parent_started)
    with pytest.raises(LeaseHeld, match=f"pid {os.getppid()} on "):
        CheckpointLease(settings, QUERY, RunMode.CONTINUOUS).acquire()
    dead = subprocess.Popen(["true"])
    dead.wait()
    _write_holder(settings, pid=dead.pid, host="another-machine")  # cannot be seen from here
    with pytest.raises(LeaseHeld, match="on another-machine"):
        CheckpointLease(settings, QUERY, RunMode.CONTINUOUS).acquire()


def test_a_holder_that_finds_another_token_stops(settings):
    lost = threading.Event()
    holder = CheckpointLease(settings, QUERY, RunMode.CONTINUOUS, on_lost=lambda _: lost.set())
    holder.acquire()
    try:
        intruder = json.loads(storage.read_text(holder.uri))
        intruder.update(token="someone-else", owner="another afl stream", pid=4242)
        storage.write_text(holder.uri, json.dumps(intruder))
        assert lost.wait(5)
        assert holder.lost.startswith("the agent_events checkpoint lease was taken by another")
    finally:
        holder.release()
    assert current_holder(settings, QUERY).token == "someone-else"  # not removed: not ours


def test_waiting_stops_when_told(settings):
    with CheckpointLease(settings, QUERY, RunMode.CONTINUOUS) as first:
        first.acquire()
        second = CheckpointLease(settings, QUERY, RunMode.CATCH_UP)
        started = time.monotonic()
        with pytest.raises(LeaseHeld):
            second.acquire(wait_s=30, keep_waiting=lambda h: h.mode is RunMode.CATCH_UP)
        assert time.monotonic() - started < 1.0


def test_an_unreadable_lease_counts_as_expired(settings):
    storage.write_text(lease_uri(settings, QUERY), "{not json")
    assert current_holder(settings, QUERY) is None
    with CheckpointLease(settings, QUERY, RunMode.CATCH_UP) as lease:
        lease.acquire()
        assert current_holder(settings, QUERY).mode is RunMode.CATCH_UP
