"""The evaluator registry: every built-in once, a bare name meaning its newest version."""

import pytest

from pipelines.errors import AflError
from pipelines.evaluators.catalog import BUILT_IN
from pipelines.evaluators.registry import get_evaluator, register, registered


def test_every_built_in_is_registered_once_in_key_order():
    assert [e.key for e in registered()] == sorted(e.key for e in BUILT_IN)


def test_a_bare_name_is_its_newest_version_and_a_key_is_exact():
    assert get_evaluator("helpfulness").key == "helpfulness@2"
    assert get_evaluator("helpfulness@1").key == "helpfulness@1"


@pytest.mark.parametrize("key", ["nope", "helpfulness@9"])
def test_an_unknown_evaluator_lists_the_known_ones(key):
    known = ", ".join(e.key for e in registered())
    with pytest.raises(AflError) as caught:
        get_evaluator(key)
    assert str(caught.value) == f"unknown evaluator {key!r}; known: {known}"


def test_a_version_cannot_be_registered_twice():
    with pytest.raises(AflError, match=r"^evaluator helpfulness@1 is registered twice$"):
        register(get_evaluator("helpfulness@1"))
