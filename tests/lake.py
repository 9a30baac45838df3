"""The lake's invariants, asserted after every ingest in a test."""

from __future__ import annotations

from pipelines.contracts.registry import contract_set
from pipelines.ingest.verify import verify_lake


def assert_lake_exact(spark, settings) -> list:
    """``afl verify lake``'s checks, all green; the checks, for tests that read details."""
    checks = verify_lake(spark, settings)
    broken = [c.describe() for c in checks if not c.ok]
    assert broken == [], "\n".join(broken)
    return checks


def with_user_text_or_pii(event: dict) -> bool:
    """Whether an event's raw values belong in a restricted companion table."""
    contract = contract_set().get(event["event_type"], event["schema_version"])
    payload = event["payload"]
    return any(payload.get(path.split(".", 1)[1]) is not None for path in contract.field_classes)
