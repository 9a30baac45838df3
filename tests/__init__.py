"""Tests; ``AFL`` is the installed ``afl`` command beside this interpreter."""

import sys
from pathlib import Path

AFL = str(Path(sys.executable).with_name("afl"))
