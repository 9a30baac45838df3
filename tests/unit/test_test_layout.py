"""The suite mirrors the tree: a module's tests are found by its name.

``pipelines/room/.../name.py`` is covered by a ``test_name.py`` (or ``test_room_name.py``
where two modules share a name) in a folder of tests/ named after its room
(``tests/*/room/``; ``tests/*/dagster/`` for ``dagster_project``); a module directly in
``pipelines/`` by one anywhere. The few modules without one are listed below with where
they are tested instead; a listed module that gains its own test module must leave the list.
"""

from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TESTS = ROOT / "tests"
PACKAGES = ("pipelines", "dagster_project")

# module -> where it is tested instead, and why it has no test module of its own.
TESTED_ELSEWHERE = {
    # Declarations: checked where they are used.
    "pipelines/contracts/exceptions.py": "test_registry.py, test_sdk.py: the errors raised",
    "pipelines/producer/exceptions.py": "test_sdk.py: each error where the SDK raises it",
    "pipelines/local/exceptions.py": "test_broker.py: the broker's one-line errors",
    "pipelines/producer/traffic/records.py": "test_generator.py, test_bad_records.py",
    "pipelines/transforms/schemas.py": "test_bronze.py, test_silver.py: the frames they type",
    "pipelines/evaluators/schemas.py": "test_tables.py (registered), test_backfill.py",
    "pipelines/parity/schemas.py": "test_tables.py (registered), test_legacy_parity.py",
    "pipelines/quality/schemas.py": "test_tables.py (registered), test_runner.py",
    "pipelines/retention/schemas.py": "test_retention_run.py: the ledger it writes",
    # The stream's steps: each needs a broker and a stream around it.
    "pipelines/ingest/batch.py": "test_exactness.py, test_exactly_once.py, test_upgrade.py",
    "pipelines/ingest/landing.py": "test_exactness.py, test_hostile_records.py",
    "pipelines/ingest/replay.py": "test_schema_evolution.py: replaying a missing version",
    # Paths that only run against a broker, a server or Dagster's machinery.
    "pipelines/evaluators/publish.py": "test_backfill.py: scores published as events",
    "pipelines/legacy/etl.py": "test_legacy_parity.py: each day's export beside the stream",
    "pipelines/local/postgres.py": "the postgres_url fixture of every PostgreSQL test",
    "dagster_project/defs/ingest.py": "test_definitions.py, test_stream_lease.py (the lease)",
    "dagster_project/defs/legacy.py": "test_definitions.py, test_parity.py (the nightly job)",
    "dagster_project/defs/gold.py": "test_definitions.py (assets per build), test_parity.py",
    "pipelines/evaluators/compare.py": "test_backfill.py: v1 and v2 compared on the same days",
    "pipelines/producer/traffic/catalog.py": "test_turns.py, test_generator.py: what it makes",
    "dagster_project/defs/quality.py": "test_definitions.py, test_runner.py (blocking checks)",
}


def _modules() -> list[Path]:
    return sorted(
        path.relative_to(ROOT)
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if path.name not in ("__init__.py", "__main__.py")
    )


def _test_modules() -> set[Path]:
    return {path.relative_to(TESTS) for path in TESTS.rglob("test_*.py")}


def _room(module: Path) -> str | None:
    """The folder name a module's tests live under; None for a module of pipelines/ itself."""
    if module.parts[0] == "dagster_project":
        return "dagster"
    return module.parts[1] if len(module.parts) > 2 else None


def _own_test(module: Path, tests: set[Path]) -> bool:
    names = {f"test_{module.stem}.py", f"test_{module.parent.name}_{module.stem}.py"}
    room = _room(module)
    return any(t.name in names and (room is None or room in t.parts[:-1]) for t in tests)


def test_no_two_test_modules_share_a_basename():
    names = Counter(p.name for p in TESTS.rglob("test_*.py"))
    assert [name for name, n in names.items() if n > 1] == []


def test_every_module_has_a_test_module_named_after_it_or_says_where_it_is_tested():
    tests = _test_modules()
    untested = [str(m) for m in _modules() if not _own_test(m, tests)]
    assert sorted(set(untested) - set(TESTED_ELSEWHERE)) == []


def test_the_list_of_modules_tested_elsewhere_is_current():
    tests = _test_modules()
    modules = {str(m): m for m in _modules()}
    stale = [m for m in TESTED_ELSEWHERE if m not in modules or _own_test(modules[m], tests)]
    assert stale == []
    named = {
        word.rstrip(",:")
        for where in TESTED_ELSEWHERE.values()
        for word in where.split()
        if word.startswith("test_")
    }
    assert sorted(named - {t.name for t in tests}) == []
