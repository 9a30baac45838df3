"""The signal job: one streaming query per rule, over the silver table it watches.

Each query reads its silver table as a Delta stream (``skipChangeCommits``: retention and
erasure delete from silver, and deletes are not new evidence), counts failing shares in
sliding event-time windows (watermarked by the rule's window: a later event is too late
to change what was decided), and hands each micro-batch's updated windows to
``SignalBatch``, which decides (``decide``) and publishes the commands to the control
topic before the batch commits.

Exactly once: a command is applied to the job's ``ControlState`` as soon as it is decided,
and the state is read from the control topic up to its end before the first batch. A
batch Spark runs again after a crash (same windows) finds its commands already in force
and publishes nothing; a command it would publish again carries the same event_id, so the
lake keeps one. Events caused by a command (``causation_id`` of a ``ctl-`` id) are never
evidence (loop prevention). Run one signal job per lake (its checkpoints are per rule).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from delta.tables import DeltaTable
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.streaming.query import StreamingQuery

from pipelines.errors import AflError
from pipelines.producer.control import ControlState
from pipelines.producer.sdk import AgentEventProducer
from pipelines.settings import Settings
from pipelines.signals.decide import WindowShare, decide
from pipelines.signals.rules import SignalRule, load_rules
from pipelines.signals.windows import failing_shares
from pipelines.spark.tables import silver_spec

log = logging.getLogger(__name__)

SIGNAL_QUERY = "signals"


@dataclass(frozen=True)
class SignalOptions:
    """``available_now``: take what the tables hold and stop (drills, tests); otherwise run
    until stopped. ``max_age``: windows ending longer ago do not act (default: two of the
    rule's windows). ``wait_for_tables_s``: how long to wait for a watched table to exist."""

    available_now: bool = False
    trigger_interval: str = "2 seconds"
    max_age: timedelta | None = None
    wait_for_tables_s: float = 300.0


class SignalBatch:
    """The foreachBatch function of one rule's query."""

    def __init__(
        self,
        rule: SignalRule,
        state: ControlState,
        producer: AgentEventProducer,
        max_age: timedelta,
        say: Callable[[str], None],
    ) -> None:
        self.rule = rule
        self.state = state
        self.producer = producer
        self.max_age = max_age
        self.say = say
        self.published = 0

    def __call__(self, updated: DataFrame, batch_id: int) -> None:
        rows = updated.select(
            "tenant_id",
            "target",
            F.unix_micros("window_start").alias("start_us"),
            F.unix_micros("window_end").alias("end_us"),
            "events",
            "failures",
            "evidence",
        ).collect()
        windows = [
            WindowShare(
                r["tenant_id"],
                r["target"],
                _utc(r["start_us"]),
                _utc(r["end_us"]),
                int(r["events"]),
                int(r["failures"] or 0),
                tuple(r["evidence"] or ()),
            )
            for r in rows
        ]
        commands = decide(self.rule, windows, self.state, datetime.now(UTC), self.max_age)
        for event in commands:
            self.producer.emit(event)
        self.producer.flush()  # acknowledged before Spark commits the batch
        for event in commands:
            payload = event["payload"]
            self.say(
                f"{payload['command']} {payload['target_kind']} {payload['target']} "
                f"({event['tenant_id']}): {payload['reason']} [{event['event_id']}]"
            )
        self.published += len(commands)


def _utc(micros: int) -> datetime:
    return datetime.fromtimestamp(micros / 1_000_000, UTC)


def run_signals(
    spark: SparkSession,
    settings: Settings,
    options: SignalOptions = SignalOptions(),
    *,
    stop_event: threading.Event | None = None,
    progress: Callable[[str], None] | None = None,
) -> int:
    """Run every rule's query (until stopped, or until caught up); commands published."""
    say = progress or log.info
    stop = stop_event or threading.Event()
    rules = load_rules(settings.signal_rules)
    with ControlState(settings) as state, AgentEventProducer(settings) as producer:
        state.wait_until_current()
        batches: list[SignalBatch] = []
        queries: list[StreamingQuery] = []
        try:
            for rule in rules:
                path = _wait_for_table(spark, settings, rule, options.wait_for_tables_s, stop)
                if path is None:
                    return 0  # stopped while waiting
                batch = SignalBatch(rule, state, producer, options.max_age or rule.window * 2, say)
                batches.append(batch)
                queries.append(_start(spark, settings, rule, path, batch, options))
            say(f"signals: {len(rules)} rule(s) running: {', '.join(r.name for r in rules)}")
            _await(queries, stop, options.available_now)
        finally:
            for query in queries:
                if query.isActive:
                    query.stop()
        return sum(b.published for b in batches)


def _start(
    spark: SparkSession,
    settings: Settings,
    rule: SignalRule,
    path: str,
    batch: SignalBatch,
    options: SignalOptions,
) -> StreamingQuery:
    events = (
        spark.readStream.format("delta")
        .option("skipChangeCommits", "true")
        .load(path)
        .withWatermark("occurred_at", f"{int(rule.window.total_seconds())} seconds")
    )
    writer = (
        failing_shares(events, rule)
        .writeStream.queryName(f"{SIGNAL_QUERY}_{rule.name}")
        .outputMode("update")
        .option("checkpointLocation", settings.checkpoint_path(SIGNAL_QUERY, rule.name))
        .foreachBatch(batch)
    )
    if options.available_now:
        writer = writer.trigger(availableNow=True)
    else:
        writer = writer.trigger(processingTime=options.trigger_interval)
    return writer.start()


def _wait_for_table(
    spark: SparkSession,
    settings: Settings,
    rule: SignalRule,
    wait_s: float,
    stop: threading.Event,
) -> str | None:
    """The watched table's path once it exists (the stream creates it with its first rows)."""
    path = silver_spec(rule.event_type).path(settings)
    deadline = time.monotonic() + wait_s
    while not DeltaTable.isDeltaTable(spark, path):
        if stop.is_set():
            return None
        if time.monotonic() > deadline:
            raise AflError(
                f"rule {rule.name}: {silver_spec(rule.event_type).qualified_name} does not "
                f"exist after {wait_s:.0f} s; the stream creates it with its first events"
            )
        stop.wait(1.0)
    return path


def _await(queries: list[StreamingQuery], stop: threading.Event, available_now: bool) -> None:
    if available_now:
        for query in queries:
            query.awaitTermination()
        return
    while not stop.is_set():
        for query in queries:
            failed = query.exception()
            if failed is not None:
                raise AflError(f"signal query {query.name} failed: {failed}")
        stop.wait(1.0)
