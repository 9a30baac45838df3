"""Asset keys and daily partitions as the library's catalog names them."""

from datetime import date

import dagster as dg

from dagster_project.constants import DAILY, partition_day, table_key
from pipelines.spark.tables import QUARANTINE, silver_spec


def test_a_table_key_is_its_database_and_name():
    assert table_key(silver_spec("feedback")) == dg.AssetKey(["silver", "feedback"])
    assert table_key(QUARANTINE) == dg.AssetKey(["silver", "quarantine"])


def test_partitions_are_utc_days_from_2026():
    assert DAILY.timezone == "UTC"
    assert DAILY.get_first_partition_key() == "2026-01-01"
    assert partition_day("2026-11-20") == date(2026, 11, 20)
