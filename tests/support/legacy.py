"""The legacy app database in tests."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from pipelines.legacy.app_db import engine_for
from pipelines.legacy.seed import seed_app_db

NIGHT = datetime(2026, 11, 20, 23, tzinfo=UTC)


def seeded_app_db(folder: Path) -> str:
    """A SQLite app database under ``folder`` with two days of feedback up to NIGHT (the
    generator's seed 5, 3,000 events); its URL."""
    url = f"sqlite:///{folder / 'app.db'}"
    seed_app_db(engine_for(url), seed=5, events=3000, days_back=2, end_time=NIGHT)
    return url
