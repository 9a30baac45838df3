"""Silver transforms on tiny literal DataFrames."""

import json
import shutil
from datetime import UTC, datetime, timedelta

import pytest
from pyspark.sql import types as T

from pipelines.contracts.registry import BUILTIN_SCHEMAS_DIR, ContractSet, contract_set, serialize
from pipelines.producer.events import AgentIdentity, new_event
from pipelines.transforms.dedup import candidates, decide
from pipelines.transforms.schemas import BRONZE_SCHEMA
from pipelines.transforms.silver import (
    IngestRules,
    classify,
    quarantine_rows,
    split_restricted,
    typed_events,
    typing_plan,
)

WHO = AgentIdentity("acme", "support-bot", "2.4.0", "support-p42", "gpt-4.1-mini")
AT = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
RULES = IngestRules(
    contracts=contract_set(),
    topic_event_types={"feedback": ["feedback"], "outcomes": ["outcome"]},
    topic_classification={"feedback": "confidential", "outcome": "internal"},
    dlq_topics=("dlq",),
    hash_salt="s",
)


def feedback(event_id: str, **payload) -> dict:
    body = {"feedback_kind": "rating", "user_id": "u-1", "rating": 4, **payload}
    return new_event(
        "feedback",
        body,
        identity=WHO,
        session_id="ses-1",
        trace_id="trc-1",
        occurred_at=AT,
        event_id=event_id,
        schema_version=1,
    )


def bronze(spark, records):
    """records: (topic, offset, value bytes[, headers])."""
    rows = [
        (
            "ses-1",
            value,
            list(rest[0]) if rest else [],
            topic,
            0,
            offset,
            datetime(2026, 11, 20, 10),
            datetime(2026, 11, 20, 10, 0, 5),
            datetime(2026, 11, 20).date(),
        )
        for topic, offset, value, *rest in records
    ]
    return spark.createDataFrame(rows, BRONZE_SCHEMA)


def test_classify_names_the_reason_and_the_stage(spark):
    ok = serialize(feedback("e1"))
    bad_rating = serialize(feedback("e2", rating=9))
    outcome_on_feedback = serialize(
        new_event(
            "outcome",
            {"action_id": "a", "action_name": "x", "status": "SUCCESS", "severity": "INFO"},
            identity=WHO,
            session_id="s",
            trace_id="t",
            occurred_at=AT,
            event_id="e3",
            schema_version=1,
        )
    )
    records = [
        ("feedback", 0, ok),
        ("feedback", 1, bad_rating),
        ("feedback", 2, b'{"event_id": '),
        ("feedback", 3, outcome_on_feedback),
        ("dlq", 4, ok, [("afl.reason", b"invalid feedback event: payload.rating: nope")]),
    ]
    rows = {r["offset"]: r for r in classify(bronze(spark, records), RULES).collect()}
    assert rows[0]["rejection"] is None
    assert (rows[0]["event_type"], rows[0]["schema_version"], rows[0]["event_id"]) == (
        "feedback",
        1,
        "e1",
    )
    assert rows[1]["rejection"].asDict() == {
        "kind": "invalid_value",
        "field": "payload.rating",
        "message": "must be smaller than or equal to 5",
        "stage": "contract",
    }
    assert (rows[2]["rejection"]["kind"], rows[2]["rejection"]["stage"]) == (
        "malformed_json",
        "parse",
    )
    assert rows[3]["rejection"]["kind"] == "wrong_topic"
    assert rows[3]["rejection"]["message"] == "outcome events do not belong on topic feedback"
    assert rows[4]["rejection"].asDict() == {
        "kind": "dead_lettered",
        "field": None,
        "message": "invalid feedback event: payload.rating: nope",
        "stage": "producer",
    }


