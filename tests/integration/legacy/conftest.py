"""A test's lake beside the legacy app database: on SQLite (the embedded default) or on
the session's PostgreSQL server (the production target)."""

import pytest

from pipelines.legacy.app_db import engine_for


@pytest.fixture
def sqlite_lake(kafka_broker, settings, tmp_path):
    return settings.with_overrides(
        legacy_db_url=f"sqlite:///{tmp_path / 'app.db'}", reports_dir=str(tmp_path / "reports")
    )


@pytest.fixture
def postgres_lake(kafka_broker, settings, tmp_path, postgres_url):
    from sqlalchemy import text

    engine = engine_for(postgres_url)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS feedback"))
    return settings.with_overrides(
        legacy_db_url=postgres_url, reports_dir=str(tmp_path / "reports")
    )
