"""Fixtures of the producer tests."""

import pytest

from pipelines.contracts.topics import TOPICS
from tests.support.kafka import create_registry_topics


@pytest.fixture
def topics(kafka_broker, settings):
    """The registry's topics created for this test: logical name -> physical name."""
    create_registry_topics(settings)
    return {t.name: settings.topic_name(t.name) for t in TOPICS}