def test_typed_rows_are_flat_governed_and_keep_unknown_fields(spark):
    event = feedback("e1", comment="too slow")
    event["payload"]["mood"] = "grumpy"
    event["data_classification"] = "restricted"  # the producer's word; the table decides
    classified = classify(bronze(spark, [("feedback", 7, serialize(event))]), RULES)
    [row] = typed_events(classified, [contract_set().get("feedback", 1)], RULES).collect()
    assert (row["event_id"], row["rating"], row["comment"], row["user_id"]) == (
        "e1",
        4,
        "too slow",
        "u-1",
    )
    assert row["occurred_at"] == datetime(2026, 11, 20, 9, 30)
    assert row["event_date"] == datetime(2026, 11, 20).date()
    assert row["retention_until"] == datetime(2027, 11, 20, 9, 30)  # confidential: 365 days
    assert (row["kafka_topic"], row["kafka_offset"], row["source"]) == ("feedback", 7, "stream")
    assert row["contains_pii"] is True
    assert row["data_classification"] == "confidential"  # the general table's class
    assert json.loads(row["_rescued_data"]) == {"payload.mood": "grumpy"}


def test_source_header_marks_mirrored_rows(spark):
    records = [("feedback", 0, serialize(feedback("e1")), [("afl.source", b"legacy_mirror")])]
    classified = classify(bronze(spark, records), RULES)
    [row] = typed_events(classified, [contract_set().get("feedback", 1)], RULES).collect()
    assert row["source"] == "legacy_mirror"


def test_first_occurrence_of_an_event_id_wins(spark):
    value = serialize(feedback("e1"))
    classified = classify(bronze(spark, [("feedback", 9, value), ("feedback", 3, value)]), RULES)
    rows = typed_events(classified, [contract_set().get("feedback", 1)], RULES)
    decided = decide(rows, candidates(rows.limit(0), rows)).collect()
    landing = [(r["event_id"], r["kafka_offset"]) for r in decided if r["_original"] is None]
    assert landing == [("e1", 3)]
    [copy] = [r for r in decided if r["_original"] is not None]
    assert (copy["kafka_offset"], copy["_original"]["kafka_offset"]) == (9, 3)


def test_user_text_and_pii_only_hashed_in_general_rows(spark):
    classified = classify(
        bronze(spark, [("feedback", 0, serialize(feedback("e1", comment="hi")))]), RULES
    )
    rows = typed_events(classified, [contract_set().get("feedback", 1)], RULES)
    general, restricted = split_restricted(rows, [contract_set().get("feedback", 1)], "s")
    [g] = general.collect()
    [r] = restricted.collect()
    import hashlib

    assert "comment" not in general.columns and "user_id" not in general.columns
    assert g["comment_hash"] == hashlib.sha256(b"shi").hexdigest()
    assert g["comment_length"] == 2
    assert g["user_id_hash"] == hashlib.sha256(b"su-1").hexdigest()
    assert (r["event_id"], r["comment"], r["user_id"], r["data_classification"]) == (
        "e1",
        "hi",
        "u-1",
        "restricted",
    )
    assert g["retention_until"] == datetime(2027, 11, 20, 9, 30)  # confidential: 365 days
    assert r["retention_until"] == datetime(2027, 2, 18, 9, 30)  # restricted: 90 days
    assert isinstance(general.schema["comment_hash"].dataType, T.StringType)


def test_quarantine_rows_keep_the_raw_record_and_coordinates(spark):
    classified = classify(bronze(spark, [("feedback", 5, b"not json")]), RULES)
    [q] = quarantine_rows(classified).collect()
    assert bytes(q["value"]) == b"not json"
    assert (q["kafka_topic"], q["kafka_partition"], q["kafka_offset"]) == ("feedback", 0, 5)
    assert (q["reason_kind"], q["stage"], q["status"]) == ("malformed_json", "parse", "quarantined")
    assert q["reason"].startswith("not valid JSON")
    assert (q["tenant_id"], q["data_classification"]) == (None, "restricted")
    assert q["retention_until"] - q["kafka_timestamp"] == timedelta(days=90)


