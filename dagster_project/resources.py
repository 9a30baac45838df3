"""The lakehouse resource: settings and the shared SparkSession for every asset."""

from typing import Any

import dagster as dg
from pyspark.sql import SparkSession

from pipelines.settings import Settings
from pipelines.spark.session import get_spark


class LakehouseResource(dg.ConfigurableResource):
    """Where the lake is and how to reach Kafka and the app DB: AFL_* environment variables.

    Any field set here overrides its variable (a local folder or an object store is only a
    different lake_root).
    """

    lake_root: str = ""
    checkpoint_root: str = ""
    topic_prefix: str = ""
    legacy_db_url: str = ""
    reports_dir: str = ""
    freshness_max_minutes: int = 0

    @classmethod
    def over(cls, settings: Settings, **fields: Any) -> "LakehouseResource":
        """A resource on the same lake, checkpoints and topics as ``settings`` (tests, scripts
        that build a lake first), with any other field given."""
        return cls(
            lake_root=settings.lake_root,
            checkpoint_root=settings.checkpoint_root,
            topic_prefix=settings.topic_prefix,
            **fields,  # pydantic checks each field's type
        )

    def settings(self) -> Settings:
        base = Settings.from_env()
        overrides = {
            name: value
            for name in (
                "lake_root",
                "checkpoint_root",
                "topic_prefix",
                "legacy_db_url",
                "reports_dir",
                "freshness_max_minutes",
            )
            if (value := getattr(self, name))
        }
        return base.with_overrides(**overrides) if overrides else base

    def spark(self) -> SparkSession:
        return get_spark(self.settings(), app_name="afl-dagster")
