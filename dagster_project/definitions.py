"""The only wiring: every asset, check, job, schedule, sensor and resource is assembled here."""

import dagster as dg

from dagster_project.defs import ingest
from dagster_project.resources import LakehouseResource

defs = dg.Definitions(
    assets=dg.load_assets_from_modules([ingest]),
    resources={"lakehouse": LakehouseResource()},
)
