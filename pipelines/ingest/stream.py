"""Kafka -> Delta streaming ingest: one query, one code path for both run modes.

The query ``agent_events`` reads the registry's topics and hands each micro-batch to
``IngestBatch`` (pipelines/ingest/batch.py), which appends the raw records to bronze and
lands them in silver, quarantine and ops.stream_progress, exactly once.

Why one query, not a bronze query feeding a silver one: a record is visible in silver one
micro-batch after it reached Kafka, not two; Kafka is read once and bronze is never
re-read; and the two queries no longer compete for the same cores. Raw capture still
never depends on parsing: nothing a record carries can fail a batch (bad records are
quarantined, see batch.py), and bronze is appended before silver is written. What can stop
the query is what stops a Delta write (storage down, a failOnNewColumns stop): then
nothing is lost either, Kafka keeps the records and the restart takes the batch again.
"""

from __future__ import annotations

import json
import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, replace

from pyspark.errors import StreamingQueryException
from pyspark.sql import SparkSession
from pyspark.sql.streaming.query import StreamingQuery

from pipelines.contracts.topics import TOPICS
from pipelines.errors import AflError, root_cause
from pipelines.ingest.batch import INGEST_QUERY, IngestBatch
from pipelines.ingest.checkpoint import committed_offsets, kafka_lag
from pipelines.ingest.lease import CheckpointLease, Holder, LeaseHeld, RunMode
from pipelines.ingest.schema_fit import SchemaEvolution
from pipelines.ingest.status import wait_caught_up
from pipelines.ingest.telemetry import StreamMetrics, serving
from pipelines.kafka_admin import KafkaUnavailable, end_offsets
from pipelines.settings import Settings
from pipelines.spark.io import delta_version, list_names, read_kafka_stream, read_text
from pipelines.spark.session import get_spark, quiet_jvm_loggers
from pipelines.spark.tables import BRONZE_AGENT_EVENTS

log = logging.getLogger(__name__)

EVOLUTION_MODES = tuple(m.value for m in SchemaEvolution)
DEFAULT_MAX_OFFSETS_PER_TRIGGER = 250_000
STOP_GRACE_S = 120.0
WATCH_EVERY_S = 5.0  # how often the continuous stream asks Kafka its end offsets (lag)
# Kafka's client warns on every reconnect attempt while a broker is down; StreamWatch says it
# once. Errors still show.
KAFKA_CLIENT_LOGGERS = ("org.apache.kafka", "org.apache.spark.sql.kafka010")
# The two queries of 0.1 (bronze, then silver from bronze): see _continue_from_previous.
PREVIOUS_QUERIES = ("bronze_agent_events", "silver_agent_events")


@dataclass(frozen=True)
class StreamOptions:
    """How the stream runs: catch up and stop, or run until told to stop."""

    available_now: bool = False  # drain what the topics hold now, then return
    trigger_interval: str = "1 second"  # continuous mode: how often a batch may start
    schema_evolution: SchemaEvolution = SchemaEvolution.ADD_NEW_COLUMNS
    max_offsets_per_trigger: int | None = DEFAULT_MAX_OFFSETS_PER_TRIGGER
    topics: tuple[str, ...] | None = None  # physical topics; default: the registry's
    owner: str = "afl stream"  # who runs it, as the checkpoint lease names the holder
    lease_wait_s: float = 0.0  # wait this long for another holder of the checkpoint

    @property
    def mode(self) -> RunMode:
        return RunMode.CATCH_UP if self.available_now else RunMode.CONTINUOUS


CATCH_UP = StreamOptions(available_now=True)


def checkpoint_lease(
    settings: Settings,
    options: StreamOptions,
    keep_waiting: Callable[[Holder], bool] = lambda _: True,
) -> CheckpointLease:
    """Take the ingest query's checkpoint lease (raises LeaseHeld naming a live holder).

    Taken before the Spark session starts where possible: a refused process stops at once.
    """
    lease = CheckpointLease(settings, INGEST_QUERY, options.mode, options.owner)
    lease.acquire(options.lease_wait_s, keep_waiting)
    return lease


def registry_topics(settings: Settings) -> list[str]:
    """Every registry topic, DLQ included: the DLQ is evidence too."""
    return [settings.topic_name(t.name) for t in TOPICS]


def start_ingest_query(
    spark: SparkSession,
    settings: Settings,
    options: StreamOptions = StreamOptions(),
    metrics: StreamMetrics | None = None,
) -> StreamingQuery:
    """Kafka -> bronze, silver, quarantine and progress (foreachBatch, exactly once)."""
    starting = _continue_from_previous(spark, settings)
    batch = IngestBatch(settings, schema_evolution=options.schema_evolution, metrics=metrics)
    records = read_kafka_stream(
        spark,
        settings,
        list(options.topics or registry_topics(settings)),
        options.max_offsets_per_trigger,
        starting_offsets=starting,
    )
    writer = (
        records.writeStream.queryName(INGEST_QUERY)
        .option("checkpointLocation", settings.checkpoint_path(INGEST_QUERY))
        .foreachBatch(batch)
    )
    if options.available_now:
        writer = writer.trigger(availableNow=True)
    else:
        writer = writer.trigger(processingTime=options.trigger_interval)
    query = writer.start()
    batch.bind_query(query)
    return query


