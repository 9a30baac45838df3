"""Fitting typed rows to their silver table in each evolution mode, and type conflicts."""

import pytest
from pyspark.sql import types as T
from pyspark.testing import assertDataFrameEqual

from pipelines.errors import AflError
from pipelines.ingest.schema_fit import (
    SchemaEvolution,
    SchemaEvolutionError,
    fit_to_table,
    safe_widening,
)

TABLE = T.StructType(
    [
        T.StructField("event_id", T.StringType()),
        T.StructField("rating", T.LongType()),
        T.StructField("score", T.DoubleType()),
        T.StructField("_rescued_data", T.StringType()),
    ]
)
ROWS = "event_id string, rating int, score double, mood string, _rescued_data string"


def test_modes_parse_by_their_names_and_a_wrong_one_is_named():
    assert SchemaEvolution.parse("rescue") is SchemaEvolution.RESCUE
    with pytest.raises(AflError, match="one of addNewColumns, rescue, failOnNewColumns; got 'x'"):
        SchemaEvolution.parse("x")


@pytest.mark.parametrize(
    ("given", "target", "safe"),
    [
        (T.IntegerType(), T.LongType(), True),
        (T.IntegerType(), T.DoubleType(), True),
        (T.FloatType(), T.DoubleType(), True),
        (T.DoubleType(), T.LongType(), False),
        (T.LongType(), T.IntegerType(), False),
        (T.StringType(), T.LongType(), False),
    ],
)
def test_only_lossless_widenings_are_safe(given, target, safe):
    assert safe_widening(given, target) is safe


def test_add_new_columns_keeps_the_new_field_and_widens_to_the_table(spark):
    rows = spark.createDataFrame([("e1", 4, 0.5, "grumpy", None)], ROWS)
    fitted = fit_to_table(rows, TABLE, "silver.feedback", SchemaEvolution.ADD_NEW_COLUMNS, set())
    expected = spark.createDataFrame(
        [("e1", 4, 0.5, "grumpy", None, None)],
        "event_id string, rating bigint, score double, mood string, _rescued_data string, "
        "_conflict string",
    )
    assertDataFrameEqual(fitted, expected)


def test_rescue_moves_the_new_field_into_rescued_data_beside_what_was_there(spark):
    rows = spark.createDataFrame(
        [("e1", 4, 0.5, "grumpy", None), ("e2", 5, 0.1, "calm", '{"payload.x":1}')], ROWS
    )
    fitted = fit_to_table(rows, TABLE, "silver.feedback", SchemaEvolution.RESCUE, set())
    expected = spark.createDataFrame(
        [
            ("e1", 4, 0.5, '{"payload.mood":"grumpy"}', None),
            ("e2", 5, 0.1, '{"payload.x":1,"payload.mood":"calm"}', None),
        ],
        "event_id string, rating bigint, score double, _rescued_data string, _conflict string",
    )
    assertDataFrameEqual(fitted, expected)


def test_fail_on_new_columns_names_the_table_and_the_columns_hashes_included(spark):
    rows = spark.createDataFrame([("e1", 4, 0.5, "grumpy", None)], ROWS)
    with pytest.raises(SchemaEvolutionError, match=r"silver.feedback has no column\(s\) mood "):
        fit_to_table(rows, TABLE, "silver.feedback", SchemaEvolution.FAIL_ON_NEW_COLUMNS, set())
    # a user-text field is never a column of the general table, but its hash would be
    with_text = spark.createDataFrame(
        [("e1", 4, 0.5, "thanks", None)],
        "event_id string, rating int, score double, comment string, _rescued_data string",
    )
    with pytest.raises(SchemaEvolutionError, match=r"no column\(s\) comment_hash \("):
        fit_to_table(
            with_text, TABLE, "silver.feedback", SchemaEvolution.FAIL_ON_NEW_COLUMNS, {"comment"}
        )


def test_a_type_the_table_cannot_widen_to_is_a_conflict_and_is_not_cast(spark):
    rows = spark.createDataFrame(
        [("e1", 4.5, 0.5, None), ("e2", None, 0.5, None)],
        "event_id string, rating double, score double, _rescued_data string",
    )
    fitted = fit_to_table(rows, TABLE, "silver.feedback", SchemaEvolution.ADD_NEW_COLUMNS, set())
    why = (
        "payload.rating: the contract gives double, silver.feedback.rating is bigint "
        "(not a safe widening)"
    )
    expected = spark.createDataFrame(
        [("e1", None, 0.5, None, why), ("e2", None, 0.5, None, None)],  # no value: no conflict
        "event_id string, rating bigint, score double, _rescued_data string, _conflict string",
    )
    assertDataFrameEqual(fitted, expected)
