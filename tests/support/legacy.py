"""The legacy app database in tests."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from pipelines.legacy.app_db import engine_for
from pipelines.legacy.seed import seed_app_db
from pipelines.settings import Settings

NIGHT = datetime(2026, 11, 20, 23, tzinfo=UTC)


def seeded_app_db(folder: Path) -> str:
    """A SQLite app database under ``folder`` with two days of feedback up to NIGHT (the
    generator's seed 5, 3,000 events); its URL."""
    url = f"sqlite:///{folder / 'app.db'}"
    seed_app_db(engine_for(url), seed=5, events=3000, days_back=2, end_time=NIGHT)
    return url


# Three days of the legacy path beside the stream, for parity and the mirror.
END = datetime(2026, 11, 20, 23, 0, tzinfo=UTC)
DAYS = [date(2026, 11, 18), date(2026, 11, 19), date(2026, 11, 20)]


def legacy_and_stream(spark: Any, settings: Settings) -> dict[date, int]:
    """The whole legacy and stream path for DAYS: seed, nightly ETL, mirror, stream (the
    lake checked exact); export rows per day."""
    from pipelines.ingest.stream import CATCH_UP, run_ingest
    from pipelines.legacy.etl import run_nightly_etl
    from pipelines.legacy.mirror import run_mirror
    from tests.support.kafka import create_registry_topics
    from tests.support.lake import assert_lake_exact

    create_registry_topics(settings)
    seed_app_db(engine_for(settings.legacy_db_url), seed=3, events=6000, end_time=END, days_back=3)
    exported = {day: run_nightly_etl(spark, settings, day).rows for day in DAYS}
    run_mirror(spark, settings)
    run_ingest(spark, settings, CATCH_UP)
    assert_lake_exact(spark, settings)
    return exported
