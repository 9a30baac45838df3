"""The only wiring: every asset, check, job, schedule, sensor and resource is assembled here."""

import dagster as dg

from dagster_project.defs import (
    evaluators,
    freshness,
    gold,
    governance,
    ingest,
    legacy,
    parity,
    quality,
)
from dagster_project.resources import LakehouseResource

defs = dg.Definitions(
    assets=[
        ingest.agent_events,
        *ingest.SILVER_SPECS,
        legacy.feedback_export,
        legacy.feedback_mirror,
        parity.feedback_parity,
        *gold.GOLD_ASSETS,
        evaluators.evaluator_scores,
        evaluators.evaluator_comparisons,
        governance.retention_runs,
    ],
    asset_checks=[
        parity.parity_with_legacy,
        *quality.SILVER_CHECKS,
        *quality.GOLD_CHECKS,
        *freshness.FRESHNESS_CHECKS,
    ],
    jobs=[
        parity.nightly_parity_job,
        quality.gold_daily_job,
        freshness.freshness_job,
        governance.retention_job,
    ],
    schedules=[
        parity.nightly_parity_schedule,
        quality.gold_daily_schedule,
        freshness.freshness_schedule,
        governance.retention_schedule,
    ],
    sensors=[freshness.streaming_tables_observer],
    resources={"lakehouse": LakehouseResource()},
)
