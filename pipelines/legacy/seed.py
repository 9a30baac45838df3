"""`afl legacy seed`: fill the app database the way the agent app fills it.

Rows come from the traffic generator's sessions (same seed and end time as `afl produce`
give the same sessions, users and agents): ratings, thumbs and corrections become feedback
rows; a fraction is later edited (new row_version, later updated_at) and a fraction is
soft-deleted, as users do.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, insert, select, update

from pipelines.errors import AflError
from pipelines.legacy.app_db import FEEDBACK, create_schema, utc_naive
from pipelines.producer.traffic import TrafficGenerator


@dataclass(frozen=True)
class SeedResult:
    rows: int
    edited: int
    deleted: int
    first_day: str
    last_day: str


def legacy_rows(
    seed: int, events: int, end_time: datetime, days_back: float
) -> list[dict[str, Any]]:
    """The app's feedback rows for the generator's sessions, in creation order."""
    rows: list[dict[str, Any]] = []
    generator = TrafficGenerator(seed=seed, events=events, end_time=end_time, days_back=days_back)
    for record in generator:
        event = record.event
        if event is None or event["event_type"] != "feedback":
            continue
        payload = event["payload"]
        kind = payload["feedback_kind"]
        if kind == "escalation":  # the legacy app never stored escalations
            continue
        created = utc_naive(datetime.fromisoformat(event["occurred_at"].replace("Z", "+00:00")))
        rows.append(
            {
                "tenant_id": event["tenant_id"],
                "user_id": payload["user_id"],
                "session_id": event["session_id"],
                "agent_name": event["agent_name"],
                "rating": payload.get("rating"),
                "thumbs": payload.get("thumbs"),
                "comment": payload.get("comment") or payload.get("correction"),
                "created_at": created,
                "updated_at": created,
                "deleted_at": None,
                "row_version": 1,
            }
        )
    return sorted(rows, key=lambda r: r["created_at"])


def seed_app_db(
    engine: Engine,
    *,
    seed: int,
    events: int,
    end_time: datetime,
    days_back: float = 3.0,
    edit_fraction: float = 0.05,
    delete_fraction: float = 0.02,
    reset: bool = False,
) -> SeedResult:
    """Insert the rows, then apply edits and soft deletes (never later than ``end_time``)."""
    create_schema(engine)
    with engine.begin() as conn:
        existing = conn.execute(select(func.count()).select_from(FEEDBACK)).scalar_one()
        if existing and not reset:
            raise AflError(
                f"the app database already holds {existing:,} feedback rows; pass --reset to "
                "start over"
            )
        if reset:
            conn.execute(FEEDBACK.delete())
    rows = legacy_rows(seed, events, end_time, days_back)
    if not rows:
        raise AflError("no feedback in that traffic: raise --events")
    with engine.begin() as conn:
        conn.execute(insert(FEEDBACK), rows)
        ids = [r[0] for r in conn.execute(select(FEEDBACK.c.id).order_by(FEEDBACK.c.id))]
    rng = random.Random(seed * 7919 + 1)
    latest = utc_naive(end_time)
    edited = rng.sample(ids, int(len(ids) * edit_fraction))
    deleted = rng.sample(sorted(set(ids) - set(edited)), int(len(ids) * delete_fraction))
    with engine.begin() as conn:
        by_id = {
            r.id: r
            for r in conn.execute(select(FEEDBACK).where(FEEDBACK.c.id.in_(edited + deleted)))
        }
        for row_id in edited:
            row = by_id[row_id]
            when = min(row.created_at + timedelta(hours=rng.uniform(1, 20)), latest)
            changes: dict[str, object] = {"updated_at": when, "row_version": row.row_version + 1}
            if row.rating is not None:
                changes["rating"] = 1 + (row.rating % 5)  # the user changed their mind
            else:
                changes["comment"] = "edited: " + (row.comment or "changed my mind")
            conn.execute(update(FEEDBACK).where(FEEDBACK.c.id == row_id).values(**changes))
        for row_id in deleted:
            row = by_id[row_id]
            when = min(row.created_at + timedelta(hours=rng.uniform(1, 30)), latest)
            conn.execute(
                update(FEEDBACK)
                .where(FEEDBACK.c.id == row_id)
                .values(deleted_at=when, updated_at=when, row_version=row.row_version + 1)
            )
    days = sorted({r["created_at"].date() for r in rows})
    return SeedResult(len(rows), len(edited), len(deleted), str(days[0]), str(days[-1]))
