"""`make demo`: the story on local defaults, with progress as it goes."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

from pipelines.ingest.stream import run_ingest
from pipelines.kafka_admin import create_topics
from pipelines.local.broker import LocalBroker
from pipelines.producer.sdk import AgentEventProducer
from pipelines.producer.traffic import TrafficGenerator, send_traffic
from pipelines.settings import Settings
from pipelines.spark.session import get_spark
from pipelines.spark.tables import SILVER_TABLE_FOR, register_existing

Progress = Callable[[str], None]


def run_demo(settings: Settings, events: int, progress: Progress) -> None:
    started = time.monotonic()
    step = _stepper(progress, total=5)
    step("starting the local Kafka broker")
    LocalBroker(settings).up(progress=progress)
    step("creating topics from the registry")
    for result in create_topics(settings):
        progress(f"  {result.status:8} {result.name}")
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    step(f"producing {events:,} events of 3 days' agent traffic (2% bad records)")
    with AgentEventProducer(settings) as producer:
        for version, share in ((1, 0.8), (2, 0.2)):  # a v2 schema change arrives later
            generator = TrafficGenerator(
                seed=7 + version,
                events=int(events * share),
                end_time=now,
                days_back=3,
                schema_version=version,
                bad_fraction=0.02,
            )
            send_traffic(producer, generator, progress=progress)
    step("streaming the topics into bronze, silver and quarantine (catch-up)")
    spark = get_spark(settings, app_name="afl-demo")
    run_ingest(spark, settings, available_now=True, progress=progress)
    step("what landed")
    register_existing(spark, settings)
    for table in SILVER_TABLE_FOR.values():
        if spark.catalog.tableExists(f"silver.{table}"):
            progress(f"  silver.{table:18} {spark.table(f'silver.{table}').count():>8,} rows")
    for row in spark.sql(
        "SELECT reason_kind, count(*) n FROM silver.quarantine GROUP BY 1 ORDER BY 2 DESC"
    ).collect():
        progress(f"  quarantine {row['reason_kind']:20} {row['n']:>6,}")
    progress(f"done in {time.monotonic() - started:.0f}s; lake in {settings.lake_root}")
    progress('try: .venv/bin/afl sql "SELECT status, count(*) FROM silver.outcomes GROUP BY 1"')
    progress("     .venv/bin/afl verify offsets   ·   .venv/bin/afl infra down")


def _stepper(progress: Progress, total: int) -> Callable[[str], None]:
    count = 0

    def step(message: str) -> None:
        nonlocal count
        count += 1
        progress(f"[{count}/{total}] {message}")

    return step
