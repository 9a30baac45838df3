"""Signal rules from YAML: the shipped file, and one line for each mistake in another."""

from datetime import timedelta

import pytest

from pipelines.errors import AflError
from pipelines.signals.rules import load_rules

GOOD = """\
rules:
  - name: tool-failure-rate
    event_type: tool_call
    target_kind: tool
    target: tool_name
    counted: {phase: [completed, failed]}
    failing: {phase: [failed]}
    window: 20s
    slide: 5s
    min_events: 4
    above: 0.5
    below: 0.2
    command: degrade
"""


def test_the_shipped_rules_degrade_a_failing_tool():
    [rule] = load_rules()
    assert (rule.name, rule.command, rule.undo, rule.issuer) == (
        "tool-failure-rate", "degrade", "restore", "rule:tool-failure-rate",
    )  # fmt: skip
    assert (rule.window, rule.slide, rule.min_events) == (
        timedelta(minutes=5),
        timedelta(minutes=1),
        10,
    )
    assert rule.describe() == (
        "tool-failure-rate: degrade tool (tool_call by tool_name) when over 50% of [phase in "
        "completed, failed] are [phase in failed] in a 5m window (sliding every 1m, at least "
        "10 events); restore under 20%"
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("above: 0.5", "above: 0.1"), "rule 1: below (0.2) must be under above (0.1)"),
        (("window: 20s", "window: soon"), "rule 1: window must be like 30s, 5m or 1h, got 'soon'"),
        (("slide: 5s", "slide: 1m"), "rule 1: slide (1m) is longer than window"),
        (("command: degrade", "command: restore"), "rule 1: command must be one of pause, degrade"),
        (
            ("target_kind: tool", "target_kind: model"),
            "rule 1: target_kind must be one of agent, tool, tenant",
        ),
        (("min_events: 4", "min_events: 0"), "rule 1: min_events must be a positive whole number"),
        (
            ("    command: degrade\n", "    command: degrade\n    color: red\n"),
            "rule 1: missing [], unknown ['color']",
        ),
        (
            ("failing: {phase: [failed]}", "failing: {phase: []}"),
            "rule 1: failing maps columns to lists of values",
        ),
    ],
)
def test_a_mistake_is_one_line_naming_the_rule_and_key(tmp_path, change, message):
    path = tmp_path / "rules.yml"
    path.write_text(GOOD.replace(*change))
    with pytest.raises(AflError) as caught:
        load_rules(str(path))
    assert str(caught.value) == f"signal rules {path}: {message}"


def test_a_missing_file_and_bad_yaml_are_one_line(tmp_path):
    with pytest.raises(
        AflError, match=r"^signal rules file not found: .*nope.yml \(AFL_SIGNAL_RULES\)$"
    ):
        load_rules(str(tmp_path / "nope.yml"))
    bad = tmp_path / "bad.yml"
    bad.write_text("rules: [\n")
    with pytest.raises(AflError, match=r"^signal rules .*bad.yml is not valid YAML: "):
        load_rules(str(bad))
    twice = tmp_path / "twice.yml"
    twice.write_text(GOOD + GOOD.removeprefix("rules:\n"))
    with pytest.raises(AflError, match=r"rule names repeat"):
        load_rules(str(twice))
