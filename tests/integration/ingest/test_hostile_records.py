"""Hostile records from a client we did not write: each lands once or is quarantined with a reason.

The corpus is generated from the contracts (tests/support/hostile.py) and sent with a bare
confluent-kafka producer in two batches with a restart between them; after each ingest
the lake's invariants hold and every record is exactly where it must be.
"""

from collections import Counter
from datetime import datetime

import orjson
import pytest
from pyspark.sql import functions as F

from pipelines.contracts.registry import contract_set
from pipelines.contracts.topics import topic_for_event_type
from pipelines.ingest.batch import INGEST_QUERY
from pipelines.ingest.stream import CATCH_UP, run_ingest
from pipelines.producer.traffic import TrafficGenerator
from pipelines.spark.tables import SILVER_TABLE_FOR
from tests.support.hostile import Expected, Hostile, expected, hostile_corpus
from tests.support.kafka import send_raw
from tests.support.lake import assert_lake_exact
from tests.support.streams import END
from tests.support.traffic import command_and_approval_events

pytestmark = pytest.mark.integration


def base_events() -> list[dict]:
    """Two valid events of every contract (type and version): what the mutations start from."""
    found: dict[tuple[str, int], list[dict]] = {}
    for version in (1, 2):
        for r in TrafficGenerator(seed=3, events=400, end_time=END, schema_version=version):
            if r.kind == "valid":
                key = (r.valid_event["event_type"], r.valid_event["schema_version"])
                if len(found.setdefault(key, [])) < 2:
                    found[key].append(r.valid_event)
    for event_type, events in command_and_approval_events(2).items():
        found[(event_type, 1)] = events
    return [e for key in sorted(found) for e in found[key]]


def where_records_are(spark, settings) -> tuple[set, dict, int]:
    """(coordinates in silver, coordinates in quarantine -> reason kind, duplicates counted)."""
    silver = set()
    for table in SILVER_TABLE_FOR.values():
        path = settings.lake_path("silver", table)
        rows = (
            spark.read.format("delta")
            .load(path)
            .select("kafka_topic", "kafka_partition", "kafka_offset")
        )
        silver |= {tuple(r) for r in rows.collect()}
    quarantine = {
        (r["kafka_topic"], r["kafka_partition"], r["kafka_offset"]): r["reason_kind"]
        for r in spark.read.format("delta")
        .load(settings.restricted_path("silver", "quarantine"))
        .collect()
    }
    progress = spark.read.format("delta").load(settings.lake_path("ops", "stream_progress"))
    duplicates = (
        progress.where(F.col("query_name") == INGEST_QUERY).agg(F.sum("duplicate_rows")).first()[0]
    )
    return silver, quarantine, duplicates


def assert_each_record_in_place(spark, settings, outcomes: dict[tuple, Expected]) -> None:
    silver, quarantine, duplicates = where_records_are(spark, settings)
    want_silver = {c for c, e in outcomes.items() if e.outcome == "silver"}
    want_quarantine = {
        c: e.outcome.split(":", 1)[1]
        for c, e in outcomes.items()
        if e.outcome.startswith("quarantine:")
    }
    assert silver == want_silver
    wrong = {
        c: (quarantine.get(c), k) for c, k in want_quarantine.items() if quarantine.get(c) != k
    }
    assert wrong == {}
    assert set(quarantine) == set(want_quarantine)
    assert duplicates == sum(1 for e in outcomes.values() if e.outcome == "duplicate")


