"""`afl gold`, `afl quality`, `afl evaluate`, `afl evaluators`: a clear line when there is
nothing to build on, and the registry as a person reads it."""

from pipelines.evaluators.registry import registered


def test_evaluators_list_prints_every_registered_version(afl):
    ran = afl("evaluators", "list")
    lines = ran.out.splitlines()
    assert ran.code == 0 and [line.split()[0] for line in lines] == [e.key for e in registered()]
    assert lines[1].split()[:4] == ["helpfulness@1", "turn", "deterministic", "reads"]


def test_gold_on_an_empty_lake_names_the_missing_silver_table(afl, spark):
    ran = afl("gold", "--date", "2026-11-20")
    assert (ran.code, ran.err_lines) == (1, ["afl: silver.feedback does not exist yet"])


def test_gold_refuses_an_unknown_table_by_name(afl, spark):
    ran = afl("gold", "--date", "2026-11-20", "--table", "gold.nope")
    assert ran.code == 1 and ran.err_lines[0].startswith("afl: unknown gold table 'nope'; known: ")


def test_quality_of_an_unknown_table_says_so(afl, spark):
    ran = afl("quality", "--table", "silver.nope", "--date", "2026-11-20")
    assert ran.code == 1 and len(ran.err_lines) == 1
    known = "afl: unknown table 'silver.nope'; known: bronze.agent_events, silver.quarantine"
    assert ran.err_lines[0].startswith(known)


def test_quality_before_the_table_exists_says_so(afl, spark, settings):
    ran = afl("quality", "--table", "silver.feedback", "--date", "2026-11-20")
    path = settings.lake_path("silver/feedback")
    assert (ran.code, ran.err_lines) == (1, [f"afl: silver.feedback does not exist yet at {path}"])


def test_evaluate_an_unknown_evaluator_lists_the_known_ones(afl, spark):
    ran = afl("evaluate", "--evaluator", "nope@1", "--from", "2026-11-20", "--to", "2026-11-21")
    known = ", ".join(sorted(e.key for e in registered()))
    assert (ran.code, ran.err_lines) == (1, [f"afl: unknown evaluator 'nope@1'; known: {known}"])
