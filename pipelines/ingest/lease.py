"""One process per streaming checkpoint: a lease held with a heartbeat where the checkpoint lives.

Two queries on one checkpoint race for the same batch ids (a failure at best, a broken
exactly-once at worst), and two parts of the product can start the same query: the
continuous `afl stream` and Dagster's catch-up of ``bronze/agent_events``. Before a query
starts, its process takes the lease ``<checkpoint root>/_leases/<query>.json``; while the
query runs, a thread rewrites it every third of its time to live. Another process that
finds a live lease does not start the query: it stops with a line naming the holder, or
waits (``wait_s``), and once the holder's heartbeat is older than its time to live (a
holder killed with -9 elsewhere), the lease is taken over. A holder on this same host whose
process is gone (no such pid, or a pid reused by a process started later) is taken over at
once: a supervisor restarting a crashed stream does not wait out the time to live.

Why a file and not a lock service: the checkpoint is the thing to protect and the lease
lives beside it, on the same storage (a local folder, or an object store whose PUT is
atomic), with nothing else to run. Taking the lease writes it, waits ``SETTLE_S`` and reads
it back: of two processes taking it at the same moment, the last write wins and the other
sees a token that is not its own. Expiry compares the holder's heartbeat with this
machine's clock: clocks within a few seconds of each other (NTP) are assumed; the time to
live (``AFL_STREAM_LEASE_SECONDS``, 30 s) is far above that. A holder that cannot renew
its lease, or finds another's token in it, stops its query: Spark's own offset log and
Delta's idempotent appends guard the moment between.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from enum import StrEnum

from pipelines import storage
from pipelines.errors import AflError
from pipelines.settings import Settings

log = logging.getLogger(__name__)

SETTLE_S = 0.5  # between writing the lease and reading it back when taking it
POLL_S = 1.0  # how often a waiting process looks at the lease again


class RunMode(StrEnum):
    CONTINUOUS = "continuous"
    CATCH_UP = "catch-up"


@dataclass(frozen=True)
class Holder:
    """Who holds a query's lease, as written in the lease file."""

    token: str
    query: str
    mode: RunMode
    owner: str  # what runs the query: "afl stream", "dagster bronze/agent_events"
    host: str
    pid: int
    acquired_at: float
    heartbeat_at: float
    ttl_s: float
    process_start: str = ""  # the holder's start time on its host (Linux /proc), "" elsewhere

    def live(self, now: float | None = None) -> bool:
        """Heartbeat within its time to live, and the process not known to be gone."""
        fresh = ((now or time.time()) - self.heartbeat_at) <= self.ttl_s
        return fresh and not self.gone()

    def gone(self) -> bool:
        """True when the holder ran on this host and its process no longer exists."""
        if self.host != socket.gethostname():
            return False  # another machine's processes cannot be seen from here
        started = process_start(self.pid)
        if started is None:
            return True
        return bool(self.process_start) and started != self.process_start

    def who(self) -> str:
        return f"{self.owner} ({self.mode}) pid {self.pid} on {self.host}"

    def describe(self, now: float | None = None) -> str:
        age = max(0.0, (now or time.time()) - self.heartbeat_at)
        return f"{self.who()}, last heartbeat {age:.0f} s ago"

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Holder:
        raw = json.loads(text)
        return cls(**{**raw, "mode": RunMode(raw["mode"])})


def process_start(pid: int) -> str | None:
    """When ``pid`` started (clock ticks since boot, from /proc), None if no such process.

    "" where /proc is not there: the pid is then only checked for existence.
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # exists, owned by someone else
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return ""
    return fields[19] if len(fields) > 19 else ""  # field 22 of stat: starttime


class LeaseHeld(AflError):
    """Another live process holds the query's checkpoint."""

    def __init__(self, query: str, holder: Holder) -> None:
        super().__init__(
            f"the {query} checkpoint is held by {holder.describe()}; stop that process, or "
            f"start this one with --wait to take over when it stops"
        )
        self.holder = holder


def lease_uri(settings: Settings, query: str) -> str:
    return settings.checkpoint_path("_leases", f"{query}.json")


