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
