"""The table catalog: stream tables checkpoint out of step; tables with raw values are
restricted, under their own root, registered and named only for the restricted role."""

from __future__ import annotations

import re

import pytest

from pipelines.errors import AflError
from pipelines.spark.tables import all_specs, check_access, register_existing, spec_for


def test_every_stream_table_checkpoints_at_its_own_prime_interval():
    intervals = {
        spec.qualified_name: int(spec.properties["delta.checkpointInterval"])
        for spec in all_specs()
        if "delta.checkpointInterval" in spec.properties  # the tables the stream appends to
    }

    assert len(intervals) == 14
    assert len(set(intervals.values())) == 14  # no two tables checkpoint in step
    for name, every in intervals.items():
        assert 80 <= every <= 160, name
        assert all(every % d for d in range(2, every)), f"{name}: {every} is not prime"


def test_tables_with_raw_values_are_restricted_and_live_under_the_restricted_root(settings):
    restricted = sorted(s.qualified_name for s in all_specs() if s.restricted)
    assert restricted == [
        "bronze.agent_events",
        "legacy.feedback_export",
        "silver.approvals_restricted",
        "silver.feedback_restricted",
        "silver.interactions_restricted",
        "silver.quarantine",
    ]
    assert spec_for("silver.quarantine").path(settings) == settings.restricted_path(
        "silver", "quarantine"
    )
    assert spec_for("silver.feedback").path(settings) == settings.lake_path("silver", "feedback")


def test_a_general_session_names_no_restricted_table(settings):
    refused = "silver.feedback_restricted is restricted (raw user text or PII)"
    with pytest.raises(AflError, match=re.escape(refused)):
        check_access("select * from SILVER.FEEDBACK_RESTRICTED where 1 = 1", settings)
    check_access("select * from silver.feedback join gold.feedback_daily using (day)", settings)
    check_access("select 'silver.feedback_restricted_backup' as name", settings)
    check_access(
        "select * from silver.feedback_restricted", settings.with_overrides(role="restricted")
    )


def test_only_the_restricted_role_registers_restricted_tables(spark, settings):
    for spec in (spec_for("silver.feedback"), spec_for("silver.feedback_restricted")):
        spark.range(1).write.format("delta").save(spec.path(settings))
    general = register_existing(spark, settings)
    assert "silver.feedback" in general and "silver.feedback_restricted" not in general
    both = register_existing(spark, settings.with_overrides(role="restricted"))
    assert {"silver.feedback", "silver.feedback_restricted"} <= set(both)
