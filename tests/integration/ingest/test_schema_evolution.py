"""Schema evolution in the Auto Loader vocabulary, and quarantine replay after a contract fix."""

import json
import shutil

import pytest
from pyspark.sql import functions as F

from pipelines.contracts.registry import BUILTIN_SCHEMAS_DIR, reload_contracts, serialize
from pipelines.errors import AflError
from pipelines.ingest.replay import replay_quarantine
from pipelines.ingest.schema_fit import SchemaEvolution
from pipelines.ingest.stream import CATCH_UP, StreamOptions, run_ingest
from pipelines.producer.sdk import AgentEventProducer
from pipelines.producer.traffic import TrafficGenerator
from tests.support.lake import assert_lake_exact, quarantine_by_kind
from tests.support.streams import END, produce, running_stream, wait_for

pytestmark = pytest.mark.integration

RESCUE = StreamOptions(available_now=True, schema_evolution=SchemaEvolution.RESCUE)
FAIL_ON_NEW = StreamOptions(
    available_now=True, schema_evolution=SchemaEvolution.FAIL_ON_NEW_COLUMNS
)


def outcomes(spark, settings):
    return spark.read.format("delta").load(settings.lake_path("silver", "outcomes"))


@pytest.fixture
def contracts_dir(tmp_path, monkeypatch):
    """A deployment's own contracts folder: the shipped ones, to which a test adds versions."""
    folder = tmp_path / "contracts"
    shutil.copytree(BUILTIN_SCHEMAS_DIR, folder)
    monkeypatch.setenv("AFL_CONTRACTS_DIR", str(folder))
    reload_contracts()
    yield folder
    monkeypatch.delenv("AFL_CONTRACTS_DIR")
    reload_contracts()


def add_version(folder, event_type: str, base: int, new: int, edit) -> None:
    doc = json.loads((folder / f"{event_type}.v{base}.json").read_text())
    doc["$id"] = f"afl://contracts/{event_type}.v{new}.json"
    doc["x-version"] = new
    edit(doc["properties"])
    (folder / f"{event_type}.v{new}.json").write_text(json.dumps(doc, indent=2))
    reload_contracts()


def outcome_events(seed: int, version: int, count: int = 300, edit=None) -> list[dict]:
    events = [
        r.valid_event
        for r in TrafficGenerator(
            seed=seed, events=count, end_time=END, schema_version=min(version, 2)
        )
        if r.event_type == "outcome"
    ]
    for e in events:
        e["schema_version"] = version
        if edit:
            edit(e["payload"])
    return events


