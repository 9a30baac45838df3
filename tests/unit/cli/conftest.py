"""Commands run in-process through ``main`` (one Spark session, no subprocess start-up),
with the test's own lake, checkpoints, home and topic namespace in the environment."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from pipelines.cli import main


@dataclass(frozen=True)
class Ran:
    """What one command did: its exit code and what it printed."""

    code: int
    out: str
    err: str

    @property
    def err_lines(self) -> list[str]:
        return self.err.strip().splitlines()


@pytest.fixture
def afl(settings, tmp_path, monkeypatch, capsys) -> Callable[..., Ran]:
    """``afl(*args)`` runs one command against this test's settings."""
    monkeypatch.setenv("AFL_LAKE_ROOT", settings.lake_root)
    monkeypatch.setenv("AFL_CHECKPOINT_ROOT", settings.checkpoint_root)
    monkeypatch.setenv("AFL_TOPIC_PREFIX", settings.topic_prefix)
    monkeypatch.setenv("AFL_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("AFL_LEGACY_DB_URL", f"sqlite:///{tmp_path / 'app.db'}")

    def run(*args: str) -> Ran:
        capsys.readouterr()
        try:
            code = main(list(args))
        except SystemExit as exc:  # commands that report a failed check exit 1 themselves
            code = int(exc.code or 0)
        printed = capsys.readouterr()
        return Ran(code, printed.out, printed.err)

    return run
