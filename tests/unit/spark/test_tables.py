"""The registry's stream tables do not checkpoint their logs in the same batch."""

from __future__ import annotations

from pipelines.spark.tables import all_specs


def test_every_stream_table_checkpoints_at_its_own_prime_interval():
    intervals = {
        spec.qualified_name: int(spec.properties["delta.checkpointInterval"])
        for spec in all_specs()
        if "delta.checkpointInterval" in spec.properties  # the tables the stream appends to
    }

    assert len(intervals) == 11
    assert len(set(intervals.values())) == 11  # no two tables checkpoint in step
    for name, every in intervals.items():
        assert 80 <= every <= 140, name
        assert all(every % d for d in range(2, every)), f"{name}: {every} is not prime"
