"""Spark's Python worker daemon, started without Spark's archives on the import path.

Spark puts ``pyspark.zip``, py4j's zip and the spark-core jar on the workers' path. Before
every task a worker calls ``importlib.invalidate_caches()``, and Python then re-reads the
directory of each archive once per package imported from it: ~90 ms of every Python task
(a micro-batch runs a few), for modules the installed pyspark and py4j provide anyway.
When both are importable without the archives, the daemon runs without them; otherwise
(pyspark only available as Spark's zip) as Spark starts it. Set locally by ``get_spark``
through ``spark.python.daemon.module``.
"""

from __future__ import annotations

import importlib.util
import sys


def drop_archives() -> None:
    """Remove zip and jar entries from ``sys.path`` if pyspark and py4j import without them."""
    kept = [p for p in sys.path if not p.endswith((".zip", ".jar"))]
    if kept == sys.path:
        return
    original = sys.path[:]
    sys.path[:] = kept
    if any(importlib.util.find_spec(name) is None for name in ("pyspark", "py4j")):
        sys.path[:] = original
        return
    for archive in set(original) - set(kept):  # finders Python made for them while starting
        sys.path_importer_cache.pop(archive, None)


if __name__ == "__main__":
    drop_archives()
    from pyspark.daemon import manager

    manager()  # type: ignore[no-untyped-call]  # pyspark.daemon is untyped
