"""Session-scoped real services (a pytest plugin): one SparkSession, one Kafka broker on free
ports, one PostgreSQL server; and each test's own lake, checkpoints and topic namespace."""

from __future__ import annotations

import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.kafka import private_settings

ROOT = Path(__file__).resolve().parents[2]
TEST_HOME = ROOT / ".afl" / "test"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def base_settings():
    from pipelines.settings import Settings

    return Settings.from_env()


@pytest.fixture(scope="session")
def spark(base_settings):
    from pipelines.spark.session import get_spark

    session = get_spark(base_settings, app_name="afl-tests")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def kafka_broker(base_settings) -> Iterator[object]:
    """The real broker, started fresh for this test session and stopped at its end."""
    from pipelines.local.broker import LocalBroker

    broker = LocalBroker(base_settings)
    broker.down()
    shutil.rmtree(broker.dir, ignore_errors=True)
    broker.up()
    yield broker
    broker.down()


@pytest.fixture
def settings(base_settings, tmp_path):
    """Per-test lake, checkpoints and topic namespace, on the session's broker."""
    return private_settings(base_settings, tmp_path)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A real PostgreSQL server (Debian's package, installed by setup) for this test session."""
    import tempfile

    from pipelines.local.postgres import LocalPostgres

    base = Path(tempfile.mkdtemp(prefix="afl-pg-"))
    base.chmod(0o755)  # the server runs as the postgres user when tests run as root
    server = LocalPostgres(base / "data", free_port())
    server.start()
    yield server.url
    server.stop()
    shutil.rmtree(base, ignore_errors=True)
