"""The suite's root: a clean environment, and the shared fixtures' plugins.

Tests never read the developer's own AFL_* environment: the session gets its own home
(.afl/test), its own broker ports, and every test its own lake root and topic prefix.
Fixtures live in plugins under tests/support/ (services, lakes); a package's own fixtures
in its conftest.py.
"""

from __future__ import annotations

import os

import pytest

pytest.register_assert_rewrite("tests.support")  # their asserts explain themselves too

from tests.support.services import TEST_HOME, free_port  # noqa: E402

pytest_plugins = ("tests.support.services", "tests.support.lake")


def pytest_configure(config: pytest.Config) -> None:
    for name in [n for n in os.environ if n.startswith("AFL_") and n != "AFL_CACHE_DIR"]:
        del os.environ[name]
    os.environ["AFL_HOME"] = str(TEST_HOME)
    os.environ["AFL_KAFKA_BOOTSTRAP_SERVERS"] = f"localhost:{free_port()}"
    os.environ["AFL_KAFKA_CONTROLLER_PORT"] = str(free_port())
    # pyspark.testing imports pandas-on-Spark, which warns unless this is set before Spark.
    os.environ.setdefault("PYARROW_IGNORE_TIMEZONE", "1")
