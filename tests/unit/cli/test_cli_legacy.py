"""`afl legacy seed`: the app database filled from the traffic generator, refused twice."""

from datetime import UTC, datetime

from pipelines.legacy.app_db import engine_for
from pipelines.legacy.seed import seed_app_db


def test_seed_reports_what_it_wrote_and_a_second_seed_needs_reset(afl, tmp_path):
    args = ("legacy", "seed", "--events", "2000", "--seed", "3", "--end-time", "2026-11-20T12:00Z")
    first = afl(*args)
    same = seed_app_db(
        engine_for(f"sqlite:///{tmp_path / 'same.db'}"),
        seed=3,
        events=2000,
        end_time=datetime(2026, 11, 20, 12, tzinfo=UTC),
    )
    assert first.code == 0 and first.out.strip() == (
        f"seeded {same.rows:,} feedback rows ({same.edited:,} edited, {same.deleted:,} "
        f"soft-deleted) created {same.first_day} .. {same.last_day}"
    )
    again = afl(*args)
    assert again.code == 1 and again.err_lines == [
        f"afl: the app database already holds {same.rows:,} feedback rows; pass --reset to "
        "start over"
    ]
    assert afl(*args, "--reset").out == first.out
