"""Stream the agent topics into Delta: bronze, silver, quarantine, ops.stream_progress.

Locally:    afl stream [--available-now] [--schema-evolution rescue]
On a cluster (lake root and checkpoints on an object store):
    AFL_LAKE_ROOT=s3a://bucket/lake AFL_CHECKPOINT_ROOT=s3a://bucket/checkpoints \\
    AFL_KAFKA_BOOTSTRAP_SERVERS=broker-1:9092 \\
    spark-submit --packages "$(afl spark packages)" jobs/stream_ingest.py --available-now
"""

from __future__ import annotations

import argparse

from pipelines.ingest.schema_fit import SchemaEvolution
from pipelines.ingest.stream import (
    DEFAULT_MAX_OFFSETS_PER_TRIGGER,
    EVOLUTION_MODES,
    StreamOptions,
    run_stream,
)
from pipelines.settings import Settings


def options_from_args(argv: list[str] | None = None) -> StreamOptions:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
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
    run_stream(options_from_args(), Settings.from_env(), progress=print)
