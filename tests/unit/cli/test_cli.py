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


def test_spark_packages_prints_the_submit_list(capsys):
    assert main(["spark", "packages"]) == 0
    assert capsys.readouterr().out.strip() == (
        "io.delta:delta-spark_2.13:4.0.0,org.apache.spark:spark-sql-kafka-0-10_2.13:4.0.0"
    )
