"""Mirror the legacy app database into the feedback topic, so the stream carries its facts.

Incremental by an (updated_at, id) watermark kept in ops.mirror_watermark. Each row version
becomes one feedback event whose id is derived from (primary key, row version): publishing
a window again produces the same ids, which silver already holds, so a re-run adds nothing.
An edit is a new version; a soft delete is a tombstone (payload.deleted = true). Events
carry the Kafka header afl.source=legacy_mirror, which silver keeps as ``source``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from delta.tables import DeltaTable
from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from sqlalchemy import Engine, and_, or_, select

from pipelines.governance.classification import SOURCE_HEADER
from pipelines.legacy.app_db import FEEDBACK, create_schema, engine_for
from pipelines.producer.events import AgentIdentity, new_event
from pipelines.producer.sdk import AgentEventProducer
from pipelines.settings import Settings
from pipelines.spark.io import delta_append
from pipelines.spark.tables import MIRROR_WATERMARK, ensure_table
from pipelines.transforms.schemas import MIRROR_WATERMARK_SCHEMA

SOURCE = "legacy.feedback"
MIRROR_NAMESPACE = uuid.UUID("6f1c1d2e-4c8b-4d5e-9a51-1f0a7e5b2c3d")
LEGACY_AGENT_VERSION = "legacy-app"
BATCH_ROWS = 5_000


@dataclass(frozen=True)
class MirrorResult:
    published: int
    tombstones: int
    watermark_from: datetime | None
    watermark_to: datetime | None


def mirror_event_id(row_id: int, row_version: int) -> str:
    """The same row version always gets the same event id."""
    return str(uuid.uuid5(MIRROR_NAMESPACE, f"{SOURCE}:{row_id}:v{row_version}"))


def mirror_event(row: Mapping[str, Any]) -> dict[str, Any]:
    """One app row version as a feedback event (v1 contract)."""
    created = row["created_at"].replace(tzinfo=UTC)
    updated = row["updated_at"].replace(tzinfo=UTC)
    payload = {
        "feedback_kind": "rating" if row["rating"] is not None else "thumbs",
        "user_id": row["user_id"],
        "rating": row["rating"],
        "thumbs": row["thumbs"],
        "comment": row["comment"],
        "legacy_feedback_id": str(row["id"]),
        "legacy_row_version": row["row_version"],
        "deleted": row["deleted_at"] is not None,
        "legacy_updated_at": updated.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    }
    identity = AgentIdentity(row["tenant_id"], row["agent_name"], LEGACY_AGENT_VERSION)
    return new_event(
        "feedback",
        payload,
        identity=identity,
        session_id=row["session_id"],
        trace_id=f"legacy-feedback-{row['id']}",
        occurred_at=created,  # when the user gave the feedback: the day parity compares
        event_id=mirror_event_id(row["id"], row["row_version"]),
        schema_version=1,
    )


def changed_rows(engine: Engine, after: tuple[datetime, int] | None) -> Iterator[Mapping[str, Any]]:
    """App rows changed after the watermark, in (updated_at, id) order."""
    query = select(FEEDBACK).order_by(FEEDBACK.c.updated_at, FEEDBACK.c.id)
    if after is not None:
        ts, row_id = after
        query = query.where(
            or_(
                FEEDBACK.c.updated_at > ts,
                and_(FEEDBACK.c.updated_at == ts, FEEDBACK.c.id > row_id),
            )
        )
    with engine.connect() as conn:
        result = conn.execution_options(yield_per=BATCH_ROWS).execute(query)
        yield from cast(Iterator[Mapping[str, Any]], result.mappings())


def read_watermark(spark: SparkSession, settings: Settings) -> tuple[datetime, int] | None:
    path = MIRROR_WATERMARK.path(settings)
    if not DeltaTable.isDeltaTable(spark, path):
        return None
    latest = (
        spark.read.format("delta")
        .load(path)
        .where(F.col("source") == SOURCE)
        .orderBy(F.col("run_at").desc())
        .first()
    )
    if latest is None or latest["watermark_updated_at"] is None:
        return None
    return latest["watermark_updated_at"], latest["watermark_id"]


def run_mirror(
    spark: SparkSession,
    settings: Settings,
    *,
    engine: Engine | None = None,
    replay_from: datetime | None = None,
    progress: Callable[[str], None] | None = None,
) -> MirrorResult:
    """Publish every row version changed since the watermark (or since ``replay_from``)."""
    engine = engine or engine_for(settings.legacy_db_url)
    create_schema(engine)
    stored = read_watermark(spark, settings)
    after = (replay_from, 0) if replay_from is not None else stored
    published = tombstones = 0
    last: tuple[datetime, int] | None = None
    headers = [(SOURCE_HEADER, b"legacy_mirror")]
    with AgentEventProducer(settings) as producer:
        for row in changed_rows(engine, after):
            producer.emit(mirror_event(row), headers=headers)
            published += 1
            tombstones += row["deleted_at"] is not None
            last = (row["updated_at"], row["id"])
            if progress and published % 10_000 == 0:
                progress(f"  mirrored {published:,} row versions")
    # Only a delivered window moves the watermark (the producer's exit flushed or raised).
    new_mark: tuple[datetime, int] | None
    if replay_from is None and last is not None and (stored is None or last > stored):
        new_mark = last
    else:
        new_mark = stored
    now = datetime.now(UTC).replace(tzinfo=None)
    record = spark.createDataFrame(
        [
            (
                SOURCE,
                new_mark[0] if new_mark else None,
                new_mark[1] if new_mark else None,
                published,
                tombstones,
                replay_from.replace(tzinfo=None) if replay_from else None,
                now,
            )
        ],
        MIRROR_WATERMARK_SCHEMA,
    )
    delta_append(record, ensure_table(spark, settings, MIRROR_WATERMARK))
    return MirrorResult(
        published, tombstones, after[0] if after else None, last[0] if last else None
    )
