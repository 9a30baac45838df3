"""Typed columns hold only what the row's own contract validated, and no contract file can
stop the stream.

A client we did not write sends, for every (event type, version), events that carry the
other versions' field names as unknown fields with values those versions refuse, in the
same micro-batches as clean events of every version; every typed column of every landed
row is then compared with what the row's own contract declares of the event it came from.
Then the contract cases: a version the running stream refused stays refused after a
restart, and versions whose types cannot share a table fail only their own records.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from pyspark.sql import functions as F

from pipelines.contracts.registry import BUILTIN_SCHEMAS_DIR, ContractSet, reload_contracts
from pipelines.contracts.topics import topic_for_event_type
from pipelines.ingest.batch import INGEST_QUERY
from pipelines.ingest.contract_record import record_accepted
from pipelines.ingest.stream import CATCH_UP, run_ingest
from pipelines.ingest.verify import own_contract_violations
from pipelines.producer.events import AgentIdentity, new_event
from pipelines.producer.traffic import TrafficGenerator
from pipelines.spark.tables import SILVER_TABLE_FOR, silver_spec
from tests.support.hostile import Hostile
from tests.support.kafka import send_raw
from tests.support.lake import assert_lake_exact, with_user_text_or_pii
from tests.support.streams import END, running_stream, wait_for
from tests.support.traffic import command_and_approval_events

pytestmark = pytest.mark.integration

FULL_WIDTH_2026 = "\uff12\uff10\uff12\uff16"  # digits to Python, not to RFC 3339
WHO = AgentIdentity("acme", "support-bot", "2.4.0", "support-p42", "gpt-4.1-mini")


@pytest.fixture
def contracts_dir(tmp_path, monkeypatch):
    """The shipped contracts plus feedback v3, which drops v2's optional escalation_reason
    (compatible), so a version has a field of an earlier version it does not declare."""
    folder = tmp_path / "contracts"
    shutil.copytree(BUILTIN_SCHEMAS_DIR, folder)
    doc = json.loads((folder / "feedback.v2.json").read_text())
    doc.update({"$id": "afl://contracts/feedback.v3.json", "x-version": 3})
    del doc["properties"]["escalation_reason"]
    (folder / "feedback.v3.json").write_text(json.dumps(doc, indent=2))
    monkeypatch.setenv("AFL_CONTRACTS_DIR", str(folder))
    reload_contracts()
    yield folder
    monkeypatch.delenv("AFL_CONTRACTS_DIR")
    reload_contracts()


def refused_value(spec: dict[str, Any]) -> Any:
    """A value the declaring version's contract refuses for this field."""
    if "enum" in spec:
        return "carrier-pigeon"
    kinds = spec["type"]
    kind = next(k for k in ([kinds] if isinstance(kinds, str) else kinds) if k != "null")
    return {"string": 12345, "integer": "twelve", "number": "fast", "boolean": "yes"}.get(
        kind, "not-an-object"
    )


def base_events(cs: ContractSet) -> dict[tuple[str, int], list[dict]]:
    """Valid generated events of every (type, version); feedback v3 from v2's."""
    found: dict[tuple[str, int], list[dict]] = defaultdict(list)
    for version in (1, 2):
        for record in TrafficGenerator(seed=330 + version, events=700, end_time=END,
                                       schema_version=version):  # fmt: skip
            if record.kind == "valid":
                found[(str(record.event_type), version)].append(record.valid_event)
    for event in found[("feedback", 2)][::2]:
        v3 = json.loads(json.dumps(event))
        v3["schema_version"] = 3
        v3["payload"].pop("escalation_reason", None)
        found[("feedback", 3)].append(v3)
    for event_type, events in command_and_approval_events(6).items():
        found[(event_type, 1)] = events
    assert set(found) == {(c.event_type, c.version) for c in cs.all()}
    return found


