"""The seeded app database: the generator's feedback as rows, with edits and soft deletes
that never happen after the end time, the same for the same seed."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import Row, func, select

from pipelines.errors import AflError
from pipelines.legacy.app_db import FEEDBACK, engine_for
from pipelines.legacy.seed import legacy_rows, seed_app_db

END = datetime(2026, 11, 20, 12, tzinfo=UTC)


def _rows(url: str) -> list[Row]:
    with engine_for(url).connect() as conn:
        return list(conn.execute(select(FEEDBACK).order_by(FEEDBACK.c.id)))


def test_rows_edits_and_deletes_follow_the_traffic_and_the_fractions(tmp_path):
    url = f"sqlite:///{tmp_path / 'a.db'}"
    result = seed_app_db(engine_for(url), seed=3, events=3000, end_time=END, days_back=2)
    expected = legacy_rows(3, 3000, END, 2)
    rows = _rows(url)
    assert result.rows == len(rows) == len(expected) > 100
    assert (result.edited, result.deleted) == (int(len(rows) * 0.05), int(len(rows) * 0.02))
    by_version = {v: sum(1 for r in rows if r.row_version == v) for v in (1, 2)}
    assert by_version == {
        1: len(rows) - result.edited - result.deleted,
        2: result.edited + result.deleted,
    }
    assert sum(1 for r in rows if r.deleted_at is not None) == result.deleted
    assert max(r.updated_at for r in rows) <= END.replace(tzinfo=None)
    assert [r.user_id for r in rows] == [e["user_id"] for e in expected]
    assert (result.first_day, result.last_day) == ("2026-11-18", "2026-11-20")


def test_the_same_seed_gives_the_same_database(tmp_path):
    urls = [f"sqlite:///{tmp_path / name}" for name in ("a.db", "b.db")]
    for url in urls:
        seed_app_db(engine_for(url), seed=9, events=1500, end_time=END)
    assert _rows(urls[0]) == _rows(urls[1])


def test_a_second_seed_is_refused_unless_reset(tmp_path):
    engine = engine_for(f"sqlite:///{tmp_path / 'a.db'}")
    first = seed_app_db(engine, seed=3, events=1500, end_time=END)
    with pytest.raises(AflError, match=f"already holds {first.rows:,} feedback rows; pass --reset"):
        seed_app_db(engine, seed=3, events=1500, end_time=END)
    again = seed_app_db(engine, seed=3, events=1500, end_time=END, reset=True)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(FEEDBACK)).scalar_one() == again.rows


def test_traffic_without_feedback_is_refused(tmp_path):
    with pytest.raises(AflError, match="no feedback in that traffic: raise --events"):
        seed_app_db(engine_for(f"sqlite:///{tmp_path / 'a.db'}"), seed=3, events=1, end_time=END)
