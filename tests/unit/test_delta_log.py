"""Freshness from the Delta log (delta-rs, no Spark): statistics when written, files otherwise."""

from __future__ import annotations

from datetime import datetime

import pyarrow as pa
import pytest
from deltalake import write_deltalake

from pipelines.delta_log import table_freshness
from pipelines.settings import Settings
from pipelines.spark.tables import silver_spec

OUTCOMES = silver_spec("outcome")


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings.from_env({"AFL_HOME": str(tmp_path)})


def _append(settings: Settings, times: list[datetime | None], **configuration: str) -> None:
    rows = pa.table(
        {
            "event_id": pa.array([f"e{i}" for i in range(len(times))]),
            "ingested_at": pa.array(times, pa.timestamp("us", tz="UTC")),
        }
    )
    write_deltalake(
        OUTCOMES.path(settings), rows, mode="append", configuration=configuration or None
    )


def test_no_table_is_reported_as_missing(settings):
    freshness = table_freshness(settings, OUTCOMES)
    assert not freshness.exists and freshness.rows is None and freshness.lag_minutes() is None


def test_rows_and_newest_ingest_come_from_the_statistics(settings):
    _append(settings, [datetime(2026, 11, 20, 8, 0), datetime(2026, 11, 20, 9, 30)])
    _append(settings, [datetime(2026, 11, 20, 9, 0)] * 3)
    _append(settings, [None, None])  # a file with no ingested_at at all: no maximum needed
    freshness = table_freshness(settings, OUTCOMES)
    assert freshness.exists and freshness.table == "silver.outcomes"
    assert freshness.rows == 7
    assert freshness.delta_version == 2
    assert freshness.latest_ingested_at == datetime(2026, 11, 20, 9, 30)  # naive UTC
    assert freshness.lag_minutes(now=datetime(2026, 11, 20, 10, 0)) == 30.0


def test_files_written_without_column_statistics_are_read(settings):
    _append(
        settings,
        [datetime(2026, 11, 20, 8, 0), datetime(2026, 11, 21, 7, 15, 30)],
        **{"delta.dataSkippingNumIndexedCols": "0"},  # row counts only, no column maxima
    )
    _append(settings, [datetime(2026, 11, 20, 23, 0)] * 4)
    freshness = table_freshness(settings, OUTCOMES)
    assert freshness.rows == 6
    assert freshness.latest_ingested_at == datetime(2026, 11, 21, 7, 15, 30)


def test_a_table_without_ingested_at_reports_rows_only(settings):
    rows = pa.table({"event_id": pa.array(["a", "b", "c"])})
    write_deltalake(OUTCOMES.path(settings), rows)
    freshness = table_freshness(settings, OUTCOMES)
    assert (freshness.rows, freshness.latest_ingested_at, freshness.delta_version) == (3, None, 0)
