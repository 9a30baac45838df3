"""A real, single-node Apache Kafka broker (KRaft) run from Maven Central artifacts.

No Docker engine on our machines, so the project resolves the broker's classpath with
Maven (``kafka-broker.pom.xml``), caches it under the settings' cache dir and runs
``kafka.Kafka`` with the machine's Java. Data lives under the settings' home and
survives ``down``/``up``.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pipelines.kafka_admin import cluster_answers
from pipelines.local.exceptions import BrokerError
from pipelines.settings import Settings

POM = Path(__file__).with_name("kafka-broker.pom.xml")
DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies"
START_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 60.0
HEAP = ("-Xms256m", "-Xmx768m")

Progress = Callable[[str], None]


def _silent(_: str) -> None:
    return None


@dataclass(frozen=True)
class BrokerStatus:
    running: bool
    answering: bool
    pid: int | None
    bootstrap: str
    data_dir: Path

    def describe(self) -> str:
        if not self.running:
            return "Kafka broker is not running (start it with `afl infra up`)"
        health = "answering" if self.answering else "not answering yet"
        return (
            f"Kafka broker running (pid {self.pid}) at {self.bootstrap}, {health}; "
            f"KRaft single node, data in {self.data_dir}"
        )


class LocalBroker:
    """Start, stop and inspect the local broker described by the settings."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.host, self.port = _single_local_address(settings.kafka_bootstrap_servers)
        self.controller_port = settings.kafka_controller_port
        self.dir = settings.state_path("kafka")
        self.data_dir = self.dir / "data"
        self.pid_file = self.dir / "broker.pid"
        self.config_file = self.dir / "server.properties"
        self.log4j_file = self.dir / "log4j2.properties"
        self.log_dir = self.dir / "logs"
        pom_hash = hashlib.sha256(POM.read_bytes()).hexdigest()[:12]
        self.libs_dir = settings.cache_path("kafka", pom_hash, "libs")

    # -- artifacts ---------------------------------------------------------------------

    def fetch(self, progress: Progress = _silent) -> Path:
        """Resolve the broker's jars from Maven Central once; later calls reuse the cache."""
        if (self.libs_dir / ".complete").is_file():
            return self.libs_dir
        mvn = shutil.which("mvn")
        if mvn is None:
            raise BrokerError("Maven (mvn) is needed to resolve the Kafka broker; run `make setup`")
        progress(f"resolving the Kafka broker from Maven Central into {self.libs_dir} ...")
        partial = self.libs_dir.with_name("libs.partial")
        shutil.rmtree(partial, ignore_errors=True)
        cmd = [
            mvn, "-B", "-q", "-f", str(POM),
            f"-Dmaven.repo.local={self.settings.cache_path('m2')}",
            DEPENDENCY_PLUGIN,
            f"-DoutputDirectory={partial}",
            "-DincludeScope=runtime",
        ]  # fmt: skip
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            tail = (done.stdout + done.stderr).strip().splitlines()[-5:]
            raise BrokerError("Maven could not resolve the Kafka broker: " + " | ".join(tail))
        (partial / ".complete").write_text(POM.read_text())
        shutil.rmtree(self.libs_dir, ignore_errors=True)
        partial.rename(self.libs_dir)
        return self.libs_dir

    # -- lifecycle ---------------------------------------------------------------------

    def status(self) -> BrokerStatus:
        pid = self._running_pid()
        answering = pid is not None and cluster_answers(self.settings, timeout_s=3.0)
        return BrokerStatus(pid is not None, answering, pid, self.bootstrap, self.data_dir)

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    def up(self, progress: Progress = _silent, timeout_s: float = START_TIMEOUT_S) -> bool:
        """Start the broker and wait until it answers. False when it was already running."""
        pid = self._running_pid()
        if pid is not None:
            if not cluster_answers(self.settings, timeout_s=timeout_s):
                raise BrokerError(
                    f"the broker (pid {pid}) is running but not answering at {self.bootstrap};"
                    f" see {self.log_dir / 'server.log'}"
                )
            return False
        for port, what in ((self.port, "broker"), (self.controller_port, "controller")):
            if not _port_free(self.host, port):
                raise BrokerError(
                    f"port {port} on {self.host} (Kafka {what}) is already taken by another "
                    "process; stop it or choose other ports with AFL_KAFKA_BOOTSTRAP_SERVERS "
                    "and AFL_KAFKA_CONTROLLER_PORT"
                )
        java = _java()
        libs = self.fetch(progress)
        self._write_config()
        if not (self.data_dir / "meta.properties").is_file():
            progress(f"formatting KRaft storage in {self.data_dir}")
            self._run_tool(
                java,
                libs,
                "kafka.tools.StorageTool",
                "format",
                "-t",
                _new_cluster_id(),
                "-c",
                str(self.config_file),
            )
        progress(f"starting Kafka on {self.bootstrap} ...")
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_dir / "stdout.log", "ab") as out:
            proc = subprocess.Popen(
                [
                    java,
                    *HEAP,
                    "-XX:+UseG1GC",
                    "-Djava.awt.headless=true",
                    f"-Dlog4j2.configurationFile={self.log4j_file}",
                    "-cp",
                    f"{libs}/*",
                    "kafka.Kafka",
                    str(self.config_file),
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # outlives the `afl` process that started it
            )
        self.pid_file.write_text(str(proc.pid))
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                self.pid_file.unlink(missing_ok=True)
                raise BrokerError(
                    f"the broker exited during start (code {proc.returncode}): " + self._log_tail()
                )
            if cluster_answers(self.settings, timeout_s=2.0):
                return True
            time.sleep(0.5)
        self.down()
        raise BrokerError(f"the broker did not answer within {timeout_s:.0f}s: {self._log_tail()}")

    def down(self, timeout_s: float = STOP_TIMEOUT_S) -> bool:
        """Stop the broker cleanly (SIGTERM, then SIGKILL after the timeout).

        Returns False when it was not running.
        """
        pid = self._running_pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.2)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
            while _alive(pid):
                time.sleep(0.1)
        self.pid_file.unlink(missing_ok=True)
        return True

    # -- helpers -----------------------------------------------------------------------

    def _running_pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        if not _alive(pid):
            return None
        # Guard against a recycled pid: it must be our broker with our config.
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        except OSError:
            return pid
        return pid if str(self.config_file) in cmdline else None

    def _write_config(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        controller = f"{self.host}:{self.controller_port}"
        props = {
            "process.roles": "broker,controller",
            "node.id": "1",
            # A static voter set keeps the single node indifferent to later port changes.
            "controller.quorum.voters": f"1@{controller}",
            "listeners": f"PLAINTEXT://{self.bootstrap},CONTROLLER://{controller}",
            "advertised.listeners": f"PLAINTEXT://{self.bootstrap}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            "log.dirs": str(self.data_dir),
            "num.partitions": "3",
            # Topics come from the registry (`afl topics create`), never from a typo.
            "auto.create.topics.enable": "false",
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "3",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
            "message.max.bytes": str(1024 * 1024 + 1024),
        }
        self.config_file.write_text("".join(f"{k}={v}\n" for k, v in props.items()))
        self.log4j_file.write_text(
            "status = warn\n"
            "appender.file.type = RollingFile\n"
            "appender.file.name = file\n"
            f"appender.file.fileName = {self.log_dir / 'server.log'}\n"
            f"appender.file.filePattern = {self.log_dir / 'server.log.%i'}\n"
            "appender.file.layout.type = PatternLayout\n"
            "appender.file.layout.pattern = [%d] %p %m (%c)%n\n"
            "appender.file.policies.type = Policies\n"
            "appender.file.policies.size.type = SizeBasedTriggeringPolicy\n"
            "appender.file.policies.size.size = 20MB\n"
            "appender.file.strategy.type = DefaultRolloverStrategy\n"
            "appender.file.strategy.max = 3\n"
            "rootLogger.level = info\n"
            "rootLogger.appenderRef.file.ref = file\n"
        )

    def _run_tool(self, java: str, libs: Path, main_class: str, *args: str) -> None:
        done = subprocess.run(
            [
                java,
                f"-Dlog4j2.configurationFile={self.log4j_file}",
                "-cp",
                f"{libs}/*",
                main_class,
                *args,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise BrokerError(f"{main_class} failed: {(done.stdout + done.stderr).strip()}")

    def _log_tail(self, lines: int = 5) -> str:
        for name in ("stdout.log", "server.log"):
            path = self.log_dir / name
            if path.is_file():
                tail = [ln for ln in path.read_text(errors="replace").splitlines() if ln][-lines:]
                if tail:
                    return " | ".join(tail)
        return "no broker log written"


def _single_local_address(bootstrap: str) -> tuple[str, int]:
    if "," in bootstrap or ":" not in bootstrap:
        raise BrokerError(
            f"the local broker serves one host:port; AFL_KAFKA_BOOTSTRAP_SERVERS={bootstrap!r}"
        )
    host, _, port = bootstrap.rpartition(":")
    if host not in ("localhost", "127.0.0.1"):
        raise BrokerError(
            f"the local broker runs on this machine only; {bootstrap} is not local "
            "(use the Kafka cluster directly, no `afl infra` needed)"
        )
    try:
        return host, int(port)
    except ValueError:
        raise BrokerError(f"bad port in AFL_KAFKA_BOOTSTRAP_SERVERS={bootstrap!r}") from None


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child (started by this very process) counts as gone.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return True
    if state == "Z":
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        return False
    return True


def _java() -> str:
    java_home = os.environ.get("JAVA_HOME")
    candidate = Path(java_home, "bin", "java") if java_home else None
    java = str(candidate) if candidate and candidate.is_file() else shutil.which("java")
    if java is None:
        raise BrokerError("Java 17 or newer is needed for the local broker; run `make setup`")
    return java


def _new_cluster_id() -> str:
    """A Kafka cluster id: 16 random bytes, URL-safe base64, never starting with '-'."""
    while True:
        cid = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not cid.startswith("-"):
            return cid
