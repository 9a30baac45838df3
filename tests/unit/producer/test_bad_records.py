"""Bad records: each bad in exactly the way its kind says."""

import json

from pipelines.contracts.registry import MAX_EVENT_BYTES, classify_record
from tests.support.traffic import generate


def test_bad_records_are_bad_in_exactly_their_way():
    _, records = generate(bad_fraction=0.05)
    by_kind = {}
    for r in records:
        by_kind.setdefault(r.kind, []).append(r)
    assert all(len(r.value) > MAX_EVENT_BYTES for r in by_kind["oversized"])
    assert all(
        json.loads(r.value)["event_type"] == "agent_thought" for r in by_kind["unknown_event_type"]
    )
    valid_values = {r.value for r in by_kind["valid"]}
    assert all(r.value in valid_values for r in by_kind["duplicate"])
    for r in by_kind["wrong_type"]:
        assert classify_record(r.value).field.startswith("payload.")


def test_bad_records_before_any_valid_one_still_come_out():
    gen, records = generate(events=12, bad_fraction=0.75)
    assert len(records) == 12 and gen.manifest.to_dict()["bad_total"] == 9
    assert records[0].kind != "valid"  # its template came from a fresh session
