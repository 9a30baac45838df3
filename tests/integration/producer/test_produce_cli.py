"""`afl produce` against the local broker: the manifest matches what a consumer reads back."""

import json
import os
import subprocess
from collections import Counter

import pytest

from pipelines.contracts.registry import classify_record
from pipelines.contracts.topics import TOPICS
from tests import AFL
from tests.support.kafka import consume, create_registry_topics

pytestmark = pytest.mark.integration


def test_produce_100k_with_2_percent_bad_matches_the_manifest(kafka_broker, settings, tmp_path):
    create_registry_topics(settings)
    manifest_file = tmp_path / "m.json"
    env = dict(os.environ, AFL_TOPIC_PREFIX=settings.topic_prefix)
    done = subprocess.run(
        [AFL, "produce", "--events", "100000", "--bad-fraction", "0.02", "--seed", "7",
         "--manifest", str(manifest_file), "--end-time", "2026-11-20T00:00:00Z"],
        env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "records sent: 100,000" in done.stdout
    manifest = json.loads(manifest_file.read_text())
    assert manifest["records_sent"] == 100_000
    assert manifest["bad_total"] == 2000
    assert manifest["valid_distinct_total"] == 98_000

    topics = [settings.topic_name(t.name) for t in TOPICS]
    records = consume(settings, topics, expected=100_000, timeout_s=120)
    assert len(records) == 100_000
    valid, bad, seen = Counter(), Counter(), set()
    for msg in records:
        verdict = classify_record(msg.value())
        if verdict.kind != "valid":
            bad[verdict.kind] += 1
        elif verdict.event_id in seen:
            bad["duplicate"] += 1
        else:
            seen.add(verdict.event_id)
            valid[verdict.event_type] += 1
    assert dict(valid) == manifest["valid_distinct"]
    assert {k: bad.get(k, 0) for k in manifest["bad"]} == manifest["bad"]
    by_topic = Counter(msg.topic().removeprefix(settings.topic_prefix) for msg in records)
    assert dict(by_topic) == manifest["by_topic"]