def test_new_versions_add_columns_and_a_type_change_goes_to_quarantine(spark, lake, contracts_dir):
    settings = lake
    first = produce(settings, seed=11, events=1500, schema_version=1)
    run_ingest(spark, settings, CATCH_UP)
    assert_lake_exact(spark, settings)
    assert "cache_hit" not in outcomes(spark, settings).columns

    second = produce(settings, seed=12, events=1500, schema_version=2)
    run_ingest(spark, settings, CATCH_UP)
    assert_lake_exact(spark, settings)
    table = outcomes(spark, settings)
    assert {"cache_hit", "model_provider"} <= set(table.columns)
    by_version = {
        r["schema_version"]: r
        for r in table.groupBy("schema_version")
        .agg(
            F.count("*").alias("n"),
            F.count("cache_hit").alias("with_cache_hit"),
            F.count("model_provider").alias("with_provider"),
        )
        .collect()
    }
    assert by_version[1]["n"] == first["valid_distinct"]["outcome"]
    assert (by_version[1]["with_cache_hit"], by_version[1]["with_provider"]) == (0, 0)
    assert by_version[2]["n"] == second["valid_distinct"]["outcome"]
    assert by_version[2]["with_cache_hit"] == by_version[2]["n"] == by_version[2]["with_provider"]

    # v3, added as a file: a new optional field becomes a column, no code, no DDL
    add_version(
        contracts_dir, "outcome", 2, 3, lambda p: p.update(sla_met={"type": ["boolean", "null"]})
    )
    v3 = outcome_events(13, 3, edit=lambda p: p.update(sla_met=True))
    with AgentEventProducer(settings) as producer:
        for event in v3:
            producer.emit(event)
    run_ingest(spark, settings, CATCH_UP)
    assert_lake_exact(spark, settings)
    table = outcomes(spark, settings)
    assert table.where(F.col("sla_met")).count() == len(v3)
    assert table.where(F.col("sla_met").isNull()).count() == table.count() - len(v3)

    # v4 widens retry_count to a number: the compatibility check accepts it (a type change
    # to string would be refused at start), but silver's column is bigint and cannot take
    # 2.5: those events are quarantined as schema_conflict
    add_version(
        contracts_dir, "outcome", 3, 4, lambda p: p.update(retry_count={"type": ["number", "null"]})
    )
    v4 = outcome_events(14, 4, edit=lambda p: p.update(retry_count=2.5))
    with AgentEventProducer(settings) as producer:
        for event in v4:
            producer.emit(event)
    run_ingest(spark, settings, CATCH_UP)
    assert_lake_exact(spark, settings)
    assert outcomes(spark, settings).schema["retry_count"].dataType.simpleString() == "bigint"
    conflicts = (
        spark.read.format("delta")
        .load(settings.restricted_path("silver", "quarantine"))
        .where(F.col("reason_kind") == "schema_conflict")
        .collect()
    )
    assert len(conflicts) == len(v4)
    assert {c["reason_field"] for c in conflicts} == {"payload.retry_count"}
    assert conflicts[0]["reason"] == (
        "payload.retry_count: the contract gives double, silver.outcomes.retry_count is bigint "
        "(not a safe widening)"
    )
    assert {c["event_id"] for c in conflicts} == {e["event_id"] for e in v4}


def test_rescue_keeps_the_schema_and_fail_on_new_columns_stops(spark, lake):
    settings = lake
    produce(settings, seed=21, events=1200, schema_version=1)
    run_ingest(spark, settings, RESCUE)
    assert_lake_exact(spark, settings)
    second = produce(settings, seed=22, events=1200, schema_version=2)
    run_ingest(spark, settings, RESCUE)
    assert_lake_exact(spark, settings)
    table = outcomes(spark, settings)
    assert "cache_hit" not in table.columns
    rescued = table.where(F.col("schema_version") == 2).select("_rescued_data").collect()
    assert len(rescued) == second["valid_distinct"]["outcome"]
    for row in rescued:
        kept = json.loads(row["_rescued_data"])
        assert set(kept) == {"payload.cache_hit", "payload.model_provider"}
        assert isinstance(kept["payload.cache_hit"], bool)

    produce(settings, seed=23, events=600, schema_version=2)
    with pytest.raises(AflError, match=r"silver\.\w+ has no column\(s\) .*failOnNewColumns"):
        run_ingest(spark, settings, FAIL_ON_NEW)


def test_unknown_fields_are_rescued_never_lost(spark, lake):
    settings = lake
    events = outcome_events(31, 1, count=200)
    for e in events:
        e["region_hint"] = "eu"  # not in any contract, top level
        e["payload"]["gpu_seconds"] = 1.5  # not in any contract, payload
    with AgentEventProducer(settings) as producer:
        for event in events:
            producer.emit(event)
    run_ingest(spark, settings, CATCH_UP)
    assert_lake_exact(spark, settings)
    rows = outcomes(spark, settings).select("_rescued_data").collect()
    assert len(rows) == len(events)
    assert {r["_rescued_data"] for r in rows} == {
        json.dumps({"region_hint": "eu", "payload.gpu_seconds": 1.5}, separators=(",", ":"))
    }


