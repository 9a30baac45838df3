"""Parity rules, root causes, verdicts and the cutover state machine, on tiny inputs."""

from datetime import datetime

import pytest
from pyspark.sql import functions as F

from pipelines.parity.compare import column_equal, compare_day, schema_differences
from pipelines.parity.config import ColumnRule, load_parity_config

CONFIG = load_parity_config()
T0 = datetime(2026, 11, 20, 10, 0, 0)
COLUMNS = "feedback_id string, rating int, thumbs string, comment string, updated_at timestamp"


@pytest.mark.parametrize(
    ("rule", "left", "right", "equal"),
    [
        (ColumnRule("x", "exact", "string"), "a", "a", True),
        (ColumnRule("x", "exact", "string"), "a", "A", False),
        (ColumnRule("x", "exact", "string"), None, None, True),
        (ColumnRule("x", "exact", "string", null_equals_null=False), None, None, False),
        (ColumnRule("x", "exact", "string"), "a", None, False),
        (ColumnRule("x", "numeric", "double", abs_tolerance=0.5), 3.0, 3.4, True),
        (ColumnRule("x", "numeric", "double", abs_tolerance=0.5), 3.0, 3.6, False),
        (ColumnRule("x", "numeric", "double", rel_tolerance=0.1), 100.0, 109.0, True),
        (ColumnRule("x", "text", "string", case_insensitive=True), "UP", "up", True),
        (
            ColumnRule("x", "text", "string", whitespace_insensitive=True),
            " too  slow ",
            "too slow",
            True,
        ),
        (ColumnRule("x", "text", "string"), " too slow", "too slow", False),
    ],
)
def test_column_rules(spark, rule, left, right, equal):
    kind = {"string": "string", "double": "double"}[rule.type]
    frame = spark.createDataFrame([(left, right)], f"l {kind}, r {kind}")
    assert frame.select(column_equal(F.col("l"), F.col("r"), rule)).first()[0] is equal


def test_timestamps_within_tolerance(spark):
    rule = ColumnRule("t", "timestamp", "timestamp", tolerance_seconds=1)
    frame = spark.createDataFrame(
        [(T0, datetime(2026, 11, 20, 10, 0, 0, 900000)), (T0, datetime(2026, 11, 20, 10, 0, 2))],
        "l timestamp, r timestamp",
    )
    assert [r[0] for r in frame.select(column_equal(F.col("l"), F.col("r"), rule)).collect()] == [
        True,
        False,
    ]


def test_every_difference_gets_its_root_cause(spark):
    watermark = datetime(2026, 11, 20, 12, 0)
    recent = datetime(2026, 11, 20, 11, 55)  # inside the 15-minute lag window
    legacy = spark.createDataFrame(
        [
            ("FB-1", 4, "UP", "ok", T0),  # match (thumbs case differs: allowed)
            ("FB-2", 4, None, "x", T0),  # value mismatch on rating
            ("FB-3", 2, None, None, T0),  # missing in stream
            ("FB-4", 5, None, None, recent),  # missing in stream but recent: late
            ("FB-6", 1, None, None, recent),  # mismatch but recent: late
        ],
        COLUMNS,
    )
    stream = spark.createDataFrame(
        [
            ("FB-1", 4, "up", "ok ", T0),
            ("FB-2", 3, None, "x", T0),
            ("FB-5", 1, None, None, T0),  # missing in legacy
            ("FB-6", 2, None, None, T0),
        ],
        COLUMNS,
    )
    config = load_parity_config()
    config = config.__class__(
        **{
            **config.__dict__,
            "columns": tuple(
                c
                for c in config.columns
                if c.column in ("rating", "thumbs", "comment", "updated_at")
            ),
        }
    )
    rows = {r["key"]: r for r in compare_day(legacy, stream, config, watermark).collect()}
    assert {k: r["status"] for k, r in rows.items()} == {
        "FB-1": "match",
        "FB-2": "value_mismatch",
        "FB-3": "missing_in_stream",
        "FB-4": "late",
        "FB-5": "missing_in_legacy",
        "FB-6": "late",
    }
    assert rows["FB-2"]["mismatched_columns"] == ["rating"]
    assert (rows["FB-2"]["l_rating"], rows["FB-2"]["s_rating"]) == (4, 3)


def test_schema_differences_name_the_column(spark):
    export = spark.createDataFrame([("FB-1", "4")], "feedback_id string, rating string")
    problems = schema_differences(export, CONFIG)
    assert "rating: the export has string, parity expects int" in problems
    assert "thumbs: missing from the legacy export" in problems
