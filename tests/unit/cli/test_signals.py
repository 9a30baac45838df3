"""`afl signals`: the rules in force, and a bad rules file in one line before Spark starts."""


def test_rules_are_listed_one_line_each(afl):
    ran = afl("signals", "rules")
    assert ran.code == 0
    assert ran.out.splitlines() == [
        "tool-failure-rate: degrade tool (tool_call by tool_name) when over 50% of [phase in "
        "completed, failed] are [phase in failed] in a 5m window (sliding every 1m, at least "
        "10 events); restore under 20%"
    ]


def test_a_bad_rules_file_is_one_line_for_both_commands(afl, tmp_path, monkeypatch):
    rules = tmp_path / "rules.yml"
    rules.write_text("rules: []\n")
    monkeypatch.setenv("AFL_SIGNAL_RULES", str(rules))
    for command in (("signals", "rules"), ("signals", "run", "--available-now")):
        ran = afl(*command)
        assert ran.code == 1
        assert ran.err_lines == [f"afl: signal rules {rules}: expected a list under 'rules'"]