def test_replay_lands_records_of_a_missing_version_exactly_once(spark, lake, contracts_dir):
    settings = lake
    future = [
        r.event
        for r in TrafficGenerator(seed=41, events=800, end_time=END, schema_version=2)
        if r.event_type == "feedback"
    ]
    for e in future:
        e["schema_version"] = 3
    produce(settings, seed=42, events=600, bad_fraction=0.05)  # some other, unfixable bad records
    with AgentEventProducer(settings) as producer:
        for e in future:  # a newer producer: its contract has not reached the lake yet
            producer.produce_raw("agent.feedback.v1", serialize(e), e["session_id"])
    run_ingest(spark, settings, CATCH_UP)
    assert_lake_exact(spark, settings)
    quarantined = quarantine_by_kind(spark, settings)
    assert quarantined["unknown_schema_version"] == len(future)
    before = spark.read.format("delta").load(settings.lake_path("silver", "feedback")).count()

    add_version(contracts_dir, "feedback", 2, 3, lambda p: None)
    first = replay_quarantine(spark, settings)
    assert first.landed == len(future)
    assert first.still_failing == sum(quarantined.values()) - len(future)
    feedback = spark.read.format("delta").load(settings.lake_path("silver", "feedback"))
    assert feedback.count() == before + len(future)
    assert feedback.where(F.col("event_id").isin([e["event_id"] for e in future])).count() == len(
        future
    )
    status = {
        r["status"]: r["count"]
        for r in spark.read.format("delta")
        .load(settings.restricted_path("silver", "quarantine"))
        .groupBy("status")
        .count()
        .collect()
    }
    assert status["replayed"] == len(future)

    assert_lake_exact(spark, settings)

    second = replay_quarantine(spark, settings)
    assert (second.landed, second.already_in_silver) == (0, 0)
    assert second.examined == second.still_failing == first.still_failing
    assert spark.read.format("delta").load(settings.lake_path("silver", "feedback")).count() == (
        before + len(future)
    )


def test_a_version_added_while_the_stream_runs_lands_without_a_restart(
    spark, lake, contracts_dir, caplog
):
    settings = lake

    def emit(events: list[dict]) -> None:
        with AgentEventProducer(settings) as producer:
            for event in events:
                producer.emit(event)

    with running_stream(spark, settings) as stream:
        v2 = outcome_events(31, 2)
        emit(v2)
        wait_for(lambda: _rows(spark, settings) == len(v2))

        # v3 dropped into the folder while the stream runs: picked up at the next batch
        sla_met = {"type": ["boolean", "null"]}
        add_version(contracts_dir, "outcome", 2, 3, lambda p: p.update(sla_met=sla_met))
        v3 = outcome_events(32, 3, edit=lambda p: p.update(sla_met=True))
        emit(v3)
        wait_for(lambda: _rows(spark, settings) == len(v2) + len(v3))

        # v4 changes a type: refused with its reason, the stream keeps v1-v3 and runs on
        as_text = {"type": ["string", "null"]}
        add_version(contracts_dir, "outcome", 3, 4, lambda p: p.update(retry_count=as_text))
        v4 = outcome_events(33, 4, count=200, edit=lambda p: p.update(retry_count="twice"))
        emit(v4)
        wait_for(lambda: _quarantined(spark, settings) == len(v4))
        assert stream.alive()
    table = outcomes(spark, settings)
    assert table.where(F.col("sla_met")).count() == len(v3)
    assert {r["event_id"] for r in table.where(F.col("schema_version") == 3).collect()} == {
        e["event_id"] for e in v3
    }
    refused = (
        spark.read.format("delta")
        .load(settings.restricted_path("silver", "quarantine"))
        .select("event_id", "reason_kind")
        .collect()
    )
    assert {r["event_id"] for r in refused} == {e["event_id"] for e in v4}
    assert {r["reason_kind"] for r in refused} == {"unknown_schema_version"}
    assert (
        "contracts folder changed, not used (the stream keeps its set): outcome.v4.json is "
        "incompatible with v3: payload.retry_count: type changed from integer to string"
    ) in caplog.text
    assert "contracts picked up without a restart: outcome v3" in caplog.text
    assert_lake_exact(spark, settings)


def _rows(spark, settings) -> int:
    try:
        return outcomes(spark, settings).count()
    except Exception:  # not created yet
        return 0


def _quarantined(spark, settings) -> int:
    try:
        return (
            spark.read.format("delta")
            .load(settings.restricted_path("silver", "quarantine"))
            .count()
        )
    except Exception:  # not created yet
        return 0
