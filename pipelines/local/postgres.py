"""A private PostgreSQL server from Debian's package, for tests and local trials.

`scripts/setup.sh` installs the package when AFL_SETUP_POSTGRES=1 (``make test`` sets it).
The cluster lives in its own folder and listens on loopback only; PostgreSQL refuses to
run as root, so under root the server runs as the package's ``postgres`` user.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
from pathlib import Path

from pipelines.local.exceptions import PostgresError

START_TIMEOUT_S = 60


def postgres_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if not found:
        raise PostgresError(
            "PostgreSQL is not installed; run `AFL_SETUP_POSTGRES=1 make setup` "
            "(installs Debian's postgresql package)"
        )
    return Path(found[-1]).parent


class LocalPostgres:
    def __init__(self, data_dir: Path, port: int) -> None:
        self.data_dir = Path(data_dir)
        self.port = port
        self.bin = postgres_bin()
        self.as_root = os.geteuid() == 0
        self.user = "postgres" if self.as_root else pwd.getpwuid(os.geteuid()).pw_name

    @property
    def url(self) -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/legacy_app"

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = list(args)
        if self.as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise PostgresError(
                f"{Path(args[0]).name} failed: {(done.stderr or done.stdout).strip()}"
            )
        return done

    def start(self) -> None:
        if not (self.data_dir / "PG_VERSION").is_file():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            if self.as_root:
                shutil.chown(self.data_dir, "postgres", "postgres")
            self._run(
                str(self.bin / "initdb"),
                "-D",
                str(self.data_dir),
                "--auth=trust",
                "--username",
                self.user,
                "--encoding=UTF8",
                "--no-sync",
            )
        options = f"-p {self.port} -k {self.data_dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data_dir),
            "-o",
            options,
            "-l",
            str(self.data_dir / "server.log"),
            "-w",
            "-t",
            str(START_TIMEOUT_S),
            "start",
        )
        exists = self._run(
            str(self.bin / "psql"),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            self.user,
            "-d",
            "postgres",
            "-tAc",
            "SELECT 1 FROM pg_database WHERE datname = 'legacy_app'",
        )
        if exists.stdout.strip() != "1":
            self._run(
                str(self.bin / "createdb"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                self.user,
                "legacy_app",
            )

    def stop(self) -> None:
        if (self.data_dir / "postmaster.pid").is_file():
            self._run(
                str(self.bin / "pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w", "stop"
            )
