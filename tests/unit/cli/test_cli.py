"""The entry point: every mistake is one line on stderr with an exit code, never a trace."""

from pipelines.cli import main


def test_unknown_command_is_one_line_not_a_stack_trace(capsys):
    assert main(["infra", "bogus"]) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines() == ["afl: No such command 'bogus'. (see 'afl infra --help')"]


def test_bad_setting_is_one_line(capsys, monkeypatch):
    monkeypatch.setenv("AFL_KAFKA_CONTROLLER_PORT", "abc")
    assert main(["infra", "status"]) == 1
    assert capsys.readouterr().err.splitlines() == [
        "afl: AFL_KAFKA_CONTROLLER_PORT must be a whole number, got 'abc'"
    ]


def test_no_arguments_prints_the_help_and_exits_0(capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Usage: afl [OPTIONS] COMMAND [ARGS]...")
    assert "stream" in out and "parity" in out and "quarantine" in out


def test_version_names_the_installed_package(capsys):
    from importlib.metadata import version

    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"afl, version {version('agent-feedback-lakehouse')}"
