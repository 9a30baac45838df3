"""docker-compose.yml serves users with Docker; keep it true to the code we ship."""

import re
from pathlib import Path

import yaml

from pipelines.cli import main
from pipelines.local.broker import POM

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
