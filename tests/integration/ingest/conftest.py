"""Fixtures of the ingest tests (helpers they share are in tests/support/streams.py)."""

from __future__ import annotations

import pytest

from tests.support.kafka import create_registry_topics


@pytest.fixture
def lake(kafka_broker, settings):
    """Settings for a fresh lake whose registry topics exist."""
    create_registry_topics(settings)
    return settings
