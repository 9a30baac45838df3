"""Every table exact: restricted companions, one row per event_id across days, and a record
that breaks a step never stops the stream."""

from datetime import UTC, datetime

import orjson
import pytest
from pyspark.sql import functions as F

import pipelines.ingest.landing as landing_module
from pipelines.ingest.stream import CATCH_UP, run_ingest
from pipelines.producer.events import AgentIdentity, new_event
from pipelines.producer.sdk import AgentEventProducer
from pipelines.producer.traffic import TrafficGenerator, send_traffic
from pipelines.spark.tables import spec_for
from tests.support.hostile import Hostile, dumps_any
from tests.support.kafka import send_raw
from tests.support.lake import assert_lake_exact, silver_progress, with_user_text_or_pii
from tests.support.streams import END, running_stream, wait_for

pytestmark = pytest.mark.integration

WHO = AgentIdentity("acme", "support-bot", "2.4.0", "support-p42", "gpt-4.1-mini")


def read(spark, settings, table: str):
    return spark.read.format("delta").load(spec_for(f"silver.{table}").path(settings))


def test_restricted_companions_keep_every_row_across_batches_and_restarts(spark, lake):
    settings = lake
    expected = {"feedback": 0, "interaction": 0}
    general = {"feedback": 0, "interaction": 0}
    for round_number in range(3):  # each round: new traffic, then a fresh run of the stream
        options = dict(
            seed=60 + round_number, events=1500, end_time=END, days_back=2, bad_fraction=0.02
        )
        with AgentEventProducer(settings) as producer:
            send_traffic(producer, TrafficGenerator(**options))
        for record in TrafficGenerator(**options):  # the same seed: the same records
            if record.kind == "valid" and record.event_type in expected:
                general[record.event_type] += 1
                expected[record.event_type] += with_user_text_or_pii(record.event)
        run_ingest(spark, settings, CATCH_UP)
        assert_lake_exact(spark, settings)
        assert read(spark, settings, "feedback_restricted").count() == expected["feedback"]
        assert read(spark, settings, "interactions_restricted").count() == expected["interaction"]
        assert read(spark, settings, "feedback").count() == general["feedback"]
        assert read(spark, settings, "interactions").count() == general["interaction"]
    # the general rows of the last batch have their raw text beside them
    last = max(r["batch_id"] for r in silver_progress(spark, settings))
    recent = read(spark, settings, "interactions").where(
        (F.col("ingest_batch_id") == last) & F.col("contains_pii")
    )
    texts = read(spark, settings, "interactions_restricted").join(
        recent.select("event_id"), "event_id"
    )
    assert recent.count() > 0 and texts.count() == recent.count()
    assert texts.where(F.col("text").isNull()).count() == 0


def event(event_id: str, day: int, rating: int = 4) -> dict:
    return new_event(
        "feedback",
        {"feedback_kind": "rating", "user_id": "u-1", "rating": rating},
        identity=WHO,
        session_id="ses-1",
        trace_id="trc-1",
        occurred_at=datetime(2026, 11, day, 9, 30, tzinfo=UTC),
        event_id=event_id,
        schema_version=1,
    )


