"""A stop asked for while the stream is still starting is a clean stop, not a killed process."""

import os
import signal
import threading
from pathlib import Path

import pytest

from pipelines.ingest.stream import run_ingest, stop_on_signals

pytestmark = pytest.mark.integration


def test_sigterm_before_the_session_starts_sets_the_stop_and_nothing_begins(spark, lake):
    said: list[str] = []
    stop = threading.Event()
    with stop_on_signals(stop):
        os.kill(os.getpid(), signal.SIGTERM)  # a supervisor's stop during start-up
        assert stop.wait(5)
        run_ingest(spark, lake, progress=said.append, stop_event=stop)
    assert said == ["stream stopped cleanly before its first batch"]
    assert not Path(lake.checkpoint_root).exists()  # no query was started
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # handlers restored
