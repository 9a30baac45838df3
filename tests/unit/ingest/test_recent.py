"""RecentLanded: what a running stream remembers of the rows it landed, for deduplication."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pytest

from pipelines.ingest import recent as recent_module
from pipelines.ingest.recent import RECENT_SCHEMA, RecentLanded

START = datetime(2026, 11, 22, 9, 0)


def _batch(spark, minute: int, event_type: str = "feedback"):
    """One batch's landed rows: a single event sent ``minute`` minutes after START (its
    key hash: ``minute``)."""
    at = START + timedelta(minutes=minute)
    row = (event_type, f"e-{event_type}-{minute}", "t", 0, minute, at, minute)
    return spark.createDataFrame([row], RECENT_SCHEMA).localCheckpoint(eager=True), at


def _ids(frame) -> set[str]:
    return {r["event_id"] for r in frame.collect()}


def _fill(spark, recent: RecentLanded, minutes: range, event_type: str = "feedback") -> None:
    for minute in minutes:
        rows, at = _batch(spark, minute, event_type)
        recent.add(rows, at, rows, np.array([minute]))


def _no_load(event_type, low, until):
    raise AssertionError(f"nothing should be loaded, asked {event_type} [{low}, {until})")


def test_trim_forgets_what_no_later_batch_asks_for_and_reloads_an_older_window(spark):
    recent = RecentLanded()
    recent.covered_from["feedback"] = START
    _fill(spark, recent, range(40))  # three merged frames of 12 batches, four small ones
    assert recent.rows() == 40

    recent.trim({"feedback": START + timedelta(minutes=25)})
    # the first two merged frames (minutes 0-23) hold nothing that recent: dropped whole
    assert recent.rows() == 16
    every = np.arange(40)
    found = recent.lookup(spark, {"feedback": START + timedelta(minutes=30)}, _no_load, every)
    assert _ids(found) == {f"e-feedback-{m}" for m in range(30, 40)}

    asked = []

    def load(event_type, low, until):
        asked.append((event_type, low, until))
        # what the table holds in the window asked for, not in hash order
        return _batch(spark, 6)[0].unionByName(_batch(spark, 5)[0])

    older = recent.lookup(spark, {"feedback": START + timedelta(minutes=5)}, load, every)
    assert asked == [("feedback", START + timedelta(minutes=5), START + timedelta(minutes=25))]
    assert _ids(older) == {
        "e-feedback-5",
        "e-feedback-6",
        *(f"e-feedback-{m}" for m in range(24, 40)),
    }
    assert len(recent.frames_for(np.array([5]))) == 1  # the loaded frame's index finds it
    assert recent.covered_from["feedback"] == START + timedelta(minutes=5)


def test_a_long_horizon_merges_its_oldest_frames_and_keeps_every_covered_row(
    spark, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(recent_module, "MERGE_AFTER", 2)
    monkeypatch.setattr(recent_module, "MERGED_MAX", 3)
    recent = RecentLanded()
    recent.covered_from["feedback"] = START
    _fill(spark, recent, range(8))  # four merged frames of two batches
    recent.trim({"feedback": START + timedelta(minutes=1)})
    # more than MERGED_MAX merged frames: the oldest two became one, without minute 0
    assert len(recent._merged) == 3
    assert recent.rows() == 7
    found = recent.lookup(spark, {"feedback": START + timedelta(minutes=1)}, _no_load, np.arange(8))
    assert _ids(found) == {f"e-feedback-{m}" for m in range(1, 8)}


def test_clear_forgets_everything_so_a_restart_loads_from_the_tables(spark):
    recent = RecentLanded()
    recent.covered_from["feedback"] = START
    _fill(spark, recent, range(3))
    recent.clear()
    assert recent.rows() == 0 and recent.covered_from == {}
    loaded = []

    def load(event_type, low, until):
        loaded.append((event_type, low, until))
        return _batch(spark, 2)[0]

    found = recent.lookup(spark, {"feedback": START}, load, np.array([2]))
    assert loaded == [("feedback", START, None)]
    assert _ids(found) == {"e-feedback-2"}


def test_only_frames_that_may_hold_a_key_of_the_batch_are_scanned(spark):
    recent = RecentLanded()
    recent.covered_from["feedback"] = START
    _fill(spark, recent, range(30))  # two merged frames (minutes 0-11, 12-23), six small
    since = {"feedback": START}
    assert recent.frames_for(np.array([100, 101])) == []  # no frame holds those hashes
    assert _ids(recent.lookup(spark, since, _no_load, np.array([100, 101]))) == set()
    assert len(recent.frames_for(np.array([13, 100]))) == 1
    assert len(recent.frames_for(np.array([27, 3]))) == 2
    # key 13 is in the second merged frame only: its twelve rows come back, nothing else
    assert _ids(recent.lookup(spark, since, _no_load, np.array([13, 100]))) == {
        f"e-feedback-{m}" for m in range(12, 24)
    }
    # keys of the first merged frame and of one small frame (minute 27)
    found = recent.lookup(spark, since, _no_load, np.array([27, 3]))
    assert _ids(found) == {*(f"e-feedback-{m}" for m in range(12)), "e-feedback-27"}
