"""Run the signal rules over silver and publish control commands while feedback matters.

Locally:    afl signals run [--available-now]
On a cluster (the same lake and broker the stream uses):
    AFL_LAKE_ROOT=s3a://bucket/lake AFL_CHECKPOINT_ROOT=s3a://bucket/checkpoints \\
    AFL_KAFKA_BOOTSTRAP_SERVERS=broker-1:9092 AFL_SIGNAL_RULES=/etc/afl/rules.yml \\
    spark-submit --packages "$(afl spark packages)" jobs/signals.py
"""

from __future__ import annotations

import argparse
import threading

from pipelines.ingest.stream import stop_on_signals
from pipelines.settings import Settings
from pipelines.signals.job import SignalOptions, run_signals
from pipelines.signals.rules import load_rules
from pipelines.spark.session import get_spark


def options_from_args(argv: list[str] | None = None) -> SignalOptions:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--available-now", action="store_true")
    parser.add_argument("--trigger-interval", default=SignalOptions.trigger_interval)
    args = parser.parse_args(argv)
    return SignalOptions(available_now=args.available_now, trigger_interval=args.trigger_interval)


if __name__ == "__main__":
    settings = Settings.from_env()
    options = options_from_args()
    load_rules(settings.signal_rules)  # a bad rules file fails before Spark starts
    with stop_on_signals(threading.Event()) as stop:
        spark = get_spark(settings, app_name="afl-signals")
        published = run_signals(spark, settings, options, stop_event=stop, progress=print)
    print(f"signals stopped: {published} command(s) published")
