"""Streams in tests: seeded traffic with its manifest, checkpoints, waiting, a running stream."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from pipelines.ingest.stream import StreamOptions, run_ingest
from pipelines.ingest.telemetry import StreamMetrics
from pipelines.producer.sdk import AgentEventProducer
from pipelines.producer.traffic import TrafficGenerator, send_traffic

END = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def produce(settings, **options) -> dict:
    """Send generated traffic through the SDK; the manifest of what was sent."""
    generator = TrafficGenerator(end_time=END, **{"seed": 1, "days_back": 2, **options})
    with AgentEventProducer(settings) as producer:
        return send_traffic(producer, generator).to_dict()


def checkpoint_batches(checkpoint: Path, kind: str) -> set[int]:
    """Batch ids in a query checkpoint's ``offsets`` (planned) or ``commits`` (done) log."""
    folder = checkpoint / kind
    return {int(p.name) for p in folder.iterdir() if p.name.isdigit()} if folder.is_dir() else set()


def wait_for(condition, timeout_s: float = 240, what: str = "the stream") -> float:
    """Poll ``condition`` until true; the seconds it took (AssertionError past the timeout)."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout_s:
            raise AssertionError(f"{what}: not there within {timeout_s} s")
        time.sleep(0.5)
    return time.monotonic() - started


def wait_committed(checkpoint: Path, batch: int, timeout_s: float = 180) -> None:
    """Block until the query has committed ``batch``: the restarted stream is running."""
    deadline = time.monotonic() + timeout_s
    while batch not in checkpoint_batches(checkpoint, "commits"):
        if time.monotonic() > deadline:
            raise AssertionError(f"batch {batch} not committed under {checkpoint} in {timeout_s}s")
        time.sleep(0.2)


class RunningStream:
    """A continuous run_ingest in a thread of this test process (see ``running_stream``)."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.failure: list[BaseException] = []
        self.thread: threading.Thread | None = None

    def alive(self) -> bool:
        """Still streaming, and nothing failed (a condition for ``wait_for``)."""
        return self.thread is not None and self.thread.is_alive() and not self.failure


@contextmanager
def running_stream(
    spark, settings, options: StreamOptions | None = None, metrics: StreamMetrics | None = None
) -> Iterator[RunningStream]:
    """Run the continuous stream while the block runs; stop it cleanly after, and re-raise
    what made it fail."""
    running = RunningStream()

    def stream() -> None:
        try:
            run_ingest(
                spark,
                settings,
                options or StreamOptions(),
                stop_event=running.stop,
                metrics=metrics,
            )
        except BaseException as exc:  # surfaced to the test
            running.failure.append(exc)

    running.thread = threading.Thread(target=stream, name="test-stream")
    running.thread.start()
    try:
        yield running
    finally:
        running.stop.set()
        running.thread.join(timeout=180)
    assert not running.thread.is_alive(), "the stream did not stop within 180 s"
    if running.failure:
        raise running.failure[0]
