"""An evaluator's identity: its key, and a code hash that follows its code and config."""

from collections.abc import Mapping

from pyspark.sql import DataFrame

from pipelines.evaluators.base import Evaluator


class Always(Evaluator):
    """Labels every unit the same."""

    name = "always"
    version = 1
    unit_type = "turn"
    reads = ("feedback",)

    def evaluate(self, frames: Mapping[str, DataFrame]) -> DataFrame:
        return frames["feedback"]


class AlwaysStricter(Always):
    version = 2


def test_the_key_names_the_version_and_the_evaluator_is_deterministic():
    assert (Always().key, AlwaysStricter().key) == ("always@1", "always@2")
    assert not Always().model_based


def test_the_code_hash_is_stable_and_changes_with_config_and_code():
    assert Always().code_hash() == Always().code_hash()
    assert len(Always().code_hash()) == 16
    assert Always({"threshold": 0.5}).code_hash() == Always({"threshold": 0.5}).code_hash()
    assert Always({"threshold": 0.5}).code_hash() != Always({"threshold": 0.6}).code_hash()
    assert Always().code_hash() != AlwaysStricter().code_hash()  # a subclass's own source