def test_a_hostile_corpus_lands_once_or_in_quarantine_across_a_restart(spark, lake):
    settings = lake
    contracts = contract_set()
    bases = base_events()
    corpus = hostile_corpus(bases, contracts)
    assert len(corpus) >= 1000
    originals = [
        Hostile(
            f"base#{i}",
            topic_for_event_type(e["event_type"]).name,
            orjson.dumps(e),
            e["session_id"].encode(),
        )
        for i, e in enumerate(bases)
    ]
    copies = [r for r in corpus if r.label.startswith("copy_")]
    others = [r for r in corpus if not r.label.startswith("copy_")]
    first = originals + others[::2] + [r for r in copies if _base_index(r) % 2 == 0]
    second = others[1::2] + [r for r in copies if _base_index(r) % 2 == 1]

    send_raw(settings, first)
    run_ingest(spark, settings, CATCH_UP)
    assert_lake_exact(spark, settings)
    assert_each_record_in_place(spark, settings, expected([first], contracts, settings.topic_name))

    send_raw(settings, second)
    run_ingest(spark, settings, CATCH_UP)  # a new run: the queries restart
    assert_lake_exact(spark, settings)
    outcomes = expected([first, second], contracts, settings.topic_name)
    assert_each_record_in_place(spark, settings, outcomes)

    kinds = Counter(e.outcome for e in outcomes.values())
    assert kinds["silver"] > 300 and kinds["duplicate"] >= len(bases)  # not only rejections
    for kind in (
        "unrepresentable",
        "conflicting_duplicate",
        "malformed_json",
        "not_an_object",
        "wrong_type",
        "invalid_value",
        "missing_required",
        "unknown_schema_version",
        "wrong_topic",
        "dead_lettered",
        "oversized",
    ):
        assert kinds[f"quarantine:{kind}"] > 0, kind

    quarantine = spark.read.format("delta").load(settings.restricted_path("silver", "quarantine"))
    assert quarantine.where(F.length("reason") < 10).count() == 0

    # a valid event nested deeper than JSON writers go: quarantined, naming the field
    deep = _by_label(corpus, "deep_payload_300#0")
    [row] = quarantine.where(_at(deep.coords)).collect()
    assert (row["reason_kind"], row["reason_field"], row["stage"]) == (
        "unrepresentable",
        "payload.unknown_payload",
        "typing",
    )
    # contract-valid values Spark would have read as null
    for label, field_name in (
        ("occurred_at='2026-11-20t12:00:00z'", "occurred_at"),
        ("occurred_at='2026-11-20T23:59:60Z'", "occurred_at"),
    ):
        record = next(r for r in corpus if r.label.startswith(label + "#"))
        [row] = quarantine.where(_at(record.coords)).collect()
        assert (row["reason_kind"], row["reason_field"]) == ("unrepresentable", field_name)
    # an event re-sent on another day, in the next batch: one silver row, the copy kept
    other_day = _by_label(corpus, "copy_other_day#1")
    original = _by_label(originals, "base#1")
    [row] = quarantine.where(_at(other_day.coords)).collect()
    assert row["reason_kind"] == "conflicting_duplicate"
    assert tuple(row["duplicate_of"]) == original.coords
    assert row["differing_fields"] == ["occurred_at"]
    assert row["ingest_batch_id"] is not None
    table = settings.lake_path("silver", SILVER_TABLE_FOR[bases[1]["event_type"]])
    same_id = (
        spark.read.format("delta").load(table).where(F.col("event_id") == bases[1]["event_id"])
    )
    assert [
        tuple(r) for r in same_id.select("kafka_topic", "kafka_partition", "kafka_offset").collect()
    ] == [original.coords]
    # odd but exact values land as sent
    outcomes_by_label = {r.label: outcomes[r.coords].outcome for r in corpus}
    odd = next(
        r
        for r in corpus
        if r.label.startswith("occurred_at='2026-11-19T12:00:00.123456789+14:00'#")
    )
    assert outcomes_by_label[odd.label] == "silver"
    event_type = orjson.loads(odd.value)["event_type"]
    [landed] = (
        spark.read.format("delta")
        .load(settings.lake_path("silver", SILVER_TABLE_FOR[event_type]))
        .where(_at(odd.coords))
        .collect()
    )
    assert landed["occurred_at"] == datetime(2026, 11, 18, 22, 0, 0, 123456)
    assert str(landed["event_date"]) == "2026-11-18"


def _at(coords) -> F.Column:
    topic, partition, offset = coords
    return (
        (F.col("kafka_topic") == topic)
        & (F.col("kafka_partition") == partition)
        & (F.col("kafka_offset") == offset)
    )


def _base_index(record: Hostile) -> int:
    return int(record.label.rsplit("#", 1)[1])


def _by_label(records: list[Hostile], label: str) -> Hostile:
    return next(r for r in records if r.label == label)
