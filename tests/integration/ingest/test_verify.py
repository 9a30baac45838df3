"""The ingest acceptance through the shell (afl produce -> afl stream --available-now), and
the proofs about the lake it leaves: `afl verify offsets` and `afl verify lake`."""

import json
from datetime import timedelta

import pytest
from pyspark.sql import functions as F

from pipelines.governance.classification import RETENTION_DAYS
from pipelines.ingest.offsets import verify_offsets
from tests.support.lake import quarantine_by_kind, silver_counts, silver_progress
from tests.support.shell import afl

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def streamed(kafka_broker, base_settings, tmp_path_factory):
    """20,000 records with 2% bad, produced and streamed through the CLI, once for the module."""

    from tests.support.kafka import create_registry_topics, private_settings

    root = tmp_path_factory.mktemp("stream-cli")
    settings = private_settings(base_settings, root)
    create_registry_topics(settings)
    manifest_file = root / "m.json"
    produced = afl(
        settings,
        "produce",
        "--events",
        "20000",
        "--bad-fraction",
        "0.02",
        "--seed",
        "7",
        "--end-time",
        "2026-11-20T12:00:00Z",
        "--manifest",
        str(manifest_file),
    )
    assert produced.returncode == 0, produced.stderr
    streamed = afl(settings, "stream", "--available-now")
    assert streamed.returncode == 0, streamed.stderr[-3000:]
    return settings, json.loads(manifest_file.read_text())


def test_silver_quarantine_and_bronze_match_the_manifest_exactly(spark, streamed):
    settings, manifest = streamed
    assert manifest["records_sent"] == 20_000 and manifest["bad_total"] == 400
    assert silver_counts(spark, settings) == manifest["valid_distinct"]
    expected_bad = {k: v for k, v in manifest["bad"].items() if k != "duplicate"}
    assert quarantine_by_kind(spark, settings) == expected_bad
    quarantine = spark.read.format("delta").load(settings.restricted_path("silver", "quarantine"))
    assert quarantine.where(F.col("reason").isNull() | (F.length("reason") < 10)).count() == 0
    assert quarantine.where(F.col("value").isNull() | F.col("kafka_offset").isNull()).count() == 0

    bronze = spark.read.format("delta").load(settings.restricted_path("bronze", "agent_events"))
    assert bronze.count() == 20_000
    assert bronze.select("topic", "partition", "offset").distinct().count() == 20_000

    batches = silver_progress(spark, settings)
    assert batches, "the silver query recorded no progress"
    for b in batches:  # nothing dropped silently, batch by batch
        assert b["valid_rows"] + b["quarantined_rows"] + b["duplicate_rows"] == b["input_rows"]
    assert sum(b["duplicate_rows"] for b in batches) == manifest["bad"]["duplicate"]
    assert sum(b["input_rows"] for b in batches) == 20_000
    assert all(b["e2e_latency_ms"] is not None and b["duration_ms"] > 0 for b in batches)


def test_verify_offsets_from_the_shell_and_on_a_damaged_copy(spark, streamed, tmp_path):
    settings, _ = streamed
    verified = afl(settings, "verify", "offsets")
    assert verified.returncode == 0, verified.stderr[-2000:]
    assert verified.stdout.strip().endswith("partitions: 0 gap(s), 0 repeated offset(s)")

    bronze = spark.read.format("delta").load(settings.restricted_path("bronze", "agent_events"))
    victim = bronze.where(F.col("topic").endswith("agent.outcomes.v1") & (F.col("partition") == 1))
    victim = victim.where(F.col("offset") == 17).first()
    assert victim is not None
    copy_path = str(tmp_path / "bronze_copy")
    bronze.where(
        ~((F.col("topic") == victim["topic"]) & (F.col("partition") == 1) & (F.col("offset") == 17))
    ).write.format("delta").save(copy_path)
    reports = verify_offsets(spark, settings, bronze_path=copy_path)
    broken = [r for r in reports if not r.ok]
    assert [(r.topic, r.partition, r.gaps, r.repeats) for r in broken] == [
        (victim["topic"], 1, [(17, 17)], [])
    ]
    assert "1 missing: 17" in broken[0].describe()


def test_verify_lake_from_the_shell_names_each_invariant(streamed):
    settings, manifest = streamed
    verified = afl(settings, "verify", "lake")
    assert verified.returncode == 0, verified.stdout + verified.stderr[-2000:]
    lines = verified.stdout.strip().splitlines()
    assert [line.split(":")[0].split(None, 1)[1] for line in lines[:-1]] == [
        "bronze offsets",
        "batch accounting",
        "every record accounted",
        "restricted companions",
        "one row per event_id",
        "traceable to bronze",
        "governed rows",
        "typed by its own contract",
    ]
    assert all(line.startswith("ok ") for line in lines[:-1])
    assert lines[-1] == "8 of 8 invariants hold"
    assert f"{manifest['bad']['duplicate']:,} copies" in lines[2]


