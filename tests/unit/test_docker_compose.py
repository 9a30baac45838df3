"""docker-compose.yml serves users with Docker; keep it true to the code we ship."""

import re
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from dagster_project.defs.ingest import DAGSTER_OWNER
from pipelines.cli import main
from pipelines.ingest.batch import INGEST_QUERY
from pipelines.ingest.lease import CheckpointLease, LeaseHeld, RunMode, lease_uri
from pipelines.ingest.stream import CATCH_UP, checkpoint_lease
from pipelines.local.broker import POM
from pipelines.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_runs_the_whole_stack():
    assert set(COMPOSE["services"]) == {
        "kafka", "postgres", "topics", "stream", "dagster-webserver", "dagster-daemon",
    }  # fmt: skip


def test_compose_kafka_is_the_version_the_local_broker_runs():
    kafka_version = re.search(r"<kafka.version>(.+)</kafka.version>", POM.read_text()).group(1)
    assert COMPOSE["services"]["kafka"]["image"] == f"apache/kafka:{kafka_version}"
    env = COMPOSE["services"]["kafka"]["environment"]
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"  # KRaft, no ZooKeeper


def test_every_afl_command_in_compose_exists(capsys):
    for name, service in COMPOSE["services"].items():
        command = service.get("command")
        if command and command[0] == "afl":
            assert main([*command[1:], "--help"]) == 0, name
            assert "Usage: afl" in capsys.readouterr().out


def test_dagster_services_load_our_definitions():
    for name in ("dagster-webserver", "dagster-daemon"):
        command = COMPOSE["services"][name]["command"]
        assert command[command.index("-m") + 1] == "dagster_project.definitions"


def _settings_of(service: str, home: Path | None = None) -> Settings:
    """The settings a service's container reads; ``home`` stands in for its volume."""
    env = {k: str(v) for k, v in COMPOSE["services"][service]["environment"].items()}
    settings = Settings.from_env(env)
    if home is None:
        return settings
    return settings.with_overrides(
        lake_root=settings.lake_root.replace(VOLUME_TARGET, str(home)),
        checkpoint_root=settings.checkpoint_root.replace(VOLUME_TARGET, str(home)),
    )


VOLUME_TARGET = "/var/lib/afl"
QUERY_RUNNERS = ("stream", "dagster-daemon", "dagster-webserver")  # who can run the query


def test_every_service_that_can_run_the_ingest_query_sees_one_lease_on_one_volume():
    leases = {name: lease_uri(_settings_of(name), INGEST_QUERY) for name in QUERY_RUNNERS}
    assert set(leases.values()) == {f"{VOLUME_TARGET}/checkpoints/_leases/{INGEST_QUERY}.json"}
    for name in QUERY_RUNNERS:
        assert f"lake:{VOLUME_TARGET}" in COMPOSE["services"][name]["volumes"], name
    assert "lake" in COMPOSE["volumes"]  # a named volume: shared, not one per container
    # the daemon's nightly job really runs the ingest asset (the race the lease prevents)
    from dagster_project.definitions import defs

    nightly = defs.resolve_job_def("nightly_parity_job")
    assert "bronze__agent_events" in {node.name for node in nightly.graph.node_defs}


def test_the_daemons_catch_up_cannot_start_while_the_stream_service_runs(tmp_path):
    stream, daemon = _settings_of("stream", tmp_path), _settings_of("dagster-daemon", tmp_path)
    with CheckpointLease(stream, INGEST_QUERY, RunMode.CONTINUOUS) as running:
        running.acquire()
        options = replace(CATCH_UP, owner=DAGSTER_OWNER, lease_wait_s=5)
        with pytest.raises(LeaseHeld) as refused:
            checkpoint_lease(daemon, options, lambda h: h.mode is RunMode.CATCH_UP)
        assert refused.value.holder.mode is RunMode.CONTINUOUS


def test_a_restarted_stream_service_waits_out_its_previous_lease():
    command = COMPOSE["services"]["stream"]["command"]
    assert command[:2] == ["afl", "stream"] and COMPOSE["services"]["stream"]["restart"]
    wait = float(command[command.index("--wait-for-lease") + 1])
    assert wait > _settings_of("stream").stream_lease_seconds  # longer than a lease lives


def test_the_stream_service_publishes_the_port_it_serves_metrics_on():
    stream = COMPOSE["services"]["stream"]
    command = stream["command"]
    port = command[command.index("--metrics-port") + 1]
    assert f"{port}:{port}" in stream["ports"]
    assert 1024 < int(port) < 65536
