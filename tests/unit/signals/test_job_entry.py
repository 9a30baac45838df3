"""jobs/signals.py, the spark-submit entry: its arguments become the job's options."""

import pytest

from jobs.signals import options_from_args
from pipelines.signals.job import SignalOptions


def test_defaults_run_continuously_like_the_cli():
    assert options_from_args([]) == SignalOptions()


def test_available_now_and_the_trigger_interval_are_passed_on():
    options = options_from_args(["--available-now", "--trigger-interval", "5 seconds"])
    assert options == SignalOptions(available_now=True, trigger_interval="5 seconds")


def test_an_unknown_argument_exits_2():
    with pytest.raises(SystemExit) as exited:
        options_from_args(["--nope"])
    assert exited.value.code == 2
