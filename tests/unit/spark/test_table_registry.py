"""The registry's stream tables do not checkpoint their logs in the same batch."""

from __future__ import annotations

from pipelines.spark.tables import (
    BRONZE_AGENT_EVENTS,
    QUARANTINE,
    SILVER_TABLE_FOR,
    STREAM_PROGRESS,
    silver_restricted_spec,
    silver_spec,
)


def _stream_tables():
    specs = [BRONZE_AGENT_EVENTS, QUARANTINE, STREAM_PROGRESS]
    for event_type in SILVER_TABLE_FOR:
        specs.append(silver_spec(event_type))
        restricted = silver_restricted_spec(event_type)
        if restricted is not None:
            specs.append(restricted)
    return specs


def test_every_stream_table_checkpoints_at_its_own_prime_interval():
    intervals = {
        spec.qualified_name: int(spec.properties["delta.checkpointInterval"])
        for spec in _stream_tables()
    }

    assert len(intervals) == 11
    assert len(set(intervals.values())) == 11  # no two tables checkpoint in step
    for name, every in intervals.items():
        assert 80 <= every <= 140, name
        assert all(every % d for d in range(2, every)), f"{name}: {every} is not prime"
