"""Topics from the registry, created once with their partitions and retention: the admin
client through `afl topics create`, run twice."""

import os
import subprocess

import pytest
from confluent_kafka.admin import ConfigResource

from pipelines.contracts.topics import TOPICS
from pipelines.kafka_admin import admin_client, list_topics
from tests import AFL

pytestmark = pytest.mark.integration


def test_topics_create_is_idempotent_and_follows_the_registry(kafka_broker, settings):
    env = dict(os.environ, AFL_TOPIC_PREFIX=settings.topic_prefix)
    first = subprocess.run([AFL, "topics", "create"], env=env, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    names = [settings.topic_name(t.name) for t in TOPICS]
    assert first.stdout.splitlines() == [
        f"created  {n} ({t.partitions} partitions)" for n, t in zip(names, TOPICS, strict=True)
    ]
    second = subprocess.run([AFL, "topics", "create"], env=env, capture_output=True, text=True)
    assert second.returncode == 0
    assert [line.split()[0] for line in second.stdout.splitlines()] == ["exists"] * len(TOPICS)

    existing = list_topics(settings)
    assert {n: existing[n] for n in names} == {
        n: t.partitions for n, t in zip(names, TOPICS, strict=True)
    }
    dlq = ConfigResource(ConfigResource.Type.TOPIC, settings.topic_name("agent.dlq"))
    admin = admin_client(settings)
    config = next(iter(admin.describe_configs([dlq]).values())).result()
    assert config["retention.ms"].value == str(30 * 24 * 3600 * 1000)
