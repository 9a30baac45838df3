"""Stream the agent topics into Delta.

Locally:    afl stream [--available-now]
On a cluster (lake root and checkpoints on an object store):
    AFL_LAKE_ROOT=s3a://bucket/lake AFL_CHECKPOINT_ROOT=s3a://bucket/checkpoints \
    AFL_KAFKA_BOOTSTRAP_SERVERS=broker-1:9092 \
    spark-submit --packages "$(afl spark packages)" jobs/stream_ingest.py --available-now
"""

from __future__ import annotations

import argparse

from pipelines.ingest.stream import run_bronze_catch_up, start_bronze_stream
from pipelines.settings import Settings
from pipelines.spark.session import get_spark


def main(available_now: bool = False, trigger_interval: str = "1 second") -> None:
    settings = Settings.from_env()
    spark = get_spark(settings, app_name="afl-stream-ingest")
    if available_now:
        run_bronze_catch_up(spark, settings)
    else:
        start_bronze_stream(spark, settings, trigger_interval=trigger_interval).awaitTermination()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--available-now", action="store_true")
    parser.add_argument("--trigger-interval", default="1 second")
    args = parser.parse_args()
    main(available_now=args.available_now, trigger_interval=args.trigger_interval)
