"""Realistic, reproducible agent traffic — with a known fraction of bad records.

Sessions across tenants, agents, agent and prompt versions follow one turn's life:
user message -> retrieval -> tool calls -> model response -> policy checks -> outcome ->
feedback (ratings, thumbs, corrections, escalations) and sometimes an online evaluation.
Everything comes from one seeded ``random.Random`` and an explicit end time, so the same
seed and end time give byte-identical records. The manifest says exactly what was sent:
valid distinct events per type and bad records per kind.

- ``catalog``: the agents, models and prices, tenants, policies (plain data)
- ``turns``: sessions and the turn builder (one method per step of a turn)
- ``bad_records``: records bad in exactly one known way
- ``records``: the record the generator yields, and the bad kinds
- ``generator``: ``TrafficGenerator``, its ``TrafficManifest`` and ``send_traffic``
"""

from pipelines.producer.traffic.generator import TrafficGenerator, TrafficManifest, send_traffic
from pipelines.producer.traffic.records import BAD_KINDS, GeneratedRecord

__all__ = ["BAD_KINDS", "GeneratedRecord", "TrafficGenerator", "TrafficManifest", "send_traffic"]
