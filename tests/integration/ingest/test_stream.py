"""A stop asked for while the stream is still starting is a clean stop, not a killed process."""

import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from pipelines.ingest.batch import INGEST_QUERY
from pipelines.ingest.checkpoint import committed_offsets
from pipelines.ingest.stream import run_ingest, stop_on_signals
from tests import AFL
from tests.support.lake import silver_counts
from tests.support.shell import shell_env
from tests.support.streams import produce, wait_committed

pytestmark = pytest.mark.integration


def test_sigterm_before_the_session_starts_sets_the_stop_and_nothing_begins(spark, lake):
    said: list[str] = []
    stop = threading.Event()
    before = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    with stop_on_signals(stop):
        os.kill(os.getpid(), signal.SIGTERM)  # a supervisor's stop during start-up
        assert stop.wait(5)
        run_ingest(spark, lake, progress=said.append, stop_event=stop)
    assert said == ["stream stopped cleanly before its first batch"]
    assert not Path(lake.checkpoint_root).exists()  # no query was started
    assert {sig: signal.getsignal(sig) for sig in before} == before  # handlers restored


def test_ctrl_c_stops_the_running_stream_between_batches(spark, lake, tmp_path):
    manifest = produce(lake, events=500)
    env = shell_env(lake)
    log = tmp_path / "stream.log"
    with open(log, "wb") as out:
        stream = subprocess.Popen(
            [AFL, "stream"], env=env, stdout=out, stderr=out, start_new_session=True
        )
        try:
            checkpoint = Path(lake.checkpoint_root) / INGEST_QUERY
            wait_committed(checkpoint, 0)
            # the first batch may not hold every record yet: wait until one has read them all
            deadline = time.monotonic() + 120
            while (
                time.monotonic() < deadline
                and sum(
                    end
                    for parts in committed_offsets(str(checkpoint)).values()
                    for end in parts.values()
                )
                < manifest["records_sent"]
            ):
                time.sleep(0.5)
            stream.send_signal(signal.SIGINT)  # what Ctrl-C sends
            assert stream.wait(timeout=180) == 0
        finally:
            if stream.poll() is None:
                os.killpg(stream.pid, signal.SIGKILL)
    assert "stream stopped cleanly" in log.read_text()
    assert sum(silver_counts(spark, lake).values()) == sum(manifest["valid_distinct"].values())
