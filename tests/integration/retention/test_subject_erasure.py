"""Subject erasure on the real stack: one person's records, sent by a client we did not
write, leave bronze, silver, the restricted companions and quarantine while the stream
runs; nothing of theirs (raw id, text, the lake's hash) is left in any table; everyone
else's rows stay; the ledger balances offsets and batches, and the lake stays exact."""

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from pyspark.sql import functions as F

from pipelines.ingest.stream import CATCH_UP, run_ingest
from pipelines.producer.events import AgentIdentity, new_event
from pipelines.producer.sdk import AgentEventProducer
from pipelines.producer.traffic import TrafficGenerator, send_traffic
from pipelines.retention.erasure import ErasureOptions, erase_subject
from pipelines.spark.tables import (
    BRONZE_AGENT_EVENTS,
    ERASED_RECORDS,
    ERASURES,
    all_specs,
    spec_for,
)
from tests.support.hostile import Hostile
from tests.support.kafka import create_registry_topics, send_raw
from tests.support.lake import assert_lake_exact
from tests.support.streams import running_stream, wait_for

pytestmark = pytest.mark.integration

SUBJECT = "subject-4711"
MARK = "zq88123"  # in their text only
COMMENT = f"my order {MARK} never arrived, call me on 0151-555-0199"
ACME = AgentIdentity("acme", "support-bot", "2.4.0", "support-p42", "gpt-4.1-mini")
GLOBEX = AgentIdentity("globex", "support-bot", "2.4.0", "support-p42", "gpt-4.1-mini")


def feedback(event_id, payload, session, who=ACME) -> Hostile:
    event = new_event(
        "feedback",
        payload,
        identity=who,
        session_id=session,
        trace_id=f"trc-{session}",
        occurred_at=datetime.now(UTC) - timedelta(minutes=5),
        event_id=event_id,
        schema_version=1,
    )
    return Hostile(event_id, "agent.feedback.v1", orjson.dumps(event), session.encode())


def interaction(event_id, text, session) -> Hostile:
    event = new_event(
        "interaction",
        {"turn_id": f"turn-{event_id}", "kind": "user_message", "text": text},
        identity=ACME,
        session_id=session,
        trace_id=f"trc-{session}",
        occurred_at=datetime.now(UTC) - timedelta(minutes=6),
        event_id=event_id,
        schema_version=1,
    )
    return Hostile(event_id, "agent.interactions.v1", orjson.dumps(event), session.encode())


def subject_records() -> list[Hostile]:
    rating = feedback(
        "fb-subject-rating",
        {"feedback_kind": "rating", "user_id": SUBJECT, "rating": 2, "comment": COMMENT},
        "ses-erasure-1",
    )
    return [
        rating,
        Hostile("resent", rating.topic, rating.value, rating.key),  # a copy: a duplicate
        feedback(
            "fb-subject-thumbs",
            {"feedback_kind": "thumbs", "user_id": SUBJECT, "thumbs": "down"},
            "ses-erasure-2",
        ),
        feedback(
            "fb-reviewed",
            {
                "feedback_kind": "escalation",
                "user_id": "u-other-1",
                "escalation_reason": "refund",
                "reviewer": SUBJECT,
            },
            "ses-erasure-3",
        ),
        # their own message in their session: erased with the session
        interaction("ix-subject", f"where is my refund for order {MARK}?", "ses-erasure-1"),
        # not JSON: quarantined, and naming them all the same
        Hostile(
            "malformed",
            "agent.feedback.v1",
            b'{"event_type": "feedback", "payload": {"user_id": "subject-4711", "rating": ',
            b"ses-erasure-1",
        ),
        # the same id in another tenant: a --tenant erasure leaves it
        feedback(
            "fb-subject-globex",
            {"feedback_kind": "thumbs", "user_id": SUBJECT, "thumbs": "up"},
            "ses-erasure-9",
            GLOBEX,
        ),
        # somebody else entirely
        feedback(
            "fb-other",
            {"feedback_kind": "thumbs", "user_id": "u-other-2", "thumbs": "up"},
            "ses-keep",
        ),
    ]


def counts(spark, settings) -> dict[str, int]:
    out = {}
    for spec in all_specs():
        if spec.database != "ops" and Path(spec.path(settings)).is_dir():
            out[spec.qualified_name] = spark.read.format("delta").load(spec.path(settings)).count()
    return out


def traces_of_subject(spark, settings) -> dict[str, int]:
    """Rows in any table holding the raw id, the comment or the lake's hash of the id,
    in any column (raw bytes cast to text)."""
    lake_hash = hashlib.sha256((settings.hash_salt + SUBJECT).encode()).hexdigest()
    found = {}
    for spec in all_specs():
        path = spec.path(settings)
        if not Path(path).is_dir():
            continue
        table = spark.read.format("delta").load(path)
        text = F.concat_ws(
            "|", *[F.col(f"`{c}`").cast("string") for c in table.columns if c != "headers"]
        )
        hits = table.where(
            text.contains(SUBJECT) | text.contains(MARK) | text.contains(lake_hash)
        ).count()
        if hits:
            found[spec.qualified_name] = hits
    return found


