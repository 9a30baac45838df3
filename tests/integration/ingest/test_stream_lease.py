"""One process per checkpoint: a second stream is refused, a killed holder is taken over,
and Dagster's nightly job beside a running stream waits for it instead of racing it."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest

from dagster_project.definitions import defs
from dagster_project.resources import LakehouseResource
from pipelines.ingest.batch import INGEST_QUERY
from pipelines.ingest.checkpoint import committed_offsets
from pipelines.ingest.lease import RunMode, current_holder
from tests import AFL
from tests.support.lake import assert_lake_exact, silver_counts
from tests.support.legacy import seeded_app_db
from tests.support.shell import shell_env
from tests.support.streams import produce, running_stream, wait_committed, wait_for

pytestmark = pytest.mark.integration

LEASE_S = 6


def _env(lake) -> dict[str, str]:
    return dict(shell_env(lake), AFL_STREAM_LEASE_SECONDS=str(LEASE_S))


def _committed_total(lake) -> int:
    ends = committed_offsets(lake.checkpoint_path(INGEST_QUERY))
    return sum(end for parts in ends.values() for end in parts.values())


def test_a_second_stream_is_refused_and_a_killed_holder_is_taken_over(spark, lake, tmp_path):
    first_manifest = produce(lake, events=400)
    env = _env(lake)
    checkpoint = Path(lake.checkpoint_root) / INGEST_QUERY
    holder_log, standby_log = tmp_path / "holder.log", tmp_path / "standby.log"
    processes: list[subprocess.Popen] = []
    try:
        with open(holder_log, "wb") as out:
            holder = subprocess.Popen(
                [AFL, "stream"], env=env, stdout=out, stderr=out, start_new_session=True
            )
        processes.append(holder)
        wait_committed(checkpoint, 0)

        refused = subprocess.run(
            [AFL, "stream"], env=env, capture_output=True, text=True, timeout=120
        )
        assert refused.returncode == 1
        assert refused.stdout == ""
        assert refused.stderr.splitlines() == [refused.stderr.strip()]  # one line, no JVM log
        assert refused.stderr.startswith(
            f"afl: the {INGEST_QUERY} checkpoint is held by afl stream (continuous) "
            f"pid {holder.pid} on "
        )

        wait_for(
            lambda: _committed_total(lake) >= first_manifest["records_sent"], 180, "first drain"
        )
        os.killpg(holder.pid, signal.SIGKILL)  # no clean stop: the lease file stays behind
        holder.wait(timeout=30)
        dead = current_holder(lake, INGEST_QUERY)
        assert dead is not None and dead.pid == holder.pid

        with open(standby_log, "wb") as out:
            standby = subprocess.Popen(
                [AFL, "stream", "--wait-for-lease", "120"],
                env=env,
                stdout=out,
                stderr=out,
                start_new_session=True,
            )
        processes.append(standby)
        took = wait_for(
            lambda: (h := current_holder(lake, INGEST_QUERY)) is not None and h.pid == standby.pid,
            LEASE_S + 30,
            "takeover",
        )
        assert took <= LEASE_S + 30
        taken = current_holder(lake, INGEST_QUERY)
        assert taken.mode is RunMode.CONTINUOUS and taken.live()

        second_manifest = produce(lake, events=300, seed=2)
        sent = first_manifest["records_sent"] + second_manifest["records_sent"]
        wait_for(lambda: _committed_total(lake) >= sent, 240, "second drain")
        standby.send_signal(signal.SIGINT)
        assert standby.wait(timeout=180) == 0
    finally:
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
    assert "stream stopped cleanly" in standby_log.read_text()
    assert current_holder(lake, INGEST_QUERY) is None  # released on the clean stop
    assert _committed_total(lake) == sent
    assert_lake_exact(spark, lake)
    distinct = {**first_manifest["valid_distinct"]}
    for event_type, n in second_manifest["valid_distinct"].items():
        distinct[event_type] = distinct.get(event_type, 0) + n
    assert sum(silver_counts(spark, lake).values()) == sum(distinct.values())


def test_the_nightly_job_beside_a_running_stream_waits_for_it(spark, lake, tmp_path):
    db_url = seeded_app_db(tmp_path)
    with running_stream(spark, lake) as stream:
        wait_for(lambda: current_holder(lake, INGEST_QUERY) is not None, 120, "stream lease")
        lakehouse = LakehouseResource.over(
            lake, legacy_db_url=db_url, reports_dir=str(tmp_path / "reports")
        )
        job = defs.resolve_job_def("nightly_parity_job")
        result = job.execute_in_process(
            partition_key="2026-11-20", resources={"lakehouse": lakehouse}
        )
        assert result.success
        assert stream.alive()
        running = current_holder(lake, INGEST_QUERY)
    events = {
        e.asset_key.to_user_string(): e.materialization.metadata
        for e in result.get_asset_materialization_events()
    }
    ingest = events["bronze/agent_events"]
    assert ingest["ran"].value == "waited for the continuous stream"
    assert running.pid == os.getpid() and running.mode is RunMode.CONTINUOUS
    assert ingest["held_by"].value == running.who()
    mirrored = events["legacy/feedback_mirror"]
    parity = events["parity/feedback_parity"]
    assert parity["verdict"].value == "green"
    assert parity["missing_in_stream"].value == 0 and parity["value_mismatch"].value == 0
    assert parity["legacy_rows"].value == parity["stream_rows"].value > 50
    # every mirrored row version reached bronze once before parity read silver
    assert ingest["rows"].value == mirrored["row_versions_published"].value > 50
    assert _committed_total(lake) == mirrored["row_versions_published"].value
    assert_lake_exact(spark, lake)
