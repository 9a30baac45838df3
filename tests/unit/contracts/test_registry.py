import json
from datetime import UTC, datetime

import pytest
from pyspark.sql import functions as F

from pipelines.contracts.exceptions import ContractViolation
from pipelines.contracts.registry import (
    MAX_EVENT_BYTES,
    classify_record,
    event_types,
    get_contract,
    serialize,
    validate_event,
    versions,
)
from pipelines.contracts.spark_schema import event_schema, merged_event_schema
from pipelines.producer.events import format_timestamp
from pipelines.producer.traffic import TrafficGenerator

END = datetime(2026, 11, 20, tzinfo=UTC)


def _events_by_type(schema_version: int) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for record in TrafficGenerator(seed=3, events=600, end_time=END, schema_version=schema_version):
        found.setdefault(record.valid_event["event_type"], []).append(record.valid_event)
    return found


def _leaves(value, prefix=""):
    """Every non-null leaf as (dotted path, value)."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _leaves(v, f"{prefix}{k}.")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _leaves(v, f"{prefix}{i}.")
    elif isinstance(value, datetime):
        yield prefix.rstrip("."), format_timestamp(value.replace(tzinfo=UTC))
    elif value is not None:
        yield prefix.rstrip("."), value


# What agents emit, and the generator makes; control commands and approvals come from
# operators, rules and reviewers.
AGENT_EVENT_TYPES = ["evaluation", "feedback", "interaction", "outcome", "policy_decision",
                     "tool_call"]  # fmt: skip


def test_every_type_and_version_has_a_contract():
    assert event_types() == ["approval", "control", *AGENT_EVENT_TYPES]
    assert {t: versions(t) for t in AGENT_EVENT_TYPES} == {t: [1, 2] for t in AGENT_EVENT_TYPES}
    assert (versions("approval"), versions("control")) == ([1], [1])


@pytest.mark.parametrize("schema_version", [1, 2])
def test_round_trip_generate_validate_serialize_parse_loses_no_field(spark, schema_version):
    by_type = _events_by_type(schema_version)
    assert sorted(by_type) == AGENT_EVENT_TYPES
    for event_type, events in by_type.items():
        sample = events[:5]
        for event in sample:
            assert validate_event(event).version == schema_version
        raw = [(serialize(e).decode(),) for e in sample]
        parsed = (
            spark.createDataFrame(raw, "value string")
            .select(F.from_json("value", merged_event_schema(event_type)).alias("e"))
            .select("e.*")
            .collect()
        )
        for original, row in zip(sample, parsed, strict=True):
            back = row.asDict(recursive=True)
            back["occurred_at"] = (
                back["occurred_at"]
                .replace(tzinfo=UTC)
                .isoformat(timespec="milliseconds")
                .replace("+00:00", "Z")
            )
            assert dict(_leaves(back)) == dict(_leaves(original)), event_type


def test_v2_adds_columns_that_are_null_for_v1(spark):
    assert (
        "attachments" not in event_schema(get_contract("interaction", 1))["payload"].dataType.names
    )
    merged = merged_event_schema("interaction")["payload"].dataType
    assert merged.names[-2:] == ["language", "attachments"]
    v1 = _events_by_type(1)["interaction"][0]
    row = (
        spark.createDataFrame([(serialize(v1).decode(),)], "value string")
        .select(F.from_json("value", merged_event_schema("interaction")).alias("e"))
        .first()
    )
    assert row["e"]["payload"]["language"] is None and row["e"]["payload"]["turn_id"]


def test_field_classification_lives_in_the_contract_and_the_spark_schema():
    feedback = get_contract("feedback", 2)
    assert feedback.field_classes == {
        "payload.user_id": "pii",
        "payload.comment": "user_text",
        "payload.correction": "user_text",
        "payload.reviewer": "pii",
    }
    payload = merged_event_schema("feedback")["payload"].dataType
    assert payload["comment"].metadata["classification"] == "user_text"
    assert payload["user_id"].metadata["classification"] == "pii"
    assert "classification" not in payload["rating"].metadata


def _valid_outcome() -> dict:
    return json.loads(serialize(_events_by_type(1)["outcome"][0]))


@pytest.mark.parametrize(
    ("mutate", "field", "reason"),
    [
        (lambda e: e["payload"].pop("status"), "payload.status", "required field is missing"),
        (lambda e: e.pop("tenant_id"), "tenant_id", "required field is missing"),
        (
            lambda e: e["payload"].update(cost_usd="cheap"),
            "payload.cost_usd",
            "must be number or null",
        ),
        (lambda e: e["payload"].update(status="DONE"), "payload.status", "must be one of"),
        (lambda e: e.update(occurred_at="yesterday"), "occurred_at", "must be date-time"),
        (lambda e: e.update(schema_version=7), "schema_version", "no contract for outcome v7"),
        (lambda e: e.update(event_type="thought"), "event_type", "unknown event type 'thought'"),
    ],
)
def test_an_invalid_event_names_the_field(mutate, field, reason):
    event = _valid_outcome()
    mutate(event)
    with pytest.raises(ContractViolation) as caught:
        validate_event(event)
    assert caught.value.field == field
    assert reason in str(caught.value)


@pytest.mark.parametrize(
    ("mutate", "kind", "field"),
    [
        (lambda e: e.update(schema_version=None), "wrong_type", "schema_version"),
        (lambda e: e.update(schema_version="1"), "wrong_type", "schema_version"),
        (lambda e: e.update(schema_version=True), "wrong_type", "schema_version"),
        (lambda e: e.update(schema_version=0), "invalid_value", "schema_version"),
        (lambda e: e.update(schema_version=-1), "invalid_value", "schema_version"),
        (lambda e: e.pop("schema_version"), "missing_required", "schema_version"),
        (lambda e: e.update(event_type=None), "wrong_type", "event_type"),
        (lambda e: e.pop("event_type"), "missing_required", "event_type"),
        (
            lambda e: e.update(occurred_at="2026-11-20T10:00:00+0530"),
            "invalid_value",
            "occurred_at",
        ),
        (
            lambda e: e.update(occurred_at="\uff12\uff10\uff12\uff16-11-20T10:00:00Z"),
            "invalid_value",
            "occurred_at",
        ),
        (lambda e: e.update(occurred_at="2026-11-20T10:00:00+05:30"), "valid", None),
    ],
)
def test_a_reason_names_what_the_producer_must_fix(mutate, kind, field):
    """Present but of the wrong type is wrong_type; outside the envelope's range or not
    RFC 3339 is invalid_value; only an absent field is missing_required."""
    event = _valid_outcome()
    mutate(event)
    verdict = classify_record(serialize(event))
    assert (verdict.kind, verdict.field) == (kind, field)


def test_classify_record_kinds():
    event = _valid_outcome()
    assert classify_record(serialize(event)).kind == "valid"
    assert classify_record(b'{"event_id": ').kind == "malformed_json"
    assert classify_record(b"x" * (MAX_EVENT_BYTES + 1)).kind == "oversized"
    event["schema_version"] = 3
    verdict = classify_record(serialize(event))
    assert (verdict.kind, verdict.field) == ("unknown_schema_version", "schema_version")
