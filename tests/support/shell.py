"""Running the installed ``afl`` command in a process of its own, against a test's lake,
checkpoints and topic namespace."""

from __future__ import annotations

import os
import subprocess

from tests import AFL


def shell_env(settings) -> dict[str, str]:
    """The environment that points a child process at ``settings``' lake and topics."""
    return dict(
        os.environ,
        AFL_LAKE_ROOT=settings.lake_root,
        AFL_CHECKPOINT_ROOT=settings.checkpoint_root,
        AFL_TOPIC_PREFIX=settings.topic_prefix,
    )


def afl(settings, *args: str, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [AFL, *args], env=shell_env(settings), capture_output=True, text=True, timeout=timeout
    )