def planted_records(cs: ContractSet, round_number: int) -> tuple[list[Hostile], dict]:
    """Per (type, version): clean events, and events carrying every other version's field
    this version does not declare, with a value the declaring version refuses."""
    records: list[Hostile] = []
    sent: dict[str, dict] = {}
    for (event_type, version), events in sorted(base_events(cs).items()):
        own = cs.get(event_type, version).payload_schema["properties"]
        others = {
            name: spec
            for v in cs.versions(event_type)
            if v != version
            for name, spec in cs.get(event_type, v).payload_schema["properties"].items()
            if name not in own
        }
        for i, event in enumerate(events[:24]):
            event = json.loads(json.dumps(event))
            event["event_id"] = f"own-{round_number}-{event_type}-v{version}-{i}"
            if i % 2:
                for name, spec in others.items():
                    event["payload"][name] = refused_value(spec)
            sent[event["event_id"]] = event
            topic = topic_for_event_type(event_type).name
            records.append(
                Hostile(event["event_id"], topic, orjson.dumps(event), event["session_id"].encode())
            )
    return records, sent


def misjudged_records(round_number: int) -> list[tuple[Hostile, str, str]]:
    """Records whose reason used to name the wrong kind: (record, kind, field)."""
    cases = [
        ("occurred_at", FULL_WIDTH_2026 + "-11-20T10:00:00Z", "invalid_value"),
        ("occurred_at", "2026-11-20T10:00:00+0530", "invalid_value"),  # no colon: not RFC 3339
        ("occurred_at", "2026-11-20T10:00:00Z\n", "invalid_value"),
        ("schema_version", None, "wrong_type"),
        ("schema_version", 0, "invalid_value"),
        ("schema_version", -1, "invalid_value"),
    ]
    out = []
    for n, (name, value, kind) in enumerate(cases):
        event = new_event(
            "feedback",
            {"feedback_kind": "thumbs", "user_id": "u-9", "thumbs": "up"},
            identity=WHO,
            session_id="ses-misjudged",
            trace_id="trc-misjudged",
            occurred_at=datetime(2026, 11, 20, 9, tzinfo=UTC),
            event_id=f"misjudged-{round_number}-{n}",
            schema_version=1,
        )
        event[name] = value
        record = Hostile(event["event_id"], "agent.feedback.v1", orjson.dumps(event), b"s")
        out.append((record, kind, name))
    return out


def same(typed: Any, sent: Any) -> bool:
    """A typed value is what was sent (a struct's fields the event left out are null; a
    timestamp is checked by the exactness tests, not here)."""
    if isinstance(typed, datetime):
        return isinstance(sent, str)
    if isinstance(typed, dict) and isinstance(sent, dict):
        return set(sent) <= set(typed) and all(same(v, sent.get(k)) for k, v in typed.items())
    if isinstance(typed, list) and isinstance(sent, list):
        return len(typed) == len(sent) and all(map(same, typed, sent))
    return bool(typed == sent)


def assert_typed_by_own_contract(spark, settings, cs: ContractSet, sent: dict) -> int:
    """Every typed column of every landed row against the sent event and its own contract:
    the event's value where its version declares the field, null where it does not; the
    planted fields in ``_rescued_data`` and nowhere else. Returns the rows compared."""
    compared = 0
    for event_type in SILVER_TABLE_FOR:
        payload_names = {n for v in cs.versions(event_type)
                         for n in cs.get(event_type, v).payload_fields}  # fmt: skip
        path = silver_spec(event_type).path(settings)
        for found in spark.read.format("delta").load(path).collect():
            row = found.asDict(recursive=True)
            event = sent.get(row["event_id"])
            if event is None:
                continue
            compared += 1
            contract = cs.get(event_type, row["schema_version"])
            own, payload = set(contract.payload_fields), event["payload"]
            classified = {k.split(".", 1)[1] for k in contract.field_classes}
            for name in payload_names:
                hashed = f"{name}_hash" in row
                value = row[f"{name}_hash"] if hashed else row[name]
                if name not in own or payload.get(name) is None:
                    assert value is None, (row["event_id"], name, value)
                elif hashed:
                    assert value is not None and name in classified, (row["event_id"], name)
                else:
                    assert same(value, payload[name]), (row["event_id"], name, value)
            unknown = {f"payload.{k}": v for k, v in payload.items() if k not in own}
            rescued = json.loads(row["_rescued_data"]) if row["_rescued_data"] else {}
            assert rescued == unknown, row["event_id"]
    return compared


