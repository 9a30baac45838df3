"""`afl stream`, `afl verify`, `afl quarantine` on a lake the stream has not written yet."""


def test_an_unknown_schema_evolution_mode_is_refused_before_spark(afl):
    ran = afl("stream", "--schema-evolution", "bogus")
    assert (ran.code, ran.err_lines) == (
        2,
        [
            "afl: Invalid value for '--schema-evolution': 'bogus' is not one of "
            "'addNewColumns', 'rescue', 'failOnNewColumns'. (see 'afl stream --help')"
        ],
    )


def test_quarantine_summary_is_the_restricted_roles_and_says_when_there_is_none(
    afl, spark, monkeypatch
):
    general = afl("quarantine", "summary")
    assert (general.code, general.err_lines) == (
        1,
        [
            "afl: silver.quarantine is restricted (raw user text or PII) and this session's "
            "role is general: set AFL_ROLE=restricted, with access to AFL_RESTRICTED_ROOT, "
            "to read it"
        ],
    )
    monkeypatch.setenv("AFL_ROLE", "restricted")
    ran = afl("quarantine", "summary")
    assert (ran.code, ran.err_lines) == (1, ["afl: there is no quarantine table yet"])


def test_verify_before_any_stream_says_to_run_one(afl, spark):
    ran = afl("verify", "lake")
    assert (ran.code, ran.err_lines) == (
        1,
        ["afl: there is no bronze table yet; run `afl stream` first"],
    )
