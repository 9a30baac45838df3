"""The shared parameter types: one parser per kind of value, one message per mistake."""

from datetime import UTC, date, datetime, timedelta

import click
import pytest

from pipelines.cli import main
from pipelines.cli.params import DAY, DURATION, MOMENT, DayRange


def test_a_day_is_read_once_and_a_bad_one_names_the_option(capsys):
    assert DAY.convert("2026-11-20", None, None) == date(2026, 11, 20)
    assert main(["gold", "--date", "2026-13-01"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "afl: Invalid value for '--date': not a date (YYYY-MM-DD): '2026-13-01' "
        "(see 'afl gold --help')"
    ]


def test_a_moment_without_an_offset_is_utc_and_one_with_an_offset_keeps_it():
    assert MOMENT.convert("2026-11-20T10:00", None, None) == datetime(
        2026, 11, 20, 10, 0, tzinfo=UTC
    )
    plus_two = MOMENT.convert("2026-11-20T10:00+02:00", None, None)
    assert plus_two.utcoffset() == timedelta(hours=2)
    assert plus_two == datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def test_every_command_taking_a_time_reads_it_the_same_way(capsys):
    for argv in (
        ["produce", "--dry-run", "--end-time", "nope"],
        ["legacy", "mirror", "--replay-from", "nope"],
    ):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert "not an ISO-8601 time: 'nope'" in err, argv
        assert len(err.strip().splitlines()) == 1


def test_a_range_refuses_to_run_backwards(capsys):
    assert DayRange(date(2026, 11, 29), date(2026, 12, 1)).last == date(2026, 12, 1)
    with pytest.raises(click.UsageError, match="--to 2026-11-01 is before --from 2026-11-02"):
        DayRange(date(2026, 11, 2), date(2026, 11, 1))
    argv = [
        "evaluate",
        "--evaluator",
        "helpfulness@1",
        "--from",
        "2026-11-02",
        "--to",
        "2026-11-01",
    ]
    assert main(argv) == 2
    assert capsys.readouterr().err.splitlines() == [
        "afl: --to 2026-11-01 is before --from 2026-11-02 (see 'afl evaluate --help')"
    ]


@pytest.mark.parametrize(
    ("text", "length"),
    [("90s", timedelta(seconds=90)), ("30m", timedelta(minutes=30)), ("2h", timedelta(hours=2)),
     ("7d", timedelta(days=7))],
)  # fmt: skip
def test_a_duration_is_a_whole_number_and_a_unit(text, length):
    assert DURATION.convert(text, None, None) == length


@pytest.mark.parametrize("text", ["soon", "0m", "1.5h", "h", "30", "-5m", "5w"])
def test_anything_else_is_not_a_duration(text):
    with pytest.raises(click.BadParameter, match="not a duration like 30m, 2h or 7d"):
        DURATION.convert(text, None, None)
