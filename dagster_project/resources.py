"""The lakehouse resource: settings and the shared SparkSession for every asset."""

from __future__ import annotations

import dagster as dg
from pyspark.sql import SparkSession

from pipelines.settings import Settings
from pipelines.spark.session import get_spark


class LakehouseResource(dg.ConfigurableResource):
    """Where the lake is and how to reach Kafka, from AFL_* environment variables.

    A local folder or an object store is only a different AFL_LAKE_ROOT.
    """

    def settings(self) -> Settings:
        return Settings.from_env()

    def spark(self) -> SparkSession:
        return get_spark(self.settings(), app_name="afl-dagster")
