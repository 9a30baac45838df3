"""Contract-valid values silver cannot hold exactly, and fields no contract names."""

from datetime import UTC, datetime

import pytest
from pyspark.sql import types as T

from pipelines.contracts.registry import contract_set
from pipelines.contracts.spark_schema import parse_timestamp, unrepresentable


@pytest.mark.parametrize(
    ("text", "moment"),
    [
        ("2026-11-20T12:00:00Z", datetime(2026, 11, 20, 12, tzinfo=UTC)),
        ("2026-11-20T12:00:00.123456789+14:00", datetime(2026, 11, 19, 22, 0, 0, 123456, UTC)),
        ("2026-11-20T12:00:00-18:00", datetime(2026, 11, 21, 6, tzinfo=UTC)),
        ("2026-11-20t12:00:00z", None),  # lowercase: JSON Schema yes, Spark no
        ("2026-11-20T23:59:60Z", None),  # leap second
        ("2026-11-20T12:00:00+18:01", None),  # beyond what Java offsets allow
        ("2026-02-30T12:00:00Z", None),
        ("0001-01-01T00:00:00Z", None),  # Python readers of Spark cannot hold it
        ("9999-12-31T23:59:59Z", None),
    ],
)
def test_timestamps_spark_reads_exactly(text, moment):
    assert parse_timestamp(text) == moment


def test_integers_beyond_bigint_or_written_with_a_fraction_are_named():
    long = T.LongType()
    assert unrepresentable(2**63 - 1, long, "n") is None
    assert unrepresentable(2**63, long, "n") == (
        "n",
        f"{2**63} is outside the bigint range silver keeps it in",
    )
    assert unrepresentable(1.0, long, "n")[1].startswith("1.0 is not written as a whole number")
    assert unrepresentable(1e308, T.DoubleType(), "x") is None
    nested = T.StructType(
        [T.StructField("refs", T.ArrayType(T.StructType([T.StructField("n", long)])))]
    )
    assert unrepresentable({"refs": [{"n": 1}, {"n": 2.0}]}, nested, "payload") == (
        "payload.refs[1].n",
        "2.0 is not written as a whole number; silver keeps it as bigint",
    )


def test_unknown_fields_are_found_at_every_level_the_contract_describes():
    event = {
        "event_type": "interaction",
        "schema_version": 2,
        "region": "eu",
        "payload": {
            "turn_id": "t",
            "kind": "retrieval",
            "gpu": 1.5,
            "context_refs": [{"doc_id": "a"}, {"doc_id": "b", "page": 3}],
        },
    }
    assert contract_set().unknown_fields(event) == {
        "region": "eu",
        "payload.gpu": 1.5,
        "payload.context_refs[1].page": 3,
    }
