"""The notebooks' `%%sql` cells: Spark SQL on the lake by name, pandas back, variables in."""

import pandas as pd
from pandas.testing import assert_frame_equal

from pipelines import notebook


class Shell:
    """The part of IPython's shell the extension uses: its namespace and magic registry."""

    def __init__(self, **user_ns):
        self.user_ns = user_ns
        self.magics = {}

    def register_magic_function(self, function, magic_kind, magic_name):
        self.magics[(magic_kind, magic_name)] = function


def test_a_query_comes_back_as_pandas_within_the_limit(spark, settings, monkeypatch):
    monkeypatch.setenv("AFL_LAKE_ROOT", settings.lake_root)
    result = notebook.sql("SELECT id, id * 10 AS tens FROM range(5)", limit=3)
    assert_frame_equal(result, pd.DataFrame({"id": [0, 1, 2], "tens": [0, 10, 20]}))


def test_the_sql_cell_magic_fills_in_notebook_variables(spark, settings, monkeypatch):
    monkeypatch.setenv("AFL_LAKE_ROOT", settings.lake_root)
    shell = Shell(day="2026-11-20")
    notebook.load_ipython_extension(shell)
    cell = shell.magics[("cell", "sql")]
    result = cell("", "SELECT DATE'{day}' + 1 AS next_day")
    assert str(result["next_day"][0]) == "2026-11-21"
