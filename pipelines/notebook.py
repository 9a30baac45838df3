"""SQL notebooks on the lake: ``%load_ext pipelines.notebook``, then ``%%sql`` cells.

Every table (bronze.*, silver.*, gold.*, ops.*, legacy.*) and view (observability.*) is
registered by name. ``{name}`` in a cell is replaced by the notebook variable ``name`` (so
papermill parameters reach the SQL); the result is a pandas DataFrame, shown and stored in
``_`` like any cell value.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from pipelines.settings import Settings
from pipelines.spark.session import get_spark
from pipelines.spark.tables import check_access, register_existing

MAX_ROWS = 1000
_registered = False


def sql(query: str, limit: int = MAX_ROWS) -> pd.DataFrame:
    """Run Spark SQL on the lake; at most ``limit`` rows, as pandas."""
    global _registered
    settings = Settings.from_env()
    check_access(query, settings)
    log = settings.state_path("logs", "notebook-spark.log")  # keep JVM chatter out of cells
    spark = get_spark(settings, app_name="afl-notebook", jvm_log=log)
    if not _registered:
        register_existing(spark, settings)
        _registered = True
    return spark.sql(query).limit(limit).toPandas()


def load_ipython_extension(ipython: Any) -> None:
    def sql_cell(line: str, cell: str) -> pd.DataFrame:
        return sql(cell.format_map(ipython.user_ns))

    ipython.register_magic_function(sql_cell, magic_kind="cell", magic_name="sql")