def test_a_subjects_data_leaves_every_table_while_the_stream_runs_and_the_lake_stays_exact(
    spark, kafka_broker, settings
):
    settings = settings.with_overrides(role="restricted")
    create_registry_topics(settings)
    now = datetime.now(UTC)
    with AgentEventProducer(settings) as producer:
        send_traffic(producer, TrafficGenerator(seed=16, events=1500, end_time=now,
                                                bad_fraction=0.03))  # fmt: skip
    send_raw(settings, subject_records())
    run_ingest(spark, settings, CATCH_UP)
    assert_lake_exact(spark, settings)
    before = counts(spark, settings)
    # bronze: the raw id in the rating (sent twice), both thumbs, the escalation and the
    # malformed record, their text in the interaction; the lake's hash of the id in the four
    # general feedback rows (user_id_hash or reviewer_hash), the raw id in their companions
    assert traces_of_subject(spark, settings) == {
        "bronze.agent_events": 7,
        "silver.feedback": 4,
        "silver.feedback_restricted": 4,
        "silver.interactions_restricted": 1,
        "silver.quarantine": 1,
    }
    acme = ErasureOptions(SUBJECT, tenant_id="acme")
    # acme's: every record naming them (the malformed one's tenant cannot be read: it goes)
    # and every record of their three sessions: the interaction too
    expected = {
        "bronze.agent_events": 6,
        "silver.quarantine": 1,
        "silver.feedback": 3,
        "silver.feedback_restricted": 3,
        "silver.interactions": 1,
        "silver.interactions_restricted": 1,
    }

    dry = erase_subject(spark, settings, ErasureOptions(SUBJECT, "acme", dry_run=True))
    assert {t.table: t.found for t in dry.tables if t.found} == expected
    assert dry.deleted == 0 and counts(spark, settings) == before

    bronze = BRONZE_AGENT_EVENTS.path(settings)
    later = TrafficGenerator(seed=17, events=300, end_time=now, bad_fraction=0.03)
    with running_stream(spark, settings) as stream:
        report = erase_subject(spark, settings, acme)
        with AgentEventProducer(settings) as producer:
            send_traffic(producer, later)
        total = before["bronze.agent_events"] - 6 + sum(later.manifest.by_topic.values())
        wait_for(
            lambda: stream.alive() and spark.read.format("delta").load(bronze).count() == total,
            what="the later traffic in bronze",
        )
    assert {t.table: t.deleted for t in report.tables if t.deleted} == expected
    assert report.remaining == 0
    assert_lake_exact(spark, settings)  # offsets, batches and copies balance with the ledger

    # only globex's thumbs is left of the subject: its raw id in bronze and the companion,
    # the hash in the general row
    assert traces_of_subject(spark, settings) == {
        "bronze.agent_events": 1,
        "silver.feedback": 1,
        "silver.feedback_restricted": 1,
    }
    everyone = erase_subject(spark, settings, ErasureOptions(SUBJECT))
    assert {t.table: t.deleted for t in everyone.tables if t.deleted} == {
        "bronze.agent_events": 1,
        "silver.feedback": 1,
        "silver.feedback_restricted": 1,
    }
    assert traces_of_subject(spark, settings) == {}
    assert_lake_exact(spark, settings)

    # everybody else's rows are all there
    ours = F.col("session_id").startswith("ses-erasure")
    feedback_rows = spark.read.format("delta").load(spec_for("silver.feedback").path(settings))
    assert feedback_rows.where(ours).count() == 0
    assert feedback_rows.where(F.col("session_id") == "ses-keep").count() == 1

    # the ledger: per table, and each erased row by its record; never the raw id
    ledger = spark.read.format("delta").load(ERASURES.path(settings))
    deleted = {
        r["table_name"]: r["deleted_rows"]
        for r in ledger.where(F.col("erasure_id") == report.erasure_id).collect()
        if r["deleted_rows"]
    }
    assert deleted == expected
    assert ledger.where(F.col("dry_run")).select("erasure_id").distinct().count() == 1
    records = spark.read.format("delta").load(ERASED_RECORDS.path(settings))
    assert records.count() == sum(expected.values()) + 3  # + globex's three rows
    for frame in (ledger, records):
        text = F.concat_ws("|", *[F.col(c).cast("string") for c in frame.columns])
        assert frame.where(text.contains(SUBJECT)).count() == 0

    # a second erasure finds nothing, and says so
    again = erase_subject(spark, settings, ErasureOptions(SUBJECT))
    assert again.found == 0 and again.lines()[-1].endswith(
        ": 0 rows found in 0 tables, deleted 0, 0 remaining"
    )
    # and the stream goes on exactly
    last = TrafficGenerator(seed=18, events=300, end_time=now)
    with AgentEventProducer(settings) as producer:
        send_traffic(producer, last)
    run_ingest(spark, settings, CATCH_UP)
    assert_lake_exact(spark, settings)
    sent = total - 1 + sum(last.manifest.by_topic.values())
    assert spark.read.format("delta").load(bronze).count() == sent
