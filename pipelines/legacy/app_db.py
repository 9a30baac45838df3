"""The legacy agent app's database, as teams have it today: the app writes feedback rows,
edits them and soft-deletes them. SQLite is the embedded default; PostgreSQL by URL
(``postgresql://user@host:port/db``)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError

from pipelines.errors import AflError
from pipelines.settings import redact_url

metadata = MetaData()

FEEDBACK = Table(
    "feedback",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("tenant_id", String(128), nullable=False),
    Column("user_id", String(128), nullable=False),
    Column("session_id", String(128), nullable=False),
    Column("agent_name", String(128), nullable=False),
    Column("rating", Integer),
    Column("thumbs", String(8)),
    Column("comment", Text),
    Column("created_at", DateTime, nullable=False),  # naive UTC, as the app stores it
    Column("updated_at", DateTime, nullable=False),
    Column("deleted_at", DateTime),  # soft delete
    Column("row_version", Integer, nullable=False, default=1),
)


def engine_for(url: str) -> Engine:
    """An engine for the app DB; postgresql:// URLs use the psycopg 3 driver."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise AflError(
            f"not a database URL: {redact_url(url)!r} (sqlite:///path or postgresql://...)"
        ) from None
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.drivername.startswith("sqlite") and parsed.database:
        from pathlib import Path

        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    return create_engine(parsed, future=True)


def create_schema(engine: Engine) -> None:
    try:
        metadata.create_all(engine)
    except OperationalError as exc:
        reason = " ".join(str(exc.orig).split())  # libpq's message spans lines
        raise AflError(f"cannot reach the legacy app database: {reason}") from None


def utc_naive(moment: datetime) -> datetime:
    """How the app stores time: naive UTC."""
    return moment if moment.tzinfo is None else moment.astimezone(UTC).replace(tzinfo=None)