def test_a_quarantined_event_keeps_its_tenant(spark):
    event = feedback("e1")
    event["schema_version"] = 99
    classified = classify(bronze(spark, [("feedback", 5, serialize(event))]), RULES)
    [q] = quarantine_rows(classified).collect()
    assert (q["reason_kind"], q["tenant_id"]) == ("unknown_schema_version", event["tenant_id"])


@pytest.mark.parametrize("value", [b"[1, 2]", b'"text"'])
def test_json_that_is_not_an_object_is_rejected(spark, value):
    [row] = classify(bronze(spark, [("feedback", 0, value)]), RULES).collect()
    assert (row["rejection"]["kind"], row["rejection"]["field"]) == ("not_an_object", "$")


def test_each_row_is_typed_by_its_own_version_whatever_shares_its_batch(spark):
    """A v1 event carrying v2's field names (with values v2 refuses) beside a v2 event:
    the v1 row's v2 columns are null and its values only rescued; the v2 row is typed."""
    v1 = feedback("e1")
    v1["payload"].update(channel="carrier-pigeon", locale=12345)
    v2 = feedback("e2")
    v2["schema_version"] = 2
    v2["payload"].update(channel="web", locale="de-AT")
    alone = classify(bronze(spark, [("feedback", 0, serialize(v1))]), RULES)
    both = classify(
        bronze(spark, [("feedback", 0, serialize(v1)), ("feedback", 1, serialize(v2))]), RULES
    )
    cs = contract_set()
    [only] = typed_events(alone, [cs.get("feedback", 1)], RULES).collect()
    rows = {
        r["event_id"]: r
        for r in typed_events(both, [cs.get("feedback", 1), cs.get("feedback", 2)], RULES).collect()
    }
    assert (rows["e1"]["channel"], rows["e1"]["locale"]) == (None, None)
    assert json.loads(rows["e1"]["_rescued_data"]) == {
        "payload.channel": "carrier-pigeon",
        "payload.locale": 12345,
    }
    assert only["_rescued_data"] == rows["e1"]["_rescued_data"]  # neighbours change nothing
    assert (rows["e2"]["channel"], rows["e2"]["locale"], rows["e2"]["_rescued_data"]) == (
        "web",
        "de-AT",
        None,
    )
    assert rows["e1"]["_conflict"] is None and rows["e2"]["_conflict"] is None


def test_a_version_whose_types_cannot_join_the_batchs_is_a_conflict_of_its_rows_only(
    spark, tmp_path
):
    folder = tmp_path / "contracts"
    shutil.copytree(BUILTIN_SCHEMAS_DIR, folder)
    doc = json.loads((folder / "feedback.v2.json").read_text())
    doc.update({"$id": "afl://contracts/feedback.v3.json", "x-version": 3})
    doc["properties"]["rating"] = {"type": ["string", "null"]}
    (folder / "feedback.v3.json").write_text(json.dumps(doc))
    cs = ContractSet(folder)
    rules = IngestRules(cs, RULES.topic_event_types, RULES.topic_classification, ("dlq",), "s")
    v3 = feedback("e3", rating="four")
    v3["schema_version"] = 3
    classified = classify(
        bronze(spark, [("feedback", 0, serialize(feedback("e1"))), ("feedback", 1, serialize(v3))]),
        rules,
    )
    versions = [cs.get("feedback", v) for v in (1, 3)]
    assert [c.version for c in typing_plan(versions)[0]] == [1]
    rows = {r["event_id"]: r for r in typed_events(classified, versions, rules).collect()}
    assert (rows["e1"]["rating"], rows["e1"]["_conflict"]) == (4, None)
    assert rows["e3"]["_conflict"] == (
        "payload.rating: feedback v3 cannot share the table's columns with v1 "
        "(bigint and string cannot be merged)"
    )
