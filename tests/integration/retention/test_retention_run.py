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
from pipelines.spark.io import one_row
from pipelines.spark.tables import (
    BRONZE_AGENT_EVENTS,
    BRONZE_EXPIRY,
    QUARANTINE,
    RETENTION_RUNS,
    all_specs,
)
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
        held = F.coalesce(F.col("tenant_id") == HELD, F.lit(False))
        if spec is BRONZE_AGENT_EVENTS:  # whole ingest days, each once its last moment is old
            old = rows.where(F.date_add(F.col("ingest_date"), days + 1) <= F.lit(cutoff.date()))
            tenant = F.get_json_object(F.col("value").cast("string"), "$.tenant_id")
            held = F.coalesce(tenant == HELD, F.lit(False))
        elif spec is QUARANTINE:
            old = rows.where(F.col("kafka_timestamp") + F.make_interval(days=F.lit(days)) < moment)
        elif "occurred_at" in rows.columns:
            old = rows.where(F.col("occurred_at") + F.make_interval(days=F.lit(days)) < moment)
        elif spec.qualified_name == "legacy.feedback_export":
            old = rows.where(F.col("created_at") + F.make_interval(days=F.lit(days)) < moment)
        else:
            continue
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
    # bronze too: every record but the held tenant's, a prefix of each Kafka partition
    assert due_ahead[BRONZE_AGENT_EVENTS.qualified_name][0] > 0
    for table in (QUARANTINE.path(settings), bronze):
        on_disk = {p.name for p in Path(table).rglob("*.parquet")}
        live = {Path(f).name for f in spark.read.format("delta").load(table).inputFiles()}
        assert on_disk == live
    ranges = spark.read.format("delta").load(BRONZE_EXPIRY.path(settings))
    assert one_row(ranges.agg(F.sum("records")))[0] == due_ahead["bronze.agent_events"][0]
    assert ranges.where(F.col("last_offset") < F.col("first_offset")).count() == 0
    left = spark.read.format("delta").load(bronze)
    assert left.count() == due_ahead["bronze.agent_events"][1]  # only the held tenant's
    # every silver row still there points into an expired range, and the lake balances
    checks = {c.name: c for c in assert_lake_exact(spark, settings)}
    assert "retention expired from bronze" in checks["traceable to bronze"].detail
    offsets = {c.name: c for c in checks.values()}["bronze offsets"]
    assert offsets.ok