def test_the_same_event_id_on_two_days_in_two_batches_gives_one_row(spark, lake):
    settings = lake
    first = [
        Hostile("later-day-first", "agent.feedback.v1", orjson.dumps(event("e-later", 20)), b"s"),
        Hostile("earlier-first", "agent.feedback.v1", orjson.dumps(event("e-earlier", 12)), b"s"),
    ]
    send_raw(settings, first)
    run_ingest(spark, settings, CATCH_UP)
    second = [
        # the same ids on another day, one earlier and one later than the copy that landed
        Hostile("later-day-again", "agent.feedback.v1", orjson.dumps(event("e-later", 12)), b"s"),
        Hostile("earlier-again", "agent.feedback.v1", orjson.dumps(event("e-earlier", 20)), b"s"),
        # and an identical re-send
        Hostile("resend", "agent.feedback.v1", first[0].value, b"s"),
    ]
    send_raw(settings, second)
    run_ingest(spark, settings, CATCH_UP)

    assert_lake_exact(spark, settings)
    rows = read(spark, settings, "feedback").orderBy("event_id").collect()
    assert [(r["event_id"], str(r["event_date"])) for r in rows] == [
        ("e-earlier", "2026-11-12"),
        ("e-later", "2026-11-20"),
    ]
    quarantine = (
        spark.read.format("delta")
        .load(settings.restricted_path("silver", "quarantine"))
        .orderBy("event_id")
        .collect()
    )
    assert [(q["event_id"], q["reason_kind"], q["differing_fields"]) for q in quarantine] == [
        ("e-earlier", "conflicting_duplicate", ["occurred_at"]),
        ("e-later", "conflicting_duplicate", ["occurred_at"]),
    ]
    assert tuple(quarantine[1]["duplicate_of"]) == first[0].coords
    assert tuple(quarantine[1][c] for c in ("kafka_topic", "kafka_partition", "kafka_offset")) == (
        second[0].coords
    )
    assert "already landed from" in quarantine[1]["reason"]
    last = silver_progress(spark, settings)[-1]
    assert (last["input_rows"], last["valid_rows"], last["quarantined_rows"]) == (3, 0, 2)
    assert last["duplicate_rows"] == 1


def test_a_record_that_breaks_a_step_is_quarantined_and_the_stream_keeps_running(
    spark, lake, monkeypatch
):
    """A poison record fails typing inside Spark (a failure nothing anticipated); another is
    valid but nested deeper than JSON writers go. Neither stops the running stream."""
    settings = lake
    real_typed_events = landing_module.typed_events

    def poisoned(records, contracts, rules):
        rows = real_typed_events(records, contracts, rules)
        boom = F.raise_error(F.lit("poisoned record"))
        return rows.withColumn(
            "event_id", F.when(F.col("event_id") == "poison", boom).otherwise(F.col("event_id"))
        )

    monkeypatch.setattr(landing_module, "typed_events", poisoned)
    deep = event("deep", 20)
    nested: object = "bottom"
    for _ in range(300):
        nested = [nested]
    deep["payload"]["debug_trace"] = nested
    with running_stream(spark, settings) as stream:
        first = [Hostile("poison", "agent.feedback.v1", orjson.dumps(event("poison", 20)), b"s")]
        first += [
            Hostile(f"good-{i}", "agent.feedback.v1", orjson.dumps(event(f"good-{i}", 20)), b"s")
            for i in range(5)
        ]
        first.append(Hostile("deep", "agent.feedback.v1", dumps_any(deep), b"s"))
        send_raw(settings, first)
        wait_for(lambda: _count(spark, settings, "feedback") == 5 and not stream.failure)
        later = [
            Hostile(f"later-{i}", "agent.feedback.v1", orjson.dumps(event(f"later-{i}", 21)), b"s")
            for i in range(3)
        ]
        send_raw(settings, later)
        wait_for(lambda: _count(spark, settings, "feedback") == 8 or bool(stream.failure))
        assert stream.alive()
    quarantine = {
        q["event_id"]: q
        for q in spark.read.format("delta")
        .load(settings.restricted_path("silver", "quarantine"))
        .collect()
    }
    assert set(quarantine) == {"poison", "deep"}
    poison = quarantine["poison"]
    assert (poison["reason_kind"], poison["stage"]) == ("processing_error", "typing")
    assert "poisoned record" in poison["reason"]
    assert tuple(poison[c] for c in ("kafka_topic", "kafka_partition", "kafka_offset")) == (
        first[0].coords
    )
    assert (quarantine["deep"]["reason_kind"], quarantine["deep"]["reason_field"]) == (
        "unrepresentable",
        "payload.debug_trace",
    )
    monkeypatch.undo()
    assert_lake_exact(spark, settings)


def _count(spark, settings, table: str) -> int:
    try:
        return read(spark, settings, table).count()
    except Exception:  # not created yet
        return 0
