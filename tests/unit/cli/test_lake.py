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
