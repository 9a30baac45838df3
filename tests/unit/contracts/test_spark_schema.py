"""Contract-valid values silver cannot hold exactly, and fields no contract names."""

from pyspark.sql import types as T

from pipelines.contracts.registry import contract_set
from pipelines.contracts.spark_schema import satisfies, unrepresentable


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


def test_satisfies_holds_a_typed_value_to_its_own_property(spark):
    """Enum, bounds, lengths; in a struct only the declared fields; null passes."""
    schema = T.StructType(
        [
            T.StructField("channel", T.StringType()),
            T.StructField("rating", T.LongType()),
            T.StructField("ref", T.StructType([T.StructField("doc", T.StringType()),
                                               T.StructField("page", T.LongType())])),
            T.StructField("tags", T.ArrayType(T.StringType())),
        ]
    )  # fmt: skip
    rows = [
        ("web", 3, ("d", None), ["a"]),
        (None, None, None, None),
        ("carrier-pigeon", 3, ("d", None), ["a"]),  # not in the enum
        ("web", 9, ("d", None), ["a"]),  # above the maximum
        ("web", 3, ("d", 4), ["a"]),  # page: a field the property does not declare
        ("web", 3, ("", None), ["a"]),  # doc shorter than minLength
        ("web", 3, ("d", None), ["a", "x" * 9]),  # an item longer than maxLength
    ]
    frame = spark.createDataFrame(rows, schema)
    spec = {
        "channel": {"enum": ["web", "slack", None]},
        "rating": {"type": ["integer", "null"], "minimum": 1, "maximum": 5},
        "ref": {"type": "object", "properties": {"doc": {"type": "string", "minLength": 1}}},
        "tags": {"type": "array", "items": {"type": "string", "maxLength": 8}},
    }
    verdicts = frame.select(
        *[satisfies(frame[f.name], spec[f.name], f.dataType).alias(f.name) for f in schema]
    ).collect()
    assert [all(r) for r in verdicts] == [True, True, False, False, False, False, False]
    assert [r["channel"] for r in verdicts] == [True, True, False, True, True, True, True]
    assert [r["ref"] for r in verdicts] == [True, True, True, True, False, False, True]
