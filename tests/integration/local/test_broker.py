"""`afl infra` from a shell, against its own broker instance (not the session's)."""

import os
import socket
import subprocess

import pytest
from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import NewTopic

from pipelines.kafka_admin import admin_client
from pipelines.settings import Settings
from tests import AFL
from tests.support.services import free_port

pytestmark = pytest.mark.integration


def afl(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [AFL, *args], env=env, capture_output=True, text=True, timeout=180, check=False
    )


@pytest.fixture
def infra_env(tmp_path):
    env = dict(os.environ)
    env["AFL_HOME"] = str(tmp_path / "home")
    env["AFL_KAFKA_BOOTSTRAP_SERVERS"] = f"localhost:{free_port()}"
    env["AFL_KAFKA_CONTROLLER_PORT"] = str(free_port())
    yield env
    afl(env, "infra", "down")


def test_up_status_down_with_clear_messages_and_data_kept(infra_env):
    bootstrap = infra_env["AFL_KAFKA_BOOTSTRAP_SERVERS"]
    settings = Settings.from_env(infra_env)

    down = afl(infra_env, "infra", "status")
    assert down.returncode == 1
    assert down.stdout.strip() == "Kafka broker is not running (start it with `afl infra up`)"

    up = afl(infra_env, "infra", "up")
    assert up.returncode == 0, up.stderr
    assert up.stdout.strip() == f"Kafka broker started; bootstrap servers: {bootstrap}"

    again = afl(infra_env, "infra", "up")
    assert again.returncode == 0
    assert again.stdout.strip() == f"Kafka broker already running at {bootstrap}; nothing to do"

    status = afl(infra_env, "infra", "status")
    assert status.returncode == 0
    assert f"at {bootstrap}, answering; KRaft single node" in status.stdout

    admin = admin_client(settings)
    for future in admin.create_topics([NewTopic("kept", 1, 1)]).values():
        future.result()
    producer = Producer({"bootstrap.servers": bootstrap})
    for i in range(3):
        producer.produce("kept", value=f"m{i}".encode())
    assert producer.flush(10) == 0

    stopped = afl(infra_env, "infra", "down")
    assert stopped.returncode == 0
    assert stopped.stdout.startswith("Kafka broker stopped; data kept in ")
    assert afl(infra_env, "infra", "down").stdout.strip() == (
        "Kafka broker was not running; nothing to do"
    )

    assert afl(infra_env, "infra", "up").returncode == 0
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": "kept-reader", "auto.offset.reset": "earliest"}
    )
    consumer.subscribe(["kept"])
    values = []
    for _ in range(60):
        msg = consumer.poll(1.0)
        if msg is not None and msg.error() is None:
            values.append(msg.value().decode())
        if len(values) == 3:
            break
    consumer.close()
    assert values == ["m0", "m1", "m2"]


def test_a_taken_port_is_a_one_line_error(infra_env):
    with socket.socket() as squatter:
        squatter.bind(("localhost", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        infra_env["AFL_KAFKA_BOOTSTRAP_SERVERS"] = f"localhost:{port}"
        result = afl(infra_env, "infra", "up")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"afl: port {port} on localhost (Kafka broker) is already taken by another process; "
        "stop it or choose other ports with AFL_KAFKA_BOOTSTRAP_SERVERS and "
        "AFL_KAFKA_CONTROLLER_PORT"
    ]
