"""Thin wrapper over confluent-kafka's AdminClient: reachability and topics from the registry."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass

from confluent_kafka import KafkaError, KafkaException, TopicPartition
from confluent_kafka.admin import (
    AdminClient,
    NewTopic,
    OffsetSpec,
)

from pipelines.contracts.topics import TOPICS, Topic
from pipelines.errors import AflError
from pipelines.settings import Settings

METADATA_TIMEOUT_S = 5.0
CREATE_TIMEOUT_S = 30.0

# librdkafka logs every refused connection while we poll for a starting broker; callers
# report reachability themselves, so these go to a logger that is silent unless configured.
_librdkafka_log = logging.getLogger("pipelines.kafka_admin.librdkafka")
_librdkafka_log.addHandler(logging.NullHandler())
_librdkafka_log.propagate = False


class KafkaUnavailable(AflError):
    """The configured bootstrap servers did not answer."""


def admin_client(settings: Settings) -> AdminClient:
    return AdminClient(
        {
            "bootstrap.servers": settings.kafka_bootstrap_servers,
            # Fail fast on an unreachable cluster instead of retrying for minutes.
            "socket.connection.setup.timeout.ms": 3000,
            "logger": _librdkafka_log,  # type: ignore[dict-item]  # the stubs admit only scalars
        }
    )


def cluster_answers(settings: Settings, timeout_s: float = METADATA_TIMEOUT_S) -> bool:
    """True when a broker returns cluster metadata within the timeout."""
    try:
        admin_client(settings).list_topics(timeout=timeout_s)
        return True
    except KafkaException:
        return False


def wait_until_answers(settings: Settings, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if cluster_answers(settings, timeout_s=2.0):
            return
        time.sleep(0.5)
    raise KafkaUnavailable(
        f"Kafka at {settings.kafka_bootstrap_servers} did not answer within {timeout_s:.0f}s"
    )


def list_topics(settings: Settings) -> dict[str, int]:
    """Existing topic names with their partition counts."""
    try:
        meta = admin_client(settings).list_topics(timeout=METADATA_TIMEOUT_S)
    except KafkaException as exc:
        raise KafkaUnavailable(
            f"Kafka at {settings.kafka_bootstrap_servers} did not answer: {exc.args[0]}"
        ) from None
    return {name: len(t.partitions) for name, t in meta.topics.items()}


@dataclass(frozen=True)
class TopicResult:
    name: str
    status: str  # created | exists
    partitions: int


def create_topics(settings: Settings, topics: Iterable[Topic] = TOPICS) -> list[TopicResult]:
    """Create the registry's topics that are missing; existing ones are left as they are."""
    wanted = {settings.topic_name(t.name): t for t in topics}
    existing = list_topics(settings)
    results = [TopicResult(name, "exists", existing[name]) for name in wanted if name in existing]
    missing = [
        NewTopic(
            name,
            num_partitions=t.partitions,
            replication_factor=-1,  # the cluster default: 1 locally, 3 on a real cluster
            config=t.config(),
        )
        for name, t in wanted.items()
        if name not in existing
    ]
    if missing:
        admin = admin_client(settings)  # must outlive the futures below
        futures = admin.create_topics(
            missing, operation_timeout=CREATE_TIMEOUT_S, request_timeout=CREATE_TIMEOUT_S
        )
        for name, future in futures.items():
            try:
                future.result()
                results.append(TopicResult(name, "created", wanted[name].partitions))
            except KafkaException as exc:
                error = exc.args[0]
                if error.code() != KafkaError.TOPIC_ALREADY_EXISTS:
                    raise AflError(f"could not create topic {name}: {error.str()}") from None
                results.append(TopicResult(name, "exists", wanted[name].partitions))
    order = list(wanted)
    return sorted(results, key=lambda r: order.index(r.name))


def end_offsets(
    settings: Settings, topics: Iterable[str], timeout_s: float = METADATA_TIMEOUT_S
) -> dict[str, dict[int, int]]:
    """Each partition's next offset (the high watermark) for these physical topics.

    What a reader must have consumed to be caught up; minus a query's end offsets it is
    the query's lag. Raises KafkaUnavailable when the cluster does not answer in time.
    """
    admin = admin_client(settings)
    try:
        meta = admin.list_topics(timeout=timeout_s)
        wanted = {
            TopicPartition(topic, partition): OffsetSpec.latest()  # type: ignore[no-untyped-call]  # untyped in confluent-kafka
            for topic in topics
            if topic in meta.topics
            for partition in meta.topics[topic].partitions
        }
        if not wanted:
            return {}
        futures = admin.list_offsets(wanted, request_timeout=timeout_s)
        found: dict[str, dict[int, int]] = {}
        for tp, future in futures.items():
            found.setdefault(tp.topic, {})[tp.partition] = future.result().offset
        return found
    except KafkaException as exc:
        raise KafkaUnavailable(
            f"Kafka at {settings.kafka_bootstrap_servers} did not answer: {exc.args[0]}"
        ) from None