def run_ingest(
    spark: SparkSession,
    settings: Settings,
    options: StreamOptions = StreamOptions(),
    *,
    progress: Callable[[str], None] | None = None,
    stop_event: threading.Event | None = None,
    lease: CheckpointLease | None = None,
    metrics: StreamMetrics | None = None,
) -> None:
    """Catch-up: drain what the topics hold now and return.
    Continuous: run until SIGTERM/Ctrl-C (or ``stop_event``), then stop cleanly.

    The query runs under its checkpoint lease: ``lease`` when the caller took it already,
    else taken here (LeaseHeld when another process holds it); released on return.
    ``metrics``: the series the continuous stream keeps (a new set by default), served on
    ``settings.metrics_port`` when it is set.
    """
    say = progress or log.info  # the CLI prints these lines; elsewhere they are logged
    stop = stop_event or threading.Event()
    if stop.is_set():  # asked to stop while the session was starting: nothing began
        say("stream stopped cleanly before its first batch")
        return
    if lease is None:
        lease = checkpoint_lease(settings, options, keep_waiting=lambda _: not stop.is_set())
    with lease:
        if options.available_now:
            _catch_up(spark, settings, options, lease, say)
        else:
            metrics = metrics or StreamMetrics(INGEST_QUERY)
            _run_continuous(spark, settings, options, lease, stop, say, metrics)
    if lease.lost:
        raise AflError(lease.lost)


def run_stream(
    options: StreamOptions,
    settings: Settings,
    progress: Callable[[str], None] | None = None,
) -> None:
    """The stream as a process runs it (`afl stream`, `spark-submit jobs/stream_ingest.py`).

    The lease is taken before Spark starts: a process refused, or told to stop while it
    waits, never starts a JVM. Continuous mode stops cleanly on SIGTERM/Ctrl-C from the
    first moment; catch-up keeps the default (a stopped catch-up leaves nothing half-done:
    the next run resumes).
    """
    stopping = nullcontext(None) if options.available_now else stop_on_signals(threading.Event())
    with stopping as stop:
        try:
            lease = checkpoint_lease(
                settings, options, keep_waiting=lambda _: stop is None or not stop.is_set()
            )
        except LeaseHeld:
            if stop is not None and stop.is_set():
                (progress or log.info)("stopped while waiting for the checkpoint")
                return
            raise
        try:
            spark = get_spark(settings, app_name="afl-stream-ingest")
        except BaseException:
            lease.release()
            raise
        run_ingest(spark, settings, options, progress=progress, stop_event=stop, lease=lease)


@dataclass(frozen=True)
class CaughtUp:
    """What ``catch_up`` did: ran its own catch-up, or waited for the continuous stream."""

    ran: str
    held_by: str | None = None
    records_behind_at_start: int = 0


def catch_up(
    settings: Settings,
    spark: Callable[[], SparkSession],
    owner: str,
    wait_s: float,
) -> CaughtUp:
    """Make bronze and silver hold everything published before now, without racing anyone.

    For schedulers (Dagster's ingest asset). A continuous stream holding the checkpoint is
    what keeps the lake current: wait until it has committed every partition's end offset
    of now (no Spark needed). Another catch-up holding it is waited for, then this one runs.
    ``spark`` is called only when this process runs the query itself.
    """
    options = replace(CATCH_UP, owner=owner, lease_wait_s=wait_s)
    try:
        lease = checkpoint_lease(settings, options, lambda h: h.mode is RunMode.CATCH_UP)
    except LeaseHeld as held:
        if held.holder.mode is not RunMode.CONTINUOUS:
            raise
        targets = end_offsets(settings, registry_topics(settings))
        checkpoint = settings.checkpoint_path(INGEST_QUERY)
        behind = sum(kafka_lag(targets, committed_offsets(checkpoint)).values())
        wait_caught_up(settings, targets, wait_s)
        return CaughtUp("waited for the continuous stream", held.holder.who(), behind)
    run_ingest(spark(), settings, options, lease=lease)
    return CaughtUp("catch-up")


def _catch_up(
    spark: SparkSession,
    settings: Settings,
    options: StreamOptions,
    lease: CheckpointLease,
    say: Callable[[str], None],
) -> None:
    query = start_ingest_query(spark, settings, options)
    lease.on_lost = lambda _: query.stop()
    _await(query)
    if lease.lost:
        return
    read = sum(p["numInputRows"] for p in query.recentProgress)
    say(f"caught up: {read:,} records in {len(query.recentProgress)} micro-batch(es)")