def test_every_typed_column_holds_only_what_the_rows_own_version_declares(
    spark, lake, contracts_dir
):
    settings = lake
    cs = ContractSet(contracts_dir)
    sent: dict[str, dict] = {}
    misjudged: list[tuple[Hostile, str, str]] = []
    for round_number in range(2):  # two rounds, each its own run of the stream
        records, round_sent = planted_records(cs, round_number)
        sent.update(round_sent)
        odd = misjudged_records(round_number)
        misjudged += odd
        send_raw(settings, records + [r for r, _, _ in odd])  # every version in one batch
        run_ingest(spark, settings, CATCH_UP)
        checks = assert_lake_exact(spark, settings)
        typed = next(c for c in checks if c.name == "typed by its own contract")
        rows = len(sent) + sum(with_user_text_or_pii(e) for e in sent.values())  # + companions
        assert typed.ok and typed.detail.startswith(f"{rows:,} rows")

    assert assert_typed_by_own_contract(spark, settings, cs, sent) == len(sent)
    feedback = spark.read.format("delta").load(silver_spec("feedback").path(settings))
    # the case: a v1 event's channel and locale are rescued only, never typed
    v1 = feedback.where((F.col("schema_version") == 1) & F.col("_rescued_data").isNotNull())
    assert v1.count() == 24 and v1.where(F.col("channel").isNotNull()).count() == 0
    assert json.loads(v1.first()["_rescued_data"]) == {
        "payload.channel": "carrier-pigeon",
        "payload.locale": 12345,
    }
    assert feedback.where(F.col("schema_version") == 2).where(F.col("channel").isNotNull()).count()
    v3 = feedback.where((F.col("schema_version") == 3) & F.col("_rescued_data").isNotNull())
    assert v3.where(F.col("escalation_reason").isNotNull()).count() == 0

    # what the lake held before the fix: a v1 row typed by its v2 neighbours' schema
    path = silver_spec("feedback").path(settings)
    planted = v1.first()["event_id"]
    assert own_contract_violations(feedback, cs, "feedback") == {"": feedback.count()}
    spark.sql(f"UPDATE delta.`{path}` SET channel = 'carrier-pigeon' WHERE event_id = '{planted}'")
    before_the_fix = spark.read.format("delta").load(path)
    assert own_contract_violations(before_the_fix, cs, "feedback") == {
        "": feedback.count(),
        "channel": 1,
    }
    spark.sql(f"UPDATE delta.`{path}` SET channel = NULL WHERE event_id = '{planted}'")

    quarantine = spark.read.format("delta").load(settings.restricted_path("silver", "quarantine"))
    reasons = {r["kafka_offset"]: r for r in quarantine.collect()}
    by_coords = {
        (r["kafka_topic"], r["kafka_partition"], r["kafka_offset"]): r for r in reasons.values()
    }
    assert len(by_coords) == len(misjudged)
    for record, kind, name in misjudged:
        row = by_coords[record.coords]
        assert (row["reason_kind"], row["reason_field"]) == (kind, name), record.label


def tool_call(event_id: str, version: int, attempt: Any) -> Hostile:
    event = new_event(
        "tool_call",
        {"tool_call_id": f"tc-{event_id}", "tool_name": "search", "phase": "completed",
         "attempt": attempt},
        identity=WHO,
        session_id="ses-tools",
        trace_id="trc-tools",
        occurred_at=datetime(2026, 11, 20, 9, tzinfo=UTC),
        event_id=event_id,
        schema_version=version,
    )  # fmt: skip
    return Hostile(event_id, "agent.tool_calls.v1", orjson.dumps(event), b"ses-tools")


def add_string_attempt(folder, version: int) -> str:
    """tool_call v<version>: v2 with ``attempt`` a string (a type change)."""
    doc = json.loads((folder / "tool_call.v2.json").read_text())
    doc.update({"$id": f"afl://contracts/tool_call.v{version}.json", "x-version": version})
    doc["properties"]["attempt"] = {"type": ["string", "null"], "maxLength": 8}
    name = f"tool_call.v{version}.json"
    (folder / name).write_text(json.dumps(doc, indent=2))
    reload_contracts()
    return name


def quarantined(spark, settings) -> dict[str, tuple[str, str | None]]:
    try:
        rows = spark.read.format("delta").load(settings.restricted_path("silver", "quarantine"))
        return {r["event_id"]: (r["reason_kind"], r["reason_field"]) for r in rows.collect()}
    except Exception:  # not created yet
        return {}


