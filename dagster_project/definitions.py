"""The only wiring: every asset, check, job, schedule, sensor and resource is assembled here."""

import dagster as dg

from dagster_project.defs import ingest, legacy, parity
from dagster_project.resources import LakehouseResource

defs = dg.Definitions(
    assets=[
        ingest.agent_events,
        ingest.silver_feedback,
        legacy.feedback_export,
        legacy.feedback_mirror,
        parity.feedback_parity,
    ],
    asset_checks=[parity.parity_with_legacy],
    jobs=[parity.nightly_parity_job],
    schedules=[parity.nightly_parity_schedule],
    resources={"lakehouse": LakehouseResource()},
)
