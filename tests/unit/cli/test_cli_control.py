"""`afl control`'s mistakes: one line each, before anything is published."""


def test_an_unknown_target_kind_is_a_usage_error(afl):
    ran = afl("control", "pause", "model", "gpt-5", "--reason", "r")
    assert ran.code == 2
    assert ran.err_lines == [
        "afl: Invalid value for '{agent|tool|tenant}': 'model' is not one of 'agent', 'tool', "
        "'tenant'. (see 'afl control pause --help')"
    ]


def test_a_pause_needs_a_reason_and_a_duration_like_30m(afl):
    missing = afl("control", "pause", "agent", "support-bot")
    assert missing.code == 2
    assert missing.err_lines == ["afl: Missing option '--reason'. (see 'afl control pause --help')"]
    bad = afl("control", "pause", "agent", "support-bot", "--reason", "r", "--expires-in", "soon")
    assert bad.code == 2
    assert bad.err_lines == [
        "afl: Invalid value for '--expires-in': not a duration like 30m, 2h or 7d: 'soon' "
        "(see 'afl control pause --help')"
    ]
