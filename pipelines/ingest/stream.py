"""Kafka -> Delta streaming ingest: two chained queries, one code path for both run modes.

1. ``bronze_agent_events``: Kafka -> bronze.agent_events through the Delta sink. Raw
   capture never depends on parsing: a contract bug cannot stop the evidence trail.
2. ``silver_agent_events``: bronze (Delta source) -> ``SilverBatch`` (foreachBatch) ->
   silver tables, quarantine, ops.stream_progress.

Exactly-once: the Delta sink commits each batch with its checkpoint; every write of the
silver query's batch N carries ``txnAppId=<query id>``/``txnVersion=N``, so when a killed
stream replays batch N, writes that already committed are skipped and the rest happen once.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from pyspark.errors import StreamingQueryException
from pyspark.sql import SparkSession
from pyspark.sql.streaming import StreamingQuery

from pipelines.contracts.topics import TOPICS
from pipelines.errors import AflError, root_cause
from pipelines.ingest.batch import SILVER_QUERY, SilverBatch
from pipelines.ingest.progress import BronzeProgress
from pipelines.ingest.schema_fit import SchemaEvolution
from pipelines.settings import Settings
from pipelines.spark.io import read_kafka_stream
from pipelines.spark.tables import BRONZE_AGENT_EVENTS, STREAM_PROGRESS, ensure_table
from pipelines.transforms.bronze import kafka_to_bronze

log = logging.getLogger(__name__)

BRONZE_QUERY = "bronze_agent_events"
EVOLUTION_MODES = tuple(m.value for m in SchemaEvolution)
DEFAULT_MAX_OFFSETS_PER_TRIGGER = 250_000
DEFAULT_MAX_BYTES_PER_TRIGGER = "256m"
STOP_GRACE_S = 120.0


def registry_topics(settings: Settings) -> list[str]:
    """Every registry topic, DLQ included: the DLQ is evidence too."""
    return [settings.topic_name(t.name) for t in TOPICS]


# -- running the queries ---------------------------------------------------------------


def start_bronze_query(
    spark: SparkSession,
    settings: Settings,
    *,
    topics: Sequence[str] | None = None,
    available_now: bool = False,
    trigger_interval: str = "1 second",
    max_offsets_per_trigger: int | None = DEFAULT_MAX_OFFSETS_PER_TRIGGER,
) -> StreamingQuery:
    """Kafka -> bronze.agent_events through the Delta sink (exactly-once by its checkpoint)."""
    path = ensure_table(spark, settings, BRONZE_AGENT_EVENTS)
    records = read_kafka_stream(
        spark, settings, topics or registry_topics(settings), max_offsets_per_trigger
    )
    writer = (
        kafka_to_bronze(records)
        .writeStream.format("delta")
        .queryName(BRONZE_QUERY)
        .outputMode("append")
        .option("checkpointLocation", settings.checkpoint_path(BRONZE_QUERY))
    )
    return _with_trigger(writer, available_now, trigger_interval).start(path)


def start_silver_query(
    spark: SparkSession,
    settings: Settings,
    *,
    available_now: bool = False,
    trigger_interval: str = "1 second",
    schema_evolution: str = "addNewColumns",
    max_bytes_per_trigger: str = DEFAULT_MAX_BYTES_PER_TRIGGER,
) -> StreamingQuery:
    """bronze.agent_events -> silver, quarantine and progress (foreachBatch, idempotent)."""
    batch = SilverBatch(settings, query_name=SILVER_QUERY, schema_evolution=schema_evolution)
    path = ensure_table(spark, settings, BRONZE_AGENT_EVENTS)
    bronze = (
        spark.readStream.format("delta")
        .option("maxBytesPerTrigger", max_bytes_per_trigger)
        .load(path)
    )
    writer = (
        bronze.writeStream.queryName(SILVER_QUERY)
        .option("checkpointLocation", settings.checkpoint_path(SILVER_QUERY))
        .foreachBatch(batch)
    )
    query = _with_trigger(writer, available_now, trigger_interval).start()
    batch.bind_query(query)
    return query


def _with_trigger(writer, available_now: bool, trigger_interval: str):  # type: ignore[no-untyped-def]
    if available_now:
        return writer.trigger(availableNow=True)
    return writer.trigger(processingTime=trigger_interval)


def run_bronze_catch_up(
    spark: SparkSession, settings: Settings, topics: Sequence[str] | None = None
) -> None:
    """Drain what the topics hold now into bronze, then return."""
    query = start_bronze_query(spark, settings, topics=topics, available_now=True)
    _await(query)
    _bronze_progress(spark, settings).record(query)


def run_ingest(
    spark: SparkSession,
    settings: Settings,
    *,
    available_now: bool = False,
    trigger_interval: str = "1 second",
    schema_evolution: str = "addNewColumns",
    max_offsets_per_trigger: int | None = DEFAULT_MAX_OFFSETS_PER_TRIGGER,
    topics: Sequence[str] | None = None,
    progress: Callable[[str], None] | None = None,
    stop_event: threading.Event | None = None,
) -> None:
    """Catch-up: drain Kafka into bronze, then bronze into silver, and return.
    Continuous: run both queries until SIGTERM/Ctrl-C (or ``stop_event``), then stop cleanly.
    """
    say = progress or (lambda _: None)
    if available_now:
        run_bronze_catch_up(spark, settings, topics)
        say(f"bronze caught up ({_rows(spark, BRONZE_AGENT_EVENTS.path(settings)):,} records)")
        silver = start_silver_query(
            spark, settings, available_now=True, schema_evolution=schema_evolution
        )
        _await(silver)
        say("silver caught up")
        return
    stop = stop_event or threading.Event()
    if stop.is_set():  # asked to stop while the session was starting: nothing began
        say("stream stopped cleanly before its first batch")
        return
    # (Re)installed here too: starting a SparkContext replaces the SIGINT handler.
    on_main = threading.current_thread() is threading.main_thread()
    restore = _install_stop_handlers(stop) if on_main else None
    bronze = start_bronze_query(
        spark,
        settings,
        topics=topics,
        trigger_interval=trigger_interval,
        max_offsets_per_trigger=max_offsets_per_trigger,
    )
    silver = start_silver_query(
        spark, settings, trigger_interval=trigger_interval, schema_evolution=schema_evolution
    )
    bronze_progress = _bronze_progress(spark, settings)
    say(f"streaming {len(topics or registry_topics(settings))} topics; Ctrl-C to stop")
    try:
        while not stop.is_set() and bronze.isActive and silver.isActive:
            stop.wait(1.0)
            bronze_progress.record(bronze)
    finally:
        for query in (bronze, silver):
            _stop_between_batches(query)
        bronze_progress.record(bronze)
        if restore:
            restore()
    for query in (bronze, silver):
        if query.exception() is not None:
            raise AflError(f"{query.name} failed: {root_cause(str(query.exception()))}")
    say("stream stopped cleanly")


def _bronze_progress(spark: SparkSession, settings: Settings) -> BronzeProgress:
    path = ensure_table(spark, settings, STREAM_PROGRESS)
    return BronzeProgress(spark, path, BRONZE_AGENT_EVENTS.qualified_name)


def _await(query: StreamingQuery) -> None:
    """Wait for a catch-up query; its failure becomes one readable line."""
    try:
        query.awaitTermination()
    except StreamingQueryException as exc:
        raise AflError(f"{query.name} failed: {root_cause(str(exc))}") from None


def _rows(spark: SparkSession, path: str) -> int:
    return spark.read.format("delta").load(path).count()


def _stop_between_batches(query: StreamingQuery) -> None:
    """Let the running micro-batch finish, then stop: a clean shutdown commits what it started."""
    deadline = time.monotonic() + STOP_GRACE_S
    while query.isActive and query.status.get("isTriggerActive") and time.monotonic() < deadline:
        time.sleep(0.1)
    query.stop()


@contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[threading.Event]:
    """SIGTERM/Ctrl-C set ``stop`` instead of killing the process.

    Entered before the Spark session starts, so a stop asked for during start-up is a clean
    stop too (a supervisor's SIGTERM can come at any moment).
    """
    restore = _install_stop_handlers(stop)
    try:
        yield stop
    finally:
        restore()


def _install_stop_handlers(stop: threading.Event) -> Callable[[], None]:
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}

    def handler(signum: int, frame: object) -> None:
        log.warning("signal %s: stopping the stream after the current batch", signum)
        stop.set()

    for sig in previous:
        signal.signal(sig, handler)

    def restore() -> None:
        for sig, old in previous.items():
            signal.signal(sig, old)

    return restore
