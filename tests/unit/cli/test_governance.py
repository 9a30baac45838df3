"""`afl retention run` on a lake with nothing in it yet: it says so and records nothing."""


def test_a_dry_run_on_an_empty_lake_deletes_nothing(afl, spark):
    ran = afl("retention", "run", "--dry-run")
    assert ran.code == 0
    [line] = ran.out.splitlines()
    assert line.startswith("retention dry run ") and line.endswith(
        "UTC: would delete 0 rows in 0 tables"
    )


def test_a_bad_vacuum_window_is_refused(afl):
    ran = afl("retention", "run", "--vacuum-hours", "-1")
    assert ran.code == 2 and ran.err_lines[0].startswith(
        "afl: Invalid value for '--vacuum-hours': -1 is not in the range x>=0."
    )


def test_erase_in_a_general_session_is_refused_in_one_line(afl):
    ran = afl("erase", "--user-id", "user-4711")
    assert ran.code == 1
    assert ran.err_lines == [
        "afl: erasure searches and deletes in restricted tables: set AFL_ROLE=restricted, "
        "with access to AFL_RESTRICTED_ROOT"
    ]


def test_erase_without_a_subject_is_a_usage_error(afl, monkeypatch):
    monkeypatch.setenv("AFL_ROLE", "restricted")
    missing = afl("erase")
    assert missing.code == 2 and missing.err_lines == [
        "afl: Missing option '--user-id'. (see 'afl erase --help')"
    ]
    blank = afl("erase", "--user-id", " ")
    assert blank.code == 1 and blank.err_lines == ["afl: erasure needs a non-blank --user-id"]


def test_an_erasure_dry_run_on_an_empty_lake_finds_nothing(afl, spark, monkeypatch):
    monkeypatch.setenv("AFL_ROLE", "restricted")
    ran = afl("erase", "--user-id", "user-4711", "--dry-run")
    assert ran.code == 0
    [line] = ran.out.splitlines()
    assert line.startswith("erasure dry run ") and line.endswith(
        ": 0 rows found in 0 tables, would delete 0, 0 remaining"
    )
    assert "user-4711" not in ran.out + ran.err
