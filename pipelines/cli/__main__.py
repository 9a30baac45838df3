"""`python -m pipelines.cli` is `afl`."""

import sys

from pipelines.cli import main

sys.exit(main())
