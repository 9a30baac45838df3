"""The wiring loads, and Dagster's assets and checks are derived from the library's catalogs."""

import dagster as dg

from dagster_project.definitions import defs
from dagster_project.defs.freshness import FRESHNESS_CHECKS, OBSERVED
from dagster_project.defs.quality import BLOCKING, SILVER_CHECKS
from pipelines.gold.build import GOLD_BUILDS
from pipelines.spark.tables import BRONZE_AGENT_EVENTS, SILVER_TABLE_FOR, silver_spec


def test_definitions_load_and_every_job_resolves():
    dg.Definitions.validate_loadable(defs)
    keys = {key.to_user_string() for key in defs.resolve_asset_graph().get_all_asset_keys()}
    assert "bronze/agent_events" in keys
    defs.resolve_implicit_global_asset_job_def()


def _key(spec) -> dg.AssetKey:
    return dg.AssetKey([spec.database, spec.name])


def test_every_silver_table_of_the_catalog_is_an_asset_observed_and_checked_for_freshness():
    graph = defs.resolve_asset_graph()
    silver = {_key(silver_spec(t)) for t in SILVER_TABLE_FOR}
    assert len(silver) == 8
    assert silver <= graph.get_all_asset_keys()
    assert set(OBSERVED) == silver | {_key(BRONZE_AGENT_EVENTS)}
    # commands and approvals come when someone acts: no freshness bound on their tables
    steady = silver - {_key(silver_spec("control")), _key(silver_spec("approval"))}
    assert {c.asset_key for check in FRESHNESS_CHECKS for c in check.check_keys} == steady


def test_each_gold_build_is_an_asset_depending_on_exactly_the_silver_tables_it_reads():
    graph = defs.resolve_asset_graph()
    for build in GOLD_BUILDS.values():
        node = graph.get(_key(build.spec))
        assert node.parent_keys == {_key(silver_spec(t)) for t in build.inputs}, build.spec
        assert node.group_name == "gold"


def test_the_silver_checks_that_block_are_those_of_the_tables_gold_reads():
    assert {"feedback", "tool_call", "outcome", "policy_decision"} == BLOCKING
    blocking = {
        c.asset_key
        for check in SILVER_CHECKS
        for c in check.check_keys
        if check.check_specs_by_output_name
        and all(s.blocking for s in check.check_specs_by_output_name.values())
    }
    assert blocking == {_key(silver_spec(t)) for t in BLOCKING}
