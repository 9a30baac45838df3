"""Exactly-once reports per partition: ok or broken, and the line that says which offsets.

verify_offsets itself needs the broker (Kafka's low watermarks); here only its refusal
when the checkpoint has committed nothing, which it decides before asking anyone.
"""

import pytest

from pipelines.errors import AflError
from pipelines.ingest.offsets import PartitionReport, outside, verify_offsets
from pipelines.settings import Settings


def test_a_complete_partition_is_ok_and_says_its_span():
    report = PartitionReport("agent.outcome.v1", 2, 0, 100, 100)
    assert report.ok
    assert report.describe() == "ok     agent.outcome.v1[2] offsets 0..99: 100 rows"


def test_a_partition_never_written_to_has_no_records():
    report = PartitionReport("agent.dlq", 0, 7, 7, 0)  # retention moved the start to 7
    assert report.ok
    assert report.describe() == "ok     agent.dlq[0] no records"


def test_gaps_are_counted_in_full_and_shown_as_single_offsets_or_ranges():
    report = PartitionReport("t.a", 1, 0, 1000, 1_234, gaps=[(3, 3), (10, 13)])
    assert not report.ok
    assert report.describe() == "BROKEN t.a[1] offsets 0..999: 1,234 rows; 5 missing: 3, 10-13"


def test_only_the_first_ten_gaps_and_repeats_are_listed():
    gaps = [(i * 10, i * 10 + 1) for i in range(12)]  # 12 gaps of 2 offsets
    repeats = [(i * 10 + 5, 2) for i in range(11)]
    report = PartitionReport("t.a", 0, 0, 200, 187, gaps=gaps, repeats=repeats)
    assert report.describe() == (
        "BROKEN t.a[0] offsets 0..199: 187 rows; 24 missing: "
        "0-1, 10-11, 20-21, 30-31, 40-41, 50-51, 60-61, 70-71, 80-81, 90-91; "
        "11 repeated: 5 x2, 15 x2, 25 x2, 35 x2, 45 x2, 55 x2, 65 x2, 75 x2, 85 x2, 95 x2"
    )


def test_repeats_break_a_partition_but_rows_beyond_the_commit_do_not():
    repeated = PartitionReport("t.a", 0, 40, 50, 11, repeats=[(44, 2)])
    assert not repeated.ok
    assert repeated.describe() == "BROKEN t.a[0] offsets 40..49: 11 rows; 1 repeated: 44 x2"
    ahead = PartitionReport("t.a", 0, 40, 50, 13, beyond_commit=3)
    assert ahead.ok
    assert ahead.describe() == (
        "ok     t.a[0] offsets 40..49: 13 rows; 3 beyond the checkpoint "
        "(next batch, not yet committed)"
    )


def test_reports_do_not_share_their_lists():
    first, second = PartitionReport("t.a", 0, 0, 1, 1), PartitionReport("t.a", 1, 0, 1, 1)
    first.gaps.append((0, 0))
    assert (second.gaps, second.repeats) == ([], [])


def test_verifying_before_anything_was_committed_is_refused(spark, tmp_path):
    settings = Settings.from_env({"AFL_HOME": str(tmp_path)})
    offsets = tmp_path / "checkpoints" / "agent_events" / "offsets"
    offsets.mkdir(parents=True)
    (offsets / "0").write_text('v1\n{"batchWatermarkMs":0}\n{"t.a":{"0":5}}\n')  # planned only
    with pytest.raises(AflError) as error:
        verify_offsets(spark, settings)
    assert str(error.value) == (
        "the bronze query has committed nothing yet; run `afl stream` first"
    )


def test_ranges_a_retention_run_expired_are_not_gaps():
    ranges = [(0, 9), (12, 20)]  # a held record at 10-11 split the run's range
    assert outside([(0, 20)], ranges) == [(10, 11)]
    assert outside([(0, 4), (15, 30)], ranges) == [(21, 30)]
    assert outside([(40, 41)], ranges) == [(40, 41)]
    assert outside([(5, 15)], []) == [(5, 15)]
    expired = PartitionReport("t.a", 0, 0, 50, 29, expired=21)
    assert expired.describe() == (
        "ok     t.a[0] offsets 0..49: 29 rows; 21 expired by retention (ops.bronze_expiry)"
    )