def test_sql_by_name_prints_a_table(streamed):
    settings, manifest = streamed
    done = afl(settings, "sql", "SELECT event_type, count(*) FROM silver.outcomes GROUP BY 1")
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.strip().splitlines()
    assert lines[0].split("|")[0].strip() == "event_type"
    assert [c.strip() for c in lines[2].split("|")] == [
        "outcome",
        str(manifest["valid_distinct"]["outcome"]),
    ]
    assert lines[-1] == "(1 row)"
    bad = afl(settings, "sql", "SELECT nope FROM silver.outcomes")
    assert bad.returncode == 1
    assert bad.stderr.strip().splitlines()[-1].startswith("afl: SQL error: [UNRESOLVED_COLUMN")


def test_every_silver_row_is_governed(spark, streamed):
    settings, _ = streamed
    for table in (
        "interactions",
        "feedback",
        "tool_calls",
        "outcomes",
        "policy_decisions",
        "evaluations",
    ):
        rows = spark.read.format("delta").load(settings.lake_path("silver", table))
        for column in (
            "tenant_id",
            "data_classification",
            "contains_pii",
            "retention_until",
            "source",
            "kafka_topic",
            "kafka_partition",
            "kafka_offset",
            "ingested_at",
            "schema_version",
            "pipeline_version",
            "event_date",
        ):
            assert rows.where(F.col(column).isNull()).count() == 0, (table, column)
        assert {r[0] for r in rows.select("source").distinct().collect()} == {"stream"}

    feedback = spark.read.format("delta").load(settings.lake_path("silver", "feedback"))
    assert "comment" not in feedback.columns and "user_id" not in feedback.columns
    assert {"comment_hash", "comment_length", "user_id_hash", "correction_hash"} <= set(
        feedback.columns
    )
    assert feedback.where("contains_pii").count() == feedback.count()  # every feedback has a user
    restricted = spark.read.format("delta").load(
        settings.restricted_path("silver", "feedback_restricted")
    )
    assert restricted.count() == feedback.count()
    sample = restricted.where(F.col("comment").isNotNull()).first()
    general = feedback.where(F.col("event_id") == sample["event_id"]).first()
    import hashlib

    assert (
        general["comment_hash"]
        == hashlib.sha256((settings.hash_salt + sample["comment"]).encode()).hexdigest()
    )
    assert general["comment_length"] == len(sample["comment"])
    assert general["retention_until"] - general["occurred_at"] == timedelta(
        days=RETENTION_DAYS["confidential"]
    )
    # the companion's raw values are kept as long as restricted data, not as the general row
    assert (sample["data_classification"], sample["retention_until"] - sample["occurred_at"]) == (
        "restricted",
        timedelta(days=RETENTION_DAYS["restricted"]),
    )

    props = {
        r["key"]: r["value"]
        for r in spark.sql(
            "SHOW TBLPROPERTIES "
            f"delta.`{settings.restricted_path('silver', 'interactions_restricted')}`"
        ).collect()
    }
    assert props["afl.classification"] == "restricted"
    assert props["afl.contains_user_text"] == "true"
    interactions = spark.read.format("delta").load(settings.lake_path("silver", "interactions"))
    assert "text" not in interactions.columns
    general_props = {
        r["key"]: r["value"]
        for r in spark.sql(
            f"SHOW TBLPROPERTIES delta.`{settings.lake_path('silver', 'interactions')}`"
        ).collect()
    }
    assert general_props["afl.classification"] == "confidential"
    # producers label interactions restricted (their topic's class); the general table
    # holds only hashes of the text, and each row says so
    assert {r[0] for r in interactions.select("data_classification").distinct().collect()} == {
        "confidential"
    }
    quarantine = spark.read.format("delta").load(settings.restricted_path("silver", "quarantine"))
    assert quarantine.where(F.col("data_classification") != "restricted").count() == 0
    kept = quarantine.select((F.col("retention_until") - F.col("kafka_timestamp")).alias("kept"))
    assert {r[0] for r in kept.distinct().collect()} == {
        timedelta(days=RETENTION_DAYS["restricted"])
    }
    # the tenant a rejected record names, when it is a JSON object naming one
    named = 0
    for row in quarantine.select("value", "tenant_id").collect():
        try:
            record = json.loads(bytes(row["value"]))
        except ValueError:
            record = None
        tenant = record.get("tenant_id") if isinstance(record, dict) else None
        if tenant is None or isinstance(tenant, str):
            assert row["tenant_id"] == tenant, bytes(row["value"])[:200]
            named += tenant is not None
    assert named > 0
    assert interactions.schema["text_hash"].metadata["classification"] == "user_text_hash"
    assert interactions.schema["session_id"].metadata["comment"].startswith("The Kafka key")
