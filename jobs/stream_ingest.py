"""Stream the agent topics into Delta: bronze, silver, quarantine, ops.stream_progress.

Locally:    afl stream [--available-now] [--schema-evolution rescue]
On a cluster (lake root and checkpoints on an object store):
    AFL_LAKE_ROOT=s3a://bucket/lake AFL_CHECKPOINT_ROOT=s3a://bucket/checkpoints \\
    AFL_KAFKA_BOOTSTRAP_SERVERS=broker-1:9092 \\
    spark-submit --packages "$(afl spark packages)" jobs/stream_ingest.py --available-now
"""

from __future__ import annotations

import argparse
import threading
from collections.abc import Callable
from contextlib import nullcontext

from pipelines.ingest.lease import LeaseHeld
from pipelines.ingest.schema_fit import SchemaEvolution
from pipelines.ingest.stream import (
    DEFAULT_MAX_OFFSETS_PER_TRIGGER,
    EVOLUTION_MODES,
    StreamOptions,
    checkpoint_lease,
    run_ingest,
    stop_on_signals,
)
from pipelines.settings import Settings
from pipelines.spark.session import get_spark


def main(
    options: StreamOptions,
    progress: Callable[[str], None] | None = print,
    settings: Settings | None = None,
) -> None:
    settings = settings or Settings.from_env()
    # Continuous mode stops cleanly on SIGTERM/Ctrl-C from the first moment; catch-up keeps
    # the default (a stopped catch-up leaves nothing half-done: the next run resumes).
    stopping = nullcontext(None) if options.available_now else stop_on_signals(threading.Event())
    with stopping as stop:
        # The lease first: a process refused (or told to stop while it waits) never starts Spark.
        try:
            lease = checkpoint_lease(
                settings, options, keep_waiting=lambda _: stop is None or not stop.is_set()
            )
        except LeaseHeld:
            if stop is not None and stop.is_set():
                (progress or (lambda _: None))("stopped while waiting for the checkpoint")
                return
            raise
        try:
            spark = get_spark(settings, app_name="afl-stream-ingest")
        except BaseException:
            lease.release()
            raise
        run_ingest(spark, settings, options, progress=progress, stop_event=stop, lease=lease)


def options_from_args(argv: list[str] | None = None) -> StreamOptions:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--available-now", action="store_true")
    parser.add_argument("--trigger-interval", default="1 second")
    parser.add_argument("--schema-evolution", choices=EVOLUTION_MODES, default="addNewColumns")
    parser.add_argument(
        "--max-offsets-per-trigger", type=int, default=DEFAULT_MAX_OFFSETS_PER_TRIGGER
    )
    parser.add_argument(
        "--wait-for-lease",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="wait this long for another process holding the checkpoint (default: stop)",
    )
    args = parser.parse_args(argv)
    return StreamOptions(
        available_now=args.available_now,
        trigger_interval=args.trigger_interval,
        schema_evolution=SchemaEvolution(args.schema_evolution),
        max_offsets_per_trigger=args.max_offsets_per_trigger,
        owner="spark-submit jobs/stream_ingest.py",
        lease_wait_s=args.wait_for_lease,
    )


if __name__ == "__main__":
    main(options_from_args())
