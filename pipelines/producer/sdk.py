"""The producer SDK for agent apps: validate, then produce idempotently, never drop silently.

    with AgentEventProducer(Settings.from_env()) as producer:
        producer.emit(new_event("feedback", {...}, identity=..., session_id=..., trace_id=...))

``emit`` is asynchronous: it validates against the contract, serializes and hands the event
to librdkafka (idempotent, acks=all, keyed by session_id). Delivery reports update the
metrics; a failed delivery is raised by the next ``emit`` or ``flush`` (or handed to
``on_delivery_failure``), so a broken pipeline is never silent. The buffer is bounded:
when it is full, ``emit`` waits (back-pressure) and gives up with ``BackpressureTimeout``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import KafkaError, Message, Producer

from pipelines.contracts.exceptions import ContractViolation
from pipelines.contracts.registry import serialize, validate_event
from pipelines.contracts.topics import DLQ_TOPIC, topic_for_event_type
from pipelines.producer.exceptions import BackpressureTimeout, DeliveryError
from pipelines.settings import Settings

log = logging.getLogger(__name__)
# librdkafka reports transient conditions (a coordinator still loading right after a broker
# start) as warnings it retries by itself; its errors still show.
_librdkafka_log = logging.getLogger("pipelines.producer.librdkafka")
_librdkafka_log.setLevel(logging.ERROR)

DEFAULT_DELIVERY_TIMEOUT_S = 30.0
DEFAULT_BUFFER_TIMEOUT_S = 10.0
DEFAULT_MAX_BUFFERED = 100_000
LATENCY_SAMPLES = 10_000
BACKPRESSURE_POLL_S = 0.05

Headers = Sequence[tuple[str, str | bytes | None]]


@dataclass
class ProducerMetrics:
    """Counters and a bounded sample of delivery latencies (emit -> broker ack)."""

    emitted: int = 0
    sent: int = 0
    failed: int = 0
    invalid: int = 0
    dead_lettered: int = 0
    _latencies: list[float] = field(default_factory=list, repr=False)
    _next: int = field(default=0, repr=False)

    def record_latency(self, seconds: float) -> None:
        if len(self._latencies) < LATENCY_SAMPLES:
            self._latencies.append(seconds)
        else:
            self._latencies[self._next % LATENCY_SAMPLES] = seconds
        self._next += 1

    def snapshot(self) -> dict[str, float | int]:
        lat = sorted(self._latencies)

        def pct(p: float) -> float:
            return round(lat[min(len(lat) - 1, int(p * len(lat)))] * 1000, 3) if lat else 0.0

        return {
            "emitted": self.emitted,
            "sent": self.sent,
            "failed": self.failed,
            "invalid": self.invalid,
            "dead_lettered": self.dead_lettered,
            "in_flight": self.emitted - self.sent - self.failed,
            "delivery_latency_p50_ms": pct(0.50),
            "delivery_latency_p95_ms": pct(0.95),
            "delivery_latency_max_ms": round(lat[-1] * 1000, 3) if lat else 0.0,
        }


class AgentEventProducer:
    """Validated, idempotent, bounded, observable production of agent events."""

    def __init__(
        self,
        settings: Settings,
        *,
        dead_letter_invalid: bool = False,
        delivery_timeout_s: float = DEFAULT_DELIVERY_TIMEOUT_S,
        buffer_timeout_s: float = DEFAULT_BUFFER_TIMEOUT_S,
        max_buffered: int = DEFAULT_MAX_BUFFERED,
        on_delivery_failure: Callable[[str, int], None] | None = None,
        extra_config: Mapping[str, Any] | None = None,
    ) -> None:
        self.settings = settings
        self.dead_letter_invalid = dead_letter_invalid
        self.delivery_timeout_s = delivery_timeout_s
        self.buffer_timeout_s = buffer_timeout_s
        self.on_delivery_failure = on_delivery_failure
        self.metrics = ProducerMetrics()
        self._unreported_failures = 0
        self._last_error = ""
        self._topics: dict[str, str] = {}
        config: dict[str, Any] = {
            "bootstrap.servers": settings.kafka_bootstrap_servers,
            "client.id": "afl-producer-sdk",
            "enable.idempotence": True,  # implies acks=all and ordered retries per partition
            "acks": "all",
            "message.timeout.ms": int(delivery_timeout_s * 1000),
            "queue.buffering.max.messages": max_buffered,
            "linger.ms": 5,
            "compression.type": "lz4",
            # The Java client's default: the same session lands on the same partition
            # whichever language produced it.
            "partitioner": "murmur2_random",
            "error_cb": self._on_client_error,
            # librdkafka's own log lines go through Python logging, not straight to stderr.
            "logger": _librdkafka_log,
        }
        config.update(extra_config or {})
        self._producer = Producer(config)

    # -- sending -----------------------------------------------------------------------

    def emit(
        self, event: Mapping[str, Any], *, wait: bool = False, headers: Headers | None = None
    ) -> None:
        """Validate and send one event; ``wait`` blocks until Kafka acknowledges it."""
        self._raise_pending_failures()
        try:
            validate_event(event)
        except ContractViolation as violation:
            self.metrics.invalid += 1
            if not self.dead_letter_invalid:
                raise
            self.dead_letter(event, violation)
            return
        topic = self._topic_for(event["event_type"])
        self._send(topic, serialize(event), event["session_id"], headers)
        if wait:
            self.flush(self.delivery_timeout_s + 5)

    def produce_raw(
        self,
        logical_topic: str,
        value: bytes,
        key: str | None = None,
        headers: Headers | None = None,
    ) -> None:
        """Send bytes unvalidated: replays, test traffic and deliberate bad records only."""
        self._raise_pending_failures()
        self._send(self.settings.topic_name(logical_topic), value, key, headers)

    def dead_letter(self, event: Any, violation: ContractViolation) -> None:
        """Park an event that failed validation on the DLQ, with the reason in headers."""
        try:
            value = serialize(event)
        except (TypeError, ValueError):
            value = repr(event).encode()
        event_type = event.get("event_type") if isinstance(event, Mapping) else None
        key = event.get("session_id") if isinstance(event, Mapping) else None
        headers = [
            ("afl.reason", str(violation)),
            ("afl.field", violation.field),
            ("afl.stage", "producer"),
            ("afl.event_type", str(event_type)),
        ]
        self._send(
            self.settings.topic_name(DLQ_TOPIC),
            value,
            key if isinstance(key, str) else None,
            headers,
        )
        self.metrics.dead_lettered += 1

    def flush(self, timeout_s: float | None = None) -> None:
        """Wait for every buffered event; raise DeliveryError if any was not delivered."""
        timeout = self.delivery_timeout_s + 5 if timeout_s is None else timeout_s
        remaining = self._producer.flush(timeout)
        if remaining:
            raise DeliveryError(
                remaining,
                f"still undelivered after {timeout:.0f}s",
                self.settings.kafka_bootstrap_servers,
            )
        self._raise_pending_failures()

    def close(self) -> None:
        self.flush()

    def __enter__(self) -> AgentEventProducer:
        return self

    def __exit__(self, *exc: object) -> None:
        # On an exception inside the block, still deliver what was emitted, but do not
        # mask the original exception with a delivery error.
        if exc[0] is None:
            self.close()
        else:
            self._producer.flush(self.delivery_timeout_s)

    # -- internals ---------------------------------------------------------------------

    def _topic_for(self, event_type: str) -> str:
        topic = self._topics.get(event_type)
        if topic is None:
            topic = self.settings.topic_name(topic_for_event_type(event_type).name)
            self._topics[event_type] = topic
        return topic

    def _send(
        self, topic: str, value: bytes, key: str | None, headers: Headers | None = None
    ) -> None:
        try:
            self._producer.produce(
                topic, value, key, on_delivery=self._on_delivery, headers=_as_list(headers)
            )
        except BufferError:
            self._wait_for_room(topic, value, key, headers)
        self.metrics.emitted += 1
        self._producer.poll(0)

    def _wait_for_room(
        self, topic: str, value: bytes, key: str | None, headers: Headers | None
    ) -> None:
        deadline = time.monotonic() + self.buffer_timeout_s
        while True:
            self._producer.poll(BACKPRESSURE_POLL_S)
            try:
                self._producer.produce(
                    topic, value, key, on_delivery=self._on_delivery, headers=_as_list(headers)
                )
                return
            except BufferError:
                if time.monotonic() > deadline:
                    raise BackpressureTimeout(
                        f"the producer buffer stayed full for {self.buffer_timeout_s:.0f}s: "
                        f"Kafka at {self.settings.kafka_bootstrap_servers} is not keeping up"
                    ) from None

    def _on_delivery(self, err: KafkaError | None, msg: Message) -> None:
        if err is None:
            self.metrics.sent += 1
            latency = msg.latency()
            if latency is not None:
                self.metrics.record_latency(latency)
            return
        self.metrics.failed += 1
        self._last_error = err.str()
        if self.on_delivery_failure is not None:
            self.on_delivery_failure(err.str(), 1)
        else:
            self._unreported_failures += 1

    def _on_client_error(self, err: KafkaError) -> None:
        log.warning("kafka client error: %s", err.str())

    def _raise_pending_failures(self) -> None:
        if self._unreported_failures:
            failed, self._unreported_failures = self._unreported_failures, 0
            raise DeliveryError(failed, self._last_error, self.settings.kafka_bootstrap_servers)


def _as_list(headers: Headers | None) -> list[tuple[str, str | bytes | None]] | None:
    """confluent-kafka takes a list (or dict), nothing else: most calls pass one already."""
    return headers if headers is None or isinstance(headers, list) else list(headers)
