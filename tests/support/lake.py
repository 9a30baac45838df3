"""Lakes in tests (a pytest plugin): built by a real ingest, read back, and their invariants
asserted after every ingest."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pyspark.sql import functions as F

from pipelines.contracts.registry import contract_set
from pipelines.ingest.batch import INGEST_QUERY
from pipelines.ingest.stream import CATCH_UP, run_ingest
from pipelines.ingest.verify import verify_lake
from pipelines.producer.sdk import AgentEventProducer
from pipelines.producer.traffic import TrafficGenerator, send_traffic
from pipelines.settings import Settings
from pipelines.spark.tables import SILVER_TABLE_FOR
from tests.support.kafka import create_registry_topics


def assert_lake_exact(spark, settings) -> list:
    """``afl verify lake``'s checks, all green; the checks, for tests that read details."""
    checks = verify_lake(spark, settings)
    broken = [c.describe() for c in checks if not c.ok]
    assert broken == [], "\n".join(broken)
    return checks


@pytest.fixture(scope="session")
def ingested_lake(spark, kafka_broker) -> Callable[[Settings, TrafficGenerator], Settings]:
    """A factory: ``ingested_lake(settings, traffic)`` creates the topics, sends the traffic
    through the SDK, catches the stream up, asserts the lake exact, and returns the settings."""

    def build(settings: Settings, traffic: TrafficGenerator) -> Settings:
        create_registry_topics(settings)
        with AgentEventProducer(settings) as producer:
            send_traffic(producer, traffic)
        run_ingest(spark, settings, CATCH_UP)
        assert_lake_exact(spark, settings)
        return settings

    return build


def silver_counts(spark, settings) -> dict[str, int]:
    """Rows per event type in silver; types without a table left out."""
    counts = {}
    for event_type, table in SILVER_TABLE_FOR.items():
        path = settings.lake_path("silver", table)
        try:
            counts[event_type] = spark.read.format("delta").load(path).count()
        except Exception:  # table not created: no events of that type
            counts[event_type] = 0
    return {k: v for k, v in counts.items() if v}


def quarantine_by_kind(spark, settings) -> dict[str, int]:
    rows = (
        spark.read.format("delta")
        .load(settings.restricted_path("silver", "quarantine"))
        .groupBy("reason_kind")
        .count()
        .collect()
    )
    return {r["reason_kind"]: r["count"] for r in rows}


def silver_progress(spark, settings) -> list:
    """The ingest query's rows in ops.stream_progress, by batch."""
    return (
        spark.read.format("delta")
        .load(settings.lake_path("ops", "stream_progress"))
        .where(F.col("query_name") == INGEST_QUERY)
        .orderBy("batch_id")
        .collect()
    )


def with_user_text_or_pii(event: dict) -> bool:
    """Whether an event's raw values belong in a restricted companion table."""
    contract = contract_set().get(event["event_type"], event["schema_version"])
    payload = event["payload"]
    return any(payload.get(path.split(".", 1)[1]) is not None for path in contract.field_classes)
