"""Retention on the real stack: rows past their class's retention leave every table while
the stream runs on, a legal hold keeps its tenant's, the ledger says what went, a second
run deletes nothing, VACUUM removes the files, and the lake's invariants hold throughout."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from pipelines.ingest.stream import CATCH_UP, run_ingest
from pipelines.producer.sdk import AgentEventProducer
from pipelines.producer.traffic import TrafficGenerator, send_traffic
from pipelines.retention.run import RetentionOptions, run_retention
from pipelines.spark.tables import BRONZE_AGENT_EVENTS, QUARANTINE, RETENTION_RUNS, all_specs
from tests.support.kafka import create_registry_topics
from tests.support.lake import assert_lake_exact
from tests.support.streams import running_stream, wait_for

pytestmark = pytest.mark.integration

HELD = "globex"


def expected(spark, settings, cutoff: datetime) -> dict[str, tuple[int, int]]:
    """Per table with expired rows: (expired and not held, expired and held), counted from
    each row's own time and its table's class, not from retention_until."""
    moment = F.lit(cutoff.replace(tzinfo=None))
    out = {}
    for spec in all_specs():
        path = Path(spec.path(settings))
        if "afl.retention_days" not in spec.properties or not path.is_dir():
            continue
        rows = spark.read.format("delta").load(str(path))
        days = int(spec.properties["afl.retention_days"])
        if spec is QUARANTINE:
            age = F.col("kafka_timestamp")
        elif "occurred_at" in rows.columns:
            age = F.col("occurred_at")
        elif spec.qualified_name == "legacy.feedback_export":
            age = F.col("created_at")
        else:
            continue
        old = rows.where(age + F.make_interval(days=F.lit(days)) < moment)
        held = F.coalesce(F.col("tenant_id") == HELD, F.lit(False))
        counts = (old.where(~held).count(), old.where(held).count())
        if counts != (0, 0):
            out[spec.qualified_name] = counts
    return out


def send(settings, traffic: TrafficGenerator) -> int:
    with AgentEventProducer(settings) as producer:
        send_traffic(producer, traffic)
    return sum(traffic.manifest.by_topic.values())


def test_expired_rows_leave_every_table_while_the_stream_runs_and_held_rows_stay(
    spark, kafka_broker, settings, tmp_path
):
    holds = tmp_path / "holds.yml"
    holds.write_text(f"holds:\n  - tenant_id: {HELD}\n    reason: litigation 2026-114\n")
    settings = settings.with_overrides(legal_holds=str(holds))
    create_registry_topics(settings)
    now = datetime.now(UTC)
    # a year and more ago: feedback (365 days), interactions and raw text (90) have expired,
    # tool calls, outcomes and evaluations (internal: 730) have not
    sent = send(
        settings,
        TrafficGenerator(
            seed=3, events=2000, end_time=now - timedelta(days=400), days_back=2, bad_fraction=0.03
        ),
    )
    run_ingest(spark, settings, CATCH_UP)
    assert_lake_exact(spark, settings)
    due = expected(spark, settings, now)
    assert set(due) == {
        "silver.feedback",
        "silver.feedback_restricted",
        "silver.interactions",
        "silver.interactions_restricted",
        "silver.policy_decisions",
    }
    assert all(held > 0 and gone > held for gone, held in due.values())

    recent = TrafficGenerator(
        seed=4, events=2000, end_time=now - timedelta(hours=1), days_back=1, bad_fraction=0.03
    )
    bronze = BRONZE_AGENT_EVENTS.path(settings)
    with running_stream(spark, settings) as stream:
        sent += send(settings, recent)
        report = run_retention(spark, settings, RetentionOptions(now=now))
        wait_for(
            lambda: stream.alive() and spark.read.format("delta").load(bronze).count() == sent,
            what="the recent traffic in bronze",
        )
    got = {t.table: (t.deleted, t.held) for t in report.tables if t.expired}
    assert got == due
    for spec in all_specs():
        path = Path(spec.path(settings))
        if spec.qualified_name in due:
            rows = spark.read.format("delta").load(str(path))
            assert (
                rows.where(F.col("retention_until") < F.lit(now.replace(tzinfo=None)))
                .where(F.col("tenant_id") != HELD)
                .count()
                == 0
            ), spec.qualified_name
    ledger = spark.read.format("delta").load(RETENTION_RUNS.path(settings))
    assert {
        r["table_name"]: (r["deleted_rows"], r["held_rows"])
        for r in ledger.where(F.col("run_id") == report.run_id).collect()
        if r["expired_rows"]
    } == due
    assert_lake_exact(spark, settings)  # accounting, companions and records with the ledger

    again = run_retention(spark, settings, RetentionOptions(now=now))
    assert again.deleted == 0 and {t.held for t in again.tables if t.expired} == {
        held for _, held in due.values()
    }

    # a drill 100 days ahead, on a lake nobody reads: the quarantine and this day's raw
    # text expire too, and VACUUM without a window removes the deleted rows' files
    ahead = now + timedelta(days=100)
    due_ahead = expected(spark, settings, ahead)
    drill = run_retention(spark, settings, RetentionOptions(now=ahead, vacuum_hours=0))
    assert {t.table: (t.deleted, t.held) for t in drill.tables if t.expired} == due_ahead
    assert due_ahead[QUARANTINE.qualified_name][0] > 0
    quarantine = QUARANTINE.path(settings)
    on_disk = {p.name for p in Path(quarantine).rglob("*.parquet")}
    live = {Path(f).name for f in spark.read.format("delta").load(quarantine).inputFiles()}
    assert on_disk == live
    assert_lake_exact(spark, settings)
