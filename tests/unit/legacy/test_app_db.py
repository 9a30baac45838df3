"""Reaching the app database: URLs as people write them, one line when it cannot be reached."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from pipelines.errors import AflError
from pipelines.legacy.app_db import create_schema, engine_for, utc_naive
from tests.support.services import free_port


def test_a_postgresql_url_uses_psycopg_3_and_sqlite_gets_its_folder(tmp_path):
    assert engine_for("postgresql://app@db.internal:5432/agents").url.drivername == (
        "postgresql+psycopg"
    )
    engine = engine_for(f"sqlite:///{tmp_path / 'deep' / 'er' / 'app.db'}")
    assert (tmp_path / "deep" / "er").is_dir() and engine.url.drivername == "sqlite"


def test_a_malformed_url_says_what_a_url_looks_like():
    with pytest.raises(AflError) as caught:
        engine_for("app.db")
    assert str(caught.value) == "not a database URL: 'app.db' (sqlite:///path or postgresql://...)"


def test_an_unreachable_server_is_one_line_without_the_password():
    url = f"postgresql://app:s3cret-pw@127.0.0.1:{free_port()}/agents?connect_timeout=2"
    with pytest.raises(AflError) as caught:
        create_schema(engine_for(url))
    message = str(caught.value)
    assert message.startswith("cannot reach the legacy app database: connection failed: ")
    assert "Connection refused" in message and "\n" not in message
    assert "s3cret-pw" not in message


def test_times_are_stored_as_naive_utc():
    plus_two = datetime(2026, 11, 20, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    assert utc_naive(plus_two) == datetime(2026, 11, 20, 10, 0)
    assert utc_naive(datetime(2026, 11, 20, 10, 0)) == datetime(2026, 11, 20, 10, 0)
    assert utc_naive(datetime(2026, 11, 20, 10, 0, tzinfo=UTC)) == datetime(2026, 11, 20, 10, 0)
