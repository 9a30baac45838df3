"""`afl sql`: the lake's tables by name, a table printed like psql, a bad query in one line."""


def test_a_query_prints_aligned_rows_and_the_count(afl, spark):
    ran = afl("sql", "SELECT id, id * 2 AS twice FROM range(3)", "--limit", "2")
    assert ran.code == 0
    assert ran.out.splitlines() == [
        "id | twice",
        "---+------",
        "0  | 0    ",
        "1  | 2    ",
        "(2 rows) (more not shown; raise --limit)",
    ]


def test_a_bad_query_is_one_line_naming_the_problem(afl, spark):
    ran = afl("sql", "SELECT * FROM silver.no_such_table")
    assert ran.code == 1 and len(ran.err_lines) == 1
    assert ran.err_lines[0].startswith("afl: SQL error: [TABLE_OR_VIEW_NOT_FOUND]")


def test_a_general_session_naming_a_restricted_table_is_refused_before_spark(afl):
    query = (
        "SELECT g.*, r.text FROM silver.interactions g "
        "JOIN silver.interactions_restricted r USING (event_id)"
    )
    ran = afl("sql", query)
    assert ran.code == 1 and ran.err_lines == [
        "afl: silver.interactions_restricted is restricted (raw user text or PII) and this "
        "session's role is general: set AFL_ROLE=restricted, with access to "
        "AFL_RESTRICTED_ROOT, to read it"
    ]
