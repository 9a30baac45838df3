"""The traffic generator: sessions interleaved with bad records at seeded slots, the
manifest of what it yielded, and sending it all through the SDK."""

from __future__ import annotations

import random
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pipelines.contracts.registry import serialize
from pipelines.contracts.topics import topic_for_event_type
from pipelines.producer.events import format_timestamp
from pipelines.producer.sdk import AgentEventProducer
from pipelines.producer.traffic.bad_records import bad_record
from pipelines.producer.traffic.records import BAD_KINDS, GeneratedRecord
from pipelines.producer.traffic.turns import SessionMaker

RECENT_WINDOW = 10_000


@dataclass
class TrafficManifest:
    """What a generator yielded: valid distinct events per type, bad records per kind and
    records per topic; tests and ``afl produce --manifest`` check the lake against it."""

    seed: int
    events: int
    bad_fraction: float
    schema_version: int
    days_back: float
    end_time: str
    valid_distinct: Counter[str] = field(default_factory=Counter)
    bad: Counter[str] = field(default_factory=Counter)
    by_topic: Counter[str] = field(default_factory=Counter)

    def to_dict(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "events": self.events,
            "bad_fraction": self.bad_fraction,
            "schema_version": self.schema_version,
            "days_back": self.days_back,
            "end_time": self.end_time,
            "records_sent": sum(self.by_topic.values()),
            "valid_distinct_total": sum(self.valid_distinct.values()),
            "valid_distinct": dict(sorted(self.valid_distinct.items())),
            "bad_total": sum(self.bad.values()),
            "bad": {kind: self.bad.get(kind, 0) for kind in BAD_KINDS},
            "by_topic": dict(sorted(self.by_topic.items())),
        }


class TrafficGenerator:
    """Yields ``events`` records in total; ``bad_fraction`` of them are bad, by kind."""

    def __init__(
        self,
        *,
        seed: int,
        events: int,
        end_time: datetime,
        days_back: float = 3.0,
        schema_version: int = 1,
        bad_fraction: float = 0.0,
    ) -> None:
        if events < 0:
            raise ValueError("events must be >= 0")
        if not 0.0 <= bad_fraction <= 1.0:
            raise ValueError("bad_fraction must be within 0..1")
        if schema_version not in (1, 2):
            raise ValueError("schema_version must be 1 or 2")
        if end_time.tzinfo is None:
            raise ValueError("end_time must be timezone-aware")
        self.rng = random.Random(seed)
        self.events = events
        self.end_time = end_time
        self.days_back = days_back
        self.schema_version = schema_version
        self.bad_count = round(events * bad_fraction)
        if self.bad_count == events and "duplicate" in BAD_KINDS[: self.bad_count]:
            # a duplicate re-sends a valid event: all-bad traffic has none to re-send
            raise ValueError("bad_fraction leaves no valid event for the duplicates to copy")
        self.manifest = TrafficManifest(
            seed, events, bad_fraction, schema_version, days_back, end_time.isoformat()
        )

    def __iter__(self) -> Iterator[GeneratedRecord]:
        rng = self.rng
        kinds = [BAD_KINDS[i % len(BAD_KINDS)] for i in range(self.bad_count)]
        rng.shuffle(kinds)
        bad_slots = dict(
            zip(sorted(rng.sample(range(self.events), self.bad_count)), kinds, strict=True)
        )
        # Duplicates and bad-record templates come from a recent window (a retry storm
        # re-sends recent events), which also keeps memory flat for millions of records.
        sent_valid: deque[GeneratedRecord] = deque(maxlen=RECENT_WINDOW)
        deferred_duplicates = 0
        sessions = SessionMaker(
            rng,
            end_time=self.end_time,
            days_back=self.days_back,
            schema_version=self.schema_version,
        )

        def first_event_of_a_new_session() -> dict[str, Any]:
            return sessions.next_session()[0]

        pending: list[dict[str, Any]] = []
        for slot in range(self.events):
            kind = bad_slots.get(slot)
            if kind == "duplicate" and not sent_valid:
                deferred_duplicates += 1  # nothing sent yet to duplicate: send it at the end
                continue
            if kind is not None:
                yield self._emit(bad_record(kind, rng, sent_valid, first_event_of_a_new_session))
                continue
            while not pending:
                pending = sessions.next_session()
            event = pending.pop(0)
            record = GeneratedRecord(
                "valid",
                topic_for_event_type(event["event_type"]).name,
                event["session_id"],
                serialize(event),
                event["event_type"],
                event,
            )
            sent_valid.append(record)
            yield self._emit(record)
        for _ in range(deferred_duplicates):
            yield self._emit(bad_record("duplicate", rng, sent_valid, first_event_of_a_new_session))

    def _emit(self, record: GeneratedRecord) -> GeneratedRecord:
        if record.kind == "valid":
            self.manifest.valid_distinct[record.event_type or ""] += 1
        else:
            self.manifest.bad[record.kind] += 1
        self.manifest.by_topic[record.topic] += 1
        return record


def send_traffic(
    producer: AgentEventProducer,
    generator: TrafficGenerator,
    *,
    rate: float | None = None,
    live: bool = False,
    progress: Callable[[str], None] | None = None,
) -> TrafficManifest:
    """Send every generated record: valid ones through ``emit``, bad ones raw.

    ``live``: each valid event occurs the moment it is sent (its occurred_at is now), as
    an agent's events do; otherwise they keep the generator's times (history).
    """
    started = time.monotonic()
    step = max(1, generator.events // 10)
    for i, record in enumerate(generator, start=1):
        if record.kind == "valid":
            assert record.event is not None
            if live:
                record.event["occurred_at"] = format_timestamp(datetime.now(UTC))
            producer.emit(record.event)
        else:
            producer.produce_raw(record.topic, record.value, record.key)
        if rate:
            ahead = i / rate - (time.monotonic() - started)
            if ahead > 0:
                time.sleep(ahead)
        if progress and i % step == 0:
            elapsed = time.monotonic() - started
            progress(f"  sent {i:,}/{generator.events:,} ({i / max(elapsed, 1e-9):,.0f}/s)")
    producer.flush()
    return generator.manifest
