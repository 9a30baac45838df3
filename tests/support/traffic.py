"""Generated traffic for the generator's unit tests: a fixed end time and seed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pipelines.producer.traffic import GeneratedRecord, TrafficGenerator

END = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def generate(**kw: Any) -> tuple[TrafficGenerator, list[GeneratedRecord]]:
    """A generator (seed 7, 1,200 records unless ``kw`` says otherwise) and its records."""
    gen = TrafficGenerator(end_time=END, **{"seed": 7, "events": 1200, **kw})
    return gen, list(gen)