def current_holder(settings: Settings, query: str) -> Holder | None:
    """The lease as written now (live or expired), or None when nobody ever took it."""
    text = storage.read_text(lease_uri(settings, query))
    if not text:
        return None
    try:
        return Holder.from_json(text)
    except (ValueError, TypeError, KeyError):
        log.warning("unreadable lease %s: treated as expired", lease_uri(settings, query))
        return None


class CheckpointLease:
    """Take, renew and release one query's lease (a context manager)."""

    def __init__(
        self,
        settings: Settings,
        query: str,
        mode: RunMode,
        owner: str = "afl stream",
        *,
        on_lost: Callable[[str], None] | None = None,
    ) -> None:
        self.settings = settings
        self.query = query
        self.uri = lease_uri(settings, query)
        self.ttl_s = float(settings.stream_lease_seconds)
        now = time.time()
        self.mine = Holder(
            token=uuid.uuid4().hex,
            query=query,
            mode=mode,
            owner=owner,
            host=socket.gethostname(),
            pid=os.getpid(),
            acquired_at=now,
            heartbeat_at=now,
            ttl_s=self.ttl_s,
            process_start=process_start(os.getpid()) or "",
        )
        self.on_lost = on_lost
        self.lost: str | None = None  # why the lease was lost while held
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def acquire(
        self, wait_s: float = 0.0, keep_waiting: Callable[[Holder], bool] = lambda _: True
    ) -> None:
        """Take the lease, or raise LeaseHeld naming the live holder.

        With ``wait_s``, wait that long for the holder to stop (or its lease to expire),
        as long as ``keep_waiting(holder)`` says so.
        """
        deadline = time.monotonic() + wait_s
        announced = False
        while True:
            holder = current_holder(self.settings, self.query)
            if holder is not None and holder.token != self.mine.token and holder.live():
                if time.monotonic() >= deadline or not keep_waiting(holder):
                    raise LeaseHeld(self.query, holder)
                if not announced:
                    log.warning("waiting for the %s checkpoint: %s", self.query, holder.describe())
                    announced = True
                time.sleep(POLL_S)
                continue
            if holder is not None and holder.token != self.mine.token:
                log.warning("taking over the %s checkpoint from %s", self.query, holder.describe())
            now = time.time()
            self.mine = replace(self.mine, acquired_at=now, heartbeat_at=now)
            storage.write_text(self.uri, self.mine.to_json())
            time.sleep(SETTLE_S)
            back = current_holder(self.settings, self.query)
            if back is not None and back.token == self.mine.token:
                break
            # another process wrote after us: it holds the lease (next loop names it)
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._heartbeat, name=f"lease-{self.query}", daemon=True
        )
        self._thread.start()

    def release(self) -> None:
        """Stop renewing; remove the lease if it is still ours."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        holder = current_holder(self.settings, self.query)
        if holder is not None and holder.token == self.mine.token:
            storage.delete(self.uri)

    def __enter__(self) -> CheckpointLease:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def _heartbeat(self) -> None:
        renewed = time.monotonic()
        while not self._stop.wait(self.ttl_s / 3):
            try:
                holder = current_holder(self.settings, self.query)
                if holder is None or holder.token != self.mine.token:
                    who = holder.describe() if holder else "nobody (the lease file is gone)"
                    self._lose(f"the {self.query} checkpoint lease was taken by {who}")
                    return
                self.mine = replace(self.mine, heartbeat_at=time.time())
                storage.write_text(self.uri, self.mine.to_json())
                renewed = time.monotonic()
            except Exception as exc:  # storage hiccup: retry until the lease would expire
                log.warning("could not renew the %s checkpoint lease: %s", self.query, exc)
                if time.monotonic() - renewed > self.ttl_s * 0.8:
                    self._lose(f"the {self.query} checkpoint lease could not be renewed: {exc}")
                    return

    def _lose(self, why: str) -> None:
        log.error("%s: stopping the query", why)
        self.lost = why
        if self.on_lost is not None:
            self.on_lost(why)