def landed_tool_calls(spark, settings) -> dict[str, Any]:
    try:
        rows = spark.read.format("delta").load(silver_spec("tool_call").path(settings)).collect()
    except Exception:  # not created yet
        return {}
    return {r["event_id"]: r["attempt"] for r in rows}


def test_a_version_refused_while_running_is_refused_at_the_next_start_too(
    spark, lake, tmp_path, monkeypatch, caplog
):
    settings = lake
    folder = tmp_path / "contracts"
    shutil.copytree(BUILTIN_SCHEMAS_DIR, folder)
    monkeypatch.setenv("AFL_CONTRACTS_DIR", str(folder))
    reload_contracts()
    caplog.set_level(logging.WARNING)
    send_raw(settings, [tool_call("tc-first", 1, 1)])
    with running_stream(spark, settings) as stream:
        wait_for(lambda: "tc-first" in landed_tool_calls(spark, settings))
        name = add_string_attempt(folder, 3)
        send_raw(settings, [tool_call("tc-nudge", 1, 2)])  # a batch: the folder is polled
        wait_for(lambda: "tc-nudge" in landed_tool_calls(spark, settings))
        assert stream.alive()
    why = (
        f"{name} is incompatible with v2: payload.attempt: type changed from integer to "
        "string (not a safe widening) [type_changed]"
    )
    assert f"contracts folder changed, not used (the stream keeps its set): {why}" in caplog.text
    caplog.clear()

    # the restart: v3 is refused again, in one line, and the stream runs without it
    send_raw(settings, [tool_call("tc-v3", 3, "twice"), tool_call("tc-v1", 1, 3)])
    run_ingest(spark, settings, CATCH_UP)
    refusals = [r.getMessage() for r in caplog.records if "contract not used" in r.getMessage()]
    assert refusals == [f"contract not used (the stream runs on without it): {why}"]
    assert landed_tool_calls(spark, settings) == {"tc-first": 1, "tc-nudge": 2, "tc-v1": 3}
    assert quarantined(spark, settings) == {"tc-v3": ("unknown_schema_version", "schema_version")}
    assert_lake_exact(spark, settings)

    # a published version edited in place: refused at start, the published one kept
    path = folder / "tool_call.v2.json"
    edited = json.loads(path.read_text())
    edited["properties"]["attempt"]["minimum"] = 5
    path.write_text(json.dumps(edited))
    caplog.clear()
    send_raw(settings, [tool_call("tc-v2", 2, 2)])  # valid as published, not as edited
    run_ingest(spark, settings, CATCH_UP)
    assert "tool_call.v2.json was changed; publish a new version instead" in caplog.text
    assert landed_tool_calls(spark, settings)["tc-v2"] == 2
    assert_lake_exact(spark, settings)


def test_versions_that_cannot_share_a_table_fail_only_their_own_records(
    spark, lake, tmp_path, monkeypatch
):
    """A lake that published v3 before versions were checked against each other: v1's
    attempt is bigint, v3's a string. A batch with both lands v1 and quarantines v3."""
    settings = lake
    folder = tmp_path / "contracts"
    shutil.copytree(BUILTIN_SCHEMAS_DIR, folder)
    add_string_attempt(folder, 3)
    monkeypatch.setenv("AFL_CONTRACTS_DIR", str(folder))
    reload_contracts()
    record_accepted(settings, INGEST_QUERY, ContractSet(folder))  # published unchecked
    send_raw(settings, [tool_call("tc-a", 1, 1), tool_call("tc-b", 3, "twice"),
                        tool_call("tc-c", 1, 2)])  # fmt: skip
    run_ingest(spark, settings, CATCH_UP)
    assert landed_tool_calls(spark, settings) == {"tc-a": 1, "tc-c": 2}
    assert quarantined(spark, settings) == {"tc-b": ("schema_conflict", "payload.attempt")}
    reason = (
        spark.read.format("delta")
        .load(settings.restricted_path("silver", "quarantine"))
        .first()["reason"]
    )
    assert reason == (
        "payload.attempt: tool_call v3 cannot share the table's columns with v1 "
        "(bigint and string cannot be merged)"
    )
    assert_lake_exact(spark, settings)
