"""The generator as a whole: reproducible, counted exactly, spread over time."""

from datetime import datetime

import pytest

from pipelines.contracts.registry import classify_record
from pipelines.producer.traffic import BAD_KINDS, TrafficGenerator
from tests.support.traffic import END, generate


def test_same_seed_gives_byte_identical_records():
    _, first = generate(bad_fraction=0.05)
    _, second = generate(bad_fraction=0.05)
    assert [(r.topic, r.key, r.value) for r in first] == [(r.topic, r.key, r.value) for r in second]
    _, other = generate(seed=8, bad_fraction=0.05)
    assert [r.value for r in other] != [r.value for r in first]


def test_manifest_counts_exactly_what_was_generated():
    gen, records = generate(bad_fraction=0.05)
    manifest = gen.manifest.to_dict()
    assert manifest["records_sent"] == len(records) == 1200
    assert manifest["bad"] == {kind: 10 for kind in BAD_KINDS}
    assert manifest["valid_distinct_total"] == 1140
    verdicts = {}
    seen = set()
    for record in records:
        verdict = classify_record(record.value)
        kind = verdict.kind
        if kind == "valid":
            kind = "duplicate" if verdict.event_id in seen else "valid"
            seen.add(verdict.event_id)
        assert kind == record.kind, (record.kind, verdict.reason)
        verdicts[kind] = verdicts.get(kind, 0) + 1
    assert verdicts == {"valid": 1140, **{k: 10 for k in BAD_KINDS}}


def test_event_times_spread_over_the_days_back():
    _, records = generate(events=2000, days_back=5)
    times = [datetime.fromisoformat(r.event["occurred_at"]) for r in records]
    assert max(times) <= END
    assert (END - min(times)).days >= 4


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="bad_fraction"):
        TrafficGenerator(seed=1, events=10, end_time=END, bad_fraction=2)


def test_all_bad_traffic_is_refused_when_it_would_need_a_duplicate():
    with pytest.raises(ValueError, match="no valid event for the duplicates to copy"):
        TrafficGenerator(seed=1, events=10, end_time=END, bad_fraction=1.0)
    # five bad records are one of each kind but the duplicate: nothing to copy is needed
    _, records = generate(events=5, bad_fraction=1.0)
    assert sorted(r.kind for r in records) == sorted(k for k in BAD_KINDS if k != "duplicate")