def _run_continuous(
    spark: SparkSession,
    settings: Settings,
    options: StreamOptions,
    lease: CheckpointLease,
    stop: threading.Event,
    say: Callable[[str], None],
    metrics: StreamMetrics,
) -> None:
    # (Re)installed here too: starting a SparkContext replaces the SIGINT handler.
    on_main = threading.current_thread() is threading.main_thread()
    restore = _install_stop_handlers(stop) if on_main else None
    lease.on_lost = lambda _: stop.set()
    quiet_jvm_loggers(spark, KAFKA_CLIENT_LOGGERS)
    topics = list(options.topics or registry_topics(settings))
    with serving(metrics, settings.metrics_port) as port:
        query = start_ingest_query(spark, settings, options, metrics)
        served = f"; metrics on port {port}" if port else ""
        say(f"streaming {len(topics)} topics{served}; Ctrl-C to stop")
        watch = StreamWatch(settings, topics, metrics, say)
        try:
            while not stop.is_set() and query.isActive:
                stop.wait(1.0)
                watch.tick()
        finally:
            _stop_between_batches(query)
            if restore:
                restore()
    if query.exception() is not None:
        raise AflError(f"{query.name} failed: {root_cause(str(query.exception()))}")
    if not lease.lost:
        say("stream stopped cleanly")


class StreamWatch:
    """The continuous stream's look at Kafka every few seconds, beside its batches.

    Lag: Kafka's end offsets minus the offsets the query committed (its checkpoint), per
    partition, into the metrics; reported also while a batch hangs. Outage: one line when
    Kafka stops answering and one when it answers again, instead of the client's warning
    per reconnect attempt. The query itself rides an outage out: its next batch plans from
    the offsets it committed, so nothing is lost or read twice.
    """

    def __init__(
        self,
        settings: Settings,
        topics: list[str],
        metrics: StreamMetrics,
        say: Callable[[str], None],
        every_s: float = WATCH_EVERY_S,
    ):
        self.settings = settings
        self.topics = topics
        self.metrics = metrics
        self.say = say
        self.every_s = every_s
        self.down_since: float | None = None
        self._last = time.monotonic()

    def tick(self) -> None:
        now = time.monotonic()
        if now - self._last < self.every_s:
            return
        self._last = now
        servers = self.settings.kafka_bootstrap_servers
        try:
            ends = end_offsets(self.settings, self.topics, timeout_s=3.0)
        except KafkaUnavailable:
            self.metrics.record_kafka_down()
            if self.down_since is None:
                self.down_since = now
                self.say(f"Kafka at {servers} is not answering: the stream waits for it")
            return
        committed = committed_offsets(self.settings.checkpoint_path(INGEST_QUERY))
        self.metrics.record_lag(kafka_lag(ends, committed))
        if self.down_since is not None:
            gone = now - self.down_since
            self.down_since = None
            self.say(f"Kafka at {servers} answers again (about {gone:.0f} s): resuming")


def _continue_from_previous(spark: SparkSession, settings: Settings) -> str | None:
    """Where to start reading Kafka on a lake the two queries of 0.1 wrote (else None).

    0.1 ran a bronze query (Kafka -> bronze) and a silver query (bronze -> silver). Once
    the silver query has processed all of bronze, the new query starts from the bronze
    query's committed offsets: nothing read twice, nothing skipped. If it has not, the
    previous version must drain it first (`afl stream --available-now` with 0.1).
    """
    if list_names(spark, settings.checkpoint_path(INGEST_QUERY)):
        return None
    bronze_checkpoint, silver_checkpoint = (settings.checkpoint_path(q) for q in PREVIOUS_QUERIES)
    ends = committed_offsets(bronze_checkpoint)
    if not ends:
        return None
    if not _silver_drained(spark, settings, silver_checkpoint):
        raise AflError(
            "this lake was written by the two queries of 0.1 and its silver query has not "
            "processed all of bronze: run `afl stream --available-now` with 0.1 first"
        )
    log.warning("continuing the 0.1 lake from its bronze query's offsets: %s", ends)
    return json.dumps({t: {str(p): o for p, o in parts.items()} for t, parts in ends.items()})


def _silver_drained(spark: SparkSession, settings: Settings, checkpoint: str) -> bool:
    commits = [int(n) for n in list_names(spark, f"{checkpoint}/commits") if n.isdigit()]
    if not commits:
        return False
    offset = json.loads(read_text(spark, f"{checkpoint}/offsets/{max(commits)}").splitlines()[2])
    latest = delta_version(spark, BRONZE_AGENT_EVENTS.path(settings))
    version, index = int(offset["reservoirVersion"]), int(offset["index"])
    return version > latest or (version == latest and index == -1)


def _await(query: StreamingQuery) -> None:
    """Wait for a catch-up query; its failure becomes one readable line."""
    try:
        query.awaitTermination()
    except StreamingQueryException as exc:
        raise AflError(f"{query.name} failed: {root_cause(str(exc))}") from None


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
