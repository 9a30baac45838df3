import dagster as dg

from dagster_project.definitions import defs


def test_definitions_load_and_every_job_resolves():
    dg.Definitions.validate_loadable(defs)
    keys = {key.to_user_string() for key in defs.resolve_asset_graph().get_all_asset_keys()}
    assert "bronze/agent_events" in keys
    defs.resolve_implicit_global_asset_job_def()
